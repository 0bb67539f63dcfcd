package config

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/spf13/pflag"
)

// isolate points the config dir at a temp dir and hides the developer's
// own TW_*, TS_* and CANARY_* settings. It returns the config dir.
func isolate(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("TW_CONFIG_DIR", dir)
	t.Setenv("XDG_DATA_HOME", filepath.Join(dir, "xdg-data"))
	for _, k := range Keys {
		t.Setenv("TW_"+strings.ToUpper(strings.ReplaceAll(k.Name, ".", "_")), "")
		for _, e := range k.Env {
			t.Setenv(e, "")
		}
	}
	return dir
}

func writeConfigFile(t *testing.T, dir, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// serverFlag is a --server flag as the root command defines it, parsed
// from args.
func serverFlag(t *testing.T, args ...string) FlagBinding {
	t.Helper()
	fs := pflag.NewFlagSet("tw-cli", pflag.ContinueOnError)
	fs.String("server", "", "")
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return FlagBinding{Key: "server", Flag: fs.Lookup("server")}
}

func TestPrecedence(t *testing.T) {
	tests := []struct {
		name       string
		file       string
		env        map[string]string
		flag       []string
		key        string
		want       string
		wantSource string
	}{
		{
			name: "unset",
			key:  "server", want: "", wantSource: "",
		},
		{
			name: "file",
			file: "server: http://file.example\n",
			key:  "server", want: "http://file.example", wantSource: "file",
		},
		{
			name: "env beats file",
			file: "server: http://file.example\n",
			env:  map[string]string{"TW_SERVER": "http://env.example"},
			key:  "server", want: "http://env.example", wantSource: "env TW_SERVER",
		},
		{
			name: "flag beats env and file",
			file: "server: http://file.example\n",
			env:  map[string]string{"TW_SERVER": "http://env.example"},
			flag: []string{"--server", "http://flag.example"},
			key:  "server", want: "http://flag.example", wantSource: "flag --server",
		},
		{
			name: "flag not given leaves env",
			env:  map[string]string{"TW_SERVER": "http://env.example"},
			flag: []string{},
			key:  "server", want: "http://env.example", wantSource: "env TW_SERVER",
		},
		{
			name: "default data dir",
			key:  "data_dir", want: "XDG/tw-cli", wantSource: "default",
		},
		{
			name: "file beats default",
			file: "data_dir: /srv/tw\n",
			key:  "data_dir", want: "/srv/tw", wantSource: "file",
		},
		{
			name: "TW_ env of a plain key",
			file: "data_dir: /srv/tw\n",
			env:  map[string]string{"TW_DATA_DIR": "/env/tw"},
			key:  "data_dir", want: "/env/tw", wantSource: "env TW_DATA_DIR",
		},
		{
			name: "nested key from the file",
			file: "threatstack:\n  api_key: file-key\n",
			key:  "threatstack.api_key", want: "file-key", wantSource: "file",
		},
		{
			name: "vendor variable beats the file",
			file: "threatstack:\n  api_key: file-key\n",
			env:  map[string]string{"TS_API_KEY": "vendor-key"},
			key:  "threatstack.api_key", want: "vendor-key", wantSource: "env TS_API_KEY",
		},
		{
			name: "TW_ variable beats the vendor's",
			env:  map[string]string{"TS_API_KEY": "vendor-key", "TW_THREATSTACK_API_KEY": "tw-key"},
			key:  "threatstack.api_key", want: "tw-key", wantSource: "env TW_THREATSTACK_API_KEY",
		},
		{
			name: "second vendor alias",
			env:  map[string]string{"TS_ORG_ID": "org-2"},
			key:  "threatstack.organization_id", want: "org-2", wantSource: "env TS_ORG_ID",
		},
		{
			name: "first vendor alias beats the second",
			env:  map[string]string{"TS_ORG_ID": "org-2", "TS_ORGANIZATION_ID": "org-1"},
			key:  "threatstack.organization_id", want: "org-1", wantSource: "env TS_ORGANIZATION_ID",
		},
		{
			name: "canary token",
			env:  map[string]string{"CANARY_API_TOKEN": "c-tok"},
			key:  "canary.auth_token", want: "c-tok", wantSource: "env CANARY_API_TOKEN",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := isolate(t)
			if tt.file != "" {
				writeConfigFile(t, dir, tt.file)
			}
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var bindings []FlagBinding
			if tt.flag != nil {
				bindings = append(bindings, serverFlag(t, tt.flag...))
			}
			c, err := Load(bindings...)
			if err != nil {
				t.Fatal(err)
			}
			want := strings.Replace(tt.want, "XDG", filepath.Join(dir, "xdg-data"), 1)
			if got := c.Get(tt.key); got != want {
				t.Errorf("Get(%q) = %q, want %q", tt.key, got, want)
			}
			if got := c.Source(tt.key); got != tt.wantSource {
				t.Errorf("Source(%q) = %q, want %q", tt.key, got, tt.wantSource)
			}
		})
	}
}

