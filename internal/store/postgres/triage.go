package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/tw-cli/tw-cli/internal/store"
)

// triageSchema mirrors SQLite's triage migration. Job times that mean
// "none yet" (lease_until, completed_at) are NULL.
const triageSchema = `CREATE TABLE triage_jobs (
		id TEXT PRIMARY KEY,
		incident_id TEXT NOT NULL REFERENCES incidents (id),
		event_id TEXT NOT NULL DEFAULT '',
		source TEXT NOT NULL,
		playbook TEXT NOT NULL,
		status TEXT NOT NULL,
		step INTEGER NOT NULL DEFAULT 0,
		attempts INTEGER NOT NULL DEFAULT 0,
		run_at TIMESTAMPTZ NOT NULL,
		lease_owner TEXT NOT NULL DEFAULT '',
		lease_until TIMESTAMPTZ,
		last_error TEXT NOT NULL DEFAULT '',
		created_at TIMESTAMPTZ NOT NULL,
		updated_at TIMESTAMPTZ NOT NULL,
		completed_at TIMESTAMPTZ
	);
	CREATE INDEX triage_jobs_queued ON triage_jobs (run_at, created_at) WHERE status = 'queued';
	CREATE INDEX triage_jobs_running ON triage_jobs (lease_until) WHERE status = 'running';
	CREATE INDEX triage_jobs_incident ON triage_jobs (incident_id);
	CREATE TABLE incident_triage (
		incident_id TEXT PRIMARY KEY REFERENCES incidents (id),
		owner TEXT NOT NULL DEFAULT '',
		tags TEXT NOT NULL DEFAULT '[]',
		indicators TEXT NOT NULL DEFAULT '{}',
		group_key TEXT NOT NULL DEFAULT '',
		group_last_at TIMESTAMPTZ,
		merged_into TEXT NOT NULL DEFAULT '',
		suppressed BOOLEAN NOT NULL DEFAULT false,
		suppress_reason TEXT NOT NULL DEFAULT ''
	);
	CREATE INDEX incident_triage_group ON incident_triage (group_key, group_last_at) WHERE group_key <> '';
	CREATE TABLE incident_timeline (
		id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		incident_id TEXT NOT NULL REFERENCES incidents (id),
		at TIMESTAMPTZ NOT NULL,
		kind TEXT NOT NULL,
		actor TEXT NOT NULL,
		step TEXT NOT NULL DEFAULT '',
		outcome TEXT NOT NULL DEFAULT '',
		message TEXT NOT NULL,
		job_id TEXT NOT NULL DEFAULT ''
	);
	CREATE INDEX incident_timeline_incident ON incident_timeline (incident_id, id);
	CREATE TABLE destinations (
		name TEXT PRIMARY KEY,
		kind TEXT NOT NULL,
		url TEXT NOT NULL,
		token BYTEA NOT NULL DEFAULT '',
		secret BYTEA NOT NULL DEFAULT '',
		sourcetype TEXT NOT NULL DEFAULT '',
		created_at TIMESTAMPTZ NOT NULL
	);
	CREATE TABLE dead_letters (
		id TEXT PRIMARY KEY,
		destination TEXT NOT NULL,
		incident_id TEXT NOT NULL DEFAULT '',
		incident_number TEXT NOT NULL DEFAULT '',
		body BYTEA NOT NULL,
		attempts INTEGER NOT NULL,
		last_status INTEGER NOT NULL DEFAULT 0,
		last_error TEXT NOT NULL,
		created_at TIMESTAMPTZ NOT NULL,
		updated_at TIMESTAMPTZ NOT NULL
	);`

// newQueueID returns an id in seed 003's "queue-…" shape.
func newQueueID() string {
	return "queue-" + strings.ReplaceAll(uuid.NewString(), "-", "")
}

