// Package output prints command results: a table on a terminal, stable
// tab-separated rows when piped, or JSON/YAML when asked with -o.
package output

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/pkg/twwidth"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/tw-cli/tw-cli/internal/iostreams"
)

// Formats accepted by -o/--output.
const (
	Table = "table"
	JSON  = "json"
	YAML  = "yaml"
)

// FormatNames lists the -o values, for help and completion.
var FormatNames = []string{Table, JSON, YAML}

// formatValue is -o's flag value: a bad format is refused while flags are
// parsed, so every command gets the same usage error without checking.
type formatValue struct{ target *string }

func (f formatValue) String() string { return *f.target }
func (f formatValue) Type() string   { return "format" }
func (f formatValue) Set(v string) error {
	if ValidateFormat(v) != nil {
		// pflag already says `invalid argument "xml" for "-o, --output"`.
		return fmt.Errorf("use table, json or yaml")
	}
	*f.target = v
	return nil
}

// AddFormatFlag registers -o/--output on cmd, with completion of its values.
// The value is checked when flags are parsed.
func AddFormatFlag(cmd *cobra.Command, target *string) {
	*target = Table
	cmd.Flags().VarP(formatValue{target}, "output", "o", "Output `format`: table, json or yaml")
	_ = cmd.RegisterFlagCompletionFunc("output", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return FormatNames, cobra.ShellCompDirectiveNoFileComp
	})
}

// ValidateFormat returns an error naming the accepted values.
func ValidateFormat(format string) error {
	switch format {
	case "", Table, JSON, YAML:
		return nil
	}
	return fmt.Errorf("invalid output format %q: use table, json or yaml", format)
}

// Print writes data as JSON or YAML, or hands a TablePrinter to table for
// the table format. data is what -o json prints: keep it free of secrets.
func Print(ios *iostreams.IOStreams, format string, data any, table func(*TablePrinter)) error {
	switch format {
	case JSON:
		return WriteJSON(ios.Out, data)
	case YAML:
		return WriteYAML(ios.Out, data)
	}
	t := NewTablePrinter(ios)
	table(t)
	return t.Render()
}

// WriteJSON writes v indented, with a trailing newline; HTML is not escaped
// because the reader is a person or jq, not a browser.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// WriteYAML writes v as YAML. It goes through JSON first so the field names
// and omissions are the same in both formats, and builds the YAML from the
// JSON text itself: numbers keep their digits (a float64 round trip turned
// large integers such as Threat Stack's millisecond counters and 64-bit
// ids into approximations) and fields keep their JSON order.
func WriteYAML(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	node, err := yamlNode(dec)
	if err != nil {
		return err
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(node); err != nil {
		return err
	}
	return enc.Close()
}

// yamlNode converts the next JSON value of dec into a YAML node. Strings
// and keys go through the encoder's own string rules, so that those a YAML
// reader would take for something else ("yes", "1e3", "~") are quoted.
func yamlNode(dec *json.Decoder) (*yaml.Node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		kind, end := yaml.SequenceNode, json.Delim(']')
		if t == '{' {
			kind, end = yaml.MappingNode, '}'
		}
		n := &yaml.Node{Kind: kind}
		for dec.More() {
			if kind == yaml.MappingNode {
				key, err := dec.Token()
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, yamlString(key.(string)))
			}
			child, err := yamlNode(dec)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, child)
		}
		if tok, err := dec.Token(); err != nil || tok != end {
			return nil, fmt.Errorf("yaml: malformed JSON near %v", tok)
		}
		if len(n.Content) == 0 {
			n.Style = yaml.FlowStyle // [] and {}, not an empty block
		}
		return n, nil
	case string:
		return yamlString(t), nil
	case json.Number:
		return &yaml.Node{Kind: yaml.ScalarNode, Value: t.String()}, nil
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: fmt.Sprint(t)}, nil
	default: // nil
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
	}
}

func yamlString(s string) *yaml.Node {
	var n yaml.Node
	if err := n.Encode(s); err != nil {
		// Encoding a string cannot fail; keep the text if it ever does.
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	}
	return &n
}

// TablePrinter collects rows and renders them for the terminal or a pipe.
type TablePrinter struct {
	ios     *iostreams.IOStreams
	headers []string
	rows    [][]string
}

// NewTablePrinter returns a printer for ios.Out.
func NewTablePrinter(ios *iostreams.IOStreams) *TablePrinter {
	return &TablePrinter{ios: ios}
}

// IsTTY reports whether the table goes to a terminal, so callers can pick
// humanized values.
func (t *TablePrinter) IsTTY() bool { return t.ios.IsStdoutTTY() }

// Header sets the column names.
func (t *TablePrinter) Header(names ...string) { t.headers = names }

// Row appends one row.
func (t *TablePrinter) Row(cells ...string) { t.rows = append(t.rows, cells) }

