package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tw-cli/tw-cli/internal/store"
)

// triageSchema is the triage migration. Jobs are claimed by an UPDATE over
// a sub-select of runnable ids: SQLite's single writer makes that atomic,
// and on PostgreSQL the same sub-select gains FOR UPDATE SKIP LOCKED.
const triageSchema = `CREATE TABLE triage_jobs (
		id TEXT PRIMARY KEY,
		incident_id TEXT NOT NULL REFERENCES incidents (id),
		event_id TEXT NOT NULL DEFAULT '',
		source TEXT NOT NULL,
		playbook TEXT NOT NULL,
		status TEXT NOT NULL,
		step INTEGER NOT NULL DEFAULT 0,
		attempts INTEGER NOT NULL DEFAULT 0,
		run_at INTEGER NOT NULL,
		lease_owner TEXT NOT NULL DEFAULT '',
		lease_until INTEGER NOT NULL DEFAULT 0,
		last_error TEXT NOT NULL DEFAULT '',
		created_at INTEGER NOT NULL,
		updated_at INTEGER NOT NULL,
		completed_at INTEGER NOT NULL DEFAULT 0
	);
	CREATE INDEX triage_jobs_runnable ON triage_jobs (status, run_at);
	CREATE INDEX triage_jobs_incident ON triage_jobs (incident_id);
	CREATE TABLE incident_triage (
		incident_id TEXT PRIMARY KEY REFERENCES incidents (id),
		owner TEXT NOT NULL DEFAULT '',
		tags TEXT NOT NULL DEFAULT '[]',
		indicators TEXT NOT NULL DEFAULT '{}',
		group_key TEXT NOT NULL DEFAULT '',
		group_last_at INTEGER NOT NULL DEFAULT 0,
		merged_into TEXT NOT NULL DEFAULT '',
		suppressed INTEGER NOT NULL DEFAULT 0,
		suppress_reason TEXT NOT NULL DEFAULT ''
	);
	CREATE INDEX incident_triage_group ON incident_triage (group_key, group_last_at) WHERE group_key <> '';
	CREATE TABLE incident_timeline (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		incident_id TEXT NOT NULL REFERENCES incidents (id),
		at INTEGER NOT NULL,
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
		token TEXT NOT NULL DEFAULT '',
		secret TEXT NOT NULL DEFAULT '',
		sourcetype TEXT NOT NULL DEFAULT '',
		created_at INTEGER NOT NULL
	);
	CREATE TABLE dead_letters (
		id TEXT PRIMARY KEY,
		destination TEXT NOT NULL,
		incident_id TEXT NOT NULL DEFAULT '',
		incident_number TEXT NOT NULL DEFAULT '',
		body BLOB NOT NULL,
		attempts INTEGER NOT NULL,
		last_status INTEGER NOT NULL DEFAULT 0,
		last_error TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		updated_at INTEGER NOT NULL
	);`

// NewQueueID returns an id in seed 003's "queue-…" shape.
func NewQueueID() string {
	return "queue-" + strings.ReplaceAll(uuid.NewString(), "-", "")
}

