package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Replay keys are checked in memory and stored with the event they let
// in (events.replay_hash).
//
// The key begins with the signed timestamp (seconds) and ends with a hash
// of the body, so a unique index on it took inserts at random places among
// the current second's keys: at 10,000 deliveries a second each group
// commit dirtied a page of that index per delivery, and the index alone
// wrote more to the WAL than the events did, then as much again to delete
// the keys once expired. Now a key costs 16 bytes in a row that is written
// anyway, and nothing to expire: replay_horizon records how far back the
// receiver still looks, and a restart reads the keys of the events
// received since.
//
// Memory is the only index, so a second process would not see this one's
// keys: ClaimReceiver makes the receiving process the only one.

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

// replayLookback is how far back from its newest event a receiver looks
// for replay keys when no prune has recorded a horizon yet (a new or just
// upgraded database, or a receiver stopped within its first minute).
const replayLookback = time.Hour

// loadReplay reads the keys of the events received since the horizon,
// and those of the replay_keys table that older versions wrote.
func loadReplay(ctx context.Context, db *sql.DB) (*replaySet, error) {
	var horizon int64
	err := db.QueryRowContext(ctx, `SELECT before FROM replay_horizon WHERE id = 1`).Scan(&horizon)
	if errors.Is(err, sql.ErrNoRows) {
		err = db.QueryRowContext(ctx, `SELECT COALESCE(MAX(received_at), 0) - ? FROM events`, int64(replayLookback)).Scan(&horizon)
	}
	if err != nil {
		return nil, fmt.Errorf("load replay keys: %w", err)
	}
	r := newReplaySet()
	rows, err := db.QueryContext(ctx, `SELECT received_at, replay_hash FROM events
		WHERE received_at >= ? AND replay_hash IS NOT NULL`, horizon)
	if err != nil {
		return nil, fmt.Errorf("load replay keys: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var at int64
		var raw []byte
		if err := rows.Scan(&at, &raw); err != nil {
			return nil, fmt.Errorf("load replay keys: %w", err)
		}
		var h replayHash
		if len(raw) == len(h) {
			copy(h[:], raw)
			r.addLocked(h, at)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load replay keys: %w", err)
	}
	legacy, err := db.QueryContext(ctx, `SELECT seen_at, key FROM replay_keys WHERE seen_at >= ?`, horizon)
	if err != nil {
		return nil, fmt.Errorf("load replay keys: %w", err)
	}
	defer legacy.Close()
	for legacy.Next() {
		var at int64
		var key string
		if err := legacy.Scan(&at, &key); err != nil {
			return nil, fmt.Errorf("load replay keys: %w", err)
		}
		r.addLocked(hashReplayKey(key), at)
	}
	return r, legacy.Err()
}

// replayClaims are the keys a group commit's transaction has let in so
// far: a repeat inside the same batch is a replay too.
type replayClaims struct {
	set     *replaySet
	pending map[replayHash]int64
}

// claim takes key for a delivery seen at at; false means it is a replay.
// The hash goes into the delivery's first event.
func (c *replayClaims) claim(key string, at int64) (replayHash, bool) {
	h := hashReplayKey(key)
	if _, ok := c.pending[h]; ok || c.set.contains(h) {
		return h, false
	}
	if c.pending == nil {
		c.pending = map[replayHash]int64{}
	}
	c.pending[h] = at
	return h, true
}
