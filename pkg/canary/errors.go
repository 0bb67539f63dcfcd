package canary

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Sentinels an *APIError matches with errors.Is.
var (
	// ErrAuth: the console rejected the auth token (HTTP 401/403, or an
	// error message about the auth_token such as "Invalid auth_token").
	ErrAuth = errors.New("canary: authentication failed")
	// ErrNotFound: the console answered 404.
	ErrNotFound = errors.New("canary: not found")
)

// APIError is a response the console gave but that is not a success: a
// non-2xx status, or "result": "error" with a message.
type APIError struct {
	Method     string // GET or POST
	Endpoint   string // path below /api/v1/, e.g. flock/settings/webhooks/generic/add
	StatusCode int    // HTTP status; 2xx when the body said "result": "error"
	Message    string // the console's message, token redacted
	// Body is the response body, token redacted: what a CI job printing the
	// console's answer wants to see.
	Body []byte
}

func (e *APIError) Error() string {
	msg := e.Message
	if e.StatusCode >= 200 && e.StatusCode <= 299 {
		if msg == "" {
			// Its HTTP status says OK: no words to borrow from it.
			msg = "the console reported an error without a message"
		}
		return fmt.Sprintf("canary: %s %s: %s", e.Method, e.Endpoint, msg)
	}
	if msg == "" {
		msg = http.StatusText(e.StatusCode)
	}
	return fmt.Sprintf("canary: %s %s: %s (HTTP %d)", e.Method, e.Endpoint, msg, e.StatusCode)
}

// Is matches ErrAuth for authentication failures and ErrNotFound for 404s.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrAuth:
		return e.IsAuth()
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	}
	return false
}

// IsAuth reports whether the console rejected the credentials. The console
// says so in the message ("Invalid auth_token") and not always in the status.
func (e *APIError) IsAuth() bool {
	if e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden {
		return true
	}
	return strings.Contains(strings.ToLower(e.Message), "auth_token")
}

// RequestError is a call that got no response: DNS, connection, TLS or a
// timeout. Unwrap reaches the transport error (token redacted), so
// errors.Is(err, context.DeadlineExceeded) and net.Error work.
type RequestError struct {
	Method   string
	Endpoint string
	Err      error
}

func (e *RequestError) Error() string {
	return fmt.Sprintf("canary: %s %s: %v", e.Method, e.Endpoint, e.Err)
}

func (e *RequestError) Unwrap() error { return e.Err }

// Timeout reports whether the call ran out of time.
func (e *RequestError) Timeout() bool {
	var t interface{ Timeout() bool }
	return errors.As(e.Err, &t) && t.Timeout()
}
