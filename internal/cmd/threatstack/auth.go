package threatstack

import (
	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
)

// NewCmdAuth returns the `threatstack auth` group.
func NewCmdAuth(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "auth <command>",
		Short: "Check Threat Stack credentials",
	}
	cmd.AddCommand(NewCmdAuthCheck(f, nil))
	return cmd
}
