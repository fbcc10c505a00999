package main

import (
	"fmt"
	"math"
	"sort"
)

// pt is a point in integer micro-degrees (1e-6°) of longitude (X) and
// latitude (Y). All geometry is exact integer arithmetic on such points, so
// neighbouring shapes share their edges bit for bit.
type pt struct{ X, Y int64 }

// Metres per micro-degree near Yuzhong (29.55° N), for areas, lengths and
// the lattice size. A local equirectangular approximation is plenty here.
var (
	metresPerUdegX = 111320 * math.Cos(29.55*math.Pi/180) / 1e6
	metresPerUdegY = 110860.0 / 1e6
)

// deg converts micro-degrees to degrees.
func deg(v int64) float64 { return float64(v) / 1e6 }

// areaM2 converts twice a signed area in square micro-degrees to m².
func areaM2(a2 int64) float64 { return float64(a2) / 2 * metresPerUdegX * metresPerUdegY }

// lengthM is the length of segment a–b in metres.
func lengthM(a, b pt) float64 {
	return math.Hypot(float64(b.X-a.X)*metresPerUdegX, float64(b.Y-a.Y)*metresPerUdegY)
}

// roundDiv returns a/b rounded half away from zero; b > 0.
func roundDiv(a, b int64) int64 {
	if a >= 0 {
		return (2*a + b) / (2 * b)
	}
	return -((-2*a + b) / (2 * b))
}

// floorDiv returns ⌊a/b⌋; b > 0.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// area2 is twice the signed area of ring r (positive when counter-clockwise).
func area2(r []pt) int64 {
	if len(r) < 3 {
		return 0
	}
	o := r[0]
	var s int64
	for i := 1; i+1 < len(r); i++ {
		a, b := r[i], r[i+1]
		s += (a.X-o.X)*(b.Y-o.Y) - (b.X-o.X)*(a.Y-o.Y)
	}
	return s
}

// centroid is the area centroid of ring r, rounded to micro-degrees.
func centroid(r []pt) pt {
	o := r[0]
	var cx, cy, a float64
	for i := range r {
		p, q := r[i], r[(i+1)%len(r)]
		px, py := float64(p.X-o.X), float64(p.Y-o.Y)
		qx, qy := float64(q.X-o.X), float64(q.Y-o.Y)
		c := px*qy - qx*py
		a += c
		cx += (px + qx) * c
		cy += (py + qy) * c
	}
	if a == 0 {
		return o
	}
	return pt{o.X + int64(math.Round(cx/(3*a))), o.Y + int64(math.Round(cy/(3*a)))}
}

// box is an axis-aligned bounding box.
type box struct{ min, max pt }

// bounds is the bounding box of the points.
func bounds(r []pt) box {
	b := box{r[0], r[0]}
	for _, p := range r {
		b.min.X = min(b.min.X, p.X)
		b.min.Y = min(b.min.Y, p.Y)
		b.max.X = max(b.max.X, p.X)
		b.max.Y = max(b.max.Y, p.Y)
	}
	return b
}

// reverse reverses r in place.
func reverse(r []pt) {
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
}

// edge is a directed segment from A to B.
type edge struct{ A, B pt }

// less orders points by X, then Y.
func (p pt) less(q pt) bool {
	if p.X != q.X {
		return p.X < q.X
	}
	return p.Y < q.Y
}

// netEdges cancels edges that are traversed in both directions: the result
// holds, for every segment, its net multiplicity, which must be -1, 0 or 1.
// Interior edges between shapes of one union cancel; what remains is the
// union's boundary. The result is sorted.
func netEdges(es []edge) ([]edge, error) {
	net := map[edge]int{}
	for _, e := range es {
		if e.A == e.B {
			continue
		}
		if e.A.less(e.B) {
			net[e]++
		} else {
			net[edge{e.B, e.A}]--
		}
	}
	out := make([]edge, 0, len(net))
	for e, n := range net {
		switch n {
		case 0:
		case 1:
			out = append(out, e)
		case -1:
			out = append(out, edge{e.B, e.A})
		default:
			return nil, fmt.Errorf("segment %v–%v has multiplicity %d", e.A, e.B, n)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].A != out[j].A {
			return out[i].A.less(out[j].A)
		}
		return out[i].B.less(out[j].B)
	})
	return out, nil
}

