package canary

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	canaryapi "github.com/tw-cli/tw-cli/pkg/canary"
	"github.com/tw-cli/tw-cli/pkg/canary/canarytest"
)

// runVerb runs one verb on its own (no canary group), so runF sees exactly
// what flag parsing produced.
func runVerb(t *testing.T, cmd *cobra.Command, args ...string) (int, error) {
	t.Helper()
	root := testRoot(cmd)
	root.SetArgs(append([]string{cmd.Name()}, args...))
	err := root.Execute()
	return cmdutil.ExitCode(err), err
}

func TestAddGenericFlags(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		wantCode int
		want     []canaryapi.Header
	}{
		{name: "no headers", args: []string{hookURL}, want: nil},
		{name: "headers keep order and trim", args: []string{hookURL, "--header", "X-B:  two ", "-H", "X-A: one: with colon"},
			want: []canaryapi.Header{{Name: "X-B", Value: "two"}, {Name: "X-A", Value: "one: with colon"}}},
		{name: "header from env", args: []string{hookURL, "--header-env", "Authorization=HOOK_AUTH"}, env: map[string]string{"HOOK_AUTH": "Bearer x"},
			want: []canaryapi.Header{{Name: "Authorization", Value: "Bearer x"}}},
		{name: "empty env", args: []string{hookURL, "--header-env", "Authorization=HOOK_AUTH"}, env: map[string]string{"HOOK_AUTH": ""}, wantCode: 2},
		{name: "header-env without =", args: []string{hookURL, "--header-env", "Authorization"}, wantCode: 2},
		{name: "no colon", args: []string{hookURL, "--header", "X-A one"}, wantCode: 2},
		{name: "bad name", args: []string{hookURL, "--header", "X A: one"}, wantCode: 2},
		{name: "duplicate", args: []string{hookURL, "--header", "X-A: 1", "--header", "x-a: 2"}, wantCode: 2},
		{name: "control character", args: []string{hookURL, "--header", "X-A: a\x01b"}, wantCode: 2},
		{name: "relative url", args: []string{"/hook"}, wantCode: 2},
		{name: "no url", args: nil, wantCode: 2},
		{name: "two urls", args: []string{hookURL, hookURL}, wantCode: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			env := newTestEnv(t, false)
			var got *AddGenericOptions
			cmd := NewCmdAddGeneric(env.f, func(o *AddGenericOptions) error { got = o; return nil })
			code, err := runVerb(t, cmd, tt.args...)
			if code != tt.wantCode {
				t.Fatalf("exit %d (%v), want %d", code, err, tt.wantCode)
			}
			if tt.wantCode != 0 {
				if got != nil {
					t.Error("runF called despite a usage error")
				}
				return
			}
			if got == nil || got.URL != hookURL || !reflect.DeepEqual(got.Headers, tt.want) {
				t.Errorf("opts = %+v", got)
			}
		})
	}
}

