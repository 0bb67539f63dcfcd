// Package receiver is tw-cli's HTTP side: signed webhook ingestion at
// POST /api/webhooks/:source, the token-guarded admin API, /metrics and
// health checks. It is an http.Handler; `tw-cli serve` wraps it in a server.
package receiver

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"path"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tw-cli/tw-cli/internal/sources"
	"github.com/tw-cli/tw-cli/internal/store"
	"github.com/tw-cli/tw-cli/pkg/signature"
)

// DefaultMaxBodyBytes bounds a delivery's body.
const DefaultMaxBodyBytes = 1 << 20

// Options configure a Receiver.
type Options struct {
	Store  store.Store
	Logger *slog.Logger
	// MaxBodyBytes bounds request bodies (DefaultMaxBodyBytes when zero).
	MaxBodyBytes int64
	// Tolerance is how far a delivery's timestamp may be from now, and so
	// also how long signatures are remembered for replay detection.
	Tolerance time.Duration
	Now       func() time.Time
	// MaxInFlight bounds the requests handled at once (DefaultMaxInFlight
	// when zero); past it the receiver answers 503 with Retry-After
	// instead of queueing bodies in memory. Health checks and /metrics
	// are not counted, so they answer even under overload.
	MaxInFlight int
	// SourceCacheTTL is how long a source read from the store is trusted
	// (DefaultSourceCacheTTL when zero, no cache when negative).
	SourceCacheTTL time.Duration
	// IdempotencyRetention is how long an X-Webhook-Id/Idempotency-Key is
	// remembered (DefaultIdempotencyRetention when zero).
	IdempotencyRetention time.Duration
	// TrustedProxies are the networks of reverse proxies in front of the
	// receiver: from them, a source's allow-from list is checked against
	// the address X-Forwarded-For names (see clientAddr).
	TrustedProxies []netip.Prefix
	// IngestTimeout bounds how long a delivery waits for the store
	// (DefaultIngestTimeout when zero).
	IngestTimeout time.Duration
}

// DefaultIngestTimeout bounds a delivery's wait for the store. A database
// that stopped answering (a lock held by a stuck session, a network drop
// without a reset) would otherwise hold the request, its connection and
// the shutdown for good; past this the sender is told to retry. On
// PostgreSQL, with the 10 seconds a body may take to arrive (serve's
// ReadTimeout), it stays below serve's 30-second WriteTimeout, after
// which no answer reaches the sender anyway. SQLite's group commit uses
// it only to queue a delivery: once queued, a delivery waits for its
// batch (and the one before), each bounded by SQLite's 10-second busy
// timeout, so that its answer is never a guess; a sender may then see
// the connection close instead of a 503, and retries as for one.
const DefaultIngestTimeout = 15 * time.Second

// DefaultMaxInFlight is the default bound on requests handled at once. At
// the default 1 MiB body limit it caps request bodies near 1 GiB in the
// worst case; typical ~1 KiB deliveries use a few MiB.
const DefaultMaxInFlight = 1024

// retryAfterSeconds is what a 503 asks the sender to wait: long enough for
// a burst to drain, short enough not to delay alerts.
const retryAfterSeconds = "1"

// Receiver handles HTTP requests. Create it with New.
type Receiver struct {
	store         store.Store
	log           *slog.Logger
	maxBody       int64
	tolerance     time.Duration
	idemRetention time.Duration
	proxies       []netip.Prefix
	now           func() time.Time
	sources       *sources.Local
	cache         *sourceCache
	metrics       *metrics
	registry      *prometheus.Registry
	mux           *http.ServeMux

	maxInFlight   int64
	inFlight      atomic.Int64
	ingestTimeout time.Duration
}

