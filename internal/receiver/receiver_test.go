package receiver

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tw-cli/tw-cli/internal/sources"
	"github.com/tw-cli/tw-cli/internal/store"
	"github.com/tw-cli/tw-cli/internal/store/sqlite"
	"github.com/tw-cli/tw-cli/internal/verify"
	"github.com/tw-cli/tw-cli/pkg/signature"
)

var now = time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)

type fixture struct {
	t     *testing.T
	store store.Store
	srv   *httptest.Server
	token string
	rcv   *Receiver
}

// newFixture runs a receiver on a fresh store with one source,
// email-gateway (secret "your-secret"); tweaks adjust its options.
func newFixture(t *testing.T, tweaks ...func(*Options)) *fixture {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "tw.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	local := &sources.Local{Store: st, Origin: "cli", Now: func() time.Time { return now }}
	if _, _, err := local.Add(context.Background(), sources.Spec{Source: "email-gateway", Secret: "your-secret",
		AutoTriage: false, Playbook: "phishing_triage", SeverityMapping: map[string]string{"P1": "critical"}}); err != nil {
		t.Fatal(err)
	}
	tok := "tw_testtoken"
	if err := st.CreateToken(context.Background(), &store.Token{ID: "1", Name: "t", Hash: HashToken(tok), Prefix: "tw_testto", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	opts := Options{Store: st, MaxBodyBytes: 1024, Now: func() time.Time { return now }}
	for _, tw := range tweaks {
		tw(&opts)
	}
	r := New(opts)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return &fixture{t: t, store: st, srv: srv, token: tok, rcv: r}
}

type reply struct {
	status int
	body   map[string]any
	raw    string
	header http.Header
}

func (f *fixture) do(req *http.Request) reply {
	f.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		// Errorf, not Fatal: senders run in goroutines too. Status 0
		// fails whatever the caller expected.
		f.t.Errorf("%s %s: %v", req.Method, req.URL.Path, err)
		return reply{raw: err.Error()}
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, raw: string(data), header: resp.Header}
	_ = json.Unmarshal(data, &r.body)
	return r
}

func (f *fixture) deliver(source, body, sig, ts string) reply {
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/api/webhooks/"+source, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set(signature.SignatureHeader, sig)
	}
	if ts != "" {
		req.Header.Set(signature.TimestampHeader, ts)
	}
	return f.do(req)
}

func sign(secret, body string, at time.Time) (string, string) {
	return signature.Sign([]byte(secret), at, []byte(body))
}

