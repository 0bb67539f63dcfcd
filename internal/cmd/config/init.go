package config

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/config"
	"github.com/tw-cli/tw-cli/internal/iostreams"
)

// initKeys are the credentials `config init` asks for, in order.
var initKeys = []string{
	"threatstack.user_id", "threatstack.api_key", "threatstack.organization_id",
	"canary.domain", "canary.auth_token", "canary.flock",
}

// InitOptions are the inputs of `config init`.
type InitOptions struct {
	IO      *iostreams.IOStreams
	Config  func() (*config.Config, error)
	FromEnv bool
	// ReadSecret reads a line without echo; nil outside a terminal.
	ReadSecret func() (string, error)
}

func newCmdInit(f *cmdutil.Factory) *cobra.Command {
	opts := &InitOptions{IO: f.IOStreams, Config: f.Config}
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Set up vendor credentials, interactively or from the environment",
		Long: `Store Threat Stack and Canary credentials in the config file (mode 0600),
in the profile named by --profile or at the top level.

On a terminal it asks for each value (secrets are not echoed; Enter keeps
the current value). In scripts use --from-env, which copies TS_USER_ID,
TS_API_KEY, TS_ORGANIZATION_ID, CANARY_DOMAIN, CANARY_AUTH_TOKEN and
CANARY_FLOCK from the environment.`,
		Example: `  $ tw-cli config init --profile prod
  $ TS_USER_ID=… TS_API_KEY=… TS_ORGANIZATION_ID=… tw-cli config init --from-env --profile ci`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !opts.FromEnv && !opts.IO.CanPrompt() {
				return cmdutil.FlagErrorf("not a terminal: pass --from-env, or use 'tw-cli config set KEY VALUE'")
			}
			if in, ok := opts.IO.In.(*os.File); ok && opts.IO.IsStdinTTY() {
				opts.ReadSecret = func() (string, error) {
					b, err := term.ReadPassword(int(in.Fd()))
					fmt.Fprintln(opts.IO.ErrOut)
					return string(b), err
				}
			}
			return initRun(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.FromEnv, "from-env", false, "Copy the credentials found in the environment")
	return cmd
}

func initRun(opts *InitOptions) error {
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	values := map[string]string{}
	if opts.FromEnv {
		for _, name := range initKeys {
			k, _ := config.LookupKey(name)
			for _, env := range k.Env {
				if v := os.Getenv(env); v != "" {
					values[name] = v
					break
				}
			}
		}
		if len(values) == 0 {
			return cmdutil.FlagErrorf("--from-env found none of TS_USER_ID, TS_API_KEY, TS_ORGANIZATION_ID, CANARY_DOMAIN, CANARY_AUTH_TOKEN, CANARY_FLOCK")
		}
	} else {
		in := bufio.NewReader(opts.IO.In)
		for _, name := range initKeys {
			k, _ := config.LookupKey(name)
			current := cfg.Get(name)
			shown := current
			if k.Secret && current != "" {
				shown = "********"
			}
			fmt.Fprintf(opts.IO.ErrOut, "%s (%s) [%s]: ", name, k.Help, shown)
			var v string
			if k.Secret && opts.ReadSecret != nil {
				v, err = opts.ReadSecret()
			} else {
				v, err = in.ReadString('\n')
				if err == io.EOF {
					err = nil
				}
			}
			if err != nil {
				return err
			}
			if v = strings.TrimSpace(v); v != "" {
				values[name] = v
			}
		}
		if len(values) == 0 {
			fmt.Fprintln(opts.IO.ErrOut, "Nothing changed.")
			return nil
		}
	}
	if err := cfg.SetMany(cfg.Profile(), values); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "✓ Saved %d setting(s)%s in %s\n", len(values), profileNote(cfg.Profile()), cfg.Path())
	return nil
}
