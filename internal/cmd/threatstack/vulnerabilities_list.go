package threatstack

import (
	"strconv"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/pkg/threatstack"
)

// VulnerabilitiesListOptions are the inputs of `threatstack vulnerabilities list`.
type VulnerabilitiesListOptions struct {
	IO     *iostreams.IOStreams
	Client func() (*threatstack.Client, error)

	Filter threatstack.VulnerabilityListOptions
	List   listFlags
}

// NewCmdVulnerabilitiesList returns `threatstack vulnerabilities list`.
func NewCmdVulnerabilitiesList(f *cmdutil.Factory, runF func(*VulnerabilitiesListOptions) error) *cobra.Command {
	opts := &VulnerabilitiesListOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List vulnerabilities (CVEs)",
		Long: `List the CVEs found on monitored servers, for the whole organization, one
package (--package) or one agent (--agent).

When piped the columns are CVE, SEVERITY, PACKAGE, SYSTEM PACKAGE, VECTOR,
SUPPRESSED, AGENTS (number of affected agents).`,
		Example: `  $ tw-cli threatstack vulnerabilities list --package openssl
  $ tw-cli threatstack vulnerabilities list --agent 4a1f… --all -o json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.List.validate(cmd); err != nil {
				return err
			}
			if err := cmdutil.MutuallyExclusive("specify only one of --package or --agent",
				opts.Filter.Package != "", opts.Filter.AgentID != ""); err != nil {
				return err
			}
			opts.Client = clientFunc(f, cmd)
			if runF != nil {
				return runF(opts)
			}
			return vulnerabilitiesListRun(cmd, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Filter.Package, "package", "", "Only CVEs of this `package`")
	cmd.Flags().StringVar(&opts.Filter.AgentID, "agent", "", "Only CVEs on this agent `id`")
	opts.List.register(cmd, "vulnerabilities")
	return cmd
}

func vulnerabilitiesListRun(cmd *cobra.Command, opts *VulnerabilitiesListOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	return printPages(opts.IO, opts.List, c.VulnerabilityPages(cmd.Context(), opts.Filter), listing[threatstack.Vulnerability]{
		Noun:   "vulnerabilities",
		Header: []string{"CVE", "SEVERITY", "PACKAGE", "SYSTEM PACKAGE", "VECTOR", "SUPPRESSED", "AGENTS"},
		Row: func(v threatstack.Vulnerability, _ bool) []string {
			return []string{v.CVENumber, dash(v.Severity), dash(v.ReportedPackage), dash(v.SystemPackage),
				dash(v.VectorType), yesNo(v.IsSuppressed), strconv.Itoa(len(v.Agents))}
		},
	})
}
