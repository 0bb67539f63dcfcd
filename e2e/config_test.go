package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// seedWebhookConfig is seed 003's webhook_config.yaml, verbatim.
const seedWebhookConfig = `# webhook_config.yaml
sources:
  email-gateway:
    secret: "${EMAIL_GATEWAY_SECRET}"
    auto_triage: true
    playbook: phishing_triage
    severity_mapping:
      critical: critical
      high: high
      medium: medium
      low: low
  edr:
    secret: "${EDR_SECRET}"
    auto_triage: true
    playbook: malware_triage
`

func writeConfigFile(t *testing.T, path, content string) {
	t.Helper()
	// Written aside and renamed, as editors and config managers do, so a
	// reader never sees half a file.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// origins maps each source of `webhook list -o json` to its origin.
func origins(t *testing.T, e *env) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, s := range decodeJSON[[]map[string]any](t, e.must("webhook", "list", "-o", "json").stdout) {
		out[fmt.Sprint(s["source"])] = fmt.Sprint(s["origin"])
	}
	return out
}

// waitForLog polls `tw-cli logs` (the JSON log file, read by another
// process) until msg has been logged n times.
func waitForLog(t *testing.T, e *env, msg string, n int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Count(e.must("logs", "--filter", "server", "--tail", "0", "-o", "json").stdout, `"msg":"`+msg+`"`) >= n {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%q was not logged %d times:\n%s", msg, n, e.must("logs", "--tail", "0").stdout)
}

// TestServeConfigReload: `serve --config` with secrets from the
// environment, then an edited file and SIGHUP while a sender keeps
// delivering. No delivery may fail during the reload.
func TestServeConfigReload(t *testing.T) {
	e := newEnv(t)
	e.extra = []string{"EMAIL_GATEWAY_SECRET=eg-secret-1", "EDR_SECRET=edr-secret", "SIEM_SECRET=siem-secret"}
	e.must("webhook", "add", "by-hand", "--secret", "hand-secret")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "webhook_config.yaml")
	writeConfigFile(t, cfg, seedWebhookConfig)

	srv := e.serve("--config", cfg)
	body := func(tag string) string {
		return fmt.Sprintf(`{"event_type":"security_alert","data":{"alert_id":%q,"severity":"high"}}`, tag)
	}
	for src, secret := range map[string]string{"email-gateway": "eg-secret-1", "edr": "edr-secret", "by-hand": "hand-secret"} {
		if r := signedPost(t, srv, src, secret, body("first-"+src), time.Now()); !stored(r) {
			t.Fatalf("%s before reload: %d %s", src, r.status, r.raw)
		}
	}
	if got := origins(t, e); got["email-gateway"] != "config" || got["edr"] != "config" || got["by-hand"] != "cli" {
		t.Fatalf("origins at start: %v", got)
	}

	// A sender that keeps delivering with the first secret throughout.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var sent int
	var failures []string
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			r := signedPost(t, srv, "email-gateway", "eg-secret-1", body(fmt.Sprintf("steady-%d", i)), time.Now())
			mu.Lock()
			sent++
			if r.status != 202 {
				failures = append(failures, fmt.Sprintf("#%d: %d %s", i, r.status, r.raw))
			}
			mu.Unlock()
			time.Sleep(5 * time.Millisecond)
		}
	}()

	// The edit: the gateway's secret moves to a file (and changes), edr is
	// gone, siem is new.
	if err := os.WriteFile(filepath.Join(dir, "email-gateway.secret"), []byte("eg-secret-2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	writeConfigFile(t, cfg, `sources:
  email-gateway:
    secret: "file:email-gateway.secret"
    auto_triage: true
    playbook: phishing_triage
    severity_mapping: {critical: critical, high: high, medium: medium, low: low}
  siem:
    secret: "${SIEM_SECRET}"
    format: splunk
`)
	if err := srv.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitForLog(t, e, "webhook config applied", 2)
	// The sender must also run on the new state: wait for three more of its
	// deliveries, by count rather than by time, so a loaded machine only
	// makes the test slower.
	mu.Lock()
	atReload := sent
	mu.Unlock()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		n := sent
		mu.Unlock()
		if n >= atReload+3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sender made %d deliveries in 30s after the reload", n-atReload)
		}
	}
	close(stop)
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d of %d deliveries failed across the reload:\n%s", len(failures), sent, strings.Join(failures, "\n"))
	}

	now := time.Now()
	splunk := `{"result":{"host":"server-01","EventCode":"4625"},"search_name":"Failed Login Alert","trigger_time":1705320000}`
	if r := signedPost(t, srv, "siem", "siem-secret", splunk, now); !stored(r) {
		t.Fatalf("new source siem: %d %s", r.status, r.raw)
	}
	if r := signedPost(t, srv, "edr", "edr-secret", body("after-edr"), now); r.status != 404 || errCode(r) != "unknown_source" {
		t.Fatalf("removed source edr: %d %s", r.status, r.raw)
	}
	if r := signedPost(t, srv, "email-gateway", "eg-secret-2", body("new-secret"), now); r.status != 202 {
		t.Fatalf("gateway with the new secret: %d %s", r.status, r.raw)
	}
	if r := signedPost(t, srv, "by-hand", "hand-secret", body("after-hand"), now); r.status != 202 {
		t.Fatalf("cli source after reload: %d %s", r.status, r.raw)
	}
	if got := origins(t, e); len(got) != 3 || got["siem"] != "config" || got["by-hand"] != "cli" || got["edr"] != "" {
		t.Fatalf("origins after reload: %v", got)
	}
	show := decodeJSON[map[string]any](t, e.must("webhook", "show", "email-gateway", "-o", "json").stdout)
	if show["previous_secret_expires_at"] == nil {
		t.Fatalf("the gateway's old secret has no grace period: %v", show)
	}
	if logs := e.must("logs", "--source", "edr", "--tail", "0").stdout; !strings.Contains(logs, "config source removed") {
		t.Fatalf("the removal of edr is not in its logs:\n%s", logs)
	}

	// A broken edit is logged with its line; the sources stay as they were.
	writeConfigFile(t, cfg, "sources:\n  siem:\n    secret: ${SIEM_SECRET}\n    formt: splunk\n")
	if err := srv.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitForLog(t, e, "webhook config reload failed; keeping the previous sources", 1)
	errLog := e.must("logs", "--level", "error", "--tail", "1", "-o", "json").stdout
	if !strings.Contains(errLog, cfg+`:4: unknown key \"formt\" in source \"siem\"`) {
		t.Fatalf("reload error: %s", errLog)
	}
	if r := signedPost(t, srv, "email-gateway", "eg-secret-2", body("after-bad-reload"), time.Now()); r.status != 202 {
		t.Fatalf("gateway after a bad reload: %d %s", r.status, r.raw)
	}

	if err := srv.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("serve exited with %v after SIGTERM", err)
	}
	raw, _ := os.ReadFile(filepath.Join(e.dataDir, "logs", "tw-cli.log"))
	for _, secret := range []string{"eg-secret-1", "eg-secret-2", "edr-secret", "siem-secret"} {
		if strings.Contains(string(raw), secret) {
			t.Fatalf("secret %s reached the log file", secret)
		}
	}
}

