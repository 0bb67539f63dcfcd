package playbook

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/store"
)

// stepEntries are the step outcomes a run left on the incident's timeline.
func stepEntries(t *testing.T, st store.Store, incident string) []StepResult {
	t.Helper()
	inc, err := st.GetIncident(context.Background(), incident)
	if err != nil {
		t.Fatal(err)
	}
	tl, err := st.ListTimeline(context.Background(), inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	var out []StepResult
	for _, e := range tl {
		if e.Kind == store.TimelineStep {
			out = append(out, StepResult{Index: len(out) + 1, Step: e.Step, Outcome: e.Outcome, Message: e.Message})
		}
	}
	return out
}

func sameSteps(a, b []StepResult) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// `playbook run -o json` prints the run's summary with every step's
// outcome, as the timeline records them, instead of the line on stderr.
func TestRunJSON(t *testing.T) {
	h := newHarness(t)
	res := h.phishingIncident(t)
	inc := res.Incidents[0]
	if err := h.run(t, "run", "phishing_triage", "--incident", inc.Number, "-o", "json"); err != nil {
		t.Fatal(err)
	}
	if h.err.Len() != 0 {
		t.Errorf("stderr = %q, want nothing besides the JSON", h.err)
	}
	var got RunResult
	if err := json.Unmarshal(h.out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Playbook != "phishing_triage" || got.Incident != inc.Number || got.IncidentID != inc.ID ||
		got.Applied != 7 || got.Skipped != 0 || got.Failed != 0 || got.Error != "" ||
		got.Message != "playbook phishing_triage finished: 7 steps applied, 0 skipped" {
		t.Fatalf("result = %+v", got)
	}
	if want := stepEntries(t, h.st, inc.ID); len(want) != 7 || !sameSteps(got.Steps, want) {
		t.Fatalf("steps = %+v\ntimeline has %+v", got.Steps, want)
	}
	if got.Steps[6].Message != "no destinations configured" || got.Steps[6].Outcome != store.OutcomeOK || got.Steps[6].Index != 7 {
		t.Fatalf("last step = %+v", got.Steps[6])
	}

	// YAML carries the same fields.
	h.out.Reset()
	if err := h.run(t, "run", "phishing_triage", "--incident", inc.Number, "-o", "yaml"); err != nil {
		t.Fatal(err)
	}
	var y map[string]any
	if err := yaml.Unmarshal(h.out.Bytes(), &y); err != nil || y["playbook"] != "phishing_triage" || y["failed"] != 0 {
		t.Fatalf("yaml = %s, %v", h.out, err)
	}
}

// A notify step that dead-letters still exits 5 with -o json; the JSON
// says which step failed, and stderr stays empty.
func TestRunJSONDeadLetteredNotifyExits5(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	opts := h.deadPagerRun(t)
	opts.Output = "json"
	err := runRun(ctx, opts)
	if cmdutil.ExitCode(err) != cmdutil.ExitRemote || !errors.Is(err, cmdutil.ErrSilent) {
		t.Fatalf("err = %v (exit %d), want a silent exit 5", err, cmdutil.ExitCode(err))
	}
	var got RunResult
	if err := json.Unmarshal(h.out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Playbook != "pager" || got.Applied != 1 || got.Failed != 1 || got.Error != "" ||
		got.Message != "playbook pager finished: 1 steps applied, 0 skipped, 1 failed" || len(got.Steps) != 2 ||
		got.Steps[0].Step != "add_tags" || got.Steps[0].Outcome != store.OutcomeOK ||
		got.Steps[1].Step != "notify" || got.Steps[1].Outcome != store.OutcomeFailed {
		t.Fatalf("result = %+v", got)
	}
	if want := stepEntries(t, h.st, opts.Incident); !sameSteps(got.Steps, want) {
		t.Fatalf("steps = %+v\ntimeline has %+v", got.Steps, want)
	}
	if h.err.Len() != 0 {
		t.Errorf("stderr = %q", h.err)
	}
}

// A step that errors ends the run with exit 1, as without -o; the JSON
// lists it as failed with the error.
func TestRunJSONStepErrorExits1(t *testing.T) {
	h := newHarness(t)
	opts := h.pagerRun(t) // no destination "pager": step 2 errors
	opts.Output = "json"
	err := runRun(context.Background(), opts)
	if cmdutil.ExitCode(err) != cmdutil.ExitFailure || !errors.Is(err, cmdutil.ErrSilent) {
		t.Fatalf("err = %v (exit %d), want a silent exit 1", err, cmdutil.ExitCode(err))
	}
	var got RunResult
	if err := json.Unmarshal(h.out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := []StepResult{
		{Index: 1, Step: "add_tags", Outcome: store.OutcomeOK, Message: got.Steps[0].Message},
		{Index: 2, Step: "notify", Outcome: store.OutcomeFailed, Message: `unknown destination "pager": add it with 'tw-cli destination add'`},
	}
	if !sameSteps(got.Steps, want) || got.Failed != 1 || got.Applied != 1 ||
		got.Error != `step 2 (notify): unknown destination "pager": add it with 'tw-cli destination add'` ||
		got.Message != `step 2 (notify) failed: unknown destination "pager": add it with 'tw-cli destination add'` {
		t.Fatalf("result = %+v", got)
	}
}

func TestRunOutputFlag(t *testing.T) {
	h := newHarness(t)
	var got *RunOptions
	cmd := NewCmdRun(h.f, func(o *RunOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--incident", "INC-2024-0007", "-o", "json"})
	if err := cmd.Execute(); err != nil || got.Output != "json" {
		t.Fatalf("options = %+v, %v", got, err)
	}
	cmd = NewCmdRun(h.f, func(*RunOptions) error { t.Fatal("ran"); return nil })
	cmd.SetArgs([]string{"--incident", "INC-2024-0007", "-o", "xml"})
	cmd.SetErr(h.err)
	if err := cmd.Execute(); cmdutil.ExitCode(err) != cmdutil.ExitUsage {
		t.Fatalf("-o xml: %v", err)
	}
}

// A group step that folds the incident into another stops the run: the
// JSON says where and why, and the entry the step writes on the other
// incident is not one of this run's steps.
func TestRunJSONGrouped(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	norm := `{"format":"generic","type":"detection","title":"Trojan","severity":"high","category":"malware","entities":{"hosts":["host-1"]}}`
	var nums []string
	for i := range 2 {
		res, err := h.st.Ingest(ctx, &store.Delivery{Source: "edr", ReceivedAt: now, Verification: "hmac", Format: "generic", Payload: []byte(`{}`),
			Items: []store.DeliveryItem{{Type: "detection", Title: "Trojan", Severity: "high", CorrelationKey: string(rune('a' + i)), Normalized: []byte(norm)}}})
		if err != nil {
			t.Fatal(err)
		}
		nums = append(nums, res.Incidents[0].Number)
	}
	if err := h.run(t, "run", "malware_triage", "--incident", nums[0]); err != nil {
		t.Fatal(err)
	}
	h.out.Reset()
	if err := h.run(t, "run", "malware_triage", "--incident", nums[1], "-o", "json"); err != nil {
		t.Fatal(err)
	}
	var got RunResult
	if err := json.Unmarshal(h.out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	last := got.Steps[len(got.Steps)-1]
	if got.StoppedAt != "dedupe-by-host" || len(got.Steps) != 5 || last.Step != "dedupe-by-host" || last.Outcome != store.OutcomeStopped ||
		!sameSteps(got.Steps, stepEntries(t, h.st, nums[1])) {
		t.Fatalf("result = %+v", got)
	}
}

// On an incident a run already suppressed, nothing runs, and no step is
// named as where the run stopped.
func TestRunOnASuppressedIncident(t *testing.T) {
	h := newHarness(t)
	inc := h.phishingIncident(t).Incidents[0]
	h.writePlaybook(t, "quiet.yaml", "steps:\n  - suppress: handled elsewhere\n  - assign: bob\n")
	if err := h.run(t, "run", "quiet", "--incident", inc.Number); err != nil {
		t.Fatal(err)
	}
	h.out.Reset()
	if err := h.run(t, "run", "quiet", "--incident", inc.Number, "-o", "json"); err != nil {
		t.Fatal(err)
	}
	var got RunResult
	if err := json.Unmarshal(h.out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.StoppedAt != "" || got.Applied != 0 || got.Reason != "incident already suppressed (handled elsewhere)" ||
		got.Message != "playbook quiet stopped: incident already suppressed (handled elsewhere)" {
		t.Fatalf("second run = %+v", got)
	}
}
