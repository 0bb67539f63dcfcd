package webhook

import (
	"testing"
	"time"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/sources"
)

func TestNewCmdRotateSecret(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		grace   time.Duration
		secret  secretFlags
		output  string
		wantErr string
	}{
		{name: "defaults", args: []string{"edr"}, grace: 24 * time.Hour, output: "table"},
		{name: "--grace 1h --secret-env", args: []string{"edr", "--grace", "1h", "--secret-env", "NEW"}, grace: time.Hour, secret: secretFlags{SecretEnv: "NEW"}, output: "table"},
		{name: "--grace 0", args: []string{"edr", "--grace", "0", "--secret", "s", "-o", "yaml"}, grace: 0, secret: secretFlags{Secret: "s"}, output: "yaml"},
		{name: "negative grace", args: []string{"edr", "--grace", "-1s"}, wantErr: "--grace must be between 0 and a year (8760h), not -1s"},
		{name: "grace over a year", args: []string{"edr", "--grace", "8761h"}, wantErr: "--grace must be between 0 and a year (8760h), not 8761h0m0s"},
		{name: "grace of a year", args: []string{"edr", "--grace", "8760h"}, grace: 8760 * time.Hour, output: "table"},
		{name: "-o xml", args: []string{"edr", "-o", "xml"}, wantErr: `invalid argument "xml" for "-o, --output" flag: use table, json or yaml`},
		{name: "no name", args: nil, wantErr: "missing source name\n\nUsage: rotate-secret <source> [flags]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, err := parse(t, NewCmdRotateSecret, false, tt.args...)
			if tt.wantErr != "" {
				wantExit(t, err, cmdutil.ExitUsage, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if opts.Name != "edr" || opts.Grace != tt.grace || opts.secret != tt.secret || opts.Output != tt.output {
				t.Errorf("got name %q grace %v secret %+v output %q", opts.Name, opts.Grace, opts.secret, opts.Output)
			}
		})
	}
}

func TestRotateRun(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantStderr string
		// previous is the stored previous secret and until when it verifies.
		previous string
		until    time.Time
	}{
		{
			name:       "grace keeps the old secret",
			args:       []string{"edr", "--secret", "new", "--grace", "1h"},
			wantStderr: "✓ Rotated the secret of edr; the old one verifies until 2024-01-15T11:10:00Z\n",
			previous:   "old", until: t0.Add(70 * time.Minute),
		},
		{
			name:       "default grace is a day",
			args:       []string{"edr", "--secret", "new"},
			wantStderr: "✓ Rotated the secret of edr; the old one verifies until 2024-01-16T10:10:00Z\n",
			previous:   "old", until: t0.Add(24*time.Hour + 10*time.Minute),
		},
		{
			name:       "grace 0 drops it",
			args:       []string{"edr", "--secret", "new", "--grace", "0"},
			wantStderr: "✓ Rotated the secret of edr; the old one no longer verifies\n",
		},
	}
	for _, tt := range tests {
		for _, tty := range []bool{true, false} {
			t.Run(tt.name+"/"+ttyName(tty), func(t *testing.T) {
				e := newEnv(t, tty)
				e.add(sources.Spec{Source: "edr", Secret: "old"})
				e.clock.t = t0.Add(10 * time.Minute)
				if err := e.run(NewCmdRotateSecret(e.f, nil), tt.args...); err != nil {
					t.Fatal(err)
				}
				e.expectOutput("", tt.wantStderr+weakWarning(tty))
				src := e.stored("edr")
				if src.Secret != "new" || src.PreviousSecret != tt.previous || !src.PreviousExpiresAt.Equal(tt.until) {
					t.Errorf("stored secret %q, previous %q until %v", src.Secret, src.PreviousSecret, src.PreviousExpiresAt)
				}
			})
		}
	}
}

func TestRotateGenerated(t *testing.T) {
	e := newEnv(t, false)
	e.add(sources.Spec{Source: "edr", Secret: "old"})
	if err := e.run(NewCmdRotateSecret(e.f, nil), "edr", "--grace", "0"); err != nil {
		t.Fatal(err)
	}
	if !hexSecret.MatchString(e.stdout.String()) || e.stored("edr").Secret+"\n" != e.stdout.String() {
		t.Errorf("stdout = %q, want the new stored secret", e.stdout)
	}
	want := "✓ Rotated the secret of edr; the old one no longer verifies\nNew secret (shown once):\n"
	if e.stderr.String() != want {
		t.Errorf("stderr = %q, want %q", e.stderr, want)
	}
}

func TestRotateJSON(t *testing.T) {
	e := newEnv(t, false)
	e.add(sources.Spec{Source: "edr", Secret: "old", Playbook: "malware_triage"})
	e.clock.t = t0.Add(10 * time.Minute)
	if err := e.run(NewCmdRotateSecret(e.f, nil), "edr", "--secret", "new", "--grace", "2h", "-o", "json"); err != nil {
		t.Fatal(err)
	}
	e.golden()
}

func TestRotateErrors(t *testing.T) {
	e := newEnv(t, false)
	e.add(sources.Spec{Source: "edr", Secret: "same"})
	t.Setenv("TW_TEST_SAME", "same")

	err := e.run(NewCmdRotateSecret(e.f, nil), "edr", "--secret-env", "TW_TEST_SAME")
	wantExit(t, err, cmdutil.ExitUsage, "the new secret is the same as the current one")

	err = e.run(NewCmdRotateSecret(e.f, nil), "nope", "--secret", "x")
	wantExit(t, err, cmdutil.ExitNotFound, `source not found: "nope" is not registered; run 'tw-cli webhook list'`)

	err = e.run(NewCmdRotateSecret(e.f, nil), "edr", "--secret", "x", "--secret-env", "TW_TEST_SAME")
	wantExit(t, err, cmdutil.ExitUsage, "specify only one of --secret or --secret-env")

	e.expectOutput("", "")
	if src := e.stored("edr"); src.Secret != "same" || src.PreviousSecret != "" {
		t.Errorf("a refused rotation changed %+v", src)
	}
}
