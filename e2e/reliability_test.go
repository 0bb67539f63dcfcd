package e2e

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite" // to hold the database's lock as another process would

	"github.com/tw-cli/tw-cli/pkg/signature"
)

// outcome is what the sender of one delivery saw.
type outcome struct {
	alertID string
	status  int // 0: no answer (connection refused, reset, closed)
	body    map[string]any
	// replayed is the Idempotent-Replayed header: the answer repeats an
	// earlier delivery's.
	replayed bool
	// err is an answer that was not JSON.
	err error
}

// sendAlert posts one signed generic event carrying alertID; with
// idempotent, the alert id is also its X-Webhook-Id, as a sender that
// retries safely would set it.
func sendAlert(client *http.Client, url, secret, alertID string, idempotent bool) outcome {
	body := fmt.Sprintf(`{"event_type":"security_alert","source":"e2e","data":{"alert_id":%q,"severity":"high","details":{"note":%q}}}`,
		alertID, strings.Repeat("x", 300))
	o := outcome{alertID: alertID}
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		o.err = err
		return o
	}
	req.Header.Set("Content-Type", "application/json")
	if idempotent {
		req.Header.Set("X-Webhook-Id", alertID)
	}
	signature.SignRequest(req, []byte(secret), time.Now(), []byte(body))
	resp, err := client.Do(req)
	if err != nil {
		return o
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return o // cut off mid-answer: no answer
	}
	o.status = resp.StatusCode
	o.replayed = resp.Header.Get("Idempotent-Replayed") == "true"
	if err := json.Unmarshal(data, &o.body); err != nil {
		o.err = fmt.Errorf("answer %d is not JSON: %v: %s", o.status, err, data)
	}
	return o
}

// burst sends n signed generic events, each with its own alert id, from
// workers concurrent senders, and calls after(answered) once per answer
// so a test can act in the middle of the load. Deliveries are never
// retried here: a sender that got no answer does not know whether it was
// stored.
func burst(t *testing.T, url, secret, tag string, n, workers int, idempotent bool, after func(answered int64)) []outcome {
	t.Helper()
	client := &http.Client{
		Timeout:   15 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: workers, DisableCompression: true},
	}
	defer client.CloseIdleConnections()
	out := make([]outcome, n)
	next := make(chan int)
	var answered atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i] = sendAlert(client, url, secret, fmt.Sprintf("%s-%04d", tag, i), idempotent)
				if out[i].status != 0 && after != nil {
					after(answered.Add(1))
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, o := range out {
		if o.err != nil {
			t.Errorf("%s: %v", o.alertID, o.err)
		}
	}
	return out
}

// storedAlerts counts stored events by alert id and checks each is whole:
// its incident exists and names it back.
func storedAlerts(t *testing.T, e *env, source string) map[string]int {
	t.Helper()
	evs := decodeJSON[[]map[string]any](t, e.must("events", "list", "--source", source, "--limit", "1000", "-o", "json").stdout)
	incs := decodeJSON[[]map[string]any](t, e.must("incidents", "list", "--source", source, "--limit", "1000", "-o", "json").stdout)
	incidents := map[string]bool{}
	for _, inc := range incs {
		incidents[fmt.Sprint(inc["number"])] = true
	}
	count := map[string]int{}
	for _, ev := range evs {
		p, _ := ev["payload"].(map[string]any)
		d, _ := p["data"].(map[string]any)
		id, _ := d["alert_id"].(string)
		if id == "" {
			t.Fatalf("stored event without its payload: %v", ev)
		}
		if num := fmt.Sprint(ev["incident_number"]); !incidents[num] {
			t.Errorf("event %s points at incident %s, which is not stored: half-written", ev["id"], num)
		}
		count[id]++
	}
	if len(incs) != len(evs) {
		t.Errorf("%d incidents for %d events: each generic event opens exactly one", len(incs), len(evs))
	}
	return count
}

