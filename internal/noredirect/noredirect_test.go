package noredirect_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tw-cli/tw-cli/internal/noredirect"
	"github.com/tw-cli/tw-cli/internal/noredirect/noredirecttest"
)

// A 307 from one server to another: the client must not send anything
// to the second, and must say where the first pointed, credentials hidden.
func TestCheckRefusesRedirects(t *testing.T) {
	api := noredirecttest.New(t)
	c := &http.Client{CheckRedirect: noredirect.Check}
	resp, err := c.Post(api.URL+"/next?token=SECRET", "application/json", strings.NewReader(`{"secret":"s"}`))
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		t.Fatal("the redirect was followed")
	}
	var re *noredirect.Error
	if !errors.As(err, &re) || re.Location != api.Target+"/next?token=REDACTED" {
		t.Fatalf("err = %v, want an *Error naming the target without its token", err)
	}
	if api.Reached() != 0 {
		t.Error("the redirect's target was sent the request")
	}
}
