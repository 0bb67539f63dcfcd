// Package threatstacktest is an in-memory fake of the Threat Stack API v2
// for tests: it authenticates every request as the Hawk specification's
// reference server does (a malformed header, bad key, bad ext, bad payload
// hash, stale timestamp and replayed nonce all get 401),
// enforces the required parameters, pages with tokens and answers with
// research-shaped bodies. Faults (429, 5xx, dropped connections) and
// signed or tampered responses can be scripted.
package threatstacktest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hiyosi/hawk"
)

// Credentials the fake accepts unless WithCredentials says otherwise.
const (
	UserID         = "5f9a1c2e4b0d7e6f8a9b0c1d"
	APIKey         = "tsk_live_Zm9vYmFyLWJhei1xdXV4LXNlY3JldA9x"
	OrganizationID = "5c6d7e8f9a0b1c2d3e4f5a6b"
)

// ServerAuth says whether and how the fake signs responses.
type ServerAuth int

// Response signing modes.
const (
	// NoServerAuth sends no Server-Authorization header (the default).
	NoServerAuth ServerAuth = iota
	// SignResponses sends a valid Server-Authorization with a payload hash.
	SignResponses
	// SignWithWrongKey sends a header whose mac was made with another key.
	SignWithWrongKey
	// SignThenTamper signs the body, then changes it, as a man in the
	// middle would: the mac is right, the hash is not.
	SignThenTamper
)

// LastPage says how the fake marks the last page of a listing.
type LastPage int

// Ways of ending a listing; the API has been seen doing all three.
const (
	TokenNull   LastPage = iota // "token": null
	TokenEmpty                  // "token": ""
	TokenAbsent                 // no token key
)

// Fault is a scripted answer to the next Times requests matching Method
// and Path (query ignored), sent after the request has authenticated.
type Fault struct {
	Method string
	Path   string
	Status int
	Header http.Header
	Body   string
	// CloseConnection drops the connection without answering, which the
	// client sees as a transport error.
	CloseConnection bool
	// Delay holds the answer back, to make a client's attempt time out.
	Delay time.Duration
	Times int
}

// Request is what the fake recorded of one request.
type Request struct {
	Method   string
	Path     string // escaped, as on the wire
	RawQuery string
	Query    url.Values
	Header   http.Header
	Body     []byte
	// Hawk holds the Authorization header's attributes (id, ts, nonce,
	// hash, ext, mac).
	Hawk map[string]string
	// Status is the status code the fake answered with.
	Status int
}

// Server is the fake API. Create it with New.
type Server struct {
	// URL is the base URL to give the client.
	URL string

	creds struct{ userID, apiKey, orgID string }
	srv   *httptest.Server
	mux   *http.ServeMux

	pageSize  int
	tokenKey  string
	lastPage  LastPage
	skew      time.Duration
	serveAuth ServerAuth
	tlsServer bool
	rateLimit int
	rateReset time.Duration

	mu       sync.Mutex
	data     Data
	faults   []*Fault
	requests []Request
	nonces   map[string]bool
}

// Option configures the fake.
type Option func(*Server)

// WithData replaces the generated data.
func WithData(d Data) Option { return func(s *Server) { s.data = d } }

// WithPageSize sets items per page (the API's is 100).
func WithPageSize(n int) Option { return func(s *Server) { s.pageSize = n } }

// WithTokenKey names the pagination token field ("token" or
// "paginationToken").
func WithTokenKey(k string) Option { return func(s *Server) { s.tokenKey = k } }

// WithLastPage sets how the last page ends.
func WithLastPage(l LastPage) Option { return func(s *Server) { s.lastPage = l } }

// WithClockSkew runs the fake's clock ahead (or behind) of the host's.
func WithClockSkew(d time.Duration) Option { return func(s *Server) { s.skew = d } }

// WithServerAuth sets response signing.
func WithServerAuth(m ServerAuth) Option { return func(s *Server) { s.serveAuth = m } }

// WithCredentials sets the only credentials the fake accepts.
func WithCredentials(userID, apiKey, orgID string) Option {
	return func(s *Server) { s.creds.userID, s.creds.apiKey, s.creds.orgID = userID, apiKey, orgID }
}

// WithTLS serves HTTPS (the client must trust Server.Client's transport).
func WithTLS() Option { return func(s *Server) { s.tlsServer = true } }

