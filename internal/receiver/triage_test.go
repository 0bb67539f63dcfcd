package receiver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tw-cli/tw-cli/internal/notify"
	"github.com/tw-cli/tw-cli/internal/sources"
	"github.com/tw-cli/tw-cli/internal/store"
)

func (f *fixture) addSource(spec sources.Spec) {
	f.t.Helper()
	local := &sources.Local{Store: f.store, Origin: "cli"}
	if _, _, err := local.Add(context.Background(), spec); err != nil {
		f.t.Fatal(err)
	}
}

func TestAutoTriageAnswersQueued(t *testing.T) {
	f := newFixture(t)
	f.addSource(sources.Spec{Source: "mail", Secret: "s", AutoTriage: true, Playbook: "phishing_triage"})
	body := `{"eventType":"PhishingEmail","id":"m-1","creationTime":"2024-01-15T10:00:00Z","category":"Phish","data":{"sender":"a@b.c"}}`
	sig, ts := sign("s", body, now)
	r := f.deliver("mail", body, sig, ts)
	if r.status != http.StatusAccepted || len(r.body) != 3 || r.body["status"] != "queued" || r.body["message"] != "Event queued for processing" {
		t.Fatalf("got %d %s", r.status, r.raw)
	}
	id, _ := r.body["queue_id"].(string)
	if !strings.HasPrefix(id, "queue-") {
		t.Fatalf("queue_id = %q", id)
	}
	// The job is durable before the answer, next to its event.
	job, err := f.store.GetTriageJob(context.Background(), id)
	if err != nil || job.Status != store.JobQueued || job.Playbook != "phishing_triage" || job.Source != "mail" {
		t.Fatalf("job = %+v, %v", job, err)
	}
	ev, err := f.store.GetEvent(context.Background(), job.EventID)
	if err != nil || ev.IncidentID != job.IncidentID || string(ev.Payload) != body {
		t.Fatalf("event = %+v, %v", ev, err)
	}

	// A follow-up on the same open incident queues nothing: accepted.
	body2 := strings.Replace(body, `"category"`, `"status":"Resolved","category"`, 1)
	sig, ts = sign("s", body2, now)
	r = f.deliver("mail", body2, sig, ts)
	if r.body["status"] != "accepted" || r.body["incident_id"] != job.IncidentID {
		t.Fatalf("correlated delivery: %s", r.raw)
	}
}

func TestAutoTriageWithoutPlaybookUsesDefault(t *testing.T) {
	f := newFixture(t)
	f.addSource(sources.Spec{Source: "siem", Secret: "s", AutoTriage: true})
	batch := `{"event_type":"alert","data":{"alert_id":"x"}}`
	sig, ts := sign("s", batch, now)
	r := f.deliver("siem", batch, sig, ts)
	job, err := f.store.GetTriageJob(context.Background(), r.body["queue_id"].(string))
	if err != nil || job.Playbook != "default" {
		t.Fatalf("job = %+v, %v (%s)", job, err, r.raw)
	}
}

func TestBatchQueuesOneJobPerIncident(t *testing.T) {
	var logged bytes.Buffer
	f := newFixture(t, func(o *Options) { o.Logger = slog.New(slog.NewJSONHandler(&logged, nil)) })
	f.addSource(sources.Spec{Source: "ts", Secret: "s", AutoTriage: true, Playbook: "malware_triage", Format: "threatstack"})
	body := `[{"id":"a1","title":"one","severity":1},{"id":"a2","title":"two","severity":1}]`
	body = `{"alerts":` + body + `}`
	sig, ts := sign("s", body, now)
	r := f.deliver("ts", body, sig, ts)
	ids, _ := r.body["queue_ids"].([]any)
	if r.body["status"] != "queued" || len(ids) != 2 || ids[0] != r.body["queue_id"] {
		t.Fatalf("batch: %s", r.raw)
	}
	// The log finds the delivery of each incident, not only the first's.
	for _, id := range ids {
		j, err := f.store.GetTriageJob(context.Background(), id.(string))
		if err != nil {
			t.Fatal(err)
		}
		inc, err := f.store.GetIncident(context.Background(), j.IncidentID)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(logged.String(), inc.Number) {
			t.Errorf("the delivery's log line does not name %s:\n%s", inc.Number, logged.String())
		}
	}
}

