package load

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// HandlerCounts is how many accepted deliveries (202) the receiver's own
// duration histogram (webhook_request_duration_seconds) holds in all, and
// how many of them within a bucket's bound. The receiver times a delivery
// from the handler's start to its answer, so the difference between these
// and the load generator's latencies is the client's and the kernel's.
type HandlerCounts struct {
	Total, Within uint64
}

// Over is how many deliveries took longer than the bound between two
// scrapes.
func (c HandlerCounts) Over(before HandlerCounts) (over, total uint64) {
	total = c.Total - before.Total
	return total - (c.Within - before.Within), total
}

const durationBucket = "webhook_request_duration_seconds_bucket{"

// ScrapeHandlerCounts reads url (a receiver's /metrics) and sums the 202
// series of every source at the bucket bound le (e.g. "0.01") and +Inf.
func ScrapeHandlerCounts(url, le string) (HandlerCounts, error) {
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return HandlerCounts{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return HandlerCounts{}, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return parseHandlerCounts(resp.Body, le)
}

func parseHandlerCounts(r io.Reader, le string) (HandlerCounts, error) {
	var c HandlerCounts
	var sawBound, sawInf bool
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, durationBucket) {
			continue
		}
		end := strings.LastIndexByte(line, '}')
		if end < 0 {
			return HandlerCounts{}, fmt.Errorf("malformed metrics line %q", line)
		}
		labels, value := line[len(durationBucket):end], strings.TrimSpace(line[end+1:])
		if !strings.Contains(labels, `status="202"`) {
			continue
		}
		n, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return HandlerCounts{}, fmt.Errorf("malformed metrics value in %q: %w", line, err)
		}
		switch {
		case strings.Contains(labels, `le="`+le+`"`):
			c.Within += uint64(n)
			sawBound = true
		case strings.Contains(labels, `le="+Inf"`):
			c.Total += uint64(n)
			sawInf = true
		}
	}
	if err := sc.Err(); err != nil {
		return HandlerCounts{}, err
	}
	if sawInf && !sawBound {
		return HandlerCounts{}, fmt.Errorf("the duration histogram has no bucket le=%q", le)
	}
	return c, nil
}
