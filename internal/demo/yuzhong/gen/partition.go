package main

import (
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
)

// streetLayout places the streets in bands across the peninsula, from its
// eastern tip (朝天门, at the confluence) westwards; a band of two streets
// is split north (first) and south. Each weight is the street's share of
// the district's area. The layout and the weights are a plausible sketch,
// not surveyed boundaries.
var streetLayout = [][]struct {
	name   string // without 街道
	weight float64
}{
	{{"朝天门", 1.1}},
	{{"解放碑", 1.3}},
	{{"七星岗", 1.3}, {"南纪门", 1.2}},
	{{"大溪沟", 1.4}, {"上清寺", 1.7}},
	{{"两路口", 2.0}, {"菜园坝", 2.2}},
	{{"大坪", 3.0}, {"石油路", 2.6}},
	{{"化龙桥", 4.9}},
}

// Grid counts: 朝天门 has 60 grids (its published figure); every other
// street gets one grid per gridAreaM2 of its area, and at least
// minGridsPerCommunity per community.
// minGrids raises the grid count of communities the scenarios name by grid:
// 民乐村社区 has a 第九网格 (杨诗培's, scenario S2).
var minGrids = map[string]int{"民乐村社区": 9}

const (
	chaotianmenGrids     = 60
	gridAreaM2           = 65000
	minGridsPerCommunity = 2
	// Pieces of a cell smaller than this share of a whole cell are merged
	// into a neighbour, so that no region has slivers.
	tinyShare = 0.3
	// A bisection prefers a straight cut along a lattice line when that
	// makes no part more than this share of a part's size too big or too
	// small.
	straightTol = 0.35
)

// region is one node of the tree with its synthetic shape.
type region struct {
	Code, Name, Level, Parent string
	units                     []int
	Polys                     []polygon
}

// tree is the whole output.
type tree struct {
	City, District region
	Streets        []region // by code
	Communities    []region // by code
	Grids          []region // by code
	cellsTotal     int
	lat            *lattice
}

// unit is a set of pieces that always stay together: normally the piece of
// one cell, with any slivers merged into it.
type unit struct {
	pieces                 []int
	a2                     int64
	i, j                   int64 // cell of the largest piece
	imin, imax, jmin, jmax int64
}

// builder holds the lattice pieces and their adjacency while the tree is
// partitioned.
type builder struct {
	pieces []piece
	units  []unit
	adj    []map[int]float64 // unit → neighbour unit → shared length (m)
	cellW  float64           // cell size in metres
	cellH  float64
}

