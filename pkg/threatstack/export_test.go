package threatstack

import (
	"context"
	"time"
)

// WithRetryWaitHook lets the external tests see the wait each retry asks
// for and replace it, instead of sleeping through a Retry-After.
func WithRetryWaitHook(hook func(requested time.Duration) time.Duration) Option {
	return func(s *settings) { s.retryWaitHook = hook }
}

// WithSleep replaces the wait for a spent rate limit to reset, so tests
// see how long the client would hold a request without sleeping it.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(s *settings) { s.sleep = sleep }
}