// checkAcked asserts every acknowledged delivery is stored exactly once
// and nothing is stored twice; unacknowledged ones may or may not be.
func checkAcked(t *testing.T, outs []outcome, stored map[string]int) (acked int) {
	t.Helper()
	for _, o := range outs {
		if o.status >= 200 && o.status < 300 {
			acked++
			if stored[o.alertID] != 1 {
				t.Errorf("%s got %d but is stored %d times", o.alertID, o.status, stored[o.alertID])
			}
		}
		if stored[o.alertID] > 1 {
			t.Errorf("%s stored %d times", o.alertID, stored[o.alertID])
		}
	}
	return acked
}

// killMidBurst starts a receiver, sends it a burst of n deliveries for
// the source siem (secret siem-secret) and kills it with SIGKILL once a
// third of them are answered.
func killMidBurst(t *testing.T, e *env, tag string, n int, idempotent bool) []outcome {
	t.Helper()
	srv := e.serve("--quiet")
	var once sync.Once
	outs := burst(t, srv.url+"/api/webhooks/siem", "siem-secret", tag, n, 32, idempotent, func(answered int64) {
		if answered == int64(n/3) {
			once.Do(func() { srv.cmd.Process.Kill() })
		}
	})
	<-srv.done
	return outs
}

// TestKill9UnderLoad kills the receiver with SIGKILL while a few hundred
// deliveries are in flight, restarts it, and checks that every delivery
// that was acknowledged is stored exactly once and whole.
func TestKill9UnderLoad(t *testing.T) {
	e := newEnv(t)
	e.must("webhook", "add", "siem", "--secret", "siem-secret")
	const n = 400
	outs := killMidBurst(t, e, "kill", n, false)
	var acked, lost, bad int
	for _, o := range outs {
		switch {
		case o.status == http.StatusAccepted:
			acked++
		case o.status == 0:
			lost++
		default:
			bad++
			t.Errorf("%s: %d %v", o.alertID, o.status, o.body)
		}
	}
	if acked < n/3 || lost == 0 {
		t.Fatalf("%d acknowledged, %d unanswered: the kill did not land mid-load", acked, lost)
	}
	// The store opens cleanly after the kill (WAL recovery), and a new
	// receiver serves.
	again := e.serve("--quiet")
	stored := storedAlerts(t, e, "siem")
	if got := checkAcked(t, outs, stored); got != acked {
		t.Fatalf("acked %d, checked %d", acked, got)
	}
	t.Logf("%d acknowledged before SIGKILL, %d unanswered, %d stored", acked, lost, len(stored))
	// The restarted receiver takes new deliveries.
	if r := signedPost(t, again, "siem", "siem-secret", `{"event_type":"after"}`, time.Now()); r.status != 202 {
		t.Fatalf("after restart: %d %s", r.status, r.raw)
	}
}

// TestSIGTERMUnderLoad stops the receiver gracefully in the middle of a
// load: no sender sees a 5xx, and every acknowledged delivery is stored.
func TestSIGTERMUnderLoad(t *testing.T) {
	e := newEnv(t)
	e.must("webhook", "add", "siem", "--secret", "siem-secret")
	srv := e.serve("--quiet")
	const n = 400
	var once sync.Once
	stopped := make(chan error, 1)
	outs := burst(t, srv.url+"/api/webhooks/siem", "siem-secret", "term", n, 32, false, func(answered int64) {
		if answered == n/3 {
			once.Do(func() {
				srv.cmd.Process.Signal(syscall.SIGTERM)
				go func() { stopped <- <-srv.done }()
			})
		}
	})
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatalf("serve exited with %v after SIGTERM\n%s", err, srv.stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not exit after SIGTERM")
	}
	acked := 0
	for _, o := range outs {
		if o.status >= 500 {
			t.Errorf("%s: %d %v during a graceful stop", o.alertID, o.status, o.body)
		}
		if o.status == http.StatusAccepted {
			acked++
		}
	}
	if acked < n/3 {
		t.Fatalf("only %d acknowledged", acked)
	}
	stored := storedAlerts(t, e, "siem")
	checkAcked(t, outs, stored)
	// A graceful stop answers what it stored: a delivery stored without
	// its answer reaching the sender would be sent again and doubled.
	for _, o := range outs {
		if stored[o.alertID] > 0 && o.status != http.StatusAccepted {
			t.Errorf("%s is stored but its sender got %d: the stop cut off its answer", o.alertID, o.status)
		}
	}
	t.Logf("%d acknowledged around SIGTERM, %d stored", acked, len(stored))
}

