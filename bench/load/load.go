// Package load is a load generator for tw-cli's receiver: it POSTs signed
// generic events of a chosen size over keep-alive connections, at a fixed
// rate or as fast as the server answers, for a bounded time or count, and
// reports throughput, latency percentiles and errors. bench/loadgen is its
// command line; bench/compare drives it for `make bench`.
package load

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tw-cli/tw-cli/pkg/signature"
)

// Config describes one run.
type Config struct {
	// URL is the full delivery URL, e.g. http://127.0.0.1:8080/api/webhooks/bench.
	URL    string
	Secret []byte
	// Rate is requests per second; 0 sends as fast as the server answers
	// (each worker sends its next request when the last one is answered).
	Rate float64
	// Duration and Count bound the run; whichever comes first ends it.
	// At least one must be set.
	Duration time.Duration
	Count    int
	// Concurrency is the number of workers, each with its own keep-alive
	// connection.
	Concurrency int
	// BodySize is the approximate size of each event in bytes.
	BodySize int
	// Timeout bounds one request.
	Timeout time.Duration
	// Label tags the bodies so runs do not collide (replay keys differ
	// anyway: every body is unique).
	Label string
}

// Result is what a run measured.
type Result struct {
	Sent     int
	OK       int // 2xx
	Errors   int // transport errors (refused, reset, timeout)
	ByStatus map[int]int
	Elapsed  time.Duration
	// Latencies are sorted ascending. At a fixed rate a request's latency
	// starts when it was due, not when a worker got to it, so a stalled
	// server shows as latency rather than as fewer requests.
	Latencies []time.Duration
	// FirstError is an example transport error, for the report.
	FirstError string
	// Missed counts requests of a fixed-rate run that came due but were
	// never sent, all workers being stuck when the run ended; their
	// latencies (due time to the end) are in Latencies.
	Missed int
}

// RPS is completed requests (of any status) per second.
func (r *Result) RPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Sent-r.Errors) / r.Elapsed.Seconds()
}

// Percentile returns the p-th percentile latency (0 < p <= 100).
func (r *Result) Percentile(p float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	// The nearest rank: the smallest value with at least p% of the
	// samples at or below it.
	i := int(math.Ceil(float64(len(r.Latencies))*p/100)) - 1
	i = max(0, min(i, len(r.Latencies)-1))
	return r.Latencies[i]
}

// Summary is one line for humans.
func (r *Result) Summary() string {
	var codes []string
	keys := make([]int, 0, len(r.ByStatus))
	for k := range r.ByStatus {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		codes = append(codes, fmt.Sprintf("%d×%d", k, r.ByStatus[k]))
	}
	s := fmt.Sprintf("%8.0f req/s  p50 %s  p90 %s  p99 %s  max %s  sent %d  2xx %d  transport errors %d  [%s]",
		r.RPS(), ms(r.Percentile(50)), ms(r.Percentile(90)), ms(r.Percentile(99)), ms(r.Percentile(100)),
		r.Sent, r.OK, r.Errors, strings.Join(codes, " "))
	if r.Missed > 0 {
		s += fmt.Sprintf("  missed %d (due, never sent: the server stalled at the end)", r.Missed)
	}
	if r.FirstError != "" {
		s += "\n  first transport error: " + r.FirstError
	}
	return s
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000) }

type sample struct {
	latency time.Duration
	status  int // 0: transport error
	err     error
}

