package verify

import (
	"fmt"
	"net/textproto"
	"strings"
)

// AuthorizationHeader is where the bearer and basic modes look.
const AuthorizationHeader = "Authorization"

// bearerVerifier accepts "Authorization: Bearer <secret>", and also the
// bare secret in Options.TokenHeader when one is set: Thinkst Canary does
// not sign its webhooks and can only add custom headers to a generic one.
// A token authenticates the sender but covers neither the body nor a
// time, so this mode is for senders that can do nothing better.
type bearerVerifier struct {
	digests [][]byte
	header  string // canonical Options.TokenHeader, "" if unset
}

func newBearerVerifier(secrets [][]byte, opts Options) (Verifier, error) {
	header := ""
	if opts.TokenHeader != "" {
		if strings.ContainsAny(opts.TokenHeader, " \t\r\n:") {
			return nil, fmt.Errorf("verify: mode %s: token header %q is not a header name", ModeBearer, opts.TokenHeader)
		}
		header = textproto.CanonicalMIMEHeaderKey(opts.TokenHeader)
		if header == AuthorizationHeader {
			// Authorization is always read, as a Bearer credential.
			header = ""
		}
	}
	return bearerVerifier{digests: tokenDigests(secrets), header: header}, nil
}

func (v bearerVerifier) Verify(r Request) (Result, error) {
	var tokens []string
	auth := r.Header.Get(AuthorizationHeader)
	// The auth-scheme name is case-insensitive (RFC 9110, section 11.1).
	if scheme, token, ok := strings.Cut(auth, " "); ok && strings.EqualFold(scheme, "Bearer") {
		tokens = append(tokens, strings.TrimSpace(token))
	}
	if v.header != "" {
		if token := r.Header.Get(v.header); token != "" {
			tokens = append(tokens, token)
		}
	}
	if len(tokens) == 0 {
		return Result{}, v.missing(auth != "")
	}
	matched := false
	for _, token := range tokens {
		if anyTokenMatches(v.digests, token) {
			matched = true
		}
	}
	if !matched {
		return Result{}, invalid("bearer token does not match the source's secrets")
	}
	return Result{Mode: ModeBearer}, nil
}

// missing says which headers were looked for, so that a user wiring a
// sender sees at once where the token has to go.
func (v bearerVerifier) missing(otherAuthScheme bool) error {
	want := "Authorization: Bearer"
	if v.header != "" {
		want += " or " + v.header
	}
	if otherAuthScheme {
		return invalid("Authorization header is not a Bearer token; want %s header", want)
	}
	return invalid("missing %s header", want)
}
