// Package config reads and writes tw-cli's settings: a YAML file in the
// user's config dir, TW_* environment variables and the vendors' own
// variable names, with one viper instance per run and no globals.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
	"gopkg.in/yaml.v3"

	"github.com/tw-cli/tw-cli/internal/redact"
)

// Key describes one setting.
type Key struct {
	Name   string
	Help   string
	Secret bool
	// URL marks a URL that may carry credentials (a password, ?token=):
	// shown with those hidden.
	URL bool
	// Env lists extra environment variables read for this key besides the
	// automatic TW_<NAME>, e.g. the vendors' TS_API_KEY.
	Env []string
	// Path marks a directory, stored absolute: a relative one would be
	// resolved against whichever directory each later command runs in.
	Path bool
	// check refuses at set time a value the commands reading the key
	// would fail on later, with an error far from its cause (a server
	// without a scheme surfaced as "needs an admin token"); nil accepts
	// anything. It says what is wanted, never echoing the value.
	check func(value string) error
}

// Keys are the settings `tw-cli config set` accepts.
var Keys = []Key{
	{Name: "profile", Help: "profile used when --profile/TW_PROFILE is not given"},
	{Name: "data_dir", Help: "directory of the local database and logs", Path: true},
	{Name: "playbooks_dir", Help: "directory of triage playbooks (default <data_dir>/playbooks)", Path: true},
	{Name: "database_url", Help: "store URL; unset for the embedded SQLite database", Secret: true, check: postgresURL},
	{Name: "server", Help: "URL of a remote tw-cli receiver for 'webhook' commands", URL: true, check: httpURL("https://receiver.example.com")},
	{Name: "token", Help: "admin API token (tw_…) for the remote receiver", Secret: true},
	{Name: "threatstack.user_id", Help: "Threat Stack user id (HAWK id)", Env: []string{"TS_USER_ID"}},
	{Name: "threatstack.api_key", Help: "Threat Stack API key (HAWK key)", Secret: true, Env: []string{"TS_API_KEY"}},
	{Name: "threatstack.organization_id", Help: "Threat Stack organization id (HAWK ext)", Env: []string{"TS_ORGANIZATION_ID", "TS_ORG_ID"}},
	{Name: "threatstack.api_url", Help: "Threat Stack API base URL", URL: true, Env: []string{"TS_API_URL", "TS_API_ENDPOINT", "TS_HOST"}, check: bareHostOr(httpURL("https://api.threatstack.com"))},
	{Name: "canary.domain", Help: "Canary console domain (<domain>.canary.tools)", Env: []string{"CANARY_DOMAIN", "CANARY_API_DOMAIN"}},
	{Name: "canary.auth_token", Help: "Canary console API auth token", Secret: true, Env: []string{"CANARY_AUTH_TOKEN", "CANARY_API_TOKEN"}},
	{Name: "canary.api_url", Help: "full Canary API URL, instead of a domain set in the same place", URL: true, Env: []string{"CANARY_API_URL"}, check: httpURL("https://example.canary.tools/api/v1/")},
	{Name: "canary.flock", Help: "default Canary flock id", Env: []string{"CANARY_FLOCK"}},
}

// httpURL accepts what the HTTP clients reading a key can use: an http(s)
// URL with a host. They refuse a query or fragment, or would append paths
// after it, so those are refused too.
func httpURL(example string) func(string) error {
	return func(v string) error {
		// The clients trim spaces too.
		u, err := url.Parse(strings.TrimSpace(v))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
			return fmt.Errorf("want an http(s) URL with a host and no query, e.g. %s", example)
		}
		return nil
	}
}

// bareHostOr accepts a bare host name (api.threatstack.com, no path),
// which the Threat Stack client and TS_HOST take as https://host, else
// what check accepts.
func bareHostOr(check func(string) error) func(string) error {
	return func(v string) error {
		if !strings.Contains(v, "://") && !strings.ContainsAny(v, "/ ") {
			v = "https://" + v
		}
		return check(v)
	}
}

