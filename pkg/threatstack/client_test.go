package threatstack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hiyosi/hawk"

	"github.com/tw-cli/tw-cli/internal/syncbuf"
	"github.com/tw-cli/tw-cli/pkg/threatstack"
	"github.com/tw-cli/tw-cli/pkg/threatstack/threatstacktest"
)

var fakeCreds = threatstack.Credentials{
	UserID:         threatstacktest.UserID,
	APIKey:         threatstacktest.APIKey,
	OrganizationID: threatstacktest.OrganizationID,
}

func newClient(t *testing.T, srv *threatstacktest.Server, opts ...threatstack.Option) *threatstack.Client {
	t.Helper()
	base := []threatstack.Option{
		threatstack.WithBaseURL(srv.URL),
		threatstack.WithRetryWait(5*time.Millisecond, 3*time.Second),
		threatstack.WithTimeout(5 * time.Second),
	}
	c, err := threatstack.New(fakeCreds, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func countWhere(objs []threatstacktest.Object, key string, val any) int {
	n := 0
	for _, o := range objs {
		if o[key] == val {
			n++
		}
	}
	return n
}

func TestAgentPagesWalksEveryPage(t *testing.T) {
	srv := threatstacktest.New(t, threatstacktest.WithPageSize(30))
	c := newClient(t, srv)
	var ids []string
	pages := 0
	for page, err := range c.AgentPages(context.Background(), threatstack.AgentListOptions{Status: "online"}) {
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, a := range page {
			if a.Status != "online" || a.Hostname == "" || len(a.IPAddresses.Private) != 1 || a.LastReportedAt.IsZero() {
				t.Fatalf("agent not decoded: %+v", a)
			}
			ids = append(ids, a.ID)
		}
	}
	want := countWhere(threatstacktest.GenerateData(threatstacktest.DefaultSizes).Agents, "status", "online")
	if len(ids) != want || pages != (want+29)/30 {
		t.Fatalf("got %d agents in %d pages, want %d in %d", len(ids), pages, want, (want+29)/30)
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Fatalf("agent %s listed twice", id)
		}
		seen[id] = true
	}
	nonces := map[string]bool{}
	for i, r := range srv.Requests() {
		if r.Status != 200 {
			t.Errorf("request %d: status %d", i, r.Status)
		}
		if r.Query.Get("status") != "online" {
			t.Errorf("request %d lost the status filter: %s", i, r.RawQuery)
		}
		if _, ok := r.Hawk["hash"]; ok {
			t.Errorf("request %d: a GET must not carry a payload hash", i)
		}
		if r.Hawk["ext"] != threatstacktest.OrganizationID || r.Hawk["id"] != threatstacktest.UserID {
			t.Errorf("request %d: id/ext = %q/%q", i, r.Hawk["id"], r.Hawk["ext"])
		}
		if nonces[r.Hawk["nonce"]] {
			t.Errorf("request %d reused a nonce", i)
		}
		nonces[r.Hawk["nonce"]] = true
		if (i == 0) != (r.Query.Get("token") == "") {
			t.Errorf("request %d: token %q", i, r.Query.Get("token"))
		}
	}
}

func TestPaginationEnds(t *testing.T) {
	tests := []struct {
		name     string
		tokenKey string
		last     threatstacktest.LastPage
	}{
		{"token null", "token", threatstacktest.TokenNull},
		{"token empty", "token", threatstacktest.TokenEmpty},
		{"token absent", "token", threatstacktest.TokenAbsent},
		{"paginationToken null", "paginationToken", threatstacktest.TokenNull},
		{"paginationToken empty", "paginationToken", threatstacktest.TokenEmpty},
		{"paginationToken absent", "paginationToken", threatstacktest.TokenAbsent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := threatstacktest.New(t, threatstacktest.WithPageSize(25),
				threatstacktest.WithTokenKey(tt.tokenKey), threatstacktest.WithLastPage(tt.last))
			c := newClient(t, srv)
			all, err := threatstack.Collect(c.VulnerabilityPages(context.Background(), threatstack.VulnerabilityListOptions{}))
			if err != nil {
				t.Fatal(err)
			}
			want := threatstacktest.DefaultSizes.Vulnerabilities
			if len(all) != want {
				t.Fatalf("got %d vulnerabilities, want %d", len(all), want)
			}
			if got, wantReq := len(srv.Requests()), (want+24)/25; got != wantReq {
				t.Errorf("%d requests, want %d", got, wantReq)
			}
			if all[0].CVENumber != threatstacktest.CVE(0) || len(all[0].Agents) == 0 {
				t.Errorf("first item not decoded: %+v", all[0])
			}
		})
	}
}

