package cmdutil

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

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
}

// RoundTrip implements http.RoundTripper.
func (d *DebugTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	fmt.Fprintf(d.W, "> %s %s\n", req.Method, redact.Credentials(req.URL))
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
