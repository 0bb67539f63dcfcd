package canarytest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tw-cli/tw-cli/pkg/canary/canarytest"
)

const token = "tok"

type reply struct {
	status int
	body   map[string]any
}

func send(t *testing.T, method, rawURL, contentType, body string) reply {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("body %q: %v", raw, err)
	}
	return reply{status: resp.StatusCode, body: m}
}

const form = "application/x-www-form-urlencoded"

// TestContractViolations checks the fake rejects and records requests that
// do not follow seed 002.
func TestContractViolations(t *testing.T) {
	good := url.Values{"auth_token": {token}, "flock_id": {canarytest.DefaultFlock}}.Encode()
	tests := []struct {
		name        string
		method      string
		path        string
		query       string
		contentType string
		body        string
		wantStatus  int
		wantMsg     string
	}{
		{"POST to a GET endpoint", "POST", "flock/settings/webhooks/is_enabled", "", form, good, 405, "want GET"},
		{"GET to a POST endpoint", "GET", "flock/settings/webhooks/enable", good, "", "", 405, "want POST"},
		{"unknown endpoint", "GET", "flock/settings/webhooks/email", good, "", "", 404, "no such endpoint"},
		{"GET params in body", "GET", "flock/settings/webhooks/is_enabled", "", form, good, 400, "parameters belong in the query"},
		{"POST params in query", "POST", "flock/settings/webhooks/enable", good, form, "", 400, "auth_token=REDACTED"},
		{"POST as JSON", "POST", "flock/settings/webhooks/enable", "", "application/json", `{"auth_token":"tok"}`, 400, "want application/x-www-form-urlencoded"},
		{"missing flock_id", "GET", "flock/settings/webhooks/is_global", "auth_token=tok", "", "", 400, "missing flock_id"},
		{"missing auth_token", "GET", "flock/settings/webhooks/is_global", "flock_id=flock:default", "", "", 400, "missing auth_token"},
		{"missing url", "POST", "flock/settings/webhooks/generic/add", "", form, good, 400, "missing url"},
		{"slack remove by url", "POST", "flock/settings/webhooks/slack/remove", "", form, good + "&url=https://x", 400,
			"missing team; missing channel; undocumented parameter url"},
		{"undocumented param", "GET", "flock/settings/webhooks/slack", good + "&verbose=1", "", "", 400, "undocumented parameter verbose"},
		{"repeated param", "GET", "flock/settings/webhooks/slack", good + "&flock_id=x", "", "", 400, "flock_id given more than once"},
		{"empty param", "POST", "flock/settings/webhooks/ms_teams/add", "", form, good + "&url=", 400, "empty url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := canarytest.NewServer(t, token)
			c.AllowViolations()
			u := c.URL() + tt.path
			if tt.query != "" {
				u += "?" + tt.query
			}
			r := send(t, tt.method, u, tt.contentType, tt.body)
			msg, _ := r.body["message"].(string)
			if r.status != tt.wantStatus || r.body["result"] != "error" || !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("got %d %v, want %d and message containing %q", r.status, r.body, tt.wantStatus, tt.wantMsg)
			}
			if v := c.Violations(); len(v) != 1 {
				t.Errorf("violations = %q, want one", v)
			}
		})
	}
}

