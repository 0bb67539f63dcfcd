package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tw-cli/tw-cli/pkg/threatstack/threatstacktest"
)

// tsEnv is a user with Threat Stack credentials exported, pointed at a
// fake of the API that verifies every request's HAWK signature.
func tsEnv(t *testing.T, srv *threatstacktest.Server) *env {
	e := newEnv(t)
	e.extra = []string{
		"TS_USER_ID=" + threatstacktest.UserID,
		"TS_API_KEY=" + threatstacktest.APIKey,
		"TS_ORGANIZATION_ID=" + threatstacktest.OrganizationID,
		"TS_API_URL=" + srv.URL,
	}
	return e
}

func TestThreatStackPagesThroughEveryPage(t *testing.T) {
	const pageSize = 15
	srv := threatstacktest.New(t, threatstacktest.WithPageSize(pageSize))
	e := tsEnv(t, srv)
	online := 0
	for _, a := range threatstacktest.GenerateData(threatstacktest.DefaultSizes).Agents {
		if a["status"] == "online" {
			online++
		}
	}
	wantPages := (online + pageSize - 1) / pageSize
	if wantPages <= 10 {
		t.Fatalf("fixture gives %d pages; this test is about more than ten", wantPages)
	}

	r := e.must("threatstack", "agents", "list", "--all")
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != online || r.stderr != "" {
		t.Fatalf("%d TSV rows (want %d), stderr %q", len(lines), online, r.stderr)
	}
	seen := map[string]bool{}
	for _, l := range lines {
		cols := strings.Split(l, "\t")
		if len(cols) != 7 || cols[3] != "online" || seen[cols[0]] {
			t.Fatalf("bad or repeated row %q", l)
		}
		seen[cols[0]] = true
	}
	reqs := srv.Requests()
	if len(reqs) != wantPages {
		t.Fatalf("%d requests for %d pages", len(reqs), wantPages)
	}
	for i, req := range reqs {
		// Every page was signed afresh and accepted by the fake's HAWK
		// check, token included in the signed query.
		if req.Status != 200 || (i > 0) != (req.Query.Get("token") != "") || req.Query.Get("status") != "online" {
			t.Fatalf("page %d: status %d query %s", i+1, req.Status, req.RawQuery)
		}
	}

	js := decodeJSON[[]map[string]any](t, e.must("threatstack", "agents", "list", "--all", "-o", "json").stdout)
	if len(js) != online {
		t.Fatalf("-o json: %d agents, want %d in one array", len(js), online)
	}
	hosts := strings.Fields(e.must("threatstack", "agents", "list", "--all", "--jq", ".[].hostname").stdout)
	if len(hosts) != online || !strings.HasSuffix(hosts[0], ".ec2.internal") {
		t.Fatalf("--jq over the streamed array: %d hostnames, want %d", len(hosts), online)
	}
	if got := strings.TrimSpace(e.must("threatstack", "api", "/v2/agents", "-f", "status=online", "--paginate", "--jq", ".agents | length").stdout); len(strings.Fields(got)) != wantPages {
		t.Fatalf("api --paginate --jq printed %q, want one count per page", got)
	}
	if got := len(strings.Split(strings.TrimSpace(e.must("threatstack", "agents", "list", "--limit", "20").stdout), "\n")); got != 20 {
		t.Fatalf("--limit 20 printed %d rows", got)
	}
}

