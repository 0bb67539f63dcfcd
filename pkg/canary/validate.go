package canary

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// InputError is a value rejected before any call reaches the console. It
// names the field, never echoes a secret value.
type InputError struct {
	Field  string
	Reason string
}

func (e *InputError) Error() string { return fmt.Sprintf("invalid %s: %s", e.Field, e.Reason) }

// ErrNotTeamsURL marks a URL that does not look like a Microsoft Teams
// incoming webhook or workflow. It is a warning: callers may let the user
// insist (the console has the final word).
var ErrNotTeamsURL = errors.New("does not look like a Microsoft Teams incoming webhook or workflow URL")

// ValidateWebhookURL accepts an absolute http or https URL with a host.
func ValidateWebhookURL(raw string) error {
	if strings.TrimSpace(raw) == "" {
		return &InputError{Field: "url", Reason: "empty"}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return &InputError{Field: "url", Reason: "not a URL"}
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return &InputError{Field: "url", Reason: "must be an absolute http:// or https:// URL"}
	}
	if u.Hostname() == "" {
		return &InputError{Field: "url", Reason: "has no host"}
	}
	if strings.ContainsAny(raw, " \t\r\n") {
		return &InputError{Field: "url", Reason: "contains whitespace"}
	}
	return nil
}

// CheckMSTeamsURL returns nil for a URL shaped like a Teams webhook, and an
// error wrapping ErrNotTeamsURL otherwise (after ValidateWebhookURL's checks).
// Recognised: Office 365 connectors (<tenant>.webhook.office.com/…,
// outlook.office.com/webhook…) and Teams workflows, which Power Automate
// serves from *.logic.azure.com/…/workflows/… and, since 2025, from
// *.api.powerplatform.com/…/workflows/….
func CheckMSTeamsURL(raw string) error {
	if err := ValidateWebhookURL(raw); err != nil {
		return err
	}
	u, _ := url.Parse(raw)
	host := strings.ToLower(u.Hostname())
	path := strings.ToLower(u.Path)
	switch {
	case host == "webhook.office.com" || strings.HasSuffix(host, ".webhook.office.com"):
		return nil
	case (host == "office.com" || strings.HasSuffix(host, ".office.com")) && strings.HasPrefix(path, "/webhook"):
		return nil
	case strings.HasSuffix(host, ".logic.azure.com") && strings.Contains(path, "/workflows/"):
		return nil
	case strings.HasSuffix(host, ".api.powerplatform.com") && strings.Contains(path, "/workflows/"):
		return nil
	}
	// Only the host is named: Teams URLs carry their secret in the path or query.
	return fmt.Errorf("url on host %s %w", host, ErrNotTeamsURL)
}

// ValidateHeaderName accepts an RFC 7230 token (letters, digits and
// !#$%&'*+-.^_`|~).
func ValidateHeaderName(name string) error {
	if name == "" {
		return &InputError{Field: "header name", Reason: "empty"}
	}
	if !httpguts.ValidHeaderFieldName(name) {
		return &InputError{Field: "header name", Reason: fmt.Sprintf("%q is not an RFC 7230 token", name)}
	}
	return nil
}

// ValidateHeaders checks names and values and rejects a name given twice
// (header names are case-insensitive, and the console keeps one value).
func ValidateHeaders(headers []Header) error {
	seen := map[string]bool{}
	for _, h := range headers {
		if err := ValidateHeaderName(h.Name); err != nil {
			return err
		}
		if !httpguts.ValidHeaderFieldValue(h.Value) {
			return &InputError{Field: "header value", Reason: fmt.Sprintf("value of %s contains control characters", h.Name)}
		}
		key := strings.ToLower(h.Name)
		if seen[key] {
			return &InputError{Field: "header name", Reason: fmt.Sprintf("%s given more than once", h.Name)}
		}
		seen[key] = true
	}
	return nil
}

// EncodeHeaders renders headers as the JSON object generic/add takes
// ({"Name": "Value", …}), keeping the caller's order.
func EncodeHeaders(headers []Header) (string, error) {
	if err := ValidateHeaders(headers); err != nil {
		return "", err
	}
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, h := range headers {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, _ := json.Marshal(h.Name)
		v, _ := json.Marshal(h.Value)
		buf.Write(k)
		buf.WriteByte(':')
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.String(), nil
}

// ParsePort accepts a TCP port, 1–65535.
func ParsePort(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, &InputError{Field: "port", Reason: fmt.Sprintf("%q is not a number", s)}
	}
	if err := ValidatePort(n); err != nil {
		return 0, err
	}
	return n, nil
}

// ValidatePort accepts 1–65535.
func ValidatePort(port int) error {
	if port < 1 || port > 65535 {
		return &InputError{Field: "port", Reason: fmt.Sprintf("%d is outside 1-65535", port)}
	}
	return nil
}

// ValidateHost accepts a host name or IP address for the Splunk HEC: no
// scheme, path or port (the port is its own field).
func ValidateHost(host string) error {
	h := strings.TrimSpace(host)
	switch {
	case h == "":
		return &InputError{Field: "host", Reason: "empty"}
	case strings.Contains(h, "://"):
		return &InputError{Field: "host", Reason: "give the host name or IP only, without a scheme"}
	case strings.ContainsAny(h, "/?# \t"):
		return &InputError{Field: "host", Reason: "give the host name or IP only, without a path"}
	}
	if net.ParseIP(strings.Trim(h, "[]")) != nil {
		return nil
	}
	if strings.Contains(h, ":") {
		return &InputError{Field: "host", Reason: "give the port separately"}
	}
	return nil
}

// requireFlock rejects an empty flock id before a call.
func requireFlock(flockID string) error {
	if strings.TrimSpace(flockID) == "" {
		return &InputError{Field: "flock_id", Reason: "empty"}
	}
	return nil
}

func requireNonEmpty(field, v string) error {
	if strings.TrimSpace(v) == "" {
		return &InputError{Field: field, Reason: "empty"}
	}
	return nil
}
