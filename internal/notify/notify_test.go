package notify

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tw-cli/tw-cli/internal/redact"
	"github.com/tw-cli/tw-cli/internal/store"
	"github.com/tw-cli/tw-cli/internal/store/sqlite"
	"github.com/tw-cli/tw-cli/pkg/payload"
	"github.com/tw-cli/tw-cli/pkg/signature"
)

var now = time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)

// captured is one request an httptest endpoint received.
type captured struct {
	method, path, query string
	header              http.Header
	body                []byte
}

// endpoint answers with the given statuses in turn (the last repeats) and
// records every request.
type endpoint struct {
	mu       sync.Mutex
	reqs     []captured
	statuses []int
	headers  map[string]string
	srv      *httptest.Server
}

func newEndpoint(t *testing.T, statuses ...int) *endpoint {
	e := &endpoint{statuses: statuses, headers: map[string]string{}}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		e.mu.Lock()
		e.reqs = append(e.reqs, captured{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), body})
		i := min(len(e.reqs)-1, len(e.statuses)-1)
		status := 200
		if i >= 0 {
			status = e.statuses[i]
		}
		for k, v := range e.headers {
			w.Header().Set(k, v)
		}
		e.mu.Unlock()
		w.WriteHeader(status)
		if status == 200 {
			io.WriteString(w, "ok")
		} else {
			io.WriteString(w, "try later")
		}
	}))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *endpoint) requests() []captured {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]captured(nil), e.reqs...)
}

func testSender(delays *[]time.Duration) *Sender {
	s := NewSender()
	s.Now = func() time.Time { return now }
	s.Jitter = func(d time.Duration) time.Duration { return d }
	s.Sleep = func(_ context.Context, d time.Duration) error {
		if delays != nil {
			*delays = append(*delays, d)
		}
		return nil
	}
	return s
}

func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "tw.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func sample() Message {
	return Message{
		IncidentID: "550e8400-e29b-41d4-a716-446655440000", Number: "INC-2024-0001",
		Title: "PhishingEmail: Urgent <Action> Required", Severity: "high", Status: "open", Source: "email-gateway",
		Category: "Phish", Owner: "soc-email", Tags: []string{"phishing", "email"}, EventCount: 1, CreatedAt: now,
		Indicators: store.Indicators{URLs: []string{"http://malicious.com/login"}, Domains: []string{"malicious.com"}},
		Playbook:   "phishing_triage",
	}
}

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, b)
	}
	return m
}

func send(t *testing.T, d *store.Destination, m Message) {
	t.Helper()
	body, err := Render(d, m, now)
	if err != nil {
		t.Fatal(err)
	}
	res := testSender(nil).Send(context.Background(), d, body)
	if !res.OK() || res.Attempts != 1 || res.Status != 200 {
		t.Fatalf("send = %+v", res)
	}
}

func TestSlackFormat(t *testing.T) {
	ep := newEndpoint(t, 200)
	d := &store.Destination{Name: "soc", Kind: KindSlack, URL: ep.srv.URL + "/services/T000/B000/XXXX"}
	send(t, d, sample())
	reqs := ep.requests()
	if len(reqs) != 1 || reqs[0].method != "POST" || reqs[0].path != "/services/T000/B000/XXXX" ||
		reqs[0].header.Get("Content-Type") != "application/json" {
		t.Fatalf("request = %+v", reqs)
	}
	m := decode(t, reqs[0].body)
	if m["text"] != "[HIGH] INC-2024-0001: PhishingEmail: Urgent &lt;Action&gt; Required (email-gateway)" {
		t.Fatalf("text = %q", m["text"])
	}
	blocks := m["blocks"].([]any)
	header := blocks[0].(map[string]any)
	if header["type"] != "header" || header["text"].(map[string]any)["type"] != "plain_text" ||
		header["text"].(map[string]any)["text"] != "INC-2024-0001: PhishingEmail: Urgent <Action> Required" {
		t.Fatalf("header block = %v", header)
	}
	fields := blocks[1].(map[string]any)["fields"].([]any)
	if f := fields[0].(map[string]any); f["type"] != "mrkdwn" || f["text"] != "*Severity*\nhigh" {
		t.Fatalf("first field = %v", f)
	}
	ind := blocks[2].(map[string]any)["text"].(map[string]any)["text"].(string)
	// Defanged: Slack would make the attacker's URL a link in the channel.
	if !strings.Contains(ind, "URL: hxxp://malicious[.]com/login") || !strings.Contains(ind, "Domain: malicious[.]com") ||
		strings.Contains(ind, "http://") {
		t.Fatalf("indicators block = %q", ind)
	}
	if ctx := blocks[3].(map[string]any); ctx["type"] != "context" {
		t.Fatalf("last block = %v", ctx)
	}
}

func TestDefangURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://evil.example/login.php?a=b.c": "hxxps://evil[.]example/login.php?a=b.c",
		"HTTP://10.0.0.1:8080/":                "hxxp://10[.]0[.]0[.]1:8080/",
		"http://evil.example":                  "hxxp://evil[.]example",
		"ftp://files.example/x":                "ftp://files[.]example/x",
		"evil.example/path":                    "evil[.]example/path",
	} {
		if got := defangURL(in); got != want {
			t.Errorf("defangURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTeamsFormat(t *testing.T) {
	ep := newEndpoint(t, 200)
	d := &store.Destination{Name: "teams", Kind: KindTeams, URL: ep.srv.URL + "/webhookb2/abc"}
	send(t, d, sample())
	m := decode(t, ep.requests()[0].body)
	if m["type"] != "message" {
		t.Fatalf("envelope = %v", m)
	}
	att := m["attachments"].([]any)[0].(map[string]any)
	if att["contentType"] != "application/vnd.microsoft.card.adaptive" {
		t.Fatalf("contentType = %v", att["contentType"])
	}
	if v, ok := att["contentUrl"]; !ok || v != nil {
		t.Fatalf("contentUrl must be present and null: %v", att)
	}
	card := att["content"].(map[string]any)
	if card["type"] != "AdaptiveCard" || card["version"] != "1.4" || card["$schema"] != "http://adaptivecards.io/schemas/adaptive-card.json" {
		t.Fatalf("card = %v", card)
	}
	body := card["body"].([]any)
	if tb := body[0].(map[string]any); tb["type"] != "TextBlock" || tb["text"] != `INC-2024-0001: PhishingEmail: Urgent \<Action\> Required` {
		t.Fatalf("title block = %v", tb)
	}
	facts := body[1].(map[string]any)["facts"].([]any)
	if f := facts[0].(map[string]any); f["title"] != "Severity" || f["value"] != "high" {
		t.Fatalf("facts = %v", facts)
	}
	// A title from the sender cannot plant a link in the channel.
	m2 := sample()
	m2.Title = "[Reset your password](https://evil.example/login)"
	raw, _ := Render(d, m2, now)
	card2 := decode(t, raw)["attachments"].([]any)[0].(map[string]any)["content"].(map[string]any)
	title := card2["body"].([]any)[0].(map[string]any)["text"].(string)
	if title != `INC-2024-0001: \[Reset your password\]\(https://evil.example/login\)` {
		t.Fatalf("title block %q: a Markdown link must reach the card escaped", title)
	}
}

func TestGenericIsSignedAndParsesAsGeneric(t *testing.T) {
	ep := newEndpoint(t, 202)
	d := &store.Destination{Name: "peer", Kind: KindGeneric, URL: ep.srv.URL + "/api/webhooks/upstream", Secret: "peer-secret"}
	body, _ := Render(d, sample(), now)
	if res := testSender(nil).Send(context.Background(), d, body); !res.OK() || res.Status != 202 {
		t.Fatalf("send = %+v", res)
	}
	req := ep.requests()[0]
	v := signature.Verifier{Secrets: [][]byte{[]byte("peer-secret")}, Now: func() time.Time { return now }}
	if err := v.Verify(req.header.Get(signature.SignatureHeader), req.header.Get(signature.TimestampHeader), req.body); err != nil {
		t.Fatalf("signature does not verify: %v", err)
	}
	if req.header.Get(signature.TimestampHeader) != "1705312800" {
		t.Fatalf("timestamp = %q", req.header.Get(signature.TimestampHeader))
	}
	// A receiving tw-cli reads it as seed 003's generic format.
	res, err := payload.Parse(payload.FormatGeneric, req.body)
	if err != nil {
		t.Fatal(err)
	}
	ev := res.Events[0]
	if ev.Type != GenericEventType || ev.ExternalID != "INC-2024-0001" || ev.Severity != payload.SeverityHigh ||
		ev.Title != "PhishingEmail: Urgent <Action> Required" || ev.Source != "tw-cli" || !ev.OccurredAt.Equal(now) {
		t.Fatalf("parsed = %+v", ev)
	}
	data := decode(t, req.body)["data"].(map[string]any)
	if data["owner"] != "soc-email" || data["playbook"] != "phishing_triage" || data["indicators"] == nil {
		t.Fatalf("data = %v", data)
	}
}

func TestSplunkHECFormat(t *testing.T) {
	ep := newEndpoint(t, 200)
	for _, base := range []string{"", "/", "/services/collector", "/services/collector/event"} {
		d := &store.Destination{Name: "hec", Kind: KindSplunkHEC, URL: ep.srv.URL + base, Token: "hec-token"}
		if got := Endpoint(d); got != ep.srv.URL+"/services/collector/event" {
			t.Errorf("Endpoint(%q) = %q", base, got)
		}
	}
	d := &store.Destination{Name: "hec", Kind: KindSplunkHEC, URL: ep.srv.URL, Token: "hec-token", Sourcetype: "soc:incident"}
	send(t, d, sample())
	req := ep.requests()[0]
	if req.path != "/services/collector/event" || req.header.Get("Authorization") != "Splunk hec-token" {
		t.Fatalf("path %q, auth %q", req.path, req.header.Get("Authorization"))
	}
	m := decode(t, req.body)
	if m["sourcetype"] != "soc:incident" || m["source"] != "tw-cli" || m["time"] != float64(now.Unix()) {
		t.Fatalf("hec body = %v", m)
	}
	ev := m["event"].(map[string]any)
	if ev["alert_id"] != "INC-2024-0001" || ev["severity"] != "high" {
		t.Fatalf("event = %v", ev)
	}
	d.Sourcetype = ""
	body, _ := Render(d, sample(), now)
	if decode(t, body)["sourcetype"] != DefaultSourcetype {
		t.Fatal("no default sourcetype")
	}
}

func TestRetryHonoursRetryAfter(t *testing.T) {
	ep := newEndpoint(t, 503, 429, 200)
	ep.headers["Retry-After"] = "7"
	var delays []time.Duration
	s := testSender(&delays)
	d := &store.Destination{Name: "soc", Kind: KindSlack, URL: ep.srv.URL + "/x"}
	res := s.Send(context.Background(), d, []byte(`{}`))
	if !res.OK() || res.Attempts != 3 || res.Status != 200 {
		t.Fatalf("result = %+v", res)
	}
	// Backoff would be 1s then 2s; the server asked for 7s each time.
	if len(delays) != 2 || delays[0] != 7*time.Second || delays[1] != 7*time.Second {
		t.Fatalf("delays = %v", delays)
	}
}

func TestExponentialBackoffThenGiveUp(t *testing.T) {
	ep := newEndpoint(t, 500)
	var delays []time.Duration
	s := testSender(&delays)
	s.MaxAttempts, s.BaseDelay, s.MaxDelay = 5, 100*time.Millisecond, 300*time.Millisecond
	res := s.Send(context.Background(), &store.Destination{Kind: KindSlack, URL: ep.srv.URL}, []byte(`{}`))
	if res.OK() || res.Attempts != 5 || res.Status != 500 || !strings.Contains(res.Err.Error(), "HTTP 500: try later") {
		t.Fatalf("result = %+v", res)
	}
	want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond, 300 * time.Millisecond}
	if len(delays) != len(want) {
		t.Fatalf("delays = %v", delays)
	}
	for i := range want {
		if delays[i] != want[i] {
			t.Fatalf("delays = %v, want %v", delays, want)
		}
	}
}

func TestJitterStaysWithinBounds(t *testing.T) {
	for range 1000 {
		if j := equalJitter(time.Second); j < 500*time.Millisecond || j >= time.Second {
			t.Fatalf("jitter %v outside [0.5s, 1s)", j)
		}
	}
}

func TestNoRetryOnClientErrorsOrLongRetryAfter(t *testing.T) {
	ep := newEndpoint(t, 400)
	res := testSender(nil).Send(context.Background(), &store.Destination{Kind: KindSlack, URL: ep.srv.URL}, []byte(`{}`))
	if res.OK() || res.Attempts != 1 || res.Status != 400 {
		t.Fatalf("400 = %+v", res)
	}
	slow := newEndpoint(t, 429)
	slow.headers["Retry-After"] = "3600"
	res = testSender(nil).Send(context.Background(), &store.Destination{Kind: KindSlack, URL: slow.srv.URL}, []byte(`{}`))
	if res.OK() || res.Attempts != 1 || !strings.Contains(res.Err.Error(), "exceeds") {
		t.Fatalf("long Retry-After = %+v", res)
	}
	redirect := httptest.NewServer(http.RedirectHandler("http://127.0.0.1:1/elsewhere", http.StatusFound))
	defer redirect.Close()
	res = testSender(nil).Send(context.Background(), &store.Destination{Kind: KindSlack, URL: redirect.URL}, []byte(`{}`))
	if res.OK() || res.Status != 302 || res.Attempts != 1 {
		t.Fatalf("redirect = %+v", res)
	}
}

func TestRetryAfterDate(t *testing.T) {
	if d := parseRetryAfter(now.Add(90*time.Second).Format(http.TimeFormat), now); d != 90*time.Second {
		t.Fatalf("date = %v", d)
	}
	if d := parseRetryAfter("soon", now); d != 0 {
		t.Fatalf("garbage = %v", d)
	}
}

func TestErrorsHideWebhookTokens(t *testing.T) {
	ep := newEndpoint(t, 200)
	ep.srv.Close() // connection refused
	d := &store.Destination{Kind: KindSlack, URL: ep.srv.URL + "/services/T0/B0/SECRETTOKEN"}
	res := testSender(nil).Send(context.Background(), d, []byte(`{}`))
	if res.OK() || res.Attempts != DefaultMaxAttempts {
		t.Fatalf("result = %+v", res)
	}
	if strings.Contains(res.Err.Error(), "SECRETTOKEN") || !strings.Contains(res.Err.Error(), "/…") {
		t.Fatalf("error leaks or hides too much: %v", res.Err)
	}
	if got := redact.URL("https://hooks.slack.com/services/T/B/X?k=v"); got != "https://hooks.slack.com/…" {
		t.Fatalf("redact = %q", got)
	}
	if NewSender().Client.Timeout <= 0 {
		t.Fatal("the notification client has no timeout")
	}
}

func TestDeadLetterAndRetry(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	ep := newEndpoint(t, 503, 503, 503, 200)
	if err := st.CreateDestination(ctx, &store.Destination{Name: "hec", Kind: KindSplunkHEC, URL: ep.srv.URL, Token: "t", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	s := testSender(nil)
	s.MaxAttempts = 2
	n := &Notifier{Store: st, Sender: s, Now: func() time.Time { return now }}
	out, err := n.Notify(ctx, "hec", sample())
	if err != nil {
		t.Fatal(err)
	}
	if out.OK() || out.Attempts != 2 || out.DeadLetter == "" {
		t.Fatalf("delivery = %+v", out)
	}
	dls, _ := st.ListDeadLetters(ctx)
	if len(dls) != 1 || dls[0].Destination != "hec" || dls[0].IncidentNumber != "INC-2024-0001" || dls[0].LastStatus != 503 || dls[0].Attempts != 2 {
		t.Fatalf("dead letters = %+v", dls)
	}
	// One more 503, then the endpoint recovers on the second retry attempt.
	again, err := n.Retry(ctx, out.DeadLetter)
	if err != nil || !again.OK() || again.Attempts != 2 {
		t.Fatalf("retry = %+v, %v", again, err)
	}
	if _, err := st.GetDeadLetter(ctx, out.DeadLetter); err != store.ErrNotFound {
		t.Fatalf("delivered dead letter kept: %v", err)
	}
	reqs := ep.requests()
	if string(reqs[3].body) != string(dls[0].Body) {
		t.Fatal("the retry did not resend the stored message")
	}
	if _, err := n.Notify(ctx, "nope", sample()); err == nil || !strings.Contains(err.Error(), "unknown destination") {
		t.Fatalf("unknown destination = %v", err)
	}
}

func TestFailedRetryIsCounted(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	ep := newEndpoint(t, 500)
	st.CreateDestination(ctx, &store.Destination{Name: "s", Kind: KindSlack, URL: ep.srv.URL, CreatedAt: now})
	s := testSender(nil)
	s.MaxAttempts = 1
	n := &Notifier{Store: st, Sender: s, Now: func() time.Time { return now }}
	out, _ := n.Notify(ctx, "s", sample())
	if _, err := n.Retry(ctx, out.DeadLetter); err != nil {
		t.Fatal(err)
	}
	dl, err := st.GetDeadLetter(ctx, out.DeadLetter)
	if err != nil || dl.Attempts != 2 {
		t.Fatalf("dead letter = %+v, %v", dl, err)
	}
	test, err := n.Test(ctx, "s")
	if err != nil || test.OK() || test.Attempts != 1 {
		t.Fatalf("test = %+v, %v", test, err)
	}
	if dls, _ := st.ListDeadLetters(ctx); len(dls) != 1 {
		t.Fatal("a test message was dead-lettered")
	}
}

// A retry interrupted mid-send (Ctrl-C) still records its outcome: the
// claim is released, so the next retry is not refused for minutes, and
// the attempts count.
func TestInterruptedRetryReleasesItsClaim(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	var hang atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hang.Load() {
			// The server sees the client go only once the body is read.
			io.Copy(io.Discard, r.Body)
			<-r.Context().Done() // until the client gives up
			return
		}
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer srv.Close()
	st.CreateDestination(ctx, &store.Destination{Name: "s", Kind: KindSlack, URL: srv.URL, CreatedAt: now})
	s := testSender(nil)
	s.MaxAttempts = 1
	n := &Notifier{Store: st, Sender: s, Now: func() time.Time { return now }}
	out, _ := n.Notify(ctx, "s", sample())
	hang.Store(true)
	interrupted, cancel := context.WithCancel(ctx)
	time.AfterFunc(100*time.Millisecond, cancel) // Ctrl-C during the send
	if res, err := n.Retry(interrupted, out.DeadLetter); err != nil || res.OK() {
		t.Fatalf("interrupted retry: %+v, %v", res, err)
	}
	hang.Store(false)
	if _, err := n.Retry(ctx, out.DeadLetter); err != nil {
		t.Fatalf("the retry after an interrupted one was refused: %v", err)
	}
	if dl, err := st.GetDeadLetter(ctx, out.DeadLetter); err != nil || dl.Attempts != 3 {
		t.Fatalf("dead letter = %+v, %v: every attempt counts", dl, err)
	}
}

func TestValidate(t *testing.T) {
	ok := []store.Destination{
		{Name: "s", Kind: KindSlack, URL: "https://hooks.slack.com/services/x"},
		{Name: "t", Kind: KindTeams, URL: "https://example.webhook.office.com/x"},
		{Name: "g", Kind: KindGeneric, URL: "http://127.0.0.1:8080/api/webhooks/peer", Secret: "s"},
		{Name: "h", Kind: KindSplunkHEC, URL: "https://splunk:8088", Token: "t", Sourcetype: "x"},
	}
	for _, d := range ok {
		if err := Validate(&d); err != nil {
			t.Errorf("%s: %v", d.Name, err)
		}
	}
	bad := map[string]store.Destination{
		"invalid destination name": {Name: "bad name", Kind: KindSlack, URL: "https://x"},
		"absolute http(s) URL":     {Name: "a", Kind: KindSlack, URL: "ftp://x"},
		"unknown destination kind": {Name: "a", Kind: "pager", URL: "https://x"},
		"--secret-env VAR":         {Name: "a", Kind: KindGeneric, URL: "https://x"},
		"--token-env VAR":          {Name: "a", Kind: KindSplunkHEC, URL: "https://x"},
		"in the webhook URL":       {Name: "a", Kind: KindSlack, URL: "https://x", Token: "t"},
		"splunk-hec only":          {Name: "a", Kind: KindSlack, URL: "https://x", Sourcetype: "s"},
	}
	for want, d := range bad {
		if err := Validate(&d); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%+v: %v, want %q", d, err, want)
		}
	}
}

// What an endpoint answers reaches terminals and dead letters: without
// control characters, and without the destination's own token when the
// endpoint echoes it.
func TestFailureNoteIsSafeToPrint(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, "bad auth "+r.Header.Get("Authorization")+" \x1b[2J\x1b]0;pwned\x07")
	}))
	defer srv.Close()
	d := &store.Destination{Name: "hec", Kind: KindSplunkHEC, URL: srv.URL + "/services/collector/event", Token: "hectoken456"}
	body, _ := Render(d, sample(), now)
	res := testSender(nil).Send(context.Background(), d, body)
	if res.OK() || res.Err == nil {
		t.Fatalf("send = %+v", res)
	}
	msg := res.Err.Error()
	if strings.Contains(msg, "hectoken456") || strings.ContainsAny(msg, "\x1b\x07") || !strings.Contains(msg, "bad auth Splunk ********") {
		t.Fatalf("error = %q", msg)
	}
}

