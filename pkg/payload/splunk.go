package payload

import "strings"

// splunk is the body of Splunk's webhook alert action: the first result
// row of the triggering search plus the search's identity.
//
//	{"result": {"host": "server-01", "source": "WinEventLog:Security",
//	            "sourcetype": "WinEventLog", "_raw": "...", "EventCode": "4625"},
//	 "search_name": "Failed Login Alert", "trigger_time": 1705320000,
//	 "sid": "...", "results_link": "...", "app": "search", "owner": "admin"}
//
// seed 003 adds trigger_time; Splunk's documented body has sid,
// results_link, app and owner, and sends "search_name": null for ad hoc
// searches. Result values are strings, or lists for multivalue fields.
type splunk struct{}

// FormatSplunk is Splunk's webhook alert action.
const FormatSplunk = "splunk"

func init() { register(splunk{}) }

func (splunk) Name() string { return FormatSplunk }

// Sniff wants a result row together with one of the keys naming the
// search; search_name counts even when null.
func (splunk) Sniff(doc map[string]any) bool {
	_, isRow := doc["result"].(map[string]any)
	return isRow && (has(doc, "search_name") || has(doc, "sid") || has(doc, "results_link"))
}

func (p splunk) Parse(body []byte) ([]Event, error) { return parseBody(body, p.events) }

func (splunk) events(doc map[string]any) []Event {
	row := obj(doc, "result")
	ev := Event{
		Format:   FormatSplunk,
		Type:     "alert",
		Category: str(row["sourcetype"]),
		Source:   str(row["source"]),
		Link:     str(doc["results_link"]),
		Action:   ActionCreate,
	}
	// A search run that alerts once per result sends one delivery per row
	// with the same sid; they belong to one incident.
	ev.ExternalID = str(doc["sid"])
	ev.CorrelationKey = ev.ExternalID

	name := str(doc["search_name"])
	ev.Title = firstNonEmpty(name, "Splunk alert")
	if name == "" && ev.ExternalID != "" {
		ev.Title += " " + ev.ExternalID
	}
	var about []string
	if name != "" {
		about = append(about, "Saved search "+quote(name))
	}
	if app := str(doc["app"]); app != "" {
		about = append(about, "app "+app)
	}
	if owner := str(doc["owner"]); owner != "" {
		about = append(about, "owner "+owner)
	}
	ev.Description = strings.Join(about, ", ")

	ev.OccurredAt = timeOf(doc["trigger_time"])
	if ev.OccurredAt.IsZero() {
		ev.OccurredAt = timeOf(first(row["_time"]))
	}

	// Splunk itself has no alert severity in the webhook; Enterprise
	// Security rows carry urgency, and many searches compute severity.
	ev.Severity = SeverityMedium
	for _, key := range []string{"severity", "urgency"} {
		if v := first(row[key]); v != "" {
			ev.VendorSeverity = v
			ev.Severity = MapSeverity(v, nil, SeverityMedium)
			break
		}
	}

	// Field names of Splunk's Common Information Model, which most
	// alerting searches and every ES correlation search use.
	e := &ev.Entities
	// src and dest are a host name or an address, as the CIM allows.
	for _, key := range []string{"host", "dest", "dest_host", "src_host", "dvc", "dest_nt_host", "src"} {
		e.addHostOrIP(strs(row[key])...)
	}
	for _, key := range []string{"src_ip", "dest_ip", "clientip", "ip"} {
		e.addIPs(strs(row[key])...)
	}
	for _, key := range []string{"user", "src_user", "dest_user", "user_name", "Account_Name"} {
		e.Users = appendUnique(e.Users, strs(row[key])...)
	}
	e.URLs = appendUnique(e.URLs, strs(row["url"])...)
	e.Domains = appendUnique(e.Domains, strs(row["url_domain"])...)
	for _, key := range []string{"file_hash", "md5", "sha1", "sha256"} {
		e.addHashes(strs(row[key])...)
	}
	for _, key := range []string{"file_name", "file_path"} {
		e.Files = appendUnique(e.Files, strs(row[key])...)
	}
	e.Sender = first(row["sender"])
	e.Recipients = appendUnique(e.Recipients, addressList(row["recipient"])...)
	e.CommandLines = appendUnique(e.CommandLines, strs(row["process"])...)
	return []Event{ev}
}

// first reads a single value from a field that Splunk may send as a
// multivalue list.
func first(v any) string {
	if list := strs(v); len(list) > 0 {
		return list[0]
	}
	return ""
}

func quote(s string) string { return `"` + s + `"` }