// TestKill9ThenRetryIsExactlyOnce kills the receiver mid-load of senders
// that set X-Webhook-Id, restarts it, and retries every delivery that got
// no answer, as such a sender would: each alert ends up stored exactly
// once; a retry of one that was stored before the kill (its answer died
// with the process) is answered 200 as a repeat and stores nothing new.
func TestKill9ThenRetryIsExactlyOnce(t *testing.T) {
	e := newEnv(t)
	e.must("webhook", "add", "siem", "--secret", "siem-secret")
	const n = 300
	outs := killMidBurst(t, e, "retry", n, true)
	again := e.serve("--quiet")
	before := storedAlerts(t, e, "siem")
	checkAcked(t, outs, before)
	client := &http.Client{Timeout: 15 * time.Second}
	defer client.CloseIdleConnections()
	retried, repeats := 0, 0
	for i, o := range outs {
		if o.status == http.StatusAccepted {
			continue
		}
		if o.status != 0 {
			t.Errorf("%s: %d %v before the kill", o.alertID, o.status, o.body)
			continue
		}
		retried++
		r := sendAlert(client, again.url+"/api/webhooks/siem", "siem-secret", o.alertID, true)
		switch {
		case r.err != nil:
			t.Errorf("retry of %s: %v", o.alertID, r.err)
		case before[o.alertID] == 1:
			repeats++
			if r.status != http.StatusOK || !r.replayed {
				t.Errorf("%s was stored before the kill; its retry got %d (Idempotent-Replayed %v) %v, want 200 as a repeat",
					o.alertID, r.status, r.replayed, r.body)
			}
		case r.status != http.StatusAccepted:
			t.Errorf("%s was not stored before the kill; its retry got %d %v, want 202", o.alertID, r.status, r.body)
		}
		outs[i] = r
	}
	if retried == 0 {
		t.Fatal("every delivery was answered: the kill did not land mid-load")
	}
	// Whether a delivery was stored but unanswered at the kill is up to
	// timing; the repeat of an answered one is not. Its idempotency
	// record came through the kill with it: the retry is a 200 repeat.
	var answered outcome
	for _, o := range outs {
		if o.status == http.StatusAccepted {
			answered = o
			break
		}
	}
	if answered.alertID == "" {
		t.Fatal("no delivery was answered before the kill")
	}
	if r := sendAlert(client, again.url+"/api/webhooks/siem", "siem-secret", answered.alertID, true); r.err != nil ||
		r.status != http.StatusOK || !r.replayed || r.body["incident_id"] != answered.body["incident_id"] {
		t.Errorf("retry of %s, answered %v before the kill: %d (Idempotent-Replayed %v) %v, %v; want 200 with the same incident",
			answered.alertID, answered.body, r.status, r.replayed, r.body, r.err)
	}
	after := storedAlerts(t, e, "siem")
	for _, o := range outs {
		if after[o.alertID] != 1 {
			t.Errorf("%s is stored %d times after the retries, want exactly once", o.alertID, after[o.alertID])
		}
	}
	t.Logf("%d answered before SIGKILL, %d retried after the restart (%d of them stored before the kill), %d stored",
		n-retried, retried, repeats, len(after))
}

