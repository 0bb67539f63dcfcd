package payload

// defender is Microsoft Defender for Office 365 as seed 003 shows it:
//
//	{"eventType": "PhishingEmail", "id": "AAMkAGI2...",
//	 "creationTime": "2024-01-15T10:00:00Z", "severity": "high",
//	 "category": "Phish", "entityType": "Email",
//	 "data": {"sender": "...", "subject": "...", "recipients": ["..."]}}
//
// Beyond the seed it reads the sender IP, URLs and attachments that
// Defender's email entities carry, when present.
type defender struct{}

// FormatDefender is Microsoft Defender for Office 365.
const FormatDefender = "defender"

func init() { register(defender{}) }

func (defender) Name() string { return FormatDefender }

// Sniff wants Defender's camelCase envelope: eventType and creationTime
// together, plus one of the fields that make it an alert about an entity.
// The generic format's keys are snake_case, Falcon's eventType is nested.
func (defender) Sniff(doc map[string]any) bool {
	if str(doc["eventType"]) == "" || !has(doc, "creationTime") {
		return false
	}
	data := obj(doc, "data")
	return has(doc, "entityType") || has(doc, "category") || has(data, "sender") || has(data, "recipients")
}

func (p defender) Parse(body []byte) ([]Event, error) { return parseBody(body, p.events) }

func (defender) events(doc map[string]any) []Event {
	data := obj(doc, "data")
	ev := Event{
		Format:         FormatDefender,
		Type:           str(doc["eventType"]),
		ExternalID:     str(doc["id"]),
		VendorSeverity: str(doc["severity"]),
		VendorStatus:   str(doc["status"]),
		Category:       str(doc["category"]),
		OccurredAt:     timeOf(doc["creationTime"]),
		Action:         ActionCreate,
	}
	ev.CorrelationKey = ev.ExternalID
	// Defender's scale is Informational/Low/Medium/High, which MapSeverity
	// reads as is; an alert with no severity still deserves a look.
	ev.Severity = MapSeverity(ev.VendorSeverity, nil, SeverityMedium)

	subject := str(data["subject"])
	switch {
	case subject != "" && ev.Type != "":
		ev.Title = ev.Type + ": " + truncate(subject, 200)
	case subject != "":
		ev.Title = truncate(subject, 200)
	default:
		ev.Title = firstNonEmpty(ev.Type, "Defender for Office 365 alert")
	}

	e := &ev.Entities
	e.Sender = firstNonEmpty(str(data["sender"]), str(data["senderFromAddress"]))
	e.Recipients = appendUnique(nil, addressList(data["recipients"])...)
	e.Recipients = appendUnique(e.Recipients, addressList(data["recipientEmailAddress"])...)
	e.addIPs(str(data["senderIP"]), str(data["senderIp"]), str(data["senderIPv4"]), str(data["senderIPv6"]))
	e.URLs = appendUnique(e.URLs, strs(data["urls"])...)
	if list, ok := data["attachments"].([]any); ok {
		for _, a := range list {
			att, _ := a.(map[string]any)
			e.Files = appendUnique(e.Files, firstNonEmpty(str(att["fileName"]), str(att["name"])))
			e.addHashes(str(att["sha256"]), str(att["SHA256"]), str(att["fileHash"]))
		}
	}
	return []Event{ev}
}