// postgresURL is the store's own test (postgres.IsURL), which otherwise
// runs only when a command opens the store.
func postgresURL(v string) error {
	if !strings.HasPrefix(v, "postgres://") && !strings.HasPrefix(v, "postgresql://") {
		return errors.New("want postgres://user:password@host:5432/database, or run 'tw-cli config unset database_url' for the embedded SQLite store")
	}
	return nil
}

// LookupKey returns the description of a key.
func LookupKey(name string) (Key, bool) {
	for _, k := range Keys {
		if k.Name == name {
			return k, true
		}
	}
	return Key{}, false
}

// Config is the merged view of flags, environment and the config file.
//
// Precedence, highest first: a flag the user set, an environment variable,
// the active profile's section of the file (profiles.<name>.<key>), the
// top level of the file, the default. Profiles let one file hold several
// Threat Stack organizations and Canary consoles.
type Config struct {
	v    *viper.Viper
	path string
	// file holds only what is in the file, so Set never writes values that
	// came from the environment or flags. Its keys keep the file's case
	// (viper gets a copy to lowercase), so profile names read as written.
	file    map[string]any
	flags   map[string]*pflag.Flag
	profile string
}

// ProfileFlag is the global flag naming the profile.
const ProfileFlag = "profile"

// Dir is the config directory: TW_CONFIG_DIR, else $XDG_CONFIG_HOME/tw-cli,
// else ~/.config/tw-cli.
func Dir() string {
	if d := os.Getenv("TW_CONFIG_DIR"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_CONFIG_HOME"); d != "" {
		return filepath.Join(d, "tw-cli")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "tw-cli-config")
	}
	return filepath.Join(home, ".config", "tw-cli")
}

// DefaultDataDir is $XDG_DATA_HOME/tw-cli, else ~/.local/share/tw-cli.
func DefaultDataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "tw-cli")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "tw-cli-data")
	}
	return filepath.Join(home, ".local", "share", "tw-cli")
}

// FlagBinding ties a global flag to a config key (flag > env > file).
type FlagBinding struct {
	Key  string
	Flag *pflag.Flag
}

// Load reads the config file at Dir()/config.yaml (absent is fine) and
// binds the environment and the given flags.
func Load(flags ...FlagBinding) (*Config, error) {
	path := filepath.Join(Dir(), "config.yaml")
	c := &Config{v: viper.New(), path: path, file: map[string]any{}, flags: map[string]*pflag.Flag{}}
	c.v.SetConfigType("yaml")
	c.v.SetEnvPrefix("TW")
	c.v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	c.v.AutomaticEnv()
	c.v.SetDefault("data_dir", DefaultDataDir())
	for _, k := range Keys {
		if len(k.Env) > 0 {
			envs := append([]string{"TW_" + strings.ToUpper(strings.ReplaceAll(k.Name, ".", "_"))}, k.Env...)
			if err := c.v.BindEnv(append([]string{k.Name}, envs...)...); err != nil {
				return nil, err
			}
		}
	}
	for _, b := range flags {
		if b.Flag != nil {
			if err := c.v.BindPFlag(b.Key, b.Flag); err != nil {
				return nil, err
			}
			c.flags[b.Key] = b.Flag
		}
	}
	file, err := readFile(path)
	if err != nil {
		return nil, err
	}
	c.file = file
	// MergeConfigMap lowercases the map it is given in place: a profile
	// created as Prod was then listed as prod but looked up as Prod. The
	// copy cannot fail: readFile has already normalized the keys.
	merged, _ := stringKeys(file, "")
	if err := c.v.MergeConfigMap(merged.(map[string]any)); err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	c.profile = c.v.GetString("profile")
	// Profile names match whatever their case, as viper's keys do; from
	// here on the profile is spelt as in the file.
	if ps, ok := c.file["profiles"].(map[string]any); ok {
		if k, ok := keyIn(ps, c.profile); ok {
			c.profile = k
		}
	}
	return c, nil
}

