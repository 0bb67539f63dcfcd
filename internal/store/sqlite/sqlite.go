// Package sqlite is the embedded default Store: one file in the data dir,
// WAL mode, pure Go (modernc.org/sqlite), no server to run.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"modernc.org/sqlite" // also registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/tw-cli/tw-cli/internal/store"
)

// Options tune the database.
type Options struct {
	// Synchronous is SQLite's synchronous pragma. NORMAL (default) in WAL
	// mode survives a process crash without losing commits; FULL also
	// survives power loss at the cost of an fsync per commit (one per
	// group commit, not one per delivery).
	Synchronous string
	// NoMigrate opens the database as it is, for `tw-cli db status` to
	// report pending migrations instead of applying them.
	NoMigrate bool
	// MaxBatch bounds how many concurrent deliveries share one
	// transaction (DefaultMaxBatch when zero or less).
	MaxBatch int
	// MaxBatchWait bounds how long a group commit waits for more
	// deliveries to share its transaction, which it does only while they
	// arrive faster than one per MaxBatchWait/8 (DefaultMaxBatchWait when
	// zero; negative: never wait).
	MaxBatchWait time.Duration
}

// Store is a store.Store on one SQLite file.
type Store struct {
	// Writes go through one connection: SQLite allows one writer, and
	// queueing in Go is cheaper than spinning on SQLITE_BUSY.
	w    *sql.DB
	r    *sql.DB
	path string
	// commits is the group commit of Ingest (batch.go).
	commits *committer
	// ckpt copies the WAL into the database off the commit path.
	ckpt *checkpointer

	// receiverLock is held by the one process that ingests into this
	// file (ClaimReceiver).
	claimMu      sync.Mutex
	receiverLock *os.File

	closeOnce sync.Once
	closeErr  error
}

var (
	_ store.Store           = (*Store)(nil)
	_ store.Migrator        = (*Store)(nil)
	_ store.ReceiverClaimer = (*Store)(nil)
)

// Open opens the database at path and migrates it, creating it if needed
// (Migrate does). With NoMigrate (`db status`) nothing is created.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	sync := strings.ToUpper(opts.Synchronous)
	switch sync {
	case "":
		sync = "NORMAL"
	case "NORMAL", "FULL", "EXTRA":
	default:
		return nil, fmt.Errorf("invalid synchronous setting %q: use NORMAL or FULL", opts.Synchronous)
	}
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "synchronous("+sync+")")
	q.Add("_pragma", "foreign_keys(1)")
	dsn := "file:" + path + "?" + q.Encode()
	w, err := sql.Open("sqlite", dsn+"&_txlock=immediate&_pragma="+url.QueryEscape(fmt.Sprintf("wal_autocheckpoint(%d)", writerAutoCheckpoint)))
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	r, err := sql.Open("sqlite", dsn+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(4)
	// Connections open lazily: a CLI command that never writes never
	// opens this one.
	ck, err := sql.Open("sqlite", dsn)
	if err != nil {
		w.Close()
		r.Close()
		return nil, err
	}
	ck.SetMaxOpenConns(1)
	s := &Store{w: w, r: r, path: path}
	if !opts.NoMigrate && !s.schemaCurrent(ctx) {
		if err := migrateRetryingBusy(ctx, s); err != nil {
			w.Close()
			r.Close()
			ck.Close()
			if ferr := unreadableFile(path, err); ferr != nil {
				return nil, ferr // a read command said "migrate"
			}
			return nil, fmt.Errorf("migrate %s: %w", path, err)
		}
	}
	s.ckpt = startCheckpointer(ck)
	wait := opts.MaxBatchWait
	if wait == 0 {
		wait = DefaultMaxBatchWait
	}
	s.commits = startCommitter(s, opts.MaxBatch, wait)
	return s, nil
}

// openBusyWait bounds how long Open retries a migration that found the
// file locked, as the connections' busy_timeout bounds a wait for a lock.
const openBusyWait = 10 * time.Second