// New builds a receiver.
func New(opts Options) *Receiver {
	r := &Receiver{
		store:         opts.Store,
		log:           opts.Logger,
		maxBody:       opts.MaxBodyBytes,
		tolerance:     opts.Tolerance,
		idemRetention: opts.IdempotencyRetention,
		proxies:       opts.TrustedProxies,
		now:           opts.Now,
		registry:      prometheus.NewRegistry(),
		maxInFlight:   int64(opts.MaxInFlight),
		ingestTimeout: opts.IngestTimeout,
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.maxBody <= 0 {
		r.maxBody = DefaultMaxBodyBytes
	}
	if r.tolerance <= 0 {
		r.tolerance = signature.DefaultTolerance
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.idemRetention <= 0 {
		r.idemRetention = DefaultIdempotencyRetention
	}
	if r.maxInFlight <= 0 {
		r.maxInFlight = DefaultMaxInFlight
	}
	if r.ingestTimeout <= 0 {
		r.ingestTimeout = DefaultIngestTimeout
	}
	ttl := opts.SourceCacheTTL
	if ttl == 0 {
		ttl = DefaultSourceCacheTTL
	}
	r.cache = newSourceCache(r.store, ttl, r.tolerance)
	r.sources = &sources.Local{Store: r.store, Origin: "api", Now: r.now}
	r.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	r.metrics = newMetrics(r.registry, func() float64 { return float64(r.inFlight.Load()) })
	r.routes()
	return r
}

func (r *Receiver) routes() {
	m := http.NewServeMux()
	m.HandleFunc("POST /api/webhooks/{source}", r.handleIngest)
	m.Handle("POST /api/webhooks", r.admin(r.handleCreateSource))
	m.Handle("GET /api/webhooks", r.admin(r.handleListSources))
	m.Handle("GET /api/webhooks/{source}", r.admin(r.handleGetSource))
	m.Handle("PATCH /api/webhooks/{source}", r.admin(r.handleUpdateSource))
	m.Handle("DELETE /api/webhooks/{source}", r.admin(r.handleDeleteSource))
	m.Handle("POST /api/webhooks/{source}/rotate-secret", r.admin(r.handleRotateSecret))
	m.Handle("GET /api/incidents", r.admin(r.handleListIncidents))
	m.Handle("GET /api/incidents/{id}", r.admin(r.handleGetIncident))
	m.Handle("POST /api/incidents/{id}/status", r.admin(r.handleIncidentStatus))
	m.Handle("POST /api/incidents/{id}/owner", r.admin(r.handleIncidentOwner))
	m.Handle("POST /api/incidents/{id}/comments", r.admin(r.handleIncidentComment))
	m.Handle("GET /api/events", r.admin(r.handleListEvents))
	m.Handle("GET /api/events/{id}", r.admin(r.handleGetEvent))
	m.Handle("GET /metrics", promhttp.HandlerFor(r.registry, promhttp.HandlerOpts{Registry: r.registry}))
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	m.HandleFunc("GET /readyz", r.handleReady)
	m.HandleFunc("/", r.handleNoRoute)
	r.mux = m
}

// handleNoRoute answers a path or method the API does not have in the
// API's JSON error shape; net/http's plain-text 404 and 405 were the only
// errors that were not. Only unrouted requests get here, so the probing
// costs the deliveries nothing.
func (r *Receiver) handleNoRoute(w http.ResponseWriter, req *http.Request) {
	var allow []string
	for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete} {
		probe := *req
		probe.Method = method
		if _, pattern := r.mux.Handler(&probe); pattern != "/" && pattern != "" {
			allow = append(allow, method)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeError(w, http.StatusMethodNotAllowed, CodeMethodNotAllowed,
			fmt.Sprintf("%s is not allowed here; use %s", req.Method, strings.Join(allow, " or ")))
		return
	}
	writeError(w, http.StatusNotFound, CodeNotFound, "No such endpoint: the API serves /api/webhooks, /api/incidents and /api/events")
}

// ServeHTTP implements http.Handler. Past the in-flight bound it answers
// 503 at once, without reading the body: a sender's retry later is cheaper
// than a receiver that grows until it is killed.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	switch req.URL.Path {
	case "/healthz", "/readyz", "/metrics":
		r.mux.ServeHTTP(w, req)
		return
	}
	// ServeMux would answer a redirect with no body to the clean path,
	// which a sender's POST may not follow. Judged on the path as sent,
	// as ServeMux does: an escaped slash inside a segment (a%2F..) is
	// part of the segment, not a step up.
	if p := req.URL.EscapedPath(); p == "" || path.Clean(p) != p {
		clean := path.Clean("/" + p)
		writeError(w, http.StatusNotFound, CodeNotFound, fmt.Sprintf("No such endpoint %q: did you mean %q?", p, clean))
		return
	}
	if r.inFlight.Add(1) > r.maxInFlight {
		r.inFlight.Add(-1)
		r.metrics.overloaded.Inc()
		// Also an error, so the error-rate query seed 003 gives
		// (rate(webhook_errors_total[5m])) shows an overload.
		r.metrics.errors.WithLabelValues(unknownSourceLabel, CodeOverloaded).Inc()
		w.Header().Set("Retry-After", retryAfterSeconds)
		// Else the server reads the rest of an unfinished body before
		// answering: a slow sender waited out the read timeout.
		w.Header().Set("Connection", "close")
		writeError(w, http.StatusServiceUnavailable, CodeOverloaded,
			fmt.Sprintf("The receiver is handling its limit of %d requests; retry after %s second(s)", r.maxInFlight, retryAfterSeconds))
		return
	}
	defer r.inFlight.Add(-1)
	r.mux.ServeHTTP(w, req)
}

