package threatstack

import (
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
)

// parse runs cmd with args and a runF that captured the options; it
// returns the error (a *cmdutil.FlagError for usage errors).
func parse(t *testing.T, cmd *cobra.Command, args ...string) error {
	t.Helper()
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &cmdutil.FlagError{Err: err} })
	return cmd.Execute()
}

func testFactory() *cmdutil.Factory {
	ios, _, _, _ := iostreams.Test()
	return &cmdutil.Factory{IOStreams: ios, Now: func() time.Time { return testNow }}
}

func wantUsageError(t *testing.T, err error, args []string) {
	t.Helper()
	var fe *cmdutil.FlagError
	if !errors.As(err, &fe) {
		t.Errorf("%v: err = %v, want a usage error (exit 2)", args, err)
	}
}

func TestAgentsListFlags(t *testing.T) {
	tests := []struct {
		args    []string
		want    string // status limit all output
		wantErr bool
	}{
		{nil, "online 100 false table", false},
		{[]string{"--status", "offline", "--all", "-o", "json"}, "offline 100 true json", false},
		{[]string{"-L", "5", "-o", "yaml"}, "online 5 false yaml", false},
		{[]string{"--limit", "0"}, "", true},
		{[]string{"--limit", "5", "--all"}, "", true},
		{[]string{"--status", "gone"}, "", true},
		{[]string{"-o", "xml"}, "", true},
		{[]string{"extra"}, "", true},
	}
	for _, tt := range tests {
		var got *AgentsListOptions
		err := parse(t, NewCmdAgentsList(testFactory(), func(o *AgentsListOptions) error { got = o; return nil }), tt.args...)
		if tt.wantErr {
			wantUsageError(t, err, tt.args)
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", tt.args, err)
			continue
		}
		if s := fmt.Sprint(got.Status, " ", got.List.Limit, " ", got.List.All, " ", got.List.Output); s != tt.want {
			t.Errorf("%v: parsed %q, want %q", tt.args, s, tt.want)
		}
		if got.Client == nil {
			t.Errorf("%v: no client constructor", tt.args)
		}
	}
}

func TestAlertsListFlags(t *testing.T) {
	tests := []struct {
		args    []string
		check   func(o *AlertsListOptions) string
		wantErr bool
	}{
		{nil, func(o *AlertsListOptions) string {
			return fmt.Sprint(o.Filter.Status, o.Filter.Severity, o.Filter.From.IsZero(), o.Filter.Until.IsZero())
		}, false},
		{[]string{"--severity", "high", "--from", "24h", "--until", "2024-05-01T13:00:00Z", "--rule", "r1", "--agent", "a1", "--status", "dismissed"},
			func(o *AlertsListOptions) string {
				return fmt.Sprint(o.Filter.Status, o.Filter.Severity, o.Filter.From.Format(time.RFC3339), o.Filter.Until.Format(time.RFC3339), o.Filter.RuleID, o.Filter.AgentID)
			}, false},
		{[]string{"--severity", "3", "--from", "2024-04-30"}, func(o *AlertsListOptions) string {
			return fmt.Sprint(o.Filter.Severity, o.Filter.From.Format(time.RFC3339))
		}, false},
		{[]string{"--since", "2024-04-30"}, func(o *AlertsListOptions) string {
			return o.Filter.From.Format(time.RFC3339)
		}, false},
		{[]string{"--severity", "4"}, nil, true},
		{[]string{"--from", "last tuesday"}, nil, true},
		{[]string{"--from", "1h", "--until", "2h"}, nil, true},
		{[]string{"--status", "open"}, nil, true},
	}
	want := []string{
		"active0 true true",
		"dismissed12024-04-30T14:00:00Z2024-05-01T13:00:00Zr1a1",
		"32024-04-30T00:00:00Z",
		"2024-04-30T00:00:00Z", // --since is --from
	}
	for i, tt := range tests {
		var got *AlertsListOptions
		err := parse(t, NewCmdAlertsList(testFactory(), func(o *AlertsListOptions) error { got = o; return nil }), tt.args...)
		if tt.wantErr {
			wantUsageError(t, err, tt.args)
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", tt.args, err)
			continue
		}
		if s := tt.check(got); s != want[i] {
			t.Errorf("%v: parsed %q, want %q", tt.args, s, want[i])
		}
	}
}

func TestAlertsDismissFlags(t *testing.T) {
	tests := []struct {
		args    []string
		want    string
		wantErr bool
	}{
		{[]string{"a1"}, "[a1] OTHER ", false},
		{[]string{"a1", "a2", "--reason", "business-op", "--comment", "deploy"}, "[a1 a2] BUSINESS_OP deploy", false},
		{[]string{"a1", "--reason", "COMPANY_POLICY"}, "[a1] COMPANY_POLICY ", false},
		{[]string{"--reason", "other"}, "", true},
		{[]string{"a1", "--reason", "bored"}, "", true},
	}
	for _, tt := range tests {
		var got *AlertsDismissOptions
		err := parse(t, NewCmdAlertsDismiss(testFactory(), func(o *AlertsDismissOptions) error { got = o; return nil }), tt.args...)
		if tt.wantErr {
			wantUsageError(t, err, tt.args)
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", tt.args, err)
			continue
		}
		if s := fmt.Sprint(got.IDs, " ", got.Reason, " ", got.Comment); s != tt.want {
			t.Errorf("%v: parsed %q, want %q", tt.args, s, tt.want)
		}
	}
}

