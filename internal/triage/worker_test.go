package triage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tw-cli/tw-cli/internal/notify"
	"github.com/tw-cli/tw-cli/internal/store"
	"github.com/tw-cli/tw-cli/internal/store/sqlite"
	"github.com/tw-cli/tw-cli/pkg/payload"
	"github.com/tw-cli/tw-cli/pkg/signature"
)

var t0 = time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)

// clock is a settable time source shared by the store writes, the worker
// and the notifier.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// peer is a generic destination: another tw-cli's receiver, which only
// counts deliveries whose signature verifies.
type peer struct {
	mu     sync.Mutex
	bodies []map[string]any
	bad    int
	srv    *httptest.Server
}

func newPeer(t *testing.T, secret string, clk *clock) *peer {
	p := &peer{}
	v := signature.Verifier{Secrets: [][]byte{[]byte(secret)}, Now: clk.Now}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		p.mu.Lock()
		defer p.mu.Unlock()
		if err := v.Verify(r.Header.Get(signature.SignatureHeader), r.Header.Get(signature.TimestampHeader), body); err != nil {
			p.bad++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var m map[string]any
		json.Unmarshal(body, &m)
		p.bodies = append(p.bodies, m)
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *peer) received() []map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bad > 0 {
		panic(fmt.Sprintf("%d deliveries with a bad signature", p.bad))
	}
	return append([]map[string]any(nil), p.bodies...)
}

type rig struct {
	t      *testing.T
	st     store.Store
	clk    *clock
	worker *Worker
	dir    string
}

func newRig(t *testing.T) *rig {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "tw.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := &clock{now: t0}
	dir := t.TempDir()
	cat, err := LoadCatalog(newEnv(t), dir)
	if err != nil {
		t.Fatal(err)
	}
	sender := notify.NewSender()
	sender.Now = clk.Now
	sender.Sleep = func(context.Context, time.Duration) error { return nil }
	eng := &Engine{Store: st, Now: clk.Now, Notifier: &notify.Notifier{Store: st, Sender: sender, Now: clk.Now}}
	w := &Worker{Store: st, Engine: eng, Catalog: cat, ID: "w1", Now: clk.Now, MaxAttempts: 3, BaseBackoff: 10 * time.Second, MaxBackoff: time.Minute, Lease: time.Minute}
	return &rig{t: t, st: st, clk: clk, worker: w, dir: dir}
}

// deliver stores a delivery as the receiver does, with auto-triage.
func (r *rig) deliver(format, body, playbook string) *store.IngestResult {
	r.t.Helper()
	parsed, err := payload.Parse(format, []byte(body))
	if err != nil {
		r.t.Fatal(err)
	}
	d := &store.Delivery{Source: "email-gateway", ReceivedAt: r.clk.Now(), Verification: "hmac", Format: parsed.Format,
		Payload: []byte(body), Triage: &store.TriageRequest{Playbook: playbook}}
	for _, ev := range parsed.Events {
		norm, _ := json.Marshal(ev)
		d.Items = append(d.Items, store.DeliveryItem{Type: ev.Type, Title: ev.Title, Severity: string(ev.Severity),
			Category: ev.Category, CorrelationKey: ev.CorrelationKey, Normalized: norm})
	}
	res, err := r.st.Ingest(context.Background(), d)
	if err != nil {
		r.t.Fatal(err)
	}
	return res
}

func (r *rig) process() int {
	r.t.Helper()
	n, err := r.worker.ProcessOnce(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	return n
}

// timeline renders entries as "step:outcome" for compact assertions.
func (r *rig) timeline(incident string) []string {
	r.t.Helper()
	tl, err := r.st.ListTimeline(context.Background(), incident)
	if err != nil {
		r.t.Fatal(err)
	}
	var out []string
	for _, e := range tl {
		name := e.Step
		if name == "" {
			name = e.Kind
		}
		out = append(out, name+":"+e.Outcome)
	}
	return out
}

func (r *rig) entries(incident string) []store.TimelineEntry {
	tl, _ := r.st.ListTimeline(context.Background(), incident)
	return tl
}

// hangingDestination registers a destination "slow" whose endpoint
// holds every notification until the request is cancelled or the test
// ends; each arrival is signalled on arrived, each cancellation (the
// client giving up) on cancelled.
func (r *rig) hangingDestination(buffer int) (arrived, cancelled <-chan struct{}) {
	r.t.Helper()
	arrive, cancel := make(chan struct{}, buffer), make(chan struct{}, buffer)
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		// Only once the body is read does the server watch the
		// connection, and so see the client give up.
		io.Copy(io.Discard, req.Body)
		arrive <- struct{}{}
		select {
		case <-req.Context().Done():
			select {
			case cancel <- struct{}{}:
			default: // nobody is counting cancellations past buffer
			}
		case <-release:
		}
	}))
	r.t.Cleanup(hang.Close)
	r.t.Cleanup(func() { close(release) })
	if err := r.st.CreateDestination(context.Background(), &store.Destination{Name: "slow", Kind: notify.KindGeneric, URL: hang.URL, Secret: "s", CreatedAt: t0}); err != nil {
		r.t.Fatal(err)
	}
	return arrive, cancel
}

