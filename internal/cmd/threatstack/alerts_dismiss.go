package threatstack

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/pkg/threatstack"
)

// AlertsDismissOptions are the inputs of `threatstack alerts dismiss`.
type AlertsDismissOptions struct {
	IO     *iostreams.IOStreams
	Client func() (*threatstack.Client, error)

	IDs     []string
	Reason  string
	Comment string
}

// NewCmdAlertsDismiss returns `threatstack alerts dismiss`.
func NewCmdAlertsDismiss(f *cmdutil.Factory, runF func(*AlertsDismissOptions) error) *cobra.Command {
	opts := &AlertsDismissOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "dismiss <alert-id>...",
		Short: "Dismiss alerts",
		Long: `Dismiss one or more alerts with a reason: business-op, company-policy,
maintenance or other (the default). The request is sent once and never
retried automatically, so a timeout leaves its outcome to be checked with
'alerts get'.`,
		Example: `  $ tw-cli threatstack alerts dismiss 5d1f… 5d20… --reason maintenance --comment "patch window"`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmdutil.FlagErrorf("missing alert id\n\nUsage: %s", cmd.UseLine())
			}
			return nonBlankIDs(cmd, "alert id", args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.IDs = args
			reason, err := parseDismissReason(opts.Reason)
			if err != nil {
				return err
			}
			opts.Reason = reason
			opts.Client = clientFunc(f, cmd)
			if runF != nil {
				return runF(opts)
			}
			return alertsDismissRun(cmd, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Reason, "reason", "other", "Why: business-op, company-policy, maintenance or other")
	cmd.Flags().StringVar(&opts.Comment, "comment", "", "Free text stored with the dismissal")
	_ = cmd.RegisterFlagCompletionFunc("reason", cobra.FixedCompletions(
		[]string{"business-op", "company-policy", "maintenance", "other"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// parseDismissReason accepts the API's names (BUSINESS_OP) and their
// command-line spellings (business-op).
func parseDismissReason(s string) (string, error) {
	r := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), "-", "_"))
	if slices.Contains(threatstack.DismissReasons, r) {
		return r, nil
	}
	return "", cmdutil.FlagErrorf("invalid --reason %q: use business-op, company-policy, maintenance or other", s)
}

func alertsDismissRun(cmd *cobra.Command, opts *AlertsDismissOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	err = c.DismissAlerts(cmd.Context(), threatstack.DismissRequest{IDs: opts.IDs, Reason: opts.Reason, ReasonText: opts.Comment})
	if err != nil {
		return apiError(err)
	}
	noun := "alerts"
	if len(opts.IDs) == 1 {
		noun = "alert"
	}
	fmt.Fprintf(opts.IO.ErrOut, "✓ Dismissed %d %s (%s)\n", len(opts.IDs), noun, opts.Reason)
	return nil
}
