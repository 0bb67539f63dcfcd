package payload

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
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
	if ev.Type != "PhishingEmail" || ev.VendorStatus != "" || ev.Description != "" || ev.Link != "" {
		t.Errorf("type %q, status %q, description %q, link %q", ev.Type, ev.VendorStatus, ev.Description, ev.Link)
	}
}

// The Graph alert shape must not take over seed 003's: the seed still
// sniffs as defender and reads as it always did.
func TestDefenderSeedAutoUnchanged(t *testing.T) {
	body := defenderFixture(t, "seed_phishing_email")
	auto, err := Parse(FormatAuto, body)
	if err != nil {
		t.Fatal(err)
	}
	explicit, err := Parse(FormatDefender, body)
	if err != nil {
		t.Fatal(err)
	}
	if auto.Format != FormatDefender || !reflect.DeepEqual(auto.Events, explicit.Events) {
		t.Fatalf("auto format %s, events %+v", auto.Format, auto.Events)
	}
	if ev := auto.Events[0]; ev.Title != "PhishingEmail: Urgent Action Required" || ev.Type != "PhishingEmail" {
		t.Errorf("title %q, type %q", ev.Title, ev.Type)
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

func defenderFixture(t *testing.T, name string) []byte {
	t.Helper()
	body, err := os.ReadFile(filepath.Join(fixtureRoot, FormatDefender, name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// parseAuto parses body with auto-detection, which must pick defender
// without a warning, and returns its only event.
func parseAuto(t *testing.T, body []byte) Event {
	t.Helper()
	res, err := Parse(FormatAuto, body)
	if err != nil {
		t.Fatal(err)
	}
	if res.Format != FormatDefender || res.Warning != "" {
		t.Fatalf("auto-detected as %s (warning %q), want defender", res.Format, res.Warning)
	}
	if len(res.Events) != 1 {
		t.Fatalf("%d events, want 1", len(res.Events))
	}
	checkEvents(t, FormatDefender, res.Events)
	return res.Events[0]
}

// closes mirrors the receiver's reading of VendorStatus (see
// Event.VendorStatus): only "Resolved" or "Closed" close an incident.
func closes(status string) bool {
	return strings.EqualFold(status, "Resolved") || strings.EqualFold(status, "Closed")
}

func TestDefenderGraphEndpointAlert(t *testing.T) {
	ev := parseAuto(t, defenderFixture(t, "graph_mde_alert_new"))
	const id = "da638460328612186541_-1481364123"
	if ev.ExternalID != id || ev.CorrelationKey != id {
		t.Errorf("id %q, key %q", ev.ExternalID, ev.CorrelationKey)
	}
	if ev.Title != "Suspicious PowerShell download and execution" || ev.Category != "Execution" || ev.Type != "microsoftDefenderForEndpoint" {
		t.Errorf("title %q, category %q, type %q", ev.Title, ev.Category, ev.Type)
	}
	if ev.Severity != SeverityHigh || ev.VendorSeverity != "high" || ev.Action != ActionCreate {
		t.Errorf("severity %s (vendor %q), action %s", ev.Severity, ev.VendorSeverity, ev.Action)
	}
	if ev.VendorStatus != "new" || closes(ev.VendorStatus) {
		t.Errorf("a new alert has status %q", ev.VendorStatus)
	}
	if !ev.OccurredAt.Equal(time.Date(2024, 3, 14, 9, 27, 41, 218654100, time.UTC)) {
		t.Errorf("occurred at %v", ev.OccurredAt)
	}
	if !strings.HasPrefix(ev.Link, "https://security.microsoft.com/alerts/"+id) {
		t.Errorf("link %q", ev.Link)
	}
	e := ev.Entities
	want := Entities{
		Hosts: []string{"ws-fin-042.corp.contoso.com"},
		Users: []string{"jdoe@contoso.com"},
		FileHashes: []string{
			"aa545fe4f5b138dc0dd27fd28c96f078dbe697b3af1bc9b33ab83bee887b1432", "b933a62cf15e9fc9e5c33e776e1105433caa92b9",
			"34b724fd1763f0f3775a62f1db427313d7bb84d5dc55d0f4fa4bc3c4458bf915", "23113ec523ccacb24f1ea5a0d45702f16e577790",
		},
		// The loopback and link-local interfaces are left out.
		IPs:  []string{"10.20.4.57", "203.0.113.45"},
		URLs: []string{"http://203.0.113.45/u/upd.exe"},
		Files: []string{
			`C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`,
			`C:\Users\jdoe\AppData\Local\Temp\update_helper.exe`,
		},
		CommandLines: e.CommandLines,
	}
	if !reflect.DeepEqual(e, want) {
		t.Errorf("entities\n got %+v\nwant %+v", e, want)
	}
	if len(e.CommandLines) != 1 || !strings.HasPrefix(e.CommandLines[0], "powershell.exe -NoProfile") {
		t.Errorf("command lines %q", e.CommandLines)
	}
}

// A status change re-sends the whole alert under its id: the resolved
// copy lands on the new one's incident and closes it.
func TestDefenderGraphResolvedClosesSameIncident(t *testing.T) {
	opened := parseAuto(t, defenderFixture(t, "graph_mde_alert_new"))
	resolved := parseAuto(t, defenderFixture(t, "graph_mde_alert_resolved"))
	if resolved.CorrelationKey == "" || resolved.CorrelationKey != opened.CorrelationKey || resolved.CorrelationKey != resolved.ExternalID {
		t.Errorf("correlation keys %q and %q (id %q)", opened.CorrelationKey, resolved.CorrelationKey, resolved.ExternalID)
	}
	if resolved.VendorStatus != "Resolved" || !closes(resolved.VendorStatus) {
		t.Errorf("resolved alert has status %q", resolved.VendorStatus)
	}
	if resolved.Title != opened.Title || resolved.Severity != opened.Severity {
		t.Errorf("the resolved copy changes title %q → %q or severity %s → %s", opened.Title, resolved.Title, opened.Severity, resolved.Severity)
	}
}

func TestDefenderGraphStatus(t *testing.T) {
	for status, want := range map[string]string{
		"new": "new", "inProgress": "inProgress", "unknown": "unknown", "": "",
		"resolved": "Resolved", "Resolved": "Resolved",
	} {
		ev := parseOne(t, FormatDefender, `{"@odata.type":"#microsoft.graph.security.alert","id":"da1","status":"`+status+`"}`)
		if ev.VendorStatus != want {
			t.Errorf("status %q → %q, want %q", status, ev.VendorStatus, want)
		}
		if closes(ev.VendorStatus) != (want == "Resolved") {
			t.Errorf("status %q closes: %v", status, closes(ev.VendorStatus))
		}
	}
}

func TestDefenderGraphSeverity(t *testing.T) {
	for vendor, want := range map[string]Severity{
		"informational": SeverityInfo, "low": SeverityLow, "medium": SeverityMedium, "high": SeverityHigh,
		"unknown": SeverityMedium, "": SeverityMedium,
	} {
		ev := parseOne(t, FormatDefender, `{"@odata.type":"#microsoft.graph.security.alert","id":"da1","severity":"`+vendor+`"}`)
		if ev.Severity != want || ev.VendorSeverity != vendor {
			t.Errorf("severity %q → %s (vendor %q), want %s", vendor, ev.Severity, ev.VendorSeverity, want)
		}
	}
}

func TestDefenderGraphOfficeAlert(t *testing.T) {
	ev := parseAuto(t, defenderFixture(t, "graph_mdo_alert_malicious_url"))
	if ev.Type != "microsoftDefenderForOffice365" || ev.Severity != SeverityInfo || ev.VendorSeverity != "informational" {
		t.Errorf("type %q, severity %s (vendor %q)", ev.Type, ev.Severity, ev.VendorSeverity)
	}
	if ev.VendorStatus != "inProgress" || closes(ev.VendorStatus) {
		t.Errorf("an alert in progress has status %q", ev.VendorStatus)
	}
	// The title names the kind of mail; the subject, once for both
	// messages, goes into the description.
	if !strings.HasPrefix(ev.Description, "Emails with malicious URL") ||
		strings.Count(ev.Description, "Subject: Action required: mailbox storage limit reached") != 1 {
		t.Errorf("description %q", ev.Description)
	}
	want := Entities{
		Users:      []string{"alice.smith@contoso.com", "bob.jones@contoso.com"},
		Sender:     "bounce-7731@mail-storage-alerts.example",
		Recipients: []string{"alice.smith@contoso.com", "bob.jones@contoso.com"},
		IPs:        []string{"198.51.100.77"},
		URLs:       []string{"https://mail-storage-alerts.example/owa/verify?u=alice.smith", "https://mail-storage-alerts.example/owa/verify?u=bob.jones"},
	}
	if !reflect.DeepEqual(ev.Entities, want) {
		t.Errorf("entities\n got %+v\nwant %+v", ev.Entities, want)
	}
}

// Graph leaves out every @odata.type under odata.metadata=none; the alert
// must still be told apart and its evidence read by its fields.
func TestDefenderGraphWithoutODataTypes(t *testing.T) {
	for _, name := range []string{"graph_mde_alert_new", "graph_mdo_alert_malicious_url"} {
		body := defenderFixture(t, name)
		stripped := regexp.MustCompile(`"@odata\.type":\s*"[^"]*",?`).ReplaceAll(body, nil)
		if strings.Contains(string(stripped), "@odata") {
			t.Fatalf("%s: @odata.type left in", name)
		}
		if got, want := parseAuto(t, stripped), parseAuto(t, body); !reflect.DeepEqual(got, want) {
			t.Errorf("%s without @odata.type:\n got %+v\nwant %+v", name, got, want)
		}
	}
}

func TestDefenderGraphEvidenceFallbacks(t *testing.T) {
	ev := parseOne(t, FormatDefender, `{"@odata.type":"#microsoft.graph.security.alert","id":"da2",
		"title":"","threatDisplayName":"Trojan:Win32/Wacatac.B!ml","status":"resolved",
		"evidence":[
			{"@odata.type":"#microsoft.graph.security.userEvidence","userAccount":{"accountName":"svc-backup","domainName":"CONTOSO","userPrincipalName":null}},
			{"@odata.type":"#microsoft.graph.security.userEvidence","userAccount":{"accountName":"localadmin"}},
			{"@odata.type":"#microsoft.graph.security.mailboxEvidence","upn":"ops@contoso.com"},
			{"@odata.type":"#microsoft.graph.security.analyzedMessageEvidence","p1Sender":null,"p2Sender":{"emailAddress":"from@x.example"},
			 "recipientEmailAddress":"a@contoso.com; b@contoso.com","senderIp":"not an address","subject":"Trojan:Win32/Wacatac.B!ml"},
			{"@odata.type":"#microsoft.graph.security.deviceEvidence","deviceDnsName":"srv-01","ipInterfaces":"192.0.2.10"},
			{"@odata.type":"#microsoft.graph.security.fileEvidence","fileDetails":{"fileName":"a.dll","filePath":null,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}},
			"not an object", null, 7]}`)
	if ev.Title != "Trojan:Win32/Wacatac.B!ml" || ev.Description != "" {
		t.Errorf("title %q, description %q (the title already holds the subject)", ev.Title, ev.Description)
	}
	want := Entities{
		Hosts:      []string{"srv-01"},
		Users:      []string{`CONTOSO\svc-backup`, "localadmin", "ops@contoso.com"},
		Sender:     "from@x.example",
		Recipients: []string{"a@contoso.com", "b@contoso.com"},
		IPs:        []string{"192.0.2.10"},
		Files:      []string{"a.dll"},
	}
	if !reflect.DeepEqual(ev.Entities, want) {
		t.Errorf("entities\n got %+v\nwant %+v", ev.Entities, want)
	}
	if ev.VendorStatus != "Resolved" || ev.CorrelationKey != "da2" {
		t.Errorf("status %q, key %q", ev.VendorStatus, ev.CorrelationKey)
	}
}

// Bodies that share a field or two with a Graph alert are not one.
func TestDefenderGraphNearMissesStayGeneric(t *testing.T) {
	for _, body := range []string{
		`{"id":"a1","createdDateTime":"2024-03-14T09:27:41Z","title":"x"}`,
		`{"serviceSource":"x","id":"a1"}`,
		`{"@odata.type":"#microsoft.graph.security.alertEvidence","id":"a1"}`,
		`{"@odata.type":"#microsoft.graph.user","id":"a1","createdDateTime":"2024-03-14T09:27:41Z"}`,
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
