package e2e

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestSourceLifecycle(t *testing.T) {
	e := newEnv(t)
	e.extra = []string{"GW_SECRET=from-env-secret"}
	e.must("webhook", "add", "email-gateway", "--secret-env", "GW_SECRET", "--auto-triage", "--playbook", "phishing_triage")
	gen := e.must("webhook", "add", "edr", "--severity-map", "4=high,5=critical")
	secret := strings.TrimSpace(gen.stdout)
	if len(secret) != 64 || !strings.Contains(gen.stderr, "shown once") {
		t.Fatalf("generated secret: %q / %s", gen.stdout, gen.stderr)
	}

	list := e.must("webhook", "list")
	lines := strings.Split(strings.TrimSpace(list.stdout), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "edr\tauto\thmac\toff\t-\t********\tcli\t") ||
		!strings.HasPrefix(lines[1], "email-gateway\tauto\thmac\ton\tphishing_triage\t********\tcli\t") {
		t.Fatalf("piped list is not the documented TSV:\n%s", list.stdout)
	}
	for _, args := range [][]string{{"webhook", "list", "-o", "json"}, {"webhook", "list", "-o", "yaml"}, {"webhook", "show", "edr"}, {"webhook", "show", "email-gateway", "-o", "json"}} {
		out := e.must(args...).stdout
		if strings.Contains(out, secret) || strings.Contains(out, "from-env-secret") {
			t.Fatalf("%v printed a secret:\n%s", args, out)
		}
	}
	show := decodeJSON[map[string]any](t, e.must("webhook", "show", "edr", "-o", "json").stdout)
	if m, _ := show["severity_mapping"].(map[string]any); m["5"] != "critical" {
		t.Fatalf("severity mapping: %v", show)
	}

	e.must("webhook", "update", "email-gateway", "--auto-triage", "false")
	upd := decodeJSON[map[string]any](t, e.must("webhook", "show", "email-gateway", "-o", "json").stdout)
	if upd["auto_triage"] != false || upd["playbook"] != "phishing_triage" {
		t.Fatalf("update changed the wrong fields: %v", upd)
	}

	rot := e.must("webhook", "rotate-secret", "edr", "--grace", "1h")
	if newSecret := strings.TrimSpace(rot.stdout); len(newSecret) != 64 || newSecret == secret {
		t.Fatalf("rotate: %q", rot.stdout)
	}
	if !strings.Contains(e.must("webhook", "show", "edr").stdout, "previous_secret_expires") {
		t.Fatal("show does not mention the rotation grace period")
	}

	r := e.run(`{"event_type":"test","data":{}}`, "webhook", "sign", "email-gateway", "--body", "-", "--timestamp", "1705320000")
	want := opensslSign(t, "from-env-secret", "1705320000", `{"event_type":"test","data":{}}`)
	if r.code != 0 || !strings.Contains(r.stdout, "X-Webhook-Signature: "+want+"\n") || !strings.Contains(r.stdout, "X-Webhook-Timestamp: 1705320000\n") {
		t.Fatalf("sign: %d %q, want %s", r.code, r.stdout, want)
	}

	// Exit codes.
	e.expectCode(4, "webhook", "show", "nope")
	e.expectCode(4, "webhook", "remove", "nope", "--yes")
	e.expectCode(2, "webhok", "list")                                        // a typo of a top-level command
	e.expectCode(2, "destination", "list", "--server", "http://127.0.0.1:1") // --server is for webhook commands only
	e.expectCode(2, "logs", "--filter", "webhooks")
	// A misspelt playbook is registered (it may be added later) with a warning.
	if r := e.must("webhook", "add", "typo", "--secret", "x-secret", "--auto-triage", "--playbook", "phishing_triag"); !strings.Contains(r.stderr, `WARNING: no playbook "phishing_triag"`) {
		t.Fatalf("no warning for an unknown playbook: %s", r.stderr)
	}
	e.must("webhook", "remove", "typo", "--yes")
	e.expectCode(2, "webhook", "add", "bad name!", "--secret", "x")
	e.expectCode(2, "webhook", "add", "x", "--secret", "a", "--secret-env", "GW_SECRET")
	e.expectCode(2, "webhook", "add", "x", "--secret-env", "UNSET_VAR_XYZ")
	e.expectCode(2, "webhook", "add", "x", "--format", "bogus")
	e.expectCode(2, "webhook", "add", "x", "--severity-map", "P1=urgent")
	e.expectCode(2, "webhook", "list", "-o", "xml")
	e.expectCode(2, "webhook", "update", "edr")
	e.expectCode(2, "webhook", "remove", "edr") // not a TTY and no --yes
	e.expectCode(2, "webhook", "bogus-verb")
	dup := e.expectCode(1, "webhook", "add", "edr", "--secret", "x")
	if !strings.Contains(dup.stderr, "already registered") {
		t.Fatalf("duplicate add: %s", dup.stderr)
	}

	e.must("webhook", "remove", "edr", "--yes")
	if strings.Contains(e.must("webhook", "list").stdout, "edr\t") {
		t.Fatal("removed source still listed")
	}

	st, err := os.Stat(filepath.Join(e.dataDir, "tw-cli.db"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("database file: %v %v", st, err)
	}
}

func TestExitCodeForUnknownCommandAndFlag(t *testing.T) {
	e := newEnv(t)
	r := e.expectCode(2, "webhook", "list", "--no-such-flag")
	if !strings.Contains(r.stderr, "unknown flag") || !strings.Contains(r.stderr, "--help") {
		t.Fatalf("stderr: %s", r.stderr)
	}
}

func TestHelpIsLazyAndHasExamples(t *testing.T) {
	e := newEnv(t)
	e.dataDir = filepath.Join(t.TempDir(), "never-created")
	root := e.must("--help")
	for _, group := range []string{"Webhook receiver:", "Setup:", "Exit codes:"} {
		if !strings.Contains(root.stdout, group) {
			t.Errorf("root help lacks %q", group)
		}
	}
	for _, cmd := range [][]string{
		{"webhook", "add"}, {"webhook", "list"}, {"webhook", "test"}, {"webhook", "sign"}, {"webhook", "remove"},
		{"webhook", "rotate-secret"}, {"webhook", "update"}, {"webhook", "show"}, {"serve"}, {"logs"},
		{"incidents", "list"}, {"events", "list"}, {"token", "create"}, {"config"}, {"completion"},
	} {
		h := e.must(append(cmd, "--help")...)
		if !strings.Contains(h.stdout, "Examples:") && !strings.Contains(h.stdout, "$ tw-cli") {
			t.Errorf("%v --help has no example", cmd)
		}
	}
	// Completion reads a database only if there is one: Tab must not
	// create (or migrate) it, and neither must --help.
	for _, args := range [][]string{{"webhook", "show", ""}, {"incidents", "show", ""}, {"destination", "test", ""}, {"events", "replay", ""}} {
		e.must(append([]string{"__complete"}, args...)...)
		if _, err := os.Stat(filepath.Join(e.dataDir, "tw-cli.db")); err == nil {
			t.Fatalf("completing %v created the database", args)
		}
	}
	e.must("webhook", "--help")
	if _, err := os.Stat(e.dataDir); err == nil {
		t.Fatal("--help created the data dir: it must not open the store")
	}
	// A TW_PROFILE naming a missing profile is refused by commands, not by
	// Tab, which must still offer the profiles that would mend it.
	e.must("config", "set", "threatstack.user_id", "u1", "--profile", "prod")
	e.extra = append(e.extra, "TW_PROFILE=nope")
	e.expectCode(2, "webhook", "list")
	if out := e.must("__complete", "--profile", "").stdout; !strings.Contains(out, "prod") {
		t.Fatalf("profile completion under TW_PROFILE=nope:\n%s", out)
	}
}

// TestCompletionOfFlagValues: --playbook offers the data dir's own
// playbooks (it offered the three built-in names only), and completing
// from a receiver that does not answer gives up in seconds (it froze the
// shell for the client's 30-second timeout).
func TestCompletionOfFlagValues(t *testing.T) {
	e := newEnv(t)
	if err := os.MkdirAll(filepath.Join(e.dataDir, "playbooks"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.dataDir, "playbooks", "vip_phishing.yaml"), []byte("steps:\n  - add_tags: [vip]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"webhook", "add", "x", "--playbook", ""}, {"webhook", "update", "x", "--playbook", ""}} {
		if out := e.must(append([]string{"__complete"}, args...)...).stdout; !strings.Contains(out, "vip_phishing") || !strings.Contains(out, "phishing_triage") {
			t.Errorf("%v:\n%s", args, out)
		}
	}

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
			defer c.Close() // accepted, never answered
		}
	}()
	start := time.Now()
	e.must("__complete", "--server", "http://"+ln.Addr().String(), "--token", "tw_x", "incidents", "show", "")
	if took := time.Since(start); took > 20*time.Second {
		t.Fatalf("completing from a silent receiver took %s", took)
	}
}