func TestAPIFlags(t *testing.T) {
	tests := []struct {
		args      []string
		wantQuery string
		wantBody  string
		wantErr   bool
	}{
		{[]string{"/v2/agents", "-f", "status=online", "-f", "x=a b"}, "status=online&x=a+b", "", false},
		{[]string{"-X", "post", "/v2/alerts/dismiss", "-f", "dismissReason=OTHER"}, "", `{"dismissReason":"OTHER"}`, false},
		{[]string{"-X", "PUT", "/v2/rulesets/x"}, "", `{}`, false},
		{[]string{"/v2/agents", "--paginate", "-f", "status=offline"}, "status=offline", "", false},
		{[]string{"-X", "POST", "/v2/x", "--paginate"}, "", "", true},
		{[]string{"-X", "TRACE", "/v2/x"}, "", "", true},
		{[]string{"/v2/x", "-f", "novalue"}, "", "", true},
		{[]string{"/v2/x", "--input", "f.json"}, "", "", true},
		{nil, "", "", true},
	}
	for _, tt := range tests {
		var got *APIOptions
		err := parse(t, NewCmdAPI(testFactory(), func(o *APIOptions) error { got = o; return nil }), tt.args...)
		if tt.wantErr {
			wantUsageError(t, err, tt.args)
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", tt.args, err)
			continue
		}
		q, body, err := got.request()
		if err != nil || q.Encode() != tt.wantQuery || string(body) != tt.wantBody {
			t.Errorf("%v: query %q body %q err %v; want %q %q", tt.args, q.Encode(), body, err, tt.wantQuery, tt.wantBody)
		}
	}
}

func TestAPIInputFromStdin(t *testing.T) {
	f := testFactory()
	in := f.IOStreams.In.(interface{ WriteString(string) (int, error) })
	in.WriteString(`{"ids":["a"],"dismissReason":"OTHER"}`)
	var got *APIOptions
	err := parse(t, NewCmdAPI(f, func(o *APIOptions) error { got = o; return nil }), "-X", "POST", "/v2/alerts/dismiss", "--input", "-", "-f", "dry=1")
	if err != nil {
		t.Fatal(err)
	}
	q, body, err := got.request()
	if err != nil || q.Encode() != "dry=1" || string(body) != `{"ids":["a"],"dismissReason":"OTHER"}` {
		t.Errorf("query %q body %q err %v", q.Encode(), body, err)
	}
	bad := testFactory()
	bad.IOStreams.In.(interface{ WriteString(string) (int, error) }).WriteString("not json")
	err = parse(t, NewCmdAPI(bad, func(o *APIOptions) error { _, _, err := o.request(); return err }), "-X", "POST", "/v2/x", "--input", "-")
	wantUsageError(t, err, []string{"--input", "-"})
}

func TestCVEAndListFlags(t *testing.T) {
	var cve *CVEsGetOptions
	if err := parse(t, NewCmdCVEsGet(testFactory(), func(o *CVEsGetOptions) error { cve = o; return nil }), "cve-2024-3094", "--all"); err != nil {
		t.Fatal(err)
	}
	if cve.CVE != "CVE-2024-3094" || !cve.List.All {
		t.Errorf("parsed %+v", cve)
	}
	for _, args := range [][]string{{"2024-3094"}, {"CVE-24-1"}, {}} {
		wantUsageError(t, parse(t, NewCmdCVEsGet(testFactory(), func(*CVEsGetOptions) error { return nil }), args...), args)
	}
	vargs := []string{"--package", "openssl", "--agent", "a1"}
	wantUsageError(t, parse(t, NewCmdVulnerabilitiesList(testFactory(), func(*VulnerabilitiesListOptions) error { return nil }), vargs...), vargs)
	var rules *RulesetsRulesOptions
	if err := parse(t, NewCmdRulesetsRules(testFactory(), func(o *RulesetsRulesOptions) error { rules = o; return nil }), "rs1", "-L", "7"); err != nil {
		t.Fatal(err)
	}
	if rules.RulesetID != "rs1" || rules.List.Limit != 7 {
		t.Errorf("parsed %+v", rules)
	}
	for _, args := range [][]string{{}, {"a", "b"}} {
		wantUsageError(t, parse(t, NewCmdAgentsGet(testFactory(), func(*GetOptions) error { return nil }), args...), args)
	}
}

// Building the command tree must not read config, credentials or the
// network: --help works on a machine with nothing set up.
func TestHelpNeedsNothing(t *testing.T) {
	f := testFactory()
	f.Config = nil // would panic if anything asked for it
	for _, args := range [][]string{{"--help"}, {"agents", "list", "--help"}, {"api", "--help"}, {"alerts", "dismiss", "--help"}} {
		if err := parse(t, NewCmdThreatstack(f), args...); err != nil {
			t.Errorf("%v: %v", args, err)
		}
	}
}
