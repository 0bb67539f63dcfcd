package playbook

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/triage"
)

// ValidateOptions are the inputs of `playbook validate`.
type ValidateOptions struct {
	IO    *iostreams.IOStreams
	Files []string
	// Destinations lists the destinations of this machine's store; ok is
	// false without one (nothing is created to find out).
	Destinations func() (names []string, ok bool)
}

// NewCmdValidate returns `playbook validate`.
func NewCmdValidate(f *cmdutil.Factory, runF func(*ValidateOptions) error) *cobra.Command {
	opts := &ValidateOptions{IO: f.IOStreams, Destinations: func() ([]string, bool) {
		ds, ok := cmdutil.ExistingDestinations(context.Background(), f)
		if !ok {
			return nil, false
		}
		names := make([]string, len(ds))
		for i, d := range ds {
			names[i] = d.Name
		}
		return names, true
	}}
	cmd := &cobra.Command{
		Use:   "validate <file>...",
		Short: "Check playbook files: structure, step types and CEL expressions",
		Long: `Check playbook files as the receiver would load them. Each problem is
printed as FILE:LINE: step N (NAME): what is wrong; the exit code is 1 if
any file has one. A notify step naming a destination this machine's store
does not have is a warning: the job would retry it until one is added.`,
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
		warnUnknownDestinations(opts, file, pb)
	}
	if bad > 0 {
		// Each problem is printed above with its file and line.
		return cmdutil.ErrSilent
	}
	return nil
}

// warnUnknownDestinations names the notify steps' destinations that this
// machine's store lacks: valid names, but a job reaching the step would
// fail it attempt after attempt.
func warnUnknownDestinations(opts *ValidateOptions, file string, pb *triage.Playbook) {
	if opts.Destinations == nil {
		return
	}
	var have []string
	loaded := false
	for i, st := range pb.Steps {
		for _, d := range st.Destinations {
			if d == "*" {
				continue
			}
			if !loaded {
				var ok bool
				if have, ok = opts.Destinations(); !ok {
					return
				}
				loaded = true
			}
			if !slices.Contains(have, d) {
				fmt.Fprintf(opts.IO.ErrOut, "! %s:%d: step %d (%s): notify: no destination %q here; add it with 'tw-cli destination add' before a job reaches this step\n",
					file, st.Line, i+1, st.Name, d)
			}
		}
	}
}
