package canary

import (
	"strings"
	"testing"

	"github.com/tw-cli/tw-cli/pkg/canary/canarytest"
)

const (
	hookURL  = "https://hooks.example.com/canary"
	teamsURL = "https://contoso.webhook.office.com/webhookb2/abc@def/IncomingWebhook/123/456"
	slackURL = "https://hooks.slack.com/services/T000/B000/XXXX"
)

// seedConsole gives the fake one webhook of every kind on the default flock.
func seedConsole(c *canarytest.Console) {
	c.AddGeneric(canarytest.DefaultFlock, hookURL, canarytest.Header{Name: "Authorization", Value: "Bearer hook-secret"}, canarytest.Header{Name: "X-Source", Value: "canary"})
	c.AddGeneric(canarytest.DefaultFlock, "http://10.0.0.7:8080/in")
	c.AddMSTeams(canarytest.DefaultFlock, teamsURL)
	c.AddSlack(canarytest.DefaultFlock, canarytest.SlackWebhook{Team: "acme", Channel: "#alerts", URL: slackURL, ConfigurationURL: "https://acme.slack.com/services/B000"})
	c.SetSplunk(canarytest.DefaultFlock, canarytest.SplunkWebhook{Host: "splunk.example.com", Port: "8088", Token: "hec-secret-token"})
	c.AddFlock("flock:2b9f0c", "Branch offices")
}

