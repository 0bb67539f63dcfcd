package sqlite

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/tw-cli/tw-cli/internal/store"
)

// DefaultMaxBatch bounds a group commit. Larger batches amortize the
// commit further, but while one commits the deliveries in it wait and the
// CPU they would use idles: with 64 senders, batches of at most 32 keep
// two in the pipeline, one committing while the next is parsed, and beat
// 128 by a few percent in `make bench`.
const DefaultMaxBatch = 32

// DefaultMaxBatchWait bounds how long a batch waits for company. A commit
// has a fixed cost, mostly the WAL frames of the eight B-tree pages any
// delivery touches (events, incidents, their indexes and the incident
// counter): BenchmarkIngestBatch spends 220 µs on a lone delivery and
// 45 µs each on sixteen. Waiting up to 2 ms while deliveries keep coming
// made batches at the maximum rate twenty deliveries on average instead
// of ten, and cut the server's CPU time per delivery by 5-15% across
// alternating runs of the load generator (130 → 120 µs).
const DefaultMaxBatchWait = 2 * time.Millisecond

// busyDivisor sets the arrival rate from which a batch waits: an average
// gap under maxWait/busyDivisor (250 µs by default, 4,000 deliveries a
// second), where the committer is what deliveries queue for. Below that a
// delivery commits at once with whatever queued during the commit before:
// a wait there would cost more latency than it looks, since Go's timers
// fire about 1 ms after they are set at the soonest while the process is
// otherwise idle (measured at a steady 2,000 deliveries a second: the
// median answer 1 ms → 3 ms when every batch waited).
const busyDivisor = 8

// A committer is the group commit behind Ingest. SQLite has one writer and
// a commit costs far more than the inserts it makes durable, so concurrent
// deliveries wait in a queue and one goroutine writes whatever has queued
// up (at most maxBatch) in one transaction, then answers every caller.
//
// Before committing, the committer waits for more deliveries (at most
// maxWait in all) only while they arrive faster than one per
// maxWait/busyDivisor: below that rate a delivery commits at once.
type committer struct {
	s        *Store
	maxBatch int
	maxWait  time.Duration
	stmts    *stmtCache
	// replay is loaded by ClaimReceiver (replay.go), so that commands
	// which never ingest never read the replay keys.
	replay atomic.Pointer[replayWindow]

	// arrivals measures the time between deliveries; only run's
	// goroutine touches it.
	arrivals arrivalRate

	// drainBy, in Unix nanoseconds (0: none), is when stop gives up on
	// what is still queued (SetDrainDeadline).
	drainBy atomic.Int64

	// mu orders enqueueing against stop: callers hold it shared while they
	// send, stop holds it exclusively to close the queue, so no caller
	// ever sends on a closed channel.
	mu      sync.RWMutex
	closed  bool
	queue   chan *ingestCall
	stopped chan struct{}
}

type ingestCall struct {
	d *store.Delivery
	// replay is d.ReplayKey's hash, computed by the caller: the committer
	// is the serial part of ingest, so work that can leave it does.
	replay replayHash
	// queuedAt is when the caller queued the delivery: the committer's
	// measure of how fast deliveries arrive.
	queuedAt time.Time
	done     chan ingestReply // buffered: the committer never blocks on a caller
	// probe is Ping's call: no delivery, only whether the write lock can
	// be taken.
	probe bool
}

func newIngestCall(d *store.Delivery) *ingestCall {
	call := &ingestCall{d: d, queuedAt: time.Now(), done: make(chan ingestReply, 1)}
	if d.ReplayKey != "" {
		call.replay = hashReplayKey(d.ReplayKey)
	}
	return call
}

type ingestReply struct {
	res *store.IngestResult
	err error
}

func startCommitter(s *Store, maxBatch int, maxWait time.Duration) *committer {
	if maxBatch <= 0 {
		maxBatch = DefaultMaxBatch
	}
	if maxWait < 0 {
		maxWait = 0
	}
	c := &committer{
		s: s, maxBatch: maxBatch, maxWait: maxWait, stmts: newStmtCache(s.w),
		// Room for a whole next batch to gather while one commits.
		queue:   make(chan *ingestCall, maxBatch),
		stopped: make(chan struct{}),
	}
	go c.run()
	return c
}

