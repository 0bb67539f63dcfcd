package cmdutil

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

func TestParseBool(t *testing.T) {
	tests := []struct {
		in      string
		want    bool
		wantErr bool
	}{
		{"true", true, false},
		{"TRUE", true, false},
		{" yes ", true, false},
		{"on", true, false},
		{"1", true, false},
		{"t", true, false},
		{"y", true, false},
		{"false", false, false},
		{"No", false, false},
		{"off", false, false},
		{"0", false, false},
		{"f", false, false},
		{"n", false, false},
		{"maybe", false, true},
		{"", false, true},
		{"2", false, true},
	}
	for _, tt := range tests {
		got, err := ParseBool(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseBool(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseBool(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
	if _, err := ParseBool("maybe"); err == nil || err.Error() != `invalid boolean "maybe": use true or false` {
		t.Errorf("ParseBool(maybe) error = %v", err)
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{in: "", want: time.Time{}},
		{in: "90m", want: now.Add(-90 * time.Minute)},
		{in: "24h", want: now.Add(-24 * time.Hour)},
		{in: "0s", want: now},
		{in: "7d", want: now.Add(-7 * 24 * time.Hour)},
		{in: "0d", want: now},
		{in: "2024-01-10", want: time.Date(2024, 1, 10, 0, 0, 0, 0, time.UTC)},
		{in: "2024-01-15T08:30:00Z", want: time.Date(2024, 1, 15, 8, 30, 0, 0, time.UTC)},
		{in: "2024-01-15T10:30:00+02:00", want: time.Date(2024, 1, 15, 8, 30, 0, 0, time.UTC)},
		{in: "-1h", wantErr: true},
		{in: "-1d", wantErr: true},
		{in: "1w", wantErr: true},
		{in: "yesterday", wantErr: true},
		{in: "2024-13-01", wantErr: true},
		{in: "200000d", wantErr: true},    // the duration would overflow
		{in: "9999-12-31", wantErr: true}, // past what the stores hold
		{in: "1000-01-01", wantErr: true},
		{in: "100000d", want: now.Add(-100000 * 24 * time.Hour)},
	}
	for _, tt := range tests {
		got, err := ParseSince(tt.in, now)
		if tt.wantErr {
			var fe *FlagError
			if !errors.As(err, &fe) {
				t.Errorf("ParseSince(%q) error = %v, want a usage error", tt.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseSince(%q) error = %v", tt.in, err)
			continue
		}
		if !got.Equal(tt.want) {
			t.Errorf("ParseSince(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
	_, err := ParseSince("yesterday", now)
	want := `invalid --since "yesterday": use a duration (90m, 24h, 7d), a date (2024-01-15) or RFC 3339`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}

// newGroup builds "tw-cli webhook <list>" the way root.finishTree wires
// command groups.
func newGroup() (root, group *cobra.Command, out *bytes.Buffer) {
	root = &cobra.Command{Use: "tw-cli", SilenceErrors: true, SilenceUsage: true}
	group = &cobra.Command{Use: "webhook <command>", Short: "Register and test webhook sources", Args: cobra.ArbitraryArgs, RunE: RunGroup}
	group.AddCommand(&cobra.Command{Use: "list", Short: "List webhook sources", RunE: func(*cobra.Command, []string) error { return nil }})
	root.AddCommand(group)
	out = &bytes.Buffer{}
	root.SetOut(out)
	root.SetErr(out)
	return root, group, out
}

func TestRunGroup(t *testing.T) {
	t.Run("bare group prints help", func(t *testing.T) {
		root, _, out := newGroup()
		root.SetArgs([]string{"webhook"})
		if err := root.Execute(); err != nil {
			t.Fatalf("err = %v", err)
		}
		if !strings.HasPrefix(out.String(), "Register and test webhook sources\n") || !strings.Contains(out.String(), "  list        List webhook sources\n") {
			t.Errorf("help output:\n%s", out)
		}
	})
	t.Run("unknown subcommand is a usage error", func(t *testing.T) {
		root, _, out := newGroup()
		root.SetArgs([]string{"webhook", "lsit"})
		err := root.Execute()
		if ExitCode(err) != ExitUsage {
			t.Fatalf("err = %v, exit code %d, want %d", err, ExitCode(err), ExitUsage)
		}
		if want := `unknown command "lsit" for "tw-cli webhook"`; err.Error() != want {
			t.Errorf("err = %q, want %q", err, want)
		}
		if out.Len() != 0 {
			t.Errorf("printed help on a typo:\n%s", out)
		}
	})
	t.Run("known subcommand still runs", func(t *testing.T) {
		root, _, _ := newGroup()
		root.SetArgs([]string{"webhook", "list"})
		if err := root.Execute(); err != nil {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestExactArgs(t *testing.T) {
	cmd := &cobra.Command{Use: "show <source>"}
	check := ExactArgs(1, "source name")
	if err := check(cmd, []string{"a"}); err != nil {
		t.Errorf("one arg: %v", err)
	}
	err := check(cmd, nil)
	if ExitCode(err) != ExitUsage || err.Error() != "missing source name\n\nUsage: show <source>" {
		t.Errorf("no args: %q (exit %d)", err, ExitCode(err))
	}
	err = check(cmd, []string{"a", "b", "c"})
	if ExitCode(err) != ExitUsage || err.Error() != "too many arguments: b c\n\nUsage: show <source>" {
		t.Errorf("three args: %q (exit %d)", err, ExitCode(err))
	}
}

func TestNoArgs(t *testing.T) {
	cmd := &cobra.Command{Use: "list"}
	if err := NoArgs(cmd, nil); err != nil {
		t.Errorf("no args: %v", err)
	}
	err := NoArgs(cmd, []string{"x", "y"})
	if ExitCode(err) != ExitUsage || err.Error() != "unexpected argument \"x\"\n\nUsage: list" {
		t.Errorf("args: %q (exit %d)", err, ExitCode(err))
	}
}

func TestMutuallyExclusive(t *testing.T) {
	tests := []struct {
		conds   []bool
		wantErr bool
	}{
		{nil, false},
		{[]bool{false, false}, false},
		{[]bool{true, false}, false},
		{[]bool{false, true, false}, false},
		{[]bool{true, true}, true},
		{[]bool{true, false, true}, true},
	}
	for _, tt := range tests {
		err := MutuallyExclusive("only one", tt.conds...)
		if (err != nil) != tt.wantErr {
			t.Errorf("MutuallyExclusive(%v) = %v, wantErr %v", tt.conds, err, tt.wantErr)
		}
		if err != nil && (ExitCode(err) != ExitUsage || err.Error() != "only one") {
			t.Errorf("MutuallyExclusive(%v) = %q (exit %d)", tt.conds, err, ExitCode(err))
		}
	}
}
