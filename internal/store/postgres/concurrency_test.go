package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tw-cli/tw-cli/internal/store"
)

var at0 = time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)

func one(key, replay string, at time.Time, items ...store.DeliveryItem) *store.Delivery {
	if len(items) == 0 {
		items = []store.DeliveryItem{{Type: "t", Title: "t", Severity: "low", Normalized: []byte(`{}`)}}
	}
	return &store.Delivery{Source: "s", ReceivedAt: at, Verification: "hmac", Format: "generic", ReplayKey: replay, Payload: []byte(`{}`), Items: items}
}

// TestRetryOfExpiredIdempotencyKeyDuringPrune: a retry whose key has expired
// races the prune that deletes it. claimIdempotent's INSERT … ON
// CONFLICT DO NOTHING can see the old row and its SELECT … FOR UPDATE
// then find it deleted; the key is free, and the insert runs again
// (it failed with pgx.ErrNoRows, a 500 to the sender).
func TestRetryOfExpiredIdempotencyKeyDuringPrune(t *testing.T) {
	s := open(t).(*Store)
	ctx := context.Background()
	const trials = 300
	var failed atomic.Int64
	var firstErr atomic.Value
	for i := range trials {
		key := fmt.Sprintf("s\x00evt-%d", i)
		// An old delivery left the key, long expired.
		if _, err := s.pool.Exec(ctx, `INSERT INTO idempotency_keys (key, result, created_at) VALUES ($1, '{"events":[]}', $2)`, []byte(key), at0.Add(-48*time.Hour)); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			d := one("", fmt.Sprint("r", i), at0)
			d.IdempotencyKey, d.IdempotencyCutoff = key, at0.Add(-24*time.Hour)
			if _, err := s.Ingest(ctx, d); err != nil {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, err)
			}
		}()
		go func() {
			defer wg.Done()
			_ = s.PruneIdempotency(ctx, at0.Add(-24*time.Hour))
		}()
		wg.Wait()
	}
	if n := failed.Load(); n > 0 {
		t.Fatalf("%d of %d retries of an expired key failed while a prune ran; first: %v", n, trials, firstErr.Load())
	}
}

// TestIngestAndMergeDeadlockIsRetried: a two-item delivery locks its incidents
// in item order, while a merge locks the merged incident then its target.
// A third transaction's row lock on the job only schedules them so that
// each holds what the other wants; PostgreSQL then aborts one with 40P01,
// and inTx runs it again.
func TestIngestAndMergeDeadlockIsRetried(t *testing.T) {
	s := open(t).(*Store)
	ctx := context.Background()
	item := func(k string) store.DeliveryItem {
		return store.DeliveryItem{Type: "t", Title: k, Severity: "low", CorrelationKey: k, Normalized: []byte(`{}`)}
	}
	i1 := must(t)(s.Ingest(ctx, one("", "a", at0, item("k1")))).Incidents[0]
	d2 := one("", "b", at0, item("k2"))
	d2.Triage = &store.TriageRequest{Playbook: "p"}
	r2 := must(t)(s.Ingest(ctx, d2))
	i2, job := r2.Incidents[0], r2.Jobs[0]
	if js, err := s.ClaimTriageJobs(ctx, "w", at0, time.Hour, 1); err != nil || len(js) != 1 {
		t.Fatal(js, err)
	}

	holder, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := holder.Exec(ctx, `SELECT 1 FROM triage_jobs WHERE id = $1 FOR UPDATE`, job.ID); err != nil {
		t.Fatal(err)
	}
	mergeErr := make(chan error, 1)
	go func() { // the playbook folding I2 into I1
		_, err := s.ApplyIncidentChange(ctx, i2.ID, store.IncidentChange{MergeInto: i1.ID},
			&store.JobProgress{JobID: job.ID, Worker: "w", NextStep: 1, Lease: time.Hour}, at0.Add(time.Minute))
		mergeErr <- err
	}()
	waitBlocked(t, s, 1)
	ingestErr := make(chan error, 1)
	go func() { // another update of both objects
		_, err := s.Ingest(ctx, one("", "c", at0.Add(time.Minute), item("k1"), item("k2")))
		ingestErr <- err
	}()
	waitBlocked(t, s, 2)
	holder.Rollback(ctx)
	e1, e2 := <-mergeErr, <-ingestErr
	var pe *pgconn.PgError
	for _, e := range []error{e1, e2} {
		if errors.As(e, &pe) && pe.Code == "40P01" {
			t.Fatalf("deadlock surfaced unretried: merge = %v, ingest = %v", e1, e2)
		}
	}
	if e1 != nil || e2 != nil {
		t.Fatalf("merge = %v, ingest = %v", e1, e2)
	}
}

func waitBlocked(t *testing.T, s *Store, n int) {
	t.Helper()
	for range 500 {
		var k int
		if err := s.pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`).Scan(&k); err != nil {
			t.Fatal(err)
		}
		if k >= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("fewer than %d sessions waiting on a lock", n)
}

func must(t *testing.T) func(*store.IngestResult, error) *store.IngestResult {
	return func(r *store.IngestResult, err error) *store.IngestResult {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
}