// A dead letter is not resent to a destination that has since become
// another kind: its body is the old kind's message.
func TestRetryRefusesADestinationOfAnotherKind(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	ep := newEndpoint(t, 500, 200)
	if err := st.CreateDestination(ctx, &store.Destination{Name: "h", Kind: KindSplunkHEC, URL: ep.srv.URL, Token: "t", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	s := testSender(nil)
	s.MaxAttempts = 1
	n := &Notifier{Store: st, Sender: s, Now: func() time.Time { return now }}
	out, err := n.Notify(ctx, "h", sample())
	if err != nil || out.DeadLetter == "" {
		t.Fatalf("notify = %+v, %v", out, err)
	}
	if err := st.DeleteDestination(ctx, "h"); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateDestination(ctx, &store.Destination{Name: "h", Kind: KindSlack, URL: ep.srv.URL + "/services/x", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Retry(ctx, out.DeadLetter); err == nil || !strings.Contains(err.Error(), "was built for a splunk-hec one") {
		t.Fatalf("retry to a destination of another kind = %v", err)
	}
	if n := len(ep.requests()); n != 1 {
		t.Fatalf("%d requests, want only the first", n)
	}
}

// An endpoint that echoes the request line in its error page must not
// put a Slack or Teams URL's token into the error (and so into timelines
// and dead letters).
func TestErrorsHideEchoedWebhookURLs(t *testing.T) {
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, "Cannot POST %s (token %s, host %s, code=%s)", r.URL.RequestURI(), path.Base(r.URL.Path), r.Host, r.URL.Query().Get("code"))
	}))
	defer echo.Close()
	d := &store.Destination{Kind: KindSlack, URL: echo.URL + "/services/T0001/B0001/SLACKTOKENSECRET123?code=QUERYSECRET99"}
	res := testSender(nil).Send(context.Background(), d, []byte(`{}`))
	msg := res.Err.Error()
	for _, leak := range []string{"SLACKTOKENSECRET123", "QUERYSECRET99", "/services/T0001"} {
		if strings.Contains(msg, leak) {
			t.Errorf("error shows %q: %s", leak, msg)
		}
	}
	if !strings.Contains(msg, "HTTP 400: Cannot POST ********") {
		t.Errorf("error = %s", msg)
	}
}

