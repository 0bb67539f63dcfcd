package playbook

import (
	"strconv"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/output"
	"github.com/tw-cli/tw-cli/internal/triage"
)

// ListOptions are the inputs of `playbook list`.
type ListOptions struct {
	IO      *iostreams.IOStreams
	Catalog func() (*triage.Catalog, error)
	Output  string
}

// Summary is one playbook as listed.
type Summary struct {
	Name        string `json:"name"`
	Origin      string `json:"origin"`
	Steps       int    `json:"steps"`
	Description string `json:"description,omitempty"`
}

// NewCmdList returns `playbook list`.
func NewCmdList(f *cmdutil.Factory, runF func(*ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IOStreams, Catalog: catalogFunc(f)}
	cmd := &cobra.Command{
		Use: "list",
		Example: `  $ tw-cli playbook list
  $ tw-cli playbook list -o json`,
		Aliases: []string{"ls"},
		Short:   "List built-in and user playbooks",
		Args:    cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return listRun(opts)
		},
	}
	output.AddFormatFlag(cmd, &opts.Output)
	return cmd
}

func listRun(opts *ListOptions) error {
	cat, err := opts.Catalog()
	if err != nil {
		return err
	}
	warnProblems(cat, opts.IO.ErrOut)
	list := []Summary{}
	for _, pb := range cat.List() {
		list = append(list, Summary{Name: pb.Name, Origin: pb.Origin, Steps: len(pb.Steps), Description: pb.Description})
	}
	return output.Print(opts.IO, opts.Output, list, func(t *output.TablePrinter) {
		t.Header("NAME", "ORIGIN", "STEPS", "DESCRIPTION")
		for _, s := range list {
			t.Row(s.Name, s.Origin, strconv.Itoa(s.Steps), firstLine(s.Description))
		}
	})
}
