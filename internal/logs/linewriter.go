package logs

import (
	"io"
	"sync"
)

// maxPendingBytes bounds the lines waiting for the writer goroutine. Past
// it a logger waits, as it would on a plain file, instead of growing
// memory while the disk or a stderr pipe is stuck.
const maxPendingBytes = 1 << 20

// A lineWriter writes log lines from one goroutine, each write carrying
// every line that arrived while the previous one ran. The receiver logs a
// line per delivery; one write system call per line cost more than
// formatting it. A lone line is written at once (no timer), and Close
// writes what is pending, so the log lags the deliveries by one write at
// most and loses nothing on a clean stop.
type lineWriter struct {
	w io.Writer

	mu      sync.Mutex
	room    *sync.Cond // signalled when pending is written
	pending []byte
	closed  bool

	wake chan struct{}
	done chan struct{}
}

func newLineWriter(w io.Writer) *lineWriter {
	l := &lineWriter{w: w, wake: make(chan struct{}, 1), done: make(chan struct{})}
	l.room = sync.NewCond(&l.mu)
	go l.run()
	return l
}

// Write queues p, a whole line from a slog handler. It never fails: a
// failed write of the log cannot be reported anywhere better than the log.
func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	for len(l.pending) > maxPendingBytes && !l.closed {
		l.room.Wait()
	}
	if l.closed {
		l.mu.Unlock()
		return l.w.Write(p)
	}
	l.pending = append(l.pending, p...)
	// Under mu, so Close cannot close wake in between.
	select {
	case l.wake <- struct{}{}:
	default: // already woken: the line goes out with the next write
	}
	l.mu.Unlock()
	return len(p), nil
}

func (l *lineWriter) run() {
	defer close(l.done)
	var spare []byte
	for range l.wake {
		l.mu.Lock()
		out := l.pending
		l.pending = spare[:0]
		l.room.Broadcast()
		l.mu.Unlock()
		if len(out) > 0 {
			_, _ = l.w.Write(out)
		}
		spare = out
	}
}

// Close writes the pending lines; later lines are written directly.
func (l *lineWriter) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.room.Broadcast()
	close(l.wake)
	l.mu.Unlock()
	<-l.done
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.pending) > 0 {
		_, err := l.w.Write(l.pending)
		l.pending = nil
		return err
	}
	return nil
}
