package threatstack

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/pkg/threatstack/threatstacktest"
)

// smallData keeps golden files readable while still spanning pages.
var smallSizes = threatstacktest.Sizes{Agents: 12, Alerts: 9, EventsPerAlert: 2, Rulesets: 2, RulesPerRuleset: 4, Vulnerabilities: 5}

func smallFake(t *testing.T, opts ...threatstacktest.Option) *threatstacktest.Server {
	return threatstacktest.New(t, append([]threatstacktest.Option{
		threatstacktest.WithData(threatstacktest.GenerateData(smallSizes)),
		threatstacktest.WithPageSize(4),
	}, opts...)...)
}

func TestGoldenOutputs(t *testing.T) {
	alert := threatstacktest.AlertID(5) // a dismissed one, with every field
	tests := []struct {
		golden string
		tty    bool
		args   []string
	}{
		{"agents_list.tsv", false, []string{"agents", "list", "--all"}},
		{"agents_list.table", true, []string{"agents", "list", "--limit", "4"}},
		{"agents_list.json", false, []string{"agents", "list", "--limit", "2", "-o", "json"}},
		{"agents_list.yaml", false, []string{"agents", "list", "--limit", "2", "-o", "yaml"}},
		{"agents_get.table", true, []string{"agents", "get", threatstacktest.AgentID(0)}},
		{"agents_get.tsv", false, []string{"agents", "get", threatstacktest.AgentID(0)}},
		{"alerts_list.tsv", false, []string{"alerts", "list", "--all"}},
		{"alerts_list_dismissed.table", true, []string{"alerts", "list", "--status", "dismissed"}},
		{"alerts_list_high.json", false, []string{"alerts", "list", "--severity", "high", "-o", "json"}},
		{"alerts_get.table", true, []string{"alerts", "get", alert}},
		{"alerts_get.json", false, []string{"alerts", "get", alert, "-o", "json"}},
		{"alerts_events.tsv", false, []string{"alerts", "events", alert}},
		{"alerts_severity_counts.table", true, []string{"alerts", "severity-counts"}},
		{"alerts_severity_counts.json", false, []string{"alerts", "severity-counts", "-o", "json"}},
		{"rulesets_list.tsv", false, []string{"rulesets", "list"}},
		{"rulesets_get.table", true, []string{"rulesets", "get", threatstacktest.RulesetID(1)}},
		{"rulesets_rules.tsv", false, []string{"rulesets", "rules", threatstacktest.RulesetID(1)}},
		{"vulnerabilities_list.tsv", false, []string{"vulnerabilities", "list", "--all"}},
		{"vulnerabilities_list.table", true, []string{"vulnerabilities", "list"}},
		{"cves_get.tsv", false, []string{"cves", "get", threatstacktest.CVE(2)}},
		{"api_severity_counts.json", false, []string{"api", "/v2/alerts/severity-counts"}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			h := newHarness(t, smallFake(t))
			h.ios.SetStdoutTTY(tt.tty)
			assertGolden(t, tt.golden, h.must(tt.args...))
			if h.stderr.Len() != 0 {
				t.Errorf("stderr should be empty when it is not a terminal: %q", h.stderr)
			}
		})
	}
}

func TestListsPageLazilyAndStopAtTheLimit(t *testing.T) {
	srv := smallFake(t)
	h := newHarness(t, srv)
	online := 0
	for _, a := range threatstacktest.GenerateData(smallSizes).Agents {
		if a["status"] == "online" {
			online++
		}
	}
	tests := []struct {
		args      []string
		wantRows  int
		wantPages int
	}{
		{[]string{"agents", "list", "--limit", "4"}, 4, 1},
		{[]string{"agents", "list", "--limit", "5"}, 5, 2},
		{[]string{"agents", "list", "--all"}, online, (online + 3) / 4},
		{[]string{"agents", "list", "--status", "offline"}, len(threatstacktest.GenerateData(smallSizes).Agents) - online, 1},
	}
	for _, tt := range tests {
		before := len(srv.Requests())
		out := h.must(tt.args...)
		if rows := strings.Count(out, "\n"); rows != tt.wantRows {
			t.Errorf("%v: %d rows, want %d", tt.args, rows, tt.wantRows)
		}
		if pages := len(srv.Requests()) - before; pages != tt.wantPages {
			t.Errorf("%v: %d requests, want %d", tt.args, pages, tt.wantPages)
		}
	}
}

