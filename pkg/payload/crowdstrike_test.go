package payload

import (
	"reflect"
	"testing"
	"time"
)

func TestCrowdStrikeSeed(t *testing.T) {
	ev := parseOne(t, FormatCrowdStrike, `{"metadata":{"eventType":"DetectionSummaryEvent","eventCreationTime":1705320000000},
		"event":{"DetectId":"ldt:abc123","Severity":4,"HostnameField":"WORKSTATION-01","DetectName":"Malicious File Detected"}}`)
	if ev.Title != "Malicious File Detected on WORKSTATION-01" {
		t.Errorf("title %q", ev.Title)
	}
	if ev.Severity != SeverityHigh || ev.VendorSeverity != "4" {
		t.Errorf("severity %s (vendor %q)", ev.Severity, ev.VendorSeverity)
	}
	if ev.ExternalID != "ldt:abc123" || ev.CorrelationKey != "ldt:abc123" || ev.Type != "DetectionSummaryEvent" {
		t.Errorf("id %q, key %q, type %q", ev.ExternalID, ev.CorrelationKey, ev.Type)
	}
	if !ev.OccurredAt.Equal(time.Unix(1705320000, 0)) {
		t.Errorf("occurred at %v", ev.OccurredAt)
	}
	if !reflect.DeepEqual(ev.Entities.Hosts, []string{"WORKSTATION-01"}) {
		t.Errorf("hosts %q", ev.Entities.Hosts)
	}
}

func TestCrowdStrikeSeverityScale(t *testing.T) {
	tests := []struct {
		severity string
		want     Severity
	}{
		{`1`, SeverityInfo},
		{`2`, SeverityLow},
		{`3`, SeverityMedium},
		{`4`, SeverityHigh},
		{`5`, SeverityCritical},
		{`"5"`, SeverityCritical},
		{`"3.0"`, SeverityMedium},
		{`9`, SeverityMedium},
		{`null`, SeverityMedium},
		{`"High"`, SeverityHigh},
	}
	for _, tt := range tests {
		ev := parseOne(t, FormatCrowdStrike, `{"metadata":{"eventType":"DetectionSummaryEvent"},"event":{"Severity":`+tt.severity+`}}`)
		if ev.Severity != tt.want {
			t.Errorf("Severity %s: %s, want %s", tt.severity, ev.Severity, tt.want)
		}
	}
	// SeverityName stands in when the number is missing or off the scale.
	ev := parseOne(t, FormatCrowdStrike, `{"metadata":{"eventType":"DetectionSummaryEvent"},"event":{"Severity":0,"SeverityName":"Informational"}}`)
	if ev.Severity != SeverityInfo || ev.VendorSeverity != "Informational" {
		t.Errorf("SeverityName fallback: %s (vendor %q)", ev.Severity, ev.VendorSeverity)
	}
	ev = parseOne(t, FormatCrowdStrike, `{"metadata":{"eventType":"UserActivityAuditEvent"},"event":{"OperationName":"detection_update"}}`)
	if ev.Severity != SeverityInfo || ev.Title != "UserActivityAuditEvent: detection_update" {
		t.Errorf("audit event: %s %q", ev.Severity, ev.Title)
	}
}

func TestCrowdStrikeEntities(t *testing.T) {
	ev := parseOne(t, FormatCrowdStrike, `{"metadata":{"eventType":"DetectionSummaryEvent"},"event":{
		"ComputerName":"H1","UserName":"N/A","LocalIP":"10.0.0.5",
		"MD5String":"ef3179d498793bf4234f708d3be28633","SHA1String":"0000000000000000000000000000000000000000",
		"FilePath":"\\Device\\HarddiskVolume1\\Windows","FileName":"explorer.exe","CommandLine":"C:\\Windows\\Explorer.EXE"}}`)
	want := Entities{
		Hosts:        []string{"H1"},
		IPs:          []string{"10.0.0.5"},
		FileHashes:   []string{"ef3179d498793bf4234f708d3be28633"},
		Files:        []string{`\Device\HarddiskVolume1\Windows\explorer.exe`},
		CommandLines: []string{`C:\Windows\Explorer.EXE`},
	}
	if !reflect.DeepEqual(ev.Entities, want) {
		t.Errorf("entities\n got %+v\nwant %+v", ev.Entities, want)
	}
}
