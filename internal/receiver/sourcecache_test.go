package receiver

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/tw-cli/tw-cli/internal/store"
	"github.com/tw-cli/tw-cli/internal/store/sqlite"
)

// TestUnknownNamesAreBounded: names of sources that do not exist come from
// the network, so remembering them must not grow without bound.
func TestUnknownNamesAreBounded(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "tw.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c := newSourceCache(st, time.Hour, 0)
	clock := time.Unix(1e9, 0)
	c.clock = func() time.Time { return clock }
	c.maxUnknown = 50
	for i := 0; i < c.maxUnknown+20; i++ {
		e, err := c.get(context.Background(), fmt.Sprintf("nope-%d", i))
		if err != nil || !e.notFound {
			t.Fatalf("lookup %d = %+v, %v", i, e, err)
		}
	}
	if len(c.entries) != c.maxUnknown || c.unknown != c.maxUnknown {
		t.Fatalf("%d entries (%d unknown), want at most %d", len(c.entries), c.unknown, c.maxUnknown)
	}
	// Once they expire, room is made for new names.
	clock = clock.Add(2 * time.Hour)
	if _, err := c.get(context.Background(), "fresh"); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.entries["fresh"]; !ok || c.unknown != 1 {
		t.Fatalf("after expiry: fresh cached %v, %d unknown", ok, c.unknown)
	}
}

// invalidatingStore changes another source (as the admin API would)
// while a lookup reads.
type invalidatingStore struct {
	*sqlite.Store
	c     *sourceCache
	other string
}

func (s *invalidatingStore) GetSource(ctx context.Context, name string) (*store.Source, error) {
	if s.other != "" {
		s.c.invalidate(s.other)
	}
	return s.Store.GetSource(ctx, name)
}

// TestRefreshSurvivesAnotherSourcesInvalidation: a change to one source
// while another's expired entry was being read again left that entry
// marked as refreshing, and it was then served, expired, for good: a
// secret changed afterwards by another process was never seen.
func TestRefreshSurvivesAnotherSourcesInvalidation(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "tw.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	src := &store.Source{Name: "edr", Secret: "first-secret-0123456789", Format: "generic", Verify: "hmac", Origin: "cli",
		CreatedAt: time.Unix(1e9, 0), UpdatedAt: time.Unix(1e9, 0)}
	if err := st.CreateSource(ctx, src); err != nil {
		t.Fatal(err)
	}
	add := func(secret string) {
		t.Helper()
		readAt := src.UpdatedAt
		src.Secret, src.UpdatedAt = secret, src.UpdatedAt.Add(time.Second)
		if err := st.UpdateSource(ctx, src, readAt); err != nil {
			t.Fatal(err)
		}
	}
	ist := &invalidatingStore{Store: st}
	c := newSourceCache(ist, time.Second, 0)
	ist.c = c
	clock := time.Unix(1e9, 0)
	c.clock = func() time.Time { return clock }
	secret := func() string {
		t.Helper()
		e, err := c.get(ctx, "edr")
		if err != nil {
			t.Fatal(err)
		}
		return e.src.Secret
	}
	if got := secret(); got != "first-secret-0123456789" {
		t.Fatalf("secret %q", got)
	}

	ist.other = "another-source" // changed during the next read
	clock = clock.Add(2 * time.Second)
	add("second-secret-0123456789")
	secret()
	ist.other = ""

	add("third-secret-0123456789") // by another process: only the TTL brings it
	clock = clock.Add(2 * time.Second)
	secret() // the read of an expired entry
	if got := secret(); got != "third-secret-0123456789" {
		t.Fatalf("after expiry the cache serves secret %q, want the stored third one", got)
	}
}

// unreachableStore is a database the receiver lost: reads of sources
// (once the cache expires) and deliveries fail with ErrUnavailable.
type unreachableStore struct {
	*sqlite.Store
	down bool
}

func (s *unreachableStore) GetSource(ctx context.Context, name string) (*store.Source, error) {
	if s.down {
		return nil, fmt.Errorf("%w: dial tcp: connection refused", store.ErrUnavailable)
	}
	return s.Store.GetSource(ctx, name)
}

func (s *unreachableStore) Ingest(ctx context.Context, d *store.Delivery) (*store.IngestResult, error) {
	if s.down {
		return nil, fmt.Errorf("%w: dial tcp: connection refused", store.ErrUnavailable)
	}
	return s.Store.Ingest(ctx, d)
}

// TestUnreachableDatabaseIs503: a database out of reach took nothing, so
// the sender is told to retry (503 unavailable, Retry-After), as /readyz
// says, rather than that the receiver failed (500).
func TestUnreachableDatabaseIs503(t *testing.T) {
	// Cached, the source is known and the delivery fails; uncached, its
	// source's read does.
	for name, ttl := range map[string]time.Duration{"delivery": time.Hour, "source read": -1} {
		t.Run(name, func(t *testing.T) {
			var us *unreachableStore
			f := newFixture(t, func(o *Options) {
				us = &unreachableStore{Store: o.Store.(*sqlite.Store)}
				o.Store, o.SourceCacheTTL = us, ttl
			})
			sig, ts := sign("your-secret", testBody, now)
			if r := f.deliver("email-gateway", testBody, sig, ts); r.status != http.StatusAccepted {
				t.Fatalf("while up: %d %s", r.status, r.raw)
			}
			us.down = true
			body := `{"event_type":"x","data":{}}`
			sig, ts = sign("your-secret", body, now)
			r := f.deliver("email-gateway", body, sig, ts)
			if r.status != http.StatusServiceUnavailable || errCode(r) != CodeUnavailable || r.header.Get("Retry-After") == "" {
				t.Fatalf("lost database: %d %s (Retry-After %q)", r.status, r.raw, r.header.Get("Retry-After"))
			}
		})
	}
}
