package sources

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
)

// ThreatStackSenders are the addresses Threat Stack's webhooks come from
// (seed 001). Threat Stack signs nothing, so for its sources the sender's
// address is what can be checked; "threatstack" in an allow list stands
// for these.
var ThreatStackSenders = []string{"52.20.173.142/32", "54.173.79.87/32", "54.174.225.119/32"}

// maxAllowFrom bounds a source's allow list: each delivery is checked
// against every prefix.
const maxAllowFrom = 256

// ParseAllowFrom validates a source's allow list and returns it in its
// stored form: each entry an IP address or CIDR prefix (or "threatstack"),
// written as the masked prefix ("10.1.2.3" → "10.1.2.3/32",
// "10.1.2.3/8" → "10.0.0.0/8"), duplicates dropped, order kept. Entries
// may also be comma-separated, as on the command line.
func ParseAllowFrom(entries []string) ([]string, error) {
	var out []string
	add := func(p netip.Prefix) {
		if s := p.String(); !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for _, entry := range entries {
		for _, e := range strings.Split(entry, ",") {
			e = strings.TrimSpace(e)
			switch {
			case e == "":
				continue
			case strings.EqualFold(e, "threatstack"):
				for _, s := range ThreatStackSenders {
					add(netip.MustParsePrefix(s))
				}
				continue
			}
			p, err := ParseNetwork(e)
			if err != nil {
				return nil, invalid("allow-from %q: give an IP address or a CIDR prefix such as 203.0.113.0/24 (or threatstack)", e)
			}
			add(p)
		}
	}
	if len(out) > maxAllowFrom {
		return nil, invalid("allow-from lists %d networks; at most %d", len(out), maxAllowFrom)
	}
	return out, nil
}

var (
	errZone         = errors.New("an address with a zone is not a network")
	errMappedPrefix = errors.New("an IPv4-mapped prefix shorter than /96 reaches beyond IPv4")
)

// ParseNetwork reads an IP address (a one-address network) or a CIDR
// prefix, masked.
func ParseNetwork(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		if p.Addr().Is4In6() {
			// Senders' addresses are compared unmapped, and an IPv6
			// prefix never contains an IPv4 address: store the IPv4 one.
			if p.Bits() < 96 {
				return netip.Prefix{}, errMappedPrefix
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if a.Zone() != "" {
		return netip.Prefix{}, errZone
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}
