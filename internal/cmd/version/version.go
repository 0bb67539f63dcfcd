// Package version prints tw-cli's version and build details.
package version

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
)

// NewCmdVersion returns `tw-cli version`.
func NewCmdVersion(f *cmdutil.Factory, version, commit, date string) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and build date",
		Args:  cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := fmt.Fprintln(f.IOStreams.Out, Format(version, commit, date))
			return err
		},
	}
}

// Format renders the version line.
func Format(version, commit, date string) string {
	s := "tw-cli version " + version
	if commit != "" {
		s += " (commit " + commit
		if date != "" {
			s += ", built " + date
		}
		s += ")"
	}
	return s + " " + runtime.Version()
}
