package geo

import (
	"cmp"
	"math"
	"slices"

	"github.com/tidwall/rtree"
)

// Entry is one named shape to index, typically a grid code and its polygon.
type Entry struct {
	Code  string
	Shape MultiPolygon
}

// Index answers "which grid is this point in?" for a fixed set of shapes.
//
// It is immutable once built: a refresh builds a new Index and swaps the
// pointer, so readers never lock and any number of goroutines may call its
// methods at once.
type Index struct {
	tree    rtree.RTreeGN[float32, int32] // bounding box of each part → index into parts
	parts   []part
	rings   []span  // holes of all parts, in part order
	points  []Point // vertices of all rings, in ring order
	entries []indexed
	bounds  Rect
}

// part is one polygon of one entry, laid out flat so that a lookup touches
// a few contiguous arrays instead of chasing slice headers. The tree holds
// one rectangle per polygon rather than per entry so that a region with a
// far exclave does not cover everything between its parts.
type part struct {
	code       string // the entry's code, here so a lookup needs no other array
	entry      int32
	poly       int32 // which polygon of the entry's shape
	outer      span  // into Index.points: the outer ring, inline since every lookup needs it
	holes      span  // into Index.rings
	area       float64
	minX, minY float64
	maxX, maxY float64
}

// span is a half-open range [lo, hi) of indexes.
type span struct{ lo, hi int32 }

type indexed struct {
	code  string
	shape MultiPolygon // a private copy, for Within
	area  float64
}

// NewIndex builds an index over entries. Shapes are copied, so later changes
// by the caller cannot affect the index. Entries without any point, or with
// non-finite coordinates, are left out since no point could be located in
// them.
//
// Parts are stored and inserted in Hilbert-curve order: neighbouring grids
// then sit next to each other both in the tree's nodes and in memory, which
// makes nodes tighter and a lookup's few cache lines warm.
func NewIndex(entries []Entry) *Index {
	ix := &Index{entries: make([]indexed, 0, len(entries))}
	type pending struct {
		entry int32
		poly  int32
		src   Polygon // the caller's, copied below
		box   Rect
	}
	var todo []pending
	total := 0
	first := true
	for _, e := range entries {
		if !indexable(e.Shape) {
			continue
		}
		n := int32(len(ix.entries))
		ix.entries = append(ix.entries, indexed{
			code:  e.Code,
			shape: make(MultiPolygon, len(e.Shape)),
			area:  e.Shape.Area(),
		})
		for j, poly := range e.Shape {
			for _, ring := range poly {
				total += len(ring)
			}
			if len(poly) == 0 || len(poly[0]) == 0 {
				continue
			}
			b := poly.Bounds()
			todo = append(todo, pending{n, int32(j), poly, b})
			ix.bounds = ix.bounds.extend(b.Min, first).extend(b.Max, false)
			first = false
		}
	}
	keys := make([]uint64, len(todo))
	for i, t := range todo {
		keys[i] = ix.hilbertKey(t.box)
	}
	order := make([]int, len(todo))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(keys[a], keys[b]) })

	// The capacity is exact, so the block is never reallocated and the
	// entries' private shapes can be views into it.
	ix.points = make([]Point, 0, total)
	ix.parts = make([]part, 0, len(todo))
	copyRing := func(ring Ring) (Ring, span) {
		lo := len(ix.points)
		ix.points = append(ix.points, ring...)
		hi := len(ix.points)
		return Ring(ix.points[lo:hi:hi]), span{int32(lo), int32(hi)}
	}
	for _, i := range order {
		t := todo[i]
		e := &ix.entries[t.entry]
		p := part{
			code:  e.code,
			entry: t.entry,
			poly:  t.poly,
			area:  e.area,
			minX:  t.box.Min.Lng, minY: t.box.Min.Lat,
			maxX: t.box.Max.Lng, maxY: t.box.Max.Lat,
		}
		poly := t.src
		own := make(Polygon, len(poly))
		own[0], p.outer = copyRing(poly[0])
		p.holes.lo = int32(len(ix.rings))
		for k, ring := range poly[1:] {
			var sp span
			own[k+1], sp = copyRing(ring)
			ix.rings = append(ix.rings, sp)
		}
		p.holes.hi = int32(len(ix.rings))
		e.shape[t.poly] = own
		ix.tree.Insert(
			[2]float32{down32(p.minX), down32(p.minY)},
			[2]float32{up32(p.maxX), up32(p.maxY)},
			int32(len(ix.parts)))
		ix.parts = append(ix.parts, p)
	}
	return ix
}

