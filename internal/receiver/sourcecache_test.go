package receiver

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/tw-cli/tw-cli/internal/store/sqlite"
)

// TestUnknownNamesAreBounded: names of sources that do not exist come from
// the network, so remembering them must not grow without bound.
func TestUnknownNamesAreBounded(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "tw.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c := newSourceCache(st, time.Hour, 0)
	clock := time.Unix(1e9, 0)
	c.clock = func() time.Time { return clock }
	c.maxUnknown = 50
	for i := 0; i < c.maxUnknown+20; i++ {
		e, err := c.get(context.Background(), fmt.Sprintf("nope-%d", i))
		if err != nil || !e.notFound {
			t.Fatalf("lookup %d = %+v, %v", i, e, err)
		}
	}
	if len(c.entries) != c.maxUnknown || c.unknown != c.maxUnknown {
		t.Fatalf("%d entries (%d unknown), want at most %d", len(c.entries), c.unknown, c.maxUnknown)
	}
	// Once they expire, room is made for new names.
	clock = clock.Add(2 * time.Hour)
	if _, err := c.get(context.Background(), "fresh"); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.entries["fresh"]; !ok || c.unknown != 1 {
		t.Fatalf("after expiry: fresh cached %v, %d unknown", ok, c.unknown)
	}
}
