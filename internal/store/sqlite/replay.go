package sqlite

import (
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
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

// replayHash is what memory keeps of a key: the first 16 bytes of its
// SHA-256 (no collision between real deliveries to fear), as two words so
// that sorted runs compare fast.
type replayHash struct{ hi, lo uint64 }

func hashReplayKey(key string) replayHash {
	sum := sha256.Sum256([]byte(key))
	return replayHash{binary.BigEndian.Uint64(sum[:8]), binary.BigEndian.Uint64(sum[8:16])}
}

// bytes is the hash as stored in events.replay_hash.
func (h replayHash) bytes() []byte {
	b := make([]byte, 16)
	binary.BigEndian.PutUint64(b, h.hi)
	binary.BigEndian.PutUint64(b[8:], h.lo)
	return b
}

func replayHashOf(b []byte) (replayHash, bool) {
	if len(b) != 16 {
		return replayHash{}, false
	}
	return replayHash{binary.BigEndian.Uint64(b), binary.BigEndian.Uint64(b[8:])}, true
}

func compareReplayHash(a, b replayHash) int {
	if c := cmp.Compare(a.hi, b.hi); c != 0 {
		return c
	}
	return cmp.Compare(a.lo, b.lo)
}

// Keys arrive in a map per slot of seen_at, sealed into a sorted run once
// the slot is over and merged into its minute's run, so that lookups
// search at most a minute of maps and one run per minute, and the map
// that holds keys at 20-40 bytes each never holds more than a slot's.
const (
	replaySlot   = int64(10 * time.Second)
	replayBucket = int64(time.Minute) // a multiple of replaySlot
)

// replaySet holds the replay keys of the window. The committer checks and
// adds from its goroutine; PruneReplay drops buckets from another.
//
// The current slot's keys are in a map; once a slot is over its map is
// sealed into its minute's sorted run, 16 bytes a key instead of the
// map's 20 to 40, so a receiver holding ten minutes of keys at 2,000
// deliveries a second keeps about 20 MB, and its memory stops growing
// once the window is full.
type replaySet struct {
	mu     sync.Mutex
	open   map[int64]map[replayHash]struct{} // by slot; also those being sealed
	sealed map[int64][]replayHash            // by minute, sorted
	// openFrom is the earliest slot still taking keys: a key seen late,
	// in a slot already sealed or being sealed, joins this one.
	openFrom int64
	sealing  bool
	// pruned is the latest prune's cut-off: a seal that ran across it
	// must not bring a pruned minute back.
	pruned int64
}

func newReplaySet() *replaySet {
	return &replaySet{open: map[int64]map[replayHash]struct{}{}, sealed: map[int64][]replayHash{}}
}

func (r *replaySet) contains(h replayHash) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, b := range r.open {
		if _, ok := b[h]; ok {
			return true
		}
	}
	for _, run := range r.sealed {
		if _, ok := slices.BinarySearchFunc(run, h, compareReplayHash); ok {
			return true
		}
	}
	return false
}

// add records committed keys, by the time each was seen. The first key of
// a new slot seals the slots before it, off the committer's goroutine.
func (r *replaySet) add(keys map[replayHash]int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	newMinute := false
	for h, at := range keys {
		newMinute = r.addLocked(h, at) || newMinute
	}
	if newMinute && !r.sealing {
		if todo := r.sealableLocked(); len(todo) > 0 {
			r.sealing = true
			go r.seal(todo)
		}
	}
}

// addLocked adds one key and reports whether it opened a slot after
// openFrom.
func (r *replaySet) addLocked(h replayHash, at int64) bool {
	slot := max(at/replaySlot, r.openFrom)
	b := r.open[slot]
	if b == nil {
		b = map[replayHash]struct{}{}
		r.open[slot] = b
	}
	b[h] = struct{}{}
	return slot > r.openFrom
}

