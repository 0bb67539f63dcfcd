package webhook

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/output"
	"github.com/tw-cli/tw-cli/internal/sources"
)

// ListOptions are the inputs of `webhook list`.
type ListOptions struct {
	IO      *iostreams.IOStreams
	Sources func() (sources.Service, error)
	Now     func() time.Time
	Output  string
}

// NewCmdList returns `webhook list`.
func NewCmdList(f *cmdutil.Factory, runF func(*ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IOStreams, Sources: f.Sources, Now: f.Now}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List webhook sources",
		Long: `List registered webhook sources. Secrets are never shown.

On a terminal the output is a table; when piped it is one tab-separated
line per source with the columns SOURCE, FORMAT, VERIFY, AUTO-TRIAGE,
PLAYBOOK, SECRET, ORIGIN, UPDATED (RFC 3339).`,
		Example: `  $ tw-cli webhook list
  $ tw-cli webhook list -o json | jq -r '.[].source'`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return listRun(cmd, opts)
		},
	}
	output.AddFormatFlag(cmd, &opts.Output)
	return cmd
}

func listRun(cmd *cobra.Command, opts *ListOptions) error {
	svc, err := opts.Sources()
	if err != nil {
		return err
	}
	vs, err := svc.List(cmd.Context())
	if err != nil {
		return sourceError(err)
	}
	if vs == nil {
		vs = []sources.View{}
	}
	if len(vs) == 0 && opts.Output == output.Table && opts.IO.IsStdoutTTY() {
		opts.IO.ErrOut.Write([]byte("No webhook sources yet. Add one with 'tw-cli webhook add <source>'.\n"))
		return nil
	}
	now := opts.Now()
	return output.Print(opts.IO, opts.Output, vs, func(t *output.TablePrinter) {
		t.Header("SOURCE", "FORMAT", "VERIFY", "AUTO-TRIAGE", "PLAYBOOK", "SECRET", "ORIGIN", "UPDATED")
		for _, v := range vs {
			verify := v.Verify
			if verify == "none" {
				verify = "none (UNVERIFIED)"
			}
			secret := sources.MaskedSecret
			if v.PreviousSecretExpiresAt != nil {
				secret += " (rotating)"
			}
			t.Row(v.Source, v.Format, verify, onOff(v.AutoTriage), dash(v.Playbook), secret, v.Origin, output.Time(v.UpdatedAt, t.IsTTY(), now))
		}
	})
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
