// Package payload turns vendor webhook bodies into one normalized Event
// model. Each vendor format lives in its own file and registers a Parser;
// Parse picks one by name, or sniffs the body when the format is "auto".
//
// Formats: generic (seed 003), defender (seed 003's Microsoft Defender for
// Office 365 envelope, and Microsoft Graph security alerts), crowdstrike
// (Falcon streaming events), splunk (webhook alert
// action), thehive (audit webhook), threatstack (alert webhook batches) and
// canary (Thinkst Canary, Canarytokens).
//
// Parsing is lenient: any JSON object yields at least one event, whatever
// its fields and their types; only a body that is not one JSON object is
// an error, and it wraps ErrInvalid.
//
// How a receiver is meant to use an event: look up an open incident by
// (source, CorrelationKey) when the key is set; ActionCreate opens one if
// none exists, ActionUpdate changes the one found (and opens one if the
// creation was never received), ActionDelete closes it. On an update, an
// empty VendorSeverity means the delivery said nothing about severity
// (TheHive task and observable changes), so the incident keeps its own.
// A source's severity_mapping is applied with ApplySeverityMapping.
package payload

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

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
	// Emails are addresses named without a sender or recipient role, such
	// as a TheHive "mail" observable.
	Emails []string `json:"emails,omitempty" yaml:"emails,omitempty"`
	// Files are file names or paths, as the vendor wrote them.
	Files        []string `json:"files,omitempty" yaml:"files,omitempty"`
	CommandLines []string `json:"command_lines,omitempty" yaml:"command_lines,omitempty"`
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
	Format     string `json:"format" yaml:"format"`
	Type       string `json:"type,omitempty" yaml:"type,omitempty"`
	ExternalID string `json:"external_id,omitempty" yaml:"external_id,omitempty"`
	Title      string `json:"title" yaml:"title"`
	// Description is the vendor's longer account of the event, when it
	// sends one (Canary's Intro, Falcon's DetectDescription, a TheHive
	// case description).
	Description string   `json:"description,omitempty" yaml:"description,omitempty"`
	Severity    Severity `json:"severity" yaml:"severity"`
	// VendorSeverity is the sender's own value, verbatim ("4" for Falcon,
	// "high" for Defender). Empty means the delivery carried none and
	// Severity is the parser's default for that kind of event, so an update
	// without one should not overwrite an incident's severity.
	VendorSeverity string `json:"vendor_severity,omitempty" yaml:"vendor_severity,omitempty"`
	// VendorStatus is the vendor object's own status after this delivery
	// (TheHive "Open", "Resolved"), for formats that track one. An object
	// the vendor closed is reported as "Resolved" or "Closed" whatever the
	// vendor calls it (TheHive 5's Closed stage, a Falcon detection set to
	// closed or to a resolution such as false_positive, a Falcon Identity
	// Protection incident's CLOSED state), since those are what a receiver
	// reads as closing.
	VendorStatus string    `json:"vendor_status,omitempty" yaml:"vendor_status,omitempty"`
	Category     string    `json:"category,omitempty" yaml:"category,omitempty"`
	Source       string    `json:"source,omitempty" yaml:"source,omitempty"`
	OccurredAt   time.Time `json:"occurred_at,omitzero" yaml:"occurred_at,omitempty"`
	// Link points at the event in the vendor's console (Falcon's host
	// link, Splunk's results link).
	Link     string   `json:"link,omitempty" yaml:"link,omitempty"`
	Entities Entities `json:"entities" yaml:"entities"`
	Action   Action   `json:"action" yaml:"action"`
	// CorrelationKey ties deliveries about one vendor object together, so an
	// update lands on the incident its creation made instead of a new one.
	CorrelationKey string `json:"correlation_key,omitempty" yaml:"correlation_key,omitempty"`
}

// Parser parses one vendor format. It must not fail on unknown fields, nor
// on known fields of an unexpected type: any JSON object yields at least
// one event, and every error wraps ErrInvalid.
type Parser interface {
	// Name is the format's name as used by --format.
	Name() string
	// Sniff reports whether a decoded JSON document looks like this format.
	Sniff(doc map[string]any) bool
	// Parse returns the events in body.
	Parse(body []byte) ([]Event, error)
}

// docParser is what every parser of this package implements besides Parser,
// so that Parse decodes a body once for sniffing and converting.
type docParser interface {
	Parser
	// events converts a decoded object; it never fails and returns at
	// least one event.
	events(doc map[string]any) []Event
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
	registry   = map[string]docParser{}
	sniffOrder []docParser
)

func register(p docParser) {
	registry[p.Name()] = p
	sniffOrder = append(sniffOrder, p)
	sort.SliceStable(sniffOrder, func(i, j int) bool {
		// generic accepts any object, so it must be tried last.
		return sniffOrder[j].Name() == FormatGeneric && sniffOrder[i].Name() != FormatGeneric
	})
}

// parseBody is the Parse method shared by the parsers of this package.
func parseBody(body []byte, convert func(map[string]any) []Event) ([]Event, error) {
	doc, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	return convert(doc), nil
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

// Result is the outcome of Parse. On success Events holds at least one event.
type Result struct {
	Format string
	Events []Event
	// Warning is set when auto-detection fell back to generic, or when a
	// body parsed with an explicit format does not look like that format
	// (it is still parsed, leniently, and may lack fields).
	Warning string
}

// Parse decodes body as format ("auto" or empty to sniff).
func Parse(format string, body []byte) (Result, error) {
	if format == "" {
		format = FormatAuto
	}
	var p docParser
	if format != FormatAuto {
		var ok bool
		if p, ok = registry[format]; !ok {
			return Result{}, fmt.Errorf("unknown payload format %q (known: %s)", format, strings.Join(Formats(), ", "))
		}
	}
	doc, err := decodeObject(body)
	if err != nil {
		return Result{}, err
	}
	if p != nil {
		res := Result{Format: format, Events: p.events(doc)}
		if format != FormatGeneric && !p.Sniff(doc) {
			res.Warning = fmt.Sprintf("body does not look like the %s format; parsed leniently, fields may be missing", format)
		}
		return res, nil
	}
	for _, p := range sniffOrder {
		if p.Name() != FormatGeneric && p.Sniff(doc) {
			return Result{Format: p.Name(), Events: p.events(doc)}, nil
		}
	}
	res := Result{Format: FormatGeneric, Events: registry[FormatGeneric].events(doc)}
	if _, known := doc["event_type"]; !known {
		res.Warning = "body matched no known vendor format; stored as generic"
	}
	return res, nil
}

// decodeObject decodes a JSON object, keeping numbers exact.
func decodeObject(body []byte) (map[string]any, error) {
	if doc, ok := fastDecodeObject(body); ok {
		return doc, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrInvalid, jsonErrorText(err))
	}
	if doc == nil {
		return nil, fmt.Errorf("%w: body must be a JSON object", ErrInvalid)
	}
	// More misses a stray closing bracket; only EOF proves nothing follows.
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: trailing data after the JSON object", ErrInvalid)
	}
	return doc, nil
}

func jsonErrorText(err error) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return "body must be a JSON object"
	}
	if errors.Is(err, io.EOF) { // nothing but whitespace
		return "body is empty: it must be a JSON object"
	}
	return err.Error()
}
