package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tw-cli/tw-cli/internal/store"
)

// idempotencySchema mirrors SQLite's idempotency migration. The key is
// bytea: the receiver joins source and id with NUL.
const idempotencySchema = `CREATE TABLE idempotency_keys (
		key BYTEA PRIMARY KEY,
		result BYTEA NOT NULL,
		created_at TIMESTAMPTZ NOT NULL
	);
	CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);`

// idempotentRecord is what a key remembers of its delivery: enough to
// answer a repeat exactly as the first delivery was answered.
type idempotentRecord struct {
	Events    []string           `json:"events"`
	Incidents []idempotentIncRef `json:"incidents"`
	// Jobs are the triage queue ids, so a repeat of a queued delivery
	// answers "queued" with the same queue_id.
	Jobs []string `json:"jobs,omitempty"`
	// Body is the delivery's store.PayloadDigest; records written before
	// it existed have none and match any body.
	Body string `json:"body,omitempty"`
}

type idempotentIncRef struct {
	ID     string `json:"id"`
	Number string `json:"number"`
}

// claimIdempotent takes d's idempotency key for this transaction, or
// returns the result of the delivery that already holds it.
//
// The key row is inserted first, not looked up: a repeat arriving at
// another replica at the same moment then waits on the unique index
// until this transaction commits, and finds the key taken, instead of
// both finding it free and both storing the delivery. A key past its
// retention window is taken over.
func claimIdempotent(ctx context.Context, tx pgx.Tx, d *store.Delivery, now time.Time) (*store.IngestResult, error) {
	key := []byte(d.IdempotencyKey)
	var raw []byte
	var created time.Time
	// A prune can delete the row between the insert that found it and
	// the lock that waits for the delete: then the key is free, and the
	// insert is tried again (twice at most: a prune deletes it once).
	for attempt := 1; ; attempt++ {
		tag, err := tx.Exec(ctx, `INSERT INTO idempotency_keys (key, result, created_at) VALUES ($1, '', $2) ON CONFLICT (key) DO NOTHING`, key, now)
		if err != nil {
			return nil, err
		}
		if tag.RowsAffected() == 1 {
			return nil, nil
		}
		err = tx.QueryRow(ctx, `SELECT result, created_at FROM idempotency_keys WHERE key = $1 FOR UPDATE`, key).Scan(&raw, &created)
		if errors.Is(err, pgx.ErrNoRows) && attempt < 3 {
			continue
		}
		if err != nil {
			return nil, err
		}
		break
	}
	if created.Before(d.IdempotencyCutoff) {
		_, err := tx.Exec(ctx, `UPDATE idempotency_keys SET result = '', created_at = $2 WHERE key = $1`, key, now)
		return nil, err
	}
	var rec idempotentRecord
	if err := json.Unmarshal(raw, &rec); err != nil {
		return nil, fmt.Errorf("idempotency key result: %w", err)
	}
	if rec.Body != "" && rec.Body != store.PayloadDigest(d.Payload) {
		return nil, store.ErrIdempotencyConflict
	}
	res := &store.IngestResult{Duplicate: true}
	for i, id := range rec.Events {
		ev := store.Event{ID: id, Source: text(d.Source)}
		if i < len(rec.Incidents) {
			ev.IncidentID, ev.IncidentNum = rec.Incidents[i].ID, rec.Incidents[i].Number
		}
		res.Events = append(res.Events, ev)
	}
	for _, inc := range rec.Incidents {
		res.Incidents = append(res.Incidents, store.Incident{ID: inc.ID, Number: inc.Number, Source: text(d.Source)})
	}
	for _, id := range rec.Jobs {
		res.Jobs = append(res.Jobs, store.TriageJob{ID: id})
	}
	return res, nil
}

// rememberIdempotent stores the result under the key claimIdempotent took.
func rememberIdempotent(ctx context.Context, tx pgx.Tx, d *store.Delivery, res *store.IngestResult) error {
	var rec idempotentRecord
	for _, ev := range res.Events {
		rec.Events = append(rec.Events, ev.ID)
	}
	for _, inc := range res.Incidents {
		rec.Incidents = append(rec.Incidents, idempotentIncRef{ID: inc.ID, Number: inc.Number})
	}
	for _, j := range res.Jobs {
		rec.Jobs = append(rec.Jobs, j.ID)
	}
	rec.Body = store.PayloadDigest(d.Payload)
	raw, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `UPDATE idempotency_keys SET result = $2 WHERE key = $1`, []byte(d.IdempotencyKey), raw)
	return err
}

// PruneIdempotency forgets idempotency keys stored before the cut-off.
// One statement is fine here: PostgreSQL's delete takes row locks only,
// so ingest keeps committing while it runs.
func (s *Store) PruneIdempotency(ctx context.Context, before time.Time) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < $1`, before)
	return err
}
