package payload

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestCanaryKinds(t *testing.T) {
	tests := []struct {
		name, body string
		typ        string
		severity   Severity
		title      string
	}{
		{"device incident",
			`{"AlertType":"CanaryIncident","Description":"HTTP Login Attempt","CanaryName":"nas-01","IncidentHash":"h1","Intro":"x"}`,
			"CanaryIncident", SeverityHigh, "HTTP Login Attempt on nas-01"},
		{"dummy by description",
			`{"AlertType":"CanaryIncident","Description":"Dummy Incident","CanaryName":"0000000testnode","Intro":"This is a dummy incident."}`,
			"CanaryIncident", SeverityInfo, "Dummy incident on 0000000testnode"},
		{"dummy by flock",
			`{"AlertType":"CanaryIncident","Description":"Fake Location","CanaryName":"DummyDevice","Flock":"flock:dummyincidentflock"}`,
			"CanaryIncident", SeverityInfo, "Dummy incident on DummyDevice"},
		{"console token",
			`{"AlertType":"CanarytokenIncident","Description":"AWS API Key","Reminder":"keys in CI","Token":"t1","Triggered":"3"}`,
			"CanarytokenIncident", SeverityHigh, "Canarytoken triggered: keys in CI"},
		{"operational",
			`{"Description":"Canary Reconnected","Intro":"One of your Canaries (nas-01) has reconnected.","CanaryName":"nas-01"}`,
			"operational", SeverityLow, "Canary Reconnected (nas-01)"},
		{"console audit",
			`{"type":"console-audit","payload":{"message":"User a@b.example logged in","action_type":"user_login","user":"a@b.example","user_ip":"192.0.2.9"}}`,
			"console-audit", SeverityInfo, "User a@b.example logged in"},
		{"console audit without payload",
			`{"type":"console-audit","payload":"gone"}`,
			"console-audit", SeverityInfo, "Canary console audit event"},
		{"free canarytoken",
			`{"manage_url":"https://canarytokens.org/manage?token=t&auth=secret","memo":"m","channel":"DNS","time":"2020-06-09 14:04:47 (UTC)"}`,
			"canarytoken", SeverityHigh, "Canarytoken triggered: m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Parse(FormatAuto, []byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if res.Format != FormatCanary || len(res.Events) != 1 {
				t.Fatalf("format %s with %d events", res.Format, len(res.Events))
			}
			ev := res.Events[0]
			if ev.Type != tt.typ || ev.Severity != tt.severity || ev.Title != tt.title {
				t.Errorf("got %q %s %q, want %q %s %q", ev.Type, ev.Severity, ev.Title, tt.typ, tt.severity, tt.title)
			}
		})
	}
}

func TestCanaryIncidentFields(t *testing.T) {
	ev := parseOne(t, FormatCanary, `{"AlertType":"CanaryIncident","Description":"SSH Login Attempt","CanaryName":"c1","CanaryIP":"10.0.0.2",
		"SourceIP":"10.0.0.9","ReverseDNS":"","CanaryPort":"22","LogType":"4002","MatchedAnnotations":{"a":1},
		"IncidentHash":"4ef51a936d05e0a6b4846378c8c38d2c","Timestamp":"2020-07-20 16:26:22 (UTC)","Intro":"SSH Login Attempt has been detected.",
		"AdditionalDetails":[["Username","foo"],["Key","*******"],["Dst Port",22],"junk",["lonely"]]}`)
	if ev.ExternalID != "4ef51a936d05e0a6b4846378c8c38d2c" || ev.CorrelationKey != ev.ExternalID {
		t.Errorf("id %q, key %q", ev.ExternalID, ev.CorrelationKey)
	}
	if !ev.OccurredAt.Equal(time.Date(2020, 7, 20, 16, 26, 22, 0, time.UTC)) {
		t.Errorf("occurred at %v", ev.OccurredAt)
	}
	if ev.Description != "SSH Login Attempt has been detected." || ev.Category != "SSH Login Attempt" {
		t.Errorf("description %q, category %q", ev.Description, ev.Category)
	}
	want := Entities{Hosts: []string{"c1"}, Users: []string{"foo"}, IPs: []string{"10.0.0.2", "10.0.0.9"}}
	if !reflect.DeepEqual(ev.Entities, want) {
		t.Errorf("entities\n got %+v\nwant %+v", ev.Entities, want)
	}
}

// The free Canarytoken's manage_url holds the token's auth secret; it
// must stay in the raw payload only.
func TestFreeCanarytokenKeepsManageURLOut(t *testing.T) {
	ev := parseOne(t, FormatCanary, `{"manage_url":"https://canarytokens.org/manage?token=t&auth=s3cr3t","memo":"m","channel":"HTTP",
		"additional_data":{"src_ip":"198.51.100.1","useragent":"curl"}}`)
	out, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "s3cr3t") {
		t.Errorf("event exposes the manage_url secret: %s", out)
	}
	if !reflect.DeepEqual(ev.Entities.IPs, []string{"198.51.100.1"}) {
		t.Errorf("ips %q", ev.Entities.IPs)
	}
}

// A device's disconnect and reconnect share one incident, which the
// reconnect resolves.
func TestCanaryOutageIsOneIncident(t *testing.T) {
	down := parseOne(t, FormatCanary, `{"Description":"Canary Disconnected","Intro":"One of your Canaries (fs-02) has disconnected from the console.","CanaryName":"fs-02","CanaryID":"00000000c81d4e2a"}`)
	up := parseOne(t, FormatCanary, `{"Description":"Canary Reconnected","Intro":"One of your Canaries (fs-02) has reconnected to the console.","CanaryName":"fs-02","CanaryID":"00000000c81d4e2a"}`)
	if down.CorrelationKey == "" || down.CorrelationKey != up.CorrelationKey || down.VendorStatus != "" || up.VendorStatus != "Resolved" {
		t.Fatalf("down %q/%q, up %q/%q", down.CorrelationKey, down.VendorStatus, up.CorrelationKey, up.VendorStatus)
	}
}

// Microsoft's alert records carry an AlertType too: they are not Canary
// incidents (auto-detection took them for ones, titled "Canary incident").
func TestMicrosoftAlertTypeIsNotCanary(t *testing.T) {
	body := `{"AlertId":"3fa2c1d0-13","AlertType":"System","Name":"Email messages removed after delivery","Operation":"AlertTriggered","Severity":"Informational","Status":"Active","CreationTime":"2025-07-08T16:01:29"}`
	res, err := Parse(FormatAuto, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if res.Format == FormatCanary {
		t.Fatalf("an Office 365 alert record detected as %s: %+v", res.Format, res.Events[0])
	}
}
