package webhook

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/sources"
	"github.com/tw-cli/tw-cli/internal/store"
)

func TestNewCmdList(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		output  string
		wantErr string
	}{
		{name: "default", args: nil, output: "table"},
		{name: "-o json", args: []string{"-o", "json"}, output: "json"},
		{name: "--output yaml", args: []string{"--output", "yaml"}, output: "yaml"},
		{name: "-o xml", args: []string{"-o", "xml"}, wantErr: `invalid argument "xml" for "-o, --output" flag: use table, json or yaml`},
		{name: "argument", args: []string{"edr"}, wantErr: "unexpected argument \"edr\"\n\nUsage: list [flags]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, err := parse(t, NewCmdList, false, tt.args...)
			if tt.wantErr != "" {
				wantExit(t, err, cmdutil.ExitUsage, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if opts.Output != tt.output {
				t.Errorf("Output = %q, want %q", opts.Output, tt.output)
			}
		})
	}
}

// seedSources registers three sources at different times and rotates one,
// then sets the clock to 3h after t0.
func seedSources(e *testEnv) {
	e.t.Helper()
	e.add(sources.Spec{Source: "email-gateway", Secret: "your-secret-key", AutoTriage: true, Playbook: "phishing_triage",
		SeverityMapping: map[string]string{"P1": "critical", "P2": "high"}, Description: "Mail gateway\tphishing\nreports"})
	e.clock.t = t0.Add(30 * time.Minute)
	e.add(sources.Spec{Source: "edr", Secret: "edr-old", Format: "generic"})
	e.clock.t = t0.Add(90 * time.Minute)
	if _, _, err := e.local.RotateSecret(context.Background(), "edr", "edr-new", 24*time.Hour); err != nil {
		e.t.Fatal(err)
	}
	// A source defined elsewhere (config file) that verifies nothing must
	// stand out.
	if err := e.store.CreateSource(context.Background(), &store.Source{Name: "legacy", Secret: "x", Format: "auto", Verify: "none",
		Origin: "config", CreatedAt: t0.Add(-48 * time.Hour), UpdatedAt: t0.Add(-48 * time.Hour)}); err != nil {
		e.t.Fatal(err)
	}
	e.clock.t = t0.Add(3 * time.Hour)
}

func TestListRun(t *testing.T) {
	tests := []struct {
		name string
		tty  bool
		args []string
	}{
		{"tty table", true, nil},
		{"piped tsv", false, nil},
		{"json", false, []string{"-o", "json"}},
		{"yaml", true, []string{"-o", "yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.tty)
			seedSources(e)
			if err := e.run(NewCmdList(e.f, nil), tt.args...); err != nil {
				t.Fatal(err)
			}
			for _, secret := range []string{"your-secret-key", "edr-old", "edr-new"} {
				if strings.Contains(e.stdout.String(), secret) {
					t.Fatalf("list shows the secret %q", secret)
				}
			}
			e.golden()
		})
	}
}

func TestListEmpty(t *testing.T) {
	tests := []struct {
		name       string
		tty        bool
		args       []string
		wantStdout string
		wantStderr string
	}{
		{"tty says how to add one", true, nil, "", "No webhook sources yet. Add one with 'tw-cli webhook add <source>'.\n"},
		{"piped prints nothing", false, nil, "", ""},
		{"json is an empty array", true, []string{"-o", "json"}, "[]\n", ""},
		{"yaml is an empty list", false, []string{"-o", "yaml"}, "[]\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.tty)
			if err := e.run(NewCmdList(e.f, nil), tt.args...); err != nil {
				t.Fatal(err)
			}
			e.expectOutput(tt.wantStdout, tt.wantStderr)
		})
	}
}
