package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tw-cli/tw-cli/internal/store"
)

func benchDelivery(n int64) *store.Delivery {
	payload := []byte(`{"event_type":"security_alert","data":{"alert_id":"a-` + fmt.Sprint(n) + `","note":"` + strings.Repeat("x", 400) + `"}}`)
	return &store.Delivery{
		Source: "bench", ReceivedAt: time.Now(), Verification: "hmac", Format: "generic", RequestID: "req",
		ReplayKey: fmt.Sprintf("bench\x00hmac\x00sha256=%064d", n), Payload: payload,
		Items: []store.DeliveryItem{{Type: "security_alert", Title: "security_alert", Severity: "high",
			Normalized: []byte(`{"format":"generic","type":"security_alert","title":"security_alert","severity":"high","raw_size":480}`)}},
	}
}

// BenchmarkIngestBatch measures the store's write path per delivery:
// Batch/N commits N deliveries per transaction directly (the group
// commit's shape at a given load); Parallel goes through Ingest from many
// goroutines, so batches form as they do in the receiver.
//
// Batch/16/keyed gives every delivery its own correlation key, as vendor
// formats do: the lookup of an open incident must cost the same at any
// number of incidents (it scanned them all, 1.5 ms a delivery at 4,000).
func BenchmarkIngestBatch(b *testing.B) {
	for _, bc := range []struct {
		size  int
		keyed bool
	}{{1, false}, {16, false}, {128, false}, {16, true}} {
		size, name := bc.size, fmt.Sprintf("Batch/%d", bc.size)
		if bc.keyed {
			name += "/keyed"
		}
		b.Run(name, func(b *testing.B) {
			s, err := Open(context.Background(), filepath.Join(b.TempDir(), "tw.db"), Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			var seq int64
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i += size {
				n := min(size, b.N-i)
				calls := make([]*ingestCall, n)
				for j := range calls {
					seq++
					d := benchDelivery(seq)
					if bc.keyed {
						d.Items[0].CorrelationKey = fmt.Sprint("a-", seq)
					}
					calls[j] = newIngestCall(d)
				}
				s.commits.commit(calls)
				for _, c := range calls {
					if r := <-c.done; r.err != nil {
						b.Fatal(r.err)
					}
				}
			}
		})
	}
	b.Run("Parallel", func(b *testing.B) {
		s, err := Open(context.Background(), filepath.Join(b.TempDir(), "tw.db"), Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		var seq atomic.Int64
		b.ReportAllocs()
		b.SetParallelism(64)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := s.Ingest(context.Background(), benchDelivery(seq.Add(1))); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}
