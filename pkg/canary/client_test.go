package canary_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tw-cli/tw-cli/pkg/canary"
	"github.com/tw-cli/tw-cli/pkg/canary/canarytest"
)

// leaks reports whether s shows the token in any spelling a request uses.
func leaks(s string) bool {
	return strings.Contains(s, token) || strings.Contains(s, url.QueryEscape(token))
}

func TestAuthErrors(t *testing.T) {
	for _, status := range []int{http.StatusForbidden, http.StatusUnauthorized, http.StatusOK, http.StatusBadRequest} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			console := canarytest.NewServer(t, "the-right-token")
			console.SetAuthErrorStatus(status)
			c := newClient(t, console)
			for name, call := range map[string]func() error{
				"GET":  func() error { _, err := c.WebhooksEnabled(context.Background(), canary.DefaultFlock); return err },
				"POST": func() error { return c.EnableWebhooks(context.Background(), canary.DefaultFlock) },
			} {
				err := call()
				if !errors.Is(err, canary.ErrAuth) {
					t.Errorf("%s: err = %v, want ErrAuth", name, err)
				}
				var apiErr *canary.APIError
				if !errors.As(err, &apiErr) || apiErr.Message != "Invalid auth_token" || apiErr.StatusCode != status {
					t.Errorf("%s: err = %#v", name, err)
				}
				if !strings.Contains(err.Error(), "flock/settings/webhooks/") || !strings.Contains(err.Error(), "Invalid auth_token") {
					t.Errorf("%s: message %q does not name the endpoint and the console's message", name, err)
				}
				if leaks(err.Error()) {
					t.Errorf("%s: token in error: %q", name, err)
				}
			}
			// An auth failure is not retried, GET or not.
			if n := len(console.Requests()); n != 2 {
				t.Errorf("console saw %d requests, want 2", n)
			}
		})
	}
}

func TestErrorBodies(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		body       string
		wantStatus int
		wantMsg    string
		wantIs     error
	}{
		{"error with 200", 200, `{"result": "error", "message": "Flock is locked"}`, 200, "Flock is locked", nil},
		{"error with 400", 400, `{"result": "error", "message": "Bad things"}`, 400, "Bad things", nil},
		{"not found", 404, `{"result": "error", "message": "No such thing"}`, 404, "No such thing", canary.ErrNotFound},
		{"html 404", 404, `<html><body>Not Found</body></html>`, 404, "<html><body>Not Found</body></html>", canary.ErrNotFound},
		{"not json on 200", 200, `OK`, 200, "response is not JSON: OK", nil},
		{"unknown result", 200, `{"result": "pending"}`, 200, `unexpected result "pending" in response`, nil},
		{"missing result", 200, `{}`, 200, `unexpected result "" in response`, nil},
		{"echoed token", 400, `{"result": "error", "message": "bad token ` + token + `"}`, 400, "bad token REDACTED", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			console := canarytest.NewServer(t, token)
			console.Inject("flock/settings/webhooks/disable", tt.status, tt.body)
			err := newClient(t, console).DisableWebhooks(context.Background(), canary.DefaultFlock)
			var apiErr *canary.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v, want *APIError", err)
			}
			if apiErr.StatusCode != tt.wantStatus || apiErr.Message != tt.wantMsg || apiErr.Method != "POST" ||
				apiErr.Endpoint != "flock/settings/webhooks/disable" {
				t.Errorf("err = %#v", apiErr)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.wantIs)
			}
			if leaks(err.Error()) || leaks(string(apiErr.Body)) {
				t.Errorf("token in error %q or body %q", err, apiErr.Body)
			}
			if want := strings.ReplaceAll(tt.body, token, canary.Redacted); string(apiErr.Body) != want {
				t.Errorf("Body = %q, want %q", apiErr.Body, want)
			}
		})
	}
}

