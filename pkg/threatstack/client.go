// Package threatstack is a client for the Threat Stack REST API v2.
//
// Every request is signed with HAWK (github.com/hiyosi/hawk, SHA-256): the
// user id is the HAWK id, the API key the HAWK key and the organization id
// travels as ext. Responses carrying Server-Authorization are verified,
// a stale-timestamp challenge corrects the clock once, and idempotent
// requests are retried on 429 and 5xx honouring Retry-After and
// x-rate-limit-reset. An answer saying the organization's request budget is
// spent (x-rate-limit-remaining: 0) holds the next request until
// x-rate-limit-reset, so long listings pace themselves instead of hitting 429.
//
// List endpoints are exposed as iterators over pages, so a caller holds one
// page (at most 100 items) at a time whatever the size of the organization:
//
//	for page, err := range client.AgentPages(ctx, threatstack.AgentListOptions{Status: "online"}) {
//		if err != nil { … }
//		for _, a := range page { … }
//	}
package threatstack

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-resty/resty/v2"
	"github.com/hiyosi/hawk"

	"github.com/tw-cli/tw-cli/internal/noredirect"
	"github.com/tw-cli/tw-cli/internal/transient"
)

// DefaultBaseURL is the public API host. Threat Stack is part of F5 now and
// some tenants live elsewhere, so WithBaseURL is a first-class option.
const DefaultBaseURL = "https://api.threatstack.com"

// Defaults for the options below.
const (
	DefaultTimeout      = 30 * time.Second
	DefaultRetries      = 4
	DefaultRetryWait    = 500 * time.Millisecond
	DefaultRetryMaxWait = 60 * time.Second
)

// Client calls the Threat Stack API. It is safe for concurrent use.
type Client struct {
	rc      *resty.Client
	creds   Credentials
	baseURL string
	verify  bool
	log     *slog.Logger
	now     func() time.Time
	red     redactor
	// offset is the correction, in seconds, added to the local clock for
	// HAWK timestamps after the server reported its time in a challenge.
	offset atomic.Int64
	// notBefore (Unix nanoseconds, 0 for none) holds requests back until
	// the rate limit resets; the limit is per organization, so it is shared
	// by every request of the client.
	notBefore atomic.Int64
	maxWait   time.Duration
	sleep     func(context.Context, time.Duration) error
	// nonce makes each request's HAWK nonce; tests fix it to reproduce
	// the specification's examples.
	nonce func() (string, error)
}

type settings struct {
	baseURL      string
	timeout      time.Duration
	retries      int
	retryWait    time.Duration
	retryMaxWait time.Duration
	verify       bool
	logger       *slog.Logger
	now          func() time.Time
	transport    http.RoundTripper
	userAgent    string
	// retryWaitHook, set only by tests (export_test.go), sees the wait each
	// retry asks resty for (0: resty's backoff) and returns the one resty
	// uses, so that honouring Retry-After is checked without sleeping it.
	retryWaitHook func(time.Duration) time.Duration
	// sleep, replaced only by tests (export_test.go), waits out a spent
	// rate limit; it returns early with ctx's error.
	sleep func(context.Context, time.Duration) error
}

// Option configures a Client.
type Option func(*settings)

// WithBaseURL points the client at another API host (any scheme: a proxy,
// an F5 tenant, a test server). A trailing "/v2" is accepted and dropped,
// because resource paths carry it.
func WithBaseURL(u string) Option { return func(s *settings) { s.baseURL = u } }

// WithTimeout bounds each HTTP attempt.
func WithTimeout(d time.Duration) Option { return func(s *settings) { s.timeout = d } }

// WithRetries sets how many times a GET is retried after a 429, a 5xx or a
// transport error (0 disables retries).
func WithRetries(n int) Option { return func(s *settings) { s.retries = n } }

// WithRetryWait sets the backoff bounds. The maximum also caps how long a
// Retry-After or x-rate-limit-reset is honoured, before a retry or before
// the request after one that spent the rate limit.
func WithRetryWait(min, max time.Duration) Option {
	return func(s *settings) { s.retryWait, s.retryMaxWait = min, max }
}

// WithVerifyResponse turns verification of Server-Authorization off or on
// (on by default; it only applies when the server sends the header).
func WithVerifyResponse(on bool) Option { return func(s *settings) { s.verify = on } }

