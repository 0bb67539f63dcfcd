package logs

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/logs"
	"github.com/tw-cli/tw-cli/internal/syncbuf"
)

const logLines = `{"time":"2024-01-15T10:00:00Z","level":"INFO","msg":"receiver started","component":"server","addr":"127.0.0.1:8080"}
{"time":"2024-01-15T10:00:01Z","level":"INFO","msg":"delivery accepted","component":"webhook","source":"email-gateway","request_id":"r1","status":202}
{"time":"2024-01-15T10:00:02Z","level":"WARN","msg":"delivery rejected","component":"webhook","source":"edr","request_id":"r2","status":401,"code":"invalid_signature"}
{"time":"2024-01-15T10:00:03Z","level":"INFO","msg":"admin request","component":"admin","method":"GET","path":"/api/webhooks"}
{"time":"2024-01-15T10:00:04Z","level":"ERROR","msg":"delivery failed","component":"webhook","source":"email-gateway","request_id":"r3","error":"disk full"}
{"time":"2024-01-15T10:00:05Z","level":"INFO","msg":"half a li
`

// The readable forms of the lines above.
const (
	fStarted  = "2024-01-15T10:00:00Z INFO  [server] receiver started addr=127.0.0.1:8080"
	fAccepted = "2024-01-15T10:00:01Z INFO  [webhook] delivery accepted source=email-gateway request_id=r1 status=202"
	fRejected = "2024-01-15T10:00:02Z WARN  [webhook] delivery rejected source=edr code=invalid_signature request_id=r2 status=401"
	fAdmin    = "2024-01-15T10:00:03Z INFO  [admin] admin request method=GET path=/api/webhooks"
	fFailed   = `2024-01-15T10:00:04Z ERROR [webhook] delivery failed source=email-gateway error="disk full" request_id=r3`
)

type testEnv struct {
	t       *testing.T
	dataDir string
	f       *cmdutil.Factory
	stdout  *syncbuf.Buffer
	stderr  *bytes.Buffer
}

func newEnv(t *testing.T, content string) *testEnv {
	t.Helper()
	dir := t.TempDir()
	if content != "" {
		writeLog(t, dir, content)
	}
	ios, _, _, stderr := iostreams.Test()
	out := &syncbuf.Buffer{}
	ios.Out = out
	f := &cmdutil.Factory{IOStreams: ios, DataDir: func() (string, error) { return dir, nil }}
	return &testEnv{t: t, dataDir: dir, f: f, stdout: out, stderr: stderr}
}

