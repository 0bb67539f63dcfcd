package logs

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a writer that, like a file, may be written from the
// writer goroutine while the test reads it after Close.
type lockedBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
	delay  time.Duration
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	time.Sleep(b.delay)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.writes++
	return b.buf.Write(p)
}

// Every line written concurrently arrives whole and exactly once, in
// fewer writes than lines when they arrive faster than the sink takes
// them, and Close leaves nothing pending.
func TestLineWriterKeepsEveryLine(t *testing.T) {
	sink := &lockedBuffer{delay: 200 * time.Microsecond}
	l := newLineWriter(sink)
	const writers, each = 16, 200
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				fmt.Fprintf(l, "line %d-%d\n", w, i)
			}
		})
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// After Close a line is written directly rather than lost.
	fmt.Fprintf(l, "after close\n")

	lines := strings.Split(strings.TrimSuffix(sink.buf.String(), "\n"), "\n")
	if len(lines) != writers*each+1 {
		t.Fatalf("%d lines, want %d", len(lines), writers*each+1)
	}
	seen := map[string]bool{}
	for _, ln := range lines {
		if seen[ln] {
			t.Fatalf("line %q written twice", ln)
		}
		seen[ln] = true
	}
	for w := range writers {
		for i := range each {
			if !seen[fmt.Sprintf("line %d-%d", w, i)] {
				t.Fatalf("line %d-%d lost", w, i)
			}
		}
	}
	if lines[len(lines)-1] != "after close" {
		t.Fatalf("last line %q, want the one written after Close", lines[len(lines)-1])
	}
	if sink.writes >= writers*each {
		t.Fatalf("%d writes for %d lines: lines are not gathered", sink.writes, writers*each)
	}
}

// A lone line reaches the sink without waiting for Close.
func TestLineWriterWritesALoneLineAtOnce(t *testing.T) {
	sink := &lockedBuffer{}
	l := newLineWriter(sink)
	defer l.Close()
	fmt.Fprintf(l, "hello\n")
	deadline := time.Now().Add(5 * time.Second)
	for {
		sink.mu.Lock()
		got := sink.buf.String()
		sink.mu.Unlock()
		if got == "hello\n" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("sink holds %q 5s after the write", got)
		}
		time.Sleep(time.Millisecond)
	}
}
