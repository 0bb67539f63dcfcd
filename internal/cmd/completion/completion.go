// Package completion prints shell completion scripts.
package completion

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
)

// Shells are the supported shells.
var Shells = []string{"bash", "zsh", "fish", "powershell"}

// NewCmdCompletion returns `tw-cli completion SHELL`.
func NewCmdCompletion(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "completion <bash|zsh|fish|powershell>",
		Short: "Print a shell completion script",
		Long: `Print the completion script for a shell. Completion is computed by
tw-cli itself, so it knows your sources: it reads only an existing local
database (it never creates or migrates one), and incident completion with
--server, and --flock completion, ask the receiver or the Canary console.

Bash (needs the bash-completion package):
  $ tw-cli completion bash > ~/.local/share/bash-completion/completions/tw-cli

Zsh:
  $ tw-cli completion zsh > "${fpath[1]}/_tw-cli"
  (run 'autoload -U compinit; compinit' once if completion is new to you)

Fish:
  $ tw-cli completion fish > ~/.config/fish/completions/tw-cli.fish

PowerShell:
  PS> tw-cli completion powershell | Out-String | Invoke-Expression
  (add that line to $PROFILE to keep it)

Pre-generated scripts are also shipped in the completions/ directory.`,
		ValidArgs: Shells,
		Args:      cmdutil.ExactArgs(1, "shell name (bash, zsh, fish or powershell)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			root := cmd.Root()
			out := f.IOStreams.Out
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(out, true)
			case "zsh":
				return root.GenZshCompletion(out)
			case "fish":
				return genFish(root, out)
			case "powershell":
				return root.GenPowerShellCompletionWithDesc(out)
			}
			return cmdutil.FlagErrorf("unsupported shell %q: use bash, zsh, fish or powershell", args[0])
		},
	}
	return cmd
}

// fishArgsLine is where cobra's fish script reads the words before the
// cursor. It then evals them as a command line, unquoted: a Tab after
// `--description 'see (touch x)'` ran touch (spf13/cobra#2096).
const fishArgsLine = "set -l args (commandline -opc)\n"

// genFish is cobra's fish script with the words escaped before the eval,
// as cobra's own fix for that issue does.
func genFish(root *cobra.Command, out io.Writer) error {
	var buf bytes.Buffer
	if err := root.GenFishCompletion(&buf, true); err != nil {
		return err
	}
	script := buf.String()
	if strings.Count(script, fishArgsLine) != 1 {
		return fmt.Errorf("fish completion: cobra's script changed; check that it still escapes the command line")
	}
	script = strings.Replace(script, fishArgsLine, "set -l args (commandline -opc | string escape)\n", 1)
	_, err := io.WriteString(out, script)
	return err
}
