package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestAllowFrom: a source limited to some networks refuses a delivery
// from elsewhere with 403 and stores nothing; widening the list from the
// CLI lets the next one in while serve runs.
func TestAllowFrom(t *testing.T) {
	e := newEnv(t)
	e.must("webhook", "add", "ts", "--secret", "ts-secret", "--allow-from", "10.0.0.0/8,192.0.2.1")
	if out := e.must("webhook", "show", "ts").stdout; !strings.Contains(out, "allow_from\t10.0.0.0/8,192.0.2.1/32\n") {
		t.Fatalf("show:\n%s", out)
	}
	e.expectCode(2, "webhook", "add", "bad", "--secret", "x", "--allow-from", "example.com")
	e.expectCode(2, "serve", "--trusted-proxy", "proxy.internal")

	srv := e.serve("--quiet")
	r := signedPost(t, srv, "ts", "ts-secret", `{"event_type":"x","data":{"n":1}}`, time.Now())
	if r.status != 403 || errCode(r) != "forbidden_address" {
		t.Fatalf("a delivery from 127.0.0.1: %d %s", r.status, r.raw)
	}
	e.must("webhook", "update", "ts", "--allow-from", "127.0.0.1")
	n := 1
	eventually(t, 5*time.Second, "the widened list applied", func() bool {
		n++
		return signedPost(t, srv, "ts", "ts-secret", fmt.Sprintf(`{"event_type":"x","data":{"n":%d}}`, n), time.Now()).status == 202
	})
	if out := e.must("events", "list", "--source", "ts", "-o", "json").stdout; strings.Count(out, `"source": "ts"`) != 1 {
		t.Fatalf("events stored: %s", out)
	}
}
