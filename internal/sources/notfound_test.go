package sources

import (
	"errors"
	"strings"
	"testing"
)

// NotFoundAs tells the API's 404 for an item from a 404 for the path (a
// --server URL with a wrong prefix).
func TestNotFoundAs(t *testing.T) {
	gone := errors.New("gone")
	item := decodeAPIError(404, []byte(`{"error":{"code":"not_found","message":"incident not found"}}`))
	path := decodeAPIError(404, []byte(`{"error":{"code":"not_found","message":"No such endpoint: the API serves /api/webhooks"}}`))
	if err := NotFoundAs(item, "incident not found", gone); err != gone {
		t.Errorf("the item's 404 = %v", err)
	}
	if err := NotFoundAs(path, "incident not found", gone); err == gone || errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "check --server") {
		t.Errorf("the path's 404 = %v", err)
	}
	if err := NotFoundAs(item, "", gone); err == gone {
		t.Errorf("a list's 404 is never the item's: %v", err)
	}
	other := errors.New("boom")
	if err := NotFoundAs(other, "incident not found", gone); err != other {
		t.Errorf("another error = %v", err)
	}
}
