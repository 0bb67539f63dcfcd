package verify

import (
	"fmt"
	"net/url"
)

// urlTokenVerifier accepts a secret token in the URL query, for Splunk's
// webhook alert action, which posts to a URL and can set no header at
// all. The token then sits in the sender's configuration, in proxies and
// in access logs, so the receiver must log request paths without their
// query, and the token must be a long random one used for nothing else.
type urlTokenVerifier struct {
	digests [][]byte
	param   string
}

func newURLTokenVerifier(secrets [][]byte, opts Options) (Verifier, error) {
	param := opts.TokenParam
	if param == "" {
		param = DefaultTokenParam
	}
	if url.QueryEscape(param) != param {
		return nil, fmt.Errorf("verify: mode %s: token parameter %q needs escaping in a URL", ModeURLToken, param)
	}
	return urlTokenVerifier{digests: tokenDigests(secrets), param: param}, nil
}

func (v urlTokenVerifier) Verify(r Request) (Result, error) {
	token := r.Query.Get(v.param)
	if token == "" {
		return Result{}, invalid("missing ?%s= query parameter", v.param)
	}
	if !anyTokenMatches(v.digests, token) {
		return Result{}, invalid("?%s= token does not match the source's secrets", v.param)
	}
	return Result{Mode: ModeURLToken}, nil
}
