package threatstack

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/output"
	"github.com/tw-cli/tw-cli/pkg/threatstack"
)

// GetOptions are the inputs of the `threatstack <noun> get <id>` commands.
type GetOptions struct {
	IO     *iostreams.IOStreams
	Client func() (*threatstack.Client, error)
	Now    func() time.Time

	ID     string
	Output string
}

// getSpec is what differs between the get commands: which object, how to
// fetch it, and the rows of its FIELD/VALUE table.
type getSpec[T any] struct {
	noun    string // "agent"
	example string
	fetch   func(ctx context.Context, c *threatstack.Client, id string) (T, error)
	rows    func(t *output.TablePrinter, v T, tty bool, now time.Time)
}

func newCmdGet[T any](f *cmdutil.Factory, spec getSpec[T], runF func(*GetOptions) error) *cobra.Command {
	opts := &GetOptions{IO: f.IOStreams, Now: f.Now}
	cmd := &cobra.Command{
		Use:     "get <" + spec.noun + "-id>",
		Aliases: []string{"show", "view"},
		Short:   "Show one " + spec.noun,
		Example: spec.example,
		Args:    idArg(spec.noun + " id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			opts.Client = clientFunc(f, cmd)
			if runF != nil {
				return runF(opts)
			}
			return getRun(cmd.Context(), opts, spec)
		},
	}
	output.AddFormatFlag(cmd, &opts.Output)
	return cmd
}

func getRun[T any](ctx context.Context, opts *GetOptions, spec getSpec[T]) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	v, err := spec.fetch(ctx, c, opts.ID)
	if err != nil {
		return apiError(err)
	}
	now := opts.Now()
	return output.Print(opts.IO, opts.Output, v, func(t *output.TablePrinter) {
		t.Header("FIELD", "VALUE")
		spec.rows(t, v, t.IsTTY(), now)
	})
}