// TestHostileInputs sends what a broken or hostile sender sends; each
// gets a clear 4xx and nothing is stored.
func TestHostileInputs(t *testing.T) {
	e := newEnv(t)
	e.must("webhook", "add", "edr", "--secret", "edr-secret")
	srv := e.serve("--max-body-bytes", "65536", "--quiet")
	now := time.Now()
	signed := func(body string, extra map[string]string) reply {
		sig, ts := signature.Sign([]byte("edr-secret"), now, []byte(body))
		h := map[string]string{"X-Webhook-Signature": sig, "X-Webhook-Timestamp": ts}
		for k, v := range extra {
			h[k] = v
		}
		return post(t, srv.url+"/api/webhooks/edr", body, h)
	}
	deep := strings.Repeat(`{"a":`, 200) + "1" + strings.Repeat("}", 200)
	cases := []struct {
		name   string
		reply  reply
		status int
		code   string
	}{
		{"oversized", signed(`{"x":"`+strings.Repeat("a", 70000)+`"}`, nil), 413, "payload_too_large"},
		{"truncated JSON", signed(`{"event_type":"x","data":{"alert_id":"a`, nil), 400, "invalid_payload"},
		{"non-UTF-8", signed("{\"event_type\":\"x\",\"data\":{\"n\":\"\xc3\x28\"}}", nil), 400, "invalid_payload"},
		{"deeply nested", signed(deep, nil), 400, "invalid_payload"},
		{"bad idempotency key", signed(`{"event_type":"x"}`, map[string]string{"X-Webhook-Id": "id with spaces"}), 400, "invalid_request"},
		{"unknown source name with CRLF", post(t, srv.url+"/api/webhooks/a%0d%0aSet-Cookie:x", "{}", nil), 404, "unknown_source"},
	}
	for _, c := range cases {
		if c.reply.status != c.status || errCode(c.reply) != c.code {
			t.Errorf("%s: got %d %s, want %d %s", c.name, c.reply.status, c.reply.raw, c.status, c.code)
		}
		if strings.Contains(c.reply.raw, "Set-Cookie") {
			t.Errorf("%s: the response echoes injected text: %s", c.name, c.reply.raw)
		}
	}

	// What client libraries refuse to send goes over a raw connection.
	sig, ts := signature.Sign([]byte("edr-secret"), now, []byte(`{"event_type":"x"}`))
	raw := func(head, body string, closeWrite bool) string {
		conn, err := net.Dial("tcp", srv.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(conn, head+"\r\n"+body)
		if closeWrite {
			conn.(*net.TCPConn).CloseWrite()
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("no answer: %v", err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return fmt.Sprintf("%d %s", resp.StatusCode, data)
	}
	base := "POST /api/webhooks/edr HTTP/1.1\r\nHost: x\r\nX-Webhook-Signature: " + sig + "\r\nX-Webhook-Timestamp: " + ts + "\r\n"
	if got := raw(base+"Content-Length: 200\r\n", `{"event_type":"x"}`, true); !strings.HasPrefix(got, "400 ") || !strings.Contains(got, "invalid_payload") {
		t.Errorf("body shorter than its Content-Length: %s", got)
	}
	if got := raw(base+"X-Request-Id: a\rInjected: 1\r\nContent-Length: 18\r\n", `{"event_type":"x"}`, false); !strings.HasPrefix(got, "400 ") {
		t.Errorf("bare CR in a header: %s", got)
	}
	if got := raw(base+"X-Bad\x00Name: 1\r\nContent-Length: 18\r\n", `{"event_type":"x"}`, false); !strings.HasPrefix(got, "400 ") {
		t.Errorf("NUL in a header name: %s", got)
	}
	evs := decodeJSON[[]map[string]any](t, e.must("events", "list", "-o", "json").stdout)
	if len(evs) != 0 {
		t.Fatalf("%d events stored from hostile inputs", len(evs))
	}
}

// TestIdempotentRetry: a sender retrying with the same X-Webhook-Id (re-signed,
// as senders do) gets 200 with the first answer's incident.
func TestIdempotentRetry(t *testing.T) {
	e := newEnv(t)
	e.must("webhook", "add", "edr", "--secret", "edr-secret")
	srv := e.serve("--quiet")
	body := `{"event_type":"security_alert","data":{"alert_id":"a-1","severity":"high"}}`
	send := func(at time.Time) reply {
		sig, ts := signature.Sign([]byte("edr-secret"), at, []byte(body))
		return post(t, srv.url+"/api/webhooks/edr", body, map[string]string{
			"X-Webhook-Signature": sig, "X-Webhook-Timestamp": ts, "X-Webhook-Id": "delivery-42"})
	}
	first := send(time.Now())
	retry := send(time.Now().Add(time.Second))
	if first.status != 202 || retry.status != 200 {
		t.Fatalf("first %d %s, retry %d %s", first.status, first.raw, retry.status, retry.raw)
	}
	if retry.body["incident_id"] != first.body["incident_id"] || retry.body["incident_number"] != first.body["incident_number"] {
		t.Fatalf("retry named another incident: %s vs %s", retry.raw, first.raw)
	}
	// The key is durable: a restarted receiver still knows it.
	srv.stop(t, syscall.SIGTERM)
	srv = e.serve("--quiet")
	if again := send(time.Now().Add(2 * time.Second)); again.status != 200 || again.body["incident_id"] != first.body["incident_id"] {
		t.Fatalf("after restart: %d %s", again.status, again.raw)
	}
	if evs := decodeJSON[[]map[string]any](t, e.must("events", "list", "-o", "json").stdout); len(evs) != 1 {
		t.Fatalf("%d events stored, want 1", len(evs))
	}
}

// TestIdempotentRetryOfAQueuedDelivery: with auto-triage the first answer
// is "queued"; a retry gets the same queue_id and runs no second triage.
func TestIdempotentRetryOfAQueuedDelivery(t *testing.T) {
	e := newEnv(t)
	e.must("webhook", "add", "email-gateway", "--secret", "s", "--auto-triage", "--playbook", "default")
	srv := e.serve("--quiet")
	body := `{"event_type":"security_alert","data":{"alert_id":"q-1","severity":"low"}}`
	send := func(at time.Time) reply {
		sig, ts := signature.Sign([]byte("s"), at, []byte(body))
		return post(t, srv.url+"/api/webhooks/email-gateway", body, map[string]string{
			"X-Webhook-Signature": sig, "X-Webhook-Timestamp": ts, "Idempotency-Key": "retry-7"})
	}
	first := send(time.Now())
	retry := send(time.Now().Add(time.Second))
	if first.status != 202 || first.body["status"] != "queued" || retry.status != 200 || retry.body["status"] != "queued" {
		t.Fatalf("first %d %s, retry %d %s", first.status, first.raw, retry.status, retry.raw)
	}
	if retry.body["queue_id"] != first.body["queue_id"] {
		t.Fatalf("retry named another job: %s vs %s", retry.raw, first.raw)
	}
	incs := decodeJSON[[]map[string]any](t, e.must("incidents", "list", "-o", "json").stdout)
	if len(incs) != 1 {
		t.Fatalf("%d incidents, want 1", len(incs))
	}
	// One job queued, not two: the repeat ran no second triage.
	queued := 0
	tl, _ := e.incidentDetail(fmt.Sprint(incs[0]["number"]))["timeline"].([]any)
	for _, x := range tl {
		if entry, _ := x.(map[string]any); entry["kind"] == "playbook" && entry["outcome"] == "queued" {
			queued++
		}
	}
	if queued != 1 {
		t.Fatalf("%d triage jobs queued for the incident, want 1: %v", queued, tl)
	}
}

// TestOverload holds the only in-flight slots of a --max-in-flight 2
// receiver with senders that never finish their bodies: the next delivery
// gets 503 overloaded with Retry-After, and health checks still answer.
func TestOverload(t *testing.T) {
	e := newEnv(t)
	e.must("webhook", "add", "edr", "--secret", "edr-secret")
	srv := e.serve("--max-in-flight", "2", "--quiet")
	for i := 0; i < 2; i++ {
		conn, err := net.Dial("tcp", srv.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /api/webhooks/edr HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"slow")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := signedPost(t, srv, "edr", "edr-secret", fmt.Sprintf(`{"event_type":"x","n":%d}`, time.Now().UnixNano()), time.Now())
		if r.status == http.StatusServiceUnavailable {
			if errCode(r) != "overloaded" {
				t.Fatalf("503 with code %q: %s", errCode(r), r.raw)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never overloaded; last answer %d %s", r.status, r.raw)
		}
		time.Sleep(20 * time.Millisecond)
	}
	req, _ := http.NewRequest(http.MethodPost, srv.url+"/api/webhooks/edr", strings.NewReader("{}"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("overloaded answer: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if h, err := http.Get(srv.url + "/healthz"); err != nil || h.StatusCode != 200 {
		t.Fatalf("healthz under overload: %v %v", h, err)
	}
}

// TestReplayRefusedAcrossKill9: the receiver checks replay keys in memory,
// so they must come back from the database after a crash. A delivery
// captured before kill -9 and sent again to the restarted receiver, byte
// for byte with its signature, is refused; a new one is accepted.
func TestReplayRefusedAcrossKill9(t *testing.T) {
	e := newEnv(t)
	e.must("webhook", "add", "siem", "--secret", "siem-secret")
	srv := e.serve("--quiet")
	at := time.Now()
	body := `{"event_type":"security_alert","data":{"alert_id":"captured-1"}}`
	if r := signedPost(t, srv, "siem", "siem-secret", body, at); r.status != http.StatusAccepted {
		t.Fatalf("first delivery: %d %s", r.status, r.raw)
	}
	if err := srv.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-srv.done
	again := e.serve("--quiet")
	r := signedPost(t, again, "siem", "siem-secret", body, at)
	if r.status != http.StatusConflict || errCode(r) != "replayed" {
		t.Fatalf("replay after kill -9: %d %s, want 409 replayed", r.status, r.raw)
	}
	if r := signedPost(t, again, "siem", "siem-secret", `{"event_type":"security_alert","data":{"alert_id":"fresh-1"}}`, at); r.status != http.StatusAccepted {
		t.Fatalf("fresh delivery after restart: %d %s", r.status, r.raw)
	}
}

// TestSIGTERMPastTheTimeoutAnswersEveryone: deliveries still queued when
// --shutdown-timeout runs out (another process holds the database's write
// lock) are each answered 503, none cut off unanswered when the process
// ends (some were).
func TestSIGTERMPastTheTimeoutAnswersEveryone(t *testing.T) {
	e := newEnv(t)
	e.must("webhook", "add", "siem", "--secret", "siem-secret")
	srv := e.serve("--quiet", "--shutdown-timeout", "1s", "--triage-workers", "0")
	ctx := context.Background()
	db, err := sql.Open("sqlite", filepath.Join(e.dataDir, "tw-cli.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(ctx, "ROLLBACK")
	go func() {
		time.Sleep(time.Second)
		srv.cmd.Process.Signal(syscall.SIGTERM)
	}()
	outs := burst(t, srv.url+"/api/webhooks/siem", "siem-secret", "late", 48, 48, false, nil) // burst fails unanswered ones
	for _, o := range outs {
		if o.status != http.StatusServiceUnavailable {
			t.Errorf("%s: %d %v, want 503 to retry", o.alertID, o.status, o.body)
		}
	}
	select {
	case <-srv.done:
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not exit after SIGTERM")
	}
}
