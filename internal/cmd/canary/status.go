package canary

import (
	"strconv"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/output"
)

// StatusOptions are the inputs of `canary webhooks status`.
type StatusOptions struct {
	IO      *iostreams.IOStreams
	Console *Console
	Output  string
}

// statusView is what status prints; -o json uses the console's field names.
type statusView struct {
	FlockID string `json:"flock_id"`
	Enabled bool   `json:"is_enabled"`
	Global  bool   `json:"is_global"`
}

// NewCmdStatus returns `canary webhooks status`.
func NewCmdStatus(f *cmdutil.Factory, runF func(*StatusOptions) error) *cobra.Command {
	opts := &StatusOptions{IO: f.IOStreams, Console: NewConsole(f)}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show whether a flock's webhooks are enabled and global",
		Long: `Show a flock's webhook switch: ENABLED (is_enabled) and GLOBAL (is_global,
the flock follows the console-wide setting rather than its own).`,
		Example: `  $ tw-cli canary webhooks status
  $ tw-cli canary webhooks status --flock flock:0123456789abcdef -o json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Console.ReadFlags(cmd)
			if runF != nil {
				return runF(opts)
			}
			return statusRun(cmd, opts)
		},
	}
	output.AddFormatFlag(cmd, &opts.Output)
	return cmd
}

func statusRun(cmd *cobra.Command, opts *StatusOptions) error {
	client, flock, err := opts.Console.Target()
	if err != nil {
		return err
	}
	state, err := client.WebhookState(cmd.Context(), flock)
	if err != nil {
		return consoleError(err)
	}
	v := statusView{FlockID: flock, Enabled: state.Enabled, Global: state.Global}
	return output.Print(opts.IO, opts.Output, v, func(t *output.TablePrinter) {
		t.Header("FLOCK", "ENABLED", "GLOBAL")
		t.Row(v.FlockID, strconv.FormatBool(v.Enabled), strconv.FormatBool(v.Global))
	})
}
