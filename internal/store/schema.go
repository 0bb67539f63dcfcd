package store

import (
	"context"
	"fmt"
	"time"
)

// Migrator versions a database's schema. Both stores migrate when they
// open; `tw-cli db status|migrate` uses this to look before it leaps, on a
// store opened without migrating.
type Migrator interface {
	// SchemaStatus reports which migrations the database has and which
	// this build knows.
	SchemaStatus(ctx context.Context) (*SchemaStatus, error)
	// Migrate applies the pending migrations in one transaction and
	// returns the versions before and after. Several processes may call
	// it at once (replicas starting together): one applies, the others
	// wait for it and find nothing left to do.
	Migrate(ctx context.Context) (from, to int, err error)
	Close() error
}

// SchemaStatus is where a database's schema stands.
type SchemaStatus struct {
	// Backend is "sqlite" or "postgres".
	Backend string `json:"backend"`
	// Location is the database file, or the server and database name
	// (never a password).
	Location string `json:"location"`
	// Current is the newest applied migration, 0 for an empty database.
	Current int `json:"current_version"`
	// Available is the newest migration this build knows.
	Available int                `json:"available_version"`
	Applied   []AppliedMigration `json:"applied"`
	// Missing says the database does not exist yet (SQLite's file);
	// `db migrate` or `serve` creates it.
	Missing bool `json:"missing,omitempty"`
	// Notes are what else needs doing, though the schema is current
	// (PostgreSQL: a year's incident number sequence not made yet).
	Notes []string `json:"notes,omitempty"`
}

// Pending is how many migrations the next Migrate applies; negative when
// the database is newer than this build.
func (s *SchemaStatus) Pending() int { return s.Available - s.Current }

// AppliedMigration is one row of a database's migration history.
type AppliedMigration struct {
	Version   int       `json:"version"`
	AppliedAt time.Time `json:"applied_at"`
}

// SchemaTooNewError means the database was migrated by a newer tw-cli:
// running an older one against it could misread or corrupt data.
type SchemaTooNewError struct {
	Current, Available int
}

func (e *SchemaTooNewError) Error() string {
	return fmt.Sprintf("database schema version %d is newer than this tw-cli knows (%d): upgrade tw-cli", e.Current, e.Available)
}
