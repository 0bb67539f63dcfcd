package payload

import (
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Vendors change a field's type between versions (a number becomes a
// string, a string becomes a list), so every reader below accepts what it
// can and returns a zero value for the rest instead of failing the parse.

// str renders scalar JSON values as text and ignores objects and arrays, so
// a vendor changing a field's type never fails a parse.
func str(v any) string {
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x)
	case fmt.Stringer: // json.Number
		return x.String()
	case float64:
		return fmt.Sprint(x)
	case bool:
		return fmt.Sprint(x)
	}
	return ""
}

// strs reads a field that is a string or a list of strings.
func strs(v any) []string {
	switch x := v.(type) {
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s := str(e); s != "" {
				out = append(out, s)
			}
		}
		return out
	default:
		if s := str(x); s != "" {
			return []string{s}
		}
	}
	return nil
}

// addressList reads a string or list of addresses, splitting strings on
// the separators mail headers and vendor exports use.
func addressList(v any) []string {
	var out []string
	for _, s := range strs(v) {
		for _, a := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' }) {
			if a = strings.TrimSpace(a); a != "" {
				out = append(out, a)
			}
		}
	}
	return out
}

// obj reads a JSON object field; anything else reads as nil, and indexing a
// nil map is safe, so callers can chain obj(obj(doc, "a"), "b").
func obj(m map[string]any, key string) map[string]any {
	o, _ := m[key].(map[string]any)
	return o
}

