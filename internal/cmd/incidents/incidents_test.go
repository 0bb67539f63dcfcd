package incidents

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/store"
	"github.com/tw-cli/tw-cli/internal/store/sqlite"
)

var t0 = time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)

type testEnv struct {
	t      *testing.T
	store  store.Store
	f      *cmdutil.Factory
	stdout *bytes.Buffer
	stderr *bytes.Buffer
}

// newEnv has a store holding three incidents, and a clock 5h after t0:
//
//	INC-2024-0001 email-gateway  t0       high
//	INC-2024-0002 edr            t0+2h    critical  (2 events)
//	INC-2024-0003 email-gateway  t0+4h    low
func newEnv(t *testing.T, tty bool) *testEnv {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "tw.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ingest(t, st, "email-gateway", t0, "Phishing reported: Invoice", "high", "")
	ingest(t, st, "edr", t0.Add(2*time.Hour), "Malware on host-1", "critical", "host-1")
	ingest(t, st, "edr", t0.Add(150*time.Minute), "Malware on host-1", "critical", "host-1")
	ingest(t, st, "email-gateway", t0.Add(4*time.Hour), "Spam wave", "low", "")
	ios, _, stdout, stderr := iostreams.Test()
	ios.SetStdoutTTY(tty)
	f := &cmdutil.Factory{
		IOStreams: ios,
		Now:       func() time.Time { return t0.Add(5 * time.Hour) },
		Store:     func() (store.Store, error) { return st, nil },
	}
	return &testEnv{t: t, store: st, f: f, stdout: stdout, stderr: stderr}
}

