package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/receiver"
	"github.com/tw-cli/tw-cli/internal/sources"
	"github.com/tw-cli/tw-cli/internal/store"
)

func TestNewCmdTest(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    TestOptions
		secret  secretFlags
		wantErr string
	}{
		{
			name: "defaults",
			args: []string{"edr"},
			want: TestOptions{Name: "edr", Timeout: 10 * time.Second, Output: "table"},
		},
		{
			name:   "every flag",
			args:   []string{"edr", "--url", "http://127.0.0.1:9000", "--payload", "alert.json", "--timeout", "2s", "--secret", "s", "-o", "json"},
			want:   TestOptions{Name: "edr", URL: "http://127.0.0.1:9000", PayloadFile: "alert.json", Timeout: 2 * time.Second, Output: "json"},
			secret: secretFlags{Secret: "s"},
		},
		{name: "-o xml", args: []string{"edr", "-o", "xml"}, wantErr: `invalid argument "xml" for "-o, --output" flag: use table, json or yaml`},
		{name: "no name", args: nil, wantErr: "missing source name\n\nUsage: test <source> [flags]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, err := parse(t, NewCmdTest, false, tt.args...)
			if tt.wantErr != "" {
				wantExit(t, err, cmdutil.ExitUsage, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if opts.Name != tt.want.Name || opts.URL != tt.want.URL || opts.PayloadFile != tt.want.PayloadFile ||
				opts.Timeout != tt.want.Timeout || opts.Output != tt.want.Output || opts.secret != tt.secret {
				t.Errorf("got %+v, secret %+v", opts, opts.secret)
			}
		})
	}
}

// receiverEnv is a testEnv plus the real receiver serving its store.
type receiverEnv struct {
	*testEnv
	url string
}

func newReceiverEnv(t *testing.T, tty bool) *receiverEnv {
	t.Helper()
	e := newEnv(t, tty)
	srv := httptest.NewServer(receiver.New(receiver.Options{Store: e.store, Now: e.clock.Now}))
	t.Cleanup(srv.Close)
	e.f.HTTPClient = srv.Client
	e.add(sources.Spec{Source: "email-gateway", Secret: "your-secret-key", AutoTriage: true, Playbook: "phishing_triage"})
	return &receiverEnv{testEnv: e, url: srv.URL}
}

var latencyRE = regexp.MustCompile(` in [0-9.]+(ns|µs|ms|s)\n$`)

// stderr returns stderr with the receiver's address and the latency,
// which change from run to run, replaced.
func (e *receiverEnv) stableStderr() string {
	s := strings.ReplaceAll(e.stderr.String(), e.url, "http://RECEIVER")
	return latencyRE.ReplaceAllString(s, " in LATENCY\n")
}

func (e *receiverEnv) onlyIncident() *store.Incident {
	e.t.Helper()
	incs, err := e.store.ListIncidents(context.Background(), store.IncidentFilter{})
	if err != nil || len(incs) != 1 {
		e.t.Fatalf("incidents = %+v, %v; want one", incs, err)
	}
	return &incs[0]
}

func (e *receiverEnv) noEvents() {
	e.t.Helper()
	evs, err := e.store.ListEvents(context.Background(), store.EventFilter{})
	if err != nil || len(evs) != 0 {
		e.t.Fatalf("events = %+v, %v; want none", evs, err)
	}
}

func TestTestRunAccepted(t *testing.T) {
	for _, tty := range []bool{true, false} {
		t.Run(ttyName(tty), func(t *testing.T) {
			e := newReceiverEnv(t, tty)
			if err := e.run(NewCmdTest(e.f, nil), "email-gateway", "--url", e.url); err != nil {
				t.Fatalf("err = %v, want nil for a 202", err)
			}
			e.onlyIncident()
			// The source auto-triages, so seed 003's "queued" body comes back.
			queued := regexp.MustCompile(`^\{"status":"queued","queue_id":"queue-[0-9a-f]{32}","message":"Event queued for processing"\}\n$`)
			if !queued.MatchString(e.stdout.String()) {
				t.Errorf("stdout = %q, want seed 003's queued response", e.stdout)
			}
			if got, want := e.stableStderr(), "✓ http://RECEIVER/api/webhooks/email-gateway 202 Accepted in LATENCY\n"; got != want {
				t.Errorf("stderr = %q, want %q", got, want)
			}
			evs, _ := e.store.ListEvents(context.Background(), store.EventFilter{})
			if len(evs) != 1 || !testEvent.Match(evs[0].Payload) || evs[0].Source != "email-gateway" {
				t.Errorf("stored events = %+v", evs)
			}
		})
	}
}

