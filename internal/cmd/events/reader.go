package events

import (
	"context"
	"fmt"
	"net/url"

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

func readerFor(f *cmdutil.Factory) func() (reader, error) {
	return cmdutil.LocalOrRemote(f,
		func(s store.Store) reader { return s },
		func(r *sources.Remote) reader { return remoteReader{r} })
}

type remoteReader struct{ r *sources.Remote }

func (r remoteReader) ListEvents(ctx context.Context, f store.EventFilter) ([]store.Event, error) {
	q := url.Values{}
	if f.Source != "" {
		q.Set("source", f.Source)
	}
	var out struct {
		Events []receiver.EventView `json:"events"`
	}
	if err := cmdutil.RemoteList(ctx, r.r, "/api/events", q, f.Limit, f.Since, &out); err != nil {
		return nil, err
	}
	if out.Events == nil {
		return nil, cmdutil.ReceiverError(sources.MissingList("/api/events", "events"))
	}
	evs := make([]store.Event, len(out.Events))
	for i, v := range out.Events {
		evs[i] = fromView(v)
	}
	return evs, nil
}

func (r remoteReader) GetEvent(ctx context.Context, id string) (*store.Event, error) {
	var v receiver.EventDetailView
	if err := cmdutil.RemoteItem(ctx, r.r, "/api/events", id, "event not found", &v); err != nil {
		return nil, err
	}
	if v.ID == "" {
		return nil, fmt.Errorf("the receiver at %s answered without an event: check --server", r.r.DisplayURL())
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