// The tree keeps float32 rectangles, which halves the memory a lookup scans.
// Rounding outward keeps every rectangle a superset of the true bounding
// box, so the exact test that follows still decides; at these longitudes a
// float32 step is under a meter, so few extra candidates appear.
func down32(f float64) float32 {
	g := float32(f)
	if float64(g) > f {
		g = math.Nextafter32(g, float32(math.Inf(-1)))
	}
	return g
}

func up32(f float64) float32 {
	g := float32(f)
	if float64(g) < f {
		g = math.Nextafter32(g, float32(math.Inf(1)))
	}
	return g
}

// hilbertKey maps the centre of b to its position on a Hilbert curve over
// the index's bounds.
func (ix *Index) hilbertKey(b Rect) uint64 {
	const side = 1 << 16
	w := ix.bounds.Max.Lng - ix.bounds.Min.Lng
	h := ix.bounds.Max.Lat - ix.bounds.Min.Lat
	cell := func(v, lo, size float64) uint64 {
		if !(size > 0) {
			return 0
		}
		c := (v - lo) / size * (side - 1)
		return uint64(math.Max(0, math.Min(side-1, c)))
	}
	x := cell((b.Min.Lng+b.Max.Lng)/2, ix.bounds.Min.Lng, w)
	y := cell((b.Min.Lat+b.Max.Lat)/2, ix.bounds.Min.Lat, h)
	return Hilbert(side, x, y)
}

// Hilbert is the position of cell (x, y) along the Hilbert curve that fills
// a side × side grid (side a power of two): cells close on the curve are
// close on the map.
func Hilbert(side, x, y uint64) uint64 {
	var d uint64
	for s := side / 2; s > 0; s /= 2 {
		var rx, ry uint64
		if x&s != 0 {
			rx = 1
		}
		if y&s != 0 {
			ry = 1
		}
		d += s * s * ((3 * rx) ^ ry)
		// Rotate the quadrant so the curve stays continuous.
		if ry == 0 {
			if rx == 1 {
				x = side - 1 - x
				y = side - 1 - y
			}
			x, y = y, x
		}
	}
	return d
}

// indexable reports whether mp has at least one point and only finite
// coordinates; NaN would poison the tree's rectangles.
func indexable(mp MultiPolygon) bool {
	n := 0
	for _, poly := range mp {
		for _, ring := range poly {
			for _, p := range ring {
				if math.IsNaN(p.Lng) || math.IsNaN(p.Lat) || math.IsInf(p.Lng, 0) || math.IsInf(p.Lat, 0) {
					return false
				}
			}
			n += len(ring)
		}
	}
	return n > 0
}

// Len returns the number of entries in the index.
func (ix *Index) Len() int {
	if ix == nil {
		return 0
	}
	return len(ix.entries)
}

// Bounds returns the bounding box of every indexed shape, or the zero Rect
// for an empty index.
func (ix *Index) Bounds() Rect {
	if ix == nil {
		return Rect{}
	}
	return ix.bounds
}

