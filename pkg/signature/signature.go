// Package signature signs and verifies webhook deliveries with the scheme of
// tw-cli's receiver: an HMAC-SHA256 over "<timestamp>.<raw body>", sent as
//
//	X-Webhook-Signature: sha256=<lowercase hex>
//	X-Webhook-Timestamp: <unix seconds>
//
// Senders written in Go can import this package to sign what they POST.
package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Header names of the scheme.
const (
	SignatureHeader = "X-Webhook-Signature"
	TimestampHeader = "X-Webhook-Timestamp"
	// IDHeader names a delivery, the same on each of its retries, so that
	// a receiver stores it once (a retry is signed anew).
	IDHeader = "X-Webhook-Id"
	prefix   = "sha256="
)

// DefaultTolerance is how far a timestamp may be from the receiver's clock,
// in either direction, before a delivery is rejected as expired.
const DefaultTolerance = 5 * time.Minute

// Errors returned by Verify. They are distinct so the receiver can map each
// to its wire error code.
var (
	ErrMissingSignature = errors.New("missing " + SignatureHeader + " header")
	ErrMissingTimestamp = errors.New("missing " + TimestampHeader + " header")
	ErrMalformedHeader  = errors.New("malformed " + SignatureHeader + " header: want sha256=<hex>")
	ErrBadTimestamp     = errors.New("malformed " + TimestampHeader + " header: want unix seconds")
	ErrMismatch         = errors.New("webhook signature verification failed")
	ErrExpired          = errors.New("webhook timestamp is outside the allowed window")
)

// Compute returns the lowercase hex HMAC-SHA256 of "<timestamp>.<body>".
func Compute(secret []byte, timestamp string, body []byte) string {
	return hex.EncodeToString(hmacSum(secret, timestamp, body))
}

// Sign returns the two header values a sender sets for body at time t.
func Sign(secret []byte, t time.Time, body []byte) (sigHeader, tsHeader string) {
	ts := strconv.FormatInt(t.Unix(), 10)
	return prefix + Compute(secret, ts, body), ts
}

// SignRequest sets the signature headers on req for body.
func SignRequest(req *http.Request, secret []byte, t time.Time, body []byte) {
	sig, ts := Sign(secret, t, body)
	req.Header.Set(SignatureHeader, sig)
	req.Header.Set(TimestampHeader, ts)
}

// sigRE matches one signature. Seed 003's recipe pipes `openssl dgst
// -sha256 -hmac` straight into the header, and openssl labels its output:
// "(stdin)= <hex>" (1.x) or "SHA2-256(stdin)= <hex>" (3.x). The recipe must
// work byte for byte, so that label is accepted and ignored. Compiled on
// first use: only a shell pipe's header needs it, and every command
// starts this package.
var sigRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^sha256=(?:[A-Za-z0-9-]{0,32}\((?:stdin|-)\)=\s*)?([0-9a-fA-F]{64})$`)
})

// ParseSignatures splits a signature header into its raw MACs. Several
// "sha256=" values separated by commas or spaces are allowed so that a sender
// rotating its secret can send both signatures at once. Entries that are
// empty or not a sha256 MAC (a newer scheme sent alongside) are skipped;
// the header is malformed only when no MAC is left.
func ParseSignatures(header string) ([][]byte, error) {
	header = strings.TrimSpace(header)
	if header == "" {
		return nil, ErrMissingSignature
	}
	if len(header) > 1024 {
		return nil, ErrMalformedHeader
	}
	var out [][]byte
	// SplitSeq, not Split: no slice to allocate for the one signature
	// nearly every delivery carries.
	for part := range strings.SplitSeq(header, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue // "sha256=…," or two header lines joined
		}
		// "sha256=a sha256=b": split before each prefix, never inside the
		// openssl label, which holds a space too.
		first := true
		for sig := range strings.SplitSeq(part, " "+prefix) {
			if !first { // the split removed the prefix of every later piece
				sig = prefix + sig
			}
			first = false
			sig = strings.TrimSpace(sig)
			// The plain form, what every sender but a shell pipe sends,
			// needs no regexp: hex.DecodeString checks the 64 digits.
			digits, ok := strings.CutPrefix(sig, prefix)
			if !ok || len(digits) != 64 {
				m := sigRE().FindStringSubmatch(sig)
				if m == nil {
					continue
				}
				digits = m[1]
			}
			mac, err := hex.DecodeString(digits)
			if err != nil {
				continue
			}
			out = append(out, mac)
		}
	}
	if len(out) == 0 {
		return nil, ErrMalformedHeader
	}
	return out, nil
}

// ParseTimestamp parses the timestamp header as unix seconds.
func ParseTimestamp(header string) (time.Time, error) {
	header = strings.TrimSpace(header)
	if header == "" {
		return time.Time{}, ErrMissingTimestamp
	}
	// Ten or so digits; a bound keeps absurd values from overflowing.
	if len(header) > 12 {
		return time.Time{}, ErrBadTimestamp
	}
	n, err := strconv.ParseInt(header, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, ErrBadTimestamp
	}
	return time.Unix(n, 0), nil
}

// Verifier checks deliveries against one or more secrets (the current one
// and, during a rotation's grace period, the previous one).
type Verifier struct {
	Secrets   [][]byte
	Tolerance time.Duration // DefaultTolerance when zero
	Now       func() time.Time
}

// Verify checks the headers against body. The MAC is checked before the
// timestamp window so that an unauthenticated caller learns nothing about
// the clock; a correctly signed but stale delivery returns ErrExpired.
func (v Verifier) Verify(sigHeader, tsHeader string, body []byte) error {
	macs, err := ParseSignatures(sigHeader)
	if err != nil {
		return err
	}
	ts, err := ParseTimestamp(tsHeader)
	if err != nil {
		return err
	}
	tsText := strings.TrimSpace(tsHeader)
	matched := false
	for _, secret := range v.Secrets {
		want := hmacSum(secret, tsText, body)
		for _, mac := range macs {
			// Every comparison runs; no early exit that would time secrets.
			if hmac.Equal(want, mac) {
				matched = true
			}
		}
	}
	if !matched {
		return ErrMismatch
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	tol := v.Tolerance
	if tol == 0 {
		tol = DefaultTolerance
	}
	d := now().Sub(ts)
	if d > tol || d < -tol {
		return fmt.Errorf("%w: %s is %s from now", ErrExpired, tsText, d.Round(time.Second))
	}
	return nil
}

func hmacSum(secret []byte, ts string, body []byte) []byte {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return mac.Sum(nil)
}
