package incidents

import (
	"context"
	"fmt"
	"net/url"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/sources"
	"github.com/tw-cli/tw-cli/internal/store"
)

// reader is what `incidents list` and `show` read: the local store, or
// with --server/TW_SERVER a remote receiver's admin API, which serves the
// same JSON.
type reader interface {
	ListIncidents(ctx context.Context, f store.IncidentFilter) ([]store.Incident, error)
	IncidentDetail(ctx context.Context, id string) (*store.IncidentDetail, error)
}

func readerFor(f *cmdutil.Factory) func() (reader, error) {
	return cmdutil.LocalOrRemote(f,
		func(s store.Store) reader { return localReader{s} },
		func(r *sources.Remote) reader { return remoteReader{r} })
}

type localReader struct{ s store.Store }

func (l localReader) ListIncidents(ctx context.Context, f store.IncidentFilter) ([]store.Incident, error) {
	return l.s.ListIncidents(ctx, f)
}

func (l localReader) IncidentDetail(ctx context.Context, id string) (*store.IncidentDetail, error) {
	return store.GetIncidentDetail(ctx, l.s, id)
}

type remoteReader struct{ r *sources.Remote }

func (r remoteReader) ListIncidents(ctx context.Context, f store.IncidentFilter) ([]store.Incident, error) {
	q := url.Values{}
	for k, v := range map[string]string{"source": f.Source, "status": f.Status, "owner": f.Owner} {
		if v != "" {
			q.Set(k, v)
		}
	}
	var out struct {
		Incidents []store.Incident `json:"incidents"`
	}
	if err := cmdutil.RemoteList(ctx, r.r, "/api/incidents", q, f.Limit, f.Since, &out); err != nil {
		return nil, err
	}
	if out.Incidents == nil {
		return nil, cmdutil.ReceiverError(sources.MissingList("/api/incidents", "incidents"))
	}
	return out.Incidents, nil
}

func (r remoteReader) IncidentDetail(ctx context.Context, id string) (*store.IncidentDetail, error) {
	var d store.IncidentDetail
	if err := cmdutil.RemoteItem(ctx, r.r, "/api/incidents", id, "incident not found", &d); err != nil {
		return nil, err
	}
	if d.ID == "" {
		return nil, fmt.Errorf("the receiver at %s answered without an incident: check --server", r.r.DisplayURL())
	}
	return &d, nil
}
