// Package config reads and writes tw-cli's settings: a YAML file in the
// user's config dir, TW_* environment variables and the vendors' own
// variable names, with one viper instance per run and no globals.
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
	"gopkg.in/yaml.v3"
)

// Key describes one setting.
type Key struct {
	Name   string
	Help   string
	Secret bool
	// Env lists extra environment variables read for this key besides the
	// automatic TW_<NAME>, e.g. the vendors' TS_API_KEY.
	Env []string
}

// Keys are the settings `tw-cli config set` accepts.
var Keys = []Key{
	{Name: "data_dir", Help: "directory of the local database and logs"},
	{Name: "playbooks_dir", Help: "directory of triage playbooks (default <data_dir>/playbooks)"},
	{Name: "database_url", Help: "store URL; empty for the embedded SQLite database", Secret: true},
	{Name: "server", Help: "URL of a remote tw-cli receiver for 'webhook' commands"},
	{Name: "token", Help: "admin API token (tw_…) for the remote receiver", Secret: true},
	{Name: "threatstack.user_id", Help: "Threat Stack user id (HAWK id)", Env: []string{"TS_USER_ID"}},
	{Name: "threatstack.api_key", Help: "Threat Stack API key (HAWK key)", Secret: true, Env: []string{"TS_API_KEY"}},
	{Name: "threatstack.organization_id", Help: "Threat Stack organization id (HAWK ext)", Env: []string{"TS_ORGANIZATION_ID", "TS_ORG_ID"}},
	{Name: "threatstack.api_url", Help: "Threat Stack API base URL", Env: []string{"TS_API_URL", "TS_API_ENDPOINT"}},
	{Name: "canary.domain", Help: "Canary console domain (<domain>.canary.tools)", Env: []string{"CANARY_DOMAIN", "CANARY_API_DOMAIN"}},
	{Name: "canary.auth_token", Help: "Canary console API auth token", Secret: true, Env: []string{"CANARY_AUTH_TOKEN", "CANARY_API_TOKEN"}},
	{Name: "canary.api_url", Help: "full Canary API URL, overriding the domain", Env: []string{"CANARY_API_URL"}},
	{Name: "canary.flock", Help: "default Canary flock id", Env: []string{"CANARY_FLOCK"}},
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
type Config struct {
	v    *viper.Viper
	path string
	// file holds only what is in the file, so Set never writes values that
	// came from the environment or flags.
	file map[string]any
}

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
	c := &Config{v: viper.New(), path: path, file: map[string]any{}}
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
		}
	}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("read config: %w", err)
	default:
		if err := yaml.Unmarshal(data, &c.file); err != nil {
			return nil, fmt.Errorf("config file %s is not valid YAML: %w", path, err)
		}
		if c.file == nil {
			c.file = map[string]any{}
		}
		if err := c.v.MergeConfigMap(c.file); err != nil {
			return nil, fmt.Errorf("config file %s: %w", path, err)
		}
	}
	return c, nil
}

// Path is the config file's path.
func (c *Config) Path() string { return c.path }

// Get returns a setting's effective value.
func (c *Config) Get(key string) string { return c.v.GetString(key) }

// Set stores a value in the config file (written 0600). Only known keys
// are accepted, so a typo is an error and not a silently ignored setting.
func (c *Config) Set(key, value string) error {
	if _, ok := LookupKey(key); !ok {
		return fmt.Errorf("unknown config key %q: run 'tw-cli config list' to see the keys", key)
	}
	setNested(c.file, strings.Split(key, "."), value)
	c.v.Set(key, value)
	return c.write()
}

// Unset removes a value from the config file.
func (c *Config) Unset(key string) error {
	if _, ok := LookupKey(key); !ok {
		return fmt.Errorf("unknown config key %q: run 'tw-cli config list' to see the keys", key)
	}
	deleteNested(c.file, strings.Split(key, "."))
	return c.write()
}

// Source says where a key's effective value comes from: flag, env, file or
// default (or "" when unset).
func (c *Config) Source(key string) string {
	k, _ := LookupKey(key)
	envs := append([]string{"TW_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))}, k.Env...)
	for _, e := range envs {
		if os.Getenv(e) != "" {
			return "env " + e
		}
	}
	if lookupNested(c.file, strings.Split(key, ".")) {
		return "file"
	}
	if c.v.IsSet(key) && c.Get(key) != "" {
		return "default"
	}
	return ""
}

func (c *Config) write() error {
	if err := os.MkdirAll(filepath.Dir(c.path), 0o700); err != nil {
		return err
	}
	data, err := yaml.Marshal(c.file)
	if err != nil {
		return err
	}
	// Write then rename so a crash never leaves a half-written config.
	tmp, err := os.CreateTemp(filepath.Dir(c.path), ".config-*.yaml")
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
	return os.Rename(tmp.Name(), c.path)
}

func setNested(m map[string]any, path []string, value string) {
	for _, p := range path[:len(path)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[path[len(path)-1]] = value
}

func deleteNested(m map[string]any, path []string) {
	for _, p := range path[:len(path)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			return
		}
		m = next
	}
	delete(m, path[len(path)-1])
}

func lookupNested(m map[string]any, path []string) bool {
	for _, p := range path[:len(path)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			return false
		}
		m = next
	}
	_, ok := m[path[len(path)-1]]
	return ok
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
