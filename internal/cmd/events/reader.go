package events

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/receiver"
	"github.com/tw-cli/tw-cli/internal/sources"
	"github.com/tw-cli/tw-cli/internal/store"
)

// reader is what `events list` and `show` read: the local store, or with
// --server/TW_SERVER a remote receiver's admin API, which serves the
// same JSON.
type reader interface {
	ListEvents(ctx context.Context, f store.EventFilter) ([]store.Event, error)
	GetEvent(ctx context.Context, id string) (*store.Event, error)
}

// readerFor picks the remote receiver when one is configured, else the
// local store.
func readerFor(f *cmdutil.Factory) func() (reader, error) {
	return func() (reader, error) {
		if f.Remote != nil {
			remote, err := f.Remote()
			if err != nil {
				return nil, err
			}
			if remote != nil {
				return remoteReader{remote}, nil
			}
		}
		s, err := f.Store()
		if err != nil {
			return nil, err
		}
		return s, nil
	}
}

type remoteReader struct{ r *sources.Remote }

func (r remoteReader) ListEvents(ctx context.Context, f store.EventFilter) ([]store.Event, error) {
	q := url.Values{}
	if f.Source != "" {
		q.Set("source", f.Source)
	}
	if f.Limit > sources.MaxListLimit {
		return nil, cmdutil.FlagErrorf("--limit is at most %d with --server (the admin API's page)", sources.MaxListLimit)
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	if !f.Since.IsZero() {
		q.Set("since", f.Since.UTC().Format(time.RFC3339Nano))
	}
	var out struct {
		Events []receiver.EventView `json:"events"`
	}
	if err := fetch(ctx, r.r, "/api/events", q, &out); err != nil {
		return nil, sources.NotFoundAs(err, "", store.ErrNotFound)
	}
	evs := make([]store.Event, len(out.Events))
	for i, v := range out.Events {
		evs[i] = fromView(v)
	}
	return evs, nil
}

func (r remoteReader) GetEvent(ctx context.Context, id string) (*store.Event, error) {
	if id == "." || id == ".." {
		// The server's router would clean them into the list's path.
		return nil, store.ErrNotFound
	}
	var v receiver.EventDetailView
	if err := fetch(ctx, r.r, "/api/events/"+url.PathEscape(id), nil, &v); err != nil {
		return nil, sources.NotFoundAs(err, "event not found", store.ErrNotFound)
	}
	if v.ID == "" {
		return nil, fmt.Errorf("the receiver at %s answered without an event: check --server", r.r.BaseURL)
	}
	ev := fromView(v.EventView)
	if v.RawPayload != nil {
		// The body byte for byte, as `events show` prints it locally.
		ev.Payload = []byte(*v.RawPayload)
	}
	return &ev, nil
}

// fromView is the event a view was made of (receiver.ViewEvent's inverse).
func fromView(v receiver.EventView) store.Event {
	ev := v.Event
	ev.Payload, ev.Normalized = v.Payload, v.Normalized
	return ev
}

// fetch reads from the remote receiver; a refused token exits 3, as it
// does for the webhook commands.
func fetch(ctx context.Context, r *sources.Remote, path string, q url.Values, out any) error {
	err := r.Fetch(ctx, path, q, out)
	if sources.IsUnauthorized(err) {
		return cmdutil.AuthError(err)
	}
	return err
}
