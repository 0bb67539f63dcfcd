package verify

import (
	"net/url"
	"strings"
	"testing"
)

func TestBearerBad(t *testing.T) {
	const good = "bearer/authorization"
	const token = "tw_hook_6f1c0a9e3b5d47f2a8c1e0d9b7f6a5c4"
	withHeader := &Options{TokenHeader: "X-Auth-Token"}
	runBadCases(t, []badCase{
		{name: "missing", vector: good, mutate: delHeader("Authorization"),
			want: ErrInvalidSignature, msg: "missing Authorization: Bearer header"},
		{name: "missing with a token header", vector: good, mutate: delHeader("Authorization"), options: withHeader,
			want: ErrInvalidSignature, msg: "missing Authorization: Bearer or X-Auth-Token header"},
		{name: "basic scheme", vector: good, mutate: setHeader("Authorization", "Basic "+token),
			want: ErrInvalidSignature, msg: "Authorization header is not a Bearer token"},
		{name: "no scheme", vector: good, mutate: setHeader("Authorization", token),
			want: ErrInvalidSignature, msg: "Authorization header is not a Bearer token"},
		{name: "scheme alone", vector: good, mutate: setHeader("Authorization", "Bearer"),
			want: ErrInvalidSignature, msg: "not a Bearer token"},
		{name: "empty token", vector: good, mutate: setHeader("Authorization", "Bearer "),
			want: ErrInvalidSignature, msg: "bearer token does not match the source's secrets"},
		{name: "prefix of the token", vector: good, mutate: setHeader("Authorization", "Bearer "+token[:len(token)-1]),
			want: ErrInvalidSignature, msg: "does not match"},
		{name: "token and more", vector: good, mutate: setHeader("Authorization", "Bearer "+token+"0"),
			want: ErrInvalidSignature, msg: "does not match"},
		{name: "other case", vector: good, mutate: setHeader("Authorization", "Bearer "+strings.ToUpper(token)),
			want: ErrInvalidSignature, msg: "does not match"},
		{name: "custom header not configured", vector: "bearer/canary-custom-header", options: &Options{},
			want: ErrInvalidSignature, msg: "missing Authorization: Bearer header"},
		{name: "other custom header", vector: "bearer/canary-custom-header", options: &Options{TokenHeader: "X-Api-Key"},
			want: ErrInvalidSignature, msg: "missing Authorization: Bearer or X-Api-Key header"},
		{name: "custom header with a scheme", vector: "bearer/canary-custom-header", mutate: setHeader("X-Auth-Token", "Bearer "+token),
			want: ErrInvalidSignature, msg: "does not match"},
		{name: "in the query", vector: good,
			mutate: func(r *Request) { r.Header.Del("Authorization"); r.Query = url.Values{"token": {token}} },
			want:   ErrInvalidSignature, msg: "missing Authorization: Bearer header"},
		{name: "only the previous secret known", vector: "bearer/previous-secret", secrets: []string{token},
			want: ErrInvalidSignature, msg: "does not match"},
	})
}

// Either place may carry the token; a wrong value in one does not spoil a
// right one in the other, since both are the caller's to choose anyway.
func TestBearerEitherHeader(t *testing.T) {
	v := vectorNamed(t, "bearer/canary-custom-header")
	ver := v.verifier(t)
	r := v.request()
	r.Header.Set("Authorization", "Bearer wrong")
	if _, err := ver.Verify(r); err != nil {
		t.Errorf("right X-Auth-Token, wrong Authorization: %v", err)
	}
	r = v.request()
	r.Header.Set("Authorization", "Bearer "+v.Secrets[0])
	r.Header.Set("X-Auth-Token", "wrong")
	if _, err := ver.Verify(r); err != nil {
		t.Errorf("right Authorization, wrong X-Auth-Token: %v", err)
	}
}

func TestBearerOptions(t *testing.T) {
	secrets := [][]byte{[]byte("tw_hook_6f1c0a9e3b5d47f2a8c1e0d9b7f6a5c4")}
	for _, name := range []string{"X Auth Token", "X-Auth-Token:", "X-Auth\r\nToken"} {
		if _, err := New(ModeBearer, secrets, Options{TokenHeader: name}); err == nil {
			t.Errorf("New accepted token header %q", name)
		}
	}
	// Naming Authorization, in any case, means the usual Bearer credential,
	// not a bare token in it.
	ver, err := New(ModeBearer, secrets, Options{TokenHeader: "authorization"})
	if err != nil {
		t.Fatal(err)
	}
	r := vectorNamed(t, "bearer/authorization").request()
	r.Header.Set("Authorization", string(secrets[0]))
	_, err = ver.Verify(r)
	checkFailure(t, err, ErrInvalidSignature, "want Authorization: Bearer header", secrets)
}
