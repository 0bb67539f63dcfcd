package e2e

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// commandPaths lists every command, read from the generated reference
// (docs/reference/tw-cli_<path>.md, which `make docs` keeps in step with
// the tree and a test of cmd/gen-docs checks).
func commandPaths(t *testing.T) [][]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "docs", "reference", "tw-cli_*.md"))
	if err != nil || len(files) < 50 {
		t.Fatalf("reference pages: %d, %v", len(files), err)
	}
	var out [][]string
	for _, f := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "tw-cli_"), ".md")
		out = append(out, strings.Split(name, "_"))
	}
	return out
}

// TestEveryCommandFailsCleanly runs every command the way a user
// fumbling with it would: with no arguments, with an argument it cannot
// know, under a profile that does not exist, with JSON output, and with
// the data dir left to its default. Each must end with an exit code from
// the documented set and never with a panic or a Go stack trace.
func TestEveryCommandFailsCleanly(t *testing.T) {
	e := newEnv(t)
	e.must("webhook", "add", "edr", "--secret", "edr-secret")
	e.must("config", "set", "--profile", "prod", "canary.domain", "acme")
	// Vendor APIs are pointed at a closed port: nothing leaves the machine.
	closed := "http://" + freeAddr(t)
	e.extra = append(e.extra, "TS_API_URL="+closed, "CANARY_API_URL="+closed+"/api/v1/")
	variants := [][]string{
		nil,
		{"no-such-thing"},
		{"--profile", "nope"},
		{"--profile", "prod"},
		{"-o", "json"},
	}
	for _, path := range commandPaths(t) {
		switch strings.Join(path, " ") {
		case "serve", "logs":
			// serve runs until stopped and logs --follow until
			// interrupted; both have tests of their own. logs is still
			// run below with --tail.
			if path[0] == "logs" {
				e.checkClean(t, "logs", "--tail", "5", "--profile", "prod")
			}
			continue
		}
		for _, v := range variants {
			e.checkClean(t, append(append([]string{}, path...), v...)...)
		}
	}
	// The data dir left to its default, under a profile.
	e.extra = append(e.extra, "TW_DATA_DIR=", "XDG_DATA_HOME="+t.TempDir())
	for _, args := range [][]string{{"incidents", "list"}, {"webhook", "list"}, {"db", "status"}, {"events", "list", "-o", "json"}} {
		e.checkClean(t, append(args, "--profile", "prod")...)
	}
}

// checkClean runs tw-cli with args (stdin empty, 10 s at most) and fails
// the test on a crash or an undocumented exit code.
func (e *env) checkClean(t *testing.T, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = e.environ()
	cmd.Stdin = strings.NewReader("")
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Errorf("tw-cli %s did not finish within 10s:\n%s", strings.Join(args, " "), out)
		return
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run tw-cli: %v", err)
	}
	s := string(out)
	if strings.Contains(s, "panic:") || strings.Contains(s, "fatal error:") || strings.Contains(s, "goroutine ") || code < 0 || code > 5 {
		t.Errorf("tw-cli %s: exit %d\n%s", strings.Join(args, " "), code, firstLines(s, 12))
	}
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}
