package canary_test

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tw-cli/tw-cli/pkg/canary"
	"github.com/tw-cli/tw-cli/pkg/canary/canarytest"
)

// token has characters that URL encoding changes, so redaction of both
// spellings is exercised.
const token = "s3cr3t+tok/en=42"

const (
	hookURL  = "https://hooks.example.com/canary"
	teamsURL = "https://contoso.webhook.office.com/webhookb2/abc@def/IncomingWebhook/123/456"
	slackURL = "https://hooks.slack.com/services/T000/B000/XXXX"
)

func newClient(t *testing.T, console *canarytest.Console, opts ...canary.Option) *canary.Client {
	t.Helper()
	opts = append([]canary.Option{canary.WithRetries(2, time.Millisecond, 5*time.Millisecond)}, opts...)
	c, err := canary.New(console.URL(), token, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestEndpointContract calls every endpoint once and checks the request the
// console saw: method, path, and parameters in the query (GET) or the form
// body (POST), never both.
func TestEndpointContract(t *testing.T) {
	ctx := context.Background()
	const flock = canary.DefaultFlock
	tests := []struct {
		endpoint string
		method   string
		params   map[string]string // besides auth_token
		setup    func(*canarytest.Console)
		call     func(*canary.Client) error
	}{
		{"ping", "GET", nil, nil, func(c *canary.Client) error { return c.Ping(ctx) }},
		{"flocks/list", "GET", nil, nil, func(c *canary.Client) error { _, err := c.Flocks(ctx); return err }},
		{"flock/settings/webhooks/is_enabled", "GET", map[string]string{"flock_id": flock}, nil,
			func(c *canary.Client) error { _, err := c.WebhooksEnabled(ctx, flock); return err }},
		{"flock/settings/webhooks/is_global", "GET", map[string]string{"flock_id": flock}, nil,
			func(c *canary.Client) error { _, err := c.WebhooksGlobal(ctx, flock); return err }},
		{"flock/settings/webhooks/enable", "POST", map[string]string{"flock_id": flock}, nil,
			func(c *canary.Client) error { return c.EnableWebhooks(ctx, flock) }},
		{"flock/settings/webhooks/disable", "POST", map[string]string{"flock_id": flock}, nil,
			func(c *canary.Client) error { return c.DisableWebhooks(ctx, flock) }},
		{"flock/settings/webhooks/use_global", "POST", map[string]string{"flock_id": flock}, nil,
			func(c *canary.Client) error { return c.UseGlobalWebhooks(ctx, flock) }},
		{"flock/settings/webhooks/generic/add", "POST",
			map[string]string{"flock_id": flock, "url": hookURL, "headers": `{"Authorization":"Bearer x","X-Id":"7"}`}, nil,
			func(c *canary.Client) error {
				return c.AddGenericWebhook(ctx, flock, hookURL, []canary.Header{{Name: "Authorization", Value: "Bearer x"}, {Name: "X-Id", Value: "7"}})
			}},
		{"flock/settings/webhooks/generic", "GET", map[string]string{"flock_id": flock}, nil,
			func(c *canary.Client) error { _, err := c.GenericWebhookURLs(ctx, flock); return err }},
		{"flock/settings/webhooks/generic/list", "GET", map[string]string{"flock_id": flock}, nil,
			func(c *canary.Client) error { _, err := c.GenericWebhooks(ctx, flock); return err }},
		{"flock/settings/webhooks/generic/test", "POST", map[string]string{"flock_id": flock, "url": hookURL},
			func(k *canarytest.Console) { k.AddGeneric(flock, hookURL) },
			func(c *canary.Client) error { _, err := c.TestGenericWebhook(ctx, flock, hookURL); return err }},
		{"flock/settings/webhooks/generic/remove", "POST", map[string]string{"flock_id": flock, "url": hookURL},
			func(k *canarytest.Console) { k.AddGeneric(flock, hookURL) },
			func(c *canary.Client) error { return c.RemoveGenericWebhook(ctx, flock, hookURL) }},
		{"flock/settings/webhooks/ms_teams/add", "POST", map[string]string{"flock_id": flock, "url": teamsURL}, nil,
			func(c *canary.Client) error { return c.AddMSTeamsWebhook(ctx, flock, teamsURL) }},
		{"flock/settings/webhooks/ms_teams", "GET", map[string]string{"flock_id": flock}, nil,
			func(c *canary.Client) error { _, err := c.MSTeamsWebhooks(ctx, flock); return err }},
		{"flock/settings/webhooks/ms_teams/test", "POST", map[string]string{"flock_id": flock, "url": teamsURL},
			func(k *canarytest.Console) { k.AddMSTeams(flock, teamsURL) },
			func(c *canary.Client) error { _, err := c.TestMSTeamsWebhook(ctx, flock, teamsURL); return err }},
		{"flock/settings/webhooks/ms_teams/remove", "POST", map[string]string{"flock_id": flock, "url": teamsURL},
			func(k *canarytest.Console) { k.AddMSTeams(flock, teamsURL) },
			func(c *canary.Client) error { return c.RemoveMSTeamsWebhook(ctx, flock, teamsURL) }},
		{"flock/settings/webhooks/slack", "GET", map[string]string{"flock_id": flock}, nil,
			func(c *canary.Client) error { _, err := c.SlackWebhooks(ctx, flock); return err }},
		{"flock/settings/webhooks/slack/test", "POST", map[string]string{"flock_id": flock, "url": slackURL},
			func(k *canarytest.Console) {
				k.AddSlack(flock, canarytest.SlackWebhook{Team: "acme", Channel: "#alerts", URL: slackURL})
			},
			func(c *canary.Client) error { _, err := c.TestSlackWebhook(ctx, flock, slackURL); return err }},
		{"flock/settings/webhooks/slack/remove", "POST", map[string]string{"flock_id": flock, "team": "acme", "channel": "#alerts"},
			func(k *canarytest.Console) {
				k.AddSlack(flock, canarytest.SlackWebhook{Team: "acme", Channel: "#alerts", URL: slackURL})
			},
			func(c *canary.Client) error { return c.RemoveSlackWebhook(ctx, flock, "acme", "#alerts") }},
		{"flock/settings/webhooks/splunk/add", "POST",
			map[string]string{"flock_id": flock, "host": "splunk.example.com", "port": "8088", "token": "hec-token"}, nil,
			func(c *canary.Client) error {
				return c.AddSplunkWebhook(ctx, flock, "splunk.example.com", 8088, "hec-token")
			}},
		{"flock/settings/webhooks/splunk", "GET", map[string]string{"flock_id": flock}, nil,
			func(c *canary.Client) error { _, err := c.SplunkWebhook(ctx, flock); return err }},
		{"flock/settings/webhooks/splunk/test", "POST", map[string]string{"flock_id": flock},
			func(k *canarytest.Console) {
				k.SetSplunk(flock, canarytest.SplunkWebhook{Host: "h", Port: "8088", Token: "t"})
			},
			func(c *canary.Client) error { _, err := c.TestSplunkWebhook(ctx, flock); return err }},
		{"flock/settings/webhooks/splunk/remove", "POST", map[string]string{"flock_id": flock},
			func(k *canarytest.Console) {
				k.SetSplunk(flock, canarytest.SplunkWebhook{Host: "h", Port: "8088", Token: "t"})
			},
			func(c *canary.Client) error { return c.RemoveSplunkWebhook(ctx, flock) }},
	}

	covered := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.endpoint, func(t *testing.T) {
			console := canarytest.NewServer(t, token)
			if tt.setup != nil {
				tt.setup(console)
			}
			if err := tt.call(newClient(t, console)); err != nil {
				t.Fatalf("call: %v", err)
			}
			reqs := console.Requests()
			if len(reqs) != 1 {
				t.Fatalf("console saw %d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Method != tt.method || r.Endpoint != tt.endpoint {
				t.Fatalf("request %s %s, want %s %s", r.Method, r.Endpoint, tt.method, tt.endpoint)
			}
			want := map[string]string{"auth_token": token}
			for k, v := range tt.params {
				want[k] = v
			}
			carrier, other := r.Query, r.Form
			if tt.method == "POST" {
				carrier, other = r.Form, r.Query
				if r.ContentType != "application/x-www-form-urlencoded" {
					t.Errorf("Content-Type %q", r.ContentType)
				}
			}
			if len(other) != 0 {
				t.Errorf("parameters in the wrong place: %v", other)
			}
			got := map[string]string{}
			for k, v := range carrier {
				got[k] = strings.Join(v, ",")
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("params = %v, want %v", got, want)
			}
		})
		covered[tt.endpoint] = true
	}
	for ep := range canarytest.Endpoints() {
		if !covered[ep] {
			t.Errorf("endpoint %s not covered", ep)
		}
	}
}

func TestGenericLifecycle(t *testing.T) {
	ctx := context.Background()
	console := canarytest.NewServer(t, token)
	c := newClient(t, console)
	const flock = canary.DefaultFlock

	if err := c.AddGenericWebhook(ctx, flock, hookURL, []canary.Header{{Name: "X-Token", Value: "v1"}, {Name: "X-Env", Value: "prod"}}); err != nil {
		t.Fatal(err)
	}
	if err := c.AddGenericWebhook(ctx, flock, "http://second.example.com/x", nil); err != nil {
		t.Fatal(err)
	}
	state, _ := console.Flock(flock)
	if got := state.Generic[0].Headers; !reflect.DeepEqual(got, []canarytest.Header{{Name: "X-Token", Value: "v1"}, {Name: "X-Env", Value: "prod"}}) {
		t.Errorf("stored headers = %v", got)
	}
	if len(state.Generic[1].Headers) != 0 {
		t.Errorf("webhook without headers stored %v", state.Generic[1].Headers)
	}

	list, err := c.GenericWebhooks(ctx, flock)
	if err != nil {
		t.Fatal(err)
	}
	if list.WebhooksEnabled == nil || !*list.WebhooksEnabled || len(list.Webhooks) != 2 {
		t.Fatalf("list = %+v", list)
	}
	if w := list.Webhooks[0]; w.URL != hookURL || !reflect.DeepEqual(w.HeaderNames, []string{"X-Token", "X-Env"}) || w.ID == "" {
		t.Errorf("first = %+v", w)
	}
	if w := list.Webhooks[1]; w.HeaderNames == nil || len(w.HeaderNames) != 0 {
		t.Errorf("second header names = %#v, want empty non-nil", w.HeaderNames)
	}

	old, err := c.GenericWebhookURLs(ctx, flock)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{hookURL, "http://second.example.com/x"}; !reflect.DeepEqual(old.URLs, want) {
		t.Errorf("deprecated list = %v, want %v", old.URLs, want)
	}

	res, err := c.TestGenericWebhook(ctx, flock, hookURL)
	if err != nil {
		t.Fatal(err)
	}
	if res.Webhook != hookURL || !strings.Contains(string(res.Raw), `"result": "success"`) {
		t.Errorf("test result = %+v (%s)", res, res.Raw)
	}

	if err := c.RemoveGenericWebhook(ctx, flock, hookURL); err != nil {
		t.Fatal(err)
	}
	list, _ = c.GenericWebhooks(ctx, flock)
	if len(list.Webhooks) != 1 || list.Webhooks[0].URL != "http://second.example.com/x" {
		t.Errorf("after remove: %+v", list.Webhooks)
	}
	err = c.RemoveGenericWebhook(ctx, flock, hookURL)
	var apiErr *canary.APIError
	if !errors.As(err, &apiErr) || apiErr.Message != "Webhook not found" || apiErr.Endpoint != "flock/settings/webhooks/generic/remove" {
		t.Errorf("second remove: %v", err)
	}
	if errors.Is(err, canary.ErrAuth) {
		t.Error("not-found error matched ErrAuth")
	}
}

func TestMSTeamsLifecycle(t *testing.T) {
	ctx := context.Background()
	console := canarytest.NewServer(t, token)
	c := newClient(t, console)
	const flock = canary.DefaultFlock

	if err := c.AddMSTeamsWebhook(ctx, flock, teamsURL); err != nil {
		t.Fatal(err)
	}
	list, err := c.MSTeamsWebhooks(ctx, flock)
	if err != nil || !reflect.DeepEqual(list.URLs, []string{teamsURL}) || list.WebhooksEnabled == nil || !*list.WebhooksEnabled {
		t.Fatalf("list = %+v, %v", list, err)
	}
	if res, err := c.TestMSTeamsWebhook(ctx, flock, teamsURL); err != nil || res.Webhook != teamsURL {
		t.Fatalf("test = %+v, %v", res, err)
	}
	if err := c.RemoveMSTeamsWebhook(ctx, flock, teamsURL); err != nil {
		t.Fatal(err)
	}
	list, _ = c.MSTeamsWebhooks(ctx, flock)
	if len(list.URLs) != 0 || list.URLs == nil {
		t.Errorf("after remove: %#v", list.URLs)
	}
	if _, err := c.TestMSTeamsWebhook(ctx, flock, teamsURL); err == nil {
		t.Error("test of a removed webhook succeeded")
	}
}

func TestSlackLifecycle(t *testing.T) {
	ctx := context.Background()
	console := canarytest.NewServer(t, token)
	c := newClient(t, console)
	const flock = canary.DefaultFlock
	console.AddSlack(flock, canarytest.SlackWebhook{Team: "acme", Channel: "#alerts", URL: slackURL, ConfigurationURL: "https://acme.slack.com/services/B000"})
	console.AddSlack(flock, canarytest.SlackWebhook{Team: "acme", Channel: "#soc", URL: slackURL + "2"})

	list, err := c.SlackWebhooks(ctx, flock)
	if err != nil {
		t.Fatal(err)
	}
	want := []canary.SlackWebhook{
		{Team: "acme", Channel: "#alerts", URL: slackURL, ConfigurationURL: "https://acme.slack.com/services/B000"},
		{Team: "acme", Channel: "#soc", URL: slackURL + "2"},
	}
	if !reflect.DeepEqual(list.Webhooks, want) {
		t.Fatalf("list = %+v", list.Webhooks)
	}
	if res, err := c.TestSlackWebhook(ctx, flock, slackURL); err != nil || res.Webhook != slackURL {
		t.Fatalf("test = %+v, %v", res, err)
	}
	if err := c.RemoveSlackWebhook(ctx, flock, "acme", "#alerts"); err != nil {
		t.Fatal(err)
	}
	list, _ = c.SlackWebhooks(ctx, flock)
	if len(list.Webhooks) != 1 || list.Webhooks[0].Channel != "#soc" {
		t.Errorf("after remove: %+v", list.Webhooks)
	}
}

func TestSplunkLifecycle(t *testing.T) {
	ctx := context.Background()
	console := canarytest.NewServer(t, token)
	c := newClient(t, console)
	const flock = canary.DefaultFlock

	s, err := c.SplunkWebhook(ctx, flock)
	if err != nil || s.Webhook != nil {
		t.Fatalf("unconfigured splunk = %+v, %v", s, err)
	}
	if _, err := c.TestSplunkWebhook(ctx, flock); err == nil {
		t.Fatal("test without a Splunk webhook succeeded")
	}
	if err := c.AddSplunkWebhook(ctx, flock, "10.0.0.5", 8088, "hec-secret"); err != nil {
		t.Fatal(err)
	}
	s, err = c.SplunkWebhook(ctx, flock)
	if err != nil || s.Webhook == nil || *s.Webhook != (canary.SplunkWebhook{Host: "10.0.0.5", Port: "8088", Token: "hec-secret"}) {
		t.Fatalf("splunk = %+v, %v", s.Webhook, err)
	}
	if res, err := c.TestSplunkWebhook(ctx, flock); err != nil || res.Webhook != "" {
		t.Fatalf("test = %+v, %v", res, err)
	}
	if err := c.RemoveSplunkWebhook(ctx, flock); err != nil {
		t.Fatal(err)
	}
	if s, _ := c.SplunkWebhook(ctx, flock); s.Webhook != nil {
		t.Errorf("after remove: %+v", s.Webhook)
	}
}

func TestWebhookState(t *testing.T) {
	ctx := context.Background()
	console := canarytest.NewServer(t, token)
	c := newClient(t, console)
	const flock = canary.DefaultFlock
	console.SetState(flock, true, false)

	// Seed 002 does not say what enable and disable do to is_global, so
	// only is_enabled is checked after them.
	steps := []struct {
		name        string
		do          func() error
		want        canary.WebhookState
		checkGlobal bool
	}{
		{"initial", func() error { return nil }, canary.WebhookState{Enabled: true, Global: false}, true},
		{"disable", func() error { return c.DisableWebhooks(ctx, flock) }, canary.WebhookState{Enabled: false}, false},
		{"enable", func() error { return c.EnableWebhooks(ctx, flock) }, canary.WebhookState{Enabled: true}, false},
		{"use_global", func() error { return c.UseGlobalWebhooks(ctx, flock) }, canary.WebhookState{Enabled: true, Global: true}, true},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		got, err := c.WebhookState(ctx, flock)
		if !s.checkGlobal {
			got.Global = s.want.Global
		}
		if err != nil || got != s.want {
			t.Errorf("%s: state = %+v, %v; want %+v", s.name, got, err, s.want)
		}
	}
}

func TestFlocks(t *testing.T) {
	console := canarytest.NewServer(t, token)
	console.AddFlock("flock:b2", "Servers")
	console.AddFlock("flock:a1", "Laptops")
	flocks, err := newClient(t, console).Flocks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []canary.Flock{{ID: "flock:default", Name: "Default Flock"}, {ID: "flock:a1", Name: "Laptops"}, {ID: "flock:b2", Name: "Servers"}}
	if !reflect.DeepEqual(flocks, want) {
		t.Errorf("flocks = %+v", flocks)
	}
}

func TestUnknownFlock(t *testing.T) {
	console := canarytest.NewServer(t, token)
	_, err := newClient(t, console).WebhooksEnabled(context.Background(), "flock:nope")
	var apiErr *canary.APIError
	if !errors.As(err, &apiErr) || apiErr.Message != "Unknown flock_id" || apiErr.StatusCode != http.StatusBadRequest {
		t.Errorf("err = %v", err)
	}
}

func TestValidationBeforeCall(t *testing.T) {
	ctx := context.Background()
	console := canarytest.NewServer(t, token)
	c := newClient(t, console)
	calls := map[string]func() error{
		"relative url": func() error { return c.AddGenericWebhook(ctx, canary.DefaultFlock, "/hook", nil) },
		"ftp url":      func() error { return c.AddMSTeamsWebhook(ctx, canary.DefaultFlock, "ftp://x/y") },
		"bad header": func() error {
			return c.AddGenericWebhook(ctx, canary.DefaultFlock, hookURL, []canary.Header{{Name: "Bad Name", Value: "v"}})
		},
		"port 0":           func() error { return c.AddSplunkWebhook(ctx, canary.DefaultFlock, "h", 0, "t") },
		"port 65536":       func() error { return c.AddSplunkWebhook(ctx, canary.DefaultFlock, "h", 65536, "t") },
		"host with scheme": func() error { return c.AddSplunkWebhook(ctx, canary.DefaultFlock, "https://h", 8088, "t") },
		"empty token":      func() error { return c.AddSplunkWebhook(ctx, canary.DefaultFlock, "h", 8088, "") },
		"empty flock":      func() error { return c.EnableWebhooks(ctx, "") },
		"empty team":       func() error { return c.RemoveSlackWebhook(ctx, canary.DefaultFlock, "", "#c") },
		"empty url":        func() error { _, err := c.TestGenericWebhook(ctx, canary.DefaultFlock, ""); return err },
	}
	for name, call := range calls {
		var inputErr *canary.InputError
		if err := call(); !errors.As(err, &inputErr) {
			t.Errorf("%s: err = %v, want *InputError", name, err)
		}
	}
	if n := len(console.Requests()); n != 0 {
		t.Errorf("invalid input reached the console %d times", n)
	}
}

func TestEndpointsCount(t *testing.T) {
	// Seed 002 documents 21 flock webhook endpoints; ping and flocks/list come
	// from the console's general API.
	var flockEndpoints []string
	for ep := range canarytest.Endpoints() {
		if strings.HasPrefix(ep, "flock/settings/webhooks/") {
			flockEndpoints = append(flockEndpoints, ep)
		}
	}
	sort.Strings(flockEndpoints)
	if len(flockEndpoints) != 21 {
		t.Errorf("fake serves %d flock webhook endpoints, want 21: %v", len(flockEndpoints), flockEndpoints)
	}
}
