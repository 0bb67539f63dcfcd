package threatstack_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tw-cli/tw-cli/internal/noredirect"
	"github.com/tw-cli/tw-cli/pkg/threatstack"
)

// An API that redirects elsewhere gets one refused request: the HAWK
// header is never replayed at the target, and a refusal is not retried.
func TestRedirectsAreRefusedNotRetried(t *testing.T) {
	var reached, asked atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached.Add(1) }))
	defer target.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		http.Redirect(w, r, target.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	c, err := threatstack.New(fakeCreds, threatstack.WithBaseURL(srv.URL), threatstack.WithRetries(3),
		threatstack.WithRetryWait(time.Millisecond, 2*time.Millisecond), threatstack.WithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetAgent(context.Background(), "a1")
	var re *noredirect.Error
	if !errors.As(err, &re) {
		t.Fatalf("err = %v, want a refused redirect", err)
	}
	if reached.Load() != 0 || asked.Load() != 1 {
		t.Errorf("target reached %d times, API asked %d times; want 0 and 1", reached.Load(), asked.Load())
	}
}
