package payload

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The seed's creation and update of one case, and changes to what hangs
// off that case, must all carry the case's id as correlation key.
func TestTheHiveChangesShareTheCaseIncident(t *testing.T) {
	const caseID = "AV6FZsTj0KeanEfOQfd_"
	tests := []struct {
		file     string
		action   Action
		severity Severity
	}{
		{"seed_case_creation.json", ActionCreate, SeverityMedium},
		{"seed_case_update.json", ActionUpdate, SeverityHigh},
		{"case_artifact_ip_creation.json", ActionUpdate, SeverityInfo},
		{"case_task_update.json", ActionUpdate, SeverityInfo},
		{"case_resolved_strings_for_numbers.json", ActionUpdate, SeverityHigh},
	}
	for _, tt := range tests {
		body, err := os.ReadFile(filepath.Join(fixtureRoot, FormatTheHive, tt.file))
		if err != nil {
			t.Fatal(err)
		}
		ev := parseOne(t, FormatTheHive, string(body))
		if ev.CorrelationKey != caseID || ev.Action != tt.action || ev.Severity != tt.severity {
			t.Errorf("%s: key %q, action %s, severity %s; want %q, %s, %s",
				tt.file, ev.CorrelationKey, ev.Action, ev.Severity, caseID, tt.action, tt.severity)
		}
	}
}

func TestTheHiveOperations(t *testing.T) {
	tests := []struct {
		body       string
		typ        string
		action     Action
		vendorSev  string
		wantTitle  string
		wantStatus string
	}{
		{`{"operation":"Delete","objectType":"case","objectId":"c1","rootId":"c1","object":{"title":"T","caseId":7,"status":"Deleted"}}`,
			"case_delete", ActionDelete, "", "Case #7: T", "Deleted"},
		{`{"operation":"Delete","objectType":"case_artifact","objectId":"a1","rootId":"c1","details":{"dataType":"domain","data":"x.example"}}`,
			"case_artifact_delete", ActionUpdate, "", "Observable deleted: domain x.example", ""},
		{`{"operation":"Creation","objectType":"case_task_log","objectId":"l1","rootId":"c1","object":{"message":"Checked the proxy logs\nnothing since 10:00"}}`,
			"case_task_log_create", ActionUpdate, "", "Task log created: Checked the proxy logs …", ""},
		{`{"action":"create","objectType":"Alert","objectId":"~4096","rootId":"~4096","object":{"title":"From TheHive 5","severity":1,"status":"New"}}`,
			"alert_create", ActionCreate, "1", "From TheHive 5", "New"},
		{`{"action":"update","objectType":"Observable","objectId":"~8192","rootId":"~4096","object":{"dataType":"hostname","data":"ws-12"}}`,
			"case_artifact_update", ActionUpdate, "", "Observable updated: hostname ws-12", ""},
		{`{"operation":"Merge","objectType":"case","objectId":"c2","rootId":"c2","object":{"severity":"high"}}`,
			"case_merge", ActionUpdate, "high", "TheHive case c2", ""},
	}
	for _, tt := range tests {
		ev := parseOne(t, FormatTheHive, tt.body)
		if ev.Type != tt.typ || ev.Action != tt.action || ev.VendorSeverity != tt.vendorSev || ev.Title != tt.wantTitle || ev.VendorStatus != tt.wantStatus {
			t.Errorf("%s:\n got type %q action %s vendor severity %q title %q status %q\nwant type %q action %s vendor severity %q title %q status %q",
				tt.body, ev.Type, ev.Action, ev.VendorSeverity, ev.Title, ev.VendorStatus,
				tt.typ, tt.action, tt.vendorSev, tt.wantTitle, tt.wantStatus)
		}
	}
}

func TestTheHiveSeverityScale(t *testing.T) {
	for in, want := range map[string]Severity{`1`: SeverityLow, `2`: SeverityMedium, `3`: SeverityHigh, `4`: SeverityCritical, `"4"`: SeverityCritical, `0`: SeverityMedium, `null`: SeverityMedium} {
		ev := parseOne(t, FormatTheHive, `{"operation":"Creation","objectType":"case","objectId":"c","object":{"severity":`+in+`}}`)
		if ev.Severity != want {
			t.Errorf("severity %s: %s, want %s", in, ev.Severity, want)
		}
	}
}

