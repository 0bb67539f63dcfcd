package verify

import (
	"testing"
	"time"
)

// What Sign produces is what each mode's verifier accepts, and with
// another secret it is refused.
func TestSignVerifiesInEveryMode(t *testing.T) {
	at := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	body := []byte(`{"event_type":"test","data":{}}`)
	secrets := map[string]string{
		ModeStandardWebhooks: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		ModeBasic:            "alice:s3cret",
	}
	for _, mode := range Modes() {
		t.Run(mode, func(t *testing.T) {
			secret := secrets[mode]
			if secret == "" {
				secret = "your-secret-key"
			}
			c, err := Sign(mode, []byte(secret), at, body)
			if err != nil {
				t.Fatal(err)
			}
			v, err := New(mode, [][]byte{[]byte(secret)}, Options{Tolerance: 5 * time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			req := Request{Header: c.Header, Query: c.Query, Body: body, Now: at.Add(time.Second)}
			if _, err := v.Verify(req); err != nil {
				t.Fatalf("signed delivery refused: %v (headers %v, query %v)", err, c.Header, c.Query)
			}
			if mode == ModeNone {
				return
			}
			other := "whsec_" + "b3RoZXItc2VjcmV0LWtleQ=="
			if mode == ModeBasic {
				other = "bob:other"
			} else if mode != ModeStandardWebhooks {
				other = "another-secret"
			}
			v, _ = New(mode, [][]byte{[]byte(other)}, Options{Tolerance: 5 * time.Minute})
			if _, err := v.Verify(req); err == nil {
				t.Fatal("accepted with another secret")
			}
		})
	}
	if _, err := Sign("sha1-legacy", []byte("x"), at, body); err == nil {
		t.Fatal("an unknown mode signed")
	}
}