// A destination whose last message failed every attempt is not tried
// again for Cooldown: messages meanwhile are dead-lettered at once, so a
// dead endpoint does not hold each triage job for the whole retry budget.
func TestDownDestinationIsSkippedForTheCooldown(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	ep := newEndpoint(t, 503, 503, 200)
	if err := st.CreateDestination(ctx, &store.Destination{Name: "soc", Kind: KindSlack, URL: ep.srv.URL, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	clock := now
	s := testSender(nil)
	s.MaxAttempts = 2
	n := &Notifier{Store: st, Sender: s, Now: func() time.Time { return clock }}
	first, err := n.Notify(ctx, "soc", sample())
	if err != nil || first.OK() || first.Attempts != 2 {
		t.Fatalf("first = %+v, %v", first, err)
	}
	clock = clock.Add(Cooldown / 2)
	skipped, err := n.Notify(ctx, "soc", sample())
	if err != nil || skipped.OK() || skipped.Attempts != 0 || skipped.DeadLetter == "" || !strings.Contains(skipped.Err.Error(), "not sent: it failed a message 30s ago") {
		t.Fatalf("within the cooldown = %+v, %v", skipped, err)
	}
	if len(ep.requests()) != 2 {
		t.Fatalf("%d requests: the endpoint was tried within the cooldown", len(ep.requests()))
	}
	if dls, _ := st.ListDeadLetters(ctx); len(dls) != 2 {
		t.Fatalf("%d dead letters, want both messages kept", len(dls))
	}
	clock = clock.Add(Cooldown)
	if again, err := n.Notify(ctx, "soc", sample()); err != nil || !again.OK() || len(ep.requests()) != 3 {
		t.Fatalf("after the cooldown = %+v, %v", again, err)
	}
}

// A token the 512-byte read cuts in two is not shown in part: long path
// segments before it put its start anywhere around the cut.
func TestErrorsHideATokenCutByTheRead(t *testing.T) {
	const token = "SLACKTOKENabcdefghijklmnopqrstuvwxyz0123"
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "Cannot POST "+r.URL.Path)
	}))
	defer echo.Close()
	for seg := 440; seg <= 500; seg += 3 {
		d := &store.Destination{Kind: KindSlack, URL: echo.URL + "/" + strings.Repeat("a", seg) + "/" + strings.Repeat("b", 20) + "/" + token}
		res := testSender(nil).Send(context.Background(), d, []byte(`{}`))
		if msg := res.Err.Error(); strings.Contains(msg, token[:6]) || strings.Contains(msg, "aaaa") {
			t.Errorf("segment of %d: the URL shows in part: %s", seg, msg)
		}
	}
}

