package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func TestProfilePrecedence(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TW_CONFIG_DIR", dir)
	t.Setenv("TS_USER_ID", "")
	t.Setenv("TW_THREATSTACK_USER_ID", "")
	t.Setenv("TW_PROFILE", "")
	os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(`
threatstack:
  user_id: top
  organization_id: top-org
profiles:
  prod:
    threatstack:
      user_id: prod-user
`), 0o600)

	load := func(args ...string) *Config {
		t.Helper()
		fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
		fs.String("profile", "", "")
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		c, err := Load(FlagBinding{Key: "profile", Flag: fs.Lookup("profile")})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	if got := load().Get("threatstack.user_id"); got != "top" {
		t.Errorf("no profile: %q, want top", got)
	}
	prod := load("--profile", "prod")
	if got := prod.Get("threatstack.user_id"); got != "prod-user" {
		t.Errorf("profile value: %q, want prod-user", got)
	}
	if got := prod.Get("threatstack.organization_id"); got != "top-org" {
		t.Errorf("key absent from the profile falls back to the top level: %q", got)
	}
	if src := prod.Source("threatstack.user_id"); src != "profile prod" {
		t.Errorf("source %q", src)
	}
	t.Setenv("TS_USER_ID", "from-env")
	if got := prod.Get("threatstack.user_id"); got != "from-env" {
		t.Errorf("env must beat the profile: %q", got)
	}
	t.Setenv("TS_USER_ID", "")

	t.Setenv("TW_PROFILE", "prod")
	if got := load().Get("threatstack.user_id"); got != "prod-user" {
		t.Errorf("TW_PROFILE: %q", got)
	}
	t.Setenv("TW_PROFILE", "")

	missing := load("--profile", "nope")
	if err := missing.CheckProfile(); err == nil {
		t.Fatal("unknown profile accepted")
	}
	if err := missing.Set("nope", "canary.domain", "example"); err != nil {
		t.Fatal(err)
	}
	if err := load("--profile", "nope").CheckProfile(); err != nil {
		t.Fatalf("profile created by Set still unknown: %v", err)
	}
	// The default profile is a top-level setting, even with one active.
	if err := prod.Set("prod", "profile", "x"); err != nil {
		t.Fatal(err)
	}
	if _, ok := valueNested(prod.file, []string{"profiles", "prod", "profile"}); ok {
		t.Fatal("the default profile was set inside a profile")
	}
	if v, _ := valueNested(prod.file, []string{"profile"}); v != "x" {
		t.Fatalf("top-level profile = %q, want x", v)
	}
	st, _ := os.Stat(filepath.Join(dir, "config.yaml"))
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("config mode %v", st.Mode().Perm())
	}
}

// A hand-written, unquoted `2024:` profile made yaml.v3 decode profiles as
// map[any]any: Set replaced it with a new map, dropping every profile, and
// Unset removed nothing.
func TestNonStringProfileKeys(t *testing.T) {
	dir := isolate(t)
	writeConfigFile(t, dir, "profiles: {prod: {canary: {auth_token: PRODTOKEN}}, 2024: {canary: {domain: x}}}\n")
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Profiles(); !slices.Equal(got, []string{"2024", "prod"}) {
		t.Fatalf("Profiles() = %v", got)
	}
	if err := c.Set("dev", "canary.domain", "d"); err != nil {
		t.Fatal(err)
	}
	if removed, err := c.Unset("prod", "canary.auth_token"); err != nil || !removed {
		t.Fatalf("Unset = %v, %v", removed, err)
	}
	t.Setenv("TW_PROFILE", "2024")
	c, err = Load()
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Profiles(); !slices.Equal(got, []string{"2024", "dev", "prod"}) {
		t.Fatalf("after Set, Profiles() = %v", got)
	}
	if got := c.Get("canary.domain"); got != "x" {
		t.Errorf("profile 2024's canary.domain = %q", got)
	}
	if v, ok := valueNested(c.file, []string{"profiles", "prod", "canary", "auth_token"}); ok {
		t.Errorf("auth_token still there: %q", v)
	}

	writeConfigFile(t, dir, "profiles: {1: {canary: {domain: x}}, 1.0: {canary: {domain: y}}}\n")
	if _, err := Load(); err == nil || !strings.Contains(err.Error(), "two keys read as profiles.1") {
		t.Errorf("Load of a key written twice = %v", err)
	}
}

