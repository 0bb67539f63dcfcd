package verify

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// The reference vector of the Standard Webhooks libraries
// (github.com/standard-webhooks/standard-webhooks, libraries/go,
// TestWebhookSign), copied here rather than read from vectors.json so that
// it checks the verifier even if gen.sh were wrong.
func TestStandardWebhooksSpecExample(t *testing.T) {
	const (
		secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		id     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
		ts     = "1614265330"
		body   = `{"test": 2432232314}`
		sig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	)
	ver, err := New(ModeStandardWebhooks, [][]byte{[]byte(secret)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", ts)
	h.Set("webhook-signature", sig)
	res, err := ver.Verify(Request{Header: h, Body: []byte(body), Now: time.Unix(1614265330, 0).Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	want := Result{Mode: ModeStandardWebhooks, DeliveryID: id, Timestamp: time.Unix(1614265330, 0)}
	if res != want {
		t.Errorf("Verify = %+v, want %+v", res, want)
	}
}

func TestStandardWebhooksBad(t *testing.T) {
	const good = "standard-webhooks/falcon"
	const goodSig = "v1,XS9BuppHbhDJGCdkTSvmKcUY/e7zvFW/KAzo2cq+/rI="
	runBadCases(t, []badCase{
		{name: "missing id", vector: good, mutate: delHeader("webhook-id"),
			want: ErrInvalidSignature, msg: "missing webhook-id header"},
		{name: "other id", vector: good, mutate: setHeader("webhook-id", "msg_2KWPBgLlAfxdpx2AI54pPJ85f4Y"),
			want: ErrInvalidSignature, msg: "no v1 entry of the webhook-signature header matches"},
		{name: "dot in id", vector: good, mutate: setHeader("webhook-id", "msg_1.1705320000"),
			want: ErrInvalidSignature, msg: "webhook-id header contains a '.'"},
		{name: "missing timestamp", vector: good, mutate: delHeader("webhook-timestamp"),
			want: ErrInvalidSignature, msg: "missing webhook-timestamp header"},
		{name: "other timestamp", vector: good, mutate: setHeader("webhook-timestamp", "1705320001"),
			want: ErrInvalidSignature, msg: "matches"},
		{name: "signed timestamp with a plus", vector: good, mutate: setHeader("webhook-timestamp", "+1705320000"),
			want: ErrInvalidSignature, msg: "malformed webhook-timestamp header"},
		{name: "timestamp in milliseconds", vector: good, mutate: setHeader("webhook-timestamp", "1705320000000000"),
			want: ErrInvalidSignature, msg: "malformed webhook-timestamp header"},
		{name: "missing signature", vector: good, mutate: delHeader("webhook-signature"),
			want: ErrInvalidSignature, msg: "missing webhook-signature header"},
		{name: "only v1a", vector: good,
			mutate: setHeader("webhook-signature", "v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg=="),
			want:   ErrInvalidSignature, msg: "webhook-signature header has no v1,<base64> entry"},
		{name: "unknown version", vector: good, mutate: setHeader("webhook-signature", "v2"+goodSig[2:]),
			want: ErrInvalidSignature, msg: "no v1,<base64> entry"},
		{name: "without version", vector: good, mutate: setHeader("webhook-signature", goodSig[3:]),
			want: ErrInvalidSignature, msg: "no v1,<base64> entry"},
		{name: "equals sign instead of comma", vector: good, mutate: setHeader("webhook-signature", "v1="+goodSig[3:]),
			want: ErrInvalidSignature, msg: "no v1,<base64> entry"},
		{name: "base64url", vector: good, mutate: setHeader("webhook-signature", "v1,XS9BuppHbhDJGCdkTSvmKcUY_e7zvFW_KAzo2cq-_rI="),
			want: ErrInvalidSignature, msg: "no v1,<base64> entry"},
		{name: "truncated", vector: good, mutate: setHeader("webhook-signature", goodSig[:len(goodSig)-4]),
			want: ErrInvalidSignature, msg: "no v1,<base64> entry"},
		{name: "comma separated", vector: "standard-webhooks/two-signatures",
			mutate: func(r *Request) {
				r.Header.Set("webhook-signature", strings.ReplaceAll(r.Header.Get("webhook-signature"), " ", ","))
			},
			want: ErrInvalidSignature, msg: "no v1,<base64> entry"},
		{name: "only the previous secret known", vector: "standard-webhooks/previous-secret",
			secrets: []string{"whsec_dHctY2xpIHN0YW5kYXJkLXdlYmhvb2tzIGtleSAjMSE="},
			want:    ErrInvalidSignature, msg: "matches"},
		{name: "stale", vector: good, shift: DefaultTolerance,
			want: ErrExpired, msg: "webhook-timestamp is 6m0s old, more than the allowed 5m0s"},
		{name: "from the future", vector: good, shift: -DefaultTolerance - 2*time.Minute,
			want: ErrExpired, msg: "webhook-timestamp is 6m0s in the future"},
	})
}

func TestStandardWebhooksSecrets(t *testing.T) {
	for _, secret := range []string{
		"whsec_not base64!",
		"whsec_",
		"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS", // one character short
	} {
		_, err := New(ModeStandardWebhooks, [][]byte{[]byte(secret)}, Options{})
		if err == nil {
			t.Errorf("New accepted secret %q", secret)
			continue
		}
		if !strings.Contains(err.Error(), "secret #1 is not whsec_<base64>") {
			t.Errorf("error %q does not say what a secret looks like", err)
		}
		if body := strings.TrimPrefix(secret, "whsec_"); body != "" && strings.Contains(err.Error(), body) {
			t.Errorf("error %q contains the secret", err)
		}
	}
}
