package threatstack

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/output"
	"github.com/tw-cli/tw-cli/pkg/threatstack"
)

// AlertsEventsOptions are the inputs of `threatstack alerts events`.
type AlertsEventsOptions struct {
	IO     *iostreams.IOStreams
	Client func() (*threatstack.Client, error)
	Now    func() time.Time

	ID   string
	List listFlags
}

// NewCmdAlertsEvents returns `threatstack alerts events`.
func NewCmdAlertsEvents(f *cmdutil.Factory, runF func(*AlertsEventsOptions) error) *cobra.Command {
	opts := &AlertsEventsOptions{IO: f.IOStreams, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "events <alert-id>",
		Short: "List the events behind an alert",
		Long: `List the events that raised an alert. Event fields depend on the data
source; the table shows the common ones and -o json shows everything.

When piped the columns are ID, TIME (RFC 3339), TYPE, HOST, USER, COMMAND.`,
		Example: `  $ tw-cli threatstack alerts events 5d1f… --all -o json`,
		Args:    idArg("alert id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			if err := opts.List.validate(cmd); err != nil {
				return err
			}
			opts.Client = clientFunc(f, cmd)
			if runF != nil {
				return runF(opts)
			}
			return alertsEventsRun(cmd, opts)
		},
	}
	opts.List.register(cmd, "events")
	return cmd
}

func alertsEventsRun(cmd *cobra.Command, opts *AlertsEventsOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	now := opts.Now()
	return printPages(opts.IO, opts.List, c.AlertEventPages(cmd.Context(), opts.ID), listing[threatstack.Event]{
		Noun:   "events",
		Header: []string{"ID", "TIME", "TYPE", "HOST", "USER", "COMMAND"},
		Row: func(e threatstack.Event, tty bool) []string {
			return []string{dash(e.ID), output.Time(e.Timestamp.Time, tty, now), dash(e.Type),
				dash(e.Hostname), dash(e.User), dash(e.Command)}
		},
	})
}
