package webhook

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/sources"
	"github.com/tw-cli/tw-cli/pkg/payload"
)

func ptr[T any](v T) *T { return &v }

func TestNewCmdUpdate(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    sources.Patch
		output  string
		wantErr string
	}{
		{
			name: "--auto-triage=false",
			args: []string{"edr", "--auto-triage=false"},
			want: sources.Patch{AutoTriage: ptr(false)},
		},
		{
			name: "--auto-triage alone",
			args: []string{"edr", "--auto-triage"},
			want: sources.Patch{AutoTriage: ptr(true)},
		},
		{
			name: "--auto-triage false, separate",
			args: []string{"edr", "--auto-triage", "false"},
			want: sources.Patch{AutoTriage: ptr(false)},
		},
		{
			name: "empty --playbook clears it",
			args: []string{"edr", "--playbook", ""},
			want: sources.Patch{Playbook: ptr("")},
		},
		{
			name: "severity map parsed",
			args: []string{"edr", "--severity-map", "4=high, 5=Critical"},
			want: sources.Patch{SeverityMapping: ptr(map[string]string{"4": "high", "5": "critical"})},
		},
		{
			name: "empty severity map clears it",
			args: []string{"edr", "--severity-map="},
			want: sources.Patch{SeverityMapping: ptr(map[string]string{})},
		},
		{
			name:   "several",
			args:   []string{"edr", "--format", "generic", "--verify", "hmac", "--description", "d", "--playbook", "malware_triage", "-o", "json"},
			want:   sources.Patch{Format: ptr("generic"), Verify: ptr("hmac"), Description: ptr("d"), Playbook: ptr("malware_triage")},
			output: "json",
		},
		{
			name:    "no flags",
			args:    []string{"edr"},
			wantErr: "nothing to update: give at least one of --format, --verify, --auto-triage, --playbook, --severity-map, --allow-from, --description, --secret",
		},
		{
			name:    "only -o is still nothing to update",
			args:    []string{"edr", "-o", "json"},
			wantErr: "nothing to update: give at least one of --format, --verify, --auto-triage, --playbook, --severity-map, --allow-from, --description, --secret",
		},
		{
			name:    "--auto-triage maybe",
			args:    []string{"edr", "--auto-triage", "maybe"},
			wantErr: `invalid --auto-triage value "maybe": want true or false`,
		},
		{
			name:    "--auto-triage=false took its value: maybe is a stray argument",
			args:    []string{"edr", "--auto-triage=false", "maybe"},
			wantErr: "too many arguments: maybe\n\nUsage: update <source> [flags]",
		},
		{
			name:    "bad severity map",
			args:    []string{"edr", "--severity-map", "P1"},
			wantErr: `invalid severity mapping "P1": want vendor=severity[,vendor=severity…]`,
		},
		{
			name:    "-o xml",
			args:    []string{"edr", "--playbook", "x", "-o", "xml"},
			wantErr: `invalid argument "xml" for "-o, --output" flag: use table, json or yaml`,
		},
		{
			name:    "no name",
			args:    []string{"--playbook", "x"},
			wantErr: "missing source name\n\nUsage: update <source> [flags]",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, err := parse(t, NewCmdUpdate, false, tt.args...)
			if tt.wantErr != "" {
				wantExit(t, err, cmdutil.ExitUsage, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if opts.Name != "edr" {
				t.Errorf("Name = %q", opts.Name)
			}
			if !reflect.DeepEqual(opts.Patch, tt.want) {
				got, _ := json.Marshal(opts.Patch)
				want, _ := json.Marshal(tt.want)
				t.Errorf("Patch = %s, want %s", got, want)
			}
			wantOutput := tt.output
			if wantOutput == "" {
				wantOutput = "table"
			}
			if opts.Output != wantOutput {
				t.Errorf("Output = %q, want %q", opts.Output, wantOutput)
			}
		})
	}
}

func TestUpdateRun(t *testing.T) {
	for _, tty := range []bool{true, false} {
		t.Run(ttyName(tty), func(t *testing.T) {
			e := newEnv(t, tty)
			e.add(sources.Spec{Source: "email-gateway", Secret: "s", AutoTriage: true, Playbook: "phishing_triage", Description: "mail"})
			e.clock.t = t0.Add(time.Hour)
			if err := e.run(NewCmdUpdate(e.f, nil), "email-gateway", "--auto-triage=false"); err != nil {
				t.Fatal(err)
			}
			e.expectOutput("", "✓ Updated source email-gateway\n")
			src := e.stored("email-gateway")
			if src.AutoTriage || src.Playbook != "phishing_triage" || src.Description != "mail" || src.Secret != "s" || !src.UpdatedAt.Equal(e.clock.t) {
				t.Errorf("stored %+v: want only auto-triage changed", src)
			}
		})
	}
}

// Naming a playbook on a source without auto-triage says it runs only
// when asked, as 'webhook add' does.
func TestUpdatePlaybookWithoutAutoTriageIsExplained(t *testing.T) {
	e := newEnv(t, false)
	e.add(sources.Spec{Source: "edr", Secret: "s"})
	if err := e.run(NewCmdUpdate(e.f, nil), "edr", "--playbook", "malware_triage"); err != nil {
		t.Fatal(err)
	}
	e.expectOutput("", "✓ Updated source edr\n"+
		"Note: auto-triage is off, so malware_triage runs only when asked ('tw-cli playbook run --incident …'); add --auto-triage to run it on every new incident\n")
}

func TestUpdateJSON(t *testing.T) {
	e := newEnv(t, false)
	e.add(sources.Spec{Source: "edr", Secret: "s", Playbook: "malware_triage", SeverityMapping: map[string]string{"4": "high"}})
	e.clock.t = t0.Add(time.Hour)
	if err := e.run(NewCmdUpdate(e.f, nil), "edr", "--playbook", "", "--severity-map", "5=critical", "-o", "json"); err != nil {
		t.Fatal(err)
	}
	e.golden()
}

func TestUpdateErrors(t *testing.T) {
	e := newEnv(t, false)
	e.add(sources.Spec{Source: "edr", Secret: "s"})

	err := e.run(NewCmdUpdate(e.f, nil), "nope", "--playbook", "x")
	wantExit(t, err, cmdutil.ExitNotFound, `source not found: "nope" is not registered; run 'tw-cli webhook list'`)

	err = e.run(NewCmdUpdate(e.f, nil), "edr", "--format", "xml")
	wantExit(t, err, cmdutil.ExitUsage, `unknown format "xml": use one of `+strings.Join(payload.Formats(), ", "))

	e.expectOutput("", "")
	if got := e.stored("edr"); got.Format != "auto" || !got.UpdatedAt.Equal(t0) {
		t.Errorf("a refused update changed %+v", got)
	}
}
