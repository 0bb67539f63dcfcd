package sqlite

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/tw-cli/tw-cli/internal/store"
)

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`

// Migrate applies pending migrations. See store.Migrator.
//
// The write pool begins transactions IMMEDIATE, so the version is read
// under SQLite's write lock: a second process opening the same file waits
// (busy_timeout) and then finds the schema current.
func (s *Store) Migrate(ctx context.Context) (from, to int, err error) {
	if err := createFile(s.path); err != nil {
		return 0, 0, err
	}
	// The lock is checked first: Open calls Migrate only when the schema
	// is not current, so the query is only made under a receiver.
	if s.otherReceiverRunning() && !s.schemaCurrent(ctx) {
		// Its migrations take the write lock for as long as they run
		// (an index over millions of events: seconds), and the receiver's
		// deliveries failed meanwhile; it also runs an older build.
		return 0, 0, fmt.Errorf("%w (%s): restart it with this tw-cli, which migrates the schema as it starts, or stop it first", ErrMigrateUnderReceiver, s.path)
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, createMigrationsTable); err != nil {
		return 0, 0, err
	}
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return 0, 0, err
	}
	if current > len(migrations) {
		return current, current, &store.SchemaTooNewError{Current: current, Available: len(migrations)}
	}
	for v := current; v < len(migrations); v++ {
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			return current, current, fmt.Errorf("migration %d: %w", v+1, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, v+1, time.Now().UnixNano()); err != nil {
			return current, current, err
		}
	}
	if err := tx.Commit(); err != nil {
		return current, current, err
	}
	return current, len(migrations), nil
}

// SchemaStatus reports applied and known migrations. See store.Migrator.
func (s *Store) SchemaStatus(ctx context.Context) (*store.SchemaStatus, error) {
	st := &store.SchemaStatus{Backend: "sqlite", Location: s.path, Available: len(migrations), Applied: []store.AppliedMigration{}}
	// Opening the file would create it (and the data dir): a status check
	// must leave a machine as it found it.
	if _, err := os.Stat(s.path); errors.Is(err, fs.ErrNotExist) {
		st.Missing = true
		return st, nil
	} else if err != nil {
		return nil, fmt.Errorf("database %s: %w", s.path, err)
	}
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&n); err != nil {
		if ferr := unreadableFile(s.path, err); ferr != nil {
			return nil, ferr
		}
		return nil, fmt.Errorf("database %s: %w", s.path, err)
	}
	if n == 0 {
		return st, nil
	}
	rows, err := s.r.QueryContext(ctx, `SELECT version, applied_at FROM schema_migrations ORDER BY version`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var m store.AppliedMigration
		var at int64
		if err := rows.Scan(&m.Version, &at); err != nil {
			return nil, err
		}
		m.AppliedAt = fromTS(at)
		st.Applied = append(st.Applied, m)
		st.Current = max(st.Current, m.Version)
	}
	return st, rows.Err()
}