func TestTheHiveObservables(t *testing.T) {
	ev := parseOne(t, FormatTheHive, `{"operation":"Creation","objectType":"alert","objectId":"a","object":{"title":"t","artifacts":[
		{"dataType":"ip","data":"192.0.2.1"},{"dataType":"ip","data":"not an ip"},{"dataType":"fqdn","data":"www.x.example"},
		{"dataType":"hash","data":"d41d8cd98f00b204e9800998ecf8427e"},{"dataType":"user-agent","data":"curl/8"},
		{"dataType":"file","attachment":{"name":"a.exe","hashes":["d41d8cd98f00b204e9800998ecf8427e"]}},"junk",{"dataType":"ip","data":["192.0.2.2"]}]}}`)
	want := Entities{
		FileHashes: []string{"d41d8cd98f00b204e9800998ecf8427e"},
		IPs:        []string{"192.0.2.1", "192.0.2.2"},
		Domains:    []string{"www.x.example"},
		Files:      []string{"a.exe"},
	}
	if !reflect.DeepEqual(ev.Entities, want) {
		t.Errorf("entities\n got %+v\nwant %+v", ev.Entities, want)
	}
}

// TheHive 5 closes a case in its stage; its status is then the
// resolution (TruePositive...), which the receiver does not read as
// closed. The event must say Closed, date itself from the underscored
// fields and number the case as TheHive 4's caseId did.
func TestTheHive5ClosedCase(t *testing.T) {
	body, err := os.ReadFile(filepath.Join(fixtureRoot, FormatTheHive, "thehive5_case_closed.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{
		string(body),
		`{"_createdAt":1678000000000,"action":"update","objectType":"Case","objectId":"~4128","rootId":"~4128","object":{"number":12,"status":"TruePositive","stage":"Closed","severity":2,"_updatedAt":1678000000000}}`,
	} {
		ev := parseOne(t, FormatTheHive, b)
		if ev.VendorStatus != "Closed" || ev.Action != ActionUpdate || ev.CorrelationKey != "~4128" || ev.VendorSeverity != "2" {
			t.Errorf("status %q action %s key %q vendor severity %q", ev.VendorStatus, ev.Action, ev.CorrelationKey, ev.VendorSeverity)
		}
		if !ev.OccurredAt.Equal(time.UnixMilli(1678000000000)) {
			t.Errorf("occurred at %v", ev.OccurredAt)
		}
		if !strings.HasPrefix(ev.Title, "Case #12: ") {
			t.Errorf("title %q", ev.Title)
		}
	}

	tests := []struct {
		body, status string
		at           time.Time
	}{
		// Still open in TheHive 5: the status is passed on as sent.
		{`{"action":"update","objectType":"Case","objectId":"~1","object":{"status":"InProgress","stage":"InProgress","_updatedAt":1678000001000,"_createdAt":1677000000000}}`,
			"InProgress", time.UnixMilli(1678000001000)},
		// Only what changed, in details.
		{`{"action":"update","objectType":"Case","objectId":"~1","details":{"stage":"closed","status":"FalsePositive"}}`, "Closed", time.Time{}},
		// TheHive 4 has no stage, and its own dates win.
		{`{"operation":"Update","objectType":"case","objectId":"c","object":{"status":"Resolved","updatedAt":1505477372246,"_updatedAt":1678000000000}}`,
			"Resolved", time.UnixMilli(1505477372246)},
		{`{"action":"create","objectType":"Case","objectId":"~1","object":{"status":"New","stage":"New","_createdAt":1677000000000}}`,
			"New", time.UnixMilli(1677000000000)},
	}
	for _, tt := range tests {
		ev := parseOne(t, FormatTheHive, tt.body)
		if ev.VendorStatus != tt.status || !ev.OccurredAt.Equal(tt.at) {
			t.Errorf("%s: status %q at %v; want %q at %v", tt.body, ev.VendorStatus, ev.OccurredAt, tt.status, tt.at)
		}
	}
	// A task carries no status of the case, whatever its stage.
	if ev := parseOne(t, FormatTheHive, `{"action":"update","objectType":"Task","objectId":"~9","rootId":"~1","object":{"title":"t","stage":"Closed"}}`); ev.VendorStatus != "" {
		t.Errorf("task status %q", ev.VendorStatus)
	}
}

// An alert imported into a case (TheHive 4 status, TheHive 5 stage
// "Imported") is done as an alert: its incident closes, and the case
// opens its own.
func TestTheHiveImportedAlertCloses(t *testing.T) {
	for _, b := range []string{
		`{"operation":"Update","objectType":"alert","objectId":"~81","rootId":"~81","details":{"status":"Imported","case":"AV6F"},"object":{"title":"Phish","status":"Imported","severity":2}}`,
		`{"action":"update","objectType":"Alert","objectId":"~82","rootId":"~82","object":{"title":"Phish","stage":"Imported","caseId":"~900","severity":2}}`,
	} {
		if ev := parseOne(t, FormatTheHive, b); ev.VendorStatus != "Closed" {
			t.Errorf("%s: vendor status %q, want Closed", b, ev.VendorStatus)
		}
	}
	// A case is not closed by an "Imported" of its own.
	if ev := parseOne(t, FormatTheHive, `{"operation":"Update","objectType":"case","objectId":"~5","object":{"title":"c","status":"Imported"}}`); ev.VendorStatus == "Closed" {
		t.Error("a case's status closed it as an alert's would")
	}
}
