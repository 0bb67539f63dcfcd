package threatstack

import (
	"strconv"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/output"
	"github.com/tw-cli/tw-cli/pkg/threatstack"
)

// AlertsSeverityCountsOptions are the inputs of `threatstack alerts severity-counts`.
type AlertsSeverityCountsOptions struct {
	IO     *iostreams.IOStreams
	Client func() (*threatstack.Client, error)
	Output string
}

// NewCmdAlertsSeverityCounts returns `threatstack alerts severity-counts`.
func NewCmdAlertsSeverityCounts(f *cmdutil.Factory, runF func(*AlertsSeverityCountsOptions) error) *cobra.Command {
	opts := &AlertsSeverityCountsOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:     "severity-counts",
		Aliases: []string{"counts"},
		Short:   "Count alerts by severity",
		Long: `Count alerts by severity. When piped the columns are SEVERITY (1, 2, 3),
NAME (high, medium, low), COUNT.`,
		Example: `  $ tw-cli threatstack alerts severity-counts -o json`,
		Args:    cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Client = clientFunc(f, cmd)
			if runF != nil {
				return runF(opts)
			}
			return alertsSeverityCountsRun(cmd, opts)
		},
	}
	output.AddFormatFlag(cmd, &opts.Output)
	return cmd
}

func alertsSeverityCountsRun(cmd *cobra.Command, opts *AlertsSeverityCountsOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	counts, err := c.AlertSeverityCounts(cmd.Context())
	if err != nil {
		return apiError(err)
	}
	if counts == nil {
		counts = []threatstack.SeverityCount{}
	}
	return output.Print(opts.IO, opts.Output, counts, func(t *output.TablePrinter) {
		t.Header("SEVERITY", "NAME", "COUNT")
		for _, sc := range counts {
			t.Row(strconv.Itoa(sc.Severity), severityName(sc.Severity), strconv.Itoa(sc.Count))
		}
	})
}