func TestBreakingStopsPaging(t *testing.T) {
	srv := threatstacktest.New(t, threatstacktest.WithPageSize(10))
	c := newClient(t, srv)
	n := 0
	for a, err := range threatstack.Items(c.AlertPages(context.Background(), threatstack.AlertListOptions{})) {
		if err != nil {
			t.Fatal(err)
		}
		_ = a
		n++
		if n == 15 {
			break
		}
	}
	if got := len(srv.Requests()); got != 2 {
		t.Errorf("reading 15 items made %d requests, want 2", got)
	}
}

func TestRepeatedTokenStops(t *testing.T) {
	srv := threatstacktest.New(t)
	srv.Inject(threatstacktest.Fault{Method: "GET", Path: "/v2/rulesets", Status: 200,
		Body: `{"rulesets":[{"id":"x"}],"token":"again"}`, Times: 5})
	c := newClient(t, srv)
	_, err := threatstack.Collect(c.RulesetPages(context.Background()))
	if err == nil || !strings.Contains(err.Error(), "repeated a pagination token") {
		t.Fatalf("err = %v, want repeated token error", err)
	}
	if got := len(srv.Requests()); got != 2 {
		t.Errorf("%d requests, want 2", got)
	}
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name         string
		method       string
		fault        threatstacktest.Fault
		wantRequests int
		wantStatus   int // 0: success
		// wantWaits is what each retry asked resty to wait: the server's
		// delay, or 0 for resty's exponential backoff.
		wantWaits []time.Duration
	}{
		{"429 honours Retry-After", "GET", threatstacktest.Fault{Status: 429,
			Header: http.Header{"Retry-After": {"1"}}, Body: `{"errors":["Rate limit hit"]}`}, 2, 0, []time.Duration{time.Second}},
		{"429 honours x-rate-limit-reset in ms", "GET", threatstacktest.Fault{Status: 429,
			Header: http.Header{"X-Rate-Limit-Reset": {"300"}}, Body: `{"errors":["Rate limit hit"]}`}, 2, 0, []time.Duration{300 * time.Millisecond}},
		{"429 without a delay backs off", "GET", threatstacktest.Fault{Status: 429, Body: `{"errors":["Rate limit hit"]}`}, 2, 0, []time.Duration{0}},
		{"503 is retried", "GET", threatstacktest.Fault{Status: 503, Times: 2}, 3, 0, []time.Duration{0, 0}},
		{"dropped connection is retried", "GET", threatstacktest.Fault{CloseConnection: true}, 2, 0, []time.Duration{0}},
		{"an attempt that times out is retried", "GET", threatstacktest.Fault{Delay: 1500 * time.Millisecond, Status: 500}, 2, 0, []time.Duration{0}},
		{"unsupported scheme is not retried", "GET", threatstacktest.Fault{}, 0, -1, nil},
		{"retries run out", "GET", threatstacktest.Fault{Status: 500, Body: `{"errors":["boom"]}`, Times: 10}, 3, 500, []time.Duration{0, 0}},
		{"400 is not retried", "GET", threatstacktest.Fault{Status: 400, Body: `{"errors":["bad"]}`}, 1, 400, nil},
		{"POST is not retried on 503", "POST", threatstacktest.Fault{Status: 503, Body: `{"errors":["busy"]}`}, 1, 503, nil},
		{"POST is not retried on a dropped connection", "POST", threatstacktest.Fault{CloseConnection: true}, 1, -1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := threatstacktest.New(t)
			f := tt.fault
			f.Method = tt.method
			f.Path = "/v2/alerts/severity-counts"
			if tt.method == "POST" {
				f.Path = "/v2/alerts/dismiss"
			}
			srv.Inject(f)
			var (
				mu    sync.Mutex
				waits []time.Duration
			)
			// Resty sleeps in its own loop; the hook records what the
			// client asked for and hands back 0, so resty's few-ms
			// backoff (WithRetryWait in newClient) stands in for it.
			hook := threatstack.WithRetryWaitHook(func(d time.Duration) time.Duration {
				mu.Lock()
				defer mu.Unlock()
				waits = append(waits, d)
				return 0
			})
			c := newClient(t, srv, threatstack.WithRetries(2), threatstack.WithTimeout(time.Second), hook)
			// A request the fake can never see (an ftp:// base URL) is
			// counted at the transport: one attempt, no retry.
			attempts := &countingTransport{next: http.DefaultTransport}
			if tt.wantRequests == 0 {
				c = newClient(t, srv, threatstack.WithRetries(2), threatstack.WithTransport(attempts),
					threatstack.WithBaseURL("ftp://"+strings.TrimPrefix(srv.URL, "http://")), hook)
				defer func() {
					if n := attempts.n.Load(); n != 1 {
						t.Errorf("%d attempts at an unsupported scheme, want 1", n)
					}
				}()
			}
			var err error
			if tt.method == "GET" {
				_, err = c.AlertSeverityCounts(context.Background())
			} else {
				err = c.DismissAlerts(context.Background(), threatstack.DismissRequest{
					IDs: []string{threatstacktest.AlertID(0)}, Reason: threatstack.DismissOther})
			}
			var apiErr *threatstack.APIError
			switch {
			case tt.wantStatus == 0 && err != nil:
				t.Fatalf("err = %v", err)
			case tt.wantStatus > 0 && (!errors.As(err, &apiErr) || apiErr.StatusCode != tt.wantStatus):
				t.Fatalf("err = %v, want APIError %d", err, tt.wantStatus)
			case tt.wantStatus < 0 && err == nil:
				t.Fatalf("want a transport error")
			}
			reqs := srv.Requests()
			if len(reqs) != tt.wantRequests {
				t.Errorf("%d requests, want %d", len(reqs), tt.wantRequests)
			}
			mu.Lock()
			if !slices.Equal(waits, tt.wantWaits) {
				t.Errorf("retries asked to wait %v, want %v", waits, tt.wantWaits)
			}
			mu.Unlock()
			// Every attempt is signed afresh: the fake would refuse a
			// replayed nonce, and the timestamps follow the clock.
			nonces := map[string]bool{}
			for _, r := range reqs {
				if nonces[r.Hawk["nonce"]] {
					t.Errorf("retry reused nonce %s", r.Hawk["nonce"])
				}
				nonces[r.Hawk["nonce"]] = true
			}
		})
	}
}

