package jsonstr

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"
)

// slogQuoted is s as slog's JSONHandler writes it, cut out of the line it
// writes for a message s.
func slogQuoted(t testing.TB, s string) []byte {
	var buf bytes.Buffer
	h := slog.NewJSONHandler(&buf, nil)
	if err := h.Handle(context.Background(), slog.NewRecord(time.Time{}, slog.LevelInfo, s, 0)); err != nil {
		t.Fatal(err)
	}
	line := buf.Bytes()
	const prefix, suffix = `{"level":"INFO","msg":`, "}\n"
	if !bytes.HasPrefix(line, []byte(prefix)) || !bytes.HasSuffix(line, []byte(suffix)) {
		t.Fatalf("unexpected slog line %q", line)
	}
	return line[len(prefix) : len(line)-len(suffix)]
}

func marshalQuoted(t testing.TB, s string) []byte {
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testStrings covers each single byte, each byte between others, and each
// rune up to U+3000 (U+2028 and U+2029 among them) next to a stray
// continuation byte and a truncated sequence, so that both tables and the
// UTF-8 branch are checked exhaustively.
func testStrings() []string {
	var out []string
	for b := 0; b < 256; b++ {
		out = append(out, string([]byte{byte(b)}), "x"+string([]byte{byte(b)})+"y")
	}
	for r := rune(0x80); r < 0x3000; r++ {
		out = append(out, string(r)+"\x80"+string(r)[:len(string(r))-1])
	}
	return append(out, "", "plain ascii", `a"b\c</script>&`, "héllo wörld ✓ 😀")
}

func TestAppendMarshal(t *testing.T) {
	for _, s := range testStrings() {
		if got, want := AppendMarshal(nil, s), marshalQuoted(t, s); !bytes.Equal(got, want) {
			t.Errorf("%q: got %s, want %s", s, got, want)
		}
	}
}

func TestAppendSlog(t *testing.T) {
	for _, s := range testStrings() {
		if got, want := AppendSlog(nil, s), slogQuoted(t, s); !bytes.Equal(got, want) {
			t.Errorf("%q: got %s, want %s", s, got, want)
		}
	}
}

// TestAppendKeepsDst guards the append contract: earlier bytes stay.
func TestAppendKeepsDst(t *testing.T) {
	if got := string(AppendSlog([]byte("k:"), "a\tb")); got != `k:"a\tb"` {
		t.Errorf("got %s", got)
	}
	if got := string(AppendMarshal([]byte("k:"), "<\f>")); got != `k:"\u003c\f\u003e"` {
		t.Errorf("got %s", got)
	}
}

func FuzzAppend(f *testing.F) {
	for _, s := range []string{"", "a\"b\\c", "\x00\x1f\x7f", "<>&", "\u2028\u2029", "\xff\xfe", "é✓😀", "\b\f\n\r\t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := AppendMarshal(nil, s), marshalQuoted(t, s); !bytes.Equal(got, want) {
			t.Errorf("AppendMarshal(%q) = %s, want %s", s, got, want)
		}
		if got, want := AppendSlog(nil, s), slogQuoted(t, s); !bytes.Equal(got, want) {
			t.Errorf("AppendSlog(%q) = %s, want %s", s, got, want)
		}
	})
}