// enqueueTriageTx queues auto-triage for an incident the delivery opened.
// Events that land on an existing incident are not triaged again: the
// playbook ran when that incident was opened.
func enqueueTriageTx(ctx context.Context, tx writeTx, d *store.Delivery, inc *store.Incident, eventID string, now time.Time) (*store.TriageJob, error) {
	if d.Triage == nil || inc.EventCount != 1 || inc.Status == store.StatusResolved {
		return nil, nil // a playbook has nothing to do on a closed incident
	}
	job := &store.TriageJob{
		ID: NewQueueID(), IncidentID: inc.ID, EventID: eventID, Source: d.Source, Playbook: d.Triage.Playbook,
		Status: store.JobQueued, RunAt: now, CreatedAt: now, UpdatedAt: now,
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO triage_jobs (id, incident_id, event_id, source, playbook, status, run_at, created_at, updated_at)
		VALUES (?,?,?,?,?,?,?,?,?)`, job.ID, job.IncidentID, job.EventID, job.Source, job.Playbook, job.Status, ts(now), ts(now), ts(now)); err != nil {
		return nil, err
	}
	err := insertTimeline(ctx, tx, inc.ID, now, store.TimelineEntry{
		Kind: store.TimelinePlaybook, Actor: "receiver", Outcome: store.JobQueued, JobID: job.ID,
		Message: fmt.Sprintf("queued for playbook %s (%s)", job.Playbook, job.ID),
	})
	return job, err
}

const jobCols = `id, incident_id, event_id, source, playbook, status, step, step_name, attempts, run_at, lease_owner, lease_until, last_error, created_at, updated_at, completed_at`

func scanJob(row scanner) (*store.TriageJob, error) {
	var j store.TriageJob
	var runAt, leaseUntil, created, updated, completed int64
	if err := row.Scan(&j.ID, &j.IncidentID, &j.EventID, &j.Source, &j.Playbook, &j.Status, &j.Step, &j.StepName, &j.Attempts,
		&runAt, &j.LeaseOwner, &leaseUntil, &j.LastError, &created, &updated, &completed); err != nil {
		return nil, err
	}
	j.RunAt, j.LeaseUntil, j.CreatedAt, j.UpdatedAt, j.CompletedAt = fromTS(runAt), fromTS(leaseUntil), fromTS(created), fromTS(updated), fromTS(completed)
	return &j, nil
}

// runnable selects jobs a worker may take: queued and due, or running
// under a lease that expired (its worker crashed or stalled).
const runnable = `(status = 'queued' AND run_at <= ?1) OR (status = 'running' AND lease_until <= ?1)`

// ClaimTriageJobs implements store.TriageStore.
func (s *Store) ClaimTriageJobs(ctx context.Context, worker string, now time.Time, lease time.Duration, limit int) ([]store.TriageJob, error) {
	if limit <= 0 {
		return nil, nil
	}
	// Idle polling must not queue behind ingest on the single writer
	// connection: look on a reader first.
	var found bool
	if err := s.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM triage_jobs WHERE `+runnable+`)`, ts(now)).Scan(&found); err != nil {
		return nil, err
	}
	if !found {
		return nil, nil
	}
	rows, err := s.w.QueryContext(ctx, `UPDATE triage_jobs
		SET status = 'running', lease_owner = ?2, lease_until = ?3, attempts = attempts + 1, updated_at = ?1
		WHERE id IN (SELECT id FROM triage_jobs WHERE `+runnable+` ORDER BY run_at, created_at LIMIT ?4)
		RETURNING `+jobCols, ts(now), worker, ts(now.Add(lease)), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.TriageJob
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *j)
	}
	if err := rows.Err(); err != nil {
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

// held updates a job only while worker holds its lease.
func held(ctx context.Context, tx execer, query string, args ...any) error {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrLeaseLost
	}
	return nil
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// ExtendTriageLease implements store.TriageStore.
func (s *Store) ExtendTriageLease(ctx context.Context, id, worker string, until time.Time) error {
	return held(ctx, s.w, `UPDATE triage_jobs SET lease_until = ? WHERE id = ? AND lease_owner = ? AND status = 'running'`, ts(until), id, worker)
}

// CompleteTriageJob implements store.TriageStore.
func (s *Store) CompleteTriageJob(ctx context.Context, id, worker string, now time.Time, entries ...store.TimelineEntry) error {
	return s.finishJob(ctx, id, worker, now, entries, `UPDATE triage_jobs SET status = 'done', lease_owner = '', lease_until = 0,
		last_error = '', updated_at = ?1, completed_at = ?1 WHERE id = ?2 AND lease_owner = ?3 AND status = 'running'`, ts(now), id, worker)
}

// FailTriageJob implements store.TriageStore.
func (s *Store) FailTriageJob(ctx context.Context, id, worker string, now time.Time, errMsg string, retryAt time.Time, entries ...store.TimelineEntry) error {
	if retryAt.IsZero() {
		return s.finishJob(ctx, id, worker, now, entries, `UPDATE triage_jobs SET status = 'failed', lease_owner = '', lease_until = 0,
			last_error = ?4, updated_at = ?1, completed_at = ?1 WHERE id = ?2 AND lease_owner = ?3 AND status = 'running'`, ts(now), id, worker, errMsg)
	}
	return s.finishJob(ctx, id, worker, now, entries, `UPDATE triage_jobs SET status = 'queued', lease_owner = '', lease_until = 0,
		last_error = ?4, run_at = ?5, updated_at = ?1 WHERE id = ?2 AND lease_owner = ?3 AND status = 'running'`, ts(now), id, worker, errMsg, ts(retryAt))
}

// RequeueTriageJob implements store.TriageStore.
func (s *Store) RequeueTriageJob(ctx context.Context, id, worker string, now time.Time, entries ...store.TimelineEntry) error {
	return s.finishJob(ctx, id, worker, now, entries, `UPDATE triage_jobs SET status = 'queued', lease_owner = '', lease_until = 0,
		attempts = max(attempts - 1, 0), run_at = ?1, updated_at = ?1 WHERE id = ?2 AND lease_owner = ?3 AND status = 'running'`, ts(now), id, worker)
}

func (s *Store) finishJob(ctx context.Context, id, worker string, now time.Time, entries []store.TimelineEntry, query string, args ...any) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := held(ctx, tx, query, args...); err != nil {
		return err
	}
	var incidentID string
	if err := tx.QueryRowContext(ctx, `SELECT incident_id FROM triage_jobs WHERE id = ?`, id).Scan(&incidentID); err != nil {
		return err
	}
	if err := insertTimeline(ctx, tx, incidentID, now, entries...); err != nil {
		return err
	}
	return tx.Commit()
}

