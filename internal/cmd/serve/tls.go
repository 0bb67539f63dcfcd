package serve

import (
	"context"
	"crypto/tls"
	"fmt"
	stdlog "log"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

// certificate is serve's TLS key pair. Threat Stack and most vendors only
// deliver to https URLs; serving TLS directly spares a proxy in front. It
// is read at start and again on SIGHUP, so a renewed certificate (certbot,
// cert-manager) takes effect without a restart or a dropped connection.
type certificate struct {
	certFile, keyFile string
	log               *slog.Logger
	now               func() time.Time
	current           atomic.Pointer[tls.Certificate]
}

// loadCertificate reads the pair; an unreadable or mismatched pair stops
// the start.
func loadCertificate(certFile, keyFile string, log *slog.Logger, now func() time.Time) (*certificate, error) {
	c := &certificate{certFile: certFile, keyFile: keyFile, log: log, now: now}
	if err := c.load(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *certificate) load() error {
	pair, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("TLS certificate %s with key %s: %w", c.certFile, c.keyFile, err)
	}
	c.current.Store(&pair)
	if st, err := os.Stat(c.keyFile); err == nil && st.Mode().Perm()&0o077 != 0 {
		// As ssh says of a private key: anyone who can read it can be
		// this receiver.
		c.log.Warn("TLS key file is readable by other users: chmod 600 it", "key", c.keyFile, "mode", fmt.Sprintf("%#o", st.Mode().Perm()))
	}
	attrs := []any{"cert", c.certFile}
	if pair.Leaf != nil {
		attrs = append(attrs, "subject", pair.Leaf.Subject.String(), "not_after", pair.Leaf.NotAfter.UTC().Format(time.RFC3339))
		if c.now().After(pair.Leaf.NotAfter) {
			// Served anyway: refusing to start would take deliveries
			// down too, and senders will say what they think of it.
			c.log.Warn("TLS certificate has expired: senders will refuse it", attrs...)
			return nil
		}
	}
	c.log.Info("TLS certificate loaded", attrs...)
	return nil
}

// reload re-reads the pair; a bad one is logged and the previous stays.
func (c *certificate) reload(context.Context) {
	if err := c.load(); err != nil {
		c.log.Error("TLS certificate reload failed; keeping the previous one", "error", err)
	}
}

func (c *certificate) config() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return c.current.Load(), nil
		},
	}
}

// serverErrorLog is net/http's error log, at warn level, except TLS
// handshake errors: a load balancer's TCP health check or a port scan
// makes one per connection, which would bury real warnings.
func serverErrorLog(log *slog.Logger) *stdlog.Logger {
	return stdlog.New(logLineWriter(func(line string) {
		line = strings.TrimSuffix(line, "\n")
		if strings.HasPrefix(line, "http: TLS handshake error") {
			log.Debug(line)
			return
		}
		log.Warn(line)
	}), "", 0)
}

type logLineWriter func(string)

func (w logLineWriter) Write(p []byte) (int, error) {
	w(string(p))
	return len(p), nil
}