func TestClockSkewIsCorrectedOnce(t *testing.T) {
	srv := threatstacktest.New(t, threatstacktest.WithClockSkew(-3*time.Hour))
	var logs syncbuf.Buffer
	c := newClient(t, srv, threatstack.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	if _, err := c.GetAgent(context.Background(), threatstacktest.AgentID(0)); err != nil {
		t.Fatalf("first request: %v", err)
	}
	if off := c.ClockOffset(); off > -3*time.Hour+5*time.Second || off < -3*time.Hour-5*time.Second {
		t.Errorf("offset %v, want about -3h", off)
	}
	if _, err := c.GetAgent(context.Background(), threatstacktest.AgentID(1)); err != nil {
		t.Fatalf("second request: %v", err)
	}
	var statuses []int
	for _, r := range srv.Requests() {
		statuses = append(statuses, r.Status)
	}
	if fmt.Sprint(statuses) != "[401 200 200]" {
		t.Errorf("statuses %v, want one 401 then successes", statuses)
	}
	if !strings.Contains(logs.String(), "clock skew") {
		t.Errorf("the correction was not logged:\n%s", logs.String())
	}
}

func TestClockSkewRetriesOnlyOnce(t *testing.T) {
	srv := threatstacktest.New(t)
	ts := time.Now().Add(time.Hour).Unix()
	tsm := (&hawk.TsMac{TimeStamp: ts, Credential: &hawk.Credential{Key: threatstacktest.APIKey, Alg: hawk.SHA256}}).String()
	srv.Inject(threatstacktest.Fault{Method: "GET", Path: "/v2/rulesets/x", Status: 401, Times: 5,
		Header: http.Header{"Www-Authenticate": {fmt.Sprintf(`Hawk ts="%d", tsm="%s", error="Stale timestamp"`, ts, tsm)}},
		Body:   `{"errors":["Stale timestamp"]}`})
	c := newClient(t, srv)
	_, err := c.GetRuleset(context.Background(), "x")
	if !threatstack.IsAuthError(err) {
		t.Fatalf("err = %v, want an auth error", err)
	}
	if got := len(srv.Requests()); got != 2 {
		t.Errorf("%d requests, want the original and one retry", got)
	}
}

func TestForgedChallengeIsIgnored(t *testing.T) {
	srv := threatstacktest.New(t)
	ts := time.Now().Add(time.Hour).Unix()
	forged := (&hawk.TsMac{TimeStamp: ts, Credential: &hawk.Credential{Key: "not-the-key", Alg: hawk.SHA256}}).String()
	srv.Inject(threatstacktest.Fault{Method: "GET", Path: "/v2/rulesets/x", Status: 401,
		Header: http.Header{"Www-Authenticate": {fmt.Sprintf(`Hawk ts="%d", tsm="%s"`, ts, forged)}},
		Body:   `{"errors":["Stale timestamp"]}`})
	c := newClient(t, srv)
	if _, err := c.GetRuleset(context.Background(), "x"); !threatstack.IsAuthError(err) {
		t.Fatalf("err = %v, want auth error", err)
	}
	if c.ClockOffset() != 0 || len(srv.Requests()) != 1 {
		t.Errorf("offset %v after %d requests: a tsm under another key must not move the clock", c.ClockOffset(), len(srv.Requests()))
	}
}

func TestServerAuthorization(t *testing.T) {
	tests := []struct {
		name    string
		mode    threatstacktest.ServerAuth
		verify  bool
		wantErr bool
	}{
		{"absent", threatstacktest.NoServerAuth, true, false},
		{"valid", threatstacktest.SignResponses, true, false},
		{"wrong key", threatstacktest.SignWithWrongKey, true, true},
		{"tampered body", threatstacktest.SignThenTamper, true, true},
		{"tampered body, verification off", threatstacktest.SignThenTamper, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := threatstacktest.New(t, threatstacktest.WithServerAuth(tt.mode))
			c := newClient(t, srv, threatstack.WithVerifyResponse(tt.verify))
			for _, call := range []func() error{
				func() error { _, err := c.GetAgent(context.Background(), threatstacktest.AgentID(3)); return err },
				func() error {
					_, err := threatstack.Collect(c.AgentPages(context.Background(), threatstack.AgentListOptions{Status: "offline"}))
					return err
				},
			} {
				err := call()
				if tt.wantErr {
					var ve *threatstack.ResponseVerificationError
					if !errors.As(err, &ve) || !threatstack.IsAuthError(err) {
						t.Fatalf("err = %v, want a ResponseVerificationError", err)
					}
				} else if err != nil {
					t.Fatalf("err = %v", err)
				}
			}
		})
	}
}

