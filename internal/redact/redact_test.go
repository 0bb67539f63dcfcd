package redact

import (
	"net/url"
	"testing"
)

func TestCredentials(t *testing.T) {
	tests := map[string]string{
		"https://x.canary.tools/api/v1/ping?auth_token=abc123&flock_id=f": "https://x.canary.tools/api/v1/ping?auth_token=REDACTED&flock_id=f",
		"http://r:8080/api/webhooks/splunk?token=s3cret":                  "http://r:8080/api/webhooks/splunk?token=REDACTED",
		"postgres://user:pw@db/tw":                                        "postgres://user@db/tw",
		"https://admin@r/":                                                "https://admin@r/",
		"http://r/api/webhooks":                                           "http://r/api/webhooks",
	}
	for in, want := range tests {
		u, err := url.Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := Credentials(u); got != want {
			t.Errorf("Credentials(%s) = %s, want %s", in, got, want)
		}
		if got := CredentialsString(in); got != want {
			t.Errorf("CredentialsString(%s) = %s, want %s", in, got, want)
		}
	}
	if got := CredentialsString("http://r:x:y/%zz"); got != "(invalid URL)" {
		t.Errorf("an unparsable URL = %q", got)
	}
}

func TestURL(t *testing.T) {
	tests := map[string]string{
		"https://hooks.slack.com/services/T/B/X?k=v": "https://hooks.slack.com/…",
		"https://h.example/?token=x":                 "https://h.example/…",
		"https://h.example/":                         "https://h.example",
		"not a url":                                  "(invalid URL)",
	}
	for in, want := range tests {
		if got := URL(in); got != want {
			t.Errorf("URL(%q) = %q, want %q", in, got, want)
		}
	}
}
