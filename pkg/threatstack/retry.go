package threatstack

import (
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
	if v := strings.TrimSpace(h.Get("X-Rate-Limit-Reset")); v != "" {
		if ms, err := strconv.ParseInt(v, 10, 64); err == nil && ms > 0 {
			return time.Duration(ms) * time.Millisecond
		}
	}
	return 0
}
