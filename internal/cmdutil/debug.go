package cmdutil

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tw-cli/tw-cli/internal/notify"
	"github.com/tw-cli/tw-cli/internal/redact"
)

// sensitiveHeaders are never printed by --debug.
var sensitiveHeaders = map[string]bool{
	"Authorization": true, "Cookie": true, "Set-Cookie": true, "X-Canary-Auth-Token": true,
	"Proxy-Authorization": true,
}

// DebugTransport logs each request and response line to W, with
// credentials redacted, for --debug.
type DebugTransport struct {
	Base http.RoundTripper
	W    io.Writer
	// ShowURL prints a request's URL; nil is redact.Credentials, for API
	// URLs whose path is no secret.
	ShowURL func(*url.URL) string
}

// RoundTrip implements http.RoundTripper.
func (d *DebugTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	show := d.ShowURL
	if show == nil {
		show = redact.Credentials
	}
	fmt.Fprintf(d.W, "> %s %s\n", req.Method, show(req.URL))
	for name, vals := range req.Header {
		v := strings.Join(vals, ", ")
		if sensitiveHeaders[http.CanonicalHeaderKey(name)] {
			v = "[REDACTED]"
		}
		fmt.Fprintf(d.W, "> %s: %s\n", name, v)
	}
	resp, err := d.Base.RoundTrip(req)
	if err != nil {
		fmt.Fprintf(d.W, "< error after %s: %v\n", time.Since(start).Round(time.Millisecond), err)
		return nil, err
	}
	fmt.Fprintf(d.W, "< %s in %s\n", resp.Status, time.Since(start).Round(100*time.Microsecond))
	return resp, nil
}

// NotifySender returns the sender of destination messages for f's
// command: under --debug its requests are traced to stderr, showing only
// each destination's scheme and host, since Slack and Teams webhook URLs
// carry their secret in the path.
func NotifySender(f *Factory) func() *notify.Sender {
	return func() *notify.Sender {
		s := notify.NewSender()
		if f.Debug != nil && f.Debug() {
			base := s.Client.Transport
			if base == nil {
				base = http.DefaultTransport
			}
			s.Client.Transport = &DebugTransport{Base: base, W: f.IOStreams.ErrOut,
				ShowURL: func(u *url.URL) string { return redact.URL(u.String()) }}
		}
		return s
	}
}
