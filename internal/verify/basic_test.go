package verify

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestBasicBad(t *testing.T) {
	const good = "basic/authorization"
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	runBadCases(t, []badCase{
		{name: "missing", vector: good, mutate: delHeader("Authorization"),
			want: ErrInvalidSignature, msg: "missing Authorization: Basic header"},
		{name: "bearer scheme", vector: good, mutate: setHeader("Authorization", "Bearer splunk-alerts:c0rrect:horse battery"),
			want: ErrInvalidSignature, msg: "malformed Authorization header: want Basic base64(user:password)"},
		{name: "not base64", vector: good, mutate: setHeader("Authorization", "Basic splunk-alerts:c0rrect:horse battery"),
			want: ErrInvalidSignature, msg: "malformed Authorization header"},
		{name: "no colon", vector: good, mutate: setHeader("Authorization", "Basic "+b64("splunk-alerts")),
			want: ErrInvalidSignature, msg: "malformed Authorization header"},
		{name: "wrong password", vector: good, mutate: setHeader("Authorization", "Basic "+b64("splunk-alerts:c0rrect:horse")),
			want: ErrInvalidSignature, msg: "basic credentials do not match the source's secrets"},
		{name: "wrong user", vector: good, mutate: setHeader("Authorization", "Basic "+b64("Splunk-alerts:c0rrect:horse battery")),
			want: ErrInvalidSignature, msg: "do not match"},
		{name: "empty credentials", vector: good, mutate: setHeader("Authorization", "Basic "+b64(":")),
			want: ErrInvalidSignature, msg: "do not match"},
		{name: "only the previous secret known", vector: "basic/previous-secret", secrets: []string{"splunk-alerts:c0rrect:horse battery"},
			want: ErrInvalidSignature, msg: "do not match"},
	})
}

func TestBasicSecrets(t *testing.T) {
	const secret = "no-colon-in-this-password"
	_, err := New(ModeBasic, [][]byte{[]byte("user:ok"), []byte(secret)}, Options{})
	if err == nil {
		t.Fatal("New accepted a secret without a colon")
	}
	if !strings.Contains(err.Error(), "secret #2 is not user:password") || strings.Contains(err.Error(), secret) {
		t.Errorf("error %q: want the secret's number and not the secret", err)
	}
}
