package webhook

import (
	"context"
	"encoding/json"
	"reflect"
	"regexp"
	"testing"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/sources"
)

func TestNewCmdAdd(t *testing.T) {
	base := sources.Spec{Format: "auto", Verify: "hmac"}
	with := func(f func(*sources.Spec)) sources.Spec {
		s := base
		f(&s)
		return s
	}
	tests := []struct {
		name    string
		args    []string
		want    sources.Spec
		secret  secretFlags
		sevMap  string
		output  string
		wantErr string
	}{
		{
			name:   "seed example: --auto-triage true",
			args:   []string{"email-gateway", "--secret", "x", "--auto-triage", "true", "--playbook", "phishing_triage"},
			want:   with(func(s *sources.Spec) { s.Source, s.AutoTriage, s.Playbook = "email-gateway", true, "phishing_triage" }),
			secret: secretFlags{Secret: "x"},
		},
		{
			name: "--auto-triage alone",
			args: []string{"edr", "--auto-triage"},
			want: with(func(s *sources.Spec) { s.Source, s.AutoTriage = "edr", true }),
		},
		{
			name: "--auto-triage=false",
			args: []string{"edr", "--auto-triage=false"},
			want: with(func(s *sources.Spec) { s.Source = "edr" }),
		},
		{
			name: "--auto-triage false, separate",
			args: []string{"edr", "--auto-triage", "false"},
			want: with(func(s *sources.Spec) { s.Source = "edr" }),
		},
		{
			name: "--auto-triage yes, separate, before the name",
			args: []string{"--auto-triage", "edr", "yes"},
			want: with(func(s *sources.Spec) { s.Source, s.AutoTriage = "edr", true }),
		},
		{
			name: "defaults",
			args: []string{"edr"},
			want: with(func(s *sources.Spec) { s.Source = "edr" }),
		},
		{
			name: "every flag",
			args: []string{"siem", "--secret-env", "SIEM_SECRET", "--format", "generic", "--verify", "hmac",
				"--severity-map", "P1=critical,P2=high", "--description", "the SIEM", "-o", "json"},
			want: sources.Spec{Source: "siem", Format: "generic", Verify: "hmac", Description: "the SIEM"},
			// --severity-map is parsed when run: it may need the store's
			// rules, and parsing must not touch the store.
			sevMap: "P1=critical,P2=high",
			secret: secretFlags{SecretEnv: "SIEM_SECRET"},
			output: "json",
		},
		{
			name:    "--auto-triage maybe",
			args:    []string{"edr", "--auto-triage", "maybe"},
			wantErr: `invalid --auto-triage value "maybe": want true or false`,
		},
		{
			name:    "--auto-triage=false took its value: maybe is a stray argument",
			args:    []string{"edr", "--auto-triage=false", "maybe"},
			wantErr: "too many arguments: maybe\n\nUsage: add <source> [flags]",
		},
		{
			// The trailing value silently won.
			name:    "--auto-triage=false then true contradicts itself",
			args:    []string{"edr", "--auto-triage=false", "true"},
			wantErr: `--auto-triage=false and "true": give one value, as --auto-triage=true|false or --auto-triage true|false`,
		},
		{
			name:    "a bool without --auto-triage is a stray argument",
			args:    []string{"edr", "true"},
			wantErr: "too many arguments: true\n\nUsage: add <source> [flags]",
		},
		{
			name:    "no name",
			args:    []string{"--secret", "x"},
			wantErr: "missing source name\n\nUsage: add <source> [flags]",
		},
		{
			name:    "-o xml",
			args:    []string{"edr", "-o", "xml"},
			wantErr: `invalid argument "xml" for "-o, --output" flag: use table, json or yaml`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, err := parse(t, NewCmdAdd, false, tt.args...)
			if tt.wantErr != "" {
				wantExit(t, err, cmdutil.ExitUsage, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(opts.Spec, tt.want) {
				t.Errorf("Spec = %+v, want %+v", opts.Spec, tt.want)
			}
			if opts.secret != tt.secret {
				t.Errorf("secret flags = %+v, want %+v", opts.secret, tt.secret)
			}
			if opts.SeverityMap != tt.sevMap {
				t.Errorf("SeverityMap = %q, want %q", opts.SeverityMap, tt.sevMap)
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

func TestAddRun(t *testing.T) {
	for _, tty := range []bool{true, false} {
		t.Run(ttyName(tty), func(t *testing.T) {
			e := newEnv(t, tty)
			err := e.run(NewCmdAdd(e.f, nil), "email-gateway", "--secret", "your-secret-key", "--auto-triage", "true", "--playbook", "phishing_triage")
			if err != nil {
				t.Fatal(err)
			}
			// Seed 003's secret is 15 characters: kept, with a warning for
			// a person at a terminal.
			e.expectOutput("", "✓ Registered source email-gateway (format auto, verification hmac, auto-triage on, playbook phishing_triage)\n"+weakWarning(tty))
			src := e.stored("email-gateway")
			if src.Secret != "your-secret-key" || !src.AutoTriage || src.Playbook != "phishing_triage" || src.Origin != "cli" || !src.CreatedAt.Equal(t0) {
				t.Errorf("stored %+v", src)
			}
		})
	}
}

var hexSecret = regexp.MustCompile(`^[0-9a-f]{64}\n$`)

func TestAddGeneratedSecretGoesToStdoutOnce(t *testing.T) {
	e := newEnv(t, false)
	if err := e.run(NewCmdAdd(e.f, nil), "edr", "--severity-map", "4=high, 5=CRITICAL"); err != nil {
		t.Fatal(err)
	}
	if !hexSecret.MatchString(e.stdout.String()) {
		t.Fatalf("stdout = %q, want the generated secret alone", e.stdout.String())
	}
	src := e.stored("edr")
	if src.Secret+"\n" != e.stdout.String() {
		t.Errorf("printed secret is not the stored one")
	}
	if !reflect.DeepEqual(src.SeverityMapping, map[string]string{"4": "high", "5": "critical"}) {
		t.Errorf("severity mapping = %v", src.SeverityMapping)
	}
	want := "✓ Registered source edr (format auto, verification hmac, auto-triage off)\n" +
		"Generated secret (shown once; store it with the sender now):\n"
	if e.stderr.String() != want {
		t.Errorf("stderr = %q, want %q", e.stderr.String(), want)
	}
}

func TestAddSecretFromEnv(t *testing.T) {
	e := newEnv(t, false)
	t.Setenv("TW_TEST_EDR_SECRET", "from-the-env")
	if err := e.run(NewCmdAdd(e.f, nil), "edr", "--secret-env", "TW_TEST_EDR_SECRET"); err != nil {
		t.Fatal(err)
	}
	e.expectOutput("", "✓ Registered source edr (format auto, verification hmac, auto-triage off)\n")
	if got := e.stored("edr").Secret; got != "from-the-env" {
		t.Errorf("stored secret = %q", got)
	}
}

// A playbook without auto-triage runs only when asked: said, since the
// help's own example once left --auto-triage out and nothing ever ran.
func TestAddPlaybookWithoutAutoTriageIsExplained(t *testing.T) {
	e := newEnv(t, false)
	if err := e.run(NewCmdAdd(e.f, nil), "edr", "--secret", "a-long-enough-secret-value", "--playbook", "malware_triage"); err != nil {
		t.Fatal(err)
	}
	e.expectOutput("", "✓ Registered source edr (format auto, verification hmac, auto-triage off, playbook malware_triage)\n"+
		"Note: auto-triage is off, so malware_triage runs only when asked ('tw-cli playbook run --incident …'); add --auto-triage to run it on every new incident\n")
}

func TestAddJSON(t *testing.T) {
	e := newEnv(t, true)
	err := e.run(NewCmdAdd(e.f, nil), "siem", "--secret", "s", "--format", "generic", "--severity-map", "P1=critical,P2=high",
		"--description", "the SIEM", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	e.golden()
}

func TestAddJSONWithGeneratedSecret(t *testing.T) {
	e := newEnv(t, false)
	if err := e.run(NewCmdAdd(e.f, nil), "edr", "-o", "json"); err != nil {
		t.Fatal(err)
	}
	var got sources.CreatedView
	if err := json.Unmarshal(e.stdout.Bytes(), &got); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, e.stdout)
	}
	if got.GeneratedSecret == "" || got.GeneratedSecret != e.stored("edr").Secret || got.Secret != sources.MaskedSecret {
		t.Errorf("generated_secret %q, secret %q", got.GeneratedSecret, got.Secret)
	}
	if e.stderr.Len() != 0 {
		t.Errorf("stderr = %q: -o json is for scripts, say nothing else", e.stderr)
	}
}

func TestAddErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		msg  string
		// opens is whether the store may be opened before the error.
		opens bool
	}{
		{
			name: "--secret and --secret-env",
			args: []string{"edr", "--secret", "x", "--secret-env", "TW_TEST_EDR_SECRET"},
			code: cmdutil.ExitUsage, msg: "specify only one of --secret or --secret-env",
		},
		{
			name: "--secret-env of an unset variable",
			args: []string{"edr", "--secret-env", "TW_TEST_UNSET_SECRET"},
			code: cmdutil.ExitUsage, msg: "environment variable TW_TEST_UNSET_SECRET is empty or unset",
		},
		{
			name: "bad severity map",
			args: []string{"edr", "--severity-map", "P1=urgent"},
			code: cmdutil.ExitUsage, msg: "severity mapping P1=urgent: target must be critical, high, medium, low or info",
		},
		{
			name: "bad name", opens: true,
			args: []string{"email gateway", "--secret", "x"},
			code: cmdutil.ExitUsage, msg: `invalid source name "email gateway": use 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit`,
		},
		{
			name: "unknown format", opens: true,
			args: []string{"edr", "--secret", "x", "--format", "xml"},
			code: cmdutil.ExitUsage,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, false)
			t.Setenv("TW_TEST_EDR_SECRET", "from-env")
			t.Setenv("TW_TEST_UNSET_SECRET", "")
			err := e.run(NewCmdAdd(e.f, nil), tt.args...)
			wantExit(t, err, tt.code, tt.msg)
			e.expectOutput("", "")
			if !tt.opens && e.sourcesOpened != 0 {
				t.Error("the store was opened for input that could be refused without it")
			}
			if vs, _ := e.local.List(t.Context()); len(vs) != 0 {
				t.Errorf("a refused add stored %+v", vs)
			}
		})
	}
}

func TestAddDuplicate(t *testing.T) {
	e := newEnv(t, false)
	e.add(sources.Spec{Source: "edr", Secret: "first"})
	err := e.run(NewCmdAdd(e.f, nil), "edr", "--secret", "second")
	wantExit(t, err, cmdutil.ExitFailure, `source already exists: "edr" is already registered; use 'tw-cli webhook update edr' to change it`)
	e.expectOutput("", "")
	if got := e.stored("edr").Secret; got != "first" {
		t.Errorf("secret = %q: a refused add changed it", got)
	}
}

func ttyName(tty bool) string {
	if tty {
		return "tty"
	}
	return "piped"
}

// An empty --secret (an unset shell variable) and a vendor value mapped
// twice are mistakes, refused before anything is stored.
func TestAddRefusesAnEmptySecretAndADoubleMapping(t *testing.T) {
	e := newEnv(t, false)
	err := e.run(NewCmdAdd(e.f, nil), "edr", "--secret", "")
	wantExit(t, err, cmdutil.ExitUsage, "--secret is empty: pass the secret, or leave the flag out to generate one")
	err = e.run(NewCmdAdd(e.f, nil), "edr", "--secret", "s3cret", "--severity-map", "P1=high,P1=low")
	wantExit(t, err, cmdutil.ExitUsage, `invalid severity mapping: "P1" is mapped twice`)
	st, err := e.f.Store()
	if err != nil {
		t.Fatal(err)
	}
	if srcs, err := st.ListSources(context.Background()); err != nil || len(srcs) != 0 {
		t.Fatalf("stored %d sources (%v)", len(srcs), err)
	}
}

func weakWarning(tty bool) string {
	if !tty {
		return ""
	}
	return "WARNING: a secret shorter than 16 characters can be guessed; leave out --secret to have a strong one generated\n"
}

func TestAddLongSecretNoWarning(t *testing.T) {
	e := newEnv(t, true)
	if err := e.run(NewCmdAdd(e.f, nil), "edr", "--secret", "0123456789abcdef"); err != nil {
		t.Fatal(err)
	}
	e.expectOutput("", "✓ Registered source edr (format auto, verification hmac, auto-triage off)\n")
}

// update generates nothing: its warning points to rotate-secret.
func TestUpdateShortSecretPointsToRotate(t *testing.T) {
	e := newEnv(t, true)
	e.add(sources.Spec{Source: "edr", Secret: "0123456789abcdef"})
	if err := e.run(NewCmdUpdate(e.f, nil), "edr", "--secret", "short1"); err != nil {
		t.Fatal(err)
	}
	e.expectOutput("", "✓ Updated source edr\nWARNING: a secret shorter than 16 characters can be guessed; run 'tw-cli webhook rotate-secret edr' to have a strong one generated\n")
}