// GetTriageJob implements store.TriageStore.
func (s *Store) GetTriageJob(ctx context.Context, id string) (*store.TriageJob, error) {
	j, err := scanJob(s.r.QueryRowContext(ctx, `SELECT `+jobCols+` FROM triage_jobs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	return j, err
}

// ListTriageJobs implements store.TriageStore; an empty incidentID lists all.
func (s *Store) ListTriageJobs(ctx context.Context, incidentID string) ([]store.TriageJob, error) {
	q, args := `SELECT `+jobCols+` FROM triage_jobs`, []any{}
	if incidentID != "" {
		q, args = q+` WHERE incident_id = ?`, append(args, incidentID)
	}
	return queryAll(ctx, s.r, scanJob, q+` ORDER BY created_at, id`, args...)
}

// --- incident triage state and timeline ---

func insertTimeline(ctx context.Context, tx writeTx, incidentID string, at time.Time, entries ...store.TimelineEntry) error {
	for _, e := range entries {
		id := e.IncidentID
		if id == "" {
			id = incidentID
		}
		when := e.At
		if when.IsZero() {
			when = at
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO incident_timeline (incident_id, at, kind, actor, step, outcome, message, job_id)
			VALUES (?,?,?,?,?,?,?,?)`, id, ts(when), e.Kind, e.Actor, e.Step, e.Outcome, e.Message, e.JobID); err != nil {
			return err
		}
	}
	return nil
}

const triageCols = `incident_id, owner, tags, indicators, group_key, group_last_at, merged_into, suppressed, suppress_reason`

