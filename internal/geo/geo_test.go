package geo

import (
	"math"
	"testing"
)

// sq returns a closed axis-aligned square ring.
func sq(x0, y0, x1, y1 float64) Ring {
	return Ring{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}
}

func TestContains(t *testing.T) {
	square := MultiPolygon{{sq(0, 0, 10, 10)}}
	withHole := MultiPolygon{{sq(0, 0, 10, 10), sq(3, 3, 6, 6)}}
	// A U shape: the notch (4..6 × 3..10) is outside.
	u := MultiPolygon{{Ring{{0, 0}, {10, 0}, {10, 10}, {6, 10}, {6, 3}, {4, 3}, {4, 10}, {0, 10}, {0, 0}}}}
	two := MultiPolygon{{sq(0, 0, 1, 1)}, {sq(5, 5, 6, 6), sq(5.4, 5.4, 5.6, 5.6)}}
	// A clockwise, open ring must work the same as a closed one.
	open := MultiPolygon{{Ring{{0, 0}, {0, 10}, {10, 10}, {10, 0}}}}
	tri := MultiPolygon{{Ring{{0, 0}, {10, 0}, {5, 8}, {0, 0}}}}
	const eps = 1e-9
	tests := []struct {
		name  string
		shape MultiPolygon
		p     Point
		want  bool
	}{
		{"square centre", square, Point{5, 5}, true},
		{"square outside east", square, Point{11, 5}, false},
		{"square outside west", square, Point{-1, 5}, false},
		{"square outside north", square, Point{5, 10.5}, false},
		{"hole ring inside", withHole, Point{1, 1}, true},
		{"in hole", withHole, Point{4.5, 4.5}, false},
		{"between hole and edge", withHole, Point{8, 4.5}, true},
		{"concave arm left", u, Point{2, 8}, true},
		{"concave arm right", u, Point{8, 8}, true},
		{"concave notch", u, Point{5, 8}, false},
		{"concave base", u, Point{5, 1}, true},
		{"concave notch ray through arms", u, Point{-1, 8}, false},
		{"multi first", two, Point{0.5, 0.5}, true},
		{"multi second", two, Point{5.2, 5.2}, true},
		{"multi second hole", two, Point{5.5, 5.5}, false},
		{"multi between", two, Point{3, 3}, false},
		{"open clockwise inside", open, Point{5, 5}, true},
		{"open clockwise outside", open, Point{5, 11}, false},
		{"near vertex inside", tri, Point{5, 8 - 1e-6}, true},
		{"near vertex above", tri, Point{5, 8 + eps}, false},
		{"near vertex beside", tri, Point{5.01, 7.99}, false},
		{"near base vertex inside", tri, Point{eps * 10, eps}, true},
		{"near base vertex outside", tri, Point{-eps, eps}, false},
		{"level with vertex, outside", tri, Point{-1, 8}, false},
		{"level with base, outside", tri, Point{-1, 0}, false},
		{"empty", MultiPolygon{}, Point{0, 0}, false},
		{"degenerate ring", MultiPolygon{{Ring{{0, 0}, {1, 1}}}}, Point{0.5, 0.5}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.shape.Contains(tt.p); got != tt.want {
				t.Errorf("Contains(%v) = %v, want %v", tt.p, got, tt.want)
			}
		})
	}
}

