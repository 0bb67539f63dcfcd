package cmdutil

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tw-cli/tw-cli/internal/sources"
	"github.com/tw-cli/tw-cli/internal/store"
)

// A remote receiver's answers map onto the exit codes DESIGN gives: a
// receiver (or its proxy) failing is 5, not 1.
func TestRemoteFetchExitCodes(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   int
	}{
		{"500", http.StatusInternalServerError, `{"error":{"code":"internal_error","message":"internal error"}}`, ExitRemote},
		{"502 from a proxy", http.StatusBadGateway, "<html>bad gateway</html>", ExitRemote},
		{"503 overloaded", http.StatusServiceUnavailable, `{"error":{"code":"overloaded","message":"overloaded"}}`, ExitRemote},
		{"401", http.StatusUnauthorized, `{"error":{"code":"unauthorized","message":"invalid token"}}`, ExitAuth},
		{"403", http.StatusForbidden, `{"error":{"code":"forbidden","message":"no"}}`, ExitAuth},
		{"409 another conflict", http.StatusConflict, `{"error":{"code":"already_resolved","message":"resolved"}}`, ExitFailure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			r := &sources.Remote{BaseURL: srv.URL, Token: "tw_x", Client: srv.Client()}
			var out any
			err := RemoteFetch(context.Background(), r, "/api/incidents", nil, &out)
			if got := ExitCode(err); got != tt.want {
				t.Errorf("err %v: exit %d, want %d", err, got, tt.want)
			}
		})
	}
}

// A list whose 404 is for the path says to check --server (exit 1); a bad
// --server is a usage error, found before any request.
func TestRemoteListPathAndURL(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":{"code":"not_found","message":"No such endpoint"}}`))
	}))
	defer srv.Close()
	var out any
	r := &sources.Remote{BaseURL: srv.URL + "/some/path", Token: "tw_x", Client: srv.Client()}
	err := RemoteList(context.Background(), r, "/api/incidents", nil, 0, time.Time{}, &out)
	if ExitCode(err) != ExitFailure || errors.Is(err, store.ErrNotFound) {
		t.Errorf("wrong path: %v (exit %d)", err, ExitCode(err))
	}
	r = &sources.Remote{BaseURL: "notaurl", Token: "tw_x", Client: srv.Client()}
	if err := RemoteList(context.Background(), r, "/api/incidents", nil, 0, time.Time{}, &out); ExitCode(err) != ExitUsage {
		t.Errorf("bad --server: %v (exit %d)", err, ExitCode(err))
	}
}
