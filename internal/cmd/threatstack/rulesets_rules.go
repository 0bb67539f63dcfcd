package threatstack

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/output"
	"github.com/tw-cli/tw-cli/pkg/threatstack"
)

// RulesetsRulesOptions are the inputs of `threatstack rulesets rules`.
type RulesetsRulesOptions struct {
	IO     *iostreams.IOStreams
	Client func() (*threatstack.Client, error)
	Now    func() time.Time

	RulesetID string
	List      listFlags
}

// NewCmdRulesetsRules returns `threatstack rulesets rules`.
func NewCmdRulesetsRules(f *cmdutil.Factory, runF func(*RulesetsRulesOptions) error) *cobra.Command {
	opts := &RulesetsRulesOptions{IO: f.IOStreams, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "rules <ruleset-id>",
		Short: "List the rules of a ruleset",
		Long: `List the rules of a ruleset. When piped the columns are ID, NAME, TYPE,
SEVERITY, ENABLED, UPDATED (RFC 3339).`,
		Example: `  $ tw-cli threatstack rulesets rules 9b1c… --all`,
		Args:    idArg("ruleset id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.RulesetID = args[0]
			if err := opts.List.validate(cmd); err != nil {
				return err
			}
			opts.Client = clientFunc(f, cmd)
			if runF != nil {
				return runF(opts)
			}
			return rulesetsRulesRun(cmd, opts)
		},
	}
	opts.List.register(cmd, "rules")
	return cmd
}

func rulesetsRulesRun(cmd *cobra.Command, opts *RulesetsRulesOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	now := opts.Now()
	return printPages(opts.IO, opts.List, c.RulePages(cmd.Context(), opts.RulesetID), listing[threatstack.Rule]{
		Noun:   "rules",
		Header: []string{"ID", "NAME", "TYPE", "SEVERITY", "ENABLED", "UPDATED"},
		Row: func(r threatstack.Rule, tty bool) []string {
			return []string{r.ID, r.Name, dash(r.Type), severityCell(r.Severity), yesNo(r.Enabled), output.Time(r.UpdatedAt.Time, tty, now)}
		},
	})
}
