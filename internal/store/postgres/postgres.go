// Package postgres is the Store for several receivers sharing one
// PostgreSQL database behind a load balancer (jackc/pgx/v5 with a pool).
//
// Everything replicas must agree on lives in the database and is decided
// there: replay and idempotency keys by unique constraints, incident
// numbers by sequences, correlation and incident edits by row and advisory
// locks, triage claims by FOR UPDATE SKIP LOCKED. The store keeps no copy
// of any of it; the one thing it remembers is which years' number
// sequences exist.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/puddle/v2"

	"github.com/tw-cli/tw-cli/internal/store"
)

// Options tune how the store opens.
type Options struct {
	// NoMigrate opens the database as it is, for `tw-cli db status` to
	// report pending migrations instead of applying them.
	NoMigrate bool
}

// DefaultConnectTimeout bounds each connection attempt when the URL sets
// no connect_timeout: without one, an unreachable host holds a starting
// receiver for the kernel's TCP timeout (minutes) before it says why.
const DefaultConnectTimeout = 10 * time.Second

// Store is a store.Store on a PostgreSQL connection pool.
type Store struct {
	pool     *pgxpool.Pool
	location string
	// closed turns Ingest away once Close has begun.
	closed atomic.Bool

	// seqMu guards seqYears, the years whose incident sequence this
	// process has already made sure exists.
	seqMu    sync.Mutex
	seqYears map[int]bool
}

var (
	_ store.Store    = (*Store)(nil)
	_ store.Migrator = (*Store)(nil)
)

// IsURL reports whether a database URL names PostgreSQL.
func IsURL(u string) bool {
	return strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://")
}

// ErrInvalidURL is a database URL that cannot be used as written.
var ErrInvalidURL = errors.New("invalid PostgreSQL URL")

// invalidURL says what pgx found wrong with a URL without quoting it:
// its message names the setting or file ("sslmode is invalid", a missing
// sslrootcert), but it quotes the URL itself, password at best redacted,
// and a url.Error inside quotes it raw.
func invalidURL(err error) error {
	var uerr *url.Error
	var perr *pgconn.ParseConfigError
	if errors.As(err, &uerr) || !errors.As(err, &perr) {
		return fmt.Errorf("%w: expected postgres://user:password@host:5432/database?sslmode=…", ErrInvalidURL)
	}
	detail := perr.Error()
	if _, after, ok := strings.Cut(detail, "`: "); ok {
		detail = after
	}
	return fmt.Errorf("%w: %s", ErrInvalidURL, detail)
}

// Open connects to the database at databaseURL (postgres://user:pass@host/db?…)
// and migrates it. Pool settings come from the URL's query (pool_max_conns,
// pool_min_conns, pool_max_conn_lifetime, pool_max_conn_idle_time,
// pool_health_check_period), as do libpq's (sslmode, connect_timeout,
// search_path to use a schema other than public).
func Open(ctx context.Context, databaseURL string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, invalidURL(err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = DefaultConnectTimeout
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		// Lets a DBA tell tw-cli's sessions apart in pg_stat_activity.
		cfg.ConnConfig.RuntimeParams["application_name"] = "tw-cli"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	s := &Store{pool: pool, location: location(cfg.ConnConfig), seqYears: map[int]bool{}}
	if opts.NoMigrate || s.schemaCurrent(ctx) {
		// A current schema needs nothing that takes CREATE: a role with
		// only DML rights (see README, PostgreSQL) can run tw-cli once an
		// owner has run 'tw-cli db migrate'.
		return s, nil
	}
	if err := pool.Ping(ctx); err != nil {
		// Not a migration's failure: a read command said "migrate".
		pool.Close()
		return nil, fmt.Errorf("cannot reach the database at %s: %w", s.location, err)
	}
	if _, _, err := s.Migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("migrate %s: %w", s.location, err)
	}
	return s, nil
}

// schemaCurrent reports whether every migration is applied, read without
// a lock or DDL. Anything else (no table, an error, a newer schema) is
// left to Migrate to handle or report.
func (s *Store) schemaCurrent(ctx context.Context) bool {
	var v int
	err := s.pool.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	return err == nil && v == len(migrations)
}

