package verify

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tw-cli/tw-cli/pkg/signature"
)

// Credentials are what a sender adds to a delivery for a mode to accept
// it: headers, and for url-token a query parameter.
type Credentials struct {
	Header http.Header
	Query  url.Values
}

// Sign authenticates body as a sender of mode would at time at, with the
// source's secret (stored the way New expects it); the receiver's
// verifier for the mode accepts the result. Standard Webhooks deliveries
// get a fresh message id.
func Sign(mode string, secret []byte, at time.Time, body []byte) (Credentials, error) {
	c := Credentials{Header: http.Header{}, Query: url.Values{}}
	ts := strconv.FormatInt(at.Unix(), 10)
	switch mode {
	case ModeHMAC:
		sig, sts := signature.Sign(secret, at, body)
		c.Header.Set(signature.SignatureHeader, sig)
		c.Header.Set(signature.TimestampHeader, sts)
	case ModeGitHub:
		c.Header.Set(GitHubSignatureHeader, "sha256="+hex.EncodeToString(hmacSHA256(secret, body)))
	case ModeSlack:
		c.Header.Set(SlackTimestampHeader, ts)
		c.Header.Set(SlackSignatureHeader, "v0="+hex.EncodeToString(hmacSHA256(secret, []byte("v0:"+ts+":"), body)))
	case ModeStandardWebhooks:
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(string(secret), StandardWebhooksSecretPrefix))
		if err != nil || len(key) == 0 {
			return c, fmt.Errorf("the secret is not %s<base64>, as mode %s needs", StandardWebhooksSecretPrefix, ModeStandardWebhooks)
		}
		var b [12]byte
		if _, err := rand.Read(b[:]); err != nil {
			return c, err
		}
		id := "msg_" + hex.EncodeToString(b[:])
		c.Header.Set(StandardWebhooksIDHeader, id)
		c.Header.Set(StandardWebhooksTimestampHeader, ts)
		c.Header.Set(StandardWebhooksSignatureHeader, "v1,"+base64.StdEncoding.EncodeToString(hmacSHA256(key, []byte(id+"."+ts+"."), body)))
	case ModeBearer:
		c.Header.Set(AuthorizationHeader, "Bearer "+string(secret))
	case ModeBasic:
		user, password, ok := strings.Cut(string(secret), ":")
		if !ok {
			return c, fmt.Errorf("the secret is not user:password, as mode %s needs", ModeBasic)
		}
		r := &http.Request{Header: c.Header}
		r.SetBasicAuth(user, password)
	case ModeURLToken:
		c.Query.Set(DefaultTokenParam, string(secret))
	case ModeNone:
	default:
		return c, unknownMode(mode)
	}
	return c, nil
}
