package webhook

import (
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/output"
	"github.com/tw-cli/tw-cli/internal/sources"
)

// ShowOptions are the inputs of `webhook show`.
type ShowOptions struct {
	IO      *iostreams.IOStreams
	Sources func() (sources.Service, error)
	Now     func() time.Time
	Name    string
	Output  string
}

// NewCmdShow returns `webhook show`.
func NewCmdShow(f *cmdutil.Factory, runF func(*ShowOptions) error) *cobra.Command {
	opts := &ShowOptions{IO: f.IOStreams, Sources: f.Sources, Now: f.Now}
	cmd := &cobra.Command{
		Use:               "show <source>",
		Aliases:           []string{"view", "get"},
		Short:             "Show one webhook source",
		Example:           `  $ tw-cli webhook show email-gateway -o yaml`,
		Args:              cmdutil.ExactArgs(1, "source name"),
		ValidArgsFunction: completeSourceNames(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if runF != nil {
				return runF(opts)
			}
			return showRun(cmd, opts)
		},
	}
	output.AddFormatFlag(cmd, &opts.Output)
	return cmd
}

func showRun(cmd *cobra.Command, opts *ShowOptions) error {
	svc, err := opts.Sources()
	if err != nil {
		return err
	}
	v, err := svc.Get(cmd.Context(), opts.Name)
	if err != nil {
		return sourceError(err)
	}
	now := opts.Now()
	return output.Print(opts.IO, opts.Output, v, func(t *output.TablePrinter) {
		tty := t.IsTTY()
		t.Header("FIELD", "VALUE")
		t.Row("source", v.Source)
		t.Row("format", v.Format)
		t.Row("verify", v.Verify)
		t.Row("auto_triage", onOff(v.AutoTriage))
		t.Row("playbook", dash(v.Playbook))
		t.Row("severity_mapping", dash(formatMapping(v.SeverityMapping)))
		t.Row("secret", sources.MaskedSecret)
		if v.PreviousSecretExpiresAt != nil {
			t.Row("previous_secret_expires", v.PreviousSecretExpiresAt.UTC().Format(time.RFC3339))
		}
		t.Row("allow_from", allowFrom(v.AllowFrom))
		t.Row("description", dash(v.Description))
		t.Row("origin", v.Origin)
		t.Row("created", output.Time(v.CreatedAt, tty, now))
		t.Row("updated", output.Time(v.UpdatedAt, tty, now))
	})
}

func formatMapping(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, ",")
}

// allowFrom shows a source's allowed networks; none means any address.
func allowFrom(networks []string) string {
	if len(networks) == 0 {
		return "any"
	}
	return strings.Join(networks, ",")
}
