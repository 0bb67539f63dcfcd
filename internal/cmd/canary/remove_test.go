package canary

import (
	"errors"
	"strings"
	"testing"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/pkg/canary/canarytest"
)

// TestRemoveConfirmsEveryKind: every kind of 'canary webhooks remove'
// behaves like 'webhook remove'. Piped without --yes it refuses with a
// usage error before calling the console; --yes removes without asking; on
// a terminal it asks, and only y removes.
func TestRemoveConfirmsEveryKind(t *testing.T) {
	kinds := []struct {
		name   string
		args   []string
		prompt string
		// present reports whether the webhook is still on the console.
		present func(canarytest.FlockState) bool
	}{
		{"generic", []string{"generic", hookURL},
			"? Remove the generic webhook https://hooks.example.com/… from flock flock:default? [y/N] ",
			func(s canarytest.FlockState) bool {
				for _, g := range s.Generic {
					if g.URL == hookURL {
						return true
					}
				}
				return false
			}},
		{"ms-teams", []string{"ms-teams", teamsURL},
			"? Remove the MS Teams webhook https://contoso.webhook.office.com/…/456 from flock flock:default? [y/N] ",
			func(s canarytest.FlockState) bool { return len(s.MSTeams) == 1 }},
		{"slack", []string{"slack", "--team", "acme", "--channel", "#alerts"},
			"? Remove the Slack webhook for acme #alerts from flock flock:default? [y/N] ",
			func(s canarytest.FlockState) bool { return len(s.Slack) == 1 }},
		{"splunk", []string{"splunk"},
			"? Remove the Splunk webhook splunk.example.com:8088 from flock flock:default? [y/N] ",
			func(s canarytest.FlockState) bool { return s.Splunk != nil }},
	}
	cases := []struct {
		name        string
		tty         bool
		stdin       string
		flags       []string
		wantCode    int
		wantErr     string
		wantPrompt  bool
		wantRemoved bool
	}{
		{name: "piped without --yes refuses", wantCode: cmdutil.ExitUsage, wantErr: "--yes is required when not running interactively"},
		{name: "piped with --yes removes", flags: []string{"--yes"}, wantRemoved: true},
		{name: "piped with -y removes", flags: []string{"-y"}, wantRemoved: true},
		{name: "terminal, answer n keeps it", tty: true, stdin: "n\n", wantCode: cmdutil.ExitFailure, wantErr: "cancelled", wantPrompt: true},
		{name: "terminal, no answer keeps it", tty: true, stdin: "", wantCode: cmdutil.ExitFailure, wantErr: "cancelled", wantPrompt: true},
		{name: "terminal, answer y removes", tty: true, stdin: "y\n", wantPrompt: true, wantRemoved: true},
		{name: "terminal with --yes does not ask", tty: true, flags: []string{"--yes"}, wantRemoved: true},
	}
	for _, k := range kinds {
		for _, tc := range cases {
			t.Run(k.name+"/"+tc.name, func(t *testing.T) {
				isolate(t)
				console := canarytest.NewServer(t, testToken)
				seedConsole(console)
				useConsole(t, console)
				env := newTestEnv(t, tc.tty)
				env.stdin.WriteString(tc.stdin)

				args := append([]string{"canary", "webhooks", "remove"}, k.args...)
				code, err := env.run(t, append(args, tc.flags...)...)
				if code != tc.wantCode {
					t.Fatalf("exit %d (%v), want %d", code, err, tc.wantCode)
				}
				if tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr) {
					t.Errorf("error %v, want %q", err, tc.wantErr)
				}
				if tc.wantErr == "cancelled" && !errors.Is(err, cmdutil.ErrCancel) {
					t.Errorf("error %v is not ErrCancel", err)
				}
				if asked := strings.Contains(env.stderr.String(), k.prompt); asked != tc.wantPrompt {
					t.Errorf("asked %v, want %v; stderr:\n%q", asked, tc.wantPrompt, env.stderr)
				}
				s, _ := console.Flock(canarytest.DefaultFlock)
				if removed := !k.present(s); removed != tc.wantRemoved {
					t.Errorf("removed %v, want %v", removed, tc.wantRemoved)
				}
				for _, r := range console.Requests() {
					if strings.HasSuffix(r.Endpoint, "/remove") && !tc.wantRemoved {
						t.Errorf("called %s %s although nothing was to be removed", r.Method, r.Endpoint)
					}
				}
				if tc.wantCode == cmdutil.ExitUsage && len(console.Requests()) != 0 {
					t.Errorf("a refused remove made %d console requests", len(console.Requests()))
				}
			})
		}
	}
}
