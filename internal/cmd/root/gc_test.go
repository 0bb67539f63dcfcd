package root

import (
	"math"
	"runtime/debug"
	"testing"
)

// A short command collects only past the limit; GOGC or GOMEMLIMIT in
// the environment win.
func TestCollectOnlyPastLimit(t *testing.T) {
	t.Cleanup(func() {
		debug.SetGCPercent(100)
		debug.SetMemoryLimit(math.MaxInt64)
	})
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	collectOnlyPastLimit()
	if got := debug.SetGCPercent(100); got != -1 {
		t.Errorf("GC percent = %d, want -1 (off)", got)
	}
	if got := debug.SetMemoryLimit(-1); got != shortRunMemoryLimit {
		t.Errorf("memory limit = %d, want %d", got, shortRunMemoryLimit)
	}
	debug.SetMemoryLimit(math.MaxInt64)
	t.Setenv("GOGC", "50")
	collectOnlyPastLimit()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC set, GC percent = %d, want it left at 100", got)
	}
}
