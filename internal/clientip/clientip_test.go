package clientip

import "testing"

func TestOf(t *testing.T) {
	trusted, err := Parse("10.0.0.0/8, 127.0.0.1 ,::1")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"no proxy", "203.0.113.7:5123", nil, "203.0.113.7"},
		{"an untrusted client's header is ignored", "203.0.113.7:5123", []string{"198.51.100.1"}, "203.0.113.7"},
		{"a trusted proxy forwards", "10.1.2.3:80", []string{"198.51.100.1"}, "198.51.100.1"},
		{"a forged entry left of the real one", "10.1.2.3:80", []string{"1.1.1.1, 198.51.100.1"}, "198.51.100.1"},
		{"two trusted hops", "127.0.0.1:80", []string{"198.51.100.1, 10.9.9.9"}, "198.51.100.1"},
		{"several header lines", "10.1.2.3:80", []string{"1.1.1.1", "198.51.100.1"}, "198.51.100.1"},
		{"only proxies", "10.1.2.3:80", []string{"10.0.0.5"}, "10.0.0.5"},
		{"a trusted proxy with no header", "10.1.2.3:80", nil, "10.1.2.3"},
		{"garbage ends the walk", "10.1.2.3:80", []string{"198.51.100.1, not-an-ip"}, "10.1.2.3"},
		{"IPv6 loopback proxy", "[::1]:80", []string{"2001:db8::1"}, "2001:db8::1"},
		{"mapped IPv4", "[::ffff:10.1.2.3]:80", []string{"198.51.100.9"}, "198.51.100.9"},
		{"no port", "203.0.113.7", nil, "203.0.113.7"},
	} {
		if got := trusted.Of(tc.remote, tc.xff); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	// Trusting nobody: the header never counts.
	if got := Trusted(nil).Of("10.1.2.3:80", []string{"198.51.100.1"}); got != "10.1.2.3" {
		t.Errorf("no trusted proxies: %q", got)
	}
}

func TestParse(t *testing.T) {
	for _, bad := range []string{"10.0.0.0/33", "proxy.local", "10.0.0.1/8/8", "1.2.3"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
	got, err := Parse(" 10.0.0.1/8 ,, 192.0.2.1 ")
	if err != nil || got.String() != "10.0.0.0/8,192.0.2.1/32" {
		t.Errorf("Parse: %v %v", got, err)
	}
}

func FuzzOf(f *testing.F) {
	trusted, _ := Parse("10.0.0.0/8")
	f.Add("10.0.0.1:80", "1.2.3.4, 5.6.7.8")
	f.Add("[::1]:1", "")
	f.Fuzz(func(t *testing.T, remote, xff string) {
		_ = trusted.Of(remote, []string{xff})
	})
}
