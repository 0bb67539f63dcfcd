// Package jsonstr writes JSON string literals exactly as encoding/json or
// log/slog do. The two differ only in which ASCII bytes they escape and
// how, so one loop serves both, driven by a per-mode table: neither mode
// pays for the other's rules.
package jsonstr

import "unicode/utf8"

// An escape table maps each byte to what follows the backslash of its
// escape, or to 0 for a byte copied as it is. Bytes from 0x80 up map to
// utf8Byte so that the one lookup of the hot loop also sends them to the
// UTF-8 branch.
type escapes [256]byte

const (
	// hexEscape asks for \u00XX.
	hexEscape = 'u'
	utf8Byte  = 1
)

// marshalEscapes is json.Marshal's (HTML escaping on): \b \f \n \r \t get
// their short forms, other control characters and < > & become \u00XX.
var marshalEscapes = newEscapes(`<>&`, "\b\f\n\r\t", "bfnrt")

// slogEscapes is slog's JSONHandler's: its copy of encoding/json's
// escaper predates the \b and \f short forms and leaves HTML alone.
var slogEscapes = newEscapes(``, "\n\r\t", "nrt")

func newEscapes(html, short, letters string) (t escapes) {
	for b := 0; b < ' '; b++ {
		t[b] = hexEscape
	}
	for i := 0; i < len(short); i++ {
		t[short[i]] = letters[i]
	}
	t['"'], t['\\'] = '"', '\\'
	for i := 0; i < len(html); i++ {
		t[html[i]] = hexEscape
	}
	for b := utf8.RuneSelf; b < 256; b++ {
		t[b] = utf8Byte
	}
	return t
}

// AppendMarshal appends s quoted as json.Marshal writes it.
func AppendMarshal(dst []byte, s string) []byte { return appendQuoted(dst, s, &marshalEscapes) }

// AppendSlog appends s quoted as slog's JSONHandler writes it.
func AppendSlog(dst []byte, s string) []byte { return appendQuoted(dst, s, &slogEscapes) }

const hex = "0123456789abcdef"

// appendQuoted also does what both modes share: each byte of invalid UTF-8
// becomes \ufffd, and U+2028 and U+2029 are escaped for JSONP's sake.
func appendQuoted(dst []byte, s string, t *escapes) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; ; {
		// The scan is a loop of its own, free of appends, so that it
		// compiles to a few instructions with nothing spilled: most
		// strings are one run of bytes that need no escape.
		rest := s[i:]
		n := 0
		for n < len(rest) && t[rest[n]] == 0 {
			n++
		}
		i += n
		if i == len(s) {
			break
		}
		b := s[i]
		if e := t[b]; e != utf8Byte {
			dst = append(dst, s[start:i]...)
			if e == hexEscape {
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			} else {
				dst = append(dst, '\\', e)
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
