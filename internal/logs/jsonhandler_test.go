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
	"math"
	"strings"
	"sync"
	"testing"
	"time"
)

// tricky holds strings that exercise every escaping rule slog applies, and
// those it does not (< > & stay, \b and \f are not short forms).
var tricky = []string{
	"", "plain", `quote"d`, `back\slash`, "ctl\x00\x01\x1f\x7f", "\b\f\n\r\t",
	"<script>&amp;</script>", "sep\u2028par\u2029", "bad\xff\xc3utf8\xe2\x82",
	"héllo wörld ✓ 😀", "new\nline",
}

type logValuer func() slog.Value

func (f logValuer) LogValue() slog.Value { return f() }

type marshaler struct{}

func (marshaler) MarshalJSON() ([]byte, error) { return []byte(`{"m":1}`), nil }

// slogLine is the line slog's own JSON handler writes.
func slogLine(t testing.TB, h func(slog.Handler) slog.Handler, r slog.Record) []byte {
	var buf bytes.Buffer
	var sh slog.Handler = slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug - 10})
	if h != nil {
		sh = h(sh)
	}
	if err := sh.Handle(context.Background(), r.Clone()); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func ourLine(t testing.TB, h func(slog.Handler) slog.Handler, r slog.Record) []byte {
	var buf bytes.Buffer
	var jh slog.Handler = newJSONHandler(&buf, slog.LevelDebug-10)
	if h != nil {
		jh = h(jh)
	}
	if err := jh.Handle(context.Background(), r.Clone()); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fastPath reports whether the record is written without slog's handler.
func fastPath(r slog.Record) bool {
	_, ok := appendJSONLine(nil, &r)
	return ok
}

func TestJSONHandlerMatchesSlog(t *testing.T) {
	at := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)
	type tc struct {
		name string
		rec  slog.Record
		with func(slog.Handler) slog.Handler
		fast bool
	}
	rec := func(t time.Time, l slog.Level, msg string, as ...slog.Attr) slog.Record {
		r := slog.NewRecord(t, l, msg, 0)
		r.AddAttrs(as...)
		return r
	}
	cases := []tc{
		{name: "no attrs", rec: rec(at, slog.LevelInfo, "hello"), fast: true},
		{name: "zero time", rec: rec(time.Time{}, slog.LevelInfo, "hello"), fast: true},
		{name: "monotonic time", rec: rec(time.Now(), slog.LevelInfo, "now"), fast: true},
		{name: "zone", rec: rec(at.In(time.FixedZone("IST", 5*3600+1800)), slog.LevelInfo, "m"), fast: true},
		{name: "west zone", rec: rec(at.In(time.FixedZone("X", -(9*3600+30*60+17))), slog.LevelInfo, "m"), fast: true},
		{name: "zone of a day and more", rec: rec(at.In(time.FixedZone("Y", 25*3600)), slog.LevelInfo, "m"), fast: true},
		{name: "whole seconds", rec: rec(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), slog.LevelInfo, "m"), fast: true},
		{name: "year 0", rec: rec(time.Date(0, 1, 1, 0, 0, 0, 1, time.UTC), slog.LevelInfo, "m"), fast: true},
		{name: "year 9999", rec: rec(time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), slog.LevelInfo, "m"), fast: true},
		{name: "year 10000", rec: rec(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), slog.LevelInfo, "m")},
		{name: "year -1", rec: rec(time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), slog.LevelInfo, "m")},
		{name: "delivery", fast: true, rec: rec(at, slog.LevelInfo, "delivery accepted",
			slog.String("component", "webhook"), slog.String("request_id", "8f14e45f-ceea-467f-a0e8-0c2c1b1d3a5e"),
			slog.String("source", "crowdstrike"), slog.Int("status", 202), slog.String("incident", "INC-0042"),
			slog.String("incident_id", "01HX3"), slog.Float64("duration_ms", 3.217))},
		{name: "scalars", fast: true, rec: rec(at, slog.LevelWarn, "m",
			slog.Int64("i0", 0), slog.Int64("ineg", -1), slog.Int64("imin", math.MinInt64), slog.Int64("imax", math.MaxInt64),
			slog.Uint64("u0", 0), slog.Uint64("umax", math.MaxUint64), slog.Bool("t", true), slog.Bool("f", false),
			slog.Duration("d", 1500*time.Millisecond), slog.Duration("dneg", -time.Nanosecond), slog.Duration("d0", 0),
			slog.Int("int", 42))},
		{name: "LogValuer of a string", fast: true, rec: rec(at, slog.LevelInfo, "m",
			slog.Any("lv", logValuer(func() slog.Value { return slog.StringValue("resolved") })))},
		{name: "LogValuer of a LogValuer of an int", fast: true, rec: rec(at, slog.LevelInfo, "m",
			slog.Any("lv", logValuer(func() slog.Value {
				return slog.AnyValue(logValuer(func() slog.Value { return slog.IntValue(7) }))
			})))},
		{name: "empty message", rec: rec(at, slog.LevelInfo, ""), fast: true},

		{name: "group", rec: rec(at, slog.LevelInfo, "m", slog.String("a", "b"), slog.Group("g", slog.Int("x", 1), slog.String("y", "z")))},
		{name: "inline group", rec: rec(at, slog.LevelInfo, "m", slog.Group("", slog.Int("x", 1)))},
		{name: "nested group", rec: rec(at, slog.LevelInfo, "m", slog.Group("g", slog.Group("h", slog.Float64("f", 1e-7))))},
		{name: "any struct", rec: rec(at, slog.LevelInfo, "m", slog.Any("s", struct{ A int }{1}))},
		{name: "any map", rec: rec(at, slog.LevelInfo, "m", slog.Any("m", map[string]string{"<k>": "&v"}))},
		{name: "any nil", rec: rec(at, slog.LevelInfo, "m", slog.Any("n", nil))},
		{name: "any slice", rec: rec(at, slog.LevelInfo, "m", slog.Any("s", []string{"a\u2028"}))},
		{name: "error", rec: rec(at, slog.LevelError, "m", slog.Any("err", errors.New("boom <\"x\">")))},
		{name: "marshaler", rec: rec(at, slog.LevelInfo, "m", slog.Any("j", marshaler{}))},
		{name: "time attr", rec: rec(at, slog.LevelInfo, "m", slog.Time("when", at))},
		{name: "LogValuer of a group", rec: rec(at, slog.LevelInfo, "m",
			slog.Any("lv", logValuer(func() slog.Value { return slog.GroupValue(slog.Int("a", 1)) })))},
		{name: "LogValuer panics", rec: rec(at, slog.LevelInfo, "m",
			slog.Any("lv", logValuer(func() slog.Value { panic("no") })))},
		{name: "empty key", rec: rec(at, slog.LevelInfo, "m", slog.String("", "v"))},
		{name: "empty attr", rec: rec(at, slog.LevelInfo, "m", slog.Attr{}, slog.Int("n", 1))},
		{name: "NaN", rec: rec(at, slog.LevelInfo, "m", slog.Float64("f", math.NaN()))},
		{name: "+Inf", rec: rec(at, slog.LevelInfo, "m", slog.Float64("f", math.Inf(1)))},
		{name: "-Inf", rec: rec(at, slog.LevelInfo, "m", slog.Float64("f", math.Inf(-1)))},
		{name: "scalar after a slow one", rec: rec(at, slog.LevelInfo, "m", slog.Int("a", 1), slog.Any("s", []int{1}), slog.Int("b", 2))},
		{name: "WithAttrs", rec: rec(at, slog.LevelInfo, "m", slog.Int("a", 1)),
			with: func(h slog.Handler) slog.Handler { return h.WithAttrs([]slog.Attr{slog.String("pre", "x")}) }},
		{name: "WithGroup", rec: rec(at, slog.LevelInfo, "m", slog.Int("a", 1)),
			with: func(h slog.Handler) slog.Handler { return h.WithGroup("g") }},
		{name: "WithGroup without attrs", rec: rec(at, slog.LevelInfo, "m"),
			with: func(h slog.Handler) slog.Handler { return h.WithGroup("g").WithAttrs([]slog.Attr{slog.Int("p", 1)}) }},
	}
	for _, l := range []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError,
		slog.LevelInfo + 2, slog.LevelDebug - 3, slog.LevelError + 10, slog.LevelWarn - 1, slog.LevelInfo - 1} {
		cases = append(cases, tc{name: "level " + l.String(), rec: rec(at, l, "m"), fast: true})
	}
	for _, f := range []float64{0, math.Copysign(0, -1), 1.25, -1.25, 1e-7, -1e-7, 1e-6, 9.99e-7, 1e20, 1e21,
		-1e21, 9.999999e20, 123456789.125, 0.1, 1.0 / 3, 5e-324, math.MaxFloat64, math.SmallestNonzeroFloat64,
		1e100, 1.5e-300, 3, 100, 12345678901234567890} {
		cases = append(cases, tc{name: fmt.Sprintf("float %g", f), rec: rec(at, slog.LevelInfo, "m", slog.Float64("f", f)), fast: true})
	}
	for _, s := range tricky {
		cases = append(cases,
			tc{name: fmt.Sprintf("string %q", s), rec: rec(at, slog.LevelInfo, s, slog.String("k", s)), fast: true},
			tc{name: fmt.Sprintf("key %q", s), rec: rec(at, slog.LevelInfo, "m", slog.String(s+"k", "v")), fast: true})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := slogLine(t, c.with, c.rec)
			got := ourLine(t, c.with, c.rec)
			if !bytes.Equal(got, want) {
				t.Errorf("\ngot  %s\nwant %s", got, want)
			}
			if c.with == nil && fastPath(c.rec) != c.fast {
				t.Errorf("fast path = %v, want %v", !c.fast, c.fast)
			}
		})
	}
}

