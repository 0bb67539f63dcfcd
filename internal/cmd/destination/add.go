package destination

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/notify"
	"github.com/tw-cli/tw-cli/internal/output"
	"github.com/tw-cli/tw-cli/internal/redact"
	"github.com/tw-cli/tw-cli/internal/store"
)

// AddOptions are the inputs of `destination add`.
type AddOptions struct {
	IO     *iostreams.IOStreams
	Store  func() (store.Store, error)
	Getenv func(string) string
	Now    func() time.Time

	Kind       string
	Name       string
	URL        string
	TokenEnv   string
	SecretEnv  string
	Sourcetype string
	Output     string
}

// NewCmdAdd returns `destination add`.
func NewCmdAdd(f *cmdutil.Factory, runF func(*AddOptions) error) *cobra.Command {
	opts := &AddOptions{IO: f.IOStreams, Store: f.Store, Getenv: os.Getenv, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "add <slack|ms-teams|generic|splunk-hec> <name> --url URL",
		Short: "Add a notification destination",
		Example: `  $ tw-cli destination add slack soc-slack --url "$SLACK_WEBHOOK_URL"
  $ tw-cli destination add ms-teams soc-teams --url "$TEAMS_WEBHOOK_URL"
  $ tw-cli destination add generic peer --url http://10.0.0.5:8080/api/webhooks/upstream --secret-env PEER_SECRET
  $ tw-cli destination add splunk-hec splunk --url https://splunk:8088 --token-env HEC_TOKEN --sourcetype soc:incident`,
		Args: cmdutil.ExactArgs(2, "destination kind and name"),
		ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			if len(args) == 0 {
				return notify.Kinds, cobra.ShellCompDirectiveNoFileComp
			}
			return nil, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Kind, opts.Name = args[0], args[1]
			if opts.URL == "" {
				return cmdutil.FlagErrorf("--url is required\n\nUsage: %s", cmd.UseLine())
			}
			if runF != nil {
				return runF(opts)
			}
			return addRun(cmd, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.URL, "url", "", "Webhook or collector `URL` (Slack/Teams URLs are secrets: they are masked in listings)")
	fl.StringVar(&opts.TokenEnv, "token-env", "", "Read the Splunk HEC token from this environment `variable`")
	fl.StringVar(&opts.SecretEnv, "secret-env", "", "Read the generic webhook's signing secret from this environment `variable`")
	fl.StringVar(&opts.Sourcetype, "sourcetype", "", "Splunk sourcetype (default "+notify.DefaultSourcetype+")")
	output.AddFormatFlag(cmd, &opts.Output)
	return cmd
}

func (o *AddOptions) env(flag, name string) (string, error) {
	if name == "" {
		return "", nil
	}
	v := o.Getenv(name)
	if v == "" {
		return "", cmdutil.FlagErrorf("%s: environment variable %s is empty or unset", flag, name)
	}
	return v, nil
}

func addRun(cmd *cobra.Command, opts *AddOptions) error {
	// The flags' shape first, with stand-ins for the values: Validate
	// only asks which are given, and "slack takes no --secret-env" is
	// the error to see before "SECRET is unset".
	if err := notify.Validate(&store.Destination{Name: opts.Name, Kind: opts.Kind, URL: opts.URL,
		Token: given(opts.TokenEnv), Secret: given(opts.SecretEnv), Sourcetype: opts.Sourcetype}); err != nil {
		return &cmdutil.FlagError{Err: err}
	}
	token, err := opts.env("--token-env", opts.TokenEnv)
	if err != nil {
		return err
	}
	secret, err := opts.env("--secret-env", opts.SecretEnv)
	if err != nil {
		return err
	}
	d := &store.Destination{Name: opts.Name, Kind: opts.Kind, URL: opts.URL, Token: token, Secret: secret,
		Sourcetype: opts.Sourcetype, CreatedAt: opts.Now().UTC()}
	if err := notify.Validate(d); err != nil {
		return &cmdutil.FlagError{Err: err}
	}
	st, err := opts.Store()
	if err != nil {
		return err
	}
	if err := st.CreateDestination(cmd.Context(), d); err != nil {
		if errors.Is(err, store.ErrExists) {
			// Not a usage error: the command was typed right, the name is
			// taken (exit 1, as for 'webhook add' of an existing source).
			return fmt.Errorf("destination %q already exists: pick another name, or remove it first with 'tw-cli destination remove %s --yes'", d.Name, d.Name)
		}
		return err
	}
	if opts.Output == output.JSON || opts.Output == output.YAML {
		return output.Print(opts.IO, opts.Output, ViewOf(d), nil)
	}
	fmt.Fprintf(opts.IO.ErrOut, "✓ Added %s destination %s (%s); try it with 'tw-cli destination test %s'\n", d.Kind, d.Name, redact.URL(d.URL), d.Name)
	return nil
}

// given stands in for a value read from the environment variable name.
func given(name string) string {
	if name == "" {
		return ""
	}
	return "set"
}
