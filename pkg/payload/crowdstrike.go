package payload

import "strings"

// crowdStrike is a CrowdStrike Falcon streaming API event, chiefly
// DetectionSummaryEvent as seed 003 shows it:
//
//	{"metadata": {"eventType": "DetectionSummaryEvent", "eventCreationTime": 1705320000000},
//	 "event": {"DetectId": "ldt:abc123", "Severity": 4,
//	           "HostnameField": "WORKSTATION-01", "DetectName": "Malicious File Detected"}}
//
// Real detections also carry ComputerName, UserName, LocalIP, the file's
// hashes and path, CommandLine, Tactic and FalconHostLink, read when
// present. Other streaming events (audit, incident summaries) parse with
// what they share; an audit event naming a detection_id in AuditKeyValues
// updates that detection's incident, and an IdentityProtectionEvent is
// keyed by its IdentityProtectionIncidentId, named by IncidentType and
// closes its incident when its State does. An IncidentSummaryEvent (a
// CrowdScore incident: IncidentID, a numeric IncidentType, FineScore,
// State) is keyed by its IncidentID, or the inc: id its FalconHostLink
// ends with, and closes its incident when its State does.
type crowdStrike struct{}

// FormatCrowdStrike is the CrowdStrike Falcon streaming event format.
const FormatCrowdStrike = "crowdstrike"

func init() { register(crowdStrike{}) }

func (crowdStrike) Name() string { return FormatCrowdStrike }

// Sniff wants the streaming API's two-part envelope: a metadata object
// naming the eventType and an event object.
func (crowdStrike) Sniff(doc map[string]any) bool {
	_, isEvent := doc["event"].(map[string]any)
	return isEvent && str(obj(doc, "metadata")["eventType"]) != ""
}

func (p crowdStrike) Parse(body []byte) ([]Event, error) { return parseBody(body, p.events) }

// falconSeverity is Falcon's 1–5 scale; the names are Falcon's own
// SeverityName values (1 is "Informational"), so 1 maps to info rather
// than stretching five levels over low…critical.
var falconSeverity = map[int64]Severity{
	1: SeverityInfo,
	2: SeverityLow,
	3: SeverityMedium,
	4: SeverityHigh,
	5: SeverityCritical,
}

func (crowdStrike) events(doc map[string]any) []Event {
	meta, e := obj(doc, "metadata"), obj(doc, "event")
	ev := Event{
		Format:      FormatCrowdStrike,
		Type:        str(meta["eventType"]),
		ExternalID:  firstNonEmpty(str(e["DetectId"]), str(e["CompositeId"]), str(e["IncidentID"]), str(e["IncidentId"]), str(e["IdentityProtectionIncidentId"])),
		Description: firstNonEmpty(str(e["DetectDescription"]), str(e["IncidentDescription"])),
		Category:    firstNonEmpty(str(e["Tactic"]), str(e["Objective"])),
		OccurredAt:  timeOf(meta["eventCreationTime"]),
		Link:        str(e["FalconHostLink"]),
		Action:      ActionCreate,
	}
	incidentSummary := ev.Type == "IncidentSummaryEvent"
	if incidentSummary && ev.ExternalID == "" {
		// Some streams leave IncidentID out; the console link names it.
		ev.ExternalID = falconIncidentOfLink(ev.Link)
	}
	// Falcon re-sends a detection as it gains behaviours; one DetectId is
	// one incident.
	ev.CorrelationKey = ev.ExternalID
	ev.Severity, ev.VendorSeverity = falconSeverityOf(e, ev.Type)

	// An analyst's change to a detection (UserActivityAuditEvent
	// detection_update) names the detection in AuditKeyValues: it updates
	// the DetectId's incident, says nothing of its severity, so the
	// incident keeps its severity and title, and closes it when the new
	// state does.
	if audit, ok := e["AuditKeyValues"].([]any); ok {
		if id := falconAuditValue(audit, "detection_id"); id != "" {
			ev.ExternalID, ev.CorrelationKey = id, id
			ev.Action = ActionUpdate
			ev.Severity, ev.VendorSeverity = SeverityInfo, ""
			ev.VendorStatus = falconStatus(falconAuditValue(audit, "new_state"))
		}
	}
	// Identity Protection and CrowdScore incidents are re-sent whole as
	// their State moves (NEW or open, IN_PROGRESS, CLOSED, REOPENED).
	if str(e["IdentityProtectionIncidentId"]) != "" || incidentSummary {
		ev.VendorStatus = falconStatus(str(e["State"]))
	}

	host := firstNonEmpty(str(e["HostnameField"]), str(e["ComputerName"]), str(e["Hostname"]), str(e["EndpointName"]))
	// IdentityProtectionEvent names its incident by type ("Lateral
	// movement"), with a sentence of description.
	// IncidentSummaryEvent's IncidentType is a number, no name.
	incidentType := str(e["IncidentType"])
	if _, numeric := intOf(e["IncidentType"]); numeric {
		incidentType = ""
	}
	name := firstNonEmpty(str(e["DetectName"]), str(e["Name"]), incidentType, str(e["IncidentDescription"]))
	switch op := str(e["OperationName"]); {
	case name != "":
		ev.Title = name
	case incidentSummary:
		ev.Title = "Falcon incident"
		if score := str(e["FineScore"]); score != "" {
			ev.Title += " (score " + score + ")"
		}
	case op != "" && ev.Type != "":
		ev.Title = ev.Type + ": " + op
	default:
		ev.Title = firstNonEmpty(ev.Type, "CrowdStrike Falcon event")
	}
	if !placeholder(host) {
		ev.Title += " on " + host
	}

	ents := &ev.Entities
	ents.Hosts = appendUnique(ents.Hosts, str(e["HostnameField"]), str(e["ComputerName"]), str(e["Hostname"]))
	if ep := str(e["EndpointName"]); ep != "" { // Identity Protection: a host or an address
		ents.addHostOrIP(ep)
	}
	ents.Users = appendUnique(ents.Users, str(e["UserName"]), str(e["UserId"]))
	ents.addIPs(str(e["LocalIP"]), str(e["ExternalIP"]), str(e["UserIp"]), str(e["EndpointIp"]))
	ents.addHashes(str(e["SHA256String"]), str(e["SHA1String"]), str(e["MD5String"]))
	if ioc := str(e["IOCValue"]); ioc != "" {
		ents.addIndicator(str(e["IOCType"]), ioc)
	}
	ents.Files = appendUnique(ents.Files, joinFalconPath(str(e["FilePath"]), str(e["FileName"])))
	ents.CommandLines = appendUnique(ents.CommandLines, str(e["CommandLine"]))
	return []Event{ev}
}