// enqueueTriageTx queues auto-triage for an incident the delivery opened,
// in the delivery's transaction. Events that land on an existing incident
// are not triaged again: the playbook ran when that incident was opened.
func enqueueTriageTx(ctx context.Context, tx pgx.Tx, d *store.Delivery, inc *store.Incident, eventID string, now time.Time) (*store.TriageJob, error) {
	if d.Triage == nil || inc.EventCount != 1 || inc.Status == store.StatusResolved {
		return nil, nil // a playbook has nothing to do on a closed incident
	}
	job := &store.TriageJob{
		ID: newQueueID(), IncidentID: inc.ID, EventID: eventID, Source: inc.Source, Playbook: text(d.Triage.Playbook),
		Status: store.JobQueued, RunAt: now, CreatedAt: now, UpdatedAt: now,
	}
	if _, err := tx.Exec(ctx, `INSERT INTO triage_jobs (id, incident_id, event_id, source, playbook, status, run_at, created_at, updated_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$7,$7)`, job.ID, job.IncidentID, job.EventID, job.Source, job.Playbook, job.Status, now); err != nil {
		return nil, err
	}
	err := insertTimeline(ctx, tx, inc.ID, now, store.TimelineEntry{
		Kind: store.TimelinePlaybook, Actor: "receiver", Outcome: store.JobQueued, JobID: job.ID,
		Message: fmt.Sprintf("queued for playbook %s (%s)", job.Playbook, job.ID),
	})
	return job, err
}

const jobCols = `id, incident_id, event_id, source, playbook, status, step, step_name, attempts, run_at, lease_owner, lease_until, last_error, created_at, updated_at, completed_at`

func scanJob(row pgx.Row) (*store.TriageJob, error) {
	var j store.TriageJob
	var leaseUntil, completed pgtype.Timestamptz
	if err := row.Scan(&j.ID, &j.IncidentID, &j.EventID, &j.Source, &j.Playbook, &j.Status, &j.Step, &j.StepName, &j.Attempts,
		&j.RunAt, &j.LeaseOwner, &leaseUntil, &j.LastError, &j.CreatedAt, &j.UpdatedAt, &completed); err != nil {
		return nil, err
	}
	j.RunAt, j.CreatedAt, j.UpdatedAt = j.RunAt.UTC(), j.CreatedAt.UTC(), j.UpdatedAt.UTC()
	j.LeaseUntil, j.CompletedAt = fromNull(leaseUntil), fromNull(completed)
	return &j, nil
}

// ClaimTriageJobs implements store.TriageStore.
//
// Replicas poll the queue at once. FOR UPDATE SKIP LOCKED makes each
// claimer lock the runnable rows it picks and pass over rows another
// claimer holds, instead of queueing behind it; a row claimed and
// committed meanwhile no longer matches when rechecked. So a job goes to
// exactly one worker, and idle pollers never block ingest or each other.
func (s *Store) ClaimTriageJobs(ctx context.Context, worker string, now time.Time, lease time.Duration, limit int) ([]store.TriageJob, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `WITH picked AS (
			SELECT id FROM triage_jobs
			WHERE (status = 'queued' AND run_at <= $1) OR (status = 'running' AND lease_until <= $1)
			ORDER BY run_at, created_at LIMIT $4
			FOR UPDATE SKIP LOCKED)
		UPDATE triage_jobs j SET status = 'running', lease_owner = $2, lease_until = $3, attempts = j.attempts + 1, updated_at = $1
		FROM picked WHERE j.id = picked.id
		RETURNING `+prefixed("j.", jobCols), now, text(worker), now.Add(lease), limit)
	if err != nil {
		return nil, err
	}
	out, err := collect(rows, scanJob)
	if err != nil {
		return nil, err
	}
	// RETURNING has no defined order; oldest first is what callers expect.
	sort.Slice(out, func(i, k int) bool {
		if !out[i].RunAt.Equal(out[k].RunAt) {
			return out[i].RunAt.Before(out[k].RunAt)
		}
		return out[i].CreatedAt.Before(out[k].CreatedAt)
	})
	return out, nil
}

