// Package events implements `tw-cli events list|show|replay`.
package events

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/output"
	"github.com/tw-cli/tw-cli/internal/receiver"
	"github.com/tw-cli/tw-cli/internal/store"
)

// NewCmdEvents returns the `events` command group.
func NewCmdEvents(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "events <command>",
		Aliases: []string{"event"},
		Short:   "Inspect received deliveries",
	}
	cmd.AddCommand(NewCmdList(f, nil), NewCmdShow(f, nil), NewCmdReplay(f))
	return cmd
}

// ListOptions are the inputs of `events list`.
type ListOptions struct {
	IO     *iostreams.IOStreams
	Reader func() (reader, error)
	Now    func() time.Time
	Filter store.EventFilter
	Since  string
	Output string
}

// NewCmdList returns `events list`.
func NewCmdList(f *cmdutil.Factory, runF func(*ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IOStreams, Reader: readerFor(f), Now: f.Now}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List received events, newest first",
		Long: `List received events, newest first. With -o json each event carries its
payload (the body, parsed) and the normalized event; 'events show' prints
a body byte for byte.`,
		Example: `  $ tw-cli events list --source edr --limit 5
  $ tw-cli events list -o json | jq '.[0].payload'`,
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
			if runF != nil {
				return runF(opts)
			}
			return listRun(cmd, opts)
		},
	}
	fl := cmd.Flags()
	fl.IntVarP(&opts.Filter.Limit, "limit", "L", 30, "Maximum number of events")
	fl.StringVar(&opts.Filter.Source, "source", "", "Only events from this `source`")
	_ = cmd.RegisterFlagCompletionFunc("source", cmdutil.CompleteSourceNames(f))
	fl.StringVar(&opts.Since, "since", "", "Only events received since `when` (24h, 7d, 2024-01-15 as UTC midnight, RFC 3339)")
	output.AddFormatFlag(cmd, &opts.Output)
	return cmd
}

func listRun(cmd *cobra.Command, opts *ListOptions) error {
	s, err := opts.Reader()
	if err != nil {
		return err
	}
	evs, err := s.ListEvents(cmd.Context(), opts.Filter)
	if err != nil {
		return err
	}
	views := make([]receiver.EventView, len(evs))
	for i, e := range evs {
		views[i] = receiver.ViewEvent(e)
	}
	if len(evs) == 0 && opts.Output == output.Table && opts.IO.IsStdoutTTY() {
		fmt.Fprintln(opts.IO.ErrOut, "No events match.")
		return nil
	}
	now := opts.Now()
	return output.Print(opts.IO, opts.Output, views, func(t *output.TablePrinter) {
		t.Header("ID", "SOURCE", "TYPE", "FORMAT", "VERIFIED", "INCIDENT", "RECEIVED")
		for _, e := range evs {
			t.Row(e.ID, e.Source, e.Type, e.Format, e.Verification, e.IncidentNum, output.Time(e.ReceivedAt, t.IsTTY(), now))
		}
	})
}

// ShowOptions are the inputs of `events show`.
type ShowOptions struct {
	IO     *iostreams.IOStreams
	Reader func() (reader, error)
	Now    func() time.Time
	ID     string
	Output string
}

// NewCmdShow returns `events show`.
func NewCmdShow(f *cmdutil.Factory, runF func(*ShowOptions) error) *cobra.Command {
	opts := &ShowOptions{IO: f.IOStreams, Reader: readerFor(f), Now: f.Now}
	cmd := &cobra.Command{
		Use:     "show <id>",
		Aliases: []string{"view", "get"},
		Short:   "Show one event and its payload, byte for byte as received",
		Example: `  $ tw-cli events show 3f1c…  -o json`,
		Args:    cmdutil.ExactArgs(1, "event id"),
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
	ev, err := s.GetEvent(cmd.Context(), opts.ID)
	if errors.Is(err, store.ErrNotFound) {
		return cmdutil.NotFound("no event %q: run 'tw-cli events list'", opts.ID)
	}
	if err != nil {
		return err
	}
	if opts.Output != output.Table {
		// As the admin API's GET /api/events/:id: raw_payload is the body
		// byte for byte (payload is it re-encoded as JSON).
		raw := string(ev.Payload)
		return output.Print(opts.IO, opts.Output, receiver.EventDetailView{EventView: receiver.ViewEvent(*ev), RawPayload: &raw}, nil)
	}
	now := opts.Now()
	t := output.NewTablePrinter(opts.IO)
	t.Header("FIELD", "VALUE")
	t.Row("id", ev.ID)
	t.Row("source", ev.Source)
	t.Row("type", ev.Type)
	t.Row("format", ev.Format)
	t.Row("verified", ev.Verification)
	t.Row("incident", ev.IncidentNum)
	t.Row("received", output.Time(ev.ReceivedAt, t.IsTTY(), now))
	t.Row("request_id", ev.RequestID)
	if err := t.Render(); err != nil {
		return err
	}
	fmt.Fprintln(opts.IO.Out)
	// The body as sent may hold a bare CR (JSON whitespace) or a C1
	// control inside a string: shown, not sent to the terminal. -o json
	// has it byte for byte (raw_payload).
	_, err = fmt.Fprintln(opts.IO.Out, output.PrintableText(string(ev.Payload)))
	return err
}
