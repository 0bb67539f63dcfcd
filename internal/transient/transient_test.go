package transient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
)

// A certificate that does not verify fails the same way on every attempt:
// retrying it cost the Canary client a second and ended in "the console
// did not answer". A refused connection may not.
func TestError(t *testing.T) {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	_, certErr := http.Get(srv.URL) // the default client does not trust it
	if certErr == nil {
		t.Fatal("an untrusted certificate was accepted")
	}
	for name, c := range map[string]struct {
		err  error
		want bool
	}{
		"untrusted certificate":  {certErr, false},
		"hostname mismatch":      {fmt.Errorf("x: %w", x509.HostnameError{Host: "a"}), false},
		"verification error":     {&tls.CertificateVerificationError{Err: errors.New("x")}, false},
		"cancelled":              {fmt.Errorf("x: %w", context.Canceled), false},
		"unknown scheme":         {errors.New(`unsupported protocol scheme "ftp"`), false},
		"refused connection":     {fmt.Errorf("dial: %w", syscall.ECONNREFUSED), true},
		"one attempt timing out": {fmt.Errorf("x: %w", context.DeadlineExceeded), true},
	} {
		if got := Error(c.err); got != c.want {
			t.Errorf("%s: Error(%v) = %v, want %v", name, c.err, got, c.want)
		}
	}
}