// Ingest stores a delivery atomically, sharing a transaction with the
// deliveries that arrive alongside it. See store.Store.
//
// Once queued, the call waits for its batch whatever ctx does: the batch
// commits or rolls back on its own terms, and the caller must not answer
// before knowing which.
func (s *Store) Ingest(ctx context.Context, d *store.Delivery) (*store.IngestResult, error) {
	if len(d.Items) == 0 {
		return nil, store.ErrNoEvents
	}
	call := newIngestCall(d)
	if err := s.commits.enqueue(ctx, call); err != nil {
		return nil, err
	}
	r := <-call.done
	return r.res, r.err
}

func (c *committer) enqueue(ctx context.Context, call *ingestCall) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return store.ErrClosed
	}
	select {
	case c.queue <- call:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stop refuses new deliveries, commits those already queued and waits for
// their callers to have their answers.
func (c *committer) stop() {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.queue)
	}
	c.mu.Unlock()
	<-c.stopped
	c.stmts.close()
}

func (c *committer) run() {
	defer close(c.stopped)
	batch := make([]*ingestCall, 0, c.maxBatch)
	wait := time.NewTimer(time.Hour)
	wait.Stop()
	c.arrivals.gap = c.maxWait // quiet until deliveries show otherwise
	for first := range c.queue {
		batch = c.gather(c.add(batch[:0], first), wait)
		if by := c.drainBy.Load(); by != 0 && time.Now().UnixNano() > by {
			// Past the shutdown's deadline: these callers have no 2xx yet
			// and get a 503 to retry, rather than each batch waiting out
			// the busy timeout on a database another process holds.
			for _, call := range batch {
				call.done <- ingestReply{err: store.ErrClosed}
			}
		} else {
			c.commitWithProbes(batch)
		}
		clear(batch) // let the delivered payloads be collected
	}
}

// gather adds what is queued to batch and, while deliveries arrive faster
// than one per maxWait/busyDivisor, keeps waiting for the next one: up to
// twice the average gap between arrivals each time, and at most maxWait
// in all. At 10,000 deliveries a second batches fill up; at 2,000 nothing
// waits.
func (c *committer) gather(batch []*ingestCall, wait *time.Timer) []*ingestCall {
	var start time.Time
	for len(batch) < c.maxBatch {
		select {
		case call, ok := <-c.queue:
			if !ok {
				return batch // stopping: commit what we have now
			}
			batch = c.add(batch, call)
			continue
		default:
		}
		if c.arrivals.gap >= c.maxWait/busyDivisor {
			return batch
		}
		if start.IsZero() {
			start = time.Now()
		}
		left := c.maxWait - time.Since(start)
		if left <= 0 {
			return batch
		}
		wait.Reset(min(2*c.arrivals.gap, left))
		select {
		case call, ok := <-c.queue:
			wait.Stop()
			if !ok {
				return batch
			}
			batch = c.add(batch, call)
		case <-wait.C:
			return batch
		}
	}
	return batch
}

// add takes call into the batch and into the arrival rate.
func (c *committer) add(batch []*ingestCall, call *ingestCall) []*ingestCall {
	c.arrivals.observe(call.queuedAt, c.maxWait)
	return append(batch, call)
}

// arrivalRate is a moving average of the time between deliveries.
type arrivalRate struct {
	gap  time.Duration
	last time.Time
}

// arrivalWeight is the weight of the newest gap in the average, as a
// divisor. Under load deliveries come in bursts, answered together and
// sent again together, with a pause while each batch commits: a 32nd
// keeps the average near the true rate through those pauses, and still
// recognizes a burst after an idle spell within about fifty deliveries.
const arrivalWeight = 32

// observe folds in a delivery queued at t. Gaps are capped at four times
// maxWait, so that an idle minute does not hide the next burst for long;
// callers race to the queue, so a t earlier than the last counts as 0.
func (a *arrivalRate) observe(t time.Time, maxWait time.Duration) {
	if !a.last.IsZero() {
		d := min(max(t.Sub(a.last), 0), 4*maxWait)
		a.gap += (d - a.gap) / arrivalWeight
	}
	if t.After(a.last) {
		a.last = t
	}
}

// commitWithProbes commits the batch's deliveries, then answers its
// probes (rare: a load balancer's health checks) with whether the write
// lock can be taken, in a transaction of their own so that the deliveries'
// path stays as it is.
func (c *committer) commitWithProbes(batch []*ingestCall) {
	if !slices.ContainsFunc(batch, func(call *ingestCall) bool { return call.probe }) {
		c.commit(batch)
		return
	}
	var deliveries, probes []*ingestCall
	for _, call := range batch {
		if call.probe {
			probes = append(probes, call)
		} else {
			deliveries = append(deliveries, call)
		}
	}
	if len(deliveries) > 0 {
		c.commit(deliveries)
	}
	err := c.probeWriteLock()
	for _, call := range probes {
		call.done <- ingestReply{err: err}
	}
}

