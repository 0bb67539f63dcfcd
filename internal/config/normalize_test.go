package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// A relative directory is stored absolute, resolved where `config set`
// runs: stored as typed, each later command resolved it against its own
// working directory and found another database.
func TestNormalizeResolvesDirectories(t *testing.T) {
	cwd := t.TempDir()
	t.Chdir(cwd)
	home := t.TempDir()
	t.Setenv("HOME", home)
	for _, tt := range []struct{ key, in, want string }{
		{"data_dir", "rel", filepath.Join(cwd, "rel")},
		{"data_dir", "./a/../b", filepath.Join(cwd, "b")},
		{"playbooks_dir", "pb", filepath.Join(cwd, "pb")},
		{"data_dir", "/abs/dir", "/abs/dir"},
		{"data_dir", "~", home},
		{"playbooks_dir", "~/pb", filepath.Join(home, "pb")},
		{"canary.domain", "rel", "rel"},
	} {
		got, err := Normalize(tt.key, tt.in)
		if err != nil || got != tt.want {
			t.Errorf("Normalize(%s, %q) = %q, %v, want %q", tt.key, tt.in, got, err, tt.want)
		}
	}
}

// URL settings are checked when set, not at the first command that uses
// them: `config set server notaurl` was accepted and `webhook list` then
// failed with "needs an admin token" (exit 3).
func TestNormalizeChecksURLs(t *testing.T) {
	for _, tt := range []struct{ key, in, err string }{
		{"server", "https://receiver.example.com", ""},
		{"server", "http://127.0.0.1:8080/prefix/", ""},
		{"server", "https://admin:pw@r.example", ""},
		{"threatstack.api_url", "https://api.threatstack.com/v2", ""},
		{"canary.api_url", "http://localhost:9000/api/v1/", ""},
		{"database_url", "postgres://u:pw@db:5432/tw", ""},
		{"database_url", "postgresql:///tw?host=/run/postgresql", ""},
		{"server", "notaurl", `invalid server "notaurl": want an http(s) URL with a host and no query, e.g. https://receiver.example.com`},
		{"server", "receiver.example.com:8080", `invalid server "receiver.example.com:8080": want an http(s) URL`},
		{"server", "http://", `invalid server "http:": want`},
		{"server", "http://:8080", `invalid server "http://:8080": want`},
		{"server", "https://r.example/?token=QTOK", `invalid server "https://r.example/?token=REDACTED": want`},
		{"server", "https://admin:PW@r.example/#x", `invalid server "https://admin@r.example/#x": want`},
		// The Threat Stack client and TS_HOST take a bare host as https.
		{"threatstack.api_url", "api.threatstack.com", ""},
		{"threatstack.api_url", " https://api.threatstack.com ", ""},
		{"threatstack.api_url", "api.threatstack.com/v2", `invalid threatstack.api_url "api.threatstack.com/v2": want`},
		{"threatstack.api_url", "api.threatstack.com/?x=1", `invalid threatstack.api_url "api.threatstack.com/?x=1": want an http(s) URL with a host and no query, e.g. https://api.threatstack.com`},
		{"canary.api_url", "ftp://c.example", `invalid canary.api_url "ftp://c.example": want an http(s) URL with a host and no query, e.g. https://example.canary.tools/api/v1/`},
		// A secret is never quoted back, not even redacted.
		{"database_url", "mysql://u:DBPASS@db/tw", `invalid database_url: want postgres://user:password@host:5432/database, or run 'tw-cli config unset database_url' for the embedded SQLite store`},
	} {
		got, err := Normalize(tt.key, tt.in)
		switch {
		case tt.err == "" && (err != nil || got != strings.TrimSpace(tt.in)):
			t.Errorf("Normalize(%s, %q) = %q, %v, want it kept, trimmed", tt.key, tt.in, got, err)
		case tt.err != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.err)):
			t.Errorf("Normalize(%s, %q) = %v, want %q", tt.key, tt.in, err, tt.err)
		case tt.err != "":
			if _, ok := err.(*KeyError); !ok {
				t.Errorf("Normalize(%s, %q) = %T, want a *KeyError (a usage error)", tt.key, tt.in, err)
			}
			for _, secret := range []string{"QTOK", "PW", "DBPASS"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("Normalize(%s) error shows %s: %v", tt.key, secret, err)
				}
			}
		}
	}
}

