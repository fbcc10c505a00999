package geo

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

var chongqing = Point{Lng: 106.50, Lat: 29.50}

// bruteLocate is the reference Locate: test every entry, smallest area wins,
// then smallest code, then earliest entry.
func bruteLocate(entries []Entry, p Point) (string, bool) {
	best := -1
	bestArea := 0.0
	for i, e := range entries {
		if !e.Shape.Contains(p) {
			continue
		}
		a := e.Shape.Area()
		if best < 0 || a < bestArea || a == bestArea && e.Code < entries[best].Code {
			best, bestArea = i, a
		}
	}
	if best < 0 {
		return "", false
	}
	return entries[best].Code, true
}

func randomPointIn(rng *rand.Rand, r Rect) Point {
	return Point{
		Lng: r.Min.Lng + rng.Float64()*(r.Max.Lng-r.Min.Lng),
		Lat: r.Min.Lat + rng.Float64()*(r.Max.Lat-r.Min.Lat),
	}
}

func TestLocateMatchesBruteForce(t *testing.T) {
	entries := SyntheticGrids(1500, 7, chongqing)
	ix := NewIndex(entries)
	if ix.Len() != len(entries) {
		t.Fatalf("Len = %d, want %d", ix.Len(), len(entries))
	}
	// Sample a little beyond the covered area so misses are tested too.
	b := ix.Bounds()
	pad := (b.Max.Lng - b.Min.Lng) * 0.05
	area := Rect{Point{b.Min.Lng - pad, b.Min.Lat - pad}, Point{b.Max.Lng + pad, b.Max.Lat + pad}}
	rng := rand.New(rand.NewPCG(1, 2))
	hits := 0
	for i := 0; i < 5000; i++ {
		p := randomPointIn(rng, area)
		got, ok := ix.Locate(p)
		want, wantOK := bruteLocate(entries, p)
		if got != want || ok != wantOK {
			t.Fatalf("Locate(%v) = %q, %v; brute force says %q, %v", p, got, ok, want, wantOK)
		}
		if ok {
			hits++
		}
	}
	if hits < 3500 {
		t.Errorf("only %d of 5000 points hit a grid; the sample area is wrong", hits)
	}
	// Every vertex of every grid is on a shared border: the index must still
	// agree with brute force there.
	for _, e := range entries[:200] {
		for _, p := range e.Shape[0][0] {
			got, ok := ix.Locate(p)
			want, wantOK := bruteLocate(entries, p)
			if got != want || ok != wantOK {
				t.Fatalf("Locate(vertex %v) = %q, %v; brute force says %q, %v", p, got, ok, want, wantOK)
			}
		}
	}
}

func TestLocateOverlapsAndEdgeCases(t *testing.T) {
	big := Entry{"B", MultiPolygon{{sq(0, 0, 10, 10)}}}
	small := Entry{"S", MultiPolygon{{sq(2, 2, 4, 4)}}}
	twinA := Entry{"A2", MultiPolygon{{sq(6, 6, 8, 8)}}}
	twinB := Entry{"A1", MultiPolygon{{sq(6, 6, 8, 8)}}}
	holed := Entry{"H", MultiPolygon{{sq(20, 0, 30, 10), sq(22, 2, 28, 8)}}}
	exclave := Entry{"X", MultiPolygon{{sq(40, 0, 41, 1)}, {sq(50, 0, 51, 1)}}}
	empty := Entry{"E", nil}
	nan := Entry{"N", MultiPolygon{{Ring{{math.NaN(), 0}, {1, 1}, {0, 1}, {math.NaN(), 0}}}}}
	entries := []Entry{big, small, twinA, twinB, holed, exclave, empty, nan}
	tests := []struct {
		p      Point
		want   string
		wantOK bool
	}{
		{Point{1, 1}, "B", true},
		{Point{3, 3}, "S", true},  // smaller wins whatever the order
		{Point{7, 7}, "A1", true}, // equal areas: smaller code wins
		{Point{21, 1}, "H", true}, // in the ring
		{Point{25, 5}, "", false}, // in the hole
		{Point{50.5, 0.5}, "X", true},
		{Point{45, 0.5}, "", false}, // between the parts of a multipolygon
		{Point{math.NaN(), 1}, "", false},
		{Point{200, 1}, "", false},
	}
	// The answer must not depend on the order entries were given in.
	for _, order := range [][]Entry{entries, reversed(entries)} {
		ix := NewIndex(order)
		if ix.Len() != 6 {
			t.Errorf("Len = %d, want 6 (empty and NaN shapes left out)", ix.Len())
		}
		for _, tt := range tests {
			got, ok := ix.Locate(tt.p)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("Locate(%v) = %q, %v; want %q, %v", tt.p, got, ok, tt.want, tt.wantOK)
			}
		}
	}
	var nilIndex *Index
	if _, ok := nilIndex.Locate(Point{1, 1}); ok || nilIndex.Len() != 0 {
		t.Error("a nil index must find nothing")
	}
	if _, ok := NewIndex(nil).Locate(Point{1, 1}); ok {
		t.Error("an empty index must find nothing")
	}
}

