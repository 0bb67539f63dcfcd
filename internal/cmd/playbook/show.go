package playbook

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/output"
	"github.com/tw-cli/tw-cli/internal/triage"
)

// ShowOptions are the inputs of `playbook show`.
type ShowOptions struct {
	IO      *iostreams.IOStreams
	Catalog func() (*triage.Catalog, error)
	Name    string
	Output  string
}

// StepView is a step as -o json/yaml shows it.
type StepView struct {
	Name         string   `json:"name"`
	Type         string   `json:"type"`
	If           string   `json:"if,omitempty"`
	Expression   string   `json:"expression,omitempty"`
	Severity     string   `json:"severity,omitempty"`
	Tags         []string `json:"tags,omitempty"`
	Owner        string   `json:"owner,omitempty"`
	Window       string   `json:"window,omitempty"`
	Reason       string   `json:"reason,omitempty"`
	ScanRaw      *bool    `json:"scan_raw,omitempty"`
	Destinations []string `json:"destinations,omitempty"`
}

// View is a playbook as -o json/yaml shows it.
type View struct {
	Name        string     `json:"name"`
	Description string     `json:"description,omitempty"`
	Origin      string     `json:"origin"`
	Steps       []StepView `json:"steps"`
}

// ViewOf renders a parsed playbook.
func ViewOf(pb *triage.Playbook) View {
	v := View{Name: pb.Name, Description: pb.Description, Origin: pb.Origin}
	for _, s := range pb.Steps {
		sv := StepView{Name: s.Name, Type: s.Type, If: s.IfSource, Expression: s.Expression(), Severity: s.Severity,
			Tags: s.Tags, Owner: s.Owner, Reason: s.Reason, Destinations: s.Destinations}
		if s.Type == triage.StepGroup {
			sv.Window = s.GroupWindow.String()
		}
		if s.Type == triage.StepExtract {
			scan := s.ScanRaw
			sv.ScanRaw = &scan
		}
		v.Steps = append(v.Steps, sv)
	}
	return v
}

// NewCmdShow returns `playbook show`.
func NewCmdShow(f *cmdutil.Factory, runF func(*ShowOptions) error) *cobra.Command {
	opts := &ShowOptions{IO: f.IOStreams, Catalog: catalogFunc(f)}
	cmd := &cobra.Command{
		Use: "show <name>",
		Long: `Print a playbook's source YAML, ready to copy and edit (the name and
where it comes from go to stderr). With -o json or -o yaml it prints the
parsed steps instead, for scripts: that form is not a playbook file.`,
		Example: `  $ tw-cli playbook show phishing_triage > phishing_triage.yaml   # edit, then: tw-cli playbook validate phishing_triage.yaml
  $ tw-cli playbook show malware_triage -o json --jq '.steps[].type'`,
		Aliases:           []string{"view", "get"},
		Short:             "Print a playbook: its YAML, or its parsed steps with -o json|yaml",
		Args:              cmdutil.ExactArgs(1, "playbook name"),
		ValidArgsFunction: completePlaybooks(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if runF != nil {
				return runF(opts)
			}
			return showRun(opts)
		},
	}
	output.AddFormatFlag(cmd, &opts.Output)
	cmd.Flags().Lookup("output").Usage = "Output `format`: table (the playbook's YAML as written), json or yaml (parsed)"
	return cmd
}

func showRun(opts *ShowOptions) error {
	cat, err := opts.Catalog()
	if err != nil {
		return err
	}
	pb, err := lookup(cat, opts.Name)
	if err != nil {
		return err
	}
	if opts.Output == output.JSON || opts.Output == output.YAML {
		return output.Print(opts.IO, opts.Output, ViewOf(pb), nil)
	}
	fmt.Fprintf(opts.IO.ErrOut, "# %s (%s)\n", pb.Name, pb.Origin)
	_, err = io.WriteString(opts.IO.Out, pb.Text)
	return err
}
