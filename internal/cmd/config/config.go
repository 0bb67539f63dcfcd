// Package config implements `tw-cli config path|get|set|unset|list`.
package config

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/config"
	"github.com/tw-cli/tw-cli/internal/output"
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
	keyCompletion := func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for _, k := range config.Keys {
			out = append(out, k.Name+"\t"+k.Help)
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
	cmd.AddCommand(
		&cobra.Command{
			Use:   "path",
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
		&cobra.Command{
			Use:               "get <key>",
			Short:             "Print a setting's effective value",
			Args:              cmdutil.ExactArgs(1, "key"),
			ValidArgsFunction: keyCompletion,
			RunE: func(cmd *cobra.Command, args []string) error {
				if _, ok := config.LookupKey(args[0]); !ok {
					return cmdutil.FlagErrorf("unknown config key %q: run 'tw-cli config list' to see the keys", args[0])
				}
				cfg, err := f.Config()
				if err != nil {
					return err
				}
				_, err = fmt.Fprintln(f.IOStreams.Out, cfg.Get(args[0]))
				return err
			},
		},
		&cobra.Command{
			Use:   "set <key> <value>",
			Short: "Store a setting in the config file",
			Example: `  $ tw-cli config set canary.domain example
  $ tw-cli config set --profile prod threatstack.organization_id 5609e2c8e0b8f5ad6c000e31`,
			Args:              cmdutil.ExactArgs(2, "key and value"),
			ValidArgsFunction: keyCompletion,
			RunE: func(cmd *cobra.Command, args []string) error {
				cfg, err := f.Config()
				if err != nil {
					return err
				}
				if err := cfg.Set(cfg.Profile(), args[0], args[1]); err != nil {
					return cmdutil.FlagErrorf("%s", err)
				}
				fmt.Fprintf(f.IOStreams.ErrOut, "✓ Set %s%s in %s\n", args[0], profileNote(cfg.Profile()), cfg.Path())
				return nil
			},
		},
		&cobra.Command{
			Use:               "unset <key>",
			Short:             "Remove a setting from the config file",
			Args:              cmdutil.ExactArgs(1, "key"),
			ValidArgsFunction: keyCompletion,
			RunE: func(cmd *cobra.Command, args []string) error {
				cfg, err := f.Config()
				if err != nil {
					return err
				}
				if err := cfg.Unset(cfg.Profile(), args[0]); err != nil {
					return cmdutil.FlagErrorf("%s", err)
				}
				fmt.Fprintf(f.IOStreams.ErrOut, "✓ Unset %s\n", args[0])
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

func profileNote(p string) string {
	if p == "" {
		return ""
	}
	return " (profile " + p + ")"
}

func newCmdProfiles(f *cmdutil.Factory) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "profiles",
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
		Use:     "list",
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
				v := cfg.Get(k.Name)
				if k.Secret && v != "" {
					v = output.Mask(v)
				}
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
