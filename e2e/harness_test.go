// Package e2e drives the built tw-cli binary as a user would: a real
// receiver on a loopback port, signatures made by openssl, real files.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tw-cli-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "tw-cli")
	build := exec.Command("go", "build", "-o", binary, "../cmd/tw-cli")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build tw-cli:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// env is one user's machine: its own data and config dirs.
type env struct {
	t       *testing.T
	dataDir string
	cfgDir  string
	extra   []string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return &env{t: t, dataDir: t.TempDir(), cfgDir: t.TempDir()}
}

func (e *env) environ() []string {
	var out []string
	for _, kv := range os.Environ() {
		// The tests must not see the developer's own settings.
		if strings.HasPrefix(kv, "TW_") || strings.HasPrefix(kv, "TS_") || strings.HasPrefix(kv, "CANARY_") {
			continue
		}
		out = append(out, kv)
	}
	out = append(out, "TW_DATA_DIR="+e.dataDir, "TW_CONFIG_DIR="+e.cfgDir, "NO_COLOR=1")
	return append(out, e.extra...)
}

type result struct {
	stdout, stderr string
	code           int
}

func (e *env) run(stdin string, args ...string) result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = e.environ()
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatalf("run %v: %v", args, err)
	}
	if strings.Contains(errb.String(), "panic:") || strings.Contains(errb.String(), "goroutine ") {
		e.t.Fatalf("tw-cli %v panicked:\n%s", args, errb.String())
	}
	return result{stdout: out.String(), stderr: errb.String(), code: code}
}

// must runs a command that has to succeed.
func (e *env) must(args ...string) result {
	e.t.Helper()
	r := e.run("", args...)
	if r.code != 0 {
		e.t.Fatalf("tw-cli %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// expectCode runs a command that has to fail with code.
func (e *env) expectCode(code int, args ...string) result {
	e.t.Helper()
	r := e.run("", args...)
	if r.code != code {
		e.t.Fatalf("tw-cli %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, code, r.stdout, r.stderr)
	}
	return r
}

// server is a running `tw-cli serve`.
type server struct {
	cmd    *exec.Cmd
	url    string
	addr   string
	stderr *bytes.Buffer
	done   chan error
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func (e *env) serve(args ...string) *server {
	e.t.Helper()
	s := e.startServe(args...)
	s.waitReady(e.t)
	return s
}

// startServe starts `tw-cli serve` without waiting for it to be ready, so
// several receivers can start at once.
func (e *env) startServe(args ...string) *server {
	e.t.Helper()
	addr := freeAddr(e.t)
	cmd := exec.Command(binary, append([]string{"serve", "--addr", addr}, args...)...)
	cmd.Env = e.environ()
	s := &server{cmd: cmd, addr: addr, url: "http://" + addr, stderr: &bytes.Buffer{}, done: make(chan error, 1)}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	go func() { s.done <- cmd.Wait() }()
	e.t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-s.done
		}
	})
	return s
}

// waitReady waits until the receiver answers /readyz.
func (s *server) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(s.url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case err := <-s.done:
			t.Fatalf("serve exited early: %v\n%s", err, s.stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("serve not ready on %s:\n%s", s.addr, s.stderr.String())
}

// stop sends sig and waits for the process to exit.
func (s *server) stop(t *testing.T, sig syscall.Signal) error {
	t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop within 30s")
	}
	return nil
}

// opensslSign computes the seed-003 signature with openssl, independently
// of tw-cli's own code.
func opensslSign(t *testing.T, secret, ts, body string) string {
	t.Helper()
	cmd := exec.Command("openssl", "dgst", "-sha256", "-hmac", secret)
	cmd.Stdin = strings.NewReader(ts + "." + body)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("openssl: %v", err)
	}
	s := strings.TrimSpace(string(out))
	if i := strings.LastIndex(s, " "); i >= 0 {
		s = s[i+1:]
	}
	return "sha256=" + s
}

type reply struct {
	status int
	raw    string
	body   map[string]any
}

func post(t *testing.T, url, body string, headers map[string]string) reply {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		// Errorf, not Fatal: senders run in goroutines too (Fatal there
		// would not stop the test). Status 0 fails the caller's check.
		t.Errorf("POST %s: %v", url, err)
		return reply{raw: err.Error()}
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, raw: string(data)}
	_ = json.Unmarshal(data, &r.body)
	return r
}

func signedPost(t *testing.T, s *server, source, secret, body string, at time.Time) reply {
	t.Helper()
	ts := fmt.Sprint(at.Unix())
	return post(t, s.url+"/api/webhooks/"+source, body, map[string]string{
		"X-Webhook-Signature": opensslSign(t, secret, ts, body),
		"X-Webhook-Timestamp": ts,
	})
}

func errCode(r reply) string {
	e, _ := r.body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func decodeJSON[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, s)
	}
	return v
}

// eventually polls cond until it holds or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// incidentDetail is `incidents show -o json`.
func (e *env) incidentDetail(number string) map[string]any {
	e.t.Helper()
	return decodeJSON[map[string]any](e.t, e.must("incidents", "show", number, "-o", "json").stdout)
}

// triageDone reports whether an incident's first triage job finished.
func (e *env) triageDone(number string) bool {
	jobs, _ := e.incidentDetail(number)["triage_jobs"].([]any)
	if len(jobs) == 0 {
		return false
	}
	st := jobs[0].(map[string]any)["status"]
	return st == "done" || st == "failed"
}

// stored reports a 202 of either kind seed 003 defines: accepted, or queued
// for a source with auto-triage.
func stored(r reply) bool {
	return r.status == 202 && (r.body["status"] == "accepted" || r.body["status"] == "queued")
}
