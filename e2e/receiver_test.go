package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestSeedWalkthrough is seed 003 from start to end: the CLI line, the
// openssl/curl recipe verbatim, `webhook test`, and reading it all back.
func TestSeedWalkthrough(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not installed")
	}
	e := newEnv(t)
	r := e.must("webhook", "add", "email-gateway", "--secret", "your-secret", "--auto-triage", "true", "--playbook", "phishing_triage")
	if !strings.Contains(r.stderr, "Registered source email-gateway") {
		t.Fatalf("add said: %s", r.stderr)
	}
	srv := e.serve()

	recipe := `
TIMESTAMP=$(date +%s)
BODY='{"event_type":"test","data":{}}'
SIGNATURE=$(echo -n "${TIMESTAMP}.${BODY}" | openssl dgst -sha256 -hmac "your-secret")
# Send request
curl -s -X POST "` + srv.url + `/api/webhooks/email-gateway" \
-H "Content-Type: application/json" \
-H "X-Webhook-Signature: sha256=${SIGNATURE}" \
-H "X-Webhook-Timestamp: ${TIMESTAMP}" \
-d "${BODY}"`
	out, err := exec.Command("bash", "-c", recipe).CombinedOutput()
	if err != nil {
		t.Fatalf("recipe: %v\n%s", err, out)
	}
	resp := decodeJSON[map[string]any](t, string(out))
	// Auto-triage is on for the seed's source: seed 003's queued answer.
	if resp["status"] != "queued" || resp["message"] != "Event queued for processing" || !strings.HasPrefix(fmt.Sprint(resp["queue_id"]), "queue-") {
		t.Fatalf("seed recipe answered %s", out)
	}

	// The recipe and `webhook test` send the same body; within the same
	// second they are the same signed delivery, which is a replay however
	// the signature header is spelled. Senders differ by a second here.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
	test := e.must("webhook", "test", "email-gateway", "--url", srv.url, "-o", "json")
	tr := decodeJSON[map[string]any](t, test.stdout)
	if tr["status"] != float64(202) || tr["ok"] != true {
		t.Fatalf("webhook test: %s", test.stdout)
	}

	incs := decodeJSON[[]map[string]any](t, e.must("incidents", "list", "-o", "json").stdout)
	if len(incs) != 2 {
		t.Fatalf("%d incidents, want 2", len(incs))
	}
	for _, k := range []string{"number", "id", "title", "severity", "status", "source", "created_at", "updated_at"} {
		if _, ok := incs[0][k]; !ok {
			t.Errorf("incident JSON lacks %q: %v", k, incs[0])
		}
	}
	if incs[0]["number"] == incs[1]["number"] {
		t.Fatal("two incidents share a number")
	}
	evs := decodeJSON[[]map[string]any](t, e.must("events", "list", "--source", "email-gateway", "-o", "json").stdout)
	if len(evs) != 2 {
		t.Fatalf("%d events", len(evs))
	}
	for _, k := range []string{"id", "source", "received_at", "verification", "incident_id", "payload"} {
		if _, ok := evs[0][k]; !ok {
			t.Errorf("event JSON lacks %q", k)
		}
	}
	show := e.must("events", "show", fmt.Sprint(evs[1]["id"]), "-o", "json")
	if !strings.Contains(show.stdout, `"payload": {`) || !strings.Contains(show.stdout, `"event_type": "test"`) {
		t.Fatalf("events show: %s", show.stdout)
	}
	inc := e.must("incidents", "show", fmt.Sprint(incs[0]["number"]))
	if !strings.Contains(inc.stdout, "email-gateway") {
		t.Fatalf("incidents show: %s", inc.stdout)
	}

	logs := e.must("logs", "--filter", "webhook", "--tail", "100")
	if n := strings.Count(logs.stdout, "delivery accepted"); n != 2 {
		t.Fatalf("logs show %d accepted deliveries, want 2:\n%s", n, logs.stdout)
	}
	if strings.Contains(logs.stdout, "your-secret") {
		t.Fatal("a secret reached the logs")
	}
	jsonLogs := e.must("logs", "--filter", "webhook", "--tail", "1", "-o", "json")
	line := decodeJSON[map[string]any](t, strings.TrimSpace(jsonLogs.stdout))
	if line["component"] != "webhook" || line["request_id"] == nil {
		t.Fatalf("json log line: %s", jsonLogs.stdout)
	}

	metrics, err := http.Get(srv.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(metrics.Body)
	metrics.Body.Close()
	if !strings.Contains(string(body), `webhook_received_total{source="email-gateway"} 2`) {
		t.Fatalf("metrics: %s", body)
	}
	if err := srv.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("serve exited with %v after SIGTERM\n%s", err, srv.stderr)
	}
	raw, _ := os.ReadFile(filepath.Join(e.dataDir, "logs", "tw-cli.log"))
	if strings.Contains(string(raw), "your-secret") {
		t.Fatal("a secret reached the log file")
	}
}

