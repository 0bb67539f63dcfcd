package incidents

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"time"

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
		return localReader{s}, nil
	}
}

type localReader struct{ s store.Store }

func (l localReader) ListIncidents(ctx context.Context, f store.IncidentFilter) ([]store.Incident, error) {
	return l.s.ListIncidents(ctx, f)
}

func (l localReader) IncidentDetail(ctx context.Context, id string) (*store.IncidentDetail, error) {
	inc, err := l.s.GetIncident(ctx, id)
	if err != nil {
		return nil, err
	}
	return store.LoadIncidentDetail(ctx, l.s, inc)
}

type remoteReader struct{ r *sources.Remote }

func (r remoteReader) ListIncidents(ctx context.Context, f store.IncidentFilter) ([]store.Incident, error) {
	q := url.Values{}
	for k, v := range map[string]string{"source": f.Source, "status": f.Status, "owner": f.Owner} {
		if v != "" {
			q.Set(k, v)
		}
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
		Incidents []store.Incident `json:"incidents"`
	}
	if err := fetch(ctx, r.r, "/api/incidents", q, &out); err != nil {
		return nil, sources.NotFoundAs(err, "", store.ErrNotFound)
	}
	return out.Incidents, nil
}

func (r remoteReader) IncidentDetail(ctx context.Context, id string) (*store.IncidentDetail, error) {
	if id == "." || id == ".." {
		// The server's router would clean them into the list's path.
		return nil, store.ErrNotFound
	}
	var d store.IncidentDetail
	if err := fetch(ctx, r.r, "/api/incidents/"+url.PathEscape(id), nil, &d); err != nil {
		return nil, sources.NotFoundAs(err, "incident not found", store.ErrNotFound)
	}
	if d.ID == "" {
		return nil, fmt.Errorf("the receiver at %s answered without an incident: check --server", r.r.BaseURL)
	}
	return &d, nil
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
