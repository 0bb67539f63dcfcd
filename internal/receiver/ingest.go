package receiver

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/tw-cli/tw-cli/internal/logs"
	"github.com/tw-cli/tw-cli/internal/sources"
	"github.com/tw-cli/tw-cli/internal/store"
	"github.com/tw-cli/tw-cli/internal/verify"
	"github.com/tw-cli/tw-cli/pkg/payload"
	"github.com/tw-cli/tw-cli/pkg/signature"
)

// Wire error codes of seed 003.
const (
	CodeInvalidSignature = "invalid_signature"
	CodeUnknownSource    = "unknown_source"
	CodeTimestampExpired = "timestamp_expired"
	CodeReplayed         = "replayed"
	CodeInvalidPayload   = "invalid_payload"
	CodePayloadTooLarge  = "payload_too_large"
	CodeInternal         = "internal_error"
	// CodeInvalidRequest is a malformed request header (an idempotency
	// key that is not a short printable token).
	CodeInvalidRequest = "invalid_request"
	// CodeOverloaded is the 503 of back-pressure: too many requests in
	// flight; the response carries Retry-After.
	CodeOverloaded = "overloaded"
	// CodeIdempotencyConflict is a 422: an idempotency key reused for
	// another body within its retention.
	CodeIdempotencyConflict = "idempotency_conflict"
	// CodeUnavailable is a 503 while the receiver shuts down.
	CodeUnavailable = "unavailable"
	// CodeRequestTimeout: the body did not arrive within serve's
	// ReadTimeout; the sender should send it again.
	CodeRequestTimeout = "request_timeout"
	// CodeForbiddenAddress is a 403: the source only accepts deliveries
	// from its allow-from networks, and this one came from elsewhere.
	CodeForbiddenAddress = "forbidden_address"
	// CodeNotFound and CodeMethodNotAllowed answer requests for a path
	// or method the API does not have.
	CodeNotFound         = "not_found"
	CodeMethodNotAllowed = "method_not_allowed"
)

// Idempotency headers a sender may set to make retries safe. Both mean
// the same; X-Webhook-Id is tw-cli's own, Idempotency-Key the IETF
// draft's. A repeat within the retention window is answered 200 with the
// first delivery's body and stores nothing.
const (
	WebhookIDHeader      = signature.IDHeader
	IdempotencyKeyHeader = "Idempotency-Key"
	// IdempotentReplayedHeader marks a 200 that repeats an earlier answer.
	IdempotentReplayedHeader = "Idempotent-Replayed"
)

// DefaultIdempotencyRetention is how long an idempotency key is kept.
const DefaultIdempotencyRetention = 24 * time.Hour

// maxJSONDepth bounds how deeply a payload may nest. Vendor payloads nest
// a handful of levels; thousands of levels are an attack on the parser's
// stack and memory, and get a clear 400 before any parsing.
const maxJSONDepth = 64

// maxIdempotencyKeyLen bounds the idempotency header; it is stored per
// delivery for a day, so its size is the sender's to keep small.
const maxIdempotencyKeyLen = 255

// AcceptedResponse is the 202 body of seed 003.
type AcceptedResponse struct {
	Status         string `json:"status"`
	IncidentID     string `json:"incident_id"`
	IncidentNumber string `json:"incident_number"`
	// Incidents lists every incident when a batched delivery made several.
	Incidents []IncidentRef `json:"incidents,omitempty"`
	// Queued replaces this body on the wire when triage jobs were queued.
	Queued *QueuedResponse `json:"-"`
}

// IncidentRef names one incident of a batched delivery.
type IncidentRef struct {
	IncidentID     string `json:"incident_id"`
	IncidentNumber string `json:"incident_number"`
}

// MaxBatchStoredBytes bounds what one batched delivery stores: its events
// times its body, which each of them keeps (for events show and replay).
const MaxBatchStoredBytes = 64 << 20

// unknownSourceLabel keeps metric cardinality bounded: names of sources
// that do not exist come from the network.
const unknownSourceLabel = "_unknown"

