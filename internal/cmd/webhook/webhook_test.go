package webhook

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/sources"
	"github.com/tw-cli/tw-cli/internal/store"
	"github.com/tw-cli/tw-cli/internal/store/sqlite"
	"github.com/tw-cli/tw-cli/internal/webhookconfig"
)

// Tab neither creates the database nor migrates it (an older serve may
// still use it); it completes from one that exists at this schema.
func TestCompleteSourceNamesOpensNoNewDatabase(t *testing.T) {
	complete := func(t *testing.T, path string) string {
		t.Helper()
		e := newEnv(t, false)
		e.f.Store = func() (store.Store, error) {
			t.Error("completion opened the migrating store")
			return nil, os.ErrInvalid
		}
		e.f.Migrator = func() (store.Migrator, error) {
			return sqlite.Open(context.Background(), path, sqlite.Options{NoMigrate: true})
		}
		if err := e.run(NewCmdWebhook(e.f), "__complete", "show", ""); err != nil {
			t.Fatal(err)
		}
		return e.stdout.String()
	}

	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "tw-cli.db")
	if got := complete(t, path); got != ":4\n" {
		t.Errorf("fresh data dir: completion %q, want no candidates", got)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("completion created %s: %v", dir, err)
	}

	st, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	local := &sources.Local{Store: st, Origin: "cli", Now: func() time.Time { return t0 }}
	if _, _, err := local.Add(context.Background(), sources.Spec{Source: "edr", Secret: "s", Format: "generic"}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if got := complete(t, path); got != "edr\tgeneric\n:4\n" {
		t.Errorf("existing database: completion %q", got)
	}
}

// remoteEnv points the webhook commands at an admin API answering with h.
func remoteEnv(t *testing.T, base string, h http.HandlerFunc) *testEnv {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	e := newEnv(t, false)
	e.f.Sources = func() (sources.Service, error) {
		return &sources.Remote{BaseURL: strings.ReplaceAll(base, "SRV", srv.URL), Token: "tw_test", Client: srv.Client()}, nil
	}
	return e
}

func answer(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

func TestRemoteErrorExitCodes(t *testing.T) {
	const noEndpoint = `{"error":{"code":"not_found","message":"No such endpoint: the API serves /api/webhooks, /api/incidents and /api/events"}}`
	tests := []struct {
		name    string
		base    string
		h       http.HandlerFunc
		args    []string
		code    int
		wantMsg string
	}{
		{name: "500 is the receiver failing", base: "SRV", h: answer(500, "boom"), args: []string{"list"},
			code: cmdutil.ExitRemote, wantMsg: "server answered 500 Internal Server Error"},
		{name: "502 from a proxy", base: "SRV", h: answer(502, "<html>bad gateway</html>"), args: []string{"show", "edr"},
			code: cmdutil.ExitRemote, wantMsg: "server answered 502 Bad Gateway"},
		{name: "unknown source is not found", base: "SRV",
			h:    answer(404, `{"error":{"code":"not_found","message":"source not found: \"edr\" is not registered; run 'tw-cli webhook list'"}}`),
			args: []string{"show", "edr"}, code: cmdutil.ExitNotFound,
			wantMsg: `source not found: "edr" is not registered; run 'tw-cli webhook list'`},
		{name: "a wrong path prefix says to check --server", base: "SRV/some/path", h: answer(404, noEndpoint), args: []string{"list"},
			code: cmdutil.ExitFailure, wantMsg: "No such endpoint: the API serves /api/webhooks, /api/incidents and /api/events: check --server, the receiver's base URL (without /api)"},
		{name: "a wrong path prefix on show too", base: "SRV/some/path", h: answer(404, noEndpoint), args: []string{"show", "edr"},
			code: cmdutil.ExitFailure},
		{name: "a bad --server is a usage error", base: "notaurl", h: answer(200, "{}"), args: []string{"list"},
			code: cmdutil.ExitUsage, wantMsg: `invalid --server "notaurl": give the receiver's base URL, http(s)://host[:port] such as https://receiver.example.com (check --server/TW_SERVER)`},
		{name: "400 stays a usage error", base: "SRV", h: answer(400, `{"error":{"code":"invalid","message":"bad spec"}}`), args: []string{"update", "edr", "--playbook", "x"},
			code: cmdutil.ExitUsage, wantMsg: "bad spec"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := remoteEnv(t, tt.base, tt.h)
			err := e.run(NewCmdWebhook(e.f), tt.args...)
			wantExit(t, err, tt.code, tt.wantMsg)
		})
	}
}

// Changing a source that webhook_config.yaml manages warns that the next
// apply undoes it; it is not refused.
func TestFileManagedSourceWarns(t *testing.T) {
	const warning = "WARNING: source edr is managed by a webhook_config.yaml (origin config): the next 'webhook apply' or serve reload (SIGHUP) will "
	addFromFile := func(e *testEnv) {
		fromFile := &sources.Local{Store: e.store, Origin: webhookconfig.Origin, Now: e.clock.Now}
		if _, _, err := fromFile.Add(context.Background(), sources.Spec{Source: "edr", Secret: "s", AutoTriage: true}); err != nil {
			t.Fatal(err)
		}
	}

	e := newEnv(t, false)
	addFromFile(e)
	if err := e.run(NewCmdUpdate(e.f, nil), "edr", "--auto-triage=false"); err != nil {
		t.Fatal(err)
	}
	e.expectOutput("", warning+"revert this change; change the file instead\n✓ Updated source edr\n")
	if e.stored("edr").AutoTriage {
		t.Error("the update was not made")
	}

	e = newEnv(t, false)
	addFromFile(e)
	if err := e.run(NewCmdRemove(e.f, nil), "edr", "--yes"); err != nil {
		t.Fatal(err)
	}
	e.expectOutput("", warning+"add it again; change the file instead\n✓ Removed source edr\n")
	e.absent("edr")

	e = newEnv(t, false)
	addFromFile(e)
	if err := e.run(NewCmdRotateSecret(e.f, nil), "edr", "--secret", "next-secret-abcdefabcdef"); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(e.stderr.String(), warning+"put the file's secret back; change the file instead\n") {
		t.Errorf("rotate-secret of a file's source: %q", e.stderr.String())
	}

	// Made open by an update: as add warns.
	e = newEnv(t, false)
	e.add(sources.Spec{Source: "edr", Secret: "s"})
	if err := e.run(NewCmdUpdate(e.f, nil), "edr", "--verify", "none"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(e.stderr.String(), "WARNING: source edr accepts deliveries from anyone (--verify none)") {
		t.Errorf("update --verify none: %q", e.stderr.String())
	}

	// A source added by hand draws no warning.
	e = newEnv(t, false)
	e.add(sources.Spec{Source: "edr", Secret: "s"})
	if err := e.run(NewCmdUpdate(e.f, nil), "edr", "--auto-triage=false"); err != nil {
		t.Fatal(err)
	}
	e.expectOutput("", "✓ Updated source edr\n")
}
