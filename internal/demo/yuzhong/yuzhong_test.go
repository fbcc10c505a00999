package yuzhong

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// pt is a point in micro-degrees; the file has 6 decimals, so these are
// exact and the ring checks below use exact integer arithmetic.
type pt struct{ X, Y int64 }

type ring []pt

type feature struct {
	Code, Name, Level, Parent string
	HasParent                 bool
	Polys                     [][]ring // nil for a null geometry
	box                       [2]pt
}

// load decodes the embedded GeoJSON.
func load(t *testing.T) []*feature {
	t.Helper()
	var fc struct {
		Type     string `json:"type"`
		Features []struct {
			Type       string `json:"type"`
			Properties struct {
				Code   string  `json:"code"`
				Name   string  `json:"name"`
				Level  string  `json:"level"`
				Parent *string `json:"parent_code"`
			} `json:"properties"`
			Geometry *struct {
				Type        string          `json:"type"`
				Coordinates json.RawMessage `json:"coordinates"`
			} `json:"geometry"`
		} `json:"features"`
	}
	if err := json.NewDecoder(GeoJSON()).Decode(&fc); err != nil {
		t.Fatalf("decode GeoJSON: %v", err)
	}
	if fc.Type != "FeatureCollection" {
		t.Fatalf("type %q", fc.Type)
	}
	var out []*feature
	for _, f := range fc.Features {
		p := f.Properties
		ft := &feature{Code: p.Code, Name: p.Name, Level: p.Level}
		if p.Parent != nil {
			ft.Parent, ft.HasParent = *p.Parent, true
		}
		if f.Type != "Feature" {
			t.Fatalf("%s: type %q", p.Code, f.Type)
		}
		if g := f.Geometry; g != nil {
			var raw [][][][2]float64
			switch g.Type {
			case "Polygon":
				var one [][][2]float64
				if err := json.Unmarshal(g.Coordinates, &one); err != nil {
					t.Fatalf("%s: %v", p.Code, err)
				}
				raw = [][][][2]float64{one}
			case "MultiPolygon":
				if err := json.Unmarshal(g.Coordinates, &raw); err != nil {
					t.Fatalf("%s: %v", p.Code, err)
				}
			default:
				t.Fatalf("%s: geometry type %q", p.Code, g.Type)
			}
			ft.box = [2]pt{{math.MaxInt64, math.MaxInt64}, {math.MinInt64, math.MinInt64}}
			for _, rp := range raw {
				var poly []ring
				for _, rr := range rp {
					var r ring
					for _, c := range rr {
						q := pt{int64(math.Round(c[0] * 1e6)), int64(math.Round(c[1] * 1e6))}
						r = append(r, q)
						ft.box[0].X, ft.box[0].Y = min(ft.box[0].X, q.X), min(ft.box[0].Y, q.Y)
						ft.box[1].X, ft.box[1].Y = max(ft.box[1].X, q.X), max(ft.box[1].Y, q.Y)
					}
					poly = append(poly, r)
				}
				ft.Polys = append(ft.Polys, poly)
			}
		}
		out = append(out, ft)
	}
	return out
}

