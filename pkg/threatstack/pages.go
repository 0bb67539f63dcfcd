package threatstack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// tokenKeys are where list responses put the continuation token; older
// endpoints and docs use paginationToken.
var tokenKeys = []string{"token", "paginationToken"}

// pageToken returns the continuation token of a decoded list body; null,
// "" and an absent key all mean "last page". A numeric token is passed back
// as the number's JSON text: reading it as "no token" would end a listing
// early without a word. A token of any other type is an error for the same
// reason.
func pageToken(obj map[string]json.RawMessage) (string, error) {
	for _, k := range tokenKeys {
		raw := bytes.TrimSpace(obj[k])
		if len(raw) == 0 || string(raw) == "null" {
			continue
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			if s != "" {
				return s, nil
			}
			continue
		}
		var n json.Number
		if json.Unmarshal(raw, &n) == nil {
			return n.String(), nil
		}
		return "", fmt.Errorf("pagination token %q is neither a string nor a number", k)
	}
	return "", nil
}

// decodePage splits a list body into its items (under the first of keys
// present) and its continuation token. A bare JSON array is one final page.
func decodePage(body []byte, keys []string) (items json.RawMessage, token string, err error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		return trimmed, "", nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &obj); err != nil {
		return nil, "", err
	}
	for _, k := range keys {
		if v, ok := obj[k]; ok {
			items = v
			break
		}
	}
	if items == nil && len(keys) > 0 {
		// Read as an empty list, a body of another shape would pass for
		// "nothing there" with exit 0.
		quoted := make([]string, len(keys))
		for i, k := range keys {
			quoted[i] = strconv.Quote(k)
		}
		return nil, "", fmt.Errorf("response has no %s list: the API answered a shape this version does not know", strings.Join(quoted, " or "))
	}
	token, err = pageToken(obj)
	if err != nil {
		return nil, "", err
	}
	return items, token, nil
}

// listPages walks a token-paged list endpoint. It requests the next page
// only when the caller asks for it, so breaking out of the loop stops the
// requests and memory holds one page at a time.
func listPages[T any](ctx context.Context, c *Client, path string, query url.Values, keys ...string) iter.Seq2[[]T, error] {
	return func(yield func([]T, error) bool) {
		q := cloneValues(query)
		seen := map[string]bool{}
		for {
			resp, err := c.do(ctx, http.MethodGet, path, q, nil)
			if err != nil {
				yield(nil, err)
				return
			}
			raw, token, err := decodePage(resp.Body(), keys)
			if err != nil {
				yield(nil, c.decodeError(http.MethodGet, path, fmt.Errorf("decoding page: %w", err)))
				return
			}
			var items []T
			if len(raw) > 0 && string(raw) != "null" {
				if err := json.Unmarshal(raw, &items); err != nil {
					yield(nil, c.decodeError(http.MethodGet, path, fmt.Errorf("decoding items: %w", err)))
					return
				}
			}
			if !yield(items, nil) || token == "" {
				return
			}
			// A server handing back a token it already gave would page
			// forever; stop with an error instead.
			if seen[token] {
				yield(nil, c.decodeError(http.MethodGet, path, errRepeatedToken))
				return
			}
			seen[token] = true
			q.Set("token", token)
		}
	}
}

// RawPages walks any token-paged GET endpoint and yields each page's body
// unchanged, for callers that do not know the resource (the `api
// --paginate` command). A body that is not a JSON object is a single page.
func (c *Client) RawPages(ctx context.Context, path string, query url.Values) iter.Seq2[json.RawMessage, error] {
	return func(yield func(json.RawMessage, error) bool) {
		q := cloneValues(query)
		seen := map[string]bool{}
		for {
			resp, err := c.Do(ctx, http.MethodGet, path, q, nil)
			if err != nil {
				yield(nil, err)
				return
			}
			var obj map[string]json.RawMessage
			token := ""
			if json.Unmarshal(resp.Body, &obj) == nil {
				token, err = pageToken(obj)
			}
			// The page itself is good: hand it over before any token error.
			if !yield(resp.Body, nil) {
				return
			}
			if err != nil {
				yield(nil, c.decodeError(http.MethodGet, path, err))
				return
			}
			if token == "" {
				return
			}
			if seen[token] {
				yield(nil, c.decodeError(http.MethodGet, path, errRepeatedToken))
				return
			}
			seen[token] = true
			q.Set("token", token)
		}
	}
}

// Items flattens an iterator of pages into one of items, still fetching a
// page only when the previous one is used up.
func Items[T any](pages iter.Seq2[[]T, error]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for page, err := range pages {
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, it := range page {
				if !yield(it, nil) {
					return
				}
			}
		}
	}
}

// Collect reads every page into one slice. Use it only when the result is
// known to be small; the iterators exist so large listings need not be.
func Collect[T any](pages iter.Seq2[[]T, error]) ([]T, error) {
	var all []T
	for page, err := range pages {
		if err != nil {
			return all, err
		}
		all = append(all, page...)
	}
	return all, nil
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// record is a resource fetched by id; recordID reports the id the API
// answered with.
type record interface{ recordID() string }

// getRecord fetches one resource into dst and insists that the answer is
// that resource: a 2xx with null, {} or an object without an id (a proxy's
// placeholder, an API change) would otherwise print an empty record and
// exit 0.
func (c *Client) getRecord(ctx context.Context, path, noun string, dst record) error {
	if err := c.getJSON(ctx, path, nil, dst); err != nil {
		return err
	}
	if dst.recordID() == "" {
		return c.decodeError(http.MethodGet, path,
			fmt.Errorf("the response is not %s (no JSON object with an \"id\"): the API answered a shape this version does not know", noun))
	}
	return nil
}

// refuse is a listing that fails before any request is made, for an
// argument that would build a wrong path (an empty id turns
// "/v2/alerts/{id}/events" into "/v2/alerts//events").
func refuse[T any](err error) iter.Seq2[[]T, error] {
	return func(yield func([]T, error) bool) { yield(nil, err) }
}

// getJSON fetches path and decodes the body into dst.
func (c *Client) getJSON(ctx context.Context, path string, query url.Values, dst any) error {
	resp, err := c.do(ctx, http.MethodGet, path, query, nil)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(resp.Body(), dst); err != nil {
		return c.decodeError(http.MethodGet, path, fmt.Errorf("decoding response: %w", err))
	}
	return nil
}

// segment escapes one user-supplied path segment (an id, a CVE, a package
// name) so that it cannot change the path it is placed in.
func segment(s string) string { return url.PathEscape(s) }

// errRepeatedToken is the reason given when a listing's server hands back
// a token it already gave.
var errRepeatedToken = errors.New("the server repeated a pagination token")

// decodeError reports a 2xx answer whose body is not what the API
// documents. Its text passes through the redactor like errorf's.
func (c *Client) decodeError(method, path string, err error) *DecodeError {
	path = c.red.string(path)
	return &DecodeError{Method: method, Path: path, Err: err,
		msg: c.red.string(fmt.Sprintf("threatstack: %s %s: %v", method, path, err))}
}

// errorf builds an error whose text has passed through the redactor: paths
// and decoder messages can hold whatever the caller or the server put there.
func (c *Client) errorf(format string, args ...any) error {
	return errors.New(c.red.string(fmt.Sprintf(format, args...)))
}
