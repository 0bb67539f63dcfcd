package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tw-cli/tw-cli/internal/store"
)

// migrations are applied in order; version n is migrations[n-1]. Append
// only: a released migration never changes, since databases have it.
// They make SQLite's changes in the same order, but each backend counts
// its own: SQLite's version 4 (events.replay_hash; here replay keys have
// a table of their own from the start) has no counterpart, so from there
// SQLite's version is one higher for the same schema ('db status' shows
// 9 on SQLite where PostgreSQL shows 8).
var migrations = []string{
	// Times are timestamptz (microseconds, NULL for "never"); payloads and
	// secrets are bytea, kept byte for byte (text refuses NUL, which a
	// JSON string sent to the admin API may hold). Incident numbers come from per-year
	// sequences made on demand (see incidentSequence), so there is no
	// counter table.
	`CREATE TABLE sources (
		name TEXT PRIMARY KEY,
		secret BYTEA NOT NULL,
		previous_secret BYTEA NOT NULL DEFAULT '',
		previous_expires_at TIMESTAMPTZ,
		format TEXT NOT NULL,
		verify TEXT NOT NULL,
		auto_triage BOOLEAN NOT NULL DEFAULT false,
		playbook TEXT NOT NULL DEFAULT '',
		severity_mapping TEXT NOT NULL DEFAULT '{}',
		description TEXT NOT NULL DEFAULT '',
		origin TEXT NOT NULL,
		created_at TIMESTAMPTZ NOT NULL,
		updated_at TIMESTAMPTZ NOT NULL
	);
	CREATE TABLE tokens (
		id TEXT PRIMARY KEY,
		name TEXT NOT NULL UNIQUE,
		hash TEXT NOT NULL UNIQUE,
		prefix TEXT NOT NULL,
		created_at TIMESTAMPTZ NOT NULL,
		last_used_at TIMESTAMPTZ
	);
	CREATE TABLE incidents (
		id TEXT PRIMARY KEY,
		number TEXT NOT NULL UNIQUE,
		title TEXT NOT NULL,
		severity TEXT NOT NULL,
		status TEXT NOT NULL,
		source TEXT NOT NULL,
		category TEXT NOT NULL DEFAULT '',
		correlation_key TEXT NOT NULL DEFAULT '',
		event_count INTEGER NOT NULL DEFAULT 0,
		created_at TIMESTAMPTZ NOT NULL,
		updated_at TIMESTAMPTZ NOT NULL
	);
	CREATE INDEX incidents_created ON incidents (created_at);
	CREATE INDEX incidents_correlation ON incidents (source, correlation_key) WHERE correlation_key <> '';
	CREATE TABLE events (
		seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
		id TEXT PRIMARY KEY,
		source TEXT NOT NULL,
		received_at TIMESTAMPTZ NOT NULL,
		verification TEXT NOT NULL,
		format TEXT NOT NULL,
		event_type TEXT NOT NULL DEFAULT '',
		incident_id TEXT NOT NULL REFERENCES incidents (id),
		request_id TEXT NOT NULL DEFAULT '',
		normalized BYTEA NOT NULL,
		payload BYTEA NOT NULL
	);
	CREATE INDEX events_received ON events (received_at, seq);
	CREATE INDEX events_incident ON events (incident_id);
	CREATE TABLE replay_keys (key BYTEA PRIMARY KEY, seen_at TIMESTAMPTZ NOT NULL);
	CREATE INDEX replay_keys_seen ON replay_keys (seen_at);`,
	// triage: queue, incident triage state and timeline, destinations,
	// dead letters (see triage.go).
	triageSchema,
	// perf: idempotency keys and the first delivery's result (see
	// idempotency.go).
	idempotencySchema,
	// A dead letter remembers the kind its body was rendered for.
	`ALTER TABLE dead_letters ADD COLUMN kind TEXT NOT NULL DEFAULT '';`,
	// A source may only accept deliveries from some networks: CIDR
	// prefixes, comma-separated ('' allows any).
	`ALTER TABLE sources ADD COLUMN allow_from TEXT NOT NULL DEFAULT '';`,
	// A triage job names its next step, so that it resumes there when the
	// playbook was edited while it waited.
	`ALTER TABLE triage_jobs ADD COLUMN step_name TEXT NOT NULL DEFAULT '';`,
	// A dead letter being retried is claimed until a time, so that a
	// second retry started while the first still sends is refused.
	`ALTER TABLE dead_letters ADD COLUMN claimed_until TIMESTAMPTZ;`,
	// SQLite's version 9 adds the index on an incident's events that
	// PostgreSQL's schema has had from the start (events_incident).
	`CREATE INDEX IF NOT EXISTS events_incident ON events (incident_id);`,
}

