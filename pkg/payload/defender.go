package payload

import (
	"net/netip"
	"strings"
)

// defender is Microsoft Defender in two shapes. The first is Defender for
// Office 365 as seed 003 shows it:
//
//	{"eventType": "PhishingEmail", "id": "AAMkAGI2...",
//	 "creationTime": "2024-01-15T10:00:00Z", "severity": "high",
//	 "category": "Phish", "entityType": "Email",
//	 "data": {"sender": "...", "subject": "...", "recipients": ["..."]}}
//
// Beyond the seed it reads the sender IP, URLs and attachments that
// Defender's email entities carry, when present.
//
// The second is the Microsoft Graph security alert (alerts_v2). Defender
// XDR alerts reach a webhook through a forwarder (a Logic App, a Sentinel
// playbook) that posts the alert as Graph returns it, in one shape for
// every Defender product (Endpoint, Office 365, Identity, Cloud Apps):
//
//	{"@odata.type": "#microsoft.graph.security.alert", "id": "da6384...",
//	 "status": "new", "severity": "high", "serviceSource": "...",
//	 "title": "...", "createdDateTime": "...", "alertWebUrl": "...",
//	 "evidence": [{"@odata.type": "#microsoft.graph.security.deviceEvidence", ...}]}
type defender struct{}

// FormatDefender is Microsoft Defender: Defender for Office 365's own
// events, and Defender XDR alerts as Microsoft Graph security alerts.
const FormatDefender = "defender"

func init() { register(defender{}) }

func (defender) Name() string { return FormatDefender }

// Sniff wants a Graph security alert, or Defender for Office 365's
// camelCase envelope: eventType and creationTime together, plus one of the
// fields that make it an alert about an entity. The generic format's keys
// are snake_case, Falcon's eventType is nested.
func (defender) Sniff(doc map[string]any) bool {
	if isGraphAlert(doc) {
		return true
	}
	if str(doc["eventType"]) == "" || !has(doc, "creationTime") {
		return false
	}
	data := obj(doc, "data")
	return has(doc, "entityType") || has(doc, "category") || has(data, "sender") || has(data, "recipients")
}

func (p defender) Parse(body []byte) ([]Event, error) { return parseBody(body, p.events) }

