// Package playbook implements `tw-cli playbook list|show|validate|run`.
package playbook

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/triage"
)

// NewCmdPlaybook returns the `playbook` command group.
func NewCmdPlaybook(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "playbook <command>",
		Aliases: []string{"playbooks"},
		Short:   "List, check and run auto-triage playbooks",
		Long: `Playbooks are YAML files of named, ordered steps that auto-triage runs on
each new incident of a source with --auto-triage (--playbook NAME, else
"default"). Built-ins: phishing_triage, malware_triage, default. Your own
go in <data-dir>/playbooks/NAME.yaml (or the playbooks_dir setting); one
named like a built-in replaces it.

  name: vip_phishing
  description: Phishing aimed at executives
  steps:
    - name: only-vips
      match: event.entities.recipients.exists(r, r.endsWith("@exec.example.com"))
    - set_severity: critical
    - add_tags: [phishing, vip]
    - extract_indicators: true
    - group: {key: '"vip:" + event.entities.sender', window: 1h}
    - assign: exec-protection
    - suppress: internal sender
      if: event.entities.sender.endsWith("@example.com")
    - notify: [soc-slack, "*"]

Steps: match (a CEL condition; false stops the playbook), set_severity,
add_tags, assign, group (fold into an open incident with the same key
within the window; ends the playbook), suppress (resolve as noise; ends
the playbook), extract_indicators (URLs, domains, IPs, hashes from the
event and the raw body; {raw: false} reads the event only) and notify
(destination names, "*" for all). Any step may have "if:", a CEL
condition that skips just that step when false.

Expressions see event (the normalized event: type, title, severity,
category, source, entities.{sender, recipients, hosts, users, ips, urls,
domains, file_hashes, …}), incident (number, title, severity, status,
source, event_count, owner, tags, indicators) and raw (the JSON body).
Every step's outcome goes on the incident's timeline: 'tw-cli incidents
show'.`,
		Example: `  $ tw-cli playbook list
  $ tw-cli playbook show phishing_triage
  $ tw-cli playbook validate ~/.local/share/tw-cli/playbooks/vip_phishing.yaml
  $ tw-cli playbook run phishing_triage --incident INC-2024-0001`,
	}
	cmd.AddCommand(
		NewCmdList(f, nil),
		NewCmdShow(f, nil),
		NewCmdValidate(f, nil),
		NewCmdRun(f, nil),
	)
	return cmd
}

// catalogFunc loads the playbooks the receiver would use.
func catalogFunc(f *cmdutil.Factory) func() (*triage.Catalog, error) {
	return func() (*triage.Catalog, error) {
		dir, err := f.DataDir()
		if err != nil {
			return nil, err
		}
		cfg, err := f.Config()
		if err != nil {
			return nil, err
		}
		return triage.OpenCatalog(dir, cfg.Get("playbooks_dir"))
	}
}

// completePlaybooks offers playbook names as a command's only argument.
func completePlaybooks(f *cmdutil.Factory) cobra.CompletionFunc {
	return cmdutil.OnlyArg(CompleteNames(f))
}

// CompleteNames offers the names of the playbooks the receiver would use
// (the built-in ones, the data dir's and playbooks_dir's), with their
// descriptions: for a --playbook flag.
func CompleteNames(f *cmdutil.Factory) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		cat, err := catalogFunc(f)()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for _, pb := range cat.List() {
			if strings.HasPrefix(pb.Name, toComplete) {
				out = append(out, pb.Name+"\t"+firstLine(pb.Description))
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

func firstLine(s string) string {
	if i := strings.IndexAny(s, ".\n"); i > 0 {
		return s[:i]
	}
	return s
}

// lookup finds a playbook by name; one whose file did not load is
// reported with the file's problem, not as missing ('playbook list' does
// not show it either).
func lookup(cat *triage.Catalog, name string) (*triage.Playbook, error) {
	if pb, ok := cat.Get(name); ok {
		return pb, nil
	}
	if p := cat.Problem(name); p != nil {
		return nil, fmt.Errorf("playbook %q is invalid: %w; fix it, then check with 'tw-cli playbook validate'", name, p)
	}
	return nil, cmdutil.NotFound("no playbook %q: run 'tw-cli playbook list'", name)
}

func warnProblems(cat *triage.Catalog, w interface{ Write([]byte) (int, error) }) {
	for _, p := range cat.Problems() {
		fmt.Fprintf(w, "warning: playbook left out: %v\n", p)
	}
}
