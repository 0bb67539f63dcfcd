package receiver

import (
	"net/http"
	"net/netip"
	"strings"
)

// clientAddr is the address a delivery came from: the connection's peer,
// or, when the peer is a trusted proxy, the nearest address in
// X-Forwarded-For that is not one. X-Forwarded-For is read from the
// right: each trusted proxy appended the address it saw, and anything left
// of the first untrusted hop could have been written by the sender. An
// unreadable entry from a trusted chain gives the zero Addr, which no
// allow list contains.
func (r *Receiver) clientAddr(req *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(req.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	addr := ap.Addr().Unmap()
	if !r.trustedProxy(addr) {
		return addr
	}
	hops := req.Header.Values("X-Forwarded-For")
	for i := len(hops) - 1; i >= 0; i-- {
		parts := strings.Split(hops[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			a, err := netip.ParseAddr(strings.TrimSpace(parts[j]))
			if err != nil {
				return netip.Addr{}
			}
			addr = a.Unmap()
			if !r.trustedProxy(addr) {
				return addr
			}
		}
	}
	return addr
}

func (r *Receiver) trustedProxy(a netip.Addr) bool { return allowed(r.proxies, a) }

// allowed reports whether a is in one of the networks.
func allowed(networks []netip.Prefix, a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	for _, p := range networks {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func describeAddr(a netip.Addr) string {
	if !a.IsValid() {
		return "an unknown address"
	}
	return a.String()
}
