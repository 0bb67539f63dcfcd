package destination

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/notify"
	"github.com/tw-cli/tw-cli/internal/output"
	"github.com/tw-cli/tw-cli/internal/store"
)

// TestOptions are the inputs of `destination test`.
type TestOptions struct {
	IO     *iostreams.IOStreams
	Store  func() (store.Store, error)
	Sender func() *notify.Sender
	Now    func() time.Time
	Name   string
	Output string
}

// DeliveryView is a send's outcome as -o json prints it, for CI.
type DeliveryView struct {
	Destination string `json:"destination"`
	OK          bool   `json:"ok"`
	Status      int    `json:"status,omitempty"`
	Attempts    int    `json:"attempts"`
	Error       string `json:"error,omitempty"`
	DeadLetter  string `json:"dead_letter,omitempty"`
}

func viewOfDelivery(d notify.Delivery) DeliveryView {
	v := DeliveryView{Destination: d.Destination, OK: d.OK(), Status: d.Status, Attempts: d.Attempts, DeadLetter: d.DeadLetter}
	if d.Err != nil {
		v.Error = d.Err.Error()
	}
	return v
}

// NewCmdTest returns `destination test`.
func NewCmdTest(f *cmdutil.Factory, runF func(*TestOptions) error) *cobra.Command {
	opts := &TestOptions{IO: f.IOStreams, Store: f.Store, Sender: cmdutil.NotifySender(f), Now: f.Now}
	cmd := &cobra.Command{
		Use:   "test <name>",
		Short: "Send a test message once; exit 5 if the endpoint fails",
		Long: `Send a test message ("tw-cli test notification", severity info) to a
destination, once, without retries or dead letters. The exit code is 5
when the endpoint answers other than 2xx and 1 when nothing answers, so
CI can check a destination.`,
		Example:           `  $ tw-cli destination test soc-slack -o json`,
		Args:              cmdutil.ExactArgs(1, "destination name"),
		ValidArgsFunction: completeNames(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if runF != nil {
				return runF(opts)
			}
			return testRun(cmd.Context(), opts)
		},
	}
	output.AddFormatFlag(cmd, &opts.Output)
	return cmd
}

func testRun(ctx context.Context, opts *TestOptions) error {
	st, err := opts.Store()
	if err != nil {
		return err
	}
	n := &notify.Notifier{Store: st, Sender: opts.Sender(), Now: opts.Now}
	d, err := n.Test(ctx, opts.Name)
	if err != nil {
		return notFound(err, "destination", opts.Name, "tw-cli destination list")
	}
	return report(opts.IO, opts.Output, d, "test message")
}

// report prints a send's outcome. A failure exits 5 when the endpoint
// answered with an error and 1 when nothing answered, as every command
// that calls out does.
func report(ios *iostreams.IOStreams, format string, d notify.Delivery, what string) error {
	code := cmdutil.ExitRemote
	if d.Status == 0 {
		code = cmdutil.ExitFailure
	}
	if format == output.JSON || format == output.YAML {
		if err := output.Print(ios, format, viewOfDelivery(d), nil); err != nil {
			return err
		}
		if !d.OK() {
			return &cmdutil.ExitError{Code: code, Err: cmdutil.ErrSilent}
		}
		return nil
	}
	if !d.OK() {
		return &cmdutil.ExitError{Code: code, Err: fmt.Errorf("%s to %s failed after %d attempt(s): %v", what, d.Destination, d.Attempts, d.Err)}
	}
	fmt.Fprintf(ios.ErrOut, "✓ %s delivered to %s (HTTP %d)\n", what, d.Destination, d.Status)
	return nil
}
