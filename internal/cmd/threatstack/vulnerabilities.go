package threatstack

import (
	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
)

// NewCmdVulnerabilities returns the `threatstack vulnerabilities` group.
func NewCmdVulnerabilities(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "vulnerabilities <command>",
		Aliases: []string{"vulns", "vulnerability"},
		Short:   "List vulnerabilities found on monitored servers",
	}
	cmd.AddCommand(NewCmdVulnerabilitiesList(f, nil))
	return cmd
}