// runUntilArrival runs the worker until a notification reaches the
// hanging destination, then stops it gracefully, as a shutdown would.
func (r *rig) runUntilArrival(arrived <-chan struct{}) {
	r.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.worker.Run(ctx); close(done) }()
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		cancel()
		<-done
		r.t.Fatal("the notification never started")
	}
	cancel()
	<-done
}

func defenderBody(id, sender string) string {
	return fmt.Sprintf(`{"eventType":"PhishingEmail","id":%q,"creationTime":"2024-01-15T10:00:00Z","severity":"high",
		"category":"Phish","entityType":"Email","data":{"sender":%q,"subject":"Urgent Action Required",
		"recipients":["user@company.com"],"urls":["http://malicious.com/login"]}}`, id, sender)
}

func TestPhishingTriageEndToEnd(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	p := newPeer(t, "peer-secret", r.clk)
	if err := r.st.CreateDestination(ctx, &store.Destination{Name: "peer", Kind: notify.KindGeneric, URL: p.srv.URL + "/api/webhooks/upstream", Secret: "peer-secret", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	seed, err := os.ReadFile("../../testdata/payloads/defender/seed_phishing_email.json")
	if err != nil {
		t.Fatal(err)
	}
	res := r.deliver("defender", string(seed), "phishing_triage")
	if n := r.process(); n != 1 {
		t.Fatalf("processed %d jobs", n)
	}
	inc := res.Incidents[0]
	want := "playbook:queued playbook:started is-email-threat:ok tag:ok raise-severity:skipped indicators:ok dedupe-by-sender:ok route:ok alert:ok playbook:done"
	if got := strings.Join(r.timeline(inc.ID), " "); got != want {
		t.Fatalf("timeline:\n got %s\nwant %s", got, want)
	}
	got, _ := r.st.GetIncident(ctx, inc.ID)
	tr, _ := r.st.GetIncidentTriage(ctx, inc.ID)
	if got.Severity != "high" || tr.Owner != "email-security" || strings.Join(tr.Tags, ",") != "phishing,email" ||
		strings.Join(tr.Indicators.Domains, ",") != "malicious.com" || tr.GroupKey != "phish:phisher@malicious.com" {
		t.Fatalf("incident %+v, triage %+v", got, tr)
	}
	job, _ := r.st.GetTriageJob(ctx, res.Jobs[0].ID)
	if job.Status != store.JobDone || job.Step != 7 || job.Attempts != 1 {
		t.Fatalf("job = %+v", job)
	}
	sent := p.received()
	if len(sent) != 1 {
		t.Fatalf("peer got %d notifications", len(sent))
	}
	data := sent[0]["data"].(map[string]any)
	if sent[0]["event_type"] != notify.GenericEventType || data["alert_id"] != inc.Number || data["owner"] != "email-security" {
		t.Fatalf("notification = %v", sent[0])
	}
	last := r.entries(inc.ID)
	if msg := last[len(last)-2].Message; !strings.Contains(msg, "peer delivered (HTTP 202, 1 attempt)") {
		t.Fatalf("notify entry = %q", msg)
	}
}

func TestGroupFoldsRepeatsAndNotifiesOnce(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	p := newPeer(t, "s", r.clk)
	r.st.CreateDestination(ctx, &store.Destination{Name: "peer", Kind: notify.KindGeneric, URL: p.srv.URL, Secret: "s", CreatedAt: t0})
	first := r.deliver("defender", defenderBody("m-1", "phisher@malicious.com"), "phishing_triage")
	r.process()
	r.clk.Add(10 * time.Minute)
	second := r.deliver("defender", defenderBody("m-2", "PHISHER@malicious.com"), "phishing_triage")
	r.process()
	want := "playbook:queued playbook:started is-email-threat:ok tag:ok raise-severity:skipped indicators:ok dedupe-by-sender:stopped playbook:done"
	if got := strings.Join(r.timeline(second.Incidents[0].ID), " "); got != want {
		t.Fatalf("second timeline:\n got %s\nwant %s", got, want)
	}
	target, _ := r.st.GetIncident(ctx, first.Incidents[0].ID)
	folded, _ := r.st.GetIncident(ctx, second.Incidents[0].ID)
	if target.EventCount != 2 || folded.Status != store.StatusResolved {
		t.Fatalf("target %+v, folded %+v", target, folded)
	}
	tl := r.entries(first.Incidents[0].ID)
	if m := tl[len(tl)-1].Message; !strings.Contains(m, "absorbed "+folded.Number) {
		t.Fatalf("target's last entry = %q", m)
	}
	if n := len(p.received()); n != 1 {
		t.Fatalf("%d notifications for one grouped incident, want 1", n)
	}
	// Outside the window the same sender opens a new group.
	r.clk.Add(2 * time.Hour)
	third := r.deliver("defender", defenderBody("m-3", "phisher@malicious.com"), "phishing_triage")
	r.process()
	if tl := r.timeline(third.Incidents[0].ID); tl[len(tl)-1] != "playbook:done" || len(p.received()) != 2 {
		t.Fatalf("third incident: %v, %d notifications", tl, len(p.received()))
	}
}

func TestFailingStepRetriesWithBackoffAndResumes(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	os.WriteFile(filepath.Join(r.dir, "needs_dest.yaml"), []byte(`steps:
  - add_tags: [first]
  - notify: [pager]
  - assign: bob
`), 0o600)
	res := r.deliver("generic", `{"event_type":"alert","data":{"alert_id":"a1"}}`, "needs_dest")
	jobID := res.Jobs[0].ID
	r.process() // the playbook was added after the catalog loaded: found by reload
	job, _ := r.st.GetTriageJob(ctx, jobID)
	if job.Status != store.JobQueued || job.Step != 1 || job.Attempts != 1 || !strings.Contains(job.LastError, `unknown destination "pager"`) {
		t.Fatalf("after a failed step: %+v", job)
	}
	// Backoff: 10s·2^0 with jitter, so between 5s and 10s.
	if d := job.RunAt.Sub(t0); d < 5*time.Second || d > 10*time.Second {
		t.Fatalf("first retry in %v", d)
	}
	if n := r.process(); n != 0 {
		t.Fatal("retried before its backoff")
	}
	r.clk.Add(10 * time.Second)
	r.process()
	job, _ = r.st.GetTriageJob(ctx, jobID)
	if d := job.RunAt.Sub(r.clk.Now()); job.Attempts != 2 || d < 10*time.Second || d > 20*time.Second {
		t.Fatalf("second retry in %v: %+v", d, job)
	}
	// The destination appears; the job resumes at the failed step, so
	// add_tags is not applied again.
	p := newPeer(t, "s", r.clk)
	r.st.CreateDestination(ctx, &store.Destination{Name: "pager", Kind: notify.KindGeneric, URL: p.srv.URL, Secret: "s", CreatedAt: t0})
	r.clk.Add(20 * time.Second)
	r.process()
	want := "playbook:queued playbook:started add_tags:ok notify:failed notify:failed notify:ok assign:ok playbook:done"
	if got := strings.Join(r.timeline(res.Incidents[0].ID), " "); got != want {
		t.Fatalf("timeline:\n got %s\nwant %s", got, want)
	}
	tl := r.entries(res.Incidents[0].ID)
	if m := tl[3].Message; !strings.Contains(m, "attempt 1/3 failed: unknown destination \"pager\"") || !strings.Contains(m, "retrying at") {
		t.Fatalf("failure entry = %q", m)
	}
	if len(p.received()) != 1 {
		t.Fatal("no notification after the destination was added")
	}
	// The step the last attempt did not run again counts too.
	if m := tl[len(tl)-1].Message; m != "playbook needs_dest finished: 3 steps applied, 0 skipped" {
		t.Fatalf("done entry = %q", m)
	}
}

func TestExhaustedJobStaysVisible(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	os.WriteFile(filepath.Join(r.dir, "broken_at_runtime.yaml"), []byte(`steps:
  - name: typo
    match: raw.categroy == "x"
`), 0o600)
	r.worker.Catalog.Reload()
	res := r.deliver("generic", `{"event_type":"alert"}`, "broken_at_runtime")
	for range 3 {
		r.process()
		r.clk.Add(time.Minute)
	}
	job, _ := r.st.GetTriageJob(ctx, res.Jobs[0].ID)
	if job.Status != store.JobFailed || job.Attempts != 3 || !strings.Contains(job.LastError, "categroy") {
		t.Fatalf("job = %+v", job)
	}
	if r.process() != 0 {
		t.Fatal("an exhausted job ran again")
	}
	want := "playbook:queued playbook:started typo:failed typo:failed typo:failed playbook:failed"
	if got := strings.Join(r.timeline(res.Incidents[0].ID), " "); got != want {
		t.Fatalf("timeline:\n got %s\nwant %s", got, want)
	}
	tl := r.entries(res.Incidents[0].ID)
	if m := tl[len(tl)-1].Message; m != "playbook broken_at_runtime failed at step 1 (typo) after 3 attempts" {
		t.Fatalf("last entry = %q", m)
	}
}

func TestExpiredLeaseIsResumedByAnotherWorker(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	res := r.deliver("defender", defenderBody("m-1", "x@bad.example"), "phishing_triage")
	// A worker claims the job and dies without a word.
	if jobs, err := r.st.ClaimTriageJobs(ctx, "crashed", r.clk.Now(), time.Minute, 1); err != nil || len(jobs) != 1 {
		t.Fatalf("claim = %v, %v", jobs, err)
	}
	r.clk.Add(59 * time.Second)
	if r.process() != 0 {
		t.Fatal("a leased job was taken before its lease expired")
	}
	r.clk.Add(time.Second)
	if r.process() != 1 {
		t.Fatal("the expired job was not resumed")
	}
	job, _ := r.st.GetTriageJob(ctx, res.Jobs[0].ID)
	if job.Status != store.JobDone || job.Attempts != 2 || job.LeaseOwner != "" {
		t.Fatalf("job = %+v", job)
	}
	tl := r.timeline(res.Incidents[0].ID)
	if tl[len(tl)-1] != "playbook:done" {
		t.Fatalf("timeline = %v", tl)
	}
}

func TestJobInterruptedTooOftenFails(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	res := r.deliver("generic", `{"event_type":"alert"}`, "default")
	for range 3 { // three crashes: claim, then the lease expires
		r.st.ClaimTriageJobs(ctx, "crashed", r.clk.Now(), time.Minute, 1)
		r.clk.Add(time.Minute)
	}
	r.process()
	job, _ := r.st.GetTriageJob(ctx, res.Jobs[0].ID)
	if job.Status != store.JobFailed {
		t.Fatalf("job = %+v", job)
	}
	tl := r.entries(res.Incidents[0].ID)
	if m := tl[len(tl)-1].Message; !strings.Contains(m, "interrupted 3 times") {
		t.Fatalf("last entry = %q", m)
	}
}

func TestMatchFalseStopsAndDefaultSuppressesTests(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	phish := r.deliver("defender", defenderBody("m-1", "x@bad.example"), "malware_triage")
	test := r.deliver("generic", `{"event_type":"test","data":{}}`, "default")
	r.process()
	if got := strings.Join(r.timeline(phish.Incidents[0].ID), " "); got != "playbook:queued playbook:started is-malware:stopped playbook:done" {
		t.Fatalf("malware playbook on a phish: %s", got)
	}
	tr, _ := r.st.GetIncidentTriage(ctx, phish.Incidents[0].ID)
	if len(tr.Tags) != 0 {
		t.Fatal("steps after a false match ran")
	}
	inc, _ := r.st.GetIncident(ctx, test.Incidents[0].ID)
	tr, _ = r.st.GetIncidentTriage(ctx, inc.ID)
	if inc.Status != store.StatusResolved || !tr.Suppressed || tr.SuppressReason != "test delivery" {
		t.Fatalf("test delivery not suppressed: %+v %+v", inc, tr)
	}
	tl := r.entries(inc.ID)
	if m := tl[len(tl)-1].Message; m != "playbook default stopped at drop-tests: suppressed: test delivery" {
		t.Fatalf("summary = %q", m)
	}
}

func TestRunWithoutJob(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	res := r.deliver("defender", defenderBody("m-1", "x@bad.example"), "phishing_triage")
	pb, _ := r.worker.Catalog.Get("phishing_triage")
	sum, err := r.worker.Engine.Execute(ctx, Run{Playbook: pb, Incident: res.Incidents[0].Number})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Ran != 6 || sum.Skipped != 1 || sum.StoppedAt != "" || sum.Incident.Number != res.Incidents[0].Number {
		t.Fatalf("summary = %+v", sum)
	}
	// The queued job was not touched.
	job, _ := r.st.GetTriageJob(ctx, res.Jobs[0].ID)
	if job.Status != store.JobQueued {
		t.Fatalf("job = %+v", job)
	}
}

func TestWorkerRunDrainsQueueAndStops(t *testing.T) {
	r := newRig(t)
	for i := range 5 {
		r.deliver("defender", defenderBody(fmt.Sprint("m-", i), fmt.Sprintf("s%d@bad.example", i)), "phishing_triage")
	}
	r.worker.Poll = 10 * time.Millisecond
	r.worker.Concurrency = 3
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.worker.Run(ctx); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		jobs, _ := r.st.ListTriageJobs(context.Background(), "")
		n := 0
		for _, j := range jobs {
			if j.Status == store.JobDone {
				n++
			}
		}
		if n == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("jobs not done: %+v", jobs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("worker did not stop")
	}
}

// A job claimed just as shutdown began (the claim runs to its end) goes
// back untouched: its attempt returned, nothing on the timeline.
func TestJobClaimedAtShutdownIsHandedBackUntouched(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	res := r.deliver("defender", defenderBody("m-1", "x@bad.example"), "phishing_triage")
	before := len(r.entries(res.Incidents[0].ID))
	r.worker.defaults()
	jobs, err := r.worker.claim(ctx, 1)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("claim = %+v, %v", jobs, err)
	}
	stopped, cancel := context.WithCancel(ctx)
	cancel()
	r.worker.process(stopped, r.worker.Log, jobs[0])
	job, _ := r.st.GetTriageJob(ctx, jobs[0].ID)
	if job.Status != store.JobQueued || job.Attempts != 0 || job.Step != 0 || job.LeaseOwner != "" {
		t.Fatalf("job after the hand-back = %+v", job)
	}
	if after := r.entries(res.Incidents[0].ID); len(after) != before {
		t.Fatalf("timeline grew: %+v", after[before:])
	}
}

func TestShutdownInterruptsAndRequeuesAtTheStep(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	arrived, _ := r.hangingDestination(1)
	res := r.deliver("defender", defenderBody("m-1", "x@bad.example"), "phishing_triage")
	r.worker.Poll = 10 * time.Millisecond
	r.runUntilArrival(arrived)
	job, _ := r.st.GetTriageJob(ctx, res.Jobs[0].ID)
	if job.Status != store.JobQueued || job.Step != 6 || !job.RunAt.Equal(r.clk.Now()) {
		t.Fatalf("interrupted job = %+v", job)
	}
	tl := r.entries(res.Incidents[0].ID)
	if last := tl[len(tl)-1]; last.Outcome != store.OutcomeInterrupted || !strings.Contains(last.Message, "step 7 (alert)") {
		t.Fatalf("last entry = %+v", last)
	}
	if dls, _ := r.st.ListDeadLetters(ctx); len(dls) != 0 {
		t.Fatal("a shutdown dead-lettered the notification")
	}
}

// malware_triage names Threat Stack among its senders: an alert whose
// title says malware passes its gate, though Threat Stack sends no
// category or hashes; one about something else does not.
func TestMalwareTriageTakesThreatStackAlerts(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	alert := func(id, title string) string {
		return fmt.Sprintf(`{"id":%q,"title":%q,"severity":1,"server_or_region":"app-02.prod.example","source":"host","created_at":1622663844000}`, id, title)
	}
	malware := r.deliver("threatstack", alert("a-1", "Malware detected: trojan binary /tmp/.x executed"), "malware_triage")
	other := r.deliver("threatstack", alert("a-2", "Process Activity: netcat listener started by www-data"), "malware_triage")
	r.process()
	r.process()
	if tr, _ := r.st.GetIncidentTriage(ctx, malware.Incidents[0].ID); !slices.Contains(tr.Tags, "malware") {
		t.Fatalf("a Threat Stack malware alert was not triaged as malware: tags %v; timeline %v", tr.Tags, r.timeline(malware.Incidents[0].ID))
	}
	if tr, _ := r.st.GetIncidentTriage(ctx, other.Incidents[0].ID); len(tr.Tags) != 0 {
		t.Fatalf("a netcat alert was tagged %v", tr.Tags)
	}
}

// A job stopped by a false match, resumed after a crash that came before
// its completion was recorded, does not run on past the gate.
func TestStoppedJobResumesAtItsEnd(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	p := newPeer(t, "s", r.clk)
	if err := r.st.CreateDestination(ctx, &store.Destination{Name: "peer", Kind: notify.KindGeneric, URL: p.srv.URL, Secret: "s", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	// A phish run through malware_triage: is-malware is false, so it stops.
	res := r.deliver("defender", defenderBody("m-1", "x@bad.example"), "malware_triage")
	jobs, err := r.st.ClaimTriageJobs(ctx, "crashed", r.clk.Now(), time.Minute, 1)
	if err != nil || len(jobs) != 1 {
		t.Fatal(jobs, err)
	}
	pb, _ := r.worker.Catalog.Get("malware_triage")
	// What Worker.process does, up to a crash before CompleteTriageJob.
	sum, err := r.worker.Engine.Execute(ctx, Run{Playbook: pb, Incident: jobs[0].IncidentID, EventID: jobs[0].EventID,
		Progress: &store.JobProgress{JobID: jobs[0].ID, Worker: "crashed", Lease: time.Minute}, JobID: jobs[0].ID})
	if err != nil || sum.StoppedAt != "is-malware" {
		t.Fatal(sum, err)
	}
	r.clk.Add(2 * time.Minute) // the lease expires; another worker resumes
	r.process()
	tr, _ := r.st.GetIncidentTriage(ctx, res.Incidents[0].ID)
	if len(tr.Tags) != 0 || tr.Owner != "" {
		t.Fatalf("steps after the false match ran on resume: tags %v, owner %q; timeline %v", tr.Tags, tr.Owner, r.timeline(res.Incidents[0].ID))
	}
	if job, _ := r.st.GetTriageJob(ctx, jobs[0].ID); job.Status != store.JobDone {
		t.Fatalf("resumed job = %+v, want done", job)
	}
	// It says where the playbook stopped, not "0 steps applied".
	tl := r.entries(res.Incidents[0].ID)
	if m := tl[len(tl)-1].Message; !strings.HasPrefix(m, "playbook malware_triage stopped at is-malware: no match: ") {
		t.Fatalf("done entry = %q", m)
	}
}

// Graceful restarts while a job runs give its attempt back: as many
// restarts as MaxAttempts do not fail a job that never failed.
func TestShutdownsDoNotUseUpAttempts(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	arrived, _ := r.hangingDestination(8)
	res := r.deliver("defender", defenderBody("m-1", "x@bad.example"), "phishing_triage")
	r.worker.Poll = 10 * time.Millisecond
	for range r.worker.MaxAttempts {
		r.runUntilArrival(arrived)
	}
	job, _ := r.st.GetTriageJob(ctx, res.Jobs[0].ID)
	if job.Status != store.JobQueued || job.Attempts != 0 {
		t.Fatalf("after %d graceful restarts the job is %+v, want queued with no attempt used", r.worker.MaxAttempts, job)
	}
}

// A process that stalls past a job's lease claims the job again: the
// stalled run may finish the step it was in (at least once), but then
// stops, because its claim no longer holds the lease; only the new run
// records steps and completes the job.
func TestReclaimBySameProcessStopsTheStalledRun(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	arrived := make(chan struct{}, 8)
	release := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		arrived <- struct{}{}
		select {
		case <-release:
		case <-time.After(5 * time.Second):
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	defer once.Do(func() { close(release) })
	if err := r.st.CreateDestination(ctx, &store.Destination{Name: "peer", Kind: notify.KindGeneric, URL: srv.URL, Secret: "s", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	res := r.deliver("defender", defenderBody("m-1", "x@bad.example"), "phishing_triage")
	r.worker.Poll = 10 * time.Millisecond
	r.worker.Lease = time.Hour // no heartbeat fires within the test
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { r.worker.Run(wctx); close(done) }()
	var stopOnce sync.Once
	stop := func() { stopOnce.Do(func() { cancel(); <-done }) }
	defer stop()
	<-arrived                // the first run is in its alert step
	r.clk.Add(2 * time.Hour) // and stalls past its lease
	select {
	case <-arrived: // the same process claimed the job again
	case <-time.After(5 * time.Second):
		t.Fatal("the expired job was not claimed again")
	}
	once.Do(func() { close(release) })
	deadline := time.Now().Add(5 * time.Second)
	for {
		if job, _ := r.st.GetTriageJob(ctx, res.Jobs[0].ID); job.Status == store.JobDone {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the job never completed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	counts := map[string]int{}
	for _, e := range r.timeline(res.Incidents[0].ID) {
		counts[e]++
	}
	if counts["alert:ok"] != 1 || counts["playbook:done"] != 1 {
		t.Fatalf("the stalled run kept recording: alert:ok ×%d, playbook:done ×%d in %v",
			counts["alert:ok"], counts["playbook:done"], r.timeline(res.Incidents[0].ID))
	}
}

// lookThenRace is a store where, right after a group step's first look
// finds no group, another worker's incident claims it: the race that two
// deliveries arriving together run.
type lookThenRace struct {
	store.Store
	race func()
}

func (s *lookThenRace) FindGroupIncident(ctx context.Context, key string, since time.Time, exclude string) (*store.Incident, error) {
	inc, err := s.Store.FindGroupIncident(ctx, key, since, exclude)
	if s.race != nil {
		s.race()
		s.race = nil
	}
	return inc, err
}

func TestGroupLostToARaceJoinsTheWinner(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	first := r.deliver("defender", defenderBody("m-1", "phisher@malicious.com"), "phishing_triage").Incidents[0]
	second := r.deliver("defender", defenderBody("m-2", "phisher@malicious.com"), "phishing_triage").Incidents[0]
	pb, _ := r.worker.Catalog.Get("phishing_triage")
	racing := &lookThenRace{Store: r.st}
	racing.race = func() {
		// The first incident's own run got to its group step meanwhile.
		if _, err := r.worker.Engine.Execute(ctx, Run{Playbook: pb, Incident: first.ID}); err != nil {
			t.Error(err)
		}
	}
	eng := &Engine{Store: racing, Now: r.clk.Now}
	sum, err := eng.Execute(ctx, Run{Playbook: pb, Incident: second.ID})
	if err != nil {
		t.Fatal(err)
	}
	if sum.StoppedAt != "dedupe-by-sender" || !strings.Contains(sum.Reason, "grouped into "+first.Number) {
		t.Fatalf("summary = %+v: want the second incident grouped into the first", sum)
	}
	tr, _ := r.st.GetIncidentTriage(ctx, second.ID)
	if tr.MergedInto != first.Number || tr.GroupKey != "" {
		t.Fatalf("second incident's triage = %+v", tr)
	}
}

// hungRequeue is a database that stops answering as shutdown begins: the
// write that gives an interrupted job back never returns on its own.
type hungRequeue struct{ store.Store }

func (hungRequeue) RequeueTriageJob(ctx context.Context, _, _ string, _ time.Time, _ ...store.TimelineEntry) error {
	<-ctx.Done()
	return ctx.Err()
}

func TestShutdownDoesNotWaitForeverOnTheDatabase(t *testing.T) {
	r := newRig(t)
	arrived, _ := r.hangingDestination(1)
	r.deliver("defender", defenderBody("m-1", "x@bad.example"), "phishing_triage")
	r.worker.Poll = 10 * time.Millisecond
	r.worker.Store = hungRequeue{r.st}
	r.worker.recordTimeout = 50 * time.Millisecond
	start := time.Now()
	r.runUntilArrival(arrived) // cancels once the job is in its notify step
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("the worker took %v to stop", d)
	}
}

// A playbook fixed while its job waits to retry: the retry runs the fix.
func TestRetryRunsTheFixedPlaybook(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	file := filepath.Join(r.dir, "fixable.yaml")
	if err := os.WriteFile(file, []byte("steps:\n  - name: check\n    match: raw.categroy == \"x\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	res := r.deliver("generic", `{"event_type":"alert","category":"x"}`, "fixable")
	r.process()
	job, _ := r.st.GetTriageJob(ctx, res.Jobs[0].ID)
	if job.Status != store.JobQueued || !strings.Contains(job.LastError, "categroy") {
		t.Fatalf("first attempt: %+v", job)
	}
	if err := os.WriteFile(file, []byte("steps:\n  - name: check\n    match: raw.category == \"x\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r.clk.Add(time.Minute)
	r.process()
	job, _ = r.st.GetTriageJob(ctx, res.Jobs[0].ID)
	if job.Status != store.JobDone {
		t.Fatalf("retry after the fix: %+v", job)
	}
}

// A playbook edited while a job waits to retry: the job resumes at the
// step it stopped before, found by name wherever it moved, so steps
// inserted ahead of it do not run and the steps that ran do not run
// again; a step that is gone fails the attempt with the reason.
func TestRetryResumesAtTheStepByName(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	file := filepath.Join(r.dir, "edited.yaml")
	write := func(steps string) {
		t.Helper()
		if err := os.WriteFile(file, []byte("steps:\n"+steps), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	const tagA = "  - name: tag-a\n    add_tags: [a]\n"
	write(tagA + "  - name: check\n    match: raw.categroy == \"x\"\n")
	moved := r.deliver("generic", `{"event_type":"alert","category":"x","title":"moved"}`, "edited")
	r.process()
	job, _ := r.st.GetTriageJob(ctx, moved.Jobs[0].ID)
	if job.Status != store.JobQueued || job.Step != 1 || job.StepName != "check" {
		t.Fatalf("first attempt: %+v", job)
	}

	write("  - name: tag-b\n    add_tags: [b]\n" + tagA + "  - name: check\n    match: raw.category == \"x\"\n  - name: tag-c\n    add_tags: [c]\n")
	r.clk.Add(time.Minute)
	r.process()
	job, _ = r.st.GetTriageJob(ctx, moved.Jobs[0].ID)
	if job.Status != store.JobDone {
		t.Fatalf("retry after the edit: %+v", job)
	}
	tr, _ := r.st.GetIncidentTriage(ctx, moved.Incidents[0].ID)
	if !slices.Equal(tr.Tags, []string{"a", "c"}) {
		t.Fatalf("tags = %v, want [a c]: tag-b was inserted ahead of the step the job stopped at", tr.Tags)
	}
	tl := r.timeline(moved.Incidents[0].ID)
	if n := len(slices.DeleteFunc(slices.Clone(tl), func(e string) bool { return e != "tag-a:ok" })); n != 1 {
		t.Fatalf("tag-a ran twice: %v", tl)
	}

	write(tagA + "  - name: check\n    match: raw.categroy == \"x\"\n")
	gone := r.deliver("generic", `{"event_type":"alert","category":"x","title":"gone"}`, "edited")
	r.process()
	write(tagA + "  - name: renamed\n    match: raw.category == \"x\"\n")
	r.clk.Add(time.Minute)
	r.process()
	job, _ = r.st.GetTriageJob(ctx, gone.Jobs[0].ID)
	if job.Status != store.JobQueued || job.Attempts != 2 || !strings.Contains(job.LastError, `no step "check" left to resume at`) {
		t.Fatalf("retry after the step was renamed: %+v", job)
	}
}

// A shutdown in the middle of a notify step with several destinations:
// the resumed job sends only to those the interrupted attempt had not
// reached, and the timeline says which were reached before.
func TestResumedNotifySkipsReachedDestinations(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	p := newPeer(t, "s", r.clk)
	// "other" and "peer" sort before "slow": they are reached first,
	// "other" refusing the message (dead-lettered), "peer" taking it.
	if err := r.st.CreateDestination(ctx, &store.Destination{Name: "peer", Kind: notify.KindGeneric, URL: p.srv.URL, Secret: "s", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	var refusals atomic.Int32
	refuser := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		refusals.Add(1)
		w.WriteHeader(http.StatusBadRequest)
	}))
	defer refuser.Close()
	if err := r.st.CreateDestination(ctx, &store.Destination{Name: "other", Kind: notify.KindGeneric, URL: refuser.URL, Secret: "s", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	arrived, _ := r.hangingDestination(1)
	res := r.deliver("defender", defenderBody("m-1", "x@bad.example"), "phishing_triage")
	r.worker.Poll = 10 * time.Millisecond
	r.runUntilArrival(arrived)
	if n := len(p.received()); n != 1 {
		t.Fatalf("before the interruption peer got %d messages, want 1", n)
	}
	// "slow" comes back healthy; the job resumes at its notify step.
	p2 := newPeer(t, "s", r.clk)
	if err := r.st.DeleteDestination(ctx, "slow"); err != nil {
		t.Fatal(err)
	}
	if err := r.st.CreateDestination(ctx, &store.Destination{Name: "slow", Kind: notify.KindGeneric, URL: p2.srv.URL, Secret: "s", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	r.process()
	if n1, n2 := len(p.received()), len(p2.received()); n1 != 1 || n2 != 1 {
		t.Fatalf("after resuming: peer got %d messages, slow %d; want 1 each", n1, n2)
	}
	if n := refusals.Load(); n != 1 {
		t.Fatalf("the refusing destination was sent %d messages, want 1", n)
	}
	if dls, _ := r.st.ListDeadLetters(ctx); len(dls) != 1 || dls[0].Destination != "other" {
		t.Fatalf("dead letters = %+v, want the one refused message", dls)
	}
	job, _ := r.st.GetTriageJob(ctx, res.Jobs[0].ID)
	if job.Status != store.JobDone {
		t.Fatalf("job = %+v", job)
	}
	tl := r.entries(res.Incidents[0].ID)
	var last store.TimelineEntry
	for _, e := range tl {
		if e.Kind == store.TimelineStep && e.Step == "alert" {
			last = e
		}
	}
	if !strings.Contains(last.Message, "other failed after 1 attempt: ") || !strings.Contains(last.Message, "(before an interruption); peer delivered") ||
		!strings.Contains(last.Message, "peer delivered (HTTP 202, 1 attempt) (before an interruption)") || !strings.Contains(last.Message, "slow delivered") || last.Outcome != store.OutcomeFailed {
		t.Fatalf("alert step entry = %q", last.Message)
	}
}

// A playbook saved with a mistake keeps its last valid version running;
// one that was never valid says so, rather than "no playbook".
func TestInvalidEditKeepsTheLastValidPlaybook(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	file := filepath.Join(r.dir, "live.yaml")
	if err := os.WriteFile(file, []byte("steps:\n  - add_tags: [seen]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	first := r.deliver("generic", `{"event_type":"alert"}`, "live")
	r.process()
	if err := os.WriteFile(file, []byte("steps:\n  - add_tags: [seen]\n  - set_severity: loud\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	second := r.deliver("generic", `{"event_type":"alert","title":"second"}`, "live")
	r.process()
	for _, res := range []*store.IngestResult{first, second} {
		if job, _ := r.st.GetTriageJob(ctx, res.Jobs[0].ID); job.Status != store.JobDone {
			t.Fatalf("job = %+v: want the last valid version run", job)
		}
	}
	if p := r.worker.Catalog.Problem("live"); p == nil || !strings.Contains(p.Error(), "the last valid version of live stays in use") {
		t.Fatalf("problem = %v", p)
	}
	if err := os.WriteFile(filepath.Join(r.dir, "never.yaml"), []byte("steps:\n  - set_severity: loud\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	res := r.deliver("generic", `{"event_type":"alert","title":"third"}`, "never")
	r.process()
	if job, _ := r.st.GetTriageJob(ctx, res.Jobs[0].ID); !strings.Contains(job.LastError, `playbook "never" is invalid: `) {
		t.Fatalf("job = %+v", job)
	}
	// A broken file replacing a built-in: the built-in does not run in
	// its place (it notifies where the file may mean to suppress).
	if err := os.WriteFile(filepath.Join(r.dir, "phishing_triage.yaml"), []byte("steps:\n  - iff: 'true'\n    suppress: handled elsewhere\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	res = r.deliver("generic", `{"event_type":"alert","title":"fourth"}`, "phishing_triage")
	r.process()
	if job, _ := r.st.GetTriageJob(ctx, res.Jobs[0].ID); job.Status == store.JobDone || !strings.Contains(job.LastError, `playbook "phishing_triage" is invalid: `) {
		t.Fatalf("job with a broken replacement of a built-in = %+v", job)
	}
}

// acceptThenCancel accepts every notification and then cancels the
// worker's context: a SIGTERM landing just after the destination took
// the message.
type acceptThenCancel struct {
	sent   atomic.Int32
	cancel context.CancelFunc
}

func (a *acceptThenCancel) RoundTrip(req *http.Request) (*http.Response, error) {
	a.sent.Add(1)
	if a.cancel != nil {
		a.cancel()
	}
	return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Header: http.Header{}, Request: req}, nil
}

// A shutdown right after a one-destination notify step sent its message
// still records the step, so the resumed job does not send it again.
func TestShutdownAfterNotifySentDoesNotResend(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	rt := &acceptThenCancel{}
	r.worker.Engine.Notifier.Sender.Client = &http.Client{Transport: rt, Timeout: 5 * time.Second}
	if err := r.st.CreateDestination(ctx, &store.Destination{Name: "soc", Kind: notify.KindGeneric, URL: "http://soc.invalid/x", Secret: "s", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	res := r.deliver("defender", defenderBody("m-1", "x@bad.example"), "phishing_triage")
	wctx, cancel := context.WithCancel(ctx)
	rt.cancel = cancel
	if _, err := r.worker.ProcessOnce(wctx); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	rt.cancel = nil
	r.process()
	job, _ := r.st.GetTriageJob(ctx, res.Jobs[0].ID)
	if n := rt.sent.Load(); n != 1 || job.Status != store.JobDone {
		t.Fatalf("the destination got %d messages, want 1; job %+v", n, job)
	}
}

// shutdownAtClaim is a store whose claims hit a shutdown after the claim
// committed and before its rows were read: the worker's context is
// cancelled then, and a cancelled claim loses its rows as database/sql
// closes them.
type shutdownAtClaim struct {
	store.Store
	cancel context.CancelFunc
}

func (s shutdownAtClaim) ClaimTriageJobs(ctx context.Context, worker string, now time.Time, lease time.Duration, limit int) ([]store.TriageJob, error) {
	jobs, err := s.Store.ClaimTriageJobs(ctx, worker, now, lease, limit)
	s.cancel()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return jobs, err
}

// A claim that a shutdown lands on runs to its end, and the jobs it took
// are handed back at once, their attempt not spent: cancelled half way
// (committed but not read back) they stayed leased until the lease ran
// out.
func TestShutdownDuringClaimHandsJobsBack(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	res := r.deliver("generic", `{"event_type":"alert"}`, "default")
	wctx, cancel := context.WithCancel(ctx)
	r.worker.Store = shutdownAtClaim{Store: r.st, cancel: cancel}
	if _, err := r.worker.ProcessOnce(wctx); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	job, _ := r.st.GetTriageJob(ctx, res.Jobs[0].ID)
	if job.Status != store.JobQueued || job.Attempts != 0 || job.LeaseOwner != "" {
		t.Fatalf("job after a shutdown during its claim: %+v", job)
	}
}
