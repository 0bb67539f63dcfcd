package config

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/config"
	"github.com/tw-cli/tw-cli/internal/iostreams"
)

type testEnv struct {
	t      *testing.T
	dir    string
	ios    *iostreams.IOStreams
	f      *cmdutil.Factory
	stdout *bytes.Buffer
	stderr *bytes.Buffer
	// flags are the root's global flags, as parsed for this run.
	flags *pflag.FlagSet
}

// newEnv isolates the config dir and the environment.
func newEnv(t *testing.T) *testEnv {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("TW_CONFIG_DIR", dir)
	t.Setenv("XDG_DATA_HOME", "/xdg-data")
	for _, k := range config.Keys {
		t.Setenv("TW_"+strings.ToUpper(strings.ReplaceAll(k.Name, ".", "_")), "")
		for _, v := range k.Env {
			t.Setenv(v, "")
		}
	}
	ios, _, stdout, stderr := iostreams.Test()
	e := &testEnv{t: t, dir: dir, ios: ios, stdout: stdout, stderr: stderr}
	e.parseGlobalFlags()
	e.f = &cmdutil.Factory{
		IOStreams: ios,
		Config: func() (*config.Config, error) {
			return config.Load(config.FlagBinding{Key: "server", Flag: e.flags.Lookup("server")},
				config.FlagBinding{Key: config.ProfileFlag, Flag: e.flags.Lookup("profile")})
		},
	}
	return e
}

func (e *testEnv) parseGlobalFlags(args ...string) {
	e.t.Helper()
	e.flags = pflag.NewFlagSet("tw-cli", pflag.ContinueOnError)
	e.flags.String("server", "", "")
	e.flags.String("profile", "", "")
	if err := e.flags.Parse(args); err != nil {
		e.t.Fatal(err)
	}
}

func (e *testEnv) run(args ...string) error {
	e.t.Helper()
	e.stdout.Reset()
	e.stderr.Reset()
	cmd := NewCmdConfig(e.f)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	cmd.SetFlagErrorFunc(cmdutil.WrapFlagError) // as the root does
	cmd.SetArgs(append([]string{}, args...))
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	return cmd.ExecuteContext(context.Background())
}

func (e *testEnv) expect(stdout, stderr string) {
	e.t.Helper()
	if e.stdout.String() != stdout {
		e.t.Errorf("stdout =\n%q\nwant\n%q", e.stdout.String(), stdout)
	}
	if e.stderr.String() != stderr {
		e.t.Errorf("stderr = %q, want %q", e.stderr.String(), stderr)
	}
}

func TestPath(t *testing.T) {
	e := newEnv(t)
	if err := e.run("path"); err != nil {
		t.Fatal(err)
	}
	e.expect(filepath.Join(e.dir, "config.yaml")+"\n", "")
}

func TestSetGetUnset(t *testing.T) {
	e := newEnv(t)
	path := filepath.Join(e.dir, "config.yaml")
	if err := e.run("set", "server", "https://receiver.example.com"); err != nil {
		t.Fatal(err)
	}
	e.expect("", "✓ Set server in "+path+"\n")
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("config file: %v, %v", st, err)
	}

	if err := e.run("get", "server"); err != nil {
		t.Fatal(err)
	}
	e.expect("https://receiver.example.com\n", "")

	// The environment wins over the file.
	t.Setenv("TW_SERVER", "http://env.example")
	if err := e.run("get", "server"); err != nil {
		t.Fatal(err)
	}
	e.expect("http://env.example\n", "")
	t.Setenv("TW_SERVER", "")

	if err := e.run("unset", "server"); err != nil {
		t.Fatal(err)
	}
	e.expect("", "✓ Unset server\n")
	if err := e.run("get", "server"); err != nil {
		t.Fatal(err)
	}
	e.expect("\n", "")
}

