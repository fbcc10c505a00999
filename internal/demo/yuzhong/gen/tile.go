package main

import (
	"fmt"
	"math"
	"sort"
)

// lattice is a grid of w×h micro-degree cells whose corners are at
// (x0 + i·w, y0 + j·h). Cell (i, j) spans [x0+i·w, x0+(i+1)·w] ×
// [y0+j·h, y0+(j+1)·h]; j grows northwards.
type lattice struct {
	x0, y0, w, h int64
	// Where the outline crosses the lattice lines: for a vertical line
	// (keyed by its x) the sorted y of its crossings, and for a horizontal
	// line (keyed by its y) the sorted x.
	vcross, hcross map[int64][]int64
}

// cellRect is the rectangle of cell (i, j).
func (l *lattice) cellRect(i, j int64) box {
	return box{pt{l.x0 + i*l.w, l.y0 + j*l.h}, pt{l.x0 + (i+1)*l.w, l.y0 + (j+1)*l.h}}
}

// onV and onH report whether x (y) is on a vertical (horizontal) line.
func (l *lattice) onV(x int64) bool { return (x-l.x0)%l.w == 0 }
func (l *lattice) onH(y int64) bool { return (y-l.y0)%l.h == 0 }

// near reports whether v is within 1 of a line of the family (v0 + k·step).
func near(v, v0, step int64) bool {
	m := ((v-v0)%step + step) % step
	return m <= 1 || m >= step-1
}

// splitOutline places a lattice of about cellMetres over ring (counter-
// clockwise) and inserts into the ring every point where it crosses a
// lattice line, rounded to micro-degrees. After that every segment of the
// ring lies within one (closed) cell, and the crossing points are shared
// by the cells on both sides of their line.
//
// The lattice origin is shifted, deterministically, until no vertex lies on
// a lattice line and no crossing lies within 1 µ° of a lattice corner, so
// that no case is degenerate.
func splitOutline(ring []pt, cellMetres float64) (*lattice, []pt, error) {
	w := int64(math.Round(cellMetres / metresPerUdegX))
	h := int64(math.Round(cellMetres / metresPerUdegY))
	if w < 10 || h < 10 {
		return nil, nil, fmt.Errorf("cell size %v m is too small", cellMetres)
	}
	b := bounds(ring)
	baseX := floorDiv(b.min.X, 1000)*1000 - w
	baseY := floorDiv(b.min.Y, 1000)*1000 - h
tries:
	for off := int64(0); off < 500; off++ {
		l := &lattice{x0: baseX + off, y0: baseY + off, w: w, h: h, vcross: map[int64][]int64{}, hcross: map[int64][]int64{}}
		for _, p := range ring {
			if l.onV(p.X) || l.onH(p.Y) {
				continue tries
			}
		}
		var out []pt
		for k := range ring {
			a, c := ring[k], ring[(k+1)%len(ring)]
			out = append(out, a)
			type crossing struct {
				t float64
				p pt
			}
			var cs []crossing
			// Vertical lines strictly between a.X and c.X.
			lo, hi := min(a.X, c.X), max(a.X, c.X)
			for x := l.x0 + (floorDiv(lo-l.x0, w)+1)*w; x < hi; x += w {
				y := a.Y + roundDiv((c.Y-a.Y)*(x-a.X), c.X-a.X)
				if near(y, l.y0, h) {
					continue tries
				}
				cs = append(cs, crossing{float64(x-a.X) / float64(c.X-a.X), pt{x, y}})
				l.vcross[x] = append(l.vcross[x], y)
			}
			lo, hi = min(a.Y, c.Y), max(a.Y, c.Y)
			for y := l.y0 + (floorDiv(lo-l.y0, h)+1)*h; y < hi; y += h {
				x := a.X + roundDiv((c.X-a.X)*(y-a.Y), c.Y-a.Y)
				if near(x, l.x0, w) {
					continue tries
				}
				cs = append(cs, crossing{float64(y-a.Y) / float64(c.Y-a.Y), pt{x, y}})
				l.hcross[y] = append(l.hcross[y], x)
			}
			sort.Slice(cs, func(i, j int) bool { return cs[i].t < cs[j].t })
			for _, c := range cs {
				out = append(out, c.p)
			}
		}
		// Check: every segment lies within one closed cell.
		for k := range out {
			a, c := out[k], out[(k+1)%len(out)]
			i := floorDiv(a.X+c.X-2*l.x0, 2*w)
			j := floorDiv(a.Y+c.Y-2*l.y0, 2*h)
			r := l.cellRect(i, j)
			for _, p := range []pt{a, c} {
				if p.X < r.min.X || p.X > r.max.X || p.Y < r.min.Y || p.Y > r.max.Y {
					continue tries
				}
			}
		}
		if area2(out) <= 0 {
			continue
		}
		for _, m := range []map[int64][]int64{l.vcross, l.hcross} {
			for _, s := range m {
				sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
			}
		}
		return l, out, nil
	}
	return nil, nil, fmt.Errorf("found no lattice origin without degenerate crossings")
}