// validRequestID reports whether a sender's X-Request-Id can be echoed
// and logged: 1-64 letters, digits, '.', '_', ':' or '-'.
func validRequestID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("._:-", c) >= 0) {
			return false
		}
	}
	return true
}

// rejection is a delivery refused with a wire error.
type rejection struct {
	status int
	code   string
	msg    string
	detail error
	// retryAfter adds Retry-After: the refusal is temporary.
	retryAfter bool
	// beforeSource marks a refusal made before the source was found: its
	// name came from the network and must not become a metric label.
	beforeSource bool
}

// maxLoggedName bounds a source name from the network in the log;
// source names are at most 64 characters.
const maxLoggedName = 80

func (r *Receiver) handleIngest(w http.ResponseWriter, req *http.Request) {
	start := time.Now()
	name := req.PathValue("source")
	reqID := req.Header.Get("X-Request-Id")
	if !validRequestID(reqID) {
		reqID = uuid.NewString()
	}
	w.Header().Set("X-Request-Id", reqID)
	// One log line per delivery, each with the request id; attributes are
	// passed whole rather than through Logger.With, whose copy of the
	// handler cost more than the line itself.
	logLine := func(level slog.Level, msg string, attrs ...slog.Attr) {
		r.logDelivery(req.Context(), level, msg, append([]slog.Attr{slog.String("component", logs.ComponentWebhook),
			slog.String("request_id", reqID), slog.String("source", name)}, attrs...)...)
	}

	resp, status, rej := r.ingest(w, req, name, reqID)
	if rej != nil && rej.beforeSource && len(name) > maxLoggedName {
		// An unauthenticated path may hold any name, up to the header
		// limit: each rejection's log line carries only its start.
		name = strings.ToValidUTF8(name[:maxLoggedName], "") + "…"
	}
	label := name
	if rej != nil && rej.beforeSource {
		label = unknownSourceLabel
	}
	if rej != nil {
		status = rej.status
		r.metrics.errors.WithLabelValues(label, rej.code).Inc()
		attrs := []slog.Attr{slog.Int("status", status), slog.String("code", rej.code), slog.Float64("duration_ms", msSince(start))}
		if rej.detail != nil {
			attrs = append(attrs, slog.String("error", rej.detail.Error()))
		}
		if status >= 500 {
			logLine(slog.LevelError, "delivery failed", attrs...)
		} else {
			logLine(slog.LevelWarn, "delivery rejected", attrs...)
		}
		if rej.retryAfter {
			w.Header().Set("Retry-After", retryAfterSeconds)
		}
		writeError(w, status, rej.code, rej.msg)
	} else {
		msg := "delivery accepted"
		if status == http.StatusOK {
			msg = "delivery repeated; answered as the first time"
			r.metrics.duplicates.WithLabelValues(label).Inc()
			w.Header().Set(IdempotentReplayedHeader, "true")
		} else {
			r.metrics.received.WithLabelValues(label).Inc()
		}
		// Every delivery logs this line: the attributes go straight to
		// logDelivery, without logLine's copy.
		attrs := []slog.Attr{slog.String("component", logs.ComponentWebhook),
			slog.String("request_id", reqID), slog.String("source", name), slog.Int("status", status),
			slog.String("incident", resp.IncidentNumber), slog.String("incident_id", resp.IncidentID),
			slog.Float64("duration_ms", msSince(start))}
		if len(resp.Incidents) > 1 {
			// A batch: the log must find each of its incidents' delivery.
			nums := make([]string, len(resp.Incidents))
			for i, ref := range resp.Incidents {
				nums[i] = ref.IncidentNumber
			}
			attrs = append(attrs, slog.String("incidents", strings.Join(nums, ",")))
		}
		r.logDelivery(req.Context(), slog.LevelInfo, msg, attrs...)
		writeJSON(w, status, resp.body())
	}
	r.metrics.duration.WithLabelValues(label, strconv.Itoa(status)).Observe(time.Since(start).Seconds())
}

