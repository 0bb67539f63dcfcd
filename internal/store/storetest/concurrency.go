package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tw-cli/tw-cli/internal/store"
)

// parallel runs fn n times at once and returns the errors.
func parallel(n int, fn func(i int) error) []error {
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn(i)
		}()
	}
	wg.Wait()
	return errs
}

// testConcurrentCorrelation is updates of one case arriving at once (at
// several receivers): they must all land on one incident.
func testConcurrentCorrelation(t *testing.T, s store.Store) {
	ctx := context.Background()
	const n = 25
	ids := make([]string, n)
	errs := parallel(n, func(i int) error {
		res, err := s.Ingest(ctx, delivery("thehive", fmt.Sprintf("c%d", i), t0.Add(time.Duration(i)*time.Millisecond), store.DeliveryItem{
			Type: "case", Title: "Case 7", Severity: "medium", CorrelationKey: "thehive:case:7", Normalized: []byte(`{}`),
		}))
		if err == nil {
			ids[i] = res.Incidents[0].ID
		}
		return err
	})
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range ids {
		if id != ids[0] {
			t.Fatal("concurrent events of one case opened several incidents")
		}
	}
	inc, err := s.GetIncident(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if inc.EventCount != n {
		t.Fatalf("event_count = %d, want %d (an increment was lost)", inc.EventCount, n)
	}
	if evs, _ := s.ListEvents(ctx, store.EventFilter{}); len(evs) != n {
		t.Fatalf("%d events, want %d", len(evs), n)
	}
}

// testConcurrentReplay is one signed delivery sent to several receivers
// at once: exactly one stores it.
func testConcurrentReplay(t *testing.T, s store.Store) {
	ctx := context.Background()
	const n = 12
	errs := parallel(n, func(int) error {
		_, err := s.Ingest(ctx, delivery("edr", "edr\x00hmac\x00sha256=same", t0))
		return err
	})
	accepted := 0
	for _, err := range errs {
		switch {
		case err == nil:
			accepted++
		case !errors.Is(err, store.ErrReplayed):
			t.Fatalf("concurrent replay = %v, want ErrReplayed", err)
		}
	}
	if accepted != 1 {
		t.Fatalf("%d of %d identical deliveries accepted, want 1", accepted, n)
	}
	if evs, _ := s.ListEvents(ctx, store.EventFilter{}); len(evs) != 1 {
		t.Fatalf("%d events, want 1", len(evs))
	}
	// The key is binary (the receiver joins source, scheme and signature
	// with NUL); a key differing after a NUL is another delivery.
	if _, err := s.Ingest(ctx, delivery("edr", "edr\x00hmac\x00sha256=other", t0)); err != nil {
		t.Fatalf("a different signature = %v", err)
	}
}

// testUntrustedText is what a sender controls: JSON strings may hold NUL
// and the URL path any bytes. The store must take them, and look them up,
// without failing.
func testUntrustedText(t *testing.T, s store.Store) {
	ctx := context.Background()
	item := store.DeliveryItem{
		Type: "alert\x00", Title: "evil\x00title", Severity: "high", Category: "cat\xff",
		CorrelationKey: "case\x00\xfe1", Normalized: []byte(`{"title":"evil\u0000title"}`),
	}
	r1, err := s.Ingest(ctx, delivery("edr", "u1", t0, item))
	if err != nil {
		t.Fatalf("delivery with NUL and invalid UTF-8 = %v", err)
	}
	r2, err := s.Ingest(ctx, delivery("edr", "u2", t0.Add(time.Second), item))
	if err != nil {
		t.Fatal(err)
	}
	if r1.Incidents[0].ID != r2.Incidents[0].ID {
		t.Fatal("the same odd correlation key did not correlate")
	}
	inc, err := s.GetIncident(ctx, r1.Incidents[0].Number)
	if err != nil || !strings.HasPrefix(inc.Title, "evil") || !strings.HasSuffix(inc.Title, "title") || inc.EventCount != 2 {
		t.Fatalf("incident = %+v, %v", inc, err)
	}
	ev, err := s.GetEvent(ctx, r1.Events[0].ID)
	if err != nil || string(ev.Normalized) != `{"title":"evil\u0000title"}` {
		t.Fatalf("event = %+v, %v: normalized JSON must be kept byte for byte", ev, err)
	}
	for _, name := range []string{"a\x00b", "\xff\xfe", "INC-2024-0001\x00"} {
		if _, err := s.GetSource(ctx, name); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetSource(%q) = %v, want ErrNotFound", name, err)
		}
		if _, err := s.GetEvent(ctx, name); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetEvent(%q) = %v, want ErrNotFound", name, err)
		}
		if _, err := s.GetIncident(ctx, name); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetIncident(%q) = %v, want ErrNotFound", name, err)
		}
		if err := s.RevokeToken(ctx, name); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RevokeToken(%q) = %v, want ErrNotFound", name, err)
		}
		if evs, err := s.ListEvents(ctx, store.EventFilter{Source: name}); err != nil || len(evs) != 0 {
			t.Errorf("ListEvents(source %q) = %d, %v", name, len(evs), err)
		}
	}
	// A secret is opaque bytes: it must come back exactly, or signatures
	// made with it stop verifying.
	src := &store.Source{Name: "odd", Secret: "s\x00\xffcret", PreviousSecret: "\x00old", PreviousExpiresAt: t0, Format: "auto", Verify: "hmac", Origin: "api",
		Description: "from \x00 the API", SeverityMapping: map[string]string{"P\x001": "high"}, CreatedAt: t0, UpdatedAt: t0}
	if err := s.CreateSource(ctx, src); err != nil {
		t.Fatalf("source with NUL in description and mapping = %v", err)
	}
	got, err := s.GetSource(ctx, "odd")
	if err != nil || got.SeverityMapping["P\x001"] != "high" {
		t.Fatalf("source = %+v, %v: the mapping's keys must round-trip", got, err)
	}
	if got.Secret != "s\x00\xffcret" || got.PreviousSecret != "\x00old" {
		t.Fatalf("secrets read back %q, %q", got.Secret, got.PreviousSecret)
	}
}