// WithLogger receives debug records: requests, retries, clock-skew
// corrections. Everything logged through it is stripped of the API key.
func WithLogger(l *slog.Logger) Option { return func(s *settings) { s.logger = l } }

// WithClock replaces time.Now, for tests of timestamps and skew.
func WithClock(now func() time.Time) Option { return func(s *settings) { s.now = now } }

// WithTransport replaces the HTTP transport (proxies, custom TLS, tests).
func WithTransport(rt http.RoundTripper) Option { return func(s *settings) { s.transport = rt } }

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option { return func(s *settings) { s.userAgent = ua } }

// New returns a client for creds. It fails with *MissingCredentialsError
// when a credential is empty, before any request is made.
func New(creds Credentials, opts ...Option) (*Client, error) {
	if err := creds.Validate(); err != nil {
		return nil, err
	}
	s := settings{
		baseURL:      DefaultBaseURL,
		timeout:      DefaultTimeout,
		retries:      DefaultRetries,
		retryWait:    DefaultRetryWait,
		retryMaxWait: DefaultRetryMaxWait,
		verify:       true,
		now:          time.Now,
		userAgent:    "tw-cli-threatstack",
		sleep:        sleepCtx,
	}
	for _, o := range opts {
		o(&s)
	}
	base, err := normalizeBaseURL(s.baseURL)
	if err != nil {
		return nil, err
	}
	red := newRedactor(creds.APIKey)
	inner := slog.DiscardHandler
	if s.logger != nil {
		inner = s.logger.Handler()
	}
	log := slog.New(redactHandler{inner: inner, r: red})

	c := &Client{creds: creds, baseURL: base, verify: s.verify, log: log, now: s.now, red: red,
		maxWait: s.retryMaxWait, sleep: s.sleep, nonce: func() (string, error) { return hawk.Nonce(nonceBytes) }}
	retryAfter := c.retryAfter
	if s.retryWaitHook != nil {
		retryAfter = func(rc *resty.Client, resp *resty.Response) (time.Duration, error) {
			d, err := c.retryAfter(rc, resp)
			return s.retryWaitHook(d), err
		}
	}
	rc := resty.New()
	if s.transport != nil {
		rc.SetTransport(s.transport)
	}
	rc.SetBaseURL(base).
		SetTimeout(s.timeout).
		SetRedirectPolicy(resty.RedirectPolicyFunc(noredirect.Check)).
		SetLogger(restyLogger{log: log}).
		SetHeader("Accept", "application/json").
		SetHeader("User-Agent", s.userAgent).
		SetRetryCount(max(s.retries, 0)).
		SetRetryWaitTime(s.retryWait).
		SetRetryMaxWaitTime(s.retryMaxWait).
		SetRetryAfter(retryAfter).
		// AddRetryCondition replaces resty's default "retry on error"
		// instead of adding to it, so shouldRetry covers errors itself.
		AddRetryCondition(c.shouldRetry).
		SetPreRequestHook(c.signRequest)
	c.rc = rc
	return c, nil
}

// BaseURL is the API root requests go to.
func (c *Client) BaseURL() string { return c.baseURL }

// UserID is the HAWK id the client signs with.
func (c *Client) UserID() string { return c.creds.UserID }

// OrganizationID is the organization (HAWK ext) the client queries.
func (c *Client) OrganizationID() string { return c.creds.OrganizationID }

// String describes the client without its key.
func (c *Client) String() string {
	return fmt.Sprintf("threatstack.Client{BaseURL: %q, %s}", c.baseURL, c.creds)
}

// GoString keeps %#v from printing the key.
func (c *Client) GoString() string { return c.String() }

// ClockOffset is the correction applied to the local clock for HAWK
// timestamps, learnt from the server's stale-timestamp challenge.
func (c *Client) ClockOffset() time.Duration {
	return time.Duration(c.offset.Load()) * time.Second
}

func normalizeBaseURL(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return DefaultBaseURL, nil
	}
	// The public scripts' TS_HOST is a bare host name.
	if !strings.Contains(s, "://") && !strings.ContainsAny(s, "/ ") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("threatstack: invalid API URL %q: want scheme://host[/prefix]", withoutUserinfo(raw))
	}
	if u.User != nil {
		// net/http turns user:password into Basic auth only when no
		// Authorization header is set, and HAWK always sets one: the
		// password would never be sent, only printed by auth check and
		// --debug along with the URL.
		u.User = nil
		return "", fmt.Errorf("threatstack: the API URL must not carry a user or password: requests are signed with HAWK, "+
			"whose credentials come from the API key settings (%s, %s); use %q",
			EnvUserID, EnvAPIKey, u.String())
	}
	s = strings.TrimRight(s, "/")
	s = strings.TrimSuffix(s, "/v2")
	return s, nil
}

