package config

import (
	"os"
	"path/filepath"
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
	if err := prod.Set("prod", "profile", "x"); err == nil {
		t.Fatal("the default profile must not be set inside a profile")
	}
	st, _ := os.Stat(filepath.Join(dir, "config.yaml"))
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("config mode %v", st.Mode().Perm())
	}
}
