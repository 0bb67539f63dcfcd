package destination

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/notify"
	"github.com/tw-cli/tw-cli/internal/store"
	"github.com/tw-cli/tw-cli/internal/store/sqlite"
)

var now = time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)

type harness struct {
	f        *cmdutil.Factory
	st       store.Store
	ios      *iostreams.IOStreams
	in       *bytes.Buffer
	out, err *bytes.Buffer
	env      map[string]string
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "tw.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ios, in, out, errb := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, Now: func() time.Time { return now }, Store: func() (store.Store, error) { return st, nil }}
	return &harness{f: f, st: st, ios: ios, in: in, out: out, err: errb, env: map[string]string{}}
}

func quickSender() *notify.Sender {
	s := notify.NewSender()
	s.MaxAttempts = 2
	s.Sleep = func(context.Context, time.Duration) error { return nil }
	return s
}

// run executes the group with the harness's environment and a sender
// that does not sleep.
func (h *harness) run(args ...string) error {
	cmd := NewCmdDestination(h.f)
	for _, c := range cmd.Commands() {
		switch c.Name() {
		case "add":
			*c = *NewCmdAdd(h.f, func(o *AddOptions) error {
				o.Getenv = func(k string) string { return h.env[k] }
				return addRun(c, o)
			})
		case "test":
			*c = *NewCmdTest(h.f, func(o *TestOptions) error { o.Sender = quickSender; return testRun(context.Background(), o) })
		case "retry":
			*c = *NewCmdRetry(h.f, func(o *RetryOptions) error { o.Sender = quickSender; return retryRun(context.Background(), o) })
		}
	}
	// Silent like the real root: errors are returned, not printed.
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	cmd.SetArgs(args)
	cmd.SetOut(h.err)
	cmd.SetErr(h.err)
	return cmd.ExecuteContext(context.Background())
}