func reversed(in []Entry) []Entry {
	out := make([]Entry, len(in))
	for i, e := range in {
		out[len(in)-1-i] = e
	}
	return out
}

func TestIndexIsACopy(t *testing.T) {
	shape := MultiPolygon{{sq(0, 0, 1, 1)}}
	ix := NewIndex([]Entry{{"A", shape}})
	shape[0][0][2] = Point{0.1, 0.1} // shrink the caller's copy
	if code, ok := ix.Locate(Point{0.8, 0.8}); !ok || code != "A" {
		t.Error("the index changed when the caller changed its shape")
	}
}

func TestLocateAllocs(t *testing.T) {
	ix := NewIndex(SyntheticGrids(400, 3, chongqing))
	p := ix.Bounds().Min
	p.Lng += 0.001
	p.Lat += 0.001
	if _, ok := ix.Locate(p); !ok {
		t.Fatal("test point is not in a grid")
	}
	if n := testing.AllocsPerRun(1000, func() { ix.Locate(p) }); n != 0 {
		t.Errorf("Locate allocates %.1f times per call, want 0", n)
	}
}

func TestLocateConcurrent(t *testing.T) {
	entries := SyntheticGrids(900, 5, chongqing)
	ix := NewIndex(entries)
	b := ix.Bounds()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, seed))
			for i := 0; i < 300; i++ {
				p := randomPointIn(rng, b)
				got, _ := ix.Locate(p)
				if want, _ := bruteLocate(entries, p); got != want {
					t.Errorf("concurrent Locate(%v) = %q, want %q", p, got, want)
					return
				}
			}
		}(uint64(g))
	}
	wg.Wait()
}

func TestWithin(t *testing.T) {
	entries := SyntheticGrids(600, 11, chongqing)
	entries = append(entries,
		Entry{"holed", MultiPolygon{{sq(100, 0, 110, 10), sq(102, 2, 108, 8)}}},
		Entry{"parts", MultiPolygon{{sq(120, 0, 121, 1)}, {sq(122, 0, 123, 1)}}},
	)
	ix := NewIndex(entries)
	brute := func(r Rect) map[string]bool {
		out := map[string]bool{}
		for _, e := range entries {
			for _, poly := range e.Shape {
				if poly.intersectsRect(r) {
					out[e.Code] = true
				}
			}
		}
		return out
	}
	check := func(r Rect) {
		t.Helper()
		got := map[string]bool{}
		ix.Within(r, func(code string) bool {
			if got[code] {
				t.Errorf("Within(%v) reported %s twice", r, code)
			}
			got[code] = true
			return true
		})
		want := brute(r)
		if len(got) != len(want) {
			t.Fatalf("Within(%v) found %d shapes, want %d", r, len(got), len(want))
		}
		for c := range want {
			if !got[c] {
				t.Fatalf("Within(%v) missed %s", r, c)
			}
		}
	}
	b := ix.Bounds()
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 200; i++ {
		p, q := randomPointIn(rng, Rect{chongqing, Point{chongqing.Lng + 0.08, chongqing.Lat + 0.08}}), Point{}
		q = Point{p.Lng + rng.Float64()*0.01, p.Lat + rng.Float64()*0.01}
		check(Rect{p, q})
	}
	check(b)
	check(Rect{Point{104, 4}, Point{106, 6}})         // inside the hole: nothing
	check(Rect{Point{101, 1}, Point{101.5, 1.5}})     // inside the ring
	check(Rect{Point{101, 1}, Point{109, 9}})         // covers the hole
	check(Rect{Point{120.5, 0.5}, Point{122.5, 0.5}}) // both parts, reported once
	check(Rect{Point{121.2, 0}, Point{121.8, 1}})     // between the parts

	n := 0
	ix.Within(b, func(string) bool { n++; return n < 3 })
	if n != 3 {
		t.Errorf("Within kept calling after fn returned false: %d calls", n)
	}
}

// TestHilbert checks the curve on grids of several sizes: every cell gets a
// distinct position, and cells at consecutive positions are neighbours.
func TestHilbert(t *testing.T) {
	for _, side := range []uint64{1, 2, 4, 8, 64} {
		at := make([][2]uint64, side*side)
		seen := make([]bool, side*side)
		for x := range side {
			for y := range side {
				d := Hilbert(side, x, y)
				if d >= side*side || seen[d] {
					t.Fatalf("side %d: (%d, %d) at %d, out of range or taken", side, x, y, d)
				}
				seen[d] = true
				at[d] = [2]uint64{x, y}
			}
		}
		for d := 1; d < len(at); d++ {
			a, b := at[d-1], at[d]
			dx, dy := int(a[0])-int(b[0]), int(a[1])-int(b[1])
			if dx*dx+dy*dy != 1 {
				t.Fatalf("side %d: positions %d and %d are %v and %v, not neighbours", side, d-1, d, a, b)
			}
		}
	}
}
