package threatstack_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tw-cli/tw-cli/internal/noredirect"
	"github.com/tw-cli/tw-cli/internal/noredirect/noredirecttest"
	"github.com/tw-cli/tw-cli/pkg/threatstack"
)

// An API that redirects elsewhere gets one refused request: the HAWK
// header is never replayed at the target, and a refusal is not retried.
func TestRedirectsAreRefusedNotRetried(t *testing.T) {
	api := noredirecttest.New(t)
	c, err := threatstack.New(fakeCreds, threatstack.WithBaseURL(api.URL), threatstack.WithRetries(3),
		threatstack.WithRetryWait(time.Millisecond, 2*time.Millisecond), threatstack.WithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetAgent(context.Background(), "a1")
	var re *noredirect.Error
	if !errors.As(err, &re) {
		t.Fatalf("err = %v, want a refused redirect", err)
	}
	if api.Reached() != 0 || api.Asked() != 1 {
		t.Errorf("target reached %d times, API asked %d times; want 0 and 1", api.Reached(), api.Asked())
	}
}
