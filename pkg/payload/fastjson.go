package payload

import (
	"encoding/json"
	"unicode/utf16"
	"unicode/utf8"
)

// fastDecodeObject decodes a JSON object into what
// json.Decoder.UseNumber would give: map[string]any of string, bool, nil,
// json.Number, []any and map[string]any. It reads the body once, where
// encoding/json scans it twice and copies it, which was a tenth of a
// delivery's CPU time in the receiver.
//
// ok is false on anything it does not accept, valid or not; the caller
// then asks encoding/json, which also words the error. So this decoder
// only has to be right when it says ok, and FuzzFastDecode checks that it
// agrees with encoding/json whenever it does.
func fastDecodeObject(body []byte) (doc map[string]any, ok bool) {
	d := fastDecoder{buf: body, str: string(body)}
	d.skipSpace()
	if d.pos >= len(d.buf) || d.buf[d.pos] != '{' {
		return nil, false
	}
	v, ok := d.value(0)
	if !ok {
		return nil, false
	}
	d.skipSpace()
	if d.pos != len(d.buf) {
		return nil, false
	}
	return v.(map[string]any), true
}

// fastMaxDepth bounds nesting, far below encoding/json's 10000 so that
// nothing near its limit is decided here: deeper bodies go to it.
const fastMaxDepth = 512

type fastDecoder struct {
	buf []byte
	// str is buf as one string: strings without escapes are slices of it,
	// one allocation for the whole body instead of one per key and value.
	str string
	pos int
}

func (d *fastDecoder) skipSpace() {
	for d.pos < len(d.buf) {
		switch d.buf[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// value reads any value; depth counts the containers around it.
func (d *fastDecoder) value(depth int) (any, bool) {
	d.skipSpace()
	if d.pos >= len(d.buf) {
		return nil, false
	}
	switch c := d.buf[d.pos]; {
	case (c == '{' || c == '[') && depth >= fastMaxDepth:
		return nil, false
	case c == '{':
		return d.object(depth + 1)
	case c == '[':
		return d.array(depth + 1)
	case c == '"':
		return d.string()
	case c == '-' || '0' <= c && c <= '9':
		return d.number()
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	}
	return nil, false
}

func (d *fastDecoder) literal(word string) bool {
	if len(d.buf)-d.pos < len(word) || string(d.buf[d.pos:d.pos+len(word)]) != word {
		return false
	}
	d.pos += len(word)
	return true
}

func (d *fastDecoder) object(depth int) (any, bool) {
	d.pos++ // {
	m := map[string]any{}
	d.skipSpace()
	if d.pos < len(d.buf) && d.buf[d.pos] == '}' {
		d.pos++
		return m, true
	}
	for {
		d.skipSpace()
		if d.pos >= len(d.buf) || d.buf[d.pos] != '"' {
			return nil, false
		}
		k, ok := d.string()
		if !ok {
			return nil, false
		}
		d.skipSpace()
		if d.pos >= len(d.buf) || d.buf[d.pos] != ':' {
			return nil, false
		}
		d.pos++
		v, ok := d.value(depth)
		if !ok {
			return nil, false
		}
		m[k.(string)] = v // a repeated key keeps its last value, as in encoding/json
		if closed, ok := d.afterElement('}'); !ok || closed {
			return m, ok
		}
	}
}

// afterElement reads the ',' or the closing byte after a member of an
// object or array: closed reports the end, ok false anything else.
func (d *fastDecoder) afterElement(closing byte) (closed, ok bool) {
	d.skipSpace()
	if d.pos >= len(d.buf) {
		return false, false
	}
	switch d.buf[d.pos] {
	case ',':
		d.pos++
		return false, true
	case closing:
		d.pos++
		return true, true
	}
	return false, false
}

func (d *fastDecoder) array(depth int) (any, bool) {
	d.pos++ // [
	a := []any{}
	d.skipSpace()
	if d.pos < len(d.buf) && d.buf[d.pos] == ']' {
		d.pos++
		return a, true
	}
	for {
		v, ok := d.value(depth)
		if !ok {
			return nil, false
		}
		a = append(a, v)
		if closed, ok := d.afterElement(']'); !ok || closed {
			return a, ok
		}
	}
}

// string reads a string at a '"'. Plain ASCII without escapes, the
// common case, is one slice; anything else is decoded byte by byte with
// encoding/json's rules: invalid UTF-8 and lone surrogates become U+FFFD.
func (d *fastDecoder) string() (any, bool) {
	start := d.pos + 1
	i := start
	for i < len(d.buf) {
		c := d.buf[i]
		if c == '"' {
			d.pos = i + 1
			return d.str[start:i], true
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
		i++
	}
	out := make([]byte, 0, i-start+16)
	out = append(out, d.buf[start:i]...)
	for i < len(d.buf) {
		c := d.buf[i]
		switch {
		case c == '"':
			d.pos = i + 1
			return string(out), true
		case c < 0x20:
			return nil, false
		case c == '\\':
			if i+1 >= len(d.buf) {
				return nil, false
			}
			switch e := d.buf[i+1]; e {
			case '"', '\\', '/':
				out = append(out, e)
				i += 2
			case 'b':
				out, i = append(out, '\b'), i+2
			case 'f':
				out, i = append(out, '\f'), i+2
			case 'n':
				out, i = append(out, '\n'), i+2
			case 'r':
				out, i = append(out, '\r'), i+2
			case 't':
				out, i = append(out, '\t'), i+2
			case 'u':
				r, ok := hex4(d.buf, i+2)
				if !ok {
					return nil, false
				}
				i += 6
				if utf16.IsSurrogate(r) {
					r2, ok2 := rune(0), false
					if i+1 < len(d.buf) && d.buf[i] == '\\' && d.buf[i+1] == 'u' {
						r2, ok2 = hex4(d.buf, i+2)
					}
					if dec := utf16.DecodeRune(r, r2); ok2 && dec != utf8.RuneError {
						r = dec
						i += 6
					} else {
						r = utf8.RuneError
					}
				}
				out = utf8.AppendRune(out, r)
			default:
				return nil, false
			}
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, size := utf8.DecodeRune(d.buf[i:])
			if r == utf8.RuneError && size == 1 {
				out = utf8.AppendRune(out, utf8.RuneError)
			} else {
				out = append(out, d.buf[i:i+size]...)
			}
			i += size
		}
	}
	return nil, false
}

func hex4(b []byte, at int) (rune, bool) {
	if at+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[at : at+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// number reads a number with JSON's grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *fastDecoder) number() (any, bool) {
	start := d.pos
	i := d.pos
	if d.buf[i] == '-' {
		i++
	}
	digits := func() bool {
		from := i
		for i < len(d.buf) && '0' <= d.buf[i] && d.buf[i] <= '9' {
			i++
		}
		return i > from
	}
	switch {
	case i < len(d.buf) && d.buf[i] == '0':
		i++
	case !digits():
		return nil, false
	}
	if i < len(d.buf) && d.buf[i] == '.' {
		i++
		if !digits() {
			return nil, false
		}
	}
	if i < len(d.buf) && (d.buf[i] == 'e' || d.buf[i] == 'E') {
		i++
		if i < len(d.buf) && (d.buf[i] == '+' || d.buf[i] == '-') {
			i++
		}
		if !digits() {
			return nil, false
		}
	}
	d.pos = i
	return json.Number(d.buf[start:i]), true
}
