package triage

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/tw-cli/tw-cli/internal/store"
	"github.com/tw-cli/tw-cli/pkg/payload"
)

// list makes nil lists empty: CEL reports a missing map key as an error,
// and `size(event.entities.urls) > 0` must work on every event.
func list(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// EventVars renders an event for expressions, with every field present.
func EventVars(ev payload.Event) map[string]any {
	e := ev.Entities
	return map[string]any{
		"format":          ev.Format,
		"type":            ev.Type,
		"external_id":     ev.ExternalID,
		"title":           ev.Title,
		"description":     ev.Description,
		"severity":        string(ev.Severity),
		"vendor_severity": ev.VendorSeverity,
		"vendor_status":   ev.VendorStatus,
		"category":        ev.Category,
		"source":          ev.Source,
		"occurred_at":     timeText(ev.OccurredAt),
		"link":            ev.Link,
		"action":          string(ev.Action),
		"correlation_key": ev.CorrelationKey,
		"entities": map[string]any{
			"hosts":         list(e.Hosts),
			"users":         list(e.Users),
			"sender":        e.Sender,
			"recipients":    list(e.Recipients),
			"file_hashes":   list(e.FileHashes),
			"ips":           list(e.IPs),
			"urls":          list(e.URLs),
			"domains":       list(e.Domains),
			"emails":        list(e.Emails),
			"files":         list(e.Files),
			"command_lines": list(e.CommandLines),
		},
	}
}

// IncidentVars renders an incident and its triage state for expressions.
func IncidentVars(inc *store.Incident, tr *store.IncidentTriage) map[string]any {
	if tr == nil {
		tr = &store.IncidentTriage{}
	}
	return map[string]any{
		"id":          inc.ID,
		"number":      inc.Number,
		"title":       inc.Title,
		"severity":    inc.Severity,
		"status":      inc.Status,
		"source":      inc.Source,
		"category":    inc.Category,
		"event_count": int64(inc.EventCount),
		"created_at":  timeText(inc.CreatedAt),
		"owner":       tr.Owner,
		"tags":        list(tr.Tags),
		"indicators": map[string]any{
			"urls":    list(tr.Indicators.URLs),
			"domains": list(tr.Indicators.Domains),
			"ips":     list(tr.Indicators.IPs),
			"hashes":  list(tr.Indicators.Hashes),
		},
	}
}

// RawVars decodes a delivery body for expressions; a body that is not JSON
// reads as an empty object.
func RawVars(body []byte) any {
	if len(bytes.TrimSpace(body)) == 0 {
		return map[string]any{}
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return map[string]any{}
	}
	return v
}