func TestTree(t *testing.T) {
	fs := load(t)
	byCode := map[string]*feature{}
	byLevel := map[string][]*feature{}
	for _, f := range fs {
		if byCode[f.Code] != nil {
			t.Errorf("duplicate code %s", f.Code)
		}
		byCode[f.Code] = f
		byLevel[f.Level] = append(byLevel[f.Level], f)
	}
	if c := byLevel["city"]; len(c) != 1 || c[0].Code != "500000" || c[0].Name != "重庆市" || c[0].HasParent || c[0].Polys != nil {
		t.Errorf("city: %+v", c)
	}
	if d := byLevel["district"]; len(d) != 1 || d[0].Code != "500103" || d[0].Name != "渝中区" || d[0].Parent != "500000" || len(d[0].Polys) != 1 {
		t.Fatalf("district: %+v", d)
	}

	var names []string
	for _, s := range byLevel["street"] {
		names = append(names, s.Name)
		if len(s.Code) != 9 || s.Parent != "500103" || !strings.HasPrefix(s.Code, "500103") {
			t.Errorf("street %s %s: parent %s", s.Code, s.Name, s.Parent)
		}
	}
	sort.Strings(names)
	want := []string{"七星岗街道", "解放碑街道", "两路口街道", "上清寺街道", "菜园坝街道", "南纪门街道", "朝天门街道", "大溪沟街道", "大坪街道", "化龙桥街道", "石油路街道"}
	sort.Strings(want)
	if fmt.Sprint(names) != fmt.Sprint(want) {
		t.Errorf("streets %v, want %v", names, want)
	}

	if n := len(byLevel["community"]); n < 75 || n > 90 {
		t.Errorf("%d communities, want 75–90", n)
	}
	for _, c := range byLevel["community"] {
		if p := byCode[c.Parent]; len(c.Code) != 12 || p == nil || p.Level != "street" || !strings.HasPrefix(c.Code, c.Parent) {
			t.Errorf("community %s %s: parent %s", c.Code, c.Name, c.Parent)
		}
		if !strings.HasSuffix(c.Name, "社区") {
			t.Errorf("community %s %s: name", c.Code, c.Name)
		}
	}

	grids := byLevel["grid"]
	if n := len(grids); n < 300 || n > 450 {
		t.Errorf("%d grids, want 300–450", n)
	}
	digits15 := regexp.MustCompile(`^[0-9]{15}$`)
	serials := map[string][]int{}
	perStreet := map[string]int{}
	for _, g := range grids {
		p := byCode[g.Parent]
		if !digits15.MatchString(g.Code) || p == nil || p.Level != "community" || !strings.HasPrefix(g.Code, g.Parent) {
			t.Errorf("grid %s %s: parent %s", g.Code, g.Name, g.Parent)
			continue
		}
		n, _ := strconv.Atoi(g.Code[12:])
		serials[g.Parent] = append(serials[g.Parent], n)
		if want := fmt.Sprintf("%s第%d网格", p.Name, n); g.Name != want {
			t.Errorf("grid %s: name %q, want %q", g.Code, g.Name, want)
		}
		perStreet[p.Parent]++
	}
	for c, ns := range serials {
		sort.Ints(ns)
		for k, n := range ns {
			if n != k+1 {
				t.Errorf("community %s: grid serials %v, want 1..%d", c, ns, len(ns))
				break
			}
		}
	}
	for _, c := range byLevel["community"] {
		if len(serials[c.Code]) == 0 {
			t.Errorf("community %s %s has no grids", c.Code, c.Name)
		}
	}
	if ctm := perStreet["500103010"]; float64(ctm) <= float64(len(grids))/11 {
		t.Errorf("朝天门 has %d grids, want more than the average %d", ctm, len(grids)/11)
	}
}

func TestGeometry(t *testing.T) {
	fs := load(t)
	for _, f := range fs {
		for _, poly := range f.Polys {
			for k, r := range poly {
				if err := checkRing(r, k == 0); err != nil {
					t.Errorf("%s %s ring %d: %v", f.Code, f.Name, k, err)
				}
			}
		}
	}
	// Exact areas: the grids of a community add up to it, the communities
	// of a street to the street, the streets to the district.
	area := map[string]int64{}
	children := map[string]int64{}
	for _, f := range fs {
		a := polysArea2(f.Polys)
		area[f.Code] = a
		if f.Level != "city" && f.Level != "district" {
			children[f.Parent] += a
		}
		if f.Level != "city" && a <= 0 {
			t.Errorf("%s: area %d", f.Code, a)
		}
	}
	for _, f := range fs {
		if f.Level == "district" || f.Level == "street" || f.Level == "community" {
			if area[f.Code] != children[f.Code] {
				t.Errorf("%s %s: area %d, its children %d", f.Code, f.Name, area[f.Code], children[f.Code])
			}
		}
	}
	// Size: Yuzhong is about 23 km².
	for _, f := range fs {
		if f.Level == "district" {
			if km2 := areaKM2(area[f.Code]); km2 < 20 || km2 > 26 {
				t.Errorf("district area %.2f km²", km2)
			}
		}
		if f.Level == "grid" {
			if m2 := areaKM2(area[f.Code]) * 1e6; m2 < 5000 || m2 > 200000 {
				t.Errorf("grid %s area %.0f m²", f.Code, m2)
			}
		}
	}
}

