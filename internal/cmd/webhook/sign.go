package webhook

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/output"
	"github.com/tw-cli/tw-cli/pkg/signature"
)

// SignOptions are the inputs of `webhook sign`.
type SignOptions struct {
	IO     *iostreams.IOStreams
	Secret func(ctx context.Context, name string) ([]byte, error)
	Now    func() time.Time

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
	cmd := &cobra.Command{
		Use:   "sign <source> --body <file>",
		Short: "Print the signature headers a sender must set for a body",
		Long: `Compute the headers that authenticate a delivery of the given body, for
building a sender or debugging one. The body is signed byte for byte: send
exactly the same bytes.`,
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
			if runF != nil {
				return runF(opts)
			}
			return signRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.BodyFile, "body", "", "`file` holding the exact body to sign (- for stdin)")
	cmd.Flags().Int64Var(&opts.Timestamp, "timestamp", 0, "Unix `seconds` to sign with (default now)")
	opts.secret.register(cmd, "Sign with this `secret` instead of the stored one")
	_ = cmd.MarkFlagFilename("body")
	output.AddFormatFlag(cmd, &opts.Output)
	return cmd
}

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
	sig, ts := signature.Sign(secret, at, body)
	headers := map[string]string{signature.SignatureHeader: sig, signature.TimestampHeader: ts}
	if opts.Output == output.JSON || opts.Output == output.YAML {
		return output.Print(opts.IO, opts.Output, headers, nil)
	}
	_, err = fmt.Fprintf(opts.IO.Out, "%s: %s\n%s: %s\n", signature.SignatureHeader, sig, signature.TimestampHeader, ts)
	return err
}
