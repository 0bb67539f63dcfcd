package verify

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"time"
)

// Header names of the Standard Webhooks spec (standardwebhooks.com), in
// the spec's lowercase spelling; http.Header.Get canonicalizes them.
const (
	StandardWebhooksIDHeader        = "webhook-id"
	StandardWebhooksTimestampHeader = "webhook-timestamp"
	StandardWebhooksSignatureHeader = "webhook-signature"
	// StandardWebhooksSecretPrefix marks a base64 signing secret.
	StandardWebhooksSecretPrefix = "whsec_"
)

// standardWebhooksVerifier checks the spec's symmetric scheme: v1 entries
// of HMAC-SHA256 over "<webhook-id>.<webhook-timestamp>.<body>", base64,
// space separated so a rotating sender can send several.
type standardWebhooksVerifier struct {
	keys      [][]byte
	tolerance time.Duration
}

// newStandardWebhooksVerifier decodes the secrets. The key is the bytes
// the base64 after "whsec_" stands for, not that text; the prefix is
// optional, as in the spec's reference libraries, for a user who stored
// only the base64 part.
func newStandardWebhooksVerifier(secrets [][]byte, opts Options) (Verifier, error) {
	keys := make([][]byte, len(secrets))
	for i, s := range secrets {
		b64 := strings.TrimPrefix(string(s), StandardWebhooksSecretPrefix)
		key, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(key) == 0 {
			return nil, fmt.Errorf("verify: mode %s: secret #%d is not %s<base64>", ModeStandardWebhooks, i+1, StandardWebhooksSecretPrefix)
		}
		keys[i] = key
	}
	return standardWebhooksVerifier{keys: keys, tolerance: opts.Tolerance}, nil
}

func (v standardWebhooksVerifier) Verify(r Request) (Result, error) {
	id := r.Header.Get(StandardWebhooksIDHeader)
	if id == "" {
		return Result{}, invalid("missing %s header", StandardWebhooksIDHeader)
	}
	// The signed content joins id, timestamp and body with dots, so a dot
	// in the id would let a captured delivery be re-split into another id
	// and timestamp under the same MAC; the spec forbids it for that reason.
	if strings.Contains(id, ".") {
		return Result{}, invalid("%s header contains a '.'", StandardWebhooksIDHeader)
	}
	tsText := r.Header.Get(StandardWebhooksTimestampHeader)
	ts, err := parseUnixSeconds(StandardWebhooksTimestampHeader, tsText)
	if err != nil {
		return Result{}, err
	}
	sigHeader := r.Header.Get(StandardWebhooksSignatureHeader)
	if sigHeader == "" {
		return Result{}, invalid("missing %s header", StandardWebhooksSignatureHeader)
	}
	macs := parseStandardWebhooksSignatures(sigHeader)
	if len(macs) == 0 {
		return Result{}, invalid("%s header has no v1,<base64> entry", StandardWebhooksSignatureHeader)
	}
	prefix := []byte(id + "." + tsText + ".")
	if !anyMACMatches(v.keys, macs, func(key []byte) []byte { return hmacSHA256(key, prefix, r.Body) }) {
		return Result{}, invalid("no v1 entry of the %s header matches the source's secrets", StandardWebhooksSignatureHeader)
	}
	if err := checkWindow(StandardWebhooksTimestampHeader, ts, now(r), v.tolerance); err != nil {
		return Result{}, err
	}
	return Result{Mode: ModeStandardWebhooks, DeliveryID: id, Timestamp: ts}, nil
}

// parseStandardWebhooksSignatures returns the MACs of the well-formed v1
// entries. Other versions are skipped, not refused: the spec lets a sender
// add entries a receiver does not know, such as v1a (ed25519), which
// tw-cli's shared secrets cannot check.
func parseStandardWebhooksSignatures(header string) [][]byte {
	var macs [][]byte
	for _, entry := range strings.Fields(header) {
		version, sig, ok := strings.Cut(entry, ",")
		if !ok || version != "v1" {
			continue
		}
		mac, err := base64.StdEncoding.DecodeString(sig)
		if err != nil || len(mac) != sha256.Size {
			continue
		}
		macs = append(macs, mac)
	}
	return macs
}
