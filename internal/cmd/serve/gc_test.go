package serve

import "testing"

func TestGCPercentFollowsTheLiveHeap(t *testing.T) {
	for _, c := range []struct {
		live uint64
		want int
	}{
		{5 << 20, 200},
		{20 << 20, 200}, // 60 MiB at GOGC=200: still within the budget
		{21 << 20, 100},
		{500 << 20, 100},
	} {
		if got := gcPercentFor(c.live); got != c.want {
			t.Errorf("gcPercentFor(%d MiB) = %d, want %d", c.live>>20, got, c.want)
		}
	}
}
