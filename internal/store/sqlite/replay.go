package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"sync"
	"time"
)

// Replay keys are remembered in memory and logged to the replay_log table.
//
// The key begins with the signed timestamp (seconds) and ends with a hash
// of the body, so a unique index on it took inserts at random places among
// the current second's keys: at 10,000 deliveries a second each group
// commit dirtied a page of that index per delivery, and the index alone
// wrote more to the WAL than the events did. The log is appended in
// arrival order (its rowid and seen_at indexes only ever grow at their
// right edge) and read back once, when the receiver starts.
//
// Memory is the only index, so a second process would not see this one's
// keys: claimReceiver makes the receiving process the only one.

// replayHash is what memory keeps of a key: 16 bytes of its SHA-256, no
// collision between real deliveries to fear.
type replayHash [16]byte

func hashReplayKey(key string) replayHash {
	sum := sha256.Sum256([]byte(key))
	return replayHash(sum[:16])
}

// replayBucket is one minute of seen_at: pruning drops whole buckets.
const replayBucket = int64(time.Minute)

// replaySet holds the keys of replay_log. The committer checks and adds
// from its goroutine; PruneReplay drops buckets from another.
type replaySet struct {
	mu      sync.Mutex
	buckets map[int64]map[replayHash]struct{}
}

func newReplaySet() *replaySet {
	return &replaySet{buckets: map[int64]map[replayHash]struct{}{}}
}

func (r *replaySet) contains(h replayHash) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, b := range r.buckets {
		if _, ok := b[h]; ok {
			return true
		}
	}
	return false
}

// add records committed keys, by the time each was seen.
func (r *replaySet) add(keys map[replayHash]int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for h, at := range keys {
		r.addLocked(h, at)
	}
}

func (r *replaySet) addLocked(h replayHash, at int64) {
	minute := at / replayBucket
	b := r.buckets[minute]
	if b == nil {
		b = map[replayHash]struct{}{}
		r.buckets[minute] = b
	}
	b[h] = struct{}{}
}

// prune forgets the buckets entirely before the cut-off. A key in the
// cut-off's own minute stays until the next prune: remembered a little
// longer than asked, never shorter.
func (r *replaySet) prune(before int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for minute := range r.buckets {
		if (minute+1)*replayBucket <= before {
			delete(r.buckets, minute)
		}
	}
}

// loadReplay reads replay_log into a new set.
func loadReplay(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}) (*replaySet, error) {
	rows, err := q.QueryContext(ctx, `SELECT seen_at, key FROM replay_log`)
	if err != nil {
		return nil, fmt.Errorf("load replay keys: %w", err)
	}
	defer rows.Close()
	r := newReplaySet()
	for rows.Next() {
		var at int64
		var key string
		if err := rows.Scan(&at, &key); err != nil {
			return nil, fmt.Errorf("load replay keys: %w", err)
		}
		r.addLocked(hashReplayKey(key), at)
	}
	return r, rows.Err()
}

// replayClaims are the keys a group commit's transaction has logged so
// far: a repeat inside the same batch is a replay too.
type replayClaims struct {
	set     *replaySet
	pending map[replayHash]int64
}

// claim logs key unless it is known; false means it is a replay.
func (c *replayClaims) claim(ctx context.Context, tx writeTx, key string, at int64) (bool, error) {
	h := hashReplayKey(key)
	if _, ok := c.pending[h]; ok || c.set.contains(h) {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO replay_log (seen_at, key) VALUES (?, ?)`, at, key); err != nil {
		return false, err
	}
	if c.pending == nil {
		c.pending = map[replayHash]int64{}
	}
	c.pending[h] = at
	return true, nil
}
