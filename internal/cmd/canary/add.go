package canary

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	canaryapi "github.com/tw-cli/tw-cli/pkg/canary"
)

// NewCmdAdd returns `canary webhooks add`, one subcommand per kind.
func NewCmdAdd(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "add <kind>",
		Short: "Add a webhook to a flock",
		Long: `Add a generic, MS Teams or Splunk webhook to a flock. Slack webhooks can
only be added in the console's UI ('add slack' explains).`,
	}
	cmd.AddCommand(
		NewCmdAddGeneric(f, nil),
		NewCmdAddMSTeams(f, nil),
		NewCmdAddSplunk(f, nil),
		NewCmdAddSlack(f, nil),
	)
	return cmd
}

// AddGenericOptions are the inputs of `canary webhooks add generic`.
type AddGenericOptions struct {
	IO      *iostreams.IOStreams
	Console *Console
	Getenv  func(string) string

	URL        string
	HeaderArgs []string // "Name: Value"
	HeaderEnv  []string // "Name=VAR"
	Headers    []canaryapi.Header
}

// NewCmdAddGeneric returns `canary webhooks add generic`.
func NewCmdAddGeneric(f *cmdutil.Factory, runF func(*AddGenericOptions) error) *cobra.Command {
	opts := &AddGenericOptions{IO: f.IOStreams, Console: NewConsole(f), Getenv: os.Getenv}
	cmd := &cobra.Command{
		Use:   "generic <url>",
		Short: "Add a generic webhook (the console POSTs alerts as JSON)",
		Long: `Add a generic webhook: the console POSTs each alert to the URL as JSON.

Custom headers travel with every delivery, e.g. a bearer token that the
receiving end checks; the console lists their names but never their values.
--header-env takes a header's value from an environment variable, keeping it
out of shell history. Headers are sent in the order given, --header ones
first.`,
		Example: `  $ tw-cli canary webhooks add generic https://hooks.example.com/canary
  $ tw-cli canary webhooks add generic https://tw.example.com/api/webhooks/canary \
      --header-env Authorization=CANARY_HOOK_AUTH --header "X-Source: canary"`,
		Args: cmdutil.ExactArgs(1, "webhook URL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Console.ReadFlags(cmd)
			opts.URL = args[0]
			if err := canaryapi.ValidateWebhookURL(opts.URL); err != nil {
				return &cmdutil.FlagError{Err: err}
			}
			headers, err := parseHeaders(opts.HeaderArgs, opts.HeaderEnv, opts.Getenv)
			if err != nil {
				return err
			}
			opts.Headers = headers
			if runF != nil {
				return runF(opts)
			}
			return addGenericRun(cmd, opts)
		},
	}
	cmd.Flags().StringArrayVarP(&opts.HeaderArgs, "header", "H", nil, "Custom header `'Name: Value'` sent with each alert (repeatable)")
	cmd.Flags().StringArrayVar(&opts.HeaderEnv, "header-env", nil, "Custom header whose value is read from an environment variable: `Name=VAR` (repeatable)")
	return cmd
}

// parseHeaders turns --header and --header-env into headers, checking names
// are RFC 7230 tokens and none repeats.
func parseHeaders(args, envArgs []string, getenv func(string) string) ([]canaryapi.Header, error) {
	var out []canaryapi.Header
	for _, a := range args {
		name, value, ok := strings.Cut(a, ":")
		if !ok {
			return nil, cmdutil.FlagErrorf("invalid --header %q: want 'Name: Value'", a)
		}
		out = append(out, canaryapi.Header{Name: strings.TrimSpace(name), Value: strings.TrimSpace(value)})
	}
	for _, a := range envArgs {
		name, variable, ok := strings.Cut(a, "=")
		if !ok || strings.TrimSpace(variable) == "" {
			return nil, cmdutil.FlagErrorf("invalid --header-env %q: want Name=VAR", a)
		}
		value := getenv(strings.TrimSpace(variable))
		if value == "" {
			return nil, cmdutil.FlagErrorf("environment variable %s (for header %s) is empty or unset", strings.TrimSpace(variable), strings.TrimSpace(name))
		}
		out = append(out, canaryapi.Header{Name: strings.TrimSpace(name), Value: value})
	}
	if err := canaryapi.ValidateHeaders(out); err != nil {
		return nil, &cmdutil.FlagError{Err: err}
	}
	return out, nil
}