// The hand-written 202 body is byte for byte what encoding/json writes
// without HTML escaping,
// and anything that would need escaping goes through encoding/json.
func TestAcceptedBodyMatchesEncodingJSON(t *testing.T) {
	for _, a := range []AcceptedResponse{
		{Status: "accepted", IncidentID: "01a2111a-6994-7ca5-b6b5-3e30ff3910e0", IncidentNumber: "INC-2026-0001"},
		{Status: "accepted", IncidentID: `id"with<quote>&`, IncidentNumber: "INC-2026-0002"},
		{Status: "accepted", IncidentID: "é", IncidentNumber: "INC-2026-0003"},
	} {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false) // as writeJSON writes every answer
		if err := enc.Encode(a); err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		writeJSON(rec, http.StatusAccepted, a.body())
		if rec.Body.String() != want.String() {
			t.Errorf("body %q, want %q", rec.Body.String(), want.String())
		}
	}
}

// TestHugeBatchRefused: each event of a batch keeps the whole body, so a
// body of many small events stored its size times their number (2,000
// alerts in 86 KB took 166 MB). Past MaxBatchStoredBytes it is refused,
// saying how many to send, and nothing is stored.
func TestHugeBatchRefused(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.MaxBodyBytes = 1 << 20 })
	f.addSource(sources.Spec{Source: "ts", Secret: "s", Format: "threatstack"})
	alerts := make([]string, 2000)
	for i := range alerts {
		alerts[i] = fmt.Sprintf(`{"id":"a%04d","title":"t","severity":1}`, i)
	}
	body := `{"alerts":[` + strings.Join(alerts, ",") + `]}`
	sig, ts := sign("s", body, now)
	r := f.deliver("ts", body, sig, ts)
	perDelivery := MaxBatchStoredBytes / len(body)
	want := fmt.Sprintf("Webhook batch holds 2000 events; each is stored with the whole %d-byte body, so send at most %d per delivery at this size", len(body), perDelivery)
	if r.status != http.StatusRequestEntityTooLarge || errCode(r) != CodePayloadTooLarge || errMessage(r) != want {
		t.Fatalf("got %d %s, want 413 %q", r.status, r.raw, want)
	}
	if evs, err := f.store.ListEvents(context.Background(), store.EventFilter{Limit: 10}); err != nil || len(evs) != 0 {
		t.Fatalf("events stored: %d, %v", len(evs), err)
	}
	// As many as it says go through.
	body = `{"alerts":[` + strings.Join(alerts[:perDelivery/2], ",") + `]}`
	sig, ts = sign("s", body, now)
	if r := f.deliver("ts", body, sig, ts); r.status != http.StatusAccepted {
		t.Fatalf("a batch of %d: %d %s", perDelivery/2, r.status, r.raw)
	}
}

// TestForwardedNotificationIsNotTriagedAgain: a tw-cli notification (a
// generic destination's body) is stored but queues no triage, or two
// receivers forwarding to each other, or one to itself, notified without
// end; a sender's own event on the same source is triaged.
func TestForwardedNotificationIsNotTriagedAgain(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.MaxBodyBytes = 1 << 16 })
	f.addSource(sources.Spec{Source: "peer", Secret: "s", AutoTriage: true, Playbook: "default"})
	body, err := notify.Render(&store.Destination{Name: "up", Kind: notify.KindGeneric}, notify.Message{
		IncidentID: "id-1", Number: "INC-2026-0001", Title: "Phish", Severity: "high", Status: "open", Source: "email-gateway", CreatedAt: now,
	}, now)
	if err != nil {
		t.Fatal(err)
	}
	sig, ts := sign("s", string(body), now)
	r := f.deliver("peer", string(body), sig, ts)
	if r.status != http.StatusAccepted || r.body["status"] != "accepted" {
		t.Fatalf("forwarded notification: %d %s, want accepted without a queue", r.status, r.raw)
	}
	own := `{"event_type":"security_alert","data":{"title":"x"}}`
	sig, ts = sign("s", own, now)
	if r := f.deliver("peer", own, sig, ts); r.body["status"] != "queued" {
		t.Fatalf("a sender's own event: %s, want queued", r.raw)
	}
}
