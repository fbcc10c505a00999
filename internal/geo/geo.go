// Package geo holds the plane geometry zhizhi needs for regions and grids:
// WGS-84 longitude/latitude points, polygons with holes, point-in-polygon,
// areas and distances on the sphere, a spatial index for point → grid
// lookup, simplification for map serving and GeoJSON geometry encoding.
//
// It is pure Go with no I/O so that every layer (store, API, import tools)
// can share one definition of "inside a grid".
package geo

import "math"

// earthRadius is the IUGG mean Earth radius in meters; haversine distances and
// the local projections used for areas agree on it.
const earthRadius = 6371008.8

// metersPerDegree is the length of one degree of latitude (and of longitude at
// the equator) on the sphere of radius earthRadius.
const metersPerDegree = earthRadius * math.Pi / 180

// Point is a WGS-84 position. Longitude comes first, as in GeoJSON, so that
// x/y code reads naturally.
type Point struct {
	Lng float64 `json:"lng"`
	Lat float64 `json:"lat"`
}

// Valid reports whether p is a usable position: finite, longitude within
// [-180, 180] and latitude within [-90, 90]. NaN fails every comparison and
// ±Inf is out of range, so the range checks alone reject non-finite values.
func (p Point) Valid() bool {
	return p.Lng >= -180 && p.Lng <= 180 && p.Lat >= -90 && p.Lat <= 90
}

// Ring is a closed sequence of points. Rings produced or accepted by this
// package repeat the first point at the end, as GeoJSON requires; Contains
// and Area also work on rings that are not closed.
type Ring []Point

// Polygon is an outer ring followed by zero or more holes.
type Polygon []Ring

// MultiPolygon is a set of polygons; a region with exclaves has several.
type MultiPolygon []Polygon

// Rect is an axis-aligned bounding box in degrees.
type Rect struct {
	Min Point `json:"min"`
	Max Point `json:"max"`
}

// Contains reports whether p lies inside r or on its border.
func (r Rect) Contains(p Point) bool {
	return p.Lng >= r.Min.Lng && p.Lng <= r.Max.Lng && p.Lat >= r.Min.Lat && p.Lat <= r.Max.Lat
}

// Intersects reports whether r and o share at least one point.
func (r Rect) Intersects(o Rect) bool {
	return o.Min.Lng <= r.Max.Lng && o.Max.Lng >= r.Min.Lng && o.Min.Lat <= r.Max.Lat && o.Max.Lat >= r.Min.Lat
}

// extend grows r to include p; empty reports whether r is still unset so the
// first point initialises it instead of being unioned with the zero Rect.
func (r Rect) extend(p Point, empty bool) Rect {
	if empty {
		return Rect{p, p}
	}
	r.Min.Lng = math.Min(r.Min.Lng, p.Lng)
	r.Min.Lat = math.Min(r.Min.Lat, p.Lat)
	r.Max.Lng = math.Max(r.Max.Lng, p.Lng)
	r.Max.Lat = math.Max(r.Max.Lat, p.Lat)
	return r
}

// Distance returns the great-circle distance between a and b in meters
// (haversine on a sphere). The error against the WGS-84 ellipsoid is below
// 0.5 %, far smaller than phone GPS error at street scale.
func Distance(a, b Point) float64 {
	lat1 := a.Lat * math.Pi / 180
	lat2 := b.Lat * math.Pi / 180
	dLat := lat2 - lat1
	dLng := (b.Lng - a.Lng) * math.Pi / 180
	s1 := math.Sin(dLat / 2)
	s2 := math.Sin(dLng / 2)
	h := s1*s1 + math.Cos(lat1)*math.Cos(lat2)*s2*s2
	return 2 * earthRadius * math.Asin(math.Sqrt(math.Min(1, h)))
}

// Contains reports whether p lies inside the ring by even-odd ray casting.
//
// The crossing abscissa is always computed from the lower endpoint of an
// edge, so two polygons that share an edge compute bit-identical values and a
// point exactly on that edge belongs to exactly one of them.
func (r Ring) Contains(p Point) bool {
	n := len(r)
	if n < 3 {
		return false
	}
	in := false
	a := r[n-1]
	for i := 0; i < n; i++ {
		b := r[i]
		if (a.Lat > p.Lat) != (b.Lat > p.Lat) {
			lo, hi := a, b
			if lo.Lat > hi.Lat {
				lo, hi = hi, lo
			}
			if p.Lng < lo.Lng+(hi.Lng-lo.Lng)*(p.Lat-lo.Lat)/(hi.Lat-lo.Lat) {
				in = !in
			}
		}
		a = b
	}
	return in
}

// Contains reports whether p lies inside the polygon and not in a hole.
// Holes toggle membership (even-odd), which is what ray casting over all the
// rings would give, but the outer ring is tested first so points outside it
// cost one ring only.
func (poly Polygon) Contains(p Point) bool {
	if len(poly) == 0 || !poly[0].Contains(p) {
		return false
	}
	in := true
	for _, h := range poly[1:] {
		if h.Contains(p) {
			in = !in
		}
	}
	return in
}

