package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tw-cli/tw-cli/internal/store"
)

// testConcurrentIncidentChanges is a playbook, an analyst and correlated
// deliveries changing one incident at once: no change may be lost.
func testConcurrentIncidentChanges(t *testing.T, s store.Store) {
	ctx := context.Background()
	inc := ingest(t, s, triagedDelivery("case-9", t0)).Incidents[0]
	const n = 20
	errs := parallel(n, func(i int) error {
		if i%4 == 3 {
			// Another event of the same case: event_count must count it.
			_, err := s.Ingest(ctx, triagedDelivery("case-9", t0.Add(time.Duration(i)*time.Second)))
			return err
		}
		_, err := s.ApplyIncidentChange(ctx, inc.ID, store.IncidentChange{
			AddTags:       []string{fmt.Sprint("tag-", i)},
			AddIndicators: store.Indicators{IPs: []string{fmt.Sprintf("192.0.2.%d", i)}},
		}, nil, t0.Add(time.Minute), store.TimelineEntry{Kind: store.TimelineComment, Actor: "test", Message: fmt.Sprint("change ", i)})
		return err
	})
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	tr, err := s.GetIncidentTriage(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if i%4 == 3 {
			continue
		}
		if !slices.Contains(tr.Tags, fmt.Sprint("tag-", i)) || !slices.Contains(tr.Indicators.IPs, fmt.Sprintf("192.0.2.%d", i)) {
			t.Fatalf("change %d lost: tags %v, IPs %v", i, tr.Tags, tr.Indicators.IPs)
		}
	}
	got, err := s.GetIncident(ctx, inc.ID)
	if err != nil || got.EventCount != 1+n/4 {
		t.Fatalf("incident = %+v, %v: want %d events", got, err, 1+n/4)
	}
	tl, err := s.ListTimeline(ctx, inc.ID)
	if err != nil || len(tl) != 1+n-n/4 { // the queued entry, then one per change
		t.Fatalf("%d timeline entries, %v; want %d", len(tl), err, 1+n-n/4)
	}
}

// testClaimedOnce is several workers polling while jobs keep arriving:
// every job is claimed exactly once and finishes done.
func testClaimedOnce(t *testing.T, s store.Store) {
	ctx := context.Background()
	const jobs, workers = 30, 6
	done := make(chan struct{})
	claimed := make(chan string, jobs*2)
	go func() {
		defer close(done)
		for i := range jobs {
			if _, err := s.Ingest(ctx, triagedDelivery(fmt.Sprint("once-", i), t0)); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	errs := parallel(workers, func(w int) error {
		worker := fmt.Sprint("w", w)
		for {
			// Read before claiming: if ingest had finished then and the
			// claim finds nothing, every job is taken.
			var finished bool
			select {
			case <-done:
				finished = true
			default:
			}
			js, err := s.ClaimTriageJobs(ctx, worker, t0, time.Minute, 2)
			if err != nil {
				return err
			}
			for _, j := range js {
				claimed <- j.ID
				if err := s.CompleteTriageJob(ctx, j.ID, worker, t0, store.TimelineEntry{
					Kind: store.TimelinePlaybook, Actor: "playbook:" + j.Playbook, Outcome: store.OutcomeDone, JobID: j.ID, Message: "done by " + worker,
				}); err != nil {
					return fmt.Errorf("complete %s: %w", j.ID, err)
				}
			}
			if len(js) == 0 {
				if finished {
					return nil
				}
				time.Sleep(time.Millisecond)
			}
		}
	})
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	close(claimed)
	seen := map[string]bool{}
	for id := range claimed {
		if seen[id] {
			t.Fatalf("job %s claimed twice", id)
		}
		seen[id] = true
	}
	all, err := s.ListTriageJobs(ctx, "")
	if err != nil || len(all) != jobs || len(seen) != jobs {
		t.Fatalf("%d jobs stored, %d claimed, %v; want %d", len(all), len(seen), err, jobs)
	}
	for _, j := range all {
		if j.Status != store.JobDone || j.Attempts != 1 {
			t.Fatalf("job %+v: want done on the first attempt", j)
		}
	}
}

// testGroupClaimedOnce is several incidents with one group key claiming
// the group at once, as triage workers do for deliveries that arrive
// together: exactly one opens it, the others are told it is taken. Rounds
// after the first run on warm connections, where claims overlap most.
func testGroupClaimedOnce(t *testing.T, s store.Store) {
	ctx := context.Background()
	const rounds, n = 6, 8
	for r := range rounds {
		incs := make([]store.Incident, n)
		for i := range n {
			incs[i] = ingest(t, s, triagedDelivery(fmt.Sprint("grp-", r, "-", i), t0)).Incidents[0]
		}
		key := fmt.Sprintf("phish:sender%d@bad.example", r)
		errs := parallel(n, func(i int) error {
			_, err := s.ApplyIncidentChange(ctx, incs[i].ID, store.IncidentChange{GroupKey: &key, GroupSince: t0.Add(-time.Hour)}, nil, t0.Add(time.Second))
			return err
		})
		opened := 0
		for i, err := range errs {
			switch {
			case err == nil:
				opened++
			case !errors.Is(err, store.ErrGroupTaken):
				t.Fatalf("round %d, claim %d: %v", r, i, err)
			}
		}
		if opened != 1 {
			t.Fatalf("round %d: %d incidents opened the group, want 1", r, opened)
		}
		// After the window, a claim is not checked against it.
		if _, err := s.ApplyIncidentChange(ctx, incs[0].ID, store.IncidentChange{GroupKey: &key, GroupSince: t0.Add(2 * time.Second)}, nil, t0.Add(3*time.Second)); err != nil {
			t.Fatalf("a claim after the window: %v", err)
		}
	}
}