func TestJSONListIsOneArrayAcrossPages(t *testing.T) {
	h := newHarness(t, threatstacktest.New(t, threatstacktest.WithPageSize(7)))
	var agents []map[string]any
	out := h.must("agents", "list", "--all", "-o", "json")
	if err := json.Unmarshal([]byte(out), &agents); err != nil {
		t.Fatalf("not one JSON array: %v\n%.300s", err, out)
	}
	seen := map[any]bool{}
	for _, a := range agents {
		if a["status"] != "online" || seen[a["id"]] {
			t.Fatalf("bad or repeated agent %v", a["id"])
		}
		seen[a["id"]] = true
		// Fields the client does not model still reach -o json.
		if _, ok := a["agentModuleHealth"].(map[string]any)["modules"]; !ok {
			t.Fatalf("raw fields lost: %v", a)
		}
	}
	if len(agents) <= 7 {
		t.Fatalf("%d agents: the fixture should span several pages", len(agents))
	}
	var seq []map[string]any
	if err := yaml.Unmarshal([]byte(h.must("agents", "list", "--all", "-o", "yaml")), &seq); err != nil || len(seq) != len(agents) {
		t.Fatalf("YAML is not one sequence of %d: %d, %v", len(agents), len(seq), err)
	}
}

func TestEmptyListings(t *testing.T) {
	h := newHarness(t, smallFake(t))
	if got := h.must("alerts", "list", "--rule", "no-such-rule", "-o", "json"); got != "[]\n" {
		t.Errorf("empty JSON list = %q", got)
	}
	if got := h.must("alerts", "list", "--rule", "no-such-rule", "-o", "yaml"); got != "[]\n" {
		t.Errorf("empty YAML list = %q", got)
	}
	if got := h.must("alerts", "list", "--rule", "no-such-rule"); got != "" {
		t.Errorf("empty TSV list = %q", got)
	}
	h.ios.SetStdoutTTY(true)
	if got := h.must("alerts", "list", "--rule", "no-such-rule"); got != "" || h.stderr.String() != "No alerts found.\n" {
		t.Errorf("empty table: stdout %q stderr %q", got, h.stderr)
	}
}

func TestProgressOnlyOnATerminal(t *testing.T) {
	h := newHarness(t, smallFake(t))
	h.must("agents", "list", "--all")
	if h.stderr.Len() != 0 {
		t.Errorf("progress written to a non-terminal stderr: %q", h.stderr)
	}
	h.ios.SetStderrTTY(true)
	out := h.must("agents", "list", "--all")
	progress := h.stderr.String()
	if !strings.Contains(progress, "Fetching agents: page 2 (4 so far)…") || !strings.HasSuffix(progress, "\r\x1b[K") {
		t.Errorf("progress on a terminal: %q", progress)
	}
	if strings.Contains(out, "Fetching") {
		t.Error("progress leaked into stdout")
	}
}

func TestFiltersReachTheAPI(t *testing.T) {
	srv := smallFake(t)
	h := newHarness(t, srv)
	h.must("alerts", "list", "--severity", "2", "--from", "2024-05-01", "--until", "6h", "--agent", threatstacktest.AgentID(1), "--rule", "r")
	q := srv.Requests()[0].Query
	want := fmt.Sprintf("agentId=%s&from=2024-05-01T00%%3A00%%3A00Z&ruleId=r&severity=2&status=active&until=2024-05-01T08%%3A00%%3A00Z", threatstacktest.AgentID(1))
	if q.Encode() != want {
		t.Errorf("query %s\nwant  %s", q.Encode(), want)
	}
	h.must("vulnerabilities", "list", "--package", "openssl-1")
	h.must("vulnerabilities", "list", "--agent", threatstacktest.AgentID(3))
	reqs := srv.Requests()
	if reqs[1].Path != "/v2/vulnerabilities/package/openssl-1" || reqs[2].Path != "/v2/vulnerabilities/agent/"+threatstacktest.AgentID(3) {
		t.Errorf("paths %s, %s", reqs[1].Path, reqs[2].Path)
	}
}

