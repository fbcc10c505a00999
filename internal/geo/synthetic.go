package geo

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// syntheticSpacing is the lattice step of SyntheticGrids in meters; with the
// jitter below, cells come out roughly 200–400 m across, like real urban
// grids.
const syntheticSpacing = 300.0

// SyntheticGrids returns n grid polygons that tile a region north-east of
// origin, for benchmarks and scale tests where real grid maps are not
// available (and may not be published).
//
// The cells come from a lattice of about √n × √n whose corners are jittered,
// with one or two jittered points added on every edge, so each cell is an
// irregular polygon of 8–12 vertices. Neighbours build their shared edges
// from the same points, so the cells tile without gaps or overlaps, and the
// outer border is straight: every point in the rectangle spanned by complete
// rows lies in exactly one cell. The same seed gives the same grids.
//
// Codes look like grid codes under Yuzhong (500103): 3-digit street,
// community and serial numbers, with up to 50 grids per community and 100
// communities per street.
func SyntheticGrids(n int, seed int64, origin Point) []Entry {
	if n <= 0 {
		return nil
	}
	cols := int(math.Ceil(math.Sqrt(float64(n))))
	rows := (n + cols - 1) / cols
	rng := rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))

	pl := newPlane(origin)
	ky := metersPerDegree
	kx := pl.kx
	// toDeg converts a displacement in meters to degrees at origin.
	toDeg := func(mx, my float64) Point { return Point{mx / kx, my / ky} }
	jitter := func(frac float64) float64 { return (rng.Float64()*2 - 1) * frac * syntheticSpacing }

	// Lattice corners, jittered by up to 15 % of the spacing; border corners
	// only slide along the border so the outline stays a rectangle.
	corner := make([][]Point, rows+1)
	for r := 0; r <= rows; r++ {
		corner[r] = make([]Point, cols+1)
		for c := 0; c <= cols; c++ {
			mx := float64(c) * syntheticSpacing
			my := float64(r) * syntheticSpacing
			if c > 0 && c < cols {
				mx += jitter(0.15)
			}
			if r > 0 && r < rows {
				my += jitter(0.15)
			}
			d := toDeg(mx, my)
			corner[r][c] = Point{origin.Lng + d.Lng, origin.Lat + d.Lat}
		}
	}
	// edgePoints returns one or two points between a and b, pushed off the
	// line by up to 6 % of the spacing (not at all on the border). Those
	// limits keep every cell a simple polygon: corners stay at least ~44°
	// wide and the added points stay within ~15° of their edge.
	edgePoints := func(a, b Point, border bool) []Point {
		k := 1 + rng.IntN(2)
		ax, ay := pl.xy(a)
		bx, by := pl.xy(b)
		dx, dy := bx-ax, by-ay
		l := math.Hypot(dx, dy)
		nx, ny := -dy/l, dx/l
		pts := make([]Point, k)
		for i := range pts {
			t := float64(i+1) / float64(k+1)
			off := jitter(0.06)
			if border {
				off = 0
			}
			d := toDeg(ax+t*dx+off*nx, ay+t*dy+off*ny)
			pts[i] = Point{origin.Lng + d.Lng, origin.Lat + d.Lat}
		}
		return pts
	}
	// horiz[r][c] runs from corner[r][c] east to corner[r][c+1];
	// vert[r][c] runs from corner[r][c] north to corner[r+1][c].
	horiz := make([][][]Point, rows+1)
	for r := 0; r <= rows; r++ {
		horiz[r] = make([][]Point, cols)
		for c := 0; c < cols; c++ {
			horiz[r][c] = edgePoints(corner[r][c], corner[r][c+1], r == 0 || r == rows)
		}
	}
	vert := make([][][]Point, rows)
	for r := 0; r < rows; r++ {
		vert[r] = make([][]Point, cols+1)
		for c := 0; c <= cols; c++ {
			vert[r][c] = edgePoints(corner[r][c], corner[r+1][c], c == 0 || c == cols)
		}
	}

	out := make([]Entry, 0, n)
	for i := 0; i < n; i++ {
		r, c := i/cols, i%cols
		ring := make(Ring, 0, 13)
		// Counter-clockwise: south edge east, east edge north, north edge
		// west, west edge south.
		ring = append(ring, corner[r][c])
		ring = append(ring, horiz[r][c]...)
		ring = append(ring, corner[r][c+1])
		ring = append(ring, vert[r][c+1]...)
		ring = append(ring, corner[r+1][c+1])
		ring = appendReversed(ring, horiz[r+1][c])
		ring = append(ring, corner[r+1][c])
		ring = appendReversed(ring, vert[r][c])
		ring = append(ring, corner[r][c])
		street, community, serial := i/5000+1, i/50%100+1, i%50+1
		out = append(out, Entry{
			Code:  fmt.Sprintf("500103%03d%03d%03d", street, community, serial),
			Shape: MultiPolygon{{ring}},
		})
	}
	return out
}

func appendReversed(dst, src []Point) []Point {
	for i := len(src) - 1; i >= 0; i-- {
		dst = append(dst, src[i])
	}
	return dst
}