// buildRings chains boundary edges (interior on their left) into closed
// rings, without the closing point. Where several edges leave one vertex
// (two parts touching at a corner), it takes the sharpest left turn, which
// keeps every ring simple. Outer rings come out counter-clockwise, holes
// clockwise.
func buildRings(es []edge) ([][]pt, error) {
	from := map[pt][]int{}
	for i, e := range es {
		from[e.A] = append(from[e.A], i)
	}
	used := make([]bool, len(es))
	var rings [][]pt
	for start := range es {
		if used[start] {
			continue
		}
		used[start] = true
		ring := []pt{es[start].A}
		cur := start
		for {
			v := es[cur].B
			din := pt{v.X - es[cur].A.X, v.Y - es[cur].A.Y}
			best, bestAngle := -1, -math.MaxFloat64
			for _, k := range from[v] {
				if used[k] && k != start {
					continue
				}
				dout := pt{es[k].B.X - v.X, es[k].B.Y - v.Y}
				cross := float64(din.X)*float64(dout.Y) - float64(din.Y)*float64(dout.X)
				dot := float64(din.X)*float64(dout.X) + float64(din.Y)*float64(dout.Y)
				if a := math.Atan2(cross, dot); a > bestAngle {
					best, bestAngle = k, a
				}
			}
			if best < 0 {
				return nil, fmt.Errorf("open boundary at %v", v)
			}
			if best == start {
				break
			}
			used[best] = true
			ring = append(ring, v)
			cur = best
		}
		rings = append(rings, ring)
	}
	return rings, nil
}

// simplify drops the vertices of a ring that lie on a straight line between
// their neighbours, and starts the ring at its lowest-left vertex.
func simplify(r []pt) []pt {
	for changed := true; changed && len(r) > 3; {
		changed = false
		var out []pt
		n := len(r)
		for i := range r {
			a, b, c := r[(i+n-1)%n], r[i], r[(i+1)%n]
			if (b.X-a.X)*(c.Y-b.Y)-(b.Y-a.Y)*(c.X-b.X) == 0 && (b.X-a.X)*(c.X-b.X)+(b.Y-a.Y)*(c.Y-b.Y) > 0 {
				changed = true
				continue
			}
			out = append(out, b)
		}
		r = out
	}
	lo := 0
	for i, p := range r {
		if p.Y < r[lo].Y || p.Y == r[lo].Y && p.X < r[lo].X {
			lo = i
		}
	}
	return append(append([]pt(nil), r[lo:]...), r[:lo]...)
}

// polygon is an outer ring (counter-clockwise) and its holes (clockwise).
type polygon [][]pt

// unionPolygons returns the union of the shapes whose boundaries are given
// as edges, as polygons sorted by their first point.
func unionPolygons(es []edge) ([]polygon, error) {
	net, err := netEdges(es)
	if err != nil {
		return nil, err
	}
	rings, err := buildRings(net)
	if err != nil {
		return nil, err
	}
	var outers []polygon
	var holes [][]pt
	for _, r := range rings {
		r = simplify(r)
		switch a := area2(r); {
		case a > 0:
			outers = append(outers, polygon{r})
		case a < 0:
			holes = append(holes, r)
		default:
			return nil, fmt.Errorf("ring of zero area at %v", r[0])
		}
	}
	sort.Slice(outers, func(i, j int) bool { return outers[i][0][0].less(outers[j][0][0]) })
	for _, h := range holes {
		host := -1
		for i, o := range outers {
			if ringContainsRing(o[0], h) && (host < 0 || area2(o[0]) < area2(outers[host][0])) {
				host = i
			}
		}
		if host < 0 {
			return nil, fmt.Errorf("hole at %v has no outer ring", h[0])
		}
		outers[host] = append(outers[host], h)
	}
	return outers, nil
}

// ringContainsRing reports whether ring h lies inside ring o, judged by the
// first vertex of h that is not on o's boundary.
func ringContainsRing(o, h []pt) bool {
	for _, p := range h {
		switch pointInRing(p, o) {
		case 1:
			return true
		case -1:
			return false
		}
	}
	return false
}

// pointInRing returns 1 if p is inside ring r, -1 if outside, 0 if on its
// boundary (exact, by crossing count).
func pointInRing(p pt, r []pt) int {
	in := false
	for i := range r {
		a, b := r[i], r[(i+1)%len(r)]
		// On the segment?
		if (b.X-a.X)*(p.Y-a.Y)-(b.Y-a.Y)*(p.X-a.X) == 0 &&
			min(a.X, b.X) <= p.X && p.X <= max(a.X, b.X) && min(a.Y, b.Y) <= p.Y && p.Y <= max(a.Y, b.Y) {
			return 0
		}
		if (a.Y > p.Y) != (b.Y > p.Y) {
			// x of the crossing compared with p.X, without division.
			lhs := (p.X - a.X) * (b.Y - a.Y)
			rhs := (b.X - a.X) * (p.Y - a.Y)
			if b.Y-a.Y > 0 {
				if lhs < rhs {
					in = !in
				}
			} else if lhs > rhs {
				in = !in
			}
		}
	}
	if in {
		return 1
	}
	return -1
}

// ringEdges returns the edges of a ring.
func ringEdges(r []pt) []edge {
	es := make([]edge, len(r))
	for i := range r {
		es[i] = edge{r[i], r[(i+1)%len(r)]}
	}
	return es
}
