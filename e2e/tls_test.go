package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// writeCert writes a self-signed certificate for 127.0.0.1 and its key as
// PEM files and returns the certificate, for a client to trust.
func writeCert(t *testing.T, certPath, keyPath, cn string) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// trusting is a client that trusts only cert.
func trusting(cert *x509.Certificate) *http.Client {
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
}

// TestServeTLS: with --tls-cert/--tls-key the receiver takes signed
// deliveries over https only, and SIGHUP swaps in a renewed certificate.
func TestServeTLS(t *testing.T) {
	e := newEnv(t)
	e.must("webhook", "add", "edr", "--secret", "edr-secret")
	dir := t.TempDir()
	certPath, keyPath := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	first := writeCert(t, certPath, keyPath, "first")

	e.expectCode(2, "serve", "--tls-cert", certPath) // no key
	bad := e.expectCode(1, "serve", "--addr", freeAddr(t), "--tls-cert", certPath, "--tls-key", certPath)
	if !strings.Contains(bad.stderr, "TLS certificate "+certPath+" with key "+certPath) {
		t.Fatalf("a key file holding no key: %s", bad.stderr)
	}

	srv := e.startServe("--quiet", "--tls-cert", certPath, "--tls-key", keyPath)
	url := "https://" + srv.addr
	deliver := func(c *http.Client, body string) (*http.Response, error) {
		ts := fmt.Sprint(time.Now().Unix())
		req, _ := http.NewRequest(http.MethodPost, url+"/api/webhooks/edr", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Webhook-Signature", opensslSign(t, "edr-secret", ts, body))
		req.Header.Set("X-Webhook-Timestamp", ts)
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return resp, err
	}
	eventually(t, 15*time.Second, "serve answering https", func() bool {
		resp, err := trusting(first).Get(url + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	if resp, err := deliver(trusting(first), `{"event_type":"over-tls","data":{"n":1}}`); err != nil || resp.StatusCode != 202 {
		t.Fatalf("signed delivery over https: %v, %v", resp, err)
	}
	if resp, err := trusting(first).Get(url + "/readyz"); err != nil || resp.ProtoMajor != 2 {
		t.Fatalf("https is not offered HTTP/2: %v, %v", resp, err)
	}
	// Plain http to the TLS port is refused, not served.
	resp, err := http.Get("http://" + srv.addr + "/readyz")
	if err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("plain http to the https port: %v, %v", resp, err)
	}
	resp.Body.Close()
	// The CLI's own client reaches it with the system's trust store.
	if r := e.run("", "webhook", "test", "edr", "--url", url); r.code == 0 {
		t.Fatalf("webhook test trusted an unknown self-signed certificate: %s", r.stdout)
	}
	e.extra = append(e.extra, "SSL_CERT_FILE="+certPath)
	if r := e.must("webhook", "test", "edr", "--url", url); !strings.Contains(r.stdout+r.stderr, "202") {
		t.Fatalf("webhook test over https: %s %s", r.stdout, r.stderr)
	}

	// A renewed pair applies on SIGHUP; a broken one is logged and the
	// current pair stays.
	second := writeCert(t, certPath, keyPath, "second")
	// A key others can read is served, with a warning to chmod it.
	if err := os.Chmod(keyPath, 0o644); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(e.must("logs", "--filter", "server").stdout, "readable by other users") {
		t.Fatal("warned about a 0600 key")
	}
	if err := srv.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "the renewed certificate served", func() bool {
		_, err := deliver(trusting(second), `{"event_type":"renewed","data":{"n":2}}`)
		return err == nil
	})
	if _, err := deliver(trusting(first), `{"event_type":"old-cert","data":{"n":3}}`); err == nil {
		t.Fatal("the replaced certificate is still served")
	}
	eventually(t, 5*time.Second, "the key's mode warned about", func() bool {
		return strings.Contains(e.must("logs", "--filter", "server").stdout, "TLS key file is readable by other users")
	})
	if err := os.WriteFile(keyPath, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := srv.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "the failed reload logged", func() bool {
		return strings.Contains(e.must("logs", "--filter", "server").stdout, "TLS certificate reload failed")
	})
	if resp, err := deliver(trusting(second), `{"event_type":"kept","data":{"n":4}}`); err != nil || resp.StatusCode != 202 {
		t.Fatalf("after a failed reload: %v, %v", resp, err)
	}
	if err := srv.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("serve: %v\n%s", err, srv.stderr)
	}
}
