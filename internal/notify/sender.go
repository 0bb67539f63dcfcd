package notify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/tw-cli/tw-cli/internal/redact"
	"github.com/tw-cli/tw-cli/internal/store"
	"github.com/tw-cli/tw-cli/pkg/signature"
)

// Defaults of a Sender.
const (
	DefaultTimeout       = 10 * time.Second
	DefaultMaxAttempts   = 4
	DefaultBaseDelay     = time.Second
	DefaultMaxDelay      = 30 * time.Second
	DefaultMaxRetryAfter = 2 * time.Minute
)

// Sender POSTs rendered messages, retrying what may succeed later.
type Sender struct {
	// Client must have a timeout; NewSender's has.
	Client      *http.Client
	MaxAttempts int
	// Attempt n waits BaseDelay·2^(n-1), capped at MaxDelay, with jitter.
	BaseDelay time.Duration
	MaxDelay  time.Duration
	// MaxRetryAfter is the longest Retry-After honoured; a server asking
	// for more is given up on, and the message goes to the dead letters.
	MaxRetryAfter time.Duration
	Now           func() time.Time
	// Sleep waits d or until ctx is done; tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
	// Jitter spreads a delay so that many senders do not retry in step.
	Jitter func(d time.Duration) time.Duration
}

// NewSender returns a Sender with the defaults and its own client, which
// does not follow redirects: a webhook that redirects is misconfigured,
// and following would turn the POST into a GET.
func NewSender() *Sender {
	return &Sender{
		Client: &http.Client{
			Timeout: DefaultTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
		MaxAttempts:   DefaultMaxAttempts,
		BaseDelay:     DefaultBaseDelay,
		MaxDelay:      DefaultMaxDelay,
		MaxRetryAfter: DefaultMaxRetryAfter,
		Now:           time.Now,
		Sleep:         sleep,
		Jitter:        equalJitter,
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// equalJitter keeps half the delay and randomizes the rest, so retries
// still back off but do not synchronize.
func equalJitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	half := d / 2
	return half + rand.N(d-half)
}

// Result is the outcome of sending one message.
type Result struct {
	Attempts int
	// Status is the last HTTP status, 0 when no response came.
	Status int
	Err    error
}

// OK reports whether the message was delivered.
func (r Result) OK() bool { return r.Err == nil }

// Send delivers body to d, retrying network errors, 408, 425, 429 and 5xx
// with exponential backoff, honouring Retry-After.
func (s *Sender) Send(ctx context.Context, d *store.Destination, body []byte) Result {
	limit := max(s.MaxAttempts, 1)
	var res Result
	for n := 1; ; n++ {
		res.Attempts = n
		status, retryAfter, retryable, err := s.attempt(ctx, d, body)
		res.Status, res.Err = status, err
		if err == nil || !retryable || n >= limit {
			return res
		}
		delay := s.backoff(n)
		if retryAfter > 0 {
			if retryAfter > s.MaxRetryAfter {
				res.Err = fmt.Errorf("%w; Retry-After %s exceeds the %s limit", err, retryAfter, s.MaxRetryAfter)
				return res
			}
			delay = max(delay, retryAfter)
		}
		if err := s.Sleep(ctx, delay); err != nil {
			res.Err = fmt.Errorf("%w (stopped retrying: %v)", res.Err, err)
			return res
		}
	}
}

// Longest bounds how long Send takes: every attempt up to the client's
// timeout, and the longest wait between each two.
func (s *Sender) Longest() time.Duration {
	n := time.Duration(max(s.MaxAttempts, 1))
	timeout := DefaultTimeout
	if s.Client != nil && s.Client.Timeout > 0 {
		timeout = s.Client.Timeout
	}
	return n*timeout + (n-1)*max(s.MaxDelay, s.MaxRetryAfter)
}

func (s *Sender) backoff(n int) time.Duration {
	d := s.BaseDelay
	for i := 1; i < n && d < s.MaxDelay; i++ {
		d *= 2
	}
	if s.MaxDelay > 0 && d > s.MaxDelay {
		d = s.MaxDelay
	}
	if s.Jitter != nil {
		d = s.Jitter(d)
	}
	return d
}

// Endpoint is where a destination's messages go: Splunk HEC URLs may be
// given as the collector's base URL.
func Endpoint(d *store.Destination) string {
	if d.Kind != KindSplunkHEC {
		return d.URL
	}
	u, err := url.Parse(d.URL)
	if err != nil {
		return d.URL
	}
	switch p := strings.TrimRight(u.Path, "/"); {
	case p == "":
		u.Path = "/services/collector/event"
	case strings.HasSuffix(p, "/services/collector"):
		u.Path = p + "/event"
	}
	return u.String()
}

// deliveryID is a generic notification's idempotency key: the same for
// every attempt and every `destination retry` of one body, since each is
// re-signed with a new timestamp and a receiver's replay check would take
// a retry whose first try it had stored (its answer lost) for a new one.
func deliveryID(body []byte) string {
	sum := sha256.Sum256(body)
	return "tw-" + hex.EncodeToString(sum[:16])
}

// attempt makes one request. Errors never contain the URL unredacted, so
// tokens in webhook URLs stay out of logs and timelines.
func (s *Sender) attempt(ctx context.Context, d *store.Destination, body []byte) (status int, retryAfter time.Duration, retryable bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, Endpoint(d), bytes.NewReader(body))
	if err != nil {
		return 0, 0, false, fmt.Errorf("build request for %s: invalid URL", redact.URL(d.URL))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "tw-cli-notify")
	switch d.Kind {
	case KindGeneric:
		// Signed per attempt: a receiver rejects timestamps older than
		// five minutes, and retries can take longer than that.
		signature.SignRequest(req, []byte(d.Secret), s.Now(), body)
		req.Header.Set(signature.IDHeader, deliveryID(body))
	case KindSplunkHEC:
		req.Header.Set("Authorization", "Splunk "+d.Token)
	}
	resp, err := s.Client.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		if ctx.Err() != nil {
			return 0, 0, false, fmt.Errorf("POST %s: %w", redact.URL(d.URL), ctx.Err())
		}
		return 0, 0, true, fmt.Errorf("POST %s: %v", redact.URL(d.URL), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		// Read, as short answers are, so that the connection is reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 512))
		return resp.StatusCode, 0, false, nil
	}
	// Only a failure's body is shown, so only then are the URL's secrets
	// worked out.
	secrets := append(urlSecrets(d.URL), d.Secret, d.Token)
	// Read past 512 bytes by the longest secret, so that one straddling
	// the cut is read whole and masked, not shown in part.
	longest := 0
	for _, sec := range secrets {
		longest = max(longest, len(sec))
	}
	limit := 512 + longest
	snippet, readErr := io.ReadAll(io.LimitReader(resp.Body, int64(limit)))
	// A read that hit its limit, or broke off, may have cut a secret.
	cut := len(snippet) == limit || readErr != nil ||
		// HTTP/1 with neither a length nor chunks: a body that broke off
		// ends like one that did not. (HTTP/2 frames report it as an
		// error; a body Go decompressed has lost its length anyway.)
		(resp.ProtoMajor == 1 && !resp.Uncompressed && resp.ContentLength < 0 && len(resp.TransferEncoding) == 0)
	err = fmt.Errorf("POST %s: HTTP %d%s", redact.URL(d.URL), resp.StatusCode, bodyNote(snippet, cut, secrets...))
	switch {
	case resp.StatusCode == http.StatusRequestTimeout, resp.StatusCode == http.StatusTooEarly,
		resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode >= 500:
		return resp.StatusCode, parseRetryAfter(resp.Header.Get("Retry-After"), s.Now()), true, err
	}
	return resp.StatusCode, 0, false, err
}

// bodyNote is what an error shows of the endpoint's answer: on one line,
// without control characters (it reaches terminals and dead letters) and
// without the destination's own credentials, which an endpoint that
// echoes its request would hand back.
func bodyNote(b []byte, cut bool, secrets ...string) string {
	// Longest first, so that a secret holding a shorter one is masked
	// whole rather than around it.
	secrets = slices.Clone(secrets)
	slices.SortStableFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	s := strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || !unicode.IsPrint(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(string(b), "?"))
	for _, secret := range secrets {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "********")
		}
	}
	// A body cut short (by the read's limit, or broken off) may end in
	// the start of a secret, which no mask matches.
	if cut {
		for _, secret := range secrets {
			for k := len(secret) - 1; k >= 4; k-- {
				if strings.HasSuffix(s, secret[:k]) {
					s = s[:len(s)-k] + "********"
					break
				}
			}
		}
	}
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return ""
	}
	return ": " + clip(s, 200)
}

