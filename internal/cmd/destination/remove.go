package destination

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/store"
)

// RemoveOptions are the inputs of `destination remove`.
type RemoveOptions struct {
	IO    *iostreams.IOStreams
	Store func() (store.Store, error)
	Name  string
	Yes   bool
}

// NewCmdRemove returns `destination remove`.
func NewCmdRemove(f *cmdutil.Factory, runF func(*RemoveOptions) error) *cobra.Command {
	opts := &RemoveOptions{IO: f.IOStreams, Store: f.Store}
	cmd := &cobra.Command{
		Use:     "remove <name>",
		Aliases: []string{"rm", "delete"},
		Short:   "Remove a destination (its dead letters stay)",
		Long: `Remove a destination. Notify steps that name it fail from then on; its dead
letters stay in 'destination failures'. Asks for confirmation on a
terminal; scripts pass --yes.`,
		Example:           `  $ tw-cli destination remove soc-slack --yes`,
		Args:              cmdutil.ExactArgs(1, "destination name"),
		ValidArgsFunction: completeNames(f),
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
	st, err := opts.Store()
	if err != nil {
		return err
	}
	if !opts.Yes {
		// Check it exists first so the prompt is not asked in vain.
		d, err := st.GetDestination(cmd.Context(), opts.Name)
		if err != nil {
			return notFound(err, "destination", opts.Name, "tw-cli destination list")
		}
		ok, err := cmdutil.Confirm(opts.IO, fmt.Sprintf("Remove %s destination %q? Notify steps that use it will fail. [y/N] ", d.Kind, opts.Name))
		if err != nil {
			return err
		}
		if !ok {
			return cmdutil.ErrCancel
		}
	}
	if err := st.DeleteDestination(cmd.Context(), opts.Name); err != nil {
		return notFound(err, "destination", opts.Name, "tw-cli destination list")
	}
	fmt.Fprintf(opts.IO.ErrOut, "✓ Removed destination %s\n", opts.Name)
	return nil
}
