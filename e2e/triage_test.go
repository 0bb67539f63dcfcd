package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tw-cli/tw-cli/pkg/signature"
)

// peer is another tw-cli-style receiver: it keeps the generic
// notifications whose seed-003 signature verifies.
type peer struct {
	mu     sync.Mutex
	got    []map[string]any
	bad    int
	hangs  int // requests still to hold open until the sender goes away
	seen   chan struct{}
	srv    *httptest.Server
	secret string
}

func newPeer(t *testing.T, secret string) *peer {
	p := &peer{secret: secret, seen: make(chan struct{}, 16)}
	v := signature.Verifier{Secrets: [][]byte{[]byte(secret)}}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		p.seen <- struct{}{}
		p.mu.Lock()
		if p.hangs > 0 {
			p.hangs--
			p.mu.Unlock()
			<-r.Context().Done() // the sender was killed
			return
		}
		defer p.mu.Unlock()
		if err := v.Verify(r.Header.Get(signature.SignatureHeader), r.Header.Get(signature.TimestampHeader), body); err != nil {
			p.bad++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		p.got = append(p.got, m)
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *peer) notifications(t *testing.T) []map[string]any {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bad > 0 {
		t.Fatalf("%d notifications had a bad signature", p.bad)
	}
	return append([]map[string]any(nil), p.got...)
}

func seedPhish(t *testing.T, id string) string {
	t.Helper()
	b, err := os.ReadFile("../testdata/payloads/defender/seed_phishing_email.json")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Replace(string(b), `"AAMkAGI2..."`, fmt.Sprintf("%q", id), 1)
}

// steps renders a timeline as "step outcome" (or "kind outcome") lines.
func steps(detail map[string]any) []string {
	var out []string
	tl, _ := detail["timeline"].([]any)
	for _, x := range tl {
		e := x.(map[string]any)
		name, _ := e["step"].(string)
		if name == "" {
			name, _ = e["kind"].(string)
		}
		out = append(out, fmt.Sprintf("%s %v", name, e["outcome"]))
	}
	return out
}

func TestAutoTriagePhishingPlaybook(t *testing.T) {
	e := newEnv(t)
	e.extra = []string{"PEER_SECRET=peer-secret"}
	p := newPeer(t, "peer-secret")
	e.must("webhook", "add", "email-gateway", "--secret", "gw-secret", "--format", "defender", "--auto-triage", "--playbook", "phishing_triage")
	e.must("destination", "add", "generic", "peer", "--url", p.srv.URL+"/api/webhooks/upstream", "--secret-env", "PEER_SECRET")
	list := e.must("destination", "list")
	if !strings.HasPrefix(list.stdout, "peer\tgeneric\t"+p.srv.URL+"/…\tsecret ********\t") || strings.Contains(list.stdout, "peer-secret") {
		t.Fatalf("destination list:\n%s", list.stdout)
	}
	srv := e.serve()

	r := signedPost(t, srv, "email-gateway", "gw-secret", seedPhish(t, "msg-1"), time.Now())
	if r.status != 202 || r.body["status"] != "queued" || r.body["message"] != "Event queued for processing" ||
		!strings.HasPrefix(fmt.Sprint(r.body["queue_id"]), "queue-") || len(r.body) != 3 {
		t.Fatalf("delivery answered %d %s", r.status, r.raw)
	}
	incs := decodeJSON[[]map[string]any](t, e.must("incidents", "list", "-o", "json").stdout)
	if len(incs) != 1 {
		t.Fatalf("%d incidents", len(incs))
	}
	num := fmt.Sprint(incs[0]["number"])
	eventually(t, 20*time.Second, "the triage job", func() bool { return e.triageDone(num) })

	d := e.incidentDetail(num)
	want := []string{
		"playbook queued", "playbook started", "is-email-threat ok", "tag ok", "raise-severity skipped",
		"indicators ok", "dedupe-by-sender ok", "route ok", "alert ok", "playbook done",
	}
	if got := steps(d); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("timeline:\n got %q\nwant %q", got, want)
	}
	jobs := d["triage_jobs"].([]any)
	if job := jobs[0].(map[string]any); job["id"] != r.body["queue_id"] || job["status"] != "done" {
		t.Fatalf("job = %v", job)
	}
	ind, _ := d["indicators"].(map[string]any)
	if d["owner"] != "email-security" || fmt.Sprint(d["tags"]) != "[phishing email]" || fmt.Sprint(ind["domains"]) != "[malicious.com]" || d["severity"] != "high" {
		t.Fatalf("incident after triage: %v", d)
	}

	sent := p.notifications(t)
	if len(sent) != 1 {
		t.Fatalf("peer got %d notifications", len(sent))
	}
	data := sent[0]["data"].(map[string]any)
	if sent[0]["event_type"] != "incident.triaged" || data["alert_id"] != num || data["owner"] != "email-security" || data["severity"] != "high" {
		t.Fatalf("notification: %v", sent[0])
	}

	// Analysts work on it; everything lands on the same timeline.
	e.must("incidents", "assign", num, "alice")
	e.must("incidents", "comment", num, "Sender blocked at the gateway")
	e.must("incidents", "ack", num)
	show := e.must("incidents", "show", num).stdout
	for _, line := range []string{"owner\talice\n", "tags\tphishing, email\n", "indicators.domains\tmalicious.com\n"} {
		if !strings.Contains(show, line) {
			t.Errorf("incidents show lacks %q:\n%s", line, show)
		}
	}
	for _, part := range []string{"playbook:phishing_triage  alert ok: notify: peer delivered (HTTP 202, 1 attempt)",
		"assign: assigned to alice", "comment: Sender blocked at the gateway", "status acknowledged: status → acknowledged"} {
		if !strings.Contains(show, part) {
			t.Errorf("incidents show timeline lacks %q:\n%s", part, show)
		}
	}

	// The same sender again within the hour folds into the first incident.
	r2 := signedPost(t, srv, "email-gateway", "gw-secret", seedPhish(t, "msg-2"), time.Now())
	if r2.body["status"] != "queued" {
		t.Fatalf("second delivery: %s", r2.raw)
	}
	incs = decodeJSON[[]map[string]any](t, e.must("incidents", "list", "-o", "json").stdout)
	second := fmt.Sprint(incs[0]["number"])
	eventually(t, 20*time.Second, "the second triage job", func() bool { return e.triageDone(second) })
	if d2 := e.incidentDetail(second); d2["merged_into"] != num || d2["status"] != "resolved" {
		t.Fatalf("second incident not grouped: %v", d2)
	}
	if n := len(p.notifications(t)); n != 1 {
		t.Fatalf("%d notifications after a grouped repeat, want 1", n)
	}
	logs := e.must("logs", "--filter", "triage", "--tail", "0").stdout
	if !strings.Contains(logs, "triage job done") || strings.Contains(logs, "peer-secret") {
		t.Fatalf("triage logs:\n%s", logs)
	}
}

