package threatstack

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
)

// Ruleset is a named group of rules.
type Ruleset struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	CreatedAt   Time     `json:"createdAt"`
	UpdatedAt   Time     `json:"updatedAt"`
	RuleIDs     []string `json:"ruleIds,omitempty"`

	raw json.RawMessage
}

// UnmarshalJSON decodes leniently and keeps the original object.
func (r *Ruleset) UnmarshalJSON(b []byte) error {
	*r = Ruleset{}
	return decodeLenient(b, &r.raw, fieldMap{
		"id": &r.ID, "name": &r.Name, "description": &r.Description,
		"createdAt": &r.CreatedAt, "updatedAt": &r.UpdatedAt, "ruleIds": &r.RuleIDs,
	})
}

// MarshalJSON writes the object as the API sent it.
func (r Ruleset) MarshalJSON() ([]byte, error) {
	type plain Ruleset
	return rawOr(r.raw, plain(r))
}

// Rule is one detection rule of a ruleset.
type Rule struct {
	ID               string `json:"id"`
	RulesetID        string `json:"rulesetId,omitempty"`
	Name             string `json:"name"`
	Type             string `json:"type"`
	Title            string `json:"title,omitempty"`
	Severity         int    `json:"severityOfAlerts"`
	AlertDescription string `json:"alertDescription,omitempty"`
	Enabled          bool   `json:"enabled"`
	CreatedAt        Time   `json:"createdAt"`
	UpdatedAt        Time   `json:"updatedAt"`

	raw json.RawMessage
}

// UnmarshalJSON decodes leniently and keeps the original object.
func (r *Rule) UnmarshalJSON(b []byte) error {
	*r = Rule{}
	return decodeLenient(b, &r.raw, fieldMap{
		"id": &r.ID, "rulesetId": &r.RulesetID, "name": &r.Name, "type": &r.Type,
		"title": &r.Title, "severityOfAlerts": &r.Severity,
		"alertDescription": &r.AlertDescription, "enabled": &r.Enabled,
		"createdAt": &r.CreatedAt, "updatedAt": &r.UpdatedAt,
	})
}

// MarshalJSON writes the object as the API sent it.
func (r Rule) MarshalJSON() ([]byte, error) {
	type plain Rule
	return rawOr(r.raw, plain(r))
}

// RulesetPages lists rulesets page by page.
func (c *Client) RulesetPages(ctx context.Context) iter.Seq2[[]Ruleset, error] {
	return listPages[Ruleset](ctx, c, "/v2/rulesets", nil, "rulesets")
}

// GetRuleset fetches one ruleset.
func (c *Client) GetRuleset(ctx context.Context, id string) (*Ruleset, error) {
	if id == "" {
		return nil, errors.New("threatstack: ruleset id is empty")
	}
	var r Ruleset
	if err := c.getRecord(ctx, "/v2/rulesets/"+segment(id), "a ruleset", &r); err != nil {
		return nil, err
	}
	return &r, nil
}

func (r *Ruleset) recordID() string { return r.ID }

// RulePages lists the rules of a ruleset page by page.
func (c *Client) RulePages(ctx context.Context, rulesetID string) iter.Seq2[[]Rule, error] {
	if rulesetID == "" {
		return refuse[Rule](errors.New("threatstack: ruleset id is empty"))
	}
	return listPages[Rule](ctx, c, "/v2/rulesets/"+segment(rulesetID)+"/rules", nil, "rules")
}
