// Command compare is `make bench`: it starts `tw-cli serve` on a fresh data
// dir and the bare net/http baseline on loopback ports, drives both with
// the same load in alternating rounds, and prints tw-cli's throughput as a
// fraction of the baseline's, its latency at a steady rate, its memory,
// and the wall time of short CLI commands. With -database-url it also
// runs a receiver on PostgreSQL in the same rounds and reports its ratio
// next to SQLite's.
//
//	go run ./bench/compare -tw bin/tw-cli -baseline bin/baseline [-database-url postgres://…]
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/tw-cli/tw-cli/bench/load"
	"github.com/tw-cli/tw-cli/internal/sources"
	"github.com/tw-cli/tw-cli/internal/store/sqlite"
)

type options struct {
	tw, baseline   string
	duration       time.Duration
	warmup         time.Duration
	rounds         int
	concurrency    int
	bodySize       int
	steadyRate     float64
	steadyDuration time.Duration
	settle         time.Duration
	soak           time.Duration
	sources        int
	cliRuns        int
	synchronous    string
	databaseURL    string
}

func main() {
	var o options
	flag.StringVar(&o.tw, "tw", "bin/tw-cli", "tw-cli binary")
	flag.StringVar(&o.baseline, "baseline", "bin/baseline", "baseline binary (bench/baseline)")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "length of each max-rate round")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured load before the rounds")
	flag.IntVar(&o.rounds, "rounds", 5, "max-rate rounds per server, alternating which server goes first")
	flag.IntVar(&o.concurrency, "c", 64, "keep-alive connections")
	flag.IntVar(&o.bodySize, "size", 500, "event size in bytes")
	flag.Float64Var(&o.steadyRate, "steady-rate", 2000, "requests/s of the latency phase")
	flag.DurationVar(&o.steadyDuration, "steady-duration", 10*time.Second, "length of the latency phase")
	flag.DurationVar(&o.settle, "settle", 3*time.Second, "idle time between the max-rate rounds and the latency phase, for the WAL checkpoint to catch up")
	flag.DurationVar(&o.soak, "soak", time.Minute, "length of the steady-rate phase that watches RSS for growth (0 skips it)")
	flag.IntVar(&o.sources, "sources", 1000, "sources registered before timing 'webhook list'")
	flag.IntVar(&o.cliRuns, "cli-runs", 10, "runs of each timed CLI command")
	flag.StringVar(&o.synchronous, "sqlite-synchronous", "normal", "serve's --sqlite-synchronous")
	flag.StringVar(&o.databaseURL, "database-url", "", "also measure a receiver on this PostgreSQL server (in a schema of its own, dropped afterwards)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	dir, err := os.MkdirTemp("", "tw-cli-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	env := append(cleanEnv(), "TW_DATA_DIR="+filepath.Join(dir, "data"), "TW_CONFIG_DIR="+filepath.Join(dir, "config"))
	secret := randomHex(32)
	if out, err := command(env, o.tw, "webhook", "add", "bench", "--secret", secret).CombinedOutput(); err != nil {
		return fmt.Errorf("webhook add: %v\n%s", err, out)
	}

	base, err := startBaseline(o.baseline)
	if err != nil {
		return err
	}
	defer base.stop()
	tw, err := startServe(ctx, env, o.tw, "--sqlite-synchronous", o.synchronous, "-q")
	if err != nil {
		return err
	}
	defer tw.stop()

	// pg is the same receiver on PostgreSQL, measured in the same rounds
	// so both ratios see the same machine.
	var pg *server
	if o.databaseURL != "" {
		schemaURL, drop, err := benchSchema(ctx, o.databaseURL)
		if err != nil {
			return err
		}
		defer drop()
		pgEnv := append(cleanEnv(), "TW_DATA_DIR="+filepath.Join(dir, "pg-data"), "TW_CONFIG_DIR="+filepath.Join(dir, "config"), "TW_DATABASE_URL="+schemaURL)
		if out, err := command(pgEnv, o.tw, "webhook", "add", "bench", "--secret", secret).CombinedOutput(); err != nil {
			return fmt.Errorf("webhook add on PostgreSQL: %v\n%s", err, out)
		}
		if pg, err = startServe(ctx, pgEnv, o.tw, "-q"); err != nil {
			return err
		}
		defer pg.stop()
	}

	fmt.Printf("tw-cli serve (SQLite, synchronous=%s) vs bare net/http handler; %d keep-alive connections, ~%d-byte signed generic events\n",
		o.synchronous, o.concurrency, o.bodySize)
	if pg != nil {
		fmt.Printf("and tw-cli serve on PostgreSQL (%s)\n", redact(o.databaseURL))
	}
	fmt.Println()
	cfg := func(url string) load.Config {
		return load.Config{URL: url, Secret: []byte(secret), Concurrency: o.concurrency, BodySize: o.bodySize, Duration: o.duration}
	}
	baseURL := base.url + "/api/webhooks/bench"
	twURL := tw.url + "/api/webhooks/bench"
	urls := []string{baseURL, twURL}
	var pgURL string
	if pg != nil {
		pgURL = pg.url + "/api/webhooks/bench"
		urls = append(urls, pgURL)
	}
	for _, u := range urls {
		c := cfg(u)
		c.Duration = o.warmup
		if _, err := load.Run(ctx, c); err != nil {
			return err
		}
	}

	var baseRPS, twRPS, ratios, pgRPS, pgRatios, baseCPU, twCPU, baseGen, twGen []float64
	var rss []int64
	roundsStart, err := load.ReadCPUStat()
	if err != nil {
		return err
	}
	for r := 1; r <= o.rounds; r++ {
		// Which server goes first alternates, so that a drift in the
		// machine's speed does not favour one; each run starts once both
		// are idle, so that one's leftovers (a WAL checkpoint, a GC cycle)
		// do not slow the other's run uncounted.
		var b, t *load.Result
		runBase := func() error {
			waitIdle(base.pid(), tw.pid())
			res, cpu, gen, err := cpuPerRequest(base.pid(), func() (*load.Result, error) { return load.Run(ctx, cfg(baseURL)) })
			if err != nil {
				return err
			}
			if err := allOK("baseline", res); err != nil {
				return err
			}
			b = res
			baseCPU, baseGen = append(baseCPU, cpu), append(baseGen, gen)
			fmt.Printf("round %d baseline %s  server cpu %.0fµs/req  load generator %.0fµs/req\n", r, b.Summary(), cpu, gen)
			return nil
		}
		runTW := func() error {
			waitIdle(base.pid(), tw.pid())
			sampler := load.SampleRSS(tw.pid(), 250*time.Millisecond)
			res, cpu, gen, err := cpuPerRequest(tw.pid(), func() (*load.Result, error) { return load.Run(ctx, cfg(twURL)) })
			samples, _ := sampler.Stop()
			if err != nil {
				return err
			}
			t = res
			twCPU, twGen = append(twCPU, cpu), append(twGen, gen)
			rss = append(rss, samples...)
			fmt.Printf("round %d tw-cli   %s  server cpu %.0fµs/req  load generator %.0fµs/req\n", r, t.Summary(), cpu, gen)
			return allOK("tw-cli", t)
		}
		order := []func() error{runBase, runTW}
		if r%2 == 0 {
			order = []func() error{runTW, runBase}
		}
		for _, run := range order {
			if err := run(); err != nil {
				return err
			}
		}
		baseRPS, twRPS = append(baseRPS, b.RPS()), append(twRPS, t.RPS())
		ratios = append(ratios, t.RPS()/b.RPS())
		if pg != nil {
			p, err := load.Run(ctx, cfg(pgURL))
			if err != nil {
				return err
			}
			fmt.Printf("round %d postgres %s\n", r, p.Summary())
			if err := allOK("tw-cli on PostgreSQL", p); err != nil {
				return err
			}
			pgRPS, pgRatios = append(pgRPS, p.RPS()), append(pgRatios, p.RPS()/b.RPS())
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}

	roundsEnd, err := load.ReadCPUStat()
	if err != nil {
		return err
	}
	roundSteal := load.StealShare(roundsStart, roundsEnd)

	// The latency target is for a steady load, not for recovering from
	// the overload just measured: the background checkpoint gets a moment.
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(o.settle):
	}
	// The bare handler at the same rate is the machine's own floor: the
	// load generator shares the cores, and its tail shows what scheduling
	// alone adds to every server's latency here.
	steady := cfg(baseURL)
	steady.Rate, steady.Duration = o.steadyRate, o.steadyDuration
	floor, floorSteal, err := withSteal(func() (*load.Result, error) { return load.Run(ctx, steady) })
	if err != nil {
		return err
	}
	fmt.Printf("steady %.0f req/s baseline %s  steal %.1f%%\n", o.steadyRate, floor.Summary(), 100*floorSteal)
	if err := allOK("baseline", floor); err != nil {
		return err
	}
	steady.URL = twURL
	// The receiver's own histogram says which part of the tail is spent
	// inside its handler, and which in the client and the kernel.
	metricsURL := tw.url + "/metrics"
	handlerBefore, err := load.ScrapeHandlerCounts(metricsURL, slowHandlerBound)
	if err != nil {
		return err
	}
	sampler := load.SampleRSS(tw.pid(), 250*time.Millisecond)
	st, stSteal, err := withSteal(func() (*load.Result, error) { return load.Run(ctx, steady) })
	samples, _ := sampler.Stop()
	if err != nil {
		return err
	}
	rss = append(rss, samples...)
	fmt.Printf("steady %.0f req/s tw-cli %s  steal %.1f%%\n", o.steadyRate, st.Summary(), 100*stSteal)
	if err := allOK("tw-cli", st); err != nil {
		return err
	}
	handlerAfter, err := load.ScrapeHandlerCounts(metricsURL, slowHandlerBound)
	if err != nil {
		return err
	}
	slow, handled := handlerAfter.Over(handlerBefore)
	var pgSt *load.Result
	if pg != nil {
		c := steady
		c.URL = pgURL
		if pgSt, err = load.Run(ctx, c); err != nil {
			return err
		}
		fmt.Printf("steady %.0f req/s postgres %s\n", o.steadyRate, pgSt.Summary())
		if err := allOK("tw-cli on PostgreSQL", pgSt); err != nil {
			return err
		}
	}

	var soak *load.RSSSummary
	if o.soak > 0 {
		soakCfg := steady
		soakCfg.Duration = o.soak
		sampler := load.SampleRSS(tw.pid(), time.Second)
		res, err := load.Run(ctx, soakCfg)
		samples, _ := sampler.Stop()
		if err != nil {
			return err
		}
		fmt.Printf("soak %s at %.0f req/s tw-cli %s\n", o.soak, o.steadyRate, res.Summary())
		if err := allOK("tw-cli", res); err != nil {
			return err
		}
		s := load.Summarize(samples)
		soak = &s
		rss = append(rss, samples...)
	}

	start := time.Now()
	if err := tw.terminate(); err != nil {
		return fmt.Errorf("serve did not stop cleanly on SIGTERM: %w", err)
	}
	shutdown := time.Since(start)

	if err := addSources(filepath.Join(dir, "data"), o.sources-1); err != nil {
		return err
	}
	help, err := timeCommand(ctx, env, o.cliRuns, o.tw, "--help")
	if err != nil {
		return err
	}
	list, err := timeCommand(ctx, env, o.cliRuns, o.tw, "webhook", "list")
	if err != nil {
		return err
	}

	fmt.Println()
	fmt.Println("summary")
	fmt.Printf("  throughput     tw-cli %.0f req/s, baseline %.0f req/s (medians of %d rounds)\n", median(twRPS), median(baseRPS), o.rounds)
	verdict := "met"
	if median(ratios) < 0.5 {
		verdict = "NOT met"
	}
	fmt.Printf("  ratio          %.1f%% of the bare handler (median of per-round ratios; rounds: %s); target >= 50%%: %s\n", 100*median(ratios), percents(ratios), verdict)
	fmt.Printf("  server cpu     tw-cli %.0f µs/request, baseline %.0f µs/request (medians of %d rounds): by CPU alone tw-cli does %.1f%% of the baseline's work a second\n",
		median(twCPU), median(baseCPU), o.rounds, 100*median(baseCPU)/median(twCPU))
	fmt.Printf("  load generator %.0f µs/request against the baseline, %.0f against tw-cli, on the same %d cores (GOMAXPROCS %d): its share is in both req/s figures\n",
		median(baseGen), median(twGen), runtime.NumCPU(), runtime.GOMAXPROCS(0))
	fmt.Printf("  steady         %.0f req/s: p50 %s  p90 %s  p99 %s  (%d 2xx of %d)\n", st.RPS(), ms(st.Percentile(50)), ms(st.Percentile(90)), ms(st.Percentile(99)), st.OK, st.Sent)
	fmt.Printf("  in handler     %d of %d deliveries (%.2f%%) took over %ss inside tw-cli's handler (its own histogram)\n", slow, handled, 100*float64(slow)/float64(max(handled, 1)), slowHandlerBound)
	fmt.Printf("  steady floor   the bare handler at %.0f req/s: p50 %s  p90 %s  p99 %s\n", floor.RPS(), ms(floor.Percentile(50)), ms(floor.Percentile(90)), ms(floor.Percentile(99)))
	fmt.Printf("  cpu steal      %.1f%% during the max-rate rounds, %.1f%% and %.1f%% during the steady baseline and tw-cli runs\n", 100*roundSteal, 100*floorSteal, 100*stSteal)
	if pg != nil {
		fmt.Printf("  postgres       %.0f req/s, %.0f%% of the bare handler next to SQLite's %.0f%% (rounds: %s)\n",
			median(pgRPS), 100*median(pgRatios), 100*median(ratios), percents(pgRatios))
		fmt.Printf("  pg steady      %.0f req/s: p50 %s  p90 %s  p99 %s  (%d 2xx of %d)\n", pgSt.RPS(), ms(pgSt.Percentile(50)), ms(pgSt.Percentile(90)), ms(pgSt.Percentile(99)), pgSt.OK, pgSt.Sent)
	}
	all := load.Summarize(rss)
	fmt.Printf("  rss            peak %s during the load\n", load.MiB(all.Peak))
	if soak != nil {
		fmt.Printf("  soak rss       first third %s, last third %s (%+.1f%%), peak %s over %s\n", load.MiB(soak.FirstThird), load.MiB(soak.LastThird),
			100*(float64(soak.LastThird)/float64(max(soak.FirstThird, 1))-1), load.MiB(soak.Peak), o.soak)
	}
	fmt.Printf("  shutdown       SIGTERM to exit %s\n", shutdown.Round(time.Millisecond))
	fmt.Printf("  tw-cli --help                  wall median %s (min %s, max %s, %d runs after one unmeasured: warm cache)\n", ms(help[len(help)/2]), ms(help[0]), ms(help[len(help)-1]), len(help))
	fmt.Printf("  tw-cli webhook list (%d sources) wall median %s (min %s, max %s, %d runs after one unmeasured: warm cache)\n", o.sources, ms(list[len(list)/2]), ms(list[0]), ms(list[len(list)-1]), len(list))
	return nil
}