// build makes the tree: the region rows of div, and shapes cut from
// outline with a lattice of about cellMetres.
func build(div *division, outline []pt, cellMetres float64) (*tree, error) {
	lat, ring, err := splitOutline(outline, cellMetres)
	if err != nil {
		return nil, err
	}
	pieces, err := cutPieces(lat, ring)
	if err != nil {
		return nil, err
	}
	var sum int64
	for _, p := range pieces {
		sum += p.A2
	}
	if sum != area2(ring) {
		return nil, fmt.Errorf("pieces cover %d, the outline %d (µ°², doubled)", sum, area2(ring))
	}
	b := &builder{pieces: pieces, cellW: float64(lat.w) * metresPerUdegX, cellH: float64(lat.h) * metresPerUdegY}
	b.makeUnits(2 * lat.w * lat.h)

	t := &tree{lat: lat, cellsTotal: len(pieces)}
	t.City = region{Code: provinceCode + "0000", Name: div.CityName, Level: "city"}
	all := make([]int, len(b.units))
	for i := range all {
		all[i] = i
	}
	t.District = region{Code: districtCode, Name: div.DistrictName, Level: "district", Parent: t.City.Code, units: all}

	// Streets.
	byName := map[string]divStreet{}
	for _, s := range div.Streets {
		byName[strings.TrimSuffix(s.Name, "街道")] = s
	}
	var order []divStreet
	var bandWeights []float64
	for _, band := range streetLayout {
		w := 0.0
		for _, s := range band {
			ds, ok := byName[s.name]
			if !ok {
				return nil, fmt.Errorf("street %s街道 not in china-division", s.name)
			}
			order = append(order, ds)
			delete(byName, s.name)
			w += s.weight
		}
		bandWeights = append(bandWeights, w)
	}
	if len(byName) > 0 {
		return nil, fmt.Errorf("china-division has streets the layout does not place: %v", byName)
	}
	bands := b.bands(all, bandWeights)
	var streetParts [][]int
	for k, band := range streetLayout {
		var ws []float64
		for _, s := range band {
			ws = append(ws, s.weight)
		}
		streetParts = append(streetParts, b.northSouth(bands[k], ws)...)
	}
	streetParts, err = b.contiguous(streetParts)
	if err != nil {
		return nil, fmt.Errorf("streets: %w", err)
	}
	for k, s := range order {
		st := region{Code: s.Code, Name: s.Name, Level: "street", Parent: districtCode, units: streetParts[k]}
		// Grids of this street, spread over its communities.
		nGrids := chaotianmenGrids
		if !strings.HasPrefix(s.Name, "朝天门") {
			nGrids = int(math.Round(b.areaM2(st.units) / gridAreaM2))
		}
		nGrids = max(nGrids, minGridsPerCommunity*len(s.Communities))
		var ws []float64
		for c := range s.Communities {
			n := nGrids / len(s.Communities)
			if c < nGrids%len(s.Communities) {
				n++
			}
			ws = append(ws, float64(max(n, minGrids[s.Communities[c].Name])))
		}
		comParts, err := b.contiguous(b.bisect(st.units, ws))
		if err != nil {
			return nil, fmt.Errorf("%s communities: %w", s.Name, err)
		}
		for c, dc := range s.Communities {
			com := region{Code: dc.Code, Name: dc.Name, Level: "community", Parent: s.Code, units: comParts[c]}
			gridParts, err := b.contiguous(b.bisect(com.units, make([]float64, int(ws[c]))))
			if err != nil {
				return nil, fmt.Errorf("%s grids: %w", dc.Name, err)
			}
			grids := b.numberGrids(gridParts)
			for g, units := range grids {
				t.Grids = append(t.Grids, region{
					Code:   fmt.Sprintf("%s%03d", dc.Code, g+1),
					Name:   fmt.Sprintf("%s第%d网格", dc.Name, g+1),
					Level:  "grid",
					Parent: dc.Code,
					units:  units,
				})
			}
			t.Communities = append(t.Communities, com)
		}
		t.Streets = append(t.Streets, st)
	}
	sort.Slice(t.Streets, func(i, j int) bool { return t.Streets[i].Code < t.Streets[j].Code })
	sort.Slice(t.Communities, func(i, j int) bool { return t.Communities[i].Code < t.Communities[j].Code })
	sort.Slice(t.Grids, func(i, j int) bool { return t.Grids[i].Code < t.Grids[j].Code })

	// Shapes.
	for _, rs := range [][]region{t.Streets, t.Communities, t.Grids} {
		for k := range rs {
			if err := b.shape(&rs[k]); err != nil {
				return nil, err
			}
		}
	}
	if err := b.shape(&t.District); err != nil {
		return nil, err
	}
	if len(t.District.Polys) != 1 || len(t.District.Polys[0]) != 1 {
		return nil, fmt.Errorf("the district's shape is not one simple polygon")
	}
	return t, nil
}

