package serve

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/sources"
	"github.com/tw-cli/tw-cli/internal/store"
	"github.com/tw-cli/tw-cli/internal/store/sqlite"
	"github.com/tw-cli/tw-cli/internal/syncbuf"
	"github.com/tw-cli/tw-cli/internal/triage"
	"github.com/tw-cli/tw-cli/internal/webhookconfig"
)

var t0 = time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)

func TestNewCmdServeFlags(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	var got *Options
	cmd := NewCmdServe(&cmdutil.Factory{IOStreams: ios}, func(o *Options) error { got = o; return nil })
	cmd.SetArgs([]string{"--config", "webhook_config.yaml", "--addr", "127.0.0.1:0"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.ConfigFile != "webhook_config.yaml" || got.Addr != "127.0.0.1:0" || got.LookupEnv == nil {
		t.Fatalf("options %+v", got)
	}
}

// Bad --addr and --shutdown-timeout values are usage errors naming the
// value, found before the store is opened or anything listens.
func TestNewCmdServeRefusesBadValues(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--addr", "bogus"}, `invalid --addr "bogus": want host:port, such as 127.0.0.1:8080 or :8080`},
		{[]string{"--addr", "127.0.0.1"}, `invalid --addr "127.0.0.1": want host:port, such as 127.0.0.1:8080 or :8080`},
		{[]string{"--addr", "127.0.0.1:99999"}, `invalid --addr "127.0.0.1:99999": the port must be a number from 0 to 65535 or a service name`},
		{[]string{"--addr", "127.0.0.1:no-such-service"}, `invalid --addr "127.0.0.1:no-such-service": the port must be a number from 0 to 65535 or a service name`},
		{[]string{"--addr", "127.0.0.1:"}, `invalid --addr "127.0.0.1:": the port must be a number from 0 to 65535 or a service name`},
		{[]string{"--shutdown-timeout", "-1s"}, `invalid --shutdown-timeout -1s: must not be negative (0 stops without waiting)`},
	}
	for _, tt := range tests {
		ios, _, _, _ := iostreams.Test()
		cmd := NewCmdServe(&cmdutil.Factory{IOStreams: ios}, func(o *Options) error {
			t.Errorf("%v: ran with %+v", tt.args, o)
			return nil
		})
		cmd.SetArgs(tt.args)
		cmd.SilenceErrors, cmd.SilenceUsage = true, true
		err := cmd.Execute()
		if cmdutil.ExitCode(err) != cmdutil.ExitUsage || err.Error() != tt.want {
			t.Errorf("%v: err %v (exit %d), want %q", tt.args, err, cmdutil.ExitCode(err), tt.want)
		}
	}
	for _, ok := range [][]string{{"--addr", ":8080"}, {"--addr", "[::1]:0"}, {"--addr", "0.0.0.0:8443", "--shutdown-timeout", "0s"}} {
		ios, _, _, _ := iostreams.Test()
		cmd := NewCmdServe(&cmdutil.Factory{IOStreams: ios}, func(*Options) error { return nil })
		cmd.SetArgs(ok)
		if err := cmd.Execute(); err != nil {
			t.Errorf("%v: %v", ok, err)
		}
	}
}

// waitFor polls the log until it has n lines containing msg.
func waitFor(t *testing.T, s *syncbuf.Buffer, msg string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Count(s.String(), msg) >= n {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("log never had %d × %q:\n%s", n, msg, s.String())
}

func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "tw.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func writeConfig(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func names(t *testing.T, st store.Store) string {
	t.Helper()
	srcs, err := st.ListSources(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range srcs {
		out = append(out, s.Name+"/"+s.Origin)
	}
	return strings.Join(out, " ")
}

func TestReloadAppliesAndSurvivesABadFile(t *testing.T) {
	st := openStore(t)
	local := &sources.Local{Store: st, Origin: "cli"}
	if _, _, err := local.Add(context.Background(), sources.Spec{Source: "by-hand", Secret: "h"}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "webhook_config.yaml")
	writeConfig(t, path, "sources:\n  edr:\n    secret: ${EDR_SECRET}\n  old:\n    secret: o\n")
	logBuf := &syncbuf.Buffer{}
	c := &sourceConfig{
		path: path, store: st, log: slog.New(slog.NewTextHandler(logBuf, nil)),
		lookupEnv: func(k string) (string, bool) {
			return map[string]string{"EDR_SECRET": "edr-1", "NEW_SECRET": "n"}[k], k != "UNSET"
		},
		now: func() time.Time { return t0 },
	}
	if err := c.apply(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := names(t, st); got != "by-hand/cli edr/config old/config" {
		t.Fatalf("after start: %s", got)
	}

	ctx, cancel := context.WithCancel(context.Background())
	reload := make(chan os.Signal, 1)
	done := make(chan struct{})
	go func() { watchSignals(ctx, reload, c.log, nil, c.reload); close(done) }()
	defer func() { cancel(); <-done }()

	writeConfig(t, path, "sources:\n  edr:\n    secret: ${EDR_SECRET}\n    playbook: malware_triage\n  new:\n    secret: ${NEW_SECRET}\n")
	reload <- os.Interrupt // any signal value: watchSignals does not look at it
	waitFor(t, logBuf, "webhook config applied", 2)
	if got := names(t, st); got != "by-hand/cli edr/config new/config" {
		t.Fatalf("after reload: %s", got)
	}
	for _, want := range []string{
		`msg="config source updated" config=` + path + ` source=edr fields=playbook`,
		`msg="config source created" config=` + path + ` source=new`,
		`msg="config source removed" config=` + path + ` source=old`,
		`created=1 updated=1 removed=1 unchanged=0`,
	} {
		if !strings.Contains(logBuf.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logBuf.String())
		}
	}

	// A broken file is logged with its line and changes nothing.
	writeConfig(t, path, "sources:\n  new:\n    secret: ${UNSET}\n")
	reload <- os.Interrupt
	waitFor(t, logBuf, "webhook config reload failed", 1)
	if !strings.Contains(logBuf.String(), path+":3: sources.new.secret: environment variable UNSET is not set") {
		t.Fatalf("reload error not logged with its line:\n%s", logBuf.String())
	}
	if got := names(t, st); got != "by-hand/cli edr/config new/config" {
		t.Fatalf("a bad file changed the sources: %s", got)
	}

	// So is a conflict with a cli source: nothing is written.
	writeConfig(t, path, "sources:\n  by-hand:\n    secret: x\n")
	reload <- os.Interrupt
	waitFor(t, logBuf, "webhook config reload failed", 2)
	if got := names(t, st); got != "by-hand/cli edr/config new/config" {
		t.Fatalf("a conflicting file changed the sources: %s", got)
	}
}

func TestRunFailsStartOnABadConfig(t *testing.T) {
	st := openStore(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "webhook_config.yaml")
	writeConfig(t, path, "sources:\n  edr:\n    secrett: x\n")
	ios, _, _, errOut := iostreams.Test()
	opts := &Options{
		IO: ios, Store: func() (store.Store, error) { return st, nil }, DataDir: func() (string, error) { return dir, nil },
		LookupEnv: func(string) (string, bool) { return "", false },
		// A port that cannot be bound proves the file is checked first.
		Addr: "256.0.0.1:1", MaxBodyBytes: 1024, ShutdownTimeout: time.Second, ConfigFile: path,
	}
	err := Run(context.Background(), opts, slog.LevelInfo)
	var perr *webhookconfig.Error
	if !errors.As(err, &perr) || perr.Line != 3 || !strings.Contains(err.Error(), `unknown key "secrett" in source "edr"`) {
		t.Fatalf("got %v\nstderr: %s", err, errOut.String())
	}
	if srcs, _ := st.ListSources(context.Background()); len(srcs) != 0 {
		t.Fatalf("a bad file registered %d sources", len(srcs))
	}
}

// A start that fails after the file was read (its port taken) has not
// applied it: the sources stay as the last receiver left them.
func TestRunAppliesTheConfigOnlyOnceListening(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "tw.db")
	st, err := sqlite.Open(context.Background(), dbPath, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "webhook_config.yaml")
	writeConfig(t, path, "sources:\n  a:\n    secret: x\n  b:\n    secret: y\n")
	c := &sourceConfig{path: path, store: st, log: slog.New(slog.DiscardHandler), lookupEnv: func(string) (string, bool) { return "", false }, now: func() time.Time { return t0 }}
	if err := c.apply(context.Background()); err != nil {
		t.Fatal(err)
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	writeConfig(t, path, "sources:\n  a:\n    secret: x\n")
	ios, _, _, _ := iostreams.Test()
	opts := &Options{
		IO: ios, Store: func() (store.Store, error) { return st, nil }, DataDir: func() (string, error) { return dir, nil },
		LookupEnv: func(string) (string, bool) { return "", false },
		Addr:      busy.Addr().String(), MaxBodyBytes: 1024, ShutdownTimeout: time.Second, ConfigFile: path, Quiet: true,
	}
	if err := Run(context.Background(), opts, slog.LevelInfo); err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("start on a taken port: %v", err)
	}
	// Run closed the store, as it does on every return.
	st, err = sqlite.Open(context.Background(), dbPath, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if got := names(t, st); got != "a/config b/config" {
		t.Fatalf("a failed start applied the file: %s", got)
	}
}

// A misspelt auto-triage playbook (from --config, which `webhook add`'s
// check never sees) is named in the log at start and after each apply.
func TestMissingPlaybooksAreWarned(t *testing.T) {
	st := openStore(t)
	local := &sources.Local{Store: st, Origin: "cli"}
	for _, spec := range []sources.Spec{
		{Source: "typo", Secret: "s", AutoTriage: true, Playbook: "phishng_triage"},
		{Source: "good", Secret: "s", AutoTriage: true, Playbook: "phishing_triage"},
		{Source: "manual", Secret: "s", Playbook: "nope"},
	} {
		if _, _, err := local.Add(context.Background(), spec); err != nil {
			t.Fatal(err)
		}
	}
	cat, err := triage.OpenCatalog(t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	var logBuf syncbuf.Buffer
	warnMissingPlaybooks(context.Background(), st, cat, slog.New(slog.NewTextHandler(&logBuf, nil)))
	got := logBuf.String()
	if !strings.Contains(got, "source=typo playbook=phishng_triage") || strings.Contains(got, "source=good") || strings.Contains(got, "source=manual") {
		t.Fatalf("log:\n%s", got)
	}
}

// A bare TCP connection to the TLS port (a load balancer's check) is a
// debug line; net/http's other errors stay warnings.
func TestServerErrorLogLevels(t *testing.T) {
	var buf syncbuf.Buffer
	l := serverErrorLog(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	l.Print("http: TLS handshake error from 127.0.0.1:5555: EOF")
	l.Print("http: Accept error: too many open files; retrying in 5ms")
	out := buf.String()
	for _, want := range []string{
		`level=DEBUG msg="http: TLS handshake error from 127.0.0.1:5555: EOF"`,
		`level=WARN msg="http: Accept error: too many open files; retrying in 5ms"`,
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
}
