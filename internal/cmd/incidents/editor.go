package incidents

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/receiver"
	"github.com/tw-cli/tw-cli/internal/sources"
	"github.com/tw-cli/tw-cli/internal/store"
)

// editor makes an analyst's edit of an incident: in the local store, or
// with --server/TW_SERVER at a remote receiver through its admin API,
// which applies the same rules (store.SetIncidentStatus and friends).
type editor interface {
	SetStatus(ctx context.Context, id, status, actor string) (*receiver.IncidentEdited, error)
	Assign(ctx context.Context, id, owner, actor string) (*receiver.IncidentEdited, error)
	Comment(ctx context.Context, id, text, actor string) (*receiver.IncidentEdited, error)
}

func editorFor(f *cmdutil.Factory) func() (editor, error) {
	return cmdutil.LocalOrRemote(f,
		func(s store.Store) editor { return localEditor{s: s, now: f.Now} },
		func(r *sources.Remote) editor { return remoteEditor{r} })
}

type localEditor struct {
	s   store.Store
	now func() time.Time
}

func (l localEditor) SetStatus(ctx context.Context, id, status, actor string) (*receiver.IncidentEdited, error) {
	inc, msg, changed, err := store.SetIncidentStatus(ctx, l.s, id, status, actor, l.now())
	return l.edited(ctx, inc, changed, msg, err)
}

func (l localEditor) Assign(ctx context.Context, id, owner, actor string) (*receiver.IncidentEdited, error) {
	inc, msg, changed, err := store.AssignIncident(ctx, l.s, id, owner, actor, l.now())
	return l.edited(ctx, inc, changed, msg, err)
}

func (l localEditor) Comment(ctx context.Context, id, text, actor string) (*receiver.IncidentEdited, error) {
	inc, err := store.CommentOnIncident(ctx, l.s, id, text, actor, l.now())
	return l.edited(ctx, inc, true, "", err)
}

func (l localEditor) edited(ctx context.Context, inc *store.Incident, changed bool, msg string, err error) (*receiver.IncidentEdited, error) {
	if err != nil {
		return nil, err
	}
	d, err := store.LoadIncidentDetail(ctx, l.s, inc)
	if err != nil {
		return nil, err
	}
	return &receiver.IncidentEdited{Changed: changed, Message: msg, Incident: d}, nil
}

type remoteEditor struct{ r *sources.Remote }

func (r remoteEditor) SetStatus(ctx context.Context, id, status, actor string) (*receiver.IncidentEdited, error) {
	return r.post(ctx, id, "status", receiver.IncidentEdit{Status: status, Actor: actor})
}

func (r remoteEditor) Assign(ctx context.Context, id, owner, actor string) (*receiver.IncidentEdited, error) {
	return r.post(ctx, id, "owner", receiver.IncidentEdit{Owner: &owner, Actor: actor})
}

func (r remoteEditor) Comment(ctx context.Context, id, text, actor string) (*receiver.IncidentEdited, error) {
	return r.post(ctx, id, "comments", receiver.IncidentEdit{Text: text, Actor: actor})
}

func (r remoteEditor) post(ctx context.Context, id, what string, in receiver.IncidentEdit) (*receiver.IncidentEdited, error) {
	path, ok := sources.ItemPath("/api/incidents", id)
	if !ok {
		return nil, store.ErrNotFound
	}
	var out receiver.IncidentEdited
	err := r.r.Post(ctx, path+"/"+what, in, &out)
	var (
		apiErr  *sources.APIError
		invalid *sources.ValidationError
	)
	switch {
	case cmdutil.IsReceiverError(err):
		return nil, cmdutil.ReceiverError(err)
	case errors.As(err, &apiErr) && apiErr.Code == "edit_refused":
		return nil, &store.EditRefused{Msg: apiErr.Message}
	case errors.As(err, &invalid):
		return nil, &store.InvalidEdit{Msg: invalid.Msg}
	case errors.Is(err, sources.ErrNotFound) && !strings.HasSuffix(err.Error(), "incident not found"):
		// Not the incident: the route. Receivers before remote edits
		// have none, and neither has a --server URL with a wrong path.
		return nil, fmt.Errorf("the receiver at %s has no incident edit endpoint: it may predate them (upgrade it, or run the command on its machine), or --server is not its base URL (without /api)", r.r.DisplayURL())
	case err != nil:
		return nil, sources.NotFoundAs(err, "incident not found", store.ErrNotFound)
	case out.Incident == nil || out.Incident.ID == "":
		return nil, errors.New("the receiver at " + r.r.DisplayURL() + " answered without an incident: check --server")
	}
	return &out, nil
}
