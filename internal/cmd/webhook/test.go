package webhook

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/output"
	"github.com/tw-cli/tw-cli/internal/redact"
	"github.com/tw-cli/tw-cli/internal/verify"
)

// testPayload is seed 003's test event with a random test_id, so that two
// runs within a second (a CI step run twice, or the README's curl then
// this) are two deliveries rather than a 409 replay of one.
func testPayload() []byte {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return []byte(`{"event_type":"test","data":{"test_id":"` + hex.EncodeToString(b) + `"}}`)
}

// DefaultReceiverURL is where `serve` listens by default.
const DefaultReceiverURL = "http://127.0.0.1:8080"

// TestOptions are the inputs of `webhook test`.
type TestOptions struct {
	IO         *iostreams.IOStreams
	HTTPClient func() *http.Client
	// Secret returns the secret to sign with.
	Secret func(ctx context.Context, name string) ([]byte, error)
	// Mode returns the source's verification mode (hmac when nil).
	Mode func(ctx context.Context, name string) (string, error)
	// ServerURL is --server/TW_SERVER, the default base URL when set.
	ServerURL func() string
	Now       func() time.Time

	Name string
	// ResignReplayed signs again, a second later, a body the receiver
	// answered 409 (replayed) to: a stored body sent again (events
	// replay) in the second it was received, or sent twice.
	ResignReplayed bool
	URL            string
	PayloadFile    string
	Timeout        time.Duration
	Output         string
	secret         secretFlags
}

// TestResult is what `webhook test -o json` prints.
type TestResult struct {
	URL        string          `json:"url"`
	Status     int             `json:"status"`
	OK         bool            `json:"ok"`
	LatencyMS  float64         `json:"latency_ms"`
	RequestID  string          `json:"request_id,omitempty"`
	Response   json.RawMessage `json:"response,omitempty"`
	ResponseTx string          `json:"response_text,omitempty"`
	// Error says why there is no response (status 0).
	Error string `json:"error,omitempty"`
}

// NewTestOptions returns the options of a command that signs a body for a
// source and POSTs it to a receiver, wired to f: `webhook test`, and
// `events replay`, which sends a stored body again. AddSendFlags
// registers their shared flags.
func NewTestOptions(f *cmdutil.Factory) *TestOptions {
	opts := &TestOptions{IO: f.IOStreams, HTTPClient: f.HTTPClient, Now: f.Now}
	opts.Secret = func(ctx context.Context, name string) ([]byte, error) {
		return sourceSecret(ctx, f, &opts.secret, name)
	}
	opts.Mode = func(ctx context.Context, name string) (string, error) { return sourceMode(ctx, f, &opts.secret, name) }
	opts.ServerURL = func() string {
		if cfg, err := f.Config(); err == nil {
			return cfg.Get("server")
		}
		return ""
	}
	return opts
}

// AddSendFlags registers --url, --timeout, the secret flags and -o on a
// command that sends with opts (see Send).
func AddSendFlags(cmd *cobra.Command, opts *TestOptions) {
	fl := cmd.Flags()
	fl.StringVar(&opts.URL, "url", "", "Base `URL` of the receiver")
	fl.DurationVar(&opts.Timeout, "timeout", 10*time.Second, "Give up after this long (1ms to "+cmdutil.MaxTimeout.String()+")")
	opts.secret.register(cmd, "Sign with this `secret` instead of the stored one (needed with --server)")
	output.AddFormatFlag(cmd, &opts.Output)
}

// NewCmdTest returns `webhook test`.
func NewCmdTest(f *cmdutil.Factory, runF func(*TestOptions) error) *cobra.Command {
	opts := NewTestOptions(f)
	cmd := &cobra.Command{
		Use:   "test <source>",
		Short: "Send a signed test event to a receiver",
		Long: `Sign a test event with the source's secret, exactly as a sender must for
the source's verification mode (hmac, github, slack, standard-webhooks,
bearer, basic, url-token), and POST it to <url>/api/webhooks/<source>. Prints the status, the latency and
the receiver's response.

The default event is {"event_type":"test","data":{"test_id":"<random>"}},
new on every run so that runs in the same second are not replays of each
other; --payload sends a file instead ("-" for stdin). The URL defaults to --server/TW_SERVER, or
` + DefaultReceiverURL + `.

Exit status:
  0  the receiver answered 2xx
  1  the receiver could not be reached
  3  the receiver rejected the signature or timestamp (401)
  5  the receiver answered any other non-2xx status`,
		Example: `  $ tw-cli webhook test email-gateway
  $ tw-cli webhook test email-gateway --url https://receiver.example.com --payload alert.json -o json`,
		Args:              cmdutil.ExactArgs(1, "source name"),
		ValidArgsFunction: completeSourceNames(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if runF != nil {
				return runF(opts)
			}
			return testRun(cmd.Context(), opts)
		},
	}
	AddSendFlags(cmd, opts)
	cmd.Flags().StringVar(&opts.PayloadFile, "payload", "", "JSON `file` to send instead of the test event (- for stdin)")
	_ = cmd.MarkFlagFilename("payload", "json")
	return cmd
}

func testRun(ctx context.Context, opts *TestOptions) error {
	body := testPayload()
	if opts.PayloadFile != "" {
		var err error
		if body, err = readFileOrStdin(opts.IO, opts.PayloadFile); err != nil {
			return err
		}
	}
	return Send(ctx, opts, body, "tw-cli webhook test")
}

