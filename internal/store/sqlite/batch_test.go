package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tw-cli/tw-cli/internal/store"
	"github.com/tw-cli/tw-cli/internal/store/storetest"
)

var t0 = time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)

func openAt(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestBatchIsolatesFailures commits one batch holding a good delivery, a
// replay, one whose insert fails half way (an item without a normalized
// body violates NOT NULL after its incident was written) and another good
// one: only the bad ones fail, and the failed one leaves nothing behind.
func TestBatchIsolatesFailures(t *testing.T) {
	s := openAt(t, filepath.Join(t.TempDir(), "tw.db"))
	ctx := context.Background()
	if _, err := s.Ingest(ctx, storetest.Delivery("edr", "seen", t0)); err != nil {
		t.Fatal(err)
	}
	broken := storetest.Delivery("edr", "broken", t0, store.DeliveryItem{Type: "x", Title: "broken", Severity: "low", Normalized: nil})
	calls := []*ingestCall{
		newIngestCall(storetest.Delivery("edr", "good-1", t0)),
		newIngestCall(storetest.Delivery("edr", "seen", t0)),
		newIngestCall(broken),
		newIngestCall(storetest.Delivery("edr", "good-2", t0)),
	}
	s.commits.commit(calls)
	replies := make([]ingestReply, len(calls))
	for i, c := range calls {
		replies[i] = <-c.done
	}
	if replies[0].err != nil || replies[3].err != nil {
		t.Fatalf("good deliveries failed: %v, %v", replies[0].err, replies[3].err)
	}
	if !errors.Is(replies[1].err, store.ErrReplayed) {
		t.Fatalf("replay = %v, want ErrReplayed", replies[1].err)
	}
	if replies[2].err == nil {
		t.Fatal("a delivery violating NOT NULL was stored")
	}
	evs, _ := s.ListEvents(ctx, store.EventFilter{})
	if len(evs) != 3 {
		t.Fatalf("%d events, want 3 (the first, good-1, good-2)", len(evs))
	}
	incs, _ := s.ListIncidents(ctx, store.IncidentFilter{})
	if len(incs) != 3 {
		t.Fatalf("%d incidents, want 3: the failed delivery's incident must be rolled back", len(incs))
	}
	// Numbers taken by the rolled-back attempt are not lost: the batch's
	// incidents are numbered without a gap.
	for i, inc := range incs {
		if want := fmt.Sprintf("INC-2024-%04d", len(incs)-i); inc.Number != want {
			t.Fatalf("incident %d is %s, want %s", i, inc.Number, want)
		}
	}
	// Its replay key was rolled back too: a corrected retry is accepted.
	res, err := s.Ingest(ctx, storetest.Delivery("edr", "broken", t0))
	if err != nil {
		t.Fatalf("retry of the failed delivery = %v", err)
	}
	if res.Incidents[0].Number != "INC-2024-0004" {
		t.Fatalf("next number after the batch = %s", res.Incidents[0].Number)
	}
}

// TestCloseDrainsQueue closes the store while deliveries are arriving:
// each is either acknowledged and then found after reopening, or refused
// with ErrClosed.
func TestCloseDrainsQueue(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tw.db")
	s := openAt(t, path)
	ctx := context.Background()
	const n = 300
	var wg sync.WaitGroup
	var mu sync.Mutex
	acked := map[string]bool{}
	refused := 0
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			res, err := s.Ingest(ctx, storetest.Delivery("edr", fmt.Sprintf("k%d", i), t0))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				acked[res.Events[0].ID] = true
			case errors.Is(err, store.ErrClosed):
				refused++
			default:
				t.Errorf("delivery %d: %v", i, err)
			}
		}(i)
	}
	close(start)
	// Close once some deliveries are through, so both outcomes can occur.
	for {
		mu.Lock()
		k := len(acked)
		mu.Unlock()
		if k > 0 {
			break
		}
		time.Sleep(100 * time.Microsecond)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	if _, err := s.Ingest(ctx, storetest.Delivery("edr", "late", t0)); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("Ingest after Close = %v, want ErrClosed", err)
	}
	if len(acked)+refused != n {
		t.Fatalf("%d acked + %d refused, want %d", len(acked), refused, n)
	}
	s2 := openAt(t, path)
	evs, err := s2.ListEvents(ctx, store.EventFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != len(acked) {
		t.Fatalf("%d events stored, %d acknowledged", len(evs), len(acked))
	}
	for _, ev := range evs {
		if !acked[ev.ID] {
			t.Fatalf("event %s stored but never acknowledged", ev.ID)
		}
	}
}

