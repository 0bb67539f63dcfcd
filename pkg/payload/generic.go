package payload

import (
	"strings"
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

func (p generic) Parse(body []byte) ([]Event, error) { return parseBody(body, p.events) }

func (generic) events(doc map[string]any) []Event {
	data := obj(doc, "data")
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
	ev.OccurredAt = timeOf(doc["timestamp"])
	// As in the vendor formats: no placeholders ("N/A", "unknown"), and
	// only addresses as IPs.
	if h := str(data["host"]); !placeholder(h) {
		ev.Entities.Hosts = []string{h}
	}
	if u := str(data["user"]); !placeholder(u) {
		ev.Entities.Users = []string{u}
	}
	for _, key := range [...]string{"ip", "src_ip"} {
		if ip := str(data[key]); ip != "" && isAddr(ip) {
			ev.Entities.IPs = []string{ip}
			break
		}
	}
	return []Event{ev}
}

// defaultSeverity is used when a generic event names none: a test delivery
// is informational, anything else deserves a look.
func defaultSeverity(eventType string) Severity {
	if strings.EqualFold(eventType, "test") {
		return SeverityInfo
	}
	return SeverityMedium
}