func TestTestRunRejected(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		payload    string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{
			name:       "wrong secret is 401, exit 3",
			args:       []string{"email-gateway", "--secret", "not-the-secret"},
			wantCode:   cmdutil.ExitAuth,
			wantStdout: `{"error":{"code":"invalid_signature","message":"Webhook signature verification failed"}}` + "\n",
			wantStderr: "✗ http://RECEIVER/api/webhooks/email-gateway 401 Unauthorized in LATENCY\n",
		},
		{
			name:       "bad payload is 400, exit 5",
			args:       []string{"email-gateway"},
			payload:    `[1,2]`,
			wantCode:   cmdutil.ExitRemote,
			wantStdout: `{"error":{"code":"invalid_payload","message":"Webhook payload is invalid: body must be a JSON object"}}` + "\n",
			wantStderr: "✗ http://RECEIVER/api/webhooks/email-gateway 400 Bad Request in LATENCY\n",
		},
		{
			name:       "unknown source is 404, exit 5",
			args:       []string{"nope", "--secret", "s"},
			wantCode:   cmdutil.ExitRemote,
			wantStdout: `{"error":{"code":"unknown_source","message":"Webhook source 'nope' is not registered"}}` + "\n",
			wantStderr: "✗ http://RECEIVER/api/webhooks/nope 404 Not Found in LATENCY\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newReceiverEnv(t, false)
			args := append(tt.args, "--url", e.url)
			if tt.payload != "" {
				path := filepath.Join(t.TempDir(), "payload.json")
				if err := os.WriteFile(path, []byte(tt.payload), 0o600); err != nil {
					t.Fatal(err)
				}
				args = append(args, "--payload", path)
			}
			err := e.run(NewCmdTest(e.f, nil), args...)
			wantExit(t, err, tt.wantCode, "")
			// The command printed the outcome; app.Main must not add to it.
			if !errors.Is(err, cmdutil.ErrSilent) {
				t.Errorf("err = %v, want it silent", err)
			}
			if e.stdout.String() != tt.wantStdout {
				t.Errorf("stdout = %q, want %q", e.stdout, tt.wantStdout)
			}
			if got := e.stableStderr(); got != tt.wantStderr {
				t.Errorf("stderr = %q, want %q", got, tt.wantStderr)
			}
			e.noEvents()
		})
	}
}

