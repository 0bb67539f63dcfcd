package receiver

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/tw-cli/tw-cli/internal/sources"
	"github.com/tw-cli/tw-cli/internal/store"
	"github.com/tw-cli/tw-cli/internal/store/sqlite"
	"github.com/tw-cli/tw-cli/internal/syncbuf"
	"github.com/tw-cli/tw-cli/pkg/signature"
)

func (f *fixture) deliverWith(source, body string, at time.Time, headers map[string]string) (reply, http.Header) {
	f.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/api/webhooks/"+source, strings.NewReader(body))
	signature.SignRequest(req, []byte("your-secret"), at, []byte(body))
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return f.doWithHeader(req)
}

// doWithHeader sends req and returns the reply with its headers.
func (f *fixture) doWithHeader(req *http.Request) (reply, http.Header) {
	f.t.Helper()
	r := f.do(req)
	return r, r.header
}

func (f *fixture) countEvents() int {
	f.t.Helper()
	evs, err := f.store.ListEvents(context.Background(), store.EventFilter{Limit: 1000})
	if err != nil {
		f.t.Fatal(err)
	}
	return len(evs)
}

func TestIdempotentRepeat(t *testing.T) {
	f := newFixture(t)
	body := `{"event_type":"security_alert","data":{"alert_id":"a-1","severity":"high"}}`
	first, h := f.deliverWith("email-gateway", body, now, map[string]string{"X-Webhook-Id": "evt-1"})
	if first.status != http.StatusAccepted || h.Get(IdempotentReplayedHeader) != "" {
		t.Fatalf("first: %d %s", first.status, first.raw)
	}
	// A sender's retry signs again (a new timestamp), keeping its id.
	retry, h := f.deliverWith("email-gateway", body, now.Add(time.Second), map[string]string{"X-Webhook-Id": "evt-1"})
	if retry.status != http.StatusOK || h.Get(IdempotentReplayedHeader) != "true" {
		t.Fatalf("retry: %d %s", retry.status, retry.raw)
	}
	if retry.raw != first.raw {
		t.Fatalf("retry answered %s, want the first answer %s", retry.raw, first.raw)
	}
	// The very same request again is a repeat too, not a replay.
	same, _ := f.deliverWith("email-gateway", body, now, map[string]string{"X-Webhook-Id": "evt-1"})
	if same.status != http.StatusOK || same.raw != first.raw {
		t.Fatalf("identical repeat: %d %s", same.status, same.raw)
	}
	// Idempotency-Key works the same, quoted as its draft allows.
	k1, _ := f.deliverWith("email-gateway", body, now.Add(2*time.Second), map[string]string{"Idempotency-Key": `"k-9"`})
	k2, _ := f.deliverWith("email-gateway", body, now.Add(3*time.Second), map[string]string{"Idempotency-Key": "k-9"})
	if k1.status != 202 || k2.status != 200 || k1.body["incident_id"] != k2.body["incident_id"] {
		t.Fatalf("Idempotency-Key: %d %s / %d %s", k1.status, k1.raw, k2.status, k2.raw)
	}
	if n := f.countEvents(); n != 2 {
		t.Fatalf("%d events stored, want 2 (one per key)", n)
	}
	// Without an id, the same signature is still a replay.
	plain, _ := f.deliverWith("email-gateway", body, now.Add(4*time.Second), nil)
	again, _ := f.deliverWith("email-gateway", body, now.Add(4*time.Second), nil)
	if plain.status != 202 || again.status != http.StatusConflict || errCode(again) != CodeReplayed {
		t.Fatalf("no id: %d then %d %s", plain.status, again.status, again.raw)
	}
}

func TestIdempotencyRetention(t *testing.T) {
	clock := now
	var mu sync.Mutex
	f := newFixture(t, func(o *Options) {
		o.IdempotencyRetention = time.Hour
		o.Tolerance = 48 * time.Hour // so an hour-old signature still verifies
		o.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	})
	body := testBody
	first, _ := f.deliverWith("email-gateway", body, now, map[string]string{"X-Webhook-Id": "evt-r"})
	mu.Lock()
	clock = now.Add(2 * time.Hour)
	mu.Unlock()
	later, _ := f.deliverWith("email-gateway", body, now.Add(2*time.Hour), map[string]string{"X-Webhook-Id": "evt-r"})
	if first.status != 202 || later.status != 202 || later.body["incident_id"] == first.body["incident_id"] {
		t.Fatalf("after retention: %d %s then %d %s", first.status, first.raw, later.status, later.raw)
	}
}

