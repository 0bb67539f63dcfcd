package receiver

import (
	"encoding/json"

	"github.com/tw-cli/tw-cli/internal/notify"
	"github.com/tw-cli/tw-cli/internal/store"
	"github.com/tw-cli/tw-cli/pkg/payload"
)

// QueuedMessage is seed 003's message for a delivery queued for triage.
const QueuedMessage = "Event queued for processing"

// defaultPlaybook runs for sources that enable auto-triage without naming
// a playbook (internal/triage ships it).
const defaultPlaybook = "default"

// QueuedResponse is seed 003's 202 body when auto-triage queued the work.
type QueuedResponse struct {
	Status  string `json:"status"`
	QueueID string `json:"queue_id"`
	Message string `json:"message"`
	// QueueIDs lists every job when a batched delivery opened several
	// incidents.
	QueueIDs []string `json:"queue_ids,omitempty"`
}

// triageRequest asks the store to queue triage jobs, in the delivery's
// own transaction, for sources with auto-triage on.
func triageRequest(src *store.Source) *store.TriageRequest {
	if !src.AutoTriage {
		return nil
	}
	pb := src.Playbook
	if pb == "" {
		pb = defaultPlaybook
	}
	return &store.TriageRequest{Playbook: pb}
}

// forwarded reports whether a delivery is another tw-cli's notification
// (a generic destination's incident.triaged): stored, but not triaged
// again, or two receivers forwarding to each other, or one to itself,
// notify without end (one test event made 2,376 incidents in 8 seconds).
func forwarded(parsed payload.Result) bool {
	for _, ev := range parsed.Events {
		if ev.Source != notify.Source || ev.Type != notify.GenericEventType {
			return false
		}
	}
	return len(parsed.Events) > 0
}

// queued is the queued body for a stored delivery, or nil when no job was
// queued (every event landed on an incident that was already triaged), in
// which case the delivery is answered "accepted".
func queued(res *store.IngestResult) *QueuedResponse {
	if len(res.Jobs) == 0 {
		return nil
	}
	q := &QueuedResponse{Status: "queued", QueueID: res.Jobs[0].ID, Message: QueuedMessage}
	if len(res.Jobs) > 1 {
		for _, j := range res.Jobs {
			q.QueueIDs = append(q.QueueIDs, j.ID)
		}
	}
	return q
}

// body is what goes on the wire for an accepted delivery.
func (a *AcceptedResponse) body() any {
	if a.Queued != nil {
		return a.Queued
	}
	if len(a.Incidents) == 0 && plainJSON(a.Status) && plainJSON(a.IncidentID) && plainJSON(a.IncidentNumber) {
		// Every delivery answers this body; reflection was a few percent
		// of a delivery's CPU time. The strings need no escaping, and the
		// line ends as json.Encoder would end it.
		b := make([]byte, 0, 128)
		b = append(b, `{"status":"`...)
		b = append(b, a.Status...)
		b = append(b, `","incident_id":"`...)
		b = append(b, a.IncidentID...)
		b = append(b, `","incident_number":"`...)
		b = append(b, a.IncidentNumber...)
		b = append(b, "\"}\n"...)
		return json.RawMessage(b)
	}
	return a
}

// plainJSON reports whether s is the same inside a JSON string as out:
// printable ASCII that encoding/json leaves alone.
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}