func writeLog(t *testing.T, dir, content string) {
	t.Helper()
	path := logs.Path(dir)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// command returns `logs` running with a short poll, so --follow tests are
// quick.
func (e *testEnv) command() *cobra.Command {
	var cmd *cobra.Command
	cmd = NewCmdLogs(e.f, func(o *Options) error {
		o.Poll = 5 * time.Millisecond
		return Run(cmd, o)
	})
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	return cmd
}

func (e *testEnv) run(args ...string) error {
	e.t.Helper()
	cmd := e.command()
	cmd.SetArgs(append([]string{}, args...))
	return cmd.ExecuteContext(context.Background())
}

func lines(ls ...string) string {
	if len(ls) == 0 {
		return ""
	}
	return strings.Join(ls, "\n") + "\n"
}

func TestLogs(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"default tail", nil, lines(fStarted, fAccepted, fRejected, fAdmin, fFailed)},
		{"--tail 2", []string{"--tail", "2"}, lines(fAdmin, fFailed)},
		{"-n 1", []string{"-n", "1"}, lines(fFailed)},
		{"--tail 0 is everything", []string{"--tail", "0"}, lines(fStarted, fAccepted, fRejected, fAdmin, fFailed)},
		{"--filter webhook", []string{"--filter", "webhook"}, lines(fAccepted, fRejected, fFailed)},
		{"--filter webhook --tail 1", []string{"--filter", "webhook", "--tail", "1"}, lines(fFailed)},
		{"--source", []string{"--source", "email-gateway"}, lines(fAccepted, fFailed)},
		{"--level warn", []string{"--level", "warn"}, lines(fRejected, fFailed)},
		{"--level ERROR", []string{"--level", "ERROR"}, lines(fFailed)},
		{"--filter admin --level warn", []string{"--filter", "admin", "--level", "warn"}, ""},
		{"--since a time", []string{"--since", "2024-01-15T10:00:03Z"}, lines(fAdmin, fFailed)},
		{"--since with --filter", []string{"--since", "2024-01-15T10:00:02Z", "--filter", "webhook"}, lines(fRejected, fFailed)},
		{"--since a duration back", []string{"--since", "1h"}, ""}, // the sample is from 2024
		{"--until a time", []string{"--until", "2024-01-15T10:00:02Z"}, lines(fStarted, fAccepted)},
		{"--since and --until", []string{"--since", "2024-01-15T10:00:01Z", "--until", "2024-01-15T10:00:03Z", "--filter", "webhook"}, lines(fAccepted, fRejected)},
		{"--until a duration back", []string{"--until", "1h"}, lines(fStarted, fAccepted, fRejected, fAdmin, fFailed)},
		{
			"-o json prints the lines as written",
			[]string{"--filter", "webhook", "--level", "warn", "-o", "json"},
			lines(strings.Split(logLines, "\n")[2], strings.Split(logLines, "\n")[4]),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, logLines)
			if err := e.run(tt.args...); err != nil {
				t.Fatal(err)
			}
			if got := e.stdout.String(); got != tt.want {
				t.Errorf("stdout =\n%s\nwant\n%s", got, tt.want)
			}
			if e.stderr.Len() != 0 {
				t.Errorf("stderr = %q", e.stderr)
			}
		})
	}
}

func TestLogsJSONLinesAreTheFileLines(t *testing.T) {
	e := newEnv(t, logLines)
	if err := e.run("-o", "json", "--source", "edr"); err != nil {
		t.Fatal(err)
	}
	want := `{"time":"2024-01-15T10:00:02Z","level":"WARN","msg":"delivery rejected","component":"webhook","source":"edr","request_id":"r2","status":401,"code":"invalid_signature"}` + "\n"
	if e.stdout.String() != want {
		t.Errorf("stdout = %q, want %q", e.stdout.String(), want)
	}
}

func TestLogsUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		msg  string
	}{
		{[]string{"-o", "yaml"}, `invalid output format "yaml": use table or json`},
		{[]string{"--tail", "-1"}, "--tail must not be negative"},
		{[]string{"--level", "loud"}, `invalid --level "loud": use debug, info, warn or error`},
		{[]string{"--since", "yesterday"}, `invalid --since "yesterday": use a duration (90m, 24h, 7d), a date (2024-01-15) or RFC 3339`},
		{[]string{"--until", "soon"}, `invalid --until "soon": use a duration (90m, 24h, 7d), a date (2024-01-15) or RFC 3339`},
		{[]string{"--until", "1h", "-f"}, "--until cannot be used with --follow"},
		// A window that ends before it starts matched nothing, with exit 0.
		{[]string{"--since", "2024-01-15T10:00:03Z", "--until", "2024-01-15T10:00:01Z"},
			"--since 2024-01-15T10:00:03Z (2024-01-15T10:00:03Z) is not before --until 2024-01-15T10:00:01Z (2024-01-15T10:00:01Z): no entry can match"},
		{[]string{"--since", "2024-01-15T10:00:01Z", "--until", "2024-01-15T10:00:01Z"},
			"--since 2024-01-15T10:00:01Z (2024-01-15T10:00:01Z) is not before --until 2024-01-15T10:00:01Z (2024-01-15T10:00:01Z): no entry can match"},
		{[]string{"webhook"}, "unexpected argument \"webhook\"\n\nUsage: logs [flags]"},
	}
	for _, tt := range tests {
		e := newEnv(t, logLines)
		err := e.run(tt.args...)
		if cmdutil.ExitCode(err) != cmdutil.ExitUsage || err.Error() != tt.msg {
			t.Errorf("%v: err = %v (exit %d), want usage error %q", tt.args, err, cmdutil.ExitCode(err), tt.msg)
		}
		if e.stdout.String() != "" {
			t.Errorf("%v: printed %q", tt.args, e.stdout.String())
		}
	}
}