// TestTiling samples points in the district's bounding box: every point in
// the district must be in exactly one grid, and in that grid's community
// and street; every point outside must be in no grid. Points within about
// 1e-6° of an edge are not judged.
func TestTiling(t *testing.T) {
	fs := load(t)
	byCode := map[string]*feature{}
	var district *feature
	var grids []*feature
	for _, f := range fs {
		byCode[f.Code] = f
		switch f.Level {
		case "district":
			district = f
		case "grid":
			grids = append(grids, f)
		}
	}
	const tol = 1.0 // µ°
	rng := rand.New(rand.NewPCG(500103, 1))
	b := district.box
	var inside, outside, skipped int
	for range 20000 {
		x := float64(b[0].X-50) + rng.Float64()*float64(b[1].X-b[0].X+100)
		y := float64(b[0].Y-50) + rng.Float64()*float64(b[1].Y-b[0].Y+100)
		in, near := locate(x, y, district.Polys, tol)
		if near {
			skipped++
			continue
		}
		var hits []*feature
		nearGrid := false
		for _, g := range grids {
			if x < float64(g.box[0].X)-tol || x > float64(g.box[1].X)+tol || y < float64(g.box[0].Y)-tol || y > float64(g.box[1].Y)+tol {
				continue
			}
			gin, gnear := locate(x, y, g.Polys, tol)
			nearGrid = nearGrid || gnear
			if gin {
				hits = append(hits, g)
			}
		}
		if nearGrid {
			skipped++
			continue
		}
		if !in {
			outside++
			if len(hits) != 0 {
				t.Errorf("(%.6f, %.6f) is outside the district but in grid %s", x/1e6, y/1e6, hits[0].Code)
			}
			continue
		}
		inside++
		if len(hits) != 1 {
			var codes []string
			for _, h := range hits {
				codes = append(codes, h.Code)
			}
			t.Errorf("(%.6f, %.6f) is in the district and in %d grids %v", x/1e6, y/1e6, len(hits), codes)
			continue
		}
		com := byCode[hits[0].Parent]
		street := byCode[com.Parent]
		for _, f := range []*feature{com, street} {
			if fin, fnear := locate(x, y, f.Polys, tol); !fin && !fnear {
				t.Errorf("(%.6f, %.6f) is in grid %s but not in %s %s", x/1e6, y/1e6, hits[0].Code, f.Code, f.Name)
			}
		}
	}
	t.Logf("%d points inside, %d outside, %d skipped near an edge", inside, outside, skipped)
	if inside < 5000 || outside < 2000 {
		t.Errorf("too few points judged: %d inside, %d outside", inside, outside)
	}
}

func TestCSV(t *testing.T) {
	recs, err := csv.NewReader(bytes.NewReader(CSV())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) == 0 || strings.Join(recs[0], ",") != "code,name,level,parent_code" {
		t.Fatalf("header %v", recs[:1])
	}
	var fromCSV, fromJSON []string
	for _, r := range recs[1:] {
		fromCSV = append(fromCSV, strings.Join(r, ","))
	}
	for _, f := range load(t) {
		if f.Level != "grid" {
			fromJSON = append(fromJSON, strings.Join([]string{f.Code, f.Name, f.Level, f.Parent}, ","))
		}
	}
	if strings.Join(fromCSV, "\n") != strings.Join(fromJSON, "\n") {
		t.Errorf("regions.csv and the GeoJSON differ:\n%s\n---\n%s", strings.Join(fromCSV, "\n"), strings.Join(fromJSON, "\n"))
	}
}

