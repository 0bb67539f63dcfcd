package payload

import (
	"reflect"
	"testing"
	"time"
)

func TestDefenderSeed(t *testing.T) {
	ev := parseOne(t, FormatDefender, `{"eventType":"PhishingEmail","id":"AAMkAGI2...","creationTime":"2024-01-15T10:00:00Z",
		"severity":"high","category":"Phish","entityType":"Email",
		"data":{"sender":"phisher@malicious.com","subject":"Urgent Action Required","recipients":["user@company.com"]}}`)
	if ev.Title != "PhishingEmail: Urgent Action Required" {
		t.Errorf("title %q", ev.Title)
	}
	if ev.Severity != SeverityHigh || ev.Category != "Phish" || ev.ExternalID != "AAMkAGI2..." || ev.CorrelationKey != ev.ExternalID {
		t.Errorf("severity %s, category %q, id %q, key %q", ev.Severity, ev.Category, ev.ExternalID, ev.CorrelationKey)
	}
	if !ev.OccurredAt.Equal(time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("occurred at %v", ev.OccurredAt)
	}
	if ev.Entities.Sender != "phisher@malicious.com" || !reflect.DeepEqual(ev.Entities.Recipients, []string{"user@company.com"}) {
		t.Errorf("entities %+v", ev.Entities)
	}
}

func TestDefenderLenient(t *testing.T) {
	ev := parseOne(t, FormatDefender, `{"eventType":"PhishingEmail","creationTime":1705312800,"severity":3,
		"data":{"recipients":"a@x.example, b@x.example","subject":null}}`)
	if ev.Title != "PhishingEmail" {
		t.Errorf("title %q", ev.Title)
	}
	if ev.Severity != SeverityMedium || ev.VendorSeverity != "3" {
		t.Errorf("severity %s (vendor %q)", ev.Severity, ev.VendorSeverity)
	}
	if !reflect.DeepEqual(ev.Entities.Recipients, []string{"a@x.example", "b@x.example"}) {
		t.Errorf("recipients %q", ev.Entities.Recipients)
	}
	if ev.OccurredAt.IsZero() {
		t.Error("epoch creationTime not read")
	}
}
