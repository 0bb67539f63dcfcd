package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tw-cli/tw-cli/internal/store"
)

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

// idempotentResult returns the stored result of d's idempotency key, or
// nil when the key is new or has outlived its retention window.
func idempotentResult(ctx context.Context, tx writeTx, d *store.Delivery) (*store.IngestResult, error) {
	var raw []byte
	var created int64
	err := tx.QueryRowContext(ctx, `SELECT result, created_at FROM idempotency_keys WHERE key = ?`, d.IdempotencyKey).Scan(&raw, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if created < ts(d.IdempotencyCutoff) {
		return nil, nil // expired; rememberIdempotent overwrites it
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
		ev := store.Event{ID: id, Source: d.Source}
		if i < len(rec.Incidents) {
			ev.IncidentID, ev.IncidentNum = rec.Incidents[i].ID, rec.Incidents[i].Number
		}
		res.Events = append(res.Events, ev)
	}
	for _, inc := range rec.Incidents {
		res.Incidents = append(res.Incidents, store.Incident{ID: inc.ID, Number: inc.Number, Source: d.Source})
	}
	for _, id := range rec.Jobs {
		res.Jobs = append(res.Jobs, store.TriageJob{ID: id})
	}
	return res, nil
}

// rememberIdempotent stores d's key with its result, replacing an expired
// record of the same key.
func rememberIdempotent(ctx context.Context, tx writeTx, d *store.Delivery, res *store.IngestResult) error {
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
	_, err = tx.ExecContext(ctx, `INSERT INTO idempotency_keys (key, result, created_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET result = excluded.result, created_at = excluded.created_at`,
		d.IdempotencyKey, raw, ts(d.ReceivedAt))
	return err
}

// PruneIdempotency forgets idempotency keys stored before the cut-off.
func (s *Store) PruneIdempotency(ctx context.Context, before time.Time) error {
	return s.pruneChunked(ctx, `DELETE FROM idempotency_keys WHERE rowid IN
		(SELECT rowid FROM idempotency_keys WHERE created_at < ? LIMIT ?)`, before)
}
