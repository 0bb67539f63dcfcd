package cmdutil

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"time"

	"github.com/tw-cli/tw-cli/internal/sources"
	"github.com/tw-cli/tw-cli/internal/store"
)

// LocalOrRemote opens what a read command reads: the remote receiver's
// admin API when --server/TW_SERVER is set, else the local store.
func LocalOrRemote[T any](f *Factory, local func(store.Store) T, remote func(*sources.Remote) T) func() (T, error) {
	return func() (T, error) {
		var zero T
		if f.Remote != nil {
			r, err := f.Remote()
			if err != nil {
				return zero, err
			}
			if r != nil {
				return remote(r), nil
			}
		}
		s, err := f.Store()
		if err != nil {
			return zero, err
		}
		return local(s), nil
	}
}

// RemoteList reads a page of an admin API list (incidents, events) with
// the filters they share. The API's page is sources.MaxListLimit: more is
// refused rather than cut short without a word.
func RemoteList(ctx context.Context, r *sources.Remote, path string, q url.Values, limit int, since time.Time, out any) error {
	if limit > sources.MaxListLimit {
		return FlagErrorf("--limit is at most %d with --server (the admin API's page)", sources.MaxListLimit)
	}
	if q == nil {
		q = url.Values{}
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if !since.IsZero() {
		q.Set("since", since.UTC().Format(time.RFC3339Nano))
	}
	return sources.NotFoundAs(RemoteFetch(ctx, r, path, q, out), "", store.ErrNotFound)
}

// RemoteItem reads one item (an incident, an event); the API's 404 for it
// is store.ErrNotFound, as a local read's.
func RemoteItem(ctx context.Context, r *sources.Remote, collection, id, notFoundMessage string, out any) error {
	path, ok := sources.ItemPath(collection, id)
	if !ok {
		return store.ErrNotFound
	}
	return sources.NotFoundAs(RemoteFetch(ctx, r, path, nil, out), notFoundMessage, store.ErrNotFound)
}

// RemoteFetch reads from the remote receiver, its errors mapped by
// ReceiverError as they are for the webhook commands.
func RemoteFetch(ctx context.Context, r *sources.Remote, path string, q url.Values, out any) error {
	return ReceiverError(r.Fetch(ctx, path, q, out))
}

// ReceiverError maps a remote receiver's errors onto exit codes: a bad
// --server URL 2, a refused token 3, a receiver (or its proxy) answering
// 5xx 5. Others pass through; callers map 404s, which mean different
// things to different commands.
func ReceiverError(err error) error {
	var urlErr *sources.ServerURLError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &urlErr):
		return &FlagError{Err: err}
	case sources.IsUnauthorized(err):
		return AuthError(err)
	case sources.IsRemoteFailure(err):
		return RemoteError(err)
	}
	return err
}

// IsReceiverError reports whether ReceiverError gives err an exit code of
// its own.
func IsReceiverError(err error) bool {
	return errors.As(err, new(*sources.ServerURLError)) || sources.IsUnauthorized(err) || sources.IsRemoteFailure(err)
}
