// Package transient tells the transport errors a retry may cure from
// those it only delays, for the vendor API clients' retry policies.
package transient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"strings"

	"github.com/tw-cli/tw-cli/internal/noredirect"
)

// Error reports whether a transport error may go away on its own (a
// refused or reset connection, an attempt that timed out) rather than being
// a mistake that retrying only delays: a URL scheme the transport cannot
// speak, a certificate that does not verify, a redirect refused, the
// caller's cancellation. A DeadlineExceeded is one attempt's timeout: the
// clients' retry loops check the caller's own context first.
func Error(err error) bool {
	var (
		unknownCA   x509.UnknownAuthorityError
		invalidCert x509.CertificateInvalidError
		hostname    x509.HostnameError
		verifyErr   *tls.CertificateVerificationError
		redirect    *noredirect.Error
	)
	switch {
	case errors.Is(err, context.Canceled), errors.As(err, &redirect),
		errors.As(err, &unknownCA), errors.As(err, &invalidCert), errors.As(err, &hostname), errors.As(err, &verifyErr):
		return false
	}
	// net/http reports an unknown scheme only as text.
	return !strings.Contains(err.Error(), "unsupported protocol scheme")
}