// migrateRetryingBusy migrates, retrying while another process holds the
// file. Several processes opening a new file at once (two commands run
// together on a fresh data dir) race to switch it to WAL mode, and the
// loser's first connection can fail with SQLITE_BUSY at once, without
// waiting on busy_timeout (seen in about one in thirty concurrent opens).
// schemaCurrent reports whether the database already has every migration,
// read without a write lock: most opens are a CLI command's, which then
// neither waits for a busy receiver's commits nor needs a writable data
// dir. Anything else (no file, no table, an error, a newer schema) is
// left to Migrate to handle or report.
func (s *Store) schemaCurrent(ctx context.Context) bool {
	if _, err := os.Stat(s.path); err != nil {
		return false
	}
	var v int
	err := s.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	return err == nil && v == len(migrations)
}

func migrateRetryingBusy(ctx context.Context, s *Store) error {
	deadline := time.Now().Add(openBusyWait)
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		_, _, err := s.Migrate(ctx)
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

// isLocked reports SQLITE_LOCKED: a conflict within this process's
// connections, which waiting may also clear.
func isLocked(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_LOCKED
}

// createFile creates the database file and its dir, so the file is 0600
// from its first byte: it holds source secrets.
func createFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	return f.Close()
}

// Close commits the deliveries already queued, answers their callers,
// then closes both pools.
// SetDrainDeadline bounds how long Close keeps committing deliveries
// still queued: a batch begun after t is answered store.ErrClosed (the
// receiver's 503) instead. A batch already committing finishes, within
// the busy timeout. serve sets it to the end of --shutdown-timeout.
func (s *Store) SetDrainDeadline(t time.Time) { s.commits.drainBy.Store(t.UnixNano()) }

func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.commits.stop()
		s.closeErr = errors.Join(s.ckpt.close(), s.w.Close(), s.r.Close())
		s.claimMu.Lock()
		if s.receiverLock != nil {
			s.receiverLock.Close() // releases the lock
		}
		s.claimMu.Unlock()
	})
	return s.closeErr
}

// lockPath is the file whose advisory lock the receiving process holds.
func (s *Store) lockPath() string { return s.path + ".receiver.lock" }

// ErrMigrateUnderReceiver is Migrate's answer when the schema needs
// migrating and another process is receiving into the file.
var ErrMigrateUnderReceiver = errors.New("the database's schema is older than this tw-cli, and a tw-cli serve is receiving into it")

// otherReceiverRunning reports whether another process holds the receiver
// lock (ClaimReceiver); this process's own claim does not count.
func (s *Store) otherReceiverRunning() bool {
	s.claimMu.Lock()
	defer s.claimMu.Unlock()
	if s.receiverLock != nil {
		return false
	}
	f, err := os.OpenFile(s.lockPath(), os.O_RDWR, 0)
	if err != nil {
		return false // no lock file: no receiver ever claimed this file
	}
	defer f.Close() // releases the lock if it was taken here
	held, err := lockExclusive(f)
	return err == nil && !held
}

// ErrOtherReceiver is ClaimReceiver's answer when another process
// already receives into the same database file.
var ErrOtherReceiver = errors.New("another tw-cli serve is already receiving into this database")

// ClaimReceiver makes this process the only one that ingests into the
// file: replay keys are checked in memory (replay.go), which another
// process would not see. Ingest claims on its first delivery; serve
// claims at start to fail before it listens. Several receivers share a
// PostgreSQL database instead.
func (s *Store) ClaimReceiver() error {
	s.claimMu.Lock()
	defer s.claimMu.Unlock()
	if s.receiverLock != nil {
		return nil
	}
	f, err := os.OpenFile(s.lockPath(), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("lock %s: %w", s.path, err)
	}
	held, err := lockExclusive(f)
	if err != nil || !held {
		f.Close()
		if err != nil {
			return fmt.Errorf("lock %s: %w", s.path, err)
		}
		return fmt.Errorf("%w (%s): stop it first, or give each receiver its own --data-dir, or share a PostgreSQL database with --database-url", ErrOtherReceiver, s.path)
	}
	set, err := loadReplay(context.Background(), s.r)
	if err != nil {
		f.Close()
		return err
	}
	s.commits.replay.Store(set)
	s.receiverLock = f
	return nil
}

