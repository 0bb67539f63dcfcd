package payload

import "strings"

// theHive is TheHive's webhook: one audit entry per change, as seed 004
// shows it:
//
//	{"operation": "Creation", "objectType": "case", "objectId": "AV6F...",
//	 "rootId": "AV6F...", "startDate": 1505476659427, "requestId": "...",
//	 "details": {...changed attributes...}, "object": {...after the change...}}
//
// operation is Creation, Update or Delete; objectType is case, case_task,
// case_task_log, case_artifact (an observable) or alert. rootId is the case
// a task or observable belongs to, so it is the correlation key: every
// change to a case and to what hangs off it lands on one incident.
//
// TheHive 5 sends the same entry with action for operation, capitalised
// object types (Case, Task, Observable), underscored dates (_createdAt),
// number for caseId, and a stage (New, InProgress, Closed) beside the
// status, which there is the resolution.
type theHive struct{}

// FormatTheHive is TheHive's audit webhook.
const FormatTheHive = "thehive"

func init() { register(theHive{}) }

func (theHive) Name() string { return FormatTheHive }

// Sniff wants an audit entry: an objectType, an operation (TheHive 5
// calls it action) and the id of the object or its root.
func (theHive) Sniff(doc map[string]any) bool {
	return str(doc["objectType"]) != "" &&
		firstNonEmpty(str(doc["operation"]), str(doc["action"])) != "" &&
		(has(doc, "objectId") || has(doc, "rootId"))
}

func (p theHive) Parse(body []byte) ([]Event, error) { return parseBody(body, p.events) }

// theHiveSeverity is TheHive's case and alert scale; 4 (critical) arrived
// in TheHive 4.
var theHiveSeverity = map[int64]Severity{
	1: SeverityLow,
	2: SeverityMedium,
	3: SeverityHigh,
	4: SeverityCritical,
}

