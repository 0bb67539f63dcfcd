// Command loadgen sends signed webhook deliveries to a tw-cli receiver (or
// any endpoint) and reports req/s, latency percentiles and errors:
//
//	loadgen -url http://127.0.0.1:8080/api/webhooks/bench -secret S -duration 10s -c 64
//	loadgen -url … -secret S -rate 2000 -duration 30s -pid $(pgrep -n tw-cli)
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/tw-cli/tw-cli/bench/load"
)

func main() {
	os.Exit(run())
}

func run() int {
	var cfg load.Config
	var secret string
	var pid int
	flag.StringVar(&cfg.URL, "url", "", "delivery URL, e.g. http://127.0.0.1:8080/api/webhooks/bench")
	flag.StringVar(&secret, "secret", os.Getenv("LOADGEN_SECRET"), "source secret (or $LOADGEN_SECRET)")
	flag.Float64Var(&cfg.Rate, "rate", 0, "requests per second; 0 = as fast as the server answers")
	flag.DurationVar(&cfg.Duration, "duration", 10*time.Second, "how long to send (0 = until -n)")
	flag.IntVar(&cfg.Count, "n", 0, "stop after this many requests (0 = until -duration)")
	flag.IntVar(&cfg.Concurrency, "c", 64, "concurrent keep-alive connections")
	flag.IntVar(&cfg.BodySize, "size", 500, "approximate body size in bytes")
	flag.DurationVar(&cfg.Timeout, "timeout", 10*time.Second, "per-request timeout")
	flag.IntVar(&pid, "pid", 0, "sample this process's RSS from /proc/<pid>/status during the run")
	flag.Parse()
	if cfg.URL == "" {
		fmt.Fprintln(os.Stderr, "loadgen: -url is required")
		flag.Usage()
		return 2
	}
	cfg.Secret = []byte(secret)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	var sampler *load.RSSSampler
	if pid > 0 {
		sampler = load.SampleRSS(pid, 250*time.Millisecond)
	}
	res, err := load.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		return 1
	}
	fmt.Println(res.Summary())
	if sampler != nil {
		samples, err := sampler.Stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "loadgen: rss:", err)
			return 1
		}
		s := load.Summarize(samples)
		fmt.Printf("rss: peak %s, first third %s, last third %s (%d samples)\n",
			load.MiB(s.Peak), load.MiB(s.FirstThird), load.MiB(s.LastThird), len(samples))
	}
	if res.OK == 0 {
		return 1
	}
	return 0
}
