package webhook

import (
	"errors"
	"testing"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/sources"
)

func TestNewCmdRemove(t *testing.T) {
	tests := []struct {
		name    string
		tty     bool
		args    []string
		wantYes bool
		wantErr string
	}{
		{name: "--yes when piped", args: []string{"edr", "--yes"}, wantYes: true},
		{name: "-y", args: []string{"-y", "edr"}, wantYes: true},
		{name: "terminal may ask", tty: true, args: []string{"edr"}, wantYes: false},
		{name: "no --yes when piped", args: []string{"edr"}, wantErr: `--yes is required to remove "edr" when not running interactively`},
		{name: "no name", args: []string{"--yes"}, wantErr: "missing source name\n\nUsage: remove <source> [flags]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, err := parse(t, NewCmdRemove, tt.tty, tt.args...)
			if tt.wantErr != "" {
				wantExit(t, err, cmdutil.ExitUsage, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if opts.Name != "edr" || opts.Yes != tt.wantYes {
				t.Errorf("Name %q Yes %v, want edr %v", opts.Name, opts.Yes, tt.wantYes)
			}
		})
	}
}

func TestRemoveRun(t *testing.T) {
	const prompt = `Remove webhook source "edr"? Its deliveries will be rejected. [y/N] `
	tests := []struct {
		name       string
		tty        bool
		args       []string
		stdin      string
		wantErr    error
		wantStderr string
		removed    bool
	}{
		{name: "--yes", args: []string{"edr", "--yes"}, wantStderr: "✓ Removed source edr\n", removed: true},
		{name: "--yes on a terminal does not ask", tty: true, args: []string{"edr", "--yes"}, wantStderr: "✓ Removed source edr\n", removed: true},
		{name: "answer y", tty: true, args: []string{"edr"}, stdin: "y\n", wantStderr: prompt + "✓ Removed source edr\n", removed: true},
		{name: "answer YES", tty: true, args: []string{"edr"}, stdin: " YES\n", wantStderr: prompt + "✓ Removed source edr\n", removed: true},
		{name: "answer n", tty: true, args: []string{"edr"}, stdin: "n\n", wantErr: cmdutil.ErrCancel, wantStderr: prompt},
		{name: "just enter", tty: true, args: []string{"edr"}, stdin: "\n", wantErr: cmdutil.ErrCancel, wantStderr: prompt},
		{name: "end of input", tty: true, args: []string{"edr"}, stdin: "", wantErr: cmdutil.ErrCancel, wantStderr: prompt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.tty)
			e.add(sources.Spec{Source: "edr", Secret: "s"})
			e.add(sources.Spec{Source: "siem", Secret: "s"})
			e.stdin.WriteString(tt.stdin)
			err := e.run(NewCmdRemove(e.f, nil), tt.args...)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			e.expectOutput("", tt.wantStderr)
			if tt.removed {
				e.absent("edr")
			} else {
				e.stored("edr")
			}
			e.stored("siem")
		})
	}
}

func TestRemoveNotFound(t *testing.T) {
	for _, tt := range []struct {
		name string
		tty  bool
		args []string
	}{
		{"--yes", false, []string{"nope", "--yes"}},
		// On a terminal it says so before asking anything.
		{"terminal", true, []string{"nope"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.tty)
			e.stdin.WriteString("y\n")
			err := e.run(NewCmdRemove(e.f, nil), tt.args...)
			wantExit(t, err, cmdutil.ExitNotFound, `source not found: "nope" is not registered; run 'tw-cli webhook list'`)
			e.expectOutput("", "")
		})
	}
}