func TestAddSplunkFlags(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		env       map[string]string
		wantCode  int
		wantHost  string
		wantPort  int
		wantToken string
	}{
		{name: "token env", args: []string{"--host", "splunk.example.com", "--port", "8089", "--token-env", "HEC"}, env: map[string]string{"HEC": "t-1"},
			wantHost: "splunk.example.com", wantPort: 8089, wantToken: "t-1"},
		{name: "token flag and default port", args: []string{"--host", "10.0.0.5", "--token", "t-2"}, wantHost: "10.0.0.5", wantPort: 8088, wantToken: "t-2"},
		{name: "both tokens", args: []string{"--host", "h", "--token", "a", "--token-env", "HEC"}, env: map[string]string{"HEC": "b"}, wantCode: 2},
		{name: "no token", args: []string{"--host", "h"}, wantCode: 2},
		{name: "empty token env", args: []string{"--host", "h", "--token-env", "HEC"}, env: map[string]string{"HEC": ""}, wantCode: 2},
		{name: "no host", args: []string{"--token", "t"}, wantCode: 2},
		{name: "host with scheme", args: []string{"--host", "https://h", "--token", "t"}, wantCode: 2},
		{name: "port zero", args: []string{"--host", "h", "--port", "0", "--token", "t"}, wantCode: 2},
		{name: "port text", args: []string{"--host", "h", "--port", "hec", "--token", "t"}, wantCode: 2},
		{name: "port too big", args: []string{"--host", "h", "--port", "65536", "--token", "t"}, wantCode: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			env := newTestEnv(t, false)
			var got *AddSplunkOptions
			code, err := runVerb(t, NewCmdAddSplunk(env.f, func(o *AddSplunkOptions) error { got = o; return nil }), tt.args...)
			if code != tt.wantCode {
				t.Fatalf("exit %d (%v), want %d", code, err, tt.wantCode)
			}
			if tt.wantCode != 0 {
				return
			}
			if got.Host != tt.wantHost || got.Port != tt.wantPort || got.Token != tt.wantToken {
				t.Errorf("opts = host %q port %d token %q", got.Host, got.Port, got.Token)
			}
		})
	}
}

func TestAddMSTeamsFlags(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		wantCode  int
		wantWarn  bool
		wantForce bool
	}{
		{name: "teams url", args: []string{teamsURL}},
		{name: "workflow url", args: []string{"https://prod-01.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?sig=x"}},
		{name: "not teams", args: []string{hookURL}, wantCode: 2},
		{name: "not teams forced", args: []string{hookURL, "--force"}, wantWarn: true, wantForce: true},
		{name: "not http even forced", args: []string{"ftp://x.webhook.office.com/", "--force"}, wantCode: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t, false)
			var got *AddMSTeamsOptions
			code, err := runVerb(t, NewCmdAddMSTeams(env.f, func(o *AddMSTeamsOptions) error { got = o; return nil }), tt.args...)
			if code != tt.wantCode {
				t.Fatalf("exit %d (%v), want %d", code, err, tt.wantCode)
			}
			if warned := env.stderr.Len() > 0; warned != tt.wantWarn {
				t.Errorf("stderr %q", env.stderr)
			}
			if tt.wantCode == 0 && (got.URL != tt.args[0] || got.Force != tt.wantForce) {
				t.Errorf("opts = %+v", got)
			}
		})
	}
}

func TestListFlags(t *testing.T) {
	for _, tt := range []struct {
		args     []string
		wantCode int
		wantKind canaryapi.Kind
		wantOut  string
	}{
		{args: nil, wantOut: "table"},
		{args: []string{"--kind", "ms_teams", "-o", "json"}, wantKind: canaryapi.KindMSTeams, wantOut: "json"},
		{args: []string{"--kind", "Splunk", "--output", "yaml"}, wantKind: canaryapi.KindSplunk, wantOut: "yaml"},
		{args: []string{"--kind", "email"}, wantCode: 2},
		{args: []string{"-o", "csv"}, wantCode: 2},
		{args: []string{"extra"}, wantCode: 2},
	} {
		env := newTestEnv(t, false)
		var got *ListOptions
		code, err := runVerb(t, NewCmdList(env.f, func(o *ListOptions) error { got = o; return nil }), tt.args...)
		if code != tt.wantCode {
			t.Errorf("%v: exit %d (%v), want %d", tt.args, code, err, tt.wantCode)
			continue
		}
		if code == 0 && (got.Kind != tt.wantKind || got.Output != tt.wantOut) {
			t.Errorf("%v: kind %q output %q", tt.args, got.Kind, got.Output)
		}
	}
}

