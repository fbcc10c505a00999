// Package scale generates a Chongqing-sized installation for scale tests:
// the city, 39 districts, about 1,031 streets, 11,000 communities and 62,000
// grids with polygons, units, the demo categories, a few accounts, and
// millions of cases over two years with their timelines, units and clocks,
// bulk-loaded into PostgreSQL with COPY, or into a SQLite file with the cases
// of one district (Options.District). The data are synthetic; only the
// district names and codes are real (plus one made-up development zone).
package scale

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"

	"zhizhi/internal/geo"
	"zhizhi/internal/region"
	"zhizhi/internal/store"
)

// City is Chongqing's code and region path.
const (
	City     = "500000"
	CityPath = "/500000/"
)

// districts are Chongqing's 38 district-level divisions (GB/T 2260) and one
// development zone with a made-up code, 39 in all, as the platform counts them.
var districts = []struct{ code, name string }{
	{"500101", "万州区"}, {"500102", "涪陵区"}, {"500103", "渝中区"}, {"500104", "大渡口区"}, {"500105", "江北区"},
	{"500106", "沙坪坝区"}, {"500107", "九龙坡区"}, {"500108", "南岸区"}, {"500109", "北碚区"}, {"500110", "綦江区"},
	{"500111", "大足区"}, {"500112", "渝北区"}, {"500113", "巴南区"}, {"500114", "黔江区"}, {"500115", "长寿区"},
	{"500116", "江津区"}, {"500117", "合川区"}, {"500118", "永川区"}, {"500119", "南川区"}, {"500120", "璧山区"},
	{"500151", "铜梁区"}, {"500152", "潼南区"}, {"500153", "荣昌区"}, {"500154", "开州区"}, {"500155", "梁平区"},
	{"500156", "武隆区"}, {"500229", "城口县"}, {"500230", "丰都县"}, {"500231", "垫江县"}, {"500233", "忠县"},
	{"500235", "云阳县"}, {"500236", "奉节县"}, {"500237", "巫山县"}, {"500238", "巫溪县"}, {"500240", "石柱县"},
	{"500241", "秀山县"}, {"500242", "酉阳县"}, {"500243", "彭水县"}, {"500190", "两江新区"},
}

// Size is the shape of the generated region tree.
type Size struct {
	Districts, Streets, Communities, Grids int
}

// Chongqing is the platform's real scale.
var Chongqing = Size{Districts: 39, Streets: 1031, Communities: 11000, Grids: 62000}

// Origin is the south-west corner of the synthetic grid map (west of the
// main urban area; the map is a square of about 75 km at full size).
var Origin = geo.Point{Lng: 106.2, Lat: 29.2}

// Tree is a generated region tree with its grids in map order.
type Tree struct {
	Regions   []store.RegionRecord // parents before children
	Grids     []Grid               // in map order (along the Hilbert curve)
	Districts []store.RegionRecord
	Streets   []store.RegionRecord
}

// Grid is a generated grid with its ancestors' positions in Tree.
type Grid struct {
	store.RegionRecord
	District, Street, Community int // indexes into Tree.Districts, Tree.Streets, and the community order
	CommunityName               string
	Weight                      float64 // relative number of reports (the district's: urban districts report more)
}

