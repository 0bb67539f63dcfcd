package canary

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
)

// Endpoint paths below /api/v1/ (seed 002 and the console's ping and flocks).
const (
	pathPing          = "ping"
	pathFlocks        = "flocks/list"
	pathWebhooks      = "flock/settings/webhooks/"
	pathIsEnabled     = pathWebhooks + "is_enabled"
	pathIsGlobal      = pathWebhooks + "is_global"
	pathEnable        = pathWebhooks + "enable"
	pathDisable       = pathWebhooks + "disable"
	pathUseGlobal     = pathWebhooks + "use_global"
	pathGeneric       = pathWebhooks + "generic" // deprecated list
	pathGenericList   = pathWebhooks + "generic/list"
	pathGenericAdd    = pathWebhooks + "generic/add"
	pathGenericRemove = pathWebhooks + "generic/remove"
	pathGenericTest   = pathWebhooks + "generic/test"
	pathTeams         = pathWebhooks + "ms_teams"
	pathTeamsAdd      = pathWebhooks + "ms_teams/add"
	pathTeamsRemove   = pathWebhooks + "ms_teams/remove"
	pathTeamsTest     = pathWebhooks + "ms_teams/test"
	pathSlack         = pathWebhooks + "slack"
	pathSlackRemove   = pathWebhooks + "slack/remove"
	pathSlackTest     = pathWebhooks + "slack/test"
	pathSplunk        = pathWebhooks + "splunk"
	pathSplunkAdd     = pathWebhooks + "splunk/add"
	pathSplunkRemove  = pathWebhooks + "splunk/remove"
	pathSplunkTest    = pathWebhooks + "splunk/test"
)

// Ping checks the console is reachable and accepts the auth token.
func (c *Client) Ping(ctx context.Context) error {
	_, err := c.get(ctx, pathPing, nil)
	return err
}

// Flocks lists the console's flocks, the default flock first, then by name.
func (c *Client) Flocks(ctx context.Context) ([]Flock, error) {
	body, err := c.get(ctx, pathFlocks, nil)
	if err != nil {
		return nil, err
	}
	var w struct {
		Flocks json.RawMessage `json:"flocks"`
	}
	if err := decodeJSON(pathFlocks, body, &w); err != nil {
		return nil, err
	}
	flocks, err := decodeFlocks(w.Flocks)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(flocks, func(i, j int) bool {
		a, b := flocks[i], flocks[j]
		if (a.ID == DefaultFlock) != (b.ID == DefaultFlock) {
			return a.ID == DefaultFlock
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.ID < b.ID
	})
	return flocks, nil
}

// decodeFlocks reads the documented map of id to name, and also a list of
// objects, which some console versions return.
func decodeFlocks(raw json.RawMessage) ([]Flock, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return []Flock{}, nil
	}
	if raw[0] == '[' {
		var items []struct {
			ID      flexString `json:"flock_id"`
			AltID   flexString `json:"id"`
			Name    flexString `json:"name"`
			AltName flexString `json:"flock_name"`
		}
		if err := decodeJSON(pathFlocks, raw, &items); err != nil {
			return nil, err
		}
		out := make([]Flock, 0, len(items))
		for _, it := range items {
			f := Flock{ID: string(it.ID), Name: string(it.Name)}
			if f.ID == "" {
				f.ID = string(it.AltID)
			}
			if f.Name == "" {
				f.Name = string(it.AltName)
			}
			out = append(out, f)
		}
		return out, nil
	}
	var m map[string]flexString
	if err := decodeJSON(pathFlocks, raw, &m); err != nil {
		return nil, err
	}
	out := make([]Flock, 0, len(m))
	for id, name := range m {
		out = append(out, Flock{ID: id, Name: string(name)})
	}
	return out, nil
}

func flockParams(flockID string) url.Values {
	return url.Values{"flock_id": {flockID}}
}

// WebhooksEnabled reports is_enabled for a flock.
func (c *Client) WebhooksEnabled(ctx context.Context, flockID string) (bool, error) {
	return c.flockBool(ctx, pathIsEnabled, "is_enabled", flockID)
}

// WebhooksGlobal reports is_global: whether the flock follows the console's
// global webhook settings.
func (c *Client) WebhooksGlobal(ctx context.Context, flockID string) (bool, error) {
	return c.flockBool(ctx, pathIsGlobal, "is_global", flockID)
}

