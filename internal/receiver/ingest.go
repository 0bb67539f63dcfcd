package receiver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tw-cli/tw-cli/internal/logs"
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
)

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

// unknownSourceLabel keeps metric cardinality bounded: names of sources
// that do not exist come from the network.
const unknownSourceLabel = "_unknown"

var requestIDRE = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

// rejection is a delivery refused with a wire error.
type rejection struct {
	status int
	code   string
	msg    string
	detail error
}

func (r *Receiver) handleIngest(w http.ResponseWriter, req *http.Request) {
	start := time.Now()
	name := req.PathValue("source")
	reqID := req.Header.Get("X-Request-Id")
	if !requestIDRE.MatchString(reqID) {
		reqID = uuid.NewString()
	}
	w.Header().Set("X-Request-Id", reqID)
	log := r.log.With("component", logs.ComponentWebhook, "request_id", reqID, "source", name)

	resp, rej := r.ingest(req, name, reqID)
	label := name
	if rej != nil && rej.code == CodeUnknownSource {
		label = unknownSourceLabel
	}
	status := http.StatusAccepted
	if rej != nil {
		status = rej.status
		r.metrics.errors.WithLabelValues(label, rej.code).Inc()
		attrs := []any{"status", status, "code", rej.code, "duration_ms", msSince(start)}
		if rej.detail != nil {
			attrs = append(attrs, "error", rej.detail.Error())
		}
		if status >= 500 {
			log.Error("delivery failed", attrs...)
		} else {
			log.Warn("delivery rejected", attrs...)
		}
		writeError(w, status, rej.code, rej.msg)
	} else {
		r.metrics.received.WithLabelValues(label).Inc()
		log.Info("delivery accepted", "status", status, "incident", resp.IncidentNumber, "incident_id", resp.IncidentID, "duration_ms", msSince(start))
		writeJSON(w, status, resp.body())
	}
	r.metrics.duration.WithLabelValues(label, strconv.Itoa(status)).Observe(time.Since(start).Seconds())
}

func msSince(t time.Time) float64 {
	return float64(time.Since(t).Microseconds()) / 1000
}

// ingest runs one delivery through lookup, verification, parsing and the
// store. The response is returned only after the store committed.
func (r *Receiver) ingest(req *http.Request, name, reqID string) (*AcceptedResponse, *rejection) {
	ctx := req.Context()
	src, err := r.store.GetSource(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &rejection{status: http.StatusNotFound, code: CodeUnknownSource, msg: fmt.Sprintf("Webhook source '%s' is not registered", name)}
	}
	if err != nil {
		return nil, internalError(err)
	}

	body, err := io.ReadAll(http.MaxBytesReader(nil, req.Body, r.maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, &rejection{status: http.StatusRequestEntityTooLarge, code: CodePayloadTooLarge, msg: fmt.Sprintf("Webhook payload exceeds %d bytes", r.maxBody)}
		}
		return nil, &rejection{status: http.StatusBadRequest, code: CodeInvalidPayload, msg: "Could not read the request body", detail: err}
	}

	now := r.now()
	verifier, err := verify.New(src.Verify, src.Secrets(now), verify.Options{Tolerance: r.tolerance})
	if err != nil && len(src.Secrets(now)) > 1 {
		// A rotated-out secret that no longer suits the mode must not stop
		// the current one from verifying.
		verifier, err = verify.New(src.Verify, src.Secrets(now)[:1], verify.Options{Tolerance: r.tolerance})
	}
	if err != nil {
		return nil, internalError(fmt.Errorf("source %s: %w", src.Name, err))
	}
	vres, err := verifier.Verify(verify.Request{Header: req.Header, Query: req.URL.Query(), Body: body, RemoteAddr: req.RemoteAddr, Now: now})
	if err != nil {
		return nil, verifyRejection(err)
	}

	parsed, err := payload.Parse(src.Format, body)
	if err != nil {
		return nil, &rejection{status: http.StatusBadRequest, code: CodeInvalidPayload, msg: "Webhook payload is invalid: " + trimInvalid(err), detail: err}
	}
	if len(parsed.Events) == 0 {
		return nil, &rejection{status: http.StatusBadRequest, code: CodeInvalidPayload, msg: "Webhook payload holds no events"}
	}
	d := &store.Delivery{
		Source: src.Name, ReceivedAt: now, Verification: src.Verify, Format: parsed.Format,
		RequestID: reqID, ReplayKey: replayKey(src.Name, src.Verify, vres, req), Payload: body,
		Triage: triageRequest(src),
	}
	payload.ApplySeverityMapping(parsed.Events, src.SeverityMapping)
	for _, ev := range parsed.Events {
		norm, err := json.Marshal(ev)
		if err != nil {
			return nil, internalError(err)
		}
		sev := string(ev.Severity)
		if ev.Action != payload.ActionCreate && ev.VendorSeverity == "" {
			sev = "" // an update that says nothing of severity keeps the incident's
		}
		d.Items = append(d.Items, store.DeliveryItem{
			Type: ev.Type, Title: ev.Title, Severity: sev, Category: ev.Category,
			CorrelationKey: ev.CorrelationKey, Normalized: norm,
		})
	}
	// The sender's disconnect must not abort a commit half way: the
	// transaction either finishes or rolls back on its own terms.
	res, err := r.store.Ingest(context.WithoutCancel(ctx), d)
	if errors.Is(err, store.ErrReplayed) {
		return nil, &rejection{status: http.StatusConflict, code: CodeReplayed, msg: "Webhook delivery was already received (same signature within the replay window)"}
	}
	if err != nil {
		return nil, internalError(err)
	}
	if parsed.Warning != "" {
		r.log.Warn(parsed.Warning, "component", logs.ComponentWebhook, "request_id", reqID, "source", src.Name)
	}
	out := &AcceptedResponse{Status: "accepted", IncidentID: res.Incidents[0].ID, IncidentNumber: res.Incidents[0].Number, Queued: queued(res)}
	if len(res.Incidents) > 1 {
		for _, inc := range res.Incidents {
			out.Incidents = append(out.Incidents, IncidentRef{IncidentID: inc.ID, IncidentNumber: inc.Number})
		}
	}
	return out, nil
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

// replayKey is what must not be accepted twice within the window: the
// signature header for signing schemes (a MAC over a timestamp, so a new
// delivery always differs), else the scheme's delivery id. Token schemes
// without an id sign nothing and have no replay key.
func replayKey(source, mode string, vres verify.Result, req *http.Request) string {
	var k string
	switch mode {
	case verify.ModeHMAC:
		k = req.Header.Get(signature.SignatureHeader)
	case verify.ModeStandardWebhooks, verify.ModeGitHub, verify.ModeSlack:
		k = vres.DeliveryID
		if k == "" {
			k = req.Header.Get(verify.SlackSignatureHeader) + req.Header.Get(verify.GitHubSignatureHeader)
		}
	default:
		k = vres.DeliveryID
	}
	if k == "" {
		return ""
	}
	return source + "\x00" + mode + "\x00" + k
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
