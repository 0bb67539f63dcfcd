// Package storetest is the behaviour every store.Store must have, as one
// suite each backend runs against a real database.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tw-cli/tw-cli/internal/store"
)

// Run runs the suite; open returns a fresh, empty store.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := map[string]func(*testing.T, store.Store){
		"Sources":               testSources,
		"Tokens":                testTokens,
		"IngestAndRead":         testIngestAndRead,
		"Replay":                testReplay,
		"Correlation":           testCorrelation,
		"ConcurrentNumbering":   testConcurrentNumbering,
		"IncidentStatus":        testIncidentStatus,
		"Filters":               testFilters,
		"UntrustedText":         testUntrustedText,
		"ConcurrentCorrelation": testConcurrentCorrelation,
		"ConcurrentReplay":      testConcurrentReplay,
		"BatchDelivery":         testBatchDelivery,
		"TimesRoundTrip":        testTimesRoundTrip,
		"Idempotency":           testIdempotency,
		"ConcurrentReplays":     testConcurrentReplays,
		"ConcurrentIdempotency": testConcurrentIdempotency,
	}
	for name, fn := range tests {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			fn(t, s)
		})
	}
}

var t0 = time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)

func testSources(t *testing.T, s store.Store) {
	ctx := context.Background()
	src := &store.Source{
		Name: "email-gateway", Secret: "your-secret-key", Format: "auto", Verify: "hmac", AutoTriage: true,
		Playbook: "phishing_triage", SeverityMapping: map[string]string{"P1": "critical"}, Origin: "cli",
		AllowFrom: []string{"52.20.173.142/32", "2001:db8::/32"}, CreatedAt: t0, UpdatedAt: t0,
	}
	if err := s.CreateSource(ctx, src); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSource(ctx, src); !errors.Is(err, store.ErrExists) {
		t.Fatalf("duplicate create = %v, want ErrExists", err)
	}
	got, err := s.GetSource(ctx, "email-gateway")
	if err != nil {
		t.Fatal(err)
	}
	if got.Secret != "your-secret-key" || !got.AutoTriage || got.Playbook != "phishing_triage" ||
		got.SeverityMapping["P1"] != "critical" || !got.CreatedAt.Equal(t0) || !slices.Equal(got.AllowFrom, src.AllowFrom) {
		t.Fatalf("round trip lost data: %+v", got)
	}
	// Two writers read the same version; the second's write must not
	// undo the first's.
	stale := *got
	readAt := got.UpdatedAt
	got.PreviousSecret, got.PreviousExpiresAt, got.Secret, got.UpdatedAt = got.Secret, t0.Add(time.Hour), "new", t0.Add(time.Minute)
	if err := s.UpdateSource(ctx, got, readAt); err != nil {
		t.Fatal(err)
	}
	stale.Description, stale.UpdatedAt = "stale", t0.Add(2*time.Minute)
	if err := s.UpdateSource(ctx, &stale, readAt); !errors.Is(err, store.ErrChanged) {
		t.Fatalf("update of a changed source = %v, want ErrChanged", err)
	}
	again, _ := s.GetSource(ctx, "email-gateway")
	if again.Secret != "new" || again.PreviousSecret != "your-secret-key" || !again.PreviousExpiresAt.Equal(t0.Add(time.Hour)) || again.Description == "stale" ||
		len(again.AllowFrom) != 2 {
		t.Fatalf("update lost data: %+v", again)
	}
	stale = *again
	stale.Description, stale.UpdatedAt = "fresh", t0.Add(2*time.Minute+123*time.Nanosecond)
	if err := s.UpdateSource(ctx, &stale, again.UpdatedAt); err != nil {
		t.Fatalf("update after re-reading = %v", err)
	}
	// What the caller prints after an update is what a read shows (a
	// store keeping microseconds printed nanoseconds it had not kept).
	if fresh, err := s.GetSource(ctx, "email-gateway"); err != nil || !fresh.UpdatedAt.Equal(stale.UpdatedAt) {
		t.Fatalf("after the update the caller holds updated_at %s, a read gives %+v (%v)", stale.UpdatedAt, fresh, err)
	}
	if n := len(again.Secrets(t0)); n != 2 {
		t.Fatalf("within grace: %d secrets, want 2", n)
	}
	if n := len(again.Secrets(t0.Add(2 * time.Hour))); n != 1 {
		t.Fatalf("after grace: %d secrets, want 1", n)
	}
	if err := s.CreateSource(ctx, &store.Source{Name: "a-first", Secret: "x", Format: "auto", Verify: "hmac", Origin: "api", CreatedAt: t0, UpdatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListSources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Name != "a-first" || list[1].Name != "email-gateway" {
		t.Fatalf("list = %+v", list)
	}
	if err := s.DeleteSource(ctx, "a-first"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSource(ctx, "a-first"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second delete = %v, want ErrNotFound", err)
	}
	if _, err := s.GetSource(ctx, "a-first"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("get deleted = %v", err)
	}
	if err := s.UpdateSource(ctx, &store.Source{Name: "ghost"}, time.Time{}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update missing = %v", err)
	}
}

func testTokens(t *testing.T, s store.Store) {
	ctx := context.Background()
	tok := &store.Token{ID: "id-1", Name: "ci", Hash: "h1", Prefix: "tw_abcdef", CreatedAt: t0}
	if err := s.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateToken(ctx, &store.Token{ID: "id-2", Name: "ci", Hash: "h2", CreatedAt: t0}); !errors.Is(err, store.ErrExists) {
		t.Fatalf("duplicate name = %v", err)
	}
	got, err := s.TouchToken(ctx, "h1", t0.Add(time.Hour))
	if err != nil || got.Name != "ci" || !got.LastUsedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("touch = %+v, %v", got, err)
	}
	if _, err := s.TouchToken(ctx, "nope", t0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown hash = %v", err)
	}
	list, _ := s.ListTokens(ctx)
	if len(list) != 1 || !list[0].LastUsedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("list = %+v", list)
	}
	if err := s.RevokeToken(ctx, "ci"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TouchToken(ctx, "h1", t0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoked token still works: %v", err)
	}
	if err := s.RevokeToken(ctx, "ci"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second revoke = %v", err)
	}
	// An id is matched before a name: a token named like another's id
	// survives that one's revocation.
	if err := s.CreateToken(ctx, &store.Token{ID: "id-3", Name: "deploy", Hash: "h3", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateToken(ctx, &store.Token{ID: "id-4", Name: "id-3", Hash: "h4", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeToken(ctx, "id-3"); err != nil {
		t.Fatal(err)
	}
	if left, _ := s.ListTokens(ctx); len(left) != 1 || left[0].ID != "id-4" {
		t.Fatalf("after revoking id-3: %+v, want the token named id-3 left", left)
	}
}

// Delivery builds a one-item delivery for tests of a store.
func Delivery(source, replayKey string, at time.Time, items ...store.DeliveryItem) *store.Delivery {
	return delivery(source, replayKey, at, items...)
}

func delivery(source, replayKey string, at time.Time, items ...store.DeliveryItem) *store.Delivery {
	if len(items) == 0 {
		items = []store.DeliveryItem{{Type: "test", Title: "test", Severity: "info", Normalized: []byte(`{"title":"test"}`)}}
	}
	return &store.Delivery{
		Source: source, ReceivedAt: at, Verification: "hmac", Format: "generic", RequestID: "req-1",
		ReplayKey: replayKey, Payload: []byte(`{"event_type":"test","data":{}}`), Items: items,
	}
}

func testIngestAndRead(t *testing.T, s store.Store) {
	ctx := context.Background()
	res, err := s.Ingest(ctx, delivery("edr", "k1", t0))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != 1 || len(res.Incidents) != 1 {
		t.Fatalf("result = %+v", res)
	}
	inc := res.Incidents[0]
	if inc.Number != "INC-2024-0001" || inc.Status != store.StatusOpen || inc.Source != "edr" || inc.EventCount != 1 {
		t.Fatalf("incident = %+v", inc)
	}
	res2, err := s.Ingest(ctx, delivery("edr", "k2", t0.Add(time.Second)))
	if err != nil {
		t.Fatal(err)
	}
	if res2.Incidents[0].Number != "INC-2024-0002" {
		t.Fatalf("second number = %s", res2.Incidents[0].Number)
	}
	// A new year starts a new sequence.
	res3, err := s.Ingest(ctx, delivery("edr", "k3", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)))
	if err != nil {
		t.Fatal(err)
	}
	if res3.Incidents[0].Number != "INC-2025-0001" {
		t.Fatalf("new year number = %s", res3.Incidents[0].Number)
	}

	ev, err := s.GetEvent(ctx, res.Events[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if string(ev.Payload) != `{"event_type":"test","data":{}}` || ev.IncidentID != inc.ID || ev.IncidentNum != inc.Number ||
		ev.Verification != "hmac" || !ev.ReceivedAt.Equal(t0) || ev.RequestID != "req-1" {
		t.Fatalf("event = %+v", ev)
	}
	byNum, err := s.GetIncident(ctx, "inc-2024-0001")
	if err != nil || byNum.ID != inc.ID {
		t.Fatalf("by number = %+v, %v", byNum, err)
	}
	byID, err := s.GetIncident(ctx, inc.ID)
	if err != nil || byID.Number != inc.Number {
		t.Fatalf("by id = %+v, %v", byID, err)
	}
	if _, err := s.GetIncident(ctx, "INC-1999-0001"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing incident = %v", err)
	}
	if _, err := s.GetEvent(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing event = %v", err)
	}
	evs, _ := s.ListEvents(ctx, store.EventFilter{})
	if len(evs) != 3 || evs[0].IncidentNum != "INC-2025-0001" || evs[2].IncidentNum != "INC-2024-0001" {
		t.Fatalf("events not newest first: %+v", evs)
	}
}

func testReplay(t *testing.T, s store.Store) {
	ctx := context.Background()
	if _, err := s.Ingest(ctx, delivery("edr", "sig-A", t0)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Ingest(ctx, delivery("edr", "sig-A", t0.Add(time.Second))); !errors.Is(err, store.ErrReplayed) {
		t.Fatalf("replay = %v, want ErrReplayed", err)
	}
	// A rejected replay writes nothing.
	if evs, _ := s.ListEvents(ctx, store.EventFilter{}); len(evs) != 1 {
		t.Fatalf("%d events after a replay, want 1", len(evs))
	}
	if incs, _ := s.ListIncidents(ctx, store.IncidentFilter{}); len(incs) != 1 {
		t.Fatalf("%d incidents after a replay, want 1", len(incs))
	}
	if err := s.PruneReplay(ctx, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Ingest(ctx, delivery("edr", "sig-A", t0.Add(2*time.Minute))); err != nil {
		t.Fatalf("after prune = %v", err)
	}
	// A delivery without events is refused before it claims its key.
	empty := delivery("edr", "sig-B", t0.Add(3*time.Minute))
	empty.Items = nil
	if _, err := s.Ingest(ctx, empty); !errors.Is(err, store.ErrNoEvents) {
		t.Fatalf("delivery without events = %v, want ErrNoEvents", err)
	}
	if _, err := s.Ingest(ctx, delivery("edr", "sig-B", t0.Add(3*time.Minute))); err != nil {
		t.Fatalf("sig-B after the refused empty delivery = %v", err)
	}
}

func testCorrelation(t *testing.T, s store.Store) {
	ctx := context.Background()
	item := func(title, sev string) store.DeliveryItem {
		return store.DeliveryItem{Type: "case", Title: title, Severity: sev, CorrelationKey: "thehive:case:1", Normalized: []byte(`{}`)}
	}
	r1, err := s.Ingest(ctx, delivery("thehive", "", t0, item("Case 1", "medium")))
	if err != nil {
		t.Fatal(err)
	}
	r2, err := s.Ingest(ctx, delivery("thehive", "", t0.Add(time.Minute), item("Case 1 (updated)", "high")))
	if err != nil {
		t.Fatal(err)
	}
	if r1.Incidents[0].ID != r2.Incidents[0].ID {
		t.Fatal("an update with the same correlation key opened a new incident")
	}
	inc, _ := s.GetIncident(ctx, r1.Incidents[0].ID)
	if inc.EventCount != 2 || inc.Severity != "high" || inc.Title != "Case 1 (updated)" {
		t.Fatalf("incident not updated: %+v", inc)
	}
	// The same key on another source is another incident.
	r3, _ := s.Ingest(ctx, delivery("other", "", t0, item("x", "low")))
	if r3.Incidents[0].ID == inc.ID {
		t.Fatal("correlation crossed sources")
	}
	// Once resolved, a new event opens a new incident.
	if _, err := setStatus(ctx, s, inc.Number, store.StatusResolved, t0); err != nil {
		t.Fatal(err)
	}
	r4, _ := s.Ingest(ctx, delivery("thehive", "", t0.Add(time.Hour), item("Case 1 again", "low")))
	if r4.Incidents[0].ID == inc.ID {
		t.Fatal("event attached to a resolved incident")
	}
	// Something inside the case (a task) keeps its title and severity;
	// the case's deletion resolves its incident.
	task := item("Task updated: block the C2", "")
	task.KeepTitle = true
	if _, err := s.Ingest(ctx, delivery("thehive", "", t0.Add(2*time.Hour), task)); err != nil {
		t.Fatal(err)
	}
	deleted := item("", "")
	deleted.Resolve = true
	if _, err := s.Ingest(ctx, delivery("thehive", "", t0.Add(3*time.Hour), deleted)); err != nil {
		t.Fatal(err)
	}
	inc4, _ := s.GetIncident(ctx, r4.Incidents[0].ID)
	if inc4.Title != "Case 1 again" || inc4.Severity != "low" || inc4.Status != store.StatusResolved || inc4.EventCount != 3 {
		t.Fatalf("after a task update and the deletion: %+v", inc4)
	}
	// A deletion whose creation never arrived opens its incident resolved.
	orphan := item("TheHive case gone", "")
	orphan.CorrelationKey, orphan.Resolve = "thehive:case:2", true
	// The source triages: a closed incident gets no playbook.
	od := delivery("thehive", "", t0.Add(4*time.Hour), orphan)
	od.Triage = &store.TriageRequest{Playbook: "phishing_triage"}
	r5, err := s.Ingest(ctx, od)
	if err != nil {
		t.Fatal(err)
	}
	if r5.Incidents[0].Status != store.StatusResolved || len(r5.Jobs) != 0 {
		t.Fatalf("orphan deletion: %+v, jobs %+v", r5.Incidents[0], r5.Jobs)
	}
	// A vendor closing again (true_positive, then closed), or closing
	// what was resolved here, lands on the key's latest resolved
	// incident instead of opening another.
	for i, key := range []string{"thehive:case:1", "thehive:case:2"} {
		again := item("", "")
		again.CorrelationKey, again.Resolve = key, true
		r, err := s.Ingest(ctx, delivery("thehive", "", t0.Add(time.Duration(5+i)*time.Hour), again))
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"thehive:case:1": inc4.ID, "thehive:case:2": r5.Incidents[0].ID}[key]
		if got := r.Incidents[0]; got.ID != want || got.Status != store.StatusResolved {
			t.Fatalf("second resolve of %s: incident %+v, want %s", key, got, want)
		}
	}
	if inc4, err = s.GetIncident(ctx, inc4.ID); err != nil || inc4.EventCount != 4 {
		t.Fatalf("second resolve not counted on its incident: %+v, %v", inc4, err)
	}
	// The sender's close is on the timeline, as an analyst's is; the
	// second, which changed nothing, is not.
	tl, err := s.ListTimeline(ctx, inc4.ID)
	if err != nil || len(tl) != 1 || tl[0].Kind != store.TimelineStatus || tl[0].Actor != "source:thehive" ||
		tl[0].Outcome != store.StatusResolved || tl[0].Message != "status → resolved: thehive closed it (case)" || !tl[0].At.Equal(t0.Add(3*time.Hour)) {
		t.Fatalf("timeline after the sender's close: %+v, %v", tl, err)
	}
	// An update that does not resolve still opens a new incident.
	r6, err := s.Ingest(ctx, delivery("thehive", "", t0.Add(7*time.Hour), item("Case 1 reopened", "high")))
	if err != nil {
		t.Fatal(err)
	}
	if r6.Incidents[0].ID == inc4.ID || r6.Incidents[0].Status != store.StatusOpen {
		t.Fatalf("update after the resolve: %+v", r6.Incidents[0])
	}
}

func testConcurrentNumbering(t *testing.T, s store.Store) {
	ctx := context.Background()
	const n = 40
	var wg sync.WaitGroup
	nums := make(chan string, n)
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			res, err := s.Ingest(ctx, delivery("edr", fmt.Sprintf("k%d", i), t0))
			if err != nil {
				errs <- err
				return
			}
			nums <- res.Incidents[0].Number
		}(i)
	}
	wg.Wait()
	close(nums)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for num := range nums {
		if seen[num] {
			t.Fatalf("incident number %s given twice", num)
		}
		seen[num] = true
	}
	if len(seen) != n {
		t.Fatalf("%d numbers, want %d", len(seen), n)
	}
}

// setStatus changes an incident's status the way the CLI and the admin
// API do.
func setStatus(ctx context.Context, s store.Store, id, status string, at time.Time) (*store.Incident, error) {
	inc, _, _, err := store.SetIncidentStatus(ctx, s, id, status, "test", at)
	return inc, err
}

func testIncidentStatus(t *testing.T, s store.Store) {
	ctx := context.Background()
	res, _ := s.Ingest(ctx, delivery("edr", "k", t0))
	inc, err := setStatus(ctx, s, res.Incidents[0].Number, store.StatusAcknowledged, t0.Add(time.Minute))
	if err != nil || inc.Status != store.StatusAcknowledged || !inc.UpdatedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("ack = %+v, %v", inc, err)
	}
	if _, err := setStatus(ctx, s, "INC-1999-0009", store.StatusResolved, t0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing = %v", err)
	}
}

func testFilters(t *testing.T, s store.Store) {
	ctx := context.Background()
	for i, src := range []string{"a", "b", "a", "a"} {
		if _, err := s.Ingest(ctx, delivery(src, fmt.Sprint(i), t0.Add(time.Duration(i)*time.Hour))); err != nil {
			t.Fatal(err)
		}
	}
	incs, _ := s.ListIncidents(ctx, store.IncidentFilter{Source: "a", Limit: 2})
	if len(incs) != 2 || incs[0].Number != "INC-2024-0004" || incs[1].Number != "INC-2024-0003" {
		t.Fatalf("source+limit = %+v", incs)
	}
	incs, _ = s.ListIncidents(ctx, store.IncidentFilter{Since: t0.Add(90 * time.Minute)})
	if len(incs) != 2 {
		t.Fatalf("since = %d incidents, want 2", len(incs))
	}
	evs, _ := s.ListEvents(ctx, store.EventFilter{Source: "b"})
	if len(evs) != 1 || evs[0].Source != "b" {
		t.Fatalf("events by source = %+v", evs)
	}
	evs, _ = s.ListEvents(ctx, store.EventFilter{Since: t0.Add(150 * time.Minute), Limit: 10})
	if len(evs) != 1 {
		t.Fatalf("events since = %d, want 1", len(evs))
	}
	if _, err := setStatus(ctx, s, "INC-2024-0002", store.StatusResolved, t0.Add(5*time.Hour)); err != nil {
		t.Fatal(err)
	}
	resolved, _ := s.ListIncidents(ctx, store.IncidentFilter{Status: store.StatusResolved})
	if len(resolved) != 1 || resolved[0].Number != "INC-2024-0002" {
		t.Fatalf("status resolved = %+v, want INC-2024-0002 alone", resolved)
	}
	open, _ := s.ListIncidents(ctx, store.IncidentFilter{Status: store.StatusOpen})
	if len(open) != 3 || slices.ContainsFunc(open, func(i store.Incident) bool { return i.Number == "INC-2024-0002" }) {
		t.Fatalf("status open = %+v, want the other three", open)
	}
}

func testIdempotency(t *testing.T, s store.Store) {
	ctx := context.Background()
	d := delivery("edr", "sig-1", t0)
	d.IdempotencyKey, d.IdempotencyCutoff = "edr\x00evt-1", t0.Add(-24*time.Hour)
	first, err := s.Ingest(ctx, d)
	if err != nil || first.Duplicate {
		t.Fatalf("first = %+v, %v", first, err)
	}
	// A retry re-signs (new replay key) but keeps its id.
	again := delivery("edr", "sig-2", t0.Add(time.Minute))
	again.IdempotencyKey, again.IdempotencyCutoff = d.IdempotencyKey, t0.Add(time.Minute-24*time.Hour)
	dup, err := s.Ingest(ctx, again)
	if err != nil {
		t.Fatal(err)
	}
	if !dup.Duplicate || len(dup.Incidents) != 1 || dup.Incidents[0].ID != first.Incidents[0].ID ||
		dup.Incidents[0].Number != first.Incidents[0].Number || dup.Events[0].ID != first.Events[0].ID {
		t.Fatalf("repeat = %+v, want the first result %+v", dup, first)
	}
	// The exact same request (same signature) is a repeat too, not a replay.
	same := delivery("edr", "sig-1", t0.Add(2*time.Minute))
	same.IdempotencyKey, same.IdempotencyCutoff = d.IdempotencyKey, t0.Add(-24*time.Hour)
	if r, err := s.Ingest(ctx, same); err != nil || !r.Duplicate {
		t.Fatalf("identical repeat = %+v, %v", r, err)
	}
	// Another body under a used key is refused, never answered with the
	// first delivery's incident: a guessed key would leak it.
	forged := delivery("edr", "sig-forged", t0.Add(3*time.Minute))
	forged.Payload = []byte(`{"event_type":"other","data":{"n":2}}`)
	forged.IdempotencyKey, forged.IdempotencyCutoff = d.IdempotencyKey, t0.Add(-24*time.Hour)
	if r, err := s.Ingest(ctx, forged); !errors.Is(err, store.ErrIdempotencyConflict) {
		t.Fatalf("another body under a used key = %+v, %v; want ErrIdempotencyConflict", r, err)
	}
	if evs, _ := s.ListEvents(ctx, store.EventFilter{}); len(evs) != 1 {
		t.Fatalf("%d events after repeats, want 1", len(evs))
	}
	// The key is per source: another source's delivery with the same id is new.
	other := delivery("siem", "sig-3", t0)
	other.IdempotencyKey, other.IdempotencyCutoff = "siem\x00evt-1", t0.Add(-24*time.Hour)
	if r, err := s.Ingest(ctx, other); err != nil || r.Duplicate {
		t.Fatalf("other source = %+v, %v", r, err)
	}
	// Past the retention window the key no longer matches, and is reused.
	late := delivery("edr", "sig-4", t0.Add(25*time.Hour))
	late.IdempotencyKey, late.IdempotencyCutoff = d.IdempotencyKey, t0.Add(time.Hour)
	r, err := s.Ingest(ctx, late)
	if err != nil || r.Duplicate || r.Incidents[0].ID == first.Incidents[0].ID {
		t.Fatalf("after retention = %+v, %v", r, err)
	}
	later := delivery("edr", "sig-5", t0.Add(25*time.Hour))
	later.IdempotencyKey, later.IdempotencyCutoff = d.IdempotencyKey, t0.Add(time.Hour)
	if r2, err := s.Ingest(ctx, later); err != nil || !r2.Duplicate || r2.Incidents[0].ID != r.Incidents[0].ID {
		t.Fatalf("repeat of the reused key = %+v, %v", r2, err)
	}
	if err := s.PruneIdempotency(ctx, t0.Add(26*time.Hour)); err != nil {
		t.Fatal(err)
	}
	pruned := delivery("edr", "sig-6", t0.Add(26*time.Hour))
	pruned.IdempotencyKey, pruned.IdempotencyCutoff = d.IdempotencyKey, t0
	if r, err := s.Ingest(ctx, pruned); err != nil || r.Duplicate {
		t.Fatalf("after prune = %+v, %v", r, err)
	}
}

// testConcurrentReplays sends many deliveries at once, some of them
// replays: the replays fail alone, whatever batch they share.
func testConcurrentReplays(t *testing.T, s store.Store) {
	ctx := context.Background()
	const n = 60
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, replayed := 0, 0
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			// Pairs share a replay key: exactly one of each pair wins.
			_, err := s.Ingest(ctx, delivery("edr", fmt.Sprintf("pair-%d", i/2), t0))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, store.ErrReplayed):
				replayed++
			default:
				t.Errorf("delivery %d: %v", i, err)
			}
		}(i)
	}
	wg.Wait()
	if ok != n/2 || replayed != n/2 {
		t.Fatalf("%d stored, %d replayed; want %d each", ok, replayed, n/2)
	}
	if evs, _ := s.ListEvents(ctx, store.EventFilter{Limit: 1000}); len(evs) != n/2 {
		t.Fatalf("%d events, want %d", len(evs), n/2)
	}
}
