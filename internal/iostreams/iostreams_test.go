package iostreams

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

func TestProgressOnlyOnATerminal(t *testing.T) {
	ios, _, _, errOut := Test()
	ios.Progress("Fetching %s…", "agents")
	ios.StopProgress()
	if errOut.Len() != 0 {
		t.Fatalf("progress written to a pipe: %q", errOut.String())
	}
	ios.SetStderrTTY(true)
	ios.Progress("page %d", 2)
	ios.StopProgress()
	if got := errOut.String(); got != "\r\x1b[Kpage 2\r\x1b[K" {
		t.Fatalf("terminal progress = %q", got)
	}
}

func TestOutputFilter(t *testing.T) {
	ios, _, out, _ := Test()
	ios.SetOutputFilter(func(w io.Writer, data []byte) error {
		_, err := io.WriteString(w, strings.ToUpper(string(data)))
		return err
	})
	io.WriteString(ios.Out, "hello ")
	io.WriteString(ios.Out, "world\n")
	if out.Len() != 0 {
		t.Fatal("filtered output reached stdout before Flush")
	}
	if err := ios.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := ios.Flush(); err != nil { // a second flush writes nothing more
		t.Fatal(err)
	}
	if out.String() != "HELLO WORLD\n" {
		t.Fatalf("stdout = %q", out.String())
	}
	if ios.Out != out {
		t.Fatal("Flush did not restore stdout")
	}
	var nothing bytes.Buffer
	plain, _, _, _ := Test()
	plain.Out = &nothing
	if err := plain.Flush(); err != nil || nothing.Len() != 0 {
		t.Fatal("Flush without a filter must do nothing")
	}
}