// TestConcurrentIdempotentRetries sends the same few ids many times at
// once: whatever batches they land in, each id is stored once and every
// answer for it names the same incident.
func TestConcurrentIdempotentRetries(t *testing.T) {
	f := newFixture(t)
	const ids, copies = 5, 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	incidents := map[string]map[string]bool{}
	accepted := map[string]int{}
	for i := 0; i < ids*copies; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			// A retry sends the same body, signed again at its own time.
			id := fmt.Sprintf("evt-%d", i%ids)
			body := fmt.Sprintf(`{"event_type":"x","data":{"id":%q}}`, id)
			r, _ := f.deliverWith("email-gateway", body, now.Add(time.Duration(i)*time.Second), map[string]string{"X-Webhook-Id": id})
			mu.Lock()
			defer mu.Unlock()
			switch r.status {
			case 202:
				accepted[id]++
			case 200:
			default:
				t.Errorf("%s: %d %s", id, r.status, r.raw)
				return
			}
			if incidents[id] == nil {
				incidents[id] = map[string]bool{}
			}
			incidents[id][fmt.Sprint(r.body["incident_id"])] = true
		}(i)
	}
	wg.Wait()
	for i := 0; i < ids; i++ {
		id := fmt.Sprintf("evt-%d", i)
		if accepted[id] != 1 || len(incidents[id]) != 1 {
			t.Errorf("%s: %d accepted, %d distinct incidents; want 1 and 1", id, accepted[id], len(incidents[id]))
		}
	}
	if n := f.countEvents(); n != ids {
		t.Fatalf("%d events stored, want %d", n, ids)
	}
}

func TestBadInputsAreClear4xx(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.MaxBodyBytes = 64 << 10 })
	nest := func(n int) string {
		return strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n)
	}
	tests := []struct {
		name    string
		body    string
		headers map[string]string
		status  int
		code    string
	}{
		{"non-UTF-8 body", "{\"event_type\":\"x\",\"data\":{\"n\":\"\xff\xfe\"}}", nil, 400, CodeInvalidPayload},
		{"nested too deep", nest(maxJSONDepth + 1), nil, 400, CodeInvalidPayload},
		{"deep arrays", `{"a":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}`, nil, 400, CodeInvalidPayload},
		// An escaped quote must not end the string for the depth scan, or
		// the nesting after it would pass as string contents.
		{"nesting after an escaped quote", `{"a":"\"","b":` + nest(maxJSONDepth+1) + `}`, nil, 400, CodeInvalidPayload},
		{"truncated JSON", `{"event_type":"x","data":{"alert_id":"a`, nil, 400, CodeInvalidPayload},
		{"idempotency key with a space", testBody, map[string]string{"X-Webhook-Id": "a b"}, 400, CodeInvalidRequest},
		{"idempotency key too long", testBody, map[string]string{"Idempotency-Key": strings.Repeat("k", 256)}, 400, CodeInvalidRequest},
		{"idempotency key not ASCII", testBody, map[string]string{"X-Webhook-Id": "évt"}, 400, CodeInvalidRequest},
		{"empty quoted key", testBody, map[string]string{"Idempotency-Key": `""`}, 400, CodeInvalidRequest},
		{"empty X-Webhook-Id", testBody, map[string]string{"X-Webhook-Id": ""}, 400, CodeInvalidRequest},
		{"empty Idempotency-Key", testBody, map[string]string{"Idempotency-Key": ""}, 400, CodeInvalidRequest},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := f.deliverWith("email-gateway", tt.body, now.Add(time.Duration(i)*time.Second), tt.headers)
			if r.status != tt.status || errCode(r) != tt.code {
				t.Fatalf("got %d %s, want %d %s", r.status, r.raw, tt.status, tt.code)
			}
		})
	}
	// The admin API has the same body limit.
	huge := `{"source":"big","secret":"` + strings.Repeat("s", 70<<10) + `"}`
	if r := f.admin("POST", "/api/webhooks", huge, f.token); r.status != http.StatusRequestEntityTooLarge || errCode(r) != CodePayloadTooLarge {
		t.Fatalf("oversized admin body: %d %s", r.status, r.raw)
	}
	// Exactly the depth limit is fine: the bound is not off by one.
	if r, _ := f.deliverWith("email-gateway", nest(maxJSONDepth-1), now.Add(time.Minute), nil); r.status != 202 {
		t.Fatalf("nesting at the limit: %d %s", r.status, r.raw)
	}
	// A name no source can have is refused without being echoed.
	r := f.deliver("bad%0d%0aname", testBody, "", "")
	if r.status != 404 || errCode(r) != CodeUnknownSource || strings.Contains(r.raw, "name\\r") {
		t.Fatalf("invalid name: %d %s", r.status, r.raw)
	}
	// An oversized body sent chunked, with no Content-Length to refuse it
	// by, is cut off at the limit all the same.
	big := `{"event_type":"x","data":{"pad":"` + strings.Repeat("x", 70<<10) + `"}}`
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/api/webhooks/email-gateway", io.MultiReader(strings.NewReader(big)))
	signature.SignRequest(req, []byte("your-secret"), now.Add(2*time.Minute), []byte(big))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var chunked reply
	chunked.status, chunked.raw = resp.StatusCode, string(data)
	_ = json.Unmarshal(data, &chunked.body)
	if req.ContentLength != 0 || chunked.status != http.StatusRequestEntityTooLarge || errCode(chunked) != CodePayloadTooLarge {
		t.Fatalf("chunked oversized body (Content-Length %d): %d %s", req.ContentLength, chunked.status, chunked.raw)
	}
	if n := f.countEvents(); n != 1 {
		t.Fatalf("%d events stored, want only the one at the depth limit", n)
	}
}

