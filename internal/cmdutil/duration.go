package cmdutil

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// DurationVar defines a duration flag that also takes whole days ("7d"),
// as --since does: grace periods and retentions are counted in days, and
// "must be a duration like 30s" for 1d was a needless stumble.
func DurationVar(fs *pflag.FlagSet, p *time.Duration, name string, value time.Duration, usage string) {
	*p = value
	fs.Var((*daysDuration)(p), name, usage)
}

type daysDuration time.Duration

func (d *daysDuration) String() string { return time.Duration(*d).String() }

func (d *daysDuration) Type() string { return "duration" }

func (d *daysDuration) Set(s string) error {
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = daysDuration(v)
	return nil
}

// ParseDuration reads a Go duration (90s, 1h30m) or a whole number of
// days (7d).
func ParseDuration(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		// 106,000 days is the longest a time.Duration holds.
		if n, err := strconv.Atoi(days); err == nil && n >= 0 && n <= 106_000 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
		return 0, fmt.Errorf("invalid duration %q: use whole days such as 7d, or 90m, 24h", s)
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q: use 90m, 24h or 7d", s)
	}
	return d, nil
}
