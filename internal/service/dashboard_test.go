package service

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/geo"
	"zhizhi/internal/region"
	"zhizhi/internal/store"
)

// cityLayers builds the map layers of a synthetic city: 62,000 grids (the
// size of Chongqing), their communities and streets as the bounding boxes of
// their grids.
func cityLayers(t testing.TB, n int) (*mapLayers, geo.Rect) {
	t.Helper()
	grids := geo.SyntheticGrids(n, 7, geo.Point{Lng: 106.3, Lat: 29.3})
	var regs []mapRegion
	boxes := map[string]geo.Rect{}
	var all geo.Rect
	grow := func(a, b geo.Rect, first bool) geo.Rect {
		if first {
			return b
		}
		return geo.Rect{Min: geo.Point{Lng: math.Min(a.Min.Lng, b.Min.Lng), Lat: math.Min(a.Min.Lat, b.Min.Lat)},
			Max: geo.Point{Lng: math.Max(a.Max.Lng, b.Max.Lng), Lat: math.Max(a.Max.Lat, b.Max.Lat)}}
	}
	for i, g := range grids {
		street, comm := g.Code[:9], g.Code[:12]
		regs = append(regs, mapRegion{code: g.Code, name: "网格" + g.Code[12:], level: region.Grid, shape: g.Shape,
			path: "/500000/500103/" + street + "/" + comm + "/" + g.Code + "/"})
		b := g.Shape.Bounds()
		for _, c := range []string{street, comm} {
			old, ok := boxes[c]
			boxes[c] = grow(old, b, !ok)
		}
		all = grow(all, b, i == 0)
	}
	for code, b := range boxes {
		rect := geo.MultiPolygon{{{b.Min, {Lng: b.Max.Lng, Lat: b.Min.Lat}, b.Max, {Lng: b.Min.Lng, Lat: b.Max.Lat}, b.Min}}}
		r := mapRegion{code: code, name: "区域" + code, shape: rect, level: region.Street, path: "/500000/500103/" + code + "/"}
		if len(code) == 12 {
			r.level, r.path = region.Community, "/500000/500103/"+code[:9]+"/"+code+"/"
		}
		regs = append(regs, r)
	}
	return newMapLayers(regs, nil), all
}

// viewport is the box a map of w×h pixels shows around a point at a zoom.
func viewport(c geo.Point, zoom int, w, h float64) geo.Rect {
	dx := degreesPerPixel(zoom) * w / 2
	dy := degreesPerPixel(zoom) * h / 2 * math.Cos(c.Lat*math.Pi/180)
	return geo.Rect{Min: geo.Point{Lng: c.Lng - dx, Lat: c.Lat - dy}, Max: geo.Point{Lng: c.Lng + dx, Lat: c.Lat + dy}}
}

