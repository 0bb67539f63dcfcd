package threatstack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"iter"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/output"
)

// DefaultLimit is one API page: the default listing costs one request of
// the organization's shared rate limit.
const DefaultLimit = 100

// listFlags are --limit, --all and -o, shared by every list command.
type listFlags struct {
	Limit  int
	All    bool
	Output string
}

func (l *listFlags) register(cmd *cobra.Command, noun string) {
	cmd.Flags().IntVarP(&l.Limit, "limit", "L", DefaultLimit, "Maximum number of "+noun+" to fetch")
	cmd.Flags().BoolVar(&l.All, "all", false, "Fetch every page, however many "+noun+" there are")
	output.AddFormatFlag(cmd, &l.Output)
}

func (l *listFlags) validate(cmd *cobra.Command) error {
	if err := cmdutil.MutuallyExclusive("specify only one of --limit or --all", cmd.Flags().Changed("limit"), l.All); err != nil {
		return err
	}
	if !l.All && l.Limit < 1 {
		return cmdutil.FlagErrorf("--limit must be at least 1 (or use --all)")
	}
	return nil
}

// max is the number of items to print, 0 for all of them.
func (l *listFlags) max() int {
	if l.All {
		return 0
	}
	return l.Limit
}

// listing describes how to print one kind of item.
type listing[T any] struct {
	Noun   string // plural, for progress and the "none found" hint
	Header []string
	Row    func(item T, tty bool) []string
}

// printPages prints a paged listing as the pages arrive, so memory holds
// one page whatever the size of the organization: JSON as one array written
// element by element, YAML as one sequence, TSV row by row, and on a
// terminal one aligned table per page. It stops fetching once the limit is
// reached.
func printPages[T any](ios *iostreams.IOStreams, flags listFlags, pages iter.Seq2[[]T, error], l listing[T]) error {
	w := newStreamWriter(ios, flags.Output, l)
	prog := newProgress(ios, l.Noun)
	limit := flags.max()
	n, page := 0, 1
	prog.fetching(page, n)
	for items, err := range pages {
		prog.clear()
		if err != nil {
			// Close what was opened (a JSON array) so stdout stays
			// parseable; the exit code still says the listing failed.
			_ = w.close()
			return apiError(err)
		}
		if limit > 0 && n+len(items) > limit {
			items = items[:limit-n]
		}
		if err := w.write(items); err != nil {
			return err
		}
		n += len(items)
		if limit > 0 && n >= limit {
			break
		}
		page++
		prog.fetching(page, n)
	}
	prog.clear()
	if n == 0 && flags.Output == output.Table && ios.IsStdoutTTY() {
		fmt.Fprintf(ios.ErrOut, "No %s found.\n", l.Noun)
	}
	return w.close()
}

// streamWriter writes items in one output format across several pages.
type streamWriter[T any] struct {
	ios    *iostreams.IOStreams
	format string
	l      listing[T]
	count  int
}

func newStreamWriter[T any](ios *iostreams.IOStreams, format string, l listing[T]) *streamWriter[T] {
	return &streamWriter[T]{ios: ios, format: format, l: l}
}

func (s *streamWriter[T]) write(items []T) error {
	if len(items) == 0 {
		return nil
	}
	switch s.format {
	case output.JSON:
		return s.writeJSON(items)
	case output.YAML:
		// A YAML sequence of one item per write concatenates into one
		// sequence.
		for _, it := range items {
			if err := output.WriteYAML(s.ios.Out, []T{it}); err != nil {
				return err
			}
			s.count++
		}
		return nil
	}
	// One table per page: a terminal table needs its rows to size its
	// columns, and holding every page would defeat streaming. Each page
	// repeats the header, as vmstat does; piped output has no header.
	t := output.NewTablePrinter(s.ios)
	t.Header(s.l.Header...)
	for _, it := range items {
		t.Row(s.l.Row(it, t.IsTTY())...)
	}
	s.count += len(items)
	return t.Render()
}

// writeJSON writes each item as an element of one array, formatted exactly
// as output.WriteJSON formats a slice.
func (s *streamWriter[T]) writeJSON(items []T) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("  ", "  ")
	enc.SetEscapeHTML(false)
	for _, it := range items {
		if s.count == 0 {
			buf.WriteString("[\n  ")
		} else {
			buf.WriteString(",\n  ")
		}
		if err := enc.Encode(it); err != nil {
			return err
		}
		buf.Truncate(buf.Len() - 1) // Encode's newline; the separator adds its own
		s.count++
	}
	_, err := s.ios.Out.Write(buf.Bytes())
	return err
}

func (s *streamWriter[T]) close() error {
	switch {
	case s.format == output.JSON && s.count == 0:
		_, err := io.WriteString(s.ios.Out, "[]\n")
		return err
	case s.format == output.JSON:
		_, err := io.WriteString(s.ios.Out, "\n]\n")
		return err
	case s.format == output.YAML && s.count == 0:
		_, err := io.WriteString(s.ios.Out, "[]\n")
		return err
	}
	return nil
}

// progress shows which page is being fetched (see IOStreams.Progress).
type progress struct {
	ios  *iostreams.IOStreams
	noun string
}

func newProgress(ios *iostreams.IOStreams, noun string) *progress {
	return &progress{ios: ios, noun: noun}
}

func (p *progress) fetching(page, have int) {
	if page == 1 {
		p.ios.Progress("Fetching %s…", p.noun)
		return
	}
	p.ios.Progress("Fetching %s: page %d (%d so far)…", p.noun, page, have)
}

func (p *progress) clear() { p.ios.StopProgress() }
