package destination

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/store"
)

// DiscardOptions are the inputs of `destination discard`.
type DiscardOptions struct {
	IO    *iostreams.IOStreams
	Store func() (store.Store, error)
	IDs   []string
	All   bool
	Yes   bool
}

// NewCmdDiscard returns `destination discard`.
func NewCmdDiscard(f *cmdutil.Factory, runF func(*DiscardOptions) error) *cobra.Command {
	opts := &DiscardOptions{IO: f.IOStreams, Store: f.Store}
	cmd := &cobra.Command{
		Use:   "discard {<id>... | --all}",
		Short: "Drop dead letters that will not be sent again",
		Long: `Delete failed notifications from the failures list without sending them,
for example after the incident was handled some other way or the
destination is gone for good. Each id not found is reported and the
exit code is 4; the others are still discarded. --all asks for
confirmation on a terminal; scripts pass --yes.`,
		Example: `  $ tw-cli destination failures
  $ tw-cli destination discard dl-4f2a9c1e7b3d
  $ tw-cli destination discard --all --yes`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.IDs = args
			switch {
			case opts.All && len(args) > 0:
				return cmdutil.FlagErrorf("give dead letter ids or --all, not both")
			case !opts.All && len(args) == 0:
				return cmdutil.FlagErrorf("give the dead letter ids to discard (see 'tw-cli destination failures'), or --all")
			case opts.All && !opts.Yes && !opts.IO.CanPrompt():
				return cmdutil.FlagErrorf("--yes is required to discard every dead letter when not running interactively")
			}
			if runF != nil {
				return runF(opts)
			}
			return discardRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.All, "all", false, "Discard every dead letter")
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "Discard --all without asking")
	return cmd
}

func discardRun(ctx context.Context, opts *DiscardOptions) error {
	st, err := opts.Store()
	if err != nil {
		return err
	}
	ids := opts.IDs
	if opts.All {
		dls, err := st.ListDeadLetters(ctx)
		if err != nil {
			return err
		}
		for _, d := range dls {
			ids = append(ids, d.ID)
		}
		if len(ids) == 0 {
			fmt.Fprintln(opts.IO.ErrOut, "No failed notifications.")
			return nil
		}
		if !opts.Yes {
			ok, err := cmdutil.Confirm(opts.IO, fmt.Sprintf("Discard all %d failed notification(s)? They will not be sent again. [y/N] ", len(ids)))
			if err != nil {
				return err
			}
			if !ok {
				return cmdutil.ErrCancel
			}
		}
	}
	var missing []error
	for _, id := range ids {
		err := st.DeleteDeadLetter(ctx, id)
		switch {
		case err == nil:
			fmt.Fprintf(opts.IO.ErrOut, "✓ Discarded %s\n", id)
		case errors.Is(err, store.ErrNotFound) && !opts.All:
			missing = append(missing, fmt.Errorf("no failed notification %q", id))
		case errors.Is(err, store.ErrNotFound):
			// Sent or discarded by another process since the listing.
		default:
			return err
		}
	}
	if len(missing) > 0 {
		return &cmdutil.ExitError{Code: cmdutil.ExitNotFound, Err: fmt.Errorf("%w: run 'tw-cli destination failures'", errors.Join(missing...))}
	}
	return nil
}