// logDelivery writes a per-delivery line as Logger.LogAttrs would, less
// the runtime.Callers that LogAttrs makes on every line for a source
// position no handler of the receiver writes.
func (r *Receiver) logDelivery(ctx context.Context, level slog.Level, msg string, attrs ...slog.Attr) {
	h := r.log.Handler()
	if !h.Enabled(ctx, level) {
		return
	}
	rec := slog.NewRecord(time.Now(), level, msg, 0)
	rec.AddAttrs(attrs...)
	_ = h.Handle(ctx, rec)
}

func msSince(t time.Time) float64 {
	return float64(time.Since(t).Microseconds()) / 1000
}

// ingest runs one delivery through lookup, verification, parsing and the
// store. The response is returned only after the store committed; status
// is 202, or 200 for the repeat of an idempotency key.
func (r *Receiver) ingest(w http.ResponseWriter, req *http.Request, name, reqID string) (*AcceptedResponse, int, *rejection) {
	if sources.ValidateName(name) != nil {
		// Not a name a source can have: no lookup, and the name, which
		// may hold anything, is not echoed.
		return nil, 0, &rejection{status: http.StatusNotFound, code: CodeUnknownSource, msg: "Webhook source name is not valid, so it is not registered", beforeSource: true}
	}
	ctx := req.Context()
	cs, err := r.cache.get(ctx, name)
	if err != nil {
		rej := internalError(err)
		if errors.Is(err, store.ErrUnavailable) {
			rej = unavailableRejection(err)
		}
		rej.beforeSource = true
		return nil, 0, rej
	}
	if cs.notFound {
		return nil, 0, &rejection{status: http.StatusNotFound, code: CodeUnknownSource, msg: fmt.Sprintf("Webhook source '%s' is not registered", name), beforeSource: true}
	}
	src := cs.src
	if len(cs.allow) > 0 {
		// Before the body is read: a sender that may not deliver costs
		// nothing more.
		if from := r.clientAddr(req); !allowed(cs.allow, from) {
			return nil, 0, &rejection{status: http.StatusForbidden, code: CodeForbiddenAddress,
				msg:    fmt.Sprintf("Webhook source '%s' does not accept deliveries from %s", src.Name, describeAddr(from)),
				detail: fmt.Errorf("sender %s (peer %s) is not in allow_from", describeAddr(from), req.RemoteAddr)}
		}
	}
	if enc := req.Header.Get("Content-Encoding"); enc != "" && !strings.EqualFold(enc, "identity") {
		// The signature covers the body as sent; decoding it first would
		// verify bytes other than those signed, and refusing it as "not
		// UTF-8" misled the sender. After the lookup: before it, an
		// unknown name got 415 instead of 404, and its metrics series.
		return nil, 0, &rejection{status: http.StatusUnsupportedMediaType, code: CodeInvalidPayload,
			msg: "Content-Encoding " + strconv.Quote(enc) + " is not supported: send the body uncompressed"}
	}
	idemKey, rej := idempotencyKey(req.Header)
	if rej != nil {
		return nil, 0, rej
	}

	body, rej := r.readBody(w, req)
	if rej != nil {
		return nil, 0, rej
	}

	now := r.now()
	verifier, err := cs.verifierAt(now)
	if err != nil {
		return nil, 0, internalError(fmt.Errorf("source %s: %w", src.Name, err))
	}
	vreq := verify.Request{Header: req.Header, Body: body, RemoteAddr: req.RemoteAddr, Now: now}
	if req.URL.RawQuery != "" {
		vreq.Query = req.URL.Query() // most senders send none: skip the map
	}
	vres, err := verifier.Verify(vreq)
	if err != nil {
		return nil, 0, verifyRejection(err)
	}
	if rej := checkBodyShape(body); rej != nil {
		return nil, 0, rej
	}

	parsed, err := payload.Parse(src.Format, body)
	if err != nil {
		return nil, 0, &rejection{status: http.StatusBadRequest, code: CodeInvalidPayload, msg: "Webhook payload is invalid: " + trimInvalid(err), detail: err}
	}
	if len(parsed.Events) == 0 {
		return nil, 0, &rejection{status: http.StatusBadRequest, code: CodeInvalidPayload, msg: "Webhook payload holds no events"}
	}
	if n := len(parsed.Events); n > 1 && n*len(body) > MaxBatchStoredBytes {
		// Each event keeps the whole body it came in: 2,000 alerts in 86 KB
		// stored 166 MB (and 20,000 in 860 KB held the writer for minutes).
		return nil, 0, &rejection{status: http.StatusRequestEntityTooLarge, code: CodePayloadTooLarge,
			msg: fmt.Sprintf("Webhook batch holds %d events; each is stored with the whole %d-byte body, so send at most %d per delivery at this size",
				n, len(body), max(1, MaxBatchStoredBytes/len(body)))}
	}
	d := &store.Delivery{
		Source: src.Name, ReceivedAt: now, Verification: src.Verify, Format: parsed.Format,
		RequestID: reqID, ReplayKey: replayKey(src.Name, src.Verify, vres, body), Payload: body,
		Triage: triageRequest(src),
	}
	if d.Triage != nil && forwarded(parsed) {
		d.Triage = nil
	}
	if !vres.Timestamp.IsZero() {
		// Verification refuses this timestamp once tolerance has passed:
		// its key need not outlive that by the window (see prune).
		d.ReplaySince = vres.Timestamp.Add(-r.tolerance + replayMargin)
	}
	if idemKey == "" && vres.Mode == verify.ModeStandardWebhooks {
		// The spec's resends keep their signed webhook-id under a new
		// timestamp: the id is the delivery's idempotency key, so a resend
		// is answered as a repeat instead of stored twice.
		idemKey = vres.DeliveryID
	}
	if idemKey != "" {
		d.IdempotencyKey = src.Name + "\x00" + idemKey
		d.IdempotencyCutoff = now.Add(-r.idemRetention)
	}
	payload.ApplySeverityMapping(parsed.Events, src.SeverityMapping)
	for _, ev := range parsed.Events {
		norm, err := ev.AppendJSON(nil)
		if err != nil {
			return nil, 0, internalError(err)
		}
		item := store.DeliveryItem{
			Type: ev.Type, Title: ev.Title, Severity: string(ev.Severity), Category: ev.Category,
			CorrelationKey: ev.CorrelationKey, Normalized: norm,
			Resolve: ev.Action == payload.ActionDelete || closedStatus(ev.VendorStatus),
		}
		if ev.Action != payload.ActionCreate && ev.VendorSeverity == "" {
			// An update that says nothing of severity is about something
			// inside the incident (a TheHive task, log or observable): it
			// keeps the incident's severity and its title.
			item.Severity, item.KeepTitle = "", true
		}
		d.Items = append(d.Items, item)
	}
	// The sender's disconnect must not abort a commit half way: the
	// transaction either finishes or rolls back on its own terms, within
	// ingestTimeout.
	ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.ingestTimeout)
	res, err := r.store.Ingest(ictx, d)
	cancel()
	if errors.Is(err, context.DeadlineExceeded) {
		// Idempotency and replay protection make the retry safe if the
		// commit did land after all.
		return nil, 0, &rejection{status: http.StatusServiceUnavailable, code: CodeUnavailable,
			msg: "The database did not answer in time; retry later", retryAfter: true}
	}
	if errors.Is(err, store.ErrReplayed) {
		return nil, 0, &rejection{status: http.StatusConflict, code: CodeReplayed, msg: "Webhook delivery was already received (same signature within the replay window)"}
	}
	if errors.Is(err, store.ErrIdempotencyConflict) {
		return nil, 0, &rejection{status: http.StatusUnprocessableEntity, code: CodeIdempotencyConflict,
			msg: "The idempotency key was already used for a different body: give each delivery its own " + WebhookIDHeader}
	}
	if errors.Is(err, store.ErrClosed) {
		return nil, 0, &rejection{status: http.StatusServiceUnavailable, code: CodeUnavailable, msg: "The receiver is shutting down; retry later", retryAfter: true}
	}
	if errors.Is(err, store.ErrUnavailable) {
		return nil, 0, unavailableRejection(err)
	}
	if errors.Is(err, store.ErrBusy) {
		// Logged with the cause (another process holding the database's
		// write lock, such as a migration); the sender retries.
		return nil, 0, &rejection{status: http.StatusServiceUnavailable, code: CodeUnavailable, msg: "The database is busy; retry later", retryAfter: true, detail: err}
	}
	if err != nil {
		return nil, 0, internalError(err)
	}
	if parsed.Warning != "" && !res.Duplicate {
		r.log.Warn(parsed.Warning, "component", logs.ComponentWebhook, "request_id", reqID, "source", src.Name)
	}
	out := &AcceptedResponse{Status: "accepted", IncidentID: res.Incidents[0].ID, IncidentNumber: res.Incidents[0].Number, Queued: queued(res)}
	if len(res.Incidents) > 1 {
		for _, inc := range res.Incidents {
			out.Incidents = append(out.Incidents, IncidentRef{IncidentID: inc.ID, IncidentNumber: inc.Number})
		}
	}
	if res.Duplicate {
		return out, http.StatusOK, nil
	}
	return out, http.StatusAccepted, nil
}