// readFile parses the config file; an absent file is an empty one.
func readFile(path string) (map[string]any, error) {
	data, err := readRaw(path)
	if err != nil {
		return nil, err
	}
	return parseFile(path, data)
}

// readRaw reads the config file; an absent file is an empty one.
func readRaw(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("read config: %w", err)
	}
	return data, nil
}

// parseFile reads the config file's text as a map with string keys.
func parseFile(path string, data []byte) (map[string]any, error) {
	file := map[string]any{}
	if err := yaml.Unmarshal(data, &file); err != nil {
		return nil, fmt.Errorf("config file %s is not valid YAML: %w", path, err)
	}
	if line := secondDocument(data); line > 0 {
		// Unmarshal reads the first document only: what follows was
		// ignored, then dropped by the next 'config set'.
		return nil, fmt.Errorf("config file %s holds a second YAML document (line %d): tw-cli reads one; merge them and remove the ---", path, line)
	}
	if file == nil {
		return map[string]any{}, nil
	}
	// yaml.v3 decodes a mapping with a non-string key (an unquoted
	// `2024:` profile) as map[any]any, which the code below did not see as
	// a mapping: Set replaced it, dropping every profile in it.
	norm, err := stringKeys(file, "")
	if err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	return norm.(map[string]any), nil
}

// secondDocument returns the line of a second, non-empty YAML document in
// data, or 0.
func secondDocument(data []byte) int {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var first, second yaml.Node
	if dec.Decode(&first) != nil || dec.Decode(&second) != nil {
		return 0
	}
	if len(second.Content) == 0 || isNull(second.Content[0]) {
		return 0 // a trailing "---"
	}
	return second.Content[0].Line
}

// stringKeys returns a copy of v whose mappings all have string keys.
func stringKeys(v any, path string) (any, error) {
	join := func(k string) string {
		if path == "" {
			return k
		}
		return path + "." + k
	}
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			var err error
			if out[k], err = stringKeys(e, join(k)); err != nil {
				return nil, err
			}
		}
		return out, nil
	case map[any]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			ks := fmt.Sprint(k)
			if _, dup := out[ks]; dup {
				// 1 and 1.0 are two YAML keys but one string.
				return nil, fmt.Errorf("two keys read as %s: keep one", join(ks))
			}
			var err error
			if out[ks], err = stringKeys(e, join(ks)); err != nil {
				return nil, err
			}
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			var err error
			if out[i], err = stringKeys(e, path); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return v, nil
}

// A KeyError is a change SetMany or Unset refuses: an unknown key or an
// invalid value. Any other error is the file's.
type KeyError struct{ msg string }

func (e *KeyError) Error() string { return e.msg }

func keyErrorf(format string, args ...any) error { return &KeyError{fmt.Sprintf(format, args...)} }

func unknownKey(key string) error {
	return keyErrorf("unknown config key %q: run 'tw-cli config list' to see the keys", key)
}

// Normalize checks value for key and returns it as SetMany stores it:
// only a directory changes, made absolute. An empty or blank value is
// refused: stored, it read back as "" from 'config get' while the
// commands used the default, and Unset is how a key goes back to it.
func Normalize(key, value string) (string, error) {
	k, ok := LookupKey(key)
	if !ok {
		return "", unknownKey(key)
	}
	switch {
	case strings.TrimSpace(value) == "":
		return "", keyErrorf("empty value for %s: to use the default, run 'tw-cli config unset %s'", key, key)
	case k.Path:
		return absDir(value)
	case k.check != nil:
		if k.URL {
			// Stored as the clients read it: not every one trims.
			value = strings.TrimSpace(value)
		}
		if err := k.check(value); err != nil {
			shown := ""
			if !k.Secret {
				shown = fmt.Sprintf(" %q", redact.CredentialsString(value))
			}
			return "", keyErrorf("invalid %s%s: %v", key, shown, err)
		}
	}
	return value, nil
}