func TestJSONHandlerEnabled(t *testing.T) {
	for _, min := range []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn + 1} {
		h := newJSONHandler(io.Discard, min)
		s := slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: min})
		for l := slog.LevelDebug - 2; l <= slog.LevelError+2; l++ {
			if got, want := h.Enabled(context.Background(), l), s.Enabled(context.Background(), l); got != want {
				t.Errorf("min %v: Enabled(%v) = %v, want %v", min, l, got, want)
			}
		}
	}
	// A nil Leveler means INFO, as for slog.
	if newJSONHandler(io.Discard, nil).Enabled(context.Background(), slog.LevelDebug) {
		t.Error("nil level enables DEBUG")
	}
}

// TestJSONHandlerConcurrentLines writes fast and slow records from many
// goroutines to a writer that does not serialize: every line must arrive
// whole.
func TestJSONHandlerConcurrentLines(t *testing.T) {
	var buf bytes.Buffer
	h := newJSONHandler(&buf, slog.LevelInfo)
	const goroutines, lines = 8, 200
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range lines {
				r := slog.NewRecord(time.Now(), slog.LevelInfo, "m", 0)
				r.AddAttrs(slog.Int("g", g), slog.Int("i", i), slog.String("pad", strings.Repeat("x", i)))
				if i%3 == 0 {
					r.AddAttrs(slog.Group("grp", slog.Int("slow", 1)))
				}
				if err := h.Handle(context.Background(), r); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	sc := bufio.NewScanner(&buf)
	n := 0
	for sc.Scan() {
		if !json.Valid(sc.Bytes()) {
			t.Fatalf("line %d is not JSON: %q", n, sc.Bytes())
		}
		n++
	}
	if n != goroutines*lines {
		t.Errorf("%d lines, want %d", n, goroutines*lines)
	}
}

// TestJSONHandlerDoesNotAllocate holds the shortcut to its point: the
// delivery line, once the pool is warm, costs no allocation.
func TestJSONHandlerDoesNotAllocate(t *testing.T) {
	h := newJSONHandler(io.Discard, slog.LevelInfo)
	r := deliveryRecord()
	ctx := context.Background()
	if n := testing.AllocsPerRun(100, func() { _ = h.Handle(ctx, r) }); n != 0 {
		t.Errorf("%v allocations per line", n)
	}
}

// TestJSONHandlerDropsHugeBuffers checks that a huge line's buffer does
// not go back to the pool.
func TestJSONHandlerDropsHugeBuffers(t *testing.T) {
	h := newJSONHandler(io.Discard, slog.LevelInfo)
	r := slog.NewRecord(time.Now(), slog.LevelInfo, strings.Repeat("x", 2*maxPooledLine), 0)
	for range 10 {
		_ = h.Handle(context.Background(), r)
		bp := linePool.Get().(*[]byte)
		if cap(*bp) > maxPooledLine {
			t.Fatalf("pooled a %d-byte buffer", cap(*bp))
		}
		linePool.Put(bp)
	}
}

func deliveryRecord() slog.Record {
	r := slog.NewRecord(time.Now(), slog.LevelInfo, "delivery accepted", 0)
	r.AddAttrs(slog.String("component", ComponentWebhook), slog.String("request_id", "8f14e45f-ceea-467f-a0e8-0c2c1b1d3a5e"),
		slog.String("source", "crowdstrike"), slog.Int("status", 202), slog.String("incident", "INC-0042"),
		slog.String("incident_id", "0b6f2c1e-5d1a-4c55-9a57-3f1f0d8e2b71"), slog.Float64("duration_ms", 3.217))
	return r
}

func BenchmarkJSONHandler(b *testing.B) {
	r := deliveryRecord()
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		h    slog.Handler
	}{
		{"slog", slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo})},
		{"fast", newJSONHandler(io.Discard, slog.LevelInfo)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := bc.h.Handle(ctx, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// FuzzJSONHandler builds a record of every fast-path kind from fuzzed
// values, plus the record time, zone and level, and requires slog's bytes.
func FuzzJSONHandler(f *testing.F) {
	f.Add("delivery accepted", "component", "webhook", "status", int64(202), "duration_ms", 3.217, uint64(7), true, int64(1500000), 0, int64(1714979289), int64(123456789), 0, true)
	f.Add("", "", "", "", int64(0), "", 0.0, uint64(0), false, int64(0), 0, int64(0), int64(0), 0, false)
	f.Add("\u2028<&>\"\\", "k\x00", "v\xff", "\t", int64(math.MinInt64), "f", 1e-7, uint64(math.MaxUint64), false, int64(-1), 2, int64(253402300799), int64(999999999), 19800, true)
	f.Add("m", "a", "é✓", "b", int64(-5), "c", 1e21, uint64(1), true, int64(math.MaxInt64), -4, int64(253402300800), int64(0), -3600, true)
	f.Add("m", "a", "b", "c", int64(1), "d", math.Inf(1), uint64(1), true, int64(1), 8, int64(-62167219201), int64(0), 0, true)
	f.Add("m", "a", "b", "c", int64(1), "d", math.NaN(), uint64(1), true, int64(1), 13, int64(1), int64(1), 90000, true)
	f.Add("m", "a", "b", "c", int64(1), "d", 123456789.125, uint64(1), true, int64(1), -1, int64(1), int64(1), 1, true)
	f.Fuzz(func(t *testing.T, msg, ks, s, ki string, i int64, kf string, fl float64, u uint64, bo bool, d int64,
		level int, sec, nsec int64, zone int, hasTime bool) {
		var at time.Time
		if hasTime {
			at = time.Unix(sec, nsec).In(time.FixedZone("Z", zone))
		}
		r := slog.NewRecord(at, slog.Level(level), msg, 0)
		r.AddAttrs(slog.String(ks, s), slog.Int64(ki, i), slog.Float64(kf, fl), slog.Uint64("u"+ks, u),
			slog.Bool("b", bo), slog.Duration("d"+ki, time.Duration(d)), slog.String("s", msg))
		want := slogLine(t, nil, r)
		if got := ourLine(t, nil, r); !bytes.Equal(got, want) {
			t.Errorf("\ngot  %q\nwant %q", got, want)
		}
	})
}
