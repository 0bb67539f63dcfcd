package webhook

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/sources"
)

// RemoveOptions are the inputs of `webhook remove`.
type RemoveOptions struct {
	IO      *iostreams.IOStreams
	Sources func() (sources.Service, error)
	Name    string
	Yes     bool
}

// NewCmdRemove returns `webhook remove`.
func NewCmdRemove(f *cmdutil.Factory, runF func(*RemoveOptions) error) *cobra.Command {
	opts := &RemoveOptions{IO: f.IOStreams, Sources: f.Sources}
	cmd := &cobra.Command{
		Use:     "remove <source>",
		Aliases: []string{"rm", "delete"},
		Short:   "Remove a webhook source",
		Long: `Remove a source. Its deliveries are rejected as unknown_source from then on;
events and incidents it produced are kept. Asks for confirmation on a
terminal; scripts pass --yes.`,
		Example:           `  $ tw-cli webhook remove email-gateway --yes`,
		Args:              cmdutil.ExactArgs(1, "source name"),
		ValidArgsFunction: completeSourceNames(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if !opts.Yes && !opts.IO.CanPrompt() {
				return cmdutil.FlagErrorf("--yes is required to remove %q when not running interactively", opts.Name)
			}
			if runF != nil {
				return runF(opts)
			}
			return removeRun(cmd, opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "Remove without asking")
	return cmd
}

func removeRun(cmd *cobra.Command, opts *RemoveOptions) error {
	svc, err := opts.Sources()
	if err != nil {
		return err
	}
	// Read it first, so the prompt is not asked in vain and a source
	// from a webhook_config.yaml draws its warning.
	v, err := svc.Get(cmd.Context(), opts.Name)
	if err != nil {
		return sourceError(err)
	}
	warnFileManaged(opts.IO, v, "add it again")
	if !opts.Yes {
		ok, err := cmdutil.Confirm(opts.IO, fmt.Sprintf("Remove webhook source %q? Its deliveries will be rejected. [y/N] ", opts.Name))
		if err != nil {
			return err
		}
		if !ok {
			return cmdutil.ErrCancel
		}
	}
	if err := svc.Remove(cmd.Context(), opts.Name); err != nil {
		return sourceError(err)
	}
	fmt.Fprintf(opts.IO.ErrOut, "✓ Removed source %s\n", opts.Name)
	return nil
}
