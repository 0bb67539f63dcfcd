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
	"log/slog"
	"os"
	"path/filepath"
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

// MaxFileBytes is the size past which Open starts a new log file.
const MaxFileBytes = 64 << 20

// Path returns the log file path for a data dir.
func Path(dataDir string) string { return filepath.Join(dataDir, "logs", FileName) }

// Open returns a logger writing JSON lines to the data dir's log file and
// human-readable lines to stderr (nil to skip), and a closer for the file.
func Open(dataDir string, stderr io.Writer, level slog.Level) (*slog.Logger, io.Closer, error) {
	path := Path(dataDir)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, nil, fmt.Errorf("create log dir: %w", err)
	}
	// One generation is kept: a receiver that starts with a log past
	// MaxFileBytes moves it to tw-cli.log.1, so the log cannot grow without
	// bound across restarts.
	if st, err := os.Stat(path); err == nil && st.Size() > MaxFileBytes {
		if err := os.Rename(path, path+".1"); err != nil {
			return nil, nil, fmt.Errorf("rotate log file: %w", err)
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
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

// Tail returns the last n matching entries of the file (all when n <= 0).
// Lines that are not JSON are skipped: a crash can leave half a line.
func Tail(path string, n int, f Filter) ([]Entry, error) {
	entries, _, err := TailFrom(path, n, f)
	return entries, err
}

// TailFrom is Tail that also returns the offset just after the last
// complete line it read: following from there neither repeats nor skips a
// line, even one being written while the tail was read.
func TailFrom(path string, n int, f Filter) ([]Entry, int64, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer file.Close()
	var ring []Entry
	var offset int64
	r := bufio.NewReaderSize(file, 64<<10)
	for {
		line, err := r.ReadBytes('\n')
		if err != nil && err != io.EOF {
			return nil, 0, err
		}
		e, perr := ParseLine(bytes.TrimSpace(line))
		if err == io.EOF && perr != nil {
			// Half a last line is still being written; Follow reads it
			// whole from this offset.
			break
		}
		offset += int64(len(line))
		if perr == nil && f.Match(e) {
			ring = append(ring, e)
			if n > 0 && len(ring)-n > n { // not 2*n, which overflows for a huge n
				ring = append(ring[:0], ring[len(ring)-n:]...)
			}
		}
		if err == io.EOF {
			break
		}
	}
	if n > 0 && len(ring) > n {
		ring = ring[len(ring)-n:]
	}
	return ring, offset, nil
}

// Follow calls fn for each matching entry appended to the file after
// offset, until ctx is done. It polls, which works on every filesystem. It
// keeps the file open: when the path names another file (rotated: moved
// away and recreated), it reads the old one to its end, then the new one
// from its start; when the file shrank (truncated), from the start.
func Follow(ctx context.Context, path string, offset int64, f Filter, poll time.Duration, fn func(Entry) error) error {
	var pending []byte
	buf := make([]byte, 64<<10)
	var file *os.File
	defer func() {
		if file != nil {
			file.Close()
		}
	}()
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
			if st, err := file.Stat(); err == nil && st.Size() < offset {
				offset, pending = 0, nil // truncated
			}
			if err := drain(); err != nil {
				return err
			}
			// Rotated: the old file is read to its end; the new one
			// starts at 0. A half line left in the old file is dropped.
			if cur, err := os.Stat(path); err == nil {
				if old, err := file.Stat(); err == nil && !os.SameFile(old, cur) {
					file.Close()
					file, offset, pending = nil, 0, nil
					continue
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
