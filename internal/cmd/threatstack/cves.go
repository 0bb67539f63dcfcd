package threatstack

import (
	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
)

// NewCmdCVEs returns the `threatstack cves` group.
func NewCmdCVEs(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "cves <command>",
		Aliases: []string{"cve"},
		Short:   "Look up one CVE across the organization",
	}
	cmd.AddCommand(NewCmdCVEsGet(f, nil))
	return cmd
}
