// Package incidents implements `tw-cli incidents list|show|ack|resolve|reopen|assign|comment`.
package incidents

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/output"
	"github.com/tw-cli/tw-cli/internal/receiver"
	"github.com/tw-cli/tw-cli/internal/store"
)

// NewCmdIncidents returns the `incidents` command group.
func NewCmdIncidents(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "incidents <command>",
		Aliases: []string{"incident"},
		Short:   "List and work on incidents made from deliveries",
		Long: `List and work on incidents made from deliveries: in this machine's store,
or with --server/TW_SERVER (and --token/TW_TOKEN) on a remote receiver
through its admin API, which applies the same rules and signs timeline
entries with your user and the token's name.`,
	}
	cmd.AddCommand(
		NewCmdList(f, nil),
		NewCmdShow(f, nil),
		newCmdSetStatus(f, "ack", store.StatusAcknowledged, "Acknowledge an incident"),
		newCmdSetStatus(f, "resolve", store.StatusResolved, "Resolve an incident"),
		newCmdSetStatus(f, "reopen", store.StatusOpen, "Reopen a resolved or acknowledged incident"),
		NewCmdAssign(f, nil),
		NewCmdComment(f, nil),
	)
	return cmd
}

// ListOptions are the inputs of `incidents list`.
type ListOptions struct {
	IO     *iostreams.IOStreams
	Reader func() (reader, error)
	Now    func() time.Time
	Filter store.IncidentFilter
	Since  string
	Output string
}

// NewCmdList returns `incidents list`.
func NewCmdList(f *cmdutil.Factory, runF func(*ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IOStreams, Reader: readerFor(f), Now: f.Now}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List incidents, newest first",
		Example: `  $ tw-cli incidents list --limit 10
  $ tw-cli incidents list --owner alice --status open
  $ tw-cli incidents list --source email-gateway --since 24h -o json
  $ tw-cli incidents list --server https://receiver.example.com --token "$TW_TOKEN"`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Filter.Limit < 1 {
				return cmdutil.FlagErrorf("--limit must be at least 1")
			}
			since, err := cmdutil.ParseSince(opts.Since, opts.Now())
			if err != nil {
				return err
			}
			opts.Filter.Since = since
			switch opts.Filter.Status {
			case "", store.StatusOpen, store.StatusAcknowledged, store.StatusResolved:
			default:
				return cmdutil.FlagErrorf("invalid --status %q: use open, acknowledged or resolved", opts.Filter.Status)
			}
			if runF != nil {
				return runF(opts)
			}
			return listRun(cmd, opts)
		},
	}
	fl := cmd.Flags()
	fl.IntVarP(&opts.Filter.Limit, "limit", "L", 30, "Maximum number of incidents")
	fl.StringVar(&opts.Filter.Source, "source", "", "Only incidents from this `source`")
	_ = cmd.RegisterFlagCompletionFunc("source", cmdutil.CompleteSourceNames(f))
	fl.StringVar(&opts.Filter.Status, "status", "", "Only incidents in this `status`: open, acknowledged, resolved")
	fl.StringVar(&opts.Since, "since", "", "Only incidents created since `when` (24h, 7d, 2024-01-15 as UTC midnight, RFC 3339)")
	fl.StringVar(&opts.Filter.Owner, "owner", "", "Only incidents assigned to this `owner`")
	output.AddFormatFlag(cmd, &opts.Output)
	_ = cmd.RegisterFlagCompletionFunc("status", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{store.StatusOpen, store.StatusAcknowledged, store.StatusResolved}, cobra.ShellCompDirectiveNoFileComp
	})
	return cmd
}