func scanTriage(row scanner) (*store.IncidentTriage, error) {
	var t store.IncidentTriage
	var tags, ind string
	var groupAt int64
	if err := row.Scan(&t.IncidentID, &t.Owner, &tags, &ind, &t.GroupKey, &groupAt, &t.MergedInto, &t.Suppressed, &t.SuppressReason); err != nil {
		return nil, err
	}
	t.GroupLastAt = fromTS(groupAt)
	if err := json.Unmarshal([]byte(tags), &t.Tags); err != nil {
		return nil, fmt.Errorf("incident %s: bad tags: %w", t.IncidentID, err)
	}
	if err := json.Unmarshal([]byte(ind), &t.Indicators); err != nil {
		return nil, fmt.Errorf("incident %s: bad indicators: %w", t.IncidentID, err)
	}
	return &t, nil
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func getTriage(ctx context.Context, q querier, incidentID string) (*store.IncidentTriage, error) {
	t, err := scanTriage(q.QueryRowContext(ctx, `SELECT `+triageCols+` FROM incident_triage WHERE incident_id = ?`, incidentID))
	if errors.Is(err, sql.ErrNoRows) {
		// Every incident has triage state, even if nothing set it yet.
		return &store.IncidentTriage{IncidentID: incidentID}, nil
	}
	return t, err
}

func putTriage(ctx context.Context, tx *sql.Tx, t *store.IncidentTriage) error {
	tags, err := json.Marshal(t.Tags)
	if err != nil {
		return err
	}
	if t.Tags == nil {
		tags = []byte("[]")
	}
	ind, err := json.Marshal(t.Indicators)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO incident_triage (`+triageCols+`) VALUES (?,?,?,?,?,?,?,?,?)
		ON CONFLICT (incident_id) DO UPDATE SET owner = excluded.owner, tags = excluded.tags, indicators = excluded.indicators,
		group_key = excluded.group_key, group_last_at = excluded.group_last_at, merged_into = excluded.merged_into,
		suppressed = excluded.suppressed, suppress_reason = excluded.suppress_reason`,
		t.IncidentID, t.Owner, string(tags), string(ind), t.GroupKey, ts(t.GroupLastAt), t.MergedInto, t.Suppressed, t.SuppressReason)
	return err
}

func incidentTx(ctx context.Context, q querier, idOrNumber string) (*store.Incident, error) {
	inc, err := scanIncident(q.QueryRowContext(ctx, `SELECT `+incidentCols+` FROM incidents WHERE id = ? OR number = ?`, idOrNumber, strings.ToUpper(idOrNumber)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	return inc, err
}

// ApplyIncidentChange implements store.TriageStore.
func (s *Store) ApplyIncidentChange(ctx context.Context, idOrNumber string, ch store.IncidentChange, progress *store.JobProgress, at time.Time, entries ...store.TimelineEntry) (*store.Incident, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	inc, err := incidentTx(ctx, tx, idOrNumber)
	if err != nil {
		return nil, err
	}
	if progress != nil {
		if err := held(ctx, tx, `UPDATE triage_jobs SET step = ?, step_name = ?, lease_until = ?, updated_at = ? WHERE id = ? AND lease_owner = ? AND status = 'running'`,
			progress.NextStep, progress.NextStepName, ts(at.Add(progress.Lease)), ts(at), progress.JobID, progress.Worker); err != nil {
			return nil, err
		}
	}
	tr, err := getTriage(ctx, tx, inc.ID)
	if err != nil {
		return nil, err
	}
	if ch.Check != nil {
		if err := ch.Check(inc, tr); err != nil {
			return nil, err
		}
	}
	changed := false
	if ch.Severity != nil {
		inc.Severity, changed = *ch.Severity, true
	}
	if ch.Status != nil {
		inc.Status, changed = *ch.Status, true
		tr.SetStatus(*ch.Status)
	}
	if ch.Owner != nil {
		tr.Owner, changed = *ch.Owner, true
	}
	if len(ch.AddTags) > 0 {
		tr.Tags, changed = store.Union(tr.Tags, ch.AddTags), true
	}
	if !ch.AddIndicators.Empty() {
		tr.Indicators, changed = tr.Indicators.Merge(ch.AddIndicators), true
	}
	if ch.GroupKey != nil {
		if !ch.GroupSince.IsZero() {
			if _, err := findGroup(ctx, tx, *ch.GroupKey, ch.GroupSince, inc.ID); err == nil {
				return nil, store.ErrGroupTaken
			} else if !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
		}
		tr.GroupKey, tr.GroupLastAt, changed = *ch.GroupKey, at, true
	}
	if ch.Suppress != nil {
		tr.Suppressed, tr.SuppressReason, inc.Status, changed = true, *ch.Suppress, store.StatusResolved, true
	}
	if ch.MergeInto != "" {
		if err := mergeIncident(ctx, tx, inc, tr, ch.MergeInto, at); err != nil {
			return nil, err
		}
		changed = true
	}
	if changed {
		inc.UpdatedAt = at.UTC()
		if _, err := tx.ExecContext(ctx, `UPDATE incidents SET severity = ?, status = ?, event_count = ?, updated_at = ? WHERE id = ?`,
			inc.Severity, inc.Status, inc.EventCount, ts(at), inc.ID); err != nil {
			return nil, err
		}
		if err := putTriage(ctx, tx, tr); err != nil {
			return nil, err
		}
	}
	if err := insertTimeline(ctx, tx, inc.ID, at, entries...); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return inc, nil
}

// mergeIncident folds inc into target: events move, counts add up, inc is
// resolved and points at target, whose group time restarts the window.
func mergeIncident(ctx context.Context, tx *sql.Tx, inc *store.Incident, tr *store.IncidentTriage, targetID string, at time.Time) error {
	target, err := incidentTx(ctx, tx, targetID)
	if err != nil {
		return fmt.Errorf("merge target %s: %w", targetID, err)
	}
	if target.ID == inc.ID {
		return fmt.Errorf("cannot merge %s into itself", inc.Number)
	}
	if _, err := tx.ExecContext(ctx, moveEvents, target.ID, inc.ID); err != nil {
		return err
	}
	targetTriage, err := getTriage(ctx, tx, target.ID)
	if err != nil {
		return err
	}
	store.FoldInto(target, targetTriage, inc, tr, at)
	if _, err := tx.ExecContext(ctx, `UPDATE incidents SET event_count = ?, severity = ?, updated_at = ? WHERE id = ?`,
		target.EventCount, target.Severity, ts(at), target.ID); err != nil {
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
	return getTriage(ctx, s.r, incidentID)
}

// FindGroupIncident implements store.TriageStore.
func (s *Store) FindGroupIncident(ctx context.Context, key string, since time.Time, exclude string) (*store.Incident, error) {
	return findGroup(ctx, s.r, key, since, exclude)
}

// groupIncident finds the open incident holding a group key. As with
// correlatedIncident, the test that group_key is not empty lets the
// planner use the partial index incident_triage_group.
var groupIncident = `SELECT ` + prefixed("i.", incidentCols) + ` FROM incident_triage t JOIN incidents i ON i.id = t.incident_id
	WHERE t.group_key = ? AND t.group_key <> '' AND t.group_last_at >= ? AND i.id <> ? AND i.status <> ? AND t.merged_into = ''
	ORDER BY i.created_at LIMIT 1`

func findGroup(ctx context.Context, q querier, key string, since time.Time, exclude string) (*store.Incident, error) {
	inc, err := scanIncident(q.QueryRowContext(ctx, groupIncident, key, ts(since), exclude, store.StatusResolved))
	if errors.Is(err, sql.ErrNoRows) {
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
	rows, err := s.r.QueryContext(ctx, `SELECT id, incident_id, at, kind, actor, step, outcome, message, job_id
		FROM incident_timeline WHERE incident_id = ? ORDER BY id`, incidentID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.TimelineEntry
	for rows.Next() {
		var e store.TimelineEntry
		var at int64
		if err := rows.Scan(&e.ID, &e.IncidentID, &at, &e.Kind, &e.Actor, &e.Step, &e.Outcome, &e.Message, &e.JobID); err != nil {
			return nil, err
		}
		e.At = fromTS(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// moveEvents and latestEvent go by events_incident (schema version 9).
const (
	moveEvents  = `UPDATE events SET incident_id = ? WHERE incident_id = ?`
	latestEvent = `SELECT ` + eventCols + ` FROM events e LEFT JOIN incidents i ON i.id = e.incident_id
		WHERE e.incident_id = ? ORDER BY e.received_at DESC, e.rowid DESC LIMIT 1`
)

// LatestIncidentEvent implements store.TriageStore.
func (s *Store) LatestIncidentEvent(ctx context.Context, incidentID string) (*store.Event, error) {
	ev, err := scanEvent(s.r.QueryRowContext(ctx, latestEvent, incidentID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	return ev, err
}

// --- destinations ---

const destCols = `name, kind, url, token, secret, sourcetype, created_at`

func scanDest(row scanner) (*store.Destination, error) {
	var d store.Destination
	var c int64
	if err := row.Scan(&d.Name, &d.Kind, &d.URL, &d.Token, &d.Secret, &d.Sourcetype, &c); err != nil {
		return nil, err
	}
	d.CreatedAt = fromTS(c)
	return &d, nil
}

// CreateDestination implements store.TriageStore; ErrExists if taken.
func (s *Store) CreateDestination(ctx context.Context, d *store.Destination) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO destinations (`+destCols+`) VALUES (?,?,?,?,?,?,?)`,
		d.Name, d.Kind, d.URL, d.Token, d.Secret, d.Sourcetype, ts(d.CreatedAt))
	if isUnique(err) {
		return store.ErrExists
	}
	return err
}

