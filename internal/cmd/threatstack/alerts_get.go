package threatstack

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/output"
	"github.com/tw-cli/tw-cli/pkg/threatstack"
)

// AlertsGetOptions are the inputs of `threatstack alerts get`.
type AlertsGetOptions struct {
	IO     *iostreams.IOStreams
	Client func() (*threatstack.Client, error)
	Now    func() time.Time

	ID     string
	Output string
}

// NewCmdAlertsGet returns `threatstack alerts get`.
func NewCmdAlertsGet(f *cmdutil.Factory, runF func(*AlertsGetOptions) error) *cobra.Command {
	opts := &AlertsGetOptions{IO: f.IOStreams, Now: f.Now}
	cmd := &cobra.Command{
		Use:     "get <alert-id>",
		Aliases: []string{"show", "view"},
		Short:   "Show one alert",
		Example: `  $ tw-cli threatstack alerts get 5d1f… -o json`,
		Args:    cmdutil.ExactArgs(1, "alert id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			if err := output.ValidateFormat(opts.Output); err != nil {
				return cmdutil.FlagErrorf("%s", err)
			}
			opts.Client = clientFunc(f, cmd)
			if runF != nil {
				return runF(opts)
			}
			return alertsGetRun(cmd, opts)
		},
	}
	output.AddFormatFlag(cmd, &opts.Output)
	return cmd
}

func alertsGetRun(cmd *cobra.Command, opts *AlertsGetOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	a, err := c.GetAlert(cmd.Context(), opts.ID)
	if err != nil {
		return apiError(err)
	}
	now := opts.Now()
	return output.Print(opts.IO, opts.Output, a, func(t *output.TablePrinter) {
		tty := t.IsTTY()
		t.Header("FIELD", "VALUE")
		t.Row("id", a.ID)
		t.Row("title", a.Title)
		t.Row("severity", severityCell(a.Severity))
		t.Row("status", alertStatus(*a))
		t.Row("data_source", dash(a.DataSource))
		t.Row("created", output.Time(a.CreatedAt.Time, tty, now))
		t.Row("agent", dash(a.AgentID))
		t.Row("ruleset", dash(a.RulesetID))
		t.Row("rule", dash(a.RuleID))
		if a.IsDismissed {
			t.Row("dismissed", output.Time(a.DismissedAt.Time, tty, now))
			t.Row("dismissed_by", dash(a.DismissedBy))
			t.Row("dismiss_reason", dash(a.DismissReason))
			t.Row("dismiss_text", dash(a.DismissReasonText))
		}
	})
}