// location names the database for messages, without the password.
func location(c *pgx.ConnConfig) string {
	u := url.URL{Scheme: "postgres", User: url.User(c.User), Host: net.JoinHostPort(c.Host, strconv.Itoa(int(c.Port))), Path: "/" + c.Database}
	if strings.HasPrefix(c.Host, "/") { // a Unix socket directory
		u.Host = ""
		u.RawQuery = url.Values{"host": {c.Host}}.Encode()
	}
	if sp := c.RuntimeParams["search_path"]; sp != "" {
		q := u.Query()
		q.Set("search_path", sp)
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// Close waits for the transactions in flight (pgxpool.Close blocks until
// every connection is returned), then closes the pool. Deliveries that
// had not begun are refused with store.ErrClosed.
func (s *Store) Close() error {
	s.closed.Store(true)
	s.pool.Close()
	return nil
}

// Ping checks the database answers; /readyz uses it so a load balancer
// stops sending to a replica that lost its database.
//
// A ping that meets a dead pooled connection drops the idle ones and
// tries once more: the first probe after a database restart would
// otherwise take a healthy replica out of rotation.
func (s *Store) Ping(ctx context.Context) error {
	err := s.pool.Ping(ctx)
	if err != nil && deadConn(err) && ctx.Err() == nil {
		s.pool.Reset()
		err = s.pool.Ping(ctx)
	}
	return err
}

// inTx runs fn in a transaction and commits it; any error rolls back.
//
// A transaction the server rolled back as a deadlock victim or for a
// serialization failure runs again, up to txAttempts times in all: a
// delivery touching two incidents while a playbook merges one into the
// other can deadlock, and its sender should not get a 500 for it. fn must
// build its results afresh on each call.
//
// A transaction that could not begin because its pooled connection was
// dead (the server restarted, failed over, or an administrator ended the
// session) runs again too, on a new connection: it stored nothing. The
// pool's other idle connections likely died with it, so they are
// dropped at once rather than each failing a delivery in turn.
func (s *Store) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.runTx(ctx, fn)
		if err == nil || attempt == txAttempts || ctx.Err() != nil || s.closed.Load() {
			return err
		}
		var nb notBegun
		if errors.As(err, &nb) && deadConn(nb.err) {
			s.pool.Reset()
			continue
		}
		if !retryableTx(err) {
			return err
		}
		// A little jitter, so that the two sides of a deadlock do not
		// meet again in step.
		time.Sleep(time.Duration(1+mrand.IntN(10)) * time.Millisecond)
	}
}

// notBegun is an error before a delivery's transaction began (no
// connection, no BEGIN): it stored nothing.
type notBegun struct{ err error }

func (e notBegun) Error() string { return e.err.Error() }
func (e notBegun) Unwrap() error { return e.err }

// txAttempts bounds how often inTx runs a transaction.
const txAttempts = 3

