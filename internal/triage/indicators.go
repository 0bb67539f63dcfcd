package triage

import (
	"net/netip"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/tw-cli/tw-cli/internal/store"
	"github.com/tw-cli/tw-cli/pkg/payload"
)

var (
	urlRE  = regexp.MustCompile(`(?i)\bhttps?://[^\s"'<>()\[\]{}]+`)
	ipv4RE = regexp.MustCompile(`\b(?:\d{1,3}\.){3}\d{1,3}\b`)
	ipv6RE = regexp.MustCompile(`(?i)\b[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}\b`)
	hashRE = regexp.MustCompile(`(?i)\b(?:[0-9a-f]{128}|[0-9a-f]{64}|[0-9a-f]{40}|[0-9a-f]{32})\b`)
	// hashKeyRE picks the raw fields whose hex values are file hashes;
	// vendors also send 32-hex ids (Canary's IncidentHash, Falcon's
	// detect ids) that must not be read as MD5s.
	hashKeyRE = regexp.MustCompile(`(?i)md5|sha1|sha-1|sha256|sha-256|sha512|filehash|file_hash|hash_value|^hash$|hashes`)
	// refang undoes the defanging analysts and vendors apply to links.
	refang = strings.NewReplacer("hxxps://", "https://", "hxxp://", "http://", "[.]", ".", "(.)", ".", "[:]", ":", "[://]", "://")
)

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
	if _, dom, ok := strings.Cut(e.Sender, "@"); ok {
		x.domain(dom)
	}
	// The console link (ev.Link) is the vendor's own page, not an
	// indicator, so only the description's text is read.
	x.text(ev.Description, false)
	if scanRaw {
		walk(RawVars(raw), "", func(key, s string) { x.text(s, hashKeyRE.MatchString(key)) })
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

type extractor struct {
	out store.Indicators
}

func (x *extractor) text(s string, hashField bool) {
	if s == "" {
		return
	}
	s = refang.Replace(s)
	for _, u := range urlRE.FindAllString(s, -1) {
		x.url(u)
	}
	for _, ip := range ipv4RE.FindAllString(s, -1) {
		x.ip(ip)
	}
	if strings.Count(s, ":") >= 2 {
		for _, ip := range ipv6RE.FindAllString(s, -1) {
			x.ip(ip)
		}
	}
	if hashField {
		for _, h := range hashRE.FindAllString(s, -1) {
			x.hash(h)
		}
	}
}

func (x *extractor) url(u string) {
	u = strings.TrimRight(refang.Replace(strings.TrimSpace(u)), ".,;:!?")
	p, err := url.Parse(u)
	if err != nil || p.Host == "" || (p.Scheme != "http" && p.Scheme != "https") {
		return
	}
	x.out.URLs = store.Union(x.out.URLs, []string{u})
	host := p.Hostname()
	if _, err := netip.ParseAddr(host); err == nil {
		x.ip(host)
	} else {
		x.domain(host)
	}
}

func (x *extractor) domain(d string) {
	d = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(refang.Replace(d))), ".")
	if !strings.Contains(d, ".") || strings.ContainsAny(d, " /@:") {
		return
	}
	x.out.Domains = store.Union(x.out.Domains, []string{d})
}

func (x *extractor) ip(s string) {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil || a.IsUnspecified() || a.IsLoopback() {
		return
	}
	x.out.IPs = store.Union(x.out.IPs, []string{a.String()})
}

func (x *extractor) hash(h string) {
	h = strings.ToLower(strings.TrimSpace(h))
	// Falcon fills absent hashes with zeros.
	if !hashRE.MatchString(h) || strings.Trim(h, "0") == "" {
		return
	}
	x.out.Hashes = store.Union(x.out.Hashes, []string{h})
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
