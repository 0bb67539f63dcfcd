// Package verify authenticates an incoming webhook delivery with the
// verification mode of its source. tw-cli's own HMAC header (seed 003) is
// the default, but most security tools cannot send it: GitHub, Slack and
// Standard Webhooks senders sign in their own schemes, Thinkst Canary can
// only add a fixed header, and Splunk's webhook alert action can set
// nothing but the URL. Each mode lives in its own file.
//
// A Verifier looks only at the raw body bytes and the request's metadata,
// so the receiver runs it before it parses anything. Every failure wraps
// exactly one of ErrInvalidSignature or ErrExpired, the two wire codes the
// receiver answers with; messages name the header at fault and never
// contain a secret.
package verify

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tw-cli/tw-cli/pkg/signature"
)

// Verification modes, as named by `webhook add --verify`.
const (
	ModeHMAC             = "hmac"
	ModeStandardWebhooks = "standard-webhooks"
	ModeGitHub           = "github"
	ModeSlack            = "slack"
	ModeBearer           = "bearer"
	ModeBasic            = "basic"
	ModeURLToken         = "url-token"
	ModeNone             = "none"
)

// DefaultMode is the mode of a source that names none.
const DefaultMode = ModeHMAC

// DefaultTolerance is how far a signed timestamp may be from the
// receiver's clock, in either direction; seed 003 says 5 minutes, and so
// do Slack and the Standard Webhooks reference libraries.
const DefaultTolerance = signature.DefaultTolerance

// DefaultTokenParam is the query parameter the url-token mode reads.
const DefaultTokenParam = "token"

// The two classes of verification failure. The receiver answers
// invalid_signature and timestamp_expired (both 401) for them; test with
// errors.Is.
var (
	ErrInvalidSignature = errors.New("invalid signature")
	ErrExpired          = errors.New("timestamp expired")
)

// Request is what a verifier may look at: the raw body bytes (verified
// before anything parses them), the headers, the URL query and the remote
// address.
type Request struct {
	Header     http.Header
	Query      url.Values
	Body       []byte
	RemoteAddr string
	// Now is the receiver's clock for timestamp windows; time.Now() when
	// zero. Tests set it so that fixed vectors stay valid.
	Now time.Time
}

// Result describes a delivery that passed verification.
type Result struct {
	Mode string
	// DeliveryID is the scheme's delivery id for dedupe, "" if it has none.
	DeliveryID string
	// Timestamp is the signed send time, zero if the scheme has none.
	Timestamp time.Time
}

// Verifier checks one delivery. Implementations are immutable after New
// and safe for concurrent use.
type Verifier interface {
	Verify(r Request) (Result, error)
}

// Options tune the modes that need more than a secret.
type Options struct {
	// Tolerance bounds the timestamp window of hmac, standard-webhooks
	// and slack; DefaultTolerance when zero.
	Tolerance time.Duration
	// TokenHeader is a header that carries the bare bearer token, accepted
	// besides "Authorization: Bearer", for senders such as Thinkst Canary
	// that can add a custom header but not an Authorization one.
	TokenHeader string
	// TokenParam is the url-token query parameter; DefaultTokenParam when
	// empty.
	TokenParam string
}

// Modes lists the verification modes New accepts, the default first.
func Modes() []string {
	return []string{
		ModeHMAC,
		ModeStandardWebhooks,
		ModeGitHub,
		ModeSlack,
		ModeBearer,
		ModeBasic,
		ModeURLToken,
		ModeNone,
	}
}

// New builds the verifier of mode ("" means DefaultMode). secrets holds
// the current secret first, then previous ones still in their rotation
// grace period; a delivery matching any of them passes. Mode "none" is
// built only when named: it accepts every delivery.
func New(mode string, secrets [][]byte, opts Options) (Verifier, error) {
	if mode == "" {
		mode = DefaultMode
	}
	// Checked before the secrets, so that a typo in the mode is what the
	// user hears about.
	if !slices.Contains(Modes(), mode) {
		return nil, unknownMode(mode)
	}
	if opts.Tolerance < 0 {
		return nil, fmt.Errorf("verify: tolerance must not be negative, got %s", opts.Tolerance)
	}
	if opts.Tolerance == 0 {
		opts.Tolerance = DefaultTolerance
	}
	if mode == ModeNone {
		return noneVerifier{}, nil
	}
	keys, err := copySecrets(mode, secrets)
	if err != nil {
		return nil, err
	}
	switch mode {
	case ModeHMAC:
		return newHMACVerifier(keys, opts), nil
	case ModeStandardWebhooks:
		return newStandardWebhooksVerifier(keys, opts)
	case ModeGitHub:
		return githubVerifier{keys: keys}, nil
	case ModeSlack:
		return slackVerifier{keys: keys, tolerance: opts.Tolerance}, nil
	case ModeBearer:
		return newBearerVerifier(keys, opts)
	case ModeBasic:
		return newBasicVerifier(keys)
	case ModeURLToken:
		return newURLTokenVerifier(keys, opts)
	default:
		return nil, unknownMode(mode)
	}
}

