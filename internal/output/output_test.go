package output

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tw-cli/tw-cli/internal/iostreams"
)

func render(t *testing.T, tty bool, header []string, rows ...[]string) string {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	ios.SetStdoutTTY(tty)
	p := NewTablePrinter(ios)
	if p.IsTTY() != tty {
		t.Fatalf("IsTTY() = %v, want %v", p.IsTTY(), tty)
	}
	p.Header(header...)
	for _, r := range rows {
		p.Row(r...)
	}
	if err := p.Render(); err != nil {
		t.Fatal(err)
	}
	if errOut.Len() != 0 {
		t.Errorf("table wrote to stderr: %q", errOut)
	}
	return out.String()
}

func TestTablePiped(t *testing.T) {
	tests := []struct {
		name string
		rows [][]string
		want string
	}{
		{
			name: "no header, one tab-separated line per row, no padding",
			rows: [][]string{{"email-gateway", "auto", "on"}, {"edr", "crowdstrike", "off"}},
			want: "email-gateway\tauto\ton\nedr\tcrowdstrike\toff\n",
		},
		{
			name: "tabs and newlines inside cells never split a record",
			rows: [][]string{{"a\tb", "line1\nline2", "cr\r\nlf"}},
			want: "a b\tline1 line2\tcr  lf\n",
		},
		{
			name: "control characters from payloads are shown, not sent to the terminal",
			rows: [][]string{{"Phish: \x1b]0;OWNED\x07\x1b[2J", "a\x7fb\u009bc", "tr\u202eap", "café ✓"}},
			want: "Phish: ^[]0;OWNED^G^[[2J\ta^?b\\u009bc\ttr\\u202eap\tcafé ✓\n",
		},
		{
			name: "empty cells keep their column",
			rows: [][]string{{"x", "", "z"}},
			want: "x\t\tz\n",
		},
		{
			name: "no rows, no output",
			want: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := render(t, false, []string{"SOURCE", "FORMAT", "TRIAGE"}, tt.rows...)
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTableTTY(t *testing.T) {
	got := render(t, true, []string{"SOURCE", "FORMAT"}, []string{"email-gateway", "auto"}, []string{"edr", "crowdstrike"})
	want := "" +
		"SOURCE         FORMAT\n" +
		"email-gateway  auto\n" +
		"edr            crowdstrike\n"
	if got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	// Escape sequences are shown on a terminal too.
	if got := render(t, true, []string{"TITLE"}, []string{"\x1b[31mred\x1b[0m"}); got != "TITLE\n^[[31mred^[[0m\n" {
		t.Errorf("escape sequence on a terminal: %q", got)
	}
	// A row stays one line whatever a middle cell holds; the last column
	// (a FIELD/VALUE table's value) keeps its lines.
	got = render(t, true, []string{"NUMBER", "TITLE", "STATUS"},
		[]string{"INC-1", "Bad\nINC-2026-9999\tcritical\r", "open"}, []string{"INC-2", "ok", "open"})
	want = "" +
		"NUMBER  TITLE                       STATUS\n" +
		"INC-1   Bad INC-2026-9999 critical  open\n" +
		"INC-2   ok                          open\n"
	if got != want {
		t.Errorf("a multi-line middle cell:\n%s", got)
	}
	if got := render(t, true, []string{"FIELD", "VALUE"}, []string{"description", "line one\nline two"}); got != "FIELD        VALUE\ndescription  line one\n             line two\n" {
		t.Errorf("a multi-line last cell: %q", got)
	}
	if got := PrintableText("{\r\n\t\"a\": \"\u009b2J\u202e\"\n}"); got != "{^M\n\t\"a\": \"\\u009b2J\\u202e\"\n}" {
		t.Errorf("PrintableText = %q", got)
	}
	// A header is printed as typed, not upper-cased or title-cased.
	if got := render(t, true, []string{"Field", "value"}); got != "Field  value\n" {
		t.Errorf("header only: %q", got)
	}
}

type sample struct {
	Name      string            `json:"name"`
	Secret    string            `json:"-"`
	Note      string            `json:"note,omitempty"`
	Enabled   bool              `json:"enabled"`
	Count     int               `json:"count"`
	Labels    map[string]string `json:"labels,omitempty"`
	Items     []string          `json:"items"`
	CreatedAt time.Time         `json:"created_at"`
}

func TestJSONAndYAMLCarryTheSameData(t *testing.T) {
	v := []sample{
		{Name: "email-gateway", Secret: "hunter2", Enabled: true, Count: 3, Labels: map[string]string{"P1": "critical"},
			Items: []string{"a", "<b>&c"}, CreatedAt: time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)},
		{Name: "edr", Note: "colon: and # hash", Items: []string{}},
	}
	var jb, yb bytes.Buffer
	if err := WriteJSON(&jb, v); err != nil {
		t.Fatal(err)
	}
	if err := WriteYAML(&yb, v); err != nil {
		t.Fatal(err)
	}
	var fromJSON, fromYAML any
	if err := json.Unmarshal(jb.Bytes(), &fromJSON); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(yb.Bytes(), &fromYAML); err != nil {
		t.Fatal(err)
	}
	// YAML decodes 3 as int, JSON as float64: compare through JSON types.
	fromYAML = viaJSON(t, fromYAML)
	if !reflect.DeepEqual(fromJSON, fromYAML) {
		t.Errorf("JSON and YAML differ:\njson: %#v\nyaml: %#v", fromJSON, fromYAML)
	}
	for name, out := range map[string]string{"json": jb.String(), "yaml": yb.String()} {
		if strings.Contains(out, "hunter2") || strings.Contains(out, "Secret") {
			t.Errorf("%s shows a json:\"-\" field:\n%s", name, out)
		}
	}
	// Both use the JSON field names and omissions, so checking one is
	// checking both.
	first := fromJSON.([]any)[0].(map[string]any)
	second := fromJSON.([]any)[1].(map[string]any)
	if _, ok := first["note"]; ok {
		t.Errorf("empty omitempty field shown: %v", first)
	}
	if _, ok := second["labels"]; ok {
		t.Errorf("empty omitempty map shown: %v", second)
	}
	if first["created_at"] != "2024-01-15T10:00:00Z" {
		t.Errorf("created_at = %v", first["created_at"])
	}
}

func viaJSON(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestWriteJSONExact(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, map[string]any{"url": "http://h/a?b=1&c=<d>", "n": 1}); err != nil {
		t.Fatal(err)
	}
	want := "{\n  \"n\": 1,\n  \"url\": \"http://h/a?b=1&c=<d>\"\n}\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

func TestWriteYAMLExact(t *testing.T) {
	var b bytes.Buffer
	if err := WriteYAML(&b, []map[string]any{{"source": "edr", "labels": map[string]string{"P1": "critical"}}}); err != nil {
		t.Fatal(err)
	}
	want := "- labels:\n    P1: critical\n  source: edr\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

// A float64 round trip turned big integers into approximations
// (18446744073709551615 → 1.8446744073709552e+19).
func TestWriteYAMLKeepsNumbersAndOrder(t *testing.T) {
	v := struct {
		Zebra   uint64          `json:"zebra"`
		Raw     json.RawMessage `json:"raw"`
		Word    string          `json:"word"`
		Float   float64         `json:"float"`
		Empty   []string        `json:"empty"`
		Missing *int            `json:"missing"`
	}{18446744073709551615, json.RawMessage(`{"id":123456789012345678901234567890}`), "yes", 0.1, []string{}, nil}
	var b bytes.Buffer
	if err := WriteYAML(&b, v); err != nil {
		t.Fatal(err)
	}
	want := "zebra: 18446744073709551615\nraw:\n  id: 123456789012345678901234567890\nword: \"yes\"\nfloat: 0.1\nempty: []\nmissing: null\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

func TestPrint(t *testing.T) {
	data := []map[string]string{{"source": "edr"}}
	table := func(p *TablePrinter) {
		p.Header("SOURCE")
		p.Row("edr")
	}
	tests := []struct {
		format string
		tty    bool
		want   string
	}{
		{JSON, true, "[\n  {\n    \"source\": \"edr\"\n  }\n]\n"},
		{JSON, false, "[\n  {\n    \"source\": \"edr\"\n  }\n]\n"},
		{YAML, false, "- source: edr\n"},
		{Table, true, "SOURCE\nedr\n"},
		{Table, false, "edr\n"},
		{"", false, "edr\n"},
	}
	for _, tt := range tests {
		ios, _, out, _ := iostreams.Test()
		ios.SetStdoutTTY(tt.tty)
		if err := Print(ios, tt.format, data, table); err != nil {
			t.Fatal(err)
		}
		if out.String() != tt.want {
			t.Errorf("Print(%q, tty=%v) = %q, want %q", tt.format, tt.tty, out.String(), tt.want)
		}
	}
	// JSON and YAML never need the table callback.
	ios, _, _, _ := iostreams.Test()
	if err := Print(ios, JSON, data, nil); err != nil {
		t.Errorf("Print(json, nil table) = %v", err)
	}
}

func TestValidateFormat(t *testing.T) {
	for _, f := range []string{"", Table, JSON, YAML} {
		if err := ValidateFormat(f); err != nil {
			t.Errorf("ValidateFormat(%q) = %v", f, err)
		}
	}
	for _, f := range []string{"xml", "JSON", "tsv", "yml"} {
		err := ValidateFormat(f)
		if err == nil {
			t.Errorf("ValidateFormat(%q) accepted", f)
			continue
		}
		if want := `invalid output format "` + f + `": use table, json or yaml`; err.Error() != want {
			t.Errorf("ValidateFormat(%q) = %q, want %q", f, err, want)
		}
	}
}

func TestTime(t *testing.T) {
	now := time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)
	paris := time.FixedZone("CET", 3600)
	at := time.Date(2024, 1, 15, 9, 0, 0, 0, paris) // 08:00 UTC
	tests := []struct {
		name string
		t    time.Time
		tty  bool
		want string
	}{
		{"piped is RFC 3339 in UTC", at, false, "2024-01-15T08:00:00Z"},
		{"terminal is relative", at, true, "2 hours ago"},
		{"zero is blank on a terminal", time.Time{}, true, ""},
		{"zero is blank when piped", time.Time{}, false, ""},
		{"sub-second precision dropped when piped", now.Add(123 * time.Millisecond), false, "2024-01-15T10:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Time(tt.t, tt.tty, now); got != tt.want {
				t.Errorf("Time() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAgo(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "in the future"},
		{0, "just now"},
		{59 * time.Second, "just now"},
		{time.Minute, "1 minute ago"},
		{119 * time.Second, "1 minute ago"},
		{59 * time.Minute, "59 minutes ago"},
		{time.Hour, "1 hour ago"},
		{23*time.Hour + 59*time.Minute, "23 hours ago"},
		{24 * time.Hour, "1 day ago"},
		{29 * 24 * time.Hour, "29 days ago"},
		{30 * 24 * time.Hour, "1 month ago"},
		{95 * 24 * time.Hour, "3 months ago"},
	}
	for _, tt := range tests {
		if got := Ago(tt.d); got != tt.want {
			t.Errorf("Ago(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestMaskRevealsNothing(t *testing.T) {
	if got := Mask(""); got != "(none)" {
		t.Errorf("Mask(\"\") = %q, want (none)", got)
	}
	// Neither the content nor the length of a secret may show: every
	// non-empty secret masks to the same string.
	secrets := []string{"x", "your-secret-key", "tw_0123456789abcdef", strings.Repeat("s", 200), "********", "(none)"}
	want := Mask(secrets[0])
	for _, s := range secrets {
		got := Mask(s)
		if got != want {
			t.Errorf("Mask(%q) = %q, differs from Mask(%q) = %q", s, got, secrets[0], want)
		}
		if got == "(none)" || got == "" {
			t.Errorf("Mask(%q) = %q: a set secret must not look unset", s, got)
		}
	}
	for _, s := range []string{"x", "your-secret-key", "tw_0123456789abcdef"} {
		if strings.ContainsAny(Mask(s), s) {
			t.Errorf("Mask(%q) = %q shares characters with the secret", s, Mask(s))
		}
	}
}

func TestTTYTableHasNoTrailingBlanks(t *testing.T) {
	ios, _, out, _ := iostreams.Test()
	ios.SetStdoutTTY(true)
	tp := NewTablePrinter(ios)
	tp.Header("NAME", "NOTE")
	tp.Row("a-long-name", "")
	tp.Row("b", "x")
	if err := tp.Render(); err != nil {
		t.Fatal(err)
	}
	want := "NAME         NOTE\na-long-name\nb            x\n"
	if out.String() != want {
		t.Fatalf("table = %q, want %q", out.String(), want)
	}
}

// On a terminal, a listing too wide for it has its widest column cut to
// fit, ending in "…"; a details table, a pipe or an unknown width is not
// cut.
func TestTableFitsTheTerminal(t *testing.T) {
	header := []string{"NUMBER", "TITLE", "STATUS"}
	rows := [][]string{
		{"INC-2026-0001", "Suspicious login from an unusual location for alice@example.com", "open"},
		{"INC-2026-0002", "short", "resolved"},
	}
	renderWidth := func(width int, tty bool, header []string, rows ...[]string) string {
		ios, _, out, _ := iostreams.Test()
		ios.SetStdoutTTY(tty)
		ios.SetTerminalWidth(width)
		p := NewTablePrinter(ios)
		p.Header(header...)
		for _, r := range rows {
			p.Row(r...)
		}
		if err := p.Render(); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	got := renderWidth(50, true, header, rows...)
	for _, line := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
		if len([]rune(line)) > 50 {
			t.Errorf("line over 50 columns: %q", line)
		}
	}
	if !strings.Contains(got, "INC-2026-0001  Suspicious login from an…  open") || !strings.Contains(got, "resolved") {
		t.Errorf("cut table:\n%s", got)
	}
	if got := renderWidth(200, true, header, rows...); !strings.Contains(got, rows[0][1]) {
		t.Errorf("a wide terminal cut the title:\n%s", got)
	}
	if got := renderWidth(50, false, header, rows...); !strings.Contains(got, rows[0][1]) {
		t.Errorf("piped output was cut: %q", got)
	}
	if got := renderWidth(0, true, header, rows...); !strings.Contains(got, rows[0][1]) {
		t.Errorf("an unknown width cut the title:\n%s", got)
	}
	if got := renderWidth(30, true, []string{"FIELD", "VALUE"}, []string{"title", rows[0][1]}); !strings.Contains(got, rows[0][1]) {
		t.Errorf("a details table was cut:\n%s", got)
	}
}