// A message the endpoint rejects (a 400) says nothing of the next one:
// the destination is not put in cooldown.
func TestRejectedMessageDoesNotCoolDownTheDestination(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	ep := newEndpoint(t, 400, 200)
	if err := st.CreateDestination(ctx, &store.Destination{Name: "soc", Kind: KindSlack, URL: ep.srv.URL, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	n := &Notifier{Store: st, Sender: testSender(nil), Now: func() time.Time { return now }}
	if first, err := n.Notify(ctx, "soc", sample()); err != nil || first.OK() || first.Status != 400 {
		t.Fatalf("first = %+v, %v", first, err)
	}
	if next, err := n.Notify(ctx, "soc", sample()); err != nil || !next.OK() || len(ep.requests()) != 2 {
		t.Fatalf("the next message = %+v, %v after %d requests: want it sent and delivered", next, err, len(ep.requests()))
	}
}

// A body padded with blanks before an echoed token: once the blanks
// collapse, the part of the token the read kept would sit well within
// the shown 200 characters, so it must be masked, not shown.
func TestErrorsHideATokenCutAfterBlanks(t *testing.T) {
	const token = "SLACKTOKENabcdefghijklmnopqrstuvwxyz0123"
	for pad := 560; pad <= 640; pad += 5 {
		echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, "not found:"+strings.Repeat(" ", pad)+path.Base(r.URL.Path)+" end")
		}))
		d := &store.Destination{Kind: KindSlack, URL: echo.URL + "/services/T0/B0/" + token}
		res := testSender(nil).Send(context.Background(), d, []byte(`{}`))
		echo.Close()
		if msg := res.Err.Error(); strings.Contains(msg, token[:5]) {
			t.Errorf("pad %d: the token shows in part: %s", pad, msg)
		}
	}
}