func listRun(cmd *cobra.Command, opts *ListOptions) error {
	s, err := opts.Reader()
	if err != nil {
		return err
	}
	incs, err := s.ListIncidents(cmd.Context(), opts.Filter)
	if err != nil {
		return err
	}
	if len(incs) == 0 && opts.Output == output.Table && opts.IO.IsStdoutTTY() {
		fmt.Fprintln(opts.IO.ErrOut, "No incidents match.")
		return nil
	}
	rows := make([]Listed, len(incs))
	for i, inc := range incs {
		rows[i] = Listed{Incident: inc, Tags: inc.Tags}
		if rows[i].Tags == nil {
			rows[i].Tags = []string{}
		}
	}
	now := opts.Now()
	// OWNER comes last so the piped columns before it keep their place
	// for `cut -f`.
	return output.Print(opts.IO, opts.Output, rows, func(t *output.TablePrinter) {
		t.Header("NUMBER", "SEVERITY", "STATUS", "SOURCE", "TITLE", "EVENTS", "CREATED", "OWNER")
		for _, i := range incs {
			t.Row(i.Number, i.Severity, i.Status, i.Source, i.Title, strconv.Itoa(i.EventCount), output.Time(i.CreatedAt, t.IsTTY(), now), orDash(i.Owner))
		}
	})
}

// Listed is an incident as `incidents list -o json` prints it: the
// incident fields of `incidents show -o json`, owner and tags included
// (tags always a list), without indicators, timeline or jobs.
type Listed struct {
	store.Incident
	Tags []string `json:"tags"`
}

// ShowOptions are the inputs of `incidents show`.
type ShowOptions struct {
	IO     *iostreams.IOStreams
	Reader func() (reader, error)
	Now    func() time.Time
	ID     string
	Output string
}

// NewCmdShow returns `incidents show`.
func NewCmdShow(f *cmdutil.Factory, runF func(*ShowOptions) error) *cobra.Command {
	opts := &ShowOptions{IO: f.IOStreams, Reader: readerFor(f), Now: f.Now}
	cmd := &cobra.Command{
		Use:               "show <number|id>",
		Aliases:           []string{"view", "get"},
		Short:             "Show one incident",
		Example:           `  $ tw-cli incidents show INC-2024-0001`,
		Args:              cmdutil.ExactArgs(1, "incident number or id"),
		ValidArgsFunction: completeIncidents(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			if runF != nil {
				return runF(opts)
			}
			return showRun(cmd, opts)
		},
	}
	output.AddFormatFlag(cmd, &opts.Output)
	return cmd
}

func showRun(cmd *cobra.Command, opts *ShowOptions) error {
	s, err := opts.Reader()
	if err != nil {
		return err
	}
	view, err := s.IncidentDetail(cmd.Context(), opts.ID)
	if err != nil {
		return notFound(err, opts.ID)
	}
	inc := &view.Incident
	now := opts.Now()
	return output.Print(opts.IO, opts.Output, view, func(t *output.TablePrinter) {
		tty := t.IsTTY()
		t.Header("FIELD", "VALUE")
		t.Row("number", inc.Number)
		t.Row("id", inc.ID)
		t.Row("title", inc.Title)
		t.Row("severity", inc.Severity)
		t.Row("status", inc.Status)
		t.Row("source", inc.Source)
		if inc.Category != "" {
			t.Row("category", inc.Category)
		}
		t.Row("events", strconv.Itoa(inc.EventCount))
		t.Row("created", output.Time(inc.CreatedAt, tty, now))
		t.Row("updated", output.Time(inc.UpdatedAt, tty, now))
		triageRows(view, t, now)
	})
}

func notFound(err error, id string) error {
	if errors.Is(err, store.ErrNotFound) {
		return cmdutil.NotFound("no incident %q: run 'tw-cli incidents list'", id)
	}
	return err
}

