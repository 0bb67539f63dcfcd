package playbook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/config"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/store"
	"github.com/tw-cli/tw-cli/internal/store/sqlite"
	"github.com/tw-cli/tw-cli/internal/triage"
)

var now = time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)

type harness struct {
	f        *cmdutil.Factory
	st       store.Store
	dataDir  string
	out, err *bytes.Buffer
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	t.Setenv("TW_CONFIG_DIR", t.TempDir())
	t.Setenv("TW_PLAYBOOKS_DIR", "")
	dataDir := t.TempDir()
	st, err := sqlite.Open(context.Background(), filepath.Join(dataDir, "tw.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ios, _, out, errb := iostreams.Test()
	f := &cmdutil.Factory{
		IOStreams: ios,
		Now:       func() time.Time { return now },
		Store:     func() (store.Store, error) { return st, nil },
		DataDir:   func() (string, error) { return dataDir, nil },
		Config:    func() (*config.Config, error) { return config.Load() },
	}
	return &harness{f: f, st: st, dataDir: dataDir, out: out, err: errb}
}

func (h *harness) run(t *testing.T, args ...string) error {
	t.Helper()
	cmd := NewCmdPlaybook(h.f)
	cmd.SetArgs(args)
	cmd.SetOut(h.err)
	cmd.SetErr(h.err)
	return cmd.ExecuteContext(context.Background())
}

func (h *harness) writePlaybook(t *testing.T, name, text string) string {
	t.Helper()
	dir := filepath.Join(h.dataDir, "playbooks")
	os.MkdirAll(dir, 0o700)
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRunFlags(t *testing.T) {
	h := newHarness(t)
	var got *RunOptions
	cmd := NewCmdRun(h.f, func(o *RunOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"malware_triage", "--incident", "INC-2024-0007"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Name != "malware_triage" || got.Incident != "INC-2024-0007" {
		t.Fatalf("options = %+v", got)
	}
	for _, args := range [][]string{{"malware_triage"}, {"a", "b", "--incident", "x"}} {
		cmd := NewCmdRun(h.f, func(*RunOptions) error { t.Fatal("ran"); return nil })
		cmd.SetArgs(args)
		cmd.SetErr(h.err)
		var fe *cmdutil.FlagError
		if err := cmd.Execute(); !errors.As(err, &fe) {
			t.Errorf("%v: err = %v, want a usage error", args, err)
		}
	}
}

func TestListPipedAndJSON(t *testing.T) {
	h := newHarness(t)
	h.writePlaybook(t, "vip.yaml", "description: VIP mail. More words.\nsteps:\n  - add_tags: [vip]\n")
	h.writePlaybook(t, "broken.yaml", "steps:\n  - nope: 1\n")
	if err := h.run(t, "list"); err != nil {
		t.Fatal(err)
	}
	want := "default\tbuiltin\t3\tRuns when a source turns auto-triage on without naming a playbook: suppress test deliveries, pull out indicators, and notify every destination of high and critical incidents\n" +
		"malware_triage\tbuiltin\t7\tEndpoint malware detections (CrowdStrike Falcon, Threat Stack, an EDR posting the generic format): tag them, pull out hashes and addresses, fold repeated detections on one host into one incident, route them to endpoint security and notify every destination when high or critical\n" +
		"phishing_triage\tbuiltin\t7\tEmail phishing reported by users or detected by a mail gateway or Microsoft Defender for Office 365: tag it, raise it to high, pull out the indicators, fold repeats from one sender into one incident, route it to email security and notify every destination\n" +
		"vip\t" + filepath.Join(h.dataDir, "playbooks", "vip.yaml") + "\t1\tVIP mail\n"
	if h.out.String() != want {
		t.Fatalf("list:\n%s\nwant:\n%s", h.out, want)
	}
	if !strings.Contains(h.err.String(), "warning: playbook left out: "+filepath.Join(h.dataDir, "playbooks", "broken.yaml")+":2: step 1: unknown step type \"nope\"") {
		t.Fatalf("stderr: %s", h.err)
	}
	h.out.Reset()
	if err := h.run(t, "list", "-o", "json"); err != nil {
		t.Fatal(err)
	}
	var list []Summary
	if err := json.Unmarshal(h.out.Bytes(), &list); err != nil || len(list) != 4 || list[3].Steps != 1 {
		t.Fatalf("json = %s, %v", h.out, err)
	}
}

func TestShow(t *testing.T) {
	h := newHarness(t)
	if err := h.run(t, "show", "phishing_triage"); err != nil {
		t.Fatal(err)
	}
	shipped, _ := os.ReadFile("../../triage/playbooks/phishing_triage.yaml")
	if h.out.String() != string(shipped) {
		t.Fatalf("show printed:\n%s", h.out)
	}
	h.out.Reset()
	if err := h.run(t, "show", "phishing_triage", "-o", "json"); err != nil {
		t.Fatal(err)
	}
	var v View
	if err := json.Unmarshal(h.out.Bytes(), &v); err != nil {
		t.Fatal(err)
	}
	if v.Origin != "builtin" || len(v.Steps) != 7 || v.Steps[4].Type != "group" || v.Steps[4].Window != "1h0m0s" ||
		!strings.Contains(v.Steps[4].Expression, "event.entities.sender") || v.Steps[2].If == "" {
		t.Fatalf("view = %+v", v)
	}
	err := h.run(t, "show", "nope")
	if cmdutil.ExitCode(err) != cmdutil.ExitNotFound {
		t.Fatalf("unknown playbook: %v", err)
	}
	// A file that does not load is invalid, not missing; one replacing a
	// built-in hides it rather than letting it stand in.
	h.writePlaybook(t, "brk.yaml", "steps:\n  - iff: 'true'\n")
	h.writePlaybook(t, "phishing_triage.yaml", "steps:\n  - iff: 'true'\n")
	for _, name := range []string{"brk", "phishing_triage"} {
		err = h.run(t, "show", name)
		if err == nil || cmdutil.ExitCode(err) == cmdutil.ExitNotFound || !strings.Contains(err.Error(), fmt.Sprintf("playbook %q is invalid: ", name)) ||
			!strings.Contains(err.Error(), "tw-cli playbook validate") {
			t.Errorf("show of the broken %s: %v", name, err)
		}
	}
}

func TestValidate(t *testing.T) {
	h := newHarness(t)
	good := h.writePlaybook(t, "good.yaml", "steps:\n  - match: event.severity == \"high\"\n  - assign: bob\n")
	bad := h.writePlaybook(t, "bad.yaml", "steps:\n  - name: sev\n    set_severity: loud\n  - match: event.x ==\n")
	if err := h.run(t, "validate", good); err != nil {
		t.Fatal(err)
	}
	if h.err.String() != "✓ "+good+": playbook good, 2 steps\n" {
		t.Fatalf("stderr = %q", h.err)
	}
	h.err.Reset()
	err := h.run(t, "validate", good, bad)
	if !errors.Is(err, cmdutil.ErrSilent) {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{
		bad + ":3: step 1 (sev): set_severity: \"loud\" is not one of critical, high, medium, low, info\n",
		bad + ":4: step 2 (match): match: invalid CEL",
	} {
		if !strings.Contains(h.err.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, h.err)
		}
	}
	h.err.Reset()
	missing := filepath.Join(t.TempDir(), "missing.yaml")
	if err := h.run(t, "validate", missing); !errors.Is(err, cmdutil.ErrSilent) || !strings.HasPrefix(h.err.String(), "✗ "+missing+": no such file or directory\n") {
		t.Fatalf("a missing file: %v, stderr %q", err, h.err)
	}
	var fe *cmdutil.FlagError
	if err := h.run(t, "validate"); !errors.As(err, &fe) {
		t.Fatalf("no file: %v", err)
	}
	// With a store, a destination it lacks is a warning, not a failure.
	h.f.Migrator = func() (store.Migrator, error) {
		return sqlite.Open(context.Background(), filepath.Join(h.dataDir, "tw.db"), sqlite.Options{NoMigrate: true})
	}
	if err := h.st.CreateDestination(context.Background(), &store.Destination{Name: "soc", Kind: "slack", URL: "https://hooks.slack.com/x", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	notifying := h.writePlaybook(t, "notifying.yaml", "steps:\n  - assign: bob\n  - name: tell\n    notify: [soc, nosuch, '*']\n")
	h.err.Reset()
	if err := h.run(t, "validate", notifying); err != nil {
		t.Fatal(err)
	}
	want := "✓ " + notifying + ": playbook notifying, 2 steps\n! " + notifying + `:3: step 2 (tell): notify: no destination "nosuch" here; add it with 'tw-cli destination add' before a job reaches this step` + "\n"
	if h.err.String() != want {
		t.Fatalf("stderr = %q, want %q", h.err, want)
	}
}

// phishingIncident stores a Defender phishing alert and returns what the
// store made of it: one incident for phishing_triage to run on.
func (h *harness) phishingIncident(t *testing.T) *store.IngestResult {
	t.Helper()
	norm := `{"format":"defender","type":"PhishingEmail","title":"Urgent","severity":"medium","category":"Phish","entities":{"sender":"x@bad.example","urls":["http://bad.example/a"]},"action":"create"}`
	res, err := h.st.Ingest(context.Background(), &store.Delivery{Source: "mail", ReceivedAt: now, Verification: "hmac", Format: "defender", Payload: []byte(`{}`),
		Items: []store.DeliveryItem{{Type: "PhishingEmail", Title: "Urgent", Severity: "medium", Normalized: []byte(norm)}}})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestRunAppliesPlaybookAndRecordsTimeline(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	res := h.phishingIncident(t)
	num := res.Incidents[0].Number
	opts := &RunOptions{IO: h.f.IOStreams, Store: h.f.Store, Catalog: catalogFunc(h.f), Sender: nil, Now: h.f.Now,
		User: func() string { return "alice" }, Name: "phishing_triage", Incident: num}
	opts.Sender = newTestSender
	if err := runRun(ctx, opts); err != nil {
		t.Fatal(err)
	}
	if h.err.String() != "✓ phishing_triage on "+num+": playbook phishing_triage finished: 7 steps applied, 0 skipped\n" {
		t.Fatalf("stderr = %q", h.err)
	}
	inc, _ := h.st.GetIncident(ctx, num)
	tr, _ := h.st.GetIncidentTriage(ctx, inc.ID)
	if inc.Severity != "high" || tr.Owner != "email-security" || len(tr.Indicators.URLs) != 1 {
		t.Fatalf("incident %+v triage %+v", inc, tr)
	}
	tl, _ := h.st.ListTimeline(ctx, inc.ID)
	if len(tl) != 9 || tl[0].Message != "playbook phishing_triage run by alice (7 steps)" || tl[7].Message != "no destinations configured" ||
		tl[8].Outcome != store.OutcomeDone {
		t.Fatalf("timeline = %+v", tl)
	}
	opts.Incident = "INC-1999-0001"
	if err := runRun(ctx, opts); cmdutil.ExitCode(err) != cmdutil.ExitNotFound {
		t.Fatalf("missing incident: %v", err)
	}
	opts.Incident, opts.Name = num, "nope"
	if err := runRun(ctx, opts); cmdutil.ExitCode(err) != cmdutil.ExitNotFound {
		t.Fatalf("missing playbook: %v", err)
	}
}

// pagerRun writes a playbook that tags then notifies the destination
// "pager", and returns the options of a run of it on a new incident.
func (h *harness) pagerRun(t *testing.T) *RunOptions {
	t.Helper()
	h.writePlaybook(t, "pager.yaml", "steps:\n  - add_tags: [x]\n  - notify: [pager]\n")
	res, err := h.st.Ingest(context.Background(), &store.Delivery{Source: "s", ReceivedAt: now, Verification: "hmac", Format: "generic", Payload: []byte(`{}`),
		Items: []store.DeliveryItem{{Title: "t", Severity: "low", Normalized: []byte(`{}`)}}})
	if err != nil {
		t.Fatal(err)
	}
	return &RunOptions{IO: h.f.IOStreams, Store: h.f.Store, Catalog: catalogFunc(h.f), Sender: newTestSender, Now: h.f.Now,
		User: func() string { return "bob" }, Name: "pager", Incident: res.Incidents[0].ID}
}

// deadPagerRun is pagerRun with the pager destination answering 400, so
// its notify step dead-letters.
func (h *harness) deadPagerRun(t *testing.T) *RunOptions {
	t.Helper()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadRequest) }))
	t.Cleanup(down.Close)
	if err := h.st.CreateDestination(context.Background(), &store.Destination{Name: "pager", Kind: "generic", URL: down.URL, Secret: "s", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	return h.pagerRun(t)
}

func TestRunRecordsAFailedStep(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	opts := h.pagerRun(t)
	err := runRun(ctx, opts)
	if err == nil || !strings.Contains(err.Error(), `step 2 (notify): unknown destination "pager"`) {
		t.Fatalf("err = %v", err)
	}
	tl, _ := h.st.ListTimeline(ctx, opts.Incident)
	last := tl[len(tl)-1]
	if last.Outcome != store.OutcomeFailed || last.Step != "notify" || !strings.Contains(last.Message, "unknown destination") {
		t.Fatalf("last entry = %+v", last)
	}
}

// A run whose notify step dead-lettered its destination is recorded, but
// is not a success: exit 5, and the summary counts the failed step.
func TestRunWithADeadLetteredNotifyFails(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	opts := h.deadPagerRun(t)
	err := runRun(ctx, opts)
	if cmdutil.ExitCode(err) != cmdutil.ExitRemote || !strings.Contains(err.Error(), "1 steps applied, 0 skipped, 1 failed") {
		t.Fatalf("err = %v (exit %d)", err, cmdutil.ExitCode(err))
	}
	if dls, _ := h.st.ListDeadLetters(ctx); len(dls) != 1 {
		t.Fatalf("%d dead letters, want 1", len(dls))
	}
}

// The playbook in the group's help is one a user may copy: it must pass
// validation as printed (un-indented from the help text itself).
func TestHelpExamplePlaybookIsValid(t *testing.T) {
	long := NewCmdPlaybook(&cmdutil.Factory{}).Long
	start := strings.Index(long, "\n  name: ")
	if start < 0 {
		t.Fatal("no example playbook in the help")
	}
	block, _, _ := strings.Cut(long[start+1:], "\n\n")
	var yaml strings.Builder
	for _, line := range strings.Split(block, "\n") {
		yaml.WriteString(strings.TrimPrefix(line, "  ") + "\n")
	}
	env, err := triage.NewEnv()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Parse("vip_phishing.yaml", []byte(yaml.String())); err != nil {
		t.Fatalf("the help's example playbook does not validate: %v\n%s", err, yaml.String())
	}
}