func TestLogsNoFileYet(t *testing.T) {
	e := newEnv(t, "")
	err := e.run("--tail", "10")
	want := "no log at " + logs.Path(e.dataDir) + " yet: start the receiver with 'tw-cli serve'"
	if cmdutil.ExitCode(err) != cmdutil.ExitNotFound || err.Error() != want {
		t.Errorf("err = %v (exit %d), want exit 4 %q", err, cmdutil.ExitCode(err), want)
	}
}

func appendLine(t *testing.T, path, line string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(line + "\n"); err != nil {
		t.Fatal(err)
	}
}

// follow runs `logs args… -f` until the returned stop is called.
func (e *testEnv) follow(args ...string) (stop func() error) {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := e.command()
	cmd.SetArgs(append(args, "--follow"))
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	stopped := false
	stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(5 * time.Second):
			e.t.Fatal("logs -f did not stop when cancelled")
			return nil
		}
	}
	e.t.Cleanup(func() { _ = stop() })
	return stop
}

func (e *testEnv) waitFor(want string) {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if e.stdout.String() == want {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	e.t.Fatalf("stdout =\n%s\nwant\n%s", e.stdout.String(), want)
}

func TestLogsFollow(t *testing.T) {
	e := newEnv(t, logLines)
	stop := e.follow("--filter", "webhook", "--tail", "1")
	e.waitFor(lines(fFailed))

	path := logs.Path(e.dataDir)
	appendLine(t, path, `{"time":"2024-01-15T10:01:00Z","level":"INFO","msg":"later","component":"server"}`)
	appendLine(t, path, `{"time":"2024-01-15T10:01:01Z","level":"INFO","msg":"delivery accepted","component":"webhook","source":"edr"}`)
	e.waitFor(lines(fFailed, "2024-01-15T10:01:01Z INFO  [webhook] delivery accepted source=edr"))

	if err := stop(); err != nil {
		t.Errorf("logs -f returned %v after Ctrl-C, want nil", err)
	}
}

func TestLogsFollowBeforeTheReceiverStarts(t *testing.T) {
	e := newEnv(t, "")
	stop := e.follow()
	time.Sleep(20 * time.Millisecond)
	writeLog(t, e.dataDir, `{"time":"2024-01-15T10:00:00Z","level":"INFO","msg":"receiver started","component":"server","addr":"127.0.0.1:8080"}`+"\n")
	e.waitFor(lines(fStarted))
	if err := stop(); err != nil {
		t.Errorf("err = %v", err)
	}
}

// The rotated file is read when the current one holds fewer entries than
// --tail asks for.
func TestLogsTailReadsTheRotatedFile(t *testing.T) {
	all := strings.SplitAfter(logLines, "\n")
	e := newEnv(t, strings.Join(all[3:], "")) // admin, failed and a half line
	if err := os.WriteFile(logs.Path(e.dataDir)+".1", []byte(strings.Join(all[:3], "")), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := e.run("--tail", "4"); err != nil {
		t.Fatal(err)
	}
	if want := lines(fAccepted, fRejected, fAdmin, fFailed); e.stdout.String() != want {
		t.Errorf("stdout =\n%s\nwant\n%s", e.stdout.String(), want)
	}
}

// --follow goes on into the new file when the receiver rotates its log,
// after the last lines of the old one.
func TestLogsFollowAcrossRotation(t *testing.T) {
	e := newEnv(t, logLines)
	stop := e.follow("--filter", "webhook", "--tail", "1")
	e.waitFor(lines(fFailed))

	path := logs.Path(e.dataDir)
	appendLine(t, path, `{"time":"2024-01-15T10:01:00Z","level":"INFO","msg":"last of the old file","component":"webhook"}`)
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	appendLine(t, path, `{"time":"2024-01-15T10:01:01Z","level":"INFO","msg":"first of the new file","component":"webhook"}`)
	e.waitFor(lines(fFailed,
		"2024-01-15T10:01:00Z INFO  [webhook] last of the old file",
		"2024-01-15T10:01:01Z INFO  [webhook] first of the new file"))
	if err := stop(); err != nil {
		t.Errorf("err = %v", err)
	}
}

// "--since 1h --until 2h" reads like a range but is backwards: both are
// durations back from now.
func TestLogsSinceAfterUntilDurations(t *testing.T) {
	e := newEnv(t, logLines)
	err := e.run("--since", "1h", "--until", "2h")
	if cmdutil.ExitCode(err) != cmdutil.ExitUsage || !strings.HasPrefix(err.Error(), "--since 1h (") || !strings.Contains(err.Error(), ") is not before --until 2h (") {
		t.Errorf("err = %v (exit %d)", err, cmdutil.ExitCode(err))
	}
}

// A log in three files: .2 and .1, rotated, and the current one, which
// ends in half a line still being written.
func writeRotatedLog(t *testing.T, dir string) {
	t.Helper()
	all := strings.SplitAfter(logLines, "\n")
	// Failed and half a line: without its newline, as being written.
	writeLog(t, dir, strings.TrimSuffix(strings.Join(all[4:], ""), "\n"))
	path := logs.Path(dir)
	if err := os.WriteFile(path+".1", []byte(strings.Join(all[2:4], "")), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".2", []byte(strings.Join(all[:2], "")), 0o600); err != nil {
		t.Fatal(err)
	}
}

// rotatedLogOutput returns what `logs args…` prints for writeRotatedLog's
// files.
func rotatedLogOutput(t *testing.T, args ...string) string {
	t.Helper()
	e := newEnv(t, "")
	writeRotatedLog(t, e.dataDir)
	if err := e.run(args...); err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return e.stdout.String()
}

// --tail 0 prints entries as it reads them, oldest file first; it prints
// what it printed when it collected them all first, as a --tail larger
// than the log still does, byte for byte, in both formats.
func TestLogsTailAllAcrossRotatedFiles(t *testing.T) {
	filters := [][]string{
		nil,
		{"--filter", "webhook"},
		{"--source", "email-gateway"},
		{"--level", "warn"},
		{"--since", "2024-01-15T10:00:02Z"},
		{"--until", "2024-01-15T10:00:04Z", "--filter", "webhook"},
		{"--since", "1h"},
	}
	for _, format := range []string{"table", "json"} {
		for _, filter := range filters {
			args := append([]string{"-o", format}, filter...)
			want := rotatedLogOutput(t, append(args, "--tail", "1000000")...)
			if got := rotatedLogOutput(t, append(args, "--tail", "0")...); got != want {
				t.Errorf("%v --tail 0:\n%s\nwant (as --tail 1000000)\n%s", args, got, want)
			}
		}
	}

	if got, want := rotatedLogOutput(t, "--tail", "0"), lines(fStarted, fAccepted, fRejected, fAdmin, fFailed); got != want {
		t.Errorf("stdout =\n%s\nwant\n%s", got, want)
	}
	all := strings.Split(logLines, "\n")
	if got, want := rotatedLogOutput(t, "-n", "0", "--filter", "webhook", "-o", "json"), lines(all[1], all[2], all[4]); got != want {
		t.Errorf("stdout =\n%s\nwant\n%s", got, want)
	}
}

// --follow after --tail 0 goes on from where the files were read: the
// half line at the end is printed once finished, nothing twice.
func TestLogsFollowAfterTailAll(t *testing.T) {
	e := newEnv(t, "")
	writeRotatedLog(t, e.dataDir)
	stop := e.follow("--tail", "0", "--filter", "webhook")
	e.waitFor(lines(fAccepted, fRejected, fFailed))

	path := logs.Path(e.dataDir)
	appendLine(t, path, `ne","component":"webhook"}`)
	appendLine(t, path, `{"time":"2024-01-15T10:01:00Z","level":"INFO","msg":"later","component":"webhook"}`)
	e.waitFor(lines(fAccepted, fRejected, fFailed,
		"2024-01-15T10:00:05Z INFO  [webhook] half a line",
		"2024-01-15T10:01:00Z INFO  [webhook] later"))
	if err := stop(); err != nil {
		t.Errorf("err = %v", err)
	}
}