// exactBodyBuffer is the largest declared body length allocated in full
// before it is read; deliveries are a few KiB.
const exactBodyBuffer = 64 << 10

// readBody reads the whole body within the size limit. A declared length
// over the limit is refused before reading; a body shorter than its
// declared length (a sender that died mid-request) is a 400.
func (r *Receiver) readBody(w http.ResponseWriter, req *http.Request) ([]byte, *rejection) {
	tooLarge := func() *rejection { // built only when needed: most bodies fit
		return &rejection{status: http.StatusRequestEntityTooLarge, code: CodePayloadTooLarge, msg: fmt.Sprintf("Webhook payload exceeds %d bytes", r.maxBody)}
	}
	if req.ContentLength > r.maxBody {
		return nil, tooLarge()
	}
	rd := http.MaxBytesReader(w, req.Body, r.maxBody)
	var body []byte
	var err error
	if n := req.ContentLength; n >= 0 && n <= exactBodyBuffer {
		// net/http enforces the declared length, so one exact buffer
		// holds the body with no regrowing.
		body = make([]byte, n)
		_, err = io.ReadFull(rd, body)
	} else {
		// Past that, memory follows the bytes that arrive, not the
		// length declared: a header claiming a megabyte and a body
		// trickling one byte must not cost a megabyte before any
		// signature is checked.
		body, err = io.ReadAll(rd)
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge()
		}
		var nerr net.Error
		if errors.As(err, &nerr) && nerr.Timeout() {
			// serve's ReadTimeout: the sender was too slow, and its
			// delivery is sound. 408 is one senders retry; a 400 would
			// have told it to give the alert up.
			return nil, &rejection{status: http.StatusRequestTimeout, code: CodeRequestTimeout, msg: "The request body did not arrive in time; send it again", detail: err, retryAfter: true}
		}
		return nil, &rejection{status: http.StatusBadRequest, code: CodeInvalidPayload, msg: "Could not read the whole request body (truncated?)", detail: err}
	}
	return body, nil
}

