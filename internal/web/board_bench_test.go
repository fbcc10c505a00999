package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/demo"
	"zhizhi/internal/geo"
	"zhizhi/internal/id"
	"zhizhi/internal/region"
	"zhizhi/internal/server"
	"zhizhi/internal/sla"
	"zhizhi/internal/store"
)

// BenchmarkBoardFirstRender10k times GET /board, the command board's whole
// first page (figures, queue, map panel), with 10,000 open cases in the
// street commander's scope, in a temporary SQLite database: the demo
// (Yuzhong, 1,000 historical cases) plus 10,000 open cases in 石油路街道
// reported over the last three days, most of them overdue, written straight
// through the store in batches. "street" is 石油路's commander (all 10,000
// in scope), "district" the district's (the same 10,000 among the rest);
// "cold" is each one's very first request after start (caches empty).
//
//	go test ./internal/web -run '^$' -bench BoardFirstRender10k -benchtime 50x
func BenchmarkBoardFirstRender10k(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	p, err := server.Open(ctx, server.Config{DB: filepath.Join(dir, "zhizhi.db"), DataDir: dir, Logger: quiet, DefaultCenter: demo.District})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close(context.Background())
	if err := demo.Load(ctx, p.Service, demo.Options{Cases: 1000, Seed: 3}); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	n := loadOpenCases(b, p, "zhouchunyan", 10000)
	b.Logf("loaded %d open cases in %v", n, time.Since(start).Round(time.Millisecond))
	hs := httptest.NewServer(p.Handler)
	defer hs.Close()

	get := func(b *testing.B, token, path string) int { return len(fetch(b, hs.URL, token, path)) }
	_ = get
	for _, who := range []string{"syl_zhihui", "qu_zhihui"} {
		token, acct, err := p.Service.SignIn(ctx, who, demo.Password)
		if err != nil {
			b.Fatal(err)
		}
		open := true
		inScope, err := p.Service.Count(ctx, acct.Actor(), store.CaseFilter{Open: &open})
		if err != nil {
			b.Fatal(err)
		}
		name := map[string]string{"syl_zhihui": "street", "qu_zhihui": "district"}[who]
		t0 := time.Now()
		page := fetch(b, hs.URL, token, "/board")
		cold := time.Since(t0)
		// The page with its own assets (not the map library) stays under
		// 200 KB with a full queue.
		size := len(page)
		for _, m := range assetRE.FindAllStringSubmatch(string(page), -1) {
			if !strings.HasPrefix(m[1], "/static/vendor/") {
				size += len(fetch(b, hs.URL, token, m[1]))
			}
		}
		if size > 200<<10 {
			b.Errorf("/board with %d open cases weighs %d bytes with its assets, over 200 KB", inScope, size)
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				get(b, token, "/board")
			}
			b.ReportMetric(float64(cold.Microseconds())/1000, "cold-ms")
			b.ReportMetric(float64(inScope), "open-in-scope")
			b.ReportMetric(float64(size), "page+assets-bytes")
		})
	}
	// The leaders' dashboard of the last 30 days for the district.
	lead, _, _ := p.Service.SignIn(ctx, "leader", demo.Password)
	b.Run("dashboard", func(b *testing.B) {
		for b.Loop() {
			get(b, lead, "/dashboard")
		}
	})
	// The map's answer for the street at the zoom the board opens with.
	token, _, _ := p.Service.SignIn(ctx, "syl_zhihui", demo.Password)
	street, err := p.DB.Region(ctx, "500103014")
	if err != nil {
		b.Fatal(err)
	}
	bb := street.Shape.Bounds()
	path := fmt.Sprintf("/map/shapes?bbox=%f,%f,%f,%f&zoom=15", bb.Min.Lng, bb.Min.Lat, bb.Max.Lng, bb.Max.Lat)
	b.Run("map-shapes", func(b *testing.B) {
		size := 0
		for b.Loop() {
			size = get(b, token, path)
		}
		b.ReportMetric(float64(size), "bytes")
	})
}

var assetRE = regexp.MustCompile(`(?:src|href)="(/static/[^"]+)"`)

// fetch GETs a path with a session.
func fetch(b *testing.B, base, token, path string) []byte {
	req, _ := http.NewRequest("GET", base+path, nil)
	req.AddCookie(&http.Cookie{Name: "zhizhi_session", Value: token})
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		b.Fatalf("GET %s: %d %.300s", path, res.StatusCode, body)
	}
	return body
}

// loadOpenCases writes n open cases reported by a grid worker at points in
// the grids of the worker's street over the last three days, most of them
// past their acceptance limit.
func loadOpenCases(b *testing.B, p *server.Platform, worker string, n int) int {
	ctx := context.Background()
	acct, err := p.DB.AccountByUsername(ctx, worker)
	if err != nil {
		b.Fatal(err)
	}
	who := acct.Actor()
	codes := strings.Split(strings.Trim(who.RegionPath, "/"), "/")
	streetPath := "/" + strings.Join(codes[:3], "/") + "/"
	grids, err := p.DB.Regions(ctx, store.RegionFilter{Level: region.Grid, Under: streetPath, WithShape: true})
	if err != nil || len(grids) == 0 {
		b.Fatalf("grids of %s: %d %v", streetPath, len(grids), err)
	}
	var points []geo.Point
	var places []cases.Placement
	for _, g := range grids {
		c := g.Shape.Centroid()
		if !g.Shape.Contains(c) {
			continue
		}
		points = append(points, c)
		places = append(places, cases.Placement{GridCode: g.Code, RegionPath: g.Path, CenterPath: streetPath})
	}
	var cats []cases.Category
	for _, c := range p.Service.Categories() {
		if c.Active && len(c.Questions) == 0 {
			cats = append(cats, c)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	now := p.Service.Now()
	sev := []sla.Severity{sla.Normal, sla.Normal, sla.Normal, sla.Urgent, sla.Critical}
	written := 0
	for written < n {
		err := p.DB.Write(ctx, func(tx *store.Tx) error {
			for k := 0; k < 500 && written+k < n; k++ {
				i := written + k
				at := now.Add(-time.Duration(rng.Int64N(int64(72 * time.Hour))))
				j := rng.IntN(len(points))
				pt := points[j]
				cat := cats[rng.IntN(len(cats))]
				r := cases.Report{Source: cases.SourcePatrol, Category: cat.Code, Severity: sev[rng.IntN(len(sev))],
					Description: fmt.Sprintf("基准测试：第%d件，%s问题，请尽快处理", i, cat.Name), Point: &pt, Address: "基准测试地址"}
				c, step, err := cases.New(r, cat, places[j], id.At(at), fmt.Sprintf("BENCH-%s-%05d", at.Format("20060102"), i), who, p.Service.Policy(cat), at)
				if err != nil {
					return err
				}
				step.ID = id.At(at)
				if err := tx.InsertCase(ctx, &c, &step, p.Service.ClockRule()); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		written = min(n, written+500)
	}
	return written
}