// TestCommands runs every command against the fake console and compares
// exit code, stdout and stderr with golden files, on a terminal (table) and
// piped (TSV), and with -o json/yaml.
func TestCommands(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		tty   bool
		stdin string
		setup func(*canarytest.Console)
		check func(*testing.T, *canarytest.Console)
	}{
		{name: "status_tty", args: []string{"webhooks", "status"}, tty: true},
		{name: "status_tsv", args: []string{"webhooks", "status"}},
		{name: "status_json", args: []string{"webhooks", "status", "-o", "json"}},
		{name: "status_yaml", args: []string{"webhooks", "status", "-o", "yaml"}},

		// Seed 002 does not say what enable/disable do to is_global.
		{name: "enable", args: []string{"webhooks", "enable"}, setup: func(c *canarytest.Console) {
			c.SetState(canarytest.DefaultFlock, false, false)
		}, check: func(t *testing.T, c *canarytest.Console) {
			if s, _ := c.Flock(canarytest.DefaultFlock); !s.Enabled {
				t.Errorf("state after enable: %+v", s)
			}
		}},
		{name: "disable", args: []string{"webhooks", "disable"}, check: func(t *testing.T, c *canarytest.Console) {
			if s, _ := c.Flock(canarytest.DefaultFlock); s.Enabled {
				t.Errorf("state after disable: %+v", s)
			}
		}},
		{name: "status_other_flock", args: []string{"webhooks", "status", "--flock", "flock:2b9f0c"}, tty: true, setup: func(c *canarytest.Console) {
			c.AddFlock("flock:2b9f0c", "Branch offices")
		}},
		{name: "use_global", args: []string{"webhooks", "use-global"}},

		{name: "list_tty", args: []string{"webhooks", "list"}, tty: true, setup: seedConsole},
		{name: "list_tsv", args: []string{"webhooks", "list"}, setup: seedConsole},
		{name: "list_json", args: []string{"webhooks", "list", "-o", "json"}, setup: seedConsole},
		{name: "list_yaml", args: []string{"webhooks", "list", "-o", "yaml"}, setup: seedConsole},
		{name: "list_kind_slack", args: []string{"webhooks", "list", "--kind", "slack"}, setup: seedConsole},
		{name: "list_kind_slack_reveal", args: []string{"webhooks", "list", "--kind", "slack", "--reveal"}, setup: seedConsole},
		{name: "list_empty", args: []string{"webhooks", "list"}, tty: true},
		{name: "list_empty_json", args: []string{"webhooks", "list", "--kind", "ms-teams", "-o", "json"}},
		{name: "list_disabled", args: []string{"webhooks", "list", "--kind", "generic"}, setup: func(c *canarytest.Console) {
			seedConsole(c)
			c.Inject("flock/settings/webhooks/generic/list", 200, `{"generic_webhooks": [], "result": "success", "webhooks_enabled": false}`)
		}},
		// No webhooks_enabled in the answer: no claim that they are off.
		{name: "list_enabled_absent", args: []string{"webhooks", "list", "--kind", "generic"}, setup: func(c *canarytest.Console) {
			c.Inject("flock/settings/webhooks/generic/list", 200, `{"generic_webhooks": [], "result": "success"}`)
		}},

		{name: "add_generic", args: []string{"webhooks", "add", "generic", hookURL, "--header", "Authorization: Bearer s3cret", "-H", "X-Env: prod"},
			check: func(t *testing.T, c *canarytest.Console) {
				s, _ := c.Flock(canarytest.DefaultFlock)
				if len(s.Generic) != 1 || s.Generic[0].URL != hookURL || len(s.Generic[0].Headers) != 2 ||
					s.Generic[0].Headers[0] != (canarytest.Header{Name: "Authorization", Value: "Bearer s3cret"}) {
					t.Errorf("stored: %+v", s.Generic)
				}
			}},
		{name: "add_generic_duplicate", args: []string{"webhooks", "add", "generic", hookURL}, setup: seedConsole},
		{name: "add_generic_bad_url", args: []string{"webhooks", "add", "generic", "hooks.example.com/x"}},
		{name: "add_generic_bad_header", args: []string{"webhooks", "add", "generic", hookURL, "--header", "Bad Name: v"}},
		{name: "add_ms_teams", args: []string{"webhooks", "add", "ms-teams", teamsURL}, check: func(t *testing.T, c *canarytest.Console) {
			if s, _ := c.Flock(canarytest.DefaultFlock); len(s.MSTeams) != 1 {
				t.Errorf("stored: %+v", s.MSTeams)
			}
		}},
		{name: "add_ms_teams_not_teams", args: []string{"webhooks", "add", "ms-teams", hookURL}},
		{name: "add_ms_teams_force", args: []string{"webhooks", "add", "ms-teams", hookURL, "--force"}, check: func(t *testing.T, c *canarytest.Console) {
			if s, _ := c.Flock(canarytest.DefaultFlock); len(s.MSTeams) != 1 || s.MSTeams[0] != hookURL {
				t.Errorf("stored: %+v", s.MSTeams)
			}
		}},
		{name: "add_splunk", args: []string{"webhooks", "add", "splunk", "--host", "splunk.example.com", "--port", "8089", "--token", "hec-123"},
			check: func(t *testing.T, c *canarytest.Console) {
				if s, _ := c.Flock(canarytest.DefaultFlock); s.Splunk == nil || *s.Splunk != (canarytest.SplunkWebhook{Host: "splunk.example.com", Port: "8089", Token: "hec-123"}) {
					t.Errorf("stored: %+v", s.Splunk)
				}
			}},
		{name: "add_splunk_bad_port", args: []string{"webhooks", "add", "splunk", "--host", "h", "--port", "70000", "--token", "x"}},
		{name: "add_splunk_no_token", args: []string{"webhooks", "add", "splunk", "--host", "h"}},
		{name: "add_slack", args: []string{"webhooks", "add", "slack"}},

		{name: "remove_generic", args: []string{"webhooks", "remove", "generic", hookURL, "--yes"}, setup: seedConsole,
			check: func(t *testing.T, c *canarytest.Console) {
				if s, _ := c.Flock(canarytest.DefaultFlock); len(s.Generic) != 1 {
					t.Errorf("left: %+v", s.Generic)
				}
			}},
		{name: "remove_generic_missing", args: []string{"webhooks", "remove", "generic", "https://nope.example.com", "--yes"}},
		{name: "remove_ms_teams", args: []string{"webhooks", "remove", "ms-teams", teamsURL, "--yes"}, setup: seedConsole,
			check: func(t *testing.T, c *canarytest.Console) {
				if s, _ := c.Flock(canarytest.DefaultFlock); len(s.MSTeams) != 0 {
					t.Errorf("left: %+v", s.MSTeams)
				}
			}},
		{name: "remove_slack", args: []string{"webhooks", "remove", "slack", "--team", "acme", "--channel", "#alerts", "--yes"}, setup: seedConsole,
			check: func(t *testing.T, c *canarytest.Console) {
				if s, _ := c.Flock(canarytest.DefaultFlock); len(s.Slack) != 0 {
					t.Errorf("left: %+v", s.Slack)
				}
			}},
		{name: "remove_splunk_yes", args: []string{"webhooks", "remove", "splunk", "--yes"}, setup: seedConsole,
			check: func(t *testing.T, c *canarytest.Console) {
				if s, _ := c.Flock(canarytest.DefaultFlock); s.Splunk != nil {
					t.Errorf("left: %+v", s.Splunk)
				}
			}},
		{name: "remove_splunk_prompt_yes", args: []string{"webhooks", "remove", "splunk"}, tty: true, stdin: "y\n", setup: seedConsole,
			check: func(t *testing.T, c *canarytest.Console) {
				if s, _ := c.Flock(canarytest.DefaultFlock); s.Splunk != nil {
					t.Errorf("left: %+v", s.Splunk)
				}
			}},
		{name: "remove_splunk_prompt_no", args: []string{"webhooks", "remove", "splunk"}, tty: true, stdin: "n\n", setup: seedConsole,
			check: func(t *testing.T, c *canarytest.Console) {
				if s, _ := c.Flock(canarytest.DefaultFlock); s.Splunk == nil {
					t.Error("removed after answering no")
				}
			}},
		{name: "remove_splunk_piped", args: []string{"webhooks", "remove", "splunk"}, setup: seedConsole},
		{name: "remove_splunk_none", args: []string{"webhooks", "remove", "splunk", "--yes"}},

		{name: "test_generic_tty", args: []string{"webhooks", "test", "generic", hookURL}, tty: true, setup: seedConsole},
		{name: "test_generic_tsv", args: []string{"webhooks", "test", "generic", hookURL}, setup: seedConsole},
		{name: "test_generic_json", args: []string{"webhooks", "test", "generic", hookURL, "-o", "json"}, setup: seedConsole},
		{name: "test_ms_teams_json", args: []string{"webhooks", "test", "ms-teams", teamsURL, "-o", "json"}, setup: seedConsole},
		{name: "test_slack", args: []string{"webhooks", "test", "slack", slackURL}, setup: seedConsole},
		{name: "test_slack_reveal", args: []string{"webhooks", "test", "slack", slackURL, "--reveal"}, setup: seedConsole},
		{name: "test_slack_json_reveal", args: []string{"webhooks", "test", "slack", slackURL, "--reveal", "-o", "json"}, setup: seedConsole},
		// A proxy's HTML page is no JSON to pass on: -o json still prints one.
		{name: "test_generic_html_json", args: []string{"webhooks", "test", "generic", hookURL, "-o", "json"}, setup: func(c *canarytest.Console) {
			seedConsole(c)
			c.Inject("flock/settings/webhooks/generic/test", 502, `<html><body>Bad Gateway</body></html>`, "Content-Type", "text/html")
		}},
		{name: "test_splunk_json", args: []string{"webhooks", "test", "splunk", "-o", "json"}, setup: seedConsole},
		{name: "test_generic_failed_json", args: []string{"webhooks", "test", "generic", "https://unknown.example.com", "-o", "json"}},
		{name: "test_generic_failed", args: []string{"webhooks", "test", "generic", hookURL}, setup: func(c *canarytest.Console) {
			seedConsole(c)
			c.Inject("flock/settings/webhooks/generic/test", 200, `{"message": "Webhook returned HTTP 500", "result": "error"}`)
		}},
		{name: "test_splunk_none", args: []string{"webhooks", "test", "splunk"}},
		// The API's own spelling of the kind works as a command name too.
		{name: "test_ms_teams_api_name", args: []string{"webhooks", "test", "ms_teams", teamsURL}, setup: seedConsole},
		// "OK" was the message: the 200 status's text.
		{name: "enable_error_without_message", args: []string{"webhooks", "enable"}, setup: func(c *canarytest.Console) {
			c.Inject("flock/settings/webhooks/enable", 200, `{"result": "error"}`)
		}},

		{name: "flocks_tty", args: []string{"flocks", "list"}, tty: true, setup: seedConsole},
		{name: "flocks_tsv", args: []string{"flocks", "list"}, setup: seedConsole},
		{name: "flocks_json", args: []string{"flocks", "list", "-o", "json"}, setup: seedConsole},

		{name: "unknown_flock", args: []string{"webhooks", "status", "--flock", "flock:nope"}},
		{name: "bad_output", args: []string{"webhooks", "list", "-o", "xml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t)
			console := canarytest.NewServer(t, testToken)
			if tt.setup != nil {
				tt.setup(console)
			}
			useConsole(t, console)
			env := newTestEnv(t, tt.tty)
			env.stdin.WriteString(tt.stdin)
			code, err := env.run(t, append([]string{"canary"}, tt.args...)...)
			got := transcript(code, err, env.stdout.String(), env.stderr.String())
			// The fake's port changes every run.
			got = strings.ReplaceAll(got, strings.TrimSuffix(console.URL(), "api/v1/"), "http://console.test/")
			assertGolden(t, tt.name, got)
			for _, secret := range []string{testToken, "hook-secret", "hec-secret-token"} {
				if strings.Contains(got, secret) {
					t.Errorf("output shows a secret (%s):\n%s", secret, got)
				}
			}
			if tt.check != nil {
				tt.check(t, console)
			}
		})
	}
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		setup func(*canarytest.Console)
		env   map[string]string
		want  int
	}{
		{name: "ok", args: []string{"webhooks", "status"}, want: 0},
		{name: "wrong token", args: []string{"webhooks", "status"}, env: map[string]string{"CANARY_AUTH_TOKEN": "wrong"}, want: 3},
		{name: "wrong token on test", args: []string{"webhooks", "test", "splunk"}, env: map[string]string{"CANARY_AUTH_TOKEN": "wrong"}, want: 3},
		{name: "no token", args: []string{"webhooks", "status"}, env: map[string]string{"CANARY_AUTH_TOKEN": ""}, want: 3},
		{name: "no console", args: []string{"webhooks", "status"}, env: map[string]string{"CANARY_API_URL": ""}, want: 3}, // like missing credentials
		{name: "domain and api-url", args: []string{"webhooks", "status", "--domain", "x", "--api-url", "http://x"}, want: 2},
		{name: "test failure is remote", args: []string{"webhooks", "test", "splunk"}, want: 5},
		{name: "test passes", args: []string{"webhooks", "test", "splunk"}, setup: seedConsole, want: 0},
		{name: "console 404", args: []string{"webhooks", "status"}, setup: func(c *canarytest.Console) {
			c.Inject("flock/settings/webhooks/is_enabled", 404, `{"result": "error", "message": "Not Found"}`)
		}, want: 4},
		// For test, any refusal but the token's is the test failing.
		{name: "console 404 on test", args: []string{"webhooks", "test", "splunk"}, setup: func(c *canarytest.Console) {
			c.Inject("flock/settings/webhooks/splunk/test", 404, `{"result": "error", "message": "No such webhook"}`)
		}, want: 5},
		{name: "console 500 after retries", args: []string{"flocks", "list"}, setup: func(c *canarytest.Console) {
			for i := 0; i < 3; i++ {
				c.Inject("flocks/list", 500, `oops`)
			}
		}, want: 5},
		{name: "proxy 502 on a POST", args: []string{"webhooks", "enable"}, setup: func(c *canarytest.Console) {
			c.Inject("flock/settings/webhooks/enable", 502, `<html><body>Bad Gateway</body></html>`, "Content-Type", "text/html")
		}, want: 5},
		{name: "console 429 on a POST", args: []string{"webhooks", "enable"}, setup: func(c *canarytest.Console) {
			c.Inject("flock/settings/webhooks/enable", 429, `{"result": "error", "message": "slow down"}`)
		}, want: 5},
		{name: "200 that is not JSON", args: []string{"flocks", "list"}, setup: func(c *canarytest.Console) {
			c.Inject("flocks/list", 200, `<html>sign in</html>`, "Content-Type", "text/html")
		}, want: 5},
		{name: "200 without the state", args: []string{"webhooks", "status"}, setup: func(c *canarytest.Console) {
			c.Inject("flock/settings/webhooks/is_enabled", 200, `{"result": "success", "is_enabled": null}`)
		}, want: 5},
		{name: "200 with an unreadable state", args: []string{"webhooks", "status"}, setup: func(c *canarytest.Console) {
			c.Inject("flock/settings/webhooks/is_enabled", 200, `{"result": "success", "is_enabled": "maybe"}`)
		}, want: 5},
		{name: "200 with an unknown result", args: []string{"webhooks", "status"}, setup: func(c *canarytest.Console) {
			c.Inject("flock/settings/webhooks/is_enabled", 200, `{"result": "maybe"}`)
		}, want: 5},
		{name: "200 whose fields are not as documented", args: []string{"flocks", "list"}, setup: func(c *canarytest.Console) {
			c.Inject("flocks/list", 200, `{"result": "success", "flocks": 42}`)
		}, want: 5},
		{name: "a refusal the console explains stays 1", args: []string{"webhooks", "enable"}, setup: func(c *canarytest.Console) {
			c.Inject("flock/settings/webhooks/enable", 200, `{"result": "error", "message": "Flock is locked"}`)
		}, want: 1},
		{name: "missing url", args: []string{"webhooks", "add", "generic"}, want: 2},
		{name: "unknown kind", args: []string{"webhooks", "list", "--kind", "email"}, want: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t)
			console := canarytest.NewServer(t, testToken)
			if tt.setup != nil {
				tt.setup(console)
			}
			useConsole(t, console)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			env := newTestEnv(t, false)
			code, err := env.run(t, append([]string{"canary"}, tt.args...)...)
			if code != tt.want {
				t.Errorf("exit %d (err %v), want %d", code, err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), testToken) {
				t.Errorf("error shows the token: %v", err)
			}
		})
	}
}