// makeUnits groups the pieces into units, merging every piece smaller than
// tinyShare of a cell (cellA2, doubled µ°²) into the neighbour it shares the
// longest edge with, and computes the units' adjacency.
func (b *builder) makeUnits(cellA2 int64) {
	n := len(b.pieces)
	// Which pieces own each segment.
	owners := map[edge][]int{}
	for k, p := range b.pieces {
		for _, e := range ringEdges(p.Ring) {
			if !e.A.less(e.B) {
				e = edge{e.B, e.A}
			}
			owners[e] = append(owners[e], k)
		}
	}
	padj := make([]map[int]float64, n)
	for k := range padj {
		padj[k] = map[int]float64{}
	}
	for e, o := range owners {
		if len(o) == 2 && o[0] != o[1] {
			l := lengthM(e.A, e.B)
			padj[o[0]][o[1]] += l
			padj[o[1]][o[0]] += l
		}
	}
	parent := make([]int, n)
	area := make([]int64, n)
	for k := range parent {
		parent[k] = k
		area[k] = b.pieces[k].A2
	}
	var find func(int) int
	find = func(k int) int {
		for parent[k] != k {
			parent[k] = parent[parent[k]]
			k = parent[k]
		}
		return k
	}
	byArea := make([]int, n)
	for k := range byArea {
		byArea[k] = k
	}
	sort.SliceStable(byArea, func(x, y int) bool { return b.pieces[byArea[x]].A2 < b.pieces[byArea[y]].A2 })
	for _, k := range byArea {
		r := find(k)
		if float64(area[r]) >= tinyShare*float64(cellA2) {
			continue
		}
		// The neighbouring set with the longest shared edge.
		shared := map[int]float64{}
		for m := range n {
			if find(m) != r {
				continue
			}
			for q, l := range padj[m] {
				if rq := find(q); rq != r {
					shared[rq] += l
				}
			}
		}
		best, bestL := -1, 0.0
		for q, l := range shared {
			if l > bestL || l == bestL && q < best {
				best, bestL = q, l
			}
		}
		if best < 0 {
			continue
		}
		parent[r] = best
		area[best] += area[r]
	}
	// Units, ordered by their cell.
	sets := map[int][]int{}
	for k := range n {
		sets[find(k)] = append(sets[find(k)], k)
	}
	for _, ps := range sets {
		u := unit{pieces: ps}
		big := ps[0]
		u.imin, u.jmin = math.MaxInt64, math.MaxInt64
		u.imax, u.jmax = math.MinInt64, math.MinInt64
		for _, k := range ps {
			p := b.pieces[k]
			u.a2 += p.A2
			if p.A2 > b.pieces[big].A2 {
				big = k
			}
			u.imin, u.imax = min(u.imin, p.I), max(u.imax, p.I)
			u.jmin, u.jmax = min(u.jmin, p.J), max(u.jmax, p.J)
		}
		u.i, u.j = b.pieces[big].I, b.pieces[big].J
		b.units = append(b.units, u)
	}
	sort.Slice(b.units, func(x, y int) bool {
		ux, uy := b.units[x], b.units[y]
		if ux.i != uy.i {
			return ux.i < uy.i
		}
		if ux.j != uy.j {
			return ux.j < uy.j
		}
		return ux.pieces[0] < uy.pieces[0]
	})
	unitOf := make([]int, n)
	for u, un := range b.units {
		for _, k := range un.pieces {
			unitOf[k] = u
		}
	}
	b.adj = make([]map[int]float64, len(b.units))
	for u := range b.adj {
		b.adj[u] = map[int]float64{}
	}
	for k := range n {
		for q, l := range padj[k] {
			if uk, uq := unitOf[k], unitOf[q]; uk != uq {
				b.adj[uk][uq] += l
			}
		}
	}
}

// areaA2 is the doubled area of the units in µ°².
func (b *builder) areaA2(us []int) int64 {
	var s int64
	for _, u := range us {
		s += b.units[u].a2
	}
	return s
}

// areaM2 is the area of the units in m².
func (b *builder) areaM2(us []int) float64 { return areaM2(b.areaA2(us)) }

// sortUnits sorts units west to east (then south to north) if eastWest,
// otherwise north to south (then west to east), and returns the sort key
// of each: its column or row.
func (b *builder) sortUnits(us []int, eastWest bool) []int64 {
	sort.Slice(us, func(x, y int) bool {
		ux, uy := b.units[us[x]], b.units[us[y]]
		if eastWest {
			if ux.i != uy.i {
				return ux.i < uy.i
			}
			if ux.j != uy.j {
				return ux.j < uy.j
			}
		} else {
			if ux.j != uy.j {
				return ux.j > uy.j
			}
			if ux.i != uy.i {
				return ux.i < uy.i
			}
		}
		return us[x] < us[y]
	})
	keys := make([]int64, len(us))
	for k, u := range us {
		if eastWest {
			keys[k] = b.units[u].i
		} else {
			keys[k] = b.units[u].j
		}
	}
	return keys
}

// cut returns the index at which sorted units us are split so that the
// first part has share frac of their area. It prefers a straight cut
// between two columns (rows) of keys when that is within tol (a share of
// the whole area) of the target, and keeps at least lo units before and
// hi after the cut.
func (b *builder) cut(us []int, keys []int64, frac, tol float64, lo, hi int) int {
	total := float64(b.areaA2(us))
	target := frac * total
	bestExact, bestLine := -1, -1
	var dExact, dLine float64
	cum := 0.0
	for k := 1; k < len(us); k++ {
		cum += float64(b.units[us[k-1]].a2)
		if k < lo || len(us)-k < hi {
			continue
		}
		d := math.Abs(cum - target)
		if bestExact < 0 || d < dExact {
			bestExact, dExact = k, d
		}
		if keys[k] != keys[k-1] && (bestLine < 0 || d < dLine) {
			bestLine, dLine = k, d
		}
	}
	if bestLine >= 0 && dLine <= tol*total {
		return bestLine
	}
	if bestExact < 0 {
		return max(lo, 1)
	}
	return bestExact
}

