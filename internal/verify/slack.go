package verify

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
)

// Header names of Slack's v0 request signing.
const (
	SlackSignatureHeader = "X-Slack-Signature"
	SlackTimestampHeader = "X-Slack-Request-Timestamp"
)

// slackVerifier checks Slack's v0 scheme: X-Slack-Signature is
// v0=<hex HMAC-SHA256 of "v0:<timestamp>:<body>">, and the timestamp must
// be within the window.
//
// Slack sends no delivery id header (its retries carry X-Slack-Retry-Num
// and the same body); an Events API body has an event_id that the payload
// layer can dedupe on.
type slackVerifier struct {
	keys      [][]byte
	tolerance time.Duration
}

func (v slackVerifier) Verify(r Request) (Result, error) {
	tsText := r.Header.Get(SlackTimestampHeader)
	ts, err := parseUnixSeconds(SlackTimestampHeader, tsText)
	if err != nil {
		return Result{}, err
	}
	header := r.Header.Get(SlackSignatureHeader)
	if header == "" {
		return Result{}, invalid("missing %s header", SlackSignatureHeader)
	}
	hexMAC, ok := strings.CutPrefix(header, "v0=")
	mac, err := hex.DecodeString(hexMAC)
	if !ok || err != nil || len(mac) != sha256.Size {
		return Result{}, invalid("malformed %s header: want v0=<hex>", SlackSignatureHeader)
	}
	prefix := []byte("v0:" + tsText + ":")
	if !anyMACMatches(v.keys, [][]byte{mac}, func(key []byte) []byte { return hmacSHA256(key, prefix, r.Body) }) {
		return Result{}, invalid("%s does not match the source's secrets", SlackSignatureHeader)
	}
	if err := checkWindow(SlackTimestampHeader, ts, now(r), v.tolerance); err != nil {
		return Result{}, err
	}
	return Result{Mode: ModeSlack, Timestamp: ts}, nil
}
