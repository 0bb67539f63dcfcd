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
