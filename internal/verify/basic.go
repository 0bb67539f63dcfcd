package verify

import (
	"bytes"
	"fmt"
	"net/http"
)

// basicVerifier accepts HTTP Basic authentication, for senders whose
// webhook settings only offer a user and a password. Each secret is stored
// as "user:password", the form Basic credentials take once decoded; like
// a bearer token it covers neither the body nor a time.
type basicVerifier struct {
	digests [][]byte
}

func newBasicVerifier(secrets [][]byte) (Verifier, error) {
	for i, s := range secrets {
		if !bytes.Contains(s, []byte(":")) {
			return nil, fmt.Errorf("verify: mode %s: secret #%d is not user:password", ModeBasic, i+1)
		}
	}
	return basicVerifier{digests: tokenDigests(secrets)}, nil
}

func (v basicVerifier) Verify(r Request) (Result, error) {
	if r.Header.Get(AuthorizationHeader) == "" {
		return Result{}, invalid("missing Authorization: Basic header")
	}
	// net/http's parser, for its handling of the scheme's case and of
	// padding; it splits at the first colon, as RFC 7617 requires.
	user, password, ok := (&http.Request{Header: r.Header}).BasicAuth()
	if !ok {
		return Result{}, invalid("malformed Authorization header: want Basic base64(user:password)")
	}
	if !anyTokenMatches(v.digests, user+":"+password) {
		return Result{}, invalid("basic credentials do not match the source's secrets")
	}
	return Result{Mode: ModeBasic}, nil
}