// dbExec is a pool or a transaction.
type dbExec interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// held updates a job only while worker holds its lease.
func held(ctx context.Context, db dbExec, query string, args ...any) error {
	tag, err := db.Exec(ctx, query, args...)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return store.ErrLeaseLost
	}
	return nil
}

// ExtendTriageLease implements store.TriageStore.
func (s *Store) ExtendTriageLease(ctx context.Context, id, worker string, until time.Time) error {
	return held(ctx, s.pool, `UPDATE triage_jobs SET lease_until = $1 WHERE id = $2 AND lease_owner = $3 AND status = 'running'`, until, text(id), text(worker))
}

// CompleteTriageJob implements store.TriageStore.
func (s *Store) CompleteTriageJob(ctx context.Context, id, worker string, now time.Time, entries ...store.TimelineEntry) error {
	return s.finishJob(ctx, id, now, entries, `UPDATE triage_jobs SET status = 'done', lease_owner = '', lease_until = NULL,
		last_error = '', updated_at = $1, completed_at = $1 WHERE id = $2 AND lease_owner = $3 AND status = 'running' RETURNING incident_id`, now, text(id), text(worker))
}

// FailTriageJob implements store.TriageStore.
func (s *Store) FailTriageJob(ctx context.Context, id, worker string, now time.Time, errMsg string, retryAt time.Time, entries ...store.TimelineEntry) error {
	if retryAt.IsZero() {
		return s.finishJob(ctx, id, now, entries, `UPDATE triage_jobs SET status = 'failed', lease_owner = '', lease_until = NULL,
			last_error = $4, updated_at = $1, completed_at = $1 WHERE id = $2 AND lease_owner = $3 AND status = 'running' RETURNING incident_id`,
			now, text(id), text(worker), text(errMsg))
	}
	return s.finishJob(ctx, id, now, entries, `UPDATE triage_jobs SET status = 'queued', lease_owner = '', lease_until = NULL,
		last_error = $4, run_at = $5, updated_at = $1 WHERE id = $2 AND lease_owner = $3 AND status = 'running' RETURNING incident_id`,
		now, text(id), text(worker), text(errMsg), retryAt)
}

// RequeueTriageJob implements store.TriageStore.
func (s *Store) RequeueTriageJob(ctx context.Context, id, worker string, now time.Time, entries ...store.TimelineEntry) error {
	return s.finishJob(ctx, id, now, entries, `UPDATE triage_jobs SET status = 'queued', lease_owner = '', lease_until = NULL,
		attempts = GREATEST(attempts - 1, 0), run_at = $1, updated_at = $1 WHERE id = $2 AND lease_owner = $3 AND status = 'running' RETURNING incident_id`,
		now, text(id), text(worker))
}

// finishJob runs a held update that returns the job's incident, and adds
// the entries to that incident's timeline, in one transaction.
func (s *Store) finishJob(ctx context.Context, id string, now time.Time, entries []store.TimelineEntry, query string, args ...any) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var incidentID string
		err := tx.QueryRow(ctx, query, args...).Scan(&incidentID)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrLeaseLost
		}
		if err != nil {
			return err
		}
		return insertTimeline(ctx, tx, incidentID, now, entries...)
	})
}

// GetTriageJob implements store.TriageStore.
func (s *Store) GetTriageJob(ctx context.Context, id string) (*store.TriageJob, error) {
	j, err := scanJob(s.pool.QueryRow(ctx, `SELECT `+jobCols+` FROM triage_jobs WHERE id = $1`, text(id)))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	return j, err
}

// ListTriageJobs implements store.TriageStore; an empty incidentID lists all.
func (s *Store) ListTriageJobs(ctx context.Context, incidentID string) ([]store.TriageJob, error) {
	var q query
	q.sql.WriteString(`SELECT ` + jobCols + ` FROM triage_jobs`)
	if incidentID != "" {
		q.sql.WriteString(` WHERE incident_id = ` + q.arg(text(incidentID)))
	}
	q.sql.WriteString(` ORDER BY created_at, id COLLATE "C"`)
	rows, err := s.pool.Query(ctx, q.sql.String(), q.args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanJob)
}