func addGenericRun(cmd *cobra.Command, opts *AddGenericOptions) error {
	client, flock, err := opts.Console.Target()
	if err != nil {
		return err
	}
	if err := client.AddGenericWebhook(cmd.Context(), flock, opts.URL, opts.Headers); err != nil {
		return consoleError(err)
	}
	note := ""
	if n := len(opts.Headers); n > 0 {
		names := make([]string, n)
		for i, h := range opts.Headers {
			names[i] = h.Name
		}
		note = " with headers " + strings.Join(names, ", ")
	}
	fmt.Fprintf(opts.IO.ErrOut, "✓ Added generic webhook %s%s to flock %s\n", maskURL(opts.URL), note, flock)
	return nil
}

// AddMSTeamsOptions are the inputs of `canary webhooks add ms-teams`.
type AddMSTeamsOptions struct {
	IO      *iostreams.IOStreams
	Console *Console
	URL     string
	Force   bool
}

// NewCmdAddMSTeams returns `canary webhooks add ms-teams`.
func NewCmdAddMSTeams(f *cmdutil.Factory, runF func(*AddMSTeamsOptions) error) *cobra.Command {
	opts := &AddMSTeamsOptions{IO: f.IOStreams, Console: NewConsole(f)}
	cmd := &cobra.Command{
		Use:     "ms-teams <url>",
		Aliases: []string{"ms_teams", "msteams", "teams"},
		Short:   "Add an MS Teams webhook",
		Long: `Add a Microsoft Teams webhook. The URL should be a Teams incoming webhook
(…webhook.office.com/…, outlook.office.com/webhook/…) or a Teams workflow
(*.logic.azure.com/…/workflows/…, *.api.powerplatform.com/…/workflows/…);
anything else is refused unless --force, since a typo here means alerts
silently go nowhere.`,
		Example: `  $ tw-cli canary webhooks add ms-teams "https://contoso.webhook.office.com/webhookb2/…"`,
		Args:    cmdutil.ExactArgs(1, "MS Teams webhook URL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Console.ReadFlags(cmd)
			opts.URL = args[0]
			if err := checkTeamsURL(opts.IO, opts.URL, opts.Force, "adding"); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return addMSTeamsRun(cmd, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Force, "force", false, "Add the URL even if it does not look like an MS Teams webhook")
	return cmd
}

// checkTeamsURL refuses a URL that is not http(s), and one that does not
// look like Teams unless forced, in which case it warns.
func checkTeamsURL(io *iostreams.IOStreams, u string, force bool, doing string) error {
	err := canaryapi.CheckMSTeamsURL(u)
	switch {
	case err == nil:
		return nil
	case !errors.Is(err, canaryapi.ErrNotTeamsURL):
		return &cmdutil.FlagError{Err: err}
	case force:
		fmt.Fprintf(io.ErrOut, "! %s; %s it anyway (--force)\n", err, doing)
		return nil
	}
	return cmdutil.FlagErrorf("%s; pass --force to use it anyway", err)
}

func addMSTeamsRun(cmd *cobra.Command, opts *AddMSTeamsOptions) error {
	client, flock, err := opts.Console.Target()
	if err != nil {
		return err
	}
	if err := client.AddMSTeamsWebhook(cmd.Context(), flock, opts.URL); err != nil {
		return consoleError(err)
	}
	fmt.Fprintf(opts.IO.ErrOut, "✓ Added MS Teams webhook to flock %s\n", flock)
	return nil
}

// AddSplunkOptions are the inputs of `canary webhooks add splunk`.
type AddSplunkOptions struct {
	IO      *iostreams.IOStreams
	Console *Console
	Getenv  func(string) string

	Host     string
	portArg  string
	Port     int
	tokenArg string
	TokenEnv string
	// Token is the HEC token, from --token-env or --token.
	Token string
}

// NewCmdAddSplunk returns `canary webhooks add splunk`.
func NewCmdAddSplunk(f *cmdutil.Factory, runF func(*AddSplunkOptions) error) *cobra.Command {
	opts := &AddSplunkOptions{IO: f.IOStreams, Console: NewConsole(f), Getenv: os.Getenv}
	cmd := &cobra.Command{
		Use:   "splunk --host <host> [--port <port>] (--token-env <var> | --token <token>)",
		Short: "Send a flock's alerts to a Splunk HTTP Event Collector",
		Long: `Point the flock at a Splunk HTTP Event Collector (HEC). The console lists at
most one per flock; the API docs do not say what adding does when one is
already set, so remove that one first ('canary webhooks remove splunk') to
be sure which is used. Prefer --token-env: a --token value ends up in shell
history and process listings.`,
		Example: `  $ SPLUNK_HEC_TOKEN=… tw-cli canary webhooks add splunk --host splunk.example.com --port 8088 --token-env SPLUNK_HEC_TOKEN`,
		Args:    cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Console.ReadFlags(cmd)
			if err := canaryapi.ValidateHost(opts.Host); err != nil {
				return &cmdutil.FlagError{Err: err}
			}
			port, err := canaryapi.ParsePort(opts.portArg)
			if err != nil {
				return &cmdutil.FlagError{Err: err}
			}
			opts.Port = port
			if err := cmdutil.MutuallyExclusive("specify only one of --token or --token-env", opts.tokenArg != "", opts.TokenEnv != ""); err != nil {
				return err
			}
			switch {
			case opts.TokenEnv != "":
				opts.Token = opts.Getenv(opts.TokenEnv)
				if opts.Token == "" {
					return cmdutil.FlagErrorf("environment variable %s is empty or unset", opts.TokenEnv)
				}
			case opts.tokenArg != "":
				opts.Token = opts.tokenArg
			default:
				return cmdutil.FlagErrorf("the HEC token is required: pass --token-env VAR (or --token)")
			}
			if runF != nil {
				return runF(opts)
			}
			return addSplunkRun(cmd, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Host, "host", "", "Domain or IP of the Splunk HEC")
	fl.StringVar(&opts.portArg, "port", "8088", "`Port` of the Splunk HEC (1-65535)")
	fl.StringVar(&opts.TokenEnv, "token-env", "", "Read the HEC token from this environment `variable`")
	fl.StringVar(&opts.tokenArg, "token", "", "HEC `token` (prefer --token-env)")
	return cmd
}

func addSplunkRun(cmd *cobra.Command, opts *AddSplunkOptions) error {
	client, flock, err := opts.Console.Target()
	if err != nil {
		return err
	}
	if err := client.AddSplunkWebhook(cmd.Context(), flock, opts.Host, opts.Port, opts.Token); err != nil {
		return consoleError(err)
	}
	fmt.Fprintf(opts.IO.ErrOut, "✓ Added Splunk HEC %s:%d to flock %s\n", opts.Host, opts.Port, flock)
	return nil
}

// AddSlackOptions are the inputs of `canary webhooks add slack`.
type AddSlackOptions struct {
	IO      *iostreams.IOStreams
	Console *Console
}

// NewCmdAddSlack returns `canary webhooks add slack`, which can only explain:
// the console adds Slack webhooks through Slack's OAuth consent in its UI,
// and its API offers no slack/add.
func NewCmdAddSlack(f *cmdutil.Factory, runF func(*AddSlackOptions) error) *cobra.Command {
	opts := &AddSlackOptions{IO: f.IOStreams, Console: NewConsole(f)}
	return &cobra.Command{
		Use:   "slack",
		Short: "Explain how to add a Slack webhook (not possible through the API)",
		Long: `The Canary API cannot add Slack webhooks: adding one takes Slack's OAuth
consent, which happens in the console's UI. This command says so, points to
the console and exits non-zero. Once added there, 'list', 'test slack' and
'remove slack' work from here.`,
		Example: `  $ tw-cli canary webhooks add slack          # prints the console URL to use
  $ tw-cli canary webhooks list --kind slack   # after adding it in the console`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Console.ReadFlags(cmd)
			if runF != nil {
				return runF(opts)
			}
			return addSlackRun(opts)
		},
	}
}

func addSlackRun(opts *AddSlackOptions) error {
	where := "your Canary console"
	if u := opts.Console.ConsoleURL(); u != "" {
		where = u
	}
	flock, err := opts.Console.FlockID()
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, `Slack webhooks cannot be added through the Canary API: Slack asks you to
grant the console access to a channel, which only works in a browser.

Add it in the console instead:
  1. open %s
  2. go to the settings of flock %s
  3. add Slack under its webhook notifications
Then check it from here:
  tw-cli canary webhooks list --kind slack --reveal
  tw-cli canary webhooks test slack <webhook-url>
`, where, flock)
	return cmdutil.ErrSilent
}
