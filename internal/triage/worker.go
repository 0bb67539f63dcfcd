package triage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tw-cli/tw-cli/internal/logs"
	"github.com/tw-cli/tw-cli/internal/store"
)

// Worker defaults.
const (
	DefaultConcurrency = 2
	DefaultLease       = 2 * time.Minute
	DefaultPoll        = 500 * time.Millisecond
	DefaultMaxAttempts = 5
	DefaultBaseBackoff = 5 * time.Second
	DefaultMaxBackoff  = 10 * time.Minute
)

// Worker takes jobs from the store's triage queue and runs them. Several
// workers (in one process or many, on one database) can run at once: a
// job is leased to one worker at a time, and a lease that is not renewed
// (the worker crashed) expires so another worker resumes the job at the
// step it had reached.
type Worker struct {
	Store   store.Store
	Engine  *Engine
	Catalog *Catalog
	Log     *slog.Logger
	// ID names this worker in leases; unique per process by default.
	ID          string
	Concurrency int
	Lease       time.Duration
	Poll        time.Duration
	// MaxAttempts bounds how often a job runs, counting runs a crash
	// interrupted; then it is marked failed and left for analysts.
	MaxAttempts int
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	Now         func() time.Time

	// claims numbers this worker's claims, so that each holds its jobs
	// under a lease owner of its own (claimOwner).
	claims atomic.Uint64
	// heartbeatEvery is how often a running job's lease is renewed; 0
	// means Lease/3. Lease and Now are on the caller's clock, which tests
	// fake, while renewals follow a real ticker: tests shorten it to see
	// renewals at all.
	heartbeatEvery time.Duration
	// recordTimeout is DefaultRecordTimeout; tests shorten it.
	recordTimeout time.Duration
}

// claimOwner is the lease owner of one claim: the worker's ID and the
// claim's number. Were every claim to lease under the worker's ID, a
// process that stalled past a lease would claim its own job again, and
// the stalled run would pass every lease check beside the new one.
func (w *Worker) claimOwner() string {
	return fmt.Sprintf("%s/%d", w.ID, w.claims.Add(1))
}

func (w *Worker) defaults() {
	if w.ID == "" {
		host, _ := os.Hostname()
		var b [4]byte
		_, _ = rand.Read(b[:])
		w.ID = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
	}
	if w.Concurrency <= 0 {
		w.Concurrency = DefaultConcurrency
	}
	if w.Lease <= 0 {
		w.Lease = DefaultLease
	}
	if w.Poll <= 0 {
		w.Poll = DefaultPoll
	}
	if w.MaxAttempts <= 0 {
		w.MaxAttempts = DefaultMaxAttempts
	}
	if w.recordTimeout <= 0 {
		w.recordTimeout = DefaultRecordTimeout
	}
	if w.BaseBackoff <= 0 {
		w.BaseBackoff = DefaultBaseBackoff
	}
	if w.MaxBackoff <= 0 {
		w.MaxBackoff = DefaultMaxBackoff
	}
	if w.Now == nil {
		w.Now = time.Now
	}
	if w.Log == nil {
		w.Log = slog.New(slog.DiscardHandler)
	}
}

// Run processes jobs until ctx is done, then waits for the jobs in hand
// to record where they stand: a step commits atomically, so an
// interrupted job is queued again at the step it was in, to run at once
// on the next start, and a graceful stop loses no work.
func (w *Worker) Run(ctx context.Context) {
	w.defaults()
	log := w.Log.With("component", logs.ComponentTriage, "worker", w.ID)
	slots := make(chan struct{}, w.Concurrency)
	// freed wakes the loop when a job ends, so a busy worker claims the
	// next job at once instead of after a whole poll interval.
	freed := make(chan struct{}, 1)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		free := w.Concurrency - len(slots)
		var jobs []store.TriageJob
		if free > 0 {
			var err error
			jobs, err = w.claim(ctx, free)
			if err != nil && ctx.Err() == nil {
				log.Error("claim triage jobs", "error", err)
			}
		}
		for _, j := range jobs {
			slots <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() {
					<-slots
					select {
					case freed <- struct{}{}:
					default:
					}
				}()
				w.process(ctx, log, j)
			}()
		}
		if len(jobs) > 0 && len(jobs) == free {
			continue // there may be more waiting
		}
		select {
		case <-ctx.Done():
			return
		case <-freed:
		case <-time.After(w.Poll):
		}
	}
}

