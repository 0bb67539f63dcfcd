package logs

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// generations returns the log's files that exist, oldest first.
func generations(t *testing.T, path string) []string {
	t.Helper()
	var names []string
	for k := 0; ; k++ {
		if _, err := os.Stat(generation(path, k)); err != nil {
			break
		}
		names = append(names, generation(path, k))
	}
	slices.Reverse(names)
	return names
}

// Lines logged from many goroutines while the file rotates again and again
// all arrive, whole, once each and in each goroutine's order across the
// files; every file is 0600 and not much past the limit.
func TestRotationKeepsEveryLineUnderConcurrentWrites(t *testing.T) {
	dir := t.TempDir()
	const limit = 8 << 10
	log, closer, err := open(dir, nil, slog.LevelInfo, limit, 1000)
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 16, 300
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				log.Info("delivery accepted", "component", ComponentWebhook, "w", w, "i", i)
			}
		})
	}
	wg.Wait()
	if err := closer.Close(); err != nil {
		t.Fatal(err)
	}

	files := generations(t, Path(dir))
	if len(files) < 3 {
		t.Fatalf("%d files: the log did not rotate", len(files))
	}
	next := make([]int, writers)
	for _, name := range files {
		st, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", name, st.Mode().Perm())
		}
		// One batch of the line writer may go past the limit.
		if st.Size() > limit+maxPendingBytes+1024 {
			t.Errorf("%s: %d bytes", name, st.Size())
		}
		data, _ := os.ReadFile(name)
		if len(data) == 0 {
			continue
		}
		if data[len(data)-1] != '\n' {
			t.Fatalf("%s ends mid-line", name)
		}
		for ln := range strings.Lines(string(data)) {
			e, err := ParseLine([]byte(ln))
			if err != nil {
				t.Fatalf("%s: line %q: %v", name, ln, err)
			}
			w, i := int(e.Attrs["w"].(float64)), int(e.Attrs["i"].(float64))
			if i != next[w] {
				t.Fatalf("%s: writer %d line %d, want line %d", name, w, i, next[w])
			}
			next[w]++
		}
	}
	for w, n := range next {
		if n != each {
			t.Errorf("writer %d: %d lines, want %d", w, n, each)
		}
	}
}

