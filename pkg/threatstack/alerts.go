package threatstack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Alert statuses accepted by GET /v2/alerts.
const (
	AlertActive    = "active"
	AlertDismissed = "dismissed"
)

// Alert severities: 1 is the most severe.
const (
	SeverityHigh   = 1
	SeverityMedium = 2
	SeverityLow    = 3
)

// SeverityName returns "high", "medium" or "low" for 1, 2, 3 and the
// number itself otherwise.
func SeverityName(s int) string {
	switch s {
	case SeverityHigh:
		return "high"
	case SeverityMedium:
		return "medium"
	case SeverityLow:
		return "low"
	}
	return strconv.Itoa(s)
}

// Alert is an alert raised by a rule.
type Alert struct {
	ID                string `json:"id"`
	Title             string `json:"title"`
	DataSource        string `json:"dataSource,omitempty"`
	CreatedAt         Time   `json:"createdAt"`
	IsDismissed       bool   `json:"isDismissed"`
	DismissedAt       Time   `json:"dismissedAt"`
	DismissReason     string `json:"dismissReason,omitempty"`
	DismissReasonText string `json:"dismissReasonText,omitempty"`
	DismissedBy       string `json:"dismissedBy,omitempty"`
	Severity          int    `json:"severity"`
	AgentID           string `json:"agentId,omitempty"`
	RulesetID         string `json:"rulesetId,omitempty"`
	RuleID            string `json:"ruleId,omitempty"`

	raw json.RawMessage
}

// UnmarshalJSON decodes leniently and keeps the original object.
func (a *Alert) UnmarshalJSON(b []byte) error {
	*a = Alert{}
	return decodeLenient(b, &a.raw, fieldMap{
		"id": &a.ID, "title": &a.Title, "dataSource": &a.DataSource,
		"createdAt|created_at": &a.CreatedAt, "isDismissed|dismissed": &a.IsDismissed,
		"dismissedAt": &a.DismissedAt, "dismissReason": &a.DismissReason,
		"dismissReasonText": &a.DismissReasonText, "dismissedBy": &a.DismissedBy,
		"severity": &a.Severity, "agentId|agent_id": &a.AgentID,
		"rulesetId": &a.RulesetID, "ruleId|rule_id": &a.RuleID,
	})
}

// MarshalJSON writes the object as the API sent it.
func (a Alert) MarshalJSON() ([]byte, error) {
	type plain Alert
	return rawOr(a.raw, plain(a))
}

// AlertListOptions filters GET /v2/alerts.
type AlertListOptions struct {
	// Status is required by the API; empty means "active", the public
	// scripts' default.
	Status string
	// Severity is 1, 2 or 3; 0 lists all severities.
	Severity int
	// From and Until bound the creation time; zero means unbounded.
	From, Until time.Time
	RuleID      string
	AgentID     string
}

func (o AlertListOptions) query() url.Values {
	status := o.Status
	if status == "" {
		status = AlertActive
	}
	q := url.Values{"status": {status}}
	if o.Severity != 0 {
		q.Set("severity", strconv.Itoa(o.Severity))
	}
	if !o.From.IsZero() {
		q.Set("from", formatAPITime(o.From))
	}
	if !o.Until.IsZero() {
		q.Set("until", formatAPITime(o.Until))
	}
	if o.RuleID != "" {
		q.Set("ruleId", o.RuleID)
	}
	if o.AgentID != "" {
		q.Set("agentId", o.AgentID)
	}
	return q
}

// formatAPITime writes the ISO 8601 form the API's from/until take.
func formatAPITime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// AlertPages lists alerts page by page.
func (c *Client) AlertPages(ctx context.Context, opts AlertListOptions) iter.Seq2[[]Alert, error] {
	return listPages[Alert](ctx, c, "/v2/alerts", opts.query(), "alerts")
}

// GetAlert fetches one alert.
func (c *Client) GetAlert(ctx context.Context, id string) (*Alert, error) {
	if id == "" {
		return nil, errors.New("threatstack: alert id is empty")
	}
	var a Alert
	if err := c.getRecord(ctx, "/v2/alerts/"+segment(id), "an alert", &a); err != nil {
		return nil, err
	}
	return &a, nil
}

func (a *Alert) recordID() string { return a.ID }

