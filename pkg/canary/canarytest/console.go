// Package canarytest is an in-memory fake of a Canary console's flock
// webhook API for tests. It enforces the wire contract of seed 002 on every
// request: method, path, the parameters each endpoint takes, where they
// travel (the query for GET, an application/x-www-form-urlencoded body for
// POST) and the auth token's value. It answers with the documented bodies
// and keeps state, so a webhook added is listed and a removed one is gone.
//
// A request that breaks the contract gets an error response and is recorded
// as a violation; NewServer fails the test at cleanup if any were recorded.
package canarytest

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// APIPrefix is where the console serves its API.
const APIPrefix = "/api/v1/"

// DefaultFlock is the flock every console has.
const DefaultFlock = "flock:default"

// Request is one request the console received, as it arrived.
type Request struct {
	Method      string
	Endpoint    string // path below /api/v1/
	Query       url.Values
	Form        url.Values // the parsed POST body
	ContentType string
}

// GenericWebhook is a generic webhook as the console stores it, header
// values included.
type GenericWebhook struct {
	ID      string
	URL     string
	Headers []Header
}

// Header is one stored custom header.
type Header struct{ Name, Value string }

// SlackWebhook is a Slack webhook; the API cannot add one, so tests seed
// them with AddSlack.
type SlackWebhook struct {
	Team, Channel, URL, ConfigurationURL string
}

// SplunkWebhook is a flock's Splunk HEC settings.
type SplunkWebhook struct{ Host, Port, Token string }

// FlockState is a snapshot of one flock's webhook settings.
type FlockState struct {
	Name    string
	Enabled bool
	Global  bool
	Generic []GenericWebhook
	MSTeams []string
	Slack   []SlackWebhook
	Splunk  *SplunkWebhook
}

type injected struct {
	status int
	body   string
	header http.Header
}

// Console is the fake. Its zero value is not usable; call New or NewServer.
type Console struct {
	token string

	mu              sync.Mutex
	flocks          map[string]*FlockState
	requests        []Request
	violations      []string
	allowViolations bool
	errorStatus     int
	authStatus      int
	inject          map[string][]injected
	delay           map[string]time.Duration
	nextID          int

	server *httptest.Server
}

// New returns a console that accepts authToken, with the default flock,
// webhooks enabled and global.
func New(authToken string) *Console {
	return &Console{
		token:       authToken,
		flocks:      map[string]*FlockState{DefaultFlock: {Name: "Default Flock", Enabled: true, Global: true}},
		errorStatus: http.StatusBadRequest,
		authStatus:  http.StatusForbidden,
		inject:      map[string][]injected{},
		delay:       map[string]time.Duration{},
	}
}

// NewServer starts the console on an httptest server closed at the end of
// the test, which then fails if a request broke the contract.
func NewServer(tb testing.TB, authToken string) *Console {
	tb.Helper()
	c := New(authToken)
	c.server = httptest.NewServer(c)
	tb.Cleanup(func() {
		c.server.Close()
		c.mu.Lock()
		defer c.mu.Unlock()
		if !c.allowViolations {
			for _, v := range c.violations {
				tb.Errorf("canarytest: contract violation: %s", v)
			}
		}
	})
	return c
}

// URL is the API base URL of a console started by NewServer, ending in a slash.
func (c *Console) URL() string { return c.server.URL + APIPrefix }

// AllowViolations stops NewServer failing the test on violations, for tests
// that break the contract on purpose.
func (c *Console) AllowViolations() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.allowViolations = true
}

// SetErrorStatus sets the HTTP status of "result": "error" answers (400 by
// default; 200 shows an error carried in the body alone).
func (c *Console) SetErrorStatus(status int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.errorStatus = status
}

// SetAuthErrorStatus sets the status of the "Invalid auth_token" answer (403
// by default).
func (c *Console) SetAuthErrorStatus(status int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.authStatus = status
}

// AddFlock adds a flock (webhooks enabled and global).
func (c *Console) AddFlock(id, name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.flocks[id] = &FlockState{Name: name, Enabled: true, Global: true}
}

// SetState seeds a flock's is_enabled and is_global without a request.
func (c *Console) SetState(flockID string, enabled, global bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.mustFlock(flockID)
	f.Enabled, f.Global = enabled, global
}

// AddSlack seeds a Slack webhook, as the console's UI would add it.
func (c *Console) AddSlack(flockID string, s SlackWebhook) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mustFlock(flockID).Slack = append(c.mustFlock(flockID).Slack, s)
}

