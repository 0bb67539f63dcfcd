package root

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
)

// Every command a user can run shows an example in its help, its own or
// its group's, and every command has a one-line summary.
func TestEveryCommandHasHelpAndAnExample(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	root := NewCmdRoot(&cmdutil.Factory{IOStreams: ios}, BuildInfo{Version: "test"})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" {
			return
		}
		if c.Short == "" {
			t.Errorf("%s has no Short description", c.CommandPath())
		}
		if c.Runnable() && !c.HasSubCommands() && c.Example == "" && (c.Parent() == nil || c.Parent().Example == "") {
			t.Errorf("%s has no example in its help", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// Groups reject unknown subcommands (exit 2) instead of printing help and
// exiting 0, and commands without a completion default to no file names.
func TestTreeDefaults(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	root := NewCmdRoot(&cmdutil.Factory{IOStreams: ios}, BuildInfo{Version: "test"})
	for _, c := range root.Commands() {
		if c.HasSubCommands() {
			err := c.RunE(c, []string{"bogus"})
			if cmdutil.ExitCode(err) != cmdutil.ExitUsage {
				t.Errorf("%s bogus: %v (exit %d), want a usage error", c.CommandPath(), err, cmdutil.ExitCode(err))
			}
		}
		if c.ValidArgsFunction == nil && len(c.ValidArgs) == 0 {
			t.Errorf("%s has no completion default", c.CommandPath())
		}
	}
}

// cobra's help printed "Unknown help topic" and exited 0: a script or a
// typo got a success.
func TestHelpOfAnUnknownTopicIsAUsageError(t *testing.T) {
	for args, want := range map[string]int{"help bogus": cmdutil.ExitUsage, "help webhook bogus": cmdutil.ExitUsage, "help webhook list": 0, "help": 0} {
		ios, _, _, _ := iostreams.Test()
		root := NewCmdRoot(&cmdutil.Factory{IOStreams: ios}, BuildInfo{Version: "test"})
		root.SetArgs(strings.Fields(args))
		root.SilenceErrors, root.SilenceUsage = true, true
		if err := root.Execute(); cmdutil.ExitCode(err) != want {
			t.Errorf("%s: %v (exit %d), want exit %d", args, err, cmdutil.ExitCode(err), want)
		}
	}
}
