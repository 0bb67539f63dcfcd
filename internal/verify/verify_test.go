package verify

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tw-cli/tw-cli/pkg/signature"
)

// vectorsFile is written by testdata/verify/gen.sh with openssl, so the
// good deliveries below were not signed by the code under test.
var vectorsFile = filepath.Join("..", "..", "testdata", "verify", "vectors.json")

type vector struct {
	Name    string   `json:"name"`
	Mode    string   `json:"mode"`
	Secrets []string `json:"secrets"`
	Options struct {
		TokenHeader string `json:"token_header"`
		TokenParam  string `json:"token_param"`
	} `json:"options"`
	Headers    map[string]string `json:"headers"`
	Query      map[string]string `json:"query"`
	Body       string            `json:"body"`
	Now        int64             `json:"now"`
	DeliveryID string            `json:"delivery_id"`
	Timestamp  int64             `json:"timestamp"`
}

func (v vector) secrets() [][]byte {
	out := make([][]byte, len(v.Secrets))
	for i, s := range v.Secrets {
		out[i] = []byte(s)
	}
	return out
}

func (v vector) options() Options {
	return Options{TokenHeader: v.Options.TokenHeader, TokenParam: v.Options.TokenParam}
}

// request builds a fresh Request each call, so a test may mutate it.
func (v vector) request() Request {
	h := http.Header{}
	for k, val := range v.Headers {
		h.Set(k, val)
	}
	q := url.Values{}
	for k, val := range v.Query {
		q.Set(k, val)
	}
	return Request{
		Header:     h,
		Query:      q,
		Body:       []byte(v.Body),
		RemoteAddr: "192.0.2.10:49152",
		Now:        time.Unix(v.Now, 0),
	}
}

func (v vector) verifier(t testing.TB) Verifier {
	t.Helper()
	ver, err := New(v.Mode, v.secrets(), v.options())
	if err != nil {
		t.Fatalf("New(%q): %v", v.Mode, err)
	}
	return ver
}

