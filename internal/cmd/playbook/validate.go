package playbook

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/triage"
)

// ValidateOptions are the inputs of `playbook validate`.
type ValidateOptions struct {
	IO    *iostreams.IOStreams
	Files []string
}

// NewCmdValidate returns `playbook validate`.
func NewCmdValidate(f *cmdutil.Factory, runF func(*ValidateOptions) error) *cobra.Command {
	opts := &ValidateOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "validate <file>...",
		Short: "Check playbook files: structure, step types and CEL expressions",
		Long: `Check playbook files as the receiver would load them. Each problem is
printed as FILE:LINE: step N (NAME): what is wrong; the exit code is 1 if
any file has one.`,
		Example: `  $ tw-cli playbook validate playbooks/*.yaml`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmdutil.FlagErrorf("missing playbook file\n\nUsage: %s", cmd.UseLine())
			}
			return nil
		},
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return []string{"yaml", "yml"}, cobra.ShellCompDirectiveFilterFileExt
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Files = args
			if runF != nil {
				return runF(opts)
			}
			return validateRun(opts)
		},
	}
	return cmd
}

func validateRun(opts *ValidateOptions) error {
	env, err := triage.NewEnv()
	if err != nil {
		return err
	}
	bad := 0
	for _, file := range opts.Files {
		pb, err := env.ParseFile(file)
		var pe *fs.PathError
		switch {
		case errors.As(err, &pe):
			// Unreadable: one line in the form of the others.
			bad++
			fmt.Fprintf(opts.IO.ErrOut, "✗ %s: %v\n", file, pe.Err)
			continue
		case err != nil:
			bad++
			fmt.Fprintln(opts.IO.ErrOut, err)
			continue
		}
		fmt.Fprintf(opts.IO.ErrOut, "✓ %s: playbook %s, %d steps\n", file, pb.Name, len(pb.Steps))
	}
	if bad > 0 {
		// Each problem is printed above with its file and line.
		return cmdutil.ErrSilent
	}
	return nil
}
