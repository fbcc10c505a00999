package scale

import (
	"strings"
	"testing"
	"time"

	"zhizhi/internal/calendar"
	"zhizhi/internal/cases"
	"zhizhi/internal/demo"
	"zhizhi/internal/geo"
	"zhizhi/internal/region"
	"zhizhi/internal/sla"
	"zhizhi/internal/store"
)

// TestTree builds a small tree and checks the counts, the code rules, the
// parent links and paths, and that every grid's polygon holds its own
// points (the grid index places them in that grid).
func TestTree(t *testing.T) {
	sz := Size{Districts: 3, Streets: 7, Communities: 20, Grids: 130}
	tr, err := BuildTree(sz, 5)
	if err != nil {
		t.Fatal(err)
	}
	count := map[region.Level]int{}
	byCode := map[string]store.RegionRecord{}
	for _, r := range tr.Regions {
		count[r.Level]++
		if p := region.CodeProblem(r.Level, r.Code); p != "" {
			t.Fatalf("%s %s: %s", r.Level, r.Code, p)
		}
		if r.Level != region.City {
			parent, ok := byCode[r.ParentCode]
			if !ok {
				t.Fatalf("%s: parent %s not before it", r.Code, r.ParentCode)
			}
			if p := region.ParentProblem(r.Level, r.Code, parent.Level, parent.Code); p != "" {
				t.Fatalf("%s: %s", r.Code, p)
			}
			if r.Path != parent.Path+r.Code+"/" {
				t.Fatalf("%s: path %s under %s", r.Code, r.Path, parent.Path)
			}
		}
		if (r.Level == region.Grid) != (len(r.Shape) > 0) {
			t.Fatalf("%s: only grids have shapes", r.Code)
		}
		if r.Level == region.Grid {
			if err := r.Shape.Validate(); err != nil {
				t.Fatalf("%s: %v", r.Code, err)
			}
		}
		byCode[r.Code] = r
	}
	want := map[region.Level]int{region.City: 1, region.District: sz.Districts, region.Street: sz.Streets, region.Community: sz.Communities, region.Grid: sz.Grids}
	for l, n := range want {
		if count[l] != n {
			t.Errorf("%s: %d, want %d", l, count[l], n)
		}
	}
	entries := make([]geo.Entry, len(tr.Grids))
	for i, g := range tr.Grids {
		entries[i] = geo.Entry{Code: g.Code, Shape: g.Shape}
		if tr.Streets[g.Street].Code != g.Code[:9] || tr.Districts[g.District].Code != g.Code[:6] {
			t.Fatalf("%s: street %s, district %s", g.Code, tr.Streets[g.Street].Code, tr.Districts[g.District].Code)
		}
	}
	ix := geo.NewIndex(entries)
	for _, g := range tr.Grids {
		p := g.Shape.Centroid()
		if code, ok := ix.Locate(p); !ok || code != g.Code {
			t.Fatalf("centroid of %s located in %q", g.Code, code)
		}
	}
	// Consecutive grids of a street are mostly neighbours (the Hilbert curve):
	// their bounding boxes touch.
	apart := 0
	for i := 1; i < len(tr.Grids); i++ {
		a, b := tr.Grids[i-1], tr.Grids[i]
		if a.Street == b.Street && !grow(a.Shape.Bounds(), 1e-4).Intersects(b.Shape.Bounds()) {
			apart++
		}
	}
	if apart > len(tr.Grids)/20 {
		t.Errorf("%d of %d consecutive grids of a street are not neighbours", apart, len(tr.Grids))
	}
}

func grow(r geo.Rect, d float64) geo.Rect {
	r.Min.Lng -= d
	r.Min.Lat -= d
	r.Max.Lng += d
	r.Max.Lat += d
	return r
}

// TestCases generates a few hundred cases without a database and checks the
// rows the loader would copy: level codes from the path, the point in its
// grid, numbers per center and day, timelines, and the open/closed mix.
func TestCases(t *testing.T) {
	tr, err := BuildTree(Size{Districts: 2, Streets: 4, Communities: 10, Grids: 40}, 1)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	g := &gen{tree: tr, now: now, streets: tr.Streets, units: map[string]cases.Unit{}, rule: store.ClockRule{EscalateAfter: 24 * time.Hour}}
	cal := calendar.Default()
	for _, c := range demo.Categories() {
		g.units[c.DefaultUnit] = cases.Unit{ID: c.DefaultUnit, Name: "单位" + c.DefaultUnit}
		g.cats = append(g.cats, c)
		cat := c
		g.policies = append(g.policies, cases.Policy{Calendar: cal, Limit: func(stage string, sev sla.Severity) sla.Limit {
			if l, ok := cat.Limits.Limit(sla.Stage(stage), sev); ok {
				return l
			}
			l, _ := sla.DefaultTable().Limit(sla.Stage(stage), sev)
			return l
		}})
	}
	const n = 600
	p := newPlanner(tr, len(g.cats), now, 2, n, 3)
	specs := make([]spec, n)
	for i := range specs {
		specs[i] = p.spec(i)
	}
	r, err := g.build(specs)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.cases) != n || r.open+r.closed != n {
		t.Fatalf("%d case rows, %d open + %d closed", len(r.cases), r.open, r.closed)
	}
	if r.open == 0 || r.open > n/5 {
		t.Errorf("%d open of %d", r.open, n)
	}
	if len(r.steps) < 3*n {
		t.Errorf("%d steps for %d cases", len(r.steps), n)
	}
	grids := map[string]Grid{}
	for _, gr := range tr.Grids {
		grids[gr.Code] = gr
	}
	prev := ""
	for i, row := range r.cases {
		if len(row) != len(caseCols) {
			t.Fatalf("row has %d columns, want %d", len(row), len(caseCols))
		}
		id, number, path, gridCode := row[3].(string), row[4].(string), row[12].(string), row[11].(string)
		if id <= prev {
			t.Fatalf("case %d: ID %s not after %s", i, id, prev)
		}
		prev = id
		lv := region.PathCodes(path)
		if row[0] != lv[1] || row[1] != lv[2] || row[2] != lv[3] || gridCode != lv[4] || row[13] != "/"+lv[0]+"/"+lv[1]+"/"+lv[2]+"/" {
			t.Fatalf("case %d: levels %v %v %v grid %s center %v for %s", i, row[0], row[1], row[2], gridCode, row[13], path)
		}
		if !strings.HasPrefix(number, lv[2]+"-") || !strings.Contains(row[22].(string), number) {
			t.Fatalf("case %d: number %s, body %s", i, number, row[22])
		}
		if pt := (geo.Point{Lng: row[14].(float64), Lat: row[15].(float64)}); !grids[gridCode].Shape.Contains(pt) {
			t.Fatalf("case %d: point %v outside grid %s", i, pt, gridCode)
		}
	}
	seqs := map[string]int{}
	for _, s := range r.steps {
		seqs[s[1].(string)]++
		if int(s[2].(int32)) != seqs[s[1].(string)] {
			t.Fatalf("step %v: seq %d, want %d", s[0], s[2], seqs[s[1].(string)])
		}
	}
	for _, c := range r.clocks {
		if c[8] != nil && c[8].(int64) <= now.UnixMilli() {
			t.Fatalf("clock %v %v: next event %v already past", c[0], c[1], c[8])
		}
	}
}
