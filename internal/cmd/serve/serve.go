// Package serve runs the webhook receiver: `tw-cli serve`.
package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/tw-cli/tw-cli/internal/cmdutil"
	"github.com/tw-cli/tw-cli/internal/config"
	"github.com/tw-cli/tw-cli/internal/iostreams"
	"github.com/tw-cli/tw-cli/internal/logs"
	"github.com/tw-cli/tw-cli/internal/notify"
	"github.com/tw-cli/tw-cli/internal/receiver"
	"github.com/tw-cli/tw-cli/internal/sources"
	"github.com/tw-cli/tw-cli/internal/store"
	"github.com/tw-cli/tw-cli/internal/triage"
	"github.com/tw-cli/tw-cli/internal/webhookconfig"
)

// Options are the inputs of `serve`.
type Options struct {
	IO             *iostreams.IOStreams
	Store          func() (store.Store, error)
	ConfigureStore func(cmdutil.StoreOptions) error
	DataDir        func() (string, error)
	Config         func() (*config.Config, error)
	// LookupEnv resolves ${NAME} in the --config file's secrets.
	LookupEnv func(string) (string, bool)
	Now       func() time.Time

	Addr                 string
	MaxBodyBytes         int64
	MaxInFlight          int
	IdempotencyRetention time.Duration
	SQLiteSynchronous    string
	LogLevel             string
	ShutdownTimeout      time.Duration
	Quiet                bool
	// ConfigFile is a webhook_config.yaml applied at start and on SIGHUP.
	ConfigFile string
	// TriageWorkers run auto-triage jobs from the queue; 0 leaves the
	// queue for another receiver on the same database.
	TriageWorkers int
	TriageLease   time.Duration
	// TLSCert and TLSKey, both or neither, serve https.
	TLSCert, TLSKey string
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the sender, for sources' allow-from lists.
	TrustedProxies []netip.Prefix
}

// NewCmdServe returns `serve`.
func NewCmdServe(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Store: f.Store, ConfigureStore: f.ConfigureStore, DataDir: f.DataDir,
		Config: f.Config, LookupEnv: os.LookupEnv, Now: f.Now}
	var proxies []string // --trusted-proxy as given; parsed into opts.TrustedProxies
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

With --config, the sources of a webhook_config.yaml are applied before the
receiver takes requests (a bad file stops the start), exactly as 'tw-cli
webhook apply -f' would. SIGHUP re-reads and re-applies the file while requests
keep flowing; a bad file on reload is logged and the previous sources stay.
With --tls-cert and --tls-key the receiver serves https (TLS 1.2 and up,
HTTP/2): Threat Stack, among others, only delivers to https URLs. SIGHUP
also re-reads the key pair, so a renewed certificate applies without a
restart; a bad pair on reload is logged and the previous one stays.
SIGHUP also reopens the log file when it was moved away (logrotate);
without --config or --tls-cert, that is all it does.

A source with --allow-from only takes deliveries from those networks (403
forbidden_address otherwise), checked against the connection's address;
behind a reverse proxy, name it with --trusted-proxy and the address its
X-Forwarded-For gives is checked instead.
Sources with auto-triage answer {"status":"queued",…} for a delivery that
opens an incident (one landing on an existing incident, or opening it
already resolved, is accepted without a job): the event and a
triage job are stored together, and a pool of workers runs the source's
playbook (<data-dir>/playbooks or playbooks_dir, else the built-ins) on
the new incident, then notifies destinations. Jobs survive restarts: a
job left running by a crash is resumed once its --triage-lease expires.

Durability: deliveries arriving together are committed together (group
commit, up to 32 per transaction, gathered for at most 2 ms while more
than 4,000 a second arrive) and each is answered once its transaction
has committed. The SQLite database runs in WAL mode with
synchronous=NORMAL by default: an acknowledged delivery survives a crash or
kill of tw-cli, but the last few may be lost if the machine itself loses
power or the OS crashes. --sqlite-synchronous full (or
TW_SQLITE_SYNCHRONOUS=full) adds an fsync to every commit so acknowledged
deliveries also survive power loss; group commit pays it once per batch.

