package webhook

import (
	"strings"
	"testing"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
)

func TestNewCmdShow(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    ShowOptions
		wantErr string
	}{
		{name: "name", args: []string{"edr"}, want: ShowOptions{Name: "edr", Output: "table"}},
		{name: "-o yaml", args: []string{"edr", "-o", "yaml"}, want: ShowOptions{Name: "edr", Output: "yaml"}},
		{name: "no name", args: nil, wantErr: "missing source name\n\nUsage: show <source> [flags]"},
		{name: "two names", args: []string{"a", "b"}, wantErr: "too many arguments: b\n\nUsage: show <source> [flags]"},
		{name: "-o xml", args: []string{"edr", "-o", "xml"}, wantErr: `invalid argument "xml" for "-o, --output" flag: use table, json or yaml`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, err := parse(t, NewCmdShow, false, tt.args...)
			if tt.wantErr != "" {
				wantExit(t, err, cmdutil.ExitUsage, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if opts.Name != tt.want.Name || opts.Output != tt.want.Output {
				t.Errorf("got name %q output %q, want %q %q", opts.Name, opts.Output, tt.want.Name, tt.want.Output)
			}
		})
	}
}

func TestShowRun(t *testing.T) {
	tests := []struct {
		name   string
		tty    bool
		source string
		args   []string
	}{
		{"tty", true, "email-gateway", nil},
		{"piped", false, "email-gateway", nil},
		{"rotating tty", true, "edr", nil},
		{"rotating piped", false, "edr", nil},
		{"json", false, "edr", []string{"-o", "json"}},
		{"yaml", true, "email-gateway", []string{"-o", "yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.tty)
			seedSources(e)
			if err := e.run(NewCmdShow(e.f, nil), append([]string{tt.source}, tt.args...)...); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(e.stdout.String(), "your-secret-key") || strings.Contains(e.stdout.String(), "edr-") {
				t.Fatal("show reveals a secret")
			}
			e.golden()
		})
	}
}

func TestShowNotFound(t *testing.T) {
	e := newEnv(t, true)
	err := e.run(NewCmdShow(e.f, nil), "nope")
	wantExit(t, err, cmdutil.ExitNotFound, `source not found: "nope" is not registered; run 'tw-cli webhook list'`)
	e.expectOutput("", "")
}
