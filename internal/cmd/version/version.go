// Package version prints tw-cli's version and build details.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/output"
)

// Info is what `version -o json` prints.
type Info struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
	// Date is the build date, or with a commit from the VCS stamp the
	// commit's time: `go build` records no build time.
	Date string `json:"date"`
	Go   string `json:"go"`

	committed bool // Date is the stamped commit's time
}

// NewCmdVersion returns `tw-cli version`.
func NewCmdVersion(f *cmdutil.Factory, version, commit, date string) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and build date",
		Long: `Print the version, commit and build date. A binary built without the
release ldflags (plain 'go build') reports the commit Go stamped into it
and that commit's time, with "-dirty" when the tree had uncommitted
changes.`,
		Example: `  $ tw-cli version
  $ tw-cli version -o json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			info := Resolve(version, commit, date)
			if format == output.JSON || format == output.YAML {
				return output.Print(f.IOStreams, format, info, nil)
			}
			_, err := fmt.Fprintln(f.IOStreams.Out, info.String())
			return err
		},
	}
	output.AddFormatFlag(cmd, &format)
	return cmd
}

// Format renders the version line, filling what the ldflags left out from
// the binary's build info as Resolve does.
func Format(version, commit, date string) string {
	return Resolve(version, commit, date).String()
}

// Resolve returns the build details: those set with -ldflags -X, else
// the VCS stamp `go build` records (vcs.revision, vcs.time,
// vcs.modified).
func Resolve(version, commit, date string) Info {
	bi, _ := debug.ReadBuildInfo()
	return resolve(version, commit, date, bi)
}

// shortCommit is how many hex digits of a stamped revision are shown, as
// in Go's pseudo-versions.
const shortCommit = 12

func resolve(version, commit, date string, bi *debug.BuildInfo) Info {
	info := Info{Version: version, Commit: commit, Date: date, Go: runtime.Version()}
	if bi == nil || commit != "" {
		// A commit from the ldflags comes with its own date (or none):
		// mixing in the stamp could pair it with another commit's time.
		return info
	}
	var rev, at string
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return info
	}
	info.Commit = rev[:min(len(rev), shortCommit)]
	if dirty {
		info.Commit += "-dirty"
	}
	if info.Date == "" && at != "" {
		info.Date, info.committed = at, true
	}
	return info
}

// String renders the version line.
func (i Info) String() string {
	s := "tw-cli version " + i.Version
	if i.Commit != "" {
		s += " (commit " + i.Commit
		switch {
		case i.Date != "" && i.committed:
			s += ", committed " + i.Date
		case i.Date != "":
			s += ", built " + i.Date
		}
		s += ")"
	}
	return s + " " + i.Go
}