func TestAddFlags(t *testing.T) {
	h := newHarness(t)
	var got *AddOptions
	cmd := NewCmdAdd(h.f, func(o *AddOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"splunk-hec", "hec", "--url", "https://splunk:8088", "--token-env", "HEC", "--sourcetype", "soc"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Kind != "splunk-hec" || got.Name != "hec" || got.URL != "https://splunk:8088" || got.TokenEnv != "HEC" || got.Sourcetype != "soc" {
		t.Fatalf("options = %+v", got)
	}
	for _, args := range [][]string{{"slack", "x"}, {"slack"}, {"slack", "x", "--url", "https://h", "-o", "csv"}} {
		cmd := NewCmdAdd(h.f, func(*AddOptions) error { t.Fatal("ran"); return nil })
		cmd.SetArgs(args)
		cmd.SetErr(io.Discard)
		if err := cmd.Execute(); cmdutil.ExitCode(err) != cmdutil.ExitUsage {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
}

func TestAddListRemoveMaskSecrets(t *testing.T) {
	h := newHarness(t)
	h.env["PEER"], h.env["HEC"] = "peer-secret-value", "hec-token-value"
	if err := h.run("add", "generic", "peer", "--url", "https://peer.example/api/webhooks/up?k=tok", "--secret-env", "PEER"); err != nil {
		t.Fatal(err)
	}
	if h.err.String() != "✓ Added generic destination peer (https://peer.example/…); try it with 'tw-cli destination test peer'\n" {
		t.Fatalf("stderr = %q", h.err)
	}
	if err := h.run("add", "splunk-hec", "hec", "--url", "https://splunk:8088", "--token-env", "HEC"); err != nil {
		t.Fatal(err)
	}
	if err := h.run("add", "slack", "chat", "--url", "https://hooks.slack.com/services/T/B/SECRET"); err != nil {
		t.Fatal(err)
	}
	d, _ := h.st.GetDestination(context.Background(), "peer")
	if d.Secret != "peer-secret-value" || d.URL != "https://peer.example/api/webhooks/up?k=tok" {
		t.Fatalf("stored = %+v", d)
	}
	if err := h.run("list"); err != nil {
		t.Fatal(err)
	}
	want := "chat\tslack\thttps://hooks.slack.com/…\t-\t2024-01-15T10:00:00Z\n" +
		"hec\tsplunk-hec\thttps://splunk:8088\ttoken ********\t2024-01-15T10:00:00Z\n" +
		"peer\tgeneric\thttps://peer.example/…\tsecret ********\t2024-01-15T10:00:00Z\n"
	if h.out.String() != want {
		t.Fatalf("list:\n%s", h.out)
	}
	h.out.Reset()
	if err := h.run("list", "-o", "json"); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"peer-secret-value", "hec-token-value", "SECRET", "k=tok"} {
		if strings.Contains(h.out.String(), secret) {
			t.Fatalf("json list leaks %q:\n%s", secret, h.out)
		}
	}
	var fe *cmdutil.FlagError
	// An existing name exits 1 like 'webhook add' of an existing source:
	// the command was typed right, so it is no usage error (exit 2).
	err := h.run("add", "slack", "chat", "--url", "https://hooks.slack.com/x")
	wantDup := `destination "chat" already exists: pick another name, or remove it first with 'tw-cli destination remove chat --yes'`
	if cmdutil.ExitCode(err) != cmdutil.ExitFailure || errors.As(err, &fe) || err.Error() != wantDup {
		t.Fatalf("duplicate: %v (exit %d), want %q (exit 1)", err, cmdutil.ExitCode(err), wantDup)
	}
	if d, _ := h.st.GetDestination(context.Background(), "chat"); d == nil || d.URL != "https://hooks.slack.com/services/T/B/SECRET" {
		t.Fatalf("a refused add changed the destination: %+v", d)
	}
	if err := h.run("add", "generic", "nosecret", "--url", "https://x"); !errors.As(err, &fe) || !strings.Contains(err.Error(), "--secret-env") {
		t.Fatalf("generic without a secret: %v", err)
	}
	if err := h.run("add", "splunk-hec", "h2", "--url", "https://x", "--token-env", "UNSET"); !errors.As(err, &fe) || !strings.Contains(err.Error(), "UNSET is empty or unset") {
		t.Fatalf("unset env: %v", err)
	}
	// A flag the kind does not take is the error, whether or not its
	// variable is set.
	if err := h.run("add", "slack", "s2", "--url", "https://hooks.slack.com/x", "--secret-env", "UNSET"); !errors.As(err, &fe) || !strings.Contains(err.Error(), "drop --token-env and --secret-env") {
		t.Fatalf("slack with --secret-env of an unset variable: %v", err)
	}
	if err := h.run("remove", "chat", "--yes"); err != nil {
		t.Fatal(err)
	}
	if err := h.run("remove", "chat", "--yes"); cmdutil.ExitCode(err) != cmdutil.ExitNotFound {
		t.Fatalf("second remove: %v", err)
	}
}

func TestTestSendsOnceAndExits5OnFailure(t *testing.T) {
	h := newHarness(t)
	var calls atomic.Int32
	status := atomic.Int32{}
	status.Store(200)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		var m map[string]any
		json.NewDecoder(r.Body).Decode(&m)
		if !strings.Contains(m["text"].(string), "tw-cli test notification") {
			t.Errorf("test message = %v", m)
		}
		w.WriteHeader(int(status.Load()))
	}))
	defer srv.Close()
	h.st.CreateDestination(context.Background(), &store.Destination{Name: "chat", Kind: notify.KindSlack, URL: srv.URL + "/hook", CreatedAt: now})
	if err := h.run("test", "chat"); err != nil {
		t.Fatal(err)
	}
	if h.err.String() != "✓ test message delivered to chat (HTTP 200)\n" {
		t.Fatalf("stderr = %q", h.err)
	}
	status.Store(503)
	err := h.run("test", "chat")
	if cmdutil.ExitCode(err) != cmdutil.ExitRemote || !strings.Contains(err.Error(), "HTTP 503") || calls.Load() != 2 {
		t.Fatalf("failing test: %v after %d calls", err, calls.Load())
	}
	h.out.Reset()
	err = h.run("test", "chat", "-o", "json")
	var v DeliveryView
	json.Unmarshal(h.out.Bytes(), &v)
	if cmdutil.ExitCode(err) != cmdutil.ExitRemote || v.OK || v.Status != 503 || v.Attempts != 1 {
		t.Fatalf("json: %s, %v", h.out, err)
	}
	// Nothing answering is exit 1, as for every command that calls out;
	// 5 is for an endpoint that answered with an error.
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	h.st.CreateDestination(context.Background(), &store.Destination{Name: "dead", Kind: notify.KindSlack, URL: closed.URL + "/hook", CreatedAt: now})
	for _, args := range [][]string{{"test", "dead"}, {"test", "dead", "-o", "json"}} {
		if err := h.run(args...); cmdutil.ExitCode(err) != cmdutil.ExitFailure {
			t.Errorf("%v to a closed port: %v (exit %d), want exit 1", args, err, cmdutil.ExitCode(err))
		}
	}
	// Like its siblings, an unknown name says where to look.
	err = h.run("test", "nope")
	if cmdutil.ExitCode(err) != cmdutil.ExitNotFound || err.Error() != `unknown destination "nope": run 'tw-cli destination list'` {
		t.Fatalf("unknown destination: %v (exit %d)", err, cmdutil.ExitCode(err))
	}
	if !errors.Is(err, notify.ErrUnknownDestination) {
		t.Errorf("the hint lost notify.ErrUnknownDestination: %v", err)
	}
}