// slowHandlerBound is the receiver histogram's bucket at the latency
// target (10 ms).
const slowHandlerBound = "0.01"

// withSteal runs one load and returns its result and the share of the
// machine's CPU time stolen by the hypervisor meanwhile, as cpuPerRequest
// returns the server's CPU time.
func withSteal(run func() (*load.Result, error)) (*load.Result, float64, error) {
	before, err := load.ReadCPUStat()
	if err != nil {
		return nil, 0, err
	}
	r, err := run()
	if err != nil {
		return nil, 0, err
	}
	after, err := load.ReadCPUStat()
	if err != nil {
		return nil, 0, err
	}
	return r, load.StealShare(before, after), nil
}

// cpuPerRequest runs one load against the server with the given pid and
// returns its result, the server's CPU time per completed request and the
// load generator's (this process's), in microseconds.
func cpuPerRequest(pid int, run func() (*load.Result, error)) (*load.Result, float64, float64, error) {
	before, err := load.CPUTime(pid)
	if err != nil {
		return nil, 0, 0, err
	}
	genBefore, err := load.CPUTime(os.Getpid())
	if err != nil {
		return nil, 0, 0, err
	}
	r, err := run()
	if err != nil {
		return nil, 0, 0, err
	}
	after, err := load.CPUTime(pid)
	if err != nil {
		return nil, 0, 0, err
	}
	genAfter, err := load.CPUTime(os.Getpid())
	if err != nil {
		return nil, 0, 0, err
	}
	done := r.Sent - r.Errors
	if done <= 0 {
		return nil, 0, 0, fmt.Errorf("no request completed: %s", r.Summary())
	}
	return r, float64((after - before).Microseconds()) / float64(done), float64((genAfter - genBefore).Microseconds()) / float64(done), nil
}