// Run does the receiver's background work (forgetting expired replay
// keys) until ctx is done.
func (r *Receiver) Run(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.prune(ctx)
		}
	}
}

// replayMargin is how long a signed key is kept past the end of its
// timestamp's tolerance (store.Delivery.ReplaySince): clocks read a
// little apart, and the timestamp is in whole seconds.
const replayMargin = time.Minute

// prune forgets replay keys and idempotency records that can no longer
// match a delivery.
func (r *Receiver) prune(ctx context.Context) {
	// Keys are kept twice the window after their receipt, so a delivery
	// signed up to the tolerance ahead cannot slip past a just-pruned key;
	// keys with a signed timestamp stand at ReplaySince, that timestamp
	// less the tolerance (plus replayMargin), and go once a replay would
	// fail verification anyway.
	if err := r.store.PruneReplay(ctx, r.now().Add(-2*r.tolerance)); err != nil && ctx.Err() == nil {
		r.log.Warn("prune replay keys", "component", "server", "error", err)
	}
	if err := r.store.PruneIdempotency(ctx, r.now().Add(-r.idemRetention)); err != nil && ctx.Err() == nil {
		r.log.Warn("prune idempotency keys", "component", "server", "error", err)
	}
}

func (r *Receiver) handleReady(w http.ResponseWriter, req *http.Request) {
	ctx, cancel := context.WithTimeout(req.Context(), 2*time.Second)
	defer cancel()
	if err := r.store.Ping(ctx); err != nil {
		writeError(w, http.StatusServiceUnavailable, "not_ready", "store unavailable")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// ErrorBody is the wire shape of every error: {"error":{"code","message"}}.
type ErrorBody struct {
	Error sources.APIError `json:"error"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, ErrorBody{Error: sources.APIError{Code: code, Message: msg}})
}

// writeJSON writes v as one line of JSON. A json.RawMessage is written as
// it is: it is already that line.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	// Bodies echo sender-chosen strings unescaped for HTML: a browser
	// pointed at the receiver must not sniff them into a page.
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if raw, ok := v.(json.RawMessage); ok {
		_, _ = w.Write(raw)
		return
	}
	// Unescaped, so messages read as seed 003 writes them ("(>5 minutes)",
	// not "(\u003e5 minutes)").
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// InvalidateSources forgets cached sources after this process changed them
// outside the admin API (serve --config's reload), so the change applies
// at once instead of after the cache's TTL.
func (r *Receiver) InvalidateSources(names ...string) {
	for _, n := range names {
		r.cache.invalidate(n)
	}
}