// Contains reports whether p lies inside any of the polygons.
func (mp MultiPolygon) Contains(p Point) bool {
	for _, poly := range mp {
		if poly.Contains(p) {
			return true
		}
	}
	return false
}

// Bounds returns the bounding box of every point of mp, or the zero Rect when
// mp has no points.
func (mp MultiPolygon) Bounds() Rect {
	var r Rect
	empty := true
	for _, poly := range mp {
		for _, ring := range poly {
			for _, p := range ring {
				r = r.extend(p, empty)
				empty = false
			}
		}
	}
	return r
}

// Bounds returns the bounding box of the polygon's outer ring (holes lie
// inside it), or the zero Rect when it has none.
func (poly Polygon) Bounds() Rect {
	var r Rect
	if len(poly) == 0 {
		return r
	}
	for i, p := range poly[0] {
		r = r.extend(p, i == 0)
	}
	return r
}

// plane is a local equirectangular projection around a reference point. At
// grid and street scale its distortion is far below survey accuracy and it
// keeps Area and Centroid free of trigonometry per vertex.
type plane struct {
	origin Point
	kx     float64 // meters per degree of longitude at the origin's latitude
}

func newPlane(origin Point) plane {
	return plane{origin: origin, kx: metersPerDegree * math.Cos(origin.Lat*math.Pi/180)}
}

func (pl plane) xy(p Point) (x, y float64) {
	return (p.Lng - pl.origin.Lng) * pl.kx, (p.Lat - pl.origin.Lat) * metersPerDegree
}

// ringMoments returns the signed shoelace area of r in m² and its first
// moments, from which the centroid follows.
func (pl plane) ringMoments(r Ring) (a, mx, my float64) {
	n := len(r)
	if n < 3 {
		return 0, 0, 0
	}
	x0, y0 := pl.xy(r[n-1])
	for _, p := range r {
		x1, y1 := pl.xy(p)
		c := x0*y1 - x1*y0
		a += c
		mx += (x0 + x1) * c
		my += (y0 + y1) * c
		x0, y0 = x1, y1
	}
	return a / 2, mx / 6, my / 6
}

// referencePlane centres the projection on the middle of the bounds so the
// scale error is spread evenly over the shape.
func (mp MultiPolygon) referencePlane() plane {
	b := mp.Bounds()
	return newPlane(Point{(b.Min.Lng + b.Max.Lng) / 2, (b.Min.Lat + b.Max.Lat) / 2})
}

// Area returns the approximate area of mp in square meters: outer rings minus
// holes, each measured in a local projection. It is meant for grids, streets
// and districts (errors well under 1 % below a few hundred kilometers).
func (mp MultiPolygon) Area() float64 {
	if len(mp) == 0 {
		return 0
	}
	pl := mp.referencePlane()
	total := 0.0
	for _, poly := range mp {
		for i, ring := range poly {
			a, _, _ := pl.ringMoments(ring)
			if i == 0 {
				total += math.Abs(a)
			} else {
				total -= math.Abs(a)
			}
		}
	}
	return total
}

// Centroid returns the area-weighted centre of mp (holes subtracted). For a
// degenerate shape with no area it falls back to the mean of its vertices,
// and for an empty shape to the zero Point. The centroid of a concave shape
// may lie outside it; callers that need a label position inside should check.
func (mp MultiPolygon) Centroid() Point {
	if len(mp) == 0 {
		return Point{}
	}
	pl := mp.referencePlane()
	var area, mx, my float64
	for _, poly := range mp {
		for i, ring := range poly {
			a, x, y := pl.ringMoments(ring)
			// Normalise orientation: outer rings add, holes subtract,
			// whatever way round the data was drawn.
			sign := 1.0
			if (a < 0) != (i > 0) {
				sign = -1
			}
			area += sign * a
			mx += sign * x
			my += sign * y
		}
	}
	if area == 0 || math.IsNaN(area) || pl.kx == 0 {
		return mp.vertexMean()
	}
	return Point{
		Lng: pl.origin.Lng + mx/area/pl.kx,
		Lat: pl.origin.Lat + my/area/metersPerDegree,
	}
}

func (mp MultiPolygon) vertexMean() Point {
	var sx, sy float64
	n := 0
	for _, poly := range mp {
		for _, ring := range poly {
			pts := ring
			if len(pts) > 1 && pts[0] == pts[len(pts)-1] {
				pts = pts[:len(pts)-1]
			}
			for _, p := range pts {
				sx += p.Lng
				sy += p.Lat
				n++
			}
		}
	}
	if n == 0 {
		return Point{}
	}
	return Point{sx / float64(n), sy / float64(n)}
}

// Clone returns a deep copy of mp, so that a caller can keep a shape that
// the original owner may later modify.
func (mp MultiPolygon) Clone() MultiPolygon {
	if mp == nil {
		return nil
	}
	out := make(MultiPolygon, len(mp))
	for i, poly := range mp {
		np := make(Polygon, len(poly))
		for j, ring := range poly {
			np[j] = append(Ring(nil), ring...)
		}
		out[i] = np
	}
	return out
}
