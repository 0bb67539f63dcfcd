package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/config"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/noredirect"
	"github.com/tw-cli/tw-cli/internal/redact"
	"github.com/tw-cli/tw-cli/internal/sources"
	"github.com/tw-cli/tw-cli/internal/store"
	"github.com/tw-cli/tw-cli/internal/store/postgres"
	"github.com/tw-cli/tw-cli/internal/store/sqlite"
)

// DatabaseFile is the SQLite file inside the data dir.
const DatabaseFile = "tw-cli.db"

// globalFlags are the root's persistent flags that config keys mirror.
var globalFlags = []struct{ flag, key string }{
	{"data-dir", "data_dir"},
	{"server", "server"},
	{"token", "token"},
	{"database-url", "database_url"},
	{"profile", "profile"},
}

// newFactory wires the real dependencies; each is built on first use.
func newFactory(ios *iostreams.IOStreams, version string, flags func() *pflag.FlagSet) (*cmdutil.Factory, func()) {
	f := &cmdutil.Factory{IOStreams: ios, Version: version, Now: time.Now}
	if exe, err := os.Executable(); err == nil {
		f.Executable = exe
	}

	f.Config = sync.OnceValues(func() (*config.Config, error) {
		var b []config.FlagBinding
		for _, g := range globalFlags {
			if fl := flags().Lookup(g.flag); fl != nil {
				b = append(b, config.FlagBinding{Key: g.key, Flag: fl})
			}
		}
		return config.Load(b...)
	})

	f.DataDir = func() (string, error) {
		cfg, err := f.Config()
		if err != nil {
			return "", err
		}
		dir := cfg.Get("data_dir")
		if dir == "" {
			dir = config.DefaultDataDir()
		}
		return filepath.Abs(dir)
	}

	var opened store.Store
	// ConfigureStore and Store run on the command's goroutine, one after
	// the other, so these need no lock.
	var storeOpts cmdutil.StoreOptions
	storeRequested := false
	f.ConfigureStore = func(o cmdutil.StoreOptions) error {
		if storeRequested {
			return fmt.Errorf("the store is already open; its options cannot change")
		}
		storeOpts = o
		return nil
	}
	f.Store = sync.OnceValues(func() (store.Store, error) {
		storeRequested = true
		s, err := openStore(f, true, storeOpts)
		if err != nil {
			return nil, err
		}
		opened = s
		return s, nil
	})
	f.Migrator = func() (store.Migrator, error) {
		s, err := openStore(f, false, cmdutil.StoreOptions{})
		if err != nil {
			return nil, err
		}
		return s, nil
	}

	f.Debug = func() bool {
		d, _ := flags().GetBool("debug")
		return d
	}

	f.HTTPClient = sync.OnceValue(func() *http.Client {
		var rt http.RoundTripper = http.DefaultTransport
		if f.Debug() {
			rt = &cmdutil.DebugTransport{Base: rt, W: ios.ErrOut}
		}
		return &http.Client{Timeout: 30 * time.Second, Transport: rt, CheckRedirect: noredirect.Check}
	})

	// Once per command: f.Remote may run more than once.
	var warnCleartextOnce sync.Once
	f.Remote = func() (*sources.Remote, error) {
		cfg, err := f.Config()
		if err != nil {
			return nil, err
		}
		server := cfg.Get("server")
		if server == "" {
			return nil, nil
		}
		// A token read from a CRLF file keeps its \r: in a header it
		// failed as "cannot reach the receiver".
		tok := strings.TrimSpace(cfg.Get("token"))
		if tok == "" {
			return nil, cmdutil.AuthError(fmt.Errorf("--server %s needs an admin token: pass --token or set TW_TOKEN (create one on the server with 'tw-cli token create')", redact.CredentialsString(server)))
		}
		warnCleartextOnce.Do(func() {
			cmdutil.WarnCleartext(ios.ErrOut, server, "--server", "admin token", " (serve --tls-cert)")
		})
		return &sources.Remote{BaseURL: server, Token: tok, Client: f.HTTPClient()}, nil
	}

	f.Sources = func() (sources.Service, error) {
		remote, err := f.Remote()
		if err != nil {
			return nil, err
		}
		if remote != nil {
			return remote, nil
		}
		s, err := f.Store()
		if err != nil {
			return nil, err
		}
		return &sources.Local{Store: s, Origin: "cli", Now: f.Now}, nil
	}

	cleanup := func() {
		if opened != nil {
			opened.Close()
		}
	}
	return f, cleanup
}

// migratingStore is what both backends are.
type migratingStore interface {
	store.Store
	store.Migrator
}

// openStore opens the configured store: PostgreSQL when database_url
// (--database-url, TW_DATABASE_URL) is set, else the SQLite file in the
// data dir. With migrate unset it opens the schema as it is, for
// `tw-cli db`. Each branch returns a literal nil on error: a nil
// *Store in the interface would not compare equal to nil.
func openStore(f *cmdutil.Factory, migrate bool, opts cmdutil.StoreOptions) (migratingStore, error) {
	cfg, err := f.Config()
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	if u := cfg.Get("database_url"); u != "" {
		if !postgres.IsURL(u) {
			return nil, cmdutil.FlagErrorf("database URL %q: use postgres://user:password@host:5432/database, or leave it empty for the embedded SQLite store", redactURL(u))
		}
		if opts.SQLiteSynchronous != "" {
			// Silently ignoring it would promise a durability it does not set.
			return nil, cmdutil.FlagErrorf("--sqlite-synchronous applies to the SQLite store; with PostgreSQL, durability is the server's synchronous_commit (on by default)")
		}
		s, err := postgres.Open(ctx, u, postgres.Options{NoMigrate: !migrate})
		if errors.Is(err, postgres.ErrInvalidURL) {
			return nil, &cmdutil.FlagError{Err: err}
		}
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	dir, err := f.DataDir()
	if err != nil {
		return nil, err
	}
	syncMode := opts.SQLiteSynchronous
	if syncMode == "" {
		syncMode = os.Getenv("TW_SQLITE_SYNCHRONOUS")
	}
	s, err := sqlite.Open(ctx, filepath.Join(dir, DatabaseFile), sqlite.Options{Synchronous: syncMode, NoMigrate: !migrate})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// redactURL hides a password in a database URL, or in a libpq-style
// "key=value" string someone passed for one.
func redactURL(u string) string {
	if i := strings.LastIndex(u, "@"); i > 0 {
		// Whatever precedes the host may be credentials, in a mistyped
		// URL ("postgres:pw@host", "postgres//user:pw@host") too: keep
		// the scheme, if one can be told, and hide the rest.
		start := 0
		if j := strings.Index(u, "://"); j > 0 && j < i {
			start = j + 3
		} else if j := strings.IndexAny(u, ":/"); j > 0 && j < i {
			start = j + 1
		}
		return u[:start] + "…@" + u[i+1:]
	}
	return dsnPassword.ReplaceAllString(u, "${1}…")
}

// dsnPassword is a password in "key=value" form, quoted or not.
var dsnPassword = regexp.MustCompile(`(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)