// falconSeverityOf reads the numeric Severity, then SeverityName, and
// returns the vendor value it used, so that re-mapping that value later
// gives the same answer.
func falconSeverityOf(e map[string]any, eventType string) (Severity, string) {
	num, name := str(e["Severity"]), str(e["SeverityName"])
	if _, ok := intOf(e["Severity"]); ok {
		if s := scaleSeverity(e["Severity"], falconSeverity, ""); s != "" {
			return s, num
		}
	}
	for _, v := range []string{name, num} {
		if s := MapSeverity(v, nil, ""); s != "" {
			return s, v
		}
	}
	// Audit and remote-response events record what an operator did; they
	// carry no severity because they are not threats.
	fallback := SeverityMedium
	if strings.HasSuffix(eventType, "AuditEvent") || strings.HasPrefix(eventType, "RemoteResponseSession") {
		fallback = SeverityInfo
	}
	return fallback, firstNonEmpty(num, name)
}

// falconStatus reports a detection's or an Identity Protection incident's
// state as VendorStatus: verbatim, except that the states that end it say
// "Closed", which is what a receiver reads as closing. An analyst closes a
// detection by choosing its resolution, so the detects API's
// true_positive, false_positive and ignored end it as closed does; the
// resolution itself stays in the delivery's body. "resolved" is no Falcon
// state but has always been read as closing.
func falconStatus(state string) string {
	switch strings.ToLower(state) {
	case "closed", "resolved", "true_positive", "false_positive", "ignored":
		return "Closed"
	}
	return state
}

// falconIncidentOfLink returns the incident id a CrowdScore incident's
// console link ends with: …/crowdscore/incidents/details/inc:<aid>:<id>.
func falconIncidentOfLink(link string) string {
	link, _, _ = strings.Cut(link, "?")
	i := strings.LastIndex(link, "/")
	if id := link[i+1:]; strings.HasPrefix(id, "inc:") {
		return id
	}
	return ""
}

// falconAuditValue reads one entry of an audit event's AuditKeyValues,
// [{"Key": "detection_id", "ValueString": "ldt:..."}, ...].
func falconAuditValue(list []any, key string) string {
	for _, kv := range list {
		if m, ok := kv.(map[string]any); ok && strings.EqualFold(str(m["Key"]), key) {
			return firstNonEmpty(str(m["ValueString"]), str(m["Value"]))
		}
	}
	return ""
}

// joinFalconPath joins Falcon's FilePath and FileName, which it sends
// apart; either may be missing, and FilePath sometimes already ends with
// the name. Windows sensors send backslashed device paths, Linux and
// macOS sensors slashed ones.
func joinFalconPath(dir, file string) string {
	if dir == "" || placeholder(dir) {
		return file
	}
	if file == "" || placeholder(file) {
		return dir
	}
	sep := "/"
	if strings.Contains(dir, `\`) {
		sep = `\`
	}
	trimmed := strings.TrimRight(dir, sep)
	if rest, ok := strings.CutSuffix(trimmed, file); ok && (rest == "" || strings.HasSuffix(rest, sep)) {
		return dir // already joined: the last component is the name
	}
	return trimmed + sep + file
}