// rawRequest writes a request by hand: what a client library refuses to
// send (a short body, a bad header) is what a hostile sender sends.
func rawRequest(t *testing.T, addr, head string, body string, closeWrite bool) string {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, head+"\r\n"+body); err != nil {
		t.Fatal(err)
	}
	if closeWrite {
		conn.(*net.TCPConn).CloseWrite()
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return fmt.Sprintf("%d %s", resp.StatusCode, data)
}

func TestTruncatedAndInjectedRequests(t *testing.T) {
	f := newFixture(t)
	addr := strings.TrimPrefix(f.srv.URL, "http://")
	sig, ts := sign("your-secret", testBody, now)
	// The sender dies after half its declared body.
	head := "POST /api/webhooks/email-gateway HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
		"X-Webhook-Signature: " + sig + "\r\nX-Webhook-Timestamp: " + ts + "\r\nContent-Length: 100\r\n"
	got := rawRequest(t, addr, head, testBody[:10], true)
	if !strings.HasPrefix(got, "400 ") || !strings.Contains(got, CodeInvalidPayload) {
		t.Fatalf("truncated body: %s", got)
	}
	// A header value smuggling a second header: net/http refuses the
	// request before the receiver sees it.
	inject := "POST /api/webhooks/email-gateway HTTP/1.1\r\nHost: x\r\n" +
		"X-Webhook-Timestamp: " + ts + "\rX-Webhook-Signature: " + sig + "\r\nContent-Length: " + fmt.Sprint(len(testBody)) + "\r\n"
	if got := rawRequest(t, addr, inject, testBody, false); !strings.HasPrefix(got, "400 ") {
		t.Fatalf("header injection: %s", got)
	}
	if n := f.countEvents(); n != 0 {
		t.Fatalf("%d events stored from broken requests", n)
	}
}

