package threatstack

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/output"
	"github.com/tw-cli/tw-cli/pkg/threatstack"
)

// NewCmdAgentsGet returns `threatstack agents get`.
func NewCmdAgentsGet(f *cmdutil.Factory, runF func(*GetOptions) error) *cobra.Command {
	return newCmdGet(f, getSpec[*threatstack.Agent]{
		noun:    "agent",
		example: `  $ tw-cli threatstack agents get 4a1f… -o yaml`,
		fetch: func(ctx context.Context, c *threatstack.Client, id string) (*threatstack.Agent, error) {
			return c.GetAgent(ctx, id)
		},
		rows: func(t *output.TablePrinter, a *threatstack.Agent, tty bool, now time.Time) {
			t.Row("id", a.ID)
			t.Row("name", dash(a.Name))
			t.Row("hostname", a.Hostname)
			t.Row("status", a.Status)
			t.Row("version", a.Version)
			t.Row("agent_type", dash(a.AgentType))
			t.Row("os", dash(a.OSVersion))
			t.Row("kernel", dash(a.Kernel))
			t.Row("instance_id", dash(a.InstanceID))
			t.Row("healthy", yesNoUnknown(a.AgentModuleHealth.IsHealthy))
			t.Row("private_ips", dash(strings.Join(a.IPAddresses.Private, ",")))
			t.Row("public_ips", dash(strings.Join(a.IPAddresses.Public, ",")))
			t.Row("tags", dash(formatTags(a.Tags)))
			t.Row("created", output.Time(a.CreatedAt.Time, tty, now))
			t.Row("last_seen", output.Time(a.LastReportedAt.Time, tty, now))
		},
	}, runF)
}

func formatTags(tags []threatstack.Tag) string {
	parts := make([]string, len(tags))
	for i, t := range tags {
		parts[i] = t.Key + "=" + t.Value
	}
	return strings.Join(parts, ",")
}
