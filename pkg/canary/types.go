package canary

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Kind names a kind of flock webhook.
type Kind string

// The webhook kinds of the flock settings API.
const (
	KindGeneric Kind = "generic"
	KindMSTeams Kind = "ms-teams"
	KindSlack   Kind = "slack"
	KindSplunk  Kind = "splunk"
)

// Kinds lists every kind, in the order the console's UI shows them.
var Kinds = []Kind{KindGeneric, KindMSTeams, KindSlack, KindSplunk}

// ParseKind accepts a kind name; ms_teams and msteams are taken for ms-teams.
func ParseKind(s string) (Kind, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "generic":
		return KindGeneric, nil
	case "ms-teams", "ms_teams", "msteams", "teams":
		return KindMSTeams, nil
	case "slack":
		return KindSlack, nil
	case "splunk":
		return KindSplunk, nil
	}
	return "", fmt.Errorf("unknown webhook kind %q: want generic, ms-teams, slack or splunk", s)
}

// Flock is one flock of the console.
type Flock struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// WebhookState is a flock's webhook switch: is_enabled and is_global.
type WebhookState struct {
	Enabled bool `json:"is_enabled"`
	Global  bool `json:"is_global"`
}

// GenericWebhook is one generic webhook. The console lists only the names of
// its headers: their values may be secrets.
type GenericWebhook struct {
	ID          string   `json:"webhook_id,omitempty"`
	URL         string   `json:"url"`
	HeaderNames []string `json:"header_names"`
}

// GenericWebhooks is the answer of generic/list.
type GenericWebhooks struct {
	Webhooks []GenericWebhook `json:"generic_webhooks"`
	// WebhooksEnabled is nil when the answer has no webhooks_enabled: read
	// as false, it would report webhooks off that may be on.
	WebhooksEnabled *bool `json:"webhooks_enabled,omitempty"`
}

// URLWebhooks is a list of bare webhook URLs: the answer of ms_teams and of
// the deprecated generic list.
type URLWebhooks struct {
	URLs []string `json:"urls"`
	// WebhooksEnabled is nil when the answer has no webhooks_enabled.
	WebhooksEnabled *bool `json:"webhooks_enabled,omitempty"`
}

// SlackWebhook is one Slack webhook, added through the console's UI.
type SlackWebhook struct {
	Team             string `json:"team"`
	Channel          string `json:"channel"`
	URL              string `json:"url"`
	ConfigurationURL string `json:"configuration_url"`
}

// SlackWebhooks is the answer of the slack list.
type SlackWebhooks struct {
	Webhooks []SlackWebhook `json:"slack_webhooks"`
	// WebhooksEnabled is nil when the answer has no webhooks_enabled.
	WebhooksEnabled *bool `json:"webhooks_enabled,omitempty"`
}

// SplunkWebhook is a flock's Splunk HTTP Event Collector. Token is the HEC
// token as the console returns it: callers showing it should mask it.
type SplunkWebhook struct {
	Host  string `json:"host"`
	Port  string `json:"port"`
	Token string `json:"token"`
}

// SplunkSettings is the answer of the splunk list; Webhook is nil when the
// flock has none.
type SplunkSettings struct {
	Webhook *SplunkWebhook `json:"splunk_webhook"`
	// WebhooksEnabled is nil when the answer has no webhooks_enabled.
	WebhooksEnabled *bool `json:"webhooks_enabled,omitempty"`
}

// TestResult is the console's answer to a successful test: the webhook it
// sent a test alert to (empty for Splunk) and the raw response body.
type TestResult struct {
	Webhook string          `json:"webhook,omitempty"`
	Raw     json.RawMessage `json:"-"`
}

// Header is one custom header of a generic webhook.
type Header struct {
	Name  string
	Value string
}

// flexBool decodes a boolean that may arrive as true, "true", "True", 1 or
// "1": console versions differ, and a status read should not fail on that.
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	s := strings.ToLower(strings.Trim(strings.TrimSpace(string(data)), `"`))
	switch s {
	case "true", "1", "yes", "on", "enabled":
		*b = true
	case "false", "0", "no", "off", "disabled", "", "null":
		*b = false
	default:
		return fmt.Errorf("cannot read %s as a boolean", data)
	}
	return nil
}

// ptr returns the value as a *bool; nil (the field was absent or null)
// stays nil.
func (b *flexBool) ptr() *bool {
	if b == nil {
		return nil
	}
	v := bool(*b)
	return &v
}

// flexString decodes a string that may arrive as a number (ports, ids).
type flexString string

func (f *flexString) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || string(data) == "null" {
		*f = ""
		return nil
	}
	if data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(data, &n); err == nil {
		*f = flexString(n.String())
		return nil
	}
	if string(data) == "true" || string(data) == "false" {
		*f = flexString(data)
		return nil
	}
	// An object or array where a string belongs: keep its JSON text rather
	// than failing the whole response.
	*f = flexString(data)
	return nil
}

// flexStrings decodes a list of strings that may be null, a single string,
// or hold numbers.
type flexStrings []string

func (f *flexStrings) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if string(data) == "null" || len(data) == 0 {
		*f = nil
		return nil
	}
	if data[0] != '[' {
		var one flexString
		if err := one.UnmarshalJSON(data); err != nil {
			return err
		}
		if one == "" {
			*f = nil
		} else {
			*f = flexStrings{string(one)}
		}
		return nil
	}
	var items []flexString
	if err := json.Unmarshal(data, &items); err != nil {
		return err
	}
	out := make(flexStrings, 0, len(items))
	for _, it := range items {
		out = append(out, string(it))
	}
	*f = out
	return nil
}

func toStrings(f flexStrings) []string {
	if f == nil {
		return []string{}
	}
	return []string(f)
}

// DecodeError is a successful answer that is not what the console
// documents: a field of another type, or one that is missing.
type DecodeError struct {
	Endpoint string
	Err      error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("canary: decoding %s response: %v", e.Endpoint, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }

// decodeJSON wraps decoding errors with the endpoint they came from.
func decodeJSON(endpoint string, body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return &DecodeError{Endpoint: endpoint, Err: err}
	}
	return nil
}

// portString formats a port number for the form field.
func portString(port int) string { return strconv.Itoa(port) }
