package payload

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func TestThreatStackBatchIsOneEventPerAlert(t *testing.T) {
	body, err := os.ReadFile(filepath.Join(fixtureRoot, FormatThreatStack, "batch_of_three.json"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Parse(FormatAuto, body)
	if err != nil {
		t.Fatal(err)
	}
	if res.Format != FormatThreatStack || len(res.Events) != 3 {
		t.Fatalf("format %s, %d events; want threatstack, 3", res.Format, len(res.Events))
	}
	wantIDs := []string{"587c0159a907346eccb84004", "587c036efc22b55ac0b72837", "587c0412a907346eccb8400f"}
	for i, ev := range res.Events {
		if ev.ExternalID != wantIDs[i] || ev.CorrelationKey != wantIDs[i] || ev.Severity != SeverityHigh || ev.Action != ActionCreate {
			t.Errorf("event %d: id %q key %q severity %s action %s", i, ev.ExternalID, ev.CorrelationKey, ev.Severity, ev.Action)
		}
	}
	// A host name, a region (not a host) and an address.
	if got := res.Events[0].Entities.Hosts; !reflect.DeepEqual(got, []string{"web-03"}) {
		t.Errorf("event 0 hosts %q", got)
	}
	if got := res.Events[1].Entities; !reflect.DeepEqual(got, Entities{}) {
		t.Errorf("event 1 (cloudtrail) entities %+v", got)
	}
	if got := res.Events[2].Entities.IPs; !reflect.DeepEqual(got, []string{"10.0.4.12"}) {
		t.Errorf("event 2 ips %q", got)
	}
}

func TestThreatStackSeverityAndTime(t *testing.T) {
	tests := []struct {
		severity, createdAt string
		want                Severity
		at                  time.Time
	}{
		{`1`, `1484521231000`, SeverityHigh, time.UnixMilli(1484521231000)},
		{`"2"`, `"1484521231000"`, SeverityMedium, time.UnixMilli(1484521231000)},
		{`3`, `"2017-01-15T23:00:31Z"`, SeverityLow, time.Date(2017, 1, 15, 23, 0, 31, 0, time.UTC)},
		{`0`, `null`, SeverityMedium, time.Time{}},
		{`"low"`, `true`, SeverityLow, time.Time{}},
	}
	for _, tt := range tests {
		ev := parseOne(t, FormatThreatStack, `{"alerts":[{"id":"a","severity":`+tt.severity+`,"created_at":`+tt.createdAt+`,"server_or_region":"h"}]}`)
		if ev.Severity != tt.want || !ev.OccurredAt.Equal(tt.at) {
			t.Errorf("severity %s, created_at %s: %s at %v; want %s at %v", tt.severity, tt.createdAt, ev.Severity, ev.OccurredAt, tt.want, tt.at)
		}
	}
}

func TestThreatStackEnvelopeWithoutAlerts(t *testing.T) {
	for _, body := range []string{`{"alerts":[]}`, `{"alerts":[1,"x",null]}`, `{"alerts":"oops"}`} {
		ev := parseOne(t, FormatThreatStack, body)
		if ev.Title != "Threat Stack alert" || ev.Severity != SeverityMedium {
			t.Errorf("%s: title %q severity %s", body, ev.Title, ev.Severity)
		}
	}
	res, err := Parse(FormatThreatStack, []byte(`{"alerts":[{"id":"a1","server_or_region":"h"},"x",{"id":"a2","server_or_region":"h"},
		{"id":"a1","server_or_region":"h"},{"title":"no id"},{"title":"no id"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, ev := range res.Events {
		ids = append(ids, ev.ExternalID)
	}
	if want := []string{"a1", "a2", "", ""}; !reflect.DeepEqual(ids, want) {
		t.Errorf("mixed envelope: ids %q, want %q (non-objects skipped, repeated ids once)", ids, want)
	}
}