func TestRemoveFlags(t *testing.T) {
	t.Run("slack needs team and channel", func(t *testing.T) {
		for _, args := range [][]string{{"--team", "acme", "--yes"}, {"--channel", "#c", "--yes"}, {"--yes"}, {"--team", " ", "--channel", "#c", "--yes"}} {
			env := newTestEnv(t, false)
			if code, _ := runVerb(t, NewCmdRemoveSlack(env.f, func(*RemoveSlackOptions) error { return nil }), args...); code != 2 {
				t.Errorf("%v: exit %d, want 2", args, code)
			}
		}
		env := newTestEnv(t, false)
		var got *RemoveSlackOptions
		if code, err := runVerb(t, NewCmdRemoveSlack(env.f, func(o *RemoveSlackOptions) error { got = o; return nil }), "--team", "acme", "--channel", "#c", "--yes"); code != 0 {
			t.Fatal(err)
		}
		if got.Team != "acme" || got.Channel != "#c" || !got.Yes {
			t.Errorf("opts = %+v", got)
		}
	})
	// Every kind, not only splunk, needs --yes where it cannot ask.
	t.Run("every kind asks only on a terminal", func(t *testing.T) {
		kinds := []struct {
			name string
			verb func(*cmdutil.Factory) *cobra.Command
			args []string
		}{
			{"generic", func(f *cmdutil.Factory) *cobra.Command {
				return NewCmdRemoveURL(f, canaryapi.KindGeneric, func(*RemoveURLOptions) error { return nil })
			}, []string{hookURL}},
			{"ms-teams", func(f *cmdutil.Factory) *cobra.Command {
				return NewCmdRemoveURL(f, canaryapi.KindMSTeams, func(*RemoveURLOptions) error { return nil })
			}, []string{teamsURL}},
			{"slack", func(f *cmdutil.Factory) *cobra.Command {
				return NewCmdRemoveSlack(f, func(*RemoveSlackOptions) error { return nil })
			}, []string{"--team", "acme", "--channel", "#c"}},
			{"splunk", func(f *cmdutil.Factory) *cobra.Command {
				return NewCmdRemoveSplunk(f, func(*RemoveSplunkOptions) error { return nil })
			}, nil},
		}
		for _, k := range kinds {
			for _, tt := range []struct {
				tty      bool
				args     []string
				wantCode int
			}{
				{tty: false, args: nil, wantCode: 2},
				{tty: false, args: []string{"--yes"}},
				{tty: false, args: []string{"-y"}},
				{tty: true, args: nil},
			} {
				env := newTestEnv(t, tt.tty)
				code, err := runVerb(t, k.verb(env.f), append(append([]string{}, k.args...), tt.args...)...)
				if code != tt.wantCode {
					t.Errorf("%s tty %v %v: exit %d (%v), want %d", k.name, tt.tty, tt.args, code, err, tt.wantCode)
				}
				if code == 2 && err.Error() != "--yes is required when not running interactively" {
					t.Errorf("%s: error %q", k.name, err)
				}
			}
		}
	})
	t.Run("url kinds", func(t *testing.T) {
		for _, kind := range []canaryapi.Kind{canaryapi.KindGeneric, canaryapi.KindMSTeams} {
			env := newTestEnv(t, false)
			var got *RemoveURLOptions
			if code, err := runVerb(t, NewCmdRemoveURL(env.f, kind, func(o *RemoveURLOptions) error { got = o; return nil }), hookURL, "--yes"); code != 0 {
				t.Fatal(err)
			}
			if got.Kind != kind || got.URL != hookURL || !got.Yes {
				t.Errorf("opts = %+v", got)
			}
		}
	})
}

