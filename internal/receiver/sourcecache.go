package receiver

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/tw-cli/tw-cli/internal/store"
	"github.com/tw-cli/tw-cli/internal/verify"
)

// DefaultSourceCacheTTL is how long the receiver trusts what it read of a
// source. Changes made through this receiver's admin API apply at once;
// changes made by another process (`tw-cli webhook update` on the same
// database, another receiver) apply within this long.
const DefaultSourceCacheTTL = time.Second

// maxCachedUnknown bounds the remembered unknown source names: they come
// from the network, so an unbounded cache of them would be a memory leak
// anyone could trigger.
const maxCachedUnknown = 4096

// sourceCache keeps recently used sources, and their verifiers, so that a
// delivery costs no read query. An expired entry is refreshed by the first
// request that sees it; requests arriving during that one query keep using
// the old entry, so an expiry under load costs one query, not one each.
type sourceCache struct {
	store     store.Store
	ttl       time.Duration
	tolerance time.Duration
	// clock is monotonic wall time, not the receiver's Now: the TTL
	// bounds real staleness even when tests pin the verification clock.
	clock func() time.Time

	// maxUnknown is maxCachedUnknown; a field so tests can lower it.
	maxUnknown int

	mu      sync.Mutex
	entries map[string]*cachedSource
	unknown int
	// gen counts invalidations, so a lookup that started before one does
	// not store what it read after it.
	gen uint64
}

// cachedSource is one lookup's outcome: a source with its verifiers, or
// ErrNotFound. It is immutable once cached.
type cachedSource struct {
	src *store.Source
	// verifier checks the current secret; withPrevious also checks the
	// rotated-out one, used until src.PreviousExpiresAt.
	verifier, withPrevious verify.Verifier
	// allow is src.AllowFrom parsed: the only networks deliveries may come
	// from, none meaning any.
	allow []netip.Prefix
	// buildErr is a source that cannot verify anything (a bad secret
	// stored by hand): every delivery to it is an internal error.
	buildErr   error
	notFound   bool
	expires    time.Time
	refreshing bool
}

func newSourceCache(st store.Store, ttl, tolerance time.Duration) *sourceCache {
	return &sourceCache{store: st, ttl: ttl, tolerance: tolerance, clock: time.Now,
		maxUnknown: maxCachedUnknown, entries: map[string]*cachedSource{}}
}

// get returns the source named name, or store.ErrNotFound.
func (c *sourceCache) get(ctx context.Context, name string) (*cachedSource, error) {
	if c.ttl <= 0 {
		return c.load(ctx, name)
	}
	now := c.clock()
	c.mu.Lock()
	e, ok := c.entries[name]
	switch {
	case ok && now.Before(e.expires):
		c.mu.Unlock()
		return e, nil
	case ok && e.refreshing:
		c.mu.Unlock()
		return e, nil
	case ok:
		e.refreshing = true
	}
	gen := c.gen
	c.mu.Unlock()

	fresh, err := c.load(ctx, name)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		if ok && c.entries[name] == e {
			e.refreshing = false // let the next request try again
		}
		return nil, err
	}
	// An invalidation since the read began may have been this source's:
	// then its entry is gone (or newer), and what was read may predate
	// the change. One of another source leaves e in place; the read is
	// then as good as any, and e must not stay refreshing, which would
	// serve it, expired, for good.
	if c.gen == gen || (ok && c.entries[name] == e) {
		fresh.expires = c.clock().Add(c.ttl)
		c.put(name, fresh)
	}
	return fresh, nil
}

// put stores an entry; the caller holds mu.
func (c *sourceCache) put(name string, e *cachedSource) {
	old, had := c.entries[name]
	if had && old.notFound {
		c.unknown--
	}
	if e.notFound {
		if c.unknown >= c.maxUnknown {
			c.sweepUnknown()
		}
		if c.unknown >= c.maxUnknown {
			if had {
				delete(c.entries, name)
			}
			return
		}
		c.unknown++
	}
	c.entries[name] = e
}

// sweepUnknown drops expired unknown names; the caller holds mu.
func (c *sourceCache) sweepUnknown() {
	now := c.clock()
	for name, e := range c.entries {
		if e.notFound && !now.Before(e.expires) {
			delete(c.entries, name)
			c.unknown--
		}
	}
}

// load reads a source and builds its verifiers. A source that does not
// exist is a cacheable outcome, not an error.
func (c *sourceCache) load(ctx context.Context, name string) (*cachedSource, error) {
	src, err := c.store.GetSource(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return &cachedSource{notFound: true}, nil
	}
	if err != nil {
		return nil, err
	}
	e := &cachedSource{src: src}
	for _, a := range src.AllowFrom {
		p, err := netip.ParsePrefix(a)
		if err != nil {
			// Stored by hand past validation: refuse every delivery (an
			// internal error) rather than accept from anywhere.
			e.buildErr = fmt.Errorf("allow_from %q: %w", a, err)
			return e, nil
		}
		e.allow = append(e.allow, p)
	}
	opts := verify.Options{Tolerance: c.tolerance}
	e.verifier, e.buildErr = verify.New(src.Verify, [][]byte{[]byte(src.Secret)}, opts)
	if e.buildErr == nil && src.PreviousSecret != "" {
		// A rotated-out secret that no longer suits the mode must not stop
		// the current one from verifying: then only the current one counts.
		if v, err := verify.New(src.Verify, [][]byte{[]byte(src.Secret), []byte(src.PreviousSecret)}, opts); err == nil {
			e.withPrevious = v
		}
	}
	return e, nil
}

// verifierAt returns the verifier for a delivery received at now, when a
// rotated-out secret may or may not still be valid.
func (e *cachedSource) verifierAt(now time.Time) (verify.Verifier, error) {
	if e.buildErr != nil {
		return nil, e.buildErr
	}
	if e.withPrevious != nil && now.Before(e.src.PreviousExpiresAt) {
		return e.withPrevious, nil
	}
	return e.verifier, nil
}

// invalidate forgets a source after this process changed it.
func (c *sourceCache) invalidate(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if e, ok := c.entries[name]; ok {
		if e.notFound {
			c.unknown--
		}
		delete(c.entries, name)
	}
}