func (theHive) events(doc map[string]any) []Event {
	object, details := obj(doc, "object"), obj(doc, "details")
	// object is the state after the change; an Update's details hold only
	// what changed, and a Delete may carry no object at all.
	field := func(key string) any {
		if v, ok := object[key]; ok && v != nil {
			return v
		}
		return details[key]
	}
	kind := theHiveObjectType(str(doc["objectType"]))
	op := firstNonEmpty(str(doc["operation"]), str(doc["action"]))
	verb := theHiveVerb(op)

	ev := Event{
		Format:     FormatTheHive,
		Type:       kind + "_" + verb,
		ExternalID: firstNonEmpty(str(doc["objectId"]), str(object["id"]), str(object["_id"])),
		OccurredAt: timeOf(doc["startDate"]),
	}
	ev.CorrelationKey = firstNonEmpty(str(doc["rootId"]), str(object["_parent"]), ev.ExternalID)
	if ev.OccurredAt.IsZero() {
		// TheHive 4 dates the object; TheHive 5 dates the audit entry
		// (_createdAt) and names the object's own dates with a leading
		// underscore.
		ev.OccurredAt = timeOf(firstNonEmpty(str(field("updatedAt")), str(field("createdAt")),
			str(doc["_createdAt"]), str(field("_updatedAt")), str(field("_createdAt"))))
	}

	// Tasks, logs, observables, comments and whatever else TheHive audits
	// live inside a case or alert: creating or deleting one changes the
	// incident of what it belongs to, it neither opens nor closes one, and
	// says nothing of its severity.
	child := kind != "case" && kind != "alert"
	switch {
	case child:
		ev.Action = ActionUpdate
	case verb == "create":
		ev.Action = ActionCreate
	case verb == "delete":
		ev.Action = ActionDelete
	default:
		ev.Action = ActionUpdate
	}

	if child {
		// Children carry no severity: VendorSeverity stays empty so the
		// case's incident keeps its own.
		ev.Severity = SeverityInfo
	} else {
		sev := field("severity")
		ev.VendorSeverity = str(sev)
		ev.Severity = scaleSeverity(sev, theHiveSeverity, "")
		if ev.Severity == "" {
			ev.Severity = MapSeverity(ev.VendorSeverity, nil, SeverityMedium)
		}
		ev.VendorStatus = str(field("status"))
		// TheHive 5 splits TheHive 4's status in two: stage is the
		// lifecycle (New, InProgress, Closed) and status the resolution
		// (TruePositive, FalsePositive, Duplicated...), so a closed case
		// says so in its stage only.
		if strings.EqualFold(str(field("stage")), "Closed") {
			ev.VendorStatus = "Closed"
		}
		// An alert imported into a case is done as an alert: TheHive says
		// nothing more of it, and the case opens its own incident.
		if kind == "alert" && (strings.EqualFold(ev.VendorStatus, "Imported") || strings.EqualFold(str(field("stage")), "Imported")) {
			ev.VendorStatus = "Closed"
		}
		ev.Description = str(field("description"))
	}

	title := str(field("title"))
	switch kind {
	case "case":
		ev.Title = firstNonEmpty(title, "TheHive case "+ev.ExternalID)
		// caseId in TheHive 3/4, number in TheHive 5.
		if n := firstNonEmpty(str(field("caseId")), str(field("number"))); n != "" {
			ev.Title = "Case #" + n + ": " + ev.Title
		}
	case "alert":
		ev.Title = firstNonEmpty(title, "TheHive alert "+ev.ExternalID)
		ev.Category = str(field("type"))
		ev.Source = str(field("source"))
		for _, key := range []string{"artifacts", "observables"} {
			if list, ok := field(key).([]any); ok {
				for _, a := range list {
					theHiveObservable(&ev.Entities, a)
				}
			}
		}
	case "case_task":
		ev.Title = "Task " + pastTense(verb) + ": " + firstNonEmpty(title, ev.ExternalID)
		ev.Description = str(field("description"))
	case "case_task_log":
		ev.Title = "Task log " + pastTense(verb) + ": " + truncate(firstNonEmpty(str(field("message")), ev.ExternalID), 80)
	case "case_artifact":
		ev.Title = "Observable " + pastTense(verb) + ": " + strings.TrimSpace(str(field("dataType"))+" "+theHiveObservableValue(field))
		ev.Description = str(field("message"))
		theHiveObservable(&ev.Entities, map[string]any{
			"dataType":   field("dataType"),
			"data":       field("data"),
			"attachment": field("attachment"),
		})
	default:
		ev.Title = strings.TrimSpace("TheHive " + kind + " " + pastTense(verb) + " " + title)
	}
	return []Event{ev}
}

// theHiveObjectType folds TheHive 5's names onto TheHive 3/4's.
func theHiveObjectType(t string) string {
	t = strings.ToLower(t)
	switch t {
	case "observable":
		return "case_artifact"
	case "task":
		return "case_task"
	case "log":
		return "case_task_log"
	case "":
		return "object"
	}
	return t
}

// theHiveVerb reads "Creation" (TheHive 3), "Create" and "create" alike.
func theHiveVerb(op string) string {
	op = strings.ToLower(op)
	switch {
	case strings.HasPrefix(op, "creat"):
		return "create"
	case strings.HasPrefix(op, "updat"):
		return "update"
	case strings.HasPrefix(op, "delet"):
		return "delete"
	case op == "":
		return "update"
	}
	return op
}

func pastTense(verb string) string {
	switch verb {
	case "create":
		return "created"
	case "update":
		return "updated"
	case "delete":
		return "deleted"
	}
	return verb
}

// theHiveObservableValue names an observable: its data, or for a file
// the attachment's name.
func theHiveObservableValue(field func(string) any) string {
	if v := str(field("data")); v != "" {
		return v
	}
	att, _ := field("attachment").(map[string]any)
	return str(att["name"])
}

// theHiveObservable files one observable ({"dataType", "data"}, or a file
// {"dataType": "file", "attachment": {"name", "hashes"}}) into entities.
func theHiveObservable(e *Entities, v any) {
	o, _ := v.(map[string]any)
	dataType := str(o["dataType"])
	for _, data := range strs(o["data"]) {
		e.addIndicator(dataType, data)
	}
	if att, ok := o["attachment"].(map[string]any); ok {
		e.Files = appendUnique(e.Files, str(att["name"]))
		e.addHashes(strs(att["hashes"])...)
	}
}