func TestRetriesGETOnly(t *testing.T) {
	const ep = "flock/settings/webhooks/is_enabled"
	tests := []struct {
		name     string
		inject   []int
		wantErr  bool
		wantReqs int
	}{
		{"503 then ok", []int{503}, false, 2},
		{"429 and 502 then ok", []int{429, 502}, false, 3},
		{"always 500", []int{500, 500, 500}, true, 3},
		{"400 not retried", []int{400}, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			console := canarytest.NewServer(t, token)
			for _, s := range tt.inject {
				console.Inject(ep, s, `{"result": "error", "message": "busy"}`)
			}
			enabled, err := newClient(t, console).WebhooksEnabled(context.Background(), canary.DefaultFlock)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if err == nil && !enabled {
				t.Error("enabled = false after retry")
			}
			if n := len(console.Requests()); n != tt.wantReqs {
				t.Errorf("console saw %d requests, want %d", n, tt.wantReqs)
			}
		})
	}

	t.Run("POST 503 not retried", func(t *testing.T) {
		console := canarytest.NewServer(t, token)
		console.Inject("flock/settings/webhooks/generic/add", 503, `<html>Service Unavailable</html>`)
		err := newClient(t, console).AddGenericWebhook(context.Background(), canary.DefaultFlock, hookURL, nil)
		var apiErr *canary.APIError
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 503 {
			t.Fatalf("err = %v", err)
		}
		if n := len(console.Requests()); n != 1 {
			t.Errorf("POST sent %d times, want 1", n)
		}
		if s, _ := console.Flock(canary.DefaultFlock); len(s.Generic) != 0 {
			t.Error("injected failure still added the webhook")
		}
	})
}

// brokenServer accepts connections and closes them unanswered, counting them.
func brokenServer(t *testing.T) (string, *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int32
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			conn.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return "http://" + ln.Addr().String() + "/api/v1/", &n
}