func (s *Store) runTx(ctx context.Context, fn func(pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return notBegun{err}
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// SQLSTATE codes this package tells apart.
const (
	codeUniqueViolation       = "23505"
	codeSerializationFailure  = "40001"
	codeDeadlockDetected      = "40P01"
	codeInsufficientPrivilege = "42501"
	codeInvalidSchemaName     = "3F000" // also "no schema has been selected to create in"
)

// isCode reports whether err is PostgreSQL's error with that SQLSTATE.
func isCode(err error, code string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == code
}

// deadConn reports whether err says the connection it came on is gone:
// ended by the server (FATAL, or the operator-intervention class 57:
// admin shutdown, crash shutdown, cannot connect now) or cut before
// anything was sent or read.
func deadConn(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Severity == "FATAL" || strings.HasPrefix(pe.Code, "57")
	}
	return pgconn.SafeToRetry(err) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

func retryableTx(err error) bool {
	return isCode(err, codeSerializationFailure) || isCode(err, codeDeadlockDetected)
}

func isUnique(err error) bool { return isCode(err, codeUniqueViolation) }

// text makes a string storable. PostgreSQL's text holds neither NUL nor
// invalid UTF-8, which SQLite keeps and which a sender can put in any
// JSON string; both become U+FFFD. Lookups go through the same function,
// so equal inputs still match (a correlation key with a NUL still
// correlates) and a name that cannot exist is simply not found.
func text(s string) string {
	if utf8.ValidString(s) && !strings.Contains(s, "\x00") {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// micro is t as timestamptz keeps it (microseconds, UTC), so what a
// method returns equals what a later read returns.
func micro(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// nullTime stores the zero time as NULL: "never" (a token not yet used,
// a secret with no previous one) rather than a date in year 1.
func nullTime(t time.Time) pgtype.Timestamptz {
	if t.IsZero() {
		return pgtype.Timestamptz{}
	}
	return pgtype.Timestamptz{Time: t, Valid: true}
}

func fromNull(t pgtype.Timestamptz) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

func affected(tag pgconn.CommandTag, err error) error {
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// query collects positional arguments for a statement built piece by piece.
type query struct {
	sql  strings.Builder
	args []any
}

// arg adds v and returns its placeholder.
func (q *query) arg(v any) string {
	q.args = append(q.args, v)
	return "$" + strconv.Itoa(len(q.args))
}

// --- sources ---

const sourceCols = `name, secret, previous_secret, previous_expires_at, format, verify, auto_triage, playbook, severity_mapping, description, origin, created_at, updated_at, allow_from`

func scanSource(row pgx.Row) (*store.Source, error) {
	var src store.Source
	var prevExp pgtype.Timestamptz
	var mapping, allow string
	var secret, previous []byte
	if err := row.Scan(&src.Name, &secret, &previous, &prevExp, &src.Format, &src.Verify, &src.AutoTriage,
		&src.Playbook, &mapping, &src.Description, &src.Origin, &src.CreatedAt, &src.UpdatedAt, &allow); err != nil {
		return nil, err
	}
	src.AllowFrom = store.DecodeAllowFrom(allow)
	src.Secret, src.PreviousSecret = string(secret), string(previous)
	src.PreviousExpiresAt, src.CreatedAt, src.UpdatedAt = fromNull(prevExp), src.CreatedAt.UTC(), src.UpdatedAt.UTC()
	var err error
	if src.SeverityMapping, err = store.DecodeSeverityMapping(src.Name, mapping); err != nil {
		return nil, err
	}
	return &src, nil
}

// sourceArgs also brings src's times to what the table keeps, so that the
// caller, which prints src after a create or an update, shows what a later
// read shows.
func sourceArgs(src *store.Source) ([]any, error) {
	src.CreatedAt, src.UpdatedAt, src.PreviousExpiresAt = micro(src.CreatedAt), micro(src.UpdatedAt), micro(src.PreviousExpiresAt)
	mapping, err := store.EncodeSeverityMapping(src.SeverityMapping)
	if err != nil {
		return nil, err
	}
	// The mapping is kept as JSON text, not jsonb: jsonb refuses \u0000,
	// which a vendor's severity label could hold.
	return []any{text(src.Name), []byte(src.Secret), []byte(src.PreviousSecret), nullTime(src.PreviousExpiresAt), text(src.Format), text(src.Verify),
		src.AutoTriage, text(src.Playbook), mapping, text(src.Description), text(src.Origin), src.CreatedAt, src.UpdatedAt, store.EncodeAllowFrom(src.AllowFrom)}, nil
}

// CreateSource inserts a new source; ErrExists if the name is taken.
func (s *Store) CreateSource(ctx context.Context, src *store.Source) error {
	args, err := sourceArgs(src)
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO sources (`+sourceCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)`, args...)
	if isUnique(err) {
		return store.ErrExists
	}
	return err
}

// GetSource returns one source or ErrNotFound.
//
// The receiver reads sources on every delivery its cache misses: a pooled
// connection found dead (the server restarted, or ended the session) is
// dropped with its likely dead siblings and the read made once more, as
// inTx does for writes, and a server out of reach is ErrUnavailable.
func (s *Store) GetSource(ctx context.Context, name string) (*store.Source, error) {
	get := func() (*store.Source, error) {
		return scanSource(s.pool.QueryRow(ctx, `SELECT `+sourceCols+` FROM sources WHERE name = $1`, text(name)))
	}
	src, err := get()
	if err != nil && deadConn(err) && ctx.Err() == nil && !s.closed.Load() {
		s.pool.Reset()
		src, err = get()
	}
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, store.ErrNotFound
	case err != nil && (deadConn(err) || unavailable(err)):
		return nil, fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return src, err
}

// ListSources returns every source by name.
func (s *Store) ListSources(ctx context.Context) ([]store.Source, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+sourceCols+` FROM sources ORDER BY name COLLATE "C"`)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanSource)
}

// collect scans every row with scan.
func collect[T any](rows pgx.Rows, scan func(pgx.Row) (*T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *v)
	}
	return out, rows.Err()
}

// UpdateSource replaces every field of an existing source that was not
// changed since readAt. See store.Store.
func (s *Store) UpdateSource(ctx context.Context, src *store.Source, readAt time.Time) error {
	args, err := sourceArgs(src)
	if err != nil {
		return err
	}
	err = affected(s.pool.Exec(ctx, `UPDATE sources SET secret=$2, previous_secret=$3, previous_expires_at=$4, format=$5, verify=$6,
		auto_triage=$7, playbook=$8, severity_mapping=$9, description=$10, origin=$11, created_at=$12, updated_at=$13, allow_from=$14
		WHERE name=$1 AND updated_at=$15`, append(args, readAt)...))
	if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	var one int
	switch err := s.pool.QueryRow(ctx, `SELECT 1 FROM sources WHERE name = $1`, text(src.Name)).Scan(&one); {
	case errors.Is(err, pgx.ErrNoRows):
		return store.ErrNotFound
	case err != nil:
		return err
	}
	return store.ErrChanged
}

// DeleteSource removes a source; events it produced stay.
func (s *Store) DeleteSource(ctx context.Context, name string) error {
	return affected(s.pool.Exec(ctx, `DELETE FROM sources WHERE name = $1`, text(name)))
}

// --- tokens ---

const tokenCols = `id, name, hash, prefix, created_at, last_used_at`

func scanToken(row pgx.Row) (*store.Token, error) {
	var t store.Token
	var used pgtype.Timestamptz
	if err := row.Scan(&t.ID, &t.Name, &t.Hash, &t.Prefix, &t.CreatedAt, &used); err != nil {
		return nil, err
	}
	t.CreatedAt, t.LastUsedAt = t.CreatedAt.UTC(), fromNull(used)
	return &t, nil
}

// CreateToken stores a token's hash.
func (s *Store) CreateToken(ctx context.Context, t *store.Token) error {
	t.CreatedAt = micro(t.CreatedAt) // as a later read shows it
	_, err := s.pool.Exec(ctx, `INSERT INTO tokens (id, name, hash, prefix, created_at) VALUES ($1,$2,$3,$4,$5)`,
		text(t.ID), text(t.Name), t.Hash, text(t.Prefix), t.CreatedAt)
	if isUnique(err) {
		return store.ErrExists
	}
	return err
}

// ListTokens returns tokens by creation time.
func (s *Store) ListTokens(ctx context.Context) ([]store.Token, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+tokenCols+` FROM tokens ORDER BY created_at, name COLLATE "C"`)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanToken)
}

// RevokeToken deletes a token by id, or else by name: one whose name is
// another's id is not revoked with it.
func (s *Store) RevokeToken(ctx context.Context, idOrName string) error {
	return affected(s.pool.Exec(ctx, `DELETE FROM tokens WHERE id = $1 OR (name = $1 AND NOT EXISTS (SELECT 1 FROM tokens WHERE id = $1))`, text(idOrName)))
}

// TouchToken looks a token up by hash and records its use.
func (s *Store) TouchToken(ctx context.Context, hash string, at time.Time) (*store.Token, error) {
	t, err := scanToken(s.pool.QueryRow(ctx, `SELECT `+tokenCols+` FROM tokens WHERE hash = $1`, text(hash)))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	// Last use is advisory: a minute's precision saves a write per request.
	if at.Sub(t.LastUsedAt) > time.Minute {
		if _, err := s.pool.Exec(ctx, `UPDATE tokens SET last_used_at = $1 WHERE id = $2`, at, t.ID); err != nil {
			return nil, err
		}
		t.LastUsedAt = micro(at)
	}
	return t, nil
}

// --- ingest ---

// Advisory lock classes (the first key of pg_advisory_xact_lock(int, int)),
// so tw-cli's locks do not collide with another application's on the same
// database. The second key is a hash of what is locked.
const (
	lockMigrate     = 0x7477_0001 // "tw" 1
	lockCorrelation = 0x7477_0002
	lockSequence    = 0x7477_0003
)

// Ingest stores a delivery atomically. See store.Store.
//
// Under READ COMMITTED two replicas could both find no open incident for a
// correlation key and both open one; a transaction-scoped advisory lock
// per (source, key), taken before looking, makes the second wait and then
// see the first's incident. Locks are taken in sorted order so deliveries
// sharing several keys cannot deadlock.
func (s *Store) Ingest(ctx context.Context, d *store.Delivery) (*store.IngestResult, error) {
	if len(d.Items) == 0 {
		return nil, store.ErrNoEvents
	}
	if s.closed.Load() {
		return nil, store.ErrClosed
	}
	res, err := s.ingest(ctx, d)
	var nothing notBegun
	if errors.Is(err, puddle.ErrClosedPool) || errors.As(err, &nothing) && s.closed.Load() {
		// It lost the race with Close: the pool refused its connection
		// or cancelled the one it was opening, and a transaction that
		// never began stored nothing. Only that: any other error (a
		// failed COMMIT may have committed) is told as it is.
		return nil, fmt.Errorf("%w: %v", store.ErrClosed, err)
	}
	if err != nil && (errors.As(err, &nothing) || unavailable(err)) {
		// Nothing was stored: the sender is told to retry (503), not that
		// the receiver failed (500).
		return nil, fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return res, err
}

// unavailable reports whether err is the server refusing work for want of
// a connection or resources (SQLSTATE classes 08, 53 and 57: connection
// failures, out of memory or locks, shutdown), or no connection at all.
// The server answered, so no transaction it refused committed.
func unavailable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "53") || strings.HasPrefix(pe.Code, "57")
	}
	var ce *pgconn.ConnectError
	return errors.As(err, &ce)
}

