package threatstacktest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

func (s *Server) routes() {
	m := s.mux
	m.HandleFunc("GET /help/hawk/self-test", s.selfTest)
	m.HandleFunc("GET /v2/agents", s.listAgents)
	m.HandleFunc("GET /v2/agents/{id}", s.getAgent)
	m.HandleFunc("GET /v2/alerts", s.listAlerts)
	m.HandleFunc("GET /v2/alerts/severity-counts", s.severityCounts)
	m.HandleFunc("POST /v2/alerts/dismiss", s.dismiss)
	m.HandleFunc("GET /v2/alerts/{id}", s.getAlert)
	m.HandleFunc("GET /v2/alerts/{id}/events", s.alertEvents)
	m.HandleFunc("GET /v2/alerts/{id}/context", s.alertContext)
	m.HandleFunc("GET /v2/rulesets", s.listRulesets)
	m.HandleFunc("GET /v2/rulesets/{id}", s.getRuleset)
	m.HandleFunc("GET /v2/rulesets/{id}/rules", s.listRules)
	m.HandleFunc("GET /v2/vulnerabilities", s.listVulnerabilities)
	// One pattern for the two-segment paths: "package/{name}",
	// "agent/{id}" and "{cve}/servers" would overlap as separate patterns.
	m.HandleFunc("GET /v2/vulnerabilities/{a}/{b}", s.vulnerabilitySub)
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeErrors(w, http.StatusNotFound, "Not Found")
	})
}

func (s *Server) selfTest(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"message":        "Hawk authentication succeeded",
		"userId":         s.creds.userID,
		"organizationId": s.creds.orgID,
	})
}

// tokenPrefix makes every token start with "+/", characters a query string
// must escape, so that tests exercise signing of escaped queries.
var tokenPrefix = []byte{0xfb, 0xff}

// encodeToken binds a page offset to the filters of the listing: the API
// wants the token sent back "with the same filters".
func encodeToken(offset int, filters string) string {
	return base64.StdEncoding.EncodeToString(append(slices.Clone(tokenPrefix), fmt.Sprintf("%d\n%s", offset, filters)...))
}

func decodeToken(tok string) (int, string, bool) {
	b, err := base64.StdEncoding.DecodeString(tok)
	if err != nil || len(b) < len(tokenPrefix) {
		return 0, "", false
	}
	off, filters, ok := strings.Cut(string(b[len(tokenPrefix):]), "\n")
	n, err := strconv.Atoi(off)
	return n, filters, ok && err == nil && n >= 0
}

// page writes one page of items under key, with the token of the next.
func (s *Server) page(w http.ResponseWriter, r *http.Request, key string, items []Object) {
	q := r.URL.Query()
	tok := q.Get("token")
	q.Del("token")
	filters := q.Encode()
	offset := 0
	if tok != "" {
		off, f, ok := decodeToken(tok)
		if !ok || off > len(items) {
			writeErrors(w, http.StatusBadRequest, "Invalid pagination token")
			return
		}
		if f != filters {
			writeErrors(w, http.StatusBadRequest, "Pagination token does not match the request's filters")
			return
		}
		offset = off
	}
	end := min(offset+s.pageSize, len(items))
	body := map[string]any{key: nonNil(items[offset:end])}
	switch {
	case end < len(items):
		body[s.tokenKey] = encodeToken(end, filters)
	case s.lastPage == TokenNull:
		body[s.tokenKey] = nil
	case s.lastPage == TokenEmpty:
		body[s.tokenKey] = ""
	}
	writeJSON(w, http.StatusOK, body)
}

func nonNil(items []Object) []Object {
	if items == nil {
		return []Object{}
	}
	return items
}

func find(items []Object, key, val string) Object {
	for _, it := range items {
		if it[key] == val {
			return it
		}
	}
	return nil
}

func (s *Server) snapshot() Data {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data
}

