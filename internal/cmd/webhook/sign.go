package webhook

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/output"
	"github.com/tw-cli/tw-cli/internal/verify"
)

// SignOptions are the inputs of `webhook sign`.
type SignOptions struct {
	IO     *iostreams.IOStreams
	Secret func(ctx context.Context, name string) ([]byte, error)
	// Mode returns the source's verification mode (hmac when nil).
	Mode func(ctx context.Context, name string) (string, error)
	Now  func() time.Time

	Name      string
	BodyFile  string
	Timestamp int64
	Output    string
	secret    secretFlags
}

// NewCmdSign returns `webhook sign`.
func NewCmdSign(f *cmdutil.Factory, runF func(*SignOptions) error) *cobra.Command {
	opts := &SignOptions{IO: f.IOStreams, Now: f.Now}
	opts.Secret = func(ctx context.Context, name string) ([]byte, error) {
		return sourceSecret(ctx, f, &opts.secret, name)
	}
	opts.Mode = func(ctx context.Context, name string) (string, error) { return sourceMode(ctx, f, &opts.secret, name) }
	cmd := &cobra.Command{
		Use:   "sign <source> --body <file>",
		Short: "Print the signature headers a sender must set for a body",
		Long: `Compute the headers that authenticate a delivery of the given body, for
building a sender or debugging one, in the source's verification mode
(for url-token, the query parameter to add to the URL instead). The body
is signed byte for byte: send exactly the same bytes.`,
		Example: `  $ tw-cli webhook sign email-gateway --body event.json
  X-Webhook-Signature: sha256=…
  X-Webhook-Timestamp: 1705320000

  $ printf '%s' "$BODY" | tw-cli webhook sign email-gateway --body - -o json`,
		Args:              cmdutil.ExactArgs(1, "source name"),
		ValidArgsFunction: completeSourceNames(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if opts.BodyFile == "" {
				return cmdutil.FlagErrorf("--body is required (a file, or - for stdin)")
			}
			// Only a given --timestamp is checked, as 0 stands for "now"
			// when it is not. 0 or less was signed with the current time
			// without a word, and more than 12 digits gives headers no
			// receiver parses.
			if cmd.Flags().Changed("timestamp") && (opts.Timestamp < 1 || opts.Timestamp > maxSignTimestamp) {
				return cmdutil.FlagErrorf("--timestamp %d is out of range: give unix seconds from 1 to %d, or leave it out to sign with the current time", opts.Timestamp, int64(maxSignTimestamp))
			}
			if runF != nil {
				return runF(opts)
			}
			return signRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.BodyFile, "body", "", "`file` holding the exact body to sign (- for stdin)")
	cmd.Flags().Int64Var(&opts.Timestamp, "timestamp", 0, "Unix `seconds` to sign with, 1 to 999999999999 (default now)")
	opts.secret.register(cmd, "Sign with this `secret` instead of the stored one")
	_ = cmd.MarkFlagFilename("body")
	output.AddFormatFlag(cmd, &opts.Output)
	return cmd
}

// maxSignTimestamp is the largest timestamp receivers read: they take at
// most 12 digits (signature.ParseTimestamp).
const maxSignTimestamp = 999_999_999_999

func signRun(ctx context.Context, opts *SignOptions) error {
	body, err := readFileOrStdin(opts.IO, opts.BodyFile)
	if err != nil {
		return err
	}
	secret, err := opts.Secret(ctx, opts.Name)
	if err != nil {
		return err
	}
	at := opts.Now()
	if opts.Timestamp > 0 {
		at = time.Unix(opts.Timestamp, 0)
	}
	mode, err := modeOf(ctx, opts.Mode, opts.Name)
	if err != nil {
		return err
	}
	creds, err := verify.Sign(mode, secret, at, body)
	if err != nil {
		return fmt.Errorf("sign for %s (verify %s): %w", opts.Name, mode, err)
	}
	// Canonical header names, and the query as "?name": one flat map a
	// script can read, in the order a person reads them.
	out := map[string]string{}
	var names []string
	for k := range creds.Header {
		out[k] = creds.Header.Get(k)
		names = append(names, k)
	}
	for k := range creds.Query {
		out["?"+k] = creds.Query.Get(k)
		names = append(names, "?"+k)
	}
	slices.Sort(names)
	if opts.Output == output.JSON || opts.Output == output.YAML {
		return output.Print(opts.IO, opts.Output, out, nil)
	}
	if len(names) == 0 {
		fmt.Fprintf(opts.IO.ErrOut, "Source %s verifies nothing (mode %s): send the body as it is.\n", opts.Name, mode)
		return nil
	}
	for _, k := range names {
		line := k + ": " + out[k]
		if q, ok := strings.CutPrefix(k, "?"); ok {
			// Ready to append to the URL, escaped as a URL needs it.
			line = "?" + url.Values{q: {out[k]}}.Encode()
		}
		if _, err := fmt.Fprintln(opts.IO.Out, line); err != nil {
			return err
		}
	}
	return nil
}
