package cmdutil

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/notify"
	"github.com/tw-cli/tw-cli/internal/store"
)

func TestDebugTransportHidesCredentials(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusAccepted) }))
	defer srv.Close()
	var log bytes.Buffer
	c := &http.Client{Transport: &DebugTransport{Base: http.DefaultTransport, W: &log}}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/p?token=tw_topsecret", nil)
	req.Header.Set("Authorization", "Bearer tw_topsecret")
	req.Header.Set("X-Trace", "visible")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	out := log.String()
	if strings.Contains(out, "topsecret") {
		t.Fatalf("debug output leaked a credential:\n%s", out)
	}
	for _, want := range []string{"> GET " + srv.URL + "/p?token=REDACTED", "> Authorization: [REDACTED]", "> X-Trace: visible", "< 202 Accepted"} {
		if !strings.Contains(out, want) {
			t.Errorf("debug output lacks %q:\n%s", want, out)
		}
	}
}

// Slack and Teams webhook URLs are their own credential: --debug traces a
// destination send by scheme and host only.
func TestNotifySenderDebugHidesTheWebhookPath(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	d := &store.Destination{Name: "chat", Kind: notify.KindSlack, URL: srv.URL + "/services/T000/B000/SECRETxyz"}
	for _, debug := range []bool{false, true} {
		ios, _, _, errb := iostreams.Test()
		f := &Factory{IOStreams: ios, Debug: func() bool { return debug }}
		res := NotifySender(f)().Send(context.Background(), d, []byte(`{"text":"hi"}`))
		if !res.OK() {
			t.Fatalf("send: %v", res.Err)
		}
		out := errb.String()
		if !debug {
			if out != "" {
				t.Errorf("traced without --debug: %q", out)
			}
			continue
		}
		if strings.Contains(out, "SECRET") {
			t.Fatalf("--debug printed the webhook URL's secret path:\n%s", out)
		}
		for _, want := range []string{"> POST " + srv.URL + "/…\n", "< 200 OK"} {
			if !strings.Contains(out, want) {
				t.Errorf("--debug output lacks %q:\n%s", want, out)
			}
		}
	}
}

// A bad flag value is a usage error even when no FlagErrorFunc wrapped it
// (commands run on their own, as in tests).
func TestExitCodeOfAFlagParseError(t *testing.T) {
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Int("limit", 0, "")
	err := fs.Parse([]string{"--limit", "many"})
	if err == nil || ExitCode(err) != ExitUsage {
		t.Fatalf("ExitCode(%v) = %d, want %d", err, ExitCode(err), ExitUsage)
	}
	if ExitCode(errors.New("disk full")) != ExitFailure {
		t.Fatal("a plain error must stay exit 1")
	}
}