func unknownMode(mode string) error {
	return fmt.Errorf("verify: unknown mode %q (known: %s)", mode, strings.Join(Modes(), ", "))
}

// copySecrets rejects an empty secret list or secret, which would
// authenticate nobody or, for the token modes, anybody sending an empty
// token; the copy keeps a caller that reuses its buffers (a config reload)
// from changing a live verifier.
func copySecrets(mode string, secrets [][]byte) ([][]byte, error) {
	if len(secrets) == 0 {
		return nil, fmt.Errorf("verify: mode %s needs a secret", mode)
	}
	out := make([][]byte, len(secrets))
	for i, s := range secrets {
		if len(s) == 0 {
			return nil, fmt.Errorf("verify: mode %s: secret #%d is empty", mode, i+1)
		}
		out[i] = append([]byte(nil), s...)
	}
	return out, nil
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidSignature}, args...)...)
}

func now(r Request) time.Time {
	if r.Now.IsZero() {
		return time.Now()
	}
	return r.Now
}

// maxTimestampDigits bounds a unix-seconds header: ten digits today, and
// the bound keeps absurd values from overflowing time arithmetic.
const maxTimestampDigits = 12

// parseUnixSeconds reads the timestamp header name of a scheme that signs
// the header's text verbatim, so only plain digits are accepted: a "+5" or
// " 5" would parse to the same time as a differently signed text.
func parseUnixSeconds(name, value string) (time.Time, error) {
	if value == "" {
		return time.Time{}, invalid("missing %s header", name)
	}
	if len(value) > maxTimestampDigits || strings.Trim(value, "0123456789") != "" {
		return time.Time{}, invalid("malformed %s header: want unix seconds", name)
	}
	n, err := strconv.ParseInt(value, 10, 64)
	if err != nil {
		return time.Time{}, invalid("malformed %s header: want unix seconds", name)
	}
	return time.Unix(n, 0), nil
}

// checkWindow rejects a timestamp more than tolerance away from now in
// either direction: a stale one is a replay, a future one could be
// replayed for longer than the window promises.
func checkWindow(name string, ts, now time.Time, tolerance time.Duration) error {
	d := now.Sub(ts)
	switch {
	case d > tolerance:
		return fmt.Errorf("%w: %s is %s old, more than the allowed %s", ErrExpired, name, d.Round(time.Second), tolerance)
	case d < -tolerance:
		return fmt.Errorf("%w: %s is %s in the future, more than the allowed %s", ErrExpired, name, (-d).Round(time.Second), tolerance)
	}
	return nil
}

// hmacSHA256 returns the HMAC-SHA256 of the concatenated parts, so that
// signed strings such as "v0:<ts>:<body>" need no copy of the body.
func hmacSHA256(key []byte, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// anyMACMatches reports whether a presented MAC equals the MAC computed
// under any secret. Every pair is compared, without an early exit, so the
// time taken does not tell which secret or which entry matched.
func anyMACMatches(keys [][]byte, presented [][]byte, signed func(key []byte) []byte) bool {
	matched := false
	for _, key := range keys {
		want := signed(key)
		for _, mac := range presented {
			if hmac.Equal(want, mac) {
				matched = true
			}
		}
	}
	return matched
}

// tokenDigests hashes token-like secrets once, at New. Comparing SHA-256
// digests keeps the comparison constant-time even in the length of the
// secret, which a direct subtle.ConstantTimeCompare would reveal.
func tokenDigests(secrets [][]byte) [][]byte {
	out := make([][]byte, len(secrets))
	for i, s := range secrets {
		sum := sha256.Sum256(s)
		out[i] = sum[:]
	}
	return out
}

// anyTokenMatches reports whether token equals any secret whose digest is
// in digests, comparing every digest.
func anyTokenMatches(digests [][]byte, token string) bool {
	sum := sha256.Sum256([]byte(token))
	matched := false
	for _, d := range digests {
		if hmac.Equal(d, sum[:]) {
			matched = true
		}
	}
	return matched
}
