package threatstack

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/pkg/threatstack"
)

// NewCmdAgents returns the `threatstack agents` group.
func NewCmdAgents(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "agents <command>",
		Aliases: []string{"agent"},
		Short:   "List and inspect Threat Stack agents (monitored hosts)",
	}
	cmd.AddCommand(NewCmdAgentsList(f, nil), NewCmdAgentsGet(f, nil))
	return cmd
}

// agentIPs joins an agent's private then public addresses, the ones an
// analyst greps for; link-local addresses are left to -o json.
func agentIPs(a threatstack.Agent) string {
	ips := append(append([]string{}, a.IPAddresses.Private...), a.IPAddresses.Public...)
	return strings.Join(ips, ",")
}