func TestDismiss(t *testing.T) {
	srv := smallFake(t)
	h := newHarness(t, srv)
	ids := []string{threatstacktest.AlertID(0), threatstacktest.AlertID(1)}
	h.must("alerts", "dismiss", ids[0], ids[1], "--reason", "maintenance", "--comment", "patch window")
	if h.stdout.Len() != 0 || h.stderr.String() != "✓ Dismissed 2 alerts (MAINTENANCE)\n" {
		t.Errorf("stdout %q stderr %q", h.stdout, h.stderr)
	}
	var a map[string]any
	if err := json.Unmarshal([]byte(h.must("alerts", "get", ids[1], "-o", "json")), &a); err != nil {
		t.Fatal(err)
	}
	if a["isDismissed"] != true || a["dismissReasonText"] != "patch window" {
		t.Errorf("alert after dismiss: %v", a)
	}
	if code := h.exitCode("alerts", "dismiss", "nope"); code != cmdutil.ExitNotFound {
		t.Errorf("dismissing an unknown alert: exit %d, want 4", code)
	}
}

// --timeout bounds a request: a dismissal (never retried) against an API
// that holds its answer fails with a timeout, and the alert stays as it
// was; a bad value is a usage error before any request.
func TestTimeoutFlag(t *testing.T) {
	srv := smallFake(t)
	h := newHarness(t, srv)
	srv.Inject(threatstacktest.Fault{Method: "POST", Path: "/v2/alerts/dismiss", Delay: 5 * time.Second, Status: 200})
	err := h.run("alerts", "dismiss", threatstacktest.AlertID(0), "--reason", "maintenance", "--timeout", "200ms")
	if err == nil || !strings.Contains(strings.ToLower(err.Error()), "timeout") {
		t.Fatalf("dismiss against a stalled API with --timeout 200ms: %v", err)
	}
	for _, bad := range []string{"0s", "-1s", "11m"} {
		if code := h.exitCode("agents", "list", "--timeout", bad); code != cmdutil.ExitUsage {
			t.Errorf("--timeout %s: exit %d, want %d", bad, code, cmdutil.ExitUsage)
		}
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("%d requests; the refused --timeout values must send none", n)
	}
}

func TestAPICommand(t *testing.T) {
	srv := smallFake(t)
	h := newHarness(t, srv)
	out := h.must("api", "/v2/agents", "-f", "status=online", "--paginate")
	dec := json.NewDecoder(strings.NewReader(out))
	pages, agents := 0, 0
	for dec.More() {
		var page struct{ Agents []json.RawMessage }
		if err := dec.Decode(&page); err != nil {
			t.Fatal(err)
		}
		pages++
		agents += len(page.Agents)
	}
	if pages < 2 || agents != strings.Count(h.must("agents", "list", "--all"), "\n") {
		t.Errorf("--paginate printed %d pages with %d agents", pages, agents)
	}

	ymlOut := h.must("api", "/v2/agents", "-f", "status=online", "--paginate", "-o", "yaml")
	docs := strings.Split(ymlOut, "---\n")
	if len(docs) != pages {
		t.Errorf("-o yaml --paginate printed %d documents, want %d", len(docs), pages)
	}
	for _, d := range docs {
		var page struct{ Agents []map[string]any }
		if err := yaml.Unmarshal([]byte(d), &page); err != nil || len(page.Agents) == 0 {
			t.Errorf("YAML page: %v\n%s", err, d)
		}
	}

	if code := h.exitCode("api", "/v2/agents/nope"); code != cmdutil.ExitNotFound || !strings.Contains(h.stdout.String(), `"Agent not found"`) {
		t.Errorf("404: exit %d, stdout %q", code, h.stdout)
	}
	if code := h.exitCode("api", "/v2/agents"); code != cmdutil.ExitFailure || !strings.Contains(h.stdout.String(), "status") {
		t.Errorf("400: exit %d, stdout %q", code, h.stdout)
	}

	h.stdin.WriteString(fmt.Sprintf(`{"ids":[%q],"dismissReason":"OTHER"}`, threatstacktest.AlertID(2)))
	h.must("api", "-X", "POST", "/v2/alerts/dismiss", "--input", "-")
	last := srv.Requests()[len(srv.Requests())-1]
	if last.Method != "POST" || last.Hawk["hash"] == "" || !strings.Contains(string(last.Body), threatstacktest.AlertID(2)) {
		t.Errorf("POST sent %s %s hash=%q body=%s", last.Method, last.Path, last.Hawk["hash"], last.Body)
	}
}