// urlSecrets are the parts of a destination URL that may be its
// credential: a Slack or Teams webhook's path is the token to post with,
// and error pages often echo the request line ("Cannot POST /services/…").
// The whole URL, its path and query, each path segment of 8 characters or
// more but the words webhook URLs are made of, each query value of 8 or
// more, and a value of 4 or more of a parameter named like a credential.
func urlSecrets(raw string) []string {
	u, err := url.Parse(raw)
	if err != nil {
		return []string{raw}
	}
	out := []string{raw, u.EscapedPath(), u.Path, u.RawQuery}
	for _, seg := range strings.Split(u.Path, "/") {
		if len(seg) >= 8 && !urlWords[strings.ToLower(seg)] {
			out = append(out, seg)
		}
	}
	for name, vals := range u.Query() {
		for _, v := range vals {
			if len(v) >= 8 || (len(v) >= 4 && credentialParam(strings.ToLower(name))) {
				out = append(out, v)
			}
		}
	}
	return slices.DeleteFunc(out, func(s string) bool { return s == "" || s == "/" })
}

// urlWords are path segments of webhook URLs that are no secret, and
// that error pages use as words.
var urlWords = map[string]bool{"services": true, "webhooks": true, "webhookb2": true, "incomingwebhook": true, "workflows": true, "triggers": true}

// credentialParam reports whether a query parameter's value is a
// credential whatever its length: those redact hides, and the names
// webhook URLs also sign or authenticate with.
func credentialParam(name string) bool {
	return redact.CredentialParam(name) || webhookCredentialParams[name]
}

var webhookCredentialParams = map[string]bool{"apikey": true, "sig": true, "signature": true, "auth": true, "code": true}

// parseRetryAfter reads delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
