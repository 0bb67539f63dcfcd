package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/noredirect"
	"github.com/tw-cli/tw-cli/internal/noredirect/noredirecttest"
	"github.com/tw-cli/tw-cli/internal/sources"
)

// factoryWith builds the real factory with TW_DATABASE_URL set to url and
// a fresh data dir.
func factoryWith(t *testing.T, url string) (*cmdutil.Factory, string) {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("TW_CONFIG_DIR", t.TempDir())
	t.Setenv("TW_DATA_DIR", dir)
	t.Setenv("TW_DATABASE_URL", url)
	ios, _, _, _ := iostreams.Test()
	f, cleanup := newFactory(ios, "test", func() *pflag.FlagSet { return pflag.NewFlagSet("t", pflag.ContinueOnError) })
	t.Cleanup(cleanup)
	return f, dir
}

func TestStoreDefaultsToSQLite(t *testing.T) {
	f, dir := factoryWith(t, "")
	m, err := f.Migrator()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	st, err := m.SchemaStatus(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Backend != "sqlite" || st.Location != filepath.Join(dir, DatabaseFile) || st.Current != 0 {
		t.Fatalf("status = %+v: want an unmigrated SQLite file in the data dir", st)
	}
	if _, err := f.Store(); err != nil {
		t.Fatal(err)
	}
	if st, _ = m.SchemaStatus(context.Background()); st.Current != st.Available {
		t.Fatalf("Store() did not migrate: %+v", st)
	}
}

func TestStoreRejectsOtherURLs(t *testing.T) {
	for _, u := range []string{"mysql://tw:hunter2@db/tw", "host=db user=tw password=hunter2 dbname=tw", "host=db password='hunter2 x'"} {
		f, _ := factoryWith(t, u)
		_, err := f.Store()
		var fe *cmdutil.FlagError
		if !errors.As(err, &fe) || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "postgres://") {
			t.Fatalf("%s = %v: want a usage error naming postgres:// without the password", u, err)
		}
	}
}

func TestStoreSelectsPostgres(t *testing.T) {
	u := os.Getenv("TW_TEST_DATABASE_URL")
	if u == "" {
		t.Skip("TW_TEST_DATABASE_URL is unset: skipping the PostgreSQL selection test")
	}
	f, _ := factoryWith(t, u)
	m, err := f.Migrator()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	st, err := m.SchemaStatus(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Backend != "postgres" {
		t.Fatalf("backend = %s with a postgres:// URL", st.Backend)
	}
}

func TestSQLiteSynchronousRefusedWithPostgres(t *testing.T) {
	// Nothing listens on port 1: the refusal must come before connecting.
	f, _ := factoryWith(t, "postgres://tw@127.0.0.1:1/tw")
	if err := f.ConfigureStore(cmdutil.StoreOptions{SQLiteSynchronous: "full"}); err != nil {
		t.Fatal(err)
	}
	_, err := f.Store()
	var fe *cmdutil.FlagError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "synchronous_commit") {
		t.Fatalf("--sqlite-synchronous with a PostgreSQL URL = %v, want a usage error", err)
	}
}

// The shared client (the remote receiver, Canary, webhook test) refuses
// redirects: a 307 would post a new source's secret, and the admin token
// when only the port changes, to wherever it points.
func TestHTTPClientRefusesRedirects(t *testing.T) {
	api := noredirecttest.New(t)
	t.Setenv("TW_SERVER", api.URL)
	t.Setenv("TW_TOKEN", "tw_admintoken")
	f, _ := factoryWith(t, "")
	r, err := f.Remote()
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = r.Add(context.Background(), sources.Spec{Source: "x1", Secret: "REMOTESECRET123456"})
	var re *noredirect.Error
	if !errors.As(err, &re) || api.Reached() != 0 {
		t.Fatalf("err = %v, target reached %d times: want a refused redirect and no request", err, api.Reached())
	}
}

// The admin token sent over plain http to another host is worth a
// warning, once per command; loopback and https are not.
func TestRemoteWarnsOfCleartextToken(t *testing.T) {
	for server, want := range map[string]bool{
		"http://192.0.2.1:8080":  true,
		"http://tw.example.com/": true,
		"http://127.0.0.1:8080":  false,
		"http://localhost:8080":  false,
		"https://tw.example.com": false,
	} {
		t.Setenv("TW_CONFIG_DIR", t.TempDir())
		t.Setenv("TW_DATA_DIR", t.TempDir())
		t.Setenv("TW_SERVER", server)
		t.Setenv("TW_TOKEN", "tw_x\r\n")
		ios, _, _, errOut := iostreams.Test()
		f, cleanup := newFactory(ios, "test", func() *pflag.FlagSet { return pflag.NewFlagSet("t", pflag.ContinueOnError) })
		for range 2 {
			r, err := f.Remote()
			if err != nil || r == nil || r.Token != "tw_x" {
				t.Fatalf("%s: remote %+v, %v", server, r, err)
			}
		}
		cleanup()
		if got := strings.Count(errOut.String(), "the admin token is sent unencrypted"); got != map[bool]int{true: 1, false: 0}[want] {
			t.Errorf("%s: warned %d times: %q", server, got, errOut)
		}
	}
}

// No password survives redaction, however the URL was mistyped.
func TestRedactURLHidesPasswords(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://tw:TopSecretPW@db:5432/tw":     "postgres://…@db:5432/tw",
		"postgres://tw:Top@Secret@db/tw":           "postgres://…@db/tw",
		"postgres:TopSecretPW@127.0.0.1/audit_db":  "postgres:…@127.0.0.1/audit_db",
		"postgres//tw:TopSecretPW@127.0.0.1/db":    "postgres/…@127.0.0.1/db",
		"tw:TopSecretPW@db/tw":                     "tw:…@db/tw",
		"host=db user=tw password=TopSecretPW":     "host=db user=tw password=…",
		"host=db password='Top Secret PW' user=tw": "host=db password=… user=tw",
		"postgres://db/tw":                         "postgres://db/tw",
	} {
		if got := redactURL(in); got != want || strings.Contains(got, "Secret") {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// A console's or server's message is quoted in errors: an escape sequence
// in it is shown, not run by the terminal; newlines of hints stay.
func TestPrintErrorShowsControlCharacters(t *testing.T) {
	ios, _, _, errb := iostreams.Test()
	printError(ios, nil, errors.New("canary: POST enable: bad\x1b[31mRED\nhint: check the token"))
	if want := "error: canary: POST enable: bad^[[31mRED\nhint: check the token\n"; errb.String() != want {
		t.Errorf("stderr = %q, want %q", errb.String(), want)
	}
}
