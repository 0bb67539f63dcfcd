package threatstack_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tw-cli/tw-cli/pkg/threatstack"
	"github.com/tw-cli/tw-cli/pkg/threatstack/threatstacktest"
)

func TestNumericPageTokenIsPassedBack(t *testing.T) {
	srv := threatstacktest.New(t)
	// Faults are used in order, so the second page answers the second request.
	srv.Inject(threatstacktest.Fault{Method: "GET", Path: "/v2/rulesets", Status: 200,
		Body: `{"rulesets":[{"id":"r1"}],"token":12345}`})
	srv.Inject(threatstacktest.Fault{Method: "GET", Path: "/v2/rulesets", Status: 200,
		Body: `{"rulesets":[{"id":"r2"}],"token":null}`})
	c := newClient(t, srv)
	all, err := threatstack.Collect(c.RulesetPages(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[1].ID != "r2" {
		t.Fatalf("got %+v, want both pages", all)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 || reqs[1].Query.Get("token") != "12345" {
		t.Fatalf("second request %+v, want token=12345", reqs)
	}
}

func TestUnusablePageTokenFails(t *testing.T) {
	for _, tok := range []string{`true`, `{"next":1}`, `["a"]`} {
		srv := threatstacktest.New(t)
		body := `{"rulesets":[{"id":"r1"}],"token":` + tok + `}`
		srv.Inject(threatstacktest.Fault{Method: "GET", Path: "/v2/rulesets", Status: 200, Body: body, Times: 2})
		c := newClient(t, srv)
		if _, err := threatstack.Collect(c.RulesetPages(context.Background())); err == nil || !strings.Contains(err.Error(), "pagination token") {
			t.Errorf("token %s: err = %v, want a pagination token error", tok, err)
		}
		// RawPages hands over the page it got, then fails.
		var pages int
		var err error
		for _, e := range c.RawPages(context.Background(), "/v2/rulesets", nil) {
			if e != nil {
				err = e
				break
			}
			pages++
		}
		if pages != 1 || err == nil {
			t.Errorf("token %s: RawPages gave %d pages, err %v; want 1 then an error", tok, pages, err)
		}
	}
}

func TestEmptyIDsAreRefusedBeforeAnyRequest(t *testing.T) {
	srv := threatstacktest.New(t)
	c := newClient(t, srv)
	ctx := context.Background()
	if _, err := threatstack.Collect(c.AlertEventPages(ctx, "")); err == nil || !strings.Contains(err.Error(), "alert id is empty") {
		t.Errorf("events: %v", err)
	}
	if _, err := threatstack.Collect(c.RulePages(ctx, "")); err == nil || !strings.Contains(err.Error(), "ruleset id is empty") {
		t.Errorf("rules: %v", err)
	}
	err := c.DismissAlerts(ctx, threatstack.DismissRequest{IDs: []string{threatstacktest.AlertID(0), ""}, Reason: threatstack.DismissOther})
	if err == nil || !strings.Contains(err.Error(), "alert id is empty") {
		t.Errorf("dismiss: %v", err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests sent for empty ids", n)
	}
}

func TestGetRequiresARecordWithAnID(t *testing.T) {
	for _, body := range []string{`null`, `{}`, `{"title":"no id"}`, `{"id":""}`, `[]`} {
		srv := threatstacktest.New(t)
		id := threatstacktest.AlertID(0)
		srv.Inject(threatstacktest.Fault{Method: "GET", Path: "/v2/alerts/" + id, Status: 200, Body: body})
		srv.Inject(threatstacktest.Fault{Method: "GET", Path: "/v2/agents/a1", Status: 200, Body: body})
		srv.Inject(threatstacktest.Fault{Method: "GET", Path: "/v2/rulesets/r1", Status: 200, Body: body})
		c := newClient(t, srv)
		ctx := context.Background()
		if a, err := c.GetAlert(ctx, id); err == nil {
			t.Errorf("alert %s: got %+v, want an error", body, a)
		}
		if a, err := c.GetAgent(ctx, "a1"); err == nil {
			t.Errorf("agent %s: got %+v, want an error", body, a)
		}
		if r, err := c.GetRuleset(ctx, "r1"); err == nil {
			t.Errorf("ruleset %s: got %+v, want an error", body, r)
		}
	}
	// A numeric id is still an id.
	srv := threatstacktest.New(t)
	srv.Inject(threatstacktest.Fault{Method: "GET", Path: "/v2/agents/7", Status: 200, Body: `{"id":7}`})
	if a, err := newClient(t, srv).GetAgent(context.Background(), "7"); err != nil || a.ID != "7" {
		t.Errorf("numeric id: %+v, %v", a, err)
	}
}

func TestCredentialsThatCannotBeSentAreRefused(t *testing.T) {
	tests := []struct {
		name, userID, orgID, wantVar, wantReason string
	}{
		{"quote in user id", `5f9a"1c`, threatstacktest.OrganizationID, "TS_USER_ID", "a double quote (character 5)"},
		{"backslash in user id", `5f9a\1c`, threatstacktest.OrganizationID, "TS_USER_ID", "a backslash"},
		{"newline in org id", threatstacktest.UserID, "5c6d\n7e", "TS_ORGANIZATION_ID", "a control character"},
		{"non-ASCII org id", threatstacktest.UserID, "5c6dé7e", "TS_ORGANIZATION_ID", "a non-ASCII character (character 5)"},
		{"quote in org id", threatstacktest.UserID, `"5c6d"`, "TS_ORGANIZATION_ID", "a double quote (character 1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := threatstacktest.New(t)
			creds := threatstack.Credentials{UserID: tt.userID, APIKey: threatstacktest.APIKey, OrganizationID: tt.orgID}
			_, err := threatstack.New(creds, threatstack.WithBaseURL(srv.URL))
			var ic *threatstack.InvalidCredentialsError
			if !errors.As(err, &ic) || !threatstack.IsAuthError(err) {
				t.Fatalf("err = %v, want an InvalidCredentialsError", err)
			}
			msg := err.Error()
			if ic.Variable != tt.wantVar || !strings.Contains(msg, tt.wantVar) || !strings.Contains(msg, tt.wantReason) {
				t.Errorf("error %q: want %s and %q", msg, tt.wantVar, tt.wantReason)
			}
			if strings.Contains(msg, threatstacktest.APIKey) || strings.Contains(msg, tt.userID) || strings.Contains(msg, tt.orgID) {
				t.Errorf("error repeats a credential: %q", msg)
			}
			if n := len(srv.Requests()); n != 0 {
				t.Errorf("%d requests sent", n)
			}
		})
	}
	// Spaces and punctuation Hawk allows are fine; the key may hold anything.
	ok := threatstack.Credentials{UserID: "user 1/a+b=", APIKey: `k"\é`, OrganizationID: "org-1_x.y"}
	if err := ok.Validate(); err != nil {
		t.Errorf("valid credentials refused: %v", err)
	}
}

// pacedClient records the waits for the rate limit instead of sleeping
// them, on a clock that stands still so the waits are exact.
func pacedClient(t *testing.T, srv *threatstacktest.Server, opts ...threatstack.Option) (*threatstack.Client, *[]time.Duration) {
	t.Helper()
	now := time.Now()
	var waits []time.Duration
	opts = append([]threatstack.Option{
		threatstack.WithClock(func() time.Time { return now }),
		threatstack.WithSleep(func(_ context.Context, d time.Duration) error {
			waits = append(waits, d)
			return nil
		}),
	}, opts...)
	return newClient(t, srv, opts...), &waits
}

func TestSpentRateLimitHoldsTheNextRequest(t *testing.T) {
	tests := []struct {
		name      string
		remaining int
		reset     time.Duration
		wantWait  time.Duration // before each request after the first; 0: none
	}{
		{"waits until the reset", 0, 1500 * time.Millisecond, 1500 * time.Millisecond},
		{"capped like Retry-After", 0, 10 * time.Minute, 3 * time.Second}, // newClient's maximum
		{"requests left", 5, 1500 * time.Millisecond, 0},
		{"no reset given", 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := threatstacktest.New(t, threatstacktest.WithPageSize(40),
				threatstacktest.WithRateLimitRemaining(tt.remaining), threatstacktest.WithRateLimitReset(tt.reset))
			c, waits := pacedClient(t, srv)
			if _, err := threatstack.Collect(c.VulnerabilityPages(context.Background(), threatstack.VulnerabilityListOptions{})); err != nil {
				t.Fatal(err)
			}
			n := len(srv.Requests())
			if n < 2 {
				t.Fatalf("%d requests; the test needs several pages", n)
			}
			var want []time.Duration
			if tt.wantWait > 0 {
				for range n - 1 {
					want = append(want, tt.wantWait)
				}
			}
			if !slices.Equal(*waits, want) {
				t.Errorf("waits %v, want %v", *waits, want)
			}
		})
	}
}

func TestRateLimitWaitEndsWithTheContext(t *testing.T) {
	srv := threatstacktest.New(t, threatstacktest.WithPageSize(40),
		threatstacktest.WithRateLimitRemaining(0), threatstacktest.WithRateLimitReset(time.Minute))
	c := newClient(t, srv, threatstack.WithRetryWait(5*time.Millisecond, time.Minute))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	var err error
	pages := 0
	for _, e := range c.VulnerabilityPages(ctx, threatstack.VulnerabilityListOptions{}) {
		if e != nil {
			err = e
			break
		}
		pages++
		// The first page spent the limit: give up while waiting for it.
		time.AfterFunc(50*time.Millisecond, cancel)
	}
	if pages != 1 || !errors.Is(err, context.Canceled) {
		t.Fatalf("%d pages, err %v; want 1 page then context.Canceled", pages, err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("cancelling took %v", d)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("%d requests, want the second held back", n)
	}
}

func TestQueryWithoutParametersIsNotSent(t *testing.T) {
	// The fake MACs the request-target as received, so a "?&" signed
	// without its query would be refused with 401.
	srv := threatstacktest.New(t)
	c := newClient(t, srv)
	resp, err := c.Do(context.Background(), http.MethodGet, "/help/hawk/self-test?&", nil, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%v %v", resp, err)
	}
}

// A 2xx the client cannot read is a *DecodeError naming the request, so
// that the CLI can tell "the API answered nonsense" (exit 5) from its own
// failures; its text never holds the key, even when the path does.
func TestUnreadableAnswersAreDecodeErrors(t *testing.T) {
	const html = "<html><body>Please sign in</body></html>"
	htmlHeader := http.Header{"Content-Type": {"text/html"}}
	alert := threatstacktest.AlertID(0)
	tests := []struct {
		name, path, body string
		header           http.Header
		call             func(context.Context, *threatstack.Client) error
	}{
		{"list answered with HTML", "/v2/rulesets", html, htmlHeader, func(ctx context.Context, c *threatstack.Client) error {
			_, err := threatstack.Collect(c.RulesetPages(ctx))
			return err
		}},
		{"list items of another type", "/v2/rulesets", `{"rulesets":{"id":"r1"}}`, nil, func(ctx context.Context, c *threatstack.Client) error {
			_, err := threatstack.Collect(c.RulesetPages(ctx))
			return err
		}},
		{"list without its key", "/v2/vulnerabilities", `{"data":[]}`, nil, func(ctx context.Context, c *threatstack.Client) error {
			_, err := threatstack.Collect(c.VulnerabilityPages(ctx, threatstack.VulnerabilityListOptions{}))
			return err
		}},
		{"record without an id", "/v2/alerts/" + alert, `{"title":"no id"}`, nil, func(ctx context.Context, c *threatstack.Client) error {
			_, err := c.GetAlert(ctx, alert)
			return err
		}},
		{"record answered with HTML", "/v2/agents/a1", html, htmlHeader, func(ctx context.Context, c *threatstack.Client) error {
			_, err := c.GetAgent(ctx, "a1")
			return err
		}},
		{"context answered with HTML", "/v2/alerts/" + alert + "/context", html, htmlHeader, func(ctx context.Context, c *threatstack.Client) error {
			_, err := c.AlertContext(ctx, alert)
			return err
		}},
		{"raw pages with an unusable token", "/v2/rulesets", `{"rulesets":[],"token":true}`, nil, func(ctx context.Context, c *threatstack.Client) error {
			for _, err := range c.RawPages(ctx, "/v2/rulesets", nil) {
				if err != nil {
					return err
				}
			}
			return nil
		}},
		{"key in the path", "/v2/agents/" + threatstacktest.APIKey, `{}`, nil, func(ctx context.Context, c *threatstack.Client) error {
			_, err := c.GetAgent(ctx, threatstacktest.APIKey)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := threatstacktest.New(t)
			srv.Inject(threatstacktest.Fault{Method: "GET", Path: tt.path, Status: 200, Body: tt.body, Header: tt.header, Times: 2})
			err := tt.call(context.Background(), newClient(t, srv))
			var de *threatstack.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("err = %v (%T), want a *DecodeError", err, err)
			}
			wantPath := strings.ReplaceAll(tt.path, threatstacktest.APIKey, "[REDACTED]")
			if de.Method != http.MethodGet || de.Path != wantPath || de.Err == nil {
				t.Errorf("DecodeError{%q, %q, %v}, want GET %s and a cause", de.Method, de.Path, de.Err, wantPath)
			}
			if !strings.HasPrefix(err.Error(), "threatstack: GET "+wantPath+": ") || strings.Contains(err.Error(), threatstacktest.APIKey) {
				t.Errorf("message %q", err)
			}
		})
	}
	t.Run("repeated token", func(t *testing.T) {
		srv := threatstacktest.New(t)
		srv.Inject(threatstacktest.Fault{Method: "GET", Path: "/v2/rulesets", Status: 200, Body: `{"rulesets":[],"token":"t"}`, Times: 2})
		_, err := threatstack.Collect(newClient(t, srv).RulesetPages(context.Background()))
		var de *threatstack.DecodeError
		if !errors.As(err, &de) || !strings.Contains(err.Error(), "repeated a pagination token") {
			t.Errorf("err = %v, want a DecodeError about the token", err)
		}
	})
	// The decoder's error stays reachable.
	srv := threatstacktest.New(t)
	srv.Inject(threatstacktest.Fault{Method: "GET", Path: "/v2/rulesets", Status: 200, Body: html, Header: htmlHeader})
	_, err := threatstack.Collect(newClient(t, srv).RulesetPages(context.Background()))
	var syntax *json.SyntaxError
	if !errors.As(err, &syntax) {
		t.Errorf("err = %v: the *json.SyntaxError is lost", err)
	}
}

// Decoded into a struct, a body without severityCounts was "no alerts",
// exit 0.
func TestSeverityCountsRequireTheList(t *testing.T) {
	for _, body := range []string{`{}`, `{"counts":[]}`, `{"severityCounts":null}`, `{"severityCounts":{"1":3}}`,
		`{"severityCounts":[{"severity":"high"}]}`, `[]`, `null`, `<html></html>`} {
		srv := threatstacktest.New(t)
		srv.Inject(threatstacktest.Fault{Method: "GET", Path: "/v2/alerts/severity-counts", Status: 200, Body: body})
		counts, err := newClient(t, srv).AlertSeverityCounts(context.Background())
		var de *threatstack.DecodeError
		if !errors.As(err, &de) || de.Path != "/v2/alerts/severity-counts" {
			t.Errorf("%s: %v, %v; want a DecodeError", body, counts, err)
		}
	}
	srv := threatstacktest.New(t)
	srv.Inject(threatstacktest.Fault{Method: "GET", Path: "/v2/alerts/severity-counts", Status: 200, Body: `{"severityCounts":[]}`})
	if counts, err := newClient(t, srv).AlertSeverityCounts(context.Background()); err != nil || counts == nil || len(counts) != 0 {
		t.Errorf("an empty list: %v, %v; want an empty result", counts, err)
	}
}
