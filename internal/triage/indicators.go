package triage

import (
	"net/mail"
	"net/netip"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/tw-cli/tw-cli/internal/store"
	"github.com/tw-cli/tw-cli/pkg/payload"
)

// The patterns compile on first use: every command starts this package,
// and only triage runs them.
var (
	urlRE  = lazyRE(`(?i)\bhttps?://[^\s"'<>()\[\]{}]+`)
	ipv4RE = lazyRE(`\b(?:\d{1,3}\.){3}\d{1,3}\b`)
	ipv6RE = lazyRE(`(?i)\b[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}\b`)
	hashRE = lazyRE(`(?i)\b(?:[0-9a-f]{128}|[0-9a-f]{64}|[0-9a-f]{40}|[0-9a-f]{32})\b`)
	// hashKeyRE picks the raw fields whose hex values are file hashes;
	// vendors also send 32-hex ids (Canary's IncidentHash, Falcon's
	// detect ids) that must not be read as MD5s.
	hashKeyRE = lazyRE(`(?i)md5|sha1|sha-1|sha256|sha-256|sha512|filehash|file_hash|hash_value|^hash$|hashes`)
	// refangMarks and refangScheme undo the defanging analysts and
	// vendors apply to links: the brackets first, so that
	// "hxxps[:]//evil[.]com" becomes a scheme hxxpsRE then recognises.
	refangMarks  = strings.NewReplacer("[.]", ".", "(.)", ".", "[://]", "://", "[:]", ":", "[/]", "/")
	refangScheme = lazyRE(`(?i)\bh(?:xx|tt)p(s?)://`)
)

func lazyRE(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}

// refang returns s with its defanged links made whole again.
func refang(s string) string {
	return refangScheme().ReplaceAllString(refangMarks.Replace(s), "http$1://")
}

// maxPerKind bounds each kind of indicator one event yields: a body of a
// megabyte of links held 60,000 of them, took 80 s of CPU to collect, and
// would have gone into every notification. Past it the rest are dropped;
// the body itself is stored whole.
const maxPerKind = 500

// Extract pulls indicators out of an event's entities and, with scanRaw,
// out of every string in the delivery body.
func Extract(ev payload.Event, raw []byte, scanRaw bool) store.Indicators {
	x := &extractor{}
	e := ev.Entities
	for _, u := range e.URLs {
		x.url(u)
	}
	for _, d := range e.Domains {
		x.domain(d)
	}
	for _, ip := range e.IPs {
		x.ip(ip)
	}
	for _, h := range e.FileHashes {
		x.hash(h)
	}
	if dom := senderDomain(e.Sender); dom != "" {
		x.domain(dom)
	}
	// The console link (ev.Link) is the vendor's own page, not an
	// indicator, so only the description's text is read.
	x.text(ev.Description, false)
	if scanRaw {
		walk(RawVars(raw), "", func(key, s string) { x.text(s, hashKeyRE().MatchString(key)) })
	}
	x.out.URLs = sorted(x.out.URLs)
	x.out.Domains = sorted(x.out.Domains)
	x.out.IPs = sorted(x.out.IPs)
	x.out.Hashes = sorted(x.out.Hashes)
	return x.out
}

func sorted(v []string) []string {
	sort.Strings(v)
	return v
}

// senderDomain is the domain of an email sender, with or without a
// display name ("Phisher <p@evil.com>").
func senderDomain(sender string) string {
	addr := sender
	if a, err := mail.ParseAddress(sender); err == nil {
		addr = a.Address
	}
	_, dom, ok := strings.Cut(addr, "@")
	if !ok {
		return ""
	}
	return strings.Trim(dom, "<>[] ")
}

type extractor struct {
	out  store.Indicators
	seen map[string]bool // kind + value
}

// add appends v to list unless it is there or list is full.
func (x *extractor) add(list *[]string, kind, v string) {
	if v == "" || len(*list) >= maxPerKind || x.seen[kind+v] {
		return
	}
	if x.seen == nil {
		x.seen = map[string]bool{}
	}
	x.seen[kind+v] = true
	*list = append(*list, v)
}

func (x *extractor) text(s string, hashField bool) {
	if s == "" {
		return
	}
	s = refang(s)
	for _, u := range urlRE().FindAllString(s, -1) {
		x.url(u)
	}
	for _, ip := range ipv4RE().FindAllString(s, -1) {
		x.ip(ip)
	}
	if strings.Count(s, ":") >= 2 {
		for _, ip := range ipv6RE().FindAllString(s, -1) {
			x.ip(ip)
		}
	}
	if hashField {
		for _, h := range hashRE().FindAllString(s, -1) {
			x.hash(h)
		}
	}
}

func (x *extractor) url(u string) {
	u = strings.TrimRight(refang(strings.TrimSpace(u)), ".,;:!?")
	p, err := url.Parse(u)
	if err != nil || p.Host == "" || (p.Scheme != "http" && p.Scheme != "https") {
		return
	}
	x.add(&x.out.URLs, "u", u)
	host := p.Hostname()
	if _, err := netip.ParseAddr(host); err == nil {
		x.ip(host)
	} else {
		x.domain(host)
	}
}

func (x *extractor) domain(d string) {
	d = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(refang(d))), ".")
	if !strings.Contains(d, ".") || strings.ContainsAny(d, " /@:<>[]()") {
		return
	}
	if _, err := netip.ParseAddr(d); err == nil {
		x.ip(d) // an address given as a domain
		return
	}
	x.add(&x.out.Domains, "d", d)
}

func (x *extractor) ip(s string) {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil || a.IsUnspecified() || a.IsLoopback() {
		return
	}
	x.add(&x.out.IPs, "i", a.String())
}

func (x *extractor) hash(h string) {
	h = strings.ToLower(strings.TrimSpace(h))
	// Falcon fills absent hashes with zeros.
	if !hashRE().MatchString(h) || strings.Trim(h, "0") == "" {
		return
	}
	x.add(&x.out.Hashes, "h", h)
}

// walk calls fn with each string in a decoded JSON value and the key it
// sits under (the parent's key for list items).
func walk(v any, key string, fn func(key, s string)) {
	switch t := v.(type) {
	case map[string]any:
		for k, c := range t {
			walk(c, k, fn)
		}
	case []any:
		for _, c := range t {
			walk(c, key, fn)
		}
	case string:
		fn(key, t)
	}
}