func (s *Server) listAgents(w http.ResponseWriter, r *http.Request) {
	status := r.URL.Query().Get("status")
	if status != "online" && status != "offline" {
		writeErrors(w, http.StatusBadRequest, `"status" is required: online or offline`)
		return
	}
	var out []Object
	for _, a := range s.snapshot().Agents {
		if a["status"] == status {
			out = append(out, a)
		}
	}
	s.page(w, r, "agents", out)
}

func (s *Server) getAgent(w http.ResponseWriter, r *http.Request) {
	if a := find(s.snapshot().Agents, "id", r.PathValue("id")); a != nil {
		writeJSON(w, http.StatusOK, a)
		return
	}
	writeErrors(w, http.StatusNotFound, "Agent not found")
}

// parseTime accepts the forms the API's from/until take: ISO 8601 (with
// or without zone), a date, or epoch milliseconds.
func parseTime(v string) (time.Time, bool) {
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.UnixMilli(ms), true
	}
	for _, l := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if t, err := time.Parse(l, v); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func (s *Server) listAlerts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	status := q.Get("status")
	if status != "active" && status != "dismissed" {
		writeErrors(w, http.StatusBadRequest, `"status" is required: active or dismissed`)
		return
	}
	severity := 0
	if v := q.Get("severity"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 3 {
			writeErrors(w, http.StatusBadRequest, `"severity" must be 1, 2 or 3`)
			return
		}
		severity = n
	}
	var from, until time.Time
	for name, dst := range map[string]*time.Time{"from": &from, "until": &until} {
		if v := q.Get(name); v != "" {
			t, ok := parseTime(v)
			if !ok {
				writeErrors(w, http.StatusBadRequest, fmt.Sprintf("%q is not a date", name))
				return
			}
			*dst = t
		}
	}
	var out []Object
	for _, a := range s.snapshot().Alerts {
		dismissed, _ := a["isDismissed"].(bool)
		if dismissed != (status == "dismissed") {
			continue
		}
		if severity != 0 && a["severity"] != severity {
			continue
		}
		if v := q.Get("ruleId"); v != "" && a["ruleId"] != v {
			continue
		}
		if v := q.Get("agentId"); v != "" && a["agentId"] != v {
			continue
		}
		created, _ := parseTime(fmt.Sprint(a["createdAt"]))
		if (!from.IsZero() && created.Before(from)) || (!until.IsZero() && created.After(until)) {
			continue
		}
		out = append(out, a)
	}
	s.page(w, r, "alerts", out)
}

func (s *Server) severityCounts(w http.ResponseWriter, r *http.Request) {
	counts := map[int]int{1: 0, 2: 0, 3: 0}
	for _, a := range s.snapshot().Alerts {
		if dismissed, _ := a["isDismissed"].(bool); dismissed {
			continue
		}
		if sev, ok := a["severity"].(int); ok {
			counts[sev]++
		}
	}
	var out []Object
	for sev := 1; sev <= 3; sev++ {
		out = append(out, Object{"severity": sev, "count": counts[sev]})
	}
	writeJSON(w, http.StatusOK, map[string]any{"severityCounts": out})
}

func (s *Server) getAlert(w http.ResponseWriter, r *http.Request) {
	if a := find(s.snapshot().Alerts, "id", r.PathValue("id")); a != nil {
		writeJSON(w, http.StatusOK, a)
		return
	}
	writeErrors(w, http.StatusNotFound, "Alert not found")
}

func (s *Server) alertEvents(w http.ResponseWriter, r *http.Request) {
	d := s.snapshot()
	id := r.PathValue("id")
	if find(d.Alerts, "id", id) == nil {
		writeErrors(w, http.StatusNotFound, "Alert not found")
		return
	}
	s.page(w, r, "events", d.Events[id])
}

func (s *Server) alertContext(w http.ResponseWriter, r *http.Request) {
	d := s.snapshot()
	if c, ok := d.Contexts[r.PathValue("id")]; ok {
		writeJSON(w, http.StatusOK, c)
		return
	}
	writeErrors(w, http.StatusNotFound, "Alert not found")
}