// TestRemoteUnreadableAnswers: an answer that is not the receiver's (a
// proxy's page, a listing without its list, rate limiting) is the remote
// end failing, exit 5 as the README says; it was exit 1, or an empty list
// and exit 0.
func TestRemoteUnreadableAnswers(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		status int
		body   string
	}{{200, "<html>sign in</html>"}, {200, "{}"}, {200, `{"events":null}`}, {429, `{"error":{"code":"rate_limited","message":"slow down"}}`}} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(c.status)
			_, _ = w.Write([]byte(c.body))
		}))
		for _, args := range [][]string{{"incidents", "list"}, {"events", "list"}, {"webhook", "list"}} {
			e.expectCode(5, append(args, "--server", srv.URL, "--token", "tw_x")...)
		}
		srv.Close()
	}
}

func TestRemoteAdminAPI(t *testing.T) {
	server := newEnv(t)
	tok := strings.TrimSpace(server.must("token", "create", "--name", "ci").stdout)
	if !strings.HasPrefix(tok, "tw_") {
		t.Fatalf("token: %q", tok)
	}
	tl := server.must("token", "list")
	if strings.Contains(tl.stdout, tok) || !strings.Contains(tl.stdout, "ci") {
		t.Fatalf("token list: %s", tl.stdout)
	}
	// No triage workers: the source triages automatically, and a job
	// running between the client's read and the server's would make
	// them differ.
	srv := server.serve("--triage-workers", "0")

	client := newEnv(t)
	client.extra = []string{"TW_SERVER=" + srv.url, "TW_TOKEN=" + tok}
	client.must("webhook", "add", "email-gateway", "--secret", "your-secret-key", "--auto-triage", "true", "--playbook", "phishing_triage")
	list := client.must("webhook", "list", "-o", "json")
	views := decodeJSON[[]map[string]any](t, list.stdout)
	if len(views) != 1 || views[0]["origin"] != "api" || views[0]["secret"] != "********" {
		t.Fatalf("remote list: %s", list.stdout)
	}
	// The source lives on the server, not in the client's own store.
	if out := server.must("webhook", "list").stdout; !strings.Contains(out, "email-gateway") {
		t.Fatalf("server store lacks the source: %s", out)
	}
	client.expectCode(4, "webhook", "show", "missing")
	// Testing against the remote needs the secret: the server never gives it.
	client.expectCode(2, "webhook", "test", "email-gateway")
	client.extra = append(client.extra, "GW=your-secret-key")
	client.must("webhook", "test", "email-gateway", "--secret-env", "GW")

	// Incidents and events are read from the receiver too, exactly as
	// the server's own CLI shows them; the client's store stays empty.
	for _, args := range [][]string{
		{"incidents", "list", "-o", "json"},
		{"events", "list", "-o", "json"},
	} {
		remote, local := client.must(args...).stdout, server.must(args...).stdout
		if remote != local || !strings.Contains(remote, "email-gateway") {
			t.Fatalf("%v from the client:\n%s\nfrom the server:\n%s", args, remote, local)
		}
	}
	incs := decodeJSON[[]map[string]any](t, client.must("incidents", "list", "-o", "json").stdout)
	num := fmt.Sprint(incs[0]["number"])
	if remote, local := client.must("incidents", "show", num, "-o", "json").stdout, server.must("incidents", "show", num, "-o", "json").stdout; remote != local {
		t.Fatalf("incidents show from the client:\n%s\nfrom the server:\n%s", remote, local)
	}
	evs := decodeJSON[[]map[string]any](t, client.must("events", "list", "-o", "json").stdout)
	id := fmt.Sprint(evs[0]["id"])
	if remote, local := client.must("events", "show", id, "-o", "json").stdout, server.must("events", "show", id, "-o", "json").stdout; remote != local {
		t.Fatalf("events show from the client:\n%s\nfrom the server:\n%s", remote, local)
	}
	client.expectCode(4, "incidents", "show", "INC-1999-0001")
	client.expectCode(4, "events", "show", "no-such-event")
	// Ids the server's router would clean into another path.
	client.expectCode(4, "incidents", "show", ".")
	client.expectCode(4, "events", "show", "..")
	// The API's page is 1000: more is refused, not silently cut.
	client.expectCode(2, "incidents", "list", "--limit", "1001")
	// A body with its own layout is shown byte for byte, as on the server.
	spaced := filepath.Join(t.TempDir(), "spaced.json")
	if err := os.WriteFile(spaced, []byte("{\n  \"event_type\": \"spaced\",\n  \"data\": {\"n\":  1}\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	client.must("webhook", "test", "email-gateway", "--secret-env", "GW", "--payload", spaced)
	evs = decodeJSON[[]map[string]any](t, client.must("events", "list", "-o", "json").stdout)
	id = fmt.Sprint(evs[0]["id"])
	if remote, local := client.must("events", "show", id).stdout, server.must("events", "show", id).stdout; remote != local || !strings.Contains(remote, "\"data\": {\"n\":  1}") {
		t.Fatalf("events show of a spaced body from the client:\n%s\nfrom the server:\n%s", remote, local)
	}
	// Completing an incident number asks the receiver too, as does
	// playbook run's --incident.
	if out := client.must("__complete", "incidents", "show", "").stdout; !strings.Contains(out, num) {
		t.Fatalf("completion from the client: %q", out)
	}
	// In the case typed: bash and zsh drop candidates that do not begin
	// with the word as it is.
	if lower := strings.ToLower(num); !strings.Contains(client.must("__complete", "incidents", "show", lower[:6]).stdout, lower) {
		t.Fatalf("completing %q offered no %q", lower[:6], lower)
	}
	if out := client.must("__complete", "playbook", "run", "default", "--incident", "").stdout; !strings.Contains(out, num) {
		t.Fatalf("--incident completion from the client: %q", out)
	}
	// So do source names: the client's own database has none.
	for _, args := range [][]string{{"webhook", "show", ""}, {"incidents", "list", "--source", ""}} {
		if out := client.must(append([]string{"__complete"}, args...)...).stdout; !strings.Contains(out, "email-gateway") {
			t.Fatalf("completing %v from the client: %q", args, out)
		}
	}
	// Analysts' edits go to the receiver too, by the same rules, signed
	// with the client's user and the token's name.
	if r := client.must("incidents", "ack", num); !strings.Contains(r.stderr, "✓ "+num+" is now acknowledged") {
		t.Fatalf("remote ack: %s", r.stderr)
	}
	if r := client.must("incidents", "ack", num); !strings.Contains(r.stderr, num+" is already acknowledged") {
		t.Fatalf("remote ack again: %s", r.stderr)
	}
	client.must("incidents", "assign", num, "alice")
	client.must("incidents", "comment", num, "blocked at the gateway")
	edited := server.must("incidents", "show", num, "-o", "json").stdout
	if remote := client.must("incidents", "show", num, "-o", "json").stdout; remote != edited {
		t.Fatalf("after remote edits, from the client:\n%s\nfrom the server:\n%s", remote, edited)
	}
	d := decodeJSON[map[string]any](t, edited)
	timeline := d["timeline"].([]any)
	last := timeline[len(timeline)-1].(map[string]any)
	if d["status"] != "acknowledged" || d["owner"] != "alice" || last["message"] != "blocked at the gateway" ||
		!strings.HasSuffix(fmt.Sprint(last["actor"]), " (token ci)") {
		t.Fatalf("the server's incident after remote edits: %s", edited)
	}
	client.must("incidents", "resolve", num)
	if r := client.expectCode(1, "incidents", "ack", num); !strings.Contains(r.stderr, "acknowledging it would reopen it") {
		t.Fatalf("remote ack of a resolved incident: %s", r.stderr)
	}
	// Reopened through the receiver, it is open on the receiver's store.
	if r := client.must("incidents", "reopen", num); !strings.Contains(r.stderr, "is now open") {
		t.Fatalf("remote reopen: %s", r.stderr)
	}
	if out := server.must("incidents", "show", num, "--jq", ".status").stdout; out != "open\n" {
		t.Fatalf("the server's incident after a remote reopen: %q", out)
	}
	client.expectCode(4, "incidents", "ack", "INC-1999-0001")
	client.expectCode(4, "incidents", "comment", ".", "x")
	// A --server URL with a wrong path is not "no such incident".
	wrong := newEnv(t)
	wrong.extra = []string{"TW_SERVER=" + srv.url + "/api", "TW_TOKEN=" + tok}
	if r := wrong.expectCode(1, "incidents", "show", num); !strings.Contains(r.stderr, "check --server") {
		t.Fatalf("a wrong --server path: %s", r.stderr)
	}
	if r := wrong.expectCode(1, "incidents", "ack", num); !strings.Contains(r.stderr, "has no incident edit endpoint") {
		t.Fatalf("an edit through a wrong --server path: %s", r.stderr)
	}
	if _, err := os.Stat(client.dataDir + "/tw-cli.db"); err == nil {
		t.Fatal("reading remote incidents opened the client's own store")
	}

	bad := newEnv(t)
	bad.extra = []string{"TW_SERVER=" + srv.url, "TW_TOKEN=tw_wrong"}
	r := bad.expectCode(3, "webhook", "list")
	if !strings.Contains(r.stderr, "token") {
		t.Fatalf("bad token message: %s", r.stderr)
	}
	bad.expectCode(3, "incidents", "list")
	// A token read from a CRLF file works; "." and ".." are no source,
	// as locally; --token without a receiver is refused, not applied to
	// this machine's store.
	crlf := newEnv(t)
	crlf.extra = []string{"TW_SERVER=" + srv.url, "TW_TOKEN=" + tok + "\r\n"}
	crlf.must("webhook", "list")
	for _, args := range [][]string{{"show", ".."}, {"remove", "..", "--yes"}, {"rotate-secret", "."}, {"update", "..", "--description", "x"}} {
		if r := crlf.expectCode(4, append([]string{"webhook"}, args...)...); !strings.Contains(r.stderr, "is not registered") {
			t.Fatalf("remote webhook %v: %s", args, r.stderr)
		}
	}
	local := newEnv(t)
	if r := local.expectCode(2, "webhook", "list", "--token", tok); !strings.Contains(r.stderr, "--token is for a remote receiver: add --server URL") {
		t.Fatalf("--token without --server: %s", r.stderr)
	}
	server.must("token", "revoke", "ci", "--yes")
	client.expectCode(3, "webhook", "list")
}

// TestTokenConfirmAndExitCodes: 'token revoke' confirms like 'webhook
// remove', and an existing name is a plain error (exit 1) like 'webhook
// add' of an existing source.
func TestTokenConfirmAndExitCodes(t *testing.T) {
	e := newEnv(t)
	if out := e.must("token", "list", "-o", "json").stdout; out != "[]\n" {
		t.Fatalf("empty list -o json: %q", out)
	}
	e.must("token", "create", "--name", "ci")
	dup := e.expectCode(1, "token", "create", "--name", "ci")
	if !strings.Contains(dup.stderr, `a token named "ci" already exists: pick another --name, or revoke it first with 'tw-cli token revoke ci --yes'`) ||
		strings.Contains(dup.stderr, "--help") || dup.stdout != "" {
		t.Fatalf("duplicate create: %q / %q", dup.stdout, dup.stderr)
	}
	r := e.expectCode(2, "token", "revoke", "ci") // not a TTY and no --yes
	if !strings.Contains(r.stderr, `--yes is required to revoke token "ci" when not running interactively`) {
		t.Fatalf("revoke without --yes: %s", r.stderr)
	}
	if !strings.Contains(e.must("token", "list").stdout, "\tci\t") {
		t.Fatal("a refused revoke revoked the token")
	}
	e.must("token", "revoke", "ci", "--yes")
	if out := e.must("token", "list", "-o", "json").stdout; out != "[]\n" {
		t.Fatalf("list after revoke: %q", out)
	}
	e.expectCode(4, "token", "revoke", "ci", "--yes")
}

// TestDestinationConfirmAndExitCodes: 'destination remove' and 'discard
// --all' confirm like 'webhook remove'; an existing name exits 1; an
// unknown one says where to look.
func TestDestinationConfirmAndExitCodes(t *testing.T) {
	e := newEnv(t)
	const url = "https://hooks.slack.com/services/T0/B0/XXXX"
	e.must("destination", "add", "slack", "chat", "--url", url)
	dup := e.expectCode(1, "destination", "add", "slack", "chat", "--url", url)
	if !strings.Contains(dup.stderr, `destination "chat" already exists: pick another name, or remove it first with 'tw-cli destination remove chat --yes'`) ||
		strings.Contains(dup.stderr, "--help") {
		t.Fatalf("duplicate add: %s", dup.stderr)
	}
	unknown := e.expectCode(4, "destination", "test", "nope")
	if unknown.stderr != "error: unknown destination \"nope\": run 'tw-cli destination list'\n" {
		t.Fatalf("test of an unknown destination: %q", unknown.stderr)
	}

	r := e.expectCode(2, "destination", "remove", "chat") // not a TTY and no --yes
	if !strings.Contains(r.stderr, `--yes is required to remove "chat" when not running interactively`) {
		t.Fatalf("remove without --yes: %s", r.stderr)
	}
	if !strings.HasPrefix(e.must("destination", "list").stdout, "chat\tslack\t") {
		t.Fatal("a refused remove deleted the destination")
	}
	e.must("destination", "remove", "chat", "--yes")
	if out := e.must("destination", "list", "-o", "json").stdout; strings.TrimSpace(out) != "[]" {
		t.Fatalf("list after remove: %q", out)
	}
	e.expectCode(4, "destination", "remove", "chat", "--yes")

	r = e.expectCode(2, "destination", "discard", "--all")
	if !strings.Contains(r.stderr, "--yes is required to discard every dead letter") {
		t.Fatalf("discard --all without --yes: %s", r.stderr)
	}
	if r := e.must("destination", "discard", "--all", "--yes"); r.stderr != "No failed notifications.\n" {
		t.Fatalf("discard --all --yes: %q", r.stderr)
	}
	// Ids the user typed need no --yes: an unknown one is just not found.
	e.expectCode(4, "destination", "discard", "dl-nope")
}

func TestWebhookTestExitCodes(t *testing.T) {
	e := newEnv(t)
	e.must("webhook", "add", "edr", "--secret", "s")
	srv := e.serve()
	e.must("webhook", "test", "edr", "--url", srv.url)
	e.expectCode(3, "webhook", "test", "edr", "--url", srv.url, "--secret", "wrong")
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`not json`), 0o600)
	r := e.expectCode(5, "webhook", "test", "edr", "--url", srv.url, "--payload", bad, "-o", "json")
	if res := decodeJSON[map[string]any](t, r.stdout); res["status"] != float64(400) {
		t.Fatalf("json result: %s", r.stdout)
	}
	e.expectCode(1, "webhook", "test", "edr", "--url", "http://"+freeAddr(t))
	e.expectCode(2, "webhook", "test", "edr", "--url", "ftp://x")
}

// TestSecondReceiverOnOneFileRefused: replay keys are checked in the
// memory of the process that receives into a SQLite file, so a second
// `serve` on the same data dir must stop at start and say what to do,
// while the first keeps receiving and other commands keep working.
func TestSecondReceiverOnOneFileRefused(t *testing.T) {
	e := newEnv(t)
	e.must("webhook", "add", "edr", "--secret", "edr-secret-0123456789")
	first := e.serve()
	r := e.expectCode(1, "serve", "--addr", freeAddr(t))
	if !strings.Contains(r.stderr, "another tw-cli serve is already receiving into this database") ||
		!strings.Contains(r.stderr, "--database-url") {
		t.Fatalf("stderr: %s", r.stderr)
	}
	if got := signedPost(t, first, "edr", "edr-secret-0123456789", `{"event_type":"test","data":{}}`, time.Now()); got.status != 202 {
		t.Fatalf("first receiver after the refused start: %d %s", got.status, got.raw)
	}
	e.must("webhook", "list")
	if err := first.stop(t, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Once the first has stopped, the next one starts.
	e.serve()
}
