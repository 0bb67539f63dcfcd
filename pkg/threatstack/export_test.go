package threatstack

import "time"

// WithRetryWaitHook lets the external tests see the wait each retry asks
// for and replace it, instead of sleeping through a Retry-After.
func WithRetryWaitHook(hook func(requested time.Duration) time.Duration) Option {
	return func(s *settings) { s.retryWaitHook = hook }
}