// Set never drops what the user wrote to make room for a key: a value, a
// list or a mapping in its way is an error naming where it is.
func TestSetRefusesToReplaceNonMappings(t *testing.T) {
	tests := []struct{ file, profile, key, msg string }{
		{"canary: [a, b]\n", "", "canary.domain", "cannot set canary.domain: canary is a list, not a mapping"},
		{"profiles: {prod: SECRET}\n", "prod", "canary.domain", "cannot set profiles.prod.canary.domain: profiles.prod is a value, not a mapping"},
		{"profiles: [SECRET]\n", "prod", "canary.domain", "profiles is a list, not a mapping"},
		{"Canary: {Domain: {a: SECRET}}\n", "", "canary.domain", "cannot set canary.domain: Canary.Domain is a mapping, not a value"},
	}
	for _, tt := range tests {
		dir := isolate(t)
		writeConfigFile(t, dir, tt.file)
		c, err := Load()
		if err != nil {
			t.Fatal(err)
		}
		err = c.Set(tt.profile, tt.key, "v")
		if err == nil || !strings.Contains(err.Error(), tt.msg) || !strings.Contains(err.Error(), c.Path()) {
			t.Errorf("%q: Set = %v, want %q", tt.file, err, tt.msg)
			continue
		}
		if strings.Contains(err.Error(), "SECRET") {
			t.Errorf("%q: the error shows the file's value: %v", tt.file, err)
		}
		if _, ok := err.(*KeyError); ok {
			t.Errorf("%q: a file problem is a usage error", tt.file)
		}
		if data, _ := os.ReadFile(c.Path()); string(data) != tt.file {
			t.Errorf("%q: file changed to %q", tt.file, data)
		}
	}
	// An empty section is nothing to lose.
	dir := isolate(t)
	writeConfigFile(t, dir, "canary:\nprofiles:\n")
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Set("", "canary.domain", "a"); err != nil {
		t.Fatal(err)
	}
	if err := c.Set("prod", "canary.domain", "b"); err != nil {
		t.Fatal(err)
	}
}

// Profile names match whatever their case, as viper's keys do: viper
// lowercased the file map in place, so `config profiles` listed prod while
// --profile Prod was "not in" the file.
func TestProfileNamesIgnoreCase(t *testing.T) {
	isolate(t)
	load := func(profile string) *Config {
		t.Helper()
		t.Setenv("TW_PROFILE", profile)
		c, err := Load()
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if err := load("Prod").Set("Prod", "canary.domain", "acme"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Prod", "prod", "PROD"} {
		c := load(name)
		if err := c.CheckProfile(); err != nil {
			t.Fatalf("--profile %s: %v", name, err)
		}
		if c.Profile() != "Prod" || c.Get("canary.domain") != "acme" || c.Source("canary.domain") != "profile Prod" {
			t.Errorf("--profile %s: profile %q, canary.domain %q from %q", name, c.Profile(), c.Get("canary.domain"), c.Source("canary.domain"))
		}
		if got := c.Profiles(); !slices.Equal(got, []string{"Prod"}) {
			t.Errorf("Profiles() = %v", got)
		}
	}
	// Writes go to the profile as spelt in the file, not to a second one.
	c := load("")
	if err := c.Set("prod", "canary.flock", "f"); err != nil {
		t.Fatal(err)
	}
	if removed, err := c.Unset("PROD", "canary.domain"); err != nil || !removed {
		t.Fatalf("Unset under PROD = %v, %v", removed, err)
	}
	data, _ := os.ReadFile(c.Path())
	if string(data) != "profiles:\n    Prod:\n        canary:\n            flock: f\n" {
		t.Errorf("file = %q", data)
	}
}
