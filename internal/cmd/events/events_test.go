package events

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
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
	// ids are the event ids, oldest first.
	ids []string
}

// deliveries, oldest first; the clock is 3h after t0.
var deliveries = []struct {
	source, typ, payload string
	at                   time.Time
}{
	{"email-gateway", "phishing_reported", `{"event_type":"phishing_reported","data":{"subject":"Invoice"}}`, t0},
	{"edr", "malware_detected", `{"event_type":"malware_detected","data":{"host":"host-1"}}`, t0.Add(time.Hour)},
	{"email-gateway", "test", `{"event_type":"test","data":{}}`, t0.Add(2 * time.Hour)},
}

func newEnv(t *testing.T, tty bool) *testEnv {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "tw.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &testEnv{t: t, store: st}
	for i, d := range deliveries {
		res, err := st.Ingest(context.Background(), &store.Delivery{
			Source: d.source, ReceivedAt: d.at, Verification: "hmac", Format: "generic", RequestID: "req-" + d.typ,
			Payload: []byte(d.payload),
			Items:   []store.DeliveryItem{{Type: d.typ, Title: d.typ, Severity: "high", Normalized: fmt.Appendf(nil, `{"n":%d}`, i)}},
		})
		if err != nil {
			t.Fatal(err)
		}
		e.ids = append(e.ids, res.Events[0].ID)
	}
	ios, _, stdout, stderr := iostreams.Test()
	ios.SetStdoutTTY(tty)
	e.f = &cmdutil.Factory{
		IOStreams: ios,
		Now:       func() time.Time { return t0.Add(3 * time.Hour) },
		Store:     func() (store.Store, error) { return st, nil },
	}
	e.stdout, e.stderr = stdout, stderr
	return e
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

func TestList(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []int // indexes into deliveries, in the expected order
	}{
		{"newest first", nil, []int{2, 1, 0}},
		{"--limit", []string{"--limit", "2"}, []int{2, 1}},
		{"--source", []string{"--source", "email-gateway"}, []int{2, 0}},
		{"--since", []string{"--since", "150m"}, []int{2, 1}},
		{"--since a date", []string{"--since", "2024-01-16"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, false)
			if err := e.run(NewCmdList(e.f, nil), tt.args...); err != nil {
				t.Fatal(err)
			}
			var want strings.Builder
			for _, i := range tt.want {
				d := deliveries[i]
				fmt.Fprintf(&want, "%s\t%s\t%s\tgeneric\thmac\tINC-2024-%04d\t%s\n", e.ids[i], d.source, d.typ, i+1, d.at.Format(time.RFC3339))
			}
			e.expect(want.String(), "")
		})
	}
}

func TestListTTY(t *testing.T) {
	e := newEnv(t, true)
	if err := e.run(NewCmdList(e.f, nil), "--limit", "2"); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf(""+
		"%-36s  SOURCE         TYPE              FORMAT   VERIFIED  INCIDENT       RECEIVED\n"+
		"%s  email-gateway  test              generic  hmac      INC-2024-0003  1 hour ago\n"+
		"%s  edr            malware_detected  generic  hmac      INC-2024-0002  2 hours ago\n",
		"ID", e.ids[2], e.ids[1])
	e.expect(want, "")
}

func TestListJSONCarriesRawPayload(t *testing.T) {
	e := newEnv(t, false)
	if err := e.run(NewCmdList(e.f, nil), "-o", "json", "--source", "edr"); err != nil {
		t.Fatal(err)
	}
	var got []map[string]json.RawMessage
	if err := json.Unmarshal(e.stdout.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, e.stdout)
	}
	if len(got) != 1 {
		t.Fatalf("got %d events", len(got))
	}
	// -o json is indented, so compare the payload compacted.
	if compact(t, got[0]["payload"]) != deliveries[1].payload {
		t.Errorf("payload = %s, want the body as received", got[0]["payload"])
	}
	if compact(t, got[0]["normalized"]) != `{"n":1}` || string(got[0]["id"]) != `"`+e.ids[1]+`"` ||
		string(got[0]["incident_number"]) != `"INC-2024-0002"` || string(got[0]["request_id"]) != `"req-malware_detected"` {
		t.Errorf("event = %s", e.stdout)
	}
}

