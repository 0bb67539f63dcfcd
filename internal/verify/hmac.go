package verify

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tw-cli/tw-cli/pkg/signature"
)

// HMACDeliveryIDHeader is the optional delivery id header of tw-cli's own
// scheme. The MAC does not cover it, so a replay may carry a fresh id; the
// timestamp window still bounds such a replay, and the receiver's replay
// check should remember signatures, not only ids, for that window.
const HMACDeliveryIDHeader = "X-Webhook-Id"

// hmacVerifier is the default mode, seed 003's scheme. It delegates to
// pkg/signature, the package senders import to sign, so that both ends run
// one implementation of the scheme.
type hmacVerifier struct {
	secrets   [][]byte
	tolerance time.Duration
}

func newHMACVerifier(secrets [][]byte, opts Options) hmacVerifier {
	return hmacVerifier{secrets: secrets, tolerance: opts.Tolerance}
}

func (v hmacVerifier) Verify(r Request) (Result, error) {
	at := now(r)
	sv := signature.Verifier{
		Secrets:   v.secrets,
		Tolerance: v.tolerance,
		Now:       func() time.Time { return at },
	}
	// Repeated header lines are one comma-separated list (RFC 9110, 5.3):
	// a sender rotating its secret may add each signature on its own line.
	sigHeader := r.Header.Get(signature.SignatureHeader)
	if vals := r.Header.Values(signature.SignatureHeader); len(vals) > 1 {
		sigHeader = strings.Join(vals, ",")
	}
	tsHeader := r.Header.Get(signature.TimestampHeader)
	if err := sv.Verify(sigHeader, tsHeader, r.Body); err != nil {
		return Result{}, v.classify(err, tsHeader, at)
	}
	// Verify has already parsed the header once; this cannot fail.
	ts, _ := signature.ParseTimestamp(tsHeader)
	return Result{
		Mode:       ModeHMAC,
		DeliveryID: r.Header.Get(HMACDeliveryIDHeader),
		Timestamp:  ts,
	}, nil
}

// classify wraps pkg/signature's distinct errors into this package's two
// classes. Most of its messages already name the header; an expiry is
// described again here so that it reads like the other modes' expiries.
func (v hmacVerifier) classify(err error, tsHeader string, at time.Time) error {
	switch {
	case errors.Is(err, signature.ErrExpired):
		if ts, perr := signature.ParseTimestamp(tsHeader); perr == nil {
			if werr := checkWindow(signature.TimestampHeader, ts, at, v.tolerance); werr != nil {
				return werr
			}
		}
		return fmt.Errorf("%w: %w", ErrExpired, err)
	case errors.Is(err, signature.ErrMismatch):
		return fmt.Errorf("%w: no %s value matches the source's secrets", ErrInvalidSignature, signature.SignatureHeader)
	default:
		return fmt.Errorf("%w: %w", ErrInvalidSignature, err)
	}
}
