package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tw-cli/tw-cli/internal/store"
)

// RunTriage runs the triage queue, timeline, destination and dead-letter
// suite; open returns a fresh, empty store.
func RunTriage(t *testing.T, open func(t *testing.T) store.Store) {
	tests := map[string]func(*testing.T, store.Store){
		"EnqueueInIngest":     testEnqueueInIngest,
		"ClaimAndLease":       testClaimAndLease,
		"RetryAndExhaust":     testRetryAndExhaust,
		"Requeue":             testRequeue,
		"ConcurrentClaims":    testConcurrentClaims,
		"IncidentChange":      testIncidentChange,
		"GroupAndMerge":       testGroupAndMerge,
		"Destinations":        testDestinations,
		"DeadLetters":         testDeadLetters,
		"ProgressNeedsLease":  testProgressNeedsLease,
		"TimelineForUnknown":  testTimelineUnknownIncident,
		"LatestIncidentEvent": testLatestIncidentEvent,
		"ConcurrentChanges":   testConcurrentIncidentChanges,
		"ClaimedOnce":         testClaimedOnce,
		"GroupClaimedOnce":    testGroupClaimedOnce,
		"ChangeCheck":         testChangeCheck,
		"ListedOwnerAndTags":  testListedOwnerAndTags,
	}
	for name, fn := range tests {
		t.Run(name, func(t *testing.T) {
			fn(t, open(t))
		})
	}
}

func triagedDelivery(key string, at time.Time) *store.Delivery {
	return &store.Delivery{
		Source: "email-gateway", ReceivedAt: at, Verification: "hmac", Format: "generic",
		Payload: []byte(`{}`), Triage: &store.TriageRequest{Playbook: "phishing_triage"},
		Items: []store.DeliveryItem{{Type: "t", Title: "phish " + key, Severity: "medium", CorrelationKey: key, Normalized: []byte(`{}`)}},
	}
}

