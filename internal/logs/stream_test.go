package logs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// streamAll returns what Stream passes to fn.
func streamAll(path string, f Filter) ([]Entry, Position, error) {
	var got []Entry
	pos, err := Stream(path, f, func(e Entry) error {
		got = append(got, e)
		return nil
	})
	return got, pos, err
}

// at is a log line at 10:min:sec.
func at(min, sec int, msg, component string) string {
	return fmt.Sprintf(`{"time":"2024-01-15T10:%02d:%02dZ","level":"INFO","msg":%q,"component":%q}`+"\n", min, sec, msg, component)
}

// writeGenerations writes the log's files, the current one first, then
// path.1, .2, …; "-" leaves one out.
func writeGenerations(t *testing.T, files ...string) string {
	t.Helper()
	path := writeLog(t, files[0])
	if files[0] == "-" {
		os.Remove(path)
	}
	for k, content := range files[1:] {
		if content != "-" {
			if err := os.WriteFile(generation(path, k+1), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	return path
}

// Stream passes the entries TailFrom(path, 0, …) returns, in the same
// order, and the same position to follow from, whatever the files hold and
// whatever the filter.
func TestStreamPassesWhatTailFromReturns(t *testing.T) {
	long := fmt.Sprintf(`{"time":"2024-01-15T10:00:03Z","level":"WARN","msg":"long","component":"webhook","body":%q}`+"\n",
		strings.Repeat("x", 200<<10))
	var run strings.Builder // entries well before the --since below
	for i := range sinceStopRun + 200 {
		run.WriteString(at(0, i%60, fmt.Sprintf("old-%d", i), "server"))
	}
	var shortRun strings.Builder // too short to stop the scan alone
	for i := range sinceStopRun / 2 {
		shortRun.WriteString(at(0, i%60, fmt.Sprintf("older-%d", i), "server"))
	}
	fixtures := []struct {
		name  string
		files []string
	}{
		{"every generation, with blank lines, junk and half lines", []string{
			line(30, "INFO", "webhook", "edr", "c1") + "\n" + "not json\n" + line(31, "DEBUG", "server", "", "c2") +
				`{"time":"2024-01-15T10:00:32Z","msg":"being wri`,
			line(20, "WARN", "webhook", "email-gateway", "b1") + "null\n" + line(21, "INFO", "admin", "", "b2") + `{"time":"cra`,
			line(10, "ERROR", "webhook", "edr", "a1") + long + "  " + strings.TrimSuffix(line(11, "INFO", "triage", "", "a2"), "\n") + " \r\n",
			line(1, "INFO", "server", "", "z1") + line(2, "WARN", "webhook", "edr", "z2"),
			line(0, "INFO", "server", "", "not kept"),
		}},
		{"the current file ends without a newline", []string{
			line(30, "INFO", "webhook", "", "c1") + strings.TrimSuffix(line(31, "INFO", "webhook", "", "c2"), "\n"),
			line(20, "INFO", "server", "", "b1"),
		}},
		{"the current file is missing", []string{"-", line(20, "INFO", "webhook", "", "b1"), "-", line(1, "INFO", "webhook", "", "z1")}},
		{"the current file is empty", []string{"", line(20, "INFO", "webhook", "", "b1")}},
		{"a clock stepped back: a run well before --since stops the scan", []string{
			at(21, 0, "lost", "webhook") + run.String() + at(20, 30, "new", "webhook"),
			at(20, 10, "lost too", "webhook"),
		}},
		{"the run that stops the scan spans two files", []string{
			shortRun.String() + at(21, 0, "new2", "webhook"),
			at(20, 10, "lost", "webhook") + shortRun.String(),
			at(20, 0, "lost too", "webhook"),
		}},
		{"runs too short to stop the scan", []string{
			shortRun.String() + at(21, 0, "new2", "webhook"),
			at(20, 10, "kept", "webhook") + shortRun.String() + at(19, 0, "new1", "webhook"),
		}},
	}
	filters := []Filter{
		{},
		{Component: "webhook"},
		{Source: "edr"},
		{MinLevel: level(slog.LevelWarn)},
		{Component: "WEBHOOK", MinLevel: level(slog.LevelInfo)},
		{Since: time.Date(2024, 1, 15, 10, 0, 11, 0, time.UTC)},
		{Since: time.Date(2024, 1, 15, 10, 20, 0, 0, time.UTC)},
		{Since: time.Date(2024, 1, 15, 10, 20, 0, 0, time.UTC), Component: "webhook"},
		{Since: time.Date(2024, 1, 15, 11, 0, 0, 0, time.UTC)},
		{Until: time.Date(2024, 1, 15, 10, 0, 21, 0, time.UTC)},
		{Since: time.Date(2024, 1, 15, 10, 0, 2, 0, time.UTC), Until: time.Date(2024, 1, 15, 10, 0, 31, 0, time.UTC), Component: "webhook"},
	}
	for _, fx := range fixtures {
		path := writeGenerations(t, fx.files...)
		for _, f := range filters {
			name := fmt.Sprintf("%s, filter %+v", fx.name, f)
			want, wantPos, wantErr := TailFrom(path, 0, f)
			got, gotPos, err := streamAll(path, f)
			if err != nil || wantErr != nil {
				t.Fatalf("%s: Stream: %v, TailFrom: %v", name, err, wantErr)
			}
			if !slices.EqualFunc(got, want, func(a, b Entry) bool { return bytes.Equal(a.Raw, b.Raw) }) {
				t.Errorf("%s:\nStream   %.300s\nTailFrom %.300s", name, msgs(got), msgs(want))
			}
			if gotPos.Offset != wantPos.Offset || (gotPos.file == nil) != (wantPos.file == nil) ||
				gotPos.file != nil && !os.SameFile(gotPos.file, wantPos.file) {
				t.Errorf("%s: position %d in %v, TailFrom's %d in %v", name, gotPos.Offset, gotPos.file, wantPos.Offset, wantPos.file)
			}
		}
	}
	// The premises: the fixtures cover entries after --since that TailFrom
	// does not reach, and a half line the position stops before.
	path := writeGenerations(t, fixtures[4].files...)
	if got, _, _ := streamAll(path, filters[6]); msgs(got) != "new" {
		t.Errorf("a clock stepped back: %s, want new", msgs(got))
	}
	path = writeGenerations(t, fixtures[0].files...)
	if _, pos, _ := streamAll(path, Filter{}); pos.Offset != int64(len(fixtures[0].files[0])-len(`{"time":"2024-01-15T10:00:32Z","msg":"being wri`)) {
		t.Errorf("position %d: not before the half line", pos.Offset)
	}
}

// Rotated while the files are opened, the same file under two names is
// read once; with no file at all, the error is the missing current file.
func TestStreamAsTailFromOnOddFiles(t *testing.T) {
	path := writeGenerations(t, "-", "-", line(1, "INFO", "webhook", "", "a1")+line(2, "INFO", "server", "", "a2"))
	if err := os.Link(generation(path, 2), path); err != nil {
		t.Skipf("no hard links here: %v", err)
	}
	if got, _, err := streamAll(path, Filter{}); err != nil || msgs(got) != "a1,a2" {
		t.Errorf("same file twice: %s, %v", msgs(got), err)
	}
	os.Remove(path)
	os.Remove(generation(path, 2))
	_, _, wantErr := TailFrom(path, 0, Filter{})
	if _, _, err := streamAll(path, Filter{}); !errors.Is(err, os.ErrNotExist) || err.Error() != wantErr.Error() {
		t.Errorf("no file: %v, want %v", err, wantErr)
	}
}

// --since bounds what Stream reads, as it does TailFrom's reading: older
// files are not opened (here one that cannot be read).
func TestStreamSinceStopsReading(t *testing.T) {
	var b strings.Builder
	for i := range sinceStopRun {
		b.WriteString(at(0, i%60, "old", ""))
	}
	b.WriteString(at(20, 0, "new1", ""))
	b.WriteString(at(1, 0, "stray", "")) // a clock stepped back, briefly
	b.WriteString(at(20, 30, "new2", ""))
	path := writeLog(t, b.String())
	if err := os.Mkdir(generation(path, 1), 0o700); err != nil {
		t.Fatal(err)
	}
	es, _, err := streamAll(path, Filter{Since: time.Date(2024, 1, 15, 10, 20, 0, 0, time.UTC)})
	if err != nil || msgs(es) != "new1,new2" {
		t.Fatalf("stream since = %q, %v", msgs(es), err)
	}
	if _, _, err := streamAll(path, Filter{}); err == nil {
		t.Fatal("without --since the unreadable older file is read: the test's premise is wrong")
	}
}

// Stream passes each entry as it reads it: what is in the files when fn
// runs decides what comes next, so it has read no more than a buffer
// ahead, and the log is never in memory whole. Here fn empties every
// file at its first call; a Stream that read first and called fn after
// would pass all the entries.
func TestStreamCallsFnAsItReads(t *testing.T) {
	var rotated strings.Builder
	const total = 20_000
	for i := range total {
		fmt.Fprintf(&rotated, `{"time":"2024-01-15T10:00:00Z","level":"INFO","msg":"m%05d"}`+"\n", i)
	}
	lineLen := len(rotated.String()) / total
	path := writeGenerations(t, line(1, "INFO", "", "", "current"), rotated.String())
	var got []Entry
	_, err := Stream(path, Filter{}, func(e Entry) error {
		if len(got) == 0 {
			for _, name := range []string{path, generation(path, 1)} {
				if err := os.Truncate(name, 0); err != nil {
					t.Fatal(err)
				}
			}
		}
		got = append(got, e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 || got[0].Msg != "m00000" {
		t.Fatalf("first entry %s, want m00000", msgs(got[:min(len(got), 1)]))
	}
	if max := 64<<10/lineLen + 1; len(got) > max {
		t.Errorf("%d entries of %d passed after the files were emptied: read more than a buffer (%d) ahead", len(got), total, max)
	}
	if slices.ContainsFunc(got, func(e Entry) bool { return e.Msg == "current" }) {
		t.Error("the current file was read before the rotated one was passed")
	}
}

// An error from fn stops the stream and is returned.
func TestStreamStopsOnCallbackError(t *testing.T) {
	path := writeGenerations(t, line(3, "INFO", "", "", "c1"), line(1, "INFO", "", "", "b1")+line(2, "INFO", "", "", "b2"))
	stop := errors.New("stdout closed")
	n := 0
	_, err := Stream(path, Filter{}, func(Entry) error {
		n++
		return stop
	})
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("err %v after %d calls, want %v after 1", err, n, stop)
	}
}

// scanLines yields what splitting on newlines yields, for lines shorter
// and longer than its buffer, and reads a buffer at most before the first.
func TestScanLines(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	tests := []string{
		"",
		"\n",
		"a",
		"a\nb\n",
		"a\n\nb",
		"\r\n a \r\n",
		long(64<<10-1) + "\n" + long(64<<10) + "\n" + long(64<<10+1) + "\nend",
		"short\n" + long(300<<10) + "\nshort\n" + long(200<<10),
		long(1 << 20),
	}
	for _, in := range tests {
		var got []string
		err := scanLines(strings.NewReader(in), func(line []byte) error {
			got = append(got, string(line))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if want := strings.Split(in, "\n"); !slices.Equal(got, want) {
			t.Errorf("%.20q…: %d lines, want %d (or different)", in, len(got), len(want))
		}
	}

	var b bytes.Buffer
	for i := range 200_000 {
		fmt.Fprintf(&b, `{"time":"2024-01-15T10:00:00Z","level":"INFO","msg":"m%d"}`+"\n", i)
	}
	src := &readCounter{r: bytes.NewReader(b.Bytes())}
	stop := errors.New("stop")
	n := 0
	err := scanLines(io.NewSectionReader(src, 0, int64(b.Len())), func([]byte) error {
		if n++; n == 100 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Errorf("err = %v, want fn's", err)
	}
	if src.n > 64<<10 {
		t.Errorf("read %d bytes of %d for 100 lines", src.n, b.Len())
	}
}