func (s *Store) ingest(ctx context.Context, d *store.Delivery) (*store.IngestResult, error) {
	now := micro(d.ReceivedAt)
	seq, err := s.incidentSequence(ctx, now.Year())
	if err != nil {
		return nil, notBegun{err}
	}
	source := text(d.Source)
	var res *store.IngestResult
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		// A repeat of a delivery (same idempotency key) answers with the
		// first one's result, even when it is the very same request: the
		// key is checked before the replay key.
		if d.IdempotencyKey != "" {
			dup, err := claimIdempotent(ctx, tx, d, now)
			if err != nil {
				return err
			}
			if dup != nil {
				res = dup
				return nil
			}
		}
		if d.ReplayKey != "" {
			// The key is bytea: the receiver joins its parts with NUL.
			tag, err := tx.Exec(ctx, `INSERT INTO replay_keys (key, seen_at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, []byte(d.ReplayKey), now)
			if err != nil {
				return err
			}
			// A concurrent insert of the same key waits for the other
			// transaction; it conflicts only if that one committed.
			if tag.RowsAffected() == 0 {
				return store.ErrReplayed
			}
		}
		var keys []string
		for _, it := range d.Items {
			if k := text(it.CorrelationKey); k != "" && !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, lockCorrelation, source+"\n"+k); err != nil {
				return err
			}
		}
		res = &store.IngestResult{}
		for _, it := range d.Items {
			inc, err := attachIncident(ctx, tx, seq, source, it, now)
			if err != nil {
				return err
			}
			ev := store.Event{
				ID: uuid.NewString(), Source: source, ReceivedAt: now, Verification: text(d.Verification),
				Format: text(d.Format), Type: text(it.Type), IncidentID: inc.ID, IncidentNum: inc.Number,
				RequestID: text(d.RequestID), Normalized: it.Normalized, Payload: d.Payload,
			}
			if _, err := tx.Exec(ctx, `INSERT INTO events (id, source, received_at, verification, format, event_type, incident_id, request_id, normalized, payload)
				VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`, ev.ID, ev.Source, now, ev.Verification, ev.Format, ev.Type, ev.IncidentID, ev.RequestID,
				nonNil(ev.Normalized), nonNil(ev.Payload)); err != nil {
				return err
			}
			res.Events = append(res.Events, ev)
			res.Incidents = append(res.Incidents, *inc)
			job, err := enqueueTriageTx(ctx, tx, d, inc, ev.ID, now)
			if err != nil {
				return err
			}
			if job != nil {
				res.Jobs = append(res.Jobs, *job)
			}
		}
		if d.IdempotencyKey != "" {
			return rememberIdempotent(ctx, tx, d, res)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// nonNil keeps an empty body from being stored as NULL.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// attachIncident finds the open incident an item correlates with, or opens
// a new one with the next number of the year. The caller holds the
// advisory lock of the item's correlation key.
// mergeTarget is the open incident holding the events of the key's newest
// incident, when a group step merged that one away (following merges of
// merges), locked as attachIncident locks; pgx.ErrNoRows when there is
// none.
func mergeTarget(ctx context.Context, tx pgx.Tx, source, key string) (*store.Incident, error) {
	var into string
	if err := tx.QueryRow(ctx, `SELECT COALESCE(t.merged_into, '') FROM incidents i LEFT JOIN incident_triage t ON t.incident_id = i.id
		WHERE i.source = $1 AND i.correlation_key = $2 AND i.correlation_key <> '' ORDER BY i.created_at DESC LIMIT 1`, source, key).Scan(&into); err != nil || into == "" {
		if err == nil {
			err = pgx.ErrNoRows
		}
		return nil, err
	}
	inc, ok, err := store.FollowMerges(into, func(number string) (*store.Incident, string, error) {
		target, err := scanIncident(tx.QueryRow(ctx, `SELECT `+incidentCols+` FROM incidents WHERE number = $1 FOR NO KEY UPDATE`, number))
		if err != nil {
			return nil, "", err
		}
		var next string
		if err := tx.QueryRow(ctx, `SELECT merged_into FROM incident_triage WHERE incident_id = $1`, target.ID).Scan(&next); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return nil, "", err
		}
		return target, next, nil
	})
	if err == nil && !ok {
		return nil, pgx.ErrNoRows // nothing open to follow to: a new incident
	}
	return inc, err
}

func attachIncident(ctx context.Context, tx pgx.Tx, seq, source string, it store.DeliveryItem, now time.Time) (*store.Incident, error) {
	key, title, sev := text(it.CorrelationKey), text(it.Title), text(it.Severity)
	if key != "" {
		// FOR NO KEY UPDATE holds off a concurrent resolve until this
		// event is attached, without blocking the foreign-key checks of
		// events other transactions add to the same incident.
		// correlation_key <> '' lets a generic plan (pgx prepares
		// statements) use the partial index incidents_correlation, which
		// "= $2" alone does not prove applies.
		inc, err := scanIncident(tx.QueryRow(ctx, `SELECT `+incidentCols+` FROM incidents
			WHERE source = $1 AND correlation_key = $2 AND correlation_key <> '' AND status <> $3 ORDER BY created_at DESC LIMIT 1 FOR NO KEY UPDATE`,
			source, key, store.StatusResolved))
		if errors.Is(err, pgx.ErrNoRows) {
			// Its key's incident may have been merged into a group
			// (its events moved there): updates follow them.
			var target *store.Incident
			if target, err = mergeTarget(ctx, tx, source, key); err == nil {
				inc, it = target, store.ForMergeTarget(it, target)
				sev = text(it.Severity)
			}
		}
		if errors.Is(err, pgx.ErrNoRows) && it.Resolve {
			// Nothing of the key is open: the latest resolved incident
			// takes it (see store.DeliveryItem.Resolve), unless it was
			// merged into another, whose events it must not get back.
			inc, err = scanIncident(tx.QueryRow(ctx, `SELECT `+incidentCols+` FROM incidents
				WHERE source = $1 AND correlation_key = $2 AND correlation_key <> '' AND status = $3
				AND NOT EXISTS (SELECT 1 FROM incident_triage t WHERE t.incident_id = incidents.id AND t.merged_into <> '')
				ORDER BY created_at DESC LIMIT 1 FOR NO KEY UPDATE`,
				source, key, store.StatusResolved))
		}
		switch {
		case err == nil:
			it.Title, it.Severity = title, sev
			entry := store.ApplyItem(inc, it, now)
			if _, err := tx.Exec(ctx, `UPDATE incidents SET title = $1, severity = $2, status = $3, event_count = $4, updated_at = $5 WHERE id = $6`,
				inc.Title, inc.Severity, inc.Status, inc.EventCount, now, inc.ID); err != nil {
				return nil, err
			}
			if entry != nil {
				if err := insertTimeline(ctx, tx, inc.ID, now, *entry); err != nil {
					return nil, err
				}
			}
			return inc, nil
		case !errors.Is(err, pgx.ErrNoRows):
			return nil, err
		}
	}
	var n int
	if err := tx.QueryRow(ctx, `SELECT nextval($1::text::regclass)`, seq).Scan(&n); err != nil {
		return nil, err
	}
	if sev == "" { // an update whose creation never arrived
		sev = "info"
	}
	inc := &store.Incident{
		ID: uuid.NewString(), Number: store.FormatIncidentNumber(now.Year(), n), Title: title,
		Severity: sev, Status: store.NewIncidentStatus(it), Source: source, Category: text(it.Category),
		CorrelationKey: key, EventCount: 1, CreatedAt: now, UpdatedAt: now,
	}
	_, err := tx.Exec(ctx, `INSERT INTO incidents (`+incidentCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`,
		inc.ID, inc.Number, inc.Title, inc.Severity, inc.Status, inc.Source, inc.Category, inc.CorrelationKey, inc.EventCount, now, now)
	return inc, err
}

// incidentSequence returns the name of year's incident number sequence,
// creating it on the year's first incident.
//
// Numbers come from a sequence per year rather than a counter row updated
// in the ingest transaction: a counter row is locked from the update to
// the commit, so every replica's incident-opening deliveries would queue
// behind each other's commit (and its WAL flush). nextval never waits and
// never hands a value out twice, even across replicas and crashes; the
// price is a gap when a transaction that took a number rolls back, which
// incident numbers tolerate. The UNIQUE constraint on incidents.number
// stays as the backstop.
func (s *Store) incidentSequence(ctx context.Context, year int) (string, error) {
	name := sequenceName(year)
	s.seqMu.Lock()
	defer s.seqMu.Unlock()
	if s.seqYears[year] {
		return name, nil
	}
	// Made already (by 'db migrate' for this year and the next, or by
	// another replica): using it takes no CREATE right on the schema.
	exists, err := s.sequenceMade(ctx, year)
	if err != nil {
		return "", fmt.Errorf("incident number sequence for %d: %w", year, err)
	}
	if exists {
		s.seqYears[year] = true
		return name, nil
	}
	// CREATE SEQUENCE IF NOT EXISTS is not safe against a concurrent
	// create (both pass the check, one fails on the catalog's unique
	// index), so replicas racing on New Year's first incident serialize.
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext(COALESCE(current_schema(), '') || '.' || $2))`, lockSequence, name); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `CREATE SEQUENCE IF NOT EXISTS `+pgx.Identifier{name}.Sanitize()+` AS bigint MINVALUE 1`)
		return err
	})
	if err != nil {
		if isCode(err, codeInsufficientPrivilege) {
			// A DML-only role: the owner's 'db migrate' makes this
			// year's and next year's sequences.
			return "", fmt.Errorf("incident number sequence for %d: %w: run 'tw-cli db migrate' as the schema's owner, which makes it", year, err)
		}
		return "", fmt.Errorf("incident number sequence for %d: %w", year, err)
	}
	s.seqYears[year] = true
	return name, nil
}

// sequenceName is the name of year's incident number sequence.
func sequenceName(year int) string { return "incident_seq_" + strconv.Itoa(year) }

// sequenceMade reports whether year's incident number sequence exists.
func (s *Store) sequenceMade(ctx context.Context, year int) (bool, error) {
	var made bool
	err := s.pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, pgx.Identifier{sequenceName(year)}.Sanitize()).Scan(&made)
	return made, err
}

// migratedYears are the years whose sequences 'db migrate' makes, so
// that a role without CREATE finds them: this one and the next.
func migratedYears(now time.Time) []int {
	year := now.UTC().Year()
	return []int{year, year + 1}
}

// PruneReplay forgets replay keys seen before the cut-off. Every replica
// prunes; the deletes overlap harmlessly.
func (s *Store) PruneReplay(ctx context.Context, before time.Time) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM replay_keys WHERE seen_at < $1`, before)
	return err
}

