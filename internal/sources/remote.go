package sources

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tw-cli/tw-cli/internal/noredirect"
	"github.com/tw-cli/tw-cli/internal/redact"
)

// CreatedView is the admin API's answer to a create or a rotation: the
// masked source, plus the secret only when the server generated it.
type CreatedView struct {
	View
	GeneratedSecret string `json:"generated_secret,omitempty"`
}

// ListResponse is the body of GET /api/webhooks.
type ListResponse struct {
	Webhooks []View `json:"webhooks"`
}

// RotateRequest is the body of POST /api/webhooks/:source/rotate-secret.
type RotateRequest struct {
	Secret       string `json:"secret,omitempty"`
	GraceSeconds *int64 `json:"grace_seconds,omitempty"`
}

// APIError is the receiver's error body, {"error":{"code","message"}}.
type APIError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *APIError) Error() string { return e.Message }

// Remote manages sources on a tw-cli receiver through its admin API.
type Remote struct {
	BaseURL string
	Token   string
	Client  *http.Client
}

// DisplayURL is BaseURL as messages show it: a password or token in it
// hidden.
func (r *Remote) DisplayURL() string { return redact.CredentialsString(r.BaseURL) }

// Add implements Service.
func (r *Remote) Add(ctx context.Context, spec Spec) (View, string, error) {
	var out CreatedView
	err := r.do(ctx, http.MethodPost, "/api/webhooks", spec, &out)
	return out.View, out.GeneratedSecret, err
}

// List implements Service.
func (r *Remote) List(ctx context.Context) ([]View, error) {
	var out ListResponse
	if err := r.do(ctx, http.MethodGet, "/api/webhooks", nil, &out); err != nil {
		return nil, err
	}
	if out.Webhooks == nil {
		return nil, MissingList("/api/webhooks", "webhooks")
	}
	return out.Webhooks, nil
}

// ItemPath is the admin API path of one item of collection
// ("/api/incidents"), its id escaped. ok is false for "", "." and "..": no
// item is named so (ValidateName refuses them for sources), and the
// server's router would take them for another endpoint (the collection,
// its parent), so the caller answers "not found" as a local read would.
func ItemPath(collection, id string) (path string, ok bool) {
	if strings.TrimSpace(id) == "" || id == "." || id == ".." {
		return "", false
	}
	return collection + "/" + url.PathEscape(id), true
}

// sourcePath is a source's admin API path (ItemPath).
func sourcePath(name string) (string, error) {
	path, ok := ItemPath("/api/webhooks", name)
	if !ok {
		return "", NotFoundError(name)
	}
	return path, nil
}

// Get implements Service.
func (r *Remote) Get(ctx context.Context, name string) (View, error) {
	var out View
	path, err := sourcePath(name)
	if err == nil {
		err = r.do(ctx, http.MethodGet, path, nil, &out)
	}
	return out, err
}

// Update implements Service.
func (r *Remote) Update(ctx context.Context, name string, p Patch) (View, error) {
	var out View
	path, err := sourcePath(name)
	if err == nil {
		err = r.do(ctx, http.MethodPatch, path, p, &out)
	}
	return out, err
}

// Remove implements Service.
func (r *Remote) Remove(ctx context.Context, name string) error {
	path, err := sourcePath(name)
	if err != nil {
		return err
	}
	return r.do(ctx, http.MethodDelete, path, nil, nil)
}

// RotateSecret implements Service.
func (r *Remote) RotateSecret(ctx context.Context, name, secret string, grace time.Duration) (View, string, error) {
	path, err := sourcePath(name)
	if err != nil {
		return View{}, "", err
	}
	secs := int64(grace / time.Second)
	var out CreatedView
	err = r.do(ctx, http.MethodPost, path+"/rotate-secret", RotateRequest{Secret: secret, GraceSeconds: &secs}, &out)
	return out.View, out.GeneratedSecret, err
}

// Fetch reads another admin API resource (incidents, events) into out; a
// 404 is ErrNotFound, a refused token IsUnauthorized.
func (r *Remote) Fetch(ctx context.Context, path string, query url.Values, out any) error {
	if len(query) > 0 {
		path += "?" + query.Encode()
	}
	return r.do(ctx, http.MethodGet, path, nil, out)
}

// redirected is a refused redirect told in the receiver's terms; it
// still is the *noredirect.Error underneath.
type redirected struct {
	refused *noredirect.Error
	msg     string
}

func (e *redirected) Error() string { return e.msg }
func (e *redirected) Unwrap() error { return e.refused }

// baseOf is the base URL a redirect to location points at: the location
// less the API path asked for (a proxy may serve the receiver under a
// prefix), or else its scheme and host.
func baseOf(location, asked string) string {
	u, err := url.Parse(location)
	if err != nil || u.Host == "" {
		return location
	}
	asked, _, _ = strings.Cut(asked, "?")
	prefix := ""
	if p, ok := strings.CutSuffix(u.Path, asked); ok {
		prefix = p
	}
	return u.Scheme + "://" + u.Host + prefix
}

// Post sends in as JSON to path on the remote receiver and decodes the
// answer into out.
func (r *Remote) Post(ctx context.Context, path string, in, out any) error {
	return r.do(ctx, http.MethodPost, path, in, out)
}

// maxResponseBytes bounds what the client reads of an answer. Listed
// events carry their payloads (up to the receiver's 1 MiB body limit
// each), and the default listing of 30 must fit.
const maxResponseBytes = 64 << 20

