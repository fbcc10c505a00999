package web_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/demo"
	"zhizhi/internal/sla"
	"zhizhi/internal/web"
)

// featureCollection is what /map/shapes answers.
type featureCollection struct {
	Type      string `json:"type"`
	Level     string `json:"level"`
	Truncated bool   `json:"truncated"`
	Features  []struct {
		ID         string `json:"id"`
		Properties struct {
			Code     string `json:"code"`
			Name     string `json:"name"`
			Open     int    `json:"open"`
			Overdue  int    `json:"overdue"`
			Critical int    `json:"critical"`
		} `json:"properties"`
		Geometry struct {
			Type        string          `json:"type"`
			Coordinates [][][][]float64 `json:"coordinates"`
		} `json:"geometry"`
	} `json:"features"`
}

// script asks like the page's scripts do.
func (c *client) script(path string, header ...string) response {
	c.t.Helper()
	req, _ := http.NewRequest("GET", srv.URL+path, nil)
	req.Header.Set("X-Requested-With", "fetch")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return c.do(req)
}

func shapes(t *testing.T, c *client, bbox string, zoom int) featureCollection {
	t.Helper()
	r := c.script(fmt.Sprintf("/map/shapes?bbox=%s&zoom=%d", bbox, zoom))
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "application/geo+json") {
		t.Fatalf("shapes: %d %s %s", r.status, r.header.Get("Content-Type"), excerpt(r.body))
	}
	var fc featureCollection
	if err := json.Unmarshal([]byte(r.body), &fc); err != nil {
		t.Fatalf("shapes JSON: %v", err)
	}
	return fc
}

var boundsRE = regexp.MustCompile(`data-bounds="([^"]+)"`)

func TestMapShapes(t *testing.T) {
	cs := reportCase(t, "zhouchunyan", "MS03", "地图测试：垃圾桶满溢")
	grid := cs.GridCode
	cmd := signIn(t, "syl_zhihui")
	board := cmd.get("/board")
	m := boundsRE.FindStringSubmatch(board.body)
	if m == nil || !strings.Contains(board.body, `id="map"`) || !strings.Contains(board.body, asset(t, "vendor/leaflet/leaflet.js")) {
		t.Fatalf("the board has no map: %s", excerpt(board.body))
	}
	bbox := m[1]

	// Zoomed in on the street: its grids, each with its open cases.
	fc := shapes(t, cmd, bbox, 15)
	if fc.Type != "FeatureCollection" || fc.Level != "grid" || len(fc.Features) < 10 || fc.Truncated {
		t.Fatalf("street at zoom 15: %s %s, %d features, truncated %v", fc.Type, fc.Level, len(fc.Features), fc.Truncated)
	}
	found := false
	streetPath := actor(t, "syl_zhihui").RegionPath
	for _, f := range fc.Features {
		p, ok := plat.Service.RegionPath(f.Properties.Code)
		if !ok || !strings.HasPrefix(p, streetPath) {
			t.Fatalf("feature %s outside the commander's street", f.Properties.Code)
		}
		if f.Geometry.Type != "MultiPolygon" || len(f.Geometry.Coordinates[0][0]) < 4 || f.Properties.Name == "" {
			t.Fatalf("feature %+v", f)
		}
		if f.Properties.Code == grid {
			found = true
			if f.Properties.Open < 1 {
				t.Errorf("grid %s shows %d open cases, want at least the new one", grid, f.Properties.Open)
			}
		}
	}
	if !found {
		t.Fatalf("the reported case's grid %s is not on the map", grid)
	}
	// Zoomed out: communities, then the street itself.
	if fc := shapes(t, cmd, bbox, 11); fc.Level != "community" || len(fc.Features) == 0 {
		t.Fatalf("zoom 11: %s with %d features", fc.Level, len(fc.Features))
	}
	if fc := shapes(t, cmd, "105,29,107,30", 8); fc.Level != "street" || len(fc.Features) != 1 {
		t.Fatalf("zoom 8: %s with %d features", fc.Level, len(fc.Features))
	}
	// A large answer is compressed when the browser accepts it.
	r := cmd.script("/map/shapes?bbox="+bbox+"&zoom=15", "Accept-Encoding", "gzip")
	if r.header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("no gzip: %v", r.header)
	}
	zr, err := gzip.NewReader(bytes.NewReader([]byte(r.body)))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	t.Logf("grids of a street at zoom 15: %d bytes, %d gzipped", len(plain), len(r.body))
	if !json.Valid(plain) {
		t.Fatal("gzipped answer is not JSON")
	}

	// A grid worker sees the shapes of the street for the pin picker, without counts.
	gw := signIn(t, "zhouchunyan")
	for _, f := range shapes(t, gw, bbox, 15).Features {
		if f.Properties.Open != 0 {
			t.Fatalf("a grid worker sees counts: %+v", f.Properties)
		}
	}
	if r := gw.script("/map/home"); r.status != 200 || !strings.Contains(r.body, `"bounds":[`) {
		t.Fatalf("map home: %d %s", r.status, r.body)
	}
	// Units have no map; bad requests are refused in Chinese.
	if r := signIn(t, "yj_staff").script("/map/shapes?bbox=" + bbox + "&zoom=15"); r.status != http.StatusForbidden {
		t.Fatalf("unit staff: %d", r.status)
	}
	for _, q := range []string{"bbox=1,2,3&zoom=15", "bbox=" + bbox + "&zoom=x", "bbox=" + bbox + "&zoom=40", "bbox=a,b,c,d&zoom=3"} {
		if r := cmd.script("/map/shapes?" + q); r.status != http.StatusBadRequest || !strings.ContainsAny(r.body, "视野缩放") {
			t.Errorf("%s: %d %s", q, r.status, r.body)
		}
	}
}

