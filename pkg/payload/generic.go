package payload

import (
	"fmt"
	"strings"
	"time"
)

// generic is seed 003's generic format:
//
//	{"event_type": "...", "timestamp": "RFC 3339", "source": "...",
//	 "data": {"alert_id": "...", "severity": "high", "details": {...}}}
//
// Every field is optional; any JSON object is accepted.
type generic struct{}

func init() { register(generic{}) }

func (generic) Name() string { return FormatGeneric }

func (generic) Sniff(doc map[string]any) bool { return true }

func (generic) Parse(body []byte) ([]Event, error) {
	doc, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	data, _ := doc["data"].(map[string]any)
	ev := Event{
		Format:     FormatGeneric,
		Type:       str(doc["event_type"]),
		Source:     str(doc["source"]),
		ExternalID: firstNonEmpty(str(data["alert_id"]), str(data["id"]), str(doc["id"])),
		Category:   firstNonEmpty(str(data["category"]), str(doc["category"])),
		Action:     ActionCreate,
	}
	ev.VendorSeverity = firstNonEmpty(str(data["severity"]), str(doc["severity"]))
	ev.Severity = MapSeverity(ev.VendorSeverity, nil, defaultSeverity(ev.Type))
	ev.Title = firstNonEmpty(str(data["title"]), str(data["summary"]), str(data["description"]), str(doc["title"]))
	if ev.Title == "" {
		ev.Title = firstNonEmpty(ev.Type, "webhook event")
		if ev.ExternalID != "" {
			ev.Title += " " + ev.ExternalID
		}
	}
	if ts := str(doc["timestamp"]); ts != "" {
		if t, err := time.Parse(time.RFC3339Nano, ts); err == nil {
			ev.OccurredAt = t.UTC()
		}
	}
	if h := str(data["host"]); h != "" {
		ev.Entities.Hosts = []string{h}
	}
	if u := str(data["user"]); u != "" {
		ev.Entities.Users = []string{u}
	}
	if ip := firstNonEmpty(str(data["ip"]), str(data["src_ip"])); ip != "" {
		ev.Entities.IPs = []string{ip}
	}
	return []Event{ev}, nil
}

// defaultSeverity is used when a generic event names none: a test delivery
// is informational, anything else deserves a look.
func defaultSeverity(eventType string) Severity {
	if strings.EqualFold(eventType, "test") {
		return SeverityInfo
	}
	return SeverityMedium
}

// str renders scalar JSON values as text and ignores objects and arrays, so
// a vendor changing a field's type never fails a parse.
func str(v any) string {
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x)
	case fmt.Stringer: // json.Number
		return x.String()
	case float64:
		return fmt.Sprint(x)
	case bool:
		return fmt.Sprint(x)
	}
	return ""
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
