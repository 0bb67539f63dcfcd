package payload

// threatStack is Threat Stack's alert webhook. Threat Stack batches the
// alerts of one severity every 10 seconds into one delivery:
//
//	{"alerts": [{"id": "...", "title": "...", "severity": 1,
//	             "created_at": 1464816294000, "organization_id": "...",
//	             "server_or_region": "web-01", "source": "host"}, ...]}
//
// Some integrations forward one alert object without the envelope; both
// are accepted, and each alert becomes one event. Threat Stack sends no
// resolve notifications, so every event creates.
type threatStack struct{}

// FormatThreatStack is Threat Stack's alert webhook.
const FormatThreatStack = "threatstack"

func init() { register(threatStack{}) }

func (threatStack) Name() string { return FormatThreatStack }

// Sniff wants alerts with Threat Stack's snake_case fields, in the
// envelope or alone; "id" and "title" alone are far too common.
func (threatStack) Sniff(doc map[string]any) bool {
	if list, ok := doc["alerts"].([]any); ok {
		for _, a := range list {
			if alert, ok := a.(map[string]any); ok && (isThreatStackAlert(alert) || isEnvelopedAlert(alert)) {
				return true
			}
		}
		return false
	}
	return isThreatStackAlert(doc)
}

func isThreatStackAlert(a map[string]any) bool {
	return has(a, "server_or_region") || (has(a, "organization_id") && has(a, "created_at"))
}

// isEnvelopedAlert accepts the leaner alerts seen in the envelope (id,
// title, severity, created_at only). The "alerts" key already narrows the
// guess, so an id with Threat Stack's 1–3 severity or a created_at is
// enough there; a lone object needs the stronger test above, because id
// and severity alone are common to many senders. Every other vendor is
// sniffed before this one, so their bodies are not taken.
func isEnvelopedAlert(a map[string]any) bool {
	if str(a["id"]) == "" {
		return false
	}
	if sev, ok := intOf(a["severity"]); ok && sev >= 1 && sev <= 3 {
		return true
	}
	return has(a, "created_at")
}

func (p threatStack) Parse(body []byte) ([]Event, error) { return parseBody(body, p.events) }

// threatStackSeverity is Threat Stack's scale, where 1 is the most severe.
var threatStackSeverity = map[int64]Severity{
	1: SeverityHigh,
	2: SeverityMedium,
	3: SeverityLow,
}

func (threatStack) events(doc map[string]any) []Event {
	var evs []Event
	seen := map[string]bool{}
	if list, ok := doc["alerts"].([]any); ok {
		for _, a := range list {
			alert, ok := a.(map[string]any)
			if !ok {
				continue
			}
			ev := threatStackAlert(alert)
			// The same alert twice in one batch is one incident.
			if ev.ExternalID != "" && seen[ev.ExternalID] {
				continue
			}
			seen[ev.ExternalID] = true
			evs = append(evs, ev)
		}
	}
	// An envelope with nothing usable in it is still a delivery worth
	// keeping: read the body as a single alert rather than drop it.
	if len(evs) == 0 {
		evs = append(evs, threatStackAlert(doc))
	}
	return evs
}

// awsRegion matches the region names Threat Stack puts in
// server_or_region for CloudTrail alerts, which are not hosts: AWS's
// area prefixes (GovCloud, ISO and China partitions included) and
// compass directions only, so that a host such as "db-primary-1" is
// still a host.
var awsRegion = lazyRE(`^(us|eu|ap|sa|ca|me|af|il|mx|cn)(-gov|-iso[a-z]?)?-(north|south|east|west|central|northeast|southeast|northwest|southwest)-\d{1,2}$`)

func threatStackAlert(a map[string]any) Event {
	ev := Event{
		Format:     FormatThreatStack,
		Type:       "alert",
		ExternalID: str(a["id"]),
		Title:      str(a["title"]),
		Source:     str(a["source"]),
		OccurredAt: timeOf(a["created_at"]),
		Action:     ActionCreate,
	}
	// Threat Stack may deliver an alert again in a later batch.
	ev.CorrelationKey = ev.ExternalID
	if ev.Title == "" {
		ev.Title = "Threat Stack alert"
		if ev.ExternalID != "" {
			ev.Title += " " + ev.ExternalID
		}
	}
	ev.VendorSeverity = str(a["severity"])
	ev.Severity = scaleSeverity(a["severity"], threatStackSeverity, "")
	if ev.Severity == "" {
		ev.Severity = MapSeverity(ev.VendorSeverity, nil, SeverityMedium)
	}
	if where := str(a["server_or_region"]); where != "" && !awsRegion().MatchString(where) {
		ev.Entities.addHostOrIP(where)
	}
	return ev
}