func TestThreatStackAuthAndSecrets(t *testing.T) {
	srv := threatstacktest.New(t, threatstacktest.WithPageSize(40))
	e := tsEnv(t, srv)
	ok := e.must("threatstack", "auth", "check")
	if !strings.Contains(ok.stdout, threatstacktest.OrganizationID) {
		t.Fatalf("auth check: %q", ok.stdout)
	}
	var outputs []result
	outputs = append(outputs, ok,
		e.must("--debug", "threatstack", "alerts", "list", "--all", "-o", "yaml"),
		e.must("--debug", "threatstack", "api", "/v2/vulnerabilities", "--paginate"),
		e.expectCode(4, "--debug", "threatstack", "agents", "get", threatstacktest.APIKey),
	)

	wrong := tsEnv(t, srv)
	wrong.extra[1] = "TS_API_KEY=" + strings.Repeat("x", 40)
	r := wrong.expectCode(3, "threatstack", "agents", "list")
	if !strings.Contains(r.stderr, "401") {
		t.Fatalf("wrong key: %s", r.stderr)
	}
	missing := newEnv(t)
	for _, cmd := range [][]string{{"threatstack"}, {"threatstack", "agents", "list"}, {"threatstack", "api"}, {"threatstack", "alerts", "dismiss"}} {
		// Help needs no credentials, and every command shows an example.
		if h := missing.must(append(cmd, "--help")...); !strings.Contains(h.stdout, "$ tw-cli threatstack") {
			t.Errorf("%v --help has no example", cmd)
		}
	}
	r = missing.expectCode(3, "threatstack", "rulesets", "list")
	for _, v := range []string{"TS_USER_ID", "TS_API_KEY", "TS_ORGANIZATION_ID", "tw-cli config"} {
		if !strings.Contains(r.stderr, v) {
			t.Fatalf("missing credentials message lacks %s: %s", v, r.stderr)
		}
	}
	e.expectCode(2, "threatstack", "agents", "list", "--limit", "5", "--all")

	for _, o := range outputs {
		if strings.Contains(o.stdout+o.stderr, threatstacktest.APIKey) {
			t.Fatalf("the API key was printed:\n%s\n%s", o.stdout, o.stderr)
		}
	}
	if !strings.Contains(outputs[1].stderr, "signed request") {
		t.Fatalf("--debug did not log: %.300s", outputs[1].stderr)
	}
}

// TestThreatStackConfigImport: the API scripts' threatstack.cfg becomes
// profiles, and a profile's credentials pass the fake's HAWK check.
func TestThreatStackConfigImport(t *testing.T) {
	srv := threatstacktest.New(t)
	e := newEnv(t)
	cfg := filepath.Join(t.TempDir(), "threatstack.cfg")
	os.WriteFile(cfg, []byte(`[USER_INFO]
TS_USER_ID = `+threatstacktest.UserID+`
TS_API_KEY = "`+threatstacktest.APIKey+`"

[DEFAULT]
TS_ORGANIZATION_ID = wrong-org
TS_ORGANIZATION_NAME = "Default"

[Production]
TS_ORGANIZATION_ID = `+threatstacktest.OrganizationID+`
`), 0o600)
	r := e.must("config", "import", cfg)
	if !strings.Contains(r.stderr, "→ profile production") {
		t.Fatalf("import: %s", r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, threatstacktest.APIKey) {
		t.Fatal("import printed the API key")
	}
	e.must("threatstack", "agents", "list", "--profile", "production", "--api-url", srv.URL, "--limit", "1")
	// The top level got DEFAULT's organization, which the fake rejects.
	e.expectCode(3, "threatstack", "agents", "list", "--api-url", srv.URL, "--limit", "1")
	e.expectCode(2, "config", "import", filepath.Join(t.TempDir(), "missing.cfg"))
	// Two sections that would become one profile are refused, and
	// nothing of the file is written.
	dup := filepath.Join(t.TempDir(), "dup.cfg")
	os.WriteFile(dup, []byte("[USER_INFO]\nTS_USER_ID = u\nTS_API_KEY = k\n\n[Staging]\nTS_ORGANIZATION_ID = org-a\n\n[staging]\nTS_ORGANIZATION_ID = org-b\n"), 0o600)
	if r := e.expectCode(2, "config", "import", dup); !strings.Contains(r.stderr, `both become profile "staging"`) {
		t.Fatalf("duplicate sections: %s", r.stderr)
	}
	if out := e.must("config", "profiles").stdout; strings.Contains(out, "staging") {
		t.Fatalf("a refused import wrote a profile:\n%s", out)
	}
}