// has reports whether key is present at all, even as null: Splunk sends
// "search_name": null, and presence alone identifies the format.
func has(m map[string]any, key string) bool {
	_, ok := m[key]
	return ok
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// floatOf reads a finite number sent as a JSON number or a numeric string.
func floatOf(v any) (float64, bool) {
	s := str(v)
	if s == "" || !floatChars(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// floatChars reports whether s holds only bytes strconv.ParseFloat can
// accept. Every timestamp reaches floatOf first (timeOf), and a failed
// ParseFloat allocates its error: text dates ("2026-12-02T13:09:44Z")
// stop here instead.
func floatChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '.' || c == '+' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// intOf reads a whole number sent as a number or string ("4", "4.0").
func intOf(v any) (int64, bool) {
	f, ok := floatOf(v)
	if !ok || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int64(f), true
}

// timeOf reads a timestamp in any of the shapes the supported vendors
// send: epoch seconds, milliseconds, microseconds or nanoseconds (as a
// number or a string; the magnitude tells the unit, since no sender labels
// it), RFC 3339, or Canary's "2020-07-20 16:26:22 (UTC)". A value it cannot
// read, or one outside years 1970–9999, is the zero time: the receiver then
// falls back to the time of receipt.
func timeOf(v any) time.Time {
	var t time.Time
	if f, ok := floatOf(v); ok {
		t = epoch(f)
	} else {
		t = parseTimeText(str(v))
	}
	if t.IsZero() {
		return t
	}
	t = t.UTC()
	if y := t.Year(); y < 1970 || y > 9999 {
		return time.Time{}
	}
	return t
}

func epoch(f float64) time.Time {
	switch {
	case f <= 0 || f >= math.MaxInt64:
		return time.Time{}
	case f >= 1e17:
		return time.Unix(0, int64(f))
	case f >= 1e14:
		return time.UnixMicro(int64(f))
	case f >= 1e11:
		return time.UnixMilli(int64(math.Round(f)))
	default:
		return time.UnixMilli(int64(math.Round(f * 1000)))
	}
}

// textTimeLayouts are tried in order on timestamps that are not numbers.
var textTimeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700", // Splunk _time without the colon
	"2006-01-02 15:04:05 MST-0700",       // Canary API "_std" fields: "2020-04-08 09:39:02 UTC+0000"
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02T15:04:05", // no zone: vendors that omit it mean UTC
	"2006-01-02 15:04:05",
}

func parseTimeText(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	// Canary writes the zone in parentheses; only UTC and GMT are sent in
	// practice, and any other name would be a guess, so it is not read.
	if rest, ok := strings.CutSuffix(s, ")"); ok {
		i := strings.LastIndex(rest, " (")
		if i < 0 {
			return time.Time{}
		}
		switch zone := rest[i+2:]; zone {
		case "UTC", "GMT":
			s = rest[:i]
		default:
			return time.Time{}
		}
	}
	for _, layout := range textTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

// placeholder values vendors put in fields they have nothing for. It runs
// on every entity of every parse, so it compares by length first and
// never allocates (strings.ToLower would for any upper-case value).
func placeholder(s string) bool {
	switch len(s) {
	case 0:
		return true
	case 1:
		return s == "-"
	case 2:
		return strings.EqualFold(s, "na")
	case 3:
		return strings.EqualFold(s, "n/a")
	case 4:
		return strings.EqualFold(s, "none") || strings.EqualFold(s, "null")
	case 7:
		return strings.EqualFold(s, "unknown")
	}
	// Falcon fills absent hashes with zeros.
	return len(s) >= 32 && strings.Trim(s, "0") == ""
}

// appendUnique appends the values that are neither placeholders nor
// already in list.
func appendUnique(list []string, vs ...string) []string {
	for _, v := range vs {
		v = strings.TrimSpace(v)
		if placeholder(v) {
			continue
		}
		dup := false
		for _, have := range list {
			if have == v {
				dup = true
				break
			}
		}
		if !dup {
			list = append(list, v)
		}
	}
	return list
}

// addHostOrIP files a value that vendors use for either a host name or an
// address (Splunk's host and dest, Threat Stack's server_or_region).
func (e *Entities) addHostOrIP(vs ...string) {
	for _, v := range vs {
		if _, err := netip.ParseAddr(v); err == nil {
			e.IPs = appendUnique(e.IPs, v)
		} else {
			e.Hosts = appendUnique(e.Hosts, v)
		}
	}
}

// addIPs keeps only values that are addresses, since some vendors put
// "N/A" or a host name in an address field.
func (e *Entities) addIPs(vs ...string) {
	for _, v := range vs {
		if isAddr(v) {
			e.IPs = appendUnique(e.IPs, v)
		}
	}
}

// isAddr reports whether v is an IPv4 or IPv6 address.
func isAddr(v string) bool {
	_, err := netip.ParseAddr(v)
	return err == nil
}

var hashPattern = lazyRE(`^(?i:[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64}|[0-9a-f]{128})$`)

// lazyRE compiles expr on first use: every tw-cli command starts this
// package, and only parsing runs its patterns.
func lazyRE(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}

// addHashes keeps only MD5, SHA-1, SHA-256 and SHA-512 hex digests.
func (e *Entities) addHashes(vs ...string) {
	for _, v := range vs {
		if hashPattern().MatchString(v) {
			e.FileHashes = appendUnique(e.FileHashes, strings.ToLower(v))
		}
	}
}

// addIndicator files a typed indicator as TheHive observables and Falcon
// IOCs name them.
func (e *Entities) addIndicator(kind, value string) {
	switch strings.ToLower(kind) {
	case "ip", "ipv4", "ipv6", "ip_address":
		e.addIPs(value)
	case "domain", "fqdn":
		e.Domains = appendUnique(e.Domains, value)
	case "hostname", "host":
		e.Hosts = appendUnique(e.Hosts, value)
	case "url":
		e.URLs = appendUnique(e.URLs, value)
	case "hash", "md5", "sha1", "sha256", "hash_md5", "hash_sha1", "hash_sha256":
		e.addHashes(value)
	case "mail", "email", "mail_address":
		e.Emails = appendUnique(e.Emails, value)
	case "filename", "file_name":
		e.Files = appendUnique(e.Files, value)
	case "user", "username", "user_name", "account":
		e.Users = appendUnique(e.Users, value)
	}
}

// truncate shortens s to at most n runes, for titles built from free text.
func truncate(s string, n int) string {
	if line, _, cut := strings.Cut(s, "\n"); cut {
		s = strings.TrimSpace(line) + " …"
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return strings.TrimSpace(string(r[:n-1])) + "…"
}