// waitIdle waits, up to 5 seconds, until the processes together use under
// 5% of a core over 200 ms: the previous run's leftovers are done.
func waitIdle(pids ...int) {
	deadline := time.Now().Add(5 * time.Second)
	total := func() time.Duration {
		var sum time.Duration
		for _, pid := range pids {
			d, _ := load.CPUTime(pid)
			sum += d
		}
		return sum
	}
	last := total()
	for time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		now := total()
		if now-last < 10*time.Millisecond {
			return
		}
		last = now
	}
}

// redact hides a password in a database URL.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// allOK checks that every request was sent and answered 202: a 200 (a
// repeated idempotency key) stores nothing, and a request never sent or
// never answered would flatter any figure.
func allOK(who string, r *load.Result) error {
	if r.ByStatus[http.StatusAccepted] != r.Sent || r.Errors != 0 || r.Missed != 0 {
		return fmt.Errorf("%s answered %d of %d requests with 202 (%d transport errors, %d never sent): %s",
			who, r.ByStatus[http.StatusAccepted], r.Sent, r.Errors, r.Missed, r.Summary())
	}
	return nil
}

func percents(v []float64) string {
	var s []string
	for _, x := range v {
		s = append(s, fmt.Sprintf("%.1f%%", 100*x))
	}
	return strings.Join(s, " ")
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2 // neither middle value flatters
	}
	return s[len(s)/2]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000) }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// cleanEnv drops the developer's own tw-cli settings.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "TW_") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

