package canary

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/config"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/pkg/canary/canarytest"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/canary")

// testToken is what the fake console accepts.
const testToken = "canary-test-token-0123456789"

// goldenDir is the repository's testdata/canary.
var goldenDir = filepath.Join("..", "..", "..", "testdata", "canary")

// isolate points config, home and every Canary variable at nothing, so the
// developer's own settings never leak into a test.
func isolate(t *testing.T) {
	t.Helper()
	t.Setenv("TW_CONFIG_DIR", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	for _, k := range []string{
		"CANARY_DOMAIN", "CANARY_API_DOMAIN", "CANARY_AUTH_TOKEN", "CANARY_API_TOKEN", "CANARY_API_URL", "CANARY_FLOCK",
		"TW_CANARY_DOMAIN", "TW_CANARY_AUTH_TOKEN", "TW_CANARY_API_URL", "TW_CANARY_FLOCK",
	} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
}

type testEnv struct {
	f      *cmdutil.Factory
	ios    *iostreams.IOStreams
	stdin  *bytes.Buffer
	stdout *bytes.Buffer
	stderr *bytes.Buffer
}

// newTestEnv builds a Factory whose config comes from the (isolated)
// environment, as the real one does.
func newTestEnv(t *testing.T, tty bool) *testEnv {
	t.Helper()
	ios, in, out, errOut := iostreams.Test()
	ios.SetStdoutTTY(tty)
	ios.SetStdinTTY(tty)
	ios.SetStderrTTY(tty)
	f := &cmdutil.Factory{
		IOStreams:  ios,
		Config:     func() (*config.Config, error) { return config.Load() },
		HTTPClient: func() *http.Client { return &http.Client{Timeout: 5 * time.Second} },
		Debug:      func() bool { return false },
	}
	return &testEnv{f: f, ios: ios, stdin: in, stdout: out, stderr: errOut}
}

// useConsole points the environment at a fake console.
func useConsole(t *testing.T, console *canarytest.Console) {
	t.Helper()
	t.Setenv("CANARY_API_URL", console.URL())
	t.Setenv("CANARY_AUTH_TOKEN", testToken)
}

// testRoot wraps cmd like the real root: silent cobra, usage errors as
// FlagError.
func testRoot(cmd *cobra.Command) *cobra.Command {
	root := &cobra.Command{Use: "tw-cli", SilenceErrors: true, SilenceUsage: true}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &cmdutil.FlagError{Err: err} })
	root.AddCommand(cmd)
	return root
}

// run executes `tw-cli <args>` with the canary group and returns the exit code.
func (e *testEnv) run(t *testing.T, args ...string) (int, error) {
	t.Helper()
	root := testRoot(NewCmdCanary(e.f))
	root.SetArgs(args)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	err := root.ExecuteContext(context.Background())
	return cmdutil.ExitCode(err), err
}

// assertGolden compares got with testdata/canary/<name>.golden, or writes
// it with -update.
func assertGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join(goldenDir, name+".golden")
	if *update {
		if err := os.MkdirAll(goldenDir, 0o755); err != nil {
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
	if string(want) != got {
		t.Errorf("%s differs from golden file (go test -update rewrites it)\n--- got ---\n%s\n--- want ---\n%s", name, got, want)
	}
}

// transcript is what a golden file holds: exit code, stdout, stderr.
func transcript(code int, err error, stdout, stderr string) string {
	var b strings.Builder
	b.WriteString("exit: " + strconv.Itoa(code) + "\n")
	if err != nil && code != 0 && !errors.Is(err, cmdutil.ErrSilent) {
		b.WriteString("error: " + err.Error() + "\n")
	}
	b.WriteString("-- stdout --\n" + stdout)
	b.WriteString("-- stderr --\n" + stderr)
	return b.String()
}