// bisect splits units into len(weights) parts with areas in proportion to
// weights (all zero means equal), by recursive bisection across the longer
// side of their extent: a part is west of or north of the next one.
func (b *builder) bisect(us []int, weights []float64) [][]int {
	us = append([]int(nil), us...)
	n := len(weights)
	if n == 1 {
		return [][]int{us}
	}
	ws := append([]float64(nil), weights...)
	allZero := true
	for _, w := range ws {
		allZero = allZero && w == 0
	}
	if allZero {
		for k := range ws {
			ws[k] = 1
		}
	}
	k1 := n / 2
	var w1, wt float64
	for k, w := range ws {
		if k < k1 {
			w1 += w
		}
		wt += w
	}
	imin, imax, jmin, jmax := int64(math.MaxInt64), int64(math.MinInt64), int64(math.MaxInt64), int64(math.MinInt64)
	for _, u := range us {
		un := b.units[u]
		imin, imax = min(imin, un.imin), max(imax, un.imax)
		jmin, jmax = min(jmin, un.jmin), max(jmax, un.jmax)
	}
	eastWest := float64(imax-imin+1)*b.cellW >= float64(jmax-jmin+1)*b.cellH
	keys := b.sortUnits(us, eastWest)
	c := b.cut(us, keys, w1/wt, straightTol/float64(n), k1, n-k1)
	return append(b.bisect(us[:c], ws[:k1]), b.bisect(us[c:], ws[k1:])...)
}

// bands splits units into bands from east to west with areas in proportion
// to weights.
func (b *builder) bands(us []int, weights []float64) [][]int {
	us = append([]int(nil), us...)
	keys := b.sortUnits(us, true)
	reverse64 := func() {
		for x, y := 0, len(us)-1; x < y; x, y = x+1, y-1 {
			us[x], us[y] = us[y], us[x]
			keys[x], keys[y] = keys[y], keys[x]
		}
	}
	reverse64() // east first
	var out [][]int
	for k := range weights {
		if k == len(weights)-1 {
			out = append(out, us)
			break
		}
		rest := 0.0
		for _, w := range weights[k:] {
			rest += w
		}
		c := b.cut(us, keys, weights[k]/rest, 0.1*weights[k]/rest, 1, len(weights)-k-1)
		out = append(out, us[:c])
		us, keys = us[c:], keys[c:]
	}
	return out
}

// northSouth splits a band into parts from north to south with areas in
// proportion to weights.
func (b *builder) northSouth(us []int, weights []float64) [][]int {
	us = append([]int(nil), us...)
	var out [][]int
	for k := range weights {
		if k == len(weights)-1 {
			out = append(out, us)
			break
		}
		keys := b.sortUnits(us, false)
		rest := 0.0
		for _, w := range weights[k:] {
			rest += w
		}
		c := b.cut(us, keys, weights[k]/rest, 0.1*weights[k]/rest, 1, len(weights)-k-1)
		out = append(out, us[:c])
		us = us[c:]
	}
	return out
}

// contiguous makes every part connected: each part keeps its largest
// connected component, and every other component moves to the neighbouring
// part it shares the longest boundary with. The parts must together be
// connected.
func (b *builder) contiguous(parts [][]int) ([][]int, error) {
	owner := map[int]int{}
	for p, us := range parts {
		for _, u := range us {
			owner[u] = p
		}
	}
	for changed := true; changed; {
		changed = false
		for p := range parts {
			comps := b.components(parts[p], owner)
			for _, comp := range comps[1:] {
				shared := map[int]float64{}
				for _, u := range comp {
					for v, l := range b.adj[u] {
						if q, ok := owner[v]; ok && q != p {
							shared[q] += l
						}
					}
				}
				best, bestL := -1, 0.0
				for q, l := range shared {
					if l > bestL || l == bestL && q < best {
						best, bestL = q, l
					}
				}
				if best < 0 {
					return nil, fmt.Errorf("a part of part %d touches no other part", p)
				}
				for _, u := range comp {
					owner[u] = best
				}
				changed = true
			}
			if len(comps) > 1 {
				for q := range parts {
					parts[q] = parts[q][:0]
				}
				for u := range owner {
					parts[owner[u]] = append(parts[owner[u]], u)
				}
				for q := range parts {
					sort.Ints(parts[q])
				}
			}
		}
	}
	for p, us := range parts {
		if len(us) == 0 {
			return nil, fmt.Errorf("part %d is empty", p)
		}
	}
	return parts, nil
}

