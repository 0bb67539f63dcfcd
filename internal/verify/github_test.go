package verify

import (
	"net/http"
	"testing"
	"time"
)

// The test values of GitHub's "Validating webhook deliveries" page
// (docs.github.com/webhooks/using-webhooks/validating-webhook-deliveries).
func TestGitHubDocsExample(t *testing.T) {
	ver, err := New(ModeGitHub, [][]byte{[]byte("It's a Secret to Everybody")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set("X-Hub-Signature-256", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")
	h.Set("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
	res, err := ver.Verify(Request{Header: h, Body: []byte("Hello, World!"), Now: time.Unix(1705320060, 0)})
	if err != nil {
		t.Fatal(err)
	}
	want := Result{Mode: ModeGitHub, DeliveryID: "72d3162e-cc78-11e3-81ab-4c9367dc0958"}
	if res != want {
		t.Errorf("Verify = %+v, want %+v", res, want)
	}
}

func TestGitHubBad(t *testing.T) {
	const good = "github/raw-bytes"
	const goodSig = "sha256=7ad77da56e051565d5353f3fb19804e642b01209787dba3c2bbf9bd2373541bc"
	runBadCases(t, []badCase{
		{name: "missing signature", vector: good, mutate: delHeader("X-Hub-Signature-256"),
			want: ErrInvalidSignature, msg: "missing X-Hub-Signature-256 header"},
		{name: "only the SHA-1 header", vector: good,
			mutate: func(r *Request) { r.Header.Del("X-Hub-Signature-256") },
			want:   ErrInvalidSignature, msg: "missing X-Hub-Signature-256 header"},
		{name: "no prefix", vector: good, mutate: setHeader("X-Hub-Signature-256", goodSig[len("sha256="):]),
			want: ErrInvalidSignature, msg: "malformed X-Hub-Signature-256 header: want sha256=<hex>"},
		{name: "sha1 prefix", vector: good, mutate: setHeader("X-Hub-Signature-256", "sha1="+goodSig[len("sha256="):]),
			want: ErrInvalidSignature, msg: "malformed X-Hub-Signature-256"},
		{name: "truncated", vector: good, mutate: setHeader("X-Hub-Signature-256", goodSig[:len(goodSig)-2]),
			want: ErrInvalidSignature, msg: "malformed X-Hub-Signature-256"},
		{name: "not hex", vector: good, mutate: setHeader("X-Hub-Signature-256", goodSig[:len(goodSig)-1]+"g"),
			want: ErrInvalidSignature, msg: "malformed X-Hub-Signature-256"},
		{name: "two signatures", vector: good, mutate: setHeader("X-Hub-Signature-256", goodSig+","+goodSig),
			want: ErrInvalidSignature, msg: "malformed X-Hub-Signature-256"},
		{name: "one flipped digit", vector: good, mutate: setHeader("X-Hub-Signature-256", goodSig[:len(goodSig)-1]+"d"),
			want: ErrInvalidSignature, msg: "X-Hub-Signature-256 does not match the source's secrets"},
		{name: "only the previous secret known", vector: "github/previous-secret", secrets: []string{"github-webhook-secret"},
			want: ErrInvalidSignature, msg: "does not match"},
	})
}
