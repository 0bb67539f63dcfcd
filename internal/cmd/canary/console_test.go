package canary

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConsolePrecedence: the console comes from flags, then the
// environment, then the config file, a full URL before a domain only within
// one of them, as the group's help says. A file's api_url used to beat
// CANARY_DOMAIN, sending the token to another console.
func TestConsolePrecedence(t *testing.T) {
	const (
		fileURL = "https://file.example.com/api/v1/"
		envURL  = "https://env.example.com/api/v1/"
	)
	tests := []struct {
		name   string
		file   string
		env    map[string]string
		domain string // --domain
		want   string
	}{
		{name: "env domain beats file api_url", file: "canary:\n  api_url: " + fileURL + "\n",
			env: map[string]string{"CANARY_DOMAIN": "envhash"}, want: "https://envhash.canary.tools/api/v1/"},
		{name: "TW_ env domain beats file api_url", file: "canary:\n  api_url: " + fileURL + "\n",
			env: map[string]string{"TW_CANARY_DOMAIN": "twhash"}, want: "https://twhash.canary.tools/api/v1/"},
		{name: "env api_url beats file domain", file: "canary:\n  domain: filehash\n",
			env: map[string]string{"CANARY_API_URL": envURL}, want: envURL},
		{name: "env: api_url before domain", env: map[string]string{"CANARY_API_URL": envURL, "CANARY_DOMAIN": "envhash"}, want: envURL},
		{name: "file: api_url before domain", file: "canary:\n  api_url: " + fileURL + "\n  domain: filehash\n", want: fileURL},
		{name: "file domain alone", file: "canary:\n  domain: filehash\n", want: "https://filehash.canary.tools/api/v1/"},
		{name: "flag domain beats env api_url", env: map[string]string{"CANARY_API_URL": envURL}, domain: "flaghash",
			want: "https://flaghash.canary.tools/api/v1/"},
		// The active profile's token is for the profile's console.
		{name: "profile domain beats top-level api_url",
			file: "profile: prod\ncanary:\n  api_url: " + fileURL + "\nprofiles:\n  prod:\n    canary:\n      domain: prodhash\n",
			want: "https://prodhash.canary.tools/api/v1/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t)
			if tt.file != "" {
				if err := os.WriteFile(filepath.Join(os.Getenv("TW_CONFIG_DIR"), "config.yaml"), []byte(tt.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			c := NewConsole(newTestEnv(t, false).f)
			c.Domain = tt.domain
			got, err := c.apiURL()
			if err != nil || got != tt.want {
				t.Errorf("apiURL() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// TestCleartextWarning: plain http to a host other than this machine sends
// the token unencrypted; the client is still built, with a warning.
func TestCleartextWarning(t *testing.T) {
	for _, tt := range []struct {
		apiURL string
		warn   bool
	}{
		{"http://user:pw@canary.example.com:8080", true},
		{"https://canary.example.com", false},
		{"http://127.0.0.1:8080", false},
		{"http://localhost:8080", false},
		{"http://[::1]:8080", false},
	} {
		isolate(t)
		t.Setenv("CANARY_AUTH_TOKEN", testToken)
		env := newTestEnv(t, false)
		c := NewConsole(env.f)
		c.APIURL = tt.apiURL
		if _, err := c.Client(); err != nil {
			t.Fatalf("%s: %v", tt.apiURL, err)
		}
		got := env.stderr.String()
		if warned := strings.Contains(got, "auth token is sent unencrypted"); warned != tt.warn {
			t.Errorf("%s: stderr %q, want warning %v", tt.apiURL, got, tt.warn)
		}
		if tt.warn && (!strings.Contains(got, "canary.example.com:8080") || strings.Contains(got, "pw")) {
			t.Errorf("%s: warning should name the host and nothing else of the URL: %q", tt.apiURL, got)
		}
		if strings.Contains(got, testToken) {
			t.Errorf("%s: token in stderr", tt.apiURL)
		}
		if env.stdout.Len() != 0 {
			t.Errorf("%s: warning on stdout: %q", tt.apiURL, env.stdout)
		}
	}
}
