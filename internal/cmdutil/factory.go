// Package cmdutil holds what every command shares: the Factory of lazily
// built dependencies, error types that map to exit codes, and flag helpers.
package cmdutil

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/config"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/sources"
	"github.com/tw-cli/tw-cli/internal/store"
)

// Factory gives commands their dependencies. Every func builds on first
// call only, so `--help` and shell completion never open the database or
// touch the network.
type Factory struct {
	IOStreams *iostreams.IOStreams
	Version   string
	// Executable is the binary's path, for hints and completion scripts.
	Executable string
	Now        func() time.Time

	Config func() (*config.Config, error)
	// Store opens the store, migrated: SQLite in the data dir by default,
	// PostgreSQL when a database URL is set.
	Store func() (store.Store, error)
	// Migrator opens the same store without migrating it, for `tw-cli db`;
	// the caller closes it.
	Migrator func() (store.Migrator, error)
	// ConfigureStore tunes how Store will open the database (serve's
	// durability flag). It fails once the store is open.
	ConfigureStore func(StoreOptions) error
	// Sources manages webhook sources: the local store, or a remote
	// receiver's admin API when --server/TW_SERVER is set.
	Sources func() (sources.Service, error)
	// Remote is the remote receiver's admin API when --server/TW_SERVER is
	// set, else nil: incidents and events read it instead of the store.
	Remote func() (*sources.Remote, error)
	// HTTPClient is for outbound calls; it always has a timeout.
	HTTPClient func() *http.Client
	// Debug reports whether --debug was given: log HTTP traffic to
	// stderr with secrets redacted.
	Debug func() bool
	// DataDir resolves the data dir (flag > env > config > default).
	DataDir func() (string, error)
}

// StoreOptions tune the local store; zero values keep the defaults.
type StoreOptions struct {
	// SQLiteSynchronous (NORMAL or FULL) overrides TW_SQLITE_SYNCHRONOUS.
	SQLiteSynchronous string
}

// ExistingStore opens the store for shell completion: only a database
// that already exists at the schema this build knows, read as it is. Tab
// must neither create a database nor migrate one that an older serve
// still uses. It returns nil, and no error, when there is none to read;
// the caller closes what it returns.
func ExistingStore(ctx context.Context, f *Factory) (store.Store, error) {
	if f.Migrator == nil {
		return nil, nil
	}
	m, err := f.Migrator()
	if err != nil {
		return nil, err
	}
	st, err := m.SchemaStatus(ctx)
	s, ok := m.(store.Store)
	if err != nil || !ok || st.Missing || st.Pending() != 0 {
		m.Close()
		return nil, err
	}
	return s, nil
}

// OnlyArg completes a command's one argument with complete, and offers
// nothing past it.
func OnlyArg(complete cobra.CompletionFunc) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return complete(cmd, args, toComplete)
	}
}

// CompletionTimeout bounds what completion asks a remote server or
// vendor API: a shell waiting on one that does not answer is worse than
// no completion.
const CompletionTimeout = 5 * time.Second

// CompleteSourceNames completes source names, for arguments and --source
// flags, from where the command works: the receiver when --server is set
// (for at most CompletionTimeout), else the local store.
func CompleteSourceNames(f *Factory) cobra.CompletionFunc {
	local := CompleteLocalSourceNames(f)
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if f.Remote == nil {
			return local(cmd, args, toComplete)
		}
		r, err := f.Remote()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		if r == nil {
			return local(cmd, args, toComplete)
		}
		ctx, cancel := context.WithTimeout(cmd.Context(), CompletionTimeout)
		defer cancel()
		vs, err := r.List(ctx)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for _, v := range vs {
			out = appendSourceCandidate(out, toComplete, v.Source, v.Format)
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// CompleteLocalSourceNames completes the local store's source names (for
// `logs`, which reads this machine's log whatever --server says). It
// never creates or migrates the database.
func CompleteLocalSourceNames(f *Factory) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		s, err := ExistingStore(cmd.Context(), f)
		if err != nil || s == nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		defer s.Close()
		srcs, err := s.ListSources(cmd.Context())
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for _, src := range srcs {
			out = appendSourceCandidate(out, toComplete, src.Name, src.Format)
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// appendSourceCandidate offers name, described by its format, if it
// begins with what was typed.
func appendSourceCandidate(out []string, toComplete, name, format string) []string {
	if strings.HasPrefix(name, toComplete) {
		out = append(out, name+"\t"+format)
	}
	return out
}

// ExistingDestinations lists the destinations of the store ExistingStore
// opens, for completion and checks that must not create one; ok is false
// when there is none to read.
func ExistingDestinations(ctx context.Context, f *Factory) ([]store.Destination, bool) {
	s, err := ExistingStore(ctx, f)
	if err != nil || s == nil {
		return nil, false
	}
	defer s.Close()
	ds, err := s.ListDestinations(ctx)
	return ds, err == nil
}