func ingest(t *testing.T, s store.Store, d *store.Delivery) *store.IngestResult {
	t.Helper()
	res, err := s.Ingest(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func testEnqueueInIngest(t *testing.T, s store.Store) {
	ctx := context.Background()
	res := ingest(t, s, triagedDelivery("k1", t0))
	if len(res.Jobs) != 1 {
		t.Fatalf("%d jobs queued, want 1", len(res.Jobs))
	}
	j := res.Jobs[0]
	if j.Status != store.JobQueued || j.IncidentID != res.Incidents[0].ID || j.EventID != res.Events[0].ID ||
		j.Playbook != "phishing_triage" || len(j.ID) < 10 || j.ID[:6] != "queue-" {
		t.Fatalf("job = %+v", j)
	}
	got, err := s.GetTriageJob(ctx, j.ID)
	if err != nil || got.Status != store.JobQueued || !got.RunAt.Equal(t0) {
		t.Fatalf("stored job = %+v, %v", got, err)
	}
	// A second event on the same open incident is not triaged again.
	again := ingest(t, s, triagedDelivery("k1", t0.Add(time.Second)))
	if len(again.Jobs) != 0 || again.Incidents[0].ID != j.IncidentID {
		t.Fatalf("correlated event queued %d jobs on %s", len(again.Jobs), again.Incidents[0].Number)
	}
	// Without a triage request nothing is queued.
	plain := triagedDelivery("k2", t0)
	plain.Triage = nil
	if res := ingest(t, s, plain); len(res.Jobs) != 0 {
		t.Fatal("a delivery without triage queued a job")
	}
	tl, err := s.ListTimeline(ctx, j.IncidentID)
	if err != nil || len(tl) != 1 || tl[0].Outcome != store.JobQueued || tl[0].JobID != j.ID {
		t.Fatalf("timeline = %+v, %v", tl, err)
	}
	// A failed ingest queues nothing: the job is in the same transaction.
	dup := triagedDelivery("k3", t0)
	dup.ReplayKey = "r"
	ingest(t, s, dup)
	dup2 := triagedDelivery("k4", t0)
	dup2.ReplayKey = "r"
	if _, err := s.Ingest(ctx, dup2); !errors.Is(err, store.ErrReplayed) {
		t.Fatal(err)
	}
	all, _ := s.ListTriageJobs(ctx, "")
	if len(all) != 2 {
		t.Fatalf("%d jobs, want 2 (k1 and k3)", len(all))
	}
}

func testClaimAndLease(t *testing.T, s store.Store) {
	ctx := context.Background()
	job := ingest(t, s, triagedDelivery("k", t0)).Jobs[0]
	lease := 30 * time.Second
	got, err := s.ClaimTriageJobs(ctx, "w1", t0, lease, 10)
	if err != nil || len(got) != 1 || got[0].ID != job.ID || got[0].Attempts != 1 || got[0].LeaseOwner != "w1" ||
		!got[0].LeaseUntil.Equal(t0.Add(lease)) || got[0].Status != store.JobRunning {
		t.Fatalf("claim = %+v, %v", got, err)
	}
	if again, _ := s.ClaimTriageJobs(ctx, "w2", t0.Add(lease-time.Second), lease, 10); len(again) != 0 {
		t.Fatalf("a leased job was claimed twice: %+v", again)
	}
	if err := s.ExtendTriageLease(ctx, job.ID, "w2", t0.Add(time.Hour)); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("another worker extended the lease: %v", err)
	}
	// w1 "crashes": once the lease expires w2 takes the job over.
	later := t0.Add(lease)
	taken, err := s.ClaimTriageJobs(ctx, "w2", later, lease, 10)
	if err != nil || len(taken) != 1 || taken[0].Attempts != 2 || taken[0].LeaseOwner != "w2" {
		t.Fatalf("expired lease not reclaimed: %+v, %v", taken, err)
	}
	// The stalled w1 must not overwrite w2's work.
	if err := s.CompleteTriageJob(ctx, job.ID, "w1", later); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("stale worker completed the job: %v", err)
	}
	done := store.TimelineEntry{Kind: store.TimelinePlaybook, Actor: "playbook:p", Outcome: store.OutcomeDone, Message: "done", JobID: job.ID}
	if err := s.CompleteTriageJob(ctx, job.ID, "w2", later, done); err != nil {
		t.Fatal(err)
	}
	j, _ := s.GetTriageJob(ctx, job.ID)
	if j.Status != store.JobDone || !j.CompletedAt.Equal(later) || j.LeaseOwner != "" {
		t.Fatalf("completed job = %+v", j)
	}
	if more, _ := s.ClaimTriageJobs(ctx, "w3", later.Add(time.Hour), lease, 10); len(more) != 0 {
		t.Fatal("a done job was claimed")
	}
	tl, _ := s.ListTimeline(ctx, job.IncidentID)
	if len(tl) != 2 || tl[1].Message != "done" {
		t.Fatalf("timeline = %+v", tl)
	}
}

// testRequeue: a job given back on shutdown is claimable at once and its
// claim's attempt does not count.
func testRequeue(t *testing.T, s store.Store) {
	ctx := context.Background()
	job := ingest(t, s, triagedDelivery("rq", t0)).Jobs[0]
	if got, err := s.ClaimTriageJobs(ctx, "w", t0, time.Minute, 1); err != nil || len(got) != 1 || got[0].Attempts != 1 {
		t.Fatalf("claim = %+v, %v", got, err)
	}
	stop := store.TimelineEntry{Kind: store.TimelinePlaybook, Actor: "playbook:p", Outcome: store.OutcomeInterrupted, Message: "interrupted by shutdown"}
	if err := s.RequeueTriageJob(ctx, job.ID, "other", t0, stop); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("requeue by a worker without the lease = %v, want ErrLeaseLost", err)
	}
	if err := s.RequeueTriageJob(ctx, job.ID, "w", t0.Add(time.Second), stop); err != nil {
		t.Fatal(err)
	}
	j, _ := s.GetTriageJob(ctx, job.ID)
	if j.Status != store.JobQueued || j.Attempts != 0 || j.LeaseOwner != "" {
		t.Fatalf("requeued job = %+v", j)
	}
	again, err := s.ClaimTriageJobs(ctx, "w2", t0.Add(time.Second), time.Minute, 1)
	if err != nil || len(again) != 1 || again[0].Attempts != 1 {
		t.Fatalf("claim after requeue = %+v, %v", again, err)
	}
	tl, _ := s.ListTimeline(ctx, job.IncidentID)
	if len(tl) == 0 || tl[len(tl)-1].Outcome != store.OutcomeInterrupted {
		t.Fatalf("the interruption is not on the timeline: %+v", tl)
	}
}

