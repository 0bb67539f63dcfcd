package webhook

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/output"
	"github.com/tw-cli/tw-cli/internal/sources"
)

// RotateOptions are the inputs of `webhook rotate-secret`.
type RotateOptions struct {
	IO      *iostreams.IOStreams
	Sources func() (sources.Service, error)
	Getenv  func(string) string
	Name    string
	secret  secretFlags
	Grace   time.Duration
	Output  string
}

// NewCmdRotateSecret returns `webhook rotate-secret`.
func NewCmdRotateSecret(f *cmdutil.Factory, runF func(*RotateOptions) error) *cobra.Command {
	opts := &RotateOptions{IO: f.IOStreams, Sources: f.Sources, Getenv: os.Getenv}
	cmd := &cobra.Command{
		Use:   "rotate-secret <source>",
		Short: "Replace a source's secret, keeping the old one valid for a while",
		Long: `Replace a source's secret. The old secret keeps verifying deliveries for
the grace period (default 24h) so senders can switch without losing any;
--grace 0 revokes it at once. Without --secret or --secret-env a new
secret is generated and printed once.`,
		Example: `  $ tw-cli webhook rotate-secret email-gateway
  $ tw-cli webhook rotate-secret edr --secret-env NEW_EDR_SECRET --grace 1h`,
		Args:              cmdutil.ExactArgs(1, "source name"),
		ValidArgsFunction: completeSourceNames(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if opts.Grace < 0 || opts.Grace > sources.MaxGrace {
				return cmdutil.FlagErrorf("--grace must be between 0 and a year (8760h), not %s", opts.Grace)
			}
			if runF != nil {
				return runF(opts)
			}
			return rotateRun(cmd, opts)
		},
	}
	opts.secret.register(cmd, "New `secret`")
	cmdutil.DurationVar(cmd.Flags(), &opts.Grace, "grace", sources.DefaultGrace, "How long the old secret keeps verifying (e.g. 1h, 7d)")
	output.AddFormatFlag(cmd, &opts.Output)
	return cmd
}

func rotateRun(cmd *cobra.Command, opts *RotateOptions) error {
	secret, err := opts.secret.resolve(opts.Getenv)
	if err != nil {
		return err
	}
	svc, err := opts.Sources()
	if err != nil {
		return err
	}
	v, generated, err := svc.RotateSecret(cmd.Context(), opts.Name, secret, opts.Grace)
	if err != nil {
		return sourceError(err)
	}
	// The file's secret would come back, and the one just handed to the
	// senders stop verifying once the grace ends.
	warnFileManaged(opts.IO, v, "put the file's secret back")
	if opts.Output == output.JSON || opts.Output == output.YAML {
		return output.Print(opts.IO, opts.Output, sources.CreatedView{View: v, GeneratedSecret: generated}, nil)
	}
	if v.PreviousSecretExpiresAt != nil {
		fmt.Fprintf(opts.IO.ErrOut, "✓ Rotated the secret of %s; the old one verifies until %s\n", v.Source, v.PreviousSecretExpiresAt.UTC().Format(time.RFC3339))
	} else {
		fmt.Fprintf(opts.IO.ErrOut, "✓ Rotated the secret of %s; the old one no longer verifies\n", v.Source)
	}
	warnWeakSecret(opts.IO, secret, generateHint)
	if generated != "" {
		fmt.Fprintln(opts.IO.ErrOut, "New secret (shown once):")
		fmt.Fprintln(opts.IO.Out, generated)
	}
	return nil
}