// Render writes the table. Piped output has no header and no padding, one
// tab-separated row per line, so `cut -f` and golden files stay stable.
func (t *TablePrinter) Render() error {
	if !t.ios.IsStdoutTTY() {
		var b strings.Builder
		for _, r := range t.rows {
			for i, c := range r {
				if i > 0 {
					b.WriteByte('\t')
				}
				b.WriteString(tsvCell(c))
			}
			b.WriteByte('\n')
		}
		_, err := io.WriteString(t.ios.Out, b.String())
		return err
	}
	// Rendered into a buffer so the padding after each row's last cell can
	// be cut: trailing blanks get copied along when a table is pasted.
	var buf bytes.Buffer
	tbl := tablewriter.NewTable(&buf,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
			Borders: tw.BorderNone,
			Symbols: tw.NewSymbols(tw.StyleNone),
			Settings: tw.Settings{
				Separators: tw.Separators{BetweenColumns: tw.Off, BetweenRows: tw.Off, ShowHeader: tw.Off},
				Lines:      tw.Lines{ShowHeaderLine: tw.Off, ShowTop: tw.Off, ShowBottom: tw.Off},
			},
		})),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithPadding(tw.Padding{Left: "", Right: "  ", Overwrite: true}),
	)
	rows := make([][]any, len(t.rows))
	for i, r := range t.rows {
		rows[i] = toAny(r)
	}
	fitWidth(t.headers, rows, t.ios.TerminalWidth())
	tbl.Header(toAny(t.headers)...)
	for _, r := range rows {
		if err := tbl.Append(r...); err != nil {
			return err
		}
	}
	if err := tbl.Render(); err != nil {
		return err
	}
	lines := strings.SplitAfter(buf.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \n")
		if strings.HasSuffix(l, "\n") {
			lines[i] += "\n"
		}
	}
	_, err := io.WriteString(t.ios.Out, strings.Join(lines, ""))
	return err
}

// minFitColumn is the narrowest fitWidth cuts a column to: below it a
// title says nothing, and the terminal may as well wrap the row.
const minFitColumn = 12

// fitWidth cuts the widest column's cells, ending them with "…", so that
// a listing's rows fit a terminal width columns wide, as gh does: a
// wrapped row reads as two. Tables of two columns (FIELD and VALUE) are
// details, whose values are not cut; neither is a table when width is
// unknown (0) or no cut would make it fit.
func fitWidth(headers []string, rows [][]any, width int) {
	n := len(headers)
	if width <= 0 || n < 3 {
		return
	}
	widths := make([]int, n)
	for i, h := range headers {
		widths[i] = twwidth.Width(h)
	}
	for _, r := range rows {
		for i := 0; i < n && i < len(r); i++ {
			if s, ok := r[i].(string); ok && !strings.Contains(s, "\n") {
				widths[i] = max(widths[i], twwidth.Width(s))
			}
		}
	}
	total, widest := 2*(n-1), 0
	for i, w := range widths {
		total += w
		if w > widths[widest] {
			widest = i
		}
	}
	over := total - width
	if over <= 0 {
		return
	}
	keep := max(widths[widest]-over, minFitColumn, twwidth.Width(headers[widest]))
	if keep >= widths[widest] {
		return
	}
	for _, r := range rows {
		if s, ok := r[widest].(string); ok && twwidth.Width(s) > keep {
			r[widest] = twwidth.Truncate(s, keep-1) + "…"
		}
	}
}

// toAny hands cells to tablewriter, their control characters shown.
// Only the last column keeps its tabs and newlines for tablewriter to lay
// out (a FIELD/VALUE table's value): elsewhere a title holding
// "\nINC-2026-9999\tcritical" would print a line that reads as a row of
// its own, so they are spaces, as in piped output.
func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		if i < len(ss)-1 && strings.ContainsAny(s, "\t\n\r") {
			s = tsvSeparators.Replace(s)
		}
		out[i] = printable(s, true)
	}
	return out
}

// PrintableText is Printable for a block of text printed on its own
// (a stored payload): its newlines and tabs stay, every other control
// character, a carriage return included, is shown.
func PrintableText(s string) string { return printable(s, true) }

// tsvCell keeps one record per line whatever the data holds.
func tsvCell(s string) string {
	if !strings.ContainsAny(s, "\t\n\r") {
		return Printable(s)
	}
	return Printable(tsvSeparators.Replace(s))
}

// tsvSeparators is built once: a Replacer's first use compiles it, and
// building one per cell cost a third of `webhook list`'s time.
var tsvSeparators = strings.NewReplacer("\t", " ", "\n", " ", "\r", " ")

// Printable shows the control characters in s instead of sending them to
// the terminal: incident titles and other fields come from senders' payloads,
// and an escape sequence in one could retitle the window, clear the screen
// or forge the lines around it. C0 controls and DEL are shown in caret
// notation (ESC as ^[), C1 controls and bidirectional overrides as \uXXXX.
// Most strings hold none, and are returned without a copy.
func Printable(s string) string { return printable(s, false) }

// printable is Printable, keeping tabs and newlines when layout is set:
// a terminal table lays a multi-line cell out on several lines.
func printable(s string, layout bool) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c >= 0x80 {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	changed := false
	for _, r := range s {
		switch {
		case layout && (r == '\n' || r == '\t'):
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			b.WriteByte('^')
			b.WriteByte(byte(r) ^ 0x40)
			changed = true
		case unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r):
			fmt.Fprintf(&b, "\\u%04x", r)
			changed = true
		default:
			b.WriteRune(r)
		}
	}
	if !changed {
		return s
	}
	return b.String()
}

// Time renders a timestamp: relative on a terminal, RFC 3339 otherwise.
func Time(t time.Time, tty bool, now time.Time) string {
	if t.IsZero() {
		return ""
	}
	if !tty {
		return t.UTC().Format(time.RFC3339)
	}
	return Ago(now.Sub(t))
}

// Ago renders a duration in the past the way people say it.
func Ago(d time.Duration) string {
	switch {
	case d < 0:
		return "in the future"
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute") + " ago"
	case d < 24*time.Hour:
		return plural(int(d/time.Hour), "hour") + " ago"
	case d < 30*24*time.Hour:
		return plural(int(d/(24*time.Hour)), "day") + " ago"
	}
	return plural(int(d/(30*24*time.Hour)), "month") + " ago"
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// Mask hides a secret entirely; only whether one is set shows.
func Mask(secret string) string {
	if secret == "" {
		return "(none)"
	}
	return "********"
}
