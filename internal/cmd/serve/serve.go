// Package serve runs the webhook receiver: `tw-cli serve`.
package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/logs"
	"github.com/tw-cli/tw-cli/internal/receiver"
	"github.com/tw-cli/tw-cli/internal/store"
)

// Options are the inputs of `serve`.
type Options struct {
	IO             *iostreams.IOStreams
	Store          func() (store.Store, error)
	ConfigureStore func(cmdutil.StoreOptions) error
	DataDir        func() (string, error)

	Addr                 string
	MaxBodyBytes         int64
	MaxInFlight          int
	IdempotencyRetention time.Duration
	SQLiteSynchronous    string
	LogLevel             string
	ShutdownTimeout      time.Duration
	Quiet                bool
}

// NewCmdServe returns `serve`.
func NewCmdServe(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Store: f.Store, ConfigureStore: f.ConfigureStore, DataDir: f.DataDir}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Receive signed webhook deliveries",
		Long: `Run the webhook receiver. It accepts deliveries at POST /api/webhooks/:source
signed with the source's secret, stores each as an event and an incident,
and answers 202 only once they are durable.

Endpoints:
  POST /api/webhooks/:source      signed deliveries
  /api/webhooks, /api/incidents, /api/events
                                  admin API (Authorization: Bearer tw_…)
  GET  /metrics                   Prometheus metrics
  GET  /healthz, /readyz          liveness and readiness

Durability: deliveries arriving together are committed together (group
commit, up to 128 per transaction) and each is answered once its
transaction has committed. The SQLite database runs in WAL mode with
synchronous=NORMAL by default: an acknowledged delivery survives a crash or
kill of tw-cli, but the last few may be lost if the machine itself loses
power or the OS crashes. --sqlite-synchronous full (or
TW_SQLITE_SYNCHRONOUS=full) adds an fsync to every commit so acknowledged
deliveries also survive power loss; group commit pays it once per batch.

Retries: a sender may set X-Webhook-Id or Idempotency-Key. A repeat within
--idempotency-retention is answered 200 with the first delivery's
incident and stores nothing. Without one, the same signature twice within
the 5-minute window is refused as replayed (409).

Load: at most --max-in-flight requests are handled at once; past that the
receiver answers 503 {"error":{"code":"overloaded"}} with Retry-After
instead of queueing in memory. Sources are cached for 1 second: changes
through this receiver's admin API apply at once, changes made by another
process (tw-cli webhook update on the same database) within a second.

Logs are JSON lines in <data-dir>/logs/tw-cli.log (read them with
'tw-cli logs') and readable lines on stderr. SIGINT or SIGTERM stops
accepting connections, finishes the requests in flight and commits every
queued delivery before exiting.`,
		Example: `  $ tw-cli serve
  $ tw-cli serve --addr 0.0.0.0:8080 --max-body-bytes 2097152
  $ tw-cli serve --sqlite-synchronous full --max-in-flight 256
  $ TW_DATA_DIR=/var/lib/tw-cli tw-cli serve --log-level debug`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.MaxBodyBytes <= 0 {
				return cmdutil.FlagErrorf("--max-body-bytes must be positive")
			}
			if opts.MaxInFlight <= 0 {
				return cmdutil.FlagErrorf("--max-in-flight must be positive")
			}
			if opts.IdempotencyRetention <= 0 {
				return cmdutil.FlagErrorf("--idempotency-retention must be positive")
			}
			switch strings.ToLower(opts.SQLiteSynchronous) {
			case "", "normal", "full":
			default:
				return cmdutil.FlagErrorf("invalid --sqlite-synchronous %q: use normal or full", opts.SQLiteSynchronous)
			}
			var lvl slog.Level
			if err := lvl.UnmarshalText([]byte(opts.LogLevel)); err != nil {
				return cmdutil.FlagErrorf("invalid --log-level %q: use debug, info, warn or error", opts.LogLevel)
			}
			if runF != nil {
				return runF(opts)
			}
			return Run(cmd.Context(), opts, lvl)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Addr, "addr", "127.0.0.1:8080", "`host:port` to listen on")
	fl.Int64Var(&opts.MaxBodyBytes, "max-body-bytes", receiver.DefaultMaxBodyBytes, "Largest accepted request body, in bytes")
	fl.IntVar(&opts.MaxInFlight, "max-in-flight", receiver.DefaultMaxInFlight, "Requests handled at once; more get 503 with Retry-After")
	fl.DurationVar(&opts.IdempotencyRetention, "idempotency-retention", receiver.DefaultIdempotencyRetention, "How long X-Webhook-Id/Idempotency-Key values are remembered")
	fl.StringVar(&opts.SQLiteSynchronous, "sqlite-synchronous", "", "SQLite durability `mode`: normal (survives a crash of tw-cli; default, or $TW_SQLITE_SYNCHRONOUS) or full (also survives power loss)")
	fl.StringVar(&opts.LogLevel, "log-level", "info", "Log `level`: debug, info, warn, error")
	fl.DurationVar(&opts.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "How long to wait for requests in flight on shutdown")
	fl.BoolVarP(&opts.Quiet, "quiet", "q", false, "Log to the file only, not to stderr")
	_ = cmd.RegisterFlagCompletionFunc("log-level", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"debug", "info", "warn", "error"}, cobra.ShellCompDirectiveNoFileComp
	})
	_ = cmd.RegisterFlagCompletionFunc("sqlite-synchronous", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"normal", "full"}, cobra.ShellCompDirectiveNoFileComp
	})
	return cmd
}

