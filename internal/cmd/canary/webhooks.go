package canary

import (
	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
)

// NewCmdWebhooks returns the `canary webhooks` group.
func NewCmdWebhooks(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "webhooks <command>",
		Aliases: []string{"webhook"},
		Short:   "Show and change a flock's webhooks",
		Long: `Show and change the webhooks of one flock (--flock, default flock:default):
whether they are enabled or follow the console's global setting, and the
generic, MS Teams, Slack and Splunk webhooks the console sends alerts to.`,
		Example: `  $ tw-cli canary webhooks status
  $ tw-cli canary webhooks list --kind generic -o json
  $ tw-cli canary webhooks add ms-teams "$TEAMS_URL"
  $ tw-cli canary webhooks test generic https://hooks.example.com/canary`,
	}
	cmd.AddCommand(
		NewCmdStatus(f, nil),
		NewCmdEnable(f, nil),
		NewCmdDisable(f, nil),
		NewCmdUseGlobal(f, nil),
		NewCmdList(f, nil),
		NewCmdAdd(f),
		NewCmdRemove(f),
		NewCmdTest(f),
	)
	return cmd
}