// --- incident triage state and timeline ---

func insertTimeline(ctx context.Context, tx pgx.Tx, incidentID string, at time.Time, entries ...store.TimelineEntry) error {
	for _, e := range entries {
		id := e.IncidentID
		if id == "" {
			id = incidentID
		}
		when := e.At
		if when.IsZero() {
			when = at
		}
		if _, err := tx.Exec(ctx, `INSERT INTO incident_timeline (incident_id, at, kind, actor, step, outcome, message, job_id)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`, text(id), when, text(e.Kind), text(e.Actor), text(e.Step), text(e.Outcome), text(e.Message), text(e.JobID)); err != nil {
			return err
		}
	}
	return nil
}

const triageCols = `incident_id, owner, tags, indicators, group_key, group_last_at, merged_into, suppressed, suppress_reason`

func scanTriage(row pgx.Row) (*store.IncidentTriage, error) {
	var t store.IncidentTriage
	var tags, ind string
	var groupAt pgtype.Timestamptz
	if err := row.Scan(&t.IncidentID, &t.Owner, &tags, &ind, &t.GroupKey, &groupAt, &t.MergedInto, &t.Suppressed, &t.SuppressReason); err != nil {
		return nil, err
	}
	t.GroupLastAt = fromNull(groupAt)
	if err := json.Unmarshal([]byte(tags), &t.Tags); err != nil {
		return nil, fmt.Errorf("incident %s: bad tags: %w", t.IncidentID, err)
	}
	if err := json.Unmarshal([]byte(ind), &t.Indicators); err != nil {
		return nil, fmt.Errorf("incident %s: bad indicators: %w", t.IncidentID, err)
	}
	return &t, nil
}

// dbQuery is a pool or a transaction.
type dbQuery interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func getTriage(ctx context.Context, db dbQuery, incidentID string) (*store.IncidentTriage, error) {
	t, err := scanTriage(db.QueryRow(ctx, `SELECT `+triageCols+` FROM incident_triage WHERE incident_id = $1`, text(incidentID)))
	if errors.Is(err, pgx.ErrNoRows) {
		// Every incident has triage state, even if nothing set it yet.
		return &store.IncidentTriage{IncidentID: incidentID}, nil
	}
	return t, err
}

func putTriage(ctx context.Context, tx pgx.Tx, t *store.IncidentTriage) error {
	tags := []byte("[]")
	if t.Tags != nil {
		var err error
		if tags, err = json.Marshal(t.Tags); err != nil {
			return err
		}
	}
	ind, err := json.Marshal(t.Indicators)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO incident_triage (`+triageCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)
		ON CONFLICT (incident_id) DO UPDATE SET owner = excluded.owner, tags = excluded.tags, indicators = excluded.indicators,
		group_key = excluded.group_key, group_last_at = excluded.group_last_at, merged_into = excluded.merged_into,
		suppressed = excluded.suppressed, suppress_reason = excluded.suppress_reason`,
		text(t.IncidentID), text(t.Owner), string(tags), string(ind), text(t.GroupKey), nullTime(t.GroupLastAt), text(t.MergedInto), t.Suppressed, text(t.SuppressReason))
	return err
}

// lockIncident reads an incident and locks it for this transaction, so
// changes to one incident (a playbook step, an analyst, a correlated
// delivery) apply one after another instead of overwriting each other.
func lockIncident(ctx context.Context, tx pgx.Tx, idOrNumber string) (*store.Incident, error) {
	inc, err := scanIncident(tx.QueryRow(ctx, `SELECT `+incidentCols+` FROM incidents WHERE id = $1 OR number = $2 FOR NO KEY UPDATE`,
		text(idOrNumber), text(strings.ToUpper(idOrNumber))))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	return inc, err
}

