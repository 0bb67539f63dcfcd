package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tw-cli/tw-cli/internal/store"
)

// Opener opens one database, as each process sharing it would: with
// migrate set it migrates on open (as `serve` does) and returns a store;
// without, it opens the database as it is (as `tw-cli db` does).
type Opener func(ctx context.Context, migrate bool) (store.Migrator, error)

// RunLifecycle checks what spans several opens of one database: schema
// versioning, replicas starting together, and closing under load. fresh
// returns an Opener for a new, empty database each time it is called.
func RunLifecycle(t *testing.T, fresh func(t *testing.T) Opener) {
	t.Run("StatusThenMigrate", func(t *testing.T) { testStatusThenMigrate(t, fresh(t)) })
	t.Run("ConcurrentOpen", func(t *testing.T) { testConcurrentOpen(t, fresh(t)) })
	t.Run("CloseDrains", func(t *testing.T) { testCloseDrains(t, fresh(t)) })
}

func mustOpen(t *testing.T, open Opener, migrate bool) store.Migrator {
	t.Helper()
	m, err := open(context.Background(), migrate)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func testStatusThenMigrate(t *testing.T, open Opener) {
	ctx := context.Background()
	m := mustOpen(t, open, false)
	st, err := m.SchemaStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Current != 0 || st.Available < 1 || st.Pending() != st.Available || len(st.Applied) != 0 || st.Backend == "" || st.Location == "" {
		t.Fatalf("empty database status = %+v", st)
	}
	from, to, err := m.Migrate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if from != 0 || to != st.Available {
		t.Fatalf("migrate = %d→%d, want 0→%d", from, to, st.Available)
	}
	from, to, err = m.Migrate(ctx)
	if err != nil || from != to || to != st.Available {
		t.Fatalf("second migrate = %d→%d, %v; want nothing to do", from, to, err)
	}
	after, err := m.SchemaStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after.Current != after.Available || after.Pending() != 0 || len(after.Applied) != after.Available {
		t.Fatalf("migrated status = %+v", after)
	}
	for i, a := range after.Applied {
		if a.Version != i+1 || a.AppliedAt.IsZero() {
			t.Fatalf("applied[%d] = %+v, want version %d with a time", i, a, i+1)
		}
	}
}

// testConcurrentOpen is several replicas starting at once on a new
// database: every one must come up, and each migration be applied once.
func testConcurrentOpen(t *testing.T, open Opener) {
	ctx := context.Background()
	const n = 6
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m, err := open(ctx, true)
			if err != nil {
				errs <- err
				return
			}
			defer m.Close()
			// Each store works at once, not just opens.
			s, ok := m.(store.Store)
			if !ok {
				errs <- fmt.Errorf("open with migrate returned %T, not a store.Store", m)
				return
			}
			if _, err := s.ListSources(ctx); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	st, err := mustOpen(t, open, false).SchemaStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Current != st.Available || len(st.Applied) != st.Available {
		t.Fatalf("after %d concurrent opens: %+v", n, st)
	}
}

// testCloseDrains closes a store while deliveries are arriving (a receiver
// stopping under load): each is either acknowledged, and then found by
// the next process to open the database, or refused with ErrClosed.
func testCloseDrains(t *testing.T, open Opener) {
	ctx := context.Background()
	m := mustOpen(t, open, true)
	s := m.(store.Store)
	const n = 200
	var mu sync.Mutex
	acked := map[string]bool{}
	refused := 0
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			res, err := s.Ingest(ctx, delivery("edr", fmt.Sprintf("drain-%d", i), t0))
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
		}()
	}
	close(start)
	// Close once some deliveries are through, so both outcomes can occur.
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		k := len(acked)
		mu.Unlock()
		if k > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no delivery was acknowledged within 30 s")
		}
		time.Sleep(100 * time.Microsecond)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if err := m.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	if _, err := s.Ingest(ctx, delivery("edr", "late", t0)); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("Ingest after Close = %v, want ErrClosed", err)
	}
	if len(acked)+refused != n {
		t.Fatalf("%d acked + %d refused, want %d", len(acked), refused, n)
	}
	again := mustOpen(t, open, true).(store.Store)
	evs, err := again.ListEvents(ctx, store.EventFilter{Limit: 2 * n})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != len(acked) {
		t.Fatalf("%d events stored, %d acknowledged", len(evs), len(acked))
	}
	for _, ev := range evs {
		if !acked[ev.ID] {
			t.Fatalf("event %s stored but its delivery was refused", ev.ID)
		}
	}
}