func TestExitCodes(t *testing.T) {
	t.Run("missing credentials", func(t *testing.T) {
		h := newHarness(t, smallFake(t))
		t.Setenv("TS_API_KEY", "")
		err := h.run("agents", "list")
		if cmdutil.ExitCode(err) != cmdutil.ExitAuth {
			t.Fatalf("exit %d, want 3: %v", cmdutil.ExitCode(err), err)
		}
		for _, want := range []string{"TS_API_KEY not set", "TS_USER_ID", "TS_ORGANIZATION_ID", "tw-cli config init", "threatstack.api_key"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("message lacks %q:\n%v", want, err)
			}
		}
	})
	t.Run("credentials from the config file", func(t *testing.T) {
		srv := smallFake(t)
		h := newHarness(t, srv)
		for _, k := range []string{"TS_USER_ID", "TS_API_KEY", "TS_ORGANIZATION_ID", "TS_API_URL"} {
			t.Setenv(k, "")
		}
		cfg, err := h.factory().Config()
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range map[string]string{keyUserID: threatstacktest.UserID, keyAPIKey: threatstacktest.APIKey,
			keyOrgID: threatstacktest.OrganizationID, keyAPIURL: srv.URL} {
			if err := cfg.Set("", k, v); err != nil {
				t.Fatal(err)
			}
		}
		h.must("auth", "check")
		if !strings.Contains(h.stdout.String(), "✓ Threat Stack accepted the credentials of user "+threatstacktest.UserID) {
			t.Errorf("auth check: %q", h.stdout)
		}
	})
	t.Run("credentials from a profile", func(t *testing.T) {
		srv := smallFake(t)
		h := newHarness(t, nil)
		for _, k := range []string{"TS_USER_ID", "TS_API_KEY", "TS_ORGANIZATION_ID", "TS_API_URL"} {
			t.Setenv(k, "")
		}
		cfg, err := h.factory().Config()
		if err != nil {
			t.Fatal(err)
		}
		// The top level names another organization; the profile wins.
		if err := cfg.SetMany("", map[string]string{keyUserID: "someone", keyAPIKey: "another-key-entirely", keyOrgID: "other-org"}); err != nil {
			t.Fatal(err)
		}
		if err := cfg.SetMany("staging", map[string]string{keyUserID: threatstacktest.UserID, keyAPIKey: threatstacktest.APIKey,
			keyOrgID: threatstacktest.OrganizationID, keyAPIURL: srv.URL}); err != nil {
			t.Fatal(err)
		}
		t.Setenv("TW_PROFILE", "staging")
		h.must("auth", "check")
		t.Setenv("TW_PROFILE", "")
		t.Setenv("TS_API_URL", srv.URL)
		if code := h.exitCode("auth", "check"); code != cmdutil.ExitAuth {
			t.Errorf("top-level credentials: exit %d, want 3", code)
		}
	})
	t.Run("--api-url beats the environment", func(t *testing.T) {
		srv := smallFake(t)
		h := newHarness(t, nil) // TS_API_URL points nowhere
		h.must("auth", "check", "--api-url", srv.URL)
	})
	t.Run("no answer says where to look", func(t *testing.T) {
		// TS_API_URL points nowhere; a dismissal is a POST, never retried.
		h := newHarness(t, nil)
		err := h.run("alerts", "dismiss", "a-1", "--reason", "maintenance")
		if err == nil || !strings.Contains(err.Error(), "the API did not answer: check --api-url") {
			t.Errorf("unreachable API: %v", err)
		}
	})

	srv := smallFake(t)
	h := newHarness(t, srv)
	tests := []struct {
		name string
		prep func()
		args []string
		want int
	}{
		{"wrong key", func() { t.Setenv("TS_API_KEY", "not-the-key-at-all") }, []string{"auth", "check"}, cmdutil.ExitAuth},
		{"wrong organization", func() { t.Setenv("TS_ORGANIZATION_ID", "another-org") }, []string{"agents", "list"}, cmdutil.ExitAuth},
		{"unknown agent", nil, []string{"agents", "get", "nope"}, cmdutil.ExitNotFound},
		{"server error", func() {
			// x-rate-limit-reset keeps each retry's wait at the minimum.
			srv.Inject(threatstacktest.Fault{Method: "GET", Path: "/v2/rulesets", Status: 503, Body: `{"errors":["down"]}`, Times: 100,
				Header: http.Header{"X-Rate-Limit-Reset": {"1"}}})
		}, []string{"rulesets", "list"}, cmdutil.ExitRemote},
		{"bad API URL", func() { t.Setenv("TS_API_URL", "not a url") }, []string{"agents", "list"}, cmdutil.ExitUsage},
		{"list answered with HTML", func() {
			// Another fake: the server error above leaves 503s queued.
			login := smallFake(t)
			login.Inject(threatstacktest.Fault{Method: "GET", Path: "/v2/rulesets", Status: 200, Body: "<html>Sign in</html>",
				Header: http.Header{"Content-Type": {"text/html"}}})
			t.Setenv("TS_API_URL", login.URL)
		}, []string{"rulesets", "list"}, cmdutil.ExitRemote},
		{"record without an id", func() {
			srv.Inject(threatstacktest.Fault{Method: "GET", Path: "/v2/alerts/a-1", Status: 200, Body: `{"title":"no id"}`})
		}, []string{"alerts", "get", "a-1"}, cmdutil.ExitRemote},
		{"API URL of an unusable scheme", func() { t.Setenv("TS_API_URL", "ftp://127.0.0.1:1") }, []string{"agents", "list"}, cmdutil.ExitFailure},
		{"tampered response", nil, []string{"agents", "list", "--api-url", threatstacktest.New(t, threatstacktest.WithServerAuth(threatstacktest.SignThenTamper)).URL}, cmdutil.ExitAuth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("TS_API_KEY", threatstacktest.APIKey)
			t.Setenv("TS_ORGANIZATION_ID", threatstacktest.OrganizationID)
			t.Setenv("TS_API_URL", srv.URL)
			if tt.prep != nil {
				tt.prep()
			}
			if code := h.exitCode(tt.args...); code != tt.want {
				t.Errorf("exit %d, want %d", code, tt.want)
			}
		})
	}
}

