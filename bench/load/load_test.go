package load

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tw-cli/tw-cli/pkg/signature"
)

// TestRunSendsSignedUniqueEvents runs a count-bounded load against a test
// server that verifies every request as the receiver would.
func TestRunSendsSignedUniqueEvents(t *testing.T) {
	var got, bad atomic.Int64
	seen := make(chan string, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		v := signature.Verifier{Secrets: [][]byte{[]byte("s3cret")}}
		if err := v.Verify(r.Header.Get(signature.SignatureHeader), r.Header.Get(signature.TimestampHeader), body); err != nil {
			bad.Add(1)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if len(body) < 450 || len(body) > 550 {
			t.Errorf("body of %d bytes, want about 500", len(body))
		}
		n := got.Add(1)
		seen <- string(body)
		if n%10 == 0 {
			w.WriteHeader(http.StatusConflict) // every tenth, to check the tally
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	res, err := Run(context.Background(), Config{URL: srv.URL, Secret: []byte("s3cret"), Count: 100, Concurrency: 4, BodySize: 500})
	if err != nil {
		t.Fatal(err)
	}
	close(seen)
	unique := map[string]bool{}
	for b := range seen {
		unique[b] = true
	}
	if res.Sent != 100 || got.Load() != 100 || bad.Load() != 0 || len(unique) != 100 {
		t.Fatalf("sent %d, verified %d, bad %d, unique bodies %d", res.Sent, got.Load(), bad.Load(), len(unique))
	}
	if res.OK != 90 || res.ByStatus[409] != 10 || res.Errors != 0 || len(res.Latencies) != 100 {
		t.Fatalf("result %+v", res)
	}
	if res.Percentile(50) > res.Percentile(99) || res.Percentile(99) > res.Percentile(100) {
		t.Fatalf("percentiles out of order: %v %v %v", res.Percentile(50), res.Percentile(99), res.Percentile(100))
	}
}

// TestRunFixedRate checks the pacer: a fixed rate for a fixed time sends
// at most rate × time requests (a ticket is never handed out before it is
// due), not as many as the server could take.
func TestRunFixedRate(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	res, err := Run(context.Background(), Config{URL: srv.URL, Secret: []byte("x"), Rate: 200, Duration: 500 * time.Millisecond, Concurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent == 0 || res.Sent > 101 {
		t.Fatalf("%d requests at 200/s for 0.5s, want at most 101", res.Sent)
	}
}

// TestRunCountsWhatAStallAtTheEndHeldBack: requests that came due while
// the server stalled at the end of a fixed-rate run are counted as missed,
// with their waiting time, not dropped from the percentiles.
func TestRunCountsWhatAStallAtTheEndHeldBack(t *testing.T) {
	release := make(chan struct{})
	var served atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if served.Add(1) > 60 { // 300 ms in, the server stalls
			<-release
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	defer close(release)
	res, err := Run(context.Background(), Config{URL: srv.URL, Secret: []byte("x"), Rate: 200, Duration: 600 * time.Millisecond,
		Concurrency: 4, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.Missed < 30 || res.Sent+res.Missed < 115 || res.Sent+res.Missed > 122 {
		t.Fatalf("sent %d, missed %d: want about 120 in all, most of the last 60 missed", res.Sent, res.Missed)
	}
	if p := res.Percentile(99); p < 200*time.Millisecond {
		t.Fatalf("p99 %v hides the stall", p)
	}
}

func TestRunNeedsABound(t *testing.T) {
	if _, err := Run(context.Background(), Config{URL: "http://127.0.0.1:1"}); err == nil {
		t.Fatal("a run bounded by neither time nor count was accepted")
	}
}

func TestRSSOfSelf(t *testing.T) {
	rss, err := RSS(os.Getpid())
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	if rss < 1<<20 || rss > 1<<34 {
		t.Fatalf("RSS %d bytes is implausible", rss)
	}
	s := Summarize([]int64{10, 10, 10, 20, 20, 20})
	if s.Peak != 20 || s.FirstThird != 10 || s.LastThird != 20 {
		t.Fatalf("summary %+v", s)
	}
}
