package canary_test

import (
	"errors"
	"testing"

	"github.com/tw-cli/tw-cli/pkg/canary"
)

func TestDomainURL(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{"abc123", "https://abc123.canary.tools/api/v1/", false},
		{"ABC123.canary.tools", "https://abc123.canary.tools/api/v1/", false},
		{" my-console ", "https://my-console.canary.tools/api/v1/", false},
		{"", "", true},
		{"https://abc.canary.tools", "", true},
		{"abc/def", "", true},
		{"-abc", "", true},
		{"abc:8443", "", true},
	}
	for _, tt := range tests {
		got, err := canary.DomainURL(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("DomainURL(%q) = %q, %v", tt.in, got, err)
		}
	}
}

func TestNormalizeAPIURL(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{"https://c.example.com/api/v1", "https://c.example.com/api/v1/", false},
		{"http://127.0.0.1:8080/api/v1/", "http://127.0.0.1:8080/api/v1/", false},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080/api/v1/", false},
		{"https://c.example.com/", "https://c.example.com/api/v1/", false},
		{"https://c.example.com/canary/api/v1", "https://c.example.com/canary/api/v1/", false},
		{"c.example.com/api/v1", "", true},
		{"https://c.example.com/api/v1?x=1", "", true},
		{"::", "", true},
	}
	for _, tt := range tests {
		got, err := canary.NormalizeAPIURL(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("NormalizeAPIURL(%q) = %q, %v", tt.in, got, err)
		}
	}
}

func TestSendsTokenInClear(t *testing.T) {
	for in, want := range map[string]bool{
		"http://canary.example.com/api/v1/":    true,
		"HTTP://10.0.0.5:8080/api/v1/":         true,
		"http://localhost.example.com/api/v1/": true,
		"https://canary.example.com/api/v1/":   false,
		"http://127.0.0.1:8080/api/v1/":        false,
		"http://127.8.0.1/api/v1/":             false,
		"http://[::1]:8080/api/v1/":            false,
		"http://localhost:8080/api/v1/":        false,
		"http://LocalHost./api/v1/":            false,
		"http://canary.localhost/api/v1/":      false,
	} {
		if got := canary.SendsTokenInClear(in); got != want {
			t.Errorf("SendsTokenInClear(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestValidateWebhookURL(t *testing.T) {
	good := []string{"https://hooks.example.com/x", "http://10.0.0.1:8080/in?k=v"}
	bad := []string{"", "  ", "/relative", "hooks.example.com/x", "ftp://x/y", "https://", "https://exa mple.com", "mailto:a@b"}
	for _, s := range good {
		if err := canary.ValidateWebhookURL(s); err != nil {
			t.Errorf("%q rejected: %v", s, err)
		}
	}
	for _, s := range bad {
		var ie *canary.InputError
		if err := canary.ValidateWebhookURL(s); !errors.As(err, &ie) || ie.Field != "url" {
			t.Errorf("%q: err = %v", s, err)
		}
	}
	// These parse as URLs (url.Parse refuses tabs and newlines itself):
	// only the whitespace check stops a path pasted with a space.
	for _, s := range []string{"https://hooks.example.com/a b", "https://hooks.example.com/x?q=a b"} {
		var ie *canary.InputError
		if err := canary.ValidateWebhookURL(s); !errors.As(err, &ie) || ie.Reason != "contains whitespace" {
			t.Errorf("%q: err = %v, want contains whitespace", s, err)
		}
	}
}

func TestCheckMSTeamsURL(t *testing.T) {
	teams := []string{
		"https://contoso.webhook.office.com/webhookb2/a@b/IncomingWebhook/c/d",
		"https://outlook.office.com/webhook/a@b/IncomingWebhook/c/d",
		"https://prod-12.westus.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=x",
		"https://default0a.bc.environment.api.powerplatform.com:443/powerautomate/automations/direct/workflows/abc/triggers/manual/paths/invoke",
	}
	notTeams := []string{
		"https://hooks.example.com/webhook",
		"https://office.com.evil.example/webhook",
		"https://outlook.office.com/mail",
		"https://prod-12.westus.logic.azure.com/other",
		"https://webhook.office.com.evil.example/x",
	}
	for _, s := range teams {
		if err := canary.CheckMSTeamsURL(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	for _, s := range notTeams {
		if err := canary.CheckMSTeamsURL(s); !errors.Is(err, canary.ErrNotTeamsURL) {
			t.Errorf("%q: err = %v, want ErrNotTeamsURL", s, err)
		}
	}
	// Not a URL at all is an input error, not a skippable warning.
	if err := canary.CheckMSTeamsURL("ftp://x.webhook.office.com/"); errors.Is(err, canary.ErrNotTeamsURL) || err == nil {
		t.Errorf("ftp URL: err = %v", err)
	}
}

func TestHeaders(t *testing.T) {
	for _, name := range []string{"Authorization", "X-Api-Key", "x_y", "!#$%&'*+-.^_`|~09azAZ"} {
		if err := canary.ValidateHeaderName(name); err != nil {
			t.Errorf("%q rejected: %v", name, err)
		}
	}
	for _, name := range []string{"", "Bad Name", "X:Y", "Ünicode", "a\tb", "(x)", "a/b"} {
		if err := canary.ValidateHeaderName(name); err == nil {
			t.Errorf("%q accepted", name)
		}
	}

	got, err := canary.EncodeHeaders([]canary.Header{{Name: "Z-Last", Value: "1"}, {Name: "A-First", Value: `quote " and \ back`}})
	if want := `{"Z-Last":"1","A-First":"quote \" and \\ back"}`; err != nil || got != want {
		t.Errorf("EncodeHeaders = %s, %v; want %s", got, err, want)
	}
	if _, err := canary.EncodeHeaders([]canary.Header{{Name: "X-A", Value: "1"}, {Name: "x-a", Value: "2"}}); err == nil {
		t.Error("duplicate header accepted")
	}
	if _, err := canary.EncodeHeaders([]canary.Header{{Name: "X-A", Value: "line\nbreak"}}); err == nil {
		t.Error("control character in value accepted")
	}
}

func TestPortAndHost(t *testing.T) {
	for in, want := range map[string]int{"1": 1, "8088": 8088, " 65535 ": 65535} {
		if got, err := canary.ParsePort(in); err != nil || got != want {
			t.Errorf("ParsePort(%q) = %d, %v", in, got, err)
		}
	}
	for _, in := range []string{"0", "65536", "-1", "http", "", "80.5"} {
		if _, err := canary.ParsePort(in); err == nil {
			t.Errorf("ParsePort(%q) accepted", in)
		}
	}
	for _, h := range []string{"splunk.example.com", "10.0.0.5", "::1", "[2001:db8::1]"} {
		if err := canary.ValidateHost(h); err != nil {
			t.Errorf("ValidateHost(%q): %v", h, err)
		}
	}
	for _, h := range []string{"", "https://splunk", "splunk/services", "splunk:8088", "a b"} {
		if err := canary.ValidateHost(h); err == nil {
			t.Errorf("ValidateHost(%q) accepted", h)
		}
	}
}

func TestParseKind(t *testing.T) {
	for in, want := range map[string]canary.Kind{"generic": canary.KindGeneric, "MS-Teams": canary.KindMSTeams, "ms_teams": canary.KindMSTeams, "slack": canary.KindSlack, "splunk": canary.KindSplunk} {
		if got, err := canary.ParseKind(in); err != nil || got != want {
			t.Errorf("ParseKind(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := canary.ParseKind("email"); err == nil {
		t.Error("email accepted")
	}
}
