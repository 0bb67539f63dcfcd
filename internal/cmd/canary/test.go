package canary

import (
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
console reports exits 5. -o json prints the console's response either way,
for CI logs.`,
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
		cmd.Aliases = []string{"msteams", "teams"}
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
	// -o json/yaml print the console's own response, as CI jobs expect.
	return output.Print(opts.IO, opts.Output, res.Raw, func(t *output.TablePrinter) {
		t.Header("KIND", "WEBHOOK", "RESULT")
		t.Row(string(opts.Kind), webhook, "success")
	})
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

// testError prints the console's answer for -o json/yaml, then maps a
// failure the console reported to exit 5 (auth stays 3, bad input 2).
func testError(opts *TestOptions, err error) error {
	var apiErr *canaryapi.APIError
	if !errors.As(err, &apiErr) {
		return consoleError(err)
	}
	if (opts.Output == output.JSON || opts.Output == output.YAML) && json.Valid(apiErr.Body) {
		if perr := output.Print(opts.IO, opts.Output, json.RawMessage(apiErr.Body), nil); perr != nil {
			return perr
		}
	}
	if apiErr.IsAuth() || errors.Is(err, canaryapi.ErrNotFound) {
		return consoleError(err)
	}
	return cmdutil.RemoteError(err)
}