// Event is one of the events behind an alert. Event shapes depend on the
// data source; the typed fields are the common ones and MarshalJSON keeps
// the rest.
type Event struct {
	ID        string `json:"id"`
	Timestamp Time   `json:"timestamp"`
	Type      string `json:"eventType"`
	AgentID   string `json:"agentId,omitempty"`
	Hostname  string `json:"hostname,omitempty"`
	User      string `json:"user,omitempty"`
	Command   string `json:"command,omitempty"`

	raw json.RawMessage
}

// UnmarshalJSON decodes leniently and keeps the original object.
func (e *Event) UnmarshalJSON(b []byte) error {
	*e = Event{}
	return decodeLenient(b, &e.raw, fieldMap{
		"id|_id": &e.ID, "timestamp|eventTime": &e.Timestamp,
		"eventType|event_type|type": &e.Type, "agentId|agent_id": &e.AgentID,
		"hostname": &e.Hostname, "user": &e.User, "command|exe": &e.Command,
	})
}

// MarshalJSON writes the object as the API sent it.
func (e Event) MarshalJSON() ([]byte, error) {
	type plain Event
	return rawOr(e.raw, plain(e))
}

// AlertEventPages lists the events behind an alert.
func (c *Client) AlertEventPages(ctx context.Context, alertID string) iter.Seq2[[]Event, error] {
	if alertID == "" {
		return refuse[Event](errors.New("threatstack: alert id is empty"))
	}
	return listPages[Event](ctx, c, "/v2/alerts/"+segment(alertID)+"/events", nil, "events")
}

// AlertContext returns the context the API gives for an alert. Its shape
// varies by data source, so it is returned as JSON.
func (c *Client) AlertContext(ctx context.Context, alertID string) (json.RawMessage, error) {
	if alertID == "" {
		return nil, errors.New("threatstack: alert id is empty")
	}
	var raw json.RawMessage
	if err := c.getJSON(ctx, "/v2/alerts/"+segment(alertID)+"/context", nil, &raw); err != nil {
		return nil, err
	}
	return raw, nil
}

// SeverityCount is the number of alerts of one severity.
type SeverityCount struct {
	Severity int `json:"severity"`
	Count    int `json:"count"`
}

// AlertSeverityCounts counts alerts by severity.
func (c *Client) AlertSeverityCounts(ctx context.Context) ([]SeverityCount, error) {
	const path = "/v2/alerts/severity-counts"
	var body map[string]json.RawMessage
	if err := c.getJSON(ctx, path, nil, &body); err != nil {
		return nil, err
	}
	// Decoded into a struct, {} or a proxy's JSON would read as "no alerts
	// of any severity" and exit 0.
	raw := bytes.TrimSpace(body["severityCounts"])
	if len(raw) == 0 || raw[0] != '[' {
		return nil, c.decodeError(http.MethodGet, path,
			errors.New(`response has no "severityCounts" list: the API answered a shape this version does not know`))
	}
	counts := []SeverityCount{}
	if err := json.Unmarshal(raw, &counts); err != nil {
		return nil, c.decodeError(http.MethodGet, path, fmt.Errorf("decoding severityCounts: %w", err))
	}
	return counts, nil
}

// Reasons accepted by POST /v2/alerts/dismiss.
const (
	DismissBusinessOp    = "BUSINESS_OP"
	DismissCompanyPolicy = "COMPANY_POLICY"
	DismissMaintenance   = "MAINTENANCE"
	DismissOther         = "OTHER"
)

// DismissReasons lists the accepted reasons, for validation and completion.
var DismissReasons = []string{DismissBusinessOp, DismissCompanyPolicy, DismissMaintenance, DismissOther}

// DismissRequest is the body of POST /v2/alerts/dismiss.
type DismissRequest struct {
	IDs        []string `json:"ids"`
	Reason     string   `json:"dismissReason"`
	ReasonText string   `json:"dismissReasonText,omitempty"`
}

// DismissAlerts dismisses alerts. It is never retried automatically: a
// timeout leaves it unknown whether the server acted.
func (c *Client) DismissAlerts(ctx context.Context, req DismissRequest) error {
	if len(req.IDs) == 0 {
		return errors.New("threatstack: no alert ids to dismiss")
	}
	if slices.Contains(req.IDs, "") {
		return errors.New("threatstack: alert id is empty")
	}
	if !slices.Contains(DismissReasons, req.Reason) {
		return fmt.Errorf("threatstack: dismiss reason %q: want one of %s", req.Reason, strings.Join(DismissReasons, ", "))
	}
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, http.MethodPost, "/v2/alerts/dismiss", nil, body)
	return err
}