// probeWriteLock takes the write lock (the writer's transactions begin
// IMMEDIATE) and lets it go.
func (c *committer) probeWriteLock() error {
	tx, err := c.s.w.BeginTx(context.Background(), nil)
	if err != nil {
		if isBusy(err) || isLocked(err) {
			err = fmt.Errorf("%w: %w", store.ErrBusy, err)
		}
		return err
	}
	return tx.Rollback()
}

// commit writes a batch and answers each caller. A delivery whose
// statements fail is answered with its error and the transaction is run
// again without it, so it cannot take the rest of its batch down with it.
// A failure of BEGIN or COMMIT is the batch's and answers everyone.
func (c *committer) commit(batch []*ingestCall) {
	replies := make([]ingestReply, len(batch))
	pending := make([]int, len(batch)) // indexes into batch still to store
	for i := range pending {
		pending[i] = i
	}
	bulk := true
	for len(pending) > 0 {
		failed, err := c.tryBatch(batch, pending, replies, bulk)
		if failed < 0 && bulk && errors.Is(err, errBulkFlush) {
			bulk = false // find the failing delivery one row at a time
			continue
		}
		if failed < 0 {
			if err != nil {
				if isBusy(err) || isLocked(err) {
					err = fmt.Errorf("%w: %w", store.ErrBusy, err)
				}
				for _, i := range pending {
					replies[i] = ingestReply{err: err}
				}
			}
			break
		}
		replies[pending[failed]] = ingestReply{err: err}
		pending = append(pending[:failed], pending[failed+1:]...)
	}
	for i, call := range batch {
		call.done <- replies[i]
	}
	c.s.ckpt.commits.Add(1)
	c.stmts.prepareWanted(context.Background())
}

// tryBatch stores the pending deliveries in one transaction and fills in
// their replies. When one delivery's statements fail it rolls everything
// back and returns that delivery's position in pending; -1 means the
// outcome (err, nil or not) is the whole batch's.
func (c *committer) tryBatch(batch []*ingestCall, pending []int, replies []ingestReply, bulk bool) (int, error) {
	// The batch belongs to many requests; none of their contexts may cut
	// it short.
	ctx := context.Background()
	set := c.replay.Load()
	if set == nil {
		// Claimed and loaded before the transaction: the load reads
		// through another connection.
		if err := c.s.ClaimReceiver(); err != nil {
			return -1, err
		}
		set = c.replay.Load()
	}
	tx, err := c.s.w.BeginTx(ctx, nil)
	if err != nil {
		return -1, err
	}
	defer tx.Rollback()
	btx := &batchTx{tx: tx, stmts: c.stmts}
	if bulk {
		btx.bulk = &bulkRows{}
	}
	claims := &replayClaims{set: set}
	for n, i := range pending {
		res, err := ingestTx(ctx, btx, claims, batch[i].d, batch[i].replay)
		if errors.Is(err, store.ErrReplayed) || errors.Is(err, store.ErrIdempotencyConflict) {
			// Decided before any write: nothing to undo.
			replies[i] = ingestReply{err: err}
			continue
		}
		if err != nil {
			if databaseError(err) != nil {
				return -1, err
			}
			return n, err
		}
		replies[i] = ingestReply{res: res}
	}
	if err := btx.flush(ctx); err != nil {
		if dbErr := databaseError(err); dbErr != nil {
			return -1, dbErr // not the rows' fault: inserting them one by one would not help
		}
		return -1, err
	}
	if err := tx.Commit(); err != nil {
		return -1, err
	}
	set.add(claims.pending)
	return -1, nil
}

// databaseError returns err's SQLite error when it is the database's
// failure rather than the delivery's whose statement met it (a full disk,
// an I/O error, a lock, a corrupt file fail any delivery in its place),
// and nil otherwise. Such an error fails the whole batch at once: retried
// without one delivery at a time, a batch of 32 took 32 failing
// transactions to answer everyone.
func databaseError(err error) error {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return nil
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_NOMEM,
		sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PROTOCOL:
		return se
	}
	return nil
}