// GetDestination implements store.TriageStore.
func (s *Store) GetDestination(ctx context.Context, name string) (*store.Destination, error) {
	d, err := scanDest(s.r.QueryRowContext(ctx, `SELECT `+destCols+` FROM destinations WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	return d, err
}

// ListDestinations implements store.TriageStore, by name.
func (s *Store) ListDestinations(ctx context.Context) ([]store.Destination, error) {
	return queryAll(ctx, s.r, scanDest, `SELECT `+destCols+` FROM destinations ORDER BY name`)
}

// DeleteDestination implements store.TriageStore. Its dead letters stay,
// so nothing undelivered disappears with a typo.
func (s *Store) DeleteDestination(ctx context.Context, name string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM destinations WHERE name = ?`, name)
	return affected(res, err)
}

// --- dead letters ---

const dlCols = `id, destination, incident_id, incident_number, body, attempts, last_status, last_error, created_at, updated_at, kind`

func scanDL(row scanner) (*store.DeadLetter, error) {
	var d store.DeadLetter
	var c, u int64
	if err := row.Scan(&d.ID, &d.Destination, &d.IncidentID, &d.IncidentNumber, &d.Body, &d.Attempts, &d.LastStatus, &d.LastError, &c, &u, &d.Kind); err != nil {
		return nil, err
	}
	d.CreatedAt, d.UpdatedAt = fromTS(c), fromTS(u)
	return &d, nil
}

// AddDeadLetter implements store.TriageStore; it assigns an id if unset.
func (s *Store) AddDeadLetter(ctx context.Context, d *store.DeadLetter) error {
	if d.ID == "" {
		d.ID = "dl-" + strings.ReplaceAll(uuid.NewString(), "-", "")[:12]
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO dead_letters (`+dlCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?)`,
		d.ID, d.Destination, d.IncidentID, d.IncidentNumber, d.Body, d.Attempts, d.LastStatus, d.LastError, ts(d.CreatedAt), ts(d.UpdatedAt), d.Kind)
	return err
}

// ListDeadLetters implements store.TriageStore, oldest first.
func (s *Store) ListDeadLetters(ctx context.Context) ([]store.DeadLetter, error) {
	return queryAll(ctx, s.r, scanDL, `SELECT `+dlCols+` FROM dead_letters ORDER BY created_at, id`)
}

// GetDeadLetter implements store.TriageStore.
func (s *Store) GetDeadLetter(ctx context.Context, id string) (*store.DeadLetter, error) {
	d, err := scanDL(s.r.QueryRowContext(ctx, `SELECT `+dlCols+` FROM dead_letters WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	return d, err
}

// UpdateDeadLetter implements store.TriageStore.
func (s *Store) UpdateDeadLetter(ctx context.Context, d *store.DeadLetter) error {
	res, err := s.w.ExecContext(ctx, `UPDATE dead_letters SET attempts = ?, last_status = ?, last_error = ?, updated_at = ?, claimed_until = 0 WHERE id = ?`,
		d.Attempts, d.LastStatus, d.LastError, ts(d.UpdatedAt), d.ID)
	return affected(res, err)
}

// ClaimDeadLetter implements store.TriageStore.
func (s *Store) ClaimDeadLetter(ctx context.Context, id string, seen, now, until time.Time) error {
	res, err := s.w.ExecContext(ctx, `UPDATE dead_letters SET claimed_until = ? WHERE id = ? AND updated_at = ? AND claimed_until <= ?`,
		ts(until), id, ts(seen), ts(now))
	if err := affected(res, err); errors.Is(err, store.ErrNotFound) {
		return store.ErrLeaseLost
	} else if err != nil {
		return err
	}
	return nil
}

// DeleteDeadLetter implements store.TriageStore.
func (s *Store) DeleteDeadLetter(ctx context.Context, id string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM dead_letters WHERE id = ?`, id)
	return affected(res, err)
}
