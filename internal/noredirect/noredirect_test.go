package noredirect

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A 307 from one server to another: the client must not send anything
// to the second, and must say where the first pointed.
func TestCheckRefusesRedirects(t *testing.T) {
	reached := false
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached = true }))
	defer target.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/next?token=SECRET", http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	c := &http.Client{CheckRedirect: Check}
	resp, err := c.Post(srv.URL+"/api", "application/json", strings.NewReader(`{"secret":"s"}`))
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		t.Fatal("the redirect was followed")
	}
	var re *Error
	if !errors.As(err, &re) || re.Location != target.URL+"/next?token=REDACTED" {
		t.Fatalf("err = %v, want an *Error naming the target without its token", err)
	}
	if reached {
		t.Error("the redirect's target was sent the request")
	}
}
