package canary

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/output"
	canaryapi "github.com/tw-cli/tw-cli/pkg/canary"
)

// NewCmdTest returns `canary webhooks test`, one subcommand per kind.
func NewCmdTest(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "test <kind>",
		Short: "Have the console send a test alert to a webhook",
		Long: `Ask the console to send a test alert to one of the flock's webhooks. The
exit status is 0 only when the console reports success; a failure the
console reports (a webhook or flock it does not know included), or no
answer from it, exits 5; a rejected auth token exits 3.

-o json prints the console's response either way, for CI logs, with the
webhook URL masked as 'list' shows it (--reveal shows it in full). When the
console gives no JSON to print (an HTML error page, a timeout), -o json
prints {"result": "error", "message": …} instead, with the HTTP status when
there was one.`,
	}
	for _, k := range canaryapi.Kinds {
		cmd.AddCommand(NewCmdTestKind(f, k, nil))
	}
	return cmd
}

// TestOptions are the inputs of `canary webhooks test <kind>`.
type TestOptions struct {
	IO      *iostreams.IOStreams
	Console *Console
	Kind    canaryapi.Kind
	// URL is the webhook to test; Splunk has one per flock and takes none.
	URL    string
	Output string
	// Reveal shows the webhook URL in full; it is masked by default, as in
	// list, because a Slack or Teams URL is the credential to post with.
	Reveal bool
}

// NewCmdTestKind returns `canary webhooks test generic|ms-teams|slack|splunk`.
func NewCmdTestKind(f *cmdutil.Factory, kind canaryapi.Kind, runF func(*TestOptions) error) *cobra.Command {
	opts := &TestOptions{IO: f.IOStreams, Console: NewConsole(f), Kind: kind}
	cmd := &cobra.Command{
		Use:     string(kind) + " <url>",
		Short:   "Send a test alert to a " + kindTitle(kind) + " webhook",
		Example: fmt.Sprintf("  $ tw-cli canary webhooks test %s https://hooks.example.com/canary -o json", kind),
		Args:    cmdutil.ExactArgs(1, "webhook URL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Console.ReadFlags(cmd)
			if len(args) > 0 {
				opts.URL = args[0]
			}
			if runF != nil {
				return runF(opts)
			}
			return testRun(cmd, opts)
		},
	}
	switch kind {
	case canaryapi.KindSplunk:
		cmd.Use = "splunk"
		cmd.Short = "Send a test event to the flock's Splunk HEC"
		cmd.Example = "  $ tw-cli canary webhooks test splunk"
		cmd.Args = cmdutil.NoArgs
	case canaryapi.KindMSTeams:
		cmd.Aliases = []string{"ms_teams", "msteams", "teams"}
	}
	if kind != canaryapi.KindSplunk {
		cmd.Flags().BoolVar(&opts.Reveal, "reveal", false, "Show the webhook URL in full (it is a credential)")
	}
	output.AddFormatFlag(cmd, &opts.Output)
	return cmd
}

func testRun(cmd *cobra.Command, opts *TestOptions) error {
	client, flock, err := opts.Console.Target()
	if err != nil {
		return err
	}
	res, err := runTest(cmd.Context(), client, flock, opts.Kind, opts.URL)
	if err != nil {
		return testError(opts, err)
	}
	webhook := res.Webhook
	if webhook == "" {
		webhook = opts.URL
	}
	if !opts.Reveal {
		webhook = maskURL(webhook)
	}
	// -o json/yaml print the console's own response, as CI jobs expect.
	return output.Print(opts.IO, opts.Output, opts.maskBody(res.Raw), func(t *output.TablePrinter) {
		t.Header("KIND", "WEBHOOK", "RESULT")
		t.Row(string(opts.Kind), webhook, "success")
	})
}

// maskBody masks the webhook URL a test response echoes, unless --reveal.
// A body that is not a JSON object comes back as it was.
func (opts *TestOptions) maskBody(body []byte) json.RawMessage {
	var fields map[string]json.RawMessage
	if opts.Reveal || json.Unmarshal(body, &fields) != nil {
		return body
	}
	var webhook string
	if raw, ok := fields["webhook"]; !ok || json.Unmarshal(raw, &webhook) != nil {
		return body
	}
	masked, err := marshalJSON(maskURL(webhook))
	if err != nil {
		return body
	}
	fields["webhook"] = masked
	out, err := marshalJSON(fields)
	if err != nil {
		return body
	}
	return out
}

// marshalJSON is json.Marshal without HTML escaping, so the console's other
// fields print as it sent them (an & stays an &, as output.WriteJSON keeps it).
func marshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// testErrorView is what -o json/yaml print when the console gave no JSON
// to pass on: a non-JSON error page, or no answer at all.
type testErrorView struct {
	Result  string `json:"result"`
	Message string `json:"message"`
	Status  int    `json:"status,omitempty"`
}

func runTest(ctx context.Context, client *canaryapi.Client, flock string, kind canaryapi.Kind, url string) (canaryapi.TestResult, error) {
	switch kind {
	case canaryapi.KindGeneric:
		return client.TestGenericWebhook(ctx, flock, url)
	case canaryapi.KindMSTeams:
		return client.TestMSTeamsWebhook(ctx, flock, url)
	case canaryapi.KindSlack:
		return client.TestSlackWebhook(ctx, flock, url)
	}
	return client.TestSplunkWebhook(ctx, flock)
}

// testError prints the console's answer for -o json/yaml (or, without a
// JSON one, an error object), then maps a failure the console reported and
// a console that did not answer to exit 5 (auth stays 3, bad input 2).
func testError(opts *TestOptions, err error) error {
	structured := opts.Output == output.JSON || opts.Output == output.YAML
	var apiErr *canaryapi.APIError
	var reqErr *canaryapi.RequestError
	switch {
	case errors.As(err, &apiErr):
		if structured {
			var v any = testErrorView{Result: "error", Message: apiErr.Message, Status: apiErr.StatusCode}
			if json.Valid(apiErr.Body) {
				v = opts.maskBody(apiErr.Body)
			}
			if perr := output.Print(opts.IO, opts.Output, v, nil); perr != nil {
				return perr
			}
		}
		if apiErr.IsAuth() {
			return consoleError(err)
		}
		// Anything else the console refuses, a 404 for an unknown
		// webhook or flock included, is the test failing: exit 5, as
		// the help and README say.
		return cmdutil.RemoteError(err)
	case errors.As(err, &reqErr):
		if structured {
			if perr := output.Print(opts.IO, opts.Output, testErrorView{Result: "error", Message: err.Error()}, nil); perr != nil {
				return perr
			}
		}
		return cmdutil.RemoteError(consoleError(err))
	}
	return consoleError(err)
}