// TestServeConfigBadFileFailsStart: a bad file stops `serve` before it
// listens, with the file and line in the message.
func TestServeConfigBadFileFailsStart(t *testing.T) {
	e := newEnv(t)
	cfg := filepath.Join(t.TempDir(), "webhook_config.yaml")
	writeConfigFile(t, cfg, seedWebhookConfig)
	r := e.expectCode(1, "serve", "--addr", freeAddr(t), "--config", cfg)
	if !strings.Contains(r.stderr, "error: "+cfg+":4: sources.email-gateway.secret: environment variable EMAIL_GATEWAY_SECRET is not set") ||
		!strings.Contains(r.stderr, cfg+":13: sources.edr.secret: environment variable EDR_SECRET is not set") {
		t.Fatalf("stderr: %s", r.stderr)
	}
}

// TestWebhookApply drives `webhook apply` as a user would.
func TestWebhookApply(t *testing.T) {
	e := newEnv(t)
	e.extra = []string{"EMAIL_GATEWAY_SECRET=eg", "EDR_SECRET=edr"}
	cfg := filepath.Join(t.TempDir(), "webhook_config.yaml")
	writeConfigFile(t, cfg, seedWebhookConfig)
	e.must("webhook", "add", "edr", "--secret", "by-hand")

	conflict := e.expectCode(1, "webhook", "apply", "-f", cfg)
	if !strings.Contains(conflict.stderr, cfg+`:12: source "edr" is already registered with origin cli`) || !strings.Contains(conflict.stderr, "--force") {
		t.Fatalf("conflict: %s", conflict.stderr)
	}
	dry := decodeJSON[map[string]any](t, e.must("webhook", "apply", "-f", cfg, "--dry-run", "--force", "-o", "json").stdout)
	if dry["dry_run"] != true || len(dry["changes"].([]any)) != 2 {
		t.Fatalf("dry run: %v", dry)
	}
	if got := origins(t, e); len(got) != 1 || got["edr"] != "cli" {
		t.Fatalf("the dry run changed sources: %v", got)
	}
	r := e.must("webhook", "apply", "-f", cfg, "--force")
	if r.stdout != "edr\tupdate\tsecret, auto_triage, playbook, origin (was cli)\nemail-gateway\tcreate\t-\n" {
		t.Fatalf("apply stdout: %q", r.stdout)
	}
	if !strings.Contains(r.stderr, "✓ Applied "+cfg+": 1 created, 1 updated, 0 removed, 0 unchanged") {
		t.Fatalf("apply stderr: %q", r.stderr)
	}
	if got := origins(t, e); got["edr"] != "config" || got["email-gateway"] != "config" {
		t.Fatalf("origins: %v", got)
	}
	list := e.must("webhook", "list").stdout
	for _, line := range strings.Split(strings.TrimSpace(list), "\n") {
		if cols := strings.Split(line, "\t"); len(cols) < 7 || cols[6] != "config" {
			t.Errorf("webhook list ORIGIN column: %q", line)
		}
	}
	again := e.must("webhook", "apply", "-f", cfg)
	if again.stdout != "edr\tunchanged\t-\nemail-gateway\tunchanged\t-\n" {
		t.Fatalf("re-apply: %q", again.stdout)
	}

	bad := e.expectCode(2, "webhook", "apply", "-f", cfg, "--server", "http://127.0.0.1:1", "--token", "tw_x")
	if !strings.Contains(bad.stderr, "not supported remotely yet: run it on the receiver") {
		t.Fatalf("remote: %s", bad.stderr)
	}
	e.expectCode(2, "webhook", "apply")
}

