package logs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// line is one JSON log line as slog's JSON handler writes it.
func line(sec int, level, component, source, msg string) string {
	s := fmt.Sprintf(`{"time":"2024-01-15T10:00:%02dZ","level":%q,"msg":%q`, sec, level, msg)
	if component != "" {
		s += fmt.Sprintf(`,"component":%q`, component)
	}
	if source != "" {
		s += fmt.Sprintf(`,"source":%q`, source)
	}
	return s + "}\n"
}

func writeLog(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), FileName)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func msgs(es []Entry) string {
	var out []string
	for _, e := range es {
		out = append(out, e.Msg)
	}
	return strings.Join(out, ",")
}

func level(l slog.Level) *slog.Level { return &l }

func TestTail(t *testing.T) {
	content := line(1, "INFO", "server", "", "m1") +
		line(2, "INFO", "webhook", "email-gateway", "m2") +
		line(3, "WARN", "webhook", "edr", "m3") +
		"\n" + // blank lines are skipped
		`{"time":"2024-01-15T10:00:04Z","level":"INFO","msg":"half` + "\n" + // a crash mid-line
		"not json at all\n" +
		line(5, "ERROR", "admin", "", "m5") +
		line(6, "DEBUG", "webhook", "email-gateway", "m6") +
		line(7, "INFO", "Webhook", "email-gateway", "m7") +
		`{"time":"2024-01-15T10:00:08Z","level":"INFO","msg":"m8","component":"webhook"}` // last line without newline
	path := writeLog(t, content)
	tests := []struct {
		name   string
		n      int
		filter Filter
		want   string
	}{
		{"all", 0, Filter{}, "m1,m2,m3,m5,m6,m7,m8"},
		{"last 3", 3, Filter{}, "m6,m7,m8"},
		{"last 1", 1, Filter{}, "m8"},
		{"more than there are", 50, Filter{}, "m1,m2,m3,m5,m6,m7,m8"},
		{"component, any case", 0, Filter{Component: "WEBHOOK"}, "m2,m3,m6,m7,m8"},
		{"component, last 2", 2, Filter{Component: "webhook"}, "m7,m8"},
		{"source", 0, Filter{Source: "email-gateway"}, "m2,m6,m7"},
		{"source is exact", 0, Filter{Source: "email"}, ""},
		{"min level warn", 0, Filter{MinLevel: level(slog.LevelWarn)}, "m3,m5"},
		{"min level debug keeps all", 0, Filter{MinLevel: level(slog.LevelDebug)}, "m1,m2,m3,m5,m6,m7,m8"},
		{"min level info drops debug", 0, Filter{MinLevel: level(slog.LevelInfo)}, "m1,m2,m3,m5,m7,m8"},
		{"all filters", 0, Filter{Component: "webhook", Source: "email-gateway", MinLevel: level(slog.LevelInfo)}, "m2,m7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Tail(path, tt.n, tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			if msgs(got) != tt.want {
				t.Errorf("Tail = %s, want %s", msgs(got), tt.want)
			}
		})
	}
}

func TestTailLongFile(t *testing.T) {
	// Long enough that the ring buffer compacts several times.
	var b strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&b, `{"time":"2024-01-15T10:00:00Z","level":"INFO","msg":"m%d"}`+"\n", i)
	}
	path := writeLog(t, b.String())
	for _, n := range []int{1, 3, 7, 999, 1000} {
		got, err := Tail(path, n, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != n || got[0].Msg != fmt.Sprintf("m%d", 1000-n) || got[n-1].Msg != "m999" {
			t.Errorf("Tail(%d) = %d entries from %s to %s", n, len(got), got[0].Msg, got[len(got)-1].Msg)
		}
	}
}

func TestTailMissingFile(t *testing.T) {
	_, err := Tail(filepath.Join(t.TempDir(), "nope.log"), 10, Filter{})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v, want not-exist", err)
	}
}