// absDir resolves dir against the current directory. A leading ~ is the
// home directory: quoted, the shell leaves it for us, and a directory
// named "~" under the current one is never what was meant.
func absDir(dir string) (string, error) {
	dir, err := homeJoined(dir)
	if err != nil {
		return "", err
	}
	return filepath.Abs(dir)
}

// homeJoined is dir with a leading ~ made the home directory.
func homeJoined(dir string) (string, error) {
	if dir != "~" && !strings.HasPrefix(dir, "~/") && !strings.HasPrefix(dir, "~"+string(filepath.Separator)) {
		return dir, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, dir[1:]), nil
}

// expandHome is homeJoined, or dir as it is when there is no home
// directory to find.
func expandHome(dir string) string {
	if joined, err := homeJoined(dir); err == nil {
		return joined
	}
	return dir
}

// CheckProfile fails when the active profile is not in the file. Commands
// that create profiles (config set/init) skip it.
func (c *Config) CheckProfile() error {
	ps, _ := c.file["profiles"].(map[string]any)
	if _, ok := keyIn(ps, c.profile); c.profile != "" && !ok {
		return fmt.Errorf("profile %q is not in %s: create it with 'tw-cli config init --profile %s' (see 'tw-cli config profiles')", c.profile, c.path, c.profile)
	}
	return nil
}

// Profile is the active profile, "" for none.
func (c *Config) Profile() string { return c.profile }

// ProfileFor is the profile whose section holds key: the active one, or
// "" for a key kept at the top level whatever the profile.
func (c *Config) ProfileFor(key string) string {
	if topLevel(c.profile, key) {
		return ""
	}
	return c.profile
}

// UnsetProfileFor is the profile whose section Unset should remove key
// from so that the value Get shows goes. That is ProfileFor's, except
// when the profile is only selected (the profile setting, TW_PROFILE),
// not named with --profile, and its section lacks key while the top level
// has it: Get shows the top-level value, and unset said "not set" while
// leaving it in place.
func (c *Config) UnsetProfileFor(key string) string {
	p := c.ProfileFor(key)
	if p == "" || strings.HasPrefix(c.Source(ProfileFlag), "flag") {
		return p
	}
	if _, ok := valueNested(c.file, c.profilePath(p, key)); ok {
		return p
	}
	if _, ok := valueNested(c.file, strings.Split(key, ".")); ok {
		return ""
	}
	return p
}

