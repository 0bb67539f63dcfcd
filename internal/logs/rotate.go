package logs

import (
	"errors"
	"io/fs"
	"os"
	"strconv"
	"sync"
)

// keptFiles is how many rotated files (tw-cli.log.1 to .3) are kept beside
// the current one, so the log takes at most about 4×MaxFileBytes.
const keptFiles = 3

// rotateRetryBytes is how much more is written to the current file after a
// rotation failed before it is tried again: a rename or open that fails
// once likely fails for the next line too.
const rotateRetryBytes = 1 << 20

// generation names the k-th file of a log: path itself for 0, the rotated
// path.k otherwise (the larger k, the older).
func generation(path string, k int) string {
	if k == 0 {
		return path
	}
	return path + "." + strconv.Itoa(k)
}

// A rotatingFile appends to the log file and, once it is past max bytes,
// moves it to path.1 (shifting the older ones, the one past keep dropped)
// and starts a new one, so a receiver that runs for months cannot fill the
// disk. It counts the bytes it writes instead of asking the file system:
// the receiver writes thousands of lines a second. Its writes come from a
// lineWriter, whole lines at a time, so a rotation never splits a line.
type rotatingFile struct {
	path string
	max  int64
	keep int

	// mu is taken by the lineWriter's goroutine only, except after the
	// lineWriter is closed, when loggers write directly.
	mu   sync.Mutex
	f    *os.File
	size int64
	next int64 // the size past which the next rotation is tried
}

func openRotating(path string, max int64, keep int) (*rotatingFile, error) {
	f, size, err := openLogFile(path)
	if err != nil {
		return nil, err
	}
	r := &rotatingFile{path: path, max: max, keep: keep, f: f, size: size, next: max}
	if size > max { // left so by an earlier run
		r.rotate()
	}
	return r, nil
}

// openLogFile opens path for appending, creating it with mode 0600, and
// returns its size. A file that does not end in a newline was cut short by
// a crash mid-line: one is added, or the half line would swallow the first
// line written now and both would be skipped as not JSON.
func openLogFile(path string) (*os.File, int64, error) {
	// Read as well as write, to look at the last byte; O_APPEND does not
	// apply to ReadAt.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	size := st.Size()
	if size > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, size-1); err != nil {
			f.Close()
			return nil, 0, err
		}
		if last[0] != '\n' {
			if _, err := f.Write([]byte{'\n'}); err != nil {
				f.Close()
				return nil, 0, err
			}
			size++
		}
	}
	return f, size, nil
}

// Write appends p, whole lines, then rotates if the file is now past max.
func (r *rotatingFile) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return 0, os.ErrClosed
	}
	n, err := r.f.Write(p)
	r.size += int64(n)
	if r.size > r.next {
		r.rotate()
	}
	return n, err
}

// rotate runs with mu held. The file is renamed while still open, so that
// if the new one cannot be created the old one is put back and written on:
// no line is lost, and rotation is tried again later. Readers find a
// rotated file by identity (see Follow), so the order of the renames
// matters: oldest first, the current file last.
func (r *rotatingFile) rotate() {
	for k := r.keep; k > 1; k-- {
		_ = os.Rename(generation(r.path, k-1), generation(r.path, k)) // gaps are fine
	}
	if err := os.Rename(r.path, generation(r.path, 1)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			// Moved away by another hand (logrotate without a SIGHUP):
			// start the file `tw-cli logs` reads again, or the moved one
			// would grow without bound.
			r.reopenLocked()
			return
		}
		r.next = r.size + rotateRetryBytes
		return
	}
	f, size, err := openLogFile(r.path)
	if err != nil {
		_ = os.Rename(generation(r.path, 1), r.path)
		r.next = r.size + rotateRetryBytes
		return
	}
	_ = r.f.Close()
	r.f, r.size, r.next = f, size, r.max
}

// Reopen starts writing to the file at the log's path again if the one
// open is no longer there: logrotate moves the log and sends SIGHUP.
func (r *rotatingFile) Reopen() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return os.ErrClosed
	}
	cur, err := r.f.Stat()
	if err != nil {
		return err
	}
	if st, err := os.Stat(r.path); err == nil && os.SameFile(st, cur) {
		return nil
	}
	return r.reopenLocked()
}

// reopenLocked runs with mu held: it opens path (creating it) and closes
// the file written so far.
func (r *rotatingFile) reopenLocked() error {
	f, size, err := openLogFile(r.path)
	if err != nil {
		r.next = r.size + rotateRetryBytes
		return err
	}
	_ = r.f.Close()
	r.f, r.size, r.next = f, size, r.max
	return nil
}

// Close closes the current file; later writes fail.
func (r *rotatingFile) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}