// TestFlockCompletion completes --flock from the console's flocks/list.
func TestFlockCompletion(t *testing.T) {
	isolate(t)
	console := canarytest.NewServer(t, testToken)
	console.AddFlock("flock:2b9f0c", "Branch offices")
	useConsole(t, console)
	env := newTestEnv(t, false)
	if _, err := env.run(t, "__complete", "canary", "webhooks", "list", "--flock", "flock:"); err != nil {
		t.Fatal(err)
	}
	want := "flock:default\tDefault Flock\nflock:2b9f0c\tBranch offices\n:4\n"
	if got := env.stdout.String(); !strings.HasPrefix(got, want) {
		t.Errorf("completion output:\n%q\nwant prefix\n%q", got, want)
	}

	// Without credentials completion offers nothing and does not fail.
	t.Setenv("CANARY_AUTH_TOKEN", "")
	env = newTestEnv(t, false)
	if _, err := env.run(t, "__complete", "canary", "webhooks", "list", "--flock", ""); err != nil {
		t.Fatal(err)
	}
	if got := env.stdout.String(); !strings.HasPrefix(got, ":4\n") {
		t.Errorf("completion without a token: %q", got)
	}
}

// TestHelpIsOffline checks --help reads no config and calls no console.
func TestHelpIsOffline(t *testing.T) {
	isolate(t)
	console := canarytest.NewServer(t, testToken)
	useConsole(t, console)
	env := newTestEnv(t, false)
	env.f.Config = nil
	for _, args := range [][]string{
		{"canary", "--help"}, {"canary", "webhooks", "--help"}, {"canary", "webhooks", "add", "generic", "--help"},
		{"canary", "webhooks", "test", "splunk", "--help"}, {"canary", "flocks", "list", "--help"},
	} {
		if code, err := env.run(t, args...); code != 0 {
			t.Errorf("%v: exit %d, %v", args, code, err)
		}
	}
	if n := len(console.Requests()); n != 0 {
		t.Errorf("--help made %d requests", n)
	}
}
