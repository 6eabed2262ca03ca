package httpapi

import (
	"net/netip"
	"testing"
)

func TestForwardedClient(t *testing.T) {
	t.Parallel()
	trusted := []netip.Prefix{
		netip.MustParsePrefix("127.0.0.0/8"),
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("fd00::/8"),
	}
	proxy := netip.MustParseAddr("127.0.0.1")
	tests := []struct {
		name      string
		peer      string
		forwarded []string
		want      string
	}{
		{"NoHeader", "127.0.0.1", nil, "127.0.0.1"},
		{"EmptyHeader", "127.0.0.1", []string{""}, "127.0.0.1"},
		{"OneClient", "127.0.0.1", []string{"203.0.113.9"}, "203.0.113.9"},
		{"UntrustedPeerIgnoresHeader", "198.51.100.1", []string{"203.0.113.9"}, "198.51.100.1"},
		{"UntrustedMappedPeer", "::ffff:198.51.100.1", []string{"203.0.113.9"}, "198.51.100.1"},
		{"MappedTrustedPeer", "::ffff:127.0.0.1", []string{"203.0.113.9"}, "203.0.113.9"},
		// The client writes the leftmost entries; the proxy appends the
		// address it saw.
		{"SpoofedLeftmost", "127.0.0.1", []string{"198.51.100.7, 203.0.113.9"}, "203.0.113.9"},
		{"SpoofedLeftmostMany", "127.0.0.1", []string{"1.1.1.1, 2.2.2.2, 3.3.3.3, 203.0.113.9"}, "203.0.113.9"},
		{"SpoofedTrustedLeftmost", "127.0.0.1", []string{"10.0.0.5, 203.0.113.9"}, "203.0.113.9"},
		{"TwoTrustedHops", "127.0.0.1", []string{"198.51.100.7, 203.0.113.9, 10.0.0.2"}, "203.0.113.9"},
		{"EveryHopTrusted", "127.0.0.1", []string{"10.0.0.3, 10.0.0.2"}, "10.0.0.3"},
		{"SeveralLines", "127.0.0.1", []string{"198.51.100.7", "203.0.113.9, 10.0.0.2"}, "203.0.113.9"},
		{"SeveralLinesSpoofedFirst", "127.0.0.1", []string{"198.51.100.7, 10.0.0.9", "203.0.113.9"}, "203.0.113.9"},
		{"SeveralLinesLastTrusted", "127.0.0.1", []string{"203.0.113.9", "10.0.0.2"}, "203.0.113.9"},
		{"EmptyElements", "127.0.0.1", []string{"203.0.113.9, , 10.0.0.2,"}, "203.0.113.9"},
		{"IPv6", "127.0.0.1", []string{"2001:db8::1"}, "2001:db8::1"},
		{"IPv6Bracketed", "127.0.0.1", []string{"[2001:db8::1]"}, "2001:db8::1"},
		{"IPv6WithPort", "127.0.0.1", []string{"[2001:db8::1]:4711"}, "2001:db8::1"},
		{"IPv6TrustedHop", "127.0.0.1", []string{"2001:db8::66, 2001:db8::1, fd00::2"}, "2001:db8::1"},
		{"IPv6Peer", "fd00::1", []string{"203.0.113.9"}, "203.0.113.9"},
		{"IPv4WithPort", "127.0.0.1", []string{"203.0.113.9:51234"}, "203.0.113.9"},
		{"MappedEntry", "127.0.0.1", []string{"::ffff:203.0.113.9"}, "203.0.113.9"},
		{"MappedTrustedEntry", "127.0.0.1", []string{"203.0.113.9, ::ffff:10.0.0.2"}, "203.0.113.9"},
		// Garbage ends the walk at the last trusted hop.
		{"GarbageOnly", "127.0.0.1", []string{"not-an-address"}, "127.0.0.1"},
		{"Unknown", "127.0.0.1", []string{"unknown"}, "127.0.0.1"},
		{"GarbageRightmost", "127.0.0.1", []string{"203.0.113.9, garbage"}, "127.0.0.1"},
		{"GarbageBehindTrustedHop", "127.0.0.1", []string{"203.0.113.9, junk, 10.0.0.2"}, "10.0.0.2"},
		{"GarbageLeftOfClient", "127.0.0.1", []string{"junk, 203.0.113.9"}, "203.0.113.9"},
		{"Zone", "127.0.0.1", []string{"fe80::1%eth0"}, "127.0.0.1"},
		{"BracketedIPv4", "127.0.0.1", []string{"[203.0.113.9]"}, "127.0.0.1"},
		{"Hostname", "127.0.0.1", []string{"client.example.com"}, "127.0.0.1"},
		{"Obfuscated", "127.0.0.1", []string{"_hidden"}, "127.0.0.1"},
		{"PortOnly", "127.0.0.1", []string{":8080"}, "127.0.0.1"},
		{"CIDR", "127.0.0.1", []string{"203.0.113.0/24"}, "127.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := forwardedClient(netip.MustParseAddr(tt.peer), tt.forwarded, trusted)
			if got != netip.MustParseAddr(tt.want) {
				t.Errorf("forwardedClient(%s, %q) = %s, want %s", tt.peer, tt.forwarded, got, tt.want)
			}
		})
	}
	// No trusted proxies: the peer, whatever the header.
	if got := forwardedClient(proxy, []string{"203.0.113.9"}, nil); got != proxy {
		t.Errorf("without trusted proxies: %s, want the peer", got)
	}
}

func FuzzForwardedClient(f *testing.F) {
	f.Add("198.51.100.7, 203.0.113.9, 10.0.0.2", "[2001:db8::1]:443")
	f.Add("junk, , fe80::1%eth0", "")
	trusted := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8")}
	peer := netip.MustParseAddr("127.0.0.1")
	f.Fuzz(func(t *testing.T, a, b string) {
		got := forwardedClient(peer, []string{a, b}, trusted)
		if !got.IsValid() || got.Zone() != "" || got.Is4In6() {
			t.Errorf("forwardedClient(%q, %q) = %v", a, b, got)
		}
	})
}