// AddGeneric seeds a generic webhook without a request.
func (c *Console) AddGeneric(flockID, webhookURL string, headers ...Header) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.mustFlock(flockID)
	f.Generic = append(f.Generic, GenericWebhook{ID: c.newID(), URL: webhookURL, Headers: headers})
}

// AddMSTeams seeds an MS Teams webhook without a request.
func (c *Console) AddMSTeams(flockID, webhookURL string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.mustFlock(flockID)
	f.MSTeams = append(f.MSTeams, webhookURL)
}

// SetSplunk seeds the Splunk webhook without a request.
func (c *Console) SetSplunk(flockID string, s SplunkWebhook) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mustFlock(flockID).Splunk = &s
}

// Inject queues a canned answer for the next request to endpoint (a path
// below /api/v1/), given after the contract checks; several queue up in order.
func (c *Console) Inject(endpoint string, status int, body string, header ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := http.Header{}
	for i := 0; i+1 < len(header); i += 2 {
		h.Set(header[i], header[i+1])
	}
	c.inject[endpoint] = append(c.inject[endpoint], injected{status: status, body: body, header: h})
}

// SetDelay makes the console wait d before answering endpoint.
func (c *Console) SetDelay(endpoint string, d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.delay[endpoint] = d
}

// Flock returns a copy of one flock's state.
func (c *Console) Flock(id string) (FlockState, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, ok := c.flocks[id]
	if !ok {
		return FlockState{}, false
	}
	cp := *f
	cp.Generic = append([]GenericWebhook(nil), f.Generic...)
	cp.MSTeams = append([]string(nil), f.MSTeams...)
	cp.Slack = append([]SlackWebhook(nil), f.Slack...)
	if f.Splunk != nil {
		s := *f.Splunk
		cp.Splunk = &s
	}
	return cp, true
}

// Requests returns the requests received so far.
func (c *Console) Requests() []Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Request(nil), c.requests...)
}

// Violations returns the contract violations seen so far.
func (c *Console) Violations() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.violations...)
}

// mustFlock is for seeding helpers; callers hold c.mu.
func (c *Console) mustFlock(id string) *FlockState {
	f, ok := c.flocks[id]
	if !ok {
		panic(fmt.Sprintf("canarytest: no flock %q; AddFlock it first", id))
	}
	return f
}

// newID makes a webhook id shaped like the console's (hex); callers hold c.mu.
func (c *Console) newID() string {
	c.nextID++
	return fmt.Sprintf("%032x", c.nextID)
}

// answer is a JSON response.
type answer struct {
	status int
	body   any
}

func success(extra map[string]any) answer {
	body := map[string]any{"result": "success"}
	for k, v := range extra {
		body[k] = v
	}
	return answer{status: http.StatusOK, body: body}
}

func (c *Console) failure(msg string) answer {
	return answer{status: c.errorStatus, body: map[string]any{"result": "error", "message": msg}}
}

// endpoint is one entry of the contract.
type endpoint struct {
	method   string
	params   []string // required, besides auth_token
	optional []string
	handle   func(c *Console, f *FlockState, p url.Values) answer
}

