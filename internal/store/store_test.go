package store

import (
	"fmt"
	"strings"
	"testing"
)

// The strconv rendering is the one fmt gave: INC-<year>-<4+ digits>.
func TestFormatIncidentNumber(t *testing.T) {
	for _, c := range []struct{ year, seq int }{{2024, 1}, {2024, 42}, {2026, 9999}, {2026, 10000}, {2026, 278856}} {
		if got, want := FormatIncidentNumber(c.year, c.seq), fmt.Sprintf("INC-%d-%04d", c.year, c.seq); got != want {
			t.Errorf("FormatIncidentNumber(%d, %d) = %q, want %q", c.year, c.seq, got, want)
		}
	}
	for _, n := range []int64{0, 7, 1795583273, -5} {
		if got, want := string(AppendZeroPadded(nil, n, 12)), fmt.Sprintf("%012d", n); got != want {
			t.Errorf("AppendZeroPadded(%d, 12) = %q, want %q", n, got, want)
		}
	}
}

func TestDecodeSeverityMapping(t *testing.T) {
	for _, raw := range []string{"{}", " { } ", "null"} {
		m, err := DecodeSeverityMapping("edr", raw)
		if err != nil || m != nil {
			t.Errorf("DecodeSeverityMapping(%q) = %v, %v; want nil, nil", raw, m, err)
		}
	}
	m, err := DecodeSeverityMapping("edr", `{"4":"high","low":"info"}`)
	if err != nil || len(m) != 2 || m["4"] != "high" || m["low"] != "info" {
		t.Fatalf("mapping = %v, %v", m, err)
	}
	if _, err := DecodeSeverityMapping("edr", `{"4":`); err == nil || !strings.Contains(err.Error(), "source edr") {
		t.Fatalf("a truncated mapping gave %v, want an error naming the source", err)
	}
}

func TestEncodeSeverityMapping(t *testing.T) {
	for _, m := range []map[string]string{nil, {}} {
		if got, err := EncodeSeverityMapping(m); err != nil || got != "{}" {
			t.Errorf("EncodeSeverityMapping(%#v) = %q, %v; want \"{}\"", m, got, err)
		}
	}
	in := map[string]string{"4": "high", `a"b\u0000`: "info"}
	raw, err := EncodeSeverityMapping(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := DecodeSeverityMapping("edr", raw)
	if err != nil || len(out) != len(in) || out["4"] != "high" || out[`a"b\u0000`] != "info" {
		t.Fatalf("round trip of %v through %q = %v, %v", in, raw, out, err)
	}
}

// A directory login name past 64 bytes, or one holding control
// characters, still records as an actor: cut on a character boundary,
// controls shown as '?'.
func TestRecordableName(t *testing.T) {
	const user = "first.middle.lastname@corp.example.com" // 38 bytes
	long := user + strings.Repeat("é", 20)
	for in, want := range map[string]string{
		"alice":       "alice",
		"bad\x1b[31m": "bad?[31m",
		"bad\xffbyte": "bad?byte",
		long:          user + strings.Repeat("é", 13),       // 64 bytes
		"x" + long:    "x" + user + strings.Repeat("é", 12), // 63: the 64th would split an é
		"":            "",
	} {
		got := RecordableName(in)
		if got != want || !ValidName(got) {
			t.Errorf("RecordableName(%q) = %q, want %q", in, got, want)
		}
	}
}
