package webhook

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/config"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/sources"
	"github.com/tw-cli/tw-cli/internal/store"
	"github.com/tw-cli/tw-cli/internal/store/sqlite"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// t0 is when every test's world starts: 2024-01-15T10:00:00Z, unix 1705312800.
var t0 = time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)

type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

// isolateConfig keeps the developer's config file and TW_* variables out
// of a test.
func isolateConfig(t *testing.T) {
	t.Helper()
	t.Setenv("TW_CONFIG_DIR", t.TempDir())
	for _, k := range []string{"TW_SERVER", "TW_TOKEN", "TW_DATA_DIR", "TW_DATABASE_URL"} {
		t.Setenv(k, "")
	}
}

// testEnv is one command run's world: fake streams, a real SQLite store in
// a temp dir, a fixed clock.
type testEnv struct {
	t      *testing.T
	store  store.Store
	local  *sources.Local
	clock  *clock
	f      *cmdutil.Factory
	ios    *iostreams.IOStreams
	stdin  *bytes.Buffer
	stdout *bytes.Buffer
	stderr *bytes.Buffer
	// sourcesOpened counts calls of f.Sources.
	sourcesOpened int
}

func newEnv(t *testing.T, tty bool) *testEnv {
	t.Helper()
	isolateConfig(t)
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "tw-cli.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ios, stdin, stdout, stderr := iostreams.Test()
	ios.SetStdoutTTY(tty)
	ios.SetStdinTTY(tty)
	ios.SetStderrTTY(tty)
	e := &testEnv{t: t, store: st, clock: &clock{t: t0}, ios: ios, stdin: stdin, stdout: stdout, stderr: stderr}
	e.local = &sources.Local{Store: st, Origin: "cli", Now: e.clock.Now}
	e.f = &cmdutil.Factory{
		IOStreams: ios,
		Now:       e.clock.Now,
		Config:    func() (*config.Config, error) { return config.Load() },
		Store:     func() (store.Store, error) { return st, nil },
		Sources: func() (sources.Service, error) {
			e.sourcesOpened++
			return e.local, nil
		},
		HTTPClient: func() *http.Client { return &http.Client{Timeout: 10 * time.Second} },
	}
	return e
}

// run executes cmd, built on e.f, with args.
func (e *testEnv) run(cmd *cobra.Command, args ...string) error {
	e.t.Helper()
	// As the root command does: errors are printed once, by app.Main.
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	// Never nil: cobra would read the test binary's os.Args instead.
	cmd.SetArgs(append([]string{}, args...))
	cmd.SetIn(e.stdin)
	cmd.SetOut(e.stdout)
	cmd.SetErr(e.stderr)
	return cmd.ExecuteContext(context.Background())
}

// add registers a source directly, as an earlier command would have.
func (e *testEnv) add(spec sources.Spec) {
	e.t.Helper()
	if _, _, err := e.local.Add(context.Background(), spec); err != nil {
		e.t.Fatal(err)
	}
}

func (e *testEnv) stored(name string) *store.Source {
	e.t.Helper()
	src, err := e.store.GetSource(context.Background(), name)
	if err != nil {
		e.t.Fatalf("source %s: %v", name, err)
	}
	return src
}

func (e *testEnv) absent(name string) {
	e.t.Helper()
	if _, err := e.store.GetSource(context.Background(), name); !errors.Is(err, store.ErrNotFound) {
		e.t.Fatalf("source %s: err = %v, want it absent", name, err)
	}
}

// expectOutput compares both streams exactly.
func (e *testEnv) expectOutput(wantStdout, wantStderr string) {
	e.t.Helper()
	if got := e.stdout.String(); got != wantStdout {
		e.t.Errorf("stdout = %q, want %q", got, wantStdout)
	}
	if got := e.stderr.String(); got != wantStderr {
		e.t.Errorf("stderr = %q, want %q", got, wantStderr)
	}
}

// assertGolden compares stdout and stderr with
// testdata/golden/<test name>.golden; -update rewrites the file.
func assertGolden(t *testing.T, stdout, stderr string) {
	t.Helper()
	got := "-- stdout --\n" + stdout + "-- stderr --\n" + stderr
	path := filepath.Join("testdata", "golden", strings.ReplaceAll(t.Name(), "/", "-")+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run 'go test ./internal/cmd/webhook -update' to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}

func (e *testEnv) golden() {
	e.t.Helper()
	assertGolden(e.t, e.stdout.String(), e.stderr.String())
}

// wantExit checks err maps to the exit code and, when msg is set, reads msg.
func wantExit(t *testing.T, err error, code int, msg string) {
	t.Helper()
	if got := cmdutil.ExitCode(err); got != code {
		t.Fatalf("err = %v: exit code %d, want %d", err, got, code)
	}
	if msg != "" && err.Error() != msg {
		t.Errorf("err = %q, want %q", err, msg)
	}
}

// parseFactory is a factory whose dependencies fail the test when built:
// parsing flags must not open the store or read the config.
func parseFactory(t *testing.T, tty bool) *cmdutil.Factory {
	ios, _, _, _ := iostreams.Test()
	ios.SetStdoutTTY(tty)
	ios.SetStdinTTY(tty)
	fail := func(what string) error {
		t.Errorf("flag parsing built the %s", what)
		return errors.New(what + " not available")
	}
	return &cmdutil.Factory{
		IOStreams:  ios,
		Now:        func() time.Time { return t0 },
		Config:     func() (*config.Config, error) { return nil, fail("config") },
		Store:      func() (store.Store, error) { return nil, fail("store") },
		Sources:    func() (sources.Service, error) { return nil, fail("sources") },
		HTTPClient: func() *http.Client { _ = fail("HTTP client"); return nil },
	}
}

// parse runs a command with a runF that captures its options.
func parse[O any](t *testing.T, newCmd func(*cmdutil.Factory, func(*O) error) *cobra.Command, tty bool, args ...string) (*O, error) {
	t.Helper()
	var got *O
	cmd := newCmd(parseFactory(t, tty), func(o *O) error {
		got = o
		return nil
	})
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	cmd.SetArgs(append([]string{}, args...))
	cmd.SetIn(&bytes.Buffer{})
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	_, err := cmd.ExecuteC()
	if err == nil && got == nil {
		t.Fatal("runF was not called")
	}
	if err != nil && got != nil {
		t.Fatalf("runF was called although parsing failed: %v", err)
	}
	return got, err
}

// opensslHMAC is the seed's recipe, `printf '%s' "$ts.$body" | openssl dgst
// -sha256 -hmac "$secret"`, returning the hex digest.
func opensslHMAC(t *testing.T, secret, signed string) string {
	t.Helper()
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl is not installed")
	}
	cmd := exec.Command(bin, "dgst", "-sha256", "-hmac", secret)
	cmd.Stdin = strings.NewReader(signed)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("openssl: %v", err)
	}
	// "SHA2-256(stdin)= <hex>" (3.x) or "(stdin)= <hex>" (1.x)
	_, hex, ok := strings.Cut(strings.TrimSpace(string(out)), "= ")
	if !ok || len(hex) != 64 {
		t.Fatalf("unexpected openssl output %q", out)
	}
	return hex
}