// --- reads ---

const incidentCols = `id, number, title, severity, status, source, category, correlation_key, event_count, created_at, updated_at`

func scanIncident(row pgx.Row) (*store.Incident, error) {
	var inc store.Incident
	if err := row.Scan(&inc.ID, &inc.Number, &inc.Title, &inc.Severity, &inc.Status, &inc.Source, &inc.Category,
		&inc.CorrelationKey, &inc.EventCount, &inc.CreatedAt, &inc.UpdatedAt); err != nil {
		return nil, err
	}
	inc.CreatedAt, inc.UpdatedAt = inc.CreatedAt.UTC(), inc.UpdatedAt.UTC()
	return &inc, nil
}

// listedIncidentCols are incidentCols with the owner and tags of the
// incident's triage state, for ListIncidents: an incident nothing
// triaged yet has no incident_triage row.
var listedIncidentCols = prefixed("i.", incidentCols) + `, COALESCE(t.owner, ''), COALESCE(t.tags, '[]')`

func scanListedIncident(row pgx.Row) (*store.Incident, error) {
	var inc store.Incident
	var tags string
	if err := row.Scan(&inc.ID, &inc.Number, &inc.Title, &inc.Severity, &inc.Status, &inc.Source, &inc.Category,
		&inc.CorrelationKey, &inc.EventCount, &inc.CreatedAt, &inc.UpdatedAt, &inc.Owner, &tags); err != nil {
		return nil, err
	}
	inc.CreatedAt, inc.UpdatedAt = inc.CreatedAt.UTC(), inc.UpdatedAt.UTC()
	var err error
	inc.Tags, err = store.DecodeTags(inc.ID, tags)
	return &inc, err
}

