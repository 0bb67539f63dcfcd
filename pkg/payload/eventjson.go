package payload

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/tw-cli/tw-cli/internal/jsonstr"
)

// AppendJSON appends ev's JSON encoding to dst; the bytes are exactly
// json.Marshal(ev)'s. The receiver encodes every event it stores, and
// encoding/json's reflection was a visible share of its CPU; this writes
// the same bytes without reflection and, for a nil dst, usually in one
// allocation.
//
// It fails only where json.Marshal fails: when OccurredAt cannot be written
// as RFC 3339 (a year outside [0,9999], or a zone offset of a day or more).
// The error is then json.Marshal's own, and dst comes back unchanged.
//
// Exactness rests on Event, Entities, Severity and Action having no
// MarshalJSON or MarshalText methods and on the field list below matching
// the struct tags; TestEventJSONNoMarshalers and TestEventAppendJSONEachField
// fail when either stops being true.
func (ev *Event) AppendJSON(dst []byte) ([]byte, error) {
	n0 := len(dst)
	dst = slices.Grow(dst, ev.jsonSizeHint())
	dst = appendJSONString(append(dst, `{"format":`...), ev.Format)
	dst = appendOptString(dst, `,"type":`, ev.Type)
	dst = appendOptString(dst, `,"external_id":`, ev.ExternalID)
	dst = appendJSONString(append(dst, `,"title":`...), ev.Title)
	dst = appendOptString(dst, `,"description":`, ev.Description)
	dst = appendJSONString(append(dst, `,"severity":`...), string(ev.Severity))
	dst = appendOptString(dst, `,"vendor_severity":`, ev.VendorSeverity)
	dst = appendOptString(dst, `,"vendor_status":`, ev.VendorStatus)
	dst = appendOptString(dst, `,"category":`, ev.Category)
	dst = appendOptString(dst, `,"source":`, ev.Source)
	// omitzero goes by time.Time's IsZero method, so a zero instant in some
	// location other than UTC is omitted as well.
	if !ev.OccurredAt.IsZero() {
		var ok bool
		if dst, ok = appendJSONTime(append(dst, `,"occurred_at":`...), ev.OccurredAt); !ok {
			// Rare enough to pay for reflection: it yields json.Marshal's
			// exact error, and its exact bytes should the check above ever
			// be stricter than time.Time.MarshalJSON. A copy goes, not ev,
			// so that ev does not escape and a caller's Event can stay on
			// its stack.
			b, err := json.Marshal(*ev)
			if err != nil {
				return dst[:n0], err
			}
			return append(dst[:n0], b...), nil
		}
	}
	dst = appendOptString(dst, `,"link":`, ev.Link)
	dst = append(dst, `,"entities":{`...)
	e := &ev.Entities
	dst = appendOptStrings(dst, `,"hosts":`, e.Hosts)
	dst = appendOptStrings(dst, `,"users":`, e.Users)
	dst = appendOptString(dst, `,"sender":`, e.Sender)
	dst = appendOptStrings(dst, `,"recipients":`, e.Recipients)
	dst = appendOptStrings(dst, `,"file_hashes":`, e.FileHashes)
	dst = appendOptStrings(dst, `,"ips":`, e.IPs)
	dst = appendOptStrings(dst, `,"urls":`, e.URLs)
	dst = appendOptStrings(dst, `,"domains":`, e.Domains)
	dst = appendOptStrings(dst, `,"emails":`, e.Emails)
	dst = appendOptStrings(dst, `,"files":`, e.Files)
	dst = appendOptStrings(dst, `,"command_lines":`, e.CommandLines)
	dst = appendJSONString(append(dst, `},"action":`...), string(ev.Action))
	dst = appendOptString(dst, `,"correlation_key":`, ev.CorrelationKey)
	return append(dst, '}'), nil
}

// jsonSizeHint bounds AppendJSON's output from above when no string needs
// escaping (every key is counted as long as the longest), so that encoding
// into a nil slice allocates once; escapes cost at most a regrowth.
func (ev *Event) jsonSizeHint() int {
	n := len(`{"format":"","title":"","severity":"","entities":{},"action":""}`) +
		len(ev.Format) + len(ev.Title) + len(ev.Severity) + len(ev.Action)
	for _, s := range [...]string{ev.Type, ev.ExternalID, ev.Description, ev.VendorSeverity,
		ev.VendorStatus, ev.Category, ev.Source, ev.Link, ev.CorrelationKey, ev.Entities.Sender} {
		if s != "" {
			n += len(`,"vendor_severity":""`) + len(s) // the longest key
		}
	}
	if !ev.OccurredAt.IsZero() {
		n += len(`,"occurred_at":""`) + len(time.RFC3339Nano)
	}
	e := &ev.Entities
	for _, l := range [...][]string{e.Hosts, e.Users, e.Recipients, e.FileHashes, e.IPs,
		e.URLs, e.Domains, e.Emails, e.Files, e.CommandLines} {
		if len(l) > 0 {
			n += len(`,"command_lines":[]`) // the longest key
			for _, s := range l {
				n += len(`"",`) + len(s)
			}
		}
	}
	return n
}

// appendKey writes key, which starts with a comma, dropping the comma when
// the field opens an object: every field of Entities may be omitted, so any
// of them can be the first one written.
func appendKey(dst []byte, key string) []byte {
	if dst[len(dst)-1] == '{' {
		key = key[1:]
	}
	return append(dst, key...)
}

// appendOptString writes an omitempty string field.
func appendOptString(dst []byte, key, s string) []byte {
	if s == "" {
		return dst
	}
	return appendJSONString(appendKey(dst, key), s)
}

// appendOptStrings writes an omitempty []string field: omitempty drops an
// empty slice as well as a nil one.
func appendOptStrings(dst []byte, key string, l []string) []byte {
	if len(l) == 0 {
		return dst
	}
	dst = appendKey(dst, key)
	for i, s := range l {
		if i == 0 {
			dst = append(dst, '[')
		} else {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, s)
	}
	return append(dst, ']')
}

// appendJSONTime writes t as time.Time.MarshalJSON does, quotes included.
// ok is false where MarshalJSON would fail; the checks are those of the
// time package's appendStrictRFC3339, applied to the same RFC3339Nano text.
func appendJSONTime(dst []byte, t time.Time) (_ []byte, ok bool) {
	dst = append(dst, '"')
	n0 := len(dst)
	dst = t.AppendFormat(dst, time.RFC3339Nano)
	b := dst[n0:]
	if b[len("9999")] != '-' { // a year of other than 4 digits, or negative
		return dst, false
	}
	if b[len(b)-1] != 'Z' {
		// The offset is ±hh:mm; an offset of 100 hours or more makes the
		// hour three digits wide, pushing a digit where the sign belongs.
		c := b[len(b)-len("Z07:00")]
		h := b[len(b)-len("07:00"):]
		if '0' <= c && c <= '9' || 10*(h[0]-'0')+(h[1]-'0') >= 24 {
			return dst, false
		}
	}
	return append(dst, '"'), true
}

// appendJSONString writes s as json.Marshal does, HTML escaping included;
// the escaper is shared with the receiver's log handler, which needs
// log/slog's variant of the same rules.
func appendJSONString(dst []byte, s string) []byte { return jsonstr.AppendMarshal(dst, s) }