// flockBool reads the one boolean field key that endpoint answers.
func (c *Client) flockBool(ctx context.Context, endpoint, key, flockID string) (bool, error) {
	if err := requireFlock(flockID); err != nil {
		return false, err
	}
	body, err := c.get(ctx, endpoint, flockParams(flockID))
	if err != nil {
		return false, err
	}
	var fields map[string]json.RawMessage
	if err := decodeJSON(endpoint, body, &fields); err != nil {
		return false, err
	}
	// A reply without the field (or with null) says nothing: read as
	// false, it reported webhooks off that may be on.
	raw, ok := fields[key]
	if !ok || string(bytes.TrimSpace(raw)) == "null" {
		return false, c.red.Error(&DecodeError{Endpoint: endpoint, Err: fmt.Errorf("the reply has no %q value", key)})
	}
	var v flexBool
	if err := decodeJSON(endpoint, raw, &v); err != nil {
		return false, err
	}
	return bool(v), nil
}

// WebhookState reads is_enabled and is_global.
func (c *Client) WebhookState(ctx context.Context, flockID string) (WebhookState, error) {
	enabled, err := c.WebhooksEnabled(ctx, flockID)
	if err != nil {
		return WebhookState{}, err
	}
	global, err := c.WebhooksGlobal(ctx, flockID)
	if err != nil {
		return WebhookState{}, err
	}
	return WebhookState{Enabled: enabled, Global: global}, nil
}

// EnableWebhooks turns the flock's webhooks on.
func (c *Client) EnableWebhooks(ctx context.Context, flockID string) error {
	return c.flockAction(ctx, pathEnable, flockID)
}

// DisableWebhooks turns the flock's webhooks off.
func (c *Client) DisableWebhooks(ctx context.Context, flockID string) error {
	return c.flockAction(ctx, pathDisable, flockID)
}

// UseGlobalWebhooks makes the flock follow the console's global settings.
func (c *Client) UseGlobalWebhooks(ctx context.Context, flockID string) error {
	return c.flockAction(ctx, pathUseGlobal, flockID)
}

func (c *Client) flockAction(ctx context.Context, endpoint, flockID string) error {
	if err := requireFlock(flockID); err != nil {
		return err
	}
	_, err := c.post(ctx, endpoint, flockParams(flockID))
	return err
}

// urlAction posts flock_id and url to endpoint.
func (c *Client) urlAction(ctx context.Context, endpoint, flockID, webhookURL string) ([]byte, error) {
	if err := requireFlock(flockID); err != nil {
		return nil, err
	}
	if err := requireNonEmpty("url", webhookURL); err != nil {
		return nil, err
	}
	p := flockParams(flockID)
	p.Set("url", webhookURL)
	return c.post(ctx, endpoint, p)
}

// testResult decodes a test endpoint's success body.
func testResult(endpoint string, body []byte) (TestResult, error) {
	var w struct {
		Webhook flexString `json:"webhook"`
	}
	if err := decodeJSON(endpoint, body, &w); err != nil {
		return TestResult{}, err
	}
	return TestResult{Webhook: string(w.Webhook), Raw: json.RawMessage(body)}, nil
}

// AddGenericWebhook adds a generic webhook; headers, if any, travel as the
// JSON object in the headers form field.
func (c *Client) AddGenericWebhook(ctx context.Context, flockID, webhookURL string, headers []Header) error {
	if err := requireFlock(flockID); err != nil {
		return err
	}
	if err := ValidateWebhookURL(webhookURL); err != nil {
		return err
	}
	p := flockParams(flockID)
	p.Set("url", webhookURL)
	if len(headers) > 0 {
		h, err := EncodeHeaders(headers)
		if err != nil {
			return err
		}
		p.Set("headers", h)
	}
	_, err := c.post(ctx, pathGenericAdd, p)
	return err
}

// GenericWebhooks lists generic webhooks with their header names
// (generic/list).
func (c *Client) GenericWebhooks(ctx context.Context, flockID string) (GenericWebhooks, error) {
	if err := requireFlock(flockID); err != nil {
		return GenericWebhooks{}, err
	}
	body, err := c.get(ctx, pathGenericList, flockParams(flockID))
	if err != nil {
		return GenericWebhooks{}, err
	}
	var w struct {
		Webhooks        []genericWire `json:"generic_webhooks"`
		WebhooksEnabled *flexBool     `json:"webhooks_enabled"`
	}
	if err := decodeJSON(pathGenericList, body, &w); err != nil {
		return GenericWebhooks{}, err
	}
	out := GenericWebhooks{Webhooks: make([]GenericWebhook, 0, len(w.Webhooks)), WebhooksEnabled: w.WebhooksEnabled.ptr()}
	for _, g := range w.Webhooks {
		out.Webhooks = append(out.Webhooks, GenericWebhook{ID: g.ID, URL: g.URL, HeaderNames: g.HeaderNames})
	}
	return out, nil
}

// genericWire is one generic/list item; a bare URL string is accepted too.
type genericWire GenericWebhook