func TestTestFlags(t *testing.T) {
	for _, tt := range []struct {
		kind     canaryapi.Kind
		args     []string
		wantCode int
	}{
		{kind: canaryapi.KindGeneric, args: []string{hookURL, "-o", "json"}},
		{kind: canaryapi.KindSlack, args: []string{slackURL}},
		{kind: canaryapi.KindMSTeams, args: nil, wantCode: 2},
		{kind: canaryapi.KindSplunk, args: nil},
		{kind: canaryapi.KindSplunk, args: []string{hookURL}, wantCode: 2},
	} {
		env := newTestEnv(t, false)
		var got *TestOptions
		code, err := runVerb(t, NewCmdTestKind(env.f, tt.kind, func(o *TestOptions) error { got = o; return nil }), tt.args...)
		if code != tt.wantCode {
			t.Errorf("%s %v: exit %d (%v), want %d", tt.kind, tt.args, code, err, tt.wantCode)
			continue
		}
		if code == 0 && (got.Kind != tt.kind || (len(tt.args) > 0 && got.URL != tt.args[0])) {
			t.Errorf("%s: opts = %+v", tt.kind, got)
		}
	}
}

// TestConsoleSettings checks where the console, token and flock come from,
// and in which order.
func TestConsoleSettings(t *testing.T) {
	tests := []struct {
		name      string
		flags     Console
		env       map[string]string
		file      string // tw-cli's config.yaml
		legacy    string // ~/.canarytools.config
		wantURL   string
		wantToken string
		wantFlock string
		wantCode  int
	}{
		{name: "env domain and token", env: map[string]string{"CANARY_DOMAIN": "abc123", "CANARY_AUTH_TOKEN": "t1"},
			wantURL: "https://abc123.canary.tools/api/v1/", wantToken: "t1", wantFlock: "flock:default"},
		{name: "python client env names", env: map[string]string{"CANARY_API_DOMAIN": "py", "CANARY_API_TOKEN": "t2"},
			wantURL: "https://py.canary.tools/api/v1/", wantToken: "t2", wantFlock: "flock:default"},
		{name: "api url beats domain", env: map[string]string{"CANARY_DOMAIN": "abc", "CANARY_API_URL": "http://127.0.0.1:9/api/v1", "CANARY_AUTH_TOKEN": "t"},
			wantURL: "http://127.0.0.1:9/api/v1/", wantToken: "t", wantFlock: "flock:default"},
		{name: "flag domain beats env url", flags: Console{Domain: "flagged"}, env: map[string]string{"CANARY_API_URL": "http://x/api/v1", "CANARY_AUTH_TOKEN": "t"},
			wantURL: "https://flagged.canary.tools/api/v1/", wantToken: "t", wantFlock: "flock:default"},
		{name: "flag flock beats env", flags: Console{Flock: "flock:f1"}, env: map[string]string{"CANARY_DOMAIN": "a", "CANARY_AUTH_TOKEN": "t", "CANARY_FLOCK": "flock:env"},
			wantURL: "https://a.canary.tools/api/v1/", wantToken: "t", wantFlock: "flock:f1"},
		{name: "env flock", env: map[string]string{"CANARY_DOMAIN": "a", "CANARY_AUTH_TOKEN": "t", "CANARY_FLOCK": "flock:env"},
			wantURL: "https://a.canary.tools/api/v1/", wantToken: "t", wantFlock: "flock:env"},
		{name: "config file", file: "canary:\n  domain: fromfile\n  auth_token: file-token\n  flock: flock:file\n",
			wantURL: "https://fromfile.canary.tools/api/v1/", wantToken: "file-token", wantFlock: "flock:file"},
		{name: "env beats config file", env: map[string]string{"CANARY_AUTH_TOKEN": "env-token"}, file: "canary:\n  domain: fromfile\n  auth_token: file-token\n",
			wantURL: "https://fromfile.canary.tools/api/v1/", wantToken: "env-token", wantFlock: "flock:default"},
		{name: "canarytools.config", legacy: "# python client\n[CanaryTools]\napi_key = legacy-key\ndomain: legacydomain\n[Other]\napi_key = nope\n",
			wantURL: "https://legacydomain.canary.tools/api/v1/", wantToken: "legacy-key", wantFlock: "flock:default"},
		{name: "tw-cli settings beat canarytools.config", env: map[string]string{"CANARY_DOMAIN": "mine"}, legacy: "[CanaryTools]\napi_key = legacy-key\ndomain = legacydomain\n",
			wantURL: "https://mine.canary.tools/api/v1/", wantToken: "legacy-key", wantFlock: "flock:default"},
		{name: "nothing", wantCode: 3}, // like a missing token
		{name: "bad domain", env: map[string]string{"CANARY_DOMAIN": "a/b", "CANARY_AUTH_TOKEN": "t"}, wantCode: 2},
		{name: "both flags", flags: Console{Domain: "a", APIURL: "http://b"}, env: map[string]string{"CANARY_AUTH_TOKEN": "t"}, wantCode: 2},
		{name: "no token", env: map[string]string{"CANARY_DOMAIN": "a"}, wantCode: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			if tt.file != "" {
				if err := os.WriteFile(filepath.Join(os.Getenv("TW_CONFIG_DIR"), "config.yaml"), []byte(tt.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if tt.legacy != "" {
				if err := os.WriteFile(filepath.Join(os.Getenv("HOME"), ".canarytools.config"), []byte(tt.legacy), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			env := newTestEnv(t, false)
			c := NewConsole(env.f)
			c.Domain, c.APIURL, c.Flock = tt.flags.Domain, tt.flags.APIURL, tt.flags.Flock

			apiURL, err := c.apiURL()
			if err == nil {
				var tok string
				tok, err = c.token()
				if err == nil {
					if tok != tt.wantToken {
						t.Errorf("token %q, want %q", tok, tt.wantToken)
					}
				}
			}
			if code := cmdutil.ExitCode(err); code != tt.wantCode {
				t.Fatalf("exit %d (%v), want %d", code, err, tt.wantCode)
			}
			if tt.wantCode != 0 {
				return
			}
			if apiURL != tt.wantURL {
				t.Errorf("api url %q, want %q", apiURL, tt.wantURL)
			}
			if flock, _ := c.FlockID(); flock != tt.wantFlock {
				t.Errorf("flock %q, want %q", flock, tt.wantFlock)
			}
		})
	}
}

func TestGroupFlagsReachVerbs(t *testing.T) {
	isolate(t)
	env := newTestEnv(t, false)
	root := testRoot(NewCmdCanary(env.f))
	// The group's persistent flags, given before the verb, must be what the
	// verb reads.
	root.SetArgs([]string{"canary", "--domain", "abc", "--flock", "flock:f9", "webhooks", "status", "--help"})
	root.SetOut(io.Discard)
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	status, _, err := root.Find([]string{"canary", "webhooks", "status"})
	if err != nil {
		t.Fatal(err)
	}
	c := &Console{}
	c.ReadFlags(status)
	if c.Domain != "abc" || c.Flock != "flock:f9" || c.APIURL != "" {
		t.Errorf("verb read %+v", c)
	}
}

// --timeout bounds a request: a disable (never retried) against a console
// that holds its answer fails with a timeout; a bad value is a usage
// error before any request.
func TestTimeoutFlag(t *testing.T) {
	isolate(t)
	console := canarytest.NewServer(t, testToken)
	useConsole(t, console)
	console.SetDelay("flock/settings/webhooks/disable", 5*time.Second)
	env := newTestEnv(t, false)
	code, err := env.run(t, "canary", "webhooks", "disable", "--timeout", "200ms")
	if code == 0 || !strings.Contains(strings.ToLower(fmt.Sprint(err)), "timeout") {
		t.Fatalf("disable against a stalled console with --timeout 200ms: exit %d, %v", code, err)
	}
	for _, bad := range []string{"0s", "11m"} {
		if code, err := env.run(t, "canary", "webhooks", "status", "--timeout", bad); code != cmdutil.ExitUsage {
			t.Errorf("--timeout %s: exit %d (%v), want %d", bad, code, err, cmdutil.ExitUsage)
		}
	}
}
