package logs

import (
	"context"
	"io"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/tw-cli/tw-cli/internal/jsonstr"
)

// jsonHandler writes the lines slog.NewJSONHandler(w,
// &slog.HandlerOptions{Level: level}) writes, byte for byte. The receiver
// logs a line per delivery, and slog's handler was a visible share of the
// server's CPU: it marshals every float64 through encoding/json and runs
// its generic group and ReplaceAttr machinery for every record. This one
// writes the common record (flat attributes of scalar kinds) directly and
// hands every other record to slog's own handler, so the output cannot
// differ where the shortcut does not apply.
type jsonHandler struct {
	w io.Writer
	// mu serializes the shortcut's writes with each other and with slow's,
	// whose writer takes it too, as slog's handler serializes its own.
	mu   *sync.Mutex
	slow *slog.JSONHandler
}

func newJSONHandler(w io.Writer, level slog.Leveler) *jsonHandler {
	mu := new(sync.Mutex)
	return &jsonHandler{w: w, mu: mu,
		slow: slog.NewJSONHandler(&lockedWriter{mu: mu, w: w}, &slog.HandlerOptions{Level: level})}
}

// lockedWriter makes slog's handler take the shortcut's lock, so that the
// lines of the two never interleave on a writer that does not serialize.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (h *jsonHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.slow.Enabled(ctx, l)
}

// WithAttrs and WithGroup return slog's handler: preformatted attributes
// and open groups are exactly the state the shortcut leaves to it.
func (h *jsonHandler) WithAttrs(as []slog.Attr) slog.Handler { return h.slow.WithAttrs(as) }

func (h *jsonHandler) WithGroup(name string) slog.Handler { return h.slow.WithGroup(name) }

// maxPooledLine keeps a rare huge line (a long error text, say) from
// pinning its buffer in the pool for good.
const maxPooledLine = 16 << 10

var linePool = sync.Pool{New: func() any {
	b := make([]byte, 0, 1024)
	return &b
}}

func (h *jsonHandler) Handle(ctx context.Context, r slog.Record) error {
	bp := linePool.Get().(*[]byte)
	line, ok := appendJSONLine((*bp)[:0], &r)
	var err error
	if ok {
		h.mu.Lock()
		_, err = h.w.Write(line)
		h.mu.Unlock()
	} else {
		err = h.slow.Handle(ctx, r)
	}
	if cap(line) <= maxPooledLine {
		*bp = line[:0]
		linePool.Put(bp)
	}
	return err
}

// appendJSONLine appends r's line as slog's JSON handler (without
// options, state or groups) writes it; ok is false, with dst's bytes
// past its length undefined, for a record that needs anything more.
func appendJSONLine(dst []byte, r *slog.Record) (_ []byte, ok bool) {
	dst = append(dst, '{')
	if !r.Time.IsZero() {
		// slog's Round(0) only drops the monotonic reading, which
		// AppendFormat ignores anyway.
		dst = append(dst, `"time":"`...)
		n := len(dst)
		dst = r.Time.AppendFormat(dst, time.RFC3339Nano)
		// slog adds an error marker for a year outside [0,9999], which
		// RFC 3339 cannot hold; only such a year is not four digits and a
		// '-' (a negative one starts with its sign).
		if dst[n+4] != '-' {
			return dst, false
		}
		dst = append(dst, `",`...)
	}
	// Level names need no escaping.
	dst = append(dst, `"level":"`...)
	dst = appendLevel(dst, r.Level)
	dst = jsonstr.AppendSlog(append(dst, `","msg":`...), r.Message)
	ok = true
	r.Attrs(func(a slog.Attr) bool {
		dst, ok = appendAttr(dst, a)
		return ok
	})
	return append(dst, '}', '\n'), ok
}

// appendAttr appends ,"key":value for an attribute of a scalar kind. An
// empty key is left to slog, which elides an empty attribute but writes
// "" for the key of any other.
func appendAttr(dst []byte, a slog.Attr) ([]byte, bool) {
	if a.Key == "" {
		return dst, false
	}
	v := a.Value
	// Resolve defers a recover on every call, a cost worth skipping for
	// the values that are no LogValuer.
	if v.Kind() == slog.KindLogValuer {
		v = v.Resolve()
	}
	switch v.Kind() {
	case slog.KindString:
		dst = jsonstr.AppendSlog(appendKey(dst, a.Key), v.String())
	case slog.KindInt64:
		dst = strconv.AppendInt(appendKey(dst, a.Key), v.Int64(), 10)
	case slog.KindUint64:
		dst = strconv.AppendUint(appendKey(dst, a.Key), v.Uint64(), 10)
	case slog.KindBool:
		dst = strconv.AppendBool(appendKey(dst, a.Key), v.Bool())
	case slog.KindDuration:
		// As json.Marshal writes a time.Duration: its nanoseconds.
		dst = strconv.AppendInt(appendKey(dst, a.Key), int64(v.Duration()), 10)
	case slog.KindFloat64:
		f := v.Float64()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			// slog writes encoding/json's error text for these.
			return dst, false
		}
		dst = appendJSONFloat(appendKey(dst, a.Key), f)
	default:
		return dst, false
	}
	return dst, true
}

func appendKey(dst []byte, key string) []byte {
	return append(jsonstr.AppendSlog(append(dst, ','), key), ':')
}

// appendJSONFloat writes a finite f as encoding/json's floatEncoder does
// for a float64, which is what slog calls for one: ES6 number formatting,
// plain decimals between 1e-6 and 1e21 and exponents without padding
// outside.
func appendJSONFloat(dst []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// e-07 becomes e-7.
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

// appendLevel writes Level.String's text without the allocation String
// makes for a level between the named ones (INFO+2).
func appendLevel(dst []byte, l slog.Level) []byte {
	var base string
	var off slog.Level
	switch {
	case l < slog.LevelInfo:
		base, off = "DEBUG", l-slog.LevelDebug
	case l < slog.LevelWarn:
		base, off = "INFO", l-slog.LevelInfo
	case l < slog.LevelError:
		base, off = "WARN", l-slog.LevelWarn
	default:
		base, off = "ERROR", l-slog.LevelError
	}
	dst = append(dst, base...)
	if off > 0 {
		dst = append(dst, '+')
	}
	if off != 0 {
		dst = strconv.AppendInt(dst, int64(off), 10)
	}
	return dst
}
