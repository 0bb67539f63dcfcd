package webhookconfig

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tw-cli/tw-cli/internal/sources"
)

// env is a fake environment, so tests neither read nor change the process's.
func env(kv ...string) Options {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return Options{LookupEnv: func(k string) (string, bool) { v, ok := m[k]; return v, ok }}
}

// seedConfig is seed 003's webhook_config.yaml, verbatim.
const seedConfig = `# webhook_config.yaml
sources:
  email-gateway:
    secret: "${EMAIL_GATEWAY_SECRET}"
    auto_triage: true
    playbook: phishing_triage
    severity_mapping:
      critical: critical
      high: high
      medium: medium
      low: low
  edr:
    secret: "${EDR_SECRET}"
    auto_triage: true
    playbook: malware_triage
`

func TestParseSeedConfig(t *testing.T) {
	cfg, err := Parse("webhook_config.yaml", []byte(seedConfig), env("EMAIL_GATEWAY_SECRET", "eg-secret", "EDR_SECRET", "edr-secret"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Source{
		{Line: 3, Spec: sources.Spec{Source: "email-gateway", Secret: "eg-secret", Format: "auto", Verify: "hmac", AutoTriage: true,
			Playbook: "phishing_triage", SeverityMapping: map[string]string{"critical": "critical", "high": "high", "medium": "medium", "low": "low"}}},
		{Line: 12, Spec: sources.Spec{Source: "edr", Secret: "edr-secret", Format: "auto", Verify: "hmac", AutoTriage: true, Playbook: "malware_triage"}},
	}
	if !reflect.DeepEqual(cfg.Sources, want) {
		t.Fatalf("sources:\n got %+v\nwant %+v", cfg.Sources, want)
	}
	if len(cfg.Warnings) != 0 {
		t.Fatalf("warnings: %v", cfg.Warnings)
	}
}

func TestParseOptionalKeys(t *testing.T) {
	in := `sources:
  falcon:
    secret: s3cr3t
    format: crowdstrike
    verify: github
    description: "Falcon detections ($ stays literal: ${NOT_EXPANDED})"
    auto_triage: false
    severity_mapping: {4: High, 5: CRITICAL}
  canary:
    verify: none
`
	cfg, err := Parse("c.yaml", []byte(in), env())
	if err != nil {
		t.Fatal(err)
	}
	f := cfg.Sources[0].Spec
	if f.Format != "crowdstrike" || f.Verify != "github" || f.AutoTriage || f.Secret != "s3cr3t" ||
		f.Description != "Falcon detections ($ stays literal: ${NOT_EXPANDED})" {
		t.Fatalf("falcon: %+v", f)
	}
	// Targets are lower-cased as --severity-map does; keys stay as the vendor sends them.
	if !reflect.DeepEqual(f.SeverityMapping, map[string]string{"4": "high", "5": "critical"}) {
		t.Fatalf("mapping: %v", f.SeverityMapping)
	}
	if c := cfg.Sources[1].Spec; c.Verify != "none" || c.Secret != "" {
		t.Fatalf("canary: %+v", c)
	}
}

func TestParseAliasesShareValues(t *testing.T) {
	in := `sources:
  a:
    secret: x
    severity_mapping: &sev {P1: critical, P2: high}
  b:
    secret: y
    severity_mapping: *sev
`
	cfg, err := Parse("c.yaml", []byte(in), env())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg.Sources[1].Spec.SeverityMapping, map[string]string{"P1": "critical", "P2": "high"}) {
		t.Fatalf("alias: %v", cfg.Sources[1].Spec.SeverityMapping)
	}
}

func TestExpandSecrets(t *testing.T) {
	e := env("A", "alpha", "B", "beta")
	for in, want := range map[string]string{
		"${A}":          "alpha",
		"pre-${A}-${B}": "pre-alpha-beta",
		"lit$eral$":     "lit$eral$",
		"$${A}":         "${A}",
		"x$$${A}":       "x$${A}",
		"$A-and-more":   "$A-and-more",
	} {
		cfg, err := Parse("c.yaml", []byte("sources:\n  s:\n    secret: '"+in+"'\n"), e)
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if got := cfg.Sources[0].Spec.Secret; got != want {
			t.Errorf("%q expanded to %q, want %q", in, got, want)
		}
	}
}

// A shell's $NAME in place of ${NAME} stored the variable's name as the
// secret: public in the file, and no sender signing with the real one
// got through. An environment value ending in a newline (filled from a
// file) is part of the secret, unlike file:'s: said, not trimmed.
func TestShellStyleReferencesAndTrailingNewlines(t *testing.T) {
	_, err := Parse("c.yaml", []byte("sources:\n  s:\n    secret: $EDR_SECRET\n"), env("EDR_SECRET", "edr-secret-value"))
	if err == nil || !strings.Contains(err.Error(), `c.yaml:3: sources.s.secret: $EDR_SECRET would be taken literally; write "${EDR_SECRET}"`) {
		t.Fatalf("$EDR_SECRET: %v", err)
	}
	cfg, err := Parse("c.yaml", []byte("sources:\n  s:\n    secret: ${EDR_SECRET}\n"), env("EDR_SECRET", "edr-secret-value\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Sources[0].Spec.Secret != "edr-secret-value\n" || len(cfg.Warnings) != 1 ||
		!strings.Contains(cfg.Warnings[0], "c.yaml:3: sources.s.secret: environment variable EDR_SECRET ends in a newline") {
		t.Fatalf("secret %q, warnings %q", cfg.Sources[0].Spec.Secret, cfg.Warnings)
	}
}

// errorCase is a config and the errors it must produce, each "line: text".
type errorCase struct {
	name string
	in   string
	want []string
}

func TestParseErrorsNameFileAndLine(t *testing.T) {
	cases := []errorCase{
		{"missing env var", seedConfig, []string{
			"4: sources.email-gateway.secret: environment variable EMAIL_GATEWAY_SECRET is not set",
			"13: sources.edr.secret: environment variable EDR_SECRET is not set"}},
		{"empty env var", "sources:\n  s:\n    secret: ${EMPTY}\n", []string{"3: sources.s.secret: environment variable EMPTY is empty"}},
		{"unterminated reference", "sources:\n  s:\n    secret: ab${X\n", []string{"3: sources.s.secret: unterminated ${"}},
		{"bad variable name", "sources:\n  s:\n    secret: ${1X}\n", []string{"3: sources.s.secret: ${1X} is not an environment variable name"}},
		{"unknown source key", "sources:\n  edr:\n    secret: x\n    playbok: malware_triage\n", []string{
			`4: unknown key "playbok" in source "edr" (known keys: secret, format, verify, auto_triage, playbook, severity_mapping, description, allow_from)`}},
		{"unknown null key", "sources:\n  edr:\n    secret: x\n    sekret:\n", []string{`4: unknown key "sekret" in source "edr"`}},
		{"unknown top-level key", "version: 1\nsources: {}\n", []string{`1: unknown top-level key "version"`}},
		{"duplicate source", "sources:\n  edr:\n    secret: x\n  edr:\n    secret: y\n", []string{`4: sources: "edr" is defined twice (first at line 2)`}},
		{"duplicate key", "sources:\n  edr:\n    secret: x\n    secret: y\n", []string{`4: source "edr": "secret" is defined twice (first at line 3)`}},
		{"bad name", "sources:\n  bad name:\n    secret: x\n", []string{`2: invalid source name "bad name"`}},
		{"bad format", "sources:\n  s:\n    secret: x\n    format: xml\n", []string{`4: sources.s.format: unknown format "xml"`}},
		{"bad verify", "sources:\n  s:\n    secret: x\n    verify: rot13\n", []string{`4: sources.s.verify: unknown verification mode "rot13"`}},
		{"bad playbook", "sources:\n  s:\n    secret: x\n    playbook: 'a b'\n", []string{`4: sources.s.playbook: invalid playbook name`}},
		{"bad severity", "sources:\n  s:\n    secret: x\n    severity_mapping:\n      high: high\n      P1: urgent\n", []string{
			`6: sources.s.severity_mapping: severity mapping P1=urgent: target must be critical, high, medium, low or info`}},
		{"case-duplicate severity", "sources:\n  s:\n    secret: x\n    severity_mapping:\n      High: high\n      high: critical\n", []string{
			`6: sources.s.severity_mapping: severity mapping: High and high are the same key`}},
		{"severity not a mapping", "sources:\n  s:\n    secret: x\n    severity_mapping: [high]\n", []string{`4: sources.s.severity_mapping: want a mapping`}},
		{"auto_triage not bool", "sources:\n  s:\n    secret: x\n    auto_triage: maybe\n", []string{`4: sources.s.auto_triage: want true or false, got "maybe"`}},
		{"secret missing", "sources:\n  s:\n    playbook: p\n", []string{`2: source "s": secret is required`}},
		{"secret null", "sources:\n  s:\n    secret:\n", []string{`3: source "s": secret is required`}},
		{"secret not a string", "sources:\n  s:\n    secret: [a]\n", []string{`3: sources.s.secret: want a string`}},
		{"secret with verify none", "sources:\n  s:\n    secret: x\n    verify: none\n", []string{`4: source "s": verify none checks no secret`}},
		{"secret unfit for mode", "sources:\n  s:\n    secret: no-colon-here\n    verify: basic\n", []string{`3: sources.s.secret: secret does not suit verification mode basic`}},
		{"settings not a mapping", "sources:\n  s: hello\n", []string{`2: source "s": settings must be a mapping`}},
		{"sources null", "sources:\n", []string{`1: sources is empty; write 'sources: {}'`}},
		{"sources a list", "sources:\n  - edr\n", []string{`2: sources must map source names`}},
		{"no sources key", "{}\n", []string{`1: missing 'sources:' key`}},
		{"not a mapping", "- a\n", []string{`1: the file must be a mapping`}},
		{"merge key", "sources:\n  s:\n    <<: {secret: x}\n", []string{`3: source "s": merge keys (<<) are not supported`}},
		{"invalid yaml", "sources:\n  s:\n    secret: x\n    playbook: p\n  playbook: q\n   x: 1\n", []string{`6: invalid YAML: mapping values are not allowed in this context`}},
		{"two documents", "sources: {}\n---\nsources: {}\n", []string{`2: only one YAML document is allowed`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("conf/webhook_config.yaml", []byte(tc.in), env("EMPTY", ""))
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, "conf/webhook_config.yaml:"+w) {
					t.Errorf("error %q\nlacks %q", msg, "conf/webhook_config.yaml:"+w)
				}
			}
			var perr *Error
			if !errors.As(err, &perr) || perr.Path != "conf/webhook_config.yaml" {
				t.Errorf("error is not a *Error naming the file: %#v", err)
			}
		})
	}
}

func TestUnknownVerifyIsOneError(t *testing.T) {
	_, err := Parse("w.yaml", []byte("sources:\n  s:\n    secret: x\n    verify: rot13\n"), env())
	if err == nil || strings.Count(err.Error(), "\n") != 0 || !strings.HasPrefix(err.Error(), "w.yaml:4: sources.s.verify: unknown verification mode") {
		t.Fatalf("want exactly the verify error, got:\n%v", err)
	}
}

func TestParseLineIsPrecise(t *testing.T) {
	_, err := Parse("w.yaml", []byte(seedConfig), env("EMAIL_GATEWAY_SECRET", "x"))
	var perr *Error
	if !errors.As(err, &perr) || perr.Line != 13 || perr.Path != "w.yaml" {
		t.Fatalf("got %#v, want line 13 of w.yaml", err)
	}
	if err.Error() != "w.yaml:13: sources.edr.secret: environment variable EDR_SECRET is not set" {
		t.Fatalf("message: %q", err.Error())
	}
}

func TestParseEmptyFiles(t *testing.T) {
	for _, in := range []string{"", "# nothing yet\n", "---\n"} {
		_, err := Parse("w.yaml", []byte(in), env())
		if err == nil || !strings.Contains(err.Error(), "w.yaml") || !strings.Contains(err.Error(), "file is empty") {
			t.Errorf("%q: %v", in, err)
		}
	}
	cfg, err := Parse("w.yaml", []byte("sources: {}\n---\n"), env())
	if err != nil || len(cfg.Sources) != 0 {
		t.Fatalf("explicit empty sources: %v %v", cfg, err)
	}
}

func TestParseNeverEchoesSecrets(t *testing.T) {
	in := "sources:\n  s:\n    secret: hunter2-no-colon\n    verify: basic\n  t:\n    secret: whsec_not-base64!!\n    verify: standard-webhooks\n"
	_, err := Parse("w.yaml", []byte(in), env())
	if err == nil {
		t.Fatal("no error")
	}
	if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "not-base64") {
		t.Fatalf("error shows a secret: %v", err)
	}
}

