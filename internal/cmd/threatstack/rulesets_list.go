package threatstack

import (
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/output"
	"github.com/tw-cli/tw-cli/pkg/threatstack"
)

// RulesetsListOptions are the inputs of `threatstack rulesets list`.
type RulesetsListOptions struct {
	IO     *iostreams.IOStreams
	Client func() (*threatstack.Client, error)
	Now    func() time.Time
	List   listFlags
}

// NewCmdRulesetsList returns `threatstack rulesets list`.
func NewCmdRulesetsList(f *cmdutil.Factory, runF func(*RulesetsListOptions) error) *cobra.Command {
	opts := &RulesetsListOptions{IO: f.IOStreams, Now: f.Now}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List rulesets",
		Long: `List the organization's rulesets. When piped the columns are ID, NAME,
RULES (count), UPDATED (RFC 3339), DESCRIPTION.`,
		Example: `  $ tw-cli threatstack rulesets list`,
		Args:    cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.List.validate(cmd); err != nil {
				return err
			}
			opts.Client = clientFunc(f, cmd)
			if runF != nil {
				return runF(opts)
			}
			return rulesetsListRun(cmd, opts)
		},
	}
	opts.List.register(cmd, "rulesets")
	return cmd
}

func rulesetsListRun(cmd *cobra.Command, opts *RulesetsListOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	now := opts.Now()
	return printPages(opts.IO, opts.List, c.RulesetPages(cmd.Context()), listing[threatstack.Ruleset]{
		Noun:   "rulesets",
		Header: []string{"ID", "NAME", "RULES", "UPDATED", "DESCRIPTION"},
		Row: func(r threatstack.Ruleset, tty bool) []string {
			return []string{r.ID, r.Name, strconv.Itoa(len(r.RuleIDs)), output.Time(r.UpdatedAt.Time, tty, now), dash(r.Description)}
		},
	})
}