func (r *Remote) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	if !validBaseURL(r.BaseURL) {
		// Checked before anything is sent: Go's "unsupported protocol
		// scheme" read like a network failure, not a mistyped flag.
		return &ServerURLError{URL: r.DisplayURL()}
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(r.BaseURL, "/")+path, body)
	if err != nil {
		// The parse error quotes pieces of the URL, a password's too.
		return &ServerURLError{URL: r.DisplayURL()}
	}
	req.Header.Set("Authorization", "Bearer "+r.Token)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := r.Client.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		var redirect *noredirect.Error
		if errors.As(err, &redirect) {
			// It answered, elsewhere: the address to try is the base.
			return &redirected{refused: redirect, msg: fmt.Sprintf("the receiver at %s redirected to %s: not following it with the token; if %s is the receiver, use it as --server",
				r.DisplayURL(), redirect.Location, baseOf(redirect.Location, path))}
		}
		return fmt.Errorf("cannot reach the receiver at %s: %w (check --server/TW_SERVER)", r.DisplayURL(), err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return err
	}
	if len(data) > maxResponseBytes {
		// Cut, it would only fail to parse ("unexpected end of JSON").
		return fmt.Errorf("%s %s: the receiver's answer is over %d MiB: ask for less (a lower --limit)", method, path, maxResponseBytes>>20)
	}
	if resp.StatusCode >= 300 {
		return decodeAPIError(resp.StatusCode, data)
	}
	if out == nil || len(data) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &UnreadableAnswerError{Method: method, Path: path, Err: err}
	}
	return nil
}

// UnreadableAnswerError is a 2xx answer tw-cli cannot read (HTML from a
// proxy, a cut or foreign JSON body): the remote end failed, exit 5.
type UnreadableAnswerError struct {
	Method, Path string
	Err          error
}

func (e *UnreadableAnswerError) Error() string {
	return fmt.Sprintf("%s %s: unexpected response: %v (is --server a tw-cli receiver?)", e.Method, e.Path, e.Err)
}

func (e *UnreadableAnswerError) Unwrap() error { return e.Err }

// MissingList is the error of a listing answered without its list
// ({} or {"incidents":null}): printed as an empty list, it would say
// there is nothing.
func MissingList(path, field string) error {
	return &UnreadableAnswerError{Method: http.MethodGet, Path: path, Err: fmt.Errorf("no %q list in the answer", field)}
}

// ServerURLError is a --server/TW_SERVER value that cannot be a
// receiver's base URL; commands report it as a usage error.
type ServerURLError struct {
	URL string // as DisplayURL shows it: credentials hidden
}

func (e *ServerURLError) Error() string {
	return fmt.Sprintf("invalid --server %q: give the receiver's base URL, http(s)://host[:port] such as https://receiver.example.com (check --server/TW_SERVER)", e.URL)
}

// validBaseURL reports whether s is an absolute http(s) URL with a host.
func validBaseURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return false
	}
	return strings.EqualFold(u.Scheme, "http") || strings.EqualFold(u.Scheme, "https")
}

// decodeAPIError turns an error response into the errors Local returns, so
// commands behave the same against a local store and a remote receiver.
func decodeAPIError(status int, data []byte) error {
	var body struct {
		Error APIError `json:"error"`
	}
	apiErr := &APIError{Status: status}
	if json.Unmarshal(data, &body) == nil && body.Error.Message != "" {
		*apiErr = body.Error
		apiErr.Status = status
	} else {
		apiErr.Message = fmt.Sprintf("server answered %d %s", status, http.StatusText(status))
	}
	// A tw-cli receiver's message already starts with the sentinel's text
	// (it is Local's error); do not say it twice.
	switch status {
	case http.StatusNotFound:
		return fmt.Errorf("%w: %s", ErrNotFound, strings.TrimPrefix(apiErr.Message, ErrNotFound.Error()+": "))
	case http.StatusConflict:
		if apiErr.Code != "already_exists" && apiErr.Code != "" {
			return apiErr // another conflict, such as an incident edit refused
		}
		return fmt.Errorf("%w: %s", ErrExists, strings.TrimPrefix(apiErr.Message, ErrExists.Error()+": "))
	case http.StatusBadRequest:
		return &ValidationError{Msg: apiErr.Message}
	}
	return apiErr
}

// MaxListLimit is the admin API's largest page of incidents or events.
const MaxListLimit = 1000

// NotFoundAs returns notFound when err is the admin API's 404 for the item
// itself (its message ends with itemMessage, e.g. "incident not found"),
// and for any other 404 (a --server URL with a wrong path prefix) an error
// saying to check --server. Other errors pass through.
func NotFoundAs(err error, itemMessage string, notFound error) error {
	if !errors.Is(err, ErrNotFound) {
		return err
	}
	if itemMessage != "" && strings.HasSuffix(err.Error(), itemMessage) {
		return notFound
	}
	return fmt.Errorf("%s: check --server, the receiver's base URL (without /api)", strings.TrimPrefix(err.Error(), ErrNotFound.Error()+": "))
}

// IsRemoteFailure reports whether err is the receiver (or a proxy in
// front of it) failing: a 5xx or 429 answer, or one tw-cli cannot read,
// not a refusal of the request.
func IsRemoteFailure(err error) bool {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.Status >= 500 || apiErr.Status == http.StatusTooManyRequests
	}
	return errors.As(err, new(*UnreadableAnswerError))
}

// IsUnauthorized reports whether err is the admin API refusing the token.
func IsUnauthorized(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && (apiErr.Status == http.StatusUnauthorized || apiErr.Status == http.StatusForbidden)
}
