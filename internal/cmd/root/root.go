// Package root assembles tw-cli's command tree.
package root

import (
	"fmt"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	canarycmd "github.com/tw-cli/tw-cli/internal/cmd/canary"
	"github.com/tw-cli/tw-cli/internal/cmd/completion"
	configcmd "github.com/tw-cli/tw-cli/internal/cmd/config"
	"github.com/tw-cli/tw-cli/internal/cmd/db"
	"github.com/tw-cli/tw-cli/internal/cmd/destination"
	"github.com/tw-cli/tw-cli/internal/cmd/events"
	"github.com/tw-cli/tw-cli/internal/cmd/incidents"
	logscmd "github.com/tw-cli/tw-cli/internal/cmd/logs"
	"github.com/tw-cli/tw-cli/internal/cmd/playbook"
	"github.com/tw-cli/tw-cli/internal/cmd/serve"
	threatstackcmd "github.com/tw-cli/tw-cli/internal/cmd/threatstack"
	"github.com/tw-cli/tw-cli/internal/cmd/token"
	versioncmd "github.com/tw-cli/tw-cli/internal/cmd/version"
	"github.com/tw-cli/tw-cli/internal/cmd/webhook"
	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/output"
)

// BuildInfo is stamped into the binary with -ldflags.
type BuildInfo struct {
	Version, Commit, Date string
}

// Command groups shown in help.
const (
	groupReceiver     = "receiver"
	groupIntegrations = "integrations"
	groupSetup        = "setup"
)

// NewCmdRoot returns the root command with every subcommand attached.
func NewCmdRoot(f *cmdutil.Factory, info BuildInfo) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tw-cli <command> <subcommand> [flags]",
		Short: "Manage webhook integrations between security tools",
		Long: `tw-cli registers webhook sources, receives and verifies their signed
deliveries, turns them into incidents, and drives the webhook settings of
Threat Stack and Thinkst Canary.

` + cmdutil.ExitCodeHelp + `

Environment:
  TW_DATA_DIR       where the local database and logs live
  TW_SERVER, TW_TOKEN  manage sources on a remote receiver
  TW_DATABASE_URL   postgres://… to share one database among receivers
  TW_CONFIG_DIR     where config.yaml lives (default ~/.config/tw-cli)`,
		Example: `  # Register a source and start the receiver
  $ tw-cli webhook add email-gateway --secret "$SECRET" --auto-triage --playbook phishing_triage
  $ tw-cli serve --addr 127.0.0.1:8080

  # Send a signed test event and look at what it produced
  $ tw-cli webhook test email-gateway
  $ tw-cli incidents list
  $ tw-cli logs --filter webhook --tail 100`,
		Version:       info.Version,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	cmd.SetVersionTemplate(versioncmd.Format(info.Version, info.Commit, info.Date) + "\n")
	cmd.CompletionOptions.DisableDefaultCmd = true
	cmd.SetFlagErrorFunc(cmdutil.WrapFlagError)

	pf := cmd.PersistentFlags()
	pf.String("data-dir", "", "Directory of the local database and logs (env TW_DATA_DIR)")
	pf.String("server", "", "Manage sources on a remote tw-cli receiver at this URL (env TW_SERVER)")
	pf.String("token", "", "Admin API token for --server (env TW_TOKEN)")
	pf.String("database-url", "", "Store URL; empty for the embedded SQLite database (env TW_DATABASE_URL)")
	pf.Bool("debug", false, "Log HTTP requests and responses to stderr, secrets redacted")
	pf.String("jq", "", "Filter JSON output with a jq `expression` (implies -o json)")
	pf.String("profile", "", "Use this `profile` of the config file for vendor credentials (env TW_PROFILE)")
	_ = cmd.RegisterFlagCompletionFunc("profile", completeProfiles(f))
	cmd.PersistentPreRunE = func(c *cobra.Command, args []string) error {
		if c.Name() == cobra.ShellCompRequestCmd || c.Name() == cobra.ShellCompNoDescRequestCmd {
			// Completing: a TW_PROFILE naming a missing profile must not
			// take away the completion of --profile that would mend it.
			return nil
		}
		if topGroup(c).Name() != "serve" {
			collectLessOften()
		}
		if err := checkServerFlag(c, f); err != nil {
			return err
		}
		if err := checkProfile(c, f); err != nil {
			return err
		}
		return setupJQ(c, f)
	}

	titles := map[string]string{
		groupReceiver:     "Webhook receiver:",
		groupIntegrations: "Vendor integrations:",
		groupSetup:        "Setup:",
	}
	add := func(group string, cmds ...*cobra.Command) {
		if !cmd.ContainsGroup(group) {
			cmd.AddGroup(&cobra.Group{ID: group, Title: titles[group]})
		}
		for _, c := range cmds {
			c.GroupID = group
			cmd.AddCommand(c)
		}
	}
	add(groupReceiver,
		webhook.NewCmdWebhook(f),
		serve.NewCmdServe(f, nil),
		incidents.NewCmdIncidents(f),
		playbook.NewCmdPlaybook(f),
		destination.NewCmdDestination(f),
		events.NewCmdEvents(f),
		logscmd.NewCmdLogs(f, nil),
		token.NewCmdToken(f),
	)
	add(groupIntegrations, threatstackcmd.NewCmdThreatstack(f))
	add(groupIntegrations, canarycmd.NewCmdCanary(f))
	add(groupSetup,
		configcmd.NewCmdConfig(f),
		db.NewCmdDB(f),
		completion.NewCmdCompletion(f),
		versioncmd.NewCmdVersion(f, info.Version, info.Commit, info.Date),
	)
	cmd.SetHelpCommand(newCmdHelp())
	cmd.SetHelpCommandGroupID(groupSetup)
	finishTree(cmd)
	return cmd
}

