package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tw-cli/tw-cli/pkg/canary/canarytest"
)

// TestCanaryWebhooks drives every `canary` command of the built binary
// against the fake console, which fails the test if any request breaks
// seed 002's wire contract.
func TestCanaryWebhooks(t *testing.T) {
	const token = "e2e-canary-token-5f1c"
	console := canarytest.NewServer(t, token)
	console.AddFlock("flock:7a3e", "Branch offices")
	console.AddSlack(canarytest.DefaultFlock, canarytest.SlackWebhook{Team: "acme", Channel: "#alerts", URL: "https://hooks.slack.com/services/T0/B0/X"})

	e := newEnv(t)
	e.extra = []string{
		"CANARY_API_URL=" + console.URL(),
		"CANARY_AUTH_TOKEN=" + token,
		"HOOK_AUTH=Bearer hook-secret-value",
		"HEC_TOKEN=hec-secret-value",
	}
	secrets := []string{token, "hook-secret-value", "hec-secret-value"}
	noSecrets := func(args []string, r result) {
		t.Helper()
		for _, s := range secrets {
			if strings.Contains(r.stdout+r.stderr, s) {
				t.Fatalf("tw-cli %s printed a secret:\n%s%s", strings.Join(args, " "), r.stdout, r.stderr)
			}
		}
	}
	must := func(args ...string) result {
		t.Helper()
		r := e.must(append([]string{"canary"}, args...)...)
		noSecrets(args, r)
		return r
	}
	expect := func(code int, args ...string) result {
		t.Helper()
		r := e.expectCode(code, append([]string{"canary"}, args...)...)
		noSecrets(args, r)
		return r
	}

	flocks := decodeJSON[[]map[string]string](t, must("flocks", "list", "-o", "json").stdout)
	if len(flocks) != 2 || flocks[0]["id"] != "flock:default" || flocks[1]["name"] != "Branch offices" {
		t.Fatalf("flocks: %v", flocks)
	}
	if got := must("webhooks", "status").stdout; got != "flock:default\ttrue\ttrue\n" {
		t.Fatalf("status: %q", got)
	}

	must("webhooks", "add", "generic", "https://hooks.example.com/canary", "--header-env", "Authorization=HOOK_AUTH", "--header", "X-Source: canary")
	must("webhooks", "add", "splunk", "--host", "splunk.example.com", "--port", "8088", "--token-env", "HEC_TOKEN")
	expect(2, "webhooks", "add", "ms-teams", "https://hooks.example.com/not-teams")
	forced := must("webhooks", "add", "ms-teams", "https://hooks.example.com/not-teams", "--force")
	if !strings.Contains(forced.stderr, "does not look like a Microsoft Teams") {
		t.Fatalf("--force gave no warning: %s", forced.stderr)
	}

	// URLs are credentials: masked unless --reveal.
	want := "generic\thttps://hooks.example.com/…\theaders: X-Source, Authorization\n" +
		"ms-teams\thttps://hooks.example.com/…eams\t\n" +
		"slack\thttps://hooks.slack.com/…B0/X\tteam: acme, channel: #alerts\n" +
		"splunk\tsplunk.example.com:8088\ttoken: ********\n"
	if got := must("webhooks", "list").stdout; got != want {
		t.Fatalf("list:\n%s\nwant:\n%s", got, want)
	}
	if got := must("webhooks", "list", "--kind", "slack", "--reveal").stdout; !strings.Contains(got, "https://hooks.slack.com/services/T0/B0/X") {
		t.Fatalf("list --reveal:\n%s", got)
	}
	listed := decodeJSON[[]map[string]any](t, must("webhooks", "list", "--kind", "generic", "-o", "json").stdout)
	if len(listed) != 1 || listed[0]["kind"] != "generic" {
		t.Fatalf("list --kind generic: %v", listed)
	}
	// The console got the header value even though nothing prints it
	// (--header values come first, then --header-env).
	if s, _ := console.Flock(canarytest.DefaultFlock); len(s.Generic) != 1 || len(s.Generic[0].Headers) != 2 ||
		s.Generic[0].Headers[1] != (canarytest.Header{Name: "Authorization", Value: "Bearer hook-secret-value"}) {
		t.Fatalf("console state: %+v", s.Generic)
	}

	// The URL the console echoes is masked, as in list: it may be the
	// credential.
	tested := decodeJSON[map[string]any](t, must("webhooks", "test", "generic", "https://hooks.example.com/canary", "-o", "json").stdout)
	if tested["result"] != "success" || tested["webhook"] != "https://hooks.example.com/…" {
		t.Fatalf("test -o json: %v", tested)
	}
	revealed := decodeJSON[map[string]any](t, must("webhooks", "test", "generic", "https://hooks.example.com/canary", "-o", "json", "--reveal").stdout)
	if revealed["webhook"] != "https://hooks.example.com/canary" {
		t.Fatalf("test -o json --reveal: %v", revealed)
	}
	must("webhooks", "test", "slack", "https://hooks.slack.com/services/T0/B0/X")
	must("webhooks", "test", "splunk")
	failed := expect(5, "webhooks", "test", "generic", "https://unknown.example.com", "-o", "json")
	if body := decodeJSON[map[string]any](t, failed.stdout); body["result"] != "error" || !strings.Contains(failed.stderr, "Webhook not found") {
		t.Fatalf("failed test: %s / %s", failed.stdout, failed.stderr)
	}

	must("webhooks", "disable")
	must("webhooks", "use-global", "--flock", "flock:7a3e")
	status := decodeJSON[map[string]any](t, must("webhooks", "status", "-o", "json").stdout)
	if status["is_enabled"] != false {
		t.Fatalf("status after disable: %v", status)
	}
	must("webhooks", "enable")

	// Piped, every kind refuses to remove without --yes and leaves the
	// console as it was.
	before, _ := console.Flock(canarytest.DefaultFlock)
	for _, args := range [][]string{
		{"webhooks", "remove", "splunk"},
		{"webhooks", "remove", "generic", "https://hooks.example.com/canary"},
		{"webhooks", "remove", "ms-teams", "https://hooks.example.com/not-teams"},
		{"webhooks", "remove", "slack", "--team", "acme", "--channel", "#alerts"},
	} {
		if r := expect(2, args...); !strings.Contains(r.stderr, "--yes is required") {
			t.Fatalf("%v: %s", args, r.stderr)
		}
	}
	if after, _ := console.Flock(canarytest.DefaultFlock); after.Splunk == nil || len(after.Generic) != len(before.Generic) ||
		len(after.MSTeams) != len(before.MSTeams) || len(after.Slack) != len(before.Slack) {
		t.Fatalf("a refused remove changed the console: %+v", after)
	}
	must("webhooks", "remove", "splunk", "--yes")
	expect(4, "webhooks", "remove", "splunk", "--yes")
	// splunk's own --token (the HEC token, seed 002) is not the root's
	// remote-receiver --token, which stays refused outside 'webhook'.
	must("webhooks", "add", "splunk", "--host", "splunk.example.com", "--port", "8088", "--token", "hec-secret-value")
	if s, _ := console.Flock(canarytest.DefaultFlock); s.Splunk == nil || s.Splunk.Token != "hec-secret-value" {
		t.Fatalf("console splunk after add --token: %+v", s.Splunk)
	}
	must("webhooks", "remove", "splunk", "--yes")
	expect(2, "webhooks", "status", "--token", "admin-token")
	must("webhooks", "remove", "slack", "--team", "acme", "--channel", "#alerts", "--yes")
	must("webhooks", "remove", "generic", "https://hooks.example.com/canary", "--yes")
	must("webhooks", "remove", "ms-teams", "https://hooks.example.com/not-teams", "-y")
	if got := must("webhooks", "list").stdout; got != "" {
		t.Fatalf("list after removing everything: %q", got)
	}

	slack := expect(1, "webhooks", "add", "slack")
	if !strings.Contains(slack.stderr, "cannot be added through the Canary API") {
		t.Fatalf("add slack: %s", slack.stderr)
	}
	expect(2, "webhooks", "bogus")

	debug := e.must("--debug", "canary", "webhooks", "status")
	noSecrets([]string{"--debug"}, debug)
	if !strings.Contains(debug.stderr, "auth_token=REDACTED") {
		t.Fatalf("--debug shows no redacted request:\n%s", debug.stderr)
	}

	comp := e.must("__complete", "canary", "webhooks", "list", "--flock", "flock:")
	if !strings.Contains(comp.stdout, "flock:7a3e\tBranch offices\n") {
		t.Fatalf("--flock completion: %q", comp.stdout)
	}

	e.extra[1] = "CANARY_AUTH_TOKEN=wrong-token"
	denied := e.expectCode(3, "canary", "webhooks", "list")
	if !strings.Contains(denied.stderr, "Invalid auth_token") || strings.Contains(denied.stderr, "wrong-token") {
		t.Fatalf("auth failure: %s", denied.stderr)
	}
}

// TestCanaryToolsConfig reuses the Python client's ~/.canarytools.config.
func TestCanaryToolsConfig(t *testing.T) {
	const token = "legacy-file-token"
	console := canarytest.NewServer(t, token)
	home := t.TempDir()
	ini := "[CanaryTools]\napi_key = " + token + "\ndomain = ignored-because-api-url-is-set\n"
	if err := os.WriteFile(filepath.Join(home, ".canarytools.config"), []byte(ini), 0o600); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	e.extra = []string{"HOME=" + home, "CANARY_API_URL=" + console.URL()}
	if got := e.must("canary", "webhooks", "status").stdout; got != "flock:default\ttrue\ttrue\n" {
		t.Fatalf("status: %q", got)
	}
}