// An empty value is refused for every key: stored, 'config get data_dir'
// printed "" while the commands used the default directory. Unset is how
// a key goes back to its default.
func TestNormalizeRefusesEmptyValues(t *testing.T) {
	for _, k := range Keys {
		for _, v := range []string{"", "  ", "\t\n"} {
			_, err := Normalize(k.Name, v)
			want := "empty value for " + k.Name + ": to use the default, run 'tw-cli config unset " + k.Name + "'"
			if _, ok := err.(*KeyError); !ok || err.Error() != want {
				t.Errorf("Normalize(%s, %q) = %v, want KeyError %q", k.Name, v, err, want)
			}
		}
	}
}

// SetMany stores normalized values and, when one is refused, none.
func TestSetManyNormalizes(t *testing.T) {
	isolate(t)
	cwd := t.TempDir()
	t.Chdir(cwd)
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	err = c.SetMany("", map[string]string{"canary.domain": "acme", "server": "notaurl"})
	if _, ok := err.(*KeyError); !ok {
		t.Fatalf("SetMany with a bad server = %v, want a *KeyError", err)
	}
	if _, err := os.Stat(c.Path()); !os.IsNotExist(err) {
		t.Errorf("a refused SetMany wrote the file (stat: %v)", err)
	}
	if err := c.Set("prod", "data_dir", "rel"); err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	c2, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if got := c2.Get("data_dir"); got != DefaultDataDir() {
		t.Errorf("top-level data_dir = %q, want the default", got)
	}
	t.Setenv("TW_PROFILE", "prod")
	c3, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c3.Get("data_dir"), filepath.Join(cwd, "rel"); got != want {
		t.Errorf("data_dir from another directory = %q, want %q", got, want)
	}
}

// Unset removes the value Get shows: with the profile only selected (by
// the file or TW_PROFILE), a key its section lacks is the top level's.
// --profile names the section to change, and keeps to it.
func TestUnsetProfileFor(t *testing.T) {
	dir := isolate(t)
	t.Setenv("TW_PROFILE", "")
	writeConfigFile(t, dir, `profile: prod
server: http://top
canary:
  domain: top
profiles:
  prod:
    canary:
      domain: prod
`)
	load := func(args ...string) *Config {
		t.Helper()
		fs := pflag.NewFlagSet("tw-cli", pflag.ContinueOnError)
		fs.String("profile", "", "")
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		c, err := Load(FlagBinding{Key: ProfileFlag, Flag: fs.Lookup("profile")})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for _, tt := range []struct {
		args      []string
		env       string
		key, want string
	}{
		{nil, "", "server", ""},            // top level only: as get shows it
		{nil, "", "canary.domain", "prod"}, // the profile's overrides the top level's
		{nil, "", "canary.flock", "prod"},  // nowhere: "not set (profile prod)"
		{nil, "", "profile", ""},           // always top level
		{nil, "prod", "server", ""},        // TW_PROFILE selects, as the file does
		{[]string{"--profile", "prod"}, "", "server", "prod"},
		{[]string{"--profile", ""}, "", "canary.domain", ""},
	} {
		t.Setenv("TW_PROFILE", tt.env)
		if got := load(tt.args...).UnsetProfileFor(tt.key); got != tt.want {
			t.Errorf("%v TW_PROFILE=%q: UnsetProfileFor(%s) = %q, want %q", tt.args, tt.env, tt.key, got, tt.want)
		}
	}
}
