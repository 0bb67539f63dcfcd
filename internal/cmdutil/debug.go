package cmdutil

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// sensitiveHeaders are never printed by --debug.
var sensitiveHeaders = map[string]bool{
	"Authorization": true, "Cookie": true, "Set-Cookie": true, "X-Canary-Auth-Token": true,
	"Proxy-Authorization": true,
}

// sensitiveParams are query parameters whose values --debug hides.
var sensitiveParams = []string{"token", "auth_token", "api_key", "key", "secret", "password"}

// DebugTransport logs each request and response line to W, with
// credentials redacted, for --debug.
type DebugTransport struct {
	Base http.RoundTripper
	W    io.Writer
}

// RoundTrip implements http.RoundTripper.
func (d *DebugTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	fmt.Fprintf(d.W, "> %s %s\n", req.Method, RedactURL(req.URL))
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

// RedactURL prints u with secret query values and any password hidden.
func RedactURL(u *url.URL) string {
	c := *u
	if c.User != nil {
		c.User = url.User(c.User.Username())
	}
	q := c.Query()
	changed := false
	for _, p := range sensitiveParams {
		if q.Has(p) {
			q.Set(p, "REDACTED")
			changed = true
		}
	}
	if changed {
		c.RawQuery = q.Encode()
	}
	return c.String()
}