func TestParseLine(t *testing.T) {
	e, err := ParseLine([]byte(`{"time":"2024-01-15T10:00:00.123456789Z","level":"WARN","msg":"delivery rejected","component":"webhook","source":"edr","status":401,"code":"invalid_signature"}`))
	if err != nil {
		t.Fatal(err)
	}
	if !e.Time.Equal(time.Date(2024, 1, 15, 10, 0, 0, 123456789, time.UTC)) || e.Level != "WARN" || e.Msg != "delivery rejected" ||
		e.Component != "webhook" || e.Source != "edr" {
		t.Errorf("entry = %+v", e)
	}
	if len(e.Attrs) != 2 || e.Attrs["status"] != float64(401) || e.Attrs["code"] != "invalid_signature" {
		t.Errorf("attrs = %v", e.Attrs)
	}
	if _, err := ParseLine([]byte(`{"time":`)); err == nil {
		t.Error("half a line parsed")
	}
	for _, line := range []string{`null`, `{}`, `{"msg":"no time"}`} {
		if _, err := ParseLine([]byte(line)); err == nil {
			t.Errorf("%s parsed as a log record", line)
		}
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		name string
		line string
		want string
	}{
		{
			name: "full entry",
			line: `{"time":"2024-01-15T11:00:00.5+01:00","level":"INFO","msg":"delivery accepted","component":"webhook","source":"email-gateway","request_id":"r-1","status":202,"duration_ms":1.25,"incident":"INC-2024-0001"}`,
			want: `2024-01-15T10:00:00Z INFO  [webhook] delivery accepted source=email-gateway duration_ms=1.25 incident=INC-2024-0001 request_id=r-1 status=202`,
		},
		{
			name: "values with spaces or quotes are quoted",
			line: `{"time":"2024-01-15T10:00:00Z","level":"ERROR","msg":"delivery failed","error":"disk full","note":"say \"hi\"","tab":"a\tb"}`,
			want: `2024-01-15T10:00:00Z ERROR delivery failed error="disk full" note="say \"hi\"" tab="a\tb"`,
		},
		{
			name: "non-string values are JSON",
			line: `{"time":"2024-01-15T10:00:00Z","level":"WARN","msg":"m","ok":true,"list":[1,2],"obj":{"a":"b"},"nil":null}`,
			want: `2024-01-15T10:00:00Z WARN  m list=[1,2] nil=null obj="{\"a\":\"b\"}" ok=true`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := ParseLine([]byte(tt.line))
			if err != nil {
				t.Fatal(err)
			}
			if got := Format(e); got != tt.want {
				t.Errorf("Format =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// follower runs Follow in the background and hands over what it sees.
type follower struct {
	entries chan Entry
	done    chan error
	cancel  context.CancelFunc
}

func follow(t *testing.T, path string, from Position, f Filter) *follower {
	t.Helper()
	return startFollower(t, path, from, f, 2*time.Millisecond)
}

func startFollower(t *testing.T, path string, from Position, f Filter, poll time.Duration) *follower {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	fl := &follower{entries: make(chan Entry, 100), done: make(chan error, 1), cancel: cancel}
	go func() {
		fl.done <- Follow(ctx, path, from, f, poll, func(e Entry) error {
			fl.entries <- e
			return nil
		})
	}()
	t.Cleanup(func() {
		cancel()
		<-fl.done
	})
	return fl
}

func (fl *follower) expect(t *testing.T, want ...string) {
	t.Helper()
	for _, w := range want {
		select {
		case e := <-fl.entries:
			if e.Msg != w {
				t.Fatalf("followed %q, want %q", e.Msg, w)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("timed out waiting for %q", w)
		}
	}
}

func (fl *follower) expectNothing(t *testing.T) {
	t.Helper()
	select {
	case e := <-fl.entries:
		t.Fatalf("unexpected entry %q", e.Msg)
	case <-time.After(30 * time.Millisecond):
	}
}

func appendTo(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

func TestFollowAppends(t *testing.T) {
	path := writeLog(t, line(1, "INFO", "server", "", "old"))
	_, offset, err := TailFrom(path, 0, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	fl := follow(t, path, offset, Filter{Component: "webhook"})
	fl.expectNothing(t) // what was there before the offset is not repeated

	appendTo(t, path, line(2, "INFO", "webhook", "", "new1")+line(3, "INFO", "server", "", "filtered out"))
	fl.expect(t, "new1")

	// Half a line waits for its end instead of being dropped or misread.
	full := line(4, "INFO", "webhook", "", "split")
	appendTo(t, path, full[:20])
	fl.expectNothing(t)
	appendTo(t, path, full[20:])
	fl.expect(t, "split")

	appendTo(t, path, "garbage\n"+line(5, "INFO", "webhook", "", "after garbage"))
	fl.expect(t, "after garbage")
	fl.expectNothing(t)
}

func TestFollowTruncation(t *testing.T) {
	path := writeLog(t, line(1, "INFO", "webhook", "", "one")+line(2, "INFO", "webhook", "", "two"))
	_, offset, _ := TailFrom(path, 0, Filter{})
	fl := follow(t, path, offset, Filter{})
	appendTo(t, path, line(3, "INFO", "webhook", "", "three"))
	fl.expect(t, "three")

	// Log rotation by truncation: the file restarts shorter than where
	// Follow was, so it starts over from the top.
	if err := os.WriteFile(path, []byte(line(4, "INFO", "webhook", "", "after truncate")), 0o600); err != nil {
		t.Fatal(err)
	}
	fl.expect(t, "after truncate")
	appendTo(t, path, line(5, "INFO", "webhook", "", "five"))
	fl.expect(t, "five")
}

func TestFollowFileCreatedLater(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	fl := follow(t, path, Position{}, Filter{})
	fl.expectNothing(t)
	appendTo(t, path, line(1, "INFO", "server", "", "first"))
	fl.expect(t, "first")
}

func TestFollowStopsOnCancel(t *testing.T) {
	path := writeLog(t, "")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Follow(ctx, path, Position{}, Filter{}, time.Hour, func(Entry) error { return nil })
	}()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Follow returned %v after cancel, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Follow did not stop when its context was cancelled")
	}
}

func TestFollowStopsOnCallbackError(t *testing.T) {
	path := writeLog(t, line(1, "INFO", "", "", "a")+line(2, "INFO", "", "", "b"))
	stop := errors.New("stop")
	var seen []string
	err := Follow(context.Background(), path, Position{}, Filter{}, time.Millisecond, func(e Entry) error {
		seen = append(seen, e.Msg)
		return stop
	})
	if !errors.Is(err, stop) {
		t.Errorf("err = %v, want the callback's", err)
	}
	if strings.Join(seen, ",") != "a" {
		t.Errorf("seen = %v, want only the first entry", seen)
	}
}

func TestOpenWritesJSONLinesThatTailReads(t *testing.T) {
	dir := t.TempDir()
	var stderr bytes.Buffer
	log, closer, err := Open(dir, &stderr, slog.LevelInfo)
	if err != nil {
		t.Fatal(err)
	}
	log.Debug("hidden", "component", ComponentServer)
	log.With("component", ComponentWebhook, "source", "edr").Warn("delivery rejected", "status", 401)
	if err := closer.Close(); err != nil {
		t.Fatal(err)
	}
	path := Path(dir)
	if path != filepath.Join(dir, "logs", "tw-cli.log") {
		t.Errorf("Path = %q", path)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("log file mode = %v, want 0600", st.Mode().Perm())
	}
	es, err := Tail(path, 0, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].Msg != "delivery rejected" || es[0].Level != "WARN" || es[0].Component != "webhook" ||
		es[0].Source != "edr" || es[0].Attrs["status"] != float64(401) {
		t.Fatalf("entries = %+v", es)
	}
	if !strings.Contains(stderr.String(), `level=WARN msg="delivery rejected" component=webhook source=edr status=401`) || strings.Contains(stderr.String(), "hidden") {
		t.Errorf("stderr = %q", stderr.String())
	}
}

func TestTailFromStopsBeforeAHalfWrittenLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tw.log")
	complete := `{"time":"2024-01-15T10:00:00Z","level":"INFO","msg":"one","component":"webhook"}` + "\n" +
		`{"time":"2024-01-15T10:00:01Z","level":"INFO","msg":"two","component":"webhook"}` + "\n"
	half := `{"time":"2024-01-15T10:00:02Z","level":"INFO","msg":"thr`
	if err := os.WriteFile(path, []byte(complete+half), 0o600); err != nil {
		t.Fatal(err)
	}
	es, pos, err := TailFrom(path, 10, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 || es[1].Msg != "two" || pos.Offset != int64(len(complete)) {
		t.Fatalf("entries %d, offset %d (want 2, %d)", len(es), pos.Offset, len(complete))
	}
	// Following from that offset sees the line once it is finished.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`ee"}` + "\n")
	f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var got []string
	Follow(ctx, path, pos, Filter{}, 5*time.Millisecond, func(e Entry) error {
		got = append(got, e.Msg)
		cancel()
		return nil
	})
	if len(got) != 1 || got[0] != "three" {
		t.Fatalf("followed %v, want [three]", got)
	}
}

func TestOpenRotatesAnOversizedLog(t *testing.T) {
	dir := t.TempDir()
	path := Path(dir)
	os.MkdirAll(filepath.Dir(path), 0o700)
	big := make([]byte, MaxFileBytes+1)
	big[len(big)-1] = '\n' // else Open ends the "half line" first
	if err := os.WriteFile(path, big, 0o600); err != nil {
		t.Fatal(err)
	}
	log, closer, err := Open(dir, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	log.Info("fresh")
	closer.Close()
	if st, err := os.Stat(path + ".1"); err != nil || st.Size() != int64(len(big)) {
		t.Fatalf("old log not kept as .1: %v", err)
	}
	if st, _ := os.Stat(path); st.Size() > 1000 {
		t.Fatalf("new log is %d bytes", st.Size())
	}
}

// Rotation by renaming: a line written to the old file just before the
// move, and every line of the new file, longer than the old offset, are
// all followed.
func TestFollowRotationByRename(t *testing.T) {
	path := writeLog(t, line(1, "INFO", "webhook", "", "one"))
	_, offset, _ := TailFrom(path, 0, Filter{})
	fl := follow(t, path, offset, Filter{})
	fl.expectNothing(t)
	appendTo(t, path, line(2, "INFO", "webhook", "", "last of the old file"))
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	var fresh string
	for i := range 10 {
		fresh += line(10+i, "INFO", "webhook", "", fmt.Sprintf("new-%d", i))
	}
	appendTo(t, path, fresh)
	fl.expect(t, "last of the old file")
	for i := range 10 {
		fl.expect(t, fmt.Sprintf("new-%d", i))
	}
	fl.expectNothing(t)
}

// A huge --tail keeps every line (2*n overflowed and panicked).
func TestTailHugeCount(t *testing.T) {
	path := writeLog(t, line(1, "INFO", "server", "", "a")+line(2, "INFO", "server", "", "b"))
	got, _, err := TailFrom(path, math.MaxInt, Filter{})
	if err != nil || len(got) != 2 {
		t.Fatalf("%d entries, %v", len(got), err)
	}
}

// Values from the network cannot forge a line or reach the terminal as
// escape sequences.
func TestFormatQuotesControlCharacters(t *testing.T) {
	e := Entry{Time: time.Date(2026, 12, 2, 4, 0, 0, 0, time.UTC), Level: "WARN", Component: "webhook",
		Msg:    "delivery rejected",
		Source: "nope\n2026-12-02T04:30:00Z ERROR [server] database corrupted\x1b[2J",
		Attrs:  map[string]any{"path": "/api/webhooks/x\ny", "ok": "plain"}}
	got := Format(e)
	if strings.ContainsAny(got, "\n\x1b") {
		t.Fatalf("control characters reached the output: %q", got)
	}
	if !strings.Contains(got, `source="nope\n2026`) || !strings.Contains(got, `path="/api/webhooks/x\ny"`) || !strings.Contains(got, "ok=plain") {
		t.Fatalf("Format = %q", got)
	}
}

// --since bounds what is read, not only what is shown: reading backwards,
// the scan stops after a run of entries well before it, and older files
// are not opened (here one that cannot be read). Entries a little out of
// order, or a few old ones among new ones, do not stop it.
func TestTailSinceStopsReading(t *testing.T) {
	at := func(min, sec int, msg string) string {
		return fmt.Sprintf(`{"time":"2024-01-15T10:%02d:%02dZ","level":"INFO","msg":%q}`+"\n", min, sec, msg)
	}
	var b strings.Builder
	for i := range sinceStopRun {
		b.WriteString(at(0, i%60, "old"))
	}
	b.WriteString(at(20, 0, "new1"))
	b.WriteString(at(1, 0, "stray")) // a clock stepped back, briefly
	b.WriteString(at(20, 30, "new2"))
	path := writeLog(t, b.String())
	if err := os.Mkdir(generation(path, 1), 0o700); err != nil {
		t.Fatal(err)
	}
	since := time.Date(2024, 1, 15, 10, 20, 0, 0, time.UTC)
	es, _, err := TailFrom(path, 0, Filter{Since: since})
	if err != nil || msgs(es) != "new1,new2" {
		t.Fatalf("tail since = %q, %v", msgs(es), err)
	}
	if _, _, err := TailFrom(path, 0, Filter{}); err == nil {
		t.Fatal("without --since the unreadable older file is read: the test's premise is wrong")
	}
}