func ingest(t *testing.T, st store.Store, source string, at time.Time, title, severity, key string) {
	t.Helper()
	_, err := st.Ingest(context.Background(), &store.Delivery{
		Source: source, ReceivedAt: at, Verification: "hmac", Format: "generic", RequestID: "req",
		Payload: []byte(`{}`),
		Items:   []store.DeliveryItem{{Type: "alert", Title: title, Severity: severity, CorrelationKey: key, Normalized: []byte(`{}`)}},
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (e *testEnv) run(cmd *cobra.Command, args ...string) error {
	e.t.Helper()
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	cmd.SetArgs(append([]string{}, args...))
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	return cmd.ExecuteContext(context.Background())
}

func (e *testEnv) expect(stdout, stderr string) {
	e.t.Helper()
	if e.stdout.String() != stdout {
		e.t.Errorf("stdout =\n%q\nwant\n%q", e.stdout.String(), stdout)
	}
	if e.stderr.String() != stderr {
		e.t.Errorf("stderr = %q, want %q", e.stderr.String(), stderr)
	}
}

func TestListNewestFirst(t *testing.T) {
	tests := []struct {
		name string
		tty  bool
		args []string
		want string
	}{
		{
			name: "piped",
			want: "INC-2024-0003\tlow\topen\temail-gateway\tSpam wave\t1\t2024-01-15T14:00:00Z\t-\n" +
				"INC-2024-0002\tcritical\topen\tedr\tMalware on host-1\t2\t2024-01-15T12:00:00Z\t-\n" +
				"INC-2024-0001\thigh\topen\temail-gateway\tPhishing reported: Invoice\t1\t2024-01-15T10:00:00Z\t-\n",
		},
		{
			name: "tty",
			tty:  true,
			want: "NUMBER         SEVERITY  STATUS  SOURCE         TITLE                       EVENTS  CREATED      OWNER\n" +
				"INC-2024-0003  low       open    email-gateway  Spam wave                   1       1 hour ago   -\n" +
				"INC-2024-0002  critical  open    edr            Malware on host-1           2       3 hours ago  -\n" +
				"INC-2024-0001  high      open    email-gateway  Phishing reported: Invoice  1       5 hours ago  -\n",
		},
		{
			name: "--limit",
			args: []string{"--limit", "2"},
			want: "INC-2024-0003\tlow\topen\temail-gateway\tSpam wave\t1\t2024-01-15T14:00:00Z\t-\n" +
				"INC-2024-0002\tcritical\topen\tedr\tMalware on host-1\t2\t2024-01-15T12:00:00Z\t-\n",
		},
		{
			name: "--source",
			args: []string{"--source", "email-gateway", "-L", "1"},
			want: "INC-2024-0003\tlow\topen\temail-gateway\tSpam wave\t1\t2024-01-15T14:00:00Z\t-\n",
		},
		{
			name: "--since a duration back from now",
			args: []string{"--since", "3h"},
			want: "INC-2024-0003\tlow\topen\temail-gateway\tSpam wave\t1\t2024-01-15T14:00:00Z\t-\n" +
				"INC-2024-0002\tcritical\topen\tedr\tMalware on host-1\t2\t2024-01-15T12:00:00Z\t-\n",
		},
		{
			name: "--since RFC 3339",
			args: []string{"--since", "2024-01-15T13:00:00Z"},
			want: "INC-2024-0003\tlow\topen\temail-gateway\tSpam wave\t1\t2024-01-15T14:00:00Z\t-\n",
		},
		{
			name: "--status",
			args: []string{"--status", "acknowledged"},
			want: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.tty)
			if err := e.run(NewCmdList(e.f, nil), tt.args...); err != nil {
				t.Fatal(err)
			}
			e.expect(tt.want, "")
		})
	}
}

func TestListJSON(t *testing.T) {
	e := newEnv(t, true)
	if err := e.run(NewCmdList(e.f, nil), "-o", "json", "--limit", "2"); err != nil {
		t.Fatal(err)
	}
	var got []store.Incident
	if err := json.Unmarshal(e.stdout.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Number != "INC-2024-0003" || got[1].Number != "INC-2024-0002" || got[1].EventCount != 2 ||
		!got[1].CreatedAt.Equal(t0.Add(2*time.Hour)) || !got[1].UpdatedAt.Equal(t0.Add(150*time.Minute)) {
		t.Errorf("json = %s", e.stdout)
	}
}

func TestListEmpty(t *testing.T) {
	for _, tt := range []struct {
		tty          bool
		args         []string
		stdout, want string
	}{
		{true, nil, "", "No incidents match.\n"},
		{false, nil, "", ""},
		{true, []string{"-o", "json"}, "[]\n", ""},
	} {
		e := newEnv(t, tt.tty)
		if err := e.run(NewCmdList(e.f, nil), append(tt.args, "--source", "nope")...); err != nil {
			t.Fatal(err)
		}
		e.expect(tt.stdout, tt.want)
	}
}

func TestListFlagErrors(t *testing.T) {
	tests := []struct {
		args []string
		msg  string
	}{
		{[]string{"--limit", "0"}, "--limit must be at least 1"},
		{[]string{"--status", "closed"}, `invalid --status "closed": use open, acknowledged or resolved`},
		{[]string{"--since", "last week"}, `invalid --since "last week": use a duration (90m, 24h, 7d), a date (2024-01-15) or RFC 3339`},
		{[]string{"-o", "xml"}, `invalid argument "xml" for "-o, --output" flag: use table, json or yaml`},
		{[]string{"extra"}, "unexpected argument \"extra\"\n\nUsage: list [flags]"},
	}
	for _, tt := range tests {
		ios, _, _, _ := iostreams.Test()
		f := &cmdutil.Factory{IOStreams: ios, Now: func() time.Time { return t0 }}
		called := false
		cmd := NewCmdList(f, func(*ListOptions) error { called = true; return nil })
		cmd.SilenceErrors, cmd.SilenceUsage = true, true
		cmd.SetArgs(tt.args)
		cmd.SetOut(io.Discard)
		err := cmd.Execute()
		if cmdutil.ExitCode(err) != cmdutil.ExitUsage || err.Error() != tt.msg || called {
			t.Errorf("%v: err = %v (exit %d), runF called %v; want usage error %q", tt.args, err, cmdutil.ExitCode(err), called, tt.msg)
		}
	}
}

func TestListParsesSinceAgainstNow(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, Now: func() time.Time { return t0 }}
	var got *ListOptions
	cmd := NewCmdList(f, func(o *ListOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--since", "7d", "--status", "open", "--source", "edr"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	want := store.IncidentFilter{Source: "edr", Status: "open", Since: t0.Add(-7 * 24 * time.Hour), Limit: 30}
	if got.Filter != want {
		t.Errorf("Filter = %+v, want %+v", got.Filter, want)
	}
}

func TestShow(t *testing.T) {
	for _, tty := range []bool{true, false} {
		e := newEnv(t, tty)
		inc, err := e.store.GetIncident(context.Background(), "INC-2024-0002")
		if err != nil {
			t.Fatal(err)
		}
		// Numbers are accepted in any case.
		if err := e.run(NewCmdShow(e.f, nil), "inc-2024-0002"); err != nil {
			t.Fatal(err)
		}
		want := "number\tINC-2024-0002\nid\t" + inc.ID + "\ntitle\tMalware on host-1\nseverity\tcritical\nstatus\topen\n" +
			"source\tedr\nevents\t2\ncreated\t2024-01-15T12:00:00Z\nupdated\t2024-01-15T12:30:00Z\nowner\t-\ntags\t-\n"
		if tty {
			// A UUID is 36 characters wide, like this placeholder.
			want = strings.ReplaceAll(""+
				"FIELD     VALUE\n"+
				"number    INC-2024-0002\n"+
				"id        xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx\n"+
				"title     Malware on host-1\n"+
				"severity  critical\n"+
				"status    open\n"+
				"source    edr\n"+
				"events    2\n"+
				"created   3 hours ago\n"+
				"updated   2 hours ago\n"+
				"owner     -\n"+
				"tags      -\n",
				"xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", inc.ID)
		}
		e.expect(want, "")
	}
}

func TestShowNotFound(t *testing.T) {
	e := newEnv(t, true)
	err := e.run(NewCmdShow(e.f, nil), "INC-2024-9999")
	if cmdutil.ExitCode(err) != cmdutil.ExitNotFound || err.Error() != `no incident "INC-2024-9999": run 'tw-cli incidents list'` {
		t.Errorf("err = %v (exit %d), want exit 4", err, cmdutil.ExitCode(err))
	}
	e.expect("", "")
}

func TestAckAndResolve(t *testing.T) {
	e := newEnv(t, false)
	group := NewCmdIncidents(e.f)
	if err := e.run(group, "ack", "INC-2024-0001"); err != nil {
		t.Fatal(err)
	}
	if err := e.run(NewCmdIncidents(e.f), "resolve", "INC-2024-0003"); err != nil {
		t.Fatal(err)
	}
	e.expect("", "✓ INC-2024-0001 is now acknowledged\n✓ INC-2024-0003 is now resolved\n")

	inc, _ := e.store.GetIncident(context.Background(), "INC-2024-0001")
	if inc.Status != store.StatusAcknowledged || !inc.UpdatedAt.Equal(t0.Add(5*time.Hour)) {
		t.Errorf("after ack: %+v", inc)
	}
	e.stderr.Reset()
	if err := e.run(NewCmdList(e.f, nil), "--status", "open"); err != nil {
		t.Fatal(err)
	}
	e.expect("INC-2024-0002\tcritical\topen\tedr\tMalware on host-1\t2\t2024-01-15T12:00:00Z\t-\n", "")

	err := e.run(NewCmdIncidents(e.f), "ack", "INC-2023-0001")
	if cmdutil.ExitCode(err) != cmdutil.ExitNotFound {
		t.Errorf("ack unknown: err = %v (exit %d), want 4", err, cmdutil.ExitCode(err))
	}

	// A resolve made by mistake is undone: reopened, the incident is open
	// again, with the change on its timeline; said twice, nothing more.
	e.stdout.Reset()
	e.stderr.Reset()
	for range 2 {
		if err := e.run(NewCmdIncidents(e.f), "reopen", "INC-2024-0003"); err != nil {
			t.Fatal(err)
		}
	}
	e.expect("", "✓ INC-2024-0003 is now open\nINC-2024-0003 is already open\n")
	inc, _ = e.store.GetIncident(context.Background(), "INC-2024-0003")
	tl, _ := e.store.ListTimeline(context.Background(), inc.ID)
	if inc.Status != store.StatusOpen || len(tl) != 2 || tl[1].Outcome != store.StatusOpen || tl[1].Message != "status → open" {
		t.Errorf("after reopen: %+v, timeline %+v", inc, tl)
	}
}
