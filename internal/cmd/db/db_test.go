package db

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
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
	path := filepath.Join(t.TempDir(), "tw-cli.db")
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

func TestStatusMigrateStatus(t *testing.T) {
	e := newTestEnv(t, false)
	if err := e.run(t, NewCmdStatus(e.f, nil)); err != nil {
		t.Fatal(err)
	}
	want := "backend\tsqlite\nlocation\t" + e.path + "\ncurrent\t0\navailable\t1\nstate\t1 migration pending: run 'tw-cli db migrate'\n"
	if e.stdout.String() != want {
		t.Fatalf("fresh status:\n%s\nwant:\n%s", e.stdout, want)
	}

	if err := e.run(t, NewCmdMigrate(e.f, nil)); err != nil {
		t.Fatal(err)
	}
	if e.stdout.Len() != 0 || e.stderr.String() != "✓ Migrated "+e.path+" from version 0 to 1\n" {
		t.Fatalf("migrate: stdout %q, stderr %q", e.stdout, e.stderr)
	}
	if err := e.run(t, NewCmdMigrate(e.f, nil), "-o", "json"); err != nil {
		t.Fatal(err)
	}
	wantJSON := `{
  "backend": "sqlite",
  "location": "` + e.path + `",
  "from_version": 1,
  "to_version": 1
}
`
	if e.stdout.String() != wantJSON {
		t.Fatalf("second migrate -o json:\n%s", e.stdout)
	}

	if err := e.run(t, NewCmdStatus(e.f, nil)); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(e.stdout.String(), "\n"), "\n")
	if len(lines) != 6 || lines[2] != "current\t1" || lines[4] != "state\tup to date" || !strings.HasPrefix(lines[5], "migration 1\tapplied 20") {
		t.Fatalf("status after migrate:\n%s", e.stdout)
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