// ApplyIncidentChange implements store.TriageStore.
func (s *Store) ApplyIncidentChange(ctx context.Context, idOrNumber string, ch store.IncidentChange, progress *store.JobProgress, at time.Time, entries ...store.TimelineEntry) (*store.Incident, error) {
	var inc *store.Incident
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if inc, err = lockIncident(ctx, tx, idOrNumber); err != nil {
			return err
		}
		if progress != nil {
			if err := held(ctx, tx, `UPDATE triage_jobs SET step = $1, step_name = $2, lease_until = $3, updated_at = $4 WHERE id = $5 AND lease_owner = $6 AND status = 'running'`,
				progress.NextStep, text(progress.NextStepName), at.Add(progress.Lease), at, text(progress.JobID), text(progress.Worker)); err != nil {
				return err
			}
		}
		tr, err := getTriage(ctx, tx, inc.ID)
		if err != nil {
			return err
		}
		if ch.Check != nil {
			if err := ch.Check(inc, tr); err != nil {
				return err
			}
		}
		changed := false
		if ch.Severity != nil {
			inc.Severity, changed = text(*ch.Severity), true
		}
		if ch.Status != nil {
			inc.Status, changed = text(*ch.Status), true
			tr.SetStatus(*ch.Status)
		}
		if ch.Owner != nil {
			tr.Owner, changed = text(*ch.Owner), true
		}
		if len(ch.AddTags) > 0 {
			tr.Tags, changed = store.Union(tr.Tags, ch.AddTags), true
		}
		if !ch.AddIndicators.Empty() {
			tr.Indicators, changed = tr.Indicators.Merge(ch.AddIndicators), true
		}
		if ch.GroupKey != nil {
			if !ch.GroupSince.IsZero() {
				// Serializes the claims of one key: under READ COMMITTED
				// the check below would not see a claim still in flight.
				if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('tw-cli group ' || $1, 0))`, text(*ch.GroupKey)); err != nil {
					return err
				}
				if _, err := findGroup(ctx, tx, *ch.GroupKey, ch.GroupSince, inc.ID); err == nil {
					return store.ErrGroupTaken
				} else if !errors.Is(err, store.ErrNotFound) {
					return err
				}
			}
			tr.GroupKey, tr.GroupLastAt, changed = text(*ch.GroupKey), micro(at), true
		}
		if ch.Suppress != nil {
			tr.Suppressed, tr.SuppressReason, inc.Status, changed = true, text(*ch.Suppress), store.StatusResolved, true
		}
		if ch.MergeInto != "" {
			if err := mergeIncident(ctx, tx, inc, tr, ch.MergeInto, at); err != nil {
				return err
			}
			changed = true
		}
		if changed {
			inc.UpdatedAt = micro(at)
			if _, err := tx.Exec(ctx, `UPDATE incidents SET severity = $1, status = $2, event_count = $3, updated_at = $4 WHERE id = $5`,
				inc.Severity, inc.Status, inc.EventCount, at, inc.ID); err != nil {
				return err
			}
			if err := putTriage(ctx, tx, tr); err != nil {
				return err
			}
		}
		return insertTimeline(ctx, tx, inc.ID, at, entries...)
	})
	if err != nil {
		return nil, err
	}
	return inc, nil
}

// mergeIncident folds inc into target: events move, counts add up, inc is
// resolved and points at target, whose group time restarts the window.
// The target is locked too; two merges in opposite directions at once
// would deadlock, which PostgreSQL detects and fails one of.
func mergeIncident(ctx context.Context, tx pgx.Tx, inc *store.Incident, tr *store.IncidentTriage, targetID string, at time.Time) error {
	target, err := lockIncident(ctx, tx, targetID)
	if err != nil {
		return fmt.Errorf("merge target %s: %w", targetID, err)
	}
	if target.ID == inc.ID {
		return fmt.Errorf("cannot merge %s into itself", inc.Number)
	}
	if _, err := tx.Exec(ctx, `UPDATE events SET incident_id = $1 WHERE incident_id = $2`, target.ID, inc.ID); err != nil {
		return err
	}
	targetTriage, err := getTriage(ctx, tx, target.ID)
	if err != nil {
		return err
	}
	store.FoldInto(target, targetTriage, inc, tr, at)
	if _, err := tx.Exec(ctx, `UPDATE incidents SET event_count = $1, severity = $2, updated_at = $3 WHERE id = $4`,
		target.EventCount, target.Severity, at, target.ID); err != nil {
		return err
	}
	if err := putTriage(ctx, tx, targetTriage); err != nil {
		return err
	}
	tr.MergedInto = target.Number
	inc.Status, inc.EventCount = store.StatusResolved, 0
	return nil
}

// GetIncidentTriage implements store.TriageStore.
func (s *Store) GetIncidentTriage(ctx context.Context, incidentID string) (*store.IncidentTriage, error) {
	return getTriage(ctx, s.pool, incidentID)
}

// FindGroupIncident implements store.TriageStore.
func (s *Store) FindGroupIncident(ctx context.Context, key string, since time.Time, exclude string) (*store.Incident, error) {
	return findGroup(ctx, s.pool, key, since, exclude)
}

// findGroup's test that group_key is not empty lets a generic plan use
// the partial index incident_triage_group, which "= $1" alone does not
// prove applies.
func findGroup(ctx context.Context, q dbQuery, key string, since time.Time, exclude string) (*store.Incident, error) {
	inc, err := scanIncident(q.QueryRow(ctx, `SELECT `+prefixed("i.", incidentCols)+` FROM incident_triage t JOIN incidents i ON i.id = t.incident_id
		WHERE t.group_key = $1 AND t.group_key <> '' AND t.group_last_at >= $2 AND i.id <> $3 AND i.status <> $4 AND t.merged_into = ''
		ORDER BY i.created_at LIMIT 1`, text(key), since, text(exclude), store.StatusResolved))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	return inc, err
}

func prefixed(p, cols string) string {
	parts := strings.Split(cols, ", ")
	for i := range parts {
		parts[i] = p + parts[i]
	}
	return strings.Join(parts, ", ")
}

// ListTimeline implements store.TriageStore: oldest first.
func (s *Store) ListTimeline(ctx context.Context, incidentID string) ([]store.TimelineEntry, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, incident_id, at, kind, actor, step, outcome, message, job_id
		FROM incident_timeline WHERE incident_id = $1 ORDER BY id`, text(incidentID))
	if err != nil {
		return nil, err
	}
	return collect(rows, func(row pgx.Row) (*store.TimelineEntry, error) {
		var e store.TimelineEntry
		if err := row.Scan(&e.ID, &e.IncidentID, &e.At, &e.Kind, &e.Actor, &e.Step, &e.Outcome, &e.Message, &e.JobID); err != nil {
			return nil, err
		}
		e.At = e.At.UTC()
		return &e, nil
	})
}

