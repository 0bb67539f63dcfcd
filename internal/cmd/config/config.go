// Package config implements `tw-cli config path|get|set|unset|list`.
package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/config"
	"github.com/tw-cli/tw-cli/internal/output"
	"github.com/tw-cli/tw-cli/internal/redact"
)

// NewCmdConfig returns the `config` command group.
func NewCmdConfig(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config <command>",
		Short: "Read and change tw-cli's settings",
		Long: `Settings come from, highest precedence first: command-line flags,
environment variables (TW_<KEY>, plus the vendors' own such as TS_API_KEY
and CANARY_AUTH_TOKEN), the config file, defaults. The file is YAML,
written with permissions 0600 since it can hold credentials.`,
		Example: `  $ tw-cli config set server https://receiver.example.com
  $ tw-cli config get data_dir
  $ tw-cli config list`,
	}
	cmd.AddCommand(
		&cobra.Command{
			Use: "path",
			Example: `  $ tw-cli config path
  $ TW_CONFIG_DIR=/etc/tw-cli tw-cli config path`,
			Short: "Print the config file's path",
			Args:  cmdutil.NoArgs,
			RunE: func(cmd *cobra.Command, args []string) error {
				cfg, err := f.Config()
				if err != nil {
					return err
				}
				_, err = fmt.Fprintln(f.IOStreams.Out, cfg.Path())
				return err
			},
		},
		newGetCmd(f),
		&cobra.Command{
			Use:   "set <key> <value>",
			Short: "Store a setting in the config file",
			Long: `Store a setting in the config file: in the active profile's section when
a profile is selected (--profile, TW_PROFILE or the profile setting), else
at the top level.

A relative data_dir or playbooks_dir is stored as an absolute path,
resolved against the current directory. server and canary.api_url must
be http(s) URLs with a host, threatstack.api_url that or a bare host;
database_url a postgres:// URL. An empty value is refused: to go back to
a default, use 'tw-cli config unset KEY'.

Comments and the order of keys in the file are kept. When config.yaml is
a symbolic link (a dotfile manager's), the file it points to is changed.`,
			Example: `  $ tw-cli config set canary.domain example
  $ tw-cli config set --profile prod threatstack.organization_id 5609e2c8e0b8f5ad6c000e31`,
			Args:              cmdutil.ExactArgs(2, "key and value"),
			ValidArgsFunction: keyCompletion,
			RunE: func(cmd *cobra.Command, args []string) error {
				cfg, err := f.Config()
				if err != nil {
					return err
				}
				if _, known := config.LookupKey(args[0]); known && strings.TrimSpace(args[1]) == "" {
					// Stored, it would read back as "" from 'config get'
					// while the commands use the default.
					return cmdutil.FlagErrorf("empty value for %s: to use the default, run 'tw-cli config unset %s%s'", args[0], profileArg(cfg), args[0])
				}
				value, err := config.Normalize(args[0], args[1])
				if err != nil {
					return keyError(err)
				}
				profile := cfg.ProfileFor(args[0])
				if err := cfg.Set(profile, args[0], value); err != nil {
					return keyError(err)
				}
				// Only a directory changes, made absolute: show where it
				// points, since that is not what was typed.
				resolved := ""
				if value != args[1] {
					resolved = " to " + value
				}
				fmt.Fprintf(f.IOStreams.ErrOut, "✓ Set %s%s%s in %s\n", args[0], resolved, profileNote(profile), cfg.Path())
				return nil
			},
		},
		&cobra.Command{
			Use: "unset <key>",
			Example: `  $ tw-cli config unset canary.domain
  $ tw-cli config unset --profile prod threatstack.api_key`,
			Short: "Remove a setting from the config file",
			Long: `Remove a setting from the config file: the value 'tw-cli config get'
shows. When TW_PROFILE or the profile setting selects a profile whose
section lacks the key, that is the top-level value. --profile NAME
removes it only from that profile's section, --profile "" only from the
top level.`,
			Args:              cmdutil.ExactArgs(1, "key"),
			ValidArgsFunction: keyCompletion,
			RunE: func(cmd *cobra.Command, args []string) error {
				cfg, err := f.Config()
				if err != nil {
					return err
				}
				profile := cfg.UnsetProfileFor(args[0])
				removed, err := cfg.Unset(profile, args[0])
				if err != nil {
					return keyError(err)
				}
				if !removed {
					// Not an error, as with `incidents ack` of an acknowledged
					// incident, but no ✓ for a change that did not happen.
					fmt.Fprintf(f.IOStreams.ErrOut, "%s is not set%s in %s\n", args[0], profileNote(profile), cfg.Path())
					return nil
				}
				fmt.Fprintf(f.IOStreams.ErrOut, "✓ Unset %s%s\n", args[0], profileNote(profile))
				return nil
			},
		},
		newCmdList(f),
		newCmdProfiles(f),
		newCmdInit(f),
		newCmdImport(f),
	)
	return cmd
}

