package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/tw-cli/tw-cli/internal/store"
	"github.com/tw-cli/tw-cli/internal/store/storetest"
)

// Replay keys live in memory while serving; a restart must read them
// back, or a delivery captured before it could be replayed after it.
func TestReplayKeysSurviveRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tw.db")
	ctx := context.Background()
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Ingest(ctx, storetest.Delivery("edr", "sig-A", t0)); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s2 := openAt(t, path)
	if _, err := s2.Ingest(ctx, storetest.Delivery("edr", "sig-A", t0.Add(time.Second))); !errors.Is(err, store.ErrReplayed) {
		t.Fatalf("replay after restart = %v, want ErrReplayed", err)
	}
	if _, err := s2.Ingest(ctx, storetest.Delivery("edr", "sig-B", t0.Add(time.Second))); err != nil {
		t.Fatalf("fresh key after restart: %v", err)
	}
	// Pruned from memory, and the horizon moves past it: a restart does
	// not bring the key back either.
	if err := s2.PruneReplay(ctx, t0.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Ingest(ctx, storetest.Delivery("edr", "sig-A", t0.Add(11*time.Minute))); err != nil {
		t.Fatalf("key accepted again after prune: %v", err)
	}
	s2.Close()
	s3 := openAt(t, path)
	if _, err := s3.Ingest(ctx, storetest.Delivery("edr", "sig-B", t0.Add(12*time.Minute))); err != nil {
		t.Fatalf("pruned key after restart: %v", err)
	}
	// The key let in after the prune is remembered across the restart.
	if _, err := s3.Ingest(ctx, storetest.Delivery("edr", "sig-A", t0.Add(12*time.Minute))); !errors.Is(err, store.ErrReplayed) {
		t.Fatalf("replay of a key seen after the horizon = %v, want ErrReplayed", err)
	}
}

// A second process ingesting into the same file would not see the first
// one's replay keys: it is refused, with a way out, until the first stops.
func TestOneReceiverPerFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tw.db")
	ctx := context.Background()
	first, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.Ingest(ctx, storetest.Delivery("edr", "k1", t0)); err != nil {
		t.Fatal(err)
	}
	second := openAt(t, path)
	// Reading and managing sources from another process stays allowed.
	if _, err := second.ListEvents(ctx, store.EventFilter{}); err != nil {
		t.Fatal(err)
	}
	err = second.ClaimReceiver()
	if !errors.Is(err, ErrOtherReceiver) {
		t.Fatalf("second receiver claim = %v, want ErrOtherReceiver", err)
	}
	if _, err := second.Ingest(ctx, storetest.Delivery("edr", "k2", t0)); !errors.Is(err, ErrOtherReceiver) {
		t.Fatalf("second receiver ingest = %v, want ErrOtherReceiver", err)
	}
	first.Close()
	if err := second.ClaimReceiver(); err != nil {
		t.Fatalf("claim after the first receiver stopped: %v", err)
	}
	if _, err := second.Ingest(ctx, storetest.Delivery("edr", "k1", t0.Add(time.Second))); !errors.Is(err, store.ErrReplayed) {
		t.Fatalf("replay of the first receiver's key = %v, want ErrReplayed", err)
	}
}

