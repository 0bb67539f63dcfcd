package payload

import (
	"os"
	"path/filepath"
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

func TestCrowdStrikeFilePath(t *testing.T) {
	tests := []struct{ dir, file, want string }{
		// Linux and macOS sensors send slashed paths.
		{`/tmp/.x`, `kinsing`, `/tmp/.x/kinsing`},
		{`/tmp/.x/`, `kinsing`, `/tmp/.x/kinsing`},
		{`/`, `kinsing`, `/kinsing`},
		{`/tmp/.x/kinsing`, `kinsing`, `/tmp/.x/kinsing`},
		{`/usr/bin/xkinsing`, `kinsing`, `/usr/bin/xkinsing/kinsing`},
		// Windows sensors send backslashed device paths.
		{`\Device\HarddiskVolume1\Windows`, `explorer.exe`, `\Device\HarddiskVolume1\Windows\explorer.exe`},
		{`\Device\HarddiskVolume1\Windows\`, `explorer.exe`, `\Device\HarddiskVolume1\Windows\explorer.exe`},
		{`\Device\HarddiskVolume1\Windows`, `dows`, `\Device\HarddiskVolume1\Windows\dows`},
		{`\Device\HarddiskVolume1\Windows\explorer.exe`, `explorer.exe`, `\Device\HarddiskVolume1\Windows\explorer.exe`},
		// A path that is only the name, or either part missing.
		{`kinsing`, `kinsing`, `kinsing`},
		{`N/A`, `kinsing`, `kinsing`},
		{``, `kinsing`, `kinsing`},
		{`/tmp/.x`, ``, `/tmp/.x`},
		{`/tmp/.x`, `N/A`, `/tmp/.x`},
	}
	for _, tt := range tests {
		if got := joinFalconPath(tt.dir, tt.file); got != tt.want {
			t.Errorf("joinFalconPath(%q, %q) = %q, want %q", tt.dir, tt.file, got, tt.want)
		}
	}
	ev := parseOne(t, FormatCrowdStrike, `{"metadata":{"eventType":"DetectionSummaryEvent"},"event":{"FilePath":"/tmp/.x","FileName":"kinsing"}}`)
	if !reflect.DeepEqual(ev.Entities.Files, []string{"/tmp/.x/kinsing"}) {
		t.Errorf("files %q", ev.Entities.Files)
	}
}

// An analyst closing a detection in Falcon sends a detection_update audit
// event: it must land on the detection's incident, keyed exactly as the
// DetectionSummaryEvent was, leave its title and severity alone and say
// Closed.
func TestCrowdStrikeDetectionUpdate(t *testing.T) {
	detection := parseOne(t, FormatCrowdStrike, string(readFixture(t, FormatCrowdStrike, "detection_full.json")))
	update := parseOne(t, FormatCrowdStrike, string(readFixture(t, FormatCrowdStrike, "audit_detection_update_closed.json")))
	if update.CorrelationKey == "" || update.CorrelationKey != detection.CorrelationKey || update.ExternalID != detection.ExternalID {
		t.Errorf("update key %q id %q; detection key %q id %q", update.CorrelationKey, update.ExternalID, detection.CorrelationKey, detection.ExternalID)
	}
	if update.Action != ActionUpdate || update.VendorSeverity != "" || update.VendorStatus != "Closed" {
		t.Errorf("update action %s vendor severity %q status %q", update.Action, update.VendorSeverity, update.VendorStatus)
	}
	fp := parseOne(t, FormatCrowdStrike, string(readFixture(t, FormatCrowdStrike, "audit_detection_update_false_positive.json")))
	if fp.CorrelationKey != detection.CorrelationKey || fp.Action != ActionUpdate || fp.VendorSeverity != "" || fp.VendorStatus != "Closed" {
		t.Errorf("false_positive: key %q action %s vendor severity %q status %q", fp.CorrelationKey, fp.Action, fp.VendorSeverity, fp.VendorStatus)
	}

	seed := parseOne(t, FormatCrowdStrike, `{"metadata":{"eventType":"DetectionSummaryEvent"},"event":{"DetectId":"ldt:abc123","Severity":4}}`)
	// The detects API's statuses: true_positive, false_positive and ignored
	// are the resolutions an analyst closes a detection with, so they close
	// its incident as closed does; the others leave it open, verbatim.
	tests := []struct{ state, status string }{
		{`"new"`, "new"},
		{`"in_progress"`, "in_progress"},
		{`"true_positive"`, "Closed"},
		{`"false_positive"`, "Closed"},
		{`"ignored"`, "Closed"},
		{`"closed"`, "Closed"},
		{`"reopened"`, "reopened"},
		{`"resolved"`, "Closed"},
		// Case and surrounding space do not matter.
		{`"Closed"`, "Closed"},
		{`"CLOSED"`, "Closed"},
		{`"True_Positive"`, "Closed"},
		{`"FALSE_POSITIVE"`, "Closed"},
		{`"Ignored"`, "Closed"},
		{`" false_positive "`, "Closed"},
		{`"In_Progress"`, "In_Progress"},
		// Unknown or missing states stay as they were sent.
		{`"false positive"`, "false positive"},
		{`"positive"`, "positive"},
		{`"ignored_later"`, "ignored_later"},
		{`""`, ""},
		{`1`, "1"},
		{`null`, ""},
	}
	for _, tt := range tests {
		ev := parseOne(t, FormatCrowdStrike, `{"metadata":{"eventType":"UserActivityAuditEvent"},"event":{"OperationName":"detection_update",
			"AuditKeyValues":[{"Key":"detection_id","ValueString":"ldt:abc123"},{"Key":"new_state","ValueString":`+tt.state+`}]}}`)
		if ev.CorrelationKey != seed.CorrelationKey || ev.ExternalID != "ldt:abc123" || ev.Action != ActionUpdate ||
			ev.VendorSeverity != "" || ev.Severity != SeverityInfo || ev.VendorStatus != tt.status {
			t.Errorf("new_state %s: key %q id %q action %s severity %s (vendor %q) status %q; want key %q, update, status %q",
				tt.state, ev.CorrelationKey, ev.ExternalID, ev.Action, ev.Severity, ev.VendorSeverity, ev.VendorStatus, seed.CorrelationKey, tt.status)
		}
	}
	// Audit events about anything else still open nothing keyed.
	for _, b := range []string{
		`{"metadata":{"eventType":"UserActivityAuditEvent"},"event":{"OperationName":"user_update","AuditKeyValues":[{"Key":"user_id","ValueString":"u1"}]}}`,
		`{"metadata":{"eventType":"UserActivityAuditEvent"},"event":{"OperationName":"detection_update","AuditKeyValues":"junk"}}`,
		`{"metadata":{"eventType":"UserActivityAuditEvent"},"event":{"OperationName":"detection_update","AuditKeyValues":[1,{"Key":"detection_id"}]}}`,
	} {
		if ev := parseOne(t, FormatCrowdStrike, b); ev.CorrelationKey != "" || ev.Action != ActionCreate || ev.VendorStatus != "" {
			t.Errorf("%s: key %q action %s status %q", b, ev.CorrelationKey, ev.Action, ev.VendorStatus)
		}
	}
}

func TestCrowdStrikeIdentityProtection(t *testing.T) {
	ev := parseOne(t, FormatCrowdStrike, string(readFixture(t, FormatCrowdStrike, "identity_protection_incident.json")))
	if ev.ExternalID != "INC-12345" || ev.CorrelationKey != "INC-12345" || ev.Title != "Lateral Movement on FIN-LT-0231" || ev.Severity != SeverityHigh {
		t.Errorf("id %q key %q title %q severity %s", ev.ExternalID, ev.CorrelationKey, ev.Title, ev.Severity)
	}
	if !reflect.DeepEqual(ev.Entities.Hosts, []string{"FIN-LT-0231"}) || !reflect.DeepEqual(ev.Entities.IPs, []string{"10.20.30.41"}) {
		t.Errorf("entities %+v", ev.Entities)
	}
	ev = parseOne(t, FormatCrowdStrike, `{"metadata":{"eventType":"IdentityProtectionEvent"},"event":{"IdentityProtectionIncidentId":"INC-12345","IncidentDescription":"Unusual NTLM use","EndpointName":"10.0.0.7"}}`)
	if ev.ExternalID != "INC-12345" || ev.CorrelationKey != "INC-12345" || ev.Title != "Unusual NTLM use on 10.0.0.7" || ev.Description != "Unusual NTLM use" {
		t.Errorf("id %q key %q title %q description %q", ev.ExternalID, ev.CorrelationKey, ev.Title, ev.Description)
	}
	if len(ev.Entities.Hosts) != 0 || !reflect.DeepEqual(ev.Entities.IPs, []string{"10.0.0.7"}) {
		t.Errorf("entities %+v", ev.Entities)
	}
}

// Identity Protection re-sends an incident as its State moves: CLOSED
// closes the incident the first delivery opened, the rest leave it open.
func TestCrowdStrikeIdentityProtectionState(t *testing.T) {
	opened := parseOne(t, FormatCrowdStrike, string(readFixture(t, FormatCrowdStrike, "identity_protection_incident.json")))
	closed := parseOne(t, FormatCrowdStrike, string(readFixture(t, FormatCrowdStrike, "identity_protection_incident_closed.json")))
	if opened.VendorStatus != "NEW" || closed.VendorStatus != "Closed" {
		t.Errorf("status %q then %q, want NEW then Closed", opened.VendorStatus, closed.VendorStatus)
	}
	if closed.CorrelationKey == "" || closed.CorrelationKey != opened.CorrelationKey || closed.Title != opened.Title || closed.Severity != opened.Severity {
		t.Errorf("closed key %q title %q severity %s; opened key %q title %q severity %s",
			closed.CorrelationKey, closed.Title, closed.Severity, opened.CorrelationKey, opened.Title, opened.Severity)
	}

	tests := []struct{ state, status string }{
		{`"NEW"`, "NEW"},
		{`"IN_PROGRESS"`, "IN_PROGRESS"},
		{`"CLOSED"`, "Closed"},
		{`"REOPENED"`, "REOPENED"},
		// Case and surrounding space do not matter.
		{`"closed"`, "Closed"},
		{`"Closed"`, "Closed"},
		{`" CLOSED "`, "Closed"},
		{`"new"`, "new"},
		{`"in_progress"`, "in_progress"},
		{`"reopened"`, "reopened"},
		// Unknown or missing states stay as they were sent.
		{`"DISMISSED"`, "DISMISSED"},
		{`"CLOSING"`, "CLOSING"},
		{`""`, ""},
		{`3`, "3"},
		{`{"x":1}`, ""},
		{`null`, ""},
	}
	for _, tt := range tests {
		ev := parseOne(t, FormatCrowdStrike, `{"metadata":{"eventType":"IdentityProtectionEvent"},"event":{"IdentityProtectionIncidentId":"INC-12345",
			"IncidentType":"Lateral Movement","Severity":4,"State":`+tt.state+`}}`)
		if ev.CorrelationKey != "INC-12345" || ev.Action != ActionCreate || ev.Severity != SeverityHigh || ev.VendorStatus != tt.status {
			t.Errorf("State %s: key %q action %s severity %s status %q; want INC-12345, create, high, status %q",
				tt.state, ev.CorrelationKey, ev.Action, ev.Severity, ev.VendorStatus, tt.status)
		}
	}
	// A State on anything but an Identity Protection incident is not read.
	ev := parseOne(t, FormatCrowdStrike, `{"metadata":{"eventType":"DetectionSummaryEvent"},"event":{"DetectId":"ldt:abc123","State":"CLOSED"}}`)
	if ev.VendorStatus != "" {
		t.Errorf("detection with a State: status %q", ev.VendorStatus)
	}
}

func readFixture(t *testing.T, format, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureRoot, format, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