// TestBoardRegionFilter: a click on the map filters the queue to a grid
// (the board's region filter), live rows included.
func TestBoardRegionFilter(t *testing.T) {
	mine := reportCase(t, "zhouchunyan", "MS03", "区域筛选测试：本网格")
	other := reportCase(t, "yangshipei", "MS03", "区域筛选测试：其他网格")
	if mine.GridCode == other.GridCode {
		t.Fatal("the two workers share a grid")
	}
	c := signIn(t, "qu_zhihui")
	r := c.get("/board?region=" + mine.GridCode)
	expect(t, r, 200, mine.Number, `id="region-chip"`, plat.Service.RegionName(mine.GridCode), `name="region" value="`+mine.GridCode+`"`)
	if strings.Contains(r.body, other.Number) {
		t.Fatal("the grid's queue lists another grid's case")
	}
	if r := c.script("/board/rows/" + other.ID + "?region=" + mine.GridCode); r.status != http.StatusNoContent {
		t.Fatalf("row of another grid under the grid's filter: %d", r.status)
	}
	expect(t, c.script("/board/rows/"+mine.ID+"?region="+mine.GridCode), 200, mine.Number)
	// A community holds its grids; an unknown code is refused, naming the field.
	comm := mine.RegionPath[:strings.LastIndex(strings.TrimSuffix(mine.RegionPath, "/"), "/")+1]
	commCode := comm[strings.LastIndex(strings.TrimSuffix(comm, "/"), "/")+1 : len(comm)-1]
	expect(t, c.get("/board?region="+commCode), 200, mine.Number)
	expect(t, c.get("/board?region=nope"), 400, "“地图区域”不存在")
}

// TestMapFlashes: a grid with a critical case is marked for flashing.
func TestMapFlashes(t *testing.T) {
	p := gridPoint(t, "zhouchunyan")
	cs, err := plat.Service.Report(t.Context(), actor(t, "zhouchunyan"), cases.Report{Source: cases.SourcePatrol,
		Category: "AQ09", Description: "地图测试：燃气泄漏，情况紧急", Point: &p, Severity: sla.Critical})
	if err != nil {
		t.Fatal(err)
	}
	c := signIn(t, "leader")
	bbox := fmt.Sprintf("%f,%f,%f,%f", p.Lng-0.001, p.Lat-0.001, p.Lng+0.001, p.Lat+0.001)
	// The counts are cached for a few seconds per scope.
	for deadline := time.Now().Add(8 * time.Second); ; time.Sleep(300 * time.Millisecond) {
		var got string
		for _, f := range shapes(t, c, bbox, 17).Features {
			if f.Properties.Code == cs.GridCode {
				if f.Properties.Critical >= 1 && f.Properties.Open >= 1 {
					return
				}
				got = fmt.Sprintf("%+v", f.Properties)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("grid %s: %q, want a critical open case", cs.GridCode, got)
		}
	}
}

// TestMapTiles: a configured tile server reaches the board's map and the
// pin picker; without one the map draws only our shapes.
func TestMapTiles(t *testing.T) {
	con := web.New(plat.Service, nil)
	con.SetTiles("https://tiles.example/{z}/{x}/{y}.png", "© 测试底图")
	hs := httptest.NewServer(con)
	defer hs.Close()
	token, _, err := plat.Service.SignIn(t.Context(), "syl_zhihui", demo.Password)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", hs.URL+"/board", nil)
	req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: token})
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(body), `data-tiles="https://tiles.example/{z}/{x}/{y}.png"`) || !strings.Contains(string(body), `data-attribution="© 测试底图"`) {
		t.Fatalf("board without the tile layer: %s", excerpt(string(body)))
	}
	if r := signIn(t, "syl_zhihui").get("/board"); !strings.Contains(r.body, `data-tiles=""`) {
		t.Fatal("the default console has a tile layer")
	}
}
