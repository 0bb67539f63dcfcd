// Package payload turns vendor webhook bodies into one normalized Event
// model. Each vendor format lives in its own file and registers a Parser;
// Parse picks one by name, or sniffs the body when the format is "auto".
package payload

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Severity is tw-cli's normalized severity scale.
type Severity string

// The normalized severities, most severe first.
const (
	SeverityCritical Severity = "critical"
	SeverityHigh     Severity = "high"
	SeverityMedium   Severity = "medium"
	SeverityLow      Severity = "low"
	SeverityInfo     Severity = "info"
)

// Severities lists the normalized scale, most severe first.
var Severities = []Severity{SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow, SeverityInfo}

// ParseSeverity accepts a normalized severity name, case-insensitively.
func ParseSeverity(s string) (Severity, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for _, v := range Severities {
		if string(v) == s {
			return v, true
		}
	}
	return "", false
}

// Entities are the things an event is about, gathered for search and triage.
type Entities struct {
	Hosts      []string `json:"hosts,omitempty" yaml:"hosts,omitempty"`
	Users      []string `json:"users,omitempty" yaml:"users,omitempty"`
	Sender     string   `json:"sender,omitempty" yaml:"sender,omitempty"`
	Recipients []string `json:"recipients,omitempty" yaml:"recipients,omitempty"`
	FileHashes []string `json:"file_hashes,omitempty" yaml:"file_hashes,omitempty"`
	IPs        []string `json:"ips,omitempty" yaml:"ips,omitempty"`
	URLs       []string `json:"urls,omitempty" yaml:"urls,omitempty"`
	Domains    []string `json:"domains,omitempty" yaml:"domains,omitempty"`
}

// Action says what a delivery does to the incident it refers to. Most
// formats only create; audit streams such as TheHive's also update.
type Action string

// Actions a parsed event can carry.
const (
	ActionCreate Action = "create"
	ActionUpdate Action = "update"
	ActionDelete Action = "delete"
)

// Event is one normalized security event. A delivery can hold several
// (Threat Stack batches alerts), so parsers return a slice.
type Event struct {
	Format         string    `json:"format" yaml:"format"`
	Type           string    `json:"type,omitempty" yaml:"type,omitempty"`
	ExternalID     string    `json:"external_id,omitempty" yaml:"external_id,omitempty"`
	Title          string    `json:"title" yaml:"title"`
	Severity       Severity  `json:"severity" yaml:"severity"`
	VendorSeverity string    `json:"vendor_severity,omitempty" yaml:"vendor_severity,omitempty"`
	Category       string    `json:"category,omitempty" yaml:"category,omitempty"`
	Source         string    `json:"source,omitempty" yaml:"source,omitempty"`
	OccurredAt     time.Time `json:"occurred_at,omitzero" yaml:"occurred_at,omitempty"`
	Entities       Entities  `json:"entities" yaml:"entities"`
	Action         Action    `json:"action" yaml:"action"`
	// CorrelationKey ties deliveries about one vendor object together, so an
	// update lands on the incident its creation made instead of a new one.
	CorrelationKey string `json:"correlation_key,omitempty" yaml:"correlation_key,omitempty"`
}

// Parser parses one vendor format. It must not fail on unknown fields.
type Parser interface {
	// Name is the format's name as used by --format.
	Name() string
	// Sniff reports whether a decoded JSON document looks like this format.
	Sniff(doc map[string]any) bool
	// Parse returns the events in body.
	Parse(body []byte) ([]Event, error)
}

// ErrInvalid wraps every parse failure; the receiver answers invalid_payload.
var ErrInvalid = errors.New("invalid payload")

// FormatAuto sniffs the body; FormatGeneric is the seed's generic format.
const (
	FormatAuto    = "auto"
	FormatGeneric = "generic"
)

// registry is filled by the parser files of this package and never changed
// afterwards; sniffOrder is most specific first, generic last.
var (
	registry   = map[string]Parser{}
	sniffOrder []Parser
)

func register(p Parser) {
	registry[p.Name()] = p
	sniffOrder = append(sniffOrder, p)
	sort.SliceStable(sniffOrder, func(i, j int) bool {
		// generic accepts any object, so it must be tried last.
		return sniffOrder[j].Name() == FormatGeneric && sniffOrder[i].Name() != FormatGeneric
	})
}

// Formats lists the format names accepted by Parse, "auto" first.
func Formats() []string {
	names := make([]string, 0, len(registry)+1)
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return append([]string{FormatAuto}, names...)
}

// ValidFormat reports whether name is a known format or "auto".
func ValidFormat(name string) bool {
	_, ok := registry[name]
	return ok || name == FormatAuto
}

// Result is the outcome of Parse.
type Result struct {
	Format string
	Events []Event
	// Warning is set when auto-detection fell back to generic.
	Warning string
}

// Parse decodes body as format ("auto" or empty to sniff).
func Parse(format string, body []byte) (Result, error) {
	if format == "" {
		format = FormatAuto
	}
	if format != FormatAuto {
		p, ok := registry[format]
		if !ok {
			return Result{}, fmt.Errorf("unknown payload format %q (known: %s)", format, strings.Join(Formats(), ", "))
		}
		evs, err := p.Parse(body)
		return Result{Format: format, Events: evs}, err
	}
	doc, err := decodeObject(body)
	if err != nil {
		return Result{}, err
	}
	for _, p := range sniffOrder {
		if p.Name() != FormatGeneric && p.Sniff(doc) {
			evs, err := p.Parse(body)
			return Result{Format: p.Name(), Events: evs}, err
		}
	}
	evs, err := registry[FormatGeneric].Parse(body)
	res := Result{Format: FormatGeneric, Events: evs}
	if _, known := doc["event_type"]; !known {
		res.Warning = "body matched no known vendor format; stored as generic"
	}
	return res, err
}

// decodeObject decodes a JSON object, keeping numbers exact.
func decodeObject(body []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrInvalid, jsonErrorText(err))
	}
	if doc == nil {
		return nil, fmt.Errorf("%w: body must be a JSON object", ErrInvalid)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: trailing data after the JSON object", ErrInvalid)
	}
	return doc, nil
}

func jsonErrorText(err error) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return "body must be a JSON object"
	}
	return err.Error()
}

// MapSeverity normalizes a vendor severity. A per-source mapping (seed 003's
// severity_mapping: vendor value → normalized value) wins; then the vendor
// value itself if it already names a normalized severity; otherwise fallback.
func MapSeverity(vendor string, mapping map[string]string, fallback Severity) Severity {
	v := strings.ToLower(strings.TrimSpace(vendor))
	for k, to := range mapping {
		if strings.EqualFold(k, v) {
			if s, ok := ParseSeverity(to); ok {
				return s
			}
		}
	}
	if s, ok := ParseSeverity(v); ok {
		return s
	}
	switch v {
	case "informational", "information":
		return SeverityInfo
	case "moderate":
		return SeverityMedium
	case "severe":
		return SeverityHigh
	}
	return fallback
}