// contract lists the 21 flock webhook endpoints of seed 002, plus ping and
// flocks/list. Every flock endpoint requires flock_id.
var contract = map[string]endpoint{
	"ping":        {method: http.MethodGet, handle: func(*Console, *FlockState, url.Values) answer { return success(nil) }},
	"flocks/list": {method: http.MethodGet, handle: (*Console).flocksList},

	"flock/settings/webhooks/is_enabled": {method: http.MethodGet, params: []string{"flock_id"},
		handle: func(_ *Console, f *FlockState, _ url.Values) answer {
			return success(map[string]any{"is_enabled": f.Enabled})
		}},
	"flock/settings/webhooks/is_global": {method: http.MethodGet, params: []string{"flock_id"},
		handle: func(_ *Console, f *FlockState, _ url.Values) answer {
			return success(map[string]any{"is_global": f.Global})
		}},
	// Seed 002 says enable and disable turn the flock's webhooks on and
	// off, and nothing of is_global; the fake leaves is_global alone, so no
	// test comes to rely on an undocumented answer either way.
	"flock/settings/webhooks/enable": {method: http.MethodPost, params: []string{"flock_id"},
		handle: func(_ *Console, f *FlockState, _ url.Values) answer {
			f.Enabled = true
			return success(nil)
		}},
	"flock/settings/webhooks/disable": {method: http.MethodPost, params: []string{"flock_id"},
		handle: func(_ *Console, f *FlockState, _ url.Values) answer {
			f.Enabled = false
			return success(nil)
		}},
	"flock/settings/webhooks/use_global": {method: http.MethodPost, params: []string{"flock_id"},
		handle: func(_ *Console, f *FlockState, _ url.Values) answer {
			f.Global = true
			return success(nil)
		}},

	"flock/settings/webhooks/generic/add": {method: http.MethodPost, params: []string{"flock_id", "url"}, optional: []string{"headers"},
		handle: (*Console).genericAdd},
	"flock/settings/webhooks/generic": {method: http.MethodGet, params: []string{"flock_id"},
		handle: func(_ *Console, f *FlockState, _ url.Values) answer {
			urls := []string{}
			for _, g := range f.Generic {
				urls = append(urls, g.URL)
			}
			return success(map[string]any{"generic_webhooks": urls, "webhooks_enabled": f.Enabled})
		}},
	"flock/settings/webhooks/generic/list": {method: http.MethodGet, params: []string{"flock_id"},
		handle: func(_ *Console, f *FlockState, _ url.Values) answer {
			items := []map[string]any{}
			for _, g := range f.Generic {
				names := []string{}
				for _, h := range g.Headers {
					names = append(names, h.Name)
				}
				items = append(items, map[string]any{"header_names": names, "url": g.URL, "webhook_id": g.ID})
			}
			return success(map[string]any{"generic_webhooks": items, "webhooks_enabled": f.Enabled})
		}},
	"flock/settings/webhooks/generic/remove": {method: http.MethodPost, params: []string{"flock_id", "url"},
		handle: func(c *Console, f *FlockState, p url.Values) answer {
			for i, g := range f.Generic {
				if g.URL == p.Get("url") {
					f.Generic = append(f.Generic[:i], f.Generic[i+1:]...)
					return success(nil)
				}
			}
			return c.failure("Webhook not found")
		}},
	"flock/settings/webhooks/generic/test": {method: http.MethodPost, params: []string{"flock_id", "url"},
		handle: func(c *Console, f *FlockState, p url.Values) answer {
			for _, g := range f.Generic {
				if g.URL == p.Get("url") {
					return success(map[string]any{"webhook": g.URL})
				}
			}
			return c.failure("Webhook not found")
		}},

	"flock/settings/webhooks/ms_teams/add": {method: http.MethodPost, params: []string{"flock_id", "url"},
		handle: func(c *Console, f *FlockState, p url.Values) answer {
			u := p.Get("url")
			if !isHTTPURL(u) {
				return c.failure("Invalid URL")
			}
			for _, t := range f.MSTeams {
				if t == u {
					return c.failure("Webhook already exists")
				}
			}
			f.MSTeams = append(f.MSTeams, u)
			return success(nil)
		}},
	"flock/settings/webhooks/ms_teams": {method: http.MethodGet, params: []string{"flock_id"},
		handle: func(_ *Console, f *FlockState, _ url.Values) answer {
			return success(map[string]any{"ms_teams_webhooks": append([]string{}, f.MSTeams...), "webhooks_enabled": f.Enabled})
		}},
	"flock/settings/webhooks/ms_teams/remove": {method: http.MethodPost, params: []string{"flock_id", "url"},
		handle: func(c *Console, f *FlockState, p url.Values) answer {
			for i, t := range f.MSTeams {
				if t == p.Get("url") {
					f.MSTeams = append(f.MSTeams[:i], f.MSTeams[i+1:]...)
					return success(nil)
				}
			}
			return c.failure("Webhook not found")
		}},
	"flock/settings/webhooks/ms_teams/test": {method: http.MethodPost, params: []string{"flock_id", "url"},
		handle: func(c *Console, f *FlockState, p url.Values) answer {
			for _, t := range f.MSTeams {
				if t == p.Get("url") {
					return success(map[string]any{"webhook": t})
				}
			}
			return c.failure("Webhook not found")
		}},

	// No slack/add: the console adds Slack webhooks through an OAuth flow in
	// its UI only.
	"flock/settings/webhooks/slack": {method: http.MethodGet, params: []string{"flock_id"},
		handle: func(_ *Console, f *FlockState, _ url.Values) answer {
			items := []map[string]any{}
			for _, s := range f.Slack {
				items = append(items, map[string]any{
					"channel": s.Channel, "configuration_url": s.ConfigurationURL, "team": s.Team, "url": s.URL,
				})
			}
			return success(map[string]any{"slack_webhooks": items, "webhooks_enabled": f.Enabled})
		}},
	// Seed 002 lists team and channel as slack/remove's parameters while its
	// curl example sends url; the fake holds clients to the parameter list.
	"flock/settings/webhooks/slack/remove": {method: http.MethodPost, params: []string{"flock_id", "team", "channel"},
		handle: func(c *Console, f *FlockState, p url.Values) answer {
			for i, s := range f.Slack {
				if s.Team == p.Get("team") && s.Channel == p.Get("channel") {
					f.Slack = append(f.Slack[:i], f.Slack[i+1:]...)
					return success(nil)
				}
			}
			return c.failure("Webhook not found")
		}},
	"flock/settings/webhooks/slack/test": {method: http.MethodPost, params: []string{"flock_id", "url"},
		handle: func(c *Console, f *FlockState, p url.Values) answer {
			for _, s := range f.Slack {
				if s.URL == p.Get("url") {
					return success(map[string]any{"webhook": s.URL})
				}
			}
			return c.failure("Webhook not found")
		}},

	// The splunk list answers one splunk_webhook, so the fake keeps one and
	// an add overwrites it; seed 002 does not say what the console does
	// when one exists, and tests should not rely on this.
	"flock/settings/webhooks/splunk/add": {method: http.MethodPost, params: []string{"flock_id", "host", "port", "token"},
		handle: func(c *Console, f *FlockState, p url.Values) answer {
			port := p.Get("port")
			var n int
			if _, err := fmt.Sscanf(port, "%d", &n); err != nil || n < 1 || n > 65535 || fmt.Sprint(n) != port {
				return c.failure("Invalid port")
			}
			f.Splunk = &SplunkWebhook{Host: p.Get("host"), Port: port, Token: p.Get("token")}
			return success(nil)
		}},
	"flock/settings/webhooks/splunk": {method: http.MethodGet, params: []string{"flock_id"},
		handle: func(_ *Console, f *FlockState, _ url.Values) answer {
			var s any = map[string]any{}
			if f.Splunk != nil {
				s = map[string]any{"host": f.Splunk.Host, "port": f.Splunk.Port, "token": f.Splunk.Token}
			}
			return success(map[string]any{"splunk_webhook": s, "webhooks_enabled": f.Enabled})
		}},
	"flock/settings/webhooks/splunk/remove": {method: http.MethodPost, params: []string{"flock_id"},
		handle: func(c *Console, f *FlockState, _ url.Values) answer {
			if f.Splunk == nil {
				return c.failure("No Splunk webhook configured")
			}
			f.Splunk = nil
			return success(nil)
		}},
	"flock/settings/webhooks/splunk/test": {method: http.MethodPost, params: []string{"flock_id"},
		handle: func(c *Console, f *FlockState, _ url.Values) answer {
			if f.Splunk == nil {
				return c.failure("No Splunk webhook configured")
			}
			return success(nil)
		}},
}

