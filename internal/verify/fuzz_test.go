package verify

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// The fuzz targets feed arbitrary header values to the verifiers. Headers
// come straight from the network, so whatever they hold must end in
// success or in exactly one of the two failure classes, never a panic, and
// no message may carry a secret.

func checkClassified(t *testing.T, err error, secrets [][]byte) {
	t.Helper()
	if err == nil {
		return
	}
	if errors.Is(err, ErrInvalidSignature) == errors.Is(err, ErrExpired) {
		t.Fatalf("error %q is not in exactly one class", err)
	}
	for _, s := range secrets {
		if strings.Contains(err.Error(), string(s)) {
			t.Fatalf("error %q contains a secret", err)
		}
	}
}

// fuzzHeaders builds a header from name/value pairs, skipping empty values
// so the fuzzer also reaches the "missing header" paths.
func fuzzHeaders(pairs ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] != "" {
			h.Set(pairs[i], pairs[i+1])
		}
	}
	return h
}

func FuzzHMACHeader(f *testing.F) {
	v := vectorNamed(f, "hmac/two-signatures")
	f.Add(v.Headers["X-Webhook-Signature"], v.Headers["X-Webhook-Timestamp"], []byte(v.Body))
	f.Add("sha256=", "0", []byte{})
	f.Add(" , sha256=,sha256=zz", "-1", []byte("{}"))
	f.Add("sha256="+strings.Repeat("a", 64), "999999999999", []byte("{}"))
	ver := v.verifier(f)
	now := time.Unix(v.Now, 0)
	f.Fuzz(func(t *testing.T, sig, ts string, body []byte) {
		h := fuzzHeaders("X-Webhook-Signature", sig, "X-Webhook-Timestamp", ts)
		_, err := ver.Verify(Request{Header: h, Body: body, Now: now})
		checkClassified(t, err, v.secrets())
	})
}

func FuzzStandardWebhooksHeader(f *testing.F) {
	v := vectorNamed(f, "standard-webhooks/falcon")
	f.Add(v.Headers["webhook-id"], v.Headers["webhook-timestamp"], v.Headers["webhook-signature"], []byte(v.Body))
	f.Add("msg_1", "1705320000", "v1, v1,, ,v1a,", []byte{})
	f.Add("a.b", "00000000000", "v1,====", []byte("{}"))
	f.Add("msg_1", "1", "v1,"+strings.Repeat("A", 43)+"=", []byte("{}"))
	ver := v.verifier(f)
	now := time.Unix(v.Now, 0)
	f.Fuzz(func(t *testing.T, id, ts, sig string, body []byte) {
		h := fuzzHeaders("webhook-id", id, "webhook-timestamp", ts, "webhook-signature", sig)
		_, err := ver.Verify(Request{Header: h, Body: body, Now: now})
		checkClassified(t, err, v.secrets())
	})
}

func FuzzGitHubHeader(f *testing.F) {
	v := vectorNamed(f, "github/raw-bytes")
	f.Add(v.Headers["X-Hub-Signature-256"], []byte(v.Body))
	f.Add("sha256=", []byte{})
	f.Add("sha256="+strings.Repeat("0", 63), []byte("{}"))
	ver := v.verifier(f)
	f.Fuzz(func(t *testing.T, sig string, body []byte) {
		h := fuzzHeaders("X-Hub-Signature-256", sig)
		_, err := ver.Verify(Request{Header: h, Body: body, Now: time.Unix(v.Now, 0)})
		checkClassified(t, err, v.secrets())
	})
}

func FuzzSlackHeader(f *testing.F) {
	v := vectorNamed(f, "slack/event-callback")
	f.Add(v.Headers["X-Slack-Signature"], v.Headers["X-Slack-Request-Timestamp"], []byte(v.Body))
	f.Add("v0=", "", []byte{})
	f.Add("v0="+strings.Repeat("f", 64), "9999999999999", []byte("a=b"))
	ver := v.verifier(f)
	f.Fuzz(func(t *testing.T, sig, ts string, body []byte) {
		h := fuzzHeaders("X-Slack-Signature", sig, "X-Slack-Request-Timestamp", ts)
		_, err := ver.Verify(Request{Header: h, Body: body, Now: time.Unix(v.Now, 0)})
		checkClassified(t, err, v.secrets())
	})
}

func FuzzBearerHeader(f *testing.F) {
	v := vectorNamed(f, "bearer/canary-custom-header")
	f.Add("Bearer "+v.Secrets[0], v.Headers["X-Auth-Token"])
	f.Add("Bearer", "")
	f.Add("bEaReR  \t ", " ")
	f.Add("Basic dXNlcjpwYXNz", "Bearer x")
	ver := v.verifier(f)
	f.Fuzz(func(t *testing.T, auth, custom string) {
		h := fuzzHeaders("Authorization", auth, "X-Auth-Token", custom)
		_, err := ver.Verify(Request{Header: h})
		checkClassified(t, err, v.secrets())
	})
}

func FuzzBasicHeader(f *testing.F) {
	v := vectorNamed(f, "basic/authorization")
	f.Add(v.Headers["Authorization"])
	f.Add("Basic ")
	f.Add("basic Og==")
	f.Add("Basic ====")
	ver := v.verifier(f)
	f.Fuzz(func(t *testing.T, auth string) {
		_, err := ver.Verify(Request{Header: fuzzHeaders("Authorization", auth)})
		checkClassified(t, err, v.secrets())
	})
}

func FuzzURLTokenQuery(f *testing.F) {
	v := vectorNamed(f, "url-token/splunk")
	f.Add("token=" + v.Query["token"])
	f.Add("token=&token=x")
	f.Add("token=%zz;a=b")
	ver := v.verifier(f)
	f.Fuzz(func(t *testing.T, rawQuery string) {
		// The receiver hands over what net/url parsed, errors and all.
		q, _ := url.ParseQuery(rawQuery)
		_, err := ver.Verify(Request{Query: q})
		checkClassified(t, err, v.secrets())
	})
}
