package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tw-cli/tw-cli/internal/store"
	"github.com/tw-cli/tw-cli/internal/store/storetest"
)

func open(t *testing.T) store.Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "tw.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSuite(t *testing.T) { storetest.Run(t, open) }

func TestFileIsPrivateAndReopens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "tw.db")
	s, err := Open(context.Background(), path, Options{Synchronous: "full"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSource(context.Background(), &store.Source{Name: "x", Secret: "s", Format: "auto", Verify: "hmac", Origin: "cli"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("database mode %v, want 0600: it holds secrets", st.Mode().Perm())
	}
	// Reopening runs no migration twice and keeps the data.
	s2, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, err := s2.GetSource(context.Background(), "x"); err != nil {
		t.Fatal(err)
	}
}

func TestRejectsBadSynchronous(t *testing.T) {
	if _, err := Open(context.Background(), filepath.Join(t.TempDir(), "tw.db"), Options{Synchronous: "OFF"}); err == nil {
		t.Fatal("synchronous=OFF accepted: it can lose acknowledged deliveries")
	}
}

func TestLifecycle(t *testing.T) {
	storetest.RunLifecycle(t, func(t *testing.T) storetest.Opener {
		path := filepath.Join(t.TempDir(), "tw.db")
		return func(ctx context.Context, migrate bool) (store.Migrator, error) {
			return Open(ctx, path, Options{NoMigrate: !migrate})
		}
	})
}

func TestSchemaTooNew(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tw.db")
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, 1)`, len(migrations)+1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	var tooNew *store.SchemaTooNewError
	if _, err := Open(ctx, path, Options{}); !errors.As(err, &tooNew) || tooNew.Current != len(migrations)+1 {
		t.Fatalf("open of a newer schema = %v, want SchemaTooNewError", err)
	}
	// Status still reads it, to tell the operator what is wrong.
	s, err = Open(ctx, path, Options{NoMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, err := s.SchemaStatus(ctx)
	if err != nil || st.Current != len(migrations)+1 || st.Pending() != -1 || st.Location != path {
		t.Fatalf("status = %+v, %v", st, err)
	}
}

// Opening a database whose schema is current takes no write lock: a CLI
// command reads while a receiver holds a long write transaction, where it
// used to wait out the busy timeout before it could even list sources.
func TestOpenCurrentSchemaTakesNoWriteLock(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tw.db")
	first, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if err := first.CreateSource(ctx, &store.Source{Name: "x", Secret: "s", Format: "auto", Verify: "hmac", Origin: "cli"}); err != nil {
		t.Fatal(err)
	}
	tx, err := first.w.BeginTx(ctx, nil) // IMMEDIATE: holds the write lock
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()

	// Far below the 10 s busy timeout a write lock would wait for.
	short, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	second, err := Open(short, path, Options{})
	if err != nil {
		t.Fatalf("open while another connection writes: %v", err)
	}
	defer second.Close()
	if _, err := second.GetSource(short, "x"); err != nil {
		t.Fatal(err)
	}
}

// The lookups by correlation and group key use their partial indexes: a
// query must imply an index's WHERE for SQLite to use it, and "= ?" does
// not imply "is not empty", so without the explicit test every keyed delivery
// scanned all incidents. A merge and triage's latest event go by an
// incident's events, not all of them.
func TestQueriesUseTheirIndexes(t *testing.T) {
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "tw.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, c := range []struct {
		query, index string
		args         []any
	}{
		{correlatedIncident, "incidents_correlation", []any{"src", "key", "resolved"}},
		{lastResolvedIncident, "incidents_correlation", []any{"src", "key", "resolved"}},
		{groupIncident, "incident_triage_group", []any{"key", 0, "id", "resolved"}},
		{moveEvents, "events_incident", []any{"to", "from"}},
		{latestEvent, "events_incident", []any{"id"}},
	} {
		rows, err := s.r.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+c.query, c.args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if !strings.Contains(strings.Join(plan, "\n"), "INDEX "+c.index) {
			t.Errorf("plan without %s:\n%s", c.index, strings.Join(plan, "\n"))
		}
	}
}

// A newer tw-cli's command found the schema older and migrated it under
// a running receiver, holding the write lock while its index was built:
// every delivery meanwhile failed. It now refuses, naming the remedy, and
// migrates once the receiver is gone.
func TestNoMigrationUnderARunningReceiver(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tw.db")
	recv, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := recv.ClaimReceiver(); err != nil {
		t.Fatal(err)
	}
	// As an older build left it: the last migration not applied.
	if _, err := recv.w.ExecContext(ctx, `DROP INDEX events_incident`); err != nil {
		t.Fatal(err)
	}
	if _, err := recv.w.ExecContext(ctx, `DELETE FROM schema_migrations WHERE version = ?`, len(migrations)); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, path, Options{}); !errors.Is(err, ErrMigrateUnderReceiver) {
		t.Fatalf("Open of an older schema under a receiver = %v, want ErrMigrateUnderReceiver", err)
	}
	cli, err := Open(ctx, path, Options{NoMigrate: true}) // as 'db migrate' opens it
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := cli.Migrate(ctx); !errors.Is(err, ErrMigrateUnderReceiver) {
		t.Fatalf("Migrate under a receiver = %v", err)
	}
	cli.Close()
	// The receiver's own process may migrate (serve does, at start).
	if _, _, err := recv.Migrate(ctx); err != nil {
		t.Fatalf("the receiver's own Migrate: %v", err)
	}
	for _, q := range []string{`DROP INDEX events_incident`, `DELETE FROM schema_migrations WHERE version = ` + fmt.Sprint(len(migrations))} {
		if _, err := recv.w.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	recv.Close()
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatalf("Open once the receiver stopped: %v", err)
	}
	s.Close()
}

// TestNotADatabase: another file at the database's path is named, for
// every command; SQLite's "file is not a database (26)" named none, and
// read commands called it a failed migration.
func TestNotADatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tw-cli.db")
	if err := os.WriteFile(path, []byte("garbage, not SQLite\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	want := path + " is not a SQLite database tw-cli can read"
	if _, err := Open(context.Background(), path, Options{}); err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("Open = %v", err)
	}
	s, err := Open(context.Background(), path, Options{NoMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.SchemaStatus(context.Background()); err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("SchemaStatus = %v", err)
	}
}