func loadVectors(t testing.TB) []vector {
	t.Helper()
	data, err := os.ReadFile(vectorsFile)
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Vectors []vector `json:"vectors"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatalf("%s: %v", vectorsFile, err)
	}
	if len(file.Vectors) == 0 {
		t.Fatalf("%s holds no vectors", vectorsFile)
	}
	return file.Vectors
}

func vectorNamed(t testing.TB, name string) vector {
	t.Helper()
	for _, v := range loadVectors(t) {
		if v.Name == name {
			return v
		}
	}
	t.Fatalf("no vector %q in %s", name, vectorsFile)
	return vector{}
}

// checkFailure asserts that err is a failure of exactly class want, that
// its message holds msg, and that it leaks none of the secrets.
func checkFailure(t *testing.T, err, want error, msg string, secrets [][]byte) {
	t.Helper()
	if err == nil {
		t.Fatalf("Verify succeeded, want %v", want)
	}
	if !errors.Is(err, want) {
		t.Errorf("error %q does not wrap %v", err, want)
	}
	if errors.Is(err, ErrInvalidSignature) && errors.Is(err, ErrExpired) {
		t.Errorf("error %q wraps both classes", err)
	}
	if !strings.Contains(err.Error(), msg) {
		t.Errorf("error %q does not mention %q", err, msg)
	}
	for _, s := range secrets {
		if strings.Contains(err.Error(), string(s)) {
			t.Errorf("error %q contains a secret", err)
		}
	}
}

// badCase is a delivery a verifier must refuse: a good vector, changed.
type badCase struct {
	name    string
	vector  string
	secrets []string       // replaces the vector's secrets when set
	mutate  func(*Request) // changes the request, when set
	shift   time.Duration  // moves the receiver's clock
	want    error          // ErrInvalidSignature or ErrExpired
	msg     string         // a part of the message
	options *Options       // replaces the vector's options when set
}

func runBadCases(t *testing.T, cases []badCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := vectorNamed(t, tc.vector)
			if tc.secrets != nil {
				v.Secrets = tc.secrets
			}
			opts := v.options()
			if tc.options != nil {
				opts = *tc.options
			}
			ver, err := New(v.Mode, v.secrets(), opts)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			r := v.request()
			if tc.mutate != nil {
				tc.mutate(&r)
			}
			r.Now = r.Now.Add(tc.shift)
			_, err = ver.Verify(r)
			checkFailure(t, err, tc.want, tc.msg, append(v.secrets(), vectorNamed(t, tc.vector).secrets()...))
		})
	}
}

func setHeader(name, value string) func(*Request) {
	return func(r *Request) { r.Header.Set(name, value) }
}

func delHeader(name string) func(*Request) {
	return func(r *Request) { r.Header.Del(name) }
}

func TestVectorsVerify(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			res, err := v.verifier(t).Verify(v.request())
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if res.Mode != v.Mode {
				t.Errorf("Mode = %q, want %q", res.Mode, v.Mode)
			}
			if res.DeliveryID != v.DeliveryID {
				t.Errorf("DeliveryID = %q, want %q", res.DeliveryID, v.DeliveryID)
			}
			switch {
			case v.Timestamp == 0 && !res.Timestamp.IsZero():
				t.Errorf("Timestamp = %v, want zero", res.Timestamp)
			case v.Timestamp != 0 && !res.Timestamp.Equal(time.Unix(v.Timestamp, 0)):
				t.Errorf("Timestamp = %v, want %v", res.Timestamp, time.Unix(v.Timestamp, 0))
			}
		})
	}
}

func TestEveryModeHasVectors(t *testing.T) {
	seen := map[string]bool{}
	for _, v := range loadVectors(t) {
		seen[v.Mode] = true
	}
	for _, m := range Modes() {
		if !seen[m] {
			t.Errorf("mode %s has no vector in %s", m, vectorsFile)
		}
	}
}

// bodySigned lists the modes whose MAC covers the body. The token modes
// authenticate the sender but not the bytes, which is why they are for
// senders that can do nothing better.
var bodySigned = []string{ModeHMAC, ModeStandardWebhooks, ModeGitHub, ModeSlack}

func TestChangedBody(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			r := v.request()
			r.Body = append(r.Body, ' ')
			_, err := v.verifier(t).Verify(r)
			if !slices.Contains(bodySigned, v.Mode) {
				if err != nil {
					t.Fatalf("mode %s does not sign the body, yet Verify failed: %v", v.Mode, err)
				}
				return
			}
			checkFailure(t, err, ErrInvalidSignature, "match", v.secrets())
		})
	}
}

// otherSecret is a well-formed secret of mode that signed none of the
// vectors.
func otherSecret(mode string) string {
	switch mode {
	case ModeStandardWebhooks:
		return "whsec_b3RoZXItc2VjcmV0LW9mLXRoZS1yaWdodC1zaGFwZQ=="
	case ModeBasic:
		return "canary:another-password"
	default:
		return "another-secret"
	}
}

func TestWrongSecret(t *testing.T) {
	for _, v := range loadVectors(t) {
		if v.Mode == ModeNone {
			continue
		}
		t.Run(v.Name, func(t *testing.T) {
			good := v.secrets()
			v.Secrets = []string{otherSecret(v.Mode)}
			_, err := v.verifier(t).Verify(v.request())
			checkFailure(t, err, ErrInvalidSignature, "", append(good, v.secrets()...))
		})
	}
}

func TestNothingPresented(t *testing.T) {
	for _, v := range loadVectors(t) {
		if v.Mode == ModeNone {
			continue
		}
		t.Run(v.Name, func(t *testing.T) {
			r := v.request()
			r.Header = http.Header{}
			r.Query = nil
			_, err := v.verifier(t).Verify(r)
			checkFailure(t, err, ErrInvalidSignature, "missing", v.secrets())
		})
	}
}

func TestTimestampWindow(t *testing.T) {
	for _, v := range loadVectors(t) {
		if v.Timestamp == 0 {
			continue
		}
		ts := time.Unix(v.Timestamp, 0)
		t.Run(v.Name, func(t *testing.T) {
			for _, at := range []time.Time{ts, ts.Add(DefaultTolerance), ts.Add(-DefaultTolerance)} {
				r := v.request()
				r.Now = at
				if _, err := v.verifier(t).Verify(r); err != nil {
					t.Errorf("at %s from the timestamp: %v", at.Sub(ts), err)
				}
			}
			for _, at := range []time.Time{ts.Add(DefaultTolerance + time.Second), ts.Add(-DefaultTolerance - time.Second)} {
				r := v.request()
				r.Now = at
				_, err := v.verifier(t).Verify(r)
				checkFailure(t, err, ErrExpired, "", v.secrets())
			}
		})
	}
}

func TestTolerance(t *testing.T) {
	for _, v := range loadVectors(t) {
		if v.Timestamp == 0 {
			continue
		}
		t.Run(v.Name, func(t *testing.T) {
			opts := v.options()
			opts.Tolerance = 30 * time.Second
			ver, err := New(v.Mode, v.secrets(), opts)
			if err != nil {
				t.Fatal(err)
			}
			r := v.request()
			r.Now = time.Unix(v.Timestamp, 0).Add(31 * time.Second)
			_, err = ver.Verify(r)
			checkFailure(t, err, ErrExpired, "30s", v.secrets())
		})
	}
}

// A stale delivery with a bad MAC is an invalid signature: the MAC is
// checked first, so an unauthenticated caller learns nothing of the clock.
func TestBadSignatureBeforeExpiry(t *testing.T) {
	for _, v := range loadVectors(t) {
		if v.Timestamp == 0 {
			continue
		}
		t.Run(v.Name, func(t *testing.T) {
			r := v.request()
			r.Body = append(r.Body, ' ')
			r.Now = r.Now.Add(time.Hour)
			_, err := v.verifier(t).Verify(r)
			checkFailure(t, err, ErrInvalidSignature, "", v.secrets())
		})
	}
}

// A zero Request.Now means the real clock, by which every fixed vector
// is long expired.
func TestZeroNowUsesClock(t *testing.T) {
	for _, v := range loadVectors(t) {
		if v.Timestamp == 0 {
			continue
		}
		t.Run(v.Name, func(t *testing.T) {
			r := v.request()
			r.Now = time.Time{}
			_, err := v.verifier(t).Verify(r)
			checkFailure(t, err, ErrExpired, "old", v.secrets())
		})
	}
	t.Run("signed now", func(t *testing.T) {
		secret := []byte("your-secret-key")
		body := []byte(`{"event_type":"test","data":{}}`)
		h := http.Header{}
		sig, ts := signature.Sign(secret, time.Now(), body)
		h.Set(signature.SignatureHeader, sig)
		h.Set(signature.TimestampHeader, ts)
		ver, err := New(ModeHMAC, [][]byte{secret}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ver.Verify(Request{Header: h, Body: body}); err != nil {
			t.Fatal(err)
		}
	})
}

// Verifiers are shared by all requests of a source; run under -race.
func TestConcurrentVerify(t *testing.T) {
	vectors := loadVectors(t)
	verifiers := make([]Verifier, len(vectors))
	for i, v := range vectors {
		verifiers[i] = v.verifier(t)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i, v := range vectors {
				if _, err := verifiers[i].Verify(v.request()); err != nil {
					t.Errorf("%s: %v", v.Name, err)
				}
			}
		})
	}
	wg.Wait()
}

func TestNewCopiesSecrets(t *testing.T) {
	v := vectorNamed(t, "hmac/seed-recipe")
	secrets := v.secrets()
	ver, err := New(v.Mode, secrets, v.options())
	if err != nil {
		t.Fatal(err)
	}
	secrets[0][0] ^= 0xff
	if _, err := ver.Verify(v.request()); err != nil {
		t.Fatalf("changing the caller's secret changed the verifier: %v", err)
	}
}

func TestNewDefaultsToHMAC(t *testing.T) {
	v := vectorNamed(t, "hmac/seed-recipe")
	ver, err := New("", v.secrets(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := ver.Verify(v.request())
	if err != nil {
		t.Fatal(err)
	}
	if res.Mode != ModeHMAC {
		t.Errorf("Mode = %q, want %q", res.Mode, ModeHMAC)
	}
	if _, err := ver.Verify(Request{Now: time.Unix(v.Now, 0)}); err == nil {
		t.Error("the default mode accepted an unsigned delivery")
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name    string
		mode    string
		secrets []string
		opts    Options
		msg     string
	}{
		{"unknown mode", "hmac-sha1", []string{"s3cr3t-value"}, Options{}, `unknown mode "hmac-sha1" (known: hmac, `},
		{"unknown mode without a secret", "sha256", nil, Options{}, `unknown mode "sha256"`},
		{"no secret", ModeHMAC, nil, Options{}, "mode hmac needs a secret"},
		{"no secret for a token mode", ModeURLToken, nil, Options{}, "mode url-token needs a secret"},
		{"empty secret", ModeHMAC, []string{"s3cr3t-value", ""}, Options{}, "secret #2 is empty"},
		{"negative tolerance", ModeHMAC, []string{"s3cr3t-value"}, Options{Tolerance: -time.Second}, "tolerance must not be negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			secrets := make([][]byte, len(tc.secrets))
			for i, s := range tc.secrets {
				secrets[i] = []byte(s)
			}
			ver, err := New(tc.mode, secrets, tc.opts)
			if err == nil {
				t.Fatalf("New = %T, want an error", ver)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not mention %q", err, tc.msg)
			}
			for _, s := range tc.secrets {
				if s != "" && strings.Contains(err.Error(), s) {
					t.Errorf("error %q contains a secret", err)
				}
			}
		})
	}
}

func TestModes(t *testing.T) {
	modes := Modes()
	if modes[0] != DefaultMode {
		t.Errorf("Modes()[0] = %q, want the default %q", modes[0], DefaultMode)
	}
	for _, m := range modes {
		secret := []byte(otherSecret(m))
		if _, err := New(m, [][]byte{secret}, Options{}); err != nil {
			t.Errorf("New(%q): %v", m, err)
		}
	}
	modes[0] = "changed"
	if Modes()[0] != DefaultMode {
		t.Error("Modes returned a slice the caller can change")
	}
}
