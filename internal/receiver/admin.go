package receiver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tw-cli/tw-cli/internal/logs"
	"github.com/tw-cli/tw-cli/internal/sources"
	"github.com/tw-cli/tw-cli/internal/store"
)

// TokenPrefix starts every admin token, so leaked ones are easy to spot.
const TokenPrefix = "tw_"

// HashToken is how tokens are stored: only the SHA-256 of the token. A
// token is 32 random bytes, so a fast hash is enough (no password KDF).
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// admin guards a handler with an `Authorization: Bearer tw_…` token. The
// lookup is by hash, so no token is ever compared in variable time.
func (r *Receiver) admin(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		// Answers may hold a secret shown once (a generated one), and
		// always what only a token holder may see: no cache keeps them.
		w.Header().Set("Cache-Control", "no-store")
		auth := req.Header.Get("Authorization")
		// The scheme name is case-insensitive (RFC 9110, section 11.1).
		scheme, tok, ok := strings.Cut(auth, " ")
		ok = ok && strings.EqualFold(scheme, "Bearer")
		tok = strings.TrimSpace(tok)
		switch {
		case !ok || tok == "":
			w.Header().Set("WWW-Authenticate", `Bearer realm="tw-cli"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "Missing admin token: send 'Authorization: Bearer tw_…' (create one with 'tw-cli token create')")
			return
		case !strings.HasPrefix(tok, TokenPrefix):
			w.Header().Set("WWW-Authenticate", `Bearer realm="tw-cli", error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "Not a tw-cli admin token: they start with 'tw_' (create one with 'tw-cli token create')")
			return
		}
		t, err := r.store.TouchToken(req.Context(), HashToken(tok), r.now())
		if err != nil {
			if !errors.Is(err, store.ErrNotFound) {
				r.log.Error("token lookup", "component", logs.ComponentAdmin, "error", err)
				writeError(w, http.StatusInternalServerError, CodeInternal, "token lookup failed")
				return
			}
			// Logged without the token: a trace of guessing, no help to it.
			r.log.Warn("admin request with an unknown token", "component", logs.ComponentAdmin, "method", req.Method, "path", req.URL.Path, "remote", req.RemoteAddr)
			w.Header().Set("WWW-Authenticate", `Bearer realm="tw-cli", error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "Invalid or revoked admin token")
			return
		}
		r.log.Info("admin request", "component", logs.ComponentAdmin, "method", req.Method, "path", req.URL.Path, "token", t.Name)
		req.Body = http.MaxBytesReader(w, req.Body, r.maxBody)
		h(w, req.WithContext(context.WithValue(req.Context(), tokenNameKey{}, t.Name)))
	})
}

func decodeBody(w http.ResponseWriter, req *http.Request, v any) bool {
	return decode(w, req, v, false)
}

// decodeOptionalBody is decodeBody for a request whose fields are all
// optional: no body at all stands for {}.
func decodeOptionalBody(w http.ResponseWriter, req *http.Request, v any) bool {
	return decode(w, req, v, true)
}

func decode(w http.ResponseWriter, req *http.Request, v any, optional bool) bool {
	data, err := io.ReadAll(req.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeError(w, http.StatusRequestEntityTooLarge, CodePayloadTooLarge, "request body too large")
		} else {
			writeError(w, http.StatusBadRequest, "invalid_request", "could not read the request body")
		}
		return false
	}
	if optional && len(bytes.TrimSpace(data)) == 0 {
		return true
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", "invalid JSON body: "+jsonProblem(err))
		return false
	}
	// One object: anything after it would be ignored unchecked.
	if _, err := dec.Token(); err != io.EOF {
		writeError(w, http.StatusBadRequest, "invalid_request", "invalid JSON body: more after the object")
		return false
	}
	return true
}

// writeSourceError maps the sources package's errors to HTTP.
func (r *Receiver) writeSourceError(w http.ResponseWriter, err error) {
	var verr *sources.ValidationError
	switch {
	case errors.As(err, &verr):
		writeError(w, http.StatusBadRequest, "invalid_request", verr.Msg)
	case errors.Is(err, sources.ErrNotFound):
		writeError(w, http.StatusNotFound, CodeUnknownSource, err.Error())
	case errors.Is(err, sources.ErrExists):
		writeError(w, http.StatusConflict, "already_exists", err.Error())
	default:
		r.log.Error("admin request failed", "component", logs.ComponentAdmin, "error", err)
		writeError(w, http.StatusInternalServerError, CodeInternal, "internal error")
	}
}

func (r *Receiver) handleCreateSource(w http.ResponseWriter, req *http.Request) {
	var spec sources.Spec
	if !decodeBody(w, req, &spec) {
		return
	}
	v, generated, err := r.sources.Add(req.Context(), spec)
	r.cache.invalidate(spec.Source) // it may be cached as unknown
	if err != nil {
		r.writeSourceError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, sources.CreatedView{View: v, GeneratedSecret: generated})
}

func (r *Receiver) handleListSources(w http.ResponseWriter, req *http.Request) {
	// The whole list, always: a filter it ignored would look applied.
	for name := range req.URL.Query() {
		writeError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("unknown query parameter %q: this listing takes none", name))
		return
	}
	vs, err := r.sources.List(req.Context())
	if err != nil {
		r.writeSourceError(w, err)
		return
	}
	if vs == nil {
		vs = []sources.View{}
	}
	writeJSON(w, http.StatusOK, sources.ListResponse{Webhooks: vs})
}

func (r *Receiver) handleGetSource(w http.ResponseWriter, req *http.Request) {
	v, err := r.sources.Get(req.Context(), req.PathValue("source"))
	if err != nil {
		r.writeSourceError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (r *Receiver) handleUpdateSource(w http.ResponseWriter, req *http.Request) {
	var p sources.Patch
	if !decodeBody(w, req, &p) {
		return
	}
	v, err := r.sources.Update(req.Context(), req.PathValue("source"), p)
	r.cache.invalidate(req.PathValue("source"))
	if err != nil {
		r.writeSourceError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (r *Receiver) handleDeleteSource(w http.ResponseWriter, req *http.Request) {
	err := r.sources.Remove(req.Context(), req.PathValue("source"))
	r.cache.invalidate(req.PathValue("source"))
	if err != nil {
		r.writeSourceError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (r *Receiver) handleRotateSecret(w http.ResponseWriter, req *http.Request) {
	var body sources.RotateRequest
	if !decodeOptionalBody(w, req, &body) {
		return
	}
	grace := sources.DefaultGrace
	if body.GraceSeconds != nil {
		// Bounded before the multiplication, which would overflow into a
		// grace of a fraction of a second.
		if g := *body.GraceSeconds; g > maxGraceSeconds {
			writeError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("grace_seconds must be at most %d (a year)", maxGraceSeconds))
			return
		}
		grace = time.Duration(*body.GraceSeconds) * time.Second
	}
	v, generated, err := r.sources.RotateSecret(req.Context(), req.PathValue("source"), body.Secret, grace)
	r.cache.invalidate(req.PathValue("source"))
	if err != nil {
		r.writeSourceError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, sources.CreatedView{View: v, GeneratedSecret: generated})
}

// maxGraceSeconds is sources.MaxGrace as the API takes it.
const maxGraceSeconds = int64(sources.MaxGrace / time.Second)

// Listing bounds: limit defaults to 100 and may be at most 1000.
const (
	defaultListLimit = 100
	maxListLimit     = sources.MaxListLimit
)

// listQuery reads limit and since, answering 400 for values that do not
// parse and for parameters other than limit, since and extra (a listing's
// filters): ignored, they returned the unfiltered list as if it were the
// one asked for.
func listQuery(w http.ResponseWriter, req *http.Request, extra ...string) (limit int, since time.Time, ok bool) {
	q := req.URL.Query()
	for name := range q {
		if name != "limit" && name != "since" && !slices.Contains(extra, name) {
			writeError(w, http.StatusBadRequest, "invalid_request",
				fmt.Sprintf("unknown query parameter %q: use limit, since or %s", name, strings.Join(extra, ", ")))
			return 0, time.Time{}, false
		}
	}
	limit = defaultListLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 || n > maxListLimit {
			writeError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("limit must be a whole number from 1 to %d", maxListLimit))
			return 0, time.Time{}, false
		}
		limit = n
	}
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid_request", "since must be an RFC 3339 time, such as 2024-01-15T10:00:00Z (escape '+' as %2B)")
			return 0, time.Time{}, false
		}
		if t.Before(store.MinFilterTime) || t.After(store.MaxFilterTime) {
			writeError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("since is out of range (%d to %d)", store.MinFilterTime.Year(), store.MaxFilterTime.Year()))
			return 0, time.Time{}, false
		}
		since = t
	}
	return limit, since, true
}

func (r *Receiver) handleListIncidents(w http.ResponseWriter, req *http.Request) {
	q := req.URL.Query()
	limit, since, ok := listQuery(w, req, "source", "status", "owner")
	if !ok {
		return
	}
	switch st := q.Get("status"); st {
	case "", store.StatusOpen, store.StatusAcknowledged, store.StatusResolved:
	default:
		writeError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("status must be %s, %s or %s", store.StatusOpen, store.StatusAcknowledged, store.StatusResolved))
		return
	}
	incs, err := r.store.ListIncidents(req.Context(), store.IncidentFilter{
		Source: q.Get("source"), Status: q.Get("status"), Owner: q.Get("owner"), Since: since, Limit: limit,
	})
	if err != nil {
		r.writeSourceError(w, err)
		return
	}
	if incs == nil {
		incs = []store.Incident{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"incidents": incs})
}

func (r *Receiver) handleGetIncident(w http.ResponseWriter, req *http.Request) {
	d, err := store.GetIncidentDetail(req.Context(), r.store, req.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", "incident not found")
		return
	}
	if err != nil {
		r.writeSourceError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// EventView is an event as the API and `events -o json` show it, with the
// payload exactly as received.
type EventView struct {
	store.Event
	Payload    json.RawMessage `json:"payload"`
	Normalized json.RawMessage `json:"normalized,omitempty"`
}

// ViewEvent renders an event; a payload that is not JSON (it always is,
// after verification and parsing) would be quoted as a string instead.
func ViewEvent(e store.Event) EventView {
	v := EventView{Event: e, Payload: e.Payload, Normalized: e.Normalized}
	if !json.Valid(e.Payload) {
		q, _ := json.Marshal(string(e.Payload))
		v.Payload = q
	}
	if !json.Valid(e.Normalized) {
		v.Normalized = nil
	}
	return v
}

func (r *Receiver) handleListEvents(w http.ResponseWriter, req *http.Request) {
	limit, since, ok := listQuery(w, req, "source")
	if !ok {
		return
	}
	evs, err := r.store.ListEvents(req.Context(), store.EventFilter{Source: req.URL.Query().Get("source"), Since: since, Limit: limit})
	if err != nil {
		r.writeSourceError(w, err)
		return
	}
	out := make([]EventView, len(evs))
	for i, e := range evs {
		out[i] = ViewEvent(e)
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": out})
}

func (r *Receiver) handleGetEvent(w http.ResponseWriter, req *http.Request) {
	ev, err := r.store.GetEvent(req.Context(), req.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", "event not found")
		return
	}
	if err != nil {
		r.writeSourceError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, EventDetailView{EventView: ViewEvent(*ev), RawPayload: ptr(string(ev.Payload))})
}

// EventDetailView is GET /api/events/{id}: the event, plus the body as the
// exact string received (JSON re-encodes payload without its whitespace),
// so a remote `events show` prints what the receiver's own does.
type EventDetailView struct {
	EventView
	RawPayload *string `json:"raw_payload,omitempty"`
}

func ptr[T any](v T) *T { return &v }

// jsonProblem says what is wrong with a request body in the API's terms:
// encoding/json's type errors name Go types ("Go value of type
// sources.Spec").
func jsonProblem(err error) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		if typeErr.Field == "" {
			return "expected a JSON object, got " + typeErr.Value
		}
		return fmt.Sprintf("field %q cannot be %s", typeErr.Field, typeErr.Value)
	}
	return err.Error()
}