// BuildTree generates the region tree. Grids are synthetic tiling polygons
// (geo.SyntheticGrids); they are numbered along a Hilbert curve and cut into
// consecutive runs, so each community, street and district is a compact,
// (almost always) contiguous block of the map. The same seed gives the same tree.
func BuildTree(sz Size, seed uint64) (*Tree, error) {
	if sz.Districts < 1 || sz.Districts > len(districts) || sz.Streets < sz.Districts || sz.Communities < sz.Streets || sz.Grids < sz.Communities {
		return nil, fmt.Errorf("scale: need 1 ≤ districts ≤ %d ≤ … and districts ≤ streets ≤ communities ≤ grids, got %+v", len(districts), sz)
	}
	rnd := rand.New(rand.NewPCG(seed, 500000))
	cells := geo.SyntheticGrids(sz.Grids, int64(seed), Origin)
	// Hilbert order of the lattice cells (row-major in SyntheticGrids).
	cols := 1
	for cols*cols < sz.Grids {
		cols++
	}
	side := 1
	for side < cols {
		side *= 2
	}
	order := make([]int, len(cells))
	keys := make([]uint64, len(cells))
	for i := range cells {
		order[i] = i
		keys[i] = geo.Hilbert(uint64(side), uint64(i%cols), uint64(i/cols))
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(keys[a], keys[b]) })

	// Streets per district, grids per street, communities per street.
	perDistrict := split(rnd, sz.Streets, sz.Districts, 999)
	perStreet := split(rnd, sz.Grids, sz.Streets, 999*999)
	commPerStreet := proportional(sz.Communities, perStreet)

	t := &Tree{}
	t.Regions = append(t.Regions, store.RegionRecord{Region: region.Region{Code: City, Name: "重庆市", Level: region.City}, Path: CityPath})
	next := 0 // position in order
	street := 0
	community := 0
	for d := 0; d < sz.Districts; d++ {
		dc := districts[d]
		dr := store.RegionRecord{Region: region.Region{Code: dc.code, Name: dc.name, Level: region.District, ParentCode: City}, Path: region.Path(CityPath, dc.code)}
		t.Regions = append(t.Regions, dr)
		t.Districts = append(t.Districts, dr)
		weight := 0.3 + 2.7*rnd.Float64()
		if dc.code <= "500113" {
			weight *= 2 // the main urban area
		}
		for s := 0; s < perDistrict[d]; s++ {
			sc := fmt.Sprintf("%s%03d", dc.code, s+1)
			sname := streetName(rnd) + "街道"
			if dc.code >= "500229" && dc.code < "500300" && s%3 != 0 {
				sname = streetName(rnd) + "镇"
			}
			sr := store.RegionRecord{Region: region.Region{Code: sc, Name: sname, Level: region.Street, ParentCode: dc.code}, Path: region.Path(dr.Path, sc)}
			t.Regions = append(t.Regions, sr)
			t.Streets = append(t.Streets, sr)
			ng, nc := perStreet[street], commPerStreet[street]
			gridsPer := split(rnd, ng, nc, 999)
			for c := 0; c < nc; c++ {
				cc := fmt.Sprintf("%s%03d", sc, c+1)
				cname := streetName(rnd) + "社区"
				cr := store.RegionRecord{Region: region.Region{Code: cc, Name: cname, Level: region.Community, ParentCode: sc}, Path: region.Path(sr.Path, cc)}
				t.Regions = append(t.Regions, cr)
				for g := 0; g < gridsPer[c]; g++ {
					gc := fmt.Sprintf("%s%03d", cc, g+1)
					cell := cells[order[next]]
					next++
					gr := store.RegionRecord{Region: region.Region{Code: gc, Name: fmt.Sprintf("%s第%d网格", cname, g+1), Level: region.Grid, ParentCode: cc, Shape: cell.Shape},
						Path: region.Path(cr.Path, gc)}
					t.Regions = append(t.Regions, gr)
					t.Grids = append(t.Grids, Grid{RegionRecord: gr, District: d, Street: street, Community: community, CommunityName: cname, Weight: weight})
				}
				community++
			}
			street++
		}
	}
	if next != len(cells) {
		return nil, fmt.Errorf("scale: placed %d of %d grids", next, len(cells))
	}
	return t, nil
}

// split divides total into n positive parts of random sizes (0.5–1.5 of the
// mean), none above most.
func split(rnd *rand.Rand, total, n, most int) []int {
	w := make([]float64, n)
	for i := range w {
		w[i] = 0.5 + rnd.Float64()
	}
	out := proportionalW(total, w)
	// Move the excess of any part above most to parts below it.
	for i := range out {
		for out[i] > most {
			for j := range out {
				if out[j] < most && out[i] > most {
					out[j]++
					out[i]--
				}
			}
		}
	}
	return out
}

// proportional divides total into len(sizes) parts proportional to sizes,
// each at least 1 and at most its size.
func proportional(total int, sizes []int) []int {
	w := make([]float64, len(sizes))
	for i, s := range sizes {
		w[i] = float64(s)
	}
	out := proportionalW(total, w)
	for i := range out {
		out[i] = min(out[i], sizes[i])
	}
	return out
}

// proportionalW divides total into parts proportional to w, each ≥ 1, with
// the rounding remainder spread over the first parts.
func proportionalW(total int, w []float64) []int {
	n := len(w)
	var sum float64
	for _, x := range w {
		sum += x
	}
	out := make([]int, n)
	left := total - n // every part gets 1 first
	got := 0
	for i, x := range w {
		out[i] = 1 + int(float64(left)*x/sum)
		got += out[i]
	}
	for i := 0; got < total; i = (i + 1) % n {
		out[i]++
		got++
	}
	for i := 0; got > total; i = (i + 1) % n {
		if out[i] > 1 {
			out[i]--
			got--
		}
	}
	return out
}

var nameChars = []rune("解放朝天门七星岗南纪大坪化龙桥上清寺石油路两路口菜园坝观音岩白象街储奇门望龙门较场口洪崖洞民生和平新华中山人和凤鸣龙溪天星桥松树桥宝圣湖鸳鸯礼嘉回兴双凤桥")

func streetName(rnd *rand.Rand) string {
	n := 2 + rnd.IntN(2)
	r := make([]rune, n)
	for i := range r {
		r[i] = nameChars[rnd.IntN(len(nameChars))]
	}
	return string(r)
}
