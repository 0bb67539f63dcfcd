package verify

import (
	"net/http"
	"testing"
	"time"

	"github.com/tw-cli/tw-cli/pkg/signature"
)

func TestHMACBad(t *testing.T) {
	const good = "hmac/seed-recipe"
	runBadCases(t, []badCase{
		{name: "missing signature", vector: good, mutate: delHeader(signature.SignatureHeader),
			want: ErrInvalidSignature, msg: "missing X-Webhook-Signature header"},
		{name: "missing timestamp", vector: good, mutate: delHeader(signature.TimestampHeader),
			want: ErrInvalidSignature, msg: "missing X-Webhook-Timestamp header"},
		{name: "no sha256= prefix", vector: good,
			mutate: setHeader(signature.SignatureHeader, "ab4168a000a4be87f5339d3e454afd9d7875b49dd33dae2a5d323d17c71a9e2f"),
			want:   ErrInvalidSignature, msg: "want sha256=<hex>"},
		{name: "sha1 signature", vector: good,
			mutate: setHeader(signature.SignatureHeader, "sha1=0123456789abcdef0123456789abcdef01234567"),
			want:   ErrInvalidSignature, msg: "want sha256=<hex>"},
		{name: "not hex", vector: good,
			mutate: setHeader(signature.SignatureHeader, "sha256=zz4168a000a4be87f5339d3e454afd9d7875b49dd33dae2a5d323d17c71a9e2f"),
			want:   ErrInvalidSignature, msg: "want sha256=<hex>"},
		{name: "truncated", vector: good,
			mutate: setHeader(signature.SignatureHeader, "sha256=ab4168a000a4be87f5339d3e454afd9d"),
			want:   ErrInvalidSignature, msg: "want sha256=<hex>"},
		{name: "one flipped digit", vector: good,
			mutate: setHeader(signature.SignatureHeader, "sha256=ab4168a000a4be87f5339d3e454afd9d7875b49dd33dae2a5d323d17c71a9e2e"),
			want:   ErrInvalidSignature, msg: "no X-Webhook-Signature value matches"},
		{name: "timestamp not signed", vector: good, mutate: setHeader(signature.TimestampHeader, "1705320001"),
			want: ErrInvalidSignature, msg: "no X-Webhook-Signature value matches"},
		{name: "timestamp not a number", vector: good, mutate: setHeader(signature.TimestampHeader, "2024-01-15T10:00:00Z"),
			want: ErrInvalidSignature, msg: "malformed X-Webhook-Timestamp header"},
		{name: "only a previous secret known", vector: "hmac/previous-secret", secrets: []string{"your-secret-key"},
			want: ErrInvalidSignature, msg: "matches"},
		{name: "from the future", vector: good, shift: -DefaultTolerance - 2*time.Minute,
			want: ErrExpired, msg: "X-Webhook-Timestamp is 6m0s in the future"},
		{name: "stale", vector: good, shift: DefaultTolerance,
			want: ErrExpired, msg: "X-Webhook-Timestamp is 6m0s old, more than the allowed 5m0s"},
	})
}

// A sender rotating its secret may add each signature as its own header
// line; HTTP makes them one list, and only the first line was read.
func TestHMACSignaturesOnSeparateLines(t *testing.T) {
	at := time.Unix(1705320000, 0)
	body := []byte(`{"event_type":"test","data":{}}`)
	good, ts := signature.Sign([]byte("new-secret"), at, body)
	stale, _ := signature.Sign([]byte("old-secret"), at, body)
	v, err := New(ModeHMAC, [][]byte{[]byte("new-secret")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Add(signature.SignatureHeader, stale)
	h.Add(signature.SignatureHeader, good)
	h.Set(signature.TimestampHeader, ts)
	if _, err := v.Verify(Request{Header: h, Body: body, Now: at}); err != nil {
		t.Fatalf("second header line holds the valid signature: %v", err)
	}
}