func testRetryAndExhaust(t *testing.T, s store.Store) {
	ctx := context.Background()
	job := ingest(t, s, triagedDelivery("k", t0)).Jobs[0]
	lease := time.Minute
	if _, err := s.ClaimTriageJobs(ctx, "w", t0, lease, 1); err != nil {
		t.Fatal(err)
	}
	retryAt := t0.Add(10 * time.Second)
	fail := store.TimelineEntry{Kind: store.TimelineStep, Actor: "playbook:p", Step: "notify", Outcome: store.OutcomeFailed, Message: "boom"}
	if err := s.FailTriageJob(ctx, job.ID, "w", t0, "boom", retryAt, fail); err != nil {
		t.Fatal(err)
	}
	j, _ := s.GetTriageJob(ctx, job.ID)
	if j.Status != store.JobQueued || j.LastError != "boom" || !j.RunAt.Equal(retryAt) {
		t.Fatalf("failed job = %+v", j)
	}
	if early, _ := s.ClaimTriageJobs(ctx, "w", retryAt.Add(-time.Second), lease, 1); len(early) != 0 {
		t.Fatal("job retried before its backoff")
	}
	again, err := s.ClaimTriageJobs(ctx, "w", retryAt, lease, 1)
	if err != nil || len(again) != 1 || again[0].Attempts != 2 {
		t.Fatalf("retry claim = %+v, %v", again, err)
	}
	if err := s.FailTriageJob(ctx, job.ID, "w", retryAt, "boom again", time.Time{}); err != nil {
		t.Fatal(err)
	}
	j, _ = s.GetTriageJob(ctx, job.ID)
	if j.Status != store.JobFailed || j.LastError != "boom again" || j.CompletedAt.IsZero() {
		t.Fatalf("exhausted job = %+v", j)
	}
	if more, _ := s.ClaimTriageJobs(ctx, "w", retryAt.Add(time.Hour), lease, 1); len(more) != 0 {
		t.Fatal("an exhausted job was claimed")
	}
	jobs, _ := s.ListTriageJobs(ctx, job.IncidentID)
	if len(jobs) != 1 || jobs[0].Status != store.JobFailed {
		t.Fatalf("list = %+v", jobs)
	}
	tl, _ := s.ListTimeline(ctx, job.IncidentID)
	if len(tl) != 2 || tl[1].Outcome != store.OutcomeFailed || tl[1].Step != "notify" {
		t.Fatalf("the failure is not on the timeline: %+v", tl)
	}
}

