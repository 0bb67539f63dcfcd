package load

import (
	"strings"
	"testing"
)

func TestParseProcStat(t *testing.T) {
	stat := "cpu  100 5 50 800 10 1 2 32 7 0\ncpu0 50 2 25 400 5 0 1 16 3 0\nintr 1 2 3\n"
	got, err := parseProcStat(stat)
	if err != nil {
		t.Fatal(err)
	}
	// Guest time (7) is already inside user time: not added again.
	if want := (CPUStat{Total: 1000, Steal: 32}); got != want {
		t.Fatalf("parseProcStat = %+v, want %+v", got, want)
	}
	for _, bad := range []string{"", "cpu0 1 2 3 4 5 6 7 8", "cpu 1 2 3", "cpu 1 2 3 4 5 6 7 x"} {
		if _, err := parseProcStat(bad); err == nil {
			t.Errorf("parseProcStat(%q) accepted a malformed file", bad)
		}
	}
}

func TestStealShare(t *testing.T) {
	before := CPUStat{Total: 1000, Steal: 10}
	if got := StealShare(before, CPUStat{Total: 1200, Steal: 60}); got != 0.25 {
		t.Fatalf("StealShare = %v, want 0.25", got)
	}
	if got := StealShare(before, before); got != 0 {
		t.Fatalf("StealShare with no time passed = %v, want 0", got)
	}
}

func TestParseHandlerCounts(t *testing.T) {
	metrics := `# HELP webhook_request_duration_seconds Time to handle a delivery.
# TYPE webhook_request_duration_seconds histogram
webhook_request_duration_seconds_bucket{source="a",status="202",le="0.005"} 90
webhook_request_duration_seconds_bucket{source="a",status="202",le="0.01"} 95
webhook_request_duration_seconds_bucket{source="a",status="202",le="+Inf"} 100
webhook_request_duration_seconds_bucket{source="b",status="202",le="0.01"} 7
webhook_request_duration_seconds_bucket{source="b",status="202",le="+Inf"} 10
webhook_request_duration_seconds_bucket{source="b",status="401",le="0.01"} 1000
webhook_request_duration_seconds_bucket{source="b",status="401",le="+Inf"} 1000
webhook_request_duration_seconds_sum{source="a",status="202"} 0.5
`
	got, err := parseHandlerCounts(strings.NewReader(metrics), "0.01")
	if err != nil {
		t.Fatal(err)
	}
	if want := (HandlerCounts{Total: 110, Within: 102}); got != want {
		t.Fatalf("parseHandlerCounts = %+v, want %+v", got, want)
	}
	over, total := got.Over(HandlerCounts{Total: 10, Within: 9})
	if over != 7 || total != 100 {
		t.Fatalf("Over = %d of %d, want 7 of 100", over, total)
	}
	if _, err := parseHandlerCounts(strings.NewReader(metrics), "0.02"); err == nil {
		t.Fatal("a bound the histogram does not have was accepted")
	}
	if _, err := parseHandlerCounts(strings.NewReader(`webhook_request_duration_seconds_bucket{status="202",le="0.01"} x`), "0.01"); err == nil {
		t.Fatal("a malformed value was accepted")
	}
}