// ListIncidents returns incidents newest first, with their owner and
// tags read in the same query.
func (s *Store) ListIncidents(ctx context.Context, f store.IncidentFilter) ([]store.Incident, error) {
	var q query
	q.sql.WriteString(`SELECT ` + listedIncidentCols + ` FROM incidents i LEFT JOIN incident_triage t ON t.incident_id = i.id WHERE true`)
	if f.Source != "" {
		q.sql.WriteString(` AND i.source = ` + q.arg(text(f.Source)))
	}
	if f.Status != "" {
		q.sql.WriteString(` AND i.status = ` + q.arg(text(f.Status)))
	}
	if f.Owner != "" {
		q.sql.WriteString(` AND t.owner = ` + q.arg(text(f.Owner)))
	}
	if !f.Since.IsZero() {
		q.sql.WriteString(` AND i.created_at >= ` + q.arg(f.Since))
	}
	// COLLATE "C" orders numbers bytewise, as SQLite does.
	q.sql.WriteString(` ORDER BY i.created_at DESC, i.number COLLATE "C" DESC`)
	if f.Limit > 0 {
		q.sql.WriteString(` LIMIT ` + q.arg(f.Limit))
	}
	rows, err := s.pool.Query(ctx, q.sql.String(), q.args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanListedIncident)
}

