package threatstack

import (
	"context"
	"crypto/hmac"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-resty/resty/v2"
	"github.com/hiyosi/hawk"
)

// signState carries one logical request's HAWK artifacts from the
// pre-request hook (which signs every attempt, retries included) back to the
// code that verifies the final response.
type signState struct {
	uri    string
	method string
	opt    hawk.Option
	signed bool
}

type signStateKey struct{}

func withSignState(ctx context.Context, st *signState) context.Context {
	return context.WithValue(ctx, signStateKey{}, st)
}

// nonceBytes gives 12 hex characters of randomness per request, like the
// Hawk reference implementation's nonces.
const nonceBytes = 6

// signRequest is resty's pre-request hook. resty calls it once per attempt
// after the URL, query and body are final, so the MAC covers what goes on
// the wire, and each retry gets a fresh timestamp and nonce.
func (c *Client) signRequest(_ *resty.Client, r *http.Request) error {
	payload, err := requestPayload(r)
	if err != nil {
		return fmt.Errorf("threatstack: reading request body to sign it: %w", err)
	}
	nonce, err := c.nonce()
	if err != nil {
		return fmt.Errorf("threatstack: generating HAWK nonce: %w", err)
	}
	opt := &hawk.Option{
		TimeStamp: c.hawkTime().Unix(),
		Nonce:     nonce,
		Ext:       c.creds.OrganizationID,
	}
	if len(payload) > 0 {
		// Only a request with a body carries a payload hash; the public
		// scripts sign GETs without one and so does the server's check.
		opt.Payload = string(payload)
		opt.ContentType = r.Header.Get("Content-Type")
	}
	uri := hawkURI(r)
	header, err := hawk.NewClient(c.credential(), opt).Header(r.Method, uri)
	if err != nil {
		return fmt.Errorf("threatstack: signing request: %w", err)
	}
	r.Header.Set("Authorization", header)

	if st, ok := r.Context().Value(signStateKey{}).(*signState); ok {
		*st = signState{uri: uri, method: r.Method, opt: *opt, signed: true}
	}
	c.log.Debug("signed request",
		"method", r.Method, "uri", uri, "ts", opt.TimeStamp, "nonce", nonce,
		"ext", opt.Ext, "payload_hash", opt.Hash != "")
	return nil
}

func (c *Client) credential() *hawk.Credential {
	return &hawk.Credential{ID: c.creds.UserID, Key: c.creds.APIKey, Alg: hawk.SHA256}
}

// hawkTime is the local clock corrected by the offset learnt from the
// server's WWW-Authenticate challenge, if any.
func (c *Client) hawkTime() time.Time {
	return c.now().Add(time.Duration(c.offset.Load()) * time.Second)
}

// requestPayload reads the body without consuming it: net/http sets GetBody
// for the in-memory bodies resty builds.
func requestPayload(r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	if r.GetBody == nil {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		_ = r.Body.Close()
		r.Body = io.NopCloser(strings.NewReader(string(b)))
		return b, nil
	}
	rc, err := r.GetBody()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// hawkURI returns the URI to hand to hiyosi/hawk so that the MAC covers the
// request-target exactly as net/http writes it.
//
// hiyosi/hawk re-parses the URI and, when url.Parse drops RawPath (any path
// whose escaping is the canonical one, e.g. "%20"), it signs the *decoded*
// path, which no Hawk server sees. Building the URI from an url.URL whose
// Path is the wire path makes the parse round-trip to exactly that string.
func hawkURI(r *http.Request) string {
	wirePath, rawQuery, _ := strings.Cut(r.URL.RequestURI(), "?")
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	u := url.URL{Scheme: r.URL.Scheme, Host: host, Path: wirePath, RawQuery: rawQuery}
	return u.String()
}

// hawkAttr matches one key="value" pair of a Hawk header; Hawk values never
// contain quotes or backslashes.
var hawkAttr = regexp.MustCompile(`(\w+)="([^"\\]*)"`)

// parseHawkHeader returns the attributes of a "Hawk k="v", …" header value,
// or nil when it is not a Hawk header.
func parseHawkHeader(v string) map[string]string {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(v), " ")
	if !strings.EqualFold(scheme, "Hawk") {
		return nil
	}
	attrs := map[string]string{}
	for _, m := range hawkAttr.FindAllStringSubmatch(rest, -1) {
		attrs[m[1]] = m[2]
	}
	return attrs
}

// serverTime extracts the server's clock from a 401 challenge. The Hawk
// server sends ts with tsm, an HMAC of ts under the client's key; a ts whose
// tsm does not verify is ignored so an intermediary cannot shift our clock.
func (c *Client) serverTime(h http.Header) (int64, bool) {
	for _, v := range h.Values("WWW-Authenticate") {
		attrs := parseHawkHeader(v)
		tsStr, tsm := attrs["ts"], attrs["tsm"]
		if tsStr == "" || tsm == "" {
			continue
		}
		ts, err := strconv.ParseInt(tsStr, 10, 64)
		if err != nil {
			continue
		}
		want := (&hawk.TsMac{TimeStamp: ts, Credential: c.credential()}).String()
		if hmacEqual(want, tsm) {
			return ts, true
		}
		c.log.Debug("ignoring WWW-Authenticate timestamp: tsm does not verify", "ts", ts)
	}
	return 0, false
}

// verifyResponse checks the Server-Authorization header, when the server
// sent one, against the artifacts the request was signed with.
func (c *Client) verifyResponse(st *signState, resp *resty.Response, path string) error {
	h := resp.Header().Get("Server-Authorization")
	if h == "" || !c.verify || st == nil || !st.signed {
		return nil
	}
	fail := func(reason string) error {
		return &ResponseVerificationError{Method: st.method, Path: c.red.string(path), Reason: reason}
	}
	attrs := parseHawkHeader(h)
	if attrs == nil || attrs["mac"] == "" {
		return fail("not a Hawk header with a mac")
	}
	opt := &hawk.Option{TimeStamp: st.opt.TimeStamp, Nonce: st.opt.Nonce}
	if attrs["hash"] != "" {
		// hiyosi/hawk checks the hash against Option.Payload; hand it the
		// response body, not the request's, which is what the server hashed.
		opt.Payload = string(resp.Body())
		opt.ContentType = resp.Header().Get("Content-Type")
	}
	u, err := url.Parse(st.uri)
	if err != nil {
		return fail(err.Error())
	}
	res := &http.Response{
		Header:  resp.Header(),
		Request: &http.Request{Method: st.method, URL: u},
	}
	ok, err := hawk.NewClient(c.credential(), opt).Authenticate(res)
	if err != nil {
		return fail(strings.ToLower(err.Error()))
	}
	if !ok {
		return fail("bad response mac")
	}
	return nil
}

func hmacEqual(a, b string) bool { return hmac.Equal([]byte(a), []byte(b)) }
