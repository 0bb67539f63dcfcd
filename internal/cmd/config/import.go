package config

import (
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/config"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/pkg/threatstack"
)

// ImportOptions are the inputs of `config import`.
type ImportOptions struct {
	IO     *iostreams.IOStreams
	Config func() (*config.Config, error)
	Path   string
}

func newCmdImport(f *cmdutil.Factory) *cobra.Command {
	opts := &ImportOptions{IO: f.IOStreams, Config: f.Config}
	cmd := &cobra.Command{
		Use:   "import <threatstack.cfg>",
		Short: "Import the Threat Stack API scripts' threatstack.cfg",
		Long: `Read threatstack.cfg, the INI file of Threat Stack's public API scripts
(GetAllAgents and friends), and store its credentials:

  [USER_INFO]  TS_USER_ID, TS_API_KEY        → every imported organization
  [DEFAULT]    TS_ORGANIZATION_ID            → the top level, or --profile
  [<section>]  TS_ORGANIZATION_ID            → profile <section>

Afterwards 'tw-cli threatstack … --profile <section>' uses that
organization, as the scripts' --org did.`,
		Example: `  $ tw-cli config import ./GetAllAgents/threatstack.cfg
  $ tw-cli threatstack agents list --profile another-org`,
		Args: cmdutil.ExactArgs(1, "path of threatstack.cfg"),
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return []string{"cfg"}, cobra.ShellCompDirectiveFilterFileExt
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Path = args[0]
			return importRun(opts)
		},
	}
	return cmd
}

var profileNameRE = regexp.MustCompile(`[^a-z0-9_-]+`)

// profileName turns an INI section into a profile name people can type.
func profileName(section string) string {
	return strings.Trim(profileNameRE.ReplaceAllString(strings.ToLower(section), "-"), "-")
}

func importRun(opts *ImportOptions) error {
	f, err := os.Open(opts.Path)
	if err != nil {
		return cmdutil.FlagErrorf("%v", err)
	}
	defer f.Close()
	sc, err := threatstack.ParseScriptConfig(f)
	if err != nil {
		return cmdutil.FlagErrorf("%v", err)
	}
	if len(sc.Orgs) == 0 {
		return cmdutil.FlagErrorf("%s names no TS_ORGANIZATION_ID (or TS_ORG_ID) in [DEFAULT] or any other section", opts.Path)
	}
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	// Every section's profile is worked out and checked before anything
	// is written: a bad section name, or two sections that name one
	// profile ([Prod] and [prod]), would otherwise leave a half-done
	// import or one org silently overwriting another.
	targets := make([]string, len(sc.Orgs))
	from := map[string]string{} // profile → section
	for i, org := range sc.Orgs {
		target := cfg.Profile()
		if org.Section != threatstack.ScriptDefaultSection {
			target = profileName(org.Section)
			if target == "" {
				return cmdutil.FlagErrorf("section [%s] has no usable profile name", org.Section)
			}
		}
		if other, dup := from[target]; dup {
			return cmdutil.FlagErrorf("sections [%s] and [%s] both become profile %q: rename one", other, org.Section, target)
		}
		from[target], targets[i] = org.Section, target
	}
	for i, org := range sc.Orgs {
		target := targets[i]
		if err := cfg.SetMany(target, map[string]string{
			"threatstack.user_id":         sc.UserID,
			"threatstack.api_key":         sc.APIKey,
			"threatstack.organization_id": org.OrganizationID,
		}); err != nil {
			return err
		}
		where := "the top level"
		if target != "" {
			where = "profile " + target
		}
		name := ""
		if org.Name != "" {
			name = " (" + org.Name + ")"
		}
		fmt.Fprintf(opts.IO.ErrOut, "✓ [%s]%s → %s\n", org.Section, name, where)
	}
	fmt.Fprintf(opts.IO.ErrOut, "Saved in %s\n", cfg.Path())
	return nil
}