// Ping checks the database answers, and that deliveries can be written:
// it goes through the committer, which takes the write lock for it, so a
// lock another process holds (or a stuck commit) shows as ctx's deadline
// passing. Reading alone answered while every delivery waited out the
// busy timeout and failed.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.r.PingContext(ctx); err != nil {
		return err
	}
	call := &ingestCall{probe: true, queuedAt: time.Now(), done: make(chan ingestReply, 1)}
	if err := s.commits.enqueue(ctx, call); err != nil {
		return err
	}
	select {
	case r := <-call.done:
		return r.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

var migrations = []string{
	`CREATE TABLE sources (
		name TEXT PRIMARY KEY,
		secret TEXT NOT NULL,
		previous_secret TEXT NOT NULL DEFAULT '',
		previous_expires_at INTEGER NOT NULL DEFAULT 0,
		format TEXT NOT NULL,
		verify TEXT NOT NULL,
		auto_triage INTEGER NOT NULL DEFAULT 0,
		playbook TEXT NOT NULL DEFAULT '',
		severity_mapping TEXT NOT NULL DEFAULT '{}',
		description TEXT NOT NULL DEFAULT '',
		origin TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		updated_at INTEGER NOT NULL
	);
	CREATE TABLE tokens (
		id TEXT PRIMARY KEY,
		name TEXT NOT NULL UNIQUE,
		hash TEXT NOT NULL UNIQUE,
		prefix TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		last_used_at INTEGER NOT NULL DEFAULT 0
	);
	CREATE TABLE incident_counters (year INTEGER PRIMARY KEY, last INTEGER NOT NULL);
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
		created_at INTEGER NOT NULL,
		updated_at INTEGER NOT NULL
	);
	CREATE INDEX incidents_created ON incidents (created_at);
	CREATE INDEX incidents_correlation ON incidents (source, correlation_key) WHERE correlation_key <> '';
	CREATE TABLE events (
		id TEXT PRIMARY KEY,
		source TEXT NOT NULL,
		received_at INTEGER NOT NULL,
		verification TEXT NOT NULL,
		format TEXT NOT NULL,
		event_type TEXT NOT NULL DEFAULT '',
		incident_id TEXT NOT NULL REFERENCES incidents (id),
		request_id TEXT NOT NULL DEFAULT '',
		normalized BLOB NOT NULL,
		payload BLOB NOT NULL
	);
	CREATE INDEX events_received ON events (received_at);
	CREATE TABLE replay_keys (key TEXT PRIMARY KEY, seen_at INTEGER NOT NULL);
	CREATE INDEX replay_keys_seen ON replay_keys (seen_at);`,
	// triage: queue, incident triage state and timeline, destinations,
	// dead letters (see triage.go).
	triageSchema,
	// perf: idempotency keys (X-Webhook-Id / Idempotency-Key) and the
	// result of the delivery that first used them, for 200 on a repeat.
	`CREATE TABLE idempotency_keys (
		key TEXT PRIMARY KEY,
		result BLOB NOT NULL,
		created_at INTEGER NOT NULL
	);
	CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);`,
	// replay keys move into the events they let in and are checked in
	// memory (replay.go); replay_keys is only read back until it expires.
	`ALTER TABLE events ADD COLUMN replay_hash BLOB;
	CREATE TABLE replay_horizon (id INTEGER PRIMARY KEY CHECK (id = 1), before INTEGER NOT NULL);`,
	// A dead letter remembers the kind its body was rendered for, so a
	// retry after the destination changed kind does not send it.
	`ALTER TABLE dead_letters ADD COLUMN kind TEXT NOT NULL DEFAULT '';`,
	// A source may only accept deliveries from some networks: CIDR
	// prefixes, comma-separated ('' allows any).
	`ALTER TABLE sources ADD COLUMN allow_from TEXT NOT NULL DEFAULT '';`,
	// A triage job names its next step, so that it resumes there when the
	// playbook was edited while it waited.
	`ALTER TABLE triage_jobs ADD COLUMN step_name TEXT NOT NULL DEFAULT '';`,
	// A dead letter being retried is claimed until a time, so that a
	// second retry started while the first still sends is refused.
	`ALTER TABLE dead_letters ADD COLUMN claimed_until INTEGER NOT NULL DEFAULT 0;`,
	// An incident's events by time: a merge moves them (it scanned every
	// event, inside the writer's transaction), and triage reads the
	// latest (it walked the events of all incidents back from now).
	`CREATE INDEX events_incident ON events (incident_id, received_at);`,
}

// newID returns a time-ordered UUID (version 7). Random (v4) keys land
// all over the primary-key indexes, so each delivery dirtied a different
// index page and every group commit wrote hundreds of pages to the WAL;
// ordered keys append to the same few pages.
func newID() string {
	id, err := uuid.NewV7()
	if err != nil {
		// Only a failing system random source gets here; v4 fails then too.
		return uuid.NewString()
	}
	return id.String()
}

// unreadableFile words an error that says the file is no SQLite
// database it can read (another file at the path, a corrupt or encrypted
// one), naming it; nil for any other error. SQLite's "file is not a
// database (26)" named no file.
func unreadableFile(path string, err error) error {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return nil
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT:
		return fmt.Errorf("%s is not a SQLite database tw-cli can read (%w): point --data-dir elsewhere, or move the file away to start an empty one", path, err)
	}
	return nil
}

