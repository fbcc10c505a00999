package geo

import (
	"math"
	"math/rand/v2"
	"testing"
)

// noisyCircle returns a closed ring of n points around c with radius r
// degrees and radial noise.
func noisyCircle(c Point, r float64, n int, noise float64, rng *rand.Rand) Ring {
	ring := make(Ring, 0, n+1)
	for i := 0; i < n; i++ {
		a := 2 * math.Pi * float64(i) / float64(n)
		rr := r * (1 + noise*(rng.Float64()*2-1))
		ring = append(ring, Point{c.Lng + rr*math.Cos(a), c.Lat + rr*math.Sin(a)})
	}
	return append(ring, ring[0])
}

func TestSimplify(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	circle := MultiPolygon{{
		noisyCircle(Point{106.5, 29.5}, 0.01, 500, 0.05, rng),
		noisyCircle(Point{106.5, 29.5}, 0.003, 100, 0.05, rng), // hole
	}}
	grids := MultiPolygon{}
	for _, e := range SyntheticGrids(50, 1, chongqing) {
		grids = append(grids, e.Shape...)
	}
	sliver := MultiPolygon{{Ring{{0, 0}, {1, 0}, {2, 1e-9}, {3, 0}, {3, 1e-9}, {0, 0}}}}
	triangle := MultiPolygon{{Ring{{0, 0}, {1, 0}, {0, 1}, {0, 0}}}}
	openRing := MultiPolygon{{Ring{{0, 0}, {1, 0}, {1, 1}, {0.5, 1.0001}, {0, 1}}}}
	tests := []struct {
		name  string
		shape MultiPolygon
		tol   float64
	}{
		{"circle fine", circle, 0.00001},
		{"circle coarse", circle, 0.001},
		{"circle huge tolerance", circle, 10},
		{"circle infinite tolerance", circle, math.Inf(1)},
		{"grids", grids, 0.0005},
		{"sliver", sliver, 0.1},
		{"triangle", triangle, 5},
		{"open ring", openRing, 0.01},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tt.shape.Clone()
			got := Simplify(tt.shape, tt.tol)
			if !equalShapes(before, tt.shape) {
				t.Fatal("Simplify modified its input")
			}
			if err := got.Validate(); err != nil {
				t.Fatalf("simplified shape is invalid: %v", err)
			}
			if len(got) != len(tt.shape) {
				t.Fatalf("got %d polygons, want %d", len(got), len(tt.shape))
			}
			for i, poly := range got {
				if len(poly) != len(tt.shape[i]) {
					t.Fatalf("polygon %d: %d rings, want %d", i, len(poly), len(tt.shape[i]))
				}
				for j, ring := range poly {
					orig := tt.shape[i][j]
					if len(ring) > len(orig)+1 {
						t.Errorf("ring %d/%d grew from %d to %d points", i, j, len(orig), len(ring))
					}
					if orig.area() != 0 && ring.area() == 0 {
						t.Errorf("ring %d/%d lost all its area", i, j)
					}
					// Douglas–Peucker guarantee: every dropped point is
					// within tolerance of the simplified outline.
					if !math.IsInf(tt.tol, 1) {
						for _, p := range orig {
							if d := math.Sqrt(distToRing(p, ring)); d > tt.tol*(1+1e-9) {
								t.Fatalf("ring %d/%d: point %v is %g from the outline, tolerance %g", i, j, p, d, tt.tol)
							}
						}
					}
				}
			}
		})
	}
	if n := len(Simplify(circle, 0.001)[0][0]); n >= 100 {
		t.Errorf("coarse simplification kept %d of 500 points", n)
	}
	if got := Simplify(circle, 0); !equalShapes(got, circle) {
		t.Error("tolerance 0 must return an equal copy")
	}
	if got := Simplify(circle, math.NaN()); !equalShapes(got, circle) {
		t.Error("tolerance NaN must return an equal copy")
	}
	if Simplify(nil, 1) != nil {
		t.Error("Simplify(nil) must be nil")
	}
}

func (r Ring) area() float64 {
	a, _, _ := newPlane(Point{}).ringMoments(r)
	return a
}

func distToRing(p Point, r Ring) float64 {
	best := math.Inf(1)
	for i := 0; i+1 < len(r); i++ {
		best = math.Min(best, sqSegDist(p, r[i], r[i+1]))
	}
	return best
}

func equalShapes(a, b MultiPolygon) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			if len(a[i][j]) != len(b[i][j]) {
				return false
			}
			for k := range a[i][j] {
				if a[i][j][k] != b[i][j][k] {
					return false
				}
			}
		}
	}
	return true
}