// What the masking must leave alone and what it must still catch: a body
// that was not cut keeps an ending that merely starts like the URL's path;
// the words webhook URLs are made of are not secrets; a short key in a
// credential parameter is; and a body that broke off mid-token is trimmed.
func TestErrorBodyMaskingEdges(t *testing.T) {
	const token = "SLACKTOKENabcdefghijklmnopqrstuvwxyz0123"
	send := func(url string, body func(w http.ResponseWriter, r *http.Request)) string {
		t.Helper()
		srv := httptest.NewServer(http.HandlerFunc(body))
		defer srv.Close()
		res := testSender(nil).Send(context.Background(), &store.Destination{Kind: KindSlack, URL: srv.URL + url}, []byte(`{}`))
		if res.Err == nil {
			t.Fatal("delivered")
		}
		return res.Err.Error()
	}
	notFound := func(text string) func(w http.ResponseWriter, r *http.Request) {
		return func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, text)
		}
	}
	if msg := send("/services/T0/B0/"+token, notFound("no such hook; see /serv")); !strings.HasSuffix(msg, "HTTP 404: no such hook; see /serv") {
		t.Errorf("a whole body ending like the path was changed: %s", msg)
	}
	if msg := send("/services/T0/B0/"+token, notFound("services are down")); !strings.HasSuffix(msg, "HTTP 404: services are down") {
		t.Errorf("an ordinary word was masked: %s", msg)
	}
	if msg := send("/in?key=Zx81", notFound("key Zx81 is revoked")); strings.Contains(msg, "Zx81") {
		t.Errorf("a short key shows: %s", msg)
	}
	broken := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "400")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "no such hook: "+token[:20])
		// The rest never comes: the connection closes short.
	}
	if msg := send("/services/T0/B0/"+token, broken); strings.Contains(msg, token[:6]) {
		t.Errorf("a token cut by a broken body shows: %s", msg)
	}
}

