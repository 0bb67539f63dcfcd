package destination

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/notify"
	"github.com/tw-cli/tw-cli/internal/output"
	"github.com/tw-cli/tw-cli/internal/store"
)

// FailuresOptions are the inputs of `destination failures`.
type FailuresOptions struct {
	IO     *iostreams.IOStreams
	Store  func() (store.Store, error)
	Now    func() time.Time
	Output string
}

// NewCmdFailures returns `destination failures`.
func NewCmdFailures(f *cmdutil.Factory, runF func(*FailuresOptions) error) *cobra.Command {
	opts := &FailuresOptions{IO: f.IOStreams, Store: f.Store, Now: f.Now}
	cmd := &cobra.Command{
		Use: "failures",
		Example: `  $ tw-cli destination failures
  $ tw-cli destination failures -o json --jq '.[].id'`,
		Aliases: []string{"dead-letters"},
		Short:   "List notifications that failed every attempt (dead letters)",
		Args:    cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return failuresRun(cmd.Context(), opts)
		},
	}
	output.AddFormatFlag(cmd, &opts.Output)
	return cmd
}

func failuresRun(ctx context.Context, opts *FailuresOptions) error {
	st, err := opts.Store()
	if err != nil {
		return err
	}
	dls, err := st.ListDeadLetters(ctx)
	if err != nil {
		return err
	}
	if dls == nil {
		dls = []store.DeadLetter{}
	}
	if len(dls) == 0 && opts.Output == output.Table && opts.IO.IsStdoutTTY() {
		fmt.Fprintln(opts.IO.ErrOut, "No failed notifications.")
		return nil
	}
	now := opts.Now()
	return output.Print(opts.IO, opts.Output, dls, func(t *output.TablePrinter) {
		t.Header("ID", "DESTINATION", "INCIDENT", "ATTEMPTS", "LAST ERROR", "UPDATED")
		for _, d := range dls {
			t.Row(d.ID, d.Destination, d.IncidentNumber, strconv.Itoa(d.Attempts), d.LastError, output.Time(d.UpdatedAt, t.IsTTY(), now))
		}
	})
}

// RetryOptions are the inputs of `destination retry`.
type RetryOptions struct {
	IO     *iostreams.IOStreams
	Store  func() (store.Store, error)
	Sender func() *notify.Sender
	Now    func() time.Time
	ID     string
	Output string
}

// NewCmdRetry returns `destination retry`.
func NewCmdRetry(f *cmdutil.Factory, runF func(*RetryOptions) error) *cobra.Command {
	opts := &RetryOptions{IO: f.IOStreams, Store: f.Store, Sender: cmdutil.NotifySender(f), Now: f.Now}
	cmd := &cobra.Command{
		Use:   "retry <id>",
		Short: "Send a dead letter again; delivered, it leaves the list",
		Long: `Send a failed notification again, exactly as it was rendered, with the
usual retries. Delivered, it leaves the failures list; failed again, it
stays with its attempts counted and the exit code is 5 (1 when nothing
answered).`,
		Example: `  $ tw-cli destination failures
  $ tw-cli destination retry dl-4f2a9c1e7b3d`,
		Args: cmdutil.ExactArgs(1, "dead letter id (see 'tw-cli destination failures')"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			if runF != nil {
				return runF(opts)
			}
			return retryRun(cmd.Context(), opts)
		},
	}
	output.AddFormatFlag(cmd, &opts.Output)
	return cmd
}

func retryRun(ctx context.Context, opts *RetryOptions) error {
	st, err := opts.Store()
	if err != nil {
		return err
	}
	n := &notify.Notifier{Store: st, Sender: opts.Sender(), Now: opts.Now}
	d, err := n.Retry(ctx, opts.ID)
	if err != nil {
		return notFound(err, "failed notification", opts.ID, "tw-cli destination failures")
	}
	return report(opts.IO, opts.Output, d, "notification "+opts.ID)
}
