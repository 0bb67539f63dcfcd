// Package iostreams carries a command's standard streams and what is known
// about them (TTY or not, colour), so commands never touch os.Stdout.
package iostreams

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/mattn/go-isatty"
	"golang.org/x/term"
)

// IOStreams are the streams a command reads and writes.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	stdinTTY  bool
	stdoutTTY bool
	stderrTTY bool
	colorOff  bool

	// width is stdout's width in columns, 0 when unknown.
	width func() int

	filter    func(io.Writer, []byte) error
	filterOut io.Writer
	filterBuf *bytes.Buffer
}

// System returns streams bound to the process's stdin, stdout and stderr.
func System() *IOStreams {
	_, noColor := os.LookupEnv("NO_COLOR")
	return &IOStreams{
		In:        os.Stdin,
		Out:       os.Stdout,
		ErrOut:    os.Stderr,
		stdinTTY:  isTerminal(os.Stdin),
		stdoutTTY: isTerminal(os.Stdout),
		stderrTTY: isTerminal(os.Stderr),
		colorOff:  noColor,
		width:     systemWidth,
	}
}

// systemWidth is COLUMNS when set, as shells export it and as a user
// narrows output with it, else the terminal's own width.
func systemWidth() int {
	if c, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && c > 0 {
		return c
	}
	if w, _, err := term.GetSize(int(os.Stdout.Fd())); err == nil && w > 0 {
		return w
	}
	return 0
}

func isTerminal(f *os.File) bool {
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}

// Test returns streams backed by buffers: stdin, stdout, stderr.
func Test() (*IOStreams, *bytes.Buffer, *bytes.Buffer, *bytes.Buffer) {
	in, out, errOut := &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut, colorOff: true}, in, out, errOut
}

// TerminalWidth is the width of the terminal stdout is, in columns; 0
// when it is no terminal or the width is unknown.
func (s *IOStreams) TerminalWidth() int {
	if !s.stdoutTTY || s.width == nil {
		return 0
	}
	return s.width()
}

// SetTerminalWidth overrides the terminal's width (tests).
func (s *IOStreams) SetTerminalWidth(n int) { s.width = func() int { return n } }

// IsStdoutTTY reports whether stdout is a terminal (tables, humanized times).
func (s *IOStreams) IsStdoutTTY() bool { return s.stdoutTTY }

// IsStdinTTY reports whether stdin is a terminal (prompts are allowed).
func (s *IOStreams) IsStdinTTY() bool { return s.stdinTTY }

// IsStderrTTY reports whether stderr is a terminal (progress indicators).
func (s *IOStreams) IsStderrTTY() bool { return s.stderrTTY }

// CanPrompt reports whether the user can answer a question.
func (s *IOStreams) CanPrompt() bool { return s.stdinTTY && s.stdoutTTY }

// ColorEnabled reports whether colour may be used on stdout.
func (s *IOStreams) ColorEnabled() bool { return s.stdoutTTY && !s.colorOff }

// SetStdoutTTY overrides TTY detection (tests).
func (s *IOStreams) SetStdoutTTY(v bool) { s.stdoutTTY = v }

// SetStdinTTY overrides TTY detection (tests).
func (s *IOStreams) SetStdinTTY(v bool) { s.stdinTTY = v }

// SetStderrTTY overrides TTY detection (tests).
func (s *IOStreams) SetStderrTTY(v bool) { s.stderrTTY = v }

// SetOutputFilter sends everything written to Out through fn when Flush is
// called, instead of straight to the terminal: --jq needs the whole output.
func (s *IOStreams) SetOutputFilter(fn func(w io.Writer, data []byte) error) {
	s.filter = fn
	s.filterOut = s.Out
	s.filterBuf = &bytes.Buffer{}
	s.Out = s.filterBuf
}

// Flush writes filtered output, if a filter was set. It is safe to call
// more than once.
func (s *IOStreams) Flush() error {
	if s.filter == nil {
		return nil
	}
	fn, buf, out := s.filter, s.filterBuf, s.filterOut
	s.filter, s.Out = nil, out
	if buf.Len() == 0 {
		return nil
	}
	return fn(out, buf.Bytes())
}

// Progress writes a one-line status to stderr, rewritten in place, only
// when stderr is a terminal: piped and CI output stays clean.
func (s *IOStreams) Progress(format string, args ...any) {
	if s.stderrTTY {
		fmt.Fprintf(s.ErrOut, "\r\x1b[K"+format, args...)
	}
}

// StopProgress erases the status line before data is written, since stdout
// and stderr usually share the terminal.
func (s *IOStreams) StopProgress() {
	if s.stderrTTY {
		fmt.Fprint(s.ErrOut, "\r\x1b[K")
	}
}
