package threatstack

import (
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/pkg/threatstack"
)

// CVEsGetOptions are the inputs of `threatstack cves get`.
type CVEsGetOptions struct {
	IO     *iostreams.IOStreams
	Client func() (*threatstack.Client, error)

	CVE  string
	List listFlags
}

// cvePattern is the CVE id syntax (CVE-YYYY-NNNN, four or more digits).
var cvePattern = regexp.MustCompile(`^CVE-\d{4}-\d{4,}$`)

// NewCmdCVEsGet returns `threatstack cves get`.
func NewCmdCVEsGet(f *cmdutil.Factory, runF func(*CVEsGetOptions) error) *cobra.Command {
	opts := &CVEsGetOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:     "get <CVE-ID>",
		Aliases: []string{"show", "servers"},
		Short:   "List the servers affected by a CVE",
		Long: `List the servers (agents) affected by one CVE. When piped the columns are
AGENT ID, HOSTNAME.`,
		Example: `  $ tw-cli threatstack cves get CVE-2024-3094`,
		Args:    cmdutil.ExactArgs(1, "CVE id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.CVE = strings.ToUpper(strings.TrimSpace(args[0]))
			if !cvePattern.MatchString(opts.CVE) {
				return cmdutil.FlagErrorf("invalid CVE id %q: want CVE-YYYY-NNNN", args[0])
			}
			if err := opts.List.validate(cmd); err != nil {
				return err
			}
			opts.Client = clientFunc(f, cmd)
			if runF != nil {
				return runF(opts)
			}
			return cvesGetRun(cmd, opts)
		},
	}
	opts.List.register(cmd, "servers")
	return cmd
}

func cvesGetRun(cmd *cobra.Command, opts *CVEsGetOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	return printPages(opts.IO, opts.List, c.CVEServerPages(cmd.Context(), opts.CVE), listing[threatstack.VulnerableServer]{
		Noun:   "servers",
		Header: []string{"AGENT ID", "HOSTNAME"},
		Row: func(s threatstack.VulnerableServer, _ bool) []string {
			return []string{s.AgentID, dash(s.Hostname)}
		},
	})
}