// Past the drain deadline, Close answers what is still queued ErrClosed
// (503, retried by senders) instead of committing it batch by batch: with
// another process holding the write lock, each batch waited out the busy
// timeout, and a receiver told to stop within 2s took 30.
func TestCloseGivesUpOnTheQueuePastItsDeadline(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tw.db")
	// No waiting for company: a batch is what is queued when it starts.
	s, err := Open(context.Background(), path, Options{MaxBatchWait: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	if _, err := s.Ingest(ctx, storetest.Delivery("edr", "warm", t0)); err != nil {
		t.Fatal(err)
	}
	release := holdWriteLock(t, path)
	// until polls for a state the committer reaches on its own goroutine.
	until := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("never: %s", what)
			}
		}
	}
	first := newIngestCall(storetest.Delivery("edr", "first", t0))
	if err := s.commits.enqueue(ctx, first); err != nil {
		t.Fatal(err)
	}
	// Taken alone: its batch now waits for the lock. The committer takes
	// it off the queue a moment before its batch is closed to others.
	until("the first delivery is taken", func() bool { return len(s.commits.queue) == 0 })
	time.Sleep(20 * time.Millisecond)
	queued := make(chan error, 9)
	for i := range 9 {
		go func() {
			_, err := s.Ingest(ctx, storetest.Delivery("edr", fmt.Sprintf("queued-%d", i), t0))
			queued <- err
		}()
	}
	until("nine deliveries are queued", func() bool { return len(s.commits.queue) == 9 })
	s.SetDrainDeadline(time.Now())
	closed := make(chan error, 1)
	start := time.Now()
	go func() { closed <- s.Close() }()
	until("Close has begun", func() bool {
		s.commits.mu.RLock()
		defer s.commits.mu.RUnlock()
		return s.commits.closed
	})
	release()
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Close took %s", d)
	}
	if r := <-first.done; r.err != nil {
		t.Errorf("the batch already committing failed: %v", r.err)
	}
	for range 9 {
		if err := <-queued; !errors.Is(err, store.ErrClosed) {
			t.Errorf("queued past the deadline: %v, want ErrClosed", err)
		}
	}
	s2 := openAt(t, path)
	evs, err := s2.ListEvents(ctx, store.EventFilter{Limit: 100})
	if err != nil || len(evs) != 2 {
		t.Fatalf("%d events stored (%v), want warm and first", len(evs), err)
	}
}

// A write lock another process holds past the busy timeout fails the
// batch as store.ErrBusy, which the receiver answers 503 to retry (it was
// a 500).
func TestLockedDatabaseIsBusy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tw.db")
	s := openAt(t, path)
	ctx := context.Background()
	if _, err := s.Ingest(ctx, storetest.Delivery("edr", "warm", t0)); err != nil {
		t.Fatal(err)
	}
	// The writer is one connection: this is the committer's.
	if _, err := s.w.ExecContext(ctx, "PRAGMA busy_timeout = 50"); err != nil {
		t.Fatal(err)
	}
	release := holdWriteLock(t, path)
	_, err := s.Ingest(ctx, storetest.Delivery("edr", "locked-out", t0))
	if !errors.Is(err, store.ErrBusy) {
		t.Fatalf("Ingest under another's write lock = %v, want ErrBusy", err)
	}
	release()
	if _, err := s.Ingest(ctx, storetest.Delivery("edr", "after", t0)); err != nil {
		t.Fatalf("after the lock: %v", err)
	}
}