// components returns the connected components of units us (all owned by
// one part), largest first.
func (b *builder) components(us []int, owner map[int]int) [][]int {
	if len(us) == 0 {
		return [][]int{nil}
	}
	p := owner[us[0]]
	seen := map[int]bool{}
	var comps [][]int
	for _, s := range us {
		if seen[s] {
			continue
		}
		seen[s] = true
		comp := []int{s}
		for k := 0; k < len(comp); k++ {
			nb := make([]int, 0, len(b.adj[comp[k]]))
			for v := range b.adj[comp[k]] {
				nb = append(nb, v)
			}
			sort.Ints(nb)
			for _, v := range nb {
				if q, ok := owner[v]; ok && q == p && !seen[v] {
					seen[v] = true
					comp = append(comp, v)
				}
			}
		}
		sort.Ints(comp)
		comps = append(comps, comp)
	}
	sort.SliceStable(comps, func(x, y int) bool { return b.areaA2(comps[x]) > b.areaA2(comps[y]) })
	return comps
}

// numberGrids orders the grids of one community as their serial numbers
// go: in rows from north to south, each row from west to east, by the grids'
// centroids.
func (b *builder) numberGrids(grids [][]int) [][]int {
	type g struct {
		units  []int
		cx, cy float64
	}
	gs := make([]g, len(grids))
	var meanArea float64
	for k, us := range grids {
		var sx, sy, sa float64
		for _, u := range us {
			for _, pk := range b.units[u].pieces {
				p := b.pieces[pk]
				c := centroid(p.Ring)
				a := float64(p.A2)
				sx += float64(c.X) * a
				sy += float64(c.Y) * a
				sa += a
			}
		}
		gs[k] = g{us, sx / sa, sy / sa}
		meanArea += b.areaM2(us) / float64(len(grids))
	}
	band := math.Sqrt(meanArea) / metresPerUdegY // a grid's height in µ°
	sort.SliceStable(gs, func(x, y int) bool { return gs[x].cy > gs[y].cy })
	rows := make([]int, len(gs))
	top := 0
	for k := range gs {
		if gs[top].cy-gs[k].cy > band/2 {
			top = k
			rows[k] = rows[k-1] + 1
		} else if k > 0 {
			rows[k] = rows[k-1]
		}
	}
	idx := make([]int, len(gs))
	for k := range idx {
		idx[k] = k
	}
	sort.SliceStable(idx, func(x, y int) bool {
		if rows[idx[x]] != rows[idx[y]] {
			return rows[idx[x]] < rows[idx[y]]
		}
		return gs[idx[x]].cx < gs[idx[y]].cx
	})
	out := make([][]int, len(gs))
	for k, i := range idx {
		out[k] = gs[i].units
	}
	return out
}

// shape sets r.Polys to the union of its units' pieces.
func (b *builder) shape(r *region) error {
	var es []edge
	for _, u := range r.units {
		for _, pk := range b.units[u].pieces {
			es = append(es, ringEdges(b.pieces[pk].Ring)...)
		}
	}
	polys, err := unionPolygons(es)
	if err != nil {
		return fmt.Errorf("%s %s: %w", r.Code, r.Name, err)
	}
	r.Polys = polys
	return nil
}

// printStats reports the tree on standard error.
func (t *tree) printStats() {
	fmt.Fprintf(os.Stderr, "lattice: %d×%d µ° cells (%.0f×%.0f m), %d pieces\n", t.lat.w, t.lat.h,
		float64(t.lat.w)*metresPerUdegX, float64(t.lat.h)*metresPerUdegY, t.cellsTotal)
	grids := map[string]int{}
	multi := 0
	var minA, maxA = math.MaxFloat64, 0.0
	for _, g := range t.Grids {
		grids[g.Code[:9]]++
		if len(g.Polys) > 1 {
			multi++
		}
		a := polysAreaM2(g.Polys)
		minA, maxA = min(minA, a), max(maxA, a)
	}
	for _, s := range t.Streets {
		nc := 0
		for _, c := range t.Communities {
			if c.Parent == s.Code {
				nc++
			}
		}
		fmt.Fprintf(os.Stderr, "%s %s: %.2f km², %d communities, %d grids\n", s.Code, s.Name, polysAreaM2(s.Polys)/1e6, nc, grids[s.Code])
	}
	fmt.Fprintf(os.Stderr, "%d streets, %d communities, %d grids (%d multipolygons), grid area %.0f–%.0f m², district %.2f km²\n",
		len(t.Streets), len(t.Communities), len(t.Grids), multi, minA, maxA, polysAreaM2(t.District.Polys)/1e6)
}

// polysAreaM2 is the area of polygons in m².
func polysAreaM2(ps []polygon) float64 {
	var a int64
	for _, p := range ps {
		for _, r := range p {
			a += area2(r)
		}
	}
	return areaM2(a)
}