// Endpoints maps each endpoint the fake serves to its method,
// so tests can check they cover every one.
func Endpoints() map[string]string {
	out := make(map[string]string, len(contract))
	for p, e := range contract {
		out[p] = e.method
	}
	return out
}

func (c *Console) flocksList(_ *FlockState, _ url.Values) answer {
	m := map[string]string{}
	for id, f := range c.flocks {
		m[id] = f.Name
	}
	return success(map[string]any{"flocks": m})
}

func (c *Console) genericAdd(f *FlockState, p url.Values) answer {
	u := p.Get("url")
	if !isHTTPURL(u) {
		return c.failure("Invalid URL")
	}
	for _, g := range f.Generic {
		if g.URL == u {
			return c.failure("Webhook already exists")
		}
	}
	var headers []Header
	if raw, ok := p["headers"]; ok {
		hs, err := parseHeaders(raw[0])
		if err != nil {
			return c.failure("Invalid headers: " + err.Error())
		}
		headers = hs
	}
	f.Generic = append(f.Generic, GenericWebhook{ID: c.newID(), URL: u, Headers: headers})
	return success(nil)
}

// parseHeaders reads the headers field: a JSON object of string values, kept
// in the order sent.
func parseHeaders(raw string) ([]Header, error) {
	dec := json.NewDecoder(strings.NewReader(raw))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("want a JSON object")
	}
	var out []Header
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var v string
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("value of %v must be a string", k)
		}
		out = append(out, Header{Name: k.(string), Value: v})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data")
	}
	return out, nil
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// violate records a contract violation and answers it the way the console
// would answer a malformed request.
func (c *Console) violate(w http.ResponseWriter, status int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	c.mu.Lock()
	c.violations = append(c.violations, msg)
	c.mu.Unlock()
	writeJSON(w, status, map[string]any{"result": "error", "message": msg})
}