// Only keptFiles rotated files stay, and Tail reads across them, in order.
func TestRotationKeepsAFewFiles(t *testing.T) {
	dir := t.TempDir()
	path := Path(dir)
	os.MkdirAll(filepath.Dir(path), 0o700)
	// Written directly, a line a write: the lineWriter would gather them
	// into a varying number of writes.
	r, err := openRotating(path, 1<<10, keptFiles)
	if err != nil {
		t.Fatal(err)
	}
	const total = 500
	for i := range total {
		if _, err := r.Write([]byte(line(0, "INFO", "", "", fmt.Sprintf("m%d", i)))); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(generations(t, path)); n != keptFiles+1 {
		t.Fatalf("%d files, want %d", n, keptFiles+1)
	}
	if _, err := os.Stat(generation(path, keptFiles+1)); err == nil {
		t.Fatalf("%s kept", generation(path, keptFiles+1))
	}
	all, err := Tail(path, 0, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < 20 {
		t.Fatalf("%d entries in all the files", len(all))
	}
	first := total - len(all)
	for j, e := range all {
		if want := fmt.Sprintf("m%d", first+j); e.Msg != want {
			t.Fatalf("entry %d is %s, want %s", j, e.Msg, want)
		}
	}
}

// A log cut mid-line by a crash gets its newline back, so the first line
// of the next run is not glued to the half line and lost with it; a whole
// log is left as it is.
func TestOpenEndsAHalfWrittenLine(t *testing.T) {
	whole := line(1, "INFO", "server", "", "old")
	half := `{"time":"2024-01-15T10:00:02Z","level":"INFO","msg":"cut sh`
	tests := []struct {
		name, before, kept, want string
	}{
		{"no file", "", "", "new run"},
		{"empty file", "\x00", "", "new run"}, // "\x00": create the file empty
		{"whole lines", whole, whole, "old,new run"},
		{"half a line", whole + half, whole + half + "\n", "old,new run"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := Path(dir)
			if tt.before != "" {
				os.MkdirAll(filepath.Dir(path), 0o700)
				if err := os.WriteFile(path, []byte(strings.Trim(tt.before, "\x00")), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			log, closer, err := Open(dir, nil, slog.LevelInfo)
			if err != nil {
				t.Fatal(err)
			}
			log.Info("new run")
			if err := closer.Close(); err != nil {
				t.Fatal(err)
			}
			data, _ := os.ReadFile(path)
			rest, ok := strings.CutPrefix(string(data), tt.kept)
			if !ok || !strings.HasPrefix(rest, `{"time":`) || strings.Count(rest, "\n") != 1 {
				t.Fatalf("file = %q", data)
			}
			es, err := Tail(path, 0, Filter{})
			if err != nil || msgs(es) != tt.want {
				t.Fatalf("Tail = %s, %v; want %s", msgs(es), err, tt.want)
			}
		})
	}
}

// readCounter counts the bytes read through it.
type readCounter struct {
	r io.ReaderAt
	n int64
}

func (c *readCounter) ReadAt(p []byte, off int64) (int, error) {
	c.n += int64(len(p))
	return c.r.ReadAt(p, off)
}

// scanLinesBackward yields what splitting on newlines yields, in reverse,
// for lines shorter and longer than its chunk, and reads no more than it
// needs.
func TestScanLinesBackward(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	tests := []string{
		"",
		"\n",
		"a",
		"a\nb\n",
		"a\n\nb",
		long(64<<10-1) + "\n" + long(64<<10) + "\n" + long(64<<10+1) + "\nend",
		"short\n" + long(300<<10) + "\nshort\n",
		long(1 << 20),
	}
	for _, in := range tests {
		var got []string
		err := scanLinesBackward(strings.NewReader(in), int64(len(in)), func(line []byte) bool {
			got = append(got, string(line))
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
		want := strings.Split(in, "\n")
		slices.Reverse(want)
		if !slices.Equal(got, want) {
			t.Errorf("%.20q…: %d lines, want %d (or different)", in, len(got), len(want))
		}
	}

	var b bytes.Buffer
	for i := range 200_000 {
		fmt.Fprintf(&b, `{"time":"2024-01-15T10:00:00Z","level":"INFO","msg":"m%d"}`+"\n", i)
	}
	src := &readCounter{r: bytes.NewReader(b.Bytes())}
	n := 0
	scanLinesBackward(src, int64(b.Len()), func([]byte) bool { n++; return n < 100 })
	if src.n > 64<<10 {
		t.Errorf("read %d bytes of %d for 100 lines", src.n, b.Len())
	}
}

// Tail reads the rotated files when the current one holds fewer entries
// than asked for; a half line at the end of the current file is left to
// Follow, one in a rotated file (a crash) is skipped.
func TestTailAcrossGenerations(t *testing.T) {
	path := writeLog(t, line(5, "INFO", "webhook", "", "c1")+`{"time":"2024-01-15T10:00:06Z","msg":"being wri`)
	os.WriteFile(generation(path, 1), []byte(line(3, "INFO", "webhook", "", "b1")+line(4, "INFO", "server", "", "b2")+`{"time":"cra`), 0o600)
	os.WriteFile(generation(path, 2), []byte(line(1, "INFO", "webhook", "", "a1")+line(2, "INFO", "server", "", "a2")), 0o600)
	os.WriteFile(generation(path, keptFiles+1), []byte(line(0, "INFO", "server", "", "not kept")), 0o600)
	tests := []struct {
		name   string
		n      int
		filter Filter
		want   string
	}{
		{"current only", 1, Filter{}, "c1"},
		{"into .1", 3, Filter{}, "b1,b2,c1"},
		{"into .2", 4, Filter{}, "a2,b1,b2,c1"},
		{"all", 0, Filter{}, "a1,a2,b1,b2,c1"},
		{"more than there are", 100, Filter{}, "a1,a2,b1,b2,c1"},
		{"filtered", 2, Filter{Component: "server"}, "a2,b2"},
		{"since", 0, Filter{Since: time.Date(2024, 1, 15, 10, 0, 2, 0, time.UTC)}, "a2,b1,b2,c1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, pos, err := TailFrom(path, tt.n, tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			if msgs(got) != tt.want {
				t.Errorf("Tail = %s, want %s", msgs(got), tt.want)
			}
			if want := int64(len(line(5, "INFO", "webhook", "", "c1"))); pos.Offset != want {
				t.Errorf("offset %d, want %d", pos.Offset, want)
			}
		})
	}

	// Caught between a rotation's rename and create: the current file is
	// missing, the rotated ones are read.
	os.Rename(path, path+".moved")
	if got, err := Tail(path, 2, Filter{}); err != nil || msgs(got) != "b1,b2" {
		t.Errorf("without the current file: %s, %v", msgs(got), err)
	}
	// Rotated while being read: the same file under two names is read once.
	os.Remove(generation(path, 1))
	os.Link(generation(path, 2), path)
	if got, err := Tail(path, 0, Filter{}); err != nil || msgs(got) != "a1,a2" {
		t.Errorf("same file twice: %s, %v", msgs(got), err)
	}
}

// Follow reads everything the writer logs while it rotates its file many
// times.
func TestFollowWhileTheWriterRotates(t *testing.T) {
	dir := t.TempDir()
	log, closer, err := open(dir, nil, slog.LevelInfo, 2<<10, keptFiles)
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	_, pos, err := TailFrom(Path(dir), 0, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	fl := follow(t, Path(dir), pos, Filter{})
	const total = 400
	go func() {
		for i := range total {
			log.Info(fmt.Sprintf("m%d", i))
			time.Sleep(200 * time.Microsecond)
		}
	}()
	for i := range total {
		fl.expect(t, fmt.Sprintf("m%d", i))
	}
	fl.expectNothing(t)
	if n := len(generations(t, Path(dir))); n < 3 {
		t.Fatalf("%d files: the log did not rotate", n)
	}
}

// Two rotations between polls: Follow finishes the file it had, then reads
// the one after it (now .1), then the current one.
func TestFollowSeveralRotationsBetweenPolls(t *testing.T) {
	path := writeLog(t, line(1, "INFO", "", "", "a1"))
	_, pos, _ := TailFrom(path, 0, Filter{})
	fl := startFollower(t, path, pos, Filter{}, 50*time.Millisecond)
	fl.expectNothing(t)
	appendTo(t, path, line(2, "INFO", "", "", "a2"))
	os.Rename(path, generation(path, 1))
	appendTo(t, path, line(3, "INFO", "", "", "b1"))
	os.Rename(generation(path, 1), generation(path, 2))
	os.Rename(path, generation(path, 1))
	appendTo(t, path, line(4, "INFO", "", "", "c1"))
	fl.expect(t, "a2", "b1", "c1")
	appendTo(t, path, line(5, "INFO", "", "", "c2"))
	fl.expect(t, "c2")
	fl.expectNothing(t)
}

// The file tailed is rotated before Follow starts: Follow finds it as .1,
// reads on from the tail's offset, then the new file.
func TestFollowFromATailTakenBeforeARotation(t *testing.T) {
	path := writeLog(t, line(1, "INFO", "", "", "a1"))
	_, pos, _ := TailFrom(path, 0, Filter{})
	appendTo(t, path, line(2, "INFO", "", "", "a2"))
	os.Rename(path, generation(path, 1))
	appendTo(t, path, line(3, "INFO", "", "", "b1"))
	fl := follow(t, path, pos, Filter{})
	fl.expect(t, "a2", "b1")
	fl.expectNothing(t)

	// Gone altogether (not a rotation Follow knows): the current file is
	// read from its start.
	path = writeLog(t, line(1, "INFO", "", "", "x1"))
	_, pos, _ = TailFrom(path, 0, Filter{})
	// Created before the old one is removed, or it may get its inode.
	appendTo(t, path+".new", line(2, "INFO", "", "", "y1"))
	os.Rename(path+".new", path)
	fl = follow(t, path, pos, Filter{})
	fl.expect(t, "y1")
	fl.expectNothing(t)
}

// logrotate moves the log away and sends SIGHUP: lines then go to a new
// file at the log's path, where `tw-cli logs` reads, and not on into the
// moved one, which nothing would ever rotate again.
func TestReopenAfterTheLogWasMoved(t *testing.T) {
	dir := t.TempDir()
	log, closer, err := open(dir, nil, slog.LevelInfo, 1<<20, keptFiles)
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	path := Path(dir)
	// Writes go through a lineWriter: wait until a line has reached the file.
	waitForText := func(file, text string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			b, _ := os.ReadFile(file)
			if strings.Contains(string(b), text) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s never held %q:\n%s", file, text, b)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	log.Info("before the move")
	waitForText(path, "before the move")
	if err := os.Rename(path, path+"-20261202"); err != nil {
		t.Fatal(err)
	}
	r, ok := closer.(Reopener)
	if !ok {
		t.Fatal("the closer Open returns cannot reopen")
	}
	if err := r.Reopen(); err != nil {
		t.Fatal(err)
	}
	log.Info("after the move")
	waitForText(path, "after the move")
	if b, _ := os.ReadFile(path + "-20261202"); strings.Contains(string(b), "after the move") {
		t.Fatal("a line went on into the moved file")
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("new log file: %v, %v", st, err)
	}
	// Reopening while the file is in place changes nothing.
	if err := r.Reopen(); err != nil {
		t.Fatal(err)
	}
	log.Info("still here")
	waitForText(path, "still here")
}

// Moved away without a SIGHUP, the log starts again at its path at the
// next rotation instead of retrying the rename (of a file no longer
// there) every megabyte for ever.
func TestRotationAfterTheLogWasMoved(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tw-cli.log")
	r, err := openRotating(path, 64, keptFiles)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := os.Rename(path, path+"-moved"); err != nil {
		t.Fatal(err)
	}
	line := []byte(strings.Repeat("x", 99) + "\n")
	if _, err := r.Write(line); err != nil { // past 64 bytes: rotates
		t.Fatal(err)
	}
	if _, err := r.Write([]byte("next\n")); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "next\n" {
		t.Fatalf("log at its path after the rotation: %q, %v", b, err)
	}
}