// TestEveryErrorCode sends each kind of bad delivery over real HTTP.
func TestEveryErrorCode(t *testing.T) {
	e := newEnv(t)
	e.must("webhook", "add", "edr", "--secret", "edr-secret")
	srv := e.serve("--max-body-bytes", "4096")
	now := time.Now()
	body := `{"event_type":"security_alert","data":{"alert_id":"a-1","severity":"high"}}`

	ok := signedPost(t, srv, "edr", "edr-secret", body, now)
	if ok.status != 202 || ok.body["status"] != "accepted" {
		t.Fatalf("valid delivery: %d %s", ok.status, ok.raw)
	}
	ts := fmt.Sprint(now.Unix())
	cases := []struct {
		name   string
		reply  reply
		status int
		code   string
	}{
		{"replayed", signedPost(t, srv, "edr", "edr-secret", body, now), 409, "replayed"},
		{"unknown source", signedPost(t, srv, "nope", "edr-secret", body, now), 404, "unknown_source"},
		{"wrong secret", signedPost(t, srv, "edr", "other", body, now.Add(time.Second)), 401, "invalid_signature"},
		{"no headers", post(t, srv.url+"/api/webhooks/edr", body, nil), 401, "invalid_signature"},
		{"expired", signedPost(t, srv, "edr", "edr-secret", body, now.Add(-6*time.Minute)), 401, "timestamp_expired"},
		{"future", signedPost(t, srv, "edr", "edr-secret", body, now.Add(6*time.Minute)), 401, "timestamp_expired"},
		{"malformed json", signedPost(t, srv, "edr", "edr-secret", `{"event_type":`, now), 400, "invalid_payload"},
		{"too large", signedPost(t, srv, "edr", "edr-secret", `{"x":"`+strings.Repeat("a", 5000)+`"}`, now), 413, "payload_too_large"},
		{"header injection", post(t, srv.url+"/api/webhooks/edr", body, map[string]string{
			"X-Webhook-Signature": "sha256=" + strings.Repeat("0", 64) + ",sha256=zz", "X-Webhook-Timestamp": ts}), 401, "invalid_signature"},
	}
	for _, c := range cases {
		if c.reply.status != c.status || errCode(c.reply) != c.code {
			t.Errorf("%s: got %d %s, want %d %s", c.name, c.reply.status, c.reply.raw, c.status, c.code)
		}
	}
	evs := decodeJSON[[]map[string]any](t, e.must("events", "list", "-o", "json").stdout)
	if len(evs) != 1 {
		t.Fatalf("%d events stored, want only the valid one", len(evs))
	}
	logs := e.must("logs", "--filter", "webhook", "--level", "warn", "-o", "json", "--tail", "0")
	for _, code := range []string{"replayed", "unknown_source", "invalid_signature", "timestamp_expired", "invalid_payload", "payload_too_large"} {
		if !strings.Contains(logs.stdout, `"code":"`+code+`"`) {
			t.Errorf("no %s in the warn-level webhook logs", code)
		}
	}
}

// TestAcceptedEventsSurviveRestart: everything answered 2xx is there after a
// graceful stop, and after a kill -9.
func TestAcceptedEventsSurviveRestart(t *testing.T) {
	e := newEnv(t)
	e.must("webhook", "add", "siem", "--secret", "siem-secret")
	accepted := map[string]bool{}
	for round, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		srv := e.serve()
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				body := fmt.Sprintf(`{"event_type":"alert","data":{"alert_id":"r%d-%d"}}`, round, i)
				r := signedPost(t, srv, "siem", "siem-secret", body, time.Now())
				if r.status == 202 {
					mu.Lock()
					accepted[fmt.Sprint(r.body["incident_number"])] = true
					mu.Unlock()
				} else {
					t.Errorf("delivery %d: %d %s", i, r.status, r.raw)
				}
			}(i)
		}
		wg.Wait()
		srv.stop(t, sig)
	}
	e.serve() // restart once more: the store opens cleanly after a kill
	incs := decodeJSON[[]map[string]any](t, e.must("incidents", "list", "--limit", "1000", "-o", "json").stdout)
	if len(incs) != len(accepted) || len(accepted) != 40 {
		t.Fatalf("%d incidents stored, %d accepted, want 40 each", len(incs), len(accepted))
	}
	for _, inc := range incs {
		if !accepted[fmt.Sprint(inc["number"])] {
			t.Errorf("incident %v was never acknowledged", inc["number"])
		}
	}
}