// LatestIncidentEvent implements store.TriageStore.
func (s *Store) LatestIncidentEvent(ctx context.Context, incidentID string) (*store.Event, error) {
	ev, err := scanEvent(s.pool.QueryRow(ctx, `SELECT `+eventCols+` FROM events e LEFT JOIN incidents i ON i.id = e.incident_id
		WHERE e.incident_id = $1 ORDER BY e.received_at DESC, e.seq DESC LIMIT 1`, text(incidentID)))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	return ev, err
}

// --- destinations ---

const destCols = `name, kind, url, token, secret, sourcetype, created_at`

func scanDest(row pgx.Row) (*store.Destination, error) {
	var d store.Destination
	var token, secret []byte
	if err := row.Scan(&d.Name, &d.Kind, &d.URL, &token, &secret, &d.Sourcetype, &d.CreatedAt); err != nil {
		return nil, err
	}
	d.Token, d.Secret, d.CreatedAt = string(token), string(secret), d.CreatedAt.UTC()
	return &d, nil
}

// CreateDestination implements store.TriageStore; ErrExists if taken.
func (s *Store) CreateDestination(ctx context.Context, d *store.Destination) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO destinations (`+destCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7)`,
		text(d.Name), text(d.Kind), text(d.URL), []byte(d.Token), []byte(d.Secret), text(d.Sourcetype), d.CreatedAt)
	if isUnique(err) {
		return store.ErrExists
	}
	return err
}