// checkRing checks that r is closed, has at least 3 distinct points, no
// repeated consecutive point, no spike, no self-intersection or
// self-touching, and is counter-clockwise if outer, clockwise otherwise.
func checkRing(r ring, outer bool) error {
	if len(r) < 4 {
		return fmt.Errorf("%d positions", len(r))
	}
	if r[0] != r[len(r)-1] {
		return fmt.Errorf("not closed")
	}
	n := len(r) - 1
	for i := range n {
		if r[i] == r[i+1] {
			return fmt.Errorf("repeated point %v", r[i])
		}
	}
	a := area2(r[:n])
	if a == 0 || (a > 0) != outer {
		return fmt.Errorf("area %d (outer %v)", a, outer)
	}
	for i := range n {
		a1, a2 := r[i], r[i+1]
		for j := i + 1; j < n; j++ {
			b1, b2 := r[j], r[j+1]
			switch {
			case j == i+1:
				// Adjacent: must not fold back onto each other.
				if cross(a1, a2, b2) == 0 && dot(a1, a2, b2) < 0 {
					return fmt.Errorf("spike at %v", a2)
				}
			case i == 0 && j == n-1:
				if cross(b1, b2, a2) == 0 && dot(b1, b2, a2) < 0 {
					return fmt.Errorf("spike at %v", a1)
				}
			default:
				if segmentsTouch(a1, a2, b1, b2) {
					return fmt.Errorf("segments %v–%v and %v–%v meet", a1, a2, b1, b2)
				}
			}
		}
	}
	return nil
}

// cross is the z of (b−a)×(c−a); dot is (b−a)·(c−b).
func cross(a, b, c pt) int64 { return (b.X-a.X)*(c.Y-a.Y) - (b.Y-a.Y)*(c.X-a.X) }
func dot(a, b, c pt) int64   { return (b.X-a.X)*(c.X-b.X) + (b.Y-a.Y)*(c.Y-b.Y) }

// onSegment reports whether p, collinear with a–b, is within its box.
func onSegment(a, b, p pt) bool {
	return min(a.X, b.X) <= p.X && p.X <= max(a.X, b.X) && min(a.Y, b.Y) <= p.Y && p.Y <= max(a.Y, b.Y)
}

// segmentsTouch reports whether closed segments a1–a2 and b1–b2 share a point.
func segmentsTouch(a1, a2, b1, b2 pt) bool {
	sgn := func(v int64) int {
		switch {
		case v > 0:
			return 1
		case v < 0:
			return -1
		}
		return 0
	}
	d1, d2 := sgn(cross(b1, b2, a1)), sgn(cross(b1, b2, a2))
	d3, d4 := sgn(cross(a1, a2, b1)), sgn(cross(a1, a2, b2))
	if d1*d2 < 0 && d3*d4 < 0 {
		return true
	}
	return d1 == 0 && onSegment(b1, b2, a1) || d2 == 0 && onSegment(b1, b2, a2) ||
		d3 == 0 && onSegment(a1, a2, b1) || d4 == 0 && onSegment(a1, a2, b2)
}

// area2 is twice the signed area of an open ring.
func area2(r []pt) int64 {
	var s int64
	o := r[0]
	for i := 1; i+1 < len(r); i++ {
		s += cross(o, r[i], r[i+1])
	}
	return s
}

// polysArea2 is twice the area of polygons (holes negative, as they are
// clockwise).
func polysArea2(ps [][]ring) int64 {
	var s int64
	for _, p := range ps {
		for _, r := range p {
			s += area2(r[:len(r)-1])
		}
	}
	return s
}

// areaKM2 converts twice an area in µ°² to km² near 29.55° N.
func areaKM2(a2 int64) float64 {
	return float64(a2) / 2 * (111.32e-6 * math.Cos(29.55*math.Pi/180)) * 110.86e-6
}

// locate tells whether point (x, y), in µ°, is inside the polygons (even-odd
// over all rings), and whether it is within tol of one of their edges.
func locate(x, y float64, ps [][]ring, tol float64) (in, near bool) {
	for _, p := range ps {
		for _, r := range p {
			for i := 0; i+1 < len(r); i++ {
				ax, ay := float64(r[i].X), float64(r[i].Y)
				bx, by := float64(r[i+1].X), float64(r[i+1].Y)
				if distToSegment(x, y, ax, ay, bx, by) <= tol {
					near = true
				}
				if (ay > y) != (by > y) && x < ax+(y-ay)*(bx-ax)/(by-ay) {
					in = !in
				}
			}
		}
	}
	return in, near
}

// distToSegment is the distance from (x, y) to segment a–b.
func distToSegment(x, y, ax, ay, bx, by float64) float64 {
	dx, dy := bx-ax, by-ay
	t := 0.0
	if l := dx*dx + dy*dy; l > 0 {
		t = max(0, min(1, ((x-ax)*dx+(y-ay)*dy)/l))
	}
	return math.Hypot(x-(ax+t*dx), y-(ay+t*dy))
}
