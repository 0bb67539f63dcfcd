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
}

// NewCmdRemove returns `destination remove`.
func NewCmdRemove(f *cmdutil.Factory, runF func(*RemoveOptions) error) *cobra.Command {
	opts := &RemoveOptions{IO: f.IOStreams, Store: f.Store}
	cmd := &cobra.Command{
		Use:               "remove <name>",
		Example:           `  $ tw-cli destination remove soc-slack`,
		Aliases:           []string{"rm", "delete"},
		Short:             "Remove a destination (its dead letters stay)",
		Args:              cmdutil.ExactArgs(1, "destination name"),
		ValidArgsFunction: completeNames(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if runF != nil {
				return runF(opts)
			}
			st, err := opts.Store()
			if err != nil {
				return err
			}
			if err := st.DeleteDestination(cmd.Context(), opts.Name); err != nil {
				return notFound(err, "destination", opts.Name, "tw-cli destination list")
			}
			fmt.Fprintf(opts.IO.ErrOut, "✓ Removed destination %s\n", opts.Name)
			return nil
		},
	}
	return cmd
}