// ServeHTTP implements the console.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, APIPrefix) {
		c.violate(w, http.StatusNotFound, "%s %s: not under %s", r.Method, r.URL.Path, APIPrefix)
		return
	}
	name := strings.TrimPrefix(r.URL.Path, APIPrefix)
	ep, ok := contract[name]
	if !ok {
		c.violate(w, http.StatusNotFound, "%s %s: no such endpoint", r.Method, name)
		return
	}
	if r.Method != ep.method {
		c.violate(w, http.StatusMethodNotAllowed, "%s %s: want %s", r.Method, name, ep.method)
		return
	}

	params, problem := readParams(r, ep.method)
	c.mu.Lock()
	c.requests = append(c.requests, Request{
		Method: r.Method, Endpoint: name, Query: r.URL.Query(), Form: params.form,
		ContentType: r.Header.Get("Content-Type"),
	})
	c.mu.Unlock()
	if problem != "" {
		c.violate(w, http.StatusBadRequest, "%s %s: %s", r.Method, name, problem)
		return
	}
	p := params.values
	if problem := checkParams(p, ep); problem != "" {
		c.violate(w, http.StatusBadRequest, "%s %s: %s", r.Method, name, problem)
		return
	}

	// Authentication and the flock come first, as on the console: an
	// injected answer is what an authorised request would have got, never
	// a way past the checks.
	c.mu.Lock()
	if p.Get("auth_token") != c.token {
		c.mu.Unlock()
		writeJSON(w, c.authStatus, map[string]any{"result": "error", "message": "Invalid auth_token"})
		return
	}
	var f *FlockState
	if contains(ep.params, "flock_id") {
		f, ok = c.flocks[p.Get("flock_id")]
		if !ok {
			a := c.failure("Unknown flock_id")
			c.mu.Unlock()
			writeJSON(w, a.status, a.body)
			return
		}
	}
	d := c.delay[name]
	var inj *injected
	if q := c.inject[name]; len(q) > 0 {
		inj = &q[0]
		c.inject[name] = q[1:]
	}
	c.mu.Unlock()
	if d > 0 {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
	}
	if inj != nil {
		for k, v := range inj.header {
			w.Header()[k] = v
		}
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(inj.status)
		io.WriteString(w, inj.body)
		return
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	a := ep.handle(c, f, p)
	writeJSON(w, a.status, a.body)
}

type requestParams struct {
	values url.Values // where the endpoint's parameters travelled
	form   url.Values
}

// readParams takes a GET's parameters from its query and a POST's from its
// form body, and reports parameters found in the other place.
func readParams(r *http.Request, method string) (requestParams, string) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return requestParams{}, "reading body: " + err.Error()
	}
	if method == http.MethodGet {
		if len(body) > 0 {
			return requestParams{values: r.URL.Query()}, "GET with a body; parameters belong in the query"
		}
		return requestParams{values: r.URL.Query()}, ""
	}
	if r.URL.RawQuery != "" {
		// Above all, a token in a POST's URL ends up in proxy logs.
		return requestParams{}, fmt.Sprintf("POST with query %q; parameters belong in the form body", redactQuery(r.URL.Query()))
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/x-www-form-urlencoded" {
		return requestParams{}, fmt.Sprintf("POST with Content-Type %q; want application/x-www-form-urlencoded", r.Header.Get("Content-Type"))
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return requestParams{}, "malformed form body: " + err.Error()
	}
	return requestParams{values: form, form: form}, ""
}

// checkParams wants auth_token and the endpoint's required parameters, once
// each and non-empty, and nothing undocumented.
func checkParams(p url.Values, ep endpoint) string {
	required := append([]string{"auth_token"}, ep.params...)
	var problems []string
	for _, name := range required {
		switch v := p[name]; {
		case len(v) == 0:
			problems = append(problems, "missing "+name)
		case len(v) > 1:
			problems = append(problems, name+" given more than once")
		case v[0] == "":
			problems = append(problems, "empty "+name)
		}
	}
	for _, name := range ep.optional {
		if len(p[name]) > 1 {
			problems = append(problems, name+" given more than once")
		}
	}
	var unknown []string
	for name := range p {
		if !contains(required, name) && !contains(ep.optional, name) {
			unknown = append(unknown, name)
		}
	}
	sort.Strings(unknown)
	for _, name := range unknown {
		problems = append(problems, "undocumented parameter "+name)
	}
	return strings.Join(problems, "; ")
}

func redactQuery(q url.Values) string {
	if _, ok := q["auth_token"]; ok {
		q.Set("auth_token", "REDACTED")
	}
	return q.Encode()
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(body)
}