// TestMapViewCityScale: a city of 62,000 grids is never sent whole. Seen
// whole, it comes as streets or communities; asked for grids over the whole
// city (a client bug or a hostile request), it still falls back to a level
// that fits, and every answer stays within the feature and vertex bounds
// and well under a megabyte.
func TestMapViewCityScale(t *testing.T) {
	l, city := cityLayers(t, 62000)
	center := geo.Point{Lng: (city.Min.Lng + city.Max.Lng) / 2, Lat: (city.Min.Lat + city.Max.Lat) / 2}
	const cityRoot = "/500000/"
	for _, tc := range []struct {
		name      string
		bbox      geo.Rect
		zoom      int
		root      string
		level     region.Level
		min, max  int
		maxBytes  int
		truncated bool
	}{
		{"whole city at street zoom", city, 10, cityRoot, region.Street, 13, 13, 20 << 10, false},
		{"whole city at community zoom", city, 12, cityRoot, region.Community, 1240, 1240, 400 << 10, false},
		{"whole city asking for grids", city, 16, cityRoot, region.Community, 1240, 1240, 400 << 10, false},
		{"a screen at zoom 15", viewport(center, 15, 1440, 900), 15, cityRoot, region.Grid, 100, 400, 150 << 10, false},
		{"a phone at zoom 17", viewport(center, 17, 390, 600), 17, cityRoot, region.Grid, 1, 20, 20 << 10, false},
		{"one street's commander sees the whole city", city, 16, "/500000/500103/500103001/", region.Community, 100, 100, 50 << 10, false},
		{"outside every grid", geo.Rect{Min: geo.Point{Lng: 100, Lat: 20}, Max: geo.Point{Lng: 100.1, Lat: 20.1}}, 15, cityRoot, region.Grid, 0, 0, 200, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			v := l.view(tc.bbox, tc.zoom, tc.root, MapMaxFeatures, MapMaxVertices)
			took := time.Since(start)
			body, err := v.AppendGeoJSON(nil)
			if err != nil {
				t.Fatal(err)
			}
			vertices := 0
			for _, f := range v.Features {
				if !strings.HasPrefix(l.regions[f.Code].path, tc.root) {
					t.Fatalf("feature %s outside the root %s", f.Code, tc.root)
				}
				for _, poly := range f.Shape {
					for _, ring := range poly {
						vertices += len(ring)
					}
				}
			}
			t.Logf("%d %s features, %d vertices, %d bytes, %v", len(v.Features), v.Level, vertices, len(body), took)
			if v.Level != tc.level || len(v.Features) < tc.min || len(v.Features) > tc.max || v.Truncated != tc.truncated {
				t.Fatalf("got %d %s features (truncated %v), want %d–%d %s", len(v.Features), v.Level, v.Truncated, tc.min, tc.max, tc.level)
			}
			if len(v.Features) > MapMaxFeatures || vertices > MapMaxVertices || len(body) > tc.maxBytes {
				t.Fatalf("answer too big: %d features, %d vertices, %d bytes (want ≤ %d bytes)", len(v.Features), vertices, len(body), tc.maxBytes)
			}
			var fc struct {
				Type     string
				Level    string
				Features []struct {
					ID         string
					Properties map[string]any
					Geometry   struct {
						Type        string
						Coordinates [][][][2]float64
					}
				}
			}
			if err := json.Unmarshal(body, &fc); err != nil {
				t.Fatalf("not JSON: %v\n%.300s", err, body)
			}
			if fc.Type != "FeatureCollection" || fc.Level != string(tc.level) || len(fc.Features) != len(v.Features) {
				t.Fatalf("GeoJSON %s level %s with %d features", fc.Type, fc.Level, len(fc.Features))
			}
			for _, f := range fc.Features {
				if f.Geometry.Type != "MultiPolygon" || len(f.Geometry.Coordinates) == 0 || len(f.Geometry.Coordinates[0][0]) < 4 {
					t.Fatalf("feature %s geometry %+v", f.ID, f.Geometry)
				}
			}
			if took > 500*time.Millisecond {
				t.Errorf("view took %v", took)
			}
		})
	}
	// Over the bounds with no coarser level to fall back on: cut, and said so.
	v := l.view(city, 10, cityRoot, 5, MapMaxVertices)
	if len(v.Features) != 5 || !v.Truncated {
		t.Fatalf("5-feature bound: %d features, truncated %v", len(v.Features), v.Truncated)
	}
	v = l.view(viewport(center, 15, 1440, 900), 15, cityRoot, MapMaxFeatures, 200)
	if !v.Truncated || len(v.Features) == 0 || len(v.Features) > 30 {
		t.Fatalf("200-vertex bound: %d features, truncated %v", len(v.Features), v.Truncated)
	}
	// Simplification follows the zoom: fewer vertices for the same grids
	// seen from further out.
	near := l.view(viewport(center, 17, 400, 400), 17, cityRoot, MapMaxFeatures, MapMaxVertices)
	far := l.view(viewport(center, 17, 400, 400), 13, cityRoot, MapMaxFeatures, MapMaxVertices)
	if count(near) <= count(far) || len(far.Features) != len(near.Features) {
		t.Fatalf("simplification: %d vertices at zoom 17, %d at 13 (%d and %d grids)", count(near), count(far), len(near.Features), len(far.Features))
	}
	if b, ok := l.home("/500000/500103/500103002/"); !ok || !city.Intersects(b) || b.Max.Lat-b.Min.Lat > city.Max.Lat-city.Min.Lat {
		t.Fatalf("home of a street: %+v %v", b, ok)
	}
	if _, ok := l.home("/500000/500199/"); ok {
		t.Fatal("home of a region without shapes")
	}
}