// A body with neither a length nor chunks that breaks off mid-token ends
// at a clean EOF: it is trimmed as a cut one.
func TestErrorsHideATokenInAnUnframedBody(t *testing.T) {
	const token = "SLACKTOKENabcdefghijklmnopqrstuvwxyz0123"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			bufio.NewReader(c).ReadString('\n') // the request line is enough
			io.WriteString(c, "HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\nno such hook: "+token[:20])
			c.Close()
		}
	}()
	d := &store.Destination{Kind: KindSlack, URL: "http://" + ln.Addr().String() + "/services/T0/B0/" + token}
	res := testSender(nil).Send(context.Background(), d, []byte(`{}`))
	if res.Err == nil || strings.Contains(res.Err.Error(), token[:6]) {
		t.Fatalf("err = %v", res.Err)
	}
}

// A destination secret holding a shorter URL credential is masked whole.
func TestErrorsMaskTheLongestSecretFirst(t *testing.T) {
	got := bodyNote([]byte("bad signature for Zx81abcdefSECRETPART"), false, append(urlSecrets("https://h.example/in?key=Zx81"), "Zx81abcdefSECRETPART")...)
	if strings.Contains(got, "SECRETPART") {
		t.Fatalf("bodyNote = %q", got)
	}
}

// Over HTTP/2 a body without a length is not taken for a cut one: its
// frames would report a break. The URL's ordinary words stay visible.
func TestHTTP2BodyWithoutLengthIsWhole(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		w.(http.Flusher).Flush() // no Content-Length
		io.WriteString(w, "Cannot POST /services")
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	s := testSender(nil)
	s.Client = srv.Client()
	res := s.Send(context.Background(), &store.Destination{Kind: KindSlack, URL: srv.URL + "/services/T0/B0/SLACKTOKENabcdefghijklmnop"}, []byte(`{}`))
	if res.Err == nil || !strings.HasSuffix(res.Err.Error(), "HTTP 404: Cannot POST /services") {
		t.Fatalf("err = %v", res.Err)
	}
}

