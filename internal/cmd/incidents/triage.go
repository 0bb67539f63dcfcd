package incidents

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/output"
	"github.com/tw-cli/tw-cli/internal/receiver"
	"github.com/tw-cli/tw-cli/internal/store"
)

// Detail is an incident as `incidents show` prints it.
type Detail = store.IncidentDetail

// triageRows adds owner, tags, indicators, jobs and the timeline to the
// FIELD/VALUE table, one timeline entry per row so it stays greppable.
func triageRows(d *Detail, t *output.TablePrinter, now time.Time) {
	tty := t.IsTTY()
	t.Row("owner", orDash(d.Owner))
	t.Row("tags", orDash(strings.Join(d.Tags, ", ")))
	for _, ind := range []struct {
		name string
		vals []string
	}{{"urls", d.Indicators.URLs}, {"domains", d.Indicators.Domains}, {"ips", d.Indicators.IPs}, {"hashes", d.Indicators.Hashes}} {
		if len(ind.vals) > 0 {
			t.Row("indicators."+ind.name, strings.Join(ind.vals, ", "))
		}
	}
	if d.MergedInto != "" {
		t.Row("merged_into", d.MergedInto)
	}
	if d.Suppressed {
		t.Row("suppressed", d.SuppressReason)
	}
	for _, j := range d.TriageJobs {
		line := fmt.Sprintf("%s %s %s%s, %s", j.ID, j.Playbook, j.Status, jobStep(j), attemptCount(j.Attempts))
		if j.LastError != "" && j.Status != store.JobDone {
			line += ": " + j.LastError
		}
		t.Row("triage_job", line)
	}
	for _, e := range d.Timeline {
		what := e.Kind
		if e.Step != "" {
			what = e.Step
		}
		if e.Outcome != "" {
			what += " " + e.Outcome
		}
		t.Row("timeline", fmt.Sprintf("%s  %s  %s: %s", output.Time(e.At, tty, now), e.Actor, what, e.Message))
	}
}

// jobStep says where a job stands in words: Step is the index of the
// next step to run, which for a finished job is past the last one (or
// the whole playbook's length, when a step stopped it early), with the
// step's name when the job recorded it.
func jobStep(j store.TriageJob) string {
	step := fmt.Sprint(j.Step + 1)
	if j.StepName != "" {
		step += " (" + j.StepName + ")"
	}
	switch j.Status {
	case store.JobDone:
		return ""
	case store.JobFailed:
		return " at step " + step
	}
	return ", next step " + step
}

func attemptCount(n int) string {
	if n == 1 {
		return "1 attempt"
	}
	return fmt.Sprintf("%d attempts", n)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// AssignOptions are the inputs of `incidents assign`.
type AssignOptions struct {
	IO *iostreams.IOStreams
	// Edit opens the local store, or the remote receiver with --server.
	Edit  func() (editor, error)
	User  func() string
	ID    string
	Owner string
	// Output is -o: json and yaml print the incident as `show` does.
	Output string
}

// NewCmdAssign returns `incidents assign`.
func NewCmdAssign(f *cmdutil.Factory, runF func(*AssignOptions) error) *cobra.Command {
	opts := &AssignOptions{IO: f.IOStreams, Edit: editorFor(f), User: cmdutil.CurrentUser}
	cmd := &cobra.Command{
		Use:   "assign <number|id> <owner>",
		Short: "Set an incident's owner (\"\" to clear it)",
		Example: `  $ tw-cli incidents assign INC-2024-0001 alice
  $ tw-cli incidents assign INC-2024-0001 ""
  $ tw-cli incidents assign INC-2024-0001 alice -o json`,
		Args:              namedArgs("incident number or id", "owner"),
		ValidArgsFunction: completeIncidents(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID, opts.Owner = args[0], strings.TrimSpace(args[1])
			if runF != nil {
				return runF(opts)
			}
			return assignRun(cmd.Context(), opts)
		},
	}
	output.AddFormatFlag(cmd, &opts.Output)
	return cmd
}

func assignRun(ctx context.Context, opts *AssignOptions) error {
	ed, err := opts.Edit()
	if err != nil {
		return err
	}
	res, err := ed.Assign(ctx, opts.ID, opts.Owner, opts.User())
	if err != nil {
		return editError(err, opts.ID)
	}
	if !res.Changed {
		return printEdited(opts.IO, opts.Output, res, unchanged(res))
	}
	return printEdited(opts.IO, opts.Output, res, "✓ "+res.Incident.Number+" "+res.Message)
}

// maxCommentBytes bounds a comment, as the admin API does.
const maxCommentBytes = receiver.MaxCommentBytes

// CommentOptions are the inputs of `incidents comment`.
type CommentOptions struct {
	IO *iostreams.IOStreams
	// Edit opens the local store, or the remote receiver with --server.
	Edit func() (editor, error)
	User func() string
	ID   string
	Body string
	// Output is -o: json and yaml print the incident as `show` does.
	Output string
}

// NewCmdComment returns `incidents comment`.
func NewCmdComment(f *cmdutil.Factory, runF func(*CommentOptions) error) *cobra.Command {
	opts := &CommentOptions{IO: f.IOStreams, Edit: editorFor(f), User: cmdutil.CurrentUser}
	cmd := &cobra.Command{
		Use:   "comment <number|id> <text>",
		Short: "Add a comment to an incident's timeline",
		Example: `  $ tw-cli incidents comment INC-2024-0001 "Sender blocked at the gateway"
  $ git log -1 --format=%B | tw-cli incidents comment INC-2024-0001 -`,
		Args:              namedArgs("incident number or id", "comment text (- reads stdin)"),
		ValidArgsFunction: completeIncidents(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID, opts.Body = args[0], args[1]
			if opts.Body == "-" {
				b, err := io.ReadAll(io.LimitReader(opts.IO.In, maxCommentBytes+1))
				if err != nil {
					return err
				}
				opts.Body = string(b)
			}
			// Refused rather than cut: a cut comment loses its end unseen.
			if len(opts.Body) > maxCommentBytes {
				return cmdutil.FlagErrorf("comment too long: at most %d KiB (attach long text elsewhere and link to it)", maxCommentBytes>>10)
			}
			opts.Body = strings.TrimSpace(opts.Body)
			if opts.Body == "" {
				return cmdutil.FlagErrorf("empty comment")
			}
			if runF != nil {
				return runF(opts)
			}
			return commentRun(cmd.Context(), opts)
		},
	}
	output.AddFormatFlag(cmd, &opts.Output)
	return cmd
}

func commentRun(ctx context.Context, opts *CommentOptions) error {
	ed, err := opts.Edit()
	if err != nil {
		return err
	}
	res, err := ed.Comment(ctx, opts.ID, opts.Body, opts.User())
	if err != nil {
		return editError(err, opts.ID)
	}
	return printEdited(opts.IO, opts.Output, res, "✓ Comment added to "+res.Incident.Number)
}

// namedArgs wants exactly one argument per name, and a usage error names
// the ones missing: "missing comment text", not both when only the
// second was left out.
func namedArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < len(names) {
			return cmdutil.FlagErrorf("missing %s\n\nUsage: %s", strings.Join(names[len(args):], ", and "), cmd.UseLine())
		}
		// Too many arguments: ExactArgs names the extra ones.
		return cmdutil.ExactArgs(len(names), "")(cmd, args)
	}
}