func TestPath(t *testing.T) {
	dir := isolate(t)
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "config.yaml"); c.Path() != want {
		t.Errorf("Path() = %q, want %q", c.Path(), want)
	}
}

func TestDir(t *testing.T) {
	t.Setenv("TW_CONFIG_DIR", "")
	t.Setenv("XDG_CONFIG_HOME", "/xdg/config")
	if got := Dir(); got != "/xdg/config/tw-cli" {
		t.Errorf("Dir() with XDG_CONFIG_HOME = %q", got)
	}
	t.Setenv("TW_CONFIG_DIR", "/explicit")
	if got := Dir(); got != "/explicit" {
		t.Errorf("Dir() with TW_CONFIG_DIR = %q", got)
	}
	t.Setenv("XDG_DATA_HOME", "/xdg/data")
	if got := DefaultDataDir(); got != "/xdg/data/tw-cli" {
		t.Errorf("DefaultDataDir() = %q", got)
	}
}

func TestSetWritesPrivateFile(t *testing.T) {
	dir := filepath.Join(isolate(t), "not-yet")
	t.Setenv("TW_CONFIG_DIR", dir)
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Set("", "threatstack.api_key", "s3cret"); err != nil {
		t.Fatal(err)
	}
	if err := c.Set("", "server", "https://receiver.example.com"); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(c.Path())
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("config file mode = %v, want 0600", st.Mode().Perm())
	}
	dst, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if dst.Mode().Perm() != 0o700 {
		t.Errorf("config dir mode = %v, want 0700", dst.Mode().Perm())
	}
	data, _ := os.ReadFile(c.Path())
	want := "server: https://receiver.example.com\nthreatstack:\n    api_key: s3cret\n"
	if string(data) != want {
		t.Errorf("file = %q, want %q", data, want)
	}
	// The value is effective at once and after a reload.
	if got := c.Get("server"); got != "https://receiver.example.com" {
		t.Errorf("Get after Set = %q", got)
	}
	c2, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if got := c2.Get("threatstack.api_key"); got != "s3cret" {
		t.Errorf("reloaded api_key = %q", got)
	}
	// No temp files are left next to the config; the lock file is
	// private, and empty.
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if runtime.GOOS != "windows" && !slices.Equal(names, []string{".config.lock", "config.yaml"}) {
		t.Errorf("config dir holds %v, want only the config and its lock", names)
	}
	if st, err := os.Stat(filepath.Join(dir, ".config.lock")); err == nil && (st.Mode().Perm() != 0o600 || st.Size() != 0) {
		t.Errorf("lock file mode %v size %d", st.Mode().Perm(), st.Size())
	}
}

func TestSetTightensAnExistingFile(t *testing.T) {
	dir := isolate(t)
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte("server: http://old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Set("", "token", "tw_x"); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", st.Mode().Perm())
	}
	data, _ := os.ReadFile(path)
	if string(data) != "server: http://old\ntoken: tw_x\n" {
		t.Errorf("file = %q: Set must keep the other settings", data)
	}
}

