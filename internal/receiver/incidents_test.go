package receiver

import (
	"strings"
	"testing"
)

// The incident edit endpoints apply the CLI's rules, sign the timeline
// with the client's user and the token's name, and refuse bad input.
func TestIncidentEdits(t *testing.T) {
	f := newFixture(t)
	sig, ts := sign("your-secret", testBody, now)
	if r := f.deliver("email-gateway", testBody, sig, ts); r.status != 202 {
		t.Fatalf("delivery: %d %s", r.status, r.raw)
	}
	num := f.admin("GET", "/api/incidents", "", f.token).body["incidents"].([]any)[0].(map[string]any)["number"].(string)
	base := "/api/incidents/" + num

	if r := f.admin("POST", base+"/status", `{"status":"acknowledged"}`, ""); r.status != 401 {
		t.Fatalf("without a token: %d %s", r.status, r.raw)
	}
	ack := f.admin("POST", base+"/status", `{"status":"acknowledged","actor":"alice"}`, f.token)
	inc, _ := ack.body["incident"].(map[string]any)
	if ack.status != 200 || ack.body["changed"] != true || inc["status"] != "acknowledged" {
		t.Fatalf("ack: %d %s", ack.status, ack.raw)
	}
	tl := inc["timeline"].([]any)
	if last := tl[len(tl)-1].(map[string]any); last["actor"] != "alice (token t)" || last["message"] != "status → acknowledged" {
		t.Fatalf("timeline entry = %v", last)
	}
	again := f.admin("POST", base+"/status", `{"status":"acknowledged"}`, f.token)
	if again.status != 200 || again.body["changed"] != false || again.body["message"] != num+" is already acknowledged" {
		t.Fatalf("ack again: %d %s", again.status, again.raw)
	}
	if r := f.admin("POST", base+"/status", `{"status":"resolved"}`, f.token); r.status != 200 || r.body["changed"] != true {
		t.Fatalf("resolve: %d %s", r.status, r.raw)
	}
	if r := f.admin("POST", base+"/status", `{"status":"acknowledged"}`, f.token); r.status != 409 || errCode(r) != "edit_refused" ||
		!strings.Contains(r.raw, "acknowledging it would reopen it") {
		t.Fatalf("ack a resolved incident: %d %s", r.status, r.raw)
	}
	owner := f.admin("POST", base+"/owner", `{"owner":"bob"}`, f.token)
	if inc, _ := owner.body["incident"].(map[string]any); owner.status != 200 || inc["owner"] != "bob" || owner.body["message"] != "assigned to bob" {
		t.Fatalf("assign: %d %s", owner.status, owner.raw)
	}
	inc, _ = owner.body["incident"].(map[string]any)
	entries := len(inc["timeline"].([]any))
	same := f.admin("POST", base+"/owner", `{"owner":"bob"}`, f.token)
	inc, _ = same.body["incident"].(map[string]any)
	if same.status != 200 || same.body["changed"] != false || same.body["message"] != num+" is already assigned to bob" || len(inc["timeline"].([]any)) != entries {
		t.Fatalf("assign the same owner again: %d %s", same.status, same.raw)
	}
	comment := f.admin("POST", base+"/comments", `{"text":" blocked at the gateway ","actor":"carol"}`, f.token)
	inc, _ = comment.body["incident"].(map[string]any)
	tl, _ = inc["timeline"].([]any)
	if comment.status != 200 || len(tl) == 0 || tl[len(tl)-1].(map[string]any)["message"] != "blocked at the gateway" ||
		tl[len(tl)-1].(map[string]any)["actor"] != "carol (token t)" {
		t.Fatalf("comment: %d %s", comment.status, comment.raw)
	}
	// Without an actor, the token alone signs.
	dave := f.admin("POST", base+"/owner", `{"owner":"dave"}`, f.token)
	inc, _ = dave.body["incident"].(map[string]any)
	tl, _ = inc["timeline"].([]any)
	if dave.status != 200 || len(tl) == 0 || tl[len(tl)-1].(map[string]any)["actor"] != "token:t" {
		t.Fatalf("assign without an actor: %d %s", dave.status, dave.raw)
	}
	// "open" reopens (tw-cli incidents reopen).
	if r := f.admin("POST", base+"/status", `{"status":"open"}`, f.token); r.status != 200 || r.body["changed"] != true {
		t.Fatalf("reopen: %d %s", r.status, r.raw)
	}
	for _, tt := range []struct{ path, body, code string }{
		{"/api/incidents/INC-1999-0001/status", `{"status":"resolved"}`, "not_found"},
		{base + "/status", `{"status":"closed"}`, "invalid_request"},
		{base + "/status", `{"status":"resolved","extra":1}`, "invalid_request"},
		{base + "/owner", `{}`, "invalid_request"},
		{base + "/owner", `{"owner":"a\u001b[2Jb"}`, "invalid_request"},
		{base + "/comments", `{"text":"  "}`, "invalid_request"},
		{base + "/comments", `{"text":"x","actor":"` + strings.Repeat("a", 65) + `"}`, "invalid_request"},
	} {
		if r := f.admin("POST", tt.path, tt.body, f.token); errCode(r) != tt.code {
			t.Errorf("POST %s %s: %d %s, want %s", tt.path, tt.body, r.status, r.raw, tt.code)
		}
	}
}
