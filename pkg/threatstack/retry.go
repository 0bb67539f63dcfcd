package threatstack

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// retryDelay reads how long the server wants us to wait before the next
// attempt: Retry-After (seconds or an HTTP date) first, then Threat Stack's
// x-rate-limit-reset, which counts milliseconds until the limit resets.
// It returns 0 when neither header gives a usable value.
func retryDelay(h http.Header, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if secs, err := strconv.ParseInt(v, 10, 64); err == nil && secs > 0 {
			return time.Duration(secs) * time.Second
		}
		if t, err := http.ParseTime(v); err == nil {
			if d := t.Sub(now); d > 0 {
				return d
			}
		}
	}
	return resetDelay(h)
}

// resetDelay reads x-rate-limit-reset, milliseconds until the limit resets;
// 0 when absent or unusable. Absurd values saturate instead of overflowing,
// and are capped by the caller.
func resetDelay(h http.Header) time.Duration {
	ms, err := strconv.ParseInt(strings.TrimSpace(h.Get("X-Rate-Limit-Reset")), 10, 64)
	if err != nil || ms <= 0 {
		return 0
	}
	return time.Duration(min(ms, math.MaxInt64/int64(time.Millisecond))) * time.Millisecond
}

// rateLimitPause is how long to hold the next request after an answer that
// says no request is left in the window (x-rate-limit-remaining: 0): until
// x-rate-limit-reset, at most maxWait. It is 0 when requests remain or the
// server did not say when the window resets.
func rateLimitPause(h http.Header, maxWait time.Duration) time.Duration {
	remaining, err := strconv.ParseInt(strings.TrimSpace(h.Get("X-Rate-Limit-Remaining")), 10, 64)
	if err != nil || remaining > 0 {
		return 0
	}
	return min(resetDelay(h), maxWait)
}
