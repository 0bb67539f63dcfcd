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

// Integrations that forward only id, title, severity and created_at must
// still be recognised inside the envelope, or every alert in the batch
// would be folded into one generic event.
func TestThreatStackSniffsMinimalAlerts(t *testing.T) {
	tests := []struct {
		body    string
		wantIDs []string
	}{
		{`{"alerts":[{"id":"x1","title":"sudo","severity":1,"created_at":1484521231000}]}`, []string{"x1"}},
		{`{"alerts":[{"id":"x1","severity":3},{"id":"x2","severity":"2"}]}`, []string{"x1", "x2"}},
		{`{"alerts":[{"id":"x1","created_at":"2017-01-15T23:00:31Z"}]}`, []string{"x1"}},
		{`{"alerts":[{"id":7,"severity":1}]}`, []string{"7"}},
	}
	for _, tt := range tests {
		res, err := Parse(FormatAuto, []byte(tt.body))
		if err != nil {
			t.Fatalf("%s: %v", tt.body, err)
		}
		var ids []string
		for _, ev := range res.Events {
			ids = append(ids, ev.ExternalID)
		}
		if res.Format != FormatThreatStack || !reflect.DeepEqual(ids, tt.wantIDs) {
			t.Errorf("%s: format %s ids %q; want threatstack %q", tt.body, res.Format, ids, tt.wantIDs)
		}
	}
}

// The lean test applies only inside an "alerts" envelope and needs an id
// with a Threat Stack severity or a created_at; other shapes stay generic.
func TestThreatStackMinimalSniffIsNarrow(t *testing.T) {
	for _, body := range []string{
		`{"id":"x1","title":"sudo","severity":1,"created_at":1484521231000}`,
		`{"alerts":[{"id":"x1","severity":4}]}`,
		`{"alerts":[{"id":"x1","severity":"high"}]}`,
		`{"alerts":[{"id":"x1","severity":1.5}]}`,
		`{"alerts":[{"id":"","severity":1,"created_at":1}]}`,
		`{"alerts":[{"title":"no id","severity":1,"created_at":1}]}`,
		`{"alerts":{"id":"x1","severity":1}}`,
	} {
		res, err := Parse(FormatAuto, []byte(body))
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		if res.Format != FormatGeneric {
			t.Errorf("%s: sniffed as %s, want generic", body, res.Format)
		}
	}
}

// server_or_region is a region only when it is shaped like an AWS region;
// host names with a trailing number are hosts.
func TestThreatStackRegionOrHost(t *testing.T) {
	regions := []string{"us-east-1", "us-west-2", "eu-central-1", "eu-north-1", "ap-southeast-2", "ap-northeast-3", "sa-east-1",
		"ca-west-1", "me-south-1", "af-south-1", "il-central-1", "mx-central-1", "us-gov-west-1", "us-iso-east-1",
		"us-isob-east-1", "cn-northwest-1"}
	for _, r := range regions {
		if ev := parseOne(t, FormatThreatStack, `{"alerts":[{"id":"a","severity":1,"server_or_region":"`+r+`"}]}`); !reflect.DeepEqual(ev.Entities, Entities{}) {
			t.Errorf("region %s: entities %+v", r, ev.Entities)
		}
	}
	for _, h := range []string{"db-primary-1", "web-east-1", "eu-prod-1", "us-east-1a", "ab-east-1", "us-east-one", "app-west-2"} {
		if ev := parseOne(t, FormatThreatStack, `{"alerts":[{"id":"a","severity":1,"server_or_region":"`+h+`"}]}`); !reflect.DeepEqual(ev.Entities.Hosts, []string{h}) {
			t.Errorf("host %s: entities %+v", h, ev.Entities)
		}
	}
	body, err := os.ReadFile(filepath.Join(fixtureRoot, FormatThreatStack, "hosts_named_like_regions.json"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Parse(FormatAuto, body)
	if err != nil || len(res.Events) != 3 {
		t.Fatalf("%v, %d events", err, len(res.Events))
	}
	for i, want := range [][]string{{"db-primary-1"}, nil, {"web-east-1"}} {
		if got := res.Events[i].Entities.Hosts; !reflect.DeepEqual(got, want) {
			t.Errorf("event %d hosts %q, want %q", i, got, want)
		}
	}
}
