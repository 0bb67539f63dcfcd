package threatstack

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/output"
	"github.com/tw-cli/tw-cli/pkg/threatstack"
)

// AgentsListOptions are the inputs of `threatstack agents list`.
type AgentsListOptions struct {
	IO     *iostreams.IOStreams
	Client func() (*threatstack.Client, error)
	Now    func() time.Time

	Status string
	List   listFlags
}

// NewCmdAgentsList returns `threatstack agents list`.
func NewCmdAgentsList(f *cmdutil.Factory, runF func(*AgentsListOptions) error) *cobra.Command {
	opts := &AgentsListOptions{IO: f.IOStreams, Now: f.Now}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List agents",
		Long: `List the agents of the organization with the given status (the API
requires one; online by default).

On a terminal the output is a table; when piped it is one tab-separated
line per agent with the columns ID, NAME, HOSTNAME, STATUS, VERSION,
LAST SEEN (RFC 3339), IPS (private then public, comma-separated).`,
		Example: `  $ tw-cli threatstack agents list
  $ tw-cli threatstack agents list --status offline --all -o json | jq -r '.[].hostname'`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.List.validate(cmd); err != nil {
				return err
			}
			if opts.Status != threatstack.AgentOnline && opts.Status != threatstack.AgentOffline {
				return cmdutil.FlagErrorf("invalid --status %q: use online or offline", opts.Status)
			}
			opts.Client = clientFunc(f, cmd)
			if runF != nil {
				return runF(opts)
			}
			return agentsListRun(cmd, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Status, "status", threatstack.AgentOnline, "Agents with this `status`: online or offline")
	_ = cmd.RegisterFlagCompletionFunc("status", cobra.FixedCompletions(
		[]string{threatstack.AgentOnline, threatstack.AgentOffline}, cobra.ShellCompDirectiveNoFileComp))
	opts.List.register(cmd, "agents")
	return cmd
}

func agentsListRun(cmd *cobra.Command, opts *AgentsListOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	now := opts.Now()
	pages := c.AgentPages(cmd.Context(), threatstack.AgentListOptions{Status: opts.Status})
	return printPages(opts.IO, opts.List, pages, listing[threatstack.Agent]{
		Noun:   "agents",
		Header: []string{"ID", "NAME", "HOSTNAME", "STATUS", "VERSION", "LAST SEEN", "IPS"},
		Row: func(a threatstack.Agent, tty bool) []string {
			return []string{a.ID, dash(a.Name), a.Hostname, a.Status, a.Version,
				output.Time(a.LastReportedAt.Time, tty, now), agentIPs(a)}
		},
	})
}
