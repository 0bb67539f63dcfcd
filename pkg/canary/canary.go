// Package canary is a client for the flock webhook settings of a Thinkst
// Canary console (API v1): whether a flock's webhooks are enabled, and the
// generic, MS Teams, Slack and Splunk webhooks configured on it.
//
// The console authenticates every call with an auth_token parameter. Like the
// console's documented curl examples, the client sends auth_token and
// flock_id as query parameters on GET and as form fields
// (application/x-www-form-urlencoded) on POST. Because a GET's URL then
// carries the token, the client redacts it from every error, from String()
// and from its debug log.
package canary

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-resty/resty/v2"

	"github.com/tw-cli/tw-cli/internal/noredirect"
	"github.com/tw-cli/tw-cli/internal/redact"
	"github.com/tw-cli/tw-cli/internal/transient"
)

// Defaults of a new Client.
const (
	DefaultTimeout      = 30 * time.Second
	DefaultRetries      = 2
	DefaultRetryWait    = 500 * time.Millisecond
	DefaultRetryMaxWait = 5 * time.Second
	// DefaultFlock is the flock every console has.
	DefaultFlock = "flock:default"
)

// Redacted replaces the auth token wherever the client would otherwise show it.
const Redacted = "REDACTED"

// consoleSuffix is the host suffix of Thinkst-hosted consoles.
const consoleSuffix = ".canary.tools"