// TestSIGHUPWithoutConfigIsHarmless: a logrotate hook's SIGHUP to a
// receiver started without --config is logged, not fatal.
func TestSIGHUPWithoutConfigIsHarmless(t *testing.T) {
	e := newEnv(t)
	e.must("webhook", "add", "edr", "--secret", "edr-secret")
	srv := e.serve("--quiet")
	if err := srv.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "the SIGHUP logged", func() bool {
		return strings.Contains(e.must("logs", "--filter", "server").stdout, "nothing to reload")
	})
	if r := signedPost(t, srv, "edr", "edr-secret", `{"event_type":"after-hup"}`, time.Now()); r.status != 202 {
		t.Fatalf("after SIGHUP: %d %s", r.status, r.raw)
	}
}

// TestProfileWithDefaultDataDir: with a profile active and the data dir
// left to its default (no TW_DATA_DIR), commands that open the store run;
// they crashed with a stack overflow.
func TestProfileWithDefaultDataDir(t *testing.T) {
	e := newEnv(t)
	e.extra = append(e.extra, "TW_DATA_DIR=", "XDG_DATA_HOME="+t.TempDir())
	e.must("config", "set", "--profile", "prod", "canary.domain", "acme")
	e.must("--profile", "prod", "webhook", "add", "edr", "--secret", "edr-secret")
	if out := e.must("--profile", "prod", "webhook", "list").stdout; !strings.Contains(out, "edr") {
		t.Fatalf("webhook list under --profile:\n%s", out)
	}
	e.must("--profile", "prod", "incidents", "list")
	// A misspelt profile is an error for get, not an empty value; the
	// commands that list profiles or name the file still run, so the
	// error's own advice can be followed.
	e.expectCode(2, "config", "get", "canary.domain", "--profile", "prdo")
	if out := e.must("config", "profiles", "--profile", "prdo").stdout; !strings.Contains(out, "prod") {
		t.Fatalf("config profiles under a misspelt --profile: %q", out)
	}
	e.must("config", "path", "--profile", "prdo")
	if out := e.must("config", "get", "canary.domain", "--profile", "prod").stdout; out != "acme\n" {
		t.Fatalf("config get under --profile prod: %q", out)
	}
	if out := e.must("--profile", "prod", "config", "get", "data_dir").stdout; !strings.Contains(out, "tw-cli") {
		t.Fatalf("config get data_dir under --profile: %q", out)
	}
}

// TestServerSettingNotedForLocalCommands: with TW_SERVER set for the
// webhook commands, the commands that read the local store say so instead
// of passing their local data off as the receiver's.
func TestServerSettingNotedForLocalCommands(t *testing.T) {
	e := newEnv(t)
	e.extra = append(e.extra, "TW_SERVER=http://"+freeAddr(t))
	r := e.must("destination", "list")
	if !strings.Contains(r.stderr, "reads this machine's store") {
		t.Fatalf("no note on stderr: %q", r.stderr)
	}
	for _, args := range [][]string{{"version"}, {"playbook", "list"}} {
		if r := e.must(args...); strings.Contains(r.stderr, "Note:") {
			t.Fatalf("a note from %v, which reads no store: %q", args, r.stderr)
		}
	}
	// With a database URL the store is the receivers' own: no note.
	e.extra = append(e.extra, "TW_DATABASE_URL=postgres://tw@127.0.0.1:1/tw?connect_timeout=1")
	if r := e.run("", "destination", "list"); strings.Contains(r.stderr, "Note:") {
		t.Fatalf("a note with a shared database: %q", r.stderr)
	}
}