// newCmdHelp is cobra's help command, except that an unknown topic is a
// usage error (exit 2): cobra's printed "Unknown help topic" and exited 0.
func newCmdHelp() *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		Long:  "Help provides help for any command in the application.\nSimply type tw-cli help [path to command] for full details.",
		ValidArgsFunction: func(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			target, _, err := c.Root().Find(args)
			if err != nil || target == nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var out []cobra.Completion
			for _, sub := range target.Commands() {
				if sub.IsAvailableCommand() && strings.HasPrefix(sub.Name(), toComplete) {
					out = append(out, cobra.CompletionWithDesc(sub.Name(), sub.Short))
				}
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(c *cobra.Command, args []string) error {
			target, rest, err := c.Root().Find(args)
			if err != nil || target == nil || len(rest) > 0 {
				return cmdutil.FlagErrorf("unknown help topic %q: run 'tw-cli --help' for the commands", strings.Join(args, " "))
			}
			target.InitDefaultHelpFlag()
			target.InitDefaultVersionFlag()
			return target.Help()
		},
	}
}

// checkProfile rejects an unknown --profile/TW_PROFILE up front, except in
// `config`, whose commands create profiles. It reads the config file only
// when a profile is named.
func checkProfile(c *cobra.Command, f *cmdutil.Factory) error {
	named, _ := c.Flags().GetString("profile")
	if named == "" && os.Getenv("TW_PROFILE") == "" {
		return nil
	}
	// The config verbs that create a profile may name one that does not
	// exist yet; get, list and unset would only print an empty value for
	// a misspelt one.
	if group := topGroup(c); group.Name() == "config" && c.Parent() == group {
		switch c.Name() {
		case "set", "init", "import", "profiles", "path":
			// These create the profile, or do not use it at all.
			return nil
		}
	}
	cfg, err := f.Config()
	if err != nil {
		return err
	}
	if err := cfg.CheckProfile(); err != nil {
		return cmdutil.FlagErrorf("%s", err)
	}
	return nil
}

// completeProfiles offers the profiles of the config file.
func completeProfiles(f *cmdutil.Factory) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		cfg, err := f.Config()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return cfg.Profiles(), cobra.ShellCompDirectiveNoFileComp
	}
}

// setupJQ applies --jq: it turns on JSON output and filters stdout. It is
// cheap when the flag is unset, since it also runs for shell completion.
func setupJQ(c *cobra.Command, f *cmdutil.Factory) error {
	expr, _ := c.Flags().GetString("jq")
	if expr == "" {
		return nil
	}
	out := c.Flags().Lookup("output")
	if out == nil {
		return cmdutil.FlagErrorf("--jq needs a command that prints JSON; %q has no -o/--output", c.CommandPath())
	}
	if !out.Changed {
		if err := out.Value.Set(output.JSON); err != nil {
			return err
		}
	} else if out.Value.String() != output.JSON {
		return cmdutil.FlagErrorf("--jq filters JSON: drop -o %s or use -o json", out.Value.String())
	}
	jq, err := output.CompileJQ(expr)
	if err != nil {
		return cmdutil.FlagErrorf("%s", err)
	}
	jq.Terminal = f.IOStreams.IsStdoutTTY()
	f.IOStreams.SetOutputFilter(jq.Apply)
	return nil
}