func errCode(r reply) string {
	e, _ := r.body["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

func errMessage(r reply) string {
	e, _ := r.body["error"].(map[string]any)
	msg, _ := e["message"].(string)
	return msg
}

const testBody = `{"event_type":"test","data":{}}`

func TestIngestAccepted(t *testing.T) {
	f := newFixture(t)
	sig, ts := sign("your-secret", testBody, now)
	r := f.deliver("email-gateway", testBody, sig, ts)
	if r.status != http.StatusAccepted || r.body["status"] != "accepted" {
		t.Fatalf("got %d %s", r.status, r.raw)
	}
	num, _ := r.body["incident_number"].(string)
	id, _ := r.body["incident_id"].(string)
	if num != "INC-2024-0001" || len(id) != 36 {
		t.Fatalf("incident = %q %q", num, id)
	}
	// Durable before the answer: it is readable as soon as 202 arrives.
	evs, err := f.store.ListEvents(context.Background(), store.EventFilter{})
	if err != nil || len(evs) != 1 {
		t.Fatalf("events = %v, %v", evs, err)
	}
	if string(evs[0].Payload) != testBody || evs[0].IncidentID != id || evs[0].Verification != "hmac" {
		t.Fatalf("stored event = %+v", evs[0])
	}
	inc, _ := f.store.GetIncident(context.Background(), num)
	if inc.Severity != "info" || inc.Title != "test" || inc.Source != "email-gateway" {
		t.Fatalf("incident = %+v", inc)
	}
}

func TestIngestErrors(t *testing.T) {
	f := newFixture(t)
	sig, ts := sign("your-secret", testBody, now)
	old := strconv.FormatInt(now.Add(-6*time.Minute).Unix(), 10)
	sigOld, _ := sign("your-secret", testBody, now.Add(-6*time.Minute))
	future := strconv.FormatInt(now.Add(6*time.Minute).Unix(), 10)
	sigFuture, _ := sign("your-secret", testBody, now.Add(6*time.Minute))
	badJSON := `{"event_type":`
	sigBad, _ := sign("your-secret", badJSON, now)
	array := `[1,2]`
	sigArray, _ := sign("your-secret", array, now)
	big := `{"x":"` + strings.Repeat("a", 2000) + `"}`
	sigBig, _ := sign("your-secret", big, now)
	empty := " \n"
	sigEmpty, _ := sign("your-secret", empty, now)

	tests := []struct {
		name, source, body, sig, ts string
		status                      int
		code, message               string
	}{
		{"unknown source", "unknown", testBody, sig, ts, 404, "unknown_source", "Webhook source 'unknown' is not registered"},
		{"wrong secret", "email-gateway", testBody, func() string { s, _ := sign("wrong", testBody, now); return s }(), ts, 401, "invalid_signature", "Webhook signature verification failed"},
		{"missing signature", "email-gateway", testBody, "", ts, 401, "invalid_signature", ""},
		{"missing timestamp", "email-gateway", testBody, sig, "", 401, "invalid_signature", ""},
		{"too old", "email-gateway", testBody, sigOld, old, 401, "timestamp_expired", "Webhook timestamp is too old (>5 minutes)"},
		{"too far ahead", "email-gateway", testBody, sigFuture, future, 401, "timestamp_expired", "Webhook timestamp is too far in the future (>5 minutes)"},
		{"malformed json", "email-gateway", badJSON, sigBad, ts, 400, "invalid_payload", ""},
		{"json array", "email-gateway", array, sigArray, ts, 400, "invalid_payload", ""},
		// Go's "EOF" said nothing to a sender.
		{"empty", "email-gateway", empty, sigEmpty, ts, 400, "invalid_payload", "Webhook payload is invalid: body is empty: it must be a JSON object"},
		{"too large", "email-gateway", big, sigBig, ts, 413, "payload_too_large", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.deliver(tt.source, tt.body, tt.sig, tt.ts)
			if r.status != tt.status || errCode(r) != tt.code {
				t.Fatalf("got %d %s, want %d %s", r.status, r.raw, tt.status, tt.code)
			}
			if tt.message != "" && errMessage(r) != tt.message {
				t.Fatalf("message %q, want %q", errMessage(r), tt.message)
			}
			if h := r.header.Get("X-Content-Type-Options"); h != "nosniff" {
				t.Fatalf("X-Content-Type-Options %q, want nosniff", h)
			}
			// Byte for byte as seed 003 writes it, not JSON-escaped.
			if tt.message != "" && !strings.Contains(r.raw, `"message":"`+tt.message+`"`) {
				t.Fatalf("body %s does not carry the message verbatim", r.raw)
			}
		})
	}
	if evs, _ := f.store.ListEvents(context.Background(), store.EventFilter{}); len(evs) != 0 {
		t.Fatalf("rejected deliveries stored %d events", len(evs))
	}
}

func TestReplayRejected(t *testing.T) {
	f := newFixture(t)
	sig, ts := sign("your-secret", testBody, now)
	if r := f.deliver("email-gateway", testBody, sig, ts); r.status != 202 {
		t.Fatalf("first: %d %s", r.status, r.raw)
	}
	r := f.deliver("email-gateway", testBody, sig, ts)
	if r.status != http.StatusConflict || errCode(r) != "replayed" {
		t.Fatalf("replay: %d %s", r.status, r.raw)
	}
}

func TestSeverityMappingApplied(t *testing.T) {
	f := newFixture(t)
	body := `{"event_type":"security_alert","data":{"alert_id":"a-1","severity":"P1"}}`
	sig, ts := sign("your-secret", body, now)
	r := f.deliver("email-gateway", body, sig, ts)
	if r.status != 202 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	inc, _ := f.store.GetIncident(context.Background(), r.body["incident_number"].(string))
	if inc.Severity != "critical" {
		t.Fatalf("severity %q, want critical via the source's mapping", inc.Severity)
	}
}

func TestRotatedSecretVerifiesDuringGrace(t *testing.T) {
	var clock atomic.Pointer[time.Time]
	clock.Store(&now)
	f := newFixture(t, func(o *Options) { o.Now = func() time.Time { return *clock.Load() } })
	local := &sources.Local{Store: f.store, Now: func() time.Time { return now }}
	if _, _, err := local.RotateSecret(context.Background(), "email-gateway", "new-secret", time.Hour); err != nil {
		t.Fatal(err)
	}
	n := 0
	deliver := func(secret string, at time.Time) reply {
		n++
		body := fmt.Sprintf(`{"event_type":"test","data":{"n":%d}}`, n)
		sig, ts := sign(secret, body, at)
		return f.deliver("email-gateway", body, sig, ts)
	}
	for _, secret := range []string{"your-secret", "new-secret"} {
		if r := deliver(secret, now); r.status != 202 {
			t.Fatalf("secret %q within the grace: %d %s", secret, r.status, r.raw)
		}
	}
	// After the grace only the new secret verifies.
	later := now.Add(2 * time.Hour)
	clock.Store(&later)
	if r := deliver("your-secret", later); r.status != 401 || errCode(r) != "invalid_signature" {
		t.Fatalf("the old secret after its grace: %d %s", r.status, r.raw)
	}
	if r := deliver("new-secret", later); r.status != 202 {
		t.Fatalf("the new secret after the grace: %d %s", r.status, r.raw)
	}
}

func (f *fixture) admin(method, path, body, token string) reply {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, f.srv.URL+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return f.do(req)
}

// adminAuth sends an admin request with this Authorization header as is.
func (f *fixture) adminAuth(method, path, authorization string) reply {
	req, _ := http.NewRequest(method, f.srv.URL+path, nil)
	req.Header.Set("Authorization", authorization)
	return f.do(req)
}

func TestAdminAPI(t *testing.T) {
	f := newFixture(t)
	// Seed 003's registration body.
	seedBody := `{"source": "edr", "secret": "your-secret-key", "auto_triage": true, "playbook": "malware_triage"}`
	// Each refusal says which of the three it is.
	for tok, msg := range map[string]string{"": "Missing admin token", "tw_wrong": "Invalid or revoked admin token", "not-a-tw-token": "Not a tw-cli admin token"} {
		if r := f.admin("POST", "/api/webhooks", seedBody, tok); r.status != 401 || errCode(r) != "unauthorized" || !strings.HasPrefix(errMessage(r), msg) {
			t.Fatalf("token %q: %d %s, want %q", tok, r.status, r.raw, msg)
		}
	}
	if r := f.adminAuth("GET", "/api/webhooks", "bearer "+f.token); r.status != 200 {
		t.Fatalf("a lower-case Bearer scheme: %d %s", r.status, r.raw)
	}
	r := f.admin("POST", "/api/webhooks", seedBody, f.token)
	if r.status != 201 || r.body["source"] != "edr" || r.body["secret"] != sources.MaskedSecret || r.body["origin"] != "api" {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	if strings.Contains(r.raw, "your-secret-key") {
		t.Fatal("create response leaked the secret")
	}
	if r := f.admin("POST", "/api/webhooks", seedBody, f.token); r.status != 409 {
		t.Fatalf("duplicate: %d %s", r.status, r.raw)
	}
	if r := f.admin("POST", "/api/webhooks", `{"source":"bad name!"}`, f.token); r.status != 400 {
		t.Fatalf("bad name: %d %s", r.status, r.raw)
	}
	if r := f.admin("POST", "/api/webhooks", `{"source":"x","bogus":1}`, f.token); r.status != 400 {
		t.Fatalf("unknown field: %d %s", r.status, r.raw)
	}
	// Type errors are told in the API's terms, not Go's.
	for body, want := range map[string]string{
		`[]`:                    "invalid JSON body: expected a JSON object, got array",
		`{"source":5}`:          `invalid JSON body: field \"source\" cannot be number`,
		`{"auto_triage":"yes"}`: `invalid JSON body: field \"auto_triage\" cannot be string`,
	} {
		if r := f.admin("POST", "/api/webhooks", body, f.token); r.status != 400 || !strings.Contains(r.raw, want) || strings.Contains(r.raw, "Go value") {
			t.Errorf("%s: %d %s, want %s", body, r.status, r.raw, want)
		}
	}
	gen := f.admin("POST", "/api/webhooks", `{"source":"gen"}`, f.token)
	if s, _ := gen.body["generated_secret"].(string); len(s) != 64 {
		t.Fatalf("generated secret missing: %s", gen.raw)
	}
	list := f.admin("GET", "/api/webhooks", "", f.token)
	hooks, _ := list.body["webhooks"].([]any)
	if list.status != 200 || len(hooks) != 3 || strings.Contains(list.raw, "your-secret") {
		t.Fatalf("list: %d %s", list.status, list.raw)
	}
	if r := f.admin("PATCH", "/api/webhooks/edr", `{"auto_triage": false}`, f.token); r.status != 200 || r.body["auto_triage"] != false || r.body["playbook"] != "malware_triage" {
		t.Fatalf("patch: %d %s", r.status, r.raw)
	}
	if r := f.admin("GET", "/api/webhooks/edr", "", f.token); r.status != 200 || r.body["auto_triage"] != false {
		t.Fatalf("get: %d %s", r.status, r.raw)
	}
	if r := f.admin("GET", "/api/webhooks/nope", "", f.token); r.status != 404 {
		t.Fatalf("get missing: %d", r.status)
	}
	rot := f.admin("POST", "/api/webhooks/edr/rotate-secret", `{"secret":"next","grace_seconds":60}`, f.token)
	if rot.status != 200 || rot.body["previous_secret_expires_at"] == nil {
		t.Fatalf("rotate: %d %s", rot.status, rot.raw)
	}
	if r := f.admin("DELETE", "/api/webhooks/edr", "", f.token); r.status != 204 {
		t.Fatalf("delete: %d", r.status)
	}
	if r := f.admin("DELETE", "/api/webhooks/edr", "", f.token); r.status != 404 {
		t.Fatalf("delete again: %d", r.status)
	}
	// A source registered through the API receives deliveries at once.
	body := `{"event_type":"x"}`
	sig, ts := sign("your-secret-key", body, now)
	f.admin("POST", "/api/webhooks", `{"source":"edr2","secret":"your-secret-key"}`, f.token)
	if r := f.deliver("edr2", body, sig, ts); r.status != 202 {
		t.Fatalf("delivery to API-registered source: %d %s", r.status, r.raw)
	}
	incs := f.admin("GET", "/api/incidents?source=edr2", "", f.token)
	if items, _ := incs.body["incidents"].([]any); len(items) != 1 {
		t.Fatalf("incidents: %s", incs.raw)
	}
	first := incs.body["incidents"].([]any)[0].(map[string]any)
	one := f.admin("GET", "/api/incidents/"+first["number"].(string), "", f.token)
	if one.status != 200 || one.body["id"] != first["id"] || one.body["timeline"] == nil || one.body["tags"] == nil {
		t.Fatalf("incident detail: %d %s", one.status, one.raw)
	}
	evs := f.admin("GET", "/api/events?limit=1", "", f.token)
	items, _ := evs.body["events"].([]any)
	if len(items) != 1 {
		t.Fatalf("events: %s", evs.raw)
	}
	ev := items[0].(map[string]any)
	if p, _ := json.Marshal(ev["payload"]); string(p) != body {
		t.Fatalf("payload %s, want verbatim %s", p, body)
	}
	// Bad query values and bodies are refused, not ignored: an ignored
	// filter returned the unfiltered list as if it were the one asked for.
	for _, path := range []string{"/api/events?limit=abc", "/api/events?limit=5000", "/api/events?limit=-5",
		"/api/incidents?since=yesterday", "/api/incidents?since=2024-13-45T00:00:00Z", "/api/incidents?status=bogus",
		// Out of the stores' time range: matched everything or nothing.
		"/api/incidents?since=2263-01-01T00:00:00Z", "/api/events?since=1000-01-01T00:00:00Z",
		// Misspelt or not a filter of this listing: ignored, the whole list.
		"/api/incidents?sorce=edr2", "/api/incidents?severity=critical", "/api/events?status=open", "/api/webhooks?limit=1"} {
		if r := f.admin("GET", path, "", f.token); r.status != 400 || errCode(r) != "invalid_request" {
			t.Errorf("%s: %d %s, want 400 invalid_request", path, r.status, r.raw)
		}
	}
	if r := f.admin("GET", "/api/incidents?since=2024-01-15T10:00:00%2B02:00&limit=1000", "", f.token); r.status != 200 {
		t.Errorf("valid since and limit: %d %s", r.status, r.raw)
	}
	if r := f.admin("POST", "/api/webhooks", `{"source":"x1","secret":"s3cret"}{"junk":1}`, f.token); r.status != 400 {
		t.Errorf("a second JSON object after the body: %d %s", r.status, r.raw)
	}
	if r := f.admin("POST", "/api/webhooks/edr2/rotate-secret", `{"secret":"next","grace_seconds":18446744074}`, f.token); r.status != 400 {
		t.Errorf("a grace of centuries: %d %s", r.status, r.raw)
	}
	// Every field of a rotation is optional: no body generates a secret.
	// An answer with a secret, shown once, is kept by no cache.
	rot = f.admin("POST", "/api/webhooks/email-gateway/rotate-secret", "", f.token)
	if rot.status != 200 || rot.body["generated_secret"] == nil || rot.header.Get("Cache-Control") != "no-store" {
		t.Errorf("rotate without a body: %d %s (Cache-Control %q)", rot.status, rot.raw, rot.header.Get("Cache-Control"))
	}
	if r := f.admin("POST", "/api/webhooks/email-gateway/rotate-secret", "[]", f.token); r.status != 400 {
		t.Errorf("rotate with a body that is not an object: %d %s", r.status, r.raw)
	}
}

func TestMetricsAndHealth(t *testing.T) {
	f := newFixture(t)
	sig, ts := sign("your-secret", testBody, now)
	f.deliver("email-gateway", testBody, sig, ts)
	f.deliver("email-gateway", testBody, sig, ts) // replayed
	f.deliver("nope", testBody, sig, ts)
	resp, err := http.Get(f.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`webhook_received_total{source="email-gateway"} 1`,
		`webhook_errors_total{code="replayed",source="email-gateway"} 1`,
		`webhook_errors_total{code="unknown_source",source="_unknown"} 1`,
		`webhook_request_duration_seconds_count{source="email-gateway",status="202"} 1`,
	} {
		if !strings.Contains(string(data), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		r := f.admin("GET", path, "", "")
		if r.status != 200 {
			t.Errorf("%s = %d", path, r.status)
		}
	}
}

func TestValidRequestID(t *testing.T) {
	for id, want := range map[string]bool{
		"abc-123":               true,
		"req.1:2_3":             true,
		strings.Repeat("a", 64): true,
		strings.Repeat("a", 65): false,
		"":                      false,
		"a b":                   false,
		"a\r\nX-Evil: 1":        false,
		"é":                     false,
	} {
		if got := validRequestID(id); got != want {
			t.Errorf("validRequestID(%q) = %v, want %v", id, got, want)
		}
	}
}

// GitHub signs the body but not X-GitHub-Delivery: a replay that changes
// the id is still the same signed delivery.
func TestGitHubReplayWithNewDeliveryID(t *testing.T) {
	f := newFixture(t)
	local := &sources.Local{Store: f.store, Origin: "cli", Now: func() time.Time { return now }}
	if _, _, err := local.Add(context.Background(), sources.Spec{Source: "github", Secret: "gh-secret", Verify: verify.ModeGitHub}); err != nil {
		t.Fatal(err)
	}
	body := `{"action":"opened","repository":{"full_name":"acme/app"}}`
	mac := hmac.New(sha256.New, []byte("gh-secret"))
	mac.Write([]byte(body))
	send := func(id string) reply {
		req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/api/webhooks/github", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(verify.GitHubSignatureHeader, "sha256="+hex.EncodeToString(mac.Sum(nil)))
		req.Header.Set(verify.GitHubDeliveryHeader, id)
		return f.do(req)
	}
	if r := send("guid-1"); r.status != http.StatusAccepted {
		t.Fatalf("first delivery: %d %s", r.status, r.raw)
	}
	for _, id := range []string{"guid-1", "guid-2"} {
		if r := send(id); r.status != http.StatusConflict || errCode(r) != CodeReplayed {
			t.Fatalf("replay with delivery id %s: %d %s, want 409 replayed", id, r.status, r.raw)
		}
	}
	events, err := f.store.ListEvents(context.Background(), store.EventFilter{Source: "github"})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 {
		t.Fatalf("stored %d events, want 1", len(events))
	}
}

// TheHive's audit trail of one case lands on one incident: a task's
// change neither renames nor re-rates it, a comment (TheHive 5) does not
// downgrade it, and the case's resolution resolves it.
func TestTheHiveCaseLifecycle(t *testing.T) {
	f := newFixture(t)
	local := &sources.Local{Store: f.store, Origin: "cli", Now: func() time.Time { return now }}
	if _, _, err := local.Add(context.Background(), sources.Spec{Source: "thehive", Secret: "hive-secret", Format: "thehive"}); err != nil {
		t.Fatal(err)
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "payloads", "thehive", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	comment := `{"action":"create","objectType":"Comment","objectId":"~99","rootId":"AV6FZsTj0KeanEfOQfd_",
		"object":{"message":"looking into it"}}`
	var number string
	for i, body := range []string{read("seed_case_creation.json"), read("case_task_update.json"), comment, read("case_resolved_strings_for_numbers.json")} {
		sig, ts := sign("hive-secret", body, now.Add(time.Duration(i)*time.Second))
		r := f.deliver("thehive", body, sig, ts)
		if r.status != http.StatusAccepted {
			t.Fatalf("delivery %d: %d %s", i, r.status, r.raw)
		}
		if number == "" {
			number, _ = r.body["incident_number"].(string)
		} else if r.body["incident_number"] != number {
			t.Fatalf("delivery %d landed on %v, not the case's %s", i, r.body["incident_number"], number)
		}
		inc, err := f.store.GetIncident(context.Background(), number)
		if err != nil {
			t.Fatal(err)
		}
		if i < 3 && (inc.Title != "Case #1445: Test case for webhook" || inc.Severity != "medium" || inc.Status != store.StatusOpen) {
			t.Fatalf("after delivery %d the case's incident is %+v", i, inc)
		}
		if i == 3 && (inc.Status != store.StatusResolved || inc.Severity != "high") {
			t.Fatalf("after the case was resolved its incident is %+v", inc)
		}
	}
}

// A CrowdScore incident (IncidentSummaryEvent) is re-sent as its State
// moves: both deliveries land on one incident, and "closed" resolves it,
// even from a delivery that names the incident only by its console link.
func TestCrowdStrikeIncidentSummaryLifecycle(t *testing.T) {
	f := newFixture(t)
	local := &sources.Local{Store: f.store, Origin: "cli", Now: func() time.Time { return now }}
	if _, _, err := local.Add(context.Background(), sources.Spec{Source: "falcon", Secret: "cs-secret", Format: "crowdstrike"}); err != nil {
		t.Fatal(err)
	}
	var number string
	for i, name := range []string{"incident_summary.json", "incident_summary_closed_link_only.json"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "payloads", "crowdstrike", name))
		if err != nil {
			t.Fatal(err)
		}
		sig, ts := sign("cs-secret", string(b), now.Add(time.Duration(i)*time.Second))
		r := f.deliver("falcon", string(b), sig, ts)
		if r.status != http.StatusAccepted {
			t.Fatalf("%s: %d %s", name, r.status, r.raw)
		}
		if number == "" {
			number, _ = r.body["incident_number"].(string)
		} else if r.body["incident_number"] != number {
			t.Fatalf("%s landed on %v, not %s", name, r.body["incident_number"], number)
		}
	}
	inc, err := f.store.GetIncident(context.Background(), number)
	if err != nil {
		t.Fatal(err)
	}
	if inc.Status != store.StatusResolved || inc.Title != "Falcon incident (score 38)" {
		t.Fatalf("after State closed the incident is %+v", inc)
	}
}

// A Standard Webhooks resend keeps its signed webhook-id under a new
// timestamp: it is answered as a repeat of the first, not stored twice.
func TestStandardWebhooksResendIsARepeat(t *testing.T) {
	f := newFixture(t)
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	local := &sources.Local{Store: f.store, Origin: "cli", Now: func() time.Time { return now }}
	if _, _, err := local.Add(context.Background(), sources.Spec{Source: "std", Secret: secret, Verify: verify.ModeStandardWebhooks}); err != nil {
		t.Fatal(err)
	}
	body := `{"event_type":"alert","data":{"id":"a-1"}}`
	send := func(at time.Time) (reply, http.Header) {
		ts := strconv.FormatInt(at.Unix(), 10)
		mac := hmac.New(sha256.New, []byte("0123456789abcdef0123456789abcdef"))
		mac.Write([]byte("msg_1." + ts + "." + body))
		req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/api/webhooks/std", strings.NewReader(body))
		req.Header.Set("webhook-id", "msg_1")
		req.Header.Set("webhook-timestamp", ts)
		req.Header.Set("webhook-signature", "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
		return f.doWithHeader(req)
	}
	first, _ := send(now)
	again, h := send(now.Add(20 * time.Second))
	if first.status != http.StatusAccepted || again.status != http.StatusOK || h.Get(IdempotentReplayedHeader) != "true" ||
		again.body["incident_id"] != first.body["incident_id"] {
		t.Fatalf("first %d %s, resend %d %s", first.status, first.raw, again.status, again.raw)
	}
	if evs, _ := f.store.ListEvents(context.Background(), store.EventFilter{Source: "std"}); len(evs) != 1 {
		t.Fatalf("%d events stored, want 1", len(evs))
	}
}

// Paths and methods the API does not have are answered in its JSON error
// shape, with Allow on a 405, like every other error.
func TestNoRouteIsJSON(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct {
		method, path string
		status       int
		code, allow  string
	}{
		{"GET", "/nope", 404, CodeNotFound, ""},
		{"GET", "/api/webhooks/edr/extra/parts", 404, CodeNotFound, ""},
		{"PUT", "/api/webhooks", 405, CodeMethodNotAllowed, "GET, POST"},
		{"PUT", "/api/webhooks/email-gateway", 405, CodeMethodNotAllowed, "GET, POST, PATCH, DELETE"},
		{"DELETE", "/healthz", 405, CodeMethodNotAllowed, "GET"},
	} {
		req, _ := http.NewRequest(c.method, f.srv.URL+c.path, nil)
		r := f.do(req)
		if r.status != c.status || errCode(r) != c.code || r.header.Get("Allow") != c.allow || r.header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: %d %s (Allow %q, %s)", c.method, c.path, r.status, r.raw, r.header.Get("Allow"), r.header.Get("Content-Type"))
		}
	}
	// Routed requests are untouched by the catch-all.
	if r := f.admin("GET", "/api/webhooks", "", f.token); r.status != 200 {
		t.Fatalf("GET /api/webhooks: %d %s", r.status, r.raw)
	}
}