// A gzip body Go decompressed has no length whatever happened: it is not
// taken for a cut one, so the URL's ordinary words stay visible.
func TestDecompressedBodyIsWhole(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	io.WriteString(zw, "Cannot POST /services")
	zw.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			bufio.NewReader(c).ReadString('\n')
			io.WriteString(c, "HTTP/1.1 404 Not Found\r\nContent-Encoding: gzip\r\nConnection: close\r\n\r\n")
			c.Write(gz.Bytes())
			c.Close()
		}
	}()
	d := &store.Destination{Kind: KindSlack, URL: "http://" + ln.Addr().String() + "/services/T0/B0/SLACKTOKENabcdefghijklmnop"}
	res := testSender(nil).Send(context.Background(), d, []byte(`{}`))
	if res.Err == nil || !strings.HasSuffix(res.Err.Error(), "HTTP 404: Cannot POST /services") {
		t.Fatalf("err = %v", res.Err)
	}
}

// A retry of a failed notification started while another retry of it is
// still waiting on the endpoint is refused: the endpoint gets it once.
func TestOverlappingRetriesSendOnce(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	var hits atomic.Int32
	arrived, release := make(chan struct{}, 2), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if hits.Add(1) == 1 {
			w.WriteHeader(http.StatusBadRequest) // the first send fails: a dead letter
			return
		}
		arrived <- struct{}{}
		<-release
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	if err := st.CreateDestination(ctx, &store.Destination{Name: "hec", Kind: KindSplunkHEC, URL: srv.URL, Token: "t", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	clock := now
	var mu sync.Mutex
	tick := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(time.Second)
		return clock
	}
	n := &Notifier{Store: st, Sender: testSender(nil), Now: tick}
	first, _ := n.Notify(ctx, "hec", sample())
	if first.DeadLetter == "" {
		t.Fatalf("first send = %+v, want a dead letter", first)
	}
	done := make(chan error, 1)
	go func() {
		_, err := n.Retry(ctx, first.DeadLetter)
		done <- err
	}()
	<-arrived
	// Bounded: a second retry that is not refused waits on the endpoint.
	ctx2, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := n.Retry(ctx2, first.DeadLetter); err == nil || !strings.Contains(err.Error(), "being retried elsewhere") {
		t.Errorf("second retry while the first waits = %v, want refused", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := hits.Load(); n != 2 {
		t.Fatalf("the endpoint got %d requests, want the first send and one retry", n)
	}
}

// Every attempt and retry of a generic notification carries one
// X-Webhook-Id, so a receiver that stored an attempt whose answer was
// lost stores the retry's body once; each notification has its own.
func TestGenericDeliveriesCarryAStableID(t *testing.T) {
	ep := newEndpoint(t, 503, 202)
	d := &store.Destination{Name: "peer", Kind: KindGeneric, URL: ep.srv.URL, Secret: "peer-secret"}
	body, _ := Render(d, sample(), now)
	if res := testSender(nil).Send(context.Background(), d, body); !res.OK() {
		t.Fatalf("send = %+v", res)
	}
	reqs := ep.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	id := reqs[0].header.Get(signature.IDHeader)
	if !strings.HasPrefix(id, "tw-") || reqs[1].header.Get(signature.IDHeader) != id {
		t.Fatalf("ids %q and %q, want one tw- id", id, reqs[1].header.Get(signature.IDHeader))
	}
	again, _ := Render(d, sample(), now)
	if deliveryID(again) == id {
		t.Fatal("two notifications alike in the same second share an id")
	}
}

// A retry's claim outlasts its send: four attempts of ten seconds and
// three waits of up to two minutes (a Retry-After) bound it.
func TestLongestSendBoundsTheDefaults(t *testing.T) {
	if got, want := NewSender().Longest(), 4*DefaultTimeout+3*DefaultMaxRetryAfter; got != want {
		t.Fatalf("Longest() = %s, want %s", got, want)
	}
}