// topGroup is the top-level command c belongs to ("incidents" for
// "tw-cli incidents list"), or the root itself.
func topGroup(c *cobra.Command) *cobra.Command {
	for c.HasParent() && c.Parent().HasParent() {
		c = c.Parent()
	}
	return c
}

// readsRemote reports whether a command works against a remote receiver
// (--server): the webhook and incidents commands, and reading (and
// replaying) events.
func readsRemote(group, verb string) bool {
	switch group {
	case "webhook", "incidents":
		return true
	case "events":
		return verb == "list" || verb == "show" || verb == "replay"
	}
	return false
}

// checkServerFlag refuses --server and --token outside the commands a
// remote receiver serves (readsRemote): elsewhere they were ignored, and
// 'destination list --server URL' printed the local list as if it were
// the remote one.
func checkServerFlag(c *cobra.Command, f *cmdutil.Factory) error {
	group := topGroup(c)
	if readsRemote(group.Name(), c.Name()) {
		// A --token without a receiver to send it to: the command would
		// act on this machine's store, which a user who forgot --server
		// did not mean ('webhook remove prod --token …').
		if fl := c.InheritedFlags().Lookup("token"); fl != nil && fl.Changed && f.Config != nil {
			if cfg, err := f.Config(); err == nil && cfg.Get("server") == "" {
				return cmdutil.FlagErrorf("--token is for a remote receiver: add --server URL (or set TW_SERVER); without it '%s' acts on this machine's store", c.CommandPath())
			}
		}
		return nil
	}
	for _, name := range []string{"server", "token"} {
		// The root's flags only: 'canary webhooks add splunk' has a
		// --token of its own (the HEC token).
		if fl := c.InheritedFlags().Lookup(name); fl != nil && fl.Changed {
			return cmdutil.FlagErrorf("--%s applies only to the commands a remote receiver serves ('tw-cli webhook', 'incidents', 'events list|show|replay'); '%s' does not use it", name, c.CommandPath())
		}
	}
	// TW_SERVER (or server in the config file) set for everything is not
	// an error, but these commands read this machine's store: say so, so
	// local incidents are not taken for the receiver's.
	readsStore := false
	switch group.Name() {
	case "incidents", "events", "destination", "logs", "token", "db":
		readsStore = true
	case "playbook":
		readsStore = c.Name() == "run" // list, show and validate read files
	}
	if readsStore && f.Config != nil {
		// With a database URL the store is shared with the receivers
		// (PostgreSQL): then local is the receiver's data, and no note.
		if cfg, err := f.Config(); err == nil && cfg.Get("server") != "" && cfg.Get("database_url") == "" {
			fmt.Fprintf(f.IOStreams.ErrOut, "Note: '%s' reads this machine's store; the remote receiver set by TW_SERVER or the config file serves 'tw-cli webhook', 'incidents' and reading events.\n", c.CommandPath())
		}
	}
	return nil
}

// finishTree sets what every command shares: groups reject unknown
// subcommands, and "no file names" is the default completion since almost
// no argument is a file.
func finishTree(cmd *cobra.Command) {
	if cmd.HasSubCommands() && cmd.Run == nil && cmd.RunE == nil && cmd.HasParent() {
		cmd.Args = cobra.ArbitraryArgs
		cmd.RunE = cmdutil.RunGroup
	}
	if cmd.ValidArgsFunction == nil && len(cmd.ValidArgs) == 0 {
		cmd.ValidArgsFunction = cobra.NoFileCompletions
	}
	for _, c := range cmd.Commands() {
		finishTree(c)
	}
}

// shortRunGCPercent is the collector's GOGC for commands other than serve.
const shortRunGCPercent = 200

// collectLessOften lets the heap grow to three times what is live before
// collecting, instead of twice: a command that runs for milliseconds then
// ends before its first cycle, which cost `webhook list` (1,000 sources)
// about a tenth of its CPU, while one that holds much (logs -n 0) or runs
// long (logs -f) still collects, in memory bounded by what it holds. Off,
// or under a memory limit, either grew without bound or collected back to
// back. serve tunes its own (tuneGC); GOGC in the environment wins.
func collectLessOften() {
	if os.Getenv("GOGC") != "" {
		return
	}
	debug.SetGCPercent(shortRunGCPercent)
}
