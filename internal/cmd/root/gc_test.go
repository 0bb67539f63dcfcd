package root

import (
	"runtime/debug"
	"testing"
)

// A short command collects less often; GOGC in the environment wins.
func TestCollectLessOften(t *testing.T) {
	t.Cleanup(func() { debug.SetGCPercent(100) })
	t.Setenv("GOGC", "")
	collectLessOften()
	if got := debug.SetGCPercent(100); got != shortRunGCPercent {
		t.Errorf("GC percent = %d, want %d", got, shortRunGCPercent)
	}
	t.Setenv("GOGC", "50")
	collectLessOften()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC set, GC percent = %d, want it left at 100", got)
	}
}
