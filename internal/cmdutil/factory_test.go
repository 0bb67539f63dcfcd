package cmdutil

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/tw-cli/tw-cli/internal/store"
	"github.com/tw-cli/tw-cli/internal/store/sqlite"
)

// migratorAt is a Factory whose Migrator opens path without migrating, as
// the app's does.
func migratorAt(path string) *Factory {
	return &Factory{Migrator: func() (store.Migrator, error) {
		return sqlite.Open(context.Background(), path, sqlite.Options{NoMigrate: true})
	}}
}

// Completion reads an existing, current database only: it never creates
// one, nor migrates one an older serve may still use.
func TestExistingStore(t *testing.T) {
	ctx := context.Background()

	t.Run("no database", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data")
		s, err := ExistingStore(ctx, migratorAt(filepath.Join(dir, "tw-cli.db")))
		if s != nil || err != nil {
			t.Fatalf("got %v, %v; want nothing", s, err)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("the data dir was created: %v", err)
		}
	})

	t.Run("older schema", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "tw-cli.db")
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL); INSERT INTO schema_migrations VALUES (1, 0)`); err != nil {
			t.Fatal(err)
		}
		db.Close()
		s, err := ExistingStore(ctx, migratorAt(path))
		if s != nil || err != nil {
			t.Fatalf("got %v, %v; want nothing", s, err)
		}
		m, err := migratorAt(path).Migrator()
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		if st, err := m.SchemaStatus(ctx); err != nil || st.Current != 1 {
			t.Errorf("schema after completion: %+v, %v; want it left at 1", st, err)
		}
	})

	t.Run("current schema", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "tw-cli.db")
		migrated, err := sqlite.Open(ctx, path, sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		migrated.Close()
		s, err := ExistingStore(ctx, migratorAt(path))
		if s == nil || err != nil {
			t.Fatalf("got %v, %v; want the store", s, err)
		}
		defer s.Close()
		if _, err := s.ListSources(ctx); err != nil {
			t.Error(err)
		}
	})

	t.Run("no Migrator", func(t *testing.T) {
		if s, err := ExistingStore(ctx, &Factory{}); s != nil || err != nil {
			t.Errorf("got %v, %v", s, err)
		}
	})
}