// Profiles lists the profile names in the file, sorted.
func (c *Config) Profiles() []string {
	ps, _ := c.file["profiles"].(map[string]any)
	names := make([]string, 0, len(ps))
	for n := range ps {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// topLevel says whether key is stored outside any profile: with none
// active, and always for the default profile, which is what selects one.
func topLevel(profile, key string) bool { return profile == "" || key == "profile" }

// profilePath is where key is stored for profile.
func (c *Config) profilePath(profile, key string) []string {
	if topLevel(profile, key) {
		return strings.Split(key, ".")
	}
	return append([]string{"profiles", profile}, strings.Split(key, ".")...)
}

// FileValue is the value the config file holds for key in profile's
// section (the top level for ""): the one SetMany would replace, whatever
// the environment or flags say.
func (c *Config) FileValue(profile, key string) (string, bool) {
	return valueNested(c.file, c.profilePath(profile, key))
}

// Path is the config file's path.
func (c *Config) Path() string { return c.path }

// Get returns a setting's effective value.
func (c *Config) Get(key string) string {
	v := c.get(key)
	if k, ok := LookupKey(key); ok && k.Path {
		// A quoted ~ in --data-dir=, TW_DATA_DIR or a hand-written file
		// reaches us as is: a ./~ directory is never what was meant.
		v = expandHome(v)
	}
	return v
}

func (c *Config) get(key string) string {
	if c.profile != "" && key != "profile" {
		switch src := c.Source(key); {
		case strings.HasPrefix(src, "flag"), strings.HasPrefix(src, "env"):
		default:
			if v, ok := valueNested(c.file, c.profilePath(c.profile, key)); ok {
				return v
			}
		}
	}
	return c.v.GetString(key)
}

// Set stores a value in the config file (written 0600), in profile's
// section when profile is not "". Only known keys are accepted, so a typo
// is an error and not a silently ignored setting.
func (c *Config) Set(profile, key, value string) error {
	return c.SetMany(profile, map[string]string{key: value})
}

// SetMany stores several values with one write, each as Normalize
// returns it; one refused value writes none.
func (c *Config) SetMany(profile string, values map[string]string) error {
	stored := make(map[string]string, len(values))
	for key, value := range values {
		v, err := Normalize(key, value)
		if err != nil {
			return err
		}
		stored[key] = v
	}
	values = stored
	err := c.update(func(file *fileEdit) (bool, error) {
		// In key order: new keys then land in the file the same way
		// whatever order the map gives.
		keys := make([]string, 0, len(values))
		for key := range values {
			keys = append(keys, key)
		}
		sort.Strings(keys)
		for _, key := range keys {
			if err := file.set(c.profilePath(profile, key), values[key]); err != nil {
				return false, fmt.Errorf("config file %s: %w", c.path, err)
			}
		}
		return true, nil
	})
	if err != nil {
		return err
	}
	for key, value := range values {
		if topLevel(profile, key) {
			c.v.Set(key, value)
		}
	}
	return nil
}

// Unset removes a value from the config file (from profile's section when
// profile is not ""). It reports whether the value was there.
func (c *Config) Unset(profile, key string) (bool, error) {
	if _, ok := LookupKey(key); !ok {
		return false, unknownKey(key)
	}
	var removed bool
	err := c.update(func(file *fileEdit) (bool, error) {
		removed = file.delete(c.profilePath(profile, key))
		return removed, nil
	})
	return removed, err
}

// update changes the config file as it is on disk now, not as Load read
// it, under an exclusive lock: two `config set` runs at once each keep
// their key, where the second used to write back a copy without the
// first's. change reports whether there is anything to write.
func (c *Config) update(change func(file *fileEdit) (bool, error)) error {
	dir := filepath.Dir(c.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return fmt.Errorf("lock config dir: %w", err)
	}
	defer unlock()
	data, err := readRaw(c.path)
	if err != nil {
		return err
	}
	file, err := parseFile(c.path, data)
	if err != nil {
		return err
	}
	edit := &fileEdit{values: file, tree: parseTree(data)}
	write, err := change(edit)
	if err != nil || !write {
		return err
	}
	out, err := edit.render()
	if err != nil {
		return err
	}
	if err := writeFile(c.path, out); err != nil {
		return err
	}
	c.file = file
	return nil
}

// Source says where a key's effective value comes from: flag, env, file or
// default (or "" when unset).
func (c *Config) Source(key string) string {
	if fl, ok := c.flags[key]; ok && fl.Changed {
		return "flag --" + fl.Name
	}
	k, _ := LookupKey(key)
	envs := append([]string{"TW_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))}, k.Env...)
	for _, e := range envs {
		if os.Getenv(e) != "" {
			return "env " + e
		}
	}
	if c.profile != "" && key != "profile" {
		if _, ok := valueNested(c.file, c.profilePath(c.profile, key)); ok {
			return "profile " + c.profile
		}
	}
	if _, ok := valueNested(c.file, strings.Split(key, ".")); ok {
		return "file"
	}
	// Not c.Get: with a profile active, Get asks Source, which asked Get
	// again until the stack overflowed. Nothing above set the key, so
	// viper's value is the default.
	if c.v.IsSet(key) && c.v.GetString(key) != "" {
		return "default"
	}
	return ""
}

// writeFile replaces the config file with data, mode 0600. A symlinked
// config.yaml (stow, chezmoi and other dotfile managers make one) is
// written through: renaming onto the link replaced it with a plain file
// and left the file it pointed to, the one the user keeps, unchanged.
func writeFile(path string, data []byte) error {
	target, err := writeTarget(path)
	if err != nil {
		return err
	}
	// Write then rename so a crash never leaves a half-written config.
	// The temporary file is beside the target: rename cannot cross file
	// systems, and a dotfiles repository is often on another.
	tmp, err := os.CreateTemp(filepath.Dir(target), ".config-*.yaml")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), target)
}

// writeTarget is the file a write to path must replace: path itself,
// or what its symlinks lead to.
func writeTarget(path string) (string, error) {
	target, err := filepath.EvalSymlinks(path)
	if err == nil {
		return target, nil
	}
	fi, lerr := os.Lstat(path)
	switch {
	case errors.Is(lerr, os.ErrNotExist):
		return path, nil // a first write
	case lerr != nil:
		return "", lerr
	case fi.Mode()&os.ModeSymlink == 0:
		return "", err
	}
	// A dangling link: its target may be on a volume not mounted yet.
	// Writing a new file there, or over the link, would each surprise.
	link, _ := os.Readlink(path)
	return "", fmt.Errorf("config file %s is a symbolic link to %s, which does not exist: create that file, or remove the link", path, link)
}

// keyIn finds k among m's keys ignoring case, as viper reads them, so a
// hand-written Prod: or Canary: is found and updated rather than shadowed
// by a second, lowercase copy. An exact match wins.
func keyIn(m map[string]any, k string) (string, bool) {
	if _, ok := m[k]; ok {
		return k, true
	}
	var found []string
	for mk := range m {
		if strings.EqualFold(mk, k) {
			found = append(found, mk)
		}
	}
	if len(found) == 0 {
		return k, false
	}
	sort.Strings(found)
	return found[0], true
}

// kind names what a YAML value is, for errors; never the value itself,
// which may be a secret.
func kind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	}
	return "a value"
}