func TestTransportErrors(t *testing.T) {
	apiURL, conns := brokenServer(t)
	c, err := canary.New(apiURL, token, canary.WithRetries(2, time.Millisecond, 2*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.WebhooksEnabled(context.Background(), canary.DefaultFlock)
	var reqErr *canary.RequestError
	if !errors.As(err, &reqErr) || reqErr.Method != "GET" || reqErr.Endpoint != "flock/settings/webhooks/is_enabled" {
		t.Fatalf("err = %#v", err)
	}
	if leaks(err.Error()) || !strings.Contains(err.Error(), "auth_token=REDACTED") {
		t.Errorf("error does not redact the token: %q", err)
	}
	if n := conns.Load(); n != 3 {
		t.Errorf("GET tried %d times, want 3 (1 + 2 retries)", n)
	}

	conns.Store(0)
	err = c.EnableWebhooks(context.Background(), canary.DefaultFlock)
	if !errors.As(err, &reqErr) || reqErr.Method != "POST" {
		t.Fatalf("err = %#v", err)
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("POST tried %d times, want 1", n)
	}
}

func TestTimeout(t *testing.T) {
	console := canarytest.NewServer(t, token)
	console.SetDelay("ping", time.Second)
	c := newClient(t, console, canary.WithTimeout(50*time.Millisecond), canary.WithRetries(0, 0, 0))
	err := c.Ping(context.Background())
	var reqErr *canary.RequestError
	if !errors.As(err, &reqErr) || !reqErr.Timeout() {
		t.Fatalf("err = %v, want a timeout", err)
	}
	var netErr net.Error
	if !errors.As(err, &netErr) || !netErr.Timeout() {
		t.Errorf("net.Error Timeout not reachable through %v", err)
	}
	if leaks(err.Error()) {
		t.Errorf("token in %q", err)
	}
}

func TestContextCancelStopsRetries(t *testing.T) {
	console := canarytest.NewServer(t, token)
	console.SetDelay("ping", time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	err := newClient(t, console).Ping(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
}

func TestDebugLogRedacted(t *testing.T) {
	console := canarytest.NewServer(t, token)
	var log bytes.Buffer
	c := newClient(t, console, canary.WithDebug(&log))
	ctx := context.Background()
	if _, err := c.WebhooksEnabled(ctx, canary.DefaultFlock); err != nil {
		t.Fatal(err)
	}
	const hec = "hec-token-5ecret"
	if err := c.AddSplunkWebhook(ctx, canary.DefaultFlock, "h", 8088, hec); err != nil {
		t.Fatal(err)
	}
	const bearer = "Bearer hdr-5ecret"
	if err := c.AddGenericWebhook(ctx, canary.DefaultFlock, "https://hooks.example.com/x", []canary.Header{{Name: "Authorization", Value: bearer}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GenericWebhooks(ctx, canary.DefaultFlock); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(log.String(), "hdr-5ecret") {
		t.Errorf("a generic webhook's header value in debug log:\n%s", log.String())
	}
	// A Teams URL is the credential to post with: the request's form and
	// the listing's response both carry it.
	const teams = "https://x.webhook.office.com/webhookb2/TEAMS5ecret"
	if err := c.AddMSTeamsWebhook(ctx, canary.DefaultFlock, teams); err != nil {
		t.Fatal(err)
	}
	if _, err := c.MSTeamsWebhooks(ctx, canary.DefaultFlock); err != nil {
		t.Fatal(err)
	}
	// A test's response names the webhook it posted to.
	if _, err := c.TestMSTeamsWebhook(ctx, canary.DefaultFlock, teams); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(log.String(), "TEAMS5ecret") || !strings.Contains(log.String(), "x.webhook.office.com") {
		t.Errorf("a Teams webhook URL in debug log, or no sign of it:\n%s", log.String())
	}
	if !strings.Contains(log.String(), `"webhook": "https://x.webhook.office.com/`) {
		t.Errorf("debug log lacks the test response's masked webhook:\n%s", log.String())
	}
	// The listing's response carries the HEC token back.
	if _, err := c.SplunkWebhook(ctx, canary.DefaultFlock); err != nil {
		t.Fatal(err)
	}
	out := log.String()
	if strings.Contains(out, hec) {
		t.Errorf("Splunk HEC token in debug log:\n%s", out)
	}
	if !strings.Contains(out, "is_enabled") || !strings.Contains(out, "splunk/add") {
		t.Fatalf("debug log lacks the requests:\n%s", out)
	}
	if leaks(out) {
		t.Errorf("token in debug log:\n%s", out)
	}
	if !strings.Contains(out, "auth_token=REDACTED") {
		t.Errorf("debug log does not show the redacted parameter:\n%s", out)
	}
}

func TestStringRedacted(t *testing.T) {
	console := canarytest.NewServer(t, token)
	c := newClient(t, console)
	for _, s := range []string{c.String(), fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprint(c)} {
		if leaks(s) || !strings.Contains(s, canary.Redacted) || !strings.Contains(s, console.URL()) {
			t.Errorf("String form %q", s)
		}
	}
}

func TestLenientDecoding(t *testing.T) {
	ctx := context.Background()
	const flock = canary.DefaultFlock
	t.Run("booleans", func(t *testing.T) {
		for body, want := range map[string]bool{
			`{"result": "success", "is_enabled": true}`:    true,
			`{"result": "success", "is_enabled": "True"}`:  true,
			`{"result": "success", "is_enabled": 1}`:       true,
			`{"result": "success", "is_enabled": "false"}`: false,
			`{"result": "Success", "is_enabled": "0"}`:     false,
		} {
			console := canarytest.NewServer(t, token)
			console.Inject("flock/settings/webhooks/is_enabled", 200, body)
			got, err := newClient(t, console).WebhooksEnabled(ctx, flock)
			if err != nil || got != want {
				t.Errorf("%s: got %v, %v", body, got, err)
			}
		}
	})
	// Missing, null and unreadable say nothing about the state: read as
	// false, they reported webhooks off that may be on. All three are
	// decode errors, which the CLI exits 5 on.
	for name, body := range map[string]string{
		"missing boolean":    `{"result": "success"}`,
		"null boolean":       `{"result": "success", "is_enabled": null}`,
		"unreadable boolean": `{"result": "success", "is_enabled": "maybe"}`,
	} {
		t.Run(name, func(t *testing.T) {
			console := canarytest.NewServer(t, token)
			console.Inject("flock/settings/webhooks/is_enabled", 200, body)
			_, err := newClient(t, console).WebhooksEnabled(ctx, flock)
			var de *canary.DecodeError
			if !errors.As(err, &de) || !strings.Contains(err.Error(), "is_enabled") && !strings.Contains(err.Error(), "maybe") {
				t.Errorf("%s: %v, want a DecodeError", body, err)
			}
		})
	}
	t.Run("generic list shapes", func(t *testing.T) {
		console := canarytest.NewServer(t, token)
		console.Inject("flock/settings/webhooks/generic/list", 200, `{"result": "success", "webhooks_enabled": "true",
			"generic_webhooks": [
				{"url": "https://a", "webhook_id": 17, "header_names": null},
				{"url": "https://b", "header_names": "X-One"},
				"https://c"]}`)
		got, err := newClient(t, console).GenericWebhooks(ctx, flock)
		if err != nil {
			t.Fatal(err)
		}
		want := []canary.GenericWebhook{
			{ID: "17", URL: "https://a", HeaderNames: []string{}},
			{URL: "https://b", HeaderNames: []string{"X-One"}},
			{URL: "https://c", HeaderNames: []string{}},
		}
		if fmt.Sprintf("%#v", got.Webhooks) != fmt.Sprintf("%#v", want) || got.WebhooksEnabled == nil || !*got.WebhooksEnabled {
			t.Errorf("got %#v", got)
		}
	})
	t.Run("splunk shapes", func(t *testing.T) {
		for body, want := range map[string]*canary.SplunkWebhook{
			`{"result": "success", "splunk_webhook": {"host": "h", "port": 8088, "token": "t"}}`: {Host: "h", Port: "8088", Token: "t"},
			`{"result": "success", "splunk_webhook": {}}`:                                        nil,
			`{"result": "success", "splunk_webhook": null}`:                                      nil,
			`{"result": "success", "splunk_webhook": ""}`:                                        nil,
			`{"result": "success"}`:                                                              nil,
		} {
			console := canarytest.NewServer(t, token)
			console.Inject("flock/settings/webhooks/splunk", 200, body)
			got, err := newClient(t, console).SplunkWebhook(ctx, flock)
			if err != nil || fmt.Sprint(got.Webhook) != fmt.Sprint(want) || (want != nil && *got.Webhook != *want) {
				t.Errorf("%s: got %+v, %v", body, got.Webhook, err)
			}
		}
	})
	t.Run("teams list null", func(t *testing.T) {
		console := canarytest.NewServer(t, token)
		console.Inject("flock/settings/webhooks/ms_teams", 200, `{"result": "success", "ms_teams_webhooks": null, "webhooks_enabled": 0}`)
		got, err := newClient(t, console).MSTeamsWebhooks(ctx, flock)
		if err != nil || len(got.URLs) != 0 || got.WebhooksEnabled == nil || *got.WebhooksEnabled {
			t.Errorf("got %+v, %v", got, err)
		}
	})
	// A list answer without webhooks_enabled says nothing about the
	// switch: nil, not false (which would report webhooks off).
	t.Run("webhooks_enabled absent", func(t *testing.T) {
		console := canarytest.NewServer(t, token)
		c := newClient(t, console)
		console.Inject("flock/settings/webhooks/generic/list", 200, `{"result": "success", "generic_webhooks": []}`)
		console.Inject("flock/settings/webhooks/ms_teams", 200, `{"result": "success", "ms_teams_webhooks": []}`)
		console.Inject("flock/settings/webhooks/slack", 200, `{"result": "success", "slack_webhooks": []}`)
		console.Inject("flock/settings/webhooks/splunk", 200, `{"result": "success", "splunk_webhook": {}, "webhooks_enabled": null}`)
		g, err := c.GenericWebhooks(ctx, flock)
		if err != nil || g.WebhooksEnabled != nil {
			t.Errorf("generic: %+v, %v", g, err)
		}
		m, err := c.MSTeamsWebhooks(ctx, flock)
		if err != nil || m.WebhooksEnabled != nil {
			t.Errorf("ms teams: %+v, %v", m, err)
		}
		sl, err := c.SlackWebhooks(ctx, flock)
		if err != nil || sl.WebhooksEnabled != nil {
			t.Errorf("slack: %+v, %v", sl, err)
		}
		sp, err := c.SplunkWebhook(ctx, flock)
		if err != nil || sp.WebhooksEnabled != nil {
			t.Errorf("splunk: %+v, %v", sp, err)
		}
		// Present and false stays false.
		console.Inject("flock/settings/webhooks/slack", 200, `{"result": "success", "slack_webhooks": [], "webhooks_enabled": false}`)
		if sl, err := c.SlackWebhooks(ctx, flock); err != nil || sl.WebhooksEnabled == nil || *sl.WebhooksEnabled {
			t.Errorf("slack, explicitly false: %+v, %v", sl, err)
		}
	})
	t.Run("flocks as list", func(t *testing.T) {
		console := canarytest.NewServer(t, token)
		console.Inject("flocks/list", 200, `{"result": "success", "flocks": [{"flock_id": "flock:x", "name": "X"}, {"flock_id": "flock:default", "name": "Default Flock"}]}`)
		got, err := newClient(t, console).Flocks(ctx)
		if err != nil || len(got) != 2 || got[0].ID != "flock:default" || got[1] != (canary.Flock{ID: "flock:x", Name: "X"}) {
			t.Errorf("got %+v, %v", got, err)
		}
	})
	t.Run("trailing comma", func(t *testing.T) {
		// splunk/test's response exactly as seed 002 prints it.
		console := canarytest.NewServer(t, token)
		console.Inject("flock/settings/webhooks/splunk/test", 200, `{ "result" : "success" , }`)
		if _, err := newClient(t, console).TestSplunkWebhook(ctx, flock); err != nil {
			t.Errorf("seed 002's splunk/test body: %v", err)
		}
		// Only a comma before a closing bracket is forgiven, and never
		// one inside a string.
		for _, body := range []string{`{"result": "success",,}`, `{"result": "success" "x": 1}`, `{"result": "succ,}ess"`} {
			console.Inject("flock/settings/webhooks/splunk/test", 200, body)
			if _, err := newClient(t, console).TestSplunkWebhook(ctx, flock); err == nil || !strings.Contains(err.Error(), "not JSON") {
				t.Errorf("%s: err = %v, want not JSON", body, err)
			}
		}
		console.Inject("flock/settings/webhooks/splunk/test", 200, `{"result": "error", "message": "a,]", }`)
		if _, err := newClient(t, console).TestSplunkWebhook(ctx, flock); err == nil || !strings.Contains(err.Error(), "a,]") {
			t.Errorf("error with a trailing comma: %v", err)
		}
	})
}

func TestNewRejects(t *testing.T) {
	if _, err := canary.New("https://x.canary.tools/api/v1/", ""); err == nil {
		t.Error("empty token accepted")
	}
	if _, err := canary.New("x.canary.tools", token); err == nil {
		t.Error("URL without scheme accepted")
	}
}

func TestWithHTTPClientLeavesCallerClientAlone(t *testing.T) {
	console := canarytest.NewServer(t, token)
	hc := &http.Client{Timeout: 42 * time.Second}
	c := newClient(t, console, canary.WithHTTPClient(hc), canary.WithTimeout(time.Second))
	if err := c.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	if hc.Timeout != 42*time.Second || hc.Transport != nil {
		t.Errorf("caller's client changed: timeout %v, transport %v", hc.Timeout, hc.Transport)
	}
}
