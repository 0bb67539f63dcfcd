package output

import (
	"bytes"
	"testing"
)

// String results print raw, like `jq -r`, except that on a terminal their
// control characters are shown.
func TestJQStringsOnATerminal(t *testing.T) {
	jq, err := CompileJQ(`.[].title`)
	if err != nil {
		t.Fatal(err)
	}
	data := []byte(`[{"title":"\u001b]0;owned\u0007red"},{"title":"plain"}]`)
	for terminal, want := range map[bool]string{
		false: "\x1b]0;owned\x07red\nplain\n",
		true:  "^[]0;owned^Gred\nplain\n",
	} {
		jq.Terminal = terminal
		var out bytes.Buffer
		if err := jq.Apply(&out, data); err != nil || out.String() != want {
			t.Errorf("terminal %v: %q, %v; want %q", terminal, out.String(), err, want)
		}
	}
}

// Integers past int64 come out as they went in.
func TestJQKeepsBigIntegersExact(t *testing.T) {
	jq, err := CompileJQ(`.u, .n, .f, (.u + 1)`)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := jq.Apply(&out, []byte(`{"u":18446744073709551615,"n":-12345678901234567890123,"f":1.5}`)); err != nil {
		t.Fatal(err)
	}
	if want := "18446744073709551615\n-12345678901234567890123\n1.5\n18446744073709551616\n"; out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}
