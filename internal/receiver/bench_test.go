package receiver

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tw-cli/tw-cli/internal/sources"
	"github.com/tw-cli/tw-cli/internal/store/sqlite"
	"github.com/tw-cli/tw-cli/pkg/signature"
)

// BenchmarkIngest runs signed ~500-byte generic events through the whole
// handler (lookup, verify, parse, group commit on a real SQLite file) from
// parallel goroutines, without the network.
func BenchmarkIngest(b *testing.B) {
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "tw.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	local := &sources.Local{Store: st, Origin: "cli"}
	if _, _, err := local.Add(context.Background(), sources.Spec{Source: "bench", Secret: "bench-secret"}); err != nil {
		b.Fatal(err)
	}
	r := New(Options{Store: st})
	pad := strings.Repeat("x", 330)
	var seq atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(16) // deliveries wait on commits: many in flight, like a server
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body := []byte(fmt.Sprintf(`{"event_type":"security_alert","source":"bench","data":{"alert_id":"a-%d","severity":"high","details":{"note":"%s"}}}`, seq.Add(1), pad))
			req := httptest.NewRequest(http.MethodPost, "/api/webhooks/bench", bytes.NewReader(body))
			signature.SignRequest(req, []byte("bench-secret"), time.Now(), body)
			w := httptest.NewRecorder()
			r.ServeHTTP(w, req)
			if w.Code != http.StatusAccepted {
				b.Fatalf("%d %s", w.Code, w.Body)
			}
		}
	})
}