func ts(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromTS(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func isUnique(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// --- sources ---

const sourceCols = `name, secret, previous_secret, previous_expires_at, format, verify, auto_triage, playbook, severity_mapping, description, origin, created_at, updated_at, allow_from`

type scanner interface{ Scan(...any) error }

func scanSource(row scanner) (*store.Source, error) {
	var src store.Source
	var prevExp, created, updated int64
	var mapping, allow string
	if err := row.Scan(&src.Name, &src.Secret, &src.PreviousSecret, &prevExp, &src.Format, &src.Verify, &src.AutoTriage,
		&src.Playbook, &mapping, &src.Description, &src.Origin, &created, &updated, &allow); err != nil {
		return nil, err
	}
	src.AllowFrom = store.DecodeAllowFrom(allow)
	src.PreviousExpiresAt, src.CreatedAt, src.UpdatedAt = fromTS(prevExp), fromTS(created), fromTS(updated)
	var err error
	if src.SeverityMapping, err = store.DecodeSeverityMapping(src.Name, mapping); err != nil {
		return nil, err
	}
	return &src, nil
}

func sourceArgs(src *store.Source) ([]any, error) {
	mapping, err := store.EncodeSeverityMapping(src.SeverityMapping)
	if err != nil {
		return nil, err
	}
	return []any{src.Name, src.Secret, src.PreviousSecret, ts(src.PreviousExpiresAt), src.Format, src.Verify, src.AutoTriage,
		src.Playbook, mapping, src.Description, src.Origin, ts(src.CreatedAt), ts(src.UpdatedAt), store.EncodeAllowFrom(src.AllowFrom)}, nil
}

// CreateSource inserts a new source; ErrExists if the name is taken.
func (s *Store) CreateSource(ctx context.Context, src *store.Source) error {
	args, err := sourceArgs(src)
	if err != nil {
		return err
	}
	_, err = s.w.ExecContext(ctx, `INSERT INTO sources (`+sourceCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)`, args...)
	if isUnique(err) {
		return store.ErrExists
	}
	return err
}

// GetSource returns one source or ErrNotFound.
func (s *Store) GetSource(ctx context.Context, name string) (*store.Source, error) {
	src, err := scanSource(s.r.QueryRowContext(ctx, `SELECT `+sourceCols+` FROM sources WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	return src, err
}

// ListSources returns every source by name.
func (s *Store) ListSources(ctx context.Context) ([]store.Source, error) {
	return queryAll(ctx, s.r, scanSource, `SELECT `+sourceCols+` FROM sources ORDER BY name`)
}

// UpdateSource replaces every field of an existing source.
func (s *Store) UpdateSource(ctx context.Context, src *store.Source, readAt time.Time) error {
	args, err := sourceArgs(src)
	if err != nil {
		return err
	}
	res, err := s.w.ExecContext(ctx, `UPDATE sources SET secret=?2, previous_secret=?3, previous_expires_at=?4, format=?5, verify=?6,
		auto_triage=?7, playbook=?8, severity_mapping=?9, description=?10, origin=?11, created_at=?12, updated_at=?13, allow_from=?14
		WHERE name=?1 AND updated_at=?15`, append(args, ts(readAt))...)
	if err := affected(res, err); !errors.Is(err, store.ErrNotFound) {
		return err
	}
	var one int
	switch err := s.r.QueryRowContext(ctx, `SELECT 1 FROM sources WHERE name = ?`, src.Name).Scan(&one); {
	case errors.Is(err, sql.ErrNoRows):
		return store.ErrNotFound
	case err != nil:
		return err
	}
	return store.ErrChanged
}

// DeleteSource removes a source; events it produced stay.
func (s *Store) DeleteSource(ctx context.Context, name string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM sources WHERE name = ?`, name)
	return affected(res, err)
}

func affected(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// --- tokens ---

// CreateToken stores a token's hash.
func (s *Store) CreateToken(ctx context.Context, t *store.Token) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO tokens (id, name, hash, prefix, created_at) VALUES (?,?,?,?,?)`,
		t.ID, t.Name, t.Hash, t.Prefix, ts(t.CreatedAt))
	if isUnique(err) {
		return store.ErrExists
	}
	return err
}

// ListTokens returns tokens by creation time.
func (s *Store) ListTokens(ctx context.Context) ([]store.Token, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, name, hash, prefix, created_at, last_used_at FROM tokens ORDER BY created_at, name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Token
	for rows.Next() {
		var t store.Token
		var c, u int64
		if err := rows.Scan(&t.ID, &t.Name, &t.Hash, &t.Prefix, &c, &u); err != nil {
			return nil, err
		}
		t.CreatedAt, t.LastUsedAt = fromTS(c), fromTS(u)
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken deletes a token by id, or else by name: one whose name is
// another's id is not revoked with it.
func (s *Store) RevokeToken(ctx context.Context, idOrName string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM tokens WHERE id = ?1 OR (name = ?1 AND NOT EXISTS (SELECT 1 FROM tokens WHERE id = ?1))`, idOrName)
	return affected(res, err)
}

// TouchToken looks a token up by hash and records its use.
func (s *Store) TouchToken(ctx context.Context, hash string, at time.Time) (*store.Token, error) {
	var t store.Token
	var c, u int64
	err := s.r.QueryRowContext(ctx, `SELECT id, name, hash, prefix, created_at, last_used_at FROM tokens WHERE hash = ?`, hash).
		Scan(&t.ID, &t.Name, &t.Hash, &t.Prefix, &c, &u)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	t.CreatedAt, t.LastUsedAt = fromTS(c), fromTS(u)
	// Last use is advisory: a minute's precision saves a write per request.
	if at.Sub(t.LastUsedAt) > time.Minute {
		if _, err := s.w.ExecContext(ctx, `UPDATE tokens SET last_used_at = ? WHERE id = ?`, ts(at), t.ID); err != nil {
			return nil, err
		}
		t.LastUsedAt = at.UTC()
	}
	return &t, nil
}

// --- ingest ---

// ingestTx writes one delivery inside the group commit's transaction
// (batch.go). Its refusals (ErrReplayed, a duplicate) are decided before
// anything is written, so they need no rollback.
func ingestTx(ctx context.Context, tx writeTx, replay *replayClaims, d *store.Delivery, replayHash replayHash) (*store.IngestResult, error) {
	now := d.ReceivedAt.UTC()
	if d.IdempotencyKey != "" {
		if res, err := idempotentResult(ctx, tx, d); err != nil || res != nil {
			return res, err
		}
	}
	// The first event carries the replay key (replay.go).
	var replayHashArg any
	if d.ReplayKey != "" {
		at, signed := ts(now), !d.ReplaySince.IsZero()
		if signed {
			at = ts(d.ReplaySince)
		}
		if !replay.claim(replayHash, at, signed) {
			return nil, store.ErrReplayed
		}
		replayHashArg = replayHash.bytes()
	}
	var bulk *bulkRows
	if b, ok := tx.(*batchTx); ok && d.Triage == nil {
		bulk = b.bulk
	}
	res := &store.IngestResult{}
	for _, it := range d.Items {
		inc, err := attachIncident(ctx, tx, bulk, d.Source, it, now)
		if err != nil {
			return nil, err
		}
		ev := store.Event{
			ID: newID(), Source: d.Source, ReceivedAt: now, Verification: d.Verification,
			Format: d.Format, Type: it.Type, IncidentID: inc.ID, IncidentNum: inc.Number,
			RequestID: d.RequestID, Normalized: it.Normalized, Payload: d.Payload,
		}
		row := []any{ev.ID, ev.Source, ts(now), ev.Verification, ev.Format, ev.Type, ev.IncidentID, ev.RequestID, ev.Normalized, ev.Payload, replayHashArg}
		if bulk != nil {
			bulk.events = append(bulk.events, row)
		} else if _, err := tx.ExecContext(ctx, eventInsertCols+`(?,?,?,?,?,?,?,?,?,?,?)`, row...); err != nil {
			return nil, err
		}
		replayHashArg = nil
		res.Events = append(res.Events, ev)
		res.Incidents = append(res.Incidents, *inc)
		job, err := enqueueTriageTx(ctx, tx, d, inc, ev.ID, now)
		if err != nil {
			return nil, err
		}
		if job != nil {
			res.Jobs = append(res.Jobs, *job)
		}
	}
	if d.IdempotencyKey != "" {
		if err := rememberIdempotent(ctx, tx, d, res); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// correlatedIncident finds the open incident of a source and correlation
// key. Its test that correlation_key is not empty says what the caller
// knows, so that the planner may use the partial index
// incidents_correlation: from "= ?" alone it cannot tell, and it scanned
// every incident of every source for each keyed delivery
// (TestQueriesUseTheirIndexes).
const correlatedIncident = `SELECT ` + incidentCols + ` FROM incidents
	WHERE source = ? AND correlation_key = ? AND correlation_key <> '' AND status <> ? ORDER BY created_at DESC LIMIT 1`

// latestOfKey is the newest incident of a source and correlation key, and
// the number it was merged into (empty when it was not).
const latestOfKey = `SELECT COALESCE(t.merged_into, '') FROM incidents i LEFT JOIN incident_triage t ON t.incident_id = i.id
	WHERE i.source = ? AND i.correlation_key = ? AND i.correlation_key <> '' ORDER BY i.created_at DESC LIMIT 1`

// mergeTarget is the open incident holding the events of the key's newest
// incident, when a group step merged that one away (following merges of
// merges); sql.ErrNoRows when there is none.
func mergeTarget(ctx context.Context, tx writeTx, source, key string) (*store.Incident, error) {
	var into string
	if err := tx.QueryRowContext(ctx, latestOfKey, source, key).Scan(&into); err != nil || into == "" {
		if err == nil {
			err = sql.ErrNoRows
		}
		return nil, err
	}
	inc, ok, err := store.FollowMerges(into, func(number string) (*store.Incident, string, error) {
		target, err := scanIncident(tx.QueryRowContext(ctx, `SELECT `+incidentCols+` FROM incidents WHERE number = ?`, number))
		if err != nil {
			return nil, "", err
		}
		var next string
		if err := tx.QueryRowContext(ctx, `SELECT merged_into FROM incident_triage WHERE incident_id = ?`, target.ID).Scan(&next); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, "", err
		}
		return target, next, nil
	})
	if err == nil && !ok {
		return nil, sql.ErrNoRows // nothing open to follow to: a new incident
	}
	return inc, err
}

// lastResolvedIncident is where a resolving item lands when nothing of its
// key is open (see store.DeliveryItem.Resolve). An incident merged into
// another is resolved too, but its events moved: it must stay empty.
const lastResolvedIncident = `SELECT ` + incidentCols + ` FROM incidents
	WHERE source = ? AND correlation_key = ? AND correlation_key <> '' AND status = ?
	AND NOT EXISTS (SELECT 1 FROM incident_triage t WHERE t.incident_id = incidents.id AND t.merged_into <> '')
	ORDER BY created_at DESC LIMIT 1`

// attachIncident finds the open incident an item correlates with, or opens
// a new one with the next number of the year.
//
// With bulk, a new incident without a correlation key is written at the
// end of the transaction (bulk.go); nothing in it can look such one up.
func attachIncident(ctx context.Context, tx writeTx, bulk *bulkRows, source string, it store.DeliveryItem, now time.Time) (*store.Incident, error) {
	if it.CorrelationKey != "" {
		inc, err := scanIncident(tx.QueryRowContext(ctx, correlatedIncident, source, it.CorrelationKey, store.StatusResolved))
		if errors.Is(err, sql.ErrNoRows) {
			// Its key's incident may have been merged into a group
			// (its events moved there): updates follow them.
			var target *store.Incident
			if target, err = mergeTarget(ctx, tx, source, it.CorrelationKey); err == nil {
				inc, it = target, store.ForMergeTarget(it, target)
			}
		}
		if errors.Is(err, sql.ErrNoRows) && it.Resolve {
			inc, err = scanIncident(tx.QueryRowContext(ctx, lastResolvedIncident, source, it.CorrelationKey, store.StatusResolved))
		}
		switch {
		case err == nil:
			entry := store.ApplyItem(inc, it, now)
			if _, err := tx.ExecContext(ctx, `UPDATE incidents SET title = ?, severity = ?, status = ?, event_count = ?, updated_at = ? WHERE id = ?`,
				inc.Title, inc.Severity, inc.Status, inc.EventCount, ts(now), inc.ID); err != nil {
				return nil, err
			}
			if entry != nil {
				if err := insertTimeline(ctx, tx, inc.ID, now, *entry); err != nil {
					return nil, err
				}
			}
			return inc, nil
		case !errors.Is(err, sql.ErrNoRows):
			return nil, err
		}
	}
	seq, err := nextIncidentSeq(ctx, tx, now.Year())
	if err != nil {
		return nil, err
	}
	sev := it.Severity
	if sev == "" { // an update whose creation never arrived
		sev = "info"
	}
	inc := &store.Incident{
		ID: newID(), Number: store.FormatIncidentNumber(now.Year(), seq), Title: it.Title,
		Severity: sev, Status: store.NewIncidentStatus(it), Source: source, Category: it.Category,
		CorrelationKey: it.CorrelationKey, EventCount: 1, CreatedAt: now, UpdatedAt: now,
	}
	row := []any{inc.ID, inc.Number, inc.Title, inc.Severity, inc.Status, inc.Source, inc.Category, inc.CorrelationKey, inc.EventCount, ts(now), ts(now)}
	if bulk != nil && it.CorrelationKey == "" {
		bulk.incidents = append(bulk.incidents, row)
		return inc, nil
	}
	_, err = tx.ExecContext(ctx, incidentInsertCols+`(?,?,?,?,?,?,?,?,?,?,?)`, row...)
	return inc, err
}

// PruneReplay forgets replay keys seen before the cut-off: from memory,
// and for a restart by moving the horizon past them (replay.go).
func (s *Store) PruneReplay(ctx context.Context, before time.Time) error {
	now := time.Now().UnixNano()
	if r := s.commits.replay.Load(); r != nil {
		r.prune(ts(before))
		r.dropFuture(now + replayFutureSlack)
	}
	// The horizon only moves forward, except from the future a clock
	// that ran ahead left it in.
	if _, err := s.w.ExecContext(ctx, `INSERT INTO replay_horizon (id, before) VALUES (1, ?1)
		ON CONFLICT (id) DO UPDATE SET before = CASE WHEN before > ?2 THEN excluded.before ELSE max(before, excluded.before) END`,
		ts(before), now); err != nil {
		return err
	}
	return s.pruneChunked(ctx, `DELETE FROM replay_keys WHERE rowid IN
		(SELECT rowid FROM replay_keys WHERE seen_at < ? LIMIT ?)`, before)
}

// pruneChunkRows bounds one prune statement. At thousands of deliveries a
// second a minute's keys are many rows; deleting them in one statement
// would hold the only write lock, and stall every commit, for seconds.
const pruneChunkRows = 2000

func (s *Store) pruneChunked(ctx context.Context, query string, before time.Time) error {
	for {
		res, err := s.w.ExecContext(ctx, query, ts(before), pruneChunkRows)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil || n < pruneChunkRows {
			return err
		}
	}
}

// --- reads ---

const incidentCols = `id, number, title, severity, status, source, category, correlation_key, event_count, created_at, updated_at`

func scanIncident(row scanner) (*store.Incident, error) {
	var inc store.Incident
	var c, u int64
	if err := row.Scan(&inc.ID, &inc.Number, &inc.Title, &inc.Severity, &inc.Status, &inc.Source, &inc.Category,
		&inc.CorrelationKey, &inc.EventCount, &c, &u); err != nil {
		return nil, err
	}
	inc.CreatedAt, inc.UpdatedAt = fromTS(c), fromTS(u)
	return &inc, nil
}

// listedIncidentCols are incidentCols with the owner and tags of the
// incident's triage state, for ListIncidents: an incident nothing
// triaged yet has no incident_triage row.
var listedIncidentCols = prefixed("i.", incidentCols) + `, COALESCE(t.owner, ''), COALESCE(t.tags, '[]')`

func scanListedIncident(row scanner) (*store.Incident, error) {
	var inc store.Incident
	var c, u int64
	var tags string
	if err := row.Scan(&inc.ID, &inc.Number, &inc.Title, &inc.Severity, &inc.Status, &inc.Source, &inc.Category,
		&inc.CorrelationKey, &inc.EventCount, &c, &u, &inc.Owner, &tags); err != nil {
		return nil, err
	}
	inc.CreatedAt, inc.UpdatedAt = fromTS(c), fromTS(u)
	var err error
	inc.Tags, err = store.DecodeTags(inc.ID, tags)
	return &inc, err
}

// ListIncidents returns incidents newest first, with their owner and
// tags read in the same query.
func (s *Store) ListIncidents(ctx context.Context, f store.IncidentFilter) ([]store.Incident, error) {
	q, args := `SELECT `+listedIncidentCols+` FROM incidents i LEFT JOIN incident_triage t ON t.incident_id = i.id WHERE 1=1`, []any{}
	if f.Source != "" {
		q, args = q+` AND i.source = ?`, append(args, f.Source)
	}
	if f.Status != "" {
		q, args = q+` AND i.status = ?`, append(args, f.Status)
	}
	if f.Owner != "" {
		q, args = q+` AND t.owner = ?`, append(args, f.Owner)
	}
	if !f.Since.IsZero() {
		q, args = q+` AND i.created_at >= ?`, append(args, ts(f.Since))
	}
	q += ` ORDER BY i.created_at DESC, i.number DESC`
	if f.Limit > 0 {
		q, args = q+` LIMIT ?`, append(args, f.Limit)
	}
	return queryAll(ctx, s.r, scanListedIncident, q, args...)
}

// GetIncident finds an incident by id or number.
func (s *Store) GetIncident(ctx context.Context, idOrNumber string) (*store.Incident, error) {
	inc, err := scanIncident(s.r.QueryRowContext(ctx, `SELECT `+incidentCols+` FROM incidents WHERE id = ? OR number = ?`, idOrNumber, strings.ToUpper(idOrNumber)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	return inc, err
}

const eventCols = `e.id, e.source, e.received_at, e.verification, e.format, e.event_type, e.incident_id, COALESCE(i.number, ''), e.request_id, e.normalized, e.payload`

func scanEvent(row scanner) (*store.Event, error) {
	var ev store.Event
	var r int64
	if err := row.Scan(&ev.ID, &ev.Source, &r, &ev.Verification, &ev.Format, &ev.Type, &ev.IncidentID, &ev.IncidentNum,
		&ev.RequestID, &ev.Normalized, &ev.Payload); err != nil {
		return nil, err
	}
	ev.ReceivedAt = fromTS(r)
	return &ev, nil
}

// ListEvents returns events newest first.
func (s *Store) ListEvents(ctx context.Context, f store.EventFilter) ([]store.Event, error) {
	q, args := `SELECT `+eventCols+` FROM events e LEFT JOIN incidents i ON i.id = e.incident_id WHERE 1=1`, []any{}
	if f.Source != "" {
		q, args = q+` AND e.source = ?`, append(args, f.Source)
	}
	if !f.Since.IsZero() {
		q, args = q+` AND e.received_at >= ?`, append(args, ts(f.Since))
	}
	q += ` ORDER BY e.received_at DESC, e.rowid DESC`
	if f.Limit > 0 {
		q, args = q+` LIMIT ?`, append(args, f.Limit)
	}
	return queryAll(ctx, s.r, scanEvent, q, args...)
}

// GetEvent returns one event by id.
func (s *Store) GetEvent(ctx context.Context, id string) (*store.Event, error) {
	ev, err := scanEvent(s.r.QueryRowContext(ctx, `SELECT `+eventCols+` FROM events e LEFT JOIN incidents i ON i.id = e.incident_id WHERE e.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	return ev, err
}

type rowsQuerier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// queryAll runs a query and scans every row into a T.
func queryAll[T any](ctx context.Context, db rowsQuerier, scan func(scanner) (*T, error), query string, args ...any) ([]T, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
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