func writeFile(t *testing.T, path, data string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	// WriteFile's mode is subject to the umask; the tests need it exact.
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func TestFileSecrets(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "edr.secret"), "from-file\n", 0o600)
	writeFile(t, filepath.Join(dir, "crlf.secret"), "crlf-secret\r\n", 0o600)
	if err := os.Mkdir(filepath.Join(dir, "secrets"), 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "secrets", "eg"), "  spaces kept  \n\n", 0o600)
	cfgPath := filepath.Join(dir, "webhook_config.yaml")
	writeFile(t, cfgPath, `sources:
  edr:
    secret: "file:`+filepath.Join(dir, "edr.secret")+`"
  relative:
    secret: file:crlf.secret
  from-env-dir:
    secret: "file:${SECRETS_DIR}/eg"
`, 0o600)
	cfg, err := Load(cfgPath, env("SECRETS_DIR", filepath.Join(dir, "secrets")))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range cfg.Sources {
		got[s.Spec.Source] = s.Spec.Secret
	}
	want := map[string]string{"edr": "from-file", "relative": "crlf-secret", "from-env-dir": "  spaces kept  "}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("secrets: %q, want %q", got, want)
	}
	if len(cfg.Warnings) != 0 {
		t.Fatalf("0600 files gave warnings: %v", cfg.Warnings)
	}
}

