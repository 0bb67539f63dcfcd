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
	// One that does not parse is shown for its owner to fix, less what
	// could be credentials.
	for in, want := range map[string]string{
		"127.0.0.1:8080":                              "127.0.0.1:8080",
		"10.0.0.5:8443/api":                           "10.0.0.5:8443/api",
		"10.0.0.5:8443/api?token=t":                   "10.0.0.5:8443/api?REDACTED",
		"http://admin:pw@r:x:y/%zz?token=t":           "http://REDACTED",
		"admin:pw@10.0.0.5:8443":                      "REDACTED", // parses: scheme "admin"
		"https://admin:1234/Secr3t@127.0.0.1:1":       "https://REDACTED",
		"https://dXNlcjpwYXNz/Zm9v@api.example":       "https://REDACTED",
		"https://tw.exmaple:8443/api#ops@corp":        "https://tw.exmaple/REDACTED",
		"https://u:a@b/c@host":                        "https://REDACTED",
		"admin:p?ssw0rd@127.0.0.1:1":                  "REDACTED",
		"https://admin:#hunter2@127.0.0.1":            "https://REDACTED",
		"https://admin:s3cr/t@r.example:8443":         "https://REDACTED",
		"https://admin:p?w@r.example:x":               "https://REDACTED",
		"127.0.0.1:8080/api?to=ops@corp&token=SECRET": "REDACTED",
		"http://r:x:y/?token=abc@SECRETTAIL":          "http://REDACTED",
	} {
		if got := CredentialsString(in); got != want {
			t.Errorf("CredentialsString(%q) = %q, want %q", in, got, want)
		}
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