// GetIncident finds an incident by id or number.
func (s *Store) GetIncident(ctx context.Context, idOrNumber string) (*store.Incident, error) {
	inc, err := scanIncident(s.pool.QueryRow(ctx, `SELECT `+incidentCols+` FROM incidents WHERE id = $1 OR number = $2`,
		text(idOrNumber), text(strings.ToUpper(idOrNumber))))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	return inc, err
}

const eventCols = `e.id, e.source, e.received_at, e.verification, e.format, e.event_type, e.incident_id, COALESCE(i.number, ''), e.request_id, e.normalized, e.payload`

func scanEvent(row pgx.Row) (*store.Event, error) {
	var ev store.Event
	if err := row.Scan(&ev.ID, &ev.Source, &ev.ReceivedAt, &ev.Verification, &ev.Format, &ev.Type, &ev.IncidentID, &ev.IncidentNum,
		&ev.RequestID, &ev.Normalized, &ev.Payload); err != nil {
		return nil, err
	}
	ev.ReceivedAt = ev.ReceivedAt.UTC()
	return &ev, nil
}

// ListEvents returns events newest first.
func (s *Store) ListEvents(ctx context.Context, f store.EventFilter) ([]store.Event, error) {
	var q query
	q.sql.WriteString(`SELECT ` + eventCols + ` FROM events e LEFT JOIN incidents i ON i.id = e.incident_id WHERE true`)
	if f.Source != "" {
		q.sql.WriteString(` AND e.source = ` + q.arg(text(f.Source)))
	}
	if !f.Since.IsZero() {
		q.sql.WriteString(` AND e.received_at >= ` + q.arg(f.Since))
	}
	// seq is insertion order: the tie-break among one delivery's events,
	// which share received_at.
	q.sql.WriteString(` ORDER BY e.received_at DESC, e.seq DESC`)
	if f.Limit > 0 {
		q.sql.WriteString(` LIMIT ` + q.arg(f.Limit))
	}
	rows, err := s.pool.Query(ctx, q.sql.String(), q.args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanEvent)
}

// GetEvent returns one event by id.
func (s *Store) GetEvent(ctx context.Context, id string) (*store.Event, error) {
	ev, err := scanEvent(s.pool.QueryRow(ctx, `SELECT `+eventCols+` FROM events e LEFT JOIN incidents i ON i.id = e.incident_id WHERE e.id = $1`, text(id)))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	return ev, err
}