// setNested refuses to replace a mapping, a list or a value standing where
// path needs something else: that would silently drop what the user wrote.
func setNested(m map[string]any, path []string, value string) error {
	var at []string // path as spelt in the file
	for _, p := range path[:len(path)-1] {
		k, _ := keyIn(m, p)
		at = append(at, k)
		switch next := m[k].(type) {
		case map[string]any:
			m = next
		case nil: // absent, or an empty `canary:`
			n := map[string]any{}
			m[k] = n
			m = n
		default:
			return fmt.Errorf("cannot set %s: %s is %s, not a mapping; edit the file", strings.Join(path, "."), strings.Join(at, "."), kind(next))
		}
	}
	k, _ := keyIn(m, path[len(path)-1])
	switch old := m[k].(type) {
	case map[string]any, []any:
		return fmt.Errorf("cannot set %s: %s is %s, not a value; edit the file", strings.Join(path, "."), strings.Join(append(at, k), "."), kind(old))
	}
	m[k] = value
	return nil
}

// deleteNested removes path and reports whether it was there.
func deleteNested(m map[string]any, path []string) bool {
	for _, p := range path[:len(path)-1] {
		k, _ := keyIn(m, p)
		next, ok := m[k].(map[string]any)
		if !ok {
			return false
		}
		m = next
	}
	k, ok := keyIn(m, path[len(path)-1])
	if ok {
		delete(m, k)
	}
	return ok
}

// valueNested reads a scalar at path; YAML numbers and booleans read as text.
func valueNested(m map[string]any, path []string) (string, bool) {
	for _, p := range path[:len(path)-1] {
		k, _ := keyIn(m, p)
		next, ok := m[k].(map[string]any)
		if !ok {
			return "", false
		}
		m = next
	}
	k, _ := keyIn(m, path[len(path)-1])
	v, ok := m[k]
	if !ok || v == nil {
		return "", false
	}
	if _, isMap := v.(map[string]any); isMap {
		return "", false
	}
	return fmt.Sprint(v), true
}

// SortedKeyNames returns the known keys in order, for completion.
func SortedKeyNames() []string {
	names := make([]string, len(Keys))
	for i, k := range Keys {
		names[i] = k.Name
	}
	sort.Strings(names)
	return names
}