// A user or password in the API URL would only be printed (HAWK sets the
// Authorization header): it is a usage error that names where the
// credentials belong, sends nothing and repeats no password.
func TestAPIURLWithCredentials(t *testing.T) {
	srv := smallFake(t)
	h := newHarness(t, srv)
	h.debug = true
	t.Setenv("TS_API_URL", strings.Replace(srv.URL, "://", "://user:pa55word@", 1))
	err := h.run("auth", "check")
	if code := cmdutil.ExitCode(err); code != cmdutil.ExitUsage {
		t.Fatalf("exit %d, want %d: %v", code, cmdutil.ExitUsage, err)
	}
	msg := err.Error()
	for _, want := range []string{"must not carry a user or password", "TS_API_KEY", `use "` + srv.URL + `"`, "TS_API_URL"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if all := msg + h.stdout.String() + h.stderr.String(); strings.Contains(all, "pa55word") {
		t.Errorf("the password is printed:\n%s", all)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

// A 2xx whose body is not the API's exits 5 like any failure of the remote
// end, prints no data, and says which setting to check.
func TestUnreadableAnswerExits5(t *testing.T) {
	srv := smallFake(t)
	h := newHarness(t, srv)
	for _, body := range []string{`{}`, `{"message":"ok"}`, `<html></html>`} {
		for _, format := range []string{"table", "json"} {
			srv.Inject(threatstacktest.Fault{Method: "GET", Path: "/v2/alerts/severity-counts", Status: 200, Body: body})
			err := h.run("alerts", "severity-counts", "-o", format)
			if code := cmdutil.ExitCode(err); code != cmdutil.ExitRemote {
				t.Errorf("%s, -o %s: exit %d, want %d: %v", body, format, code, cmdutil.ExitRemote, err)
			}
			if h.stdout.Len() != 0 {
				t.Errorf("%s, -o %s: printed %q", body, format, h.stdout)
			}
			if err != nil && !strings.Contains(err.Error(), "check that --api-url, TS_API_URL or threatstack.api_url points at the Threat Stack API") {
				t.Errorf("%s: no hint: %v", body, err)
			}
		}
	}
	// api --paginate prints the page, then fails on a token it cannot use.
	srv.Inject(threatstacktest.Fault{Method: "GET", Path: "/v2/rulesets", Status: 200, Body: `{"rulesets":[],"token":true}`})
	if code := h.exitCode("api", "/v2/rulesets", "--paginate"); code != cmdutil.ExitRemote || !strings.Contains(h.stdout.String(), `"rulesets"`) {
		t.Errorf("api --paginate: exit %d, stdout %q", code, h.stdout)
	}
}

// `api` escapes what cannot be sent as typed in a query, and signs what it
// sends: the fake refuses a MAC over anything else.
func TestAPIQueryIsEscaped(t *testing.T) {
	srv := smallFake(t)
	h := newHarness(t, srv)
	h.must("api", "/v2/alerts?status=active&ruleId=no such rule&agentId=m\u00fcnchen")
	r := srv.Requests()[len(srv.Requests())-1]
	if r.RawQuery != "status=active&ruleId=no%20such%20rule&agentId=m%C3%BCnchen" || r.Query.Get("ruleId") != "no such rule" || r.Status != 200 {
		t.Errorf("sent %q (status %d)", r.RawQuery, r.Status)
	}
}

func TestVerifyResponseFlag(t *testing.T) {
	h := newHarness(t, threatstacktest.New(t, threatstacktest.WithServerAuth(threatstacktest.SignThenTamper)))
	if code := h.exitCode("agents", "list"); code != cmdutil.ExitAuth {
		t.Errorf("tampered response: exit %d", code)
	}
	h.must("agents", "list", "--verify-response=false")
}

// The API key must never reach stdout or stderr: not in output, not in
// errors, not in --debug logs, even when the server echoes it back.
func TestKeyNeverPrinted(t *testing.T) {
	key := threatstacktest.APIKey
	srv := smallFake(t, threatstacktest.WithServerAuth(threatstacktest.SignResponses))
	// A server echoing the key back in an error.
	srv.Inject(threatstacktest.Fault{Method: "GET", Path: "/v2/rulesets", Status: 400, Times: 100,
		Body: fmt.Sprintf(`{"errors":["invalid key %s"]}`, key), Header: http.Header{"X-Echo": {key}}})
	// A rate limit, so retry logging runs too.
	srv.Inject(threatstacktest.Fault{Method: "GET", Path: "/v2/alerts/severity-counts", Status: 429,
		Header: http.Header{"X-Rate-Limit-Reset": {"1"}}})
	h := newHarness(t, srv)
	h.debug = true
	commands := [][]string{
		{"auth", "check"},
		{"auth", "check", "-o", "json"},
		{"agents", "list", "--all", "-o", "json"},
		{"agents", "get", threatstacktest.AgentID(0), "-o", "yaml"},
		{"alerts", "list", "--all"},
		{"alerts", "events", threatstacktest.AlertID(1)},
		{"alerts", "severity-counts"},
		{"alerts", "dismiss", threatstacktest.AlertID(3)},
		{"rulesets", "list"},
		{"vulnerabilities", "list"},
		{"cves", "get", threatstacktest.CVE(1)},
		{"api", "/v2/rulesets", "--paginate"},
		{"api", "/v2/agents/" + key},
		{"agents", "get", key},
	}
	var logged strings.Builder
	for _, args := range commands {
		for _, tty := range []bool{false, true} {
			h.ios.SetStdoutTTY(tty)
			h.ios.SetStderrTTY(tty)
			err := h.run(args...)
			all := h.stdout.String() + h.stderr.String()
			if err != nil {
				all += err.Error()
			}
			logged.WriteString(h.stderr.String())
			if strings.Contains(all, key) {
				t.Errorf("%v (tty %v) printed the API key:\n%s", args, tty, all)
			}
		}
	}
	if !strings.Contains(logged.String(), "signed request") || !strings.Contains(logged.String(), "[REDACTED]") {
		t.Errorf("--debug logged nothing, or nothing needed redacting; the test proves little:\n%.500s", logged.String())
	}
}
