package signature

import (
	"strings"
	"testing"
	"time"
)

// BenchmarkVerify checks a ~500-byte delivery as the receiver does: one
// secret, and two during a rotation's grace period.
func BenchmarkVerify(b *testing.B) {
	body := []byte(`{"event_type":"security_alert","data":{"alert_id":"a-1","severity":"high","note":"` + strings.Repeat("x", 420) + `"}}`)
	at := time.Unix(1705320000, 0)
	sig, ts := Sign([]byte("current-secret"), at, body)
	for _, tc := range []struct {
		name    string
		secrets [][]byte
	}{
		{"one-secret", [][]byte{[]byte("current-secret")}},
		{"rotation", [][]byte{[]byte("current-secret"), []byte("previous-secret")}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			v := Verifier{Secrets: tc.secrets, Now: func() time.Time { return at }}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if err := v.Verify(sig, ts, body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParseSignatures parses the header forms senders send.
func BenchmarkParseSignatures(b *testing.B) {
	hex := strings.Repeat("ab", 32)
	for name, header := range map[string]string{
		"plain":   "sha256=" + hex,
		"openssl": "sha256=SHA2-256(stdin)= " + hex,
		"two":     "sha256=" + hex + ",sha256=" + hex,
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParseSignatures(header); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
