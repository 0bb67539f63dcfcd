package threatstack

import (
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/output"
	"github.com/tw-cli/tw-cli/pkg/threatstack"
)

// AgentsGetOptions are the inputs of `threatstack agents get`.
type AgentsGetOptions struct {
	IO     *iostreams.IOStreams
	Client func() (*threatstack.Client, error)
	Now    func() time.Time

	ID     string
	Output string
}

// NewCmdAgentsGet returns `threatstack agents get`.
func NewCmdAgentsGet(f *cmdutil.Factory, runF func(*AgentsGetOptions) error) *cobra.Command {
	opts := &AgentsGetOptions{IO: f.IOStreams, Now: f.Now}
	cmd := &cobra.Command{
		Use:     "get <agent-id>",
		Aliases: []string{"show", "view"},
		Short:   "Show one agent",
		Example: `  $ tw-cli threatstack agents get 4a1f… -o yaml`,
		Args:    cmdutil.ExactArgs(1, "agent id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			if err := output.ValidateFormat(opts.Output); err != nil {
				return cmdutil.FlagErrorf("%s", err)
			}
			opts.Client = clientFunc(f, cmd)
			if runF != nil {
				return runF(opts)
			}
			return agentsGetRun(cmd, opts)
		},
	}
	output.AddFormatFlag(cmd, &opts.Output)
	return cmd
}

func agentsGetRun(cmd *cobra.Command, opts *AgentsGetOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	a, err := c.GetAgent(cmd.Context(), opts.ID)
	if err != nil {
		return apiError(err)
	}
	now := opts.Now()
	return output.Print(opts.IO, opts.Output, a, func(t *output.TablePrinter) {
		tty := t.IsTTY()
		t.Header("FIELD", "VALUE")
		t.Row("id", a.ID)
		t.Row("name", dash(a.Name))
		t.Row("hostname", a.Hostname)
		t.Row("status", a.Status)
		t.Row("version", a.Version)
		t.Row("agent_type", dash(a.AgentType))
		t.Row("os", dash(a.OSVersion))
		t.Row("kernel", dash(a.Kernel))
		t.Row("instance_id", dash(a.InstanceID))
		t.Row("healthy", yesNo(a.AgentModuleHealth.IsHealthy))
		t.Row("private_ips", dash(strings.Join(a.IPAddresses.Private, ",")))
		t.Row("public_ips", dash(strings.Join(a.IPAddresses.Public, ",")))
		t.Row("tags", dash(formatTags(a.Tags)))
		t.Row("created", output.Time(a.CreatedAt.Time, tty, now))
		t.Row("last_seen", output.Time(a.LastReportedAt.Time, tty, now))
	})
}

func formatTags(tags []threatstack.Tag) string {
	parts := make([]string, len(tags))
	for i, t := range tags {
		parts[i] = t.Key + "=" + t.Value
	}
	return strings.Join(parts, ",")
}