// TestSeedBodies checks the fake answers with the bodies seed 002 documents.
func TestSeedBodies(t *testing.T) {
	c := canarytest.NewServer(t, token)
	c.AddGeneric(canarytest.DefaultFlock, "https://a.example.com", canarytest.Header{Name: "X-Key", Value: "secret"})
	c.AddSlack(canarytest.DefaultFlock, canarytest.SlackWebhook{Team: "acme", Channel: "#c", URL: "https://hooks.slack.com/x", ConfigurationURL: "https://acme.slack.com/cfg"})
	c.SetSplunk(canarytest.DefaultFlock, canarytest.SplunkWebhook{Host: "h", Port: "8088", Token: "hec"})
	q := "?" + url.Values{"auth_token": {token}, "flock_id": {canarytest.DefaultFlock}}.Encode()

	tests := map[string]string{
		"flock/settings/webhooks/is_enabled":   `{"is_enabled":true,"result":"success"}`,
		"flock/settings/webhooks/is_global":    `{"is_global":true,"result":"success"}`,
		"flock/settings/webhooks/generic":      `{"generic_webhooks":["https://a.example.com"],"result":"success","webhooks_enabled":true}`,
		"flock/settings/webhooks/generic/list": `{"generic_webhooks":[{"header_names":["X-Key"],"url":"https://a.example.com","webhook_id":"00000000000000000000000000000001"}],"result":"success","webhooks_enabled":true}`,
		"flock/settings/webhooks/ms_teams":     `{"ms_teams_webhooks":[],"result":"success","webhooks_enabled":true}`,
		"flock/settings/webhooks/slack":        `{"result":"success","slack_webhooks":[{"channel":"#c","configuration_url":"https://acme.slack.com/cfg","team":"acme","url":"https://hooks.slack.com/x"}],"webhooks_enabled":true}`,
		"flock/settings/webhooks/splunk":       `{"result":"success","splunk_webhook":{"host":"h","port":"8088","token":"hec"},"webhooks_enabled":true}`,
	}
	for path, want := range tests {
		r := send(t, "GET", c.URL()+path+q, "", "")
		got, _ := json.Marshal(r.body)
		if r.status != 200 || string(got) != want {
			t.Errorf("%s: %d %s\nwant %s", path, r.status, got, want)
		}
	}

	// The header value is stored but never listed.
	r := send(t, "GET", c.URL()+"flock/settings/webhooks/generic/list"+q, "", "")
	if raw, _ := json.Marshal(r.body); strings.Contains(string(raw), "secret") {
		t.Errorf("header value listed: %s", raw)
	}

	bad := send(t, "GET", c.URL()+"ping?auth_token=wrong", "", "")
	if bad.status != 403 || bad.body["message"] != "Invalid auth_token" || bad.body["result"] != "error" {
		t.Errorf("wrong token: %d %v", bad.status, bad.body)
	}
}

func TestHeadersMustBeJSONObject(t *testing.T) {
	c := canarytest.NewServer(t, token)
	for _, h := range []string{`[]`, `{"X": 1}`, `not json`, `{"X":"1"} trailing`} {
		body := url.Values{"auth_token": {token}, "flock_id": {canarytest.DefaultFlock}, "url": {"https://x.example.com"}, "headers": {h}}.Encode()
		r := send(t, "POST", c.URL()+"flock/settings/webhooks/generic/add", form, body)
		if r.status != 400 || !strings.HasPrefix(r.body["message"].(string), "Invalid headers") {
			t.Errorf("headers %s: %d %v", h, r.status, r.body)
		}
	}
	if s, _ := c.Flock(canarytest.DefaultFlock); len(s.Generic) != 0 {
		t.Errorf("invalid headers still added: %+v", s.Generic)
	}
}

// An injected answer is what an authorised request for a known flock gets;
// the console's own checks come first, as on the real console.
func TestInjectionComesAfterAuth(t *testing.T) {
	c := canarytest.NewServer(t, token)
	c.Inject("flock/settings/webhooks/disable", 200, `{"result":"success","injected":true}`)
	post := func(tok, flock string) reply {
		return send(t, "POST", c.URL()+"flock/settings/webhooks/disable", form, url.Values{"auth_token": {tok}, "flock_id": {flock}}.Encode())
	}
	if r := post("wrong", canarytest.DefaultFlock); r.body["injected"] != nil || r.body["result"] != "error" {
		t.Fatalf("wrong token got %d %v", r.status, r.body)
	}
	if r := post(token, "flock:nope"); r.body["injected"] != nil || r.body["message"] != "Unknown flock_id" {
		t.Fatalf("unknown flock got %d %v", r.status, r.body)
	}
	if r := post(token, canarytest.DefaultFlock); r.status != 200 || r.body["injected"] != true {
		t.Fatalf("an authorised request did not get the injected answer: %d %v", r.status, r.body)
	}
}