// TestPingNeedsTheWriteLock: /readyz answered ready from the reader while
// another process held the write lock and every delivery waited out the
// busy timeout and failed. Ping now fails by its deadline, with the
// busy timeout's error once that passes, and succeeds again once the
// lock is free.
func TestPingNeedsTheWriteLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tw.db")
	s := openAt(t, path)
	ctx := context.Background()
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping on a free database: %v", err)
	}
	if _, err := s.w.ExecContext(ctx, "PRAGMA busy_timeout = 300"); err != nil {
		t.Fatal(err)
	}
	release := holdWriteLock(t, path)
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := s.Ping(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Ping under another's write lock, 50 ms deadline = %v, want the deadline", err)
	}
	if err := s.Ping(ctx); !errors.Is(err, store.ErrBusy) {
		t.Fatalf("Ping under another's write lock = %v, want ErrBusy", err)
	}
	release()
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping after the lock: %v", err)
	}
	// Deliveries still commit alongside.
	if _, err := s.Ingest(ctx, storetest.Delivery("edr", "after", t0)); err != nil {
		t.Fatal(err)
	}
}

// holdWriteLock takes the file's write lock from a connection of its own,
// as sqlite3 or another process holding a write transaction would, until
// release is called (or the test ends).
func holdWriteLock(t *testing.T, path string) (release func()) {
	t.Helper()
	ctx := context.Background()
	other, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	return func() {
		t.Helper()
		if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPruneInChunks prunes more keys of the replay_keys table older
// versions wrote than one chunk holds.
func TestPruneInChunks(t *testing.T) {
	s := openAt(t, filepath.Join(t.TempDir(), "tw.db"))
	ctx := context.Background()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = pruneChunkRows*2 + 17
	for i := 0; i < n; i++ {
		if _, err := tx.Exec(`INSERT INTO replay_keys (key, seen_at) VALUES (?, ?)`, fmt.Sprint(i), ts(t0)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tx.Exec(`INSERT INTO replay_keys (key, seen_at) VALUES ('fresh', ?)`, ts(t0.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := s.PruneReplay(ctx, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	var left int
	if err := s.r.QueryRow(`SELECT COUNT(*) FROM replay_keys`).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 1 {
		t.Fatalf("%d keys left, want only the fresh one", left)
	}
}

func TestArrivalRate(t *testing.T) {
	const maxWait = 2 * time.Millisecond
	a := arrivalRate{gap: maxWait}
	at := t0
	for range 200 {
		at = at.Add(500 * time.Microsecond)
		a.observe(at, maxWait)
	}
	if a.gap < 450*time.Microsecond || a.gap > 550*time.Microsecond {
		t.Fatalf("gap after steady 500 µs arrivals = %v", a.gap)
	}
	// A caller that lost the race to the queue counts as no gap at all,
	// and does not move the clock back.
	before := a.gap
	a.observe(at.Add(-time.Millisecond), maxWait)
	if a.gap >= before || !a.last.Equal(at) {
		t.Fatalf("out-of-order arrival: gap %v → %v, last %v", before, a.gap, a.last)
	}
	// An idle hour counts as four maxWaits, so a burst after it is seen
	// within about fifty deliveries.
	at = at.Add(time.Hour)
	a.observe(at, maxWait)
	if a.gap >= maxWait {
		t.Fatalf("one long gap ended the burst: gap %v", a.gap)
	}
	for range 100 {
		at = at.Add(time.Hour)
		a.observe(at, maxWait)
	}
	if a.gap < maxWait {
		t.Fatalf("gap after idle hours = %v, want at least maxWait", a.gap)
	}
	n := 0
	for a.gap >= maxWait {
		at = at.Add(100 * time.Microsecond)
		a.observe(at, maxWait)
		n++
	}
	if n > 60 {
		t.Fatalf("a burst after idle hours took %d deliveries to be seen", n)
	}
}

// TestGatherWaitsOnlyWhileBusy: on a quiet receiver a delivery commits
// alone even when another follows shortly; while deliveries arrive
// quickly, the batch waits for them. It runs in a synctest bubble, whose
// clock only moves when every goroutine in it is blocked: synctest.Wait
// tells a gather that is waiting for company from one that has returned,
// so no real time decides which deliveries it sees.
func TestGatherWaitsOnlyWhileBusy(t *testing.T) {
	newCommitter := func(gap time.Duration) *committer {
		c := &committer{maxBatch: 4, maxWait: 10 * time.Second, queue: make(chan *ingestCall, 4)}
		c.arrivals.gap = gap
		return c
	}
	// gather runs in the background, so the test can feed the queue
	// while it waits.
	gather := func(c *committer) <-chan []*ingestCall {
		got := make(chan []*ingestCall, 1)
		go func() {
			wait := time.NewTimer(time.Hour)
			defer wait.Stop()
			got <- c.gather([]*ingestCall{{queuedAt: time.Now()}}, wait)
		}()
		return got
	}

	synctest.Test(t, func(t *testing.T) {
		quiet := newCommitter(10 * time.Second)
		got := gather(quiet)
		synctest.Wait() // gather has returned, or is waiting for company
		quiet.queue <- &ingestCall{queuedAt: time.Now()}
		if batch := <-got; len(batch) != 1 {
			t.Fatalf("quiet receiver: batch of %d, want the delivery alone", len(batch))
		}
	})

	synctest.Test(t, func(t *testing.T) {
		busy := newCommitter(time.Second)
		got := gather(busy)
		for range 3 {
			synctest.Wait()              // gather has taken what was queued: the next comes later
			time.Sleep(time.Millisecond) // a busy sender's pace, on the bubble's clock
			busy.queue <- &ingestCall{queuedAt: time.Now()}
		}
		if batch := <-got; len(batch) != 4 {
			t.Fatalf("busy receiver: batch of %d, want 4", len(batch))
		}
	})
}

// TestBatchFailsTogetherOnDatabaseErrors fills the database (max_page_count
// on the writer's connection) and commits a batch that needs new pages:
// every caller gets the disk-full error, which is told apart from a
// delivery's own (a NOT NULL violation), and nothing is stored.
func TestBatchFailsTogetherOnDatabaseErrors(t *testing.T) {
	s := openAt(t, filepath.Join(t.TempDir(), "tw.db"))
	ctx := context.Background()
	if _, err := s.Ingest(ctx, storetest.Delivery("edr", "first", t0)); err != nil {
		t.Fatal(err)
	}
	var pages int
	if err := s.w.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, fmt.Sprintf(`PRAGMA max_page_count = %d`, pages)); err != nil {
		t.Fatal(err)
	}
	var calls []*ingestCall
	for i := range 8 {
		d := storetest.Delivery("edr", fmt.Sprintf("big-%d", i), t0)
		d.Payload = []byte(fmt.Sprintf(`{"pad":"%0*d"}`, 64<<10, i))
		calls = append(calls, newIngestCall(d))
	}
	s.commits.commit(calls)
	for i, c := range calls {
		r := <-c.done
		if r.err == nil || databaseError(r.err) == nil {
			t.Fatalf("delivery %d: %v, want the database-full error", i, r.err)
		}
	}
	if evs, _ := s.ListEvents(ctx, store.EventFilter{}); len(evs) != 1 {
		t.Fatalf("%d events, want only the first", len(evs))
	}
	// A delivery's own failure is not the database's.
	if _, err := s.w.ExecContext(ctx, `PRAGMA max_page_count = 1000000`); err != nil {
		t.Fatal(err)
	}
	broken := storetest.Delivery("edr", "broken", t0, store.DeliveryItem{Type: "x", Title: "broken", Severity: "low", Normalized: nil})
	if _, err := s.Ingest(ctx, broken); err == nil || databaseError(err) != nil {
		t.Fatalf("NOT NULL violation = %v, want a delivery's own error", err)
	}
}
