package threatstack

import (
	"context"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/output"
	"github.com/tw-cli/tw-cli/pkg/threatstack"
)

// NewCmdRulesetsGet returns `threatstack rulesets get`.
func NewCmdRulesetsGet(f *cmdutil.Factory, runF func(*GetOptions) error) *cobra.Command {
	return newCmdGet(f, getSpec[*threatstack.Ruleset]{
		noun:    "ruleset",
		example: `  $ tw-cli threatstack rulesets get 9b1c… -o yaml`,
		fetch: func(ctx context.Context, c *threatstack.Client, id string) (*threatstack.Ruleset, error) {
			return c.GetRuleset(ctx, id)
		},
		rows: func(t *output.TablePrinter, rs *threatstack.Ruleset, tty bool, now time.Time) {
			t.Row("id", rs.ID)
			t.Row("name", rs.Name)
			t.Row("description", dash(rs.Description))
			t.Row("rules", strconv.Itoa(len(rs.RuleIDs)))
			t.Row("created", output.Time(rs.CreatedAt.Time, tty, now))
			t.Row("updated", output.Time(rs.UpdatedAt.Time, tty, now))
		},
	}, runF)
}