// profileArg repeats the --profile flag of this run for a command a
// message suggests, so that it acts on the same section.
func profileArg(cfg *config.Config) string {
	if !strings.HasPrefix(cfg.Source(config.ProfileFlag), "flag") {
		return ""
	}
	p := cfg.Profile()
	if p == "" || strings.ContainsFunc(p, needsQuotes) {
		p = strconv.Quote(p)
	}
	return "--profile " + p + " "
}

// needsQuotes reports whether r in a profile name needs quoting for the
// shell.
func needsQuotes(r rune) bool {
	return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' && r != '_' && r != '.'
}

func profileNote(p string) string {
	if p == "" {
		return ""
	}
	return " (profile " + p + ")"
}

func newCmdProfiles(f *cmdutil.Factory) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use: "profiles",
		Example: `  $ tw-cli config profiles
  $ tw-cli config profiles -o json`,
		Short: "List the profiles of the config file",
		Long: `List the profiles of the config file. A profile holds its own Threat Stack
and Canary credentials; pick one with --profile NAME or TW_PROFILE, or make
it the default with 'tw-cli config set profile NAME'.`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := f.Config()
			if err != nil {
				return err
			}
			names := cfg.Profiles()
			return output.Print(f.IOStreams, format, names, func(t *output.TablePrinter) {
				t.Header("PROFILE", "ACTIVE")
				for _, n := range names {
					active := ""
					if n == cfg.Profile() {
						active = "*"
					}
					t.Row(n, active)
				}
			})
		},
	}
	output.AddFormatFlag(cmd, &format)
	return cmd
}

// Setting is one row of `config list`.
type Setting struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Origin string `json:"origin"`
}

func newCmdList(f *cmdutil.Factory) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use: "list",
		Example: `  $ tw-cli config list
  $ tw-cli config list --profile prod -o json`,
		Aliases: []string{"ls"},
		Short:   "List every setting, its value (secrets masked) and where it comes from",
		Args:    cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := f.Config()
			if err != nil {
				return err
			}
			var rows []Setting
			for _, k := range config.Keys {
				v := shown(k, cfg.Get(k.Name))
				rows = append(rows, Setting{Key: k.Name, Value: v, Origin: cfg.Source(k.Name)})
			}
			return output.Print(f.IOStreams, format, rows, func(t *output.TablePrinter) {
				t.Header("KEY", "VALUE", "FROM")
				for _, r := range rows {
					t.Row(r.Key, r.Value, r.Origin)
				}
			})
		},
	}
	output.AddFormatFlag(cmd, &format)
	return cmd
}

func newGetCmd(f *cmdutil.Factory) *cobra.Command {
	var raw bool
	cmd := &cobra.Command{
		Use:   "get <key>",
		Short: "Print a setting's effective value (secrets masked unless --raw)",
		Long: `Print a setting's effective value, from the flag, environment, config
file or default, whichever wins. A secret (an API key, a token, a
database URL) is printed masked, and a URL setting without its password
or token, unless --raw asks for them in clear, so that a terminal, a
screen share or a CI log does not show them by accident.`,
		Example: `  $ tw-cli config get data_dir
  $ tw-cli config get threatstack.api_key
  $ export TS_API_KEY="$(tw-cli config get --raw threatstack.api_key)"`,
		Args:              cmdutil.ExactArgs(1, "key"),
		ValidArgsFunction: keyCompletion,
		RunE: func(cmd *cobra.Command, args []string) error {
			key, ok := config.LookupKey(args[0])
			if !ok {
				return cmdutil.FlagErrorf("unknown config key %q: run 'tw-cli config list' to see the keys", args[0])
			}
			cfg, err := f.Config()
			if err != nil {
				return err
			}
			v := cfg.Get(args[0])
			if !raw {
				v = shown(key, v)
			}
			_, err = fmt.Fprintln(f.IOStreams.Out, v)
			return err
		},
	}
	cmd.Flags().BoolVar(&raw, "raw", false, "Print a secret's value, or a URL's credentials, in clear")
	return cmd
}

// shown is a setting's value as list and get print it: a secret masked,
// a URL with its credentials hidden.
func shown(k config.Key, v string) string {
	switch {
	case v == "":
		return v
	case k.Secret:
		return output.Mask(v)
	case k.URL:
		return redact.CredentialsString(v)
	}
	return v
}

// keyCompletion completes a config key, with its help as description.
func keyCompletion(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	for _, k := range config.Keys {
		out = append(out, k.Name+"\t"+k.Help)
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// keyError makes a refused key a usage error (exit 2); a config file that
// cannot be written (disk full, permissions) is not the user's typing.
func keyError(err error) error {
	var ke *config.KeyError
	if errors.As(err, &ke) {
		return cmdutil.FlagErrorf("%s", err)
	}
	return err
}
