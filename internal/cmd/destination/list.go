package destination

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/output"
	"github.com/tw-cli/tw-cli/internal/store"
)

// ListOptions are the inputs of `destination list`.
type ListOptions struct {
	IO     *iostreams.IOStreams
	Store  func() (store.Store, error)
	Now    func() time.Time
	Output string
}

// NewCmdList returns `destination list`.
func NewCmdList(f *cmdutil.Factory, runF func(*ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IOStreams, Store: f.Store, Now: f.Now}
	cmd := &cobra.Command{
		Use: "list",
		Example: `  $ tw-cli destination list
  $ tw-cli destination list -o json`,
		Aliases: []string{"ls"},
		Short:   "List destinations, secrets masked",
		Args:    cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return listRun(cmd.Context(), opts)
		},
	}
	output.AddFormatFlag(cmd, &opts.Output)
	return cmd
}

func listRun(ctx context.Context, opts *ListOptions) error {
	st, err := opts.Store()
	if err != nil {
		return err
	}
	ds, err := st.ListDestinations(ctx)
	if err != nil {
		return err
	}
	views := []View{}
	for i := range ds {
		views = append(views, ViewOf(&ds[i]))
	}
	if len(views) == 0 && opts.Output == output.Table && opts.IO.IsStdoutTTY() {
		fmt.Fprintln(opts.IO.ErrOut, "No destinations. Add one with 'tw-cli destination add'.")
		return nil
	}
	now := opts.Now()
	return output.Print(opts.IO, opts.Output, views, func(t *output.TablePrinter) {
		t.Header("NAME", "KIND", "URL", "CREDENTIAL", "CREATED")
		for _, v := range views {
			cred := "-"
			switch {
			case v.Token != "":
				cred = "token " + v.Token
			case v.Secret != "":
				cred = "secret " + v.Secret
			}
			t.Row(v.Name, v.Kind, v.URL, cred, output.Time(v.CreatedAt, t.IsTTY(), now))
		}
	})
}
