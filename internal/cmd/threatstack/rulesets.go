package threatstack

import (
	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
)

// NewCmdRulesets returns the `threatstack rulesets` group.
func NewCmdRulesets(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "rulesets <command>",
		Aliases: []string{"ruleset"},
		Short:   "List and inspect rulesets and their rules",
	}
	cmd.AddCommand(NewCmdRulesetsList(f, nil), NewCmdRulesetsGet(f, nil), NewCmdRulesetsRules(f, nil))
	return cmd
}
