package signature

import (
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"
)

type vector struct {
	Secret    string `json:"secret"`
	Timestamp string `json:"timestamp"`
	Body      string `json:"body"`
	Hex       string `json:"hex"`
}

// The vectors were computed by openssl (testdata/signature/gen.sh), not by
// this package.
func loadVectors(t *testing.T) []vector {
	t.Helper()
	data, err := os.ReadFile("../../testdata/signature/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vs []vector
	if err := json.Unmarshal(data, &vs); err != nil {
		t.Fatal(err)
	}
	if len(vs) < 4 {
		t.Fatalf("only %d vectors", len(vs))
	}
	return vs
}

func TestComputeMatchesOpenSSL(t *testing.T) {
	for _, v := range loadVectors(t) {
		if got := Compute([]byte(v.Secret), v.Timestamp, []byte(v.Body)); got != v.Hex {
			t.Errorf("Compute(%q, %s) = %s, openssl says %s", v.Secret, v.Timestamp, got, v.Hex)
		}
	}
}

func TestVerify(t *testing.T) {
	vs := loadVectors(t)
	v := vs[0] // secret "your-secret", ts 1705320000, seed 003's test body
	at := time.Unix(1705320000, 0)
	fixed := func(d time.Duration) func() time.Time { return func() time.Time { return at.Add(d) } }
	good := "sha256=" + v.Hex
	other := "sha256=" + vs[1].Hex

	tests := []struct {
		name    string
		secrets []string
		sig, ts string
		body    string
		now     func() time.Time
		want    error
	}{
		{"valid", []string{v.Secret}, good, v.Timestamp, v.Body, fixed(0), nil},
		{"openssl 3 label as the seed's recipe sends it", []string{v.Secret}, "sha256=SHA2-256(stdin)= " + v.Hex, v.Timestamp, v.Body, fixed(0), nil},
		{"openssl 1 label", []string{v.Secret}, "sha256=(stdin)= " + v.Hex, v.Timestamp, v.Body, fixed(0), nil},
		{"uppercase hex", []string{v.Secret}, "sha256=" + upper(v.Hex), v.Timestamp, v.Body, fixed(0), nil},
		{"second of two signatures (rotation)", []string{v.Secret}, other + "," + good, v.Timestamp, v.Body, fixed(0), nil},
		{"space separated signatures", []string{v.Secret}, other + " " + good, v.Timestamp, v.Body, fixed(0), nil},
		{"trailing comma", []string{v.Secret}, good + ",", v.Timestamp, v.Body, fixed(0), nil},
		{"an unparsable entry before the good one", []string{v.Secret}, "sha256=zz, " + good, v.Timestamp, v.Body, fixed(0), nil},
		{"another scheme alongside", []string{v.Secret}, good + ", sha512=abcd", v.Timestamp, v.Body, fixed(0), nil},
		{"empty entries only", []string{v.Secret}, " , ,", v.Timestamp, v.Body, fixed(0), ErrMalformedHeader},
		{"previous secret during grace", []string{"new-secret", v.Secret}, good, v.Timestamp, v.Body, fixed(0), nil},
		{"4m59s old", []string{v.Secret}, good, v.Timestamp, v.Body, fixed(299 * time.Second), nil},
		{"4m59s ahead", []string{v.Secret}, good, v.Timestamp, v.Body, fixed(-299 * time.Second), nil},
		{"wrong secret", []string{"nope"}, good, v.Timestamp, v.Body, fixed(0), ErrMismatch},
		{"body changed by one byte", []string{v.Secret}, good, v.Timestamp, v.Body + " ", fixed(0), ErrMismatch},
		{"timestamp changed", []string{v.Secret}, good, "1705320001", v.Body, fixed(0), ErrMismatch},
		{"other signature only", []string{v.Secret}, other, v.Timestamp, v.Body, fixed(0), ErrMismatch},
		{"missing signature", []string{v.Secret}, "", v.Timestamp, v.Body, fixed(0), ErrMissingSignature},
		{"missing timestamp", []string{v.Secret}, good, "", v.Body, fixed(0), ErrMissingTimestamp},
		{"no prefix", []string{v.Secret}, v.Hex, v.Timestamp, v.Body, fixed(0), ErrMalformedHeader},
		{"sha1 prefix", []string{v.Secret}, "sha1=" + v.Hex, v.Timestamp, v.Body, fixed(0), ErrMalformedHeader},
		{"short hex", []string{v.Secret}, "sha256=" + v.Hex[:62], v.Timestamp, v.Body, fixed(0), ErrMalformedHeader},
		{"non-hex", []string{v.Secret}, "sha256=" + v.Hex[:63] + "g", v.Timestamp, v.Body, fixed(0), ErrMalformedHeader},
		{"timestamp not a number", []string{v.Secret}, good, "yesterday", v.Body, fixed(0), ErrBadTimestamp},
		{"timestamp negative", []string{v.Secret}, good, "-5", v.Body, fixed(0), ErrBadTimestamp},
		{"timestamp in milliseconds overflowing", []string{v.Secret}, good, "1705320000000000", v.Body, fixed(0), ErrBadTimestamp},
		{"5m01s old", []string{v.Secret}, good, v.Timestamp, v.Body, fixed(301 * time.Second), ErrExpired},
		{"5m01s ahead", []string{v.Secret}, good, v.Timestamp, v.Body, fixed(-301 * time.Second), ErrExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var secrets [][]byte
			for _, s := range tt.secrets {
				secrets = append(secrets, []byte(s))
			}
			err := Verifier{Secrets: secrets, Now: tt.now}.Verify(tt.sig, tt.ts, []byte(tt.body))
			if tt.want == nil && err != nil {
				t.Fatalf("Verify = %v, want success", err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSignRoundTrip(t *testing.T) {
	at := time.Unix(1705320000, 0)
	sig, ts := Sign([]byte("your-secret"), at, []byte(`{"event_type":"test","data":{}}`))
	if ts != "1705320000" {
		t.Fatalf("timestamp header = %q", ts)
	}
	if sig != "sha256="+loadVectors(t)[0].Hex {
		t.Fatalf("Sign = %s, want the openssl vector", sig)
	}
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'f' {
			b[i] = c - 32
		}
	}
	return string(b)
}

func FuzzParseSignatures(f *testing.F) {
	f.Add("sha256=8ad00c4e6f4b6c5b3d4dcece915fd33fd924a31c208133e2a75b6bb9af1617e3")
	f.Add("sha256=SHA2-256(stdin)= 8ad00c4e6f4b6c5b3d4dcece915fd33fd924a31c208133e2a75b6bb9af1617e3")
	f.Add("sha256=a,sha256=b c")
	f.Add("")
	f.Fuzz(func(t *testing.T, header string) {
		macs, err := ParseSignatures(header)
		if err == nil {
			for _, m := range macs {
				if len(m) != 32 {
					t.Fatalf("accepted a %d-byte MAC from %q", len(m), header)
				}
			}
		} else if !errors.Is(err, ErrMalformedHeader) && !errors.Is(err, ErrMissingSignature) {
			t.Fatalf("unexpected error type %v", err)
		}
	})
}

func FuzzParseTimestamp(f *testing.F) {
	for _, s := range []string{"1705320000", "", "-1", "99999999999999", " 17 ", "1e9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		ts, err := ParseTimestamp(header)
		if err == nil && ts.Unix() < 0 {
			t.Fatalf("accepted negative time from %q", header)
		}
	})
}
