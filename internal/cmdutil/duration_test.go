package cmdutil

import (
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func TestDurationFlag(t *testing.T) {
	for in, want := range map[string]time.Duration{"7d": 7 * 24 * time.Hour, "0d": 0, "90m": 90 * time.Minute, "1h30m": 90 * time.Minute, "0": 0} {
		fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
		var d time.Duration
		DurationVar(fs, &d, "grace", time.Hour, "")
		if err := fs.Parse([]string{"--grace", in}); err != nil || d != want {
			t.Errorf("--grace %s = %v, %v; want %v", in, d, err, want)
		}
	}
	for _, bad := range []string{"1.5d", "d", "-1d", "7days", "106001d", "soon"} {
		fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
		var d time.Duration
		DurationVar(fs, &d, "grace", time.Hour, "")
		if err := fs.Parse([]string{"--grace", bad}); err == nil {
			t.Errorf("--grace %s accepted as %v", bad, d)
		}
	}
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	var d time.Duration
	DurationVar(fs, &d, "grace", 24*time.Hour, "")
	if d != 24*time.Hour || fs.Lookup("grace").DefValue != "24h0m0s" {
		t.Errorf("default %v, shown as %q", d, fs.Lookup("grace").DefValue)
	}
}
