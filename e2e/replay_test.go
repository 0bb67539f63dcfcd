package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestEventsReplay: a stored delivery sent again goes through the
// receiver as a new one (signed anew, so not a replay), byte for byte.
func TestEventsReplay(t *testing.T) {
	e := newEnv(t)
	e.must("webhook", "add", "gw", "--secret", "gw-secret-0123456789")
	srv := e.serve("--quiet")
	body := "{\n  \"event_type\": \"phish\",\n  \"data\": {\"alert_id\": \"a-1\"}\n}\n"
	if r := signedPost(t, srv, "gw", "gw-secret-0123456789", body, time.Now()); r.status != 202 {
		t.Fatalf("first delivery: %d %s", r.status, r.raw)
	}
	evs := decodeJSON[[]map[string]any](t, e.must("events", "list", "-o", "json").stdout)
	if len(evs) != 1 {
		t.Fatalf("%d events, want 1", len(evs))
	}
	id := fmt.Sprint(evs[0]["id"])

	r := e.must("events", "replay", id, "--url", srv.url)
	if !strings.Contains(r.stderr, "202 Accepted") {
		t.Fatalf("replay: %s / %s", r.stdout, r.stderr)
	}
	res := decodeJSON[map[string]any](t, e.must("events", "replay", id, "--url", srv.url, "-o", "json").stdout)
	if res["status"] != float64(202) || res["ok"] != true {
		t.Fatalf("replay -o json: %v", res)
	}
	evs = decodeJSON[[]map[string]any](t, e.must("events", "list", "-o", "json").stdout)
	if len(evs) != 3 {
		t.Fatalf("%d events after two replays, want 3", len(evs))
	}
	if got := e.must("events", "show", fmt.Sprint(evs[0]["id"])).stdout; !strings.HasSuffix(got, "\n"+body+"\n") {
		t.Fatalf("the replayed body is not the stored one byte for byte:\n%s", got)
	}
	e.expectCode(4, "events", "replay", "no-such-event", "--url", srv.url)
	e.expectCode(2, "events", "replay", id, "--url", srv.url, "--timeout", "0s")

	// From another machine: the event comes from the receiver, which
	// never gives out the secret, so the client brings it.
	tok := strings.TrimSpace(e.must("token", "create", "--name", "ops").stdout)
	client := newEnv(t)
	client.extra = []string{"TW_SERVER=" + srv.url, "TW_TOKEN=" + tok, "GW_SECRET=gw-secret-0123456789"}
	if r := client.expectCode(2, "events", "replay", id); !strings.Contains(r.stderr, "--secret-env") {
		t.Fatalf("remote replay without a secret: %s", r.stderr)
	}
	if r := client.must("events", "replay", id, "--secret-env", "GW_SECRET"); !strings.Contains(r.stderr, "202 Accepted") {
		t.Fatalf("remote replay: %s", r.stderr)
	}
	if evs := decodeJSON[[]map[string]any](t, e.must("events", "list", "-o", "json").stdout); len(evs) != 4 {
		t.Fatalf("%d events after a remote replay, want 4", len(evs))
	}
}
