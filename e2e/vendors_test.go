package e2e

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func fixture(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile("../testdata/payloads/" + path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func opensslHMAC(t *testing.T, keyHex, data string, binaryBase64 bool) string {
	t.Helper()
	args := []string{"dgst", "-sha256", "-mac", "HMAC", "-macopt", "hexkey:" + keyHex}
	if binaryBase64 {
		args = append(args, "-binary")
	}
	cmd := exec.Command("openssl", args...)
	cmd.Stdin = strings.NewReader(data)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("openssl: %v", err)
	}
	if binaryBase64 {
		return base64.StdEncoding.EncodeToString(out)
	}
	s := strings.TrimSpace(string(out))
	return s[strings.LastIndex(s, " ")+1:]
}

// TestVendorSenders registers sources the way each vendor can be wired and
// sends that vendor's real body, authenticated the vendor's way.
func TestVendorSenders(t *testing.T) {
	e := newEnv(t)
	e.must("webhook", "add", "threatstack", "--format", "threatstack", "--verify", "url-token", "--secret", "ts-url-token")
	e.must("webhook", "add", "thehive", "--verify", "bearer", "--secret", "hive-token")
	e.must("webhook", "add", "github", "--verify", "github", "--secret", "gh-secret")
	swSecretRaw := []byte("0123456789abcdef0123456789abcdef")
	sw := "whsec_" + base64.StdEncoding.EncodeToString(swSecretRaw)
	e.must("webhook", "add", "std", "--verify", "standard-webhooks", "--secret", sw)
	e.must("webhook", "add", "edr", "--secret", "edr-secret", "--severity-map", "4=critical")
	none := e.must("webhook", "add", "canary", "--verify", "none")
	if !strings.Contains(none.stderr, "WARNING") || none.stdout != "" {
		t.Fatalf("--verify none should warn and print no secret: %q / %q", none.stdout, none.stderr)
	}
	if !strings.Contains(e.must("webhook", "list").stdout, "none (UNVERIFIED)") {
		t.Fatal("webhook list does not flag the unverified source")
	}
	srv := e.serve()

	// Threat Stack cannot sign: a token in the URL, one incident per alert.
	batch := fixture(t, "threatstack/batch_of_three.json")
	if r := post(t, srv.url+"/api/webhooks/threatstack", batch, nil); r.status != 401 || errCode(r) != "invalid_signature" {
		t.Fatalf("no token: %d %s", r.status, r.raw)
	}
	r := post(t, srv.url+"/api/webhooks/threatstack?token=ts-url-token", batch, nil)
	if r.status != 202 {
		t.Fatalf("threatstack: %d %s", r.status, r.raw)
	}
	if incs, _ := r.body["incidents"].([]any); len(incs) != 3 {
		t.Fatalf("batch of three made %v", r.raw)
	}
	// The same alerts again are deduplicated into the same incidents.
	r2 := post(t, srv.url+"/api/webhooks/threatstack?token=ts-url-token", batch, nil)
	if r2.status != 202 || r2.body["incident_number"] != r.body["incident_number"] {
		t.Fatalf("repeat batch: %s vs %s", r2.raw, r.raw)
	}

	// TheHive: creation then update of one case is one incident.
	auth := map[string]string{"Authorization": "Bearer hive-token"}
	c := post(t, srv.url+"/api/webhooks/thehive", fixture(t, "thehive/seed_case_creation.json"), auth)
	u := post(t, srv.url+"/api/webhooks/thehive", fixture(t, "thehive/seed_case_update.json"), auth)
	if c.status != 202 || u.status != 202 || c.body["incident_number"] != u.body["incident_number"] {
		t.Fatalf("thehive create %s, update %s", c.raw, u.raw)
	}
	inc := decodeJSON[map[string]any](t, e.must("incidents", "show", fmt.Sprint(c.body["incident_number"]), "-o", "json").stdout)
	if inc["event_count"] != float64(2) || inc["severity"] != "high" {
		t.Fatalf("thehive incident after update: %v", inc)
	}
	if r := post(t, srv.url+"/api/webhooks/thehive", fixture(t, "thehive/seed_case_creation.json"), map[string]string{"Authorization": "Bearer nope"}); r.status != 401 {
		t.Fatalf("wrong bearer: %d", r.status)
	}

	// GitHub scheme, signed by openssl.
	ghBody := `{"action":"opened","number":1}`
	gh := post(t, srv.url+"/api/webhooks/github", ghBody, map[string]string{
		"X-Hub-Signature-256": "sha256=" + opensslHMAC(t, hex.EncodeToString([]byte("gh-secret")), ghBody, false),
		"X-GitHub-Delivery":   "72d3162e-cc78-11e3-81ab-4c9367dc0958",
	})
	if gh.status != 202 {
		t.Fatalf("github: %d %s", gh.status, gh.raw)
	}

	// Standard Webhooks, signed by openssl.
	swBody := `{"type":"user.created","data":{"id":"u1"}}`
	id, ts := "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", fmt.Sprint(time.Now().Unix())
	sig := opensslHMAC(t, hex.EncodeToString(swSecretRaw), id+"."+ts+"."+swBody, true)
	hdr := map[string]string{"webhook-id": id, "webhook-timestamp": ts, "webhook-signature": "v1," + sig}
	first := post(t, srv.url+"/api/webhooks/std", swBody, hdr)
	if first.status != 202 {
		t.Fatalf("standard webhooks: %d %s", first.status, first.raw)
	}
	// A redelivery of the same webhook-id is a repeat: answered as the
	// first was, stored once.
	if r := post(t, srv.url+"/api/webhooks/std", swBody, hdr); r.status != 200 || r.body["incident_number"] != first.body["incident_number"] {
		t.Fatalf("standard webhooks redelivery of the same id: %d %s", r.status, r.raw)
	}

	// CrowdStrike with the source's severity mapping (Severity 4 → critical).
	cs := signedPost(t, srv, "edr", "edr-secret", fixture(t, "crowdstrike/seed_detection_summary.json"), time.Now())
	if cs.status != 202 {
		t.Fatalf("crowdstrike: %d %s", cs.status, cs.raw)
	}
	csInc := decodeJSON[map[string]any](t, e.must("incidents", "show", fmt.Sprint(cs.body["incident_number"]), "-o", "json").stdout)
	if csInc["severity"] != "critical" || !strings.Contains(fmt.Sprint(csInc["title"]), "Malicious File Detected") {
		t.Fatalf("crowdstrike incident: %v", csInc)
	}

	// Canary, explicitly unverified.
	if r := post(t, srv.url+"/api/webhooks/canary", fixture(t, "canary/docs_ftp_login.json"), nil); r.status != 202 {
		t.Fatalf("canary: %d %s", r.status, r.raw)
	}
	formats := map[string]bool{}
	for _, ev := range decodeJSON[[]map[string]any](t, e.must("events", "list", "--limit", "100", "-o", "json").stdout) {
		formats[fmt.Sprint(ev["format"])] = true
	}
	for _, f := range []string{"threatstack", "thehive", "generic", "canary", "crowdstrike"} {
		if !formats[f] {
			t.Errorf("no event detected as %s: %v", f, formats)
		}
	}
}

// TestWebhookTestInEveryMode: `webhook test` authenticates as the source's
// senders must, whatever its verification mode, and `webhook sign` prints
// that mode's headers.
func TestWebhookTestInEveryMode(t *testing.T) {
	e := newEnv(t)
	secrets := map[string]string{
		"hmac": "hmac-secret", "github": "gh-secret", "slack": "slack-secret", "bearer": "bearer-token",
		"basic": "alice:s3cret", "url-token": "url-token-secret",
		"standard-webhooks": "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef")),
	}
	for mode, secret := range secrets {
		e.must("webhook", "add", "src-"+mode, "--verify", mode, "--secret", secret)
	}
	srv := e.serve("--quiet")
	for mode := range secrets {
		r := e.run("", "webhook", "test", "src-"+mode, "--url", srv.url, "-o", "json")
		if r.code != 0 || !strings.Contains(r.stdout, `"status": 202`) {
			t.Errorf("webhook test of a %s source: exit %d\n%s%s", mode, r.code, r.stdout, r.stderr)
		}
	}
	// Unreachable, the error names the receiver but not the url-token.
	if r := e.expectCode(1, "webhook", "test", "src-url-token", "--url", "http://"+freeAddr(t)); strings.Contains(r.stderr, "url-token-secret") {
		t.Fatalf("the token is in the error: %s", r.stderr)
	}
	sign := e.must("webhook", "sign", "src-github", "--body", "-")
	if !strings.HasPrefix(sign.stdout, "X-Hub-Signature-256: sha256=") {
		t.Fatalf("webhook sign of a github source:\n%s", sign.stdout)
	}
	if q := e.must("webhook", "sign", "src-url-token", "--body", "-").stdout; q != "?token=url-token-secret\n" {
		t.Fatalf("webhook sign of a url-token source:\n%s", q)
	}
	if q := e.must("webhook", "sign", "src-url-token", "--body", "-", "-o", "json").stdout; !strings.Contains(q, `"?token": "url-token-secret"`) {
		t.Fatalf("webhook sign of a url-token source:\n%s", q)
	}
}
