package geo

import "math"

// Simplify returns a copy of mp with each ring reduced by the Douglas–Peucker
// algorithm, for serving maps at low zoom where full detail only costs bytes.
//
// tolerance is in degrees, the unit of the coordinates, because map clients
// pick it from the zoom level (about the size of a pixel). Every ring comes
// back closed with at least 4 points, and a ring that had area keeps some:
// the first point, the point farthest from it and the point farthest from
// the line between them are always kept. A tolerance that is not positive
// returns an unchanged copy. mp itself is never modified.
func Simplify(mp MultiPolygon, tolerance float64) MultiPolygon {
	if mp == nil {
		return nil
	}
	if !(tolerance > 0) { // also catches NaN
		return mp.Clone()
	}
	out := make(MultiPolygon, len(mp))
	for i, poly := range mp {
		np := make(Polygon, len(poly))
		for j, ring := range poly {
			np[j] = simplifyRing(ring, tolerance)
		}
		out[i] = np
	}
	return out
}

// simplifyRing simplifies one ring; see Simplify.
func simplifyRing(ring Ring, tol float64) Ring {
	pts := ring
	if len(pts) > 1 && pts[0] == pts[len(pts)-1] {
		pts = pts[:len(pts)-1]
	}
	m := len(pts)
	if m < 4 {
		// Three distinct points or fewer: nothing can go. Close the ring so
		// the output is uniform.
		out := append(Ring(nil), pts...)
		if m > 0 {
			out = append(out, pts[0])
		}
		return out
	}
	// Work on the closed form: index m is pts[0] again.
	at := func(i int) Point {
		if i == m {
			return pts[0]
		}
		return pts[i]
	}
	far, farD := 0, -1.0
	for i := 1; i < m; i++ {
		if d := sqDist(pts[0], pts[i]); d > farD {
			far, farD = i, d
		}
	}
	keep := make([]bool, m+1)
	keep[0], keep[far], keep[m] = true, true, true
	tol2 := tol * tol
	type span struct{ lo, hi int }
	stack := []span{{0, far}, {far, m}}
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		best, bestD := -1, tol2
		a, b := at(s.lo), at(s.hi)
		for i := s.lo + 1; i < s.hi; i++ {
			if d := sqSegDist(at(i), a, b); d > bestD {
				best, bestD = i, d
			}
		}
		if best >= 0 {
			keep[best] = true
			stack = append(stack, span{s.lo, best}, span{best, s.hi})
		}
	}
	kept := 0
	for i := 0; i < m; i++ {
		if keep[i] {
			kept++
		}
	}
	if kept < 3 {
		// Only the two anchors survived: add the point farthest from the
		// line between them so the ring keeps an area and stays valid.
		best, bestD := -1, -1.0
		for i := 1; i < m; i++ {
			if i == far {
				continue
			}
			if d := sqSegDist(pts[i], pts[0], pts[far]); d > bestD {
				best, bestD = i, d
			}
		}
		keep[best] = true
	}
	out := make(Ring, 0, kept+2)
	for i := 0; i < m; i++ {
		if keep[i] {
			out = append(out, pts[i])
		}
	}
	return append(out, pts[0])
}

func sqDist(a, b Point) float64 {
	dx, dy := a.Lng-b.Lng, a.Lat-b.Lat
	return dx*dx + dy*dy
}

// sqSegDist is the squared distance from p to segment ab. The segment rather
// than the infinite line is used so that spikes doubling back past an
// endpoint are not mistaken for points on the line.
func sqSegDist(p, a, b Point) float64 {
	dx, dy := b.Lng-a.Lng, b.Lat-a.Lat
	l2 := dx*dx + dy*dy
	if l2 == 0 {
		return sqDist(p, a)
	}
	t := ((p.Lng-a.Lng)*dx + (p.Lat-a.Lat)*dy) / l2
	t = math.Max(0, math.Min(1, t))
	return sqDist(p, Point{a.Lng + t*dx, a.Lat + t*dy})
}