func testConcurrentClaims(t *testing.T, s store.Store) {
	ctx := context.Background()
	const n = 40
	for i := range n {
		ingest(t, s, triagedDelivery(fmt.Sprint("c", i), t0))
	}
	var mu sync.Mutex
	seen := map[string]string{}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			worker := fmt.Sprint("w", w)
			for {
				jobs, err := s.ClaimTriageJobs(ctx, worker, t0, time.Minute, 3)
				if err != nil {
					t.Error(err)
					return
				}
				if len(jobs) == 0 {
					return
				}
				mu.Lock()
				for _, j := range jobs {
					if prev, dup := seen[j.ID]; dup {
						t.Errorf("job %s claimed by %s and %s", j.ID, prev, worker)
					}
					seen[j.ID] = worker
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("%d jobs claimed, want %d", len(seen), n)
	}
}

func testIncidentChange(t *testing.T, s store.Store) {
	ctx := context.Background()
	inc := ingest(t, s, triagedDelivery("k", t0)).Incidents[0]
	sev, owner := "high", "alice"
	at := t0.Add(time.Minute)
	got, err := s.ApplyIncidentChange(ctx, inc.Number, store.IncidentChange{
		Severity: &sev, Owner: &owner, AddTags: []string{"phishing", "email"},
		AddIndicators: store.Indicators{URLs: []string{"http://x.test/a"}, IPs: []string{"192.0.2.1"}},
	}, nil, at, store.TimelineEntry{Kind: store.TimelineStep, Actor: "playbook:p", Step: "s", Outcome: store.OutcomeOK, Message: "changed"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Severity != "high" || !got.UpdatedAt.Equal(at) {
		t.Fatalf("incident = %+v", got)
	}
	// Tags and indicators accumulate without duplicates.
	if _, err := s.ApplyIncidentChange(ctx, inc.ID, store.IncidentChange{
		AddTags: []string{"email", "vip"}, AddIndicators: store.Indicators{IPs: []string{"192.0.2.1", "198.51.100.7"}, Hashes: []string{"abc"}},
	}, nil, at); err != nil {
		t.Fatal(err)
	}
	tr, err := s.GetIncidentTriage(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Owner != "alice" || !slices.Equal(tr.Tags, []string{"phishing", "email", "vip"}) ||
		!slices.Equal(tr.Indicators.IPs, []string{"192.0.2.1", "198.51.100.7"}) || !slices.Equal(tr.Indicators.URLs, []string{"http://x.test/a"}) ||
		!slices.Equal(tr.Indicators.Hashes, []string{"abc"}) {
		t.Fatalf("triage = %+v", tr)
	}
	reason := "known benign sender"
	sup, err := s.ApplyIncidentChange(ctx, inc.ID, store.IncidentChange{Suppress: &reason}, nil, at)
	if err != nil || sup.Status != store.StatusResolved {
		t.Fatalf("suppress = %+v, %v", sup, err)
	}
	tr, _ = s.GetIncidentTriage(ctx, inc.ID)
	if !tr.Suppressed || tr.SuppressReason != reason {
		t.Fatalf("suppressed triage = %+v", tr)
	}
	// Reopened by hand, it is triaged again: still suppressed, every
	// playbook skipped it and nothing could clear that.
	reopened, msg, changed, err := store.SetIncidentStatus(ctx, s, inc.ID, store.StatusOpen, "bob", at)
	if err != nil || !changed || reopened.Status != store.StatusOpen || !strings.Contains(msg, "no longer suppressed ("+reason+")") {
		t.Fatalf("reopen = %+v, %q, %v, %v", reopened, msg, changed, err)
	}
	if tr, _ = s.GetIncidentTriage(ctx, inc.ID); tr.Suppressed || tr.SuppressReason != "" || tr.Owner != "alice" {
		t.Fatalf("triage after reopening = %+v, want no suppression and the rest kept", tr)
	}
	if _, err := s.ApplyIncidentChange(ctx, "INC-1999-0001", store.IncidentChange{}, nil, at); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing incident = %v", err)
	}
	empty, err := s.GetIncidentTriage(ctx, "no-such-id")
	if err != nil || empty.Owner != "" || len(empty.Tags) != 0 {
		t.Fatalf("untouched incident's triage = %+v, %v", empty, err)
	}
}

func testGroupAndMerge(t *testing.T, s store.Store) {
	ctx := context.Background()
	first := ingest(t, s, triagedDelivery("a", t0)).Incidents[0]
	key := "sender:phisher@malicious.com"
	if _, err := s.ApplyIncidentChange(ctx, first.ID, store.IncidentChange{GroupKey: &key}, nil, t0); err != nil {
		t.Fatal(err)
	}
	second := ingest(t, s, triagedDelivery("b", t0.Add(time.Minute))).Incidents[0]
	if _, err := s.FindGroupIncident(ctx, key, t0.Add(time.Second), second.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("group outside its window found: %v", err)
	}
	found, err := s.FindGroupIncident(ctx, key, t0.Add(-time.Hour), second.ID)
	if err != nil || found.ID != first.ID {
		t.Fatalf("group = %+v, %v", found, err)
	}
	if _, err := s.FindGroupIncident(ctx, key, t0.Add(-time.Hour), first.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatal("an incident was offered as its own group")
	}
	// The repeat is worse than the first, and names another link: the
	// group keeps both, at the higher severity.
	critical := "critical"
	if _, err := s.ApplyIncidentChange(ctx, second.ID, store.IncidentChange{Severity: &critical, AddTags: []string{"repeat"},
		AddIndicators: store.Indicators{URLs: []string{"http://other-evil.net/two"}}}, nil, t0.Add(90*time.Second)); err != nil {
		t.Fatal(err)
	}
	at := t0.Add(2 * time.Minute)
	merged, err := s.ApplyIncidentChange(ctx, second.ID, store.IncidentChange{MergeInto: first.ID}, nil, at,
		store.TimelineEntry{Kind: store.TimelineStep, Actor: "playbook:p", Outcome: store.OutcomeStopped, Message: "grouped into " + first.Number},
		store.TimelineEntry{IncidentID: first.ID, Kind: store.TimelineStep, Actor: "playbook:p", Outcome: store.OutcomeOK, Message: "absorbed " + second.Number})
	if err != nil {
		t.Fatal(err)
	}
	if merged.Status != store.StatusResolved || merged.EventCount != 0 {
		t.Fatalf("merged = %+v", merged)
	}
	target, _ := s.GetIncident(ctx, first.ID)
	if target.EventCount != 2 || !target.UpdatedAt.Equal(at) || target.Severity != "critical" {
		t.Fatalf("target = %+v", target)
	}
	if ttr, _ := s.GetIncidentTriage(ctx, first.ID); !slices.Contains(ttr.Tags, "repeat") || !slices.Contains(ttr.Indicators.URLs, "http://other-evil.net/two") {
		t.Fatalf("target triage = %+v: the folded incident's tags and indicators are missing", ttr)
	}
	evs, _ := s.ListEvents(ctx, store.EventFilter{})
	for _, ev := range evs {
		if ev.IncidentID != first.ID {
			t.Fatalf("event %s still on %s", ev.ID, ev.IncidentNum)
		}
	}
	tr, _ := s.GetIncidentTriage(ctx, second.ID)
	if tr.MergedInto != first.Number {
		t.Fatalf("merged_into = %q", tr.MergedInto)
	}
	// Updates of what was merged away follow its events to the group (they
	// opened incidents of their own, and the vendor's close resolved one
	// of those while the group holding the events stayed open): the
	// group keeps its title, and stays open when one member closes.
	closing := triagedDelivery("b", at.Add(time.Second))
	closing.Items[0].Resolve = true
	closed := ingest(t, s, closing).Incidents[0]
	if closed.ID != first.ID || closed.Status != store.StatusOpen || closed.Title != "phish a" || closed.EventCount != 3 || closed.Severity != "critical" {
		t.Fatalf("a close of the merged incident's key landed on %+v, want the group %s, open", closed, first.Number)
	}
	if again, err := s.GetIncident(ctx, second.ID); err != nil || again.EventCount != 0 {
		t.Fatalf("merged incident after the close: %+v, %v", again, err)
	}
	// The merge restarted the group's window.
	if _, err := s.FindGroupIncident(ctx, key, at, "x"); err != nil {
		t.Fatalf("window not refreshed: %v", err)
	}
	tl, _ := s.ListTimeline(ctx, first.ID)
	if len(tl) != 2 || tl[1].Message != "absorbed "+second.Number {
		t.Fatalf("target timeline = %+v", tl)
	}
	if _, err := s.ApplyIncidentChange(ctx, first.ID, store.IncidentChange{MergeInto: first.Number}, nil, at); err == nil {
		t.Fatal("an incident merged into itself")
	}
	// Once the group is resolved, the key's next event opens a new one.
	resolved := store.StatusResolved
	if _, err := s.ApplyIncidentChange(ctx, first.ID, store.IncidentChange{Status: &resolved}, nil, at.Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	if fresh := ingest(t, s, triagedDelivery("b", at.Add(3*time.Second))).Incidents[0]; fresh.ID == first.ID || fresh.ID == second.ID || fresh.Status != store.StatusOpen {
		t.Fatalf("after the group was resolved, key b landed on %+v", fresh)
	}
}

func testProgressNeedsLease(t *testing.T, s store.Store) {
	ctx := context.Background()
	job := ingest(t, s, triagedDelivery("k", t0)).Jobs[0]
	if _, err := s.ClaimTriageJobs(ctx, "w1", t0, time.Minute, 1); err != nil {
		t.Fatal(err)
	}
	sev := "critical"
	entry := store.TimelineEntry{Kind: store.TimelineStep, Actor: "playbook:p", Outcome: store.OutcomeOK, Message: "sev"}
	if _, err := s.ApplyIncidentChange(ctx, job.IncidentID, store.IncidentChange{Severity: &sev},
		&store.JobProgress{JobID: job.ID, Worker: "w1", NextStep: 3, NextStepName: "notify-2", Lease: time.Hour}, t0, entry); err != nil {
		t.Fatal(err)
	}
	j, _ := s.GetTriageJob(ctx, job.ID)
	if j.Step != 3 || j.StepName != "notify-2" || !j.LeaseUntil.Equal(t0.Add(time.Hour)) {
		t.Fatalf("progress not saved: %+v", j)
	}
	// A worker without the lease changes nothing at all.
	low := "low"
	if _, err := s.ApplyIncidentChange(ctx, job.IncidentID, store.IncidentChange{Severity: &low},
		&store.JobProgress{JobID: job.ID, Worker: "w2", NextStep: 4}, t0, entry); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("write without the lease = %v", err)
	}
	inc, _ := s.GetIncident(ctx, job.IncidentID)
	tl, _ := s.ListTimeline(ctx, job.IncidentID)
	if inc.Severity != "critical" || len(tl) != 2 {
		t.Fatalf("fenced write leaked: severity %s, %d entries", inc.Severity, len(tl))
	}
}

func testTimelineUnknownIncident(t *testing.T, s store.Store) {
	tl, err := s.ListTimeline(context.Background(), "nope")
	if err != nil || len(tl) != 0 {
		t.Fatalf("timeline = %+v, %v", tl, err)
	}
}

func testLatestIncidentEvent(t *testing.T, s store.Store) {
	ctx := context.Background()
	first := ingest(t, s, triagedDelivery("k", t0))
	second := ingest(t, s, triagedDelivery("k", t0.Add(time.Minute)))
	ev, err := s.LatestIncidentEvent(ctx, first.Incidents[0].ID)
	if err != nil || ev.ID != second.Events[0].ID {
		t.Fatalf("latest = %+v, %v", ev, err)
	}
	if _, err := s.LatestIncidentEvent(ctx, "none"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("no events = %v", err)
	}
}

func testDestinations(t *testing.T, s store.Store) {
	ctx := context.Background()
	d := &store.Destination{Name: "soc", Kind: "splunk-hec", URL: "https://hec.test:8088", Token: "tok", Sourcetype: "tw", CreatedAt: t0}
	if err := s.CreateDestination(ctx, d); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateDestination(ctx, d); !errors.Is(err, store.ErrExists) {
		t.Fatalf("duplicate = %v", err)
	}
	if err := s.CreateDestination(ctx, &store.Destination{Name: "a", Kind: "slack", URL: "https://hooks.test/x", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetDestination(ctx, "soc")
	if err != nil || got.Token != "tok" || got.URL != d.URL || got.Sourcetype != "tw" || !got.CreatedAt.Equal(t0) {
		t.Fatalf("get = %+v, %v", got, err)
	}
	list, _ := s.ListDestinations(ctx)
	if len(list) != 2 || list[0].Name != "a" {
		t.Fatalf("list = %+v", list)
	}
	if err := s.DeleteDestination(ctx, "soc"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteDestination(ctx, "soc"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second delete = %v", err)
	}
	if _, err := s.GetDestination(ctx, "soc"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("get deleted = %v", err)
	}
}

func testDeadLetters(t *testing.T, s store.Store) {
	ctx := context.Background()
	dl := &store.DeadLetter{Destination: "soc", Kind: "slack", IncidentNumber: "INC-2024-0001", Body: []byte(`{"a":1}`), Attempts: 4,
		LastStatus: 503, LastError: "503 Service Unavailable", CreatedAt: t0, UpdatedAt: t0}
	if err := s.AddDeadLetter(ctx, dl); err != nil {
		t.Fatal(err)
	}
	if dl.ID == "" {
		t.Fatal("no id assigned")
	}
	dl.Attempts, dl.LastError, dl.UpdatedAt = 5, "timeout", t0.Add(time.Hour)
	if err := s.UpdateDeadLetter(ctx, dl); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetDeadLetter(ctx, dl.ID)
	if err != nil || got.Attempts != 5 || got.LastError != "timeout" || string(got.Body) != `{"a":1}` || got.LastStatus != 503 || got.Kind != "slack" {
		t.Fatalf("get = %+v, %v", got, err)
	}
	list, _ := s.ListDeadLetters(ctx)
	if len(list) != 1 {
		t.Fatalf("list = %+v", list)
	}
	// Two retries read the letter as it was: the first claims it, the
	// second, at once or later while the claim lasts, is refused.
	claimAt := t0.Add(2 * time.Hour)
	if err := s.ClaimDeadLetter(ctx, dl.ID, got.UpdatedAt, claimAt, claimAt.Add(time.Minute)); err != nil {
		t.Fatalf("first claim = %v", err)
	}
	again, _ := s.GetDeadLetter(ctx, dl.ID)
	if err := s.ClaimDeadLetter(ctx, dl.ID, again.UpdatedAt, claimAt.Add(time.Second), claimAt.Add(time.Minute)); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("second claim while the first lasts = %v, want ErrLeaseLost", err)
	}
	// A claim that lapsed (its retry died) no longer holds the letter.
	if err := s.ClaimDeadLetter(ctx, dl.ID, again.UpdatedAt, claimAt.Add(2*time.Minute), claimAt.Add(3*time.Minute)); err != nil {
		t.Fatalf("claim after the first lapsed = %v", err)
	}
	// A failed retry's update releases its claim.
	again.Attempts, again.UpdatedAt = again.Attempts+1, claimAt.Add(150*time.Second)
	if err := s.UpdateDeadLetter(ctx, again); err != nil {
		t.Fatal(err)
	}
	if err := s.ClaimDeadLetter(ctx, dl.ID, again.UpdatedAt, claimAt.Add(151*time.Second), claimAt.Add(4*time.Minute)); err != nil {
		t.Fatalf("claim after a failed retry = %v", err)
	}
	if err := s.DeleteDeadLetter(ctx, dl.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetDeadLetter(ctx, dl.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("get deleted = %v", err)
	}
	if err := s.UpdateDeadLetter(ctx, dl); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update deleted = %v", err)
	}
}

// ListIncidents reads each incident's owner and tags with it, as
// GetIncidentTriage has them, and filters by owner before its limit.
// Listed without them, `incidents list -o json | jq 'select(.owner==…)'`
// found nothing that `incidents show` had.
func testListedOwnerAndTags(t *testing.T, s store.Store) {
	ctx := context.Background()
	// INC-0001 is queued for triage (it gets an incident_triage row only
	// when something changes it); INC-0003 is never triaged at all.
	first := ingest(t, s, triagedDelivery("k1", t0)).Incidents[0]
	second := ingest(t, s, triagedDelivery("k2", t0.Add(time.Minute))).Incidents[0]
	plain := triagedDelivery("k3", t0.Add(2*time.Minute))
	plain.Triage = nil
	third := ingest(t, s, plain).Incidents[0]
	alice, bob := "alice", "bob"
	at := t0.Add(time.Hour)
	for _, c := range []struct {
		id string
		ch store.IncidentChange
	}{
		{first.ID, store.IncidentChange{Owner: &alice, AddTags: []string{"phishing", "vip"}}},
		{second.ID, store.IncidentChange{Owner: &bob}},
		{second.ID, store.IncidentChange{AddTags: []string{"email"}}},
	} {
		if _, err := s.ApplyIncidentChange(ctx, c.id, c.ch, nil, at); err != nil {
			t.Fatal(err)
		}
	}
	incs, err := s.ListIncidents(ctx, store.IncidentFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(incs) != 3 || incs[0].ID != third.ID || incs[1].ID != second.ID || incs[2].ID != first.ID {
		t.Fatalf("list = %+v", incs)
	}
	for _, inc := range incs {
		tr, err := s.GetIncidentTriage(ctx, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if inc.Owner != tr.Owner || !slices.Equal(inc.Tags, tr.Tags) {
			t.Errorf("%s listed with owner %q tags %q; its triage has %q %q", inc.Number, inc.Owner, inc.Tags, tr.Owner, tr.Tags)
		}
	}
	if incs[2].Owner != "alice" || !slices.Equal(incs[2].Tags, []string{"phishing", "vip"}) ||
		incs[1].Owner != "bob" || !slices.Equal(incs[1].Tags, []string{"email"}) ||
		incs[0].Owner != "" || incs[0].Tags != nil {
		t.Fatalf("owners and tags = %+v", incs)
	}
	// The owner filter applies before the limit: alice's incident is the
	// oldest, so a limit applied first would find nothing.
	mine, err := s.ListIncidents(ctx, store.IncidentFilter{Owner: "alice", Limit: 1})
	if err != nil || len(mine) != 1 || mine[0].ID != first.ID {
		t.Fatalf("owner alice, limit 1 = %+v, %v", mine, err)
	}
	if none, _ := s.ListIncidents(ctx, store.IncidentFilter{Owner: "alice", Status: store.StatusResolved}); len(none) != 0 {
		t.Fatalf("owner alice, resolved = %+v, want none", none)
	}
	if none, _ := s.ListIncidents(ctx, store.IncidentFilter{Owner: "carol"}); len(none) != 0 {
		t.Fatalf("owner carol = %+v, want none", none)
	}
	// A cleared owner is no longer matched.
	nobody := ""
	if _, err := s.ApplyIncidentChange(ctx, first.ID, store.IncidentChange{Owner: &nobody}, nil, at); err != nil {
		t.Fatal(err)
	}
	if mine, _ := s.ListIncidents(ctx, store.IncidentFilter{Owner: "alice"}); len(mine) != 0 {
		t.Fatalf("owner alice after clearing = %+v, want none", mine)
	}
}

// testChangeCheck: a change's Check sees the state its transaction read,
// and an error from it writes nothing; store.SetIncidentStatus's rules
// rest on it.
func testChangeCheck(t *testing.T, s store.Store) {
	ctx := context.Background()
	inc := ingest(t, s, triagedDelivery("check", t0)).Incidents[0]
	resolved := store.StatusResolved
	if _, err := s.ApplyIncidentChange(ctx, inc.ID, store.IncidentChange{Status: &resolved}, nil, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	before, _ := s.ListTimeline(ctx, inc.ID)
	refused := errors.New("refused")
	var seen string
	owner := "mallory"
	_, err := s.ApplyIncidentChange(ctx, inc.ID, store.IncidentChange{Owner: &owner, Check: func(cur *store.Incident, _ *store.IncidentTriage) error {
		seen = cur.Status
		return refused
	}}, nil, t0.Add(2*time.Minute), store.TimelineEntry{Kind: store.TimelineAssign, Actor: "test", Message: "assigned to mallory"})
	if !errors.Is(err, refused) || seen != store.StatusResolved {
		t.Fatalf("err = %v, the check saw %q: want its error and the resolved status", err, seen)
	}
	after, _ := s.ListTimeline(ctx, inc.ID)
	tr, _ := s.GetIncidentTriage(ctx, inc.ID)
	if len(after) != len(before) || tr.Owner != "" {
		t.Fatalf("a refused change wrote: %d → %d timeline entries, owner %q", len(before), len(after), tr.Owner)
	}
	// The analysts' rules: a resolved incident is not reopened by ack.
	if _, _, _, err := store.SetIncidentStatus(ctx, s, inc.Number, store.StatusAcknowledged, "test", t0.Add(3*time.Minute)); err == nil ||
		!strings.Contains(err.Error(), "acknowledging it would reopen it") {
		t.Fatalf("ack of a resolved incident: %v", err)
	}
	if got, _, changed, err := store.SetIncidentStatus(ctx, s, inc.Number, store.StatusResolved, "test", t0.Add(3*time.Minute)); err != nil || changed || got.Status != store.StatusResolved {
		t.Fatalf("resolve again: %+v, changed %v, %v", got, changed, err)
	}
	if _, _, _, err := store.AssignIncident(ctx, s, inc.Number, "a\x1b[2Jb", "test", t0); err == nil {
		t.Fatal("an owner with an escape sequence was taken")
	}
}