// WithRateLimitRemaining sets the x-rate-limit-remaining header value.
func WithRateLimitRemaining(n int) Option { return func(s *Server) { s.rateLimit = n } }

// WithRateLimitReset sends x-rate-limit-reset (milliseconds until the
// window resets) with every answer; none is sent by default.
func WithRateLimitReset(d time.Duration) Option { return func(s *Server) { s.rateReset = d } }

// DefaultSizes is the data New generates when WithData is not given.
var DefaultSizes = Sizes{Agents: 250, Alerts: 120, EventsPerAlert: 3, Rulesets: 3, RulesPerRuleset: 12, Vulnerabilities: 60}

// New starts a fake API and stops it when the test ends.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{
		pageSize:  100,
		tokenKey:  "token",
		rateLimit: 199,
		nonces:    map[string]bool{},
	}
	s.creds.userID, s.creds.apiKey, s.creds.orgID = UserID, APIKey, OrganizationID
	s.data = GenerateData(DefaultSizes)
	for _, o := range opts {
		o(s)
	}
	s.mux = http.NewServeMux()
	s.routes()
	if s.tlsServer {
		s.srv = httptest.NewTLSServer(http.HandlerFunc(s.serveHTTP))
	} else {
		s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	}
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// Client returns an HTTP client that trusts the fake (needed WithTLS).
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Update edits the served data under the fake's lock.
func (s *Server) Update(f func(*Data)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.data)
}

// Inject queues a fault.
func (s *Server) Inject(f Fault) {
	if f.Times <= 0 {
		f.Times = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// Requests returns what the fake received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Now is the fake's clock.
func (s *Server) Now() time.Time { return time.Now().Add(s.skew) }

type credStore struct{ s *Server }

func (c credStore) GetCredential(id string) (*hawk.Credential, error) {
	if id != c.s.creds.userID {
		return nil, fmt.Errorf("unknown id %q", id)
	}
	return &hawk.Credential{ID: id, Key: c.s.creds.apiKey, Alg: hawk.SHA256}, nil
}

// Validate rejects a nonce seen before with the same key: a replayed
// request is refused even within the timestamp window.
func (s *Server) Validate(key, nonce string, ts int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key + "\x00" + nonce
	if s.nonces[k] {
		return false
	}
	s.nonces[k] = true
	return true
}

// wireRequest returns a copy of r whose URL, when hiyosi/hawk prints and
// re-parses it, yields the request-target exactly as received. A Hawk
// server must MAC the raw URI; hiyosi/hawk would otherwise decode "%20".
func wireRequest(r *http.Request) *http.Request {
	path, rawQuery, _ := strings.Cut(r.RequestURI, "?")
	c := r.Clone(r.Context())
	c.URL = &url.URL{Path: path, RawQuery: rawQuery}
	return c
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		writeErrors(w, http.StatusRequestEntityTooLarge, "request body too large")
		return
	}
	rec := Request{
		Method: r.Method, Path: strings.SplitN(r.RequestURI, "?", 2)[0], RawQuery: r.URL.RawQuery,
		Query: r.URL.Query(), Header: r.Header.Clone(), Body: body,
		Hawk: hawkAttrs(r.Header.Get("Authorization")),
	}
	// Record on arrival, so Requests is in arrival order and a test sees
	// a request even while the fake is still holding its answer back.
	idx := s.record(rec)
	out := httptest.NewRecorder()
	cred := s.authenticate(out, r, body, rec.Hawk)
	if cred != nil {
		switch s.fault(out, r) {
		case faultClosed:
			// Status 0 stays recorded: nothing was answered.
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					_ = conn.Close()
				}
			}
			return
		case noFault:
			out.Header().Set("X-Rate-Limit-Remaining", fmt.Sprint(s.rateLimit))
			if s.rateReset > 0 {
				out.Header().Set("X-Rate-Limit-Reset", fmt.Sprint(s.rateReset.Milliseconds()))
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			s.mux.ServeHTTP(out, r)
		}
	}
	s.setStatus(idx, out.Code)

	respBody := out.Body.Bytes()
	if cred != nil && s.serveAuth != NoServerAuth {
		respBody = s.signResponse(out, r, cred, respBody)
	}
	maps.Copy(w.Header(), out.Header())
	w.WriteHeader(out.Code)
	_, _ = w.Write(respBody)
}

