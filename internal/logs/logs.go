// Package logs writes the receiver's structured JSON-lines log and reads it
// back for `tw-cli logs`: filter, tail and follow.
package logs

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Components name the part of tw-cli a line comes from; `logs --filter`
// matches them.
const (
	ComponentWebhook = "webhook"
	ComponentAdmin   = "admin"
	ComponentServer  = "server"
	ComponentTriage  = "triage"
)

// FileName is the log file inside the data dir's logs/ folder.
const FileName = "tw-cli.log"

// MaxFileBytes is the size past which the log file moves to tw-cli.log.1
// (the older ones to .2 and .3, the oldest dropped) and a new one starts.
const MaxFileBytes = 64 << 20

// Path returns the log file path for a data dir.
func Path(dataDir string) string { return filepath.Join(dataDir, "logs", FileName) }

// Open returns a logger writing JSON lines to the data dir's log file and
// human-readable lines to stderr (nil to skip), and a closer for the file.
// The file rotates as it grows, at start and while running.
func Open(dataDir string, stderr io.Writer, level slog.Level) (*slog.Logger, io.Closer, error) {
	return open(dataDir, stderr, level, MaxFileBytes, keptFiles)
}

// open is Open with the rotation size and count, which tests make small.
func open(dataDir string, stderr io.Writer, level slog.Level, maxBytes int64, keep int) (*slog.Logger, io.Closer, error) {
	path := Path(dataDir)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, nil, fmt.Errorf("create log dir: %w", err)
	}
	f, err := openRotating(path, maxBytes, keep)
	if err != nil {
		return nil, nil, fmt.Errorf("open log file: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	file := newLineWriter(f)
	closers := closeAll{file, f}
	handlers := []slog.Handler{newJSONHandler(file, level)}
	if stderr != nil {
		errw := newLineWriter(stderr)
		closers = append(closeAll{errw}, closers...)
		handlers = append(handlers, slog.NewTextHandler(errw, opts))
	}
	return slog.New(fanout(handlers)), closers, nil
}

// closeAll closes each in order: the line writers before the file they
// write to.
type closeAll []io.Closer

func (c closeAll) Close() error {
	var errs []error
	for _, cl := range c {
		errs = append(errs, cl.Close())
	}
	return errors.Join(errs...)
}

// Reopen has the log file opened again at its path if it was moved away
// (see Reopener).
func (c closeAll) Reopen() error {
	for _, cl := range c {
		if r, ok := cl.(Reopener); ok {
			return r.Reopen()
		}
	}
	return nil
}

// Reopener is implemented by the closer Open returns: serve calls it on
// SIGHUP, which logrotate sends after moving the log away, so that lines
// go to a new file at the log's path, where `tw-cli logs` reads.
type Reopener interface {
	Reopen() error
}

// fanout sends each record to several handlers.
type fanout []slog.Handler

func (f fanout) Enabled(ctx context.Context, l slog.Level) bool {
	for _, h := range f {
		if h.Enabled(ctx, l) {
			return true
		}
	}
	return false
}

// Handle passes the record itself, not a clone, to each handler: they are
// jsonHandler and slog's own text handler, which neither keep nor change
// it, and a clone per handler was an allocation per line.
func (f fanout) Handle(ctx context.Context, r slog.Record) error {
	var err error
	for _, h := range f {
		if h.Enabled(ctx, r.Level) {
			if e := h.Handle(ctx, r); e != nil {
				err = errors.Join(err, e)
			}
		}
	}
	return err
}

func (f fanout) WithAttrs(as []slog.Attr) slog.Handler {
	out := make(fanout, len(f))
	for i, h := range f {
		out[i] = h.WithAttrs(as)
	}
	return out
}

func (f fanout) WithGroup(name string) slog.Handler {
	out := make(fanout, len(f))
	for i, h := range f {
		out[i] = h.WithGroup(name)
	}
	return out
}

// Entry is one parsed log line.
type Entry struct {
	Time      time.Time
	Level     string
	Msg       string
	Component string
	Source    string
	// Attrs are the remaining fields.
	Attrs map[string]any
	// Raw is the line as written.
	Raw json.RawMessage
}

// ParseLine decodes one JSON log line.
func ParseLine(line []byte) (Entry, error) {
	var m map[string]any
	if err := json.Unmarshal(line, &m); err != nil {
		return Entry{}, err
	}
	// "null" decodes into a nil map: not a log record, like any line
	// without a time.
	if _, ok := m[slog.TimeKey].(string); !ok {
		return Entry{}, errors.New("not a log record: no time")
	}
	e := Entry{Attrs: map[string]any{}, Raw: append(json.RawMessage(nil), line...)}
	for k, v := range m {
		s, _ := v.(string)
		switch k {
		case slog.TimeKey:
			e.Time, _ = time.Parse(time.RFC3339Nano, s)
		case slog.LevelKey:
			e.Level = s
		case slog.MessageKey:
			e.Msg = s
		case "component":
			e.Component = s
		case "source":
			e.Source = s
		default:
			e.Attrs[k] = v
		}
	}
	return e, nil
}

// Filter selects entries; zero values match everything.
type Filter struct {
	Component string
	Source    string
	// MinLevel drops entries below it.
	MinLevel *slog.Level
	// Since drops entries logged before it.
	Since time.Time
	// Until drops entries logged at or after it.
	Until time.Time
}

// Match reports whether e passes the filter.
func (f Filter) Match(e Entry) bool {
	if f.Component != "" && !strings.EqualFold(e.Component, f.Component) {
		return false
	}
	if f.Source != "" && e.Source != f.Source {
		return false
	}
	if !f.Since.IsZero() && e.Time.Before(f.Since) {
		return false
	}
	if !f.Until.IsZero() && !e.Time.Before(f.Until) {
		return false
	}
	if f.MinLevel != nil {
		var l slog.Level
		if err := l.UnmarshalText([]byte(e.Level)); err != nil || l < *f.MinLevel {
			return false
		}
	}
	return true
}

// Tail returns the last n matching entries of the log at path (all when
// n <= 0; Stream passes them all without holding them), reading the
// rotated files (path.1, .2, …) too when the current one holds fewer.
// Lines that are not JSON are skipped: a crash can leave half a line.
func Tail(path string, n int, f Filter) ([]Entry, error) {
	entries, _, err := TailFrom(path, n, f)
	return entries, err
}

// A Position is where a tail ended: the file it read and the offset just
// after its last complete line. Following from there neither repeats nor
// skips a line, even one written, or a rotation done, in between.
type Position struct {
	Offset int64
	// file is the file Offset is in; nil for whatever file the path
	// names, so the zero Position is the start of the current file.
	file os.FileInfo
}

// TailFrom is Tail that also returns the position to follow from. It reads
// the files from their end, so the cost of --tail N follows N, not the
// size of the log.
func TailFrom(path string, n int, f Filter) ([]Entry, Position, error) {
	var rev []Entry // newest first
	stop := sinceStop{since: f.Since}
	full := func() bool { return stop.done() || n > 0 && len(rev) >= n }
	add := func(line []byte) bool {
		e, err := ParseLine(bytes.TrimSpace(line))
		if err != nil {
			return !full()
		}
		stop.see(e)
		if f.Match(e) {
			rev = append(rev, e)
		}
		return !full()
	}
	files := logFiles{path: path}
	defer files.close()
	var pos Position
	for !full() {
		lf, err := files.next()
		if err != nil {
			return nil, Position{}, err
		}
		if lf == nil {
			break
		}
		if lf.current {
			pos, err = tailCurrent(lf, add)
		} else {
			err = scanLinesBackward(lf.file, lf.size, add)
		}
		if err != nil {
			return nil, Position{}, err
		}
	}
	if len(files.open) == 0 {
		return nil, Position{}, files.missing
	}
	slices.Reverse(rev)
	return rev, pos, nil
}

// Stream calls fn with each matching entry of the log at path, oldest
// first: the rotated files (path.3, .2, .1), then the current one. It
// passes the entries TailFrom(path, 0, f) returns and returns the same
// position, but calls fn as it reads, so printing the whole log (up to
// four files of MaxFileBytes) holds one line at a time, not the log. It
// stops at the first error fn returns and returns it.
//
// With f.Since it first reads backwards, as TailFrom does, to where that
// scan would stop, keeping nothing, then forwards from there: --since
// still bounds the reading, and an entry after Since that TailFrom would
// not reach (logged before a long run of older ones, by a clock that was
// then stepped back) is not printed either. The part after Since is read
// twice.
func Stream(path string, f Filter, fn func(Entry) error) (Position, error) {
	files := logFiles{path: path}
	defer files.close()
	if err := files.openSince(f.Since); err != nil {
		return Position{}, err
	}
	if len(files.open) == 0 {
		return Position{}, files.missing
	}
	var pos Position
	for _, lf := range slices.Backward(files.open) {
		// The length of the last line if it does not parse: at the end of
		// the current file, half a line still being written, which Follow
		// reads whole from the position, as after TailFrom.
		var half int64
		err := scanLines(io.NewSectionReader(lf.file, lf.from, lf.size-lf.from), func(line []byte) error {
			e, err := ParseLine(bytes.TrimSpace(line))
			if err != nil {
				half = int64(len(line))
				return nil
			}
			half = 0
			if !f.Match(e) {
				return nil
			}
			return fn(e)
		})
		if err != nil {
			return Position{}, err
		}
		if lf.current {
			pos = Position{Offset: lf.size - half, file: lf.st}
		}
	}
	return pos, nil
}

// A sinceStop ends a backward scan for Filter.Since: after a run of
// entries well before Since, the rest is older still, so --since bounds
// the reading, not just the output, even with --tail 0. A run, and well
// before: lines reach the file a little out of time order, and a clock
// stepped back puts older times after newer ones for a while.
type sinceStop struct {
	since time.Time
	run   int // entries in a row, the last ones seen, well before since
}

// The backward scan stops after sinceStopRun entries in a row from more
// than sinceSlack before Since.
const (
	sinceSlack   = 5 * time.Minute
	sinceStopRun = 1000
)

// see counts e, the next entry reading backwards.
func (s *sinceStop) see(e Entry) {
	if !s.since.IsZero() && !e.Time.IsZero() && e.Time.Before(s.since.Add(-sinceSlack)) {
		s.run++
	} else {
		s.run = 0
	}
}

// done reports whether the entries not seen yet are all too old.
func (s *sinceStop) done() bool { return s.run >= sinceStopRun }

// A logFile is one file of the log, open for reading. Only the first size
// bytes, its size when opened, are read: lines appended later are
// Follow's, from the Position.
type logFile struct {
	file *os.File
	st   os.FileInfo
	size int64
	// current is whether it was opened as the current file, not a rotated
	// one.
	current bool
	// from is where Stream starts reading it: 0, or the line where the
	// backward scan for --since stopped.
	from int64
}

// logFiles opens the files of a log one at a time, newest first: the
// current file, then path.1, .2, …. A missing file is skipped (the
// current one is missing between a rotation's rename and create), and so
// is one already opened under another name: the current file, rotated
// while the files were opened.
type logFiles struct {
	path string
	k    int        // the generation to open next
	open []*logFile // newest first
	// missing is the error opening the current file, when it is missing:
	// what to return if no file is there at all.
	missing error
}

// next opens the next older file; it returns nil, nil after the oldest.
func (l *logFiles) next() (*logFile, error) {
	for ; l.k <= keptFiles; l.k++ {
		file, err := os.Open(generation(l.path, l.k))
		if errors.Is(err, fs.ErrNotExist) {
			if l.k == 0 {
				l.missing = err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		st, err := file.Stat()
		if err != nil {
			file.Close()
			return nil, err
		}
		if l.opened(st) {
			file.Close()
			continue
		}
		lf := &logFile{file: file, st: st, size: st.Size(), current: l.k == 0}
		l.open = append(l.open, lf)
		l.k++
		return lf, nil
	}
	return nil, nil
}

// opened reports whether st is one of the files opened already.
func (l *logFiles) opened(st os.FileInfo) bool {
	for _, lf := range l.open {
		if os.SameFile(lf.st, st) {
			return true
		}
	}
	return false
}

// openSince opens the files Stream reads for entries since since (all of
// them when it is zero) and sets from in the oldest: the backward scan of
// TailFrom runs, keeping nothing, and stops where TailFrom's would.
func (l *logFiles) openSince(since time.Time) error {
	stop := sinceStop{since: since}
	for !stop.done() {
		lf, err := l.next()
		if err != nil || lf == nil {
			return err
		}
		if since.IsZero() {
			continue
		}
		end := lf.size // of the line passed next
		err = scanLinesBackward(lf.file, lf.size, func(line []byte) bool {
			start := end - int64(len(line))
			end = start - 1 // before its newline
			if e, err := ParseLine(bytes.TrimSpace(line)); err == nil {
				stop.see(e)
			}
			if stop.done() {
				lf.from = start
				return false
			}
			return true
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (l *logFiles) close() {
	for _, lf := range l.open {
		lf.file.Close()
	}
}

// tailCurrent calls add for the lines of the current log file, the last
// first, and returns the position after its last complete line.
func tailCurrent(lf *logFile, add func([]byte) bool) (Position, error) {
	pos := Position{Offset: lf.size, file: lf.st}
	last := true
	err := scanLinesBackward(lf.file, lf.size, func(line []byte) bool {
		if last {
			last = false
			// The bytes after the last newline: half a line still being
			// written, which Follow reads whole from the offset, unless
			// it parses.
			if _, err := ParseLine(bytes.TrimSpace(line)); err != nil {
				pos.Offset -= int64(len(line))
				return true
			}
		}
		return add(line)
	})
	return pos, err
}

// scanLinesBackward calls fn with each line of r[:end] without its
// newline, the last first, until fn returns false. The bytes after the
// last newline count as a line, empty if r[:end] ends with one. A line is
// valid only during its call.
func scanLinesBackward(r io.ReaderAt, end int64, fn func(line []byte) bool) error {
	const chunk = 64 << 10
	// buf[lo:hi] is the part read so far of the line being assembled; new
	// chunks go in front of it.
	buf := make([]byte, 2*chunk)
	lo, hi := len(buf), len(buf)
	for end > 0 {
		if lo < chunk {
			// Too little room in front: move the partial line to the end,
			// into a buffer twice its size if it is long, so a long line
			// costs linear time.
			n := hi - lo
			dst := buf
			if n+chunk > len(buf) {
				dst = make([]byte, 2*(n+chunk))
			}
			copy(dst[len(dst)-n:], buf[lo:hi])
			buf, lo, hi = dst, len(dst)-n, len(dst)
		}
		size := int(min(int64(chunk), end))
		end -= int64(size)
		if _, err := r.ReadAt(buf[lo-size:lo], end); err != nil {
			return err
		}
		lo -= size
		for {
			i := bytes.LastIndexByte(buf[lo:hi], '\n')
			if i < 0 {
				break
			}
			i += lo
			if !fn(buf[i+1 : hi]) {
				return nil
			}
			hi = i
		}
	}
	fn(buf[lo:hi])
	return nil
}

// scanLines calls fn with each line of r without its newline, the first
// first, until fn returns an error, which it returns. As with
// scanLinesBackward, the bytes after the last newline count as a line,
// empty if r ends with one. A line is valid only during its call; only
// the line being read is held, however long r is.
func scanLines(r io.Reader, fn func(line []byte) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var long []byte // a line longer than br's buffer, so far
	for {
		part, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long, part...)
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		line := part
		if len(long) > 0 {
			long = append(long, part...)
			line = long
		}
		if err == nil {
			line = line[:len(line)-1]
		}
		if ferr := fn(line); ferr != nil {
			return ferr
		}
		if err != nil { // io.EOF: that was the bytes after the last newline
			return nil
		}
		long = long[:0]
	}
}

// Follow calls fn for each matching entry appended to the log after from,
// until ctx is done. It polls, which works on every filesystem. It keeps
// the file open: when the path names another file (rotated: moved away and
// recreated), it reads the old one to its end, then the one after it (the
// rotated file one generation newer, or the new current one) from its
// start; when the file shrank (truncated), it starts over from the top.
func Follow(ctx context.Context, path string, from Position, f Filter, poll time.Duration, fn func(Entry) error) error {
	offset := from.Offset
	var pending []byte
	buf := make([]byte, 64<<10)
	var file *os.File
	defer func() {
		if file != nil {
			file.Close()
		}
	}()
	if from.file != nil {
		// The tailed file may have been rotated since: follow it where it
		// went, or, if it is gone, the current file from its start.
		if file = openGeneration(path, from.file); file == nil {
			offset = 0
		}
	}
	// drain reads file from offset to its end, calling fn per line.
	drain := func() error {
		if _, err := file.Seek(offset, io.SeekStart); err != nil {
			return nil // retried at the next poll
		}
		for {
			n, rerr := file.Read(buf)
			offset += int64(n)
			pending = append(pending, buf[:n]...)
			for {
				i := bytes.IndexByte(pending, '\n')
				if i < 0 {
					break
				}
				line := bytes.TrimSpace(pending[:i])
				pending = pending[i+1:]
				if e, err := ParseLine(line); err == nil && f.Match(e) {
					if err := fn(e); err != nil {
						return err
					}
				}
			}
			if rerr != nil || n == 0 {
				return nil
			}
		}
	}
	for {
		if file == nil {
			if fresh, err := os.Open(path); err == nil {
				file = fresh
			}
		}
		if file != nil {
			old, oerr := file.Stat()
			if oerr == nil && old.Size() < offset {
				offset, pending = 0, nil // truncated
			}
			if err := drain(); err != nil {
				return err
			}
			if cur, err := os.Stat(path); oerr == nil && err == nil && !os.SameFile(old, cur) {
				// Rotated. What the writer wrote to the old file between
				// the drain and its rename is read first; then the file
				// after it. A half line left in the old file is dropped.
				if err := drain(); err != nil {
					return err
				}
				if next, ok := nextGeneration(path, old); ok {
					file.Close()
					file, offset, pending = next, 0, nil
					continue // no wait: it may be full already
				}
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(poll):
		}
	}
}

// findGeneration returns k such that generation(path, k) is fi, or -1.
func findGeneration(path string, fi os.FileInfo) int {
	for k := 0; k <= keptFiles; k++ {
		if st, err := os.Stat(generation(path, k)); err == nil && os.SameFile(st, fi) {
			return k
		}
	}
	return -1
}

// openGeneration opens the file fi among the generations of path, or
// returns nil if it is not there.
func openGeneration(path string, fi os.FileInfo) *os.File {
	for range 3 { // a rotation may move it between the look and the open
		k := findGeneration(path, fi)
		if k < 0 {
			return nil
		}
		file, err := os.Open(generation(path, k))
		if err != nil {
			continue
		}
		if st, err := file.Stat(); err == nil && os.SameFile(st, fi) {
			return file
		}
		file.Close()
	}
	return nil
}

// nextGeneration opens the file written after the rotated file old: the
// one a generation newer. ok is false to try again at the next poll, when
// a rotation moved the files while they were looked at. A nil file with
// ok means old is gone (dropped, or moved by some other rotation scheme):
// the current file is read from its start.
func nextGeneration(path string, old os.FileInfo) (next *os.File, ok bool) {
	k := findGeneration(path, old)
	if k < 0 {
		return nil, true
	}
	if k == 0 {
		return nil, false // renamed back: rotation failed
	}
	next, err := os.Open(generation(path, k-1))
	if err != nil {
		return nil, false
	}
	// A rotation renames the older files first: old still at k means the
	// file opened was at k-1 while old was at k, so it is the one after.
	if st, err := os.Stat(generation(path, k)); err != nil || !os.SameFile(st, old) {
		next.Close()
		return nil, false
	}
	return next, true
}

// Format renders an entry for a person: time, level, component, message,
// then the other fields sorted by name.
func Format(e Entry) string {
	var b strings.Builder
	b.WriteString(e.Time.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, " %-5s", e.Level)
	if e.Component != "" {
		b.WriteString(" [" + printable(e.Component) + "]")
	}
	b.WriteString(" " + printable(e.Msg))
	if e.Source != "" {
		b.WriteString(" source=" + printable(e.Source))
	}
	keys := make([]string, 0, len(e.Attrs))
	for k := range e.Attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := e.Attrs[k]
		s, ok := v.(string)
		if !ok {
			j, _ := json.Marshal(v)
			s = string(j)
		}
		if strings.ContainsAny(s, " \t\"") || !isPrintable(s) {
			s = strconv.Quote(s)
		}
		b.WriteString(" " + printable(k) + "=" + s)
	}
	return b.String()
}

// printable quotes s when it holds a control or non-printable rune: a
// value from the network (a source name in a request path) must not start
// a forged line or send escape sequences to the terminal.
func printable(s string) string {
	if isPrintable(s) {
		return s
	}
	return strconv.Quote(s)
}

func isPrintable(s string) bool {
	for _, r := range s {
		if !unicode.IsPrint(r) && r != ' ' {
			return false
		}
	}
	return true
}
