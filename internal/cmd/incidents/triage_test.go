package incidents

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/store"
	"github.com/tw-cli/tw-cli/internal/store/sqlite"
)

var now = time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)

func setup(t *testing.T) (*cmdutil.Factory, store.Store, string, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "tw.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	res, err := st.Ingest(context.Background(), &store.Delivery{Source: "mail", ReceivedAt: now, Verification: "hmac", Format: "generic",
		Payload: []byte(`{}`), Triage: &store.TriageRequest{Playbook: "phishing_triage"},
		Items: []store.DeliveryItem{{Title: "Phish", Severity: "high", Normalized: []byte(`{}`)}}})
	if err != nil {
		t.Fatal(err)
	}
	ios, stdin, out, errb := iostreams.Test()
	stdin.WriteString("from stdin\n")
	f := &cmdutil.Factory{IOStreams: ios, Now: func() time.Time { return now.Add(time.Minute) }, Store: func() (store.Store, error) { return st, nil }}
	return f, st, res.Incidents[0].Number, out, errb
}

func exec(f *cmdutil.Factory, errb *bytes.Buffer, args ...string) error {
	cmd := NewCmdIncidents(f)
	cmd.SetArgs(args)
	cmd.SetOut(errb)
	cmd.SetErr(errb)
	return cmd.ExecuteContext(context.Background())
}

func TestAssignAndCommentFlags(t *testing.T) {
	f, _, _, _, _ := setup(t)
	var a *AssignOptions
	cmd := NewCmdAssign(f, func(o *AssignOptions) error { a = o; return nil })
	cmd.SetArgs([]string{"INC-2024-0001", " alice "})
	if err := cmd.Execute(); err != nil || a.ID != "INC-2024-0001" || a.Owner != "alice" {
		t.Fatalf("assign options = %+v, %v", a, err)
	}
	var c *CommentOptions
	cmd = NewCmdComment(f, func(o *CommentOptions) error { c = o; return nil })
	cmd.SetArgs([]string{"INC-2024-0001", "-"})
	if err := cmd.Execute(); err != nil || c.Body != "from stdin" {
		t.Fatalf("comment options = %+v, %v", c, err)
	}
	cmd = NewCmdComment(f, func(*CommentOptions) error { t.Fatal("ran"); return nil })
	cmd.SetArgs([]string{"INC-2024-0001", "  "})
	var fe *cmdutil.FlagError
	if err := cmd.Execute(); !errors.As(err, &fe) {
		t.Fatalf("empty comment: %v", err)
	}
	// Over the limit is refused, not cut.
	cmd = NewCmdComment(f, func(*CommentOptions) error { t.Fatal("ran"); return nil })
	cmd.SetArgs([]string{"INC-2024-0001", strings.Repeat("x", maxCommentBytes+1)})
	if err := cmd.Execute(); !errors.As(err, &fe) || !strings.Contains(err.Error(), "too long") {
		t.Fatalf("long comment: %v", err)
	}
}