func TestTestRunJSON(t *testing.T) {
	e := newReceiverEnv(t, true)
	if err := e.run(NewCmdTest(e.f, nil), "email-gateway", "--url", e.url+"/", "-o", "json"); err != nil {
		t.Fatal(err)
	}
	if e.stderr.Len() != 0 {
		t.Errorf("stderr = %q: -o json says nothing else", e.stderr)
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(e.stdout.Bytes(), &got); err != nil {
		t.Fatalf("stdout is not a JSON object: %v\n%s", err, e.stdout)
	}
	var keys []string
	for k := range got {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if strings.Join(keys, ",") != "latency_ms,ok,request_id,response,status,url" {
		t.Errorf("keys = %v", keys)
	}
	var res TestResult
	if err := json.Unmarshal(e.stdout.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	e.onlyIncident()
	evs, _ := e.store.ListEvents(context.Background(), store.EventFilter{})
	if res.URL != e.url+"/api/webhooks/email-gateway" || res.Status != 202 || !res.OK || res.LatencyMS <= 0 ||
		len(evs) != 1 || res.RequestID != evs[0].RequestID {
		t.Errorf("result = %+v", res)
	}
	var resp map[string]string
	if err := json.Unmarshal(res.Response, &resp); err != nil || resp["status"] != "queued" || !strings.HasPrefix(resp["queue_id"], "queue-") ||
		resp["message"] != "Event queued for processing" {
		t.Errorf("response = %s", res.Response)
	}
}

// A CI job passes --url "$RECEIVER_URL": a password or token in it is
// used, and never printed, on success or failure, as text or JSON.
func TestTestRunHidesURLCredentials(t *testing.T) {
	e := newReceiverEnv(t, false)
	withCreds := strings.Replace(e.url, "http://", "http://ci:PW999@", 1) + "/?token=QSECRET"
	if err := e.run(NewCmdTest(e.f, nil), "email-gateway", "--url", withCreds); err != nil {
		t.Fatal(err)
	}
	e.onlyIncident()
	if err := e.run(NewCmdTest(e.f, nil), "email-gateway", "--url", withCreds, "-o", "json"); err != nil {
		t.Fatal(err)
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	err := e.run(NewCmdTest(e.f, nil), "email-gateway", "--url", strings.Replace(closed.URL, "http://", "http://ci:PW999@", 1)+"?token=QSECRET", "-o", "json")
	if err == nil {
		t.Fatal("a closed port answered")
	}
	all := e.stdout.String() + e.stderr.String() + err.Error()
	if strings.Contains(all, "PW999") || strings.Contains(all, "QSECRET") {
		t.Fatalf("printed the URL's credentials:\n%s", all)
	}
	if !strings.Contains(all, "/api/webhooks/email-gateway") {
		t.Errorf("the target is not named at all:\n%s", all)
	}
}

func TestTestRunJSONOnFailureStillExitsNonZero(t *testing.T) {
	e := newReceiverEnv(t, false)
	err := e.run(NewCmdTest(e.f, nil), "email-gateway", "--url", e.url, "--secret", "wrong", "-o", "json")
	wantExit(t, err, cmdutil.ExitAuth, "")
	var res TestResult
	if err := json.Unmarshal(e.stdout.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	if res.OK || res.Status != http.StatusUnauthorized || !strings.Contains(string(res.Response), `"invalid_signature"`) {
		t.Errorf("result = %+v", res)
	}
}

func TestTestRunNonJSONResponse(t *testing.T) {
	e := newEnv(t, false)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("upstream down\n"))
	}))
	defer srv.Close()
	err := e.run(NewCmdTest(e.f, nil), "edr", "--url", srv.URL, "--secret", "s", "-o", "json")
	wantExit(t, err, cmdutil.ExitRemote, "")
	var res TestResult
	if err := json.Unmarshal(e.stdout.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	if res.Response != nil || res.ResponseTx != "upstream down\n" || res.Status != http.StatusBadGateway {
		t.Errorf("result = %+v", res)
	}
}

func TestTestRunPayloadFromStdin(t *testing.T) {
	e := newReceiverEnv(t, false)
	body := `{"event_type":"phishing_reported","data":{"subject":"Invoice"}}`
	e.stdin.WriteString(body)
	if err := e.run(NewCmdTest(e.f, nil), "email-gateway", "--url", e.url, "--payload", "-"); err != nil {
		t.Fatal(err)
	}
	evs, _ := e.store.ListEvents(context.Background(), store.EventFilter{})
	if len(evs) != 1 || string(evs[0].Payload) != body {
		t.Errorf("stored = %+v, want the stdin body byte for byte", evs)
	}
}

func TestTestRunServerFromConfig(t *testing.T) {
	e := newReceiverEnv(t, false)
	t.Setenv("TW_SERVER", e.url)

	// A remote receiver never hands out secrets: without one, nothing is sent.
	err := e.run(NewCmdTest(e.f, nil), "email-gateway")
	wantExit(t, err, cmdutil.ExitUsage, `a remote receiver never reveals secrets: pass --secret-env VAR (or --secret) to sign for "email-gateway"`)
	e.noEvents()

	// With the secret, TW_SERVER is the default URL.
	if err := e.run(NewCmdTest(e.f, nil), "email-gateway", "--secret", "your-secret-key"); err != nil {
		t.Fatal(err)
	}
	e.onlyIncident()
}

func TestTestRunErrors(t *testing.T) {
	e := newReceiverEnv(t, false)
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	err := e.run(NewCmdTest(e.f, nil), "email-gateway", "--url", "ftp://example.com")
	wantExit(t, err, cmdutil.ExitUsage, `invalid --url "ftp://example.com": want http(s)://host[:port][/path prefix]`)

	err = e.run(NewCmdTest(e.f, nil), "email-gateway", "--url", e.url, "--payload", filepath.Join(t.TempDir(), "missing.json"))
	wantExit(t, err, cmdutil.ExitUsage, "")

	err = e.run(NewCmdTest(e.f, nil), "email-gateway", "--url", e.url, "--timeout", "-1s")
	wantExit(t, err, cmdutil.ExitUsage, "--timeout -1s: give a duration between 1ms and "+cmdutil.MaxTimeout.String()+", such as 10s")

	err = e.run(NewCmdTest(e.f, nil), "nope", "--url", e.url)
	wantExit(t, err, cmdutil.ExitNotFound, `source not found: "nope" is not registered; run 'tw-cli webhook list'`)

	err = e.run(NewCmdTest(e.f, nil), "email-gateway", "--url", closedURL)
	wantExit(t, err, cmdutil.ExitFailure, "")
	if !strings.HasPrefix(err.Error(), "could not reach "+closedURL+"/api/webhooks/email-gateway: ") ||
		!strings.HasSuffix(err.Error(), "(is 'tw-cli serve' running?)") {
		t.Errorf("err = %q", err)
	}
	e.expectOutput("", "")
	// A receiver whose certificate is not trusted is running: the hint
	// is about the certificate.
	tlsSrv := httptest.NewTLSServer(http.NotFoundHandler())
	defer tlsSrv.Close()
	err = e.run(NewCmdTest(e.f, nil), "email-gateway", "--url", tlsSrv.URL)
	wantExit(t, err, cmdutil.ExitFailure, "")
	if !strings.Contains(err.Error(), "certificate") || !strings.HasSuffix(err.Error(), "point SSL_CERT_FILE at its certificate)") {
		t.Errorf("untrusted certificate: err = %q", err)
	}
	e.expectOutput("", "")
	// With -o json a script still gets a result to read, and the exit.
	err = e.run(NewCmdTest(e.f, nil), "email-gateway", "--url", closedURL, "-o", "json")
	wantExit(t, err, cmdutil.ExitFailure, "")
	var res TestResult
	if jerr := json.Unmarshal(e.stdout.Bytes(), &res); jerr != nil || res.OK || res.Status != 0 || res.URL != closedURL+"/api/webhooks/email-gateway" || res.Error != err.Error() {
		t.Errorf("-o json when unreachable: %q (%v)", e.stdout, jerr)
	}
	e.noEvents()
}

func TestIngestURL(t *testing.T) {
	tests := []struct {
		base, name, want string
	}{
		{"http://127.0.0.1:8080", "edr", "http://127.0.0.1:8080/api/webhooks/edr"},
		{"http://127.0.0.1:8080/", "edr", "http://127.0.0.1:8080/api/webhooks/edr"},
		{"https://hooks.example.com/tw", "edr", "https://hooks.example.com/tw/api/webhooks/edr"},
		{"https://hooks.example.com/api/webhooks/edr", "edr", "https://hooks.example.com/api/webhooks/edr"},
		{"https://hooks.example.com/api/webhooks/edr/", "edr", "https://hooks.example.com/api/webhooks/edr"},
	}
	for _, tt := range tests {
		got, err := ingestURL(tt.base, tt.name)
		if err != nil || got != tt.want {
			t.Errorf("ingestURL(%q, %q) = %q, %v; want %q", tt.base, tt.name, got, err, tt.want)
		}
	}
	for _, bad := range []string{"127.0.0.1:8080", "ftp://h", "http://", "://x", "localhost"} {
		if _, err := ingestURL(bad, "edr"); cmdutil.ExitCode(err) != cmdutil.ExitUsage {
			t.Errorf("ingestURL(%q) err = %v, want a usage error", bad, err)
		}
	}
}

var testEvent = regexp.MustCompile(`^\{"event_type":"test","data":\{"test_id":"[0-9a-f]{16}"\}\}$`)

// Two runs at the same instant (a CI step run twice) are two deliveries,
// not a delivery and its 409 replay.
func TestTestRunTwiceInOneSecond(t *testing.T) {
	e := newReceiverEnv(t, false)
	for i := range 2 {
		if err := e.run(NewCmdTest(e.f, nil), "email-gateway", "--url", e.url); err != nil {
			t.Fatalf("run %d: %v\n%s", i+1, err, e.stderr)
		}
	}
	if evs, _ := e.store.ListEvents(context.Background(), store.EventFilter{}); len(evs) != 2 {
		t.Fatalf("%d events stored, want 2", len(evs))
	}
}