func (g *genericWire) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] != '{' {
		var u flexString
		if err := u.UnmarshalJSON(data); err != nil {
			return err
		}
		*g = genericWire{URL: string(u), HeaderNames: []string{}}
		return nil
	}
	var w struct {
		HeaderNames flexStrings `json:"header_names"`
		URL         flexString  `json:"url"`
		WebhookID   flexString  `json:"webhook_id"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*g = genericWire{ID: string(w.WebhookID), URL: string(w.URL), HeaderNames: toStrings(w.HeaderNames)}
	return nil
}

// GenericWebhookURLs lists generic webhook URLs through the older generic
// endpoint.
//
// Deprecated: the console deprecates this endpoint; use GenericWebhooks.
func (c *Client) GenericWebhookURLs(ctx context.Context, flockID string) (URLWebhooks, error) {
	return c.urlList(ctx, pathGeneric, "generic_webhooks", flockID)
}

// urlList reads a list of bare URLs under key.
func (c *Client) urlList(ctx context.Context, endpoint, key, flockID string) (URLWebhooks, error) {
	if err := requireFlock(flockID); err != nil {
		return URLWebhooks{}, err
	}
	body, err := c.get(ctx, endpoint, flockParams(flockID))
	if err != nil {
		return URLWebhooks{}, err
	}
	var w map[string]json.RawMessage
	if err := decodeJSON(endpoint, body, &w); err != nil {
		return URLWebhooks{}, err
	}
	var items []genericWire
	if raw, ok := w[key]; ok && string(bytes.TrimSpace(raw)) != "null" {
		if err := decodeJSON(endpoint, raw, &items); err != nil {
			return URLWebhooks{}, err
		}
	}
	var enabled *flexBool
	if raw, ok := w["webhooks_enabled"]; ok {
		if err := decodeJSON(endpoint, raw, &enabled); err != nil {
			return URLWebhooks{}, err
		}
	}
	out := URLWebhooks{URLs: make([]string, 0, len(items)), WebhooksEnabled: enabled.ptr()}
	for _, it := range items {
		out.URLs = append(out.URLs, it.URL)
	}
	return out, nil
}

// RemoveGenericWebhook removes the generic webhook with this URL.
func (c *Client) RemoveGenericWebhook(ctx context.Context, flockID, webhookURL string) error {
	_, err := c.urlAction(ctx, pathGenericRemove, flockID, webhookURL)
	return err
}

// TestGenericWebhook has the console send a test alert to a generic webhook.
func (c *Client) TestGenericWebhook(ctx context.Context, flockID, webhookURL string) (TestResult, error) {
	body, err := c.urlAction(ctx, pathGenericTest, flockID, webhookURL)
	if err != nil {
		return TestResult{}, err
	}
	return testResult(pathGenericTest, body)
}

// AddMSTeamsWebhook adds an MS Teams webhook. It checks the URL is absolute
// http(s); whether it looks like Teams (CheckMSTeamsURL) is the caller's call.
func (c *Client) AddMSTeamsWebhook(ctx context.Context, flockID, webhookURL string) error {
	if err := ValidateWebhookURL(webhookURL); err != nil {
		return err
	}
	_, err := c.urlAction(ctx, pathTeamsAdd, flockID, webhookURL)
	return err
}

// MSTeamsWebhooks lists the flock's MS Teams webhook URLs.
func (c *Client) MSTeamsWebhooks(ctx context.Context, flockID string) (URLWebhooks, error) {
	return c.urlList(ctx, pathTeams, "ms_teams_webhooks", flockID)
}

// RemoveMSTeamsWebhook removes the MS Teams webhook with this URL.
func (c *Client) RemoveMSTeamsWebhook(ctx context.Context, flockID, webhookURL string) error {
	_, err := c.urlAction(ctx, pathTeamsRemove, flockID, webhookURL)
	return err
}

// TestMSTeamsWebhook has the console send a test alert to an MS Teams webhook.
func (c *Client) TestMSTeamsWebhook(ctx context.Context, flockID, webhookURL string) (TestResult, error) {
	body, err := c.urlAction(ctx, pathTeamsTest, flockID, webhookURL)
	if err != nil {
		return TestResult{}, err
	}
	return testResult(pathTeamsTest, body)
}

// SlackWebhooks lists the flock's Slack webhooks. Slack webhooks are added
// in the console's UI only: the API has no slack/add.
func (c *Client) SlackWebhooks(ctx context.Context, flockID string) (SlackWebhooks, error) {
	if err := requireFlock(flockID); err != nil {
		return SlackWebhooks{}, err
	}
	body, err := c.get(ctx, pathSlack, flockParams(flockID))
	if err != nil {
		return SlackWebhooks{}, err
	}
	var w struct {
		Webhooks []struct {
			Channel          flexString `json:"channel"`
			ConfigurationURL flexString `json:"configuration_url"`
			Team             flexString `json:"team"`
			URL              flexString `json:"url"`
		} `json:"slack_webhooks"`
		WebhooksEnabled *flexBool `json:"webhooks_enabled"`
	}
	if err := decodeJSON(pathSlack, body, &w); err != nil {
		return SlackWebhooks{}, err
	}
	out := SlackWebhooks{Webhooks: make([]SlackWebhook, 0, len(w.Webhooks)), WebhooksEnabled: w.WebhooksEnabled.ptr()}
	for _, s := range w.Webhooks {
		out.Webhooks = append(out.Webhooks, SlackWebhook{
			Team: string(s.Team), Channel: string(s.Channel), URL: string(s.URL), ConfigurationURL: string(s.ConfigurationURL),
		})
	}
	return out, nil
}

// RemoveSlackWebhook removes the Slack webhook of a team and channel. Seed
// 002 lists team and channel as the parameters (its curl example shows url;
// the parameter list is followed).
func (c *Client) RemoveSlackWebhook(ctx context.Context, flockID, team, channel string) error {
	if err := requireFlock(flockID); err != nil {
		return err
	}
	if err := requireNonEmpty("team", team); err != nil {
		return err
	}
	if err := requireNonEmpty("channel", channel); err != nil {
		return err
	}
	p := flockParams(flockID)
	p.Set("team", team)
	p.Set("channel", channel)
	_, err := c.post(ctx, pathSlackRemove, p)
	return err
}

// TestSlackWebhook has the console send a test alert to a Slack webhook.
func (c *Client) TestSlackWebhook(ctx context.Context, flockID, webhookURL string) (TestResult, error) {
	body, err := c.urlAction(ctx, pathSlackTest, flockID, webhookURL)
	if err != nil {
		return TestResult{}, err
	}
	return testResult(pathSlackTest, body)
}

// AddSplunkWebhook points the flock at a Splunk HTTP Event Collector.
func (c *Client) AddSplunkWebhook(ctx context.Context, flockID, host string, port int, token string) error {
	if err := requireFlock(flockID); err != nil {
		return err
	}
	if err := ValidateHost(host); err != nil {
		return err
	}
	if err := ValidatePort(port); err != nil {
		return err
	}
	if err := requireNonEmpty("token", token); err != nil {
		return err
	}
	p := flockParams(flockID)
	p.Set("host", host)
	p.Set("port", portString(port))
	p.Set("token", token)
	_, err := c.post(ctx, pathSplunkAdd, p)
	return err
}

// SplunkWebhook reads the flock's Splunk webhook, if any.
func (c *Client) SplunkWebhook(ctx context.Context, flockID string) (SplunkSettings, error) {
	if err := requireFlock(flockID); err != nil {
		return SplunkSettings{}, err
	}
	body, err := c.get(ctx, pathSplunk, flockParams(flockID))
	if err != nil {
		return SplunkSettings{}, err
	}
	var w struct {
		Webhook         json.RawMessage `json:"splunk_webhook"`
		WebhooksEnabled *flexBool       `json:"webhooks_enabled"`
	}
	if err := decodeJSON(pathSplunk, body, &w); err != nil {
		return SplunkSettings{}, err
	}
	out := SplunkSettings{WebhooksEnabled: w.WebhooksEnabled.ptr()}
	// An unconfigured flock may answer null, {}, "" or an empty list.
	if raw := bytes.TrimSpace(w.Webhook); len(raw) > 0 && raw[0] == '{' {
		var s struct {
			Host  flexString `json:"host"`
			Port  flexString `json:"port"`
			Token flexString `json:"token"`
		}
		if err := decodeJSON(pathSplunk, raw, &s); err != nil {
			return SplunkSettings{}, err
		}
		if s.Host != "" || s.Port != "" || s.Token != "" {
			out.Webhook = &SplunkWebhook{Host: string(s.Host), Port: string(s.Port), Token: string(s.Token)}
		}
	}
	return out, nil
}

// RemoveSplunkWebhook removes the flock's Splunk webhook.
func (c *Client) RemoveSplunkWebhook(ctx context.Context, flockID string) error {
	return c.flockAction(ctx, pathSplunkRemove, flockID)
}

// TestSplunkWebhook has the console send a test event to the flock's
// configured Splunk HEC.
func (c *Client) TestSplunkWebhook(ctx context.Context, flockID string) (TestResult, error) {
	if err := requireFlock(flockID); err != nil {
		return TestResult{}, err
	}
	body, err := c.post(ctx, pathSplunkTest, flockParams(flockID))
	if err != nil {
		return TestResult{}, err
	}
	return testResult(pathSplunkTest, body)
}
