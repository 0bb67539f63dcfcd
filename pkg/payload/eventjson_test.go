package payload

import (
	"bytes"
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// checkAppendJSON fails unless AppendJSON gives json.Marshal's bytes, or
// its error, both into a nil slice and after existing bytes.
func checkAppendJSON(t *testing.T, ev *Event) {
	t.Helper()
	want, wantErr := json.Marshal(ev)
	got, err := ev.AppendJSON(nil)
	if (err != nil) != (wantErr != nil) || err != nil && err.Error() != wantErr.Error() {
		t.Fatalf("AppendJSON error %v, json.Marshal error %v\nevent: %#v", err, wantErr, ev)
	}
	if wantErr != nil {
		if len(got) != 0 {
			t.Fatalf("AppendJSON(nil) returned %q with error %v", got, err)
		}
	} else if !bytes.Equal(got, want) {
		t.Fatalf("AppendJSON differs from json.Marshal\n got: %s\nwant: %s\nevent: %#v", got, want, ev)
	}

	prefix := []byte("prefix")
	got, err = ev.AppendJSON(prefix[:len(prefix):len(prefix)])
	if wantErr == nil {
		want = append([]byte("prefix"), want...)
	} else {
		want = prefix
	}
	if (err != nil) != (wantErr != nil) || !bytes.Equal(got, want) {
		t.Fatalf("AppendJSON(%q) = %q, %v; want %q", prefix, got, err, want)
	}
}

func TestEventAppendJSONFixtures(t *testing.T) {
	n := 0
	for _, fx := range fixtures(t) {
		for _, format := range []string{fx.format, FormatAuto} {
			res, err := Parse(format, fx.body)
			if err != nil {
				t.Fatalf("%s: %v", fx.path, err)
			}
			// The receiver encodes events after applying a source's
			// severity mapping; one that changes them all is included.
			mapped := append([]Event(nil), res.Events...)
			ApplySeverityMapping(mapped, map[string]string{"info": "low", "low": "medium", "medium": "high", "high": "critical"})
			for i := range res.Events {
				t.Run(fx.format+"/"+fx.name, func(t *testing.T) {
					checkAppendJSON(t, &res.Events[i])
					checkAppendJSON(t, &mapped[i])
				})
				n++
			}
		}
	}
	t.Logf("%d fixture events", n)
}

// trickyStrings are the cases where encoding/json's string escaping does
// more than copy bytes.
var trickyStrings = []string{
	"",
	"plain ascii",
	`"quoted" and \back\slashed\`,
	`<script>alert("x")</script> & friends`,
	"a\u2028b\u2029c",
	"\u2027\u202a",           // neighbours of the JSONP separators
	"\xff",                   // invalid byte alone
	"ab\xffcd\xfe\xfd",       // invalid bytes among valid ones
	"\xe2\x80",               // truncated U+2028
	"\xe2\x80\xa8\xe2\x80",   // U+2028 then a truncated one
	"\xc0\x80",               // overlong NUL
	"\xed\xa0\x80",           // UTF-16 surrogate half
	"\xf4\x90\x80\x80",       // above U+10FFFF
	"\U0010ffff\ufffd\ufeff", // valid edge runes, a real U+FFFD, a BOM
	"\x00\x01\x07\x08\x09\x0a\x0b\x0c\x0d\x1b\x1f\x20\x7f", // controls, space, DEL
	"\b\f\n\r\t",
	"Grüße, 日本語, emoji 🎉, Ωmega",
	"é" + "\u0301",                   // combining mark
	strings.Repeat("long <&> ", 200), // past any small buffer
	"\\u2028 is not U+2028",
	"trailing backslash\\",
}

// allStrings returns an event whose every string and every []string holds s.
// It is built by reflection so that a field added to Event or Entities is
// filled too, and a missing case in AppendJSON shows up as a mismatch.
func allStrings(s string, l []string) Event {
	var ev Event
	var fill func(v reflect.Value)
	fill = func(v reflect.Value) {
		for i := 0; i < v.NumField(); i++ {
			f := v.Field(i)
			switch {
			case f.Kind() == reflect.String:
				f.SetString(s)
			case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.String:
				f.Set(reflect.ValueOf(l).Convert(f.Type()))
			case f.Kind() == reflect.Struct && f.Type() != reflect.TypeFor[time.Time]():
				fill(f)
			}
		}
	}
	fill(reflect.ValueOf(&ev).Elem())
	return ev
}

func TestEventAppendJSONStrings(t *testing.T) {
	at := time.Date(2024, 2, 29, 23, 59, 59, 120000000, time.UTC)
	for _, s := range trickyStrings {
		for _, l := range [][]string{nil, {}, {s}, {s, "", s + s}} {
			ev := allStrings(s, l)
			checkAppendJSON(t, &ev)
			ev.OccurredAt = at
			checkAppendJSON(t, &ev)
		}
	}
}

// TestEventJSONEscapingEveryByte covers each single byte and each
// two-byte prefix of a multi-byte sequence, so that the ASCII table and the
// UTF-8 branch are checked against encoding/json exhaustively.
func TestEventJSONEscapingEveryByte(t *testing.T) {
	for b := 0; b < 256; b++ {
		for _, s := range []string{string([]byte{byte(b)}), "x" + string([]byte{byte(b)}) + "y"} {
			want, _ := json.Marshal(s)
			if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
				t.Errorf("byte %#x: got %s, want %s", b, got, want)
			}
		}
	}
	for r := rune(0x80); r < 0x3000; r++ {
		s := string(r) + "\x80" + string(r)[:len(string(r))-1]
		want, _ := json.Marshal(s)
		if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("rune %U: got %s, want %s", r, got, want)
		}
	}
}

// TestEventAppendJSONEachField sets one field at a time, so that a field
// written under the wrong key, in the wrong place or with the wrong
// omission rule cannot hide behind the others.
func TestEventAppendJSONEachField(t *testing.T) {
	ev := new(Event)
	var walk func(v reflect.Value, path string)
	walk = func(v reflect.Value, path string) {
		for i := 0; i < v.NumField(); i++ {
			f, name := v.Field(i), path+v.Type().Field(i).Name
			if !v.Type().Field(i).IsExported() {
				t.Errorf("%s: unexported fields are not expected", name)
				continue
			}
			switch {
			case f.Kind() == reflect.String:
				f.SetString("v<" + name + ">")
			case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.String:
				f.Set(reflect.ValueOf([]string{name, "b"}).Convert(f.Type()))
			case f.Type() == reflect.TypeFor[time.Time]():
				f.Set(reflect.ValueOf(time.Date(2001, 2, 3, 4, 5, 6, 7, time.FixedZone("", -3600))))
			case f.Kind() == reflect.Struct:
				walk(f, name+".")
				continue
			default:
				t.Errorf("%s: type %s is not handled by this test (nor, probably, by AppendJSON)", name, f.Type())
				continue
			}
			t.Run(name, func(t *testing.T) { checkAppendJSON(t, ev) })
			f.SetZero()
		}
	}
	walk(reflect.ValueOf(ev).Elem(), "")
}

// TestEventJSONNoMarshalers guards AppendJSON's premise: encoding/json
// would call a MarshalJSON or MarshalText method that AppendJSON ignores.
func TestEventJSONNoMarshalers(t *testing.T) {
	for _, typ := range []reflect.Type{
		reflect.TypeFor[Event](), reflect.TypeFor[Entities](),
		reflect.TypeFor[Severity](), reflect.TypeFor[Action](),
	} {
		for _, tt := range []reflect.Type{typ, reflect.PointerTo(typ)} {
			if tt.Implements(reflect.TypeFor[json.Marshaler]()) || tt.Implements(reflect.TypeFor[encoding.TextMarshaler]()) {
				t.Errorf("%s has a MarshalJSON or MarshalText method; AppendJSON must honour it", tt)
			}
		}
	}
}

func TestEventAppendJSONTimes(t *testing.T) {
	loc, err := time.LoadLocation("America/St_Johns") // a half-hour offset
	if err != nil {
		loc = time.FixedZone("NST", -(3*3600 + 1800))
	}
	times := []time.Time{
		{},
		time.Time{}.In(loc), // zero instant elsewhere: IsZero still holds
		time.Unix(0, 0),
		time.Unix(0, 0).UTC(),
		time.Now(), // with a monotonic reading
		time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
		time.Date(2024, 1, 2, 3, 4, 5, 100, time.UTC),
		time.Date(2024, 1, 2, 3, 4, 5, 999999999, loc),
		time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(2024, 6, 1, 0, 0, 0, 0, time.FixedZone("", 23*3600+59*60+59)),
		time.Date(2024, 6, 1, 0, 0, 0, 0, time.FixedZone("", -(23*3600+59*60))),
		time.Date(2024, 6, 1, 0, 0, 0, 0, time.FixedZone("", 59)), // RFC 3339 drops the offset's seconds
		// json.Marshal fails on these.
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(-10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 6, 1, 0, 0, 0, 0, time.FixedZone("", 24*3600)),
		time.Date(2024, 6, 1, 0, 0, 0, 0, time.FixedZone("", -24*3600)),
		time.Date(2024, 6, 1, 0, 0, 0, 0, time.FixedZone("", 100*3600)),
		time.Date(2024, 6, 1, 0, 0, 0, 0, time.FixedZone("", -1000*3600)),
		time.Unix(1<<62, 0),
		time.Unix(-1<<62, 0),
	}
	for _, at := range times {
		ev := Event{Format: "generic", Title: "t", OccurredAt: at}
		checkAppendJSON(t, &ev)
	}
}

// FuzzEventAppendJSON builds an event from fuzzed strings and a fuzzed
// instant and zone, and checks AppendJSON against json.Marshal. Lists are
// split on ',' so that they can be nil, hold empty strings, or several.
// secs shifts the instant far enough to reach years json.Marshal refuses.
func FuzzEventAppendJSON(f *testing.F) {
	f.Add("generic", "Title <b>", "high", "create", "host1,host2", "a\u2028b", int64(1700000000123456789), int64(0), int32(0))
	f.Add("", "", "", "", "", "", int64(0), int64(0), int32(0))
	f.Add("x\xff", "\x00\x1f\"\\", "\u2029", "update", ",", "\xe2\x80", int64(-1), int64(0), int32(-12600))
	f.Add("thehive", "café 日本", "info", "delete", "a,,b", "é\tb\n", int64(0), int64(-62135596800), int32(0)) // zero time.Time
	f.Add("a", "b", "c", "d", "e", "f", int64(5), int64(253402300800), int32(0))                             // year 10000
	f.Add("a", "b", "c", "d", "e", "f", int64(5), int64(0), int32(86400))                                    // offset of a day
	f.Fuzz(func(t *testing.T, format, title, sev, action, list, other string, unixNano, secs int64, zone int32) {
		split := func(s string) []string {
			if s == "" {
				return nil
			}
			return strings.Split(s, ",")
		}
		ev := Event{
			Format:         format,
			Type:           other,
			ExternalID:     list,
			Title:          title,
			Description:    title + other,
			Severity:       Severity(sev),
			VendorSeverity: sev,
			Category:       other,
			Link:           action + title,
			OccurredAt:     time.Unix(secs, unixNano).In(time.FixedZone("", int(zone))),
			Entities: Entities{
				Hosts:        split(list),
				Sender:       other,
				Recipients:   split(other),
				IPs:          split(title),
				CommandLines: split(format),
			},
			Action:         Action(action),
			CorrelationKey: format + sev,
		}
		checkAppendJSON(t, &ev)
	})
}
