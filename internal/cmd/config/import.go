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
	"github.com/tw-cli/tw-cli/internal/output"
	"github.com/tw-cli/tw-cli/pkg/threatstack"
)

// ImportOptions are the inputs of `config import`.
type ImportOptions struct {
	IO     *iostreams.IOStreams
	Config func() (*config.Config, error)
	Path   string
	Yes    bool
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
organization, as the scripts' --org did.

Settings the file already holds with other values are listed by name
(never their values) before they are replaced, and replaced only once
confirmed on a terminal; scripts pass --yes. Settings that hold the same
value, or none, are written without asking.`,
		Example: `  $ tw-cli config import ./GetAllAgents/threatstack.cfg
  $ tw-cli config import threatstack.cfg --yes
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
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "Replace settings that hold other values without asking")
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
	values := make([]map[string]string, len(sc.Orgs))
	var replaced []string
	for i, org := range sc.Orgs {
		values[i] = map[string]string{
			"threatstack.user_id":         sc.UserID,
			"threatstack.api_key":         sc.APIKey,
			"threatstack.organization_id": org.OrganizationID,
		}
		for _, key := range importKeys {
			if old, ok := cfg.FileValue(targets[i], key); ok && old != values[i][key] {
				replaced = append(replaced, key+profileNote(targets[i]))
			}
		}
	}
	if len(replaced) > 0 {
		if err := confirmReplace(opts, cfg.Path(), replaced); err != nil {
			return err
		}
	}
	for i, org := range sc.Orgs {
		target := targets[i]
		if err := cfg.SetMany(target, values[i]); err != nil {
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
		fmt.Fprintf(opts.IO.ErrOut, "✓ [%s]%s → %s\n", output.Printable(org.Section), output.Printable(name), where)
	}
	fmt.Fprintf(opts.IO.ErrOut, "Saved in %s\n", cfg.Path())
	return nil
}

// importKeys are the settings an import writes, in the order they are
// listed when replaced.
var importKeys = []string{"threatstack.user_id", "threatstack.api_key", "threatstack.organization_id"}

// confirmReplace names the settings an import would overwrite, never
// their values (an API key among them), and asks before going on: the
// credentials they hold may be the only copy.
func confirmReplace(opts *ImportOptions, path string, replaced []string) error {
	fmt.Fprintf(opts.IO.ErrOut, "These settings in %s hold other values, which the import replaces:\n", path)
	for _, r := range replaced {
		fmt.Fprintf(opts.IO.ErrOut, "  %s\n", r)
	}
	switch {
	case opts.Yes:
		return nil
	case !opts.IO.CanPrompt():
		return cmdutil.FlagErrorf("--yes is required to replace existing settings when not running interactively")
	}
	ok, err := cmdutil.Confirm(opts.IO, "Replace them? [y/N] ")
	if err != nil {
		return err
	}
	if !ok {
		return cmdutil.ErrCancel
	}
	return nil
}