// Upgrading a database keeps the replay keys it had remembered.
func TestMigrationKeepsReplayKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tw.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(createMigrationsTable); err != nil {
		t.Fatal(err)
	}
	const before = 3 // the schema before replay_log
	for v := 0; v < before; v++ {
		if _, err := db.Exec(migrations[v]); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, 0)`, v+1); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(`INSERT INTO replay_keys (key, seen_at) VALUES ('old-sig', ?)`, ts(t0)); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s := openAt(t, path)
	ctx := context.Background()
	if _, err := s.Ingest(ctx, storetest.Delivery("edr", "old-sig", t0.Add(time.Second))); !errors.Is(err, store.ErrReplayed) {
		t.Fatalf("key remembered before the upgrade = %v, want ErrReplayed", err)
	}
}

// Past slots are sealed into their minutes' sorted runs without losing a
// key; a key seen late joins the open slot; pruning drops runs and maps
// alike.
func TestReplaySetSealsPastMinutes(t *testing.T) {
	r := newReplaySet()
	minute := func(m int64) int64 { return m * replayBucket }
	var keys []replayHash
	for m := int64(0); m < 3; m++ {
		batch := map[replayHash]int64{}
		for i := range 500 {
			h := hashReplayKey(fmt.Sprintf("k-%d-%d", m, i))
			batch[h] = minute(m) + int64(i)*(replayBucket/500) // across the minute's slots
			keys = append(keys, h)
		}
		r.add(batch)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		r.mu.Lock()
		open, sealed, sealing := len(r.open), len(r.sealed), r.sealing
		r.mu.Unlock()
		if !sealing && open == 1 && sealed == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("open %d slots, sealed %d minutes: want every slot but the last sealed", open, sealed)
		}
		time.Sleep(time.Millisecond)
	}
	for _, h := range keys {
		if !r.contains(h) {
			t.Fatalf("key %v lost by sealing", h)
		}
	}
	if r.contains(hashReplayKey("never seen")) {
		t.Fatal("an unseen key is reported as seen")
	}
	late := hashReplayKey("late")
	r.add(map[replayHash]int64{late: minute(0) + 1})
	if !r.contains(late) {
		t.Fatal("a key seen late was lost")
	}
	r.prune(minute(2))
	for i, h := range keys {
		if want := i >= 1000; r.contains(h) != want {
			t.Fatalf("key %d after pruning the first two minutes: contains = %v", i, !want)
		}
	}
	// The late key joined the open minute, so it outlives its own.
	if !r.contains(late) {
		t.Fatal("the late key was pruned with the minute it was seen in")
	}
}

// After the clock ran a day ahead and stepped back, the keys of the open
// future slot join the present (those received since the step back keep
// their protection), the present's keys are placed in the present, and a
// prune past them frees them all.
func TestReplaySetRecoversFromClockStep(t *testing.T) {
	r := newReplaySet()
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC).UnixNano()
	ahead := hashReplayKey("seen while the clock ran ahead")
	r.add(map[replayHash]int64{ahead: now + int64(24*time.Hour)})
	// Received after the step back, before the next prune: it joins the
	// future slot, the newest open one.
	stepped := hashReplayKey("seen after the step back")
	r.add(map[replayHash]int64{stepped: now})
	r.dropFuture(now + replayFutureSlack) // PruneReplay, once the clock is back
	if !r.contains(stepped) || !r.contains(ahead) {
		t.Fatal("dropFuture lost the keys of the open future slot")
	}
	r.mu.Lock()
	for slot := range r.open {
		if slot*replaySlot > now+replayFutureSlack {
			t.Errorf("slot %d is still in the future", slot)
		}
	}
	r.mu.Unlock()
	present := map[replayHash]int64{}
	for i := range 1000 {
		present[hashReplayKey(fmt.Sprintf("k-%d", i))] = now
	}
	r.add(present)
	for h := range present {
		if !r.contains(h) {
			t.Fatal("a key of the present is not found")
		}
	}
	r.prune(now + 2*replayBucket)
	r.mu.Lock()
	defer r.mu.Unlock()
	kept := 0
	for _, b := range r.open {
		kept += len(b)
	}
	for _, run := range r.sealed {
		kept += len(run)
	}
	if kept != 0 {
		t.Fatalf("%d keys kept after a prune past every one of them", kept)
	}
}

// A clock step back while a seal runs: the slots the seal reads take no
// more keys (it would drop them with the slot's map when done, and it
// reads them without the lock).
func TestReplaySetDropFutureSparesSlotsBeingSealed(t *testing.T) {
	r := newReplaySet()
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC).UnixNano()
	limit := now + replayFutureSlack
	// Keys seen while the clock ran a little ahead, then one further on
	// that starts a new slot and seals theirs.
	r.add(map[replayHash]int64{hashReplayKey("ahead"): limit})
	r.mu.Lock()
	r.addLocked(hashReplayKey("further"), now+int64(5*time.Minute))
	todo := r.sealableLocked()
	r.sealing = true
	r.mu.Unlock()
	sizes := map[int64]int{}
	for slot, b := range todo {
		sizes[slot] = len(b)
	}
	if len(todo) == 0 {
		t.Fatal("nothing to seal: the test's premise is wrong")
	}
	r.dropFuture(limit) // the clock stepped back to now
	present := map[replayHash]int64{}
	for i := range 100 {
		present[hashReplayKey(fmt.Sprintf("p-%d", i))] = now
	}
	r.add(present)
	for slot, b := range todo {
		if len(b) != sizes[slot] {
			t.Fatalf("slot %d, being sealed, took %d keys", slot, len(b)-sizes[slot])
		}
	}
	r.seal(todo)
	for h := range present {
		if !r.contains(h) {
			t.Fatal("a key added during the seal was lost")
		}
	}
	// The next prune, the seal done, brings the set back to the present
	// without losing them.
	r.dropFuture(limit + replayBucket)
	for h := range present {
		if !r.contains(h) {
			t.Fatal("a key added during the seal was lost by the next prune")
		}
	}
}

// Keys received while the clock ran a few minutes ahead passed the
// timestamp check with real times, and some were sealed into a future
// minute: once the clock is back they are still replays.
func TestReplaySetKeepsSealedFutureMinutes(t *testing.T) {
	r := newReplaySet()
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC).UnixNano()
	ahead := hashReplayKey("seen three minutes ahead")
	r.add(map[replayHash]int64{ahead: now + int64(3*time.Minute)})
	// A later slot seals the first one into its (future) minute.
	r.add(map[replayHash]int64{hashReplayKey("later"): now + int64(4*time.Minute)})
	deadline := time.Now().Add(5 * time.Second)
	for {
		r.mu.Lock()
		sealed, busy := len(r.sealed), r.sealing
		r.mu.Unlock()
		if sealed > 0 && !busy {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first slot was never sealed")
		}
		time.Sleep(time.Millisecond)
	}
	r.dropFuture(now + replayFutureSlack)
	if !r.contains(ahead) {
		t.Fatal("a key sealed into a future minute was forgotten when the clock came back")
	}
	r.mu.Lock()
	for m := range r.sealed {
		if m*replayBucket > now+replayFutureSlack {
			t.Errorf("minute %d is still in the future", m)
		}
	}
	r.mu.Unlock()
}

// TestSignedKeysLeaveTheWindowSooner: a key placed by its ReplaySince (a
// signed timestamp less the tolerance, plus a margin) is forgotten by the
// prune that keeps unsigned keys, once a replay of it would fail the
// timestamp check anyway; until then it is refused as a replay.
func TestSignedKeysLeaveTheWindowSooner(t *testing.T) {
	s := openAt(t, filepath.Join(t.TempDir(), "tw.db"))
	ctx := context.Background()
	const tolerance = 5 * time.Minute
	signedAt := time.Now().Truncate(time.Minute)
	deliver := func(key string, signed bool) error {
		d := storetest.Delivery("edr", key, signedAt)
		if signed {
			d.ReplaySince = signedAt.Add(-tolerance + time.Minute)
		}
		_, err := s.Ingest(ctx, d)
		return err
	}
	if err := deliver("signed", true); err != nil {
		t.Fatal(err)
	}
	if err := deliver("unsigned", false); err != nil {
		t.Fatal(err)
	}
	prune := func(now time.Time) {
		t.Helper()
		if err := s.PruneReplay(ctx, now.Add(-2*tolerance)); err != nil {
			t.Fatal(err)
		}
	}
	// At the end of the tolerance both are still refused.
	prune(signedAt.Add(tolerance))
	for _, key := range []string{"signed", "unsigned"} {
		if err := deliver(key, key == "signed"); !errors.Is(err, store.ErrReplayed) {
			t.Fatalf("%s key within tolerance: %v, want ErrReplayed", key, err)
		}
	}
	// Two minutes past it the signed key is gone; the unsigned one stays
	// for the rest of the window.
	prune(signedAt.Add(tolerance + 2*time.Minute))
	if set := s.commits.replay.Load(); set.signed.contains(hashReplayKey("signed")) {
		t.Fatal("the signed key outlived its timestamp's tolerance")
	}
	if err := deliver("unsigned", false); !errors.Is(err, store.ErrReplayed) {
		t.Fatalf("unsigned key inside the window: %v, want ErrReplayed", err)
	}
}