// Migrate applies pending migrations. See store.Migrator.
//
// PostgreSQL's DDL is transactional, so all pending migrations and their
// history rows commit together or not at all. A transaction-scoped
// advisory lock, taken before anything is read, serializes replicas that
// start together: the first applies, the others wait for its commit and
// find the schema current. The lock is per schema, so test schemas on one
// server do not wait for each other.
func (s *Store) Migrate(ctx context.Context) (from, to int, err error) {
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext(COALESCE(current_schema(), '')))`, lockMigrate); err != nil {
			return err
		}
		// Created only when missing: a schema already current runs no
		// DDL, so a role with DML rights only can run 'db migrate' (and
		// serve) against it.
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			if _, err := tx.Exec(ctx, `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`); err != nil {
				return needsOwner(err, 0)
			}
		} else if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&from); err != nil {
			return err
		}
		to = from
		if from > len(migrations) {
			return &store.SchemaTooNewError{Current: from, Available: len(migrations)}
		}
		for v := from; v < len(migrations); v++ {
			if _, err := tx.Exec(ctx, migrations[v]); err != nil {
				return fmt.Errorf("migration %d: %w", v+1, needsOwner(err, from))
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, v+1); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return from, from, err
	}
	// Whoever migrates has CREATE on the schema; a receiver running as a
	// role without it then finds this year's and next year's incident
	// sequences made.
	for _, y := range migratedYears(time.Now()) {
		if _, err := s.incidentSequence(ctx, y); err != nil {
			return from, len(migrations), err
		}
	}
	return from, len(migrations), nil
}

// needsOwner explains a migration the connecting role may not make: the
// raw "permission denied for schema tw" said nothing of what to do.
func needsOwner(err error, current int) error {
	switch {
	case isCode(err, codeInvalidSchemaName):
		return fmt.Errorf("%w: %s", err, noSchemaHint)
	case isCode(err, codeInsufficientPrivilege):
		return fmt.Errorf("%w: the schema is at version %d and this tw-cli needs %d, which takes DDL this role may not run; run 'tw-cli db migrate' as the schema's owner (or a role with CREATE on it), then start again",
			err, current, len(migrations))
	}
	return err
}

// noSchemaHint is what to check when the role sees no schema at all.
const noSchemaHint = "the search_path (in the URL, or the role's default) names no schema that exists and that this role may use: create it, or GRANT USAGE ON SCHEMA … TO the role"

// SchemaStatus reports applied and known migrations. See store.Migrator.
func (s *Store) SchemaStatus(ctx context.Context) (*store.SchemaStatus, error) {
	st := &store.SchemaStatus{Backend: "postgres", Location: s.location, Available: len(migrations), Applied: []store.AppliedMigration{}}
	var exists, schema bool
	if err := s.pool.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL, current_schema() IS NOT NULL`).Scan(&exists, &schema); err != nil {
		return nil, err
	}
	if !schema {
		// Not "nothing migrated": the tables may well be there, out of
		// the role's sight, and 'db migrate' would fail.
		return nil, errors.New(noSchemaHint)
	}
	if !exists {
		return st, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT version, applied_at FROM schema_migrations ORDER BY version`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var m store.AppliedMigration
		if err := rows.Scan(&m.Version, &m.AppliedAt); err != nil {
			return nil, err
		}
		m.AppliedAt = m.AppliedAt.UTC()
		st.Applied = append(st.Applied, m)
		st.Current = max(st.Current, m.Version)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if st.Pending() == 0 {
		// 'db migrate' makes this year's and next year's; a receiver
		// whose role may not create one fails every delivery of a year
		// without it.
		for _, y := range migratedYears(time.Now()) {
			made, err := s.sequenceMade(ctx, y)
			if err != nil {
				return nil, err
			}
			if !made {
				st.Notes = append(st.Notes, fmt.Sprintf("the incident number sequence for %d is not made yet: run 'tw-cli db migrate' as the schema's owner before %d's first delivery (a role without CREATE cannot make it)", y, y))
			}
		}
	}
	return st, nil
}