func TestServerAuthorizationOnSignedPOST(t *testing.T) {
	srv := threatstacktest.New(t, threatstacktest.WithServerAuth(threatstacktest.SignResponses))
	c := newClient(t, srv)
	resp, err := c.Do(context.Background(), "POST", "/v2/alerts/dismiss", nil,
		[]byte(`{"ids":["`+threatstacktest.AlertID(2)+`"],"dismissReason":"OTHER"}`))
	if err != nil {
		t.Fatalf("err = %v", err)
	}
	if resp.StatusCode != 204 {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

func TestAuthFailures(t *testing.T) {
	tests := []struct {
		name  string
		creds threatstack.Credentials
	}{
		{"wrong key", threatstack.Credentials{UserID: threatstacktest.UserID, APIKey: "wrong-key", OrganizationID: threatstacktest.OrganizationID}},
		{"wrong organization", threatstack.Credentials{UserID: threatstacktest.UserID, APIKey: threatstacktest.APIKey, OrganizationID: "another-org"}},
		{"wrong user", threatstack.Credentials{UserID: "someone", APIKey: threatstacktest.APIKey, OrganizationID: threatstacktest.OrganizationID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := threatstacktest.New(t)
			c, err := threatstack.New(tt.creds, threatstack.WithBaseURL(srv.URL))
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.SelfTest(context.Background())
			var apiErr *threatstack.APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != 401 || !threatstack.IsAuthError(err) {
				t.Fatalf("err = %v, want a 401 auth error", err)
			}
			if len(apiErr.Messages) != 1 || !strings.HasPrefix(apiErr.Messages[0], "Unauthorized") {
				t.Errorf("messages %q, want the server's errors array", apiErr.Messages)
			}
			if len(srv.Requests()) != 1 {
				t.Errorf("a 401 without a server time must not be retried")
			}
		})
	}
}

func TestSelfTestSucceeds(t *testing.T) {
	srv := threatstacktest.New(t)
	body, err := newClient(t, srv).SelfTest(context.Background())
	if err != nil || !bytes.Contains(body, []byte("succeeded")) {
		t.Fatalf("body %s err %v", body, err)
	}
}

func TestMissingCredentials(t *testing.T) {
	_, err := threatstack.New(threatstack.Credentials{UserID: "u"})
	var mc *threatstack.MissingCredentialsError
	if !errors.As(err, &mc) || !threatstack.IsAuthError(err) {
		t.Fatalf("err = %v, want MissingCredentialsError", err)
	}
	if fmt.Sprint(mc.Missing) != "[TS_API_KEY TS_ORGANIZATION_ID]" {
		t.Errorf("missing = %v", mc.Missing)
	}
	for _, v := range []string{"TS_USER_ID", "TS_API_KEY", "TS_ORGANIZATION_ID"} {
		if !strings.Contains(err.Error(), v) {
			t.Errorf("error %q does not name %s", err, v)
		}
	}
}

func TestCredentialsFromEnv(t *testing.T) {
	env := map[string]string{"TS_USER_ID": " u ", "TS_API_KEY": "k", "TS_ORGANIZATION_ID": "o"}
	got := threatstack.CredentialsFromEnv(func(k string) string { return env[k] })
	if got.UserID != "u" || got.APIKey != "k" || got.OrganizationID != "o" {
		t.Errorf("got %v", got)
	}
}

func TestNotFound(t *testing.T) {
	srv := threatstacktest.New(t)
	_, err := newClient(t, srv).GetAlert(context.Background(), "nope")
	if !threatstack.IsNotFound(err) || threatstack.IsAuthError(err) {
		t.Fatalf("err = %v, want not found", err)
	}
	if !strings.Contains(err.Error(), "Alert not found") || !strings.Contains(err.Error(), "GET /v2/alerts/nope") {
		t.Errorf("error %q should carry the request and the server's message", err)
	}
}

func TestEscapedIDsAreSignedAsSent(t *testing.T) {
	srv := threatstacktest.New(t)
	c := newClient(t, srv)
	// The fake verifies HAWK over the raw request-target: a signature over
	// the decoded path would be a 401, not the 404 of an unknown agent.
	for _, id := range []string{"a b", "a/b", "50%", "ü"} {
		_, err := c.GetAgent(context.Background(), id)
		if !threatstack.IsNotFound(err) {
			t.Errorf("GetAgent(%q): err = %v, want 404", id, err)
		}
	}
	if got := srv.Requests()[0].Path; got != "/v2/agents/a%20b" {
		t.Errorf("wire path %q", got)
	}
}

func TestAlertFiltersReachTheQuery(t *testing.T) {
	srv := threatstacktest.New(t)
	c := newClient(t, srv)
	from := time.Date(2024, 4, 30, 0, 0, 0, 0, time.UTC)
	opts := threatstack.AlertListOptions{Status: "active", Severity: 1, From: from, Until: threatstacktest.Epoch,
		RuleID: threatstacktest.RuleID(0, 0), AgentID: threatstacktest.AgentID(0)}
	alerts, err := threatstack.Collect(c.AlertPages(context.Background(), opts))
	if err != nil {
		t.Fatal(err)
	}
	q := srv.Requests()[0].Query
	want := url.Values{"status": {"active"}, "severity": {"1"}, "from": {"2024-04-30T00:00:00Z"},
		"until": {"2024-05-01T12:00:00Z"}, "ruleId": {threatstacktest.RuleID(0, 0)}, "agentId": {threatstacktest.AgentID(0)}}
	if q.Encode() != want.Encode() {
		t.Errorf("query %s, want %s", q.Encode(), want.Encode())
	}
	for _, a := range alerts {
		if a.Severity != 1 || a.AgentID != threatstacktest.AgentID(0) || a.IsDismissed || a.CreatedAt.Before(from) {
			t.Errorf("alert %s does not match the filters: %+v", a.ID, a)
		}
	}
	if len(alerts) == 0 {
		t.Error("no alerts matched; the fixture should have some")
	}
}

func TestDismissAlerts(t *testing.T) {
	srv := threatstacktest.New(t)
	c := newClient(t, srv)
	ids := []string{threatstacktest.AlertID(0), threatstacktest.AlertID(1)}
	err := c.DismissAlerts(context.Background(), threatstack.DismissRequest{IDs: ids, Reason: threatstack.DismissMaintenance, ReasonText: "patching"})
	if err != nil {
		t.Fatal(err)
	}
	r := srv.Requests()[0]
	if r.Method != "POST" || r.Path != "/v2/alerts/dismiss" || r.Hawk["hash"] == "" {
		t.Errorf("request %s %s hash=%q", r.Method, r.Path, r.Hawk["hash"])
	}
	var body map[string]any
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(body) != fmt.Sprint(map[string]any{"ids": []any{ids[0], ids[1]}, "dismissReason": "MAINTENANCE", "dismissReasonText": "patching"}) {
		t.Errorf("body %v", body)
	}
	a, err := c.GetAlert(context.Background(), ids[1])
	if err != nil || !a.IsDismissed || a.DismissReason != "MAINTENANCE" {
		t.Errorf("alert after dismiss: %+v, %v", a, err)
	}
	// The fake answers 400 to an unknown reason too: only the request
	// count shows the client refused it itself.
	sent := len(srv.Requests())
	err = c.DismissAlerts(context.Background(), threatstack.DismissRequest{IDs: ids, Reason: "because"})
	if err == nil || !strings.Contains(err.Error(), `"because"`) || len(srv.Requests()) != sent {
		t.Errorf("an unknown reason must be refused before sending: %v, %d requests sent", err, len(srv.Requests())-sent)
	}
}

func TestVulnerabilityFilters(t *testing.T) {
	srv := threatstacktest.New(t)
	c := newClient(t, srv)
	ctx := context.Background()
	byPkg, err := threatstack.Collect(c.VulnerabilityPages(ctx, threatstack.VulnerabilityListOptions{Package: "openssl-1"}))
	if err != nil || len(byPkg) == 0 {
		t.Fatalf("by package: %d, %v", len(byPkg), err)
	}
	for _, v := range byPkg {
		if v.ReportedPackage != "openssl-1" {
			t.Errorf("package filter let %s through", v.ReportedPackage)
		}
	}
	byAgent, err := threatstack.Collect(c.VulnerabilityPages(ctx, threatstack.VulnerabilityListOptions{AgentID: threatstacktest.AgentID(2)}))
	if err != nil || len(byAgent) == 0 {
		t.Fatalf("by agent: %d, %v", len(byAgent), err)
	}
	paths := []string{}
	for _, r := range srv.Requests() {
		paths = append(paths, r.Path)
	}
	if fmt.Sprint(paths) != "[/v2/vulnerabilities/package/openssl-1 /v2/vulnerabilities/agent/"+threatstacktest.AgentID(2)+"]" {
		t.Errorf("paths %v", paths)
	}
	if _, err := threatstack.Collect(c.VulnerabilityPages(ctx, threatstack.VulnerabilityListOptions{Package: "p", AgentID: "a"})); err == nil {
		t.Error("package and agent together must be refused")
	}
	servers, err := threatstack.Collect(c.CVEServerPages(ctx, threatstacktest.CVE(4)))
	if err != nil || len(servers) != 2 || servers[0].AgentID != threatstacktest.AgentID(4) {
		t.Errorf("servers of %s: %+v, %v", threatstacktest.CVE(4), servers, err)
	}
}

func TestRulesetsAndRules(t *testing.T) {
	srv := threatstacktest.New(t, threatstacktest.WithPageSize(5))
	c := newClient(t, srv)
	ctx := context.Background()
	sets, err := threatstack.Collect(c.RulesetPages(ctx))
	if err != nil || len(sets) != threatstacktest.DefaultSizes.Rulesets {
		t.Fatalf("rulesets: %d, %v", len(sets), err)
	}
	rs, err := c.GetRuleset(ctx, sets[1].ID)
	if err != nil || rs.Name != sets[1].Name || len(rs.RuleIDs) != threatstacktest.DefaultSizes.RulesPerRuleset {
		t.Fatalf("ruleset: %+v, %v", rs, err)
	}
	rules, err := threatstack.Collect(c.RulePages(ctx, rs.ID))
	if err != nil || len(rules) != len(rs.RuleIDs) || rules[0].ID != rs.RuleIDs[0] || rules[0].Severity == 0 {
		t.Fatalf("rules: %d %+v, %v", len(rules), rules, err)
	}
}

func TestAlertEventsContextAndCounts(t *testing.T) {
	srv := threatstacktest.New(t)
	c := newClient(t, srv)
	ctx := context.Background()
	id := threatstacktest.AlertID(7)
	events, err := threatstack.Collect(c.AlertEventPages(ctx, id))
	if err != nil || len(events) != threatstacktest.DefaultSizes.EventsPerAlert || events[0].Timestamp.IsZero() || events[0].Type != "audit" {
		t.Fatalf("events: %+v, %v", events, err)
	}
	raw, err := c.AlertContext(ctx, id)
	if err != nil || !bytes.Contains(raw, []byte(id)) {
		t.Fatalf("context: %s, %v", raw, err)
	}
	counts, err := c.AlertSeverityCounts(ctx)
	if err != nil || len(counts) != 3 {
		t.Fatalf("counts: %+v, %v", counts, err)
	}
	data := threatstacktest.GenerateData(threatstacktest.DefaultSizes)
	for _, sc := range counts {
		want := 0
		for _, a := range data.Alerts {
			if a["severity"] == sc.Severity && a["isDismissed"] == false {
				want++
			}
		}
		if sc.Count != want {
			t.Errorf("severity %d: %d, want %d", sc.Severity, sc.Count, want)
		}
	}
}

func TestDo(t *testing.T) {
	srv := threatstacktest.New(t)
	c := newClient(t, srv)
	ctx := context.Background()
	resp, err := c.Do(ctx, "get", "v2/agents?status=offline", url.Values{"x": {"1"}}, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%v %v", resp, err)
	}
	if got := srv.Requests()[0].RawQuery; got != "status=offline&x=1" {
		t.Errorf("query %q", got)
	}
	resp, err = c.Do(ctx, "GET", "/v2/agents", nil, nil)
	var apiErr *threatstack.APIError
	if !errors.As(err, &apiErr) || resp == nil || resp.StatusCode != 400 || !bytes.Contains(resp.Body, []byte("status")) {
		t.Errorf("a 400 returns both the response and the error: %v, %v", resp, err)
	}
	if _, err := c.Do(ctx, "GET", "https://elsewhere.example/v2/agents", nil, nil); err == nil {
		t.Error("an absolute URL would send the signature to another host")
	}
	// A query the HAWK library would leave out of the MAC is refused
	// before anything is sent; an empty one is dropped.
	sent := len(srv.Requests())
	for _, path := range []string{"/v2/agents?status=online;x", "/v2/agents?%zz=1"} {
		if _, err := c.Do(ctx, "GET", path, nil, nil); err == nil || !strings.Contains(err.Error(), "cannot be signed") {
			t.Errorf("%s: %v, want a refusal", path, err)
		}
	}
	if n := len(srv.Requests()); n != sent {
		t.Errorf("%d requests sent for unsignable queries", n-sent)
	}
	for _, path := range []string{"/v2/rulesets?", "/v2/rulesets?&", "/v2/rulesets?&&"} {
		sent := len(srv.Requests())
		resp, err := c.Do(ctx, "GET", path, nil, nil)
		if err != nil || resp.StatusCode != 200 {
			t.Errorf("%s: %v %v", path, resp, err)
			continue
		}
		if r := srv.Requests()[sent]; r.RawQuery != "" {
			t.Errorf("%s: sent query %q; a query without parameters is not signed, so must not be sent", path, r.RawQuery)
		}
	}
	// A space or a non-ASCII byte typed in the query is escaped before it
	// is signed and sent: raw, the space splits the request line (400
	// before the fake sees it) and ü goes out as bare bytes. The fake
	// checks the MAC against the request-target it received.
	for path, want := range map[string]string{
		"/v2/agents?status=online&hostname=web 1":          "status=online&hostname=web%201",
		"/v2/agents?status=online&hostname=m\u00fcnchen":   "status=online&hostname=m%C3%BCnchen",
		"/v2/agents?status=online&hostname=a%20b\tc%2Bd+e": "status=online&hostname=a%20b%09c%2Bd+e",
	} {
		sent := len(srv.Requests())
		resp, err := c.Do(ctx, "GET", path, nil, nil)
		if err != nil || resp.StatusCode != 200 {
			t.Errorf("%q: %v %v", path, resp, err)
			continue
		}
		if r := srv.Requests()[sent]; r.RawQuery != want || r.Status != 200 {
			t.Errorf("%q: sent query %q (status %d), want %q", path, r.RawQuery, r.Status, want)
		}
	}
	// Empty parameters around a real one are sent and signed as written.
	if resp, err := c.Do(ctx, "GET", "/v2/agents?&status=online&", nil, nil); err != nil || resp.StatusCode != 200 {
		t.Errorf("query with empty parameters: %v %v", resp, err)
	} else if got := srv.Requests()[len(srv.Requests())-1].RawQuery; got != "&status=online&" {
		t.Errorf("query %q, want it as written", got)
	}
}

func TestRawPages(t *testing.T) {
	srv := threatstacktest.New(t, threatstacktest.WithPageSize(40))
	c := newClient(t, srv)
	total := 0
	pages := 0
	for body, err := range c.RawPages(context.Background(), "/v2/agents", url.Values{"status": {"online"}}) {
		if err != nil {
			t.Fatal(err)
		}
		var page struct{ Agents []json.RawMessage }
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		total += len(page.Agents)
		pages++
	}
	want := countWhere(threatstacktest.GenerateData(threatstacktest.DefaultSizes).Agents, "status", "online")
	if total != want || pages != (want+39)/40 {
		t.Errorf("%d items in %d pages, want %d", total, pages, want)
	}
}

func TestBaseURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "https://api.threatstack.com"},
		{"https://api.threatstack.com/v2/", "https://api.threatstack.com"},
		{"http://127.0.0.1:8080/", "http://127.0.0.1:8080"},
		{"https://proxy.internal/threatstack", "https://proxy.internal/threatstack"},
		{"api.threatstack.com", "https://api.threatstack.com"}, // TS_HOST's bare host
		{"api.threatstack.com/v2", ""},
		{"https://h/?q=1", ""},
	}
	for _, tt := range tests {
		c, err := threatstack.New(fakeCreds, threatstack.WithBaseURL(tt.in))
		if tt.want == "" {
			if err == nil {
				t.Errorf("%q: want an error", tt.in)
			}
			continue
		}
		if err != nil || c.BaseURL() != tt.want {
			t.Errorf("%q: %v %v, want %q", tt.in, c, err, tt.want)
		}
	}
}