// domainPattern accepts the console hash (one or more DNS labels) that
// precedes .canary.tools.
var domainPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$`)

// DomainURL returns the API base URL of a Thinkst-hosted console,
// https://<domain>.canary.tools/api/v1/. A domain pasted with its
// .canary.tools suffix is accepted too.
func DomainURL(domain string) (string, error) {
	d := strings.ToLower(strings.TrimSpace(domain))
	d = strings.TrimSuffix(d, consoleSuffix)
	if d == "" {
		return "", errors.New("canary: empty console domain")
	}
	if !domainPattern.MatchString(d) {
		return "", fmt.Errorf("canary: invalid console domain %q: want the part before %s (use an API URL for other hosts)", domain, consoleSuffix)
	}
	return "https://" + d + consoleSuffix + "/api/v1/", nil
}

// NormalizeAPIURL checks a full API base URL (any scheme, for on-premises
// consoles and test servers) and returns it ending in a slash. A URL without
// a path gets the console's /api/v1/ prefix.
func NormalizeAPIURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", fmt.Errorf("canary: invalid API URL: %w", err)
	}
	if u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("canary: invalid API URL %q: want scheme://host[/path]", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("canary: invalid API URL %q: no query or fragment allowed", raw)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/api/v1"
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	u.RawPath = ""
	return u.String(), nil
}

// SendsTokenInClear reports whether calls to apiURL would carry the auth
// token unencrypted over the network: plain http to a host other than
// localhost or a loopback address. On-premises consoles and test servers
// may use http, so this is for a warning, not a refusal.
func SendsTokenInClear(apiURL string) bool { return redact.InClear(apiURL) }

// Option configures a Client.
type Option func(*settings)

type settings struct {
	httpClient   *http.Client
	timeout      time.Duration
	retries      int
	retryWait    time.Duration
	retryMaxWait time.Duration
	debug        io.Writer
	userAgent    string
}

// WithHTTPClient makes the client send through a copy of hc (its transport,
// proxy and TLS settings). WithTimeout's value replaces hc's timeout.
func WithHTTPClient(hc *http.Client) Option { return func(s *settings) { s.httpClient = hc } }

// WithTimeout bounds each HTTP attempt; zero means no limit.
func WithTimeout(d time.Duration) Option { return func(s *settings) { s.timeout = d } }

// WithRetries sets how often a GET is retried after a transport error, a 429
// or a 5xx, and the backoff between attempts. POSTs are never retried: the
// console's POSTs add, remove and test webhooks, and a repeated test alert or
// a second add is not what the caller asked for.
func WithRetries(count int, wait, maxWait time.Duration) Option {
	return func(s *settings) {
		s.retries, s.retryWait, s.retryMaxWait = count, wait, maxWait
	}
}

// WithDebug writes resty's request/response log to w, with the auth token
// redacted from URLs, headers and bodies.
func WithDebug(w io.Writer) Option { return func(s *settings) { s.debug = w } }

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option { return func(s *settings) { s.userAgent = ua } }

// Client calls one Canary console. It is safe for concurrent use.
type Client struct {
	baseURL string
	token   string
	rc      *resty.Client
	red     redactor
}

// New returns a client for the API base URL apiURL (see DomainURL and
// NormalizeAPIURL) authenticating with authToken.
func New(apiURL, authToken string, opts ...Option) (*Client, error) {
	base, err := NormalizeAPIURL(apiURL)
	if err != nil {
		return nil, err
	}
	if authToken == "" {
		return nil, errors.New("canary: empty auth token")
	}
	s := settings{
		timeout:      DefaultTimeout,
		retries:      DefaultRetries,
		retryWait:    DefaultRetryWait,
		retryMaxWait: DefaultRetryMaxWait,
		userAgent:    "tw-cli",
	}
	for _, o := range opts {
		o(&s)
	}

	red := redactor{token: authToken}
	var rc *resty.Client
	if s.httpClient != nil {
		// resty sets the timeout (and a transport, if none) on the client it
		// is given; a copy keeps the caller's shared client untouched.
		hc := *s.httpClient
		rc = resty.NewWithClient(&hc)
	} else {
		rc = resty.New()
	}
	rc.SetTimeout(s.timeout).
		SetRedirectPolicy(resty.RedirectPolicyFunc(noredirect.Check)).
		SetHeader("User-Agent", s.userAgent).
		SetHeader("Accept", "application/json").
		SetRetryCount(s.retries).
		SetRetryWaitTime(s.retryWait).
		SetRetryMaxWaitTime(s.retryMaxWait).
		SetRetryAfter(retryAfter).
		// AddRetryCondition replaces resty's default retry on transport
		// errors, so this one condition decides everything: GETs only.
		AddRetryCondition(retryable)

	logOut := io.Discard
	if s.debug != nil {
		logOut = s.debug
		rc.SetDebug(true)
	}
	rc.SetLogger(&redactingLogger{w: logOut, red: red})
	// The logger redacts whole messages; these hooks also scrub the
	// structured copies resty hands to log callbacks.
	// They also hide the webhooks' own secrets, which only the caller
	// knows: a Splunk HEC token, a generic webhook's header values.
	rc.OnRequestLog(func(l *resty.RequestLog) error {
		if strings.HasPrefix(l.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			l.Body = scrubForm(l.Body)
		}
		l.Body = red.String(scrubJSON(l.Body))
		return nil
	})
	rc.OnResponseLog(func(l *resty.ResponseLog) error {
		l.Body = red.String(scrubJSON(l.Body))
		return nil
	})

	return &Client{baseURL: base, token: authToken, rc: rc, red: red}, nil
}

// BaseURL returns the API base URL, ending in a slash.
func (c *Client) BaseURL() string { return c.baseURL }

// String describes the client without its token.
func (c *Client) String() string {
	return fmt.Sprintf("canary.Client{api: %s, auth_token: %s}", c.baseURL, Redacted)
}

// GoString keeps %#v from printing the token.
func (c *Client) GoString() string { return c.String() }

// retryable retries GETs on transport errors, 429 and 5xx. resp is nil only
// when the request could not be built, which retrying would not fix.
func retryable(resp *resty.Response, err error) bool {
	if resp == nil || resp.Request == nil || resp.Request.Method != http.MethodGet {
		return false
	}
	if err != nil {
		// A refused redirect or an untrusted certificate would be refused
		// again (as Threat Stack's client does).
		return transient.Error(err)
	}
	code := resp.StatusCode()
	return code == http.StatusTooManyRequests || code >= 500
}

// retryAfter honours a Retry-After given in seconds; (0, nil) makes resty
// use its jittered backoff.
func retryAfter(_ *resty.Client, resp *resty.Response) (time.Duration, error) {
	if resp == nil {
		return 0, nil
	}
	if secs, err := strconv.Atoi(strings.TrimSpace(resp.Header().Get("Retry-After"))); err == nil && secs > 0 {
		return time.Duration(secs) * time.Second, nil
	}
	return 0, nil
}

// envelope is the part every console response shares.
type envelope struct {
	Result  flexString `json:"result"`
	Message flexString `json:"message"`
}

// get calls a GET endpoint with params (plus auth_token) in the query and
// returns the body of a successful response.
func (c *Client) get(ctx context.Context, endpoint string, params url.Values) ([]byte, error) {
	req := c.rc.R().SetContext(ctx).SetQueryParamsFromValues(c.withToken(params))
	return c.do(req, http.MethodGet, endpoint)
}

// post calls a POST endpoint with params (plus auth_token) as form fields.
func (c *Client) post(ctx context.Context, endpoint string, params url.Values) ([]byte, error) {
	req := c.rc.R().SetContext(ctx).SetFormDataFromValues(c.withToken(params))
	return c.do(req, http.MethodPost, endpoint)
}

// withToken returns a copy of params with auth_token set.
func (c *Client) withToken(params url.Values) url.Values {
	out := url.Values{"auth_token": {c.token}}
	for k, v := range params {
		out[k] = v
	}
	return out
}

func (c *Client) do(req *resty.Request, method, endpoint string) ([]byte, error) {
	resp, err := req.Execute(method, c.baseURL+endpoint)
	if err != nil {
		return nil, &RequestError{Method: method, Endpoint: endpoint, Err: c.red.Error(err)}
	}
	body := resp.Body()
	var env envelope
	jsonErr := json.Unmarshal(body, &env)
	if jsonErr != nil {
		// Seed 002 documents splunk/test answering `{ "result" : "success" , }`:
		// a trailing comma is read past, anything else still fails.
		if fixed, ok := dropTrailingCommas(body); ok && json.Unmarshal(fixed, &env) == nil {
			body, jsonErr = fixed, nil
		}
	}
	code := resp.StatusCode()
	fail := func(msg string) error {
		return &APIError{Method: method, Endpoint: endpoint, StatusCode: code,
			Message: c.red.String(msg), Body: []byte(c.red.String(string(body)))}
	}

	if code < 200 || code > 299 {
		msg := string(env.Message)
		if jsonErr != nil || msg == "" {
			msg = snippet(body)
		}
		return nil, fail(msg)
	}
	if jsonErr != nil {
		return nil, fail("response is not JSON: " + snippet(body))
	}
	switch strings.ToLower(string(env.Result)) {
	case "success":
		return body, nil
	case "error":
		return nil, fail(string(env.Message))
	default:
		return nil, fail(fmt.Sprintf("unexpected result %q in response", string(env.Result)))
	}
}

// dropTrailingCommas removes commas that directly precede a closing } or ]
// (whitespace between), outside strings; ok says whether there were any.
func dropTrailingCommas(b []byte) ([]byte, bool) {
	out := make([]byte, 0, len(b))
	inString, escaped, dropped := false, false, false
	for i := 0; i < len(b); i++ {
		ch := b[i]
		if inString {
			switch {
			case escaped:
				escaped = false
			case ch == '\\':
				escaped = true
			case ch == '"':
				inString = false
			}
			out = append(out, ch)
			continue
		}
		if ch == '"' {
			inString = true
		}
		if ch == ',' {
			j := i + 1
			for j < len(b) && (b[j] == ' ' || b[j] == '\t' || b[j] == '\n' || b[j] == '\r') {
				j++
			}
			if j < len(b) && (b[j] == '}' || b[j] == ']') {
				dropped = true
				continue
			}
		}
		out = append(out, ch)
	}
	return out, dropped
}

// snippet shortens a non-JSON body (an HTML error page from a proxy, say) to
// something that fits in an error message.
func snippet(body []byte) string {
	s := strings.Join(strings.Fields(string(body)), " ")
	const max = 200
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}

// secretFields are the form parameters and JSON fields that hold secrets:
// the console's auth token, a Splunk HEC token, a generic webhook's
// extra headers (typically an Authorization value).
var secretFields = map[string]bool{"auth_token": true, "token": true, "headers": true}

// urlFields hold webhook URLs. A Slack or Teams URL is itself the
// credential to post with, so the debug log keeps scheme and host only,
// as listings do.
// The lists hold bare URLs or, for generic webhooks, objects with a url;
// webhook is the URL a test endpoint answers with.
var urlFields = map[string]bool{
	"url": true, "urls": true, "configuration_url": true, "webhook": true,
	"ms_teams_webhooks": true, "generic_webhooks": true,
}

// scrubForm redacts the secret parameters of a URL-encoded form body.
func scrubForm(body string) string {
	q, err := url.ParseQuery(body)
	if err != nil {
		return body
	}
	changed := false
	for k, vals := range q {
		switch {
		case secretFields[k]:
			q[k] = []string{Redacted}
			changed = true
		case urlFields[k]:
			for i, v := range vals {
				vals[i] = redact.URL(v)
			}
			changed = true
		}
	}
	if !changed {
		return body
	}
	return q.Encode()
}

// scrubJSON redacts secret fields at any depth of a JSON body; a body
// that is not JSON, or holds none, comes back as it was.
func scrubJSON(body string) string {
	var v any
	if json.Unmarshal([]byte(body), &v) != nil || !scrubValue(v) {
		return body
	}
	out, err := json.MarshalIndent(v, "", "   ")
	if err != nil {
		return body
	}
	return string(out)
}

func scrubValue(v any) (changed bool) {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			switch {
			case secretFields[k]:
				t[k] = Redacted
				changed = true
			case urlFields[k]:
				t[k] = scrubURLs(x)
				changed = true
			case scrubValue(x):
				changed = true
			}
		}
	case []any:
		for _, x := range t {
			if scrubValue(x) {
				changed = true
			}
		}
	}
	return changed
}

// scrubURLs masks a URL field's value: one URL, or a list of URLs or of
// objects holding one.
func scrubURLs(v any) any {
	switch t := v.(type) {
	case string:
		return redact.URL(t)
	case []any:
		for i, x := range t {
			t[i] = scrubURLs(x)
		}
		return t
	case map[string]any:
		scrubValue(t)
		return t
	case nil, bool, float64:
		return t
	}
	return Redacted
}

// redactor hides one auth token in text, raw and URL-encoded.
type redactor struct{ token string }

func (r redactor) String(s string) string {
	if r.token == "" {
		return s
	}
	s = strings.ReplaceAll(s, r.token, Redacted)
	if q := url.QueryEscape(r.token); q != r.token {
		s = strings.ReplaceAll(s, q, Redacted)
	}
	if p := url.PathEscape(r.token); p != r.token {
		s = strings.ReplaceAll(s, p, Redacted)
	}
	return s
}

// Error rewrites the URL of a transport error (net/http puts the whole URL,
// query and all, into *url.Error) while keeping the error chain intact, so
// callers can still test for timeouts with errors.Is and net.Error.
func (r redactor) Error(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return &url.Error{Op: ue.Op, URL: redactURL(r.String(ue.URL)), Err: redactedError{err: ue.Err, red: r}}
	}
	return redactedError{err: err, red: r}
}

// redactedError redacts its message and still unwraps to the original.
type redactedError struct {
	err error
	red redactor
}

func (e redactedError) Error() string { return e.red.String(e.err.Error()) }
func (e redactedError) Unwrap() error { return e.err }

// Timeout keeps net.Error's Timeout visible through the wrapper.
func (e redactedError) Timeout() bool {
	var t interface{ Timeout() bool }
	return errors.As(e.err, &t) && t.Timeout()
}

// redactURL replaces the auth_token query value, whatever it is.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	q := u.Query()
	if _, ok := q["auth_token"]; !ok {
		return raw
	}
	q.Set("auth_token", Redacted)
	u.RawQuery = q.Encode()
	return u.String()
}

// redactingLogger is resty's Logger with the token removed from every line.
type redactingLogger struct {
	mu  sync.Mutex
	w   io.Writer
	red redactor
}

func (l *redactingLogger) logf(level, format string, v ...any) {
	msg := l.red.String(fmt.Sprintf(format, v...))
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "%s canary: %s\n", level, strings.TrimRight(msg, "\n"))
}

func (l *redactingLogger) Errorf(format string, v ...any) { l.logf("ERROR", format, v...) }
func (l *redactingLogger) Warnf(format string, v ...any)  { l.logf("WARN", format, v...) }
func (l *redactingLogger) Debugf(format string, v ...any) { l.logf("DEBUG", format, v...) }