func TestFailuresAndRetry(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	var up atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/services/collector/event" || r.Header.Get("Authorization") != "Splunk tok" {
			t.Errorf("request %s %q", r.URL.Path, r.Header.Get("Authorization"))
		}
		if up.Load() {
			w.WriteHeader(200)
			return
		}
		w.WriteHeader(500)
	}))
	defer srv.Close()
	h.st.CreateDestination(ctx, &store.Destination{Name: "hec", Kind: notify.KindSplunkHEC, URL: srv.URL, Token: "tok", CreatedAt: now})
	n := &notify.Notifier{Store: h.st, Sender: quickSender(), Now: func() time.Time { return now }}
	d, err := n.Notify(ctx, "hec", notify.Message{Number: "INC-2024-0009", Title: "t", Severity: "high"})
	if err != nil || d.DeadLetter == "" {
		t.Fatalf("notify = %+v, %v", d, err)
	}
	if err := h.run("failures"); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h.out.String(), d.DeadLetter+"\thec\tINC-2024-0009\t2\tPOST "+srv.URL+": HTTP 500\t2024-01-15T10:00:00Z\n") {
		t.Fatalf("failures:\n%s", h.out)
	}
	err = h.run("retry", d.DeadLetter)
	if cmdutil.ExitCode(err) != cmdutil.ExitRemote {
		t.Fatalf("retry while down: %v", err)
	}
	dl, _ := h.st.GetDeadLetter(ctx, d.DeadLetter)
	if dl.Attempts != 4 {
		t.Fatalf("attempts = %d", dl.Attempts)
	}
	up.Store(true)
	h.err.Reset()
	if err := h.run("retry", d.DeadLetter); err != nil {
		t.Fatal(err)
	}
	if h.err.String() != "✓ notification "+d.DeadLetter+" delivered to hec (HTTP 200)\n" {
		t.Fatalf("stderr = %q", h.err)
	}
	h.out.Reset()
	h.run("failures", "-o", "json")
	if strings.TrimSpace(h.out.String()) != "[]" {
		t.Fatalf("failures after a good retry: %s", h.out)
	}
	if err := h.run("retry", "dl-nope"); cmdutil.ExitCode(err) != cmdutil.ExitNotFound {
		t.Fatalf("unknown id: %v", err)
	}

	// notify's own advice for a dead letter whose destination is gone is
	// kept as it is, without the 'destination list' hint added to it.
	up.Store(false)
	d, _ = n.Notify(ctx, "hec", notify.Message{Number: "INC-2024-0010", Title: "t", Severity: "high"})
	if err := h.st.DeleteDestination(ctx, "hec"); err != nil {
		t.Fatal(err)
	}
	err = h.run("retry", d.DeadLetter)
	want := `unknown destination "hec": it was removed; add it again to retry ` + d.DeadLetter
	if cmdutil.ExitCode(err) != cmdutil.ExitNotFound || err.Error() != want {
		t.Fatalf("retry to a removed destination: %v, want %q", err, want)
	}
}

func TestDiscard(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }))
	defer srv.Close()
	h.st.CreateDestination(ctx, &store.Destination{Name: "hec", Kind: notify.KindSplunkHEC, URL: srv.URL, Token: "tok", CreatedAt: now})
	n := &notify.Notifier{Store: h.st, Sender: quickSender(), Now: func() time.Time { return now }}
	var ids []string
	for _, num := range []string{"INC-2024-0001", "INC-2024-0002", "INC-2024-0003"} {
		d, err := n.Notify(ctx, "hec", notify.Message{Number: num, Title: "t", Severity: "high"})
		if err != nil || d.DeadLetter == "" {
			t.Fatalf("notify = %+v, %v", d, err)
		}
		ids = append(ids, d.DeadLetter)
	}
	left := func() []string {
		t.Helper()
		dls, err := h.st.ListDeadLetters(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range dls {
			got = append(got, d.ID)
		}
		return got
	}

	for _, args := range [][]string{{"discard"}, {"discard", "--all", ids[0]}} {
		if err := h.run(args...); cmdutil.ExitCode(err) != cmdutil.ExitUsage {
			t.Fatalf("%v = %v, want a usage error", args, err)
		}
	}
	if len(left()) != 3 {
		t.Fatal("a refused discard deleted something")
	}

	h.err.Reset()
	err := h.run("discard", ids[0], "dl-nope")
	if cmdutil.ExitCode(err) != cmdutil.ExitNotFound || !strings.Contains(err.Error(), `"dl-nope"`) {
		t.Fatalf("discard with an unknown id = %v", err)
	}
	if !strings.Contains(h.err.String(), "✓ Discarded "+ids[0]+"\n") {
		t.Fatalf("stderr = %q", h.err)
	}
	if got := left(); len(got) != 2 || slices.Contains(got, ids[0]) {
		t.Fatalf("left after discarding %s: %v", ids[0], got)
	}

	if err := h.run("discard", "--all", "--yes"); err != nil {
		t.Fatal(err)
	}
	if got := left(); len(got) != 0 {
		t.Fatalf("left after --all: %v", got)
	}
	h.err.Reset()
	if err := h.run("discard", "--all", "--yes"); err != nil || h.err.String() != "No failed notifications.\n" {
		t.Fatalf("--all on an empty list = %v, %q", err, h.err)
	}
}
