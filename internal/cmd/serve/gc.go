package serve

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// A delivery allocates ~18 KB that dies at once, so with a small live heap
// the collector runs often for little: at GOGC=200 the receiver answered
// 10-15% more deliveries a second in `make bench` than at Go's default
// 100. But the heap may grow to three times what is live, and what is live
// grows with the replay window under sustained load. So serve collects
// at GOGC=200 only while that tripled heap fits in gcRoomyHeap, and at
// the default once it does not: never more memory than the default would
// take beyond that budget, and no memory limit for the collector to thrash
// against. Setting GOGC in the environment turns this off.
const (
	gcRoomyPercent = 200
	gcRoomyHeap    = 60 << 20
	gcTuneEvery    = time.Second
)

// tuneGC adjusts the GC percent to the live heap until ctx is done.
func tuneGC(ctx context.Context) {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	percent := -1
	t := time.NewTicker(gcTuneEvery)
	defer t.Stop()
	for {
		metrics.Read(sample)
		if want := gcPercentFor(sample[0].Value.Uint64()); want != percent {
			debug.SetGCPercent(want)
			percent = want
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// gcPercentFor is the GC percent for a live heap of live bytes.
func gcPercentFor(live uint64) int {
	if live*(1+gcRoomyPercent/100) <= gcRoomyHeap {
		return gcRoomyPercent
	}
	return 100
}