func (s *Server) record(r Request) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r)
	return len(s.requests) - 1
}

func (s *Server) setStatus(i, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests[i].Status = status
}

// authenticate verifies the HAWK header; on failure it writes the 401 and
// returns nil.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, body []byte, attrs map[string]string) *hawk.Credential {
	cred, err := s.verifyHawk(r, body)
	if err != nil {
		if err.Error() == "Stale timestamp" {
			// Tell the client our time, MACed with its key, as Hawk
			// servers do, so it can correct its clock.
			now := s.Now().Unix()
			c, _ := credStore{s}.GetCredential(attrs["id"])
			tsm := (&hawk.TsMac{TimeStamp: now, Credential: c}).String()
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Hawk ts="%d", tsm="%s", error="Stale timestamp"`, now, tsm))
		} else {
			w.Header().Set("WWW-Authenticate", `Hawk error="`+err.Error()+`"`)
		}
		writeErrors(w, http.StatusUnauthorized, "Unauthorized: "+err.Error())
		return nil
	}
	if attrs["ext"] != s.creds.orgID {
		// The MAC covers ext, so this is the right key used for an
		// organization the fake does not serve.
		writeErrors(w, http.StatusUnauthorized, "Unauthorized: organization id (ext) does not match")
		return nil
	}
	return cred
}

// timestampSkew is how far a request's ts may be from the fake's clock.
const timestampSkew = 60

// verifyHawk checks the Authorization header in the order of the Hawk
// specification's reference server, with the same error texts as
// hiyosi/hawk's. It is written out rather than left to hiyosi/hawk's
// Server, whose MAC comparison indexes past the shorter string (a short mac
// panicked the fake) and which MACs the URL as Go re-encodes it, dropping a
// query without parameters ("?&") that the wire still carries.
func (s *Server) verifyHawk(r *http.Request, body []byte) (*hawk.Credential, error) {
	a, err := parseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		return nil, err
	}
	if a["id"] == "" || a["ts"] == "" || a["nonce"] == "" || a["mac"] == "" {
		return nil, errors.New("Missing attributes.")
	}
	ts, err := strconv.ParseInt(a["ts"], 10, 64)
	if err != nil {
		return nil, errors.New("Invalid ts value.")
	}
	cred, err := credStore{s}.GetCredential(a["id"])
	if err != nil {
		return nil, errors.New("Failed to get Credential.")
	}
	if !hmac.Equal([]byte(requestMAC(cred, r, a)), []byte(a["mac"])) {
		return nil, errors.New("Bad MAC")
	}
	// The MAC only proves the client sent this hash; recomputing it ties
	// it to the body. An empty payload has a hash too, so a hash sent
	// without a body must be that one.
	if a["hash"] != "" || len(body) > 0 {
		if a["hash"] == "" {
			return nil, errors.New("Missing required payload hash.")
		}
		want := (&hawk.PayloadHash{ContentType: r.Header.Get("Content-Type"), Payload: string(body), Alg: cred.Alg}).String()
		if !hmac.Equal([]byte(want), []byte(a["hash"])) {
			return nil, errors.New("Bad payload hash.")
		}
	}
	if !s.Validate(cred.Key, a["nonce"], ts) {
		return nil, errors.New("Invalid nonce.")
	}
	if d := s.Now().Unix() - ts; d > timestampSkew || d < -timestampSkew {
		return nil, errors.New("Stale timestamp")
	}
	return cred, nil
}

// hawkAttrValue is the character set the reference server allows in an
// attribute value: printable ASCII without '"' and '\'.
var hawkAttrValue = regexp.MustCompile(`^[ \w!#$%&'()*+,\-./:;<=>?@\[\]^` + "`" + `{|}~]*$`)

var hawkAttrNames = []string{"id", "ts", "nonce", "hash", "ext", "mac", "app", "dlg"}

// hawkAttribute is one key="value" pair and the separator after it.
var hawkAttribute = regexp.MustCompile(`^(\w+)="([^"\\]*)"\s*(?:,\s*|$)`)

// parseAuthorization parses a Hawk Authorization header strictly, as the
// reference server does: an unknown or repeated attribute, a value outside
// hawkAttrValue or anything between the pairs is refused.
func parseAuthorization(h string) (map[string]string, error) {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	if h == "" {
		return nil, errors.New("Authorization header not found.")
	}
	if !strings.EqualFold(scheme, "Hawk") {
		return nil, errors.New("Unsupported authorization scheme.")
	}
	attrs := map[string]string{}
	rest = strings.TrimSpace(rest)
	for rest != "" {
		m := hawkAttribute.FindStringSubmatch(rest)
		if m == nil {
			return nil, errors.New("Bad header format.")
		}
		k, v := m[1], m[2]
		if !slices.Contains(hawkAttrNames, k) {
			return nil, errors.New("Unknown attribute.")
		}
		if !hawkAttrValue.MatchString(v) {
			return nil, errors.New("Bad attribute value.")
		}
		if _, dup := attrs[k]; dup {
			return nil, errors.New("Duplicate attribute.")
		}
		attrs[k] = v
		rest = rest[len(m[0]):]
	}
	return attrs, nil
}

// requestMAC is the header MAC of the Hawk specification: an HMAC of the
// normalized string, which holds the request-target exactly as received
// (query included, escapes untouched) and the Host header's name and port.
func requestMAC(cred *hawk.Credential, r *http.Request, a map[string]string) string {
	host, port, err := net.SplitHostPort(r.Host)
	if err != nil {
		host, port = r.Host, "80"
		if r.TLS != nil {
			port = "443"
		}
	}
	ext := strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(a["ext"])
	norm := "hawk.1.header\n" + a["ts"] + "\n" + a["nonce"] + "\n" + strings.ToUpper(r.Method) + "\n" +
		r.RequestURI + "\n" + strings.ToLower(host) + "\n" + port + "\n" + a["hash"] + "\n" + ext + "\n"
	if a["app"] != "" {
		norm += a["app"] + "\n" + a["dlg"] + "\n"
	}
	mac := hmac.New(sha256.New, []byte(cred.Key))
	mac.Write([]byte(norm))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

type faultResult int

const (
	noFault faultResult = iota
	faultAnswered
	faultClosed
)

func (s *Server) fault(out *httptest.ResponseRecorder, r *http.Request) faultResult {
	s.mu.Lock()
	var f *Fault
	for i, cand := range s.faults {
		if cand.Method == r.Method && cand.Path == r.URL.Path {
			f = cand
			f.Times--
			if f.Times == 0 {
				s.faults = slices.Delete(s.faults, i, i+1)
			}
			break
		}
	}
	s.mu.Unlock()
	if f == nil {
		return noFault
	}
	if f.Delay > 0 {
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
		}
	}
	if f.CloseConnection {
		return faultClosed
	}
	maps.Copy(out.Header(), f.Header)
	if f.Body != "" && out.Header().Get("Content-Type") == "" {
		out.Header().Set("Content-Type", "application/json")
	}
	out.WriteHeader(f.Status)
	_, _ = io.WriteString(out, f.Body)
	return faultAnswered
}

func (s *Server) signResponse(out *httptest.ResponseRecorder, r *http.Request, cred *hawk.Credential, body []byte) []byte {
	signer := cred
	if s.serveAuth == SignWithWrongKey {
		signer = &hawk.Credential{ID: cred.ID, Key: "not-the-key", Alg: hawk.SHA256}
	}
	hs := &hawk.Server{CredentialStore: credStore{s}}
	h, err := hs.Header(wireRequest(r), signer, &hawk.Option{
		ContentType: out.Header().Get("Content-Type"),
		Payload:     string(body),
		Ext:         "tw-fake",
	})
	if err != nil {
		return body
	}
	out.Header().Set("Server-Authorization", h)
	if s.serveAuth == SignThenTamper {
		return append(bytes.Clone(body), ' ') // same JSON, another hash
	}
	return body
}

func hawkAttrs(h string) map[string]string {
	out := map[string]string{}
	_, rest, ok := strings.Cut(h, "Hawk ")
	if !ok {
		return out
	}
	for _, part := range strings.Split(rest, ", ") {
		k, v, ok := strings.Cut(part, "=")
		if ok {
			out[k] = strings.Trim(v, `"`)
		}
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeErrors answers with the API's error shape, {"errors": [...]}.
func writeErrors(w http.ResponseWriter, status int, msgs ...string) {
	writeJSON(w, status, map[string]any{"errors": msgs})
}