func TestAssignCommentAckShow(t *testing.T) {
	f, st, num, out, errb := setup(t)
	ctx := context.Background()
	user := cmdutil.CurrentUser()
	if err := exec(f, errb, "assign", num, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := exec(f, errb, "comment", num, "Sender blocked"); err != nil {
		t.Fatal(err)
	}
	if err := exec(f, errb, "ack", num); err != nil {
		t.Fatal(err)
	}
	if errb.String() != "✓ "+num+" assigned to alice\n✓ Comment added to "+num+"\n✓ "+num+" is now acknowledged\n" {
		t.Fatalf("stderr = %q", errb)
	}
	inc, _ := st.GetIncident(ctx, num)
	st.ApplyIncidentChange(ctx, inc.ID, store.IncidentChange{AddTags: []string{"phishing"}, AddIndicators: store.Indicators{Domains: []string{"bad.example"}}}, nil, now)
	if err := exec(f, errb, "show", num); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, line := range []string{
		"status\tacknowledged\n", "owner\talice\n", "tags\tphishing\n", "indicators.domains\tbad.example\n",
		"triage_job\tqueue-", " phishing_triage queued, next step 1, 0 attempts\n",
		"timeline\t2024-01-15T10:00:00Z  receiver  playbook queued: queued for playbook phishing_triage (queue-",
		"timeline\t2024-01-15T10:01:00Z  " + user + "  assign: assigned to alice\n",
		"timeline\t2024-01-15T10:01:00Z  " + user + "  comment: Sender blocked\n",
		"timeline\t2024-01-15T10:01:00Z  " + user + "  status acknowledged: status → acknowledged\n",
	} {
		if !strings.Contains(got, line) {
			t.Errorf("show lacks %q:\n%s", line, got)
		}
	}
	out.Reset()
	if err := exec(f, errb, "show", num, "-o", "json"); err != nil {
		t.Fatal(err)
	}
	var d map[string]any
	if err := json.Unmarshal(out.Bytes(), &d); err != nil {
		t.Fatal(err)
	}
	tl, _ := d["timeline"].([]any)
	jobs, _ := d["triage_jobs"].([]any)
	if d["number"] != num || d["owner"] != "alice" || len(tl) != 4 || len(jobs) != 1 || d["status"] != "acknowledged" {
		t.Fatalf("json = %s", out)
	}
	if err := exec(f, errb, "assign", "INC-1999-0001", "bob"); cmdutil.ExitCode(err) != cmdutil.ExitNotFound {
		t.Fatalf("missing incident: %v", err)
	}
}

// Status changes follow the incident's state: saying one twice adds no
// timeline entry, and a resolved incident is not reopened by an ack.
func TestStatusChangesFollowTheState(t *testing.T) {
	f, st, num, _, errb := setup(t)
	ctx := context.Background()
	for range 2 {
		if err := exec(f, errb, "resolve", num); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.HasSuffix(errb.String(), num+" is already resolved\n") {
		t.Fatalf("stderr = %q", errb)
	}
	if err := exec(f, errb, "ack", num); err == nil || !strings.Contains(err.Error(), "would reopen it") {
		t.Fatalf("ack of a resolved incident = %v", err)
	}
	inc, _ := st.GetIncident(ctx, num)
	tl, _ := st.ListTimeline(ctx, inc.ID)
	statuses := 0
	for _, e := range tl {
		if e.Kind == store.TimelineStatus {
			statuses++
		}
	}
	if inc.Status != store.StatusResolved || statuses != 1 {
		t.Fatalf("status %s with %d status entries, want resolved with 1", inc.Status, statuses)
	}
}

func TestJobStepInWords(t *testing.T) {
	for _, tt := range []struct {
		job  store.TriageJob
		want string
	}{
		{store.TriageJob{Status: store.JobQueued, Step: 0}, ", next step 1"},
		{store.TriageJob{Status: store.JobRunning, Step: 3}, ", next step 4"},
		{store.TriageJob{Status: store.JobQueued, Step: 2, StepName: "notify-2"}, ", next step 3 (notify-2)"},
		// A playbook a step stopped at step 1 records the playbook's end.
		{store.TriageJob{Status: store.JobDone, Step: 7}, ""},
		{store.TriageJob{Status: store.JobFailed, Step: 2}, " at step 3"},
	} {
		if got := jobStep(tt.job); got != tt.want {
			t.Errorf("jobStep(%s, step %d) = %q, want %q", tt.job.Status, tt.job.Step, got, tt.want)
		}
	}
}

// An owner is a name: control characters are refused (exit 2) locally,
// as the admin API refuses them remotely.
func TestAssignRefusesControlCharacters(t *testing.T) {
	f, st, num, _, errb := setup(t)
	err := exec(f, errb, "assign", num, "bo\x1b[2Jb")
	if cmdutil.ExitCode(err) != cmdutil.ExitUsage || !strings.Contains(err.Error(), "owner must be printable") {
		t.Fatalf("err = %v (exit %d)", err, cmdutil.ExitCode(err))
	}
	inc, err := st.GetIncident(context.Background(), num)
	if err != nil {
		t.Fatal(err)
	}
	if tl, _ := st.ListTimeline(context.Background(), inc.ID); len(tl) != 1 { // the queued entry
		t.Fatalf("the refused assignment wrote: %+v", tl)
	}
}

// Assigning the owner an incident has changes nothing, and says so.
func TestAssignSameOwnerAgain(t *testing.T) {
	f, st, num, _, errb := setup(t)
	if err := exec(f, errb, "assign", num, "alice"); err != nil {
		t.Fatal(err)
	}
	errb.Reset()
	if err := exec(f, errb, "assign", num, "alice"); err != nil || errb.String() != num+" is already assigned to alice\n" {
		t.Fatalf("again: %v, stderr %q", err, errb)
	}
	inc, _ := st.GetIncident(context.Background(), num)
	if tl, _ := st.ListTimeline(context.Background(), inc.ID); len(tl) != 2 { // queued, then one assignment
		t.Fatalf("timeline = %+v", tl)
	}
}