func count(v MapView) int {
	n := 0
	for _, f := range v.Features {
		for _, poly := range f.Shape {
			for _, ring := range poly {
				n += len(ring)
			}
		}
	}
	return n
}

func BenchmarkMapViewCity(b *testing.B) {
	l, city := cityLayers(b, 62000)
	center := geo.Point{Lng: (city.Min.Lng + city.Max.Lng) / 2, Lat: (city.Min.Lat + city.Max.Lat) / 2}
	box := viewport(center, 15, 1440, 900)
	var buf []byte
	for b.Loop() {
		v := l.view(box, 15, "/500000/", MapMaxFeatures, MapMaxVertices)
		var err error
		if buf, err = v.AppendGeoJSON(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(buf)), "bytes/answer")
	var z bytes.Buffer
	gz := gzip.NewWriter(&z)
	gz.Write(buf)
	gz.Close()
	b.ReportMetric(float64(z.Len()), "gzip-bytes/answer")
}

// dashWorld is a service over a fresh SQLite file with a district, two
// streets with a grid each, two categories and accounts for each street.
func dashWorld(t *testing.T) (*Service, *testClock) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "zhizhi.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	sq := func(lng, lat, d float64) geo.MultiPolygon {
		return geo.MultiPolygon{{{{Lng: lng, Lat: lat}, {Lng: lng + d, Lat: lat}, {Lng: lng + d, Lat: lat + d}, {Lng: lng, Lat: lat + d}, {Lng: lng, Lat: lat}}}}
	}
	rec := func(code, name string, l region.Level, parent, path string, shape geo.MultiPolygon) store.RegionRecord {
		return store.RegionRecord{Region: region.Region{Code: code, Name: name, Level: l, ParentCode: parent, Shape: shape}, Path: path}
	}
	if err := db.PutRegions(ctx, []store.RegionRecord{
		rec("500000", "重庆市", region.City, "", "/500000/", nil),
		rec("500103", "渝中区", region.District, "500000", "/500000/500103/", sq(106.5, 29.5, 0.2)),
		rec("500103001", "甲街道", region.Street, "500103", "/500000/500103/500103001/", sq(106.5, 29.5, 0.1)),
		rec("500103001001", "甲社区", region.Community, "500103001", "/500000/500103/500103001/500103001001/", sq(106.5, 29.5, 0.05)),
		rec("500103001001001", "甲网格", region.Grid, "500103001001", "/500000/500103/500103001/500103001001/500103001001001/", sq(106.50, 29.50, 0.01)),
		rec("500103002", "乙街道", region.Street, "500103", "/500000/500103/500103002/", sq(106.6, 29.5, 0.1)),
		rec("500103002001", "乙社区", region.Community, "500103002", "/500000/500103/500103002/500103002001/", sq(106.6, 29.5, 0.05)),
		rec("500103002001001", "乙网格", region.Grid, "500103002001", "/500000/500103/500103002/500103002001/500103002001001/", sq(106.60, 29.50, 0.01)),
	}); err != nil {
		t.Fatal(err)
	}
	clock := &testClock{t: time.Date(2026, 3, 9, 1, 0, 0, 0, time.UTC)} // 09:00 in Shanghai
	s, err := New(ctx, db, Config{PhotoDir: t.TempDir(), DefaultCenter: "/500000/500103/", Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []cases.Category{
		{Code: "MS01", Name: "道路破损", Board: cases.BoardServices, Level: "district", Active: true},
		{Code: "AQ01", Name: "燃气隐患", Board: cases.BoardSafety, Level: "district", Active: true},
	} {
		if err := s.PutCategory(ctx, cases.System, c); err != nil {
			t.Fatal(err)
		}
	}
	return s, clock
}

func TestDashboardAndMap(t *testing.T) {
	s, clock := dashWorld(t)
	ctx := context.Background()
	district := cases.Actor{AccountID: "lead", Name: "区领导", Role: cases.RoleLeader, RegionPath: "/500000/500103/"}
	streetA := cases.Actor{AccountID: "cmdA", Name: "甲指挥长", Role: cases.RoleCommander, RegionPath: "/500000/500103/500103001/"}
	worker := cases.Actor{AccountID: "gw", Name: "网格员", Role: cases.RoleGridWorker, RegionPath: "/500000/500103/500103001/500103001001/500103001001001/"}
	report := func(cat string, p geo.Point) cases.Case {
		t.Helper()
		c, err := s.Report(ctx, worker, cases.Report{Source: cases.SourcePatrol, Category: cat, Description: "测试问题描述", Point: &p})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	inA, inB := geo.Point{Lng: 106.505, Lat: 29.505}, geo.Point{Lng: 106.605, Lat: 29.505}
	report("MS01", inA)
	clock.Add(24 * time.Hour)
	report("MS01", inA)
	report("AQ01", inA)
	report("AQ01", inB)
	clock.Add(2 * time.Hour) // every accept clock (30 min) is now red

	loc := s.Calendar().Location()
	from := time.Date(2026, 3, 3, 0, 0, 0, 0, loc)
	to := time.Date(2026, 3, 11, 0, 0, 0, 0, loc)
	d, err := s.Dashboard(ctx, district, DashboardFilter{From: from, To: to})
	if err != nil {
		t.Fatal(err)
	}
	if d.Totals.Reported != 4 || d.Totals.Open != 4 || d.Totals.OpenOverdue != 4 || d.OverdueNow != 4 || d.AreaDim != store.ByStreet {
		t.Fatalf("district totals %+v, overdue now %d, areas by %s", d.Totals, d.OverdueNow, d.AreaDim)
	}
	if r, ok := d.Totals.OnTimeRate(); !ok || r != 0 {
		t.Fatalf("on-time rate %v %v: open overdue cases count against it", r, ok)
	}
	if len(d.ByArea) != 2 || d.ByArea[0].Name != "甲街道" || d.ByArea[0].Reported != 3 || d.ByArea[1].Name != "乙街道" {
		t.Fatalf("by street %+v", d.ByArea)
	}
	if len(d.ByBoard) != 2 || len(d.ByCategory) != 2 || d.ByCategory[0].Name == "" {
		t.Fatalf("by board %+v, by category %+v", d.ByBoard, d.ByCategory)
	}
	if len(d.ByDay) != 8 || d.ByDay[6].Key != "2026-03-09" || d.ByDay[6].Reported != 1 || d.ByDay[7].Reported != 3 || d.ByDay[0].Reported != 0 {
		t.Fatalf("by day %+v", d.ByDay)
	}
	// A street's commander sees the street only, by community; a region
	// filter drills down; another street's region is refused.
	d, err = s.Dashboard(ctx, streetA, DashboardFilter{From: from, To: to, Board: "safety"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Totals.Reported != 1 || d.AreaDim != store.ByCommunity || len(d.ByArea) != 1 || d.ByArea[0].Name != "甲社区" {
		t.Fatalf("street dashboard %+v by %s: %+v", d.Totals, d.AreaDim, d.ByArea)
	}
	d, err = s.Dashboard(ctx, district, DashboardFilter{From: from, To: to, Region: "500103002"})
	if err != nil || d.Totals.Reported != 1 || d.AreaDim != store.ByCommunity {
		t.Fatalf("drill into a street: %+v %v", d.Totals, err)
	}
	for _, tc := range []struct {
		f     DashboardFilter
		field string
	}{
		{DashboardFilter{From: to, To: from}, "period"},
		{DashboardFilter{From: from, To: from.AddDate(2, 0, 0)}, "period"},
		{DashboardFilter{From: from, To: to, Region: "500103002"}, "region"},
		{DashboardFilter{From: from, To: to, Region: "999"}, "region"},
		{DashboardFilter{From: from, To: to, Board: "x"}, "board"},
		{DashboardFilter{From: from, To: to, Category: "x"}, "category"},
	} {
		_, err := s.Dashboard(ctx, streetA, tc.f)
		if !apperr.Is(err, apperr.Invalid) || len(fieldsOf(err)) == 0 || fieldsOf(err)[0] != tc.field {
			t.Errorf("%+v: %v, want invalid %s", tc.f, err, tc.field)
		}
	}

	// The map: grids with their open cases, in scope.
	maps := NewMaps(s)
	box := geo.Rect{Min: geo.Point{Lng: 106.4, Lat: 29.4}, Max: geo.Point{Lng: 106.8, Lat: 29.8}}
	v, err := maps.View(ctx, district, box, 14, true)
	if err != nil {
		t.Fatal(err)
	}
	loads := map[string]store.AreaLoad{}
	for _, f := range v.Features {
		loads[f.Code] = f.Load
	}
	if v.Level != region.Grid || len(v.Features) != 2 || loads["500103001001001"].Open != 3 || loads["500103001001001"].Overdue != 3 || loads["500103002001001"].Open != 1 {
		t.Fatalf("district map: %s %+v", v.Level, loads)
	}
	v, err = maps.View(ctx, streetA, box, 14, true)
	if err != nil || len(v.Features) != 1 || v.Features[0].Code != "500103001001001" {
		t.Fatalf("street map: %+v %v", v, err)
	}
	v, err = maps.View(ctx, district, box, 9, true)
	if err != nil || v.Level != region.Street || len(v.Features) != 2 {
		t.Fatalf("district map zoomed out: %s %d %v", v.Level, len(v.Features), err)
	}
	v, err = maps.View(ctx, streetA, box, 5, true)
	if err != nil || v.Level != region.Street || len(v.Features) != 1 {
		t.Fatalf("street map zoomed far out shows the street: %s %d %v", v.Level, len(v.Features), err)
	}
	if b, ok, err := maps.Home(ctx, worker); err != nil || !ok || b.Max.Lng-b.Min.Lng < 0.09 {
		t.Fatalf("a grid worker's map is the street: %+v %v %v", b, ok, err)
	}
	if _, ok, _ := maps.Home(ctx, cases.Actor{Role: cases.RoleUnit, UnitID: "x"}); ok {
		t.Fatal("a unit has a map")
	}
	if _, err := maps.View(ctx, district, geo.Rect{Min: geo.Point{Lng: 200}}, 14, true); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("bad bbox: %v", err)
	}
	// New regions rebuild the layers.
	if _, err := s.ImportRegions(ctx, strings.NewReader(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"500103002001002","name":"丙网格","level":"grid","parent_code":"500103002001"},"geometry":{"type":"Polygon","coordinates":[[[106.62,29.5],[106.63,29.5],[106.63,29.51],[106.62,29.51],[106.62,29.5]]]}}]}`), "geojson"); err != nil {
		t.Fatal(err)
	}
	v, err = maps.View(ctx, district, box, 14, true)
	if err != nil || len(v.Features) != 3 {
		t.Fatalf("after import: %d features %v", len(v.Features), err)
	}
}

// TestAreaDim: a dashboard groups its areas by the level below its region.
func TestAreaDim(t *testing.T) {
	t.Parallel()
	for path, want := range map[string]store.StatsDim{
		"":                                       store.ByStreet, // no region: every street
		"/500000/":                               store.ByDistrict,
		"/500000/500103/":                        store.ByStreet,
		"/500000/500103/500103001/":              store.ByCommunity,
		"/500000/500103/500103001/500103001001/": store.ByGrid,
		"/500000/500103/500103001/500103001001/g1/": store.ByGrid,
	} {
		if got := areaDim(path); got != want {
			t.Errorf("areaDim(%q) = %v, want %v", path, got, want)
		}
	}
}