func TestUsageErrors(t *testing.T) {
	unknown := `unknown config key "sever": run 'tw-cli config list' to see the keys`
	tests := []struct {
		args []string
		msg  string
	}{
		{[]string{"set", "sever", "x"}, unknown},
		{[]string{"get", "sever"}, unknown},
		{[]string{"unset", "sever"}, unknown},
		{[]string{"set", "server"}, "missing key and value\n\nUsage: config set <key> <value> [flags]"},
		{[]string{"get"}, "missing key\n\nUsage: config get <key> [flags]"},
		{[]string{"list", "-o", "xml"}, `invalid argument "xml" for "-o, --output" flag: use table, json or yaml`},
	}
	for _, tt := range tests {
		e := newEnv(t)
		err := e.run(tt.args...)
		if cmdutil.ExitCode(err) != cmdutil.ExitUsage || err.Error() != tt.msg {
			t.Errorf("%v: err = %v (exit %d), want usage error %q", tt.args, err, cmdutil.ExitCode(err), tt.msg)
		}
		e.expect("", "")
		if _, err := os.Stat(filepath.Join(e.dir, "config.yaml")); !os.IsNotExist(err) {
			t.Errorf("%v wrote the config file", tt.args)
		}
	}
}

// listEnv has a setting from each place: flag, env (TW_ and vendor), file
// and default.
func listEnv(t *testing.T) *testEnv {
	e := newEnv(t)
	if err := os.WriteFile(filepath.Join(e.dir, "config.yaml"),
		[]byte("server: http://file.example\ntoken: tw_file_token\ncanary:\n  domain: example\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TW_SERVER", "http://env.example")
	t.Setenv("TS_API_KEY", "ts-secret-key")
	t.Setenv("TS_USER_ID", "u-1")
	e.parseGlobalFlags("--server", "http://flag.example")
	return e
}

func TestList(t *testing.T) {
	e := listEnv(t)
	if err := e.run("list"); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"profile\t\t\n" +
		"data_dir\t/xdg-data/tw-cli\tdefault\n" +
		"playbooks_dir\t\t\n" +
		"database_url\t\t\n" +
		"server\thttp://flag.example\tflag --server\n" +
		"token\t********\tfile\n" +
		"threatstack.user_id\tu-1\tenv TS_USER_ID\n" +
		"threatstack.api_key\t********\tenv TS_API_KEY\n" +
		"threatstack.organization_id\t\t\n" +
		"threatstack.api_url\t\t\n" +
		"canary.domain\texample\tfile\n" +
		"canary.auth_token\t\t\n" +
		"canary.api_url\t\t\n" +
		"canary.flock\t\t\n"
	e.expect(want, "")
}

func TestListJSONMasksSecrets(t *testing.T) {
	e := listEnv(t)
	if err := e.run("list", "-o", "json"); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"tw_file_token", "ts-secret-key"} {
		if strings.Contains(e.stdout.String(), secret) {
			t.Errorf("config list -o json shows %q", secret)
		}
	}
	var got []Setting
	if err := json.Unmarshal(e.stdout.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(config.Keys) {
		t.Fatalf("%d settings, want %d", len(got), len(config.Keys))
	}
	want := Setting{Key: "threatstack.api_key", Value: "********", Origin: "env TS_API_KEY"}
	if got[7] != want {
		t.Errorf("got %+v, want %+v", got[7], want)
	}
}

func TestGetMasksSecretsUnlessRaw(t *testing.T) {
	e := listEnv(t)
	if err := e.run("get", "threatstack.api_key"); err != nil {
		t.Fatal(err)
	}
	e.expect("********\n", "")
	if err := e.run("get", "--raw", "threatstack.api_key"); err != nil {
		t.Fatal(err)
	}
	e.expect("ts-secret-key\n", "")
}

// A refused key is the user's typing (exit 2); a config file that cannot
// be written is not, and must not send them to --help.
func TestKeyErrorOnlyForRefusedKeys(t *testing.T) {
	t.Setenv("TW_CONFIG_DIR", t.TempDir())
	cfg, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	if err := keyError(cfg.Set("", "no.such.key", "x")); cmdutil.ExitCode(err) != cmdutil.ExitUsage {
		t.Errorf("unknown key: exit %d (%v), want %d", cmdutil.ExitCode(err), err, cmdutil.ExitUsage)
	}
	diskFull := errors.New("write config.yaml: no space left on device")
	if err := keyError(diskFull); err != diskFull || cmdutil.ExitCode(err) == cmdutil.ExitUsage {
		t.Errorf("a write error became %v (exit %d)", err, cmdutil.ExitCode(err))
	}
}

// A URL setting may carry a password or a token: list and get hide them,
// get --raw does not.
func TestURLSettingsHideCredentials(t *testing.T) {
	e := newEnv(t)
	t.Setenv("TW_SERVER", "https://admin:SRVPASS@r.example/?token=QTOK")
	if err := e.run("list"); err != nil {
		t.Fatal(err)
	}
	out := e.stdout.String()
	if strings.Contains(out, "SRVPASS") || strings.Contains(out, "QTOK") ||
		!strings.Contains(out, "server\thttps://admin@r.example/?token=REDACTED\tenv TW_SERVER") {
		t.Errorf("config list shows:\n%s", out)
	}
	if err := e.run("get", "server"); err != nil {
		t.Fatal(err)
	}
	e.expect("https://admin@r.example/?token=REDACTED\n", "")
	if err := e.run("get", "--raw", "server"); err != nil {
		t.Fatal(err)
	}
	e.expect("https://admin:SRVPASS@r.example/?token=QTOK\n", "")
}

func (e *testEnv) writeFile(content string) {
	e.t.Helper()
	if err := os.WriteFile(filepath.Join(e.dir, "config.yaml"), []byte(content), 0o600); err != nil {
		e.t.Fatal(err)
	}
}

func (e *testEnv) file() string {
	e.t.Helper()
	data, err := os.ReadFile(filepath.Join(e.dir, "config.yaml"))
	if err != nil {
		e.t.Fatal(err)
	}
	return string(data)
}

// Unsetting what the file does not hold says so, without a ✓.
func TestUnsetNothing(t *testing.T) {
	e := newEnv(t)
	path := filepath.Join(e.dir, "config.yaml")
	if err := e.run("unset", "server"); err != nil {
		t.Fatal(err)
	}
	e.expect("", "server is not set in "+path+"\n")
	// A profile key whose profile is a non-string YAML key was missed.
	e.writeFile("profiles: {prod: {canary: {auth_token: PRODTOKEN}}, 2024: {canary: {domain: x}}}\n")
	t.Setenv("TW_PROFILE", "prod")
	if err := e.run("unset", "canary.auth_token"); err != nil {
		t.Fatal(err)
	}
	e.expect("", "✓ Unset canary.auth_token (profile prod)\n")
	if err := e.run("unset", "canary.auth_token"); err != nil {
		t.Fatal(err)
	}
	e.expect("", "canary.auth_token is not set (profile prod) in "+path+"\n")
	if strings.Contains(e.file(), "PRODTOKEN") {
		t.Errorf("file still holds the token:\n%s", e.file())
	}
}

// `config set` under a new profile keeps the others, even when one has a
// non-string name; a value in the way is an error, not overwritten.
func TestSetKeepsOtherProfiles(t *testing.T) {
	e := newEnv(t)
	e.writeFile("profiles: {prod: {canary: {auth_token: PRODTOKEN}}, 2024: {canary: {domain: x}}}\n")
	t.Setenv("TW_PROFILE", "dev")
	if err := e.run("set", "canary.domain", "d"); err != nil {
		t.Fatal(err)
	}
	if err := e.run("profiles"); err != nil {
		t.Fatal(err)
	}
	e.expect("2024\t\ndev\t*\nprod\t\n", "")

	e.writeFile("profiles: {dev: [SECRET]}\n")
	err := e.run("set", "canary.domain", "d")
	if err == nil || cmdutil.ExitCode(err) == cmdutil.ExitUsage || strings.Contains(err.Error(), "SECRET") ||
		!strings.Contains(err.Error(), "cannot set profiles.dev.canary.domain: profiles.dev is a list, not a mapping") {
		t.Errorf("set over a list = %v (exit %d)", err, cmdutil.ExitCode(err))
	}
	if e.file() != "profiles: {dev: [SECRET]}\n" {
		t.Errorf("file changed:\n%s", e.file())
	}
}

// A profile created with capitals is usable under that name, as viper's
// case-insensitive keys would have it.
func TestProfileWithCapitals(t *testing.T) {
	e := newEnv(t)
	t.Setenv("TW_PROFILE", "Prod")
	if err := e.run("set", "canary.domain", "acme"); err != nil {
		t.Fatal(err)
	}
	if err := e.run("get", "canary.domain"); err != nil {
		t.Fatal(err)
	}
	e.expect("acme\n", "")
	t.Setenv("TW_PROFILE", "prod")
	if err := e.run("set", "canary.flock", "f"); err != nil {
		t.Fatal(err)
	}
	e.expect("", "✓ Set canary.flock (profile Prod) in "+filepath.Join(e.dir, "config.yaml")+"\n")
	if err := e.run("profiles"); err != nil {
		t.Fatal(err)
	}
	e.expect("Prod\t*\n", "")
}

// The default profile is a top-level setting whichever profile is
// active: it was refused ("drop --profile") once set, and unset removed
// profiles.prod.profile, leaving it in place.
func TestDefaultProfileIsTopLevel(t *testing.T) {
	e := newEnv(t)
	path := filepath.Join(e.dir, "config.yaml")
	e.writeFile("profile: prod\nprofiles:\n    prod:\n        canary:\n            domain: acme\n")
	if err := e.run("set", "profile", "dev"); err != nil {
		t.Fatal(err)
	}
	e.expect("", "✓ Set profile in "+path+"\n")
	if err := e.run("get", "profile"); err != nil {
		t.Fatal(err)
	}
	e.expect("dev\n", "")
	if err := e.run("unset", "profile"); err != nil {
		t.Fatal(err)
	}
	e.expect("", "✓ Unset profile\n")
	if want := "profiles:\n    prod:\n        canary:\n            domain: acme\n"; e.file() != want {
		t.Errorf("file =\n%s\nwant\n%s", e.file(), want)
	}
}

// With a default profile selected, unset removes the top-level value that
// get shows: it said "server is not set (profile prod)" and only
// --profile "" removed it. --profile NAME still keeps to that section.
func TestUnsetTopLevelUnderDefaultProfile(t *testing.T) {
	e := newEnv(t)
	path := filepath.Join(e.dir, "config.yaml")
	if err := e.run("set", "server", "http://a"); err != nil {
		t.Fatal(err)
	}
	e.parseGlobalFlags("--profile", "prod")
	if err := e.run("set", "canary.domain", "x"); err != nil {
		t.Fatal(err)
	}
	e.parseGlobalFlags()
	if err := e.run("set", "profile", "prod"); err != nil {
		t.Fatal(err)
	}
	if err := e.run("get", "server"); err != nil {
		t.Fatal(err)
	}
	e.expect("http://a\n", "")

	e.parseGlobalFlags("--profile", "prod")
	if err := e.run("unset", "server"); err != nil {
		t.Fatal(err)
	}
	e.expect("", "server is not set (profile prod) in "+path+"\n")

	e.parseGlobalFlags()
	if err := e.run("unset", "server"); err != nil {
		t.Fatal(err)
	}
	e.expect("", "✓ Unset server\n")
	if err := e.run("get", "server"); err != nil {
		t.Fatal(err)
	}
	e.expect("\n", "")
	if want := "profile: prod\nprofiles:\n    prod:\n        canary:\n            domain: x\n"; e.file() != want {
		t.Errorf("file =\n%s\nwant\n%s", e.file(), want)
	}

	// The profile's own value is the one get shows, so the one removed;
	// set keeps writing to the active profile, which get then shows.
	e.writeFile("profile: prod\ncanary:\n    domain: top\nprofiles:\n    prod:\n        canary:\n            domain: x\n")
	if err := e.run("unset", "canary.domain"); err != nil {
		t.Fatal(err)
	}
	e.expect("", "✓ Unset canary.domain (profile prod)\n")
	if err := e.run("set", "canary.domain", "y"); err != nil {
		t.Fatal(err)
	}
	e.expect("", "✓ Set canary.domain (profile prod) in "+path+"\n")
	if err := e.run("get", "canary.domain"); err != nil {
		t.Fatal(err)
	}
	e.expect("y\n", "")
}

// A relative directory is stored absolute and the ✓ line says where it
// points; the database no longer follows the working directory.
func TestSetResolvesDirectories(t *testing.T) {
	e := newEnv(t)
	path := filepath.Join(e.dir, "config.yaml")
	cwd := t.TempDir()
	t.Chdir(cwd)
	if err := e.run("set", "data_dir", "rel"); err != nil {
		t.Fatal(err)
	}
	abs := filepath.Join(cwd, "rel")
	e.expect("", "✓ Set data_dir to "+abs+" in "+path+"\n")
	t.Chdir(t.TempDir())
	if err := e.run("get", "data_dir"); err != nil {
		t.Fatal(err)
	}
	e.expect(abs+"\n", "")
	// An absolute one is stored as typed, and the line does not repeat it.
	if err := e.run("set", "playbooks_dir", "/srv/playbooks"); err != nil {
		t.Fatal(err)
	}
	e.expect("", "✓ Set playbooks_dir in "+path+"\n")
}

// A value the commands reading the key cannot use is a usage error naming
// the key and an example, and nothing is written.
func TestSetRefusesInvalidValues(t *testing.T) {
	tests := []struct{ key, value, msg string }{
		{"server", "notaurl", `invalid server "notaurl": want an http(s) URL with a host and no query, e.g. https://receiver.example.com`},
		{"threatstack.api_url", "ftp://api.example", `invalid threatstack.api_url "ftp://api.example": want an http(s) URL with a host and no query, e.g. https://api.threatstack.com`},
		{"canary.api_url", "https://c.example/api/v1/?auth_token=CTOK", `invalid canary.api_url "https://c.example/api/v1/?auth_token=REDACTED": want an http(s) URL with a host and no query, e.g. https://example.canary.tools/api/v1/`},
		{"database_url", "mysql://u:DBPASS@db/tw", `invalid database_url: want postgres://user:password@host:5432/database, or run 'tw-cli config unset database_url' for the embedded SQLite store`},
	}
	for _, tt := range tests {
		e := newEnv(t)
		err := e.run("set", tt.key, tt.value)
		if cmdutil.ExitCode(err) != cmdutil.ExitUsage || err.Error() != tt.msg {
			t.Errorf("set %s: err = %v (exit %d), want usage error %q", tt.key, err, cmdutil.ExitCode(err), tt.msg)
		}
		e.expect("", "")
		if _, err := os.Stat(filepath.Join(e.dir, "config.yaml")); !os.IsNotExist(err) {
			t.Errorf("set %s %s wrote the config file", tt.key, tt.value)
		}
	}
}

// `config set KEY ""` is refused for every key, pointing to unset: stored,
// `config get data_dir` printed "" while the commands used the default.
func TestSetRefusesEmptyValues(t *testing.T) {
	for _, k := range config.Keys {
		for _, v := range []string{"", "   "} {
			e := newEnv(t)
			err := e.run("set", k.Name, v)
			want := "empty value for " + k.Name + ": to use the default, run 'tw-cli config unset " + k.Name + "'"
			if cmdutil.ExitCode(err) != cmdutil.ExitUsage || err.Error() != want {
				t.Errorf("set %s %q: err = %v (exit %d), want usage error %q", k.Name, v, err, cmdutil.ExitCode(err), want)
			}
			e.expect("", "")
			if _, err := os.Stat(filepath.Join(e.dir, "config.yaml")); !os.IsNotExist(err) {
				t.Errorf("set %s %q wrote the config file", k.Name, v)
			}
		}
	}

	// The value set stays, and the hint keeps this run's --profile.
	e := newEnv(t)
	e.parseGlobalFlags("--profile", "prod")
	if err := e.run("set", "data_dir", "/srv/tw"); err != nil {
		t.Fatal(err)
	}
	err := e.run("set", "data_dir", "")
	if want := "empty value for data_dir: to use the default, run 'tw-cli config unset --profile prod data_dir'"; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
	if err := e.run("get", "data_dir"); err != nil {
		t.Fatal(err)
	}
	e.expect("/srv/tw\n", "")
	e.parseGlobalFlags("--profile", "")
	err = e.run("set", "data_dir", "")
	if want := `empty value for data_dir: to use the default, run 'tw-cli config unset --profile "" data_dir'`; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
}
