package threatstack

import (
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/output"
	"github.com/tw-cli/tw-cli/pkg/threatstack"
)

// AlertsListOptions are the inputs of `threatstack alerts list`.
type AlertsListOptions struct {
	IO     *iostreams.IOStreams
	Client func() (*threatstack.Client, error)
	Now    func() time.Time

	Filter   threatstack.AlertListOptions
	Severity string
	From     string
	Until    string
	List     listFlags
}

// NewCmdAlertsList returns `threatstack alerts list`.
func NewCmdAlertsList(f *cmdutil.Factory, runF func(*AlertsListOptions) error) *cobra.Command {
	opts := &AlertsListOptions{IO: f.IOStreams, Now: f.Now}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List alerts",
		Long: `List alerts with the given status (the API requires one; active by
default), optionally narrowed by severity, creation time, rule or agent.

On a terminal the output is a table; when piped it is one tab-separated
line per alert with the columns ID, SEVERITY, STATUS, CREATED (RFC 3339),
AGENT, TITLE.`,
		Example: `  $ tw-cli threatstack alerts list --severity high --from 24h
  $ tw-cli threatstack alerts list --status dismissed --from 2024-01-01 --until 2024-02-01 --all -o json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.List.validate(cmd); err != nil {
				return err
			}
			if s := opts.Filter.Status; s != threatstack.AlertActive && s != threatstack.AlertDismissed {
				return cmdutil.FlagErrorf("invalid --status %q: use active or dismissed", s)
			}
			var err error
			if opts.Filter.Severity, err = parseSeverity(opts.Severity); err != nil {
				return err
			}
			now := opts.Now()
			if opts.Filter.From, err = parseWhen("from", opts.From, now); err != nil {
				return err
			}
			if opts.Filter.Until, err = parseWhen("until", opts.Until, now); err != nil {
				return err
			}
			if !opts.Filter.From.IsZero() && !opts.Filter.Until.IsZero() && opts.Filter.Until.Before(opts.Filter.From) {
				return cmdutil.FlagErrorf("--until is before --from")
			}
			opts.Client = clientFunc(f, cmd)
			if runF != nil {
				return runF(opts)
			}
			return alertsListRun(cmd, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Filter.Status, "status", threatstack.AlertActive, "Alerts with this `status`: active or dismissed")
	fl.StringVar(&opts.Severity, "severity", "", "Only this `severity`: 1 (high), 2 (medium) or 3 (low)")
	fl.StringVar(&opts.From, "from", "", "Created at or after `when` (24h, 7d, 2024-01-15, RFC 3339); --since is the same")
	// --since as incidents, events and logs spell it.
	fl.SetNormalizeFunc(func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		if name == "since" {
			name = "from"
		}
		return pflag.NormalizedName(name)
	})
	fl.StringVar(&opts.Until, "until", "", "Created at or before `when` (24h, 7d, 2024-01-15, RFC 3339)")
	fl.StringVar(&opts.Filter.RuleID, "rule", "", "Only alerts raised by this rule `id`")
	fl.StringVar(&opts.Filter.AgentID, "agent", "", "Only alerts from this agent `id`")
	_ = cmd.RegisterFlagCompletionFunc("status", cobra.FixedCompletions(
		[]string{threatstack.AlertActive, threatstack.AlertDismissed}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("severity", cobra.FixedCompletions(
		[]string{"1\thigh", "2\tmedium", "3\tlow"}, cobra.ShellCompDirectiveNoFileComp))
	opts.List.register(cmd, "alerts")
	return cmd
}

func alertsListRun(cmd *cobra.Command, opts *AlertsListOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	now := opts.Now()
	return printPages(opts.IO, opts.List, c.AlertPages(cmd.Context(), opts.Filter), listing[threatstack.Alert]{
		Noun:   "alerts",
		Header: []string{"ID", "SEVERITY", "STATUS", "CREATED", "AGENT", "TITLE"},
		Row: func(a threatstack.Alert, tty bool) []string {
			return []string{a.ID, severityCell(a.Severity), alertStatus(a),
				output.Time(a.CreatedAt.Time, tty, now), dash(a.AgentID), a.Title}
		},
	})
}