func newCmdSetStatus(f *cmdutil.Factory, verb, status, short string) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   verb + " <number|id>",
		Short: short,
		Example: "  $ tw-cli incidents " + verb + " INC-2024-0001\n" +
			"  $ tw-cli incidents " + verb + " INC-2024-0001 -o json\n" +
			"  $ tw-cli incidents " + verb + " INC-2024-0001 --server https://receiver.example.com --token \"$TW_TOKEN\"",
		Args:              cmdutil.ExactArgs(1, "incident number or id"),
		ValidArgsFunction: completeIncidents(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			ed, err := editorFor(f)()
			if err != nil {
				return err
			}
			res, err := ed.SetStatus(cmd.Context(), args[0], status, cmdutil.CurrentUser())
			if err != nil {
				return editError(err, args[0])
			}
			if !res.Changed {
				// Said again, it changes nothing and adds no timeline entry.
				return printEdited(f.IOStreams, format, res, unchanged(res))
			}
			return printEdited(f.IOStreams, format, res, fmt.Sprintf("✓ %s is now %s", res.Incident.Number, res.Incident.Status))
		},
	}
	output.AddFormatFlag(cmd, &format)
	return cmd
}

// printEdited reports an incident a verb worked on: with -o json or
// yaml, the incident as `incidents show` prints it, to stdout; else the
// human line, to stderr.
func printEdited(ios *iostreams.IOStreams, format string, res *receiver.IncidentEdited, human string) error {
	if format != output.JSON && format != output.YAML {
		_, err := fmt.Fprintln(ios.ErrOut, human)
		return err
	}
	return output.Print(ios, format, res.Incident, nil)
}

// unchanged is what a verb says when its edit changed nothing: the
// store's sentence, which names the incident (a receiver of the first
// version with remote edits left the number out of assign's).
func unchanged(res *receiver.IncidentEdited) string {
	if strings.HasPrefix(res.Message, res.Incident.Number) {
		return res.Message
	}
	return res.Incident.Number + " " + res.Message
}

// editError maps an edit's errors: a missing incident exits 4, a value
// refused 2, an edit the incident's state refuses 1 with its reason.
func editError(err error, id string) error {
	var (
		refused *store.EditRefused
		invalid *store.InvalidEdit
	)
	switch {
	case errors.As(err, &refused):
		return errors.New(refused.Msg)
	case errors.As(err, &invalid):
		return cmdutil.FlagErrorf("%s", invalid.Msg)
	}
	return notFound(err, id)
}

// completeIncidents offers incident numbers as a command's only
// argument (see CompleteNumbers).
func completeIncidents(f *cmdutil.Factory) cobra.CompletionFunc {
	return cmdutil.OnlyArg(CompleteNumbers(f))
}

// CompleteNumbers offers the numbers of the newest incidents with their
// titles, from where the command works: the remote receiver when
// --server is set (for at most completionTimeout: a receiver that does not
// answer must not freeze the shell), else the local database, only if it
// exists at this build's schema (see cmdutil.ExistingStore): Tab must not
// create or migrate it.
func CompleteNumbers(f *cmdutil.Factory) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		ctx, cancel := context.WithTimeout(cmd.Context(), cmdutil.CompletionTimeout)
		defer cancel()
		if f.Remote != nil {
			if r, err := f.Remote(); err != nil || r != nil {
				return completeFrom(ctx, readerFor(f), toComplete)
			}
		}
		s, err := cmdutil.ExistingStore(ctx, f)
		if err != nil || s == nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		defer s.Close()
		return completeFrom(ctx, func() (reader, error) { return localReader{s}, nil }, toComplete)
	}
}

func completeFrom(ctx context.Context, open func() (reader, error), toComplete string) ([]string, cobra.ShellCompDirective) {
	s, err := open()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	incs, err := s.ListIncidents(ctx, store.IncidentFilter{Limit: 50})
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	upper := strings.ToUpper(toComplete)
	for _, i := range incs {
		if strings.HasPrefix(i.Number, upper) {
			// In the case typed: bash and zsh drop a candidate that
			// does not begin with the word as it is (inc-… matches too).
			out = append(out, toComplete+i.Number[len(upper):]+"\t"+output.Printable(i.Title))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