// GetDestination implements store.TriageStore.
func (s *Store) GetDestination(ctx context.Context, name string) (*store.Destination, error) {
	d, err := scanDest(s.pool.QueryRow(ctx, `SELECT `+destCols+` FROM destinations WHERE name = $1`, text(name)))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	return d, err
}

// ListDestinations implements store.TriageStore, by name.
func (s *Store) ListDestinations(ctx context.Context) ([]store.Destination, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+destCols+` FROM destinations ORDER BY name COLLATE "C"`)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanDest)
}

// DeleteDestination implements store.TriageStore. Its dead letters stay,
// so nothing undelivered disappears with a typo.
func (s *Store) DeleteDestination(ctx context.Context, name string) error {
	return affected(s.pool.Exec(ctx, `DELETE FROM destinations WHERE name = $1`, text(name)))
}

// --- dead letters ---

const dlCols = `id, destination, incident_id, incident_number, body, attempts, last_status, last_error, created_at, updated_at, kind`

func scanDL(row pgx.Row) (*store.DeadLetter, error) {
	var d store.DeadLetter
	if err := row.Scan(&d.ID, &d.Destination, &d.IncidentID, &d.IncidentNumber, &d.Body, &d.Attempts, &d.LastStatus, &d.LastError, &d.CreatedAt, &d.UpdatedAt, &d.Kind); err != nil {
		return nil, err
	}
	d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC()
	return &d, nil
}

// AddDeadLetter implements store.TriageStore; it assigns an id if unset.
func (s *Store) AddDeadLetter(ctx context.Context, d *store.DeadLetter) error {
	if d.ID == "" {
		d.ID = "dl-" + strings.ReplaceAll(uuid.NewString(), "-", "")[:12]
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO dead_letters (`+dlCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`,
		text(d.ID), text(d.Destination), text(d.IncidentID), text(d.IncidentNumber), nonNil(d.Body), d.Attempts, d.LastStatus, text(d.LastError), d.CreatedAt, d.UpdatedAt, text(d.Kind))
	return err
}

// ListDeadLetters implements store.TriageStore, oldest first.
func (s *Store) ListDeadLetters(ctx context.Context) ([]store.DeadLetter, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+dlCols+` FROM dead_letters ORDER BY created_at, id COLLATE "C"`)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanDL)
}

// GetDeadLetter implements store.TriageStore.
func (s *Store) GetDeadLetter(ctx context.Context, id string) (*store.DeadLetter, error) {
	d, err := scanDL(s.pool.QueryRow(ctx, `SELECT `+dlCols+` FROM dead_letters WHERE id = $1`, text(id)))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	return d, err
}

// UpdateDeadLetter implements store.TriageStore.
func (s *Store) UpdateDeadLetter(ctx context.Context, d *store.DeadLetter) error {
	return affected(s.pool.Exec(ctx, `UPDATE dead_letters SET attempts = $1, last_status = $2, last_error = $3, updated_at = $4, claimed_until = NULL WHERE id = $5`,
		d.Attempts, d.LastStatus, text(d.LastError), d.UpdatedAt, text(d.ID)))
}

// ClaimDeadLetter implements store.TriageStore.
func (s *Store) ClaimDeadLetter(ctx context.Context, id string, seen, now, until time.Time) error {
	err := affected(s.pool.Exec(ctx, `UPDATE dead_letters SET claimed_until = $1 WHERE id = $2 AND updated_at = $3 AND (claimed_until IS NULL OR claimed_until <= $4)`,
		until, text(id), seen, now))
	if errors.Is(err, store.ErrNotFound) {
		return store.ErrLeaseLost
	}
	return err
}

// DeleteDeadLetter implements store.TriageStore.
func (s *Store) DeleteDeadLetter(ctx context.Context, id string) error {
	return affected(s.pool.Exec(ctx, `DELETE FROM dead_letters WHERE id = $1`, text(id)))
}
