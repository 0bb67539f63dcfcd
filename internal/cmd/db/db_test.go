package db

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/store"
	"github.com/tw-cli/tw-cli/internal/store/sqlite"
)

type testEnv struct {
	f              *cmdutil.Factory
	stdout, stderr *bytes.Buffer
	path           string
}

// newTestEnv is a factory whose Migrator opens a real SQLite file, left
// unmigrated as a new install's would be.
func newTestEnv(t *testing.T, tty bool) *testEnv {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	ios.SetStdoutTTY(tty)
	path := filepath.Join(t.TempDir(), "data", "tw-cli.db")
	f := &cmdutil.Factory{
		IOStreams: ios,
		Now:       time.Now,
		Migrator: func() (store.Migrator, error) {
			s, err := sqlite.Open(context.Background(), path, sqlite.Options{NoMigrate: true})
			if err != nil {
				return nil, err
			}
			return s, nil
		},
	}
	return &testEnv{f: f, stdout: out, stderr: errOut, path: path}
}

func (e *testEnv) run(t *testing.T, cmd *cobra.Command, args ...string) error {
	t.Helper()
	e.stdout.Reset()
	e.stderr.Reset()
	cmd.SetArgs(args)
	cmd.SetOut(e.stdout)
	cmd.SetErr(e.stderr)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &cmdutil.FlagError{Err: err} })
	return cmd.ExecuteContext(context.Background())
}

func TestFlags(t *testing.T) {
	e := newTestEnv(t, false)
	var got *StatusOptions
	if err := e.run(t, NewCmdStatus(e.f, func(o *StatusOptions) error { got = o; return nil }), "-o", "json"); err != nil {
		t.Fatal(err)
	}
	if got.Output != "json" {
		t.Fatalf("status -o json parsed as %q", got.Output)
	}
	var mig *MigrateOptions
	if err := e.run(t, NewCmdMigrate(e.f, func(o *MigrateOptions) error { mig = o; return nil })); err != nil {
		t.Fatal(err)
	}
	if mig.Output != "table" {
		t.Fatalf("migrate default output %q", mig.Output)
	}
	for _, args := range [][]string{{"-o", "xml"}, {"extra"}} {
		err := e.run(t, NewCmdStatus(e.f, func(*StatusOptions) error { t.Fatal("ran with bad flags"); return nil }), args...)
		var fe *cmdutil.FlagError
		if !errors.As(err, &fe) {
			t.Fatalf("status %v = %v, want a usage error", args, err)
		}
	}
}

// available is how many migrations this build's SQLite store has.
func available(t *testing.T) int {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "probe.db"), sqlite.Options{NoMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, err := s.SchemaStatus(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st.Available
}

func TestStatusMigrateStatus(t *testing.T) {
	e := newTestEnv(t, false)
	n := available(t)
	if err := e.run(t, NewCmdStatus(e.f, nil)); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("backend\tsqlite\nlocation\t%s\ncurrent\t0\navailable\t%d\nstate\tnot created yet: 'tw-cli db migrate' or 'tw-cli serve' creates it\n", e.path, n)
	if e.stdout.String() != want {
		t.Fatalf("fresh status:\n%s\nwant:\n%s", e.stdout, want)
	}
	// Looking must not create the data dir, let alone the database.
	if _, err := os.Stat(filepath.Dir(e.path)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("status created the data dir: %v", err)
	}
	if err := e.run(t, NewCmdStatus(e.f, nil), "-o", "json"); err != nil || !strings.Contains(e.stdout.String(), `"missing": true`) {
		t.Fatalf("fresh status -o json = %v:\n%s", err, e.stdout)
	}

	if err := e.run(t, NewCmdMigrate(e.f, nil)); err != nil {
		t.Fatal(err)
	}
	if e.stdout.Len() != 0 || e.stderr.String() != fmt.Sprintf("✓ Migrated %s from version 0 to %d\n", e.path, n) {
		t.Fatalf("migrate: stdout %q, stderr %q", e.stdout, e.stderr)
	}
	if err := e.run(t, NewCmdMigrate(e.f, nil), "-o", "json"); err != nil {
		t.Fatal(err)
	}
	wantJSON := fmt.Sprintf(`{
  "backend": "sqlite",
  "location": %q,
  "from_version": %d,
  "to_version": %d
}
`, e.path, n, n)
	if e.stdout.String() != wantJSON {
		t.Fatalf("second migrate -o json:\n%s", e.stdout)
	}

	if err := e.run(t, NewCmdStatus(e.f, nil)); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(e.stdout.String(), "\n"), "\n")
	if len(lines) != 5+n || lines[2] != fmt.Sprintf("current\t%d", n) || lines[4] != "state\tup to date" {
		t.Fatalf("status after migrate:\n%s", e.stdout)
	}
	if st, err := os.Stat(e.path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("migrate created the database as %v, %v; want mode 0600", st, err)
	}
	for v := 1; v <= n; v++ {
		if !strings.HasPrefix(lines[4+v], fmt.Sprintf("migration %d\tapplied 20", v)) {
			t.Fatalf("status after migrate lacks migration %d:\n%s", v, e.stdout)
		}
	}
}

func TestStatusOnTTY(t *testing.T) {
	e := newTestEnv(t, true)
	if err := e.run(t, NewCmdMigrate(e.f, nil)); err != nil {
		t.Fatal(err)
	}
	if err := e.run(t, NewCmdStatus(e.f, nil)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"FIELD", "VALUE", "up to date", "applied just now"} {
		if !strings.Contains(e.stdout.String(), want) {
			t.Fatalf("TTY status lacks %q:\n%s", want, e.stdout)
		}
	}
}

func TestNewerSchema(t *testing.T) {
	e := newTestEnv(t, false)
	if err := e.run(t, NewCmdMigrate(e.f, nil)); err != nil {
		t.Fatal(err)
	}
	// A newer tw-cli migrated this database further.
	db, err := sql.Open("sqlite", e.path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES ((SELECT MAX(version) + 1 FROM schema_migrations), 1)`)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	if err := e.run(t, NewCmdStatus(e.f, nil)); err != nil {
		t.Fatalf("status of a newer schema must still work: %v", err)
	}
	if !strings.Contains(e.stdout.String(), "state\tnewer than this tw-cli: upgrade tw-cli\n") {
		t.Fatalf("status:\n%s", e.stdout)
	}
	err = e.run(t, NewCmdMigrate(e.f, nil))
	var tooNew *store.SchemaTooNewError
	if !errors.As(err, &tooNew) {
		t.Fatalf("migrate of a newer schema = %v", err)
	}
}

func TestState(t *testing.T) {
	for _, c := range []struct {
		current, available int
		want               string
	}{
		{3, 3, "up to date"},
		{2, 3, "1 migration pending: run 'tw-cli db migrate'"},
		{1, 3, "2 migrations pending: run 'tw-cli db migrate'"},
		{0, 3, "empty: 'tw-cli db migrate' or 'tw-cli serve' creates the schema"},
		{4, 3, "newer than this tw-cli: upgrade tw-cli"},
	} {
		if got := state(&store.SchemaStatus{Current: c.current, Available: c.available}); got != c.want {
			t.Errorf("state(%d of %d) = %q, want %q", c.current, c.available, got, c.want)
		}
	}
}