func command(env []string, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env = env
	return cmd
}

// server is a started process answering HTTP.
type server struct {
	cmd  *exec.Cmd
	url  string
	done chan error
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// terminate sends SIGTERM and waits for a clean exit.
func (s *server) terminate() error {
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case err := <-s.done:
		s.done = nil
		return err
	case <-time.After(30 * time.Second):
		return errors.New("still running 30s after SIGTERM")
	}
}

func (s *server) stop() {
	if s.done == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	s.done = nil
}

func startBaseline(bin string) (*server, error) {
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start baseline: %w", err)
	}
	s := &server{cmd: cmd, done: make(chan error, 1)}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("baseline: %w", err)
	}
	s.url = strings.TrimSpace(strings.TrimPrefix(line, "listening on "))
	go func() {
		_, _ = io.Copy(io.Discard, out)
		s.done <- cmd.Wait()
	}()
	return s, nil
}

func startServe(ctx context.Context, env []string, bin string, args ...string) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := command(env, bin, append([]string{"serve", "--addr", addr}, args...)...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start serve: %w", err)
	}
	s := &server{cmd: cmd, url: "http://" + addr, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait() }()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if resp, err := http.Get(s.url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.stop()
	return nil, errors.New("serve did not become ready")
}

// addSources registers n more sources straight in the store, as many
// `webhook add` runs would, but in one process.
func addSources(dataDir string, n int) error {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dataDir, "tw-cli.db"), sqlite.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	local := &sources.Local{Store: st, Origin: "cli"}
	for i := 0; i < n; i++ {
		if _, _, err := local.Add(ctx, sources.Spec{Source: fmt.Sprintf("source-%04d", i), Secret: randomHex(16),
			AutoTriage: i%3 == 0, Playbook: "phishing_triage", Description: "benchmark source"}); err != nil {
			return err
		}
	}
	return nil
}

// timeCommand runs a command runs times (after one unmeasured run) with
// its output piped, as in a script, and returns the sorted wall times.
func timeCommand(ctx context.Context, env []string, runs int, bin string, args ...string) ([]time.Duration, error) {
	var out []time.Duration
	for i := 0; i <= runs; i++ {
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = env
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		start := time.Now()
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("%s %s: %w", bin, strings.Join(args, " "), err)
		}
		if i > 0 {
			out = append(out, time.Since(start))
		}
	}
	slices.Sort(out)
	return out, nil
}
