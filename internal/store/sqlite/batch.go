package sqlite

import (
	"context"
	"errors"
	"sync"

	"github.com/tw-cli/tw-cli/internal/store"
)

// DefaultMaxBatch bounds a group commit. Larger batches amortize the
// commit further but make the first caller of a batch wait for the last;
// 128 ~500-byte deliveries commit in a few milliseconds.
const DefaultMaxBatch = 128

// A committer is the group commit behind Ingest. SQLite has one writer and
// a commit costs far more than the inserts it makes durable, so concurrent
// deliveries wait in a queue and one goroutine writes whatever has queued
// up (at most maxBatch) in one transaction, then answers every caller.
//
// There is no timer: a lone delivery commits at once, and under load the
// batch is whatever arrived while the previous commit ran. The wait is thus
// bounded by one commit, and batches grow exactly when commits are the
// bottleneck.
type committer struct {
	s        *Store
	maxBatch int
	stmts    *stmtCache

	// mu orders enqueueing against stop: callers hold it shared while they
	// send, stop holds it exclusively to close the queue, so no caller
	// ever sends on a closed channel.
	mu      sync.RWMutex
	closed  bool
	queue   chan *ingestCall
	stopped chan struct{}
}

type ingestCall struct {
	d    *store.Delivery
	done chan ingestReply // buffered: the committer never blocks on a caller
}

type ingestReply struct {
	res *store.IngestResult
	err error
}

func startCommitter(s *Store, maxBatch int) *committer {
	if maxBatch <= 0 {
		maxBatch = DefaultMaxBatch
	}
	c := &committer{
		s: s, maxBatch: maxBatch, stmts: newStmtCache(s.w),
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
	call := &ingestCall{d: d, done: make(chan ingestReply, 1)}
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
	for first := range c.queue {
		batch = append(batch[:0], first)
	fill:
		for len(batch) < c.maxBatch {
			select {
			case call, ok := <-c.queue:
				if !ok {
					break fill
				}
				batch = append(batch, call)
			default:
				break fill
			}
		}
		c.commit(batch)
		clear(batch) // let the delivered payloads be collected
	}
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
	for len(pending) > 0 {
		failed, err := c.tryBatch(batch, pending, replies)
		if failed < 0 {
			if err != nil {
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
func (c *committer) tryBatch(batch []*ingestCall, pending []int, replies []ingestReply) (int, error) {
	// The batch belongs to many requests; none of their contexts may cut
	// it short.
	ctx := context.Background()
	tx, err := c.s.w.BeginTx(ctx, nil)
	if err != nil {
		return -1, err
	}
	defer tx.Rollback()
	btx := batchTx{tx: tx, stmts: c.stmts}
	for n, i := range pending {
		res, err := ingestTx(ctx, btx, batch[i].d)
		if errors.Is(err, store.ErrReplayed) {
			// Decided before any write: nothing to undo.
			replies[i] = ingestReply{err: err}
			continue
		}
		if err != nil {
			return n, err
		}
		replies[i] = ingestReply{res: res}
	}
	return -1, tx.Commit()
}
