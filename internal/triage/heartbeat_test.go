package triage

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tw-cli/tw-cli/internal/store"
	"github.com/tw-cli/tw-cli/internal/syncbuf"
)

// renewal is the outcome of one ExtendTriageLease call.
type renewal struct {
	until time.Time
	err   error
}

// leaseSpy is the real store, reporting each lease renewal so a test can
// wait for one instead of guessing when the heartbeat ticks.
type leaseSpy struct {
	store.Store
	renewed chan renewal
}

func (s *leaseSpy) ExtendTriageLease(ctx context.Context, id, worker string, until time.Time) error {
	err := s.Store.ExtendTriageLease(ctx, id, worker, until)
	select {
	case s.renewed <- renewal{until: until, err: err}:
	default: // nobody is listening: the heartbeat must not stall on the test
	}
	return err
}

// startWorker runs the rig's worker, renewing leases every millisecond
// of real time (Lease stays on the rig's fake clock), until stop is
// called or the test ends; stop returns once the worker's jobs have
// recorded where they stand.
func (r *rig) startWorker() (spy *leaseSpy, stop func()) {
	r.t.Helper()
	spy = &leaseSpy{Store: r.st, renewed: make(chan renewal, 1)}
	r.worker.Store = spy
	r.worker.heartbeatEvery = time.Millisecond
	// Busy with one job, the worker claims nothing: in particular not its
	// own job again once the fake clock passes the lease, which is a
	// different test's subject.
	r.worker.Concurrency = 1
	// Only the heartbeat or the end of the test may end a notification:
	// the sender's own attempt timeout would stop the step too.
	r.worker.Engine.Notifier.Sender.Client.Timeout = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.worker.Run(ctx); close(done) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	r.t.Cleanup(stop)
	return spy, stop
}

func await(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal(what)
	}
}

// A step that runs longer than the lease the job was claimed with keeps
// the job: the heartbeat renews the lease from the worker's clock, so
// another worker finds nothing to resume and cannot run the step twice.
func TestHeartbeatKeepsTheLeaseOfALongStep(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	arrived, _ := r.hangingDestination(8)
	res := r.deliver("defender", defenderBody("m-1", "x@bad.example"), "phishing_triage")
	spy, _ := r.startWorker()
	await(t, arrived, "the notification never started")
	claimed, err := r.st.GetTriageJob(ctx, res.Jobs[0].ID)
	if err != nil {
		t.Fatal(err)
	}

	r.clk.Add(2 * r.worker.Lease) // the step outlasts its lease
	timeout := time.After(10 * time.Second)
	for renewed := false; !renewed; {
		select {
		case rn := <-spy.renewed:
			if rn.err != nil {
				t.Fatalf("renewing the lease of a job the worker holds: %v", rn.err)
			}
			renewed = rn.until.After(claimed.LeaseUntil)
		case <-timeout:
			t.Fatalf("the lease (until %v) was not renewed while the step ran past it", claimed.LeaseUntil)
		}
	}

	if jobs, err := r.st.ClaimTriageJobs(ctx, "w2", r.clk.Now(), time.Minute, 1); err != nil || len(jobs) != 0 {
		t.Fatalf("another worker claimed the running job: %+v, %v", jobs, err)
	}
	job, _ := r.st.GetTriageJob(ctx, res.Jobs[0].ID)
	if job.Status != store.JobRunning || job.LeaseOwner != claimed.LeaseOwner || !job.LeaseUntil.Equal(r.clk.Now().Add(r.worker.Lease)) {
		t.Fatalf("job = %+v, want still running under %s until %v", job, claimed.LeaseOwner, r.clk.Now().Add(r.worker.Lease))
	}
}

// When another worker takes the job over (here one whose clock is an hour
// ahead, so the lease looks expired to it), the next renewal finds the
// lease gone and cancels the step, and the stopped run records nothing:
// the new owner alone carries the job on.
func TestLostLeaseStopsTheJob(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	arrived, cancelled := r.hangingDestination(8)
	var logs syncbuf.Buffer
	r.worker.Log = slog.New(slog.NewTextHandler(&logs, nil))
	res := r.deliver("defender", defenderBody("m-1", "x@bad.example"), "phishing_triage")
	_, stop := r.startWorker()
	await(t, arrived, "the notification never started")
	before := r.timeline(res.Incidents[0].ID)

	jobs, err := r.st.ClaimTriageJobs(ctx, "w2", r.clk.Now().Add(time.Hour), time.Minute, 1)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("taking the job over: %+v, %v", jobs, err)
	}
	await(t, cancelled, "the step kept running after its worker lost the lease")

	// The stopped run may still be settling: once the worker has stopped,
	// whatever it wrote is in the store.
	stop()
	if after := r.timeline(res.Incidents[0].ID); !slices.Equal(after, before) {
		t.Fatalf("the run that lost its lease wrote to the timeline:\n before %v\n after  %v", before, after)
	}
	if job, _ := r.st.GetTriageJob(ctx, res.Jobs[0].ID); job.Status != store.JobRunning || job.LeaseOwner != "w2" || job.Attempts != 2 {
		t.Fatalf("job = %+v, want still w2's", job)
	}
	// The log says what happened, not what the stopped run would have
	// done had it kept the job.
	if l := logs.String(); !strings.Contains(l, "lease") || strings.Contains(l, "will retry") || strings.Contains(l, "job done") {
		t.Fatalf("log after a lost lease:\n%s", l)
	}
}