// idempotencyKey reads the sender's idempotency header: X-Webhook-Id, or
// Idempotency-Key (whose draft allows a quoted string). A key must be
// 1-255 printable ASCII characters without spaces.
func idempotencyKey(h http.Header) (string, *rejection) {
	// A header that is present but empty is refused, not ignored: the
	// sender meant retries to be safe, and they would not be.
	header := WebhookIDHeader
	vals, set := h[header]
	if !set {
		header = IdempotencyKeyHeader
		if vals, set = h[header]; !set {
			return "", nil
		}
	}
	v := vals[0]
	if header == IdempotencyKeyHeader && len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	if len(v) == 0 || len(v) > maxIdempotencyKeyLen {
		return "", &rejection{status: http.StatusBadRequest, code: CodeInvalidRequest, msg: fmt.Sprintf("%s must be 1-%d characters", header, maxIdempotencyKeyLen)}
	}
	for i := 0; i < len(v); i++ {
		if v[i] <= ' ' || v[i] > '~' {
			return "", &rejection{status: http.StatusBadRequest, code: CodeInvalidRequest, msg: header + " may only hold printable ASCII characters without spaces"}
		}
	}
	return v, nil
}

// checkBodyShape refuses, before any parser sees them, bodies that are not
// UTF-8 (encoding/json would silently replace the bad bytes, storing an
// event that is not what was signed) and bodies nested deeper than
// maxJSONDepth.
func checkBodyShape(body []byte) *rejection {
	if !utf8.Valid(body) {
		return &rejection{status: http.StatusBadRequest, code: CodeInvalidPayload, msg: "Webhook payload is not valid UTF-8"}
	}
	depth, inString := 0, false
	for i := 0; i < len(body); i++ {
		c := body[i]
		if inString {
			switch c {
			case '\\':
				i++ // the escaped byte cannot end the string
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
			if depth > maxJSONDepth {
				return &rejection{status: http.StatusBadRequest, code: CodeInvalidPayload, msg: fmt.Sprintf("Webhook payload nests deeper than %d levels", maxJSONDepth)}
			}
		case '}', ']':
			depth--
		}
	}
	return nil
}

// unavailableRejection answers a delivery the database could not take for
// want of a connection (logged with the cause): nothing was stored, and
// the sender retries.
func unavailableRejection(err error) *rejection {
	return &rejection{status: http.StatusServiceUnavailable, code: CodeUnavailable, msg: "The database is unavailable; retry later", retryAfter: true, detail: err}
}

func internalError(err error) *rejection {
	return &rejection{status: http.StatusInternalServerError, code: CodeInternal, msg: "The delivery could not be stored; retry later", detail: err}
}

func trimInvalid(err error) string {
	msg := err.Error()
	prefix := payload.ErrInvalid.Error() + ": "
	if len(msg) > len(prefix) && msg[:len(prefix)] == prefix {
		return msg[len(prefix):]
	}
	return msg
}

// closedStatus reports a vendor status that closes the object an incident
// stands for (TheHive's Resolved case).
func closedStatus(status string) bool {
	return strings.EqualFold(status, "Resolved") || strings.EqualFold(status, "Closed")
}

// replayKey is what must not be accepted twice within the window. For the
// schemes that sign a timestamp and the body (hmac, slack) it is that pair:
// the same pair is the same delivery however its signature header is
// spelled (openssl's label, upper-case hex, an extra signature), so a
// re-spelled replay is caught too. GitHub signs the body alone, not its
// X-GitHub-Delivery id, so the body is its key: keyed by the id, a replay
// with a made-up id got in. Standard Webhooks signs its id, which is the
// key; token schemes with an id use it, those without sign nothing and
// have no replay key.
//
// The signed timestamp leads the key, so keys sort by time: the replay
// index then grows at one end like the other tables instead of taking a
// random page per delivery, which kept every commit and checkpoint
// writing scattered pages.
func replayKey(source, mode string, vres verify.Result, body []byte) string {
	var k string
	switch mode {
	case verify.ModeHMAC, verify.ModeSlack, verify.ModeGitHub:
		sum := sha256.Sum256(body)
		k = hex.EncodeToString(sum[:16])
	default:
		k = vres.DeliveryID
	}
	if k == "" {
		return ""
	}
	b := make([]byte, 0, 16+len(source)+len(mode)+len(k))
	if !vres.Timestamp.IsZero() {
		b = store.AppendZeroPadded(b, vres.Timestamp.Unix(), 12)
	}
	b = append(b, 0)
	b = append(b, source...)
	b = append(b, 0)
	b = append(b, mode...)
	b = append(b, 0)
	b = append(b, k...)
	return string(b)
}

// verifyRejection maps a verification failure to seed 003's errors.
func verifyRejection(err error) *rejection {
	if errors.Is(err, verify.ErrExpired) {
		msg := "Webhook timestamp is too old (>5 minutes)"
		if strings.Contains(err.Error(), "future") || strings.Contains(err.Error(), "ahead") {
			msg = "Webhook timestamp is too far in the future (>5 minutes)"
		}
		return &rejection{status: http.StatusUnauthorized, code: CodeTimestampExpired, msg: msg, detail: err}
	}
	// Seed 003's exact message whatever went wrong; which header was at
	// fault is logged under the request id the response carries.
	return &rejection{status: http.StatusUnauthorized, code: CodeInvalidSignature, msg: "Webhook signature verification failed", detail: err}
}