func TestFileSecretErrors(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "empty"), "\n", 0o600)
	writeFile(t, filepath.Join(dir, "huge"), strings.Repeat("x", maxSecretFileBytes+1), 0o600)
	cases := map[string]string{
		"file:" + filepath.Join(dir, "missing"): "4: sources.s.secret: secret file: " + filepath.Join(dir, "missing") + ": no such file or directory",
		"file:" + filepath.Join(dir, "empty"):   "4: sources.s.secret: secret file " + filepath.Join(dir, "empty") + " is empty",
		"file:" + dir:                           "4: sources.s.secret: secret file " + dir + " is not a regular file",
		"file:" + filepath.Join(dir, "huge"):    "is 65537 bytes",
		"file:":                                 "4: sources.s.secret: file: needs a path",
		"file:${NOPE}/x":                        "4: sources.s.secret: environment variable NOPE is not set",
	}
	for ref, want := range cases {
		_, err := Parse(filepath.Join(dir, "w.yaml"), []byte("sources:\n  s:\n    verify: hmac\n    secret: '"+ref+"'\n"), env())
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", ref, err, want)
		}
	}
}

func TestWarnings(t *testing.T) {
	dir := t.TempDir()
	secretPath := filepath.Join(dir, "shared.secret")
	writeFile(t, secretPath, "k8s-style\n", 0o644)
	cfgPath := filepath.Join(dir, "webhook_config.yaml")
	// d's $${ is the escape of a literal ${: written in the file too.
	writeFile(t, cfgPath, "sources:\n  a:\n    secret: file:shared.secret\n  b:\n    secret: literal-in-file\n  c:\n    secret: ${C}\n  d:\n    secret: $${abc\n", 0o644)
	cfg, err := Load(cfgPath, env("C", "from-env"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		cfgPath + ":3: secret file " + secretPath + " can be read by other users (mode 0644); chmod 600 it",
		cfgPath + ":5: sources.b.secret is written in the file, which other users can read (mode 0644); use \"${ENV_VAR}\" or \"file:/path\", or chmod 600 " + cfgPath,
		cfgPath + ":9: sources.d.secret is written in the file, which other users can read (mode 0644); use \"${ENV_VAR}\" or \"file:/path\", or chmod 600 " + cfgPath,
	}
	if !reflect.DeepEqual(cfg.Warnings, want) {
		t.Fatalf("warnings:\n got %q\nwant %q", cfg.Warnings, want)
	}
	if cfg.Sources[0].Spec.Secret != "k8s-style" {
		t.Fatalf("a world-readable secret file is still used: %q", cfg.Sources[0].Spec.Secret)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), env())
	if err == nil || !strings.Contains(err.Error(), "read webhook config") || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("got %v", err)
	}
}

func TestAllErrorsReportedAtOnce(t *testing.T) {
	in := "sources:\n  a:\n    secret: ${A}\n  b:\n    secret: x\n    colour: red\n  c:\n    secret: y\n    format: nope\n"
	_, err := Parse("w.yaml", []byte(in), env())
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "w.yaml:3:") || !strings.HasPrefix(lines[1], "w.yaml:6:") || !strings.HasPrefix(lines[2], "w.yaml:9:") {
		t.Fatalf("want three errors at lines 3, 6, 9:\n%v", err)
	}
}
