package canary

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	canaryapi "github.com/tw-cli/tw-cli/pkg/canary"
)

// StateOptions are the inputs of `canary webhooks enable|disable|use-global`,
// the three verbs that flip a flock's webhook switch.
type StateOptions struct {
	IO      *iostreams.IOStreams
	Console *Console
	// Verb is enable, disable or use-global.
	Verb string
}

// stateVerb describes one switch verb.
type stateVerb struct {
	use, short, long, done string
	call                   func(*canaryapi.Client, context.Context, string) error
}

// NewCmdEnable returns `canary webhooks enable`.
func NewCmdEnable(f *cmdutil.Factory, runF func(*StateOptions) error) *cobra.Command {
	return newCmdState(f, stateVerb{
		use:   "enable",
		short: "Enable a flock's webhooks",
		long: `Enable the flock's webhooks (is_enabled true). The API docs do not say
whether this also stops the flock following the console's global setting;
'canary webhooks status' shows is_global afterwards.`,
		done: "Enabled webhooks for flock %s",
		call: (*canaryapi.Client).EnableWebhooks,
	}, runF)
}

// NewCmdDisable returns `canary webhooks disable`.
func NewCmdDisable(f *cmdutil.Factory, runF func(*StateOptions) error) *cobra.Command {
	return newCmdState(f, stateVerb{
		use:   "disable",
		short: "Disable a flock's webhooks",
		long: `Disable the flock's webhooks (is_enabled false). The API docs do not say
whether this also stops the flock following the console's global setting;
'canary webhooks status' shows is_global afterwards.`,
		done: "Disabled webhooks for flock %s",
		call: (*canaryapi.Client).DisableWebhooks,
	}, runF)
}

// NewCmdUseGlobal returns `canary webhooks use-global`.
func NewCmdUseGlobal(f *cmdutil.Factory, runF func(*StateOptions) error) *cobra.Command {
	return newCmdState(f, stateVerb{
		use:   "use-global",
		short: "Make a flock follow the console's global webhook setting",
		long:  "Make the flock's webhooks follow the console-wide setting (is_global true).",
		done:  "Flock %s now follows the global webhook setting",
		call:  (*canaryapi.Client).UseGlobalWebhooks,
	}, runF)
}

func newCmdState(f *cmdutil.Factory, verb stateVerb, runF func(*StateOptions) error) *cobra.Command {
	opts := &StateOptions{IO: f.IOStreams, Console: NewConsole(f), Verb: verb.use}
	return &cobra.Command{
		Use:     verb.use,
		Short:   verb.short,
		Long:    verb.long,
		Example: fmt.Sprintf("  $ tw-cli canary webhooks %s --flock flock:default", verb.use),
		Args:    cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Console.ReadFlags(cmd)
			if runF != nil {
				return runF(opts)
			}
			return stateRun(cmd, opts, verb)
		},
	}
}

func stateRun(cmd *cobra.Command, opts *StateOptions, verb stateVerb) error {
	client, flock, err := opts.Console.Target()
	if err != nil {
		return err
	}
	if err := verb.call(client, cmd.Context(), flock); err != nil {
		return consoleError(err)
	}
	fmt.Fprintf(opts.IO.ErrOut, "✓ "+verb.done+"\n", flock)
	return nil
}
