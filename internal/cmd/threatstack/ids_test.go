package threatstack

import (
	"strings"
	"testing"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/pkg/threatstack/threatstacktest"
)

// An empty id (an unset shell variable in quotes) is a usage error caught
// before any request, not a call to /v2/alerts//events.
func TestEmptyIDsAreUsageErrors(t *testing.T) {
	srv := smallFake(t)
	h := newHarness(t, srv)
	for _, args := range [][]string{
		{"alerts", "events", ""},
		{"alerts", "get", ""},
		{"agents", "get", " "},
		{"rulesets", "rules", ""},
		{"rulesets", "get", ""},
		{"alerts", "dismiss", threatstacktest.AlertID(0), ""},
	} {
		err := h.run(args...)
		if code := cmdutil.ExitCode(err); code != cmdutil.ExitUsage || !strings.Contains(err.Error(), "empty") {
			t.Errorf("%q: exit %d (%v), want %d", args, code, err, cmdutil.ExitUsage)
		}
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

func TestCredentialsHawkCannotCarry(t *testing.T) {
	srv := smallFake(t)
	h := newHarness(t, srv)
	t.Setenv("TS_USER_ID", `"`+threatstacktest.UserID+`"`)
	err := h.run("agents", "list")
	if code := cmdutil.ExitCode(err); code != cmdutil.ExitAuth {
		t.Fatalf("exit %d (%v), want %d", code, err, cmdutil.ExitAuth)
	}
	msg := err.Error()
	for _, want := range []string{"TS_USER_ID", "threatstack.user_id", "double quote"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q: %s", want, msg)
		}
	}
	if strings.Contains(msg, threatstacktest.APIKey) || strings.Contains(msg, threatstacktest.UserID) {
		t.Errorf("message repeats a credential: %s", msg)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

func TestGetOfAnEmptyRecordFails(t *testing.T) {
	srv := smallFake(t)
	h := newHarness(t, srv)
	id := threatstacktest.AgentID(0)
	srv.Inject(threatstacktest.Fault{Method: "GET", Path: "/v2/agents/" + id, Status: 200, Body: `{}`})
	err := h.run("agents", "get", id)
	// The API sent an answer tw-cli cannot read: exit 5, as README says.
	if code := cmdutil.ExitCode(err); code != cmdutil.ExitRemote || !strings.Contains(err.Error(), "not an agent") {
		t.Errorf("exit %d (%v), want %d and a clear error", code, err, cmdutil.ExitRemote)
	}
	if h.stdout.Len() != 0 {
		t.Errorf("printed %q", h.stdout)
	}
}

func TestAPIQueryWithoutParameters(t *testing.T) {
	srv := smallFake(t)
	h := newHarness(t, srv)
	h.must("api", "/v2/rulesets?&")
	if r := srv.Requests()[0]; r.RawQuery != "" || r.Status != 200 {
		t.Errorf("sent query %q, status %d", r.RawQuery, r.Status)
	}
}
