package payload

import (
	"sort"
	"strings"
)

// canary is what a Thinkst Canary console POSTs to a generic webhook, and
// what canarytokens.org POSTs for a free Canarytoken. The deliveries come
// in five shapes, told apart by their fields:
//
//   - a Canary device was touched: AlertType "CanaryIncident", with
//     Description (the incident kind), Intro, IncidentHash, CanaryName,
//     CanaryIP, SourceIP, Timestamp "2020-07-20 16:26:22 (UTC)" and
//     AdditionalDetails as [name, value] pairs;
//   - a Canarytoken fired through the console: AlertType
//     "CanarytokenIncident", with Token, Reminder (the token's memo,
//     despite the name), Description (the token kind) and Triggered;
//   - an operational notice (a device disconnected or came back): no
//     AlertType, a Description and an Intro;
//   - a console audit record: {"type": "console-audit", "payload": {...}};
//   - a free Canarytoken: manage_url, memo, channel, time, additional_data.
//
// Types drift between console versions (CanaryPort, LogType and Triggered
// are numbers or strings), which the lenient readers absorb. Canary has no
// severity field: a device or token incident is high, since nothing
// legitimate touches a Canary, and the console's test incident is info.
type canary struct{}

// FormatCanary is the Thinkst Canary and Canarytoken webhook format.
const FormatCanary = "canary"

func init() { register(canary{}) }

func (canary) Name() string { return FormatCanary }

// Sniff relies on Canary's own values and keys (an AlertType naming a
// Canary kind, IncidentHash, Intro with Description), the audit envelope's
// type, or the free Canarytoken's manage_url or memo with channel. Any
// AlertType was once enough, and Microsoft's alerts (Office 365 and
// Defender for Cloud records carry one too) were read as Canary incidents.
func (canary) Sniff(doc map[string]any) bool {
	return str(doc["type"]) == "console-audit" ||
		strings.HasPrefix(str(doc["AlertType"]), "Canary") || has(doc, "IncidentHash") ||
		(has(doc, "Intro") && has(doc, "Description")) ||
		isFreeCanarytoken(doc)
}

func isFreeCanarytoken(doc map[string]any) bool {
	return !has(doc, "AlertType") && (has(doc, "manage_url") || (has(doc, "memo") && has(doc, "channel")))
}

func (p canary) Parse(body []byte) ([]Event, error) { return parseBody(body, p.events) }

// Canary's own names for the kinds of delivery, used as Event.Type.
const (
	canaryIncident      = "CanaryIncident"
	canarytokenIncident = "CanarytokenIncident"
	canaryOperational   = "operational"
	canaryConsoleAudit  = "console-audit"
	canarytokenFree     = "canarytoken"
)

func (canary) events(doc map[string]any) []Event {
	var ev Event
	switch {
	case str(doc["type"]) == canaryConsoleAudit:
		ev = canaryAudit(obj(doc, "payload"))
	case isFreeCanarytoken(doc):
		ev = freeCanarytoken(doc)
	default:
		ev = canaryAlert(doc)
	}
	ev.Format = FormatCanary
	ev.Action = ActionCreate
	return []Event{ev}
}

