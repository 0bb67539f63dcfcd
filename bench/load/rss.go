package load

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// RSS returns a process's resident set size in bytes, from
// /proc/<pid>/status (Linux).
func RSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			fields := strings.Fields(v)
			if len(fields) != 2 || fields[1] != "kB" {
				return 0, fmt.Errorf("unexpected VmRSS line %q", line)
			}
			kb, err := strconv.ParseInt(fields[0], 10, 64)
			return kb * 1024, err
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// RSSSampler records a process's RSS at a fixed interval.
type RSSSampler struct {
	mu      sync.Mutex
	samples []int64
	err     error
	stop    context.CancelFunc
	done    chan struct{}
}

// SampleRSS starts sampling pid every interval until Stop.
func SampleRSS(pid int, interval time.Duration) *RSSSampler {
	ctx, cancel := context.WithCancel(context.Background())
	s := &RSSSampler{stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			v, err := RSS(pid)
			s.mu.Lock()
			if err != nil {
				s.err = err
			} else {
				s.samples = append(s.samples, v)
			}
			s.mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// Stop ends sampling and returns the samples in order.
func (s *RSSSampler) Stop() ([]int64, error) {
	s.stop()
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.samples) == 0 && s.err != nil {
		return nil, s.err
	}
	return s.samples, nil
}

// RSSSummary describes samples: peak, and the mean of the first and last
// thirds, whose difference is the growth trend over the run.
type RSSSummary struct {
	Peak, FirstThird, LastThird int64
}

// Summarize computes an RSSSummary.
func Summarize(samples []int64) RSSSummary {
	var s RSSSummary
	if len(samples) == 0 {
		return s
	}
	for _, v := range samples {
		s.Peak = max(s.Peak, v)
	}
	third := max(1, len(samples)/3)
	s.FirstThird = mean(samples[:third])
	s.LastThird = mean(samples[len(samples)-third:])
	return s
}

func mean(v []int64) int64 {
	var sum int64
	for _, x := range v {
		sum += x
	}
	return sum / int64(len(v))
}

// MiB formats bytes as mebibytes.
func MiB(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
