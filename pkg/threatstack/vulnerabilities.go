package threatstack

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"net/url"
)

// Vulnerability is a CVE found in a package on monitored servers.
type Vulnerability struct {
	CVENumber       string             `json:"cveNumber"`
	ReportedPackage string             `json:"reportedPackage,omitempty"`
	SystemPackage   string             `json:"systemPackage,omitempty"`
	VectorType      string             `json:"vectorType,omitempty"`
	Severity        string             `json:"severity,omitempty"`
	IsSuppressed    bool               `json:"isSuppressed"`
	Agents          []VulnerableServer `json:"agents,omitempty"`

	raw json.RawMessage
}

// UnmarshalJSON decodes leniently and keeps the original object.
func (v *Vulnerability) UnmarshalJSON(b []byte) error {
	*v = Vulnerability{}
	return decodeLenient(b, &v.raw, fieldMap{
		"cveNumber": &v.CVENumber, "reportedPackage": &v.ReportedPackage,
		"systemPackage": &v.SystemPackage, "vectorType": &v.VectorType,
		"severity": &v.Severity, "isSuppressed": &v.IsSuppressed, "agents": &v.Agents,
	})
}

// MarshalJSON writes the object as the API sent it.
func (v Vulnerability) MarshalJSON() ([]byte, error) {
	type plain Vulnerability
	return rawOr(v.raw, plain(v))
}

// VulnerableServer is a server affected by a CVE.
type VulnerableServer struct {
	AgentID  string `json:"agentId"`
	Hostname string `json:"hostname,omitempty"`

	raw json.RawMessage
}

// UnmarshalJSON decodes leniently and keeps the original object.
func (s *VulnerableServer) UnmarshalJSON(b []byte) error {
	*s = VulnerableServer{}
	return decodeLenient(b, &s.raw, fieldMap{"agentId|id": &s.AgentID, "hostname": &s.Hostname})
}

// MarshalJSON writes the object as the API sent it.
func (s VulnerableServer) MarshalJSON() ([]byte, error) {
	type plain VulnerableServer
	return rawOr(s.raw, plain(s))
}

// VulnerabilityListOptions narrows GET /v2/vulnerabilities to one package
// or one agent (the API has a path for each, not a combined filter).
type VulnerabilityListOptions struct {
	Package string
	AgentID string
	// Status is passed through when set ("active" in the public scripts).
	Status string
}

// VulnerabilityPages lists vulnerabilities page by page.
func (c *Client) VulnerabilityPages(ctx context.Context, opts VulnerabilityListOptions) iter.Seq2[[]Vulnerability, error] {
	path := "/v2/vulnerabilities"
	switch {
	case opts.Package != "" && opts.AgentID != "":
		return func(yield func([]Vulnerability, error) bool) {
			yield(nil, errors.New("threatstack: filter vulnerabilities by package or by agent, not both"))
		}
	case opts.Package != "":
		path += "/package/" + segment(opts.Package)
	case opts.AgentID != "":
		path += "/agent/" + segment(opts.AgentID)
	}
	var q url.Values
	if opts.Status != "" {
		q = url.Values{"status": {opts.Status}}
	}
	// Items are under "cves"; the per-package listing of the python client
	// reads "packages", accepted as a fallback.
	return listPages[Vulnerability](ctx, c, path, q, "cves", "packages")
}

// CVEServerPages lists the servers affected by one CVE.
func (c *Client) CVEServerPages(ctx context.Context, cve string) iter.Seq2[[]VulnerableServer, error] {
	if cve == "" {
		return func(yield func([]VulnerableServer, error) bool) {
			yield(nil, errors.New("threatstack: CVE id is empty"))
		}
	}
	return listPages[VulnerableServer](ctx, c, "/v2/vulnerabilities/"+segment(cve)+"/servers", nil, "servers")
}
