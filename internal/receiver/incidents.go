package receiver

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/tw-cli/tw-cli/internal/logs"
	"github.com/tw-cli/tw-cli/internal/store"
)

// tokenNameKey carries the admin token's name from the auth check to the
// handlers that sign a timeline entry with it.
type tokenNameKey struct{}

// IncidentEdit is the body of the incident edit endpoints: the new
// status, owner or comment text, and who asks (the CLI sends its user).
type IncidentEdit struct {
	Status string  `json:"status,omitempty"`
	Owner  *string `json:"owner,omitempty"`
	Text   string  `json:"text,omitempty"`
	Actor  string  `json:"actor,omitempty"`
}

// IncidentEdited is their answer: whether anything changed, the timeline
// entry's words, and the incident as GET /api/incidents/{id} shows it.
type IncidentEdited struct {
	Changed  bool                  `json:"changed"`
	Message  string                `json:"message"`
	Incident *store.IncidentDetail `json:"incident"`
}

// MaxCommentBytes bounds a comment: prose, not a file.
const MaxCommentBytes = 64 << 10

func (r *Receiver) handleIncidentStatus(w http.ResponseWriter, req *http.Request) {
	var in IncidentEdit
	if !decodeBody(w, req, &in) {
		return
	}
	if in.Status != store.StatusOpen && in.Status != store.StatusAcknowledged && in.Status != store.StatusResolved {
		writeError(w, http.StatusBadRequest, "invalid_request", `status must be "open" (reopen), "acknowledged" or "resolved"`)
		return
	}
	actor, ok := editActor(w, req, in.Actor)
	if !ok {
		return
	}
	inc, msg, changed, err := store.SetIncidentStatus(req.Context(), r.store, req.PathValue("id"), in.Status, actor, r.now())
	r.writeEdited(w, req, inc, changed, msg, err)
}

func (r *Receiver) handleIncidentOwner(w http.ResponseWriter, req *http.Request) {
	var in IncidentEdit
	if !decodeBody(w, req, &in) {
		return
	}
	if in.Owner == nil {
		writeError(w, http.StatusBadRequest, "invalid_request", `owner is required ("" clears it)`)
		return
	}
	owner := strings.TrimSpace(*in.Owner)
	actor, ok := editActor(w, req, in.Actor)
	if !ok {
		return
	}
	inc, msg, changed, err := store.AssignIncident(req.Context(), r.store, req.PathValue("id"), owner, actor, r.now())
	r.writeEdited(w, req, inc, changed, msg, err)
}

func (r *Receiver) handleIncidentComment(w http.ResponseWriter, req *http.Request) {
	var in IncidentEdit
	if !decodeBody(w, req, &in) {
		return
	}
	text := strings.TrimSpace(in.Text)
	switch {
	case text == "":
		writeError(w, http.StatusBadRequest, "invalid_request", "text is required")
		return
	case len(text) > MaxCommentBytes:
		writeError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("comment too long: at most %d KiB", MaxCommentBytes>>10))
		return
	}
	actor, ok := editActor(w, req, in.Actor)
	if !ok {
		return
	}
	inc, err := store.CommentOnIncident(req.Context(), r.store, req.PathValue("id"), text, actor, r.now())
	r.writeEdited(w, req, inc, true, "comment added", err)
}

// editActor signs a remote edit: the user the client names, and the
// token that vouches for it (the name alone is the client's word).
func editActor(w http.ResponseWriter, req *http.Request, claimed string) (string, bool) {
	token, _ := req.Context().Value(tokenNameKey{}).(string)
	claimed = strings.TrimSpace(claimed)
	if !store.ValidName(claimed) {
		writeError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("actor must be printable and at most %d bytes", store.MaxNameLen))
		return "", false
	}
	if claimed == "" {
		return "token:" + token, true
	}
	return claimed + " (token " + token + ")", true
}

func (r *Receiver) writeEdited(w http.ResponseWriter, req *http.Request, inc *store.Incident, changed bool, msg string, err error) {
	var (
		refused *store.EditRefused
		invalid *store.InvalidEdit
	)
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "incident not found")
		return
	case errors.As(err, &invalid):
		writeError(w, http.StatusBadRequest, "invalid_request", invalid.Msg)
		return
	case errors.As(err, &refused):
		writeError(w, http.StatusConflict, "edit_refused", refused.Msg)
		return
	case err != nil:
		r.log.Error("incident edit failed", "component", logs.ComponentAdmin, "path", req.URL.Path, "error", err)
		writeError(w, http.StatusInternalServerError, CodeInternal, "internal error")
		return
	}
	d, err := store.LoadIncidentDetail(req.Context(), r.store, inc)
	if err != nil {
		r.log.Error("incident edit: read back", "component", logs.ComponentAdmin, "error", err)
		writeError(w, http.StatusInternalServerError, CodeInternal, "internal error")
		return
	}
	writeJSON(w, http.StatusOK, IncidentEdited{Changed: changed, Message: msg, Incident: d})
}