// Send signs body for source opts.Name as its senders must, POSTs it to
// the receiver and reports the answer as `webhook test` does, with its
// exit statuses; agent is the request's User-Agent.
func Send(ctx context.Context, opts *TestOptions, body []byte, agent string) error {
	if err := cmdutil.CheckTimeout(opts.Timeout); err != nil {
		return err
	}
	target, err := ingestURL(firstNonEmpty(opts.URL, opts.ServerURL(), DefaultReceiverURL), opts.Name)
	if err != nil {
		return err
	}
	// What is printed: a CI job's --url "$RECEIVER_URL" may carry a
	// password or a token, and its log is no place for them.
	shown := redact.CredentialsString(target)
	secret, err := opts.Secret(ctx, opts.Name)
	if err != nil {
		return err
	}
	mode, err := modeOf(ctx, opts.Mode, opts.Name)
	if err != nil {
		return err
	}
	// Signing fails the same way at any time: found out here, it is not
	// taken for an unreachable receiver below.
	if _, err := verify.Sign(mode, secret, opts.Now(), body); err != nil {
		return fmt.Errorf("sign for %s (verify %s): %w", opts.Name, mode, err)
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	start := time.Now()
	resp, err := post(ctx, opts, target, mode, secret, body, agent)
	// The same body signed in the same second is the same signature, which
	// the receiver rightly takes for a replay: sign again in the next
	// second. Only where the signature holds a timestamp (hmac, slack):
	// elsewhere the key is the body or an id, and a new second changes
	// nothing.
	resign := opts.ResignReplayed && (mode == verify.ModeHMAC || mode == verify.ModeSlack)
resend:
	for tries := 0; resign && err == nil && resp.StatusCode == http.StatusConflict && tries < 2; tries++ {
		wait := time.NewTimer(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
		select {
		case <-wait.C:
		case <-ctx.Done():
			wait.Stop()
			break resend // the 409 stands
		}
		resp.Body.Close()
		start = time.Now()
		resp, err = post(ctx, opts, target, mode, secret, body, agent)
	}
	if opts.ResignReplayed && !resign && err == nil && resp.StatusCode == http.StatusConflict {
		fmt.Fprintf(opts.IO.ErrOut, "! %s is verified as %s, whose replay key is the body (or the sender's delivery id), not the time: the receiver refuses this body again until its replay window has passed\n", opts.Name, mode)
	}
	if err != nil {
		// net/http's *url.Error names the whole URL, a url-token
		// source's ?token= included: the target without it says enough.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		hint := "is 'tw-cli serve' running?"
		if errors.As(err, new(*tls.CertificateVerificationError)) {
			// It is running: its certificate is what failed.
			hint = "the receiver's certificate is not trusted here: for a private CA, point SSL_CERT_FILE at its certificate"
		}
		err = fmt.Errorf("could not reach %s: %w (%s)", shown, err, hint)
		if opts.Output == output.JSON || opts.Output == output.YAML {
			// A script reading stdout gets a result either way.
			if perr := output.Print(opts.IO, opts.Output, TestResult{URL: shown, Error: err.Error()}, nil); perr != nil {
				return perr
			}
		}
		return err
	}
	defer resp.Body.Close()
	respBody, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	latency := time.Since(start)

	res := TestResult{
		URL: shown, Status: resp.StatusCode, OK: resp.StatusCode/100 == 2,
		LatencyMS: float64(latency.Microseconds()) / 1000, RequestID: resp.Header.Get("X-Request-Id"),
	}
	if json.Valid(respBody) {
		res.Response = respBody
	} else {
		res.ResponseTx = string(respBody)
	}
	if opts.Output == output.JSON || opts.Output == output.YAML {
		if err := output.Print(opts.IO, opts.Output, res, nil); err != nil {
			return err
		}
	} else {
		mark := "✓"
		if !res.OK {
			mark = "✗"
		}
		fmt.Fprintf(opts.IO.ErrOut, "%s %s %d %s in %s\n", mark, shown, resp.StatusCode, http.StatusText(resp.StatusCode), latency.Round(100*time.Microsecond))
		fmt.Fprintln(opts.IO.Out, strings.TrimSpace(string(respBody)))
	}
	switch {
	case res.OK:
		return nil
	case resp.StatusCode == http.StatusUnauthorized:
		return &cmdutil.ExitError{Code: cmdutil.ExitAuth, Err: cmdutil.ErrSilent}
	default:
		return &cmdutil.ExitError{Code: cmdutil.ExitRemote, Err: cmdutil.ErrSilent}
	}
}

// post signs body at opts.Now() for the source's verification mode and
// POSTs it to target.
func post(ctx context.Context, opts *TestOptions, target, mode string, secret, body []byte, agent string) (*http.Response, error) {
	creds, err := verify.Sign(mode, secret, opts.Now(), body)
	if err != nil {
		return nil, fmt.Errorf("sign for %s (verify %s): %w", opts.Name, mode, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", agent)
	for k, vs := range creds.Header {
		req.Header[k] = vs
	}
	if len(creds.Query) > 0 {
		q := req.URL.Query()
		for k, vs := range creds.Query {
			q[k] = vs
		}
		req.URL.RawQuery = q.Encode()
	}
	return opts.HTTPClient().Do(req)
}

// ingestURL builds <base>/api/webhooks/<source>, accepting a base that
// already ends in the ingest path.
func ingestURL(base, name string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", cmdutil.FlagErrorf("invalid --url %q: want http(s)://host[:port][/path prefix]", redact.CredentialsString(base))
	}
	p := strings.TrimRight(u.Path, "/")
	if !strings.HasSuffix(p, "/api/webhooks/"+name) {
		p += "/api/webhooks/" + url.PathEscape(name)
	}
	u.Path = p
	return u.String(), nil
}

func readFileOrStdin(ios *iostreams.IOStreams, path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(ios.In)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, cmdutil.FlagErrorf("read payload: %v", err)
	}
	return b, nil
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
