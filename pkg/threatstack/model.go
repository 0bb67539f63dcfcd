package threatstack

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

// Time is a timestamp as the API writes it. Threat Stack is not consistent:
// v2 resources use ISO 8601 strings (with or without a zone), webhook-era
// fields use epoch milliseconds, sometimes quoted. Time accepts all of them.
type Time struct{ time.Time }

// isoLayouts are tried in order; the zone-less ones are UTC, which is what
// the public scripts send (Python's datetime.utcnow().isoformat()).
var isoLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02",
}

// epochMillisThreshold separates epoch seconds from epoch milliseconds: as
// milliseconds it is March 1973, as seconds the year 5138.
const epochMillisThreshold = 100_000_000_000

// UnmarshalJSON accepts an ISO 8601 string, epoch milliseconds (or seconds)
// as a number or a numeric string, or null.
func (t *Time) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		*t = Time{}
		return nil
	}
	s := string(b)
	if b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
		if s == "" {
			*t = Time{}
			return nil
		}
	}
	// ErrRange still means "a number": 1e400 is out of range, not a date.
	if n, err := strconv.ParseFloat(s, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		*t = epochTime(n)
		return nil
	}
	for _, layout := range isoLayouts {
		if parsed, err := time.Parse(layout, s); err == nil {
			t.Time = parsed
			return nil
		}
	}
	return errors.New("threatstack: unrecognised timestamp " + strconv.Quote(s))
}

// maxEpochMillis is the last millisecond of year 9999.
const maxEpochMillis = 253_402_300_799_999

// epochTime reads epoch milliseconds, or seconds below
// epochMillisThreshold. Zero, negative, non-finite and post-9999 values are
// no instant the API means, and converting them would overflow int64 or
// print as 1970: they read as the zero Time, unknown, as in pkg/payload.
func epochTime(n float64) Time {
	if math.IsNaN(n) || n <= 0 {
		return Time{}
	}
	if n < epochMillisThreshold {
		n *= 1000
	}
	if n > maxEpochMillis {
		return Time{}
	}
	return Time{time.UnixMilli(int64(n)).UTC()}
}

// MarshalJSON writes RFC 3339 (null for the zero time).
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(t.UTC().Format(time.RFC3339Nano))
}

// StringList is a list of strings the API sometimes sends as one string.
type StringList []string

// UnmarshalJSON accepts a string, an array of strings or null.
func (l *StringList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		if one == "" {
			*l = nil
		} else {
			*l = StringList{one}
		}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*l = many
	return nil
}

// fieldMap binds JSON keys to the typed fields of a resource. A key may
// list alternatives separated by "|": the first one present wins.
type fieldMap map[string]any

// decodeLenient fills the typed fields of a resource from its JSON object
// and keeps the object verbatim in *raw.
//
// The v2 schema is known only from public scripts and integrations, so a
// field of an unexpected type must not make a whole listing fail: it stays
// zero in the typed view, and -o json still prints it from raw. Scalars the
// API sends quoted ("1", "true") are accepted for int and bool fields.
func decodeLenient(b []byte, raw *json.RawMessage, fields fieldMap) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		return err
	}
	*raw = append(json.RawMessage(nil), b...)
	for keys, dst := range fields {
		for _, k := range strings.Split(keys, "|") {
			v, ok := obj[k]
			if !ok || string(v) == "null" {
				continue
			}
			decodeField(v, dst)
			break
		}
	}
	return nil
}

func decodeField(v json.RawMessage, dst any) {
	if json.Unmarshal(v, dst) == nil {
		return
	}
	var s string
	switch d := dst.(type) {
	case *int:
		if json.Unmarshal(v, &s) == nil {
			if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
				*d = n
			}
		}
	case *bool:
		if json.Unmarshal(v, &s) == nil {
			if b, err := strconv.ParseBool(strings.TrimSpace(s)); err == nil {
				*d = b
			}
		}
	case *string:
		// Ids and versions sometimes arrive as bare numbers.
		var n json.Number
		if json.Unmarshal(v, &n) == nil {
			*d = n.String()
		}
	}
}

// rawOr returns raw when the value came from the API, so that fields this
// package does not model survive into -o json; otherwise it marshals typed.
func rawOr(raw json.RawMessage, typed any) ([]byte, error) {
	if raw != nil {
		return raw, nil
	}
	return json.Marshal(typed)
}
