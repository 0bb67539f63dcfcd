package threatstack

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"net/url"
)

// Agent statuses accepted by GET /v2/agents.
const (
	AgentOnline  = "online"
	AgentOffline = "offline"
)

// Agent is a host running the Threat Stack agent.
type Agent struct {
	ID                string       `json:"id"`
	InstanceID        string       `json:"instanceId,omitempty"`
	Status            string       `json:"status"`
	CreatedAt         Time         `json:"createdAt"`
	LastReportedAt    Time         `json:"lastReportedAt"`
	Version           string       `json:"version"`
	Name              string       `json:"name,omitempty"`
	Description       string       `json:"description,omitempty"`
	Hostname          string       `json:"hostname"`
	IPAddresses       IPAddresses  `json:"ipAddresses"`
	Tags              []Tag        `json:"tags,omitempty"`
	AgentType         string       `json:"agentType,omitempty"`
	OSVersion         string       `json:"osVersion,omitempty"`
	Kernel            string       `json:"kernel,omitempty"`
	AgentModuleHealth ModuleHealth `json:"agentModuleHealth"`

	raw json.RawMessage
}

// IPAddresses are an agent's addresses as CIDR strings.
type IPAddresses struct {
	Private   StringList `json:"private"`
	Public    StringList `json:"public"`
	LinkLocal StringList `json:"link_local"`
}

// Tag is a key/value label on an agent (e.g. an EC2 tag).
type Tag struct {
	Source string `json:"source,omitempty"`
	Key    string `json:"key"`
	Value  string `json:"value"`
}

// ModuleHealth summarises the agent's own health report.
type ModuleHealth struct {
	// IsHealthy is nil when the agent sent no health report: not the
	// same as an unhealthy one.
	IsHealthy *bool `json:"isHealthy"`
}

// UnmarshalJSON decodes leniently and keeps the original object.
func (a *Agent) UnmarshalJSON(b []byte) error {
	*a = Agent{}
	return decodeLenient(b, &a.raw, fieldMap{
		"id": &a.ID, "instanceId": &a.InstanceID, "status": &a.Status,
		"createdAt": &a.CreatedAt, "lastReportedAt": &a.LastReportedAt,
		"version": &a.Version, "name": &a.Name, "description": &a.Description,
		"hostname": &a.Hostname, "ipAddresses": &a.IPAddresses, "tags": &a.Tags,
		"agentType": &a.AgentType, "osVersion": &a.OSVersion, "kernel": &a.Kernel,
		"agentModuleHealth": &a.AgentModuleHealth,
	})
}

// MarshalJSON writes the object as the API sent it.
func (a Agent) MarshalJSON() ([]byte, error) {
	type plain Agent
	return rawOr(a.raw, plain(a))
}

// AllIPs lists private, then public, then link-local addresses.
func (a Agent) AllIPs() []string {
	var out []string
	out = append(out, a.IPAddresses.Private...)
	out = append(out, a.IPAddresses.Public...)
	return append(out, a.IPAddresses.LinkLocal...)
}

// AgentListOptions filters GET /v2/agents.
type AgentListOptions struct {
	// Status is required by the API; empty means "online", the public
	// scripts' default.
	Status string
}

// AgentPages lists agents page by page.
func (c *Client) AgentPages(ctx context.Context, opts AgentListOptions) iter.Seq2[[]Agent, error] {
	status := opts.Status
	if status == "" {
		status = AgentOnline
	}
	return listPages[Agent](ctx, c, "/v2/agents", url.Values{"status": {status}}, "agents")
}

// GetAgent fetches one agent.
func (c *Client) GetAgent(ctx context.Context, id string) (*Agent, error) {
	if id == "" {
		return nil, errors.New("threatstack: agent id is empty")
	}
	var a Agent
	if err := c.getRecord(ctx, "/v2/agents/"+segment(id), "an agent", &a); err != nil {
		return nil, err
	}
	return &a, nil
}

func (a *Agent) recordID() string { return a.ID }
