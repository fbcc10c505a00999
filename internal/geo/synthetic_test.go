package geo

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestSyntheticGrids(t *testing.T) {
	const n = 2500 // a full 50 × 50 lattice
	entries := SyntheticGrids(n, 42, chongqing)
	if len(entries) != n {
		t.Fatalf("got %d grids, want %d", len(entries), n)
	}
	codes := map[string]bool{}
	total := 0.0
	for _, e := range entries {
		if len(e.Code) != 15 || codes[e.Code] {
			t.Fatalf("bad or duplicate code %q", e.Code)
		}
		codes[e.Code] = true
		if err := e.Shape.Validate(); err != nil {
			t.Fatalf("%s: %v", e.Code, err)
		}
		ring := e.Shape[0][0]
		if v := len(ring) - 1; v < 6 || v > 12 {
			t.Fatalf("%s has %d vertices, want 6–12", e.Code, v)
		}
		if selfIntersects(ring) {
			t.Fatalf("%s is not a simple polygon", e.Code)
		}
		b := e.Shape.Bounds()
		w := Distance(b.Min, Point{b.Max.Lng, b.Min.Lat})
		h := Distance(b.Min, Point{b.Min.Lng, b.Max.Lat})
		if w < 200 || w > 500 || h < 200 || h > 500 {
			t.Fatalf("%s is %.0f × %.0f m, want 200–500 m across", e.Code, w, h)
		}
		total += e.Shape.Area()
	}
	// The cells tile a 50 × 50 square of 300 m cells: no gaps, no overlaps.
	want := 50 * 50 * syntheticSpacing * syntheticSpacing
	if math.Abs(total-want) > want*1e-3 {
		t.Errorf("total area %.0f m², want %.0f m²", total, want)
	}
	ix := NewIndex(entries)
	rng := rand.New(rand.NewPCG(9, 9))
	b := ix.Bounds()
	for i := 0; i < 3000; i++ {
		p := randomPointIn(rng, b)
		in := 0
		for _, e := range entries {
			if e.Shape.Contains(p) {
				in++
			}
		}
		if in != 1 {
			t.Fatalf("point %v is in %d grids, want exactly 1", p, in)
		}
	}
	// Same seed, same grids; another seed, other grids.
	again := SyntheticGrids(n, 42, chongqing)
	other := SyntheticGrids(n, 43, chongqing)
	if again[77].Shape[0][0][0] != entries[77].Shape[0][0][0] {
		t.Error("same seed gave different grids")
	}
	if other[77].Shape[0][0][0] == entries[77].Shape[0][0][0] {
		t.Error("different seeds gave the same grids")
	}
	if SyntheticGrids(0, 1, chongqing) != nil {
		t.Error("n = 0 must give no grids")
	}
	if got := len(SyntheticGrids(7, 1, chongqing)); got != 7 {
		t.Errorf("partial lattice: got %d grids, want 7", got)
	}
}

// selfIntersects reports whether two non-adjacent edges of a closed ring
// cross or touch.
func selfIntersects(ring Ring) bool {
	n := len(ring) - 1
	for i := 0; i < n; i++ {
		for j := i + 2; j < n; j++ {
			if i == 0 && j == n-1 {
				continue // adjacent through the closing point
			}
			if segmentsIntersect(ring[i], ring[i+1], ring[j], ring[j+1]) {
				return true
			}
		}
	}
	return false
}

func segmentsIntersect(a, b, c, d Point) bool {
	orient := func(p, q, r Point) float64 {
		return (q.Lng-p.Lng)*(r.Lat-p.Lat) - (q.Lat-p.Lat)*(r.Lng-p.Lng)
	}
	d1, d2 := orient(c, d, a), orient(c, d, b)
	d3, d4 := orient(a, b, c), orient(a, b, d)
	if d1 != 0 && d2 != 0 && d3 != 0 && d4 != 0 {
		return (d1 > 0) != (d2 > 0) && (d3 > 0) != (d4 > 0)
	}
	// Collinear cases: touching counts only if the point lies on the
	// other segment.
	on := func(p, q, r Point) bool { // r on segment pq, given collinear
		return math.Min(p.Lng, q.Lng) <= r.Lng && r.Lng <= math.Max(p.Lng, q.Lng) &&
			math.Min(p.Lat, q.Lat) <= r.Lat && r.Lat <= math.Max(p.Lat, q.Lat)
	}
	return d1 == 0 && on(c, d, a) || d2 == 0 && on(c, d, b) || d3 == 0 && on(a, b, c) || d4 == 0 && on(a, b, d)
}