// Run sends the load and returns what it measured. ctx cancels early.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Duration <= 0 && cfg.Count <= 0 {
		return nil, errors.New("load: set a duration or a count: an unbounded run is never wanted")
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 1
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.BodySize <= 0 {
		cfg.BodySize = 500
	}
	client := &http.Client{
		Timeout: cfg.Timeout,
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        cfg.Concurrency,
			MaxIdleConnsPerHost: cfg.Concurrency,
			MaxConnsPerHost:     cfg.Concurrency,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}
	defer client.CloseIdleConnections()

	runCtx := ctx
	if cfg.Duration > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, cfg.Duration)
		defer cancel()
	}
	var issued atomic.Int64 // tickets handed out, bounded by Count
	take := func() bool {
		if cfg.Count > 0 && issued.Add(1) > int64(cfg.Count) {
			return false
		}
		return runCtx.Err() == nil
	}

	// At a fixed rate a pacer hands out due times; workers that fall
	// behind still measure from the due time (no coordinated omission).
	// Requests that came due while every worker was stuck and the run
	// ended are not lost either: each counts as missed, with the time
	// from its due time to the end as its latency, for a stall at the
	// end of a run weighs on the tail as much as one in the middle.
	var due chan time.Time
	var missed []time.Duration // written by the pacer before it closes due
	start := time.Now()
	if cfg.Rate > 0 {
		due = make(chan time.Time, cfg.Concurrency)
		go func() {
			defer close(due)
			interval := time.Duration(float64(time.Second) / cfg.Rate)
			for i := 0; ; i++ {
				at := start.Add(time.Duration(i) * interval)
				if d := time.Until(at); d > 0 {
					select {
					case <-runCtx.Done():
						return
					case <-time.After(d):
					}
				}
				if !take() {
					return
				}
				select {
				case due <- at:
				case <-runCtx.Done():
					end := time.Now()
					for ; !at.After(end); i++ {
						missed = append(missed, end.Sub(at))
						at = start.Add(time.Duration(i+1) * interval)
						if cfg.Count > 0 && i+1 >= cfg.Count {
							break
						}
					}
					return
				}
			}
		}()
	}

	perWorker := make([][]sample, cfg.Concurrency)
	var wg sync.WaitGroup
	for w := 0; w < cfg.Concurrency; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			gen := newBodyGen(cfg, w)
			for seq := 0; ; seq++ {
				var at time.Time
				if due != nil {
					t, ok := <-due
					if !ok {
						return
					}
					at = t
				} else {
					if !take() {
						return
					}
					at = time.Now()
				}
				s := send(client, cfg, gen.next(seq))
				s.latency = time.Since(at)
				perWorker[w] = append(perWorker[w], s)
			}
		}(w)
	}
	wg.Wait()
	res := &Result{ByStatus: map[int]int{}, Elapsed: time.Since(start), Missed: len(missed)}
	res.Latencies = append(res.Latencies, missed...)
	for _, ss := range perWorker {
		for _, s := range ss {
			res.Sent++
			if s.status == 0 {
				res.Errors++
				if res.FirstError == "" && s.err != nil {
					res.FirstError = s.err.Error()
				}
				continue
			}
			res.ByStatus[s.status]++
			if s.status >= 200 && s.status < 300 {
				res.OK++
			}
			res.Latencies = append(res.Latencies, s.latency)
		}
	}
	slices.Sort(res.Latencies)
	return res, nil
}

func send(client *http.Client, cfg Config, body []byte) sample {
	req, err := http.NewRequest(http.MethodPost, cfg.URL, bytes.NewReader(body))
	if err != nil {
		return sample{err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	signature.SignRequest(req, cfg.Secret, time.Now(), body)
	resp, err := client.Do(req)
	if err != nil {
		return sample{err: err}
	}
	// Drain so the connection is reused.
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return sample{status: resp.StatusCode}
}

// bodyGen makes unique generic events (seed 003's format) of about the
// configured size, reusing one buffer per worker.
type bodyGen struct {
	prefix string
	pad    string
	buf    []byte
}

func newBodyGen(cfg Config, worker int) *bodyGen {
	label := cfg.Label
	if label == "" {
		label = strconv.FormatInt(time.Now().UnixNano(), 36)
	}
	g := &bodyGen{prefix: fmt.Sprintf("%s-%d-", label, worker)}
	sample := g.render(0, "")
	if n := cfg.BodySize - len(sample); n > 0 {
		g.pad = strings.Repeat("x", n)
	}
	return g
}

func (g *bodyGen) render(seq int, pad string) []byte {
	g.buf = g.buf[:0]
	g.buf = append(g.buf, `{"event_type":"security_alert","timestamp":"`...)
	g.buf = time.Now().UTC().AppendFormat(g.buf, time.RFC3339)
	g.buf = append(g.buf, `","source":"loadgen","data":{"alert_id":"`...)
	g.buf = append(g.buf, g.prefix...)
	g.buf = strconv.AppendInt(g.buf, int64(seq), 10)
	g.buf = append(g.buf, `","severity":"high","title":"Suspicious login from unusual location","details":{"host":"workstation-01","user":"alice@example.com","ip":"203.0.113.7","note":"`...)
	g.buf = append(g.buf, pad...)
	g.buf = append(g.buf, `"}}}`...)
	return g.buf
}

func (g *bodyGen) next(seq int) []byte { return g.render(seq, g.pad) }
