// Package noredirect keeps tw-cli's API clients from following redirects.
// Following one replays the request's credentials (a bearer token, a
// Canary auth_token in the query or form, a source secret in a JSON body)
// at an address the user never gave: Go keeps the Authorization header
// when only the port changes, and re-sends a 307's body anywhere.
package noredirect

import (
	"net/http"

	"github.com/tw-cli/tw-cli/internal/redact"
)

// Error is a refused redirect. Location is its target with any
// credentials hidden.
type Error struct{ Location string }

func (e *Error) Error() string {
	return "the server redirected to " + e.Location + ": not following it with credentials; if that address is right, use it instead"
}

// Check is an http.Client CheckRedirect that refuses every redirect with
// an *Error naming its target, so that a user who trusts it can use it.
func Check(req *http.Request, _ []*http.Request) error {
	return &Error{Location: redact.Credentials(req.URL)}
}