// A user or password in the API URL is never sent (HAWK replaces the Basic
// auth net/http would make of it) but would be printed with the URL by
// auth check and --debug: refuse it, without repeating the password.
func TestBaseURLWithCredentialsIsRefused(t *testing.T) {
	for in, wantURL := range map[string]string{
		"http://user:pa55word@127.0.0.1:8080": `use "http://127.0.0.1:8080"`,
		"https://user@api.threatstack.com/v2": `use "https://api.threatstack.com/v2"`,
		"user:pa55word@api.threatstack.com":   `use "https://api.threatstack.com"`,
		// Wrong for another reason too: the error says that one first.
		"http://user:pa55word@h/?q=1":  `invalid API URL "http://h/?q=1"`,
		"http://user:pa55word@h:port/": `invalid API URL "http://h:port/"`,
	} {
		_, err := threatstack.New(fakeCreds, threatstack.WithBaseURL(in))
		if err == nil {
			t.Errorf("%q: accepted", in)
			continue
		}
		msg := err.Error()
		if strings.Contains(msg, "pa55word") || strings.Contains(msg, "user") && !strings.Contains(msg, "a user or password") {
			t.Errorf("%q: the error repeats the credentials: %s", in, msg)
		}
		if !strings.Contains(msg, wantURL) {
			t.Errorf("%q: %s\nwant %s", in, msg, wantURL)
		}
		if !strings.HasPrefix(wantURL, "invalid") && (!strings.Contains(msg, "must not carry a user or password") || !strings.Contains(msg, threatstack.EnvAPIKey)) {
			t.Errorf("%q: %s\nwant it to say the credentials come from the API key settings", in, msg)
		}
	}
}

func TestTimeout(t *testing.T) {
	srv := threatstacktest.New(t)
	c := newClient(t, srv)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.GetAgent(ctx, threatstacktest.AgentID(0))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// countingTransport counts the attempts that reach the transport.
type countingTransport struct {
	next http.RoundTripper
	n    atomic.Int32
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}
