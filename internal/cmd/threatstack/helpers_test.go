package threatstack

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/config"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/pkg/threatstack/threatstacktest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/threatstack")

// testNow is two hours after the fake's data epoch, so relative times in
// terminal tables are stable.
var testNow = threatstacktest.Epoch.Add(2 * time.Hour)

// harness is one command run's world: a fake API, credentials in the
// environment as a user would export them, and buffered streams.
type harness struct {
	t      *testing.T
	srv    *threatstacktest.Server
	ios    *iostreams.IOStreams
	stdin  *bytes.Buffer
	stdout *bytes.Buffer
	stderr *bytes.Buffer
	debug  bool
}

// newHarness points TS_* at srv (nil: no API at all) and isolates the
// config dir. It uses t.Setenv, so tests using it are not parallel.
func newHarness(t *testing.T, srv *threatstacktest.Server) *harness {
	t.Helper()
	t.Setenv("TW_CONFIG_DIR", t.TempDir())
	for _, k := range []string{"TW_THREATSTACK_USER_ID", "TW_THREATSTACK_API_KEY", "TW_THREATSTACK_ORGANIZATION_ID",
		"TW_THREATSTACK_API_URL", "TS_API_ENDPOINT", "TS_ORG_ID"} {
		t.Setenv(k, "")
	}
	t.Setenv("TS_USER_ID", threatstacktest.UserID)
	t.Setenv("TS_API_KEY", threatstacktest.APIKey)
	t.Setenv("TS_ORGANIZATION_ID", threatstacktest.OrganizationID)
	url := "http://127.0.0.1:1"
	if srv != nil {
		url = srv.URL
	}
	t.Setenv("TS_API_URL", url)
	ios, in, out, errOut := iostreams.Test()
	return &harness{t: t, srv: srv, ios: ios, stdin: in, stdout: out, stderr: errOut}
}

func (h *harness) factory() *cmdutil.Factory {
	return &cmdutil.Factory{
		IOStreams: h.ios,
		Version:   "test",
		Now:       func() time.Time { return testNow },
		Config:    func() (*config.Config, error) { return config.Load() },
		Debug:     func() bool { return h.debug },
	}
}

// run executes `threatstack args…` and returns its error, as the root
// command would see it.
func (h *harness) run(args ...string) error {
	h.t.Helper()
	h.stdout.Reset()
	h.stderr.Reset()
	cmd := NewCmdThreatstack(h.factory())
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &cmdutil.FlagError{Err: err} })
	cmd.SetArgs(args)
	cmd.SetOut(h.stderr)
	cmd.SetErr(h.stderr)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return cmd.ExecuteContext(ctx)
}

// must runs a command that has to succeed and returns its stdout.
func (h *harness) must(args ...string) string {
	h.t.Helper()
	if err := h.run(args...); err != nil {
		h.t.Fatalf("%v: %v\nstderr: %s", args, err, h.stderr)
	}
	return h.stdout.String()
}

// exitCode runs a command that has to fail and returns its exit code.
func (h *harness) exitCode(args ...string) int {
	h.t.Helper()
	err := h.run(args...)
	if err == nil {
		h.t.Fatalf("%v succeeded, want a failure\nstdout: %s", args, h.stdout)
	}
	return cmdutil.ExitCode(err)
}

// assertGolden compares got with testdata/threatstack/name, rewriting the
// file under -update.
func assertGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("..", "..", "..", "testdata", "threatstack", name)
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
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it)\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}
