package httpapi

import (
	"net/http"
	"net/netip"
	"strings"
)

// clientAddress is the caller's address: the peer's, or, when the peer is
// a trusted proxy, the one its X-Forwarded-For names (see forwardedClient).
func (s *Server) clientAddress(r *http.Request) string {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return forwardedClient(peer.Addr(), r.Header.Values("X-Forwarded-For"), s.proxies).String()
}

// forwardedClient returns the client's address for a request from peer
// carrying the X-Forwarded-For lines forwarded (several lines are one
// list, in order).
//
// Each proxy appends the address it was reached from, so only the right
// end of the list was written by proxies; the left end is whatever the
// client sent. The walk therefore starts at the peer and goes right to
// left for as long as the hop is a trusted proxy: the first address that
// is not one is the client. A peer that is not trusted is the client
// itself, whatever the header says.
//
// An entry that is not an address (garbage, "unknown", an address with a
// zone) ends the walk, and the last trusted hop (the peer, when it is the
// rightmost entry) is taken as the client: no trusted proxy writes such an
// entry, so nothing left of it can be vouched for, and the hop that
// passed it on is the nearest address that can. When every entry is a
// trusted proxy, the leftmost is the client. Empty list elements are
// skipped, as RFC 9110 §5.6.1 asks of recipients.
func forwardedClient(peer netip.Addr, forwarded []string, trusted []netip.Prefix) netip.Addr {
	client := peer.Unmap()
	if !isTrusted(client, trusted) {
		return client
	}
	var hops []string
	for _, line := range forwarded {
		hops = append(hops, strings.Split(line, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		h := strings.TrimSpace(hops[i])
		if h == "" {
			continue
		}
		a, ok := parseHop(h)
		if !ok {
			return client
		}
		client = a
		if !isTrusted(a, trusted) {
			return client
		}
	}
	return client
}

// parseHop parses one X-Forwarded-For entry: an IPv4 or IPv6 address,
// optionally with a port ("192.0.2.1:8080", "[2001:db8::1]:443") or in
// brackets ("[2001:db8::1]"). IPv4-mapped IPv6 addresses become IPv4.
func parseHop(h string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(h)
	if err != nil {
		if ap, perr := netip.ParseAddrPort(h); perr == nil {
			a, err = ap.Addr(), nil
		} else if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
			a, err = netip.ParseAddr(h[1 : len(h)-1])
			if err == nil && !a.Is6() {
				err = perr // "[192.0.2.1]" is not a form anyone writes
			}
		}
	}
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// isTrusted reports whether a is inside one of the trusted prefixes.
func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