// withoutUserinfo drops a "user:password@" from a URL that url.Parse
// refused, so that the error quoting it does not print the password.
func withoutUserinfo(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		scheme, rest = "", raw
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	at := strings.LastIndex(rest[:end], "@")
	if at < 0 {
		return raw
	}
	if ok {
		scheme += "://"
	}
	return scheme + rest[at+1:]
}

// Response is a raw API answer, returned by Do.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte
}

// Do sends an authenticated request to path (relative to the base URL,
// e.g. "/v2/agents?status=online"), adding query, with body as JSON when it
// is not nil. On a non-2xx answer it returns the response and an *APIError.
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, body []byte) (*Response, error) {
	method = strings.ToUpper(strings.TrimSpace(method))
	if method == "" {
		method = http.MethodGet
	}
	path = escapeQuery(path)
	p, err := url.Parse(path)
	if err != nil {
		return nil, c.errorf("threatstack: invalid path %q: %v", path, err)
	}
	if p.Scheme != "" || p.Host != "" {
		// The Authorization header is only for the configured API host.
		return nil, c.errorf("threatstack: %q is a URL; give a path relative to %s", path, c.baseURL)
	}
	// The HAWK library signs a query only if it parses to at least one
	// parameter, while the request would still carry it: a query Go cannot
	// parse (a ';' separator, a bad %-escape) would be sent unsigned and
	// refused with 401, and so would one with no parameter ("?", "?&").
	if p.ForceQuery || p.RawQuery != "" {
		params, err := url.ParseQuery(p.RawQuery)
		if err != nil {
			return nil, c.errorf("threatstack: the query of %q cannot be signed (%v): separate parameters with '&' and escape them, or pass them with -f key=value", path, err)
		}
		if len(params) == 0 {
			path, _, _ = strings.Cut(path, "?") // nothing to send
		}
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	resp, err := c.do(ctx, method, path, query, body)
	if resp == nil {
		return nil, err
	}
	return &Response{StatusCode: resp.StatusCode(), Header: resp.Header(), Body: c.red.bytes(resp.Body())}, err
}

// escapeQuery percent-encodes the bytes of path's query that cannot go on
// the request line as typed: net/http escapes the path but sends the query
// verbatim, so "?q=a b" splits the request line (400 from any server) and
// "?q=ü" goes out as raw bytes. Everything else, %XX escapes included, is
// left as typed; the query is then signed as it will be sent.
func escapeQuery(path string) string {
	i := strings.IndexByte(path, '?')
	if i < 0 {
		return path
	}
	query, fragment, hasFragment := strings.Cut(path[i+1:], "#")
	var b strings.Builder
	for j := 0; j < len(query); j++ {
		if c := query[j]; c <= ' ' || c >= 0x7f {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	if b.Len() == len(query) {
		return path
	}
	out := path[:i+1] + b.String()
	if hasFragment {
		out += "#" + fragment
	}
	return out
}

// SelfTest calls GET /help/hawk/self-test, which answers 2xx only when the
// HAWK signature and credentials are good, and returns the server's body.
func (c *Client) SelfTest(ctx context.Context) ([]byte, error) {
	resp, err := c.Do(ctx, http.MethodGet, "/help/hawk/self-test", nil, nil)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// do runs one logical request: resty retries idempotent calls; on a 401
// carrying the server's time, do corrects the clock once and sends again
// (the server refused before acting, so this is safe for POST too).
// On a non-2xx answer it returns the response together with an *APIError.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body []byte) (*resty.Response, error) {
	skewCorrected := false
	for {
		if err := c.waitRateLimit(ctx); err != nil {
			return nil, &transportError{msg: c.red.string(fmt.Sprintf("threatstack: %s %s: waiting for the rate limit to reset: %v", method, path, err)), err: err}
		}
		st := &signState{}
		req := c.rc.R().SetContext(withSignState(ctx, st))
		if len(query) > 0 {
			req.SetQueryParamsFromValues(query)
		}
		if body != nil {
			req.SetHeader("Content-Type", "application/json").SetBody(body)
		}
		resp, err := req.Execute(method, path)
		if err != nil {
			return nil, &transportError{msg: c.red.string(fmt.Sprintf("threatstack: %s %s: %v", method, path, err)), err: err}
		}
		wirePath := path
		if resp.Request != nil && resp.Request.RawRequest != nil {
			wirePath = resp.Request.RawRequest.URL.RequestURI()
		}
		c.log.Debug("response", "method", method, "path", wirePath, "status", resp.StatusCode(),
			"duration", resp.Time(), "attempts", resp.Request.Attempt,
			"rate_limit_remaining", resp.Header().Get("X-Rate-Limit-Remaining"))
		c.notePause(resp.Header())

		if resp.StatusCode() == http.StatusUnauthorized && !skewCorrected {
			if serverTS, ok := c.serverTime(resp.Header()); ok {
				offset := serverTS - c.now().Unix()
				c.offset.Store(offset)
				skewCorrected = true
				c.log.Debug("clock skew: server rejected the HAWK timestamp; retrying with corrected clock",
					"server_ts", serverTS, "offset_seconds", offset)
				continue
			}
		}
		if err := c.verifyResponse(st, resp, wirePath); err != nil {
			return nil, err
		}
		if resp.StatusCode() < 200 || resp.StatusCode() > 299 {
			return resp, c.apiError(method, wirePath, resp)
		}
		return resp, nil
	}
}

func (c *Client) apiError(method, path string, resp *resty.Response) *APIError {
	body := c.red.bytes(resp.Body())
	msgs := errorMessages(body)
	for i := range msgs {
		msgs[i] = c.red.string(msgs[i])
	}
	return &APIError{StatusCode: resp.StatusCode(), Method: method, Path: c.red.string(path), Messages: msgs, Body: body}
}

// transportError is a failure to get any answer (DNS, TLS, timeout,
// cancellation). Its message is redacted; Unwrap keeps errors.Is working
// for context.Canceled and friends.
type transportError struct {
	msg string
	err error
}

func (e *transportError) Error() string { return e.msg }
func (e *transportError) Unwrap() error { return e.err }

// shouldRetry retries only idempotent methods: resty v2 would otherwise
// resend a POST such as a dismiss after a timeout, doing it twice.
func (c *Client) shouldRetry(resp *resty.Response, err error) bool {
	if resp == nil || resp.Request == nil {
		// Nothing was sent (the request could not be built or signed).
		return false
	}
	if m := resp.Request.Method; m != http.MethodGet && m != http.MethodHead {
		return false
	}
	if err != nil {
		return transient.Error(err)
	}
	s := resp.StatusCode()
	return s == http.StatusTooManyRequests || s >= 500
}

// retryAfter tells resty how long the server asked us to wait; 0 means
// "use the exponential backoff".
func (c *Client) retryAfter(_ *resty.Client, resp *resty.Response) (time.Duration, error) {
	if resp == nil || resp.RawResponse == nil {
		return 0, nil
	}
	d := retryDelay(resp.Header(), c.now())
	c.log.Debug("retrying", "method", resp.Request.Method, "url", resp.Request.URL,
		"status", resp.StatusCode(), "server_wait", d, "attempt", resp.Request.Attempt)
	return d, nil
}

// notePause remembers, from an answer that spent the organization's
// request budget, when the next request may go.
func (c *Client) notePause(h http.Header) {
	d := rateLimitPause(h, c.maxWait)
	if d <= 0 {
		return
	}
	c.notBefore.Store(c.now().Add(d).UnixNano())
	c.log.Debug("rate limit spent; holding the next request until it resets", "wait", d)
}

// waitRateLimit holds a request until the rate limit noted by notePause
// has reset, or ctx ends.
func (c *Client) waitRateLimit(ctx context.Context) error {
	nb := c.notBefore.Load()
	if nb == 0 {
		return nil
	}
	d := time.Unix(0, nb).Sub(c.now())
	if d <= 0 {
		c.notBefore.CompareAndSwap(nb, 0)
		return nil
	}
	if err := c.sleep(ctx, min(d, c.maxWait)); err != nil {
		return err
	}
	c.notBefore.CompareAndSwap(nb, 0)
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
