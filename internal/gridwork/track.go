// Package gridwork is the pure domain of a grid worker's day (issue 15,
// scenario S2): patrols (巡查) with their GPS tracks, the grid's planned
// patrol frequency and weekly coverage, household visits (走访) and the needs
// raised on them, the grid's roster (buildings, households, shops, key
// places and the people the law allows to be recorded, with privacy rules)
// and the "1+3+N" team of each grid. No I/O: the service stores and scopes
// what this package validates and computes.
package gridwork

import (
	"errors"
	"math"
	"strings"
	"time"

	"zhizhi/internal/geo"
)

// Fix is one GPS sample of a track: where, when, and how sure the phone
// was (accuracy radius in meters; 0 when unknown).
type Fix struct {
	Lng      float64   `json:"lng"`
	Lat      float64   `json:"lat"`
	At       time.Time `json:"at"`
	Accuracy float64   `json:"accuracy,omitempty"`
}

// Point is the fix's position.
func (f Fix) Point() geo.Point { return geo.Point{Lng: f.Lng, Lat: f.Lat} }

// Track limits and thinning defaults.
const (
	MaxFixes       = 20000 // fixes one upload may carry (a 12-hour patrol sampled every 3 s)
	MaxAccuracy    = 60.0  // meters: fixes less sure than this are dropped
	MaxSpeed       = 25.0  // m/s: a jump faster than this from the last kept fix is a GPS glitch
	ThinTolerance  = 5.0   // meters: Douglas–Peucker tolerance of the stored track
	trackPrecision = 1e5   // polyline precision: 1e-5 degrees, about 1.1 m
)

// Clean drops the fixes a track should not keep: positions out of range,
// fixes less accurate than MaxAccuracy, fixes not later than the last kept
// one, and jumps faster than MaxSpeed from the last kept fix (a glitch, not
// a walk). The order of the rest is kept.
func Clean(fixes []Fix) []Fix {
	out := make([]Fix, 0, len(fixes))
	for _, f := range fixes {
		if !f.Point().Valid() || math.IsNaN(f.Lng) || math.IsNaN(f.Lat) || f.At.IsZero() {
			continue
		}
		if f.Accuracy > MaxAccuracy || f.Accuracy < 0 || math.IsNaN(f.Accuracy) {
			continue
		}
		if n := len(out); n > 0 {
			last := out[n-1]
			dt := f.At.Sub(last.At).Seconds()
			if dt <= 0 {
				continue
			}
			if geo.Distance(last.Point(), f.Point())/dt > MaxSpeed {
				continue
			}
		}
		out = append(out, f)
	}
	return out
}

// plane projects points near an origin onto meters (equirectangular): good
// to well under a meter across a grid.
type plane struct{ lat0, lng0, kx, ky float64 }

func newPlane(o geo.Point) plane {
	const m = 6371008.8 * math.Pi / 180
	return plane{lat0: o.Lat, lng0: o.Lng, kx: m * math.Cos(o.Lat*math.Pi/180), ky: m}
}

func (p plane) xy(f Fix) (float64, float64) { return (f.Lng - p.lng0) * p.kx, (f.Lat - p.lat0) * p.ky }

// Thin keeps the fixes of a track that shape it within tolerance meters
// (Douglas–Peucker, iterative; the first and last fix always stay).
func Thin(fixes []Fix, tolerance float64) []Fix {
	n := len(fixes)
	if n <= 2 || tolerance <= 0 {
		return append([]Fix(nil), fixes...)
	}
	pl := newPlane(fixes[0].Point())
	xs, ys := make([]float64, n), make([]float64, n)
	for i, f := range fixes {
		xs[i], ys[i] = pl.xy(f)
	}
	keep := make([]bool, n)
	keep[0], keep[n-1] = true, true
	type span struct{ a, b int }
	stack := []span{{0, n - 1}}
	tol2 := tolerance * tolerance
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		best, at := -1.0, -1
		for i := s.a + 1; i < s.b; i++ {
			if d := segDist2(xs[i], ys[i], xs[s.a], ys[s.a], xs[s.b], ys[s.b]); d > best {
				best, at = d, i
			}
		}
		if at >= 0 && best > tol2 {
			keep[at] = true
			stack = append(stack, span{s.a, at}, span{at, s.b})
		}
	}
	out := make([]Fix, 0, n/2)
	for i, f := range fixes {
		if keep[i] {
			out = append(out, f)
		}
	}
	return out
}

// segDist2 is the squared distance from (px,py) to the segment a–b.
func segDist2(px, py, ax, ay, bx, by float64) float64 {
	dx, dy := bx-ax, by-ay
	if dx == 0 && dy == 0 {
		return (px-ax)*(px-ax) + (py-ay)*(py-ay)
	}
	t := ((px-ax)*dx + (py-ay)*dy) / (dx*dx + dy*dy)
	t = math.Max(0, math.Min(1, t))
	x, y := ax+t*dx-px, ay+t*dy-py
	return x*x + y*y
}

// Length is the track's length in meters along its fixes.
func Length(fixes []Fix) float64 {
	var d float64
	for i := 1; i < len(fixes); i++ {
		d += geo.Distance(fixes[i-1].Point(), fixes[i].Point())
	}
	return d
}

// EncodeTrack writes a track compactly: each fix as the deltas of its
// latitude and longitude (1e-5 degrees) and of its time (whole seconds)
// from the fix before, in the 5-bit printable chunks of the polyline
// format (the first fix's deltas are from 0 and from the Unix epoch).
// About 8 bytes a fix; accuracy is not kept.
func EncodeTrack(fixes []Fix) string {
	var b strings.Builder
	var pLat, pLng, pT int64
	for _, f := range fixes {
		lat := int64(math.Round(f.Lat * trackPrecision))
		lng := int64(math.Round(f.Lng * trackPrecision))
		t := f.At.Unix()
		encodeSigned(&b, lat-pLat)
		encodeSigned(&b, lng-pLng)
		encodeSigned(&b, t-pT)
		pLat, pLng, pT = lat, lng, t
	}
	return b.String()
}

func encodeSigned(b *strings.Builder, v int64) {
	u := uint64(v) << 1
	if v < 0 {
		u = ^u
	}
	for u >= 0x20 {
		b.WriteByte(byte((0x20 | (u & 0x1f)) + 63))
		u >>= 5
	}
	b.WriteByte(byte(u + 63))
}

// ErrBadTrack is a stored track that does not decode.
var ErrBadTrack = errors.New("gridwork: malformed track")

// DecodeTrack reads a track EncodeTrack wrote; times are UTC.
func DecodeTrack(s string) ([]Fix, error) {
	var out []Fix
	var lat, lng, t int64
	i := 0
	next := func() (int64, error) {
		var u uint64
		var shift uint
		for {
			if i >= len(s) || shift > 63 {
				return 0, ErrBadTrack
			}
			c := int64(s[i]) - 63
			i++
			if c < 0 || c > 63 {
				return 0, ErrBadTrack
			}
			u |= uint64(c&0x1f) << shift
			shift += 5
			if c < 0x20 {
				break
			}
		}
		v := int64(u >> 1)
		if u&1 != 0 {
			v = ^v
		}
		return v, nil
	}
	for i < len(s) {
		var d [3]int64
		for k := range d {
			v, err := next()
			if err != nil {
				return nil, err
			}
			d[k] = v
		}
		lat, lng, t = lat+d[0], lng+d[1], t+d[2]
		out = append(out, Fix{Lat: float64(lat) / trackPrecision, Lng: float64(lng) / trackPrecision, At: time.Unix(t, 0).UTC()})
	}
	return out, nil
}
