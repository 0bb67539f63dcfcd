package verify

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Header names of GitHub's webhook deliveries.
const (
	GitHubSignatureHeader = "X-Hub-Signature-256"
	GitHubDeliveryHeader  = "X-GitHub-Delivery"
)

// githubVerifier checks X-Hub-Signature-256: sha256=<hex HMAC of the body>.
// The legacy SHA-1 X-Hub-Signature is not accepted; GitHub sends both.
//
// GitHub signs no timestamp and not the delivery GUID, so the signature
// alone cannot stop a replay: the receiver's dedupe must remember the
// signature (or the body's hash) as well as X-GitHub-Delivery.
type githubVerifier struct {
	keys [][]byte
}

func (v githubVerifier) Verify(r Request) (Result, error) {
	header := r.Header.Get(GitHubSignatureHeader)
	if header == "" {
		return Result{}, invalid("missing %s header", GitHubSignatureHeader)
	}
	hexMAC, ok := strings.CutPrefix(header, "sha256=")
	mac, err := hex.DecodeString(hexMAC)
	if !ok || err != nil || len(mac) != sha256.Size {
		return Result{}, invalid("malformed %s header: want sha256=<hex>", GitHubSignatureHeader)
	}
	if !anyMACMatches(v.keys, [][]byte{mac}, func(key []byte) []byte { return hmacSHA256(key, r.Body) }) {
		return Result{}, invalid("%s does not match the source's secrets", GitHubSignatureHeader)
	}
	return Result{Mode: ModeGitHub, DeliveryID: r.Header.Get(GitHubDeliveryHeader)}, nil
}
