package threatstack

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Sentinels to test errors against with errors.Is.
var (
	// ErrAuth matches every authentication failure: a 401 or 403 from the
	// API, missing credentials and a response whose Server-Authorization
	// does not verify.
	ErrAuth = errors.New("threatstack: authentication failed")
	// ErrNotFound matches a 404 from the API.
	ErrNotFound = errors.New("threatstack: not found")
)

// APIError is a non-2xx answer from the API. Messages holds the strings of
// the API's {"errors": [...]} body.
type APIError struct {
	StatusCode int
	Method     string
	// Path is the request path with its query string, as sent.
	Path     string
	Messages []string
	// Body is the raw response body, for callers (like `api`) that show it.
	Body []byte
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "threatstack: %s %s: %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	if len(e.Messages) > 0 {
		b.WriteString(": ")
		b.WriteString(strings.Join(e.Messages, "; "))
	}
	return b.String()
}

// Is lets errors.Is(err, ErrAuth) and errors.Is(err, ErrNotFound) classify
// an APIError by status.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrAuth:
		return e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	}
	return false
}

// IsAuthError reports whether err is an authentication failure (see ErrAuth).
func IsAuthError(err error) bool { return errors.Is(err, ErrAuth) }

// IsNotFound reports whether err is a 404 from the API.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// DecodeError is a 2xx answer whose body is not what the API documents:
// HTML from a proxy or login page, JSON of another shape, a record without
// an id, a pagination token that cannot be used. The request succeeded as
// far as HTTP goes, so it is no APIError, yet nothing in the answer can be
// trusted as data; callers treat it as a failure of the remote end.
type DecodeError struct {
	Method string
	// Path is the request path, without the query string.
	Path string
	// Err says what is wrong with the body; it may be a decoder's error
	// (*json.SyntaxError, *json.UnmarshalTypeError).
	Err error

	// msg, set by the client, is the message already passed through its
	// redactor: a decoder's error can quote what the server sent.
	msg string
}

func (e *DecodeError) Error() string {
	if e.msg != "" {
		return e.msg
	}
	return fmt.Sprintf("threatstack: %s %s: %v", e.Method, e.Path, e.Err)
}

// Unwrap returns the decoder's error, for errors.As.
func (e *DecodeError) Unwrap() error { return e.Err }

// MissingCredentialsError names the credential variables that are not set.
type MissingCredentialsError struct {
	Missing []string
}

func (e *MissingCredentialsError) Error() string {
	return fmt.Sprintf("threatstack: missing credentials (%s not set): set %s, %s and %s",
		strings.Join(e.Missing, ", "), EnvUserID, EnvAPIKey, EnvOrganizationID)
}

// Is makes missing credentials an authentication failure.
func (e *MissingCredentialsError) Is(target error) bool { return target == ErrAuth }

// InvalidCredentialsError says a credential holds characters a HAWK header
// cannot carry. Variable is the environment variable of the value
// (TS_USER_ID or TS_ORGANIZATION_ID); the value itself is not repeated.
type InvalidCredentialsError struct {
	Variable string
	Reason   string
}

func (e *InvalidCredentialsError) Error() string {
	return fmt.Sprintf("threatstack: invalid credentials: %s %s, which a HAWK Authorization header cannot carry; "+
		"set it to the value Threat Stack shows, without quotes or extra characters", e.Variable, e.Reason)
}

// Is makes unusable credentials an authentication failure.
func (e *InvalidCredentialsError) Is(target error) bool { return target == ErrAuth }

// ResponseVerificationError is returned when the server sent a
// Server-Authorization header that does not match the response: the answer
// may not come from Threat Stack, so its body is not trusted.
type ResponseVerificationError struct {
	Method, Path string
	Reason       string
}

func (e *ResponseVerificationError) Error() string {
	return fmt.Sprintf("threatstack: %s %s: response signature (Server-Authorization) did not verify: %s",
		e.Method, e.Path, e.Reason)
}

// Is makes a bad response signature an authentication failure.
func (e *ResponseVerificationError) Is(target error) bool { return target == ErrAuth }

// errorMessages extracts the messages of a {"errors": [...]} body. Elements
// that are not strings are kept as compact JSON so nothing the server said
// is lost; a body of another shape yields its first line.
func errorMessages(body []byte) []string {
	var env struct {
		Errors []json.RawMessage `json:"errors"`
	}
	if err := json.Unmarshal(body, &env); err == nil && len(env.Errors) > 0 {
		msgs := make([]string, 0, len(env.Errors))
		for _, raw := range env.Errors {
			var s string
			if json.Unmarshal(raw, &s) == nil {
				msgs = append(msgs, s)
				continue
			}
			msgs = append(msgs, string(raw))
		}
		return msgs
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(body)), "\n")
	const max = 200
	if len(line) > max {
		line = line[:max] + "…"
	}
	if line == "" {
		return nil
	}
	return []string{line}
}
