// Package noredirecttest serves the redirect the clients' tests refuse:
// an API that answers every request with a 307 to another server.
package noredirecttest

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// Redirector is an API whose every answer redirects to Target.
type Redirector struct {
	// URL is the redirecting API's base URL.
	URL string
	// Target is where it points.
	Target string
	asked  atomic.Int32
	reach  atomic.Int32
}

// Asked is how many requests the redirecting API got.
func (r *Redirector) Asked() int { return int(r.asked.Load()) }

// Reached is how many requests made it to the target: a client that
// refuses redirects sends none.
func (r *Redirector) Reached() int { return int(r.reach.Load()) }

// New starts both servers until the test ends.
func New(t testing.TB) *Redirector {
	r := &Redirector{}
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { r.reach.Add(1) }))
	t.Cleanup(target.Close)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.asked.Add(1)
		http.Redirect(w, req, target.URL+req.URL.RequestURI(), http.StatusTemporaryRedirect)
	}))
	t.Cleanup(srv.Close)
	r.URL, r.Target = srv.URL, target.URL
	return r
}