// sealableLocked closes every open slot before the latest one to new
// keys and returns them.
func (r *replaySet) sealableLocked() map[int64]map[replayHash]struct{} {
	latest := r.openFrom
	for m := range r.open {
		latest = max(latest, m)
	}
	r.openFrom = latest
	todo := map[int64]map[replayHash]struct{}{}
	for m, b := range r.open {
		if m < latest {
			todo[m] = b
		}
	}
	return todo
}

// seal sorts closed slots and merges them into their minutes' runs.
// Their maps are no longer written (addLocked sends their late keys to
// openFrom), so reading them here while contains reads them too is safe;
// they stay in open, and keep answering, until the merged run replaces
// them. Only seal writes sealed, one seal at a time, so a minute's run
// read here is still the current one when it is replaced.
func (r *replaySet) seal(todo map[int64]map[replayHash]struct{}) {
	bySlotMinute := map[int64][]int64{}
	for slot := range todo {
		m := slot * replaySlot / replayBucket
		bySlotMinute[m] = append(bySlotMinute[m], slot)
	}
	runs := make(map[int64][]replayHash, len(bySlotMinute))
	for m, slots := range bySlotMinute {
		n := 0
		for _, slot := range slots {
			n += len(todo[slot])
		}
		fresh := make([]replayHash, 0, n)
		for _, slot := range slots {
			for h := range todo[slot] {
				fresh = append(fresh, h)
			}
		}
		slices.SortFunc(fresh, compareReplayHash)
		r.mu.Lock()
		old := r.sealed[m]
		r.mu.Unlock()
		runs[m] = mergeRuns(old, fresh)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for m, slots := range bySlotMinute {
		for _, slot := range slots {
			delete(r.open, slot)
		}
		if (m+1)*replayBucket > r.pruned { // not pruned meanwhile
			r.sealed[m] = runs[m]
		}
	}
	// A minute that began while this ran is sealed next.
	if more := r.sealableLocked(); len(more) > 0 {
		go r.seal(more)
		return
	}
	r.sealing = false
}

// prune forgets the buckets entirely before the cut-off. A key in the
// cut-off's own minute stays until the next prune: remembered a little
// longer than asked, never shorter.
func (r *replaySet) prune(before int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pruned = max(r.pruned, before)
	for slot := range r.open {
		if (slot+1)*replaySlot <= before {
			delete(r.open, slot)
		}
	}
	for m := range r.sealed {
		if (m+1)*replayBucket <= before {
			delete(r.sealed, m)
		}
	}
}

// replayFutureSlack is how far past the wall clock a key's time may be
// before dropFuture takes it for a clock that has since stepped back.
const replayFutureSlack = int64(time.Minute)

// dropFuture brings the set back to a clock that stepped back. Keys are
// placed by the wall-clock time they were received, and the set never
// places a key before its newest slot (openFrom): after the clock ran
// ahead and stepped back, every new key would join that future slot,
// which no prune can drop until real time passes it, and memory would
// grow the whole while. So the open slots past limit hand their keys to
// limit's slot, and the minutes sealed past limit theirs to limit's
// minute, which prune in time: keys received while the clock ran a few
// minutes ahead still passed the timestamp check with real times, and
// keep their replay protection, as do those received since the step
// back. openFrom goes back to limit's slot.
//
// While a seal runs it does nothing: the slots being sealed, read without
// the lock, must take no keys, and the next prune, a minute later, does
// it once the seal is done.
func (r *replaySet) dropFuture(limit int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sealing {
		return
	}
	floor := limit / replaySlot
	for slot, b := range r.open {
		if slot <= floor {
			continue
		}
		into := r.open[floor]
		if into == nil {
			into = map[replayHash]struct{}{}
			r.open[floor] = into
		}
		for h := range b {
			into[h] = struct{}{}
		}
		delete(r.open, slot)
	}
	floorMinute := limit / replayBucket
	for m, run := range r.sealed {
		if m > floorMinute {
			// Only seal writes sealed otherwise, and none runs.
			r.sealed[floorMinute] = mergeRuns(r.sealed[floorMinute], run)
			delete(r.sealed, m)
		}
	}
	r.openFrom = min(r.openFrom, floor)
}

// mergeRuns merges two sorted runs into a new one.
func mergeRuns(a, b []replayHash) []replayHash {
	out := make([]replayHash, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if compareReplayHash(a[0], b[0]) <= 0 {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	out = append(out, a...)
	return append(out, b...)
}

// replayLookback is how far back from its newest event a receiver looks
// for replay keys when no prune has recorded a horizon yet (a new or just
// upgraded database, or a receiver stopped within its first minute).
const replayLookback = time.Hour

// loadReplay reads the keys of the events received since the horizon,
// and those of the replay_keys table that older versions wrote.
func loadReplay(ctx context.Context, db *sql.DB) (*replayWindow, error) {
	var horizon int64
	err := db.QueryRowContext(ctx, `SELECT before FROM replay_horizon WHERE id = 1`).Scan(&horizon)
	if errors.Is(err, sql.ErrNoRows) {
		err = db.QueryRowContext(ctx, `SELECT COALESCE(MAX(received_at), 0) - ? FROM events`, int64(replayLookback)).Scan(&horizon)
	}
	if err != nil {
		return nil, fmt.Errorf("load replay keys: %w", err)
	}
	// A horizon ahead of the clock was recorded while the clock ran
	// ahead; from it no key would load.
	if now := time.Now().UnixNano(); horizon > now {
		horizon = now - int64(replayLookback)
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
		if h, ok := replayHashOf(raw); ok {
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
	if err := legacy.Err(); err != nil {
		return nil, fmt.Errorf("load replay keys: %w", err)
	}
	// Before the receiver starts: sealing now costs nobody a wait.
	r.mu.Lock()
	todo := r.sealableLocked()
	r.sealing = true
	r.mu.Unlock()
	r.seal(todo)
	// The events keep no signed timestamps: every key read back is placed
	// by its receipt, remembered the whole window.
	return &replayWindow{received: r, signed: newReplaySet()}, nil
}

// replayWindow is the replay keys in memory, in two sets pruned alike:
// by receipt time, and, for the keys of deliveries with a signed
// timestamp, by store.Delivery.ReplaySince. Each set's slots assume keys
// arrive in about the order of their times, which within either holds.
type replayWindow struct {
	received, signed *replaySet
}

func (w *replayWindow) contains(h replayHash) bool {
	return w.received.contains(h) || w.signed.contains(h)
}

func (w *replayWindow) add(keys map[replayHash]replayClaim) {
	received, signed := map[replayHash]int64{}, map[replayHash]int64{}
	for h, c := range keys {
		if c.signed {
			signed[h] = c.at
		} else {
			received[h] = c.at
		}
	}
	w.received.add(received)
	w.signed.add(signed)
}

func (w *replayWindow) prune(before int64) {
	w.received.prune(before)
	w.signed.prune(before)
}

func (w *replayWindow) dropFuture(limit int64) {
	w.received.dropFuture(limit)
	w.signed.dropFuture(limit)
}

// replayClaim is where a claimed key goes in the window.
type replayClaim struct {
	at     int64
	signed bool
}

// replayClaims are the keys a group commit's transaction has let in so
// far: a repeat inside the same batch is a replay too.
type replayClaims struct {
	set     *replayWindow
	pending map[replayHash]replayClaim
}

// claim takes a key's hash for a delivery placed at at in the window's
// received or signed set; false means it is a replay. The hash goes into
// the delivery's first event.
func (c *replayClaims) claim(h replayHash, at int64, signed bool) bool {
	if _, ok := c.pending[h]; ok || c.set.contains(h) {
		return false
	}
	if c.pending == nil {
		c.pending = map[replayHash]replayClaim{}
	}
	c.pending[h] = replayClaim{at: at, signed: signed}
	return true
}