// TestSharedEdgeOwnedOnce checks that a point exactly on an edge shared by
// two cells belongs to exactly one of them, whichever way each cell runs.
func TestSharedEdgeOwnedOnce(t *testing.T) {
	left := MultiPolygon{{Ring{{0, 0}, {1, 0.1}, {1.3, 1}, {0, 1}, {0, 0}}}}
	right := MultiPolygon{{Ring{{1, 0.1}, {2, 0}, {2, 1}, {1.3, 1}, {1, 0.1}}}}
	for i := 1; i < 100; i++ {
		f := float64(i) / 100
		p := Point{1 + 0.3*f, 0.1 + 0.9*f}
		if n := btoi(left.Contains(p)) + btoi(right.Contains(p)); n != 1 {
			t.Fatalf("point %v on the shared edge is in %d cells", p, n)
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestValid(t *testing.T) {
	tests := []struct {
		p    Point
		want bool
	}{
		{Point{106.57, 29.55}, true},
		{Point{-180, -90}, true},
		{Point{180, 90}, true},
		{Point{180.0001, 0}, false},
		{Point{0, -90.1}, false},
		{Point{math.NaN(), 0}, false},
		{Point{0, math.Inf(1)}, false},
		{Point{math.Inf(-1), 0}, false},
	}
	for _, tt := range tests {
		if got := tt.p.Valid(); got != tt.want {
			t.Errorf("%v.Valid() = %v, want %v", tt.p, got, tt.want)
		}
	}
}

func TestDistance(t *testing.T) {
	tests := []struct {
		name string
		a, b Point
		want float64 // meters
		tol  float64 // relative
	}{
		{"same point", Point{106.5, 29.5}, Point{106.5, 29.5}, 0, 0},
		{"one degree of latitude", Point{0, 0}, Point{0, 1}, 111195, 0.001},
		{"one degree of longitude at 60°", Point{0, 60}, Point{1, 60}, 55597, 0.001},
		{"Chongqing to Beijing", Point{106.5516, 29.5630}, Point{116.4074, 39.9042}, 1459000, 0.01},
		{"antipodes", Point{0, 0}, Point{180, 0}, math.Pi * earthRadius, 1e-9},
	}
	for _, tt := range tests {
		got := Distance(tt.a, tt.b)
		if math.Abs(got-tt.want) > tt.tol*tt.want+1e-9 {
			t.Errorf("%s: Distance = %.1f, want %.1f", tt.name, got, tt.want)
		}
		if back := Distance(tt.b, tt.a); math.Abs(back-got) > 1e-6 {
			t.Errorf("%s: not symmetric: %v vs %v", tt.name, got, back)
		}
	}
}

func TestAreaAndCentroid(t *testing.T) {
	side := 0.01 * metersPerDegree // about 1.1 km at the equator
	tests := []struct {
		name     string
		shape    MultiPolygon
		area     float64
		centroid Point
	}{
		{"square at equator", MultiPolygon{{sq(0, 0, 0.01, 0.01)}}, side * side, Point{0.005, 0.005}},
		{"clockwise square", MultiPolygon{{Ring{{0, 0}, {0, 0.01}, {0.01, 0.01}, {0.01, 0}, {0, 0}}}}, side * side, Point{0.005, 0.005}},
		{"square at 60° is half as wide", MultiPolygon{{sq(0, 60, 0.01, 60.01)}}, side * side / 2, Point{0.005, 60.005}},
		{"hole in the east half", MultiPolygon{{sq(0, 0, 0.02, 0.01), sq(0.01, 0, 0.02, 0.01)}}, side * side, Point{0.005, 0.005}},
		{"two squares", MultiPolygon{{sq(0, 0, 0.01, 0.01)}, {sq(0.02, 0, 0.03, 0.01)}}, 2 * side * side, Point{0.015, 0.005}},
		{"empty", nil, 0, Point{}},
		{"degenerate falls back to vertex mean", MultiPolygon{{Ring{{0, 0}, {2, 0}, {1, 0}, {0, 0}}}}, 0, Point{1, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.shape.Area(); math.Abs(got-tt.area) > 0.005*tt.area+1e-6 {
				t.Errorf("Area = %.1f, want %.1f", got, tt.area)
			}
			got := tt.shape.Centroid()
			if math.Abs(got.Lng-tt.centroid.Lng) > 1e-6 || math.Abs(got.Lat-tt.centroid.Lat) > 1e-6 {
				t.Errorf("Centroid = %v, want %v", got, tt.centroid)
			}
		})
	}
}

func TestBounds(t *testing.T) {
	mp := MultiPolygon{{sq(1, 2, 3, 4)}, {sq(-5, 0, -4, 1)}}
	want := Rect{Point{-5, 0}, Point{3, 4}}
	if got := mp.Bounds(); got != want {
		t.Errorf("Bounds = %v, want %v", got, want)
	}
	if got := (MultiPolygon{}).Bounds(); got != (Rect{}) {
		t.Errorf("empty Bounds = %v, want zero", got)
	}
	if !want.Contains(Point{0, 0}) || want.Contains(Point{3.1, 0}) {
		t.Error("Rect.Contains wrong")
	}
	if !want.Intersects(Rect{Point{3, 4}, Point{9, 9}}) || want.Intersects(Rect{Point{3.1, 0}, Point{9, 9}}) {
		t.Error("Rect.Intersects wrong")
	}
}

func TestClone(t *testing.T) {
	mp := MultiPolygon{{sq(0, 0, 1, 1)}}
	c := mp.Clone()
	c[0][0][0].Lng = 42
	if mp[0][0][0].Lng != 0 {
		t.Error("Clone shares memory with the original")
	}
}