// piece is one connected part of (district ∩ cell): a counter-clockwise
// ring whose every edge is "atomic", i.e. split at every lattice crossing,
// so that the same edge of two neighbouring pieces has the same endpoints.
type piece struct {
	I, J int64 // cell
	Ring []pt
	A2   int64 // twice the area, µ°²
}

// cutPieces clips the split outline against every cell of the lattice and
// returns the non-empty pieces, ordered by cell (west to east, south to
// north) and then by first vertex.
func cutPieces(l *lattice, ring []pt) ([]piece, error) {
	b := bounds(ring)
	i0, i1 := floorDiv(b.min.X-l.x0, l.w), floorDiv(b.max.X-l.x0, l.w)
	j0, j1 := floorDiv(b.min.Y-l.y0, l.h), floorDiv(b.max.Y-l.y0, l.h)
	var out []piece
	for i := i0; i <= i1; i++ {
		for j := j0; j <= j1; j++ {
			r := l.cellRect(i, j)
			poly, err := clipRect(ring, r)
			if err != nil {
				return nil, fmt.Errorf("cell (%d,%d): %w", i, j, err)
			}
			if len(poly) < 3 {
				continue
			}
			es := l.atomicEdges(poly, r)
			net, err := netEdges(es)
			if err != nil {
				return nil, fmt.Errorf("cell (%d,%d): %w", i, j, err)
			}
			rings, err := buildRings(net)
			if err != nil {
				return nil, fmt.Errorf("cell (%d,%d): %w", i, j, err)
			}
			for _, rg := range rings {
				a := area2(rg)
				if a <= 0 {
					return nil, fmt.Errorf("cell (%d,%d): piece of area %d", i, j, a)
				}
				out = append(out, piece{I: i, J: j, Ring: rg, A2: a})
			}
		}
	}
	return out, nil
}

// atomicEdges returns the edges of the clipped polygon poly of cell r,
// splitting every edge that runs along a side of the cell at the outline's
// crossings with that side.
func (l *lattice) atomicEdges(poly []pt, r box) []edge {
	var es []edge
	for k := range poly {
		p, q := poly[k], poly[(k+1)%len(poly)]
		if p == q {
			continue
		}
		var cuts []pt
		switch {
		case p.X == q.X && (p.X == r.min.X || p.X == r.max.X):
			lo, hi := min(p.Y, q.Y), max(p.Y, q.Y)
			for _, y := range l.vcross[p.X] {
				if lo < y && y < hi {
					cuts = append(cuts, pt{p.X, y})
				}
			}
			if p.Y > q.Y {
				reverse(cuts)
			}
		case p.Y == q.Y && (p.Y == r.min.Y || p.Y == r.max.Y):
			lo, hi := min(p.X, q.X), max(p.X, q.X)
			for _, x := range l.hcross[p.Y] {
				if lo < x && x < hi {
					cuts = append(cuts, pt{x, p.Y})
				}
			}
			if p.X > q.X {
				reverse(cuts)
			}
		}
		prev := p
		for _, c := range cuts {
			es = append(es, edge{prev, c})
			prev = c
		}
		es = append(es, edge{prev, q})
	}
	return es
}

// clipRect clips polygon poly to rectangle r (Sutherland–Hodgman). Where the
// clipped polygon falls apart, the result joins the parts by edges running
// back and forth along the rectangle's sides; atomicEdges and netEdges
// cancel those. With a split outline, every intersection it computes is a
// vertex of poly or a lattice corner, so the arithmetic is exact; it fails
// if a division is not.
func clipRect(poly []pt, r box) ([]pt, error) {
	var err error
	pass := func(in []pt, inside func(pt) bool, cross func(a, b pt) pt) []pt {
		if len(in) == 0 || err != nil {
			return nil
		}
		out := make([]pt, 0, len(in)+4)
		prev := in[len(in)-1]
		for _, cur := range in {
			ci, pi := inside(cur), inside(prev)
			if ci != pi {
				out = append(out, cross(prev, cur))
			}
			if ci {
				out = append(out, cur)
			}
			prev = cur
		}
		return out
	}
	exact := func(num, den int64) int64 {
		if num%den != 0 {
			err = fmt.Errorf("inexact intersection %d/%d", num, den)
		}
		return num / den
	}
	atX := func(x int64) func(a, b pt) pt {
		return func(a, b pt) pt { return pt{x, a.Y + exact((b.Y-a.Y)*(x-a.X), b.X-a.X)} }
	}
	atY := func(y int64) func(a, b pt) pt {
		return func(a, b pt) pt { return pt{a.X + exact((b.X-a.X)*(y-a.Y), b.Y-a.Y), y} }
	}
	out := pass(poly, func(p pt) bool { return p.X >= r.min.X }, atX(r.min.X))
	out = pass(out, func(p pt) bool { return p.X <= r.max.X }, atX(r.max.X))
	out = pass(out, func(p pt) bool { return p.Y >= r.min.Y }, atY(r.min.Y))
	out = pass(out, func(p pt) bool { return p.Y <= r.max.Y }, atY(r.max.Y))
	return out, err
}
