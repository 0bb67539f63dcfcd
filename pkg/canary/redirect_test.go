package canary_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tw-cli/tw-cli/internal/noredirect"
	"github.com/tw-cli/tw-cli/internal/noredirect/noredirecttest"
	"github.com/tw-cli/tw-cli/pkg/canary"
)

// A console that redirects elsewhere gets one refused request: the auth
// token (in the query of a GET, the form of a POST) never reaches the
// target, and a refusal is not retried.
func TestRedirectsAreRefusedNotRetried(t *testing.T) {
	api := noredirecttest.New(t)
	c, err := canary.New(api.URL+"/api/v1", "CANTOKEN", canary.WithRetries(3, time.Millisecond, 2*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WebhooksEnabled(context.Background(), "flock:default"); !isRedirect(err) {
		t.Fatalf("GET: err = %v, want a refused redirect", err)
	}
	if err := c.AddGenericWebhook(context.Background(), "flock:default", "https://hooks.example.com/x", nil); !isRedirect(err) {
		t.Fatalf("POST: err = %v, want a refused redirect", err)
	}
	if api.Reached() != 0 || api.Asked() != 2 {
		t.Errorf("target reached %d times, console asked %d times; want 0 and 2", api.Reached(), api.Asked())
	}
}

func isRedirect(err error) bool {
	var re *noredirect.Error
	return errors.As(err, &re)
}