func TestSetNeverPersistsEnvOrFlags(t *testing.T) {
	isolate(t)
	t.Setenv("TW_TOKEN", "tw_from_env")
	t.Setenv("TS_API_KEY", "vendor-key")
	c, err := Load(serverFlag(t, "--server", "http://flag"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Set("", "canary.domain", "example"); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(c.Path())
	if string(data) != "canary:\n    domain: example\n" {
		t.Errorf("file = %q, want only canary.domain", data)
	}
}

func TestSetRefusesUnknownKeys(t *testing.T) {
	isolate(t)
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"sever", "threatstack", "threatstack.apikey", ""} {
		err := c.Set("", key, "x")
		if err == nil {
			t.Errorf("Set(%q) accepted", key)
			continue
		}
		want := `unknown config key "` + key + `": run 'tw-cli config list' to see the keys`
		if err.Error() != want {
			t.Errorf("Set(%q) = %q, want %q", key, err, want)
		}
		if _, ok := err.(*KeyError); !ok {
			t.Errorf("Set(%q) = %T, want a *KeyError (a usage error, unlike a failed write)", key, err)
		}
		if _, err := c.Unset("", key); err == nil {
			t.Errorf("Unset(%q) accepted", key)
		}
	}
	if _, err := os.Stat(c.Path()); !os.IsNotExist(err) {
		t.Errorf("a refused Set wrote the file (stat: %v)", err)
	}
}

func TestUnset(t *testing.T) {
	dir := isolate(t)
	writeConfigFile(t, dir, "server: http://file\ntoken: tw_x\nthreatstack:\n  api_key: k\n  user_id: u\n")
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"server", "threatstack.api_key"} {
		if removed, err := c.Unset("", key); err != nil || !removed {
			t.Fatalf("Unset(%q) = %v, %v", key, removed, err)
		}
	}
	// Unsetting what is not in the file is not an error, but says so.
	if removed, err := c.Unset("", "canary.flock"); err != nil || removed {
		t.Fatalf("Unset(canary.flock) = %v, %v, want false, nil", removed, err)
	}
	c2, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{"server": "", "threatstack.api_key": "", "token": "tw_x", "threatstack.user_id": "u"} {
		if got := c2.Get(key); got != want {
			t.Errorf("after Unset, Get(%q) = %q, want %q", key, got, want)
		}
	}
	if got := c2.Source("server"); got != "" {
		t.Errorf("Source(server) after Unset = %q", got)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := isolate(t)
	writeConfigFile(t, dir, "server: [unclosed\n")
	_, err := Load()
	if err == nil || !strings.Contains(err.Error(), "is not valid YAML") || !strings.Contains(err.Error(), filepath.Join(dir, "config.yaml")) {
		t.Errorf("Load(bad yaml) = %v", err)
	}
}

// A second document was ignored when read, and dropped, with the token
// in it, by the next 'config set'.
func TestSecondDocumentIsRefused(t *testing.T) {
	dir := isolate(t)
	writeConfigFile(t, dir, "server: https://a.example.com\n---\ntoken: tw_keepme\n")
	if _, err := Load(); err == nil || !strings.Contains(err.Error(), "holds a second YAML document (line 3)") {
		t.Fatalf("Load = %v, want the second document refused", err)
	}
	// A trailing --- is no second document.
	writeConfigFile(t, dir, "server: https://a.example.com\n---\n")
	if _, err := Load(); err != nil {
		t.Fatalf("Load with a trailing ---: %v", err)
	}
}

// A quoted ~ in TW_DATA_DIR (or --data-dir=~/x, or a hand-written file)
// is the home directory, as 'config set data_dir' makes it: a ./~
// directory per working directory was created.
func TestDirectoriesExpandHome(t *testing.T) {
	isolate(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("TW_DATA_DIR", "~/twx")
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Get("data_dir"); got != filepath.Join(home, "twx") {
		t.Fatalf("data_dir = %q, want %q", got, filepath.Join(home, "twx"))
	}
	t.Setenv("TW_DATA_DIR", "~other/x") // another user's home: not ours to guess
	if c, _ = Load(); c.Get("data_dir") != "~other/x" {
		t.Fatalf("data_dir = %q", c.Get("data_dir"))
	}
}

func TestEmptyFileIsFine(t *testing.T) {
	dir := isolate(t)
	writeConfigFile(t, dir, "")
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Set("", "server", "http://x"); err != nil {
		t.Fatalf("Set after loading an empty file: %v", err)
	}
}

func TestLookupKeyAndNames(t *testing.T) {
	k, ok := LookupKey("threatstack.api_key")
	if !ok || !k.Secret || len(k.Env) == 0 || k.Env[0] != "TS_API_KEY" {
		t.Errorf("LookupKey(threatstack.api_key) = %+v, %v", k, ok)
	}
	if _, ok := LookupKey("nope"); ok {
		t.Error("LookupKey(nope) found something")
	}
	names := SortedKeyNames()
	if len(names) != len(Keys) {
		t.Fatalf("SortedKeyNames has %d names, want %d", len(names), len(Keys))
	}
	for i := 1; i < len(names); i++ {
		if names[i-1] >= names[i] {
			t.Errorf("not sorted: %q before %q", names[i-1], names[i])
		}
	}
}

// Each Config changes the file as it is on disk, not as it was loaded: a
// second `config set` that loaded before the first wrote keeps the
// first's key, and parallel writers all land.
func TestSetKeepsOtherWritersChanges(t *testing.T) {
	isolate(t)
	a, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	b, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Set("", "canary.domain", "acme"); err != nil {
		t.Fatal(err)
	}
	if err := b.Set("", "canary.auth_token", "tok"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Unset("", "canary.auth_token"); err != nil {
		t.Fatal(err)
	}
	if err := b.Set("prod", "canary.domain", "prod-acme"); err != nil {
		t.Fatal(err)
	}
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if c.Get("canary.domain") != "acme" || c.Get("canary.auth_token") != "" || !slices.Equal(c.Profiles(), []string{"prod"}) {
		t.Fatalf("after interleaved writers: domain %q, token %q, profiles %v", c.Get("canary.domain"), c.Get("canary.auth_token"), c.Profiles())
	}

	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cfg, err := Load()
			if err == nil {
				err = cfg.Set(fmt.Sprintf("p%d", i), "canary.domain", fmt.Sprintf("d%d", i))
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if c, err = Load(); err != nil || len(c.Profiles()) != 11 {
		t.Fatalf("after 10 parallel profile writes: %v, %v", c.Profiles(), err)
	}
}

// With a profile active, a key set nowhere (data_dir with no flag, env or
// file value) falls back to its default. Get and Source asked each other
// in a loop until the stack overflowed: every command that opened the
// local store crashed under --profile unless TW_DATA_DIR was set.
func TestProfileFallsBackToDefaults(t *testing.T) {
	dir := isolate(t)
	writeConfigFile(t, dir, "profile: prod\nprofiles:\n  prod:\n    canary:\n      domain: acme\n")
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if c.Profile() != "prod" || c.Get("canary.domain") != "acme" {
		t.Fatalf("profile %q, canary.domain %q", c.Profile(), c.Get("canary.domain"))
	}
	if got := c.Get("data_dir"); got != DefaultDataDir() || c.Source("data_dir") != "default" {
		t.Fatalf("data_dir = %q from %q, want the default %q", got, c.Source("data_dir"), DefaultDataDir())
	}
	if got := c.Get("server"); got != "" || c.Source("server") != "" {
		t.Fatalf("server = %q from %q, want unset", got, c.Source("server"))
	}
}
