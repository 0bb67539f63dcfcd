package payload

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/payloads")

const fixtureRoot = "../../testdata/payloads"

// fixture is one vendor body under testdata/payloads/<format>/<name>.json.
type fixture struct {
	format, name, path string
	body               []byte
}

func fixtures(t testing.TB) []fixture {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(fixtureRoot, "*", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var out []fixture
	for _, p := range paths {
		if strings.HasSuffix(p, ".golden.json") {
			continue
		}
		body, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fixture{
			format: filepath.Base(filepath.Dir(p)),
			name:   strings.TrimSuffix(filepath.Base(p), ".json"),
			path:   p,
			body:   body,
		})
	}
	if len(out) == 0 {
		t.Fatalf("no fixtures under %s", fixtureRoot)
	}
	return out
}

func fixturesOf(t testing.TB, format string) []fixture {
	t.Helper()
	var out []fixture
	for _, fx := range fixtures(t) {
		if fx.format == format {
			out = append(out, fx)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no fixtures for format %s", format)
	}
	return out
}

// golden is the normalized form of one fixture, as stored next to it.
type golden struct {
	Format  string  `json:"format"`
	Warning string  `json:"warning,omitempty"`
	Events  []Event `json:"events"`
}

func TestEveryFormatHasFixtures(t *testing.T) {
	have := map[string]bool{}
	for _, fx := range fixtures(t) {
		if !ValidFormat(fx.format) || fx.format == FormatAuto {
			t.Errorf("%s: directory %q is not a format", fx.path, fx.format)
		}
		have[fx.format] = true
	}
	for name := range registry {
		if !have[name] {
			t.Errorf("format %s has no fixtures in %s/%s", name, fixtureRoot, name)
		}
	}
}

func TestGolden(t *testing.T) {
	for _, fx := range fixtures(t) {
		t.Run(fx.format+"/"+fx.name, func(t *testing.T) {
			res, err := Parse(fx.format, fx.body)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			got, err := json.MarshalIndent(golden{res.Format, res.Warning, res.Events}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := strings.TrimSuffix(fx.path, ".json") + ".golden.json"
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./pkg/payload -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("normalized %s differs from %s (run with -update if the change is intended):\n%s", fx.path, path, got)
			}
		})
	}
}

// Every fixture must be told apart from every other vendor's: exactly its
// own sniffer claims it, and auto gives the same events as the explicit
// format.
func TestSniffFixtures(t *testing.T) {
	for _, fx := range fixtures(t) {
		t.Run(fx.format+"/"+fx.name, func(t *testing.T) {
			doc, err := decodeObject(fx.body)
			if err != nil {
				t.Fatal(err)
			}
			var claimed []string
			for _, p := range sniffOrder {
				if p.Name() != FormatGeneric && p.Sniff(doc) {
					claimed = append(claimed, p.Name())
				}
			}
			want := []string{fx.format}
			if fx.format == FormatGeneric {
				want = nil
			}
			if !reflect.DeepEqual(claimed, want) {
				t.Errorf("sniffed by %v, want %v", claimed, want)
			}
			auto, err := Parse(FormatAuto, fx.body)
			if err != nil {
				t.Fatal(err)
			}
			explicit, err := Parse(fx.format, fx.body)
			if err != nil {
				t.Fatal(err)
			}
			if auto.Format != fx.format {
				t.Errorf("auto format = %s, want %s", auto.Format, fx.format)
			}
			if auto.Warning != "" || explicit.Warning != "" {
				t.Errorf("warnings on a fixture: auto %q, explicit %q", auto.Warning, explicit.Warning)
			}
			if !reflect.DeepEqual(auto.Events, explicit.Events) {
				t.Errorf("auto events differ from %s events", fx.format)
			}
		})
	}
}

func TestOtherBodiesStayGeneric(t *testing.T) {
	bodies := []string{
		`{}`,
		`{"event_type":"security_alert","data":{"severity":"high"}}`,
		`{"hello":"world","n":1}`,
		`{"alerts":"none"}`,
		`{"alerts":[{"id":"a1","title":"no Threat Stack fields"}]}`,
		`{"result":{"host":"h"}}`,
		`{"metadata":{"eventType":"x"}}`,
		`{"eventType":"PhishingEmail"}`,
		`{"objectType":"case"}`,
		`{"type":"audit","payload":{}}`,
		`{"Description":"a kind, but no Intro"}`,
		`{"memo":"a note"}`,
	}
	for _, body := range bodies {
		res, err := Parse(FormatAuto, []byte(body))
		if err != nil {
			t.Errorf("%s: %v", body, err)
			continue
		}
		if res.Format != FormatGeneric {
			t.Errorf("%s: sniffed as %s, want generic", body, res.Format)
		}
	}
}

func TestGenericFallbackWarns(t *testing.T) {
	res, err := Parse(FormatAuto, []byte(`{"hello":"world"}`))
	if err != nil {
		t.Fatal(err)
	}
	if res.Warning == "" {
		t.Error("no warning on a body that matched no format")
	}
	res, err = Parse("", []byte(`{"event_type":"test","data":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	if res.Format != FormatGeneric || res.Warning != "" {
		t.Errorf("seed test event: format %s, warning %q", res.Format, res.Warning)
	}
}

func TestExplicitFormatMismatchWarns(t *testing.T) {
	body := []byte(`{"event_type":"security_alert","data":{"severity":"high"}}`)
	for _, name := range Formats() {
		if name == FormatAuto || name == FormatGeneric {
			continue
		}
		res, err := Parse(name, body)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if res.Warning == "" {
			t.Errorf("%s: no warning on a generic body", name)
		}
		checkEvents(t, name, res.Events)
	}
}

func TestUnknownFormat(t *testing.T) {
	_, err := Parse("nope", []byte(`{}`))
	if err == nil || errors.Is(err, ErrInvalid) {
		t.Errorf("err = %v, want an unknown-format error that is not ErrInvalid", err)
	}
}

func TestNotAnObjectIsInvalid(t *testing.T) {
	bodies := []string{``, ` `, `null`, `[]`, `[{}]`, `"x"`, `42`, `true`, `{`, `{"a":}`, `{} {}`, `{}}`, `{}]`, "\xff"}
	for _, name := range Formats() {
		for _, body := range bodies {
			_, err := Parse(name, []byte(body))
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("Parse(%s, %q) err = %v, want ErrInvalid", name, body, err)
			}
			if name == FormatAuto {
				continue
			}
			if _, err := registry[name].Parse([]byte(body)); !errors.Is(err, ErrInvalid) {
				t.Errorf("%s.Parse(%q) err = %v, want ErrInvalid", name, body, err)
			}
		}
	}
}

// Replacing any field of any fixture with a value of another type must
// still parse: vendors change types between versions.
func TestWrongTypesNeverFail(t *testing.T) {
	replacements := []any{nil, "", "text", json.Number("-7"), json.Number("1e300"), true, []any{}, []any{"x", json.Number("1")}, map[string]any{}}
	for _, fx := range fixtures(t) {
		doc, err := decodeObject(fx.body)
		if err != nil {
			t.Fatal(err)
		}
		var paths [][]any
		collectPaths(doc, nil, &paths)
		for _, path := range paths {
			for _, r := range replacements {
				mutated := setPath(deepCopy(doc), path, r)
				body, err := json.Marshal(mutated)
				if err != nil {
					t.Fatal(err)
				}
				res, err := Parse(fx.format, body)
				if err != nil {
					t.Errorf("%s with %v = %#v: %v", fx.path, path, r, err)
					continue
				}
				checkEvents(t, fx.format, res.Events)
			}
		}
	}
}

func collectPaths(v any, prefix []any, out *[][]any) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := append(append([]any{}, prefix...), k)
			*out = append(*out, p)
			collectPaths(x[k], p, out)
		}
	case []any:
		for i, e := range x {
			p := append(append([]any{}, prefix...), i)
			*out = append(*out, p)
			collectPaths(e, p, out)
		}
	}
}

func setPath(root any, path []any, val any) any {
	if len(path) == 0 {
		return val
	}
	switch x := root.(type) {
	case map[string]any:
		k := path[0].(string)
		x[k] = setPath(x[k], path[1:], val)
	case []any:
		i := path[0].(int)
		x[i] = setPath(x[i], path[1:], val)
	}
	return root
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = deepCopy(e)
		}
		return s
	}
	return v
}

// checkEvents asserts what every parser promises about its events.
func checkEvents(t testing.TB, format string, evs []Event) {
	t.Helper()
	if len(evs) == 0 {
		t.Errorf("%s: no events", format)
	}
	for i, ev := range evs {
		if ev.Format != format {
			t.Errorf("%s event %d: format %q", format, i, ev.Format)
		}
		if _, ok := ParseSeverity(string(ev.Severity)); !ok {
			t.Errorf("%s event %d: severity %q is not normalized", format, i, ev.Severity)
		}
		switch ev.Action {
		case ActionCreate, ActionUpdate, ActionDelete:
		default:
			t.Errorf("%s event %d: action %q", format, i, ev.Action)
		}
		if strings.TrimSpace(ev.Title) == "" {
			t.Errorf("%s event %d: empty title", format, i)
		}
		if !utf8.ValidString(ev.Title) {
			t.Errorf("%s event %d: title is not UTF-8: %q", format, i, ev.Title)
		}
		// The receiver re-applies a source's mapping with MapSeverity on
		// VendorSeverity, falling back to Severity; with no mapping that
		// must leave the parser's choice alone.
		if got := MapSeverity(ev.VendorSeverity, nil, ev.Severity); got != ev.Severity {
			t.Errorf("%s event %d: vendor severity %q re-maps to %s, parser chose %s", format, i, ev.VendorSeverity, got, ev.Severity)
		}
		if _, err := json.Marshal(ev); err != nil {
			t.Errorf("%s event %d: %v", format, i, err)
		}
	}
}

func TestFixtureInvariants(t *testing.T) {
	for _, fx := range fixtures(t) {
		res, err := Parse(fx.format, fx.body)
		if err != nil {
			t.Errorf("%s: %v", fx.path, err)
			continue
		}
		checkEvents(t, fx.format, res.Events)
	}
}

// parseOne parses body as format and returns its only event.
func parseOne(t *testing.T, format, body string) Event {
	t.Helper()
	res, err := Parse(format, []byte(body))
	if err != nil {
		t.Fatalf("Parse(%s): %v", format, err)
	}
	if len(res.Events) != 1 {
		t.Fatalf("Parse(%s): %d events, want 1", format, len(res.Events))
	}
	checkEvents(t, format, res.Events)
	return res.Events[0]
}

func TestTimeOf(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{json.Number("1705320000"), "2024-01-15T12:00:00Z"},
		{json.Number("1705320000000"), "2024-01-15T12:00:00Z"},
		{"1705320000123", "2024-01-15T12:00:00.123Z"},
		{"1705320000.5", "2024-01-15T12:00:00.5Z"},
		{json.Number("1705320000000000"), "2024-01-15T12:00:00Z"},
		{json.Number("1705320000000000000"), "2024-01-15T12:00:00Z"},
		{"2024-01-15T10:00:00Z", "2024-01-15T10:00:00Z"},
		{"2024-01-15T11:00:00.000+01:00", "2024-01-15T10:00:00Z"},
		{"2024-01-15T11:00:00.000+0100", "2024-01-15T10:00:00Z"},
		{"2020-07-20 16:26:22 (UTC)", "2020-07-20T16:26:22Z"},
		{"2020-04-08 09:39:02 UTC+0000", "2020-04-08T09:39:02Z"},
		{"2020-07-20 16:26:22", "2020-07-20T16:26:22Z"},
		{"2020-07-20 16:26:22 (SAST)", ""},
		{"9999-12-31T23:59:59-23:00", ""},
		{"yesterday", ""},
		{json.Number("0"), ""},
		{json.Number("-5"), ""},
		{"NaN", ""},
		{json.Number("1e300"), ""},
		{nil, ""},
		{map[string]any{}, ""},
	}
	for _, tt := range tests {
		got := timeOf(tt.in)
		s := ""
		if !got.IsZero() {
			s = got.Format("2006-01-02T15:04:05.999999999Z07:00")
		}
		if s != tt.want {
			t.Errorf("timeOf(%#v) = %q, want %q", tt.in, s, tt.want)
		}
	}
}

// floatOf turns text away before strconv.ParseFloat only where
// ParseFloat would refuse it too.
func TestFloatOfAgreesWithParseFloat(t *testing.T) {
	for _, s := range []string{"4", "-4.5", "+1e3", "0x10", "0x1p-2", "1_000", "0b101", "Inf", "nan", ".5",
		"2024-01-15T10:00:00Z", "2020-07-20 16:26:22 (UTC)", "1,5", "4 ", "", "١٢", "4\x00"} {
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		wantOK := err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
		got, ok := floatOf(s)
		if ok != wantOK || ok && got != f {
			t.Errorf("floatOf(%q) = %v, %v; ParseFloat says %v, %v", s, got, ok, f, err)
		}
	}
}