// Locate returns the code of the shape containing p. A nil or empty index and
// an invalid point find nothing, so callers can use an index that is still
// loading.
//
// Shapes should not overlap; when they do, the one with the smallest area
// wins (the more specific shape), then the smallest code, then the earliest
// entry, so that the answer never depends on the tree's internal order.
func (ix *Index) Locate(p Point) (code string, ok bool) {
	if ix == nil || !p.Valid() {
		return "", false
	}
	best := int32(-1) // a part
	lo := [2]float32{down32(p.Lng), down32(p.Lat)}
	hi := [2]float32{up32(p.Lng), up32(p.Lat)}
	ix.tree.Search(lo, hi, func(_, _ [2]float32, i int32) bool {
		pt := &ix.parts[i]
		// The float32 rectangle may be a hair too large: check the exact
		// box first, from the part that is loaded anyway.
		if p.Lng < pt.minX || p.Lng > pt.maxX || p.Lat < pt.minY || p.Lat > pt.maxY {
			return true
		}
		// A candidate that could not beat the current winner is not worth
		// the exact test.
		if best >= 0 && !ix.before(pt, &ix.parts[best]) {
			return true
		}
		if ix.partContains(pt, p) {
			best = i
		}
		return true
	})
	if best < 0 {
		return "", false
	}
	return ix.parts[best].code, true
}

// partContains is Polygon.Contains over the flat layout.
func (ix *Index) partContains(pt *part, p Point) bool {
	if !Ring(ix.points[pt.outer.lo:pt.outer.hi]).Contains(p) {
		return false
	}
	in := true
	for _, h := range ix.rings[pt.holes.lo:pt.holes.hi] {
		if Ring(ix.points[h.lo:h.hi]).Contains(p) {
			in = !in
		}
	}
	return in
}

// before reports whether entry a takes precedence over entry b when both
// contain a point.
func (ix *Index) before(a, b *part) bool {
	if a.area != b.area {
		return a.area < b.area
	}
	if a.entry == b.entry {
		return false // another part of the winner
	}
	if a.code != b.code {
		return a.code < b.code
	}
	return a.entry < b.entry
}

// Within calls fn with the code of every shape that intersects r, until fn
// returns false. It is meant for map tiles: the shapes to draw in a view.
// Shapes are reported once each, in no particular order.
func (ix *Index) Within(r Rect, fn func(code string) bool) {
	if ix == nil || !r.Min.Valid() || !r.Max.Valid() {
		return
	}
	lo := [2]float32{down32(r.Min.Lng), down32(r.Min.Lat)}
	hi := [2]float32{up32(r.Max.Lng), up32(r.Max.Lat)}
	ix.tree.Search(lo, hi, func(_, _ [2]float32, i int32) bool {
		pt := &ix.parts[i]
		e := &ix.entries[pt.entry]
		if !e.shape[pt.poly].intersectsRect(r) {
			return true
		}
		// Report a multi-part shape from its first intersecting polygon
		// only, which deduplicates without keeping per-call state.
		for _, poly := range e.shape[:pt.poly] {
			if poly.intersectsRect(r) {
				return true
			}
		}
		return fn(e.code)
	})
}

// intersectsRect reports whether the polygon (holes respected) and r share
// a point: either an edge of the polygon enters r, or r lies wholly inside.
func (poly Polygon) intersectsRect(r Rect) bool {
	if len(poly) == 0 || !poly.Bounds().Intersects(r) {
		return false
	}
	for _, ring := range poly {
		for i := range ring {
			a := ring[i]
			b := ring[(i+1)%len(ring)]
			if segmentIntersectsRect(a, b, r) {
				return true
			}
		}
	}
	// No edge touches r, so r is wholly inside, wholly outside, or wholly in
	// a hole: one corner decides.
	return poly.Contains(r.Min)
}

// segmentIntersectsRect clips segment ab against r (Liang–Barsky) and
// reports whether any part of it remains.
func segmentIntersectsRect(a, b Point, r Rect) bool {
	t0, t1 := 0.0, 1.0
	dx, dy := b.Lng-a.Lng, b.Lat-a.Lat
	clip := func(p, q float64) bool {
		if p == 0 {
			return q >= 0
		}
		t := q / p
		if p < 0 {
			if t > t1 {
				return false
			}
			if t > t0 {
				t0 = t
			}
		} else {
			if t < t0 {
				return false
			}
			if t < t1 {
				t1 = t
			}
		}
		return true
	}
	return clip(-dx, a.Lng-r.Min.Lng) && clip(dx, r.Max.Lng-a.Lng) &&
		clip(-dy, a.Lat-r.Min.Lat) && clip(dy, r.Max.Lat-a.Lat)
}
