package cmdutil

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/store"
)

// ExactArgs is cobra.ExactArgs with a usage error that names what is missing.
func ExactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) < n:
			return FlagErrorf("missing %s\n\nUsage: %s", what, cmd.UseLine())
		case len(args) > n:
			return FlagErrorf("too many arguments: %s\n\nUsage: %s", strings.Join(args[n:], " "), cmd.UseLine())
		}
		return nil
	}
}

// NoArgs rejects positional arguments with a usage error.
func NoArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return FlagErrorf("unexpected argument %q\n\nUsage: %s", args[0], cmd.UseLine())
	}
	return nil
}

// MutuallyExclusive errors when more than one of the conditions is true.
func MutuallyExclusive(message string, conditions ...bool) error {
	n := 0
	for _, c := range conditions {
		if c {
			n++
		}
	}
	if n > 1 {
		return FlagErrorf("%s", message)
	}
	return nil
}

// ParseBool accepts the spellings people type for --flag=value.
func ParseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "on", "1", "t", "y":
		return true, nil
	case "false", "no", "off", "0", "f", "n":
		return false, nil
	}
	return false, fmt.Errorf("invalid boolean %q: use true or false", s)
}

// ParseSince accepts an RFC 3339 time, a date (2006-01-02), or a duration
// back from now such as 90m, 24h or 7d.
//
// Times the stores cannot hold (they keep nanoseconds since 1970 in 64
// bits: 1678 to 2262) and day counts whose duration would overflow are
// refused: they listed nothing, or everything, without a word.
func ParseSince(s string, now time.Time) (time.Time, error) {
	return ParseTimeFlag("--since", s, now)
}

// ParseTimeFlag is ParseSince for a flag of another name, such as --until.
func ParseTimeFlag(flag, s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, ok := parseSince(s, now)
	if !ok {
		return time.Time{}, FlagErrorf("invalid %s %q: use a duration (90m, 24h, 7d), a date (2024-01-15) or RFC 3339", flag, s)
	}
	if t.Before(store.MinFilterTime) || t.After(store.MaxFilterTime) {
		return time.Time{}, FlagErrorf("invalid %s %q: out of range (%d to %d)", flag, s, store.MinFilterTime.Year(), store.MaxFilterTime.Year())
	}
	return t, nil
}

func parseSince(s string, now time.Time) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, true
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, true
	}
	if d, err := ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), true
	}
	return time.Time{}, false
}

// RunGroup is the RunE of a command group: help when called bare, a usage
// error naming the group for an unknown subcommand (cobra would print help
// and exit 0, which hides typos in scripts).
func RunGroup(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return cmd.Help()
	}
	return FlagErrorf("unknown command %q for %q", args[0], cmd.CommandPath())
}