func compact(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestListEmpty(t *testing.T) {
	e := newEnv(t, true)
	if err := e.run(NewCmdList(e.f, nil), "--source", "nope"); err != nil {
		t.Fatal(err)
	}
	e.expect("", "No events match.\n")
	e = newEnv(t, true)
	if err := e.run(NewCmdList(e.f, nil), "--source", "nope", "-o", "json"); err != nil {
		t.Fatal(err)
	}
	e.expect("[]\n", "")
}

func TestListFlagErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--limit", "-1"}, "--limit must be at least 1"},
		{[]string{"--since", "soon"}, `invalid --since "soon": use a duration (90m, 24h, 7d), a date (2024-01-15) or RFC 3339`},
		{[]string{"-o", "xml"}, `invalid argument "xml" for "-o, --output" flag: use table, json or yaml`},
	} {
		e := newEnv(t, false)
		err := e.run(NewCmdList(e.f, func(*ListOptions) error { t.Error("runF called"); return nil }), tt.args...)
		if cmdutil.ExitCode(err) != cmdutil.ExitUsage || err.Error() != tt.msg {
			t.Errorf("%v: err = %v, want usage error %q", tt.args, err, tt.msg)
		}
	}
}

func TestShow(t *testing.T) {
	e := newEnv(t, false)
	if err := e.run(NewCmdShow(e.f, nil), e.ids[0]); err != nil {
		t.Fatal(err)
	}
	want := "id\t" + e.ids[0] + "\nsource\temail-gateway\ntype\tphishing_reported\nformat\tgeneric\nverified\thmac\n" +
		"incident\tINC-2024-0001\nreceived\t2024-01-15T10:00:00Z\nrequest_id\treq-phishing_reported\n\n" +
		deliveries[0].payload + "\n"
	e.expect(want, "")
}

func TestShowJSON(t *testing.T) {
	e := newEnv(t, true)
	if err := e.run(NewCmdShow(e.f, nil), e.ids[1], "-o", "json"); err != nil {
		t.Fatal(err)
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(e.stdout.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if compact(t, got["payload"]) != deliveries[1].payload || string(got["received_at"]) != `"2024-01-15T11:00:00Z"` {
		t.Errorf("event = %s", e.stdout)
	}
}

func TestShowNotFound(t *testing.T) {
	e := newEnv(t, true)
	err := e.run(NewCmdShow(e.f, nil), "no-such-id")
	if cmdutil.ExitCode(err) != cmdutil.ExitNotFound || err.Error() != `no event "no-such-id": run 'tw-cli events list'` {
		t.Errorf("err = %v (exit %d), want exit 4", err, cmdutil.ExitCode(err))
	}
	e.expect("", "")
}

// show -o json carries the body byte for byte, as GET /api/events/:id
// does, besides payload re-encoded.
func TestShowJSONCarriesTheBodyAsReceived(t *testing.T) {
	e := newEnv(t, false)
	if err := e.run(NewCmdShow(e.f, nil), e.ids[1], "-o", "json"); err != nil {
		t.Fatal(err)
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(e.stdout.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, e.stdout)
	}
	var raw string
	if err := json.Unmarshal(got["raw_payload"], &raw); err != nil || raw != deliveries[1].payload {
		t.Fatalf("raw_payload = %s, want %q", got["raw_payload"], deliveries[1].payload)
	}
}

// The stored body can hold a bare CR (JSON whitespace) and C1 or bidi
// controls inside strings: the table shows them, -o json keeps them.
func TestShowDoesNotSendControlsToTheTerminal(t *testing.T) {
	e := newEnv(t, true)
	body := "{\"event_type\":\"x\",\r\"data\":{\"t\":\"\u009b2J\u202eevil\"}}"
	res, err := e.store.Ingest(context.Background(), &store.Delivery{
		Source: "edr", ReceivedAt: t0, Verification: "hmac", Format: "generic", Payload: []byte(body),
		Items: []store.DeliveryItem{{Type: "x", Title: "x", Severity: "low", Normalized: []byte(`{}`)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.run(NewCmdShow(e.f, nil), res.Events[0].ID); err != nil {
		t.Fatal(err)
	}
	out := e.stdout.String()
	if strings.ContainsAny(out, "\r\u009b\u202e") || !strings.Contains(out, `^M"data":{"t":"\u009b2J\u202eevil"}}`) {
		t.Errorf("show printed %q", out)
	}
}
