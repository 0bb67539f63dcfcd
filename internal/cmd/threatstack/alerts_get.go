package threatstack

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/output"
	"github.com/tw-cli/tw-cli/pkg/threatstack"
)

// NewCmdAlertsGet returns `threatstack alerts get`.
func NewCmdAlertsGet(f *cmdutil.Factory, runF func(*GetOptions) error) *cobra.Command {
	return newCmdGet(f, getSpec[*threatstack.Alert]{
		noun:    "alert",
		example: `  $ tw-cli threatstack alerts get 5d1f… -o json`,
		fetch: func(ctx context.Context, c *threatstack.Client, id string) (*threatstack.Alert, error) {
			return c.GetAlert(ctx, id)
		},
		rows: func(t *output.TablePrinter, a *threatstack.Alert, tty bool, now time.Time) {
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
		},
	}, runF)
}