// TestTriageQueueSurvivesKill: a job still queued when the receiver is
// killed -9 runs after the restart, and so does a job that was running
// (its lease expires and another start resumes it at its step).
func TestTriageQueueSurvivesKill(t *testing.T) {
	e := newEnv(t)
	e.extra = []string{"PEER_SECRET=s"}
	p := newPeer(t, "s")
	e.must("webhook", "add", "email-gateway", "--secret", "gw", "--auto-triage", "--playbook", "phishing_triage")
	e.must("destination", "add", "generic", "peer", "--url", p.srv.URL, "--secret-env", "PEER_SECRET")

	// 1. Queued, never picked up, then kill -9.
	srv := e.serve("--triage-workers", "0")
	r := signedPost(t, srv, "email-gateway", "gw", seedPhish(t, "q-1"), time.Now())
	if r.body["status"] != "queued" {
		t.Fatalf("delivery: %s", r.raw)
	}
	srv.stop(t, syscall.SIGKILL)
	num := fmt.Sprint(decodeJSON[[]map[string]any](t, e.must("incidents", "list", "-o", "json").stdout)[0]["number"])
	job := e.incidentDetail(num)["triage_jobs"].([]any)[0].(map[string]any)
	if job["status"] != "queued" || job["id"] != r.body["queue_id"] {
		t.Fatalf("job before restart: %v", job)
	}
	srv = e.serve("--triage-lease", "2s")
	eventually(t, 20*time.Second, "the queued job after restart", func() bool { return e.triageDone(num) })
	if got := steps(e.incidentDetail(num)); got[len(got)-1] != "playbook done" {
		t.Fatalf("timeline after restart: %v", got)
	}

	// 2. Running (stuck in its notify step), then kill -9.
	p.mu.Lock()
	p.hangs = 1
	p.mu.Unlock()
	for len(p.seen) > 0 {
		<-p.seen
	}
	r = signedPost(t, srv, "email-gateway", "gw", `{"eventType":"PhishingEmail","id":"q-2","creationTime":"2024-01-15T10:00:00Z","category":"Phish","data":{"sender":"other@phish.example"}}`, time.Now())
	select {
	case <-p.seen:
	case <-time.After(20 * time.Second):
		t.Fatal("the notification never started")
	}
	srv.stop(t, syscall.SIGKILL)
	incs := decodeJSON[[]map[string]any](t, e.must("incidents", "list", "-o", "json").stdout)
	num2 := fmt.Sprint(incs[0]["number"])
	job = e.incidentDetail(num2)["triage_jobs"].([]any)[0].(map[string]any)
	if job["status"] != "running" || job["step"] != float64(6) {
		t.Fatalf("job at the kill: %v", job)
	}
	e.serve("--triage-lease", "2s")
	eventually(t, 30*time.Second, "the interrupted job after its lease expired", func() bool { return e.triageDone(num2) })
	d := e.incidentDetail(num2)
	job = d["triage_jobs"].([]any)[0].(map[string]any)
	if job["status"] != "done" || job["attempts"] != float64(2) {
		t.Fatalf("resumed job: %v", job)
	}
	// Resumed at the notify step: the steps before it ran once.
	got := strings.Join(steps(d), "|")
	if strings.Count(got, "tag ok") != 1 || strings.Count(got, "alert ok") != 1 || !strings.HasSuffix(got, "alert ok|playbook done") {
		t.Fatalf("timeline: %s", got)
	}
	if n := len(p.notifications(t)); n != 2 {
		t.Fatalf("peer got %d complete notifications, want 2", n)
	}
}