// Run serves until ctx is cancelled (SIGINT/SIGTERM), then shuts down
// gracefully: no new connections, the requests in flight finish (each
// waits for its commit), then the store commits whatever is still queued.
func Run(ctx context.Context, opts *Options, level slog.Level) error {
	dir, err := opts.DataDir()
	if err != nil {
		return err
	}
	if opts.SQLiteSynchronous != "" && opts.ConfigureStore != nil {
		if err := opts.ConfigureStore(cmdutil.StoreOptions{SQLiteSynchronous: opts.SQLiteSynchronous}); err != nil {
			return err
		}
	}
	st, err := opts.Store()
	if err != nil {
		return err
	}
	// Closed here, not only by the factory, so the commit queue is drained
	// before "stopped" is logged; Close is idempotent.
	defer st.Close()
	var stderr = opts.IO.ErrOut
	if opts.Quiet {
		stderr = nil
	}
	log, closer, err := logs.Open(dir, stderr, level)
	if err != nil {
		return err
	}
	defer closer.Close()

	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another receiver running? pick another --addr)", opts.Addr, err)
	}
	rcv := receiver.New(receiver.Options{
		Store: st, Logger: log, MaxBodyBytes: opts.MaxBodyBytes,
		MaxInFlight: opts.MaxInFlight, IdempotencyRetention: opts.IdempotencyRetention,
	})
	srv := &http.Server{
		Handler:           rcv,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.With("component", logs.ComponentServer).Handler(), slog.LevelWarn),
	}
	bgCtx, stopBg := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBg()
	bgDone := make(chan struct{})
	go func() {
		defer close(bgDone)
		rcv.Run(bgCtx)
	}()

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("listening", "component", logs.ComponentServer, "addr", "http://"+ln.Addr().String(), "data_dir", dir,
		"max_in_flight", opts.MaxInFlight)

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down; finishing requests in flight", "component", logs.ComponentServer)
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opts.ShutdownTimeout)
	defer cancel()
	shutErr := srv.Shutdown(shutCtx)
	stopBg()
	<-bgDone
	// Handlers past the timeout are still waiting on their commits: Close
	// lets those finish too, so what they stored is whole either way.
	closeErr := st.Close()
	if shutErr != nil {
		log.Error("shutdown incomplete", "component", logs.ComponentServer, "error", shutErr)
		return fmt.Errorf("shutdown: %w", shutErr)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	if closeErr != nil {
		return fmt.Errorf("close store: %w", closeErr)
	}
	log.Info("stopped", "component", logs.ComponentServer)
	return nil
}
