// Package clientip finds the address of the client behind a request, for
// the per-client throttles (sign-in, the residents' doors) and the logs.
// Behind a reverse proxy every request comes from the proxy; only a proxy
// the operator trusts may say, in X-Forwarded-For, whom it forwards for.
// Anyone else's X-Forwarded-For is ignored, so a client cannot pick a fresh
// address for each attempt by writing a header.
package clientip

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// Trusted is the set of proxies whose X-Forwarded-For is believed.
type Trusted []netip.Prefix

// Parse reads a comma-separated list of addresses and CIDR prefixes
// ("10.0.0.0/8, 127.0.0.1, ::1"); an empty string trusts nobody.
func Parse(s string) (Trusted, error) {
	var out Trusted
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if strings.Contains(f, "/") {
			p, err := netip.ParsePrefix(f)
			if err != nil {
				return nil, fmt.Errorf("%q is not an address or a CIDR prefix", f)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not an address or a CIDR prefix", f)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// String lists the set as Parse reads it.
func (t Trusted) String() string {
	s := make([]string, len(t))
	for i, p := range t {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}

func (t Trusted) holds(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range t {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Of returns the client's address for a request that came from remote
// (host:port, as net/http gives it) with the X-Forwarded-For values xff:
// remote itself, unless it is a trusted proxy; then the nearest address in
// X-Forwarded-For (read from the right) that is not a trusted proxy. A
// malformed entry ends the walk at the last good address: what lies to its
// left was written by someone not trusted.
func (t Trusted) Of(remote string, xff []string) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	addr, err := netip.ParseAddr(host)
	if err != nil || !t.holds(addr) {
		return host
	}
	var hops []string
	for _, v := range xff {
		for _, h := range strings.Split(v, ",") {
			hops = append(hops, strings.TrimSpace(h))
		}
	}
	client := addr.Unmap().String()
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(hops[i])
		if err != nil {
			break
		}
		client = a.Unmap().String()
		if !t.holds(a) {
			break
		}
	}
	return client
}
