package triage

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tw-cli/tw-cli/internal/notify"
	"github.com/tw-cli/tw-cli/internal/store"
)

// A job resumed after a shutdown sums up every step it ran, not only
// those of its last attempt, and warns of a notify that dead-lettered
// before the shutdown. Its steps: one skipped, one that failed an
// attempt before it went through, one dead-lettered, one interrupted.
func TestResumedJobSummarizesEveryStep(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	if err := os.WriteFile(filepath.Join(r.dir, "resumed.yaml"), []byte(`steps:
  - name: quiet
    if: incident.owner == "nobody"
    add_tags: [never]
  - add_tags: [first]
  - name: page
    notify: [pager]
  - name: page-other
    notify: [other]
  - name: page-slow
    notify: [slow]
  - assign: bob
`), 0o600); err != nil {
		t.Fatal(err)
	}
	refuser := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadRequest) }))
	defer refuser.Close()
	if err := r.st.CreateDestination(ctx, &store.Destination{Name: "other", Kind: notify.KindGeneric, URL: refuser.URL, Secret: "s", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	arrived, _ := r.hangingDestination(1)
	res := r.deliver("generic", `{"event_type":"alert","data":{"alert_id":"a1"}}`, "resumed")
	r.process() // no destination "pager" yet: the attempt fails at page
	p := newPeer(t, "s", r.clk)
	if err := r.st.CreateDestination(ctx, &store.Destination{Name: "pager", Kind: notify.KindGeneric, URL: p.srv.URL, Secret: "s", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	r.clk.Add(time.Minute)
	r.worker.Poll = 10 * time.Millisecond
	r.runUntilArrival(arrived)
	if job, _ := r.st.GetTriageJob(ctx, res.Jobs[0].ID); job.Step != 4 {
		t.Fatalf("interrupted job = %+v, want it at step 5 (page-slow)", job)
	}
	p2 := newPeer(t, "s", r.clk)
	if err := r.st.DeleteDestination(ctx, "slow"); err != nil {
		t.Fatal(err)
	}
	if err := r.st.CreateDestination(ctx, &store.Destination{Name: "slow", Kind: notify.KindGeneric, URL: p2.srv.URL, Secret: "s", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	r.worker.Log = slog.New(slog.NewTextHandler(&logs, nil))
	r.process()
	tl := r.entries(res.Incidents[0].ID)
	done := tl[len(tl)-1]
	want := "playbook resumed finished: 4 steps applied, 1 skipped, 1 failed"
	if done.Outcome != store.OutcomeDone || done.Message != want {
		t.Fatalf("last entry = %q (%s), want %q; timeline %v", done.Message, done.Outcome, want, r.timeline(res.Incidents[0].ID))
	}
	if !strings.Contains(logs.String(), `level=WARN msg="triage job done with failed steps`) {
		t.Fatalf("no warning of the failed step:\n%s", logs.String())
	}
	// `tw-cli logs --source email-gateway` must show it.
	if !strings.Contains(logs.String(), `source=email-gateway`) {
		t.Fatalf("the warning does not name the source:\n%s", logs.String())
	}
}