Retries: a sender may set X-Webhook-Id or Idempotency-Key. A repeat within
--idempotency-retention is answered 200 with the first delivery's
incident and stores nothing. Without one, the same signed delivery twice
within the 10-minute replay window is refused as replayed (409); a signed
timestamp more than 5 minutes off is refused before that (401
timestamp_expired).

One receiver per SQLite database: replay keys are checked in its memory,
so a second serve on the same data dir refuses to start. Several receivers
share a PostgreSQL database (--database-url).

Load: at most --max-in-flight requests are handled at once; past that the
receiver answers 503 {"error":{"code":"overloaded"}} with Retry-After
instead of queueing in memory. Unless GOGC is set, the receiver runs Go's
garbage collector at GOGC=200 while its live heap is under 20 MB (a
delivery allocates ~18 KB that dies at once, so collecting half as often
is worth a few MB) and at Go's default 100 above that.

Sources are cached for 1 second: changes
through this receiver's admin API apply at once, changes made by another
process (tw-cli webhook update on the same database) within a second.

Logs are JSON lines in <data-dir>/logs/tw-cli.log (read them with
'tw-cli logs'; the file rotates past 64 MiB, tw-cli.log.1 to .3 are
kept) and readable lines on stderr. SIGINT or SIGTERM stops
accepting connections, finishes the requests in flight and commits every
queued delivery before exiting.`,
		Example: `  $ tw-cli serve
  $ tw-cli serve --addr 0.0.0.0:8080 --max-body-bytes 2097152
  $ tw-cli serve --sqlite-synchronous full --max-in-flight 256
  $ TW_DATA_DIR=/var/lib/tw-cli tw-cli serve --log-level debug
  $ EDR_SECRET=… tw-cli serve --config webhook_config.yaml   # kill -HUP <pid> to reload
  $ tw-cli serve --addr 0.0.0.0:8443 --tls-cert /etc/tw-cli/tls.crt --tls-key /etc/tw-cli/tls.key`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkAddr(opts.Addr); err != nil {
				return err
			}
			if opts.ShutdownTimeout < 0 {
				return cmdutil.FlagErrorf("invalid --shutdown-timeout %s: must not be negative (0 stops without waiting)", opts.ShutdownTimeout)
			}
			if opts.MaxBodyBytes <= 0 {
				return cmdutil.FlagErrorf("--max-body-bytes must be positive")
			}
			if opts.TriageWorkers < 0 || opts.TriageLease < time.Second {
				return cmdutil.FlagErrorf("--triage-workers must not be negative and --triage-lease at least 1s")
			}
			if opts.MaxInFlight <= 0 {
				return cmdutil.FlagErrorf("--max-in-flight must be positive")
			}
			if (opts.TLSCert == "") != (opts.TLSKey == "") {
				return cmdutil.FlagErrorf("--tls-cert and --tls-key go together: give both to serve https, or neither")
			}
			for _, p := range proxies {
				n, err := sources.ParseNetwork(p)
				if err != nil {
					return cmdutil.FlagErrorf("invalid --trusted-proxy %q: give an IP address or a CIDR prefix", p)
				}
				opts.TrustedProxies = append(opts.TrustedProxies, n)
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
	cmdutil.DurationVar(fl, &opts.IdempotencyRetention, "idempotency-retention", receiver.DefaultIdempotencyRetention, "How long X-Webhook-Id/Idempotency-Key values are remembered (e.g. 24h, 7d)")
	fl.StringVar(&opts.SQLiteSynchronous, "sqlite-synchronous", "", "SQLite durability `mode`: normal (survives a crash of tw-cli; default, or $TW_SQLITE_SYNCHRONOUS) or full (also survives power loss)")
	fl.StringVar(&opts.LogLevel, "log-level", "info", "Log `level`: debug, info, warn, error")
	fl.DurationVar(&opts.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "How long to wait for requests in flight on shutdown")
	fl.BoolVarP(&opts.Quiet, "quiet", "q", false, "Log to the file only, not to stderr")
	fl.StringVar(&opts.ConfigFile, "config", "", "Apply the sources of this webhook_config.yaml `file` at start and on SIGHUP")
	_ = cmd.MarkFlagFilename("config", "yaml", "yml")
	fl.StringSliceVar(&proxies, "trusted-proxy", nil, "Reverse proxies (`networks`) whose X-Forwarded-For names the sender, for sources' --allow-from")
	fl.StringVar(&opts.TLSCert, "tls-cert", "", "Serve https with this PEM certificate `file` (chain included); needs --tls-key")
	fl.StringVar(&opts.TLSKey, "tls-key", "", "PEM private key `file` of --tls-cert")
	_ = cmd.MarkFlagFilename("tls-cert", "pem", "crt", "cer")
	_ = cmd.MarkFlagFilename("tls-key", "pem", "key")
	fl.IntVar(&opts.TriageWorkers, "triage-workers", triage.DefaultConcurrency, "Auto-triage jobs run at once (0: leave the queue to other receivers)")
	fl.DurationVar(&opts.TriageLease, "triage-lease", triage.DefaultLease, "How long a triage job stays claimed without a heartbeat before another worker resumes it")
	_ = cmd.RegisterFlagCompletionFunc("log-level", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"debug", "info", "warn", "error"}, cobra.ShellCompDirectiveNoFileComp
	})
	_ = cmd.RegisterFlagCompletionFunc("sqlite-synchronous", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"normal", "full"}, cobra.ShellCompDirectiveNoFileComp
	})
	return cmd
}

// checkAddr refuses an --addr that is not host:port with a port number
// before anything starts: net.Listen's error for it came after the store
// was opened and read like a port conflict.
func checkAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return cmdutil.FlagErrorf("invalid --addr %q: want host:port, such as 127.0.0.1:8080 or :8080", addr)
	}
	// A service name (:http) is a port too, as net.Listen reads it.
	if _, err := net.LookupPort("tcp", port); err != nil || port == "" {
		return cmdutil.FlagErrorf("invalid --addr %q: the port must be a number from 0 to 65535 or a service name", addr)
	}
	return nil
}

// Run serves until ctx is cancelled (SIGINT/SIGTERM), then shuts down
// gracefully: no new connections, the requests in flight finish (each
// waits for its commit), then the store commits whatever is still queued.
func Run(ctx context.Context, opts *Options, level slog.Level) error {
	dir, err := opts.DataDir()
	if err != nil {
		return err
	}
	if os.Getenv("GOGC") == "" {
		gcCtx, stopGC := context.WithCancel(ctx)
		defer stopGC()
		go tuneGC(gcCtx)
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
	if c, ok := st.(store.ReceiverClaimer); ok {
		if err := c.ClaimReceiver(); err != nil {
			return err
		}
	}
	var stderr = opts.IO.ErrOut
	if opts.Quiet {
		stderr = nil
	}
	log, closer, err := logs.Open(dir, stderr, level)
	if err != nil {
		return err
	}
	defer closer.Close()

	// SIGHUP is taken in every case, before the first apply: sent while
	// starting it means "reload once started", and without --config
	// there is nothing to reload, which is logged. Left to its default it
	// killed the receiver mid-delivery (a logrotate hook sends it).
	reload := make(chan os.Signal, 1)
	signal.Notify(reload, syscall.SIGHUP)
	defer signal.Stop(reload)
	if opts.ConfigFile != "" {
		// A bad file stops the start before the port or the key pair is
		// tried; the file is applied once they are (below).
		if _, err := webhookconfig.Load(opts.ConfigFile, webhookconfig.Options{LookupEnv: opts.LookupEnv}); err != nil {
			return err
		}
	}
	var cert *certificate
	if opts.TLSCert != "" {
		now := opts.Now
		if now == nil {
			now = time.Now
		}
		if cert, err = loadCertificate(opts.TLSCert, opts.TLSKey, log.With("component", logs.ComponentServer), now); err != nil {
			return err
		}
	}

	ln, err := net.Listen("tcp", opts.Addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("listen on %s: %w (is another receiver running? pick another --addr)", opts.Addr, err)
	} else if err != nil {
		return fmt.Errorf("listen on %s: %w", opts.Addr, err)
	}
	// The file is applied once nothing else can stop the start: a start
	// that failed on its port or its key pair had already rewritten the
	// sources (removing those the file dropped) for a receiver that never
	// ran.
	var declared *sourceConfig
	if opts.ConfigFile != "" {
		declared = &sourceConfig{path: opts.ConfigFile, store: st, log: log.With("component", logs.ComponentServer), lookupEnv: opts.LookupEnv, now: opts.Now}
		if err := declared.apply(ctx); err != nil {
			ln.Close()
			return err
		}
	}
	rcv := receiver.New(receiver.Options{
		Store: st, Logger: log, MaxBodyBytes: opts.MaxBodyBytes,
		MaxInFlight: opts.MaxInFlight, IdempotencyRetention: opts.IdempotencyRetention,
		TrustedProxies: opts.TrustedProxies,
	})
	if declared != nil {
		declared.changed = rcv.InvalidateSources
	}
	srv := &http.Server{
		Handler:           rcv,
		ReadHeaderTimeout: 5 * time.Second,
		// A request must arrive whole within this: one that trickles its
		// body holds an in-flight slot (--max-in-flight) meanwhile. With
		// receiver.DefaultIngestTimeout it stays below WriteTimeout on
		// PostgreSQL (see there for SQLite).
		ReadTimeout:    10 * time.Second,
		WriteTimeout:   30 * time.Second,
		IdleTimeout:    120 * time.Second,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       serverErrorLog(log.With("component", logs.ComponentServer)),
	}
	// The reloader must be done with the store before Run returns and the
	// store is closed; defers run last-in first-out, so stopBg goes first.
	var bg sync.WaitGroup
	defer bg.Wait()
	bgCtx, stopBg := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBg()
	bgDone := make(chan struct{})
	go func() {
		defer close(bgDone)
		rcv.Run(bgCtx)
	}()
	// logrotate moves the log away and sends SIGHUP: the lines go to a new
	// file at the log's path, where `tw-cli logs` reads.
	var reopenLog func()
	if r, ok := closer.(logs.Reopener); ok {
		reopenLog = func() {
			if err := r.Reopen(); err != nil {
				log.Error("reopen the log file", "component", logs.ComponentServer, "error", err)
			}
		}
	}
	var reloads []func(context.Context)
	if cert != nil {
		reloads = append(reloads, cert.reload)
	}
	if declared != nil {
		reloads = append(reloads, declared.reload)
	}
	stopTriage, cat, err := startTriage(bgCtx, opts, st, dir, log)
	if err != nil {
		return err
	}
	defer stopTriage()
	if cat != nil {
		warnMissingPlaybooks(ctx, st, cat, log)
		if declared != nil {
			declared.applied = func(ctx context.Context) { warnMissingPlaybooks(ctx, st, cat, log) }
		}
	}
	bg.Go(func() {
		watchSignals(bgCtx, reload, log.With("component", logs.ComponentServer), reopenLog, reloads...)
	})

	errc := make(chan error, 1)
	scheme := "http://"
	if cert != nil {
		scheme = "https://"
		srv.TLSConfig = cert.config()
		go func() { errc <- srv.ServeTLS(ln, "", "") }()
	} else {
		go func() { errc <- srv.Serve(ln) }()
	}
	log.Info("listening", "component", logs.ComponentServer, "addr", scheme+ln.Addr().String(), "data_dir", dir,
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
	// Everything that uses the store stops before it closes: triage jobs
	// in hand record where they stand, the reloader finishes its apply.
	stopTriage()
	stopBg()
	<-bgDone
	bg.Wait()
	// Handlers past the timeout are still waiting on their commits: Close
	// lets those already committing finish, so what they stored is whole
	// either way, and answers those still queued 503 once the timeout is
	// spent (each batch could otherwise wait out the busy timeout).
	if d, ok := st.(interface{ SetDrainDeadline(time.Time) }); ok {
		if by, ok := shutCtx.Deadline(); ok {
			d.SetDrainDeadline(by)
		}
	}
	closeErr := st.Close()
	if shutErr != nil {
		// The handlers past the timeout have their answers now (what
		// committed, or 503): let them write those before the process
		// ends, which cut some connections off unanswered.
		answerCtx, cancelAnswer := context.WithTimeout(context.WithoutCancel(ctx), answerGrace)
		_ = srv.Shutdown(answerCtx)
		cancelAnswer()
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

// answerGrace bounds how long, past --shutdown-timeout and the store's
// close, the handlers still running get to write their answers.
const answerGrace = 2 * time.Second

// startTriage runs the triage workers until the returned stop is called;
// stop waits for jobs in hand to record where they stand. The catalog is
// the workers' playbooks, nil without workers.
func startTriage(ctx context.Context, opts *Options, st store.Store, dataDir string, log *slog.Logger) (func(), *triage.Catalog, error) {
	if opts.TriageWorkers == 0 {
		log.Info("triage workers disabled; queued jobs wait for another receiver", "component", logs.ComponentTriage)
		return func() {}, nil, nil
	}
	configured := ""
	if opts.Config != nil {
		cfg, err := opts.Config()
		if err != nil {
			return nil, nil, err
		}
		configured = cfg.Get("playbooks_dir")
	}
	cat, err := triage.OpenCatalog(dataDir, configured)
	if err != nil {
		return nil, nil, err
	}
	if configured != "" {
		if _, err := os.Stat(cat.Dir()); err != nil {
			log.Warn("playbooks_dir does not exist: only the built-in playbooks are available", "component", logs.ComponentTriage,
				"playbooks_dir", cat.Dir(), "error", err)
		}
	}
	for _, p := range cat.Problems() {
		log.Warn("invalid playbook file", "component", logs.ComponentTriage, "error", p)
	}
	notifier := &notify.Notifier{Store: st, Sender: notify.NewSender(), Now: time.Now}
	w := &triage.Worker{
		Store: st, Catalog: cat, Log: log, Concurrency: opts.TriageWorkers, Lease: opts.TriageLease,
		Engine: &triage.Engine{Store: st, Notifier: notifier, Now: time.Now},
	}
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(wctx)
	}()
	log.Info("triage workers started", "component", logs.ComponentTriage, "workers", opts.TriageWorkers, "playbooks_dir", cat.Dir())
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}, cat, nil
}

// warnMissingPlaybooks logs each auto-triage source whose playbook the
// workers do not have: a typo in --config or `webhook apply` otherwise
// shows only as every triage job of that source failing.
func warnMissingPlaybooks(ctx context.Context, st store.Store, cat *triage.Catalog, log *slog.Logger) {
	srcs, err := st.ListSources(ctx)
	if err != nil {
		return // the next apply or request says what is wrong with the store
	}
	for _, src := range srcs {
		if !src.AutoTriage || src.Playbook == "" {
			continue
		}
		if _, ok := cat.Get(src.Playbook); !ok {
			log.Warn("auto-triage playbook not found: this source's triage jobs will fail until it exists", "component", logs.ComponentTriage,
				"source", src.Name, "playbook", src.Playbook, "playbooks_dir", cat.Dir())
		}
	}
}