var dismissReasons = []string{"BUSINESS_OP", "COMPANY_POLICY", "MAINTENANCE", "OTHER"}

func (s *Server) dismiss(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		writeErrors(w, http.StatusUnsupportedMediaType, "Content-Type must be application/json")
		return
	}
	var req struct {
		IDs        []string `json:"ids"`
		Reason     string   `json:"dismissReason"`
		ReasonText string   `json:"dismissReasonText"`
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeErrors(w, http.StatusBadRequest, "Invalid JSON body: "+err.Error())
		return
	}
	if len(req.IDs) == 0 || !slices.Contains(dismissReasons, req.Reason) {
		writeErrors(w, http.StatusBadRequest, `"ids" and a valid "dismissReason" are required`)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range req.IDs {
		if find(s.data.Alerts, "id", id) == nil {
			writeErrors(w, http.StatusNotFound, "Alert not found: "+id)
			return
		}
	}
	for i, a := range s.data.Alerts {
		if slices.Contains(req.IDs, a["id"].(string)) {
			// Copy on write: snapshots handed out earlier share the maps.
			c := Object{}
			for k, v := range a {
				c[k] = v
			}
			c["isDismissed"] = true
			c["dismissReason"] = req.Reason
			c["dismissReasonText"] = req.ReasonText
			c["dismissedAt"] = iso(s.Now())
			c["dismissedBy"] = s.creds.userID
			s.data.Alerts = slices.Clone(s.data.Alerts)
			s.data.Alerts[i] = c
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listRulesets(w http.ResponseWriter, r *http.Request) {
	s.page(w, r, "rulesets", s.snapshot().Rulesets)
}

func (s *Server) getRuleset(w http.ResponseWriter, r *http.Request) {
	if rs := find(s.snapshot().Rulesets, "id", r.PathValue("id")); rs != nil {
		writeJSON(w, http.StatusOK, rs)
		return
	}
	writeErrors(w, http.StatusNotFound, "Ruleset not found")
}

func (s *Server) listRules(w http.ResponseWriter, r *http.Request) {
	d := s.snapshot()
	id := r.PathValue("id")
	if find(d.Rulesets, "id", id) == nil {
		writeErrors(w, http.StatusNotFound, "Ruleset not found")
		return
	}
	s.page(w, r, "rules", d.Rules[id])
}

func (s *Server) listVulnerabilities(w http.ResponseWriter, r *http.Request) {
	s.page(w, r, "cves", s.snapshot().Vulnerabilities)
}

func affects(v Object, agentID string) bool {
	agents, _ := v["agents"].([]any)
	for _, a := range agents {
		if o, ok := a.(Object); ok && o["agentId"] == agentID {
			return true
		}
	}
	return false
}

func (s *Server) vulnerabilitySub(w http.ResponseWriter, r *http.Request) {
	a, b := r.PathValue("a"), r.PathValue("b")
	vulns := s.snapshot().Vulnerabilities
	var out []Object
	switch {
	case a == "package":
		for _, v := range vulns {
			if v["reportedPackage"] == b {
				out = append(out, v)
			}
		}
		s.page(w, r, "cves", out)
	case a == "agent":
		for _, v := range vulns {
			if affects(v, b) {
				out = append(out, v)
			}
		}
		s.page(w, r, "cves", out)
	case b == "servers":
		v := find(vulns, "cveNumber", a)
		if v == nil {
			writeErrors(w, http.StatusNotFound, "Vulnerability not found")
			return
		}
		agents, _ := v["agents"].([]any)
		for _, ag := range agents {
			if o, ok := ag.(Object); ok {
				out = append(out, o)
			}
		}
		s.page(w, r, "servers", out)
	default:
		writeErrors(w, http.StatusNotFound, "Not Found")
	}
}