// testBatchDelivery is one request carrying several alerts.
func testBatchDelivery(t *testing.T, s store.Store) {
	ctx := context.Background()
	items := []store.DeliveryItem{
		{Type: "a", Title: "first", Severity: "low", CorrelationKey: "k1", Normalized: []byte(`{"n":1}`)},
		{Type: "a", Title: "second", Severity: "high", CorrelationKey: "k2", Normalized: []byte(`{"n":2}`)},
		{Type: "a", Title: "first again", CorrelationKey: "k1", Normalized: []byte(`{"n":3}`)},
		{Type: "a", Title: "loose", Severity: "", Normalized: []byte(`{"n":4}`)},
	}
	res, err := s.Ingest(ctx, delivery("splunk", "b1", t0, items...))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != 4 || len(res.Incidents) != 4 {
		t.Fatalf("result = %+v", res)
	}
	if res.Incidents[0].ID != res.Incidents[2].ID || res.Incidents[0].ID == res.Incidents[1].ID {
		t.Fatal("items of one delivery did not correlate among themselves")
	}
	if res.Incidents[2].EventCount != 2 || res.Incidents[2].Title != "first again" || res.Incidents[2].Severity != "low" {
		t.Fatalf("correlated incident = %+v: an item without severity keeps the incident's", res.Incidents[2])
	}
	if res.Incidents[3].Severity != "info" {
		t.Fatalf("uncorrelated item without severity = %q, want info", res.Incidents[3].Severity)
	}
	nums := map[string]bool{}
	for _, inc := range res.Incidents {
		nums[inc.Number] = true
	}
	if len(nums) != 3 {
		t.Fatalf("%d distinct numbers for 3 incidents: %v", len(nums), nums)
	}
	// One delivery's events share received_at; newest first is the
	// reverse of the order they came in.
	evs, err := s.ListEvents(ctx, store.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for i, ev := range evs {
		if want := fmt.Sprintf(`{"n":%d}`, 4-i); string(ev.Normalized) != want {
			t.Fatalf("event %d = %s, want %s", i, ev.Normalized, want)
		}
		if string(ev.Payload) != `{"event_type":"test","data":{}}` || ev.IncidentNum == "" {
			t.Fatalf("event %d = %+v", i, ev)
		}
	}
}

// testTimesRoundTrip: what Ingest and the writers return is what reads
// return later, whatever precision the backend keeps.
func testTimesRoundTrip(t *testing.T, s store.Store) {
	ctx := context.Background()
	at := time.Date(2024, 6, 1, 12, 30, 45, 123456789, time.FixedZone("CEST", 2*3600))
	res, err := s.Ingest(ctx, delivery("edr", "t1", at))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := s.GetEvent(ctx, res.Events[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if !ev.ReceivedAt.Equal(res.Events[0].ReceivedAt) || ev.ReceivedAt.Location() != time.UTC {
		t.Fatalf("received_at read back %v, Ingest said %v", ev.ReceivedAt, res.Events[0].ReceivedAt)
	}
	if d := at.Sub(ev.ReceivedAt); d < 0 || d >= time.Microsecond {
		t.Fatalf("received_at %v is not %v to the microsecond", ev.ReceivedAt, at)
	}
	inc, err := s.GetIncident(ctx, res.Incidents[0].ID)
	if err != nil || !inc.CreatedAt.Equal(res.Incidents[0].CreatedAt) || !inc.UpdatedAt.Equal(res.Incidents[0].UpdatedAt) {
		t.Fatalf("incident times read back %+v, Ingest said %+v (%v)", inc, res.Incidents[0], err)
	}
	// Since is inclusive at the stored precision.
	evs, err := s.ListEvents(ctx, store.EventFilter{Since: res.Events[0].ReceivedAt})
	if err != nil || len(evs) != 1 {
		t.Fatalf("since the event's own time: %d events, %v", len(evs), err)
	}
	if evs, _ := s.ListEvents(ctx, store.EventFilter{Since: res.Events[0].ReceivedAt.Add(time.Microsecond)}); len(evs) != 0 {
		t.Fatalf("since after the event: %d events", len(evs))
	}
	// "Never" stays the zero time.
	if err := s.CreateToken(ctx, &store.Token{ID: "t", Name: "t", Hash: "h", Prefix: "tw_", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	toks, err := s.ListTokens(ctx)
	if err != nil || len(toks) != 1 || !toks[0].LastUsedAt.IsZero() {
		t.Fatalf("unused token = %+v, %v", toks, err)
	}
	// Within a minute of the last use, no write: the time stays.
	if _, err := s.TouchToken(ctx, "h", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	tok, err := s.TouchToken(ctx, "h", t0.Add(time.Hour+30*time.Second))
	if err != nil || !tok.LastUsedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("touch within a minute = %+v, %v", tok, err)
	}
	// Writers return times as reads do: in UTC, whatever the caller's
	// zone (the admin API shows them).
	cest := time.FixedZone("CEST", 2*3600)
	if tok, err := s.TouchToken(ctx, "h", t0.Add(2*time.Hour).In(cest)); err != nil || tok.LastUsedAt.Location() != time.UTC {
		t.Fatalf("touch from another zone = %+v, %v", tok, err)
	}
	sev := "high"
	changed, err := s.ApplyIncidentChange(ctx, inc.ID, store.IncidentChange{Severity: &sev}, nil, at.Add(time.Hour))
	if err != nil || changed.UpdatedAt.Location() != time.UTC {
		t.Fatalf("change from another zone = %+v, %v", changed, err)
	}
	if read, err := s.GetIncident(ctx, inc.ID); err != nil || !read.UpdatedAt.Equal(changed.UpdatedAt) {
		t.Fatalf("change said updated_at %v, read back %+v (%v)", changed.UpdatedAt, read, err)
	}
}

// testConcurrentIdempotency is a sender retrying one delivery through
// several receivers at once, each retry re-signed (a new replay key) with
// the same id: one is stored, every other answer is that one's result.
func testConcurrentIdempotency(t *testing.T, s store.Store) {
	ctx := context.Background()
	const n = 12
	results := make([]*store.IngestResult, n)
	errs := parallel(n, func(i int) error {
		d := delivery("edr", fmt.Sprintf("resigned-%d", i), t0.Add(time.Duration(i)*time.Second))
		d.IdempotencyKey, d.IdempotencyCutoff = "edr\x00evt-42", t0.Add(-time.Hour)
		d.Triage = &store.TriageRequest{Playbook: "default"}
		res, err := s.Ingest(ctx, d)
		results[i] = res
		return err
	})
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var first *store.IngestResult
	for _, r := range results {
		if !r.Duplicate {
			if first != nil {
				t.Fatal("two deliveries with one idempotency key were both stored")
			}
			first = r
		}
	}
	if first == nil {
		t.Fatal("no delivery was stored")
	}
	for _, r := range results {
		if r.Incidents[0].ID != first.Incidents[0].ID || r.Incidents[0].Number != first.Incidents[0].Number ||
			r.Events[0].ID != first.Events[0].ID || len(r.Jobs) != 1 || r.Jobs[0].ID != first.Jobs[0].ID {
			t.Fatalf("answer %+v differs from the stored delivery's %+v", r, first)
		}
	}
	if evs, _ := s.ListEvents(ctx, store.EventFilter{}); len(evs) != 1 {
		t.Fatalf("%d events, want 1", len(evs))
	}
	if jobs, _ := s.ListTriageJobs(ctx, ""); len(jobs) != 1 {
		t.Fatalf("%d triage jobs, want 1", len(jobs))
	}
}