func canaryAlert(doc map[string]any) Event {
	ev := Event{
		Type:        firstNonEmpty(str(doc["AlertType"]), canaryOperational),
		ExternalID:  str(doc["IncidentHash"]),
		Description: str(doc["Intro"]),
		Category:    str(doc["Description"]),
		Source:      str(doc["Flock"]),
		OccurredAt:  timeOf(doc["Timestamp"]),
	}
	// A reminder or re-sent alert about one incident carries its hash.
	ev.CorrelationKey = ev.ExternalID
	device := str(doc["CanaryName"])
	kind := ev.Category
	if ev.Type == canaryOperational {
		if id := str(doc["CanaryID"]); id != "" {
			// A device's disconnect and its reconnect are one outage: the
			// reconnect resolves the disconnect's incident instead of each
			// blip leaving one open.
			ev.CorrelationKey = "device:" + id
			if strings.EqualFold(kind, "Canary Reconnected") {
				ev.VendorStatus = "Resolved"
			}
		}
	}

	switch ev.Type {
	case canarytokenIncident:
		ev.Severity = SeverityHigh
		ev.Title = "Canarytoken triggered"
		if memo := firstNonEmpty(str(doc["Reminder"]), kind); memo != "" {
			ev.Title += ": " + memo
		}
	case canaryOperational:
		ev.Severity = SeverityLow
		ev.Title = firstNonEmpty(kind, truncate(ev.Description, 120), "Canary console notice")
		if device != "" {
			ev.Title += " (" + device + ")"
		}
	default:
		ev.Severity = SeverityHigh
		ev.Title = firstNonEmpty(kind, "Canary incident")
		if device != "" {
			ev.Title += " on " + device
		}
	}
	if canaryDummy(doc) {
		// The console's "send test" incident: it proves the wiring works
		// and must not page anyone.
		ev.Severity = SeverityInfo
		ev.Title = "Dummy incident"
		if device != "" {
			ev.Title += " on " + device
		}
	}

	e := &ev.Entities
	e.Hosts = appendUnique(e.Hosts, device, str(doc["ReverseDNS"]))
	e.addIPs(str(doc["CanaryIP"]), str(doc["SourceIP"]))
	if str(doc["SourceIP"]) == "" {
		// Canarytoken incidents may name the attacker only in prose:
		// "… triggered over doc-msword by the source IP 1.1.1.1."
		if m := canarySourceIP().FindStringSubmatch(ev.Description); m != nil {
			e.addIPs(m[1])
		}
	}
	for _, d := range canaryDetails(doc["AdditionalDetails"]) {
		switch strings.ToLower(d.name) {
		case "username", "user":
			e.Users = appendUnique(e.Users, d.value)
		case "filename", "file":
			e.Files = appendUnique(e.Files, d.value)
		case "src ip", "source ip":
			e.addIPs(d.value)
		}
	}
	return ev
}

// canarySourceIP finds the address in an Intro's "source IP <addr>".
var canarySourceIP = lazyRE(`source IP ([0-9A-Fa-f:.]+[0-9A-Fa-f])`)

// canaryDummy recognizes the console's test incident, old and new: a
// "Dummy Incident" kind, the testnode device, or the dummy flock.
func canaryDummy(doc map[string]any) bool {
	return strings.EqualFold(str(doc["Description"]), "Dummy Incident") ||
		str(doc["CanaryID"]) == "0000000testnode" ||
		str(doc["CanaryName"]) == "0000000testnode" ||
		str(doc["Flock"]) == "flock:dummyincidentflock"
}

type canaryDetail struct{ name, value string }

// canaryDetails reads AdditionalDetails, a list of [name, value] pairs
// whose values may be numbers; an object of name → value is read too.
func canaryDetails(v any) []canaryDetail {
	var out []canaryDetail
	switch x := v.(type) {
	case []any:
		for _, item := range x {
			pair, _ := item.([]any)
			if len(pair) >= 2 {
				out = append(out, canaryDetail{str(pair[0]), str(pair[1])})
			}
		}
	case map[string]any:
		names := make([]string, 0, len(x))
		for k := range x {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			out = append(out, canaryDetail{k, str(x[k])})
		}
	}
	return out
}

func canaryAudit(p map[string]any) Event {
	ev := Event{
		Type:       canaryConsoleAudit,
		Category:   str(p["action_type"]),
		Source:     firstNonEmpty(str(p["flock_name"]), str(p["flock_id"])),
		OccurredAt: timeOf(p["timestamp"]),
		// Audit records say who changed the console, not that anything
		// was attacked.
		Severity: SeverityInfo,
	}
	ev.Title = firstNonEmpty(truncate(str(p["message"]), 200), ev.Category, "Canary console audit event")
	ev.Entities.Users = appendUnique(nil, str(p["user"]))
	ev.Entities.addIPs(str(p["user_ip"]))
	return ev
}

// freeCanarytoken reads a canarytokens.org delivery. Its manage_url
// carries the token's auth secret, so it is left in the raw payload
// rather than copied into the event as a link.
func freeCanarytoken(doc map[string]any) Event {
	data := obj(doc, "additional_data")
	ev := Event{
		Type:       canarytokenFree,
		Category:   str(doc["channel"]),
		OccurredAt: timeOf(doc["time"]),
		Severity:   SeverityHigh,
		Title:      "Canarytoken triggered",
	}
	if memo := str(doc["memo"]); memo != "" {
		ev.Title += ": " + truncate(memo, 200)
	}
	ev.Entities.addIPs(str(data["src_ip"]), str(doc["src_ip"]))
	return ev
}
