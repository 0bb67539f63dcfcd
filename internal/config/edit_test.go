package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// symlinkConfig makes config.yaml a link to a file elsewhere, as stow or
// chezmoi do, and returns that file's path.
func symlinkConfig(t *testing.T, dir, content string) string {
	t.Helper()
	real := filepath.Join(t.TempDir(), "dotfiles", "tw-cli.yaml")
	if err := os.MkdirAll(filepath.Dir(real), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(real, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, filepath.Join(dir, "config.yaml")); err != nil {
		t.Skipf("no symlinks here: %v", err)
	}
	return real
}

// A symlinked config.yaml is written through: set, unset and every other
// writer replaced the link with a plain file and left the user's own
// file unchanged.
func TestWriteKeepsSymlink(t *testing.T) {
	dir := isolate(t)
	real := symlinkConfig(t, dir, "canary:\n    domain: acme\n")
	link := filepath.Join(dir, "config.yaml")
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Set("", "server", "https://receiver.example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Unset("", "canary.domain"); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("config.yaml is no longer a symlink: %v, %v", fi, err)
	}
	data, err := os.ReadFile(real)
	if err != nil {
		t.Fatal(err)
	}
	if want := "canary: {}\nserver: https://receiver.example.com\n"; string(data) != want {
		t.Errorf("linked file = %q, want %q", data, want)
	}
	if fi, _ := os.Stat(real); fi.Mode().Perm() != 0o600 {
		t.Errorf("linked file mode = %v, want 0600", fi.Mode().Perm())
	}
	// The temporary file went beside the target, and is gone.
	for _, d := range []string{dir, filepath.Dir(real)} {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".config-") {
				t.Errorf("temporary file %s left in %s", e.Name(), d)
			}
		}
	}
}

// A link to a file that is not there is an error naming both: writing a
// new file there, or over the link, would each surprise.
func TestWriteRefusesDanglingSymlink(t *testing.T) {
	dir := isolate(t)
	real := symlinkConfig(t, dir, "")
	if err := os.Remove(real); err != nil {
		t.Fatal(err)
	}
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	err = c.Set("", "canary.domain", "acme")
	want := "config file " + filepath.Join(dir, "config.yaml") + " is a symbolic link to " + real + ", which does not exist: create that file, or remove the link"
	if err == nil || err.Error() != want {
		t.Errorf("Set = %v, want %q", err, want)
	}
	if _, err := os.Lstat(real); !os.IsNotExist(err) {
		t.Errorf("the missing target was created: %v", err)
	}
}

// set and unset change only their key: the comments and the order of a
// hand-written file stay, where the file used to be rewritten sorted and
// without them.
func TestWriteKeepsCommentsAndOrder(t *testing.T) {
	dir := isolate(t)
	const before = `# tw-cli settings, kept in my dotfiles.

# The receiver the webhook commands talk to.
server: https://old.example # staging
threatstack:
    # From the console, Settings > API keys.
    user_id: u-1
    api_key: old-key
canary:
    domain: acme # our console
profiles:
    # Production: handle with care.
    prod:
        canary:
            domain: prod-acme
`
	writeConfigFile(t, dir, before)
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	steps := []func() error{
		func() error { return c.Set("", "server", "https://new.example") },
		func() error { return c.Set("", "threatstack.organization_id", "0123") },
		func() error { return c.Set("prod", "canary.flock", "flock:default") },
		func() error { _, err := c.Unset("", "threatstack.api_key"); return err },
		func() error { return c.Set("dev", "canary.domain", "dev-acme") },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	// A new key goes before the first that sorts after it, and before
	// that key's comment; a value that reads as a number is quoted, so it
	// stays the string it was set as.
	const want = `# tw-cli settings, kept in my dotfiles.

# The receiver the webhook commands talk to.
server: https://new.example # staging
threatstack:
    organization_id: "0123"
    # From the console, Settings > API keys.
    user_id: u-1
canary:
    domain: acme # our console
profiles:
    dev:
        canary:
            domain: dev-acme
    # Production: handle with care.
    prod:
        canary:
            domain: prod-acme
            flock: flock:default
`
	data, _ := os.ReadFile(filepath.Join(dir, "config.yaml"))
	if string(data) != want {
		t.Errorf("file =\n%s\nwant\n%s", data, want)
	}
	c2, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if got := c2.Get("threatstack.organization_id"); got != "0123" {
		t.Errorf("organization_id = %q, want 0123", got)
	}
}

// A file of comments only keeps them, ahead of the first setting.
func TestWriteKeepsCommentOnlyFile(t *testing.T) {
	dir := isolate(t)
	writeConfigFile(t, dir, "# Managed by hand.\n# See 'tw-cli config list'.")
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Set("", "canary.domain", "acme"); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "config.yaml"))
	if want := "# Managed by hand.\n# See 'tw-cli config list'.\ncanary:\n    domain: acme\n"; string(data) != want {
		t.Errorf("file = %q, want %q", data, want)
	}
}

// Where editing the tree would not mean what the values mean (here a
// merge key that the tree does not see through), the file is written
// from the values, as before: right, if without its comments.
func TestWriteFallsBackOnAnchors(t *testing.T) {
	dir := isolate(t)
	writeConfigFile(t, dir, `# shared
base: &base
    domain: acme
canary:
    <<: *base
    flock: f
`)
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Unset("", "canary.domain"); err != nil {
		t.Fatal(err)
	}
	c2, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if got := c2.Get("canary.domain"); got != "" {
		t.Errorf("canary.domain = %q after unset, want none", got)
	}
	if got := c2.Get("canary.flock"); got != "f" {
		t.Errorf("canary.flock = %q, want f", got)
	}
}