// DefaultRecordTimeout bounds the writes that record where a job stands,
// or what a step did (a notification sent): they outlive a shutdown
// signal for that long, and never take longer.
const DefaultRecordTimeout = 10 * time.Second

// ProcessOnce claims and runs the jobs that are runnable now, one at a
// time, and returns how many it ran; for tests and one-shot use.
func (w *Worker) ProcessOnce(ctx context.Context) (int, error) {
	w.defaults()
	log := w.Log.With("component", logs.ComponentTriage, "worker", w.ID)
	n := 0
	for {
		jobs, err := w.claim(ctx, 1)
		if err != nil || len(jobs) == 0 {
			return n, err
		}
		w.process(ctx, log, jobs[0])
		n++
	}
}

// claim takes up to n runnable jobs. The claim commits as its statement
// runs, before the jobs are read back: cancelled in between (shutdown),
// they would stay leased, an attempt spent, until the lease ran out. So
// it runs to the end, bounded, and jobs claimed as shutdown began are
// handed back as interrupted by process.
func (w *Worker) claim(ctx context.Context, n int) ([]store.TriageJob, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.recordTimeout)
	defer cancel()
	return w.Store.ClaimTriageJobs(cctx, w.claimOwner(), w.Now(), w.Lease, n)
}

func (w *Worker) process(ctx context.Context, log *slog.Logger, j store.TriageJob) {
	// source: `tw-cli logs --source S` shows the triage of S's incidents.
	log = log.With("job", j.ID, "source", j.Source, "incident_id", j.IncidentID, "playbook", j.Playbook, "attempt", j.Attempts)
	// Writes for the job outlive a shutdown signal long enough to record
	// where the job stands; the steps themselves see cancellation. Only
	// for recordTimeout: a database that stopped answering must not hold
	// the shutdown forever (the job then resumes when its lease expires).
	wctx, cancelWrites := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWrites()
	stopTimer := context.AfterFunc(ctx, func() { time.AfterFunc(w.recordTimeout, cancelWrites) })
	defer stopTimer()
	if ctx.Err() != nil {
		// Claimed as shutdown began (claim runs to its end): nothing ran
		// in this claim, so it goes back without a word on the timeline,
		// where a run would only fail at loading the event and say so.
		if w.finish(log, w.Store.RequeueTriageJob(wctx, j.ID, j.LeaseOwner, w.Now())) {
			log.Info("triage job handed back at shutdown before it ran")
		}
		return
	}
	actor := Actor(j.Playbook)
	if j.Attempts > w.MaxAttempts {
		msg := fmt.Sprintf("gave up: the job was interrupted %d times without finishing (last error: %s)", j.Attempts-1, orNone(j.LastError))
		w.finish(log, w.fail(wctx, j, msg, time.Time{}, store.TimelineEntry{Kind: store.TimelinePlaybook, Actor: actor, Outcome: store.OutcomeFailed, Message: msg, JobID: j.ID}))
		return
	}
	// Files added or edited since the last job count: a fix to a
	// playbook applies to the retries of the jobs it failed.
	if reloaded, err := w.Catalog.ReloadIfChanged(); err != nil {
		log.Error("reload playbooks", "error", err)
	} else if reloaded {
		for _, p := range w.Catalog.Problems() {
			log.Warn("invalid playbook file", "error", p)
		}
	}
	pb, ok := w.Catalog.Get(j.Playbook)
	if !ok {
		// Read again whatever the listing said: a file written within
		// the file system's time resolution looks unchanged.
		if err := w.Catalog.Reload(); err != nil {
			log.Error("reload playbooks", "error", err)
		}
		pb, ok = w.Catalog.Get(j.Playbook)
	}
	if !ok {
		err := fmt.Errorf("no playbook %q: add %s.yaml to %s", j.Playbook, j.Playbook, w.Catalog.Dir())
		if problem := w.Catalog.Problem(j.Playbook); problem != nil {
			err = fmt.Errorf("playbook %q is invalid: %w", j.Playbook, problem)
		}
		w.retry(wctx, log, j, &StepError{Index: j.Step, Step: "load playbook", Err: err})
		return
	}

	start, err := pb.ResumeAt(j.Step, j.StepName)
	if err != nil {
		w.retry(wctx, log, j, &StepError{Index: j.Step, Step: j.StepName, Err: err})
		return
	}
	if start != j.Step {
		log.Info("playbook edited while the job waited; resuming at its step by name", "step_name", j.StepName, "step", start+1)
	}

	jctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopBeat := w.heartbeat(jctx, cancel, log, j)
	defer stopBeat()

	prog := &store.JobProgress{JobID: j.ID, Worker: j.LeaseOwner, Lease: w.Lease}
	if j.Step == 0 && j.Attempts == 1 {
		p := *prog
		start := store.TimelineEntry{Kind: store.TimelinePlaybook, Actor: actor, Outcome: store.OutcomeStarted, JobID: j.ID,
			Message: fmt.Sprintf("playbook %s started (%d steps)", pb.Name, len(pb.Steps))}
		if _, err := w.Store.ApplyIncidentChange(jctx, j.IncidentID, store.IncidentChange{}, &p, w.Now(), start); err != nil {
			w.settle(wctx, log, j, err, ctx.Err() != nil)
			return
		}
	}
	sum, err := w.Engine.Execute(jctx, Run{Playbook: pb, Incident: j.IncidentID, EventID: j.EventID, Start: start, Progress: prog, JobID: j.ID, Record: wctx})
	if err != nil {
		w.settle(wctx, log, j, err, ctx.Err() != nil)
		return
	}
	done := store.TimelineEntry{Kind: store.TimelinePlaybook, Actor: actor, Outcome: store.OutcomeDone, Message: sum.Message(pb.Name), JobID: j.ID}
	if !w.finish(log, w.Store.CompleteTriageJob(wctx, j.ID, j.LeaseOwner, w.Now(), done)) {
		return
	}
	if sum.Failed > 0 {
		log.Warn("triage job done with failed steps; see the incident's timeline and 'tw-cli destination failures'", "summary", sum.Message(pb.Name))
		return
	}
	log.Info("triage job done", "summary", sum.Message(pb.Name))
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// settle handles a run that ended in an error.
func (w *Worker) settle(ctx context.Context, log *slog.Logger, j store.TriageJob, err error, stopping bool) {
	if errors.Is(err, store.ErrLeaseLost) {
		log.Warn("lost the job's lease; another worker continues it")
		return
	}
	var se *StepError
	if !errors.As(err, &se) {
		se = &StepError{Index: j.Step, Step: "start", Err: err}
	}
	if stopping {
		// Not the step's fault: run it again as soon as a worker is up,
		// and give back the attempt, or restarts alone could exhaust
		// MaxAttempts and fail a job that never failed.
		msg := fmt.Sprintf("interrupted by shutdown at step %d (%s); resumes there", se.Index+1, se.Step)
		entry := store.TimelineEntry{Kind: store.TimelinePlaybook, Actor: Actor(j.Playbook), Outcome: store.OutcomeInterrupted, Message: msg, JobID: j.ID}
		if !w.finish(log, w.Store.RequeueTriageJob(ctx, j.ID, j.LeaseOwner, w.Now(), entry)) {
			return
		}
		log.Info("triage job interrupted by shutdown", "step", se.Step)
		return
	}
	w.retry(ctx, log, j, se)
}

// retry records a failed attempt on the timeline and queues the job again
// with exponential backoff, or marks it failed after MaxAttempts.
func (w *Worker) retry(ctx context.Context, log *slog.Logger, j store.TriageJob, se *StepError) {
	now := w.Now()
	actor := Actor(j.Playbook)
	errText := se.Err.Error()
	if j.Attempts >= w.MaxAttempts {
		msg := fmt.Sprintf("attempt %d/%d failed: %s; giving up", j.Attempts, w.MaxAttempts, errText)
		entries := []store.TimelineEntry{
			{Kind: store.TimelineStep, Actor: actor, Step: se.Step, Outcome: store.OutcomeFailed, Message: msg, JobID: j.ID},
			{Kind: store.TimelinePlaybook, Actor: actor, Outcome: store.OutcomeFailed, JobID: j.ID,
				Message: fmt.Sprintf("playbook %s failed at step %d (%s) after %d attempts", j.Playbook, se.Index+1, se.Step, j.Attempts)},
		}
		if !w.finish(log, w.fail(ctx, j, errText, time.Time{}, entries...)) {
			return
		}
		log.Error("triage job failed", "step", se.Step, "error", errText)
		return
	}
	at := now.Add(w.backoff(j.Attempts))
	msg := fmt.Sprintf("attempt %d/%d failed: %s; retrying at %s", j.Attempts, w.MaxAttempts, errText, at.UTC().Format(time.RFC3339))
	entry := store.TimelineEntry{Kind: store.TimelineStep, Actor: actor, Step: se.Step, Outcome: store.OutcomeFailed, Message: msg, JobID: j.ID}
	if !w.finish(log, w.fail(ctx, j, errText, at, entry)) {
		return
	}
	log.Warn("triage step failed; will retry", "step", se.Step, "error", errText, "retry_at", at)
}

func (w *Worker) fail(ctx context.Context, j store.TriageJob, msg string, retryAt time.Time, entries ...store.TimelineEntry) error {
	return w.Store.FailTriageJob(ctx, j.ID, j.LeaseOwner, w.Now(), msg, retryAt, entries...)
}

// finish logs why an outcome was not recorded, and reports whether it
// was: the caller's own line ("done", "will retry") would be wrong after
// a lost lease, since another worker now has the job.
func (w *Worker) finish(log *slog.Logger, err error) bool {
	switch {
	case err == nil:
		return true
	case errors.Is(err, store.ErrLeaseLost):
		log.Warn("lost the job's lease before recording its outcome; another worker continues it")
	default:
		// The lease will expire and the job run again: nothing is lost.
		log.Error("record triage job outcome", "error", err)
	}
	return false
}

// backoff is BaseBackoff·2^(attempt-1), capped, with equal jitter.
func (w *Worker) backoff(attempt int) time.Duration {
	d := w.BaseBackoff
	for i := 1; i < attempt && d < w.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, w.MaxBackoff)
	if d > 1 {
		d = d/2 + mrand.N(d-d/2)
	}
	return d
}

// heartbeat renews the lease while a job runs (notifications can retry
// for longer than a lease); a lost lease cancels the job's context.
func (w *Worker) heartbeat(ctx context.Context, cancel context.CancelFunc, log *slog.Logger, j store.TriageJob) func() {
	done := make(chan struct{})
	var once sync.Once
	go func() {
		every := w.heartbeatEvery
		if every <= 0 {
			every = w.Lease / 3
		}
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				err := w.Store.ExtendTriageLease(context.WithoutCancel(ctx), j.ID, j.LeaseOwner, w.Now().Add(w.Lease))
				if errors.Is(err, store.ErrLeaseLost) {
					log.Warn("triage job lease lost; stopping it")
					cancel()
					return
				}
				if err != nil {
					log.Warn("renew triage lease", "error", err)
				}
			}
		}
	}()
	return func() { once.Do(func() { close(done) }) }
}
