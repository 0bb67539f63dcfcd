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
	"time"

	"github.com/google/uuid"

	"github.com/tw-cli/tw-cli/internal/logs"
	"github.com/tw-cli/tw-cli/internal/store"
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
		writeJSON(w, status, resp)
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
	sigHeader, tsHeader := req.Header.Get(signature.SignatureHeader), req.Header.Get(signature.TimestampHeader)
	v := signature.Verifier{Secrets: src.Secrets(now), Tolerance: r.tolerance, Now: func() time.Time { return now }}
	if err := v.Verify(sigHeader, tsHeader, body); err != nil {
		return nil, verifyRejection(err, sigHeader, tsHeader, now)
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
		RequestID: reqID, ReplayKey: src.Name + "\x00" + sigHeader, Payload: body,
	}
	for _, ev := range parsed.Events {
		ev.Severity = payload.MapSeverity(ev.VendorSeverity, src.SeverityMapping, ev.Severity)
		norm, err := json.Marshal(ev)
		if err != nil {
			return nil, internalError(err)
		}
		d.Items = append(d.Items, store.DeliveryItem{
			Type: ev.Type, Title: ev.Title, Severity: string(ev.Severity), Category: ev.Category,
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
	out := &AcceptedResponse{Status: "accepted", IncidentID: res.Incidents[0].ID, IncidentNumber: res.Incidents[0].Number}
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

// verifyRejection maps a verification failure to seed 003's errors.
func verifyRejection(err error, sigHeader, tsHeader string, now time.Time) *rejection {
	if errors.Is(err, signature.ErrExpired) {
		msg := "Webhook timestamp is too old (>5 minutes)"
		if ts, perr := signature.ParseTimestamp(tsHeader); perr == nil && ts.After(now) {
			msg = "Webhook timestamp is too far in the future (>5 minutes)"
		}
		return &rejection{status: http.StatusUnauthorized, code: CodeTimestampExpired, msg: msg, detail: err}
	}
	msg := "Webhook signature verification failed"
	if !errors.Is(err, signature.ErrMismatch) {
		// Say which header is wrong; it reveals nothing about the secret.
		msg += ": " + err.Error()
	}
	return &rejection{status: http.StatusUnauthorized, code: CodeInvalidSignature, msg: msg, detail: err}
}