// TestOverloadAnswers503 holds the only in-flight slots with senders that
// never finish their bodies: the next delivery is refused at once with
// Retry-After, health checks still answer, and once the slots free up
// deliveries are accepted again.
func TestOverloadAnswers503(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.MaxInFlight = 2 })
	addr := strings.TrimPrefix(f.srv.URL, "http://")
	var slow []net.Conn
	for i := 0; i < 2; i++ {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /api/webhooks/email-gateway HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{\"event")
		slow = append(slow, conn)
	}
	// Wait until both hold a slot: the gauge says so.
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(f.get("/metrics"), "webhook_in_flight_requests 2") {
		if time.Now().After(deadline) {
			t.Fatal("slow senders never got in flight")
		}
		time.Sleep(5 * time.Millisecond)
	}
	r, h := f.deliverWith("email-gateway", testBody, now, nil)
	if r.status != http.StatusServiceUnavailable || errCode(r) != CodeOverloaded || h.Get("Retry-After") != "1" {
		t.Fatalf("over the limit: %d %s (Retry-After %q)", r.status, r.raw, h.Get("Retry-After"))
	}
	// A sender still sending its body is refused at once too: the server
	// read the rest of the body first, until its read timeout.
	third, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	fmt.Fprintf(third, "POST /api/webhooks/email-gateway HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{\"event")
	_ = third.SetReadDeadline(time.Now().Add(3 * time.Second))
	if line, err := bufio.NewReader(third).ReadString('\n'); err != nil || !strings.HasPrefix(line, "HTTP/1.1 503") {
		t.Fatalf("over the limit, body unfinished: %q, %v", line, err)
	}
	if got := f.get("/healthz"); !strings.Contains(got, "ok") {
		t.Fatalf("healthz under overload: %s", got)
	}
	if m := f.get("/metrics"); !strings.Contains(m, "webhook_overloaded_total 2") ||
		!strings.Contains(m, `webhook_errors_total{code="overloaded",source="_unknown"} 2`) {
		t.Fatal("overload not counted as an overload and as an error")
	}
	for _, c := range slow {
		c.Close()
	}
	deadline = time.Now().Add(5 * time.Second)
	for {
		r, _ := f.deliverWith("email-gateway", testBody, now.Add(time.Second), nil)
		if r.status == 202 {
			break
		}
		if r.status != 503 || time.Now().After(deadline) {
			t.Fatalf("after the overload: %d %s", r.status, r.raw)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (f *fixture) get(path string) string {
	f.t.Helper()
	resp, err := http.Get(f.srv.URL + path)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return string(data)
}

// countingStore counts source reads, to show the hot path makes none.
type countingStore struct {
	store.Store
	gets atomic.Int64
}

func (c *countingStore) GetSource(ctx context.Context, name string) (*store.Source, error) {
	c.gets.Add(1)
	return c.Store.GetSource(ctx, name)
}

func TestSourceCache(t *testing.T) {
	var cs *countingStore
	f := newFixture(t, func(o *Options) {
		cs = &countingStore{Store: o.Store}
		o.Store = cs
		o.SourceCacheTTL = time.Hour // expiry is tested below with a short TTL
	})
	for i := 0; i < 20; i++ {
		body := fmt.Sprintf(`{"event_type":"x","data":{"n":%d}}`, i)
		if r, _ := f.deliverWith("email-gateway", body, now, nil); r.status != 202 {
			t.Fatalf("delivery %d: %d %s", i, r.status, r.raw)
		}
	}
	if n := cs.gets.Load(); n != 1 {
		t.Fatalf("%d source reads for 20 deliveries, want 1", n)
	}
	// Changes through this receiver's admin API apply at once, cache or not.
	if r := f.admin("PATCH", "/api/webhooks/email-gateway", `{"severity_mapping":{"P1":"low"}}`, f.token); r.status != 200 {
		t.Fatalf("patch: %d %s", r.status, r.raw)
	}
	patched, _ := f.deliverWith("email-gateway", `{"event_type":"x","data":{"alert_id":"p","severity":"P1"}}`, now, nil)
	if inc, err := f.store.GetIncident(context.Background(), fmt.Sprint(patched.body["incident_number"])); err != nil || inc.Severity != "low" {
		t.Fatalf("P1 right after a PATCH mapping it to low: %v, %v (%s)", inc, err, patched.raw)
	}
	rot := f.admin("POST", "/api/webhooks/email-gateway/rotate-secret", `{"secret":"next","grace_seconds":0}`, f.token)
	if rot.status != 200 {
		t.Fatalf("rotate: %d %s", rot.status, rot.raw)
	}
	if r, _ := f.deliverWith("email-gateway", testBody, now, nil); r.status != 401 {
		t.Fatalf("old secret after rotation through the API: %d %s", r.status, r.raw)
	}
	if r := f.deliver("newsrc", testBody, "", ""); r.status != 404 {
		t.Fatalf("unknown: %d", r.status)
	}
	f.admin("POST", "/api/webhooks", `{"source":"newsrc","secret":"your-secret"}`, f.token)
	if r, _ := f.deliverWith("newsrc", testBody, now, nil); r.status != 202 {
		t.Fatalf("source added through the API, cached as unknown before: %d %s", r.status, r.raw)
	}
	if r := f.admin("DELETE", "/api/webhooks/newsrc", "", f.token); r.status != 204 {
		t.Fatalf("delete: %d", r.status)
	}
	if r, _ := f.deliverWith("newsrc", `{"n":2}`, now, nil); r.status != 404 {
		t.Fatalf("deleted through the API: %d %s", r.status, r.raw)
	}
}

// TestSourceCacheExpires changes a source behind the receiver's back, as
// `tw-cli webhook` in another process does: the change applies once the
// TTL has passed.
func TestSourceCacheExpires(t *testing.T) {
	const ttl = 50 * time.Millisecond
	f := newFixture(t, func(o *Options) { o.SourceCacheTTL = ttl })
	if r, _ := f.deliverWith("email-gateway", testBody, now, nil); r.status != 202 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	other := &sources.Local{Store: f.store, Now: func() time.Time { return now }}
	if err := other.Remove(context.Background(), "email-gateway"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(ttl + 20*time.Millisecond)
	if r, _ := f.deliverWith("email-gateway", `{"n":1}`, now, nil); r.status != 404 {
		t.Fatalf("source removed by another process, after the TTL: %d %s", r.status, r.raw)
	}
	if _, _, err := other.Add(context.Background(), sources.Spec{Source: "email-gateway", Secret: "your-secret"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(ttl + 20*time.Millisecond)
	if r, _ := f.deliverWith("email-gateway", `{"n":2}`, now, nil); r.status != 202 {
		t.Fatalf("source re-added by another process, after the TTL: %d %s", r.status, r.raw)
	}
}

// TestReplayRespelledSignature replays an accepted delivery with its
// signature header written differently: the same timestamp and body are
// the same delivery, whatever the spelling.
func TestReplayRespelledSignature(t *testing.T) {
	f := newFixture(t)
	sig, ts := sign("your-secret", testBody, now)
	if r := f.deliver("email-gateway", testBody, sig, ts); r.status != 202 {
		t.Fatalf("first: %d %s", r.status, r.raw)
	}
	hexSig := strings.TrimPrefix(sig, "sha256=")
	for _, respelled := range []string{
		"sha256=" + strings.ToUpper(hexSig),
		"sha256=SHA2-256(stdin)= " + hexSig,
		sig + ",sha256=" + strings.Repeat("0", 64),
	} {
		r := f.deliver("email-gateway", testBody, respelled, ts)
		if r.status != http.StatusConflict || errCode(r) != CodeReplayed {
			t.Errorf("replay as %q: %d %s", respelled, r.status, r.raw)
		}
	}
	if n := f.countEvents(); n != 1 {
		t.Fatalf("%d events stored, want 1", n)
	}
}

// A delivery that reaches a store already closed (a shutdown that ran out
// of time) is refused 503 unavailable with Retry-After: stored nothing,
// the sender should retry.
func TestClosedStoreAnswersUnavailable(t *testing.T) {
	f := newFixture(t)
	if r, _ := f.deliverWith("email-gateway", testBody, now, nil); r.status != http.StatusAccepted {
		t.Fatalf("before close: %d %s", r.status, r.raw)
	}
	if err := f.store.Close(); err != nil {
		t.Fatal(err)
	}
	r, h := f.deliverWith("email-gateway", `{"event_type":"after-close"}`, now.Add(time.Second), nil)
	if r.status != http.StatusServiceUnavailable || errCode(r) != CodeUnavailable || h.Get("Retry-After") == "" {
		t.Fatalf("after close: %d %s (Retry-After %q), want 503 %s with Retry-After", r.status, r.raw, h.Get("Retry-After"), CodeUnavailable)
	}
}

// busyIngest is a store whose database another process holds locked
// past the store's wait (sqlite's test holds a real lock for that).
type busyIngest struct{ store.Store }

func (busyIngest) Ingest(context.Context, *store.Delivery) (*store.IngestResult, error) {
	return nil, fmt.Errorf("%w: database is locked (5) (SQLITE_BUSY)", store.ErrBusy)
}

// A database locked by another process (a migration run by a newer CLI)
// is a 503 to retry, not a 500: nothing was stored.
func TestBusyDatabaseAnswersUnavailable(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Store = busyIngest{o.Store} })
	r, h := f.deliverWith("email-gateway", testBody, now, nil)
	if r.status != http.StatusServiceUnavailable || errCode(r) != CodeUnavailable || h.Get("Retry-After") == "" {
		t.Fatalf("busy database: %d %s (Retry-After %q), want 503 %s with Retry-After", r.status, r.raw, h.Get("Retry-After"), CodeUnavailable)
	}
}

// failingLookup is a store whose source lookups fail (a database outage).
type failingLookup struct{ store.Store }

func (failingLookup) GetSource(context.Context, string) (*store.Source, error) {
	return nil, errors.New("database unavailable")
}

// While source lookups fail, names from the network do not become metric
// labels: every made-up name was a new series.
func TestMetricLabelsStayBoundedWhenLookupsFail(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "tw.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv := httptest.NewServer(New(Options{Store: failingLookup{st}}))
	defer srv.Close()
	for i := range 50 {
		resp, err := http.Post(fmt.Sprintf("%s/api/webhooks/made-up-%d", srv.URL, i), "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusInternalServerError {
			t.Fatalf("lookup failure answered %d, want 500", resp.StatusCode)
		}
	}
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(b), "made-up-") || !strings.Contains(string(b), `source="_unknown"`) {
		t.Fatalf("metrics carry names from the network:\n%s", b)
	}
}

// An idempotency key reused for another body is refused 422: answered as
// a repeat, it handed out the first delivery's incident to whoever
// replayed a signed request with a guessed key.
func TestIdempotencyKeyReusedForAnotherBody(t *testing.T) {
	f := newFixture(t)
	first, _ := f.deliverWith("email-gateway", `{"event_type":"a"}`, now, map[string]string{"X-Webhook-Id": "victim-key"})
	if first.status != http.StatusAccepted {
		t.Fatalf("first: %d %s", first.status, first.raw)
	}
	other, _ := f.deliverWith("email-gateway", `{"event_type":"b"}`, now.Add(time.Second), map[string]string{"X-Webhook-Id": "victim-key"})
	if other.status != http.StatusUnprocessableEntity || errCode(other) != CodeIdempotencyConflict ||
		strings.Contains(other.raw, fmt.Sprint(first.body["incident_id"])) {
		t.Fatalf("another body under the key: %d %s", other.status, other.raw)
	}
	if n := f.countEvents(); n != 1 {
		t.Fatalf("%d events stored, want 1", n)
	}
}

// Replay and idempotency keys belong to their source: two senders that
// happen to send the same signed body, or pick the same delivery id, each
// get their own event and incident, never a 409 or the other's answer.
func TestKeysArePerSource(t *testing.T) {
	f := newFixture(t)
	f.addSource(sources.Spec{Source: "edr", Secret: "your-secret"})
	sig, ts := sign("your-secret", testBody, now)
	a := f.deliver("email-gateway", testBody, sig, ts)
	b := f.deliver("edr", testBody, sig, ts)
	if a.status != 202 || b.status != 202 || a.body["incident_id"] == b.body["incident_id"] {
		t.Fatalf("the same signed body to two sources: %d %s / %d %s", a.status, a.raw, b.status, b.raw)
	}

	hdr := map[string]string{"X-Webhook-Id": "evt-shared"}
	a, _ = f.deliverWith("email-gateway", `{"event_type":"x","data":{"from":"gateway"}}`, now, hdr)
	b, _ = f.deliverWith("edr", `{"event_type":"x","data":{"from":"edr"}}`, now, hdr)
	if a.status != 202 || b.status != 202 || a.body["incident_id"] == b.body["incident_id"] {
		t.Fatalf("one X-Webhook-Id at two sources: %d %s / %d %s", a.status, a.raw, b.status, b.raw)
	}
	if n := f.countEvents(); n != 4 {
		t.Fatalf("%d events stored, want 4", n)
	}
}

// Pruning forgets only what can no longer match: a replay of a delivery
// still inside the signature window stays refused after a prune, and a
// retry inside the idempotency retention still gets the first answer;
// past the retention the id is free again.
func TestPruneKeepsLiveKeys(t *testing.T) {
	var mu sync.Mutex
	clock := now
	f := newFixture(t, func(o *Options) {
		o.IdempotencyRetention = time.Hour
		o.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	})
	advance := func(d time.Duration) {
		mu.Lock()
		clock = clock.Add(d)
		mu.Unlock()
	}
	sig, ts := sign("your-secret", testBody, now)
	if r := f.deliver("email-gateway", testBody, sig, ts); r.status != 202 {
		t.Fatalf("first: %d %s", r.status, r.raw)
	}
	first, _ := f.deliverWith("email-gateway", `{"event_type":"x","data":{"n":1}}`, now, map[string]string{"X-Webhook-Id": "evt-p"})
	if first.status != 202 {
		t.Fatalf("first with an id: %d %s", first.status, first.raw)
	}

	advance(4 * time.Minute) // inside the 5-minute signature window
	f.rcv.prune(context.Background())
	if r := f.deliver("email-gateway", testBody, sig, ts); r.status != http.StatusConflict {
		t.Fatalf("replay after a prune inside the window: %d %s", r.status, r.raw)
	}
	again, _ := f.deliverWith("email-gateway", `{"event_type":"x","data":{"n":1}}`, clock, map[string]string{"X-Webhook-Id": "evt-p"})
	if again.status != 200 || again.body["incident_id"] != first.body["incident_id"] {
		t.Fatalf("retry after a prune inside the retention: %d %s", again.status, again.raw)
	}

	advance(2 * time.Hour)
	f.rcv.prune(context.Background())
	later, _ := f.deliverWith("email-gateway", `{"event_type":"x","data":{"n":1}}`, clock, map[string]string{"X-Webhook-Id": "evt-p"})
	if later.status != 202 || later.body["incident_id"] == first.body["incident_id"] {
		t.Fatalf("the id after its retention was pruned: %d %s", later.status, later.raw)
	}
}

// A source with an allow list takes deliveries only from those networks,
// and behind a trusted proxy judges the sender by X-Forwarded-For, read
// from the right.
func TestAllowFrom(t *testing.T) {
	var logBuf syncbuf.Buffer
	f := newFixture(t, func(o *Options) {
		o.SourceCacheTTL = -1
		o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		o.Logger = slog.New(slog.NewTextHandler(&logBuf, nil))
	})
	f.addSource(sources.Spec{Source: "ts", Secret: "your-secret", AllowFrom: []string{"203.0.113.0/24"}})
	n := 0
	send := func(xff ...string) reply {
		n++
		body := fmt.Sprintf(`{"event_type":"x","data":{"n":%d}}`, n)
		req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/api/webhooks/ts", strings.NewReader(body))
		signature.SignRequest(req, []byte("your-secret"), now, []byte(body))
		for _, h := range xff {
			req.Header.Add("X-Forwarded-For", h)
		}
		r, _ := f.doWithHeader(req)
		return r
	}
	for _, c := range []struct {
		name   string
		xff    []string
		status int
	}{
		{"from the proxy itself", nil, 403},
		{"an allowed sender through the proxy", []string{"203.0.113.5"}, 202},
		{"a forged entry left of the real sender", []string{"198.51.100.9, 203.0.113.5"}, 202},
		{"an allowed address forged left of the real sender", []string{"203.0.113.5, 198.51.100.9"}, 403},
		{"hops over several headers", []string{"203.0.113.5", "127.0.0.1"}, 202},
		{"an unreadable hop", []string{"203.0.113.5, not-an-ip"}, 403},
	} {
		r := send(c.xff...)
		if r.status != c.status || (c.status == 403 && errCode(r) != CodeForbiddenAddress) {
			t.Errorf("%s: %d %s, want %d", c.name, r.status, r.raw, c.status)
		}
	}
	if r := send(); !strings.Contains(errMessage(r), "does not accept deliveries from 127.0.0.1") {
		t.Errorf("message %q does not say which address was refused", errMessage(r))
	}
	// The operator sees the refused sender in the log too.
	if logged := logBuf.String(); !strings.Contains(logged, "sender 198.51.100.9 (peer 127.0.0.1:") {
		t.Errorf("log does not name the refused sender:\n%s", logged)
	}

	// Without a trusted proxy, X-Forwarded-For is the sender's to write
	// and counts for nothing.
	g := newFixture(t)
	g.addSource(sources.Spec{Source: "ts", Secret: "your-secret", AllowFrom: []string{"203.0.113.0/24"}})
	req, _ := http.NewRequest(http.MethodPost, g.srv.URL+"/api/webhooks/ts", strings.NewReader(testBody))
	signature.SignRequest(req, []byte("your-secret"), now, []byte(testBody))
	req.Header.Set("X-Forwarded-For", "203.0.113.5")
	if r, _ := g.doWithHeader(req); r.status != 403 {
		t.Fatalf("X-Forwarded-For from an untrusted peer was believed: %d %s", r.status, r.raw)
	}
	g.addSource(sources.Spec{Source: "local", Secret: "your-secret", AllowFrom: []string{"127.0.0.0/8", "::1"}})
	if r, _ := g.deliverWith("local", testBody, now, nil); r.status != 202 {
		t.Fatalf("an allowed peer: %d %s", r.status, r.raw)
	}
	if n := g.countEvents(); n != 1 {
		t.Fatalf("%d events stored, want only the allowed delivery's", n)
	}
}

// hangingIngest is a store whose Ingest never answers, as a database that
// stopped responding mid-statement.
type hangingIngest struct{ store.Store }

func (hangingIngest) Ingest(ctx context.Context, _ *store.Delivery) (*store.IngestResult, error) {
	<-ctx.Done()
	return nil, fmt.Errorf("timeout: %w", ctx.Err())
}

// A store that stops answering gets the sender a 503 to retry, within
// the ingest timeout, instead of holding the request (and the shutdown)
// for good.
func TestIngestTimeoutAnswersRetry(t *testing.T) {
	f := newFixture(t, func(o *Options) {
		o.Store = hangingIngest{o.Store}
		o.IngestTimeout = 50 * time.Millisecond
	})
	r, h := f.deliverWith("email-gateway", testBody, now, nil)
	if r.status != http.StatusServiceUnavailable || errCode(r) != CodeUnavailable || h.Get("Retry-After") == "" || !strings.Contains(r.raw, "did not answer in time") {
		t.Fatalf("hung store: %d %s (Retry-After %q), want 503 %s with Retry-After", r.status, r.raw, h.Get("Retry-After"), CodeUnavailable)
	}
}

// A body's buffer follows the bytes that arrive: a header declaring a
// megabyte ahead of a one-byte body costs no megabyte, unauthenticated.
func TestDeclaredLengthIsNotAllocatedUpFront(t *testing.T) {
	r := New(Options{Store: nil, MaxBodyBytes: 1 << 20})
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range 10 {
		// net/http's body reader ends a body shorter than declared so.
		req := httptest.NewRequest(http.MethodPost, "/api/webhooks/x", io.MultiReader(strings.NewReader("{"), iotest.ErrReader(io.ErrUnexpectedEOF)))
		req.ContentLength = 1 << 20
		if _, rej := r.readBody(httptest.NewRecorder(), req); rej == nil || rej.status != http.StatusBadRequest {
			t.Fatalf("truncated body: %+v", rej)
		}
	}
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > 2<<20 {
		t.Fatalf("ten one-byte bodies declaring 1 MiB each allocated %d bytes", got)
	}
	// A large body that does arrive is read whole.
	big := `{"event_type":"x","data":"` + strings.Repeat("a", 200<<10) + `"}`
	req := httptest.NewRequest(http.MethodPost, "/api/webhooks/x", strings.NewReader(big))
	if body, rej := r.readBody(httptest.NewRecorder(), req); rej != nil || string(body) != big {
		t.Fatalf("200 KiB body: %d bytes, %+v", len(body), rej)
	}
}

// Requests the API cannot take get its JSON errors, with what to do.
func TestOddRequestsGetJSONErrors(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct {
		name, path string
		status     int
		code, hint string
	}{
		{"a trailing slash", "/api/webhooks/email-gateway/", 404, CodeNotFound, `did you mean \"/api/webhooks/email-gateway\"`},
		{"a doubled slash", "//api/webhooks/email-gateway", 404, CodeNotFound, `did you mean \"/api/webhooks/email-gateway\"`},
		{"a dot segment", "/api/webhooks/../webhooks/email-gateway", 404, CodeNotFound, `did you mean \"/api/webhooks/email-gateway\"`},
		// Escaped slashes stay inside the segment: a name no source has.
		{"escaped slashes", "/api/webhooks/a%2F..%2Fb", 404, CodeUnknownSource, "not valid"},
	} {
		req, err := http.NewRequest(http.MethodPost, f.srv.URL+c.path, strings.NewReader(testBody))
		if err != nil {
			t.Fatal(err)
		}
		r := f.do(req)
		if r.status != c.status || errCode(r) != c.code || !strings.Contains(r.raw, c.hint) {
			t.Errorf("%s: %d %s", c.name, r.status, r.raw)
		}
	}
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	gz.Write([]byte(testBody))
	gz.Close()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/api/webhooks/email-gateway", bytes.NewReader(buf.Bytes()))
	signature.SignRequest(req, []byte("your-secret"), now, buf.Bytes())
	req.Header.Set("Content-Encoding", "gzip")
	if r := f.do(req); r.status != http.StatusUnsupportedMediaType || errCode(r) != CodeInvalidPayload || !strings.Contains(r.raw, "send the body uncompressed") {
		t.Errorf("gzip body: %d %s", r.status, r.raw)
	}
	// To a source that does not exist, the answer is that it does not
	// exist, and the made-up name gets no metrics series of its own (one
	// per name let anyone grow /metrics and the heap without signing).
	req, _ = http.NewRequest(http.MethodPost, f.srv.URL+"/api/webhooks/made-up-gzip", bytes.NewReader(buf.Bytes()))
	req.Header.Set("Content-Encoding", "gzip")
	if r := f.do(req); r.status != http.StatusNotFound || errCode(r) != CodeUnknownSource {
		t.Errorf("gzip body to an unknown source: %d %s", r.status, r.raw)
	}
	resp, err := http.Get(f.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(m), "made-up-gzip") {
		t.Errorf("metrics carry a made-up source name:\n%s", m)
	}
}

// A source name from the network that no source can have is logged cut
// short: the path may be as long as the header limit.
func TestInvalidSourceNameIsLoggedShort(t *testing.T) {
	var logBuf syncbuf.Buffer
	f := newFixture(t, func(o *Options) { o.Logger = slog.New(slog.NewTextHandler(&logBuf, nil)) })
	long := strings.Repeat("a", 5000)
	if r := f.deliver(long, testBody, "", ""); r.status != http.StatusNotFound || errCode(r) != CodeUnknownSource {
		t.Fatalf("long name: %d %s", r.status, r.raw)
	}
	line := logBuf.String()
	if !strings.Contains(line, "delivery rejected") || strings.Contains(line, strings.Repeat("a", 100)) || len(line) > 1000 {
		t.Fatalf("log line for a 5000-character name (%d bytes): %.300s", len(line), line)
	}
}

// A body that does not arrive within the server's ReadTimeout gets 408, a
// status senders retry, not a 400 that tells them to give the alert up.
func TestSlowBodyGets408(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "tw.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, _, err := (&sources.Local{Store: st, Origin: "cli"}).Add(context.Background(), sources.Spec{Source: "email-gateway", Secret: "your-secret"}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(New(Options{Store: st}))
	srv.Config.ReadTimeout = 300 * time.Millisecond
	srv.Start()
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/webhooks/email-gateway HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"event")
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(body), CodeRequestTimeout) {
		t.Fatalf("slow body: %d %s", resp.StatusCode, body)
	}
}