func (defender) events(doc map[string]any) []Event {
	if isGraphAlert(doc) {
		return []Event{graphAlertEvent(doc)}
	}
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

// isGraphAlert reports a Microsoft Graph security alert. Its @odata.type
// says so, but a forwarder that asks Graph for odata.metadata=none drops
// the annotation; serviceSource with createdDateTime and id, which no other
// supported vendor sends together, still give it away.
func isGraphAlert(doc map[string]any) bool {
	if strings.HasSuffix(strings.ToLower(str(doc["@odata.type"])), "security.alert") {
		return true
	}
	return has(doc, "serviceSource") && has(doc, "createdDateTime") && has(doc, "id")
}

func graphAlertEvent(doc map[string]any) Event {
	ev := Event{
		Format:         FormatDefender,
		Type:           firstNonEmpty(str(doc["serviceSource"]), "alert"),
		ExternalID:     str(doc["id"]),
		Description:    str(doc["description"]),
		VendorSeverity: str(doc["severity"]),
		VendorStatus:   graphAlertStatus(str(doc["status"])),
		Category:       str(doc["category"]),
		OccurredAt:     timeOf(doc["createdDateTime"]),
		Link:           firstNonEmpty(str(doc["alertWebUrl"]), str(doc["incidentWebUrl"])),
		Action:         ActionCreate,
	}
	// Defender sends an alert whole again each time it changes (status,
	// classification, new evidence), always under the same id: one id is
	// one incident, which the resolved copy closes.
	ev.CorrelationKey = ev.ExternalID
	// Graph's scale is informational/low/medium/high, which MapSeverity
	// reads as is; "unknown" still deserves a look.
	ev.Severity = MapSeverity(ev.VendorSeverity, nil, SeverityMedium)
	ev.Title = truncate(firstNonEmpty(str(doc["title"]), str(doc["threatDisplayName"]), "Microsoft Defender alert"), 200)

	var subjects []string
	list, _ := doc["evidence"].([]any)
	for _, item := range list {
		x, _ := item.(map[string]any)
		subjects = appendUnique(subjects, str(x["subject"]))
		addGraphEvidence(&ev.Entities, x)
	}
	// Office 365 alert titles name the kind of mail ("Email messages
	// containing malicious URL removed after delivery"), not the mail.
	for _, s := range subjects {
		if !strings.Contains(ev.Title, s) && !strings.Contains(ev.Description, s) {
			ev.Description = strings.TrimSpace(ev.Description + "\n\nSubject: " + s)
		}
	}
	return ev
}

// graphAlertStatus reports an alert's status verbatim, except that
// resolved is spelled "Resolved", the word Event.VendorStatus promises to
// playbooks for a closed object; new and inProgress leave it open.
func graphAlertStatus(status string) string {
	if strings.EqualFold(status, "resolved") {
		return "Resolved"
	}
	return status
}

// addGraphEvidence reads one item of an alert's evidence by its fields
// rather than its @odata.type, which odata.metadata=none strips: each field
// read here means the same thing in every evidence type that has it.
func addGraphEvidence(e *Entities, x map[string]any) {
	// deviceEvidence
	e.Hosts = appendUnique(e.Hosts, str(x["deviceDnsName"]))
	for _, ip := range strs(x["ipInterfaces"]) {
		if deviceAddr(ip) {
			e.IPs = appendUnique(e.IPs, ip)
		}
	}
	// userEvidence, processEvidence and mailboxEvidence all name a user
	// account. A mailbox is the user by its address, not a recipient: it
	// is also the evidence when a compromised mailbox sends.
	e.Users = appendUnique(e.Users, firstNonEmpty(str(x["primaryAddress"]), str(x["upn"]), graphAccount(obj(x, "userAccount"))))
	// ipEvidence, urlEvidence
	e.addIPs(str(x["ipAddress"]))
	e.URLs = appendUnique(e.URLs, str(x["url"]))
	// fileEvidence, and processEvidence's executable
	for _, f := range []map[string]any{obj(x, "fileDetails"), obj(x, "imageFile")} {
		e.Files = appendUnique(e.Files, joinFalconPath(str(f["filePath"]), str(f["fileName"])))
		e.addHashes(str(f["sha256"]), str(f["sha1"]), str(f["md5"]))
	}
	// processEvidence
	e.CommandLines = appendUnique(e.CommandLines, str(x["processCommandLine"]))
	// analyzedMessageEvidence. P1 is the envelope (MAIL FROM) address, the
	// one SPF vouches for; P2, the From header a recipient sees, is the
	// easier one to forge, so it only stands in when P1 is missing.
	if e.Sender == "" {
		e.Sender = firstNonEmpty(str(obj(x, "p1Sender")["emailAddress"]), str(obj(x, "p2Sender")["emailAddress"]))
	}
	e.addIPs(str(x["senderIp"]))
	e.Recipients = appendUnique(e.Recipients, addressList(x["recipientEmailAddress"])...)
	e.URLs = appendUnique(e.URLs, strs(x["urls"])...)
}

// graphAccount names a Graph userAccount by its user principal name, else
// as DOMAIN\account, the way Windows and Defender's console write it.
func graphAccount(ua map[string]any) string {
	if upn := str(ua["userPrincipalName"]); upn != "" {
		return upn
	}
	name, domain := str(ua["accountName"]), str(ua["domainName"])
	if name != "" && domain != "" {
		return domain + `\` + name
	}
	return name
}

// deviceAddr keeps the addresses that tell one device from another:
// Defender lists every interface, and loopback or link-local addresses,
// the same on every machine, would tie unrelated alerts together.
func deviceAddr(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && !a.IsLoopback() && !a.IsLinkLocalUnicast() && !a.IsUnspecified() && !a.IsMulticast()
}
