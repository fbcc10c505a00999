package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/demo"
	"zhizhi/internal/demo/yuzhong"
	"zhizhi/internal/geo"
	"zhizhi/internal/id"
	"zhizhi/internal/region"
	"zhizhi/internal/service"
	"zhizhi/internal/sla"
	"zhizhi/internal/store"
)

// The list benchmark's present: 2026-11-27 16:00 Chongqing time.
var listNow = time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)

// listSize is the number of synthetic cases (ZHIZHI_BENCH_CASES, default 1M).
func listSize() int {
	if n, err := strconv.Atoi(os.Getenv("ZHIZHI_BENCH_CASES")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

// openListDB opens (and on first use fills) the list benchmark's database. It
// is kept under ZHIZHI_BENCH_DIR (default $TMPDIR/zhizhi-bench-1m) and reused
// by later runs, since loading a million cases takes a few minutes.
func openListDB(b *testing.B, n int) (*store.DB, []store.RegionRecord) {
	ctx := context.Background()
	dir := os.Getenv("ZHIZHI_BENCH_DIR")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "zhizhi-bench-1m")
	}
	path := filepath.Join(dir, fmt.Sprintf("cases-%d.db", n))
	db, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	var have int
	db.Raw().QueryRowContext(ctx, `SELECT COUNT(*) FROM cases`).Scan(&have)
	if have == 0 {
		start := time.Now()
		if err := loadSynthetic(ctx, db, n); err != nil {
			db.Close()
			b.Fatal(err)
		}
		b.Logf("loaded %d cases in %s into %s", n, time.Since(start).Round(time.Second), path)
	} else if have != n {
		db.Close()
		b.Fatalf("%s holds %d cases, want %d: remove it", path, have, n)
	}
	grids, err := db.Regions(ctx, store.RegionFilter{Level: region.Grid, WithShape: true})
	if err != nil {
		b.Fatal(err)
	}
	return db, grids
}

// loadSynthetic imports the Yuzhong regions and the demo categories through
// the service, then bulk-inserts n synthetic cases (case row with a realistic
// JSON document, and its full-text row) with plain INSERTs in transactions of
// 20,000, bypassing the group-commit writer. Steps, clocks and case_units are
// not written: the list queries do not read them.
func loadSynthetic(ctx context.Context, db *store.DB, n int) error {
	svc, err := service.New(ctx, db, service.Config{Logger: quietLogger()})
	if err != nil {
		return err
	}
	if _, err := svc.ImportRegions(ctx, yuzhong.GeoJSON(), "geojson"); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, c := range demo.Categories() {
		if c.DefaultUnit != "" && !seen[c.DefaultUnit] {
			seen[c.DefaultUnit] = true
			u := cases.Unit{ID: c.DefaultUnit, Name: "单位" + c.DefaultUnit, Kind: "department", RegionPath: demo.District, Active: true}
			if err := svc.PutUnit(ctx, cases.System, u); err != nil {
				return err
			}
		}
	}
	for _, c := range demo.Categories() {
		if err := svc.PutCategory(ctx, cases.System, c); err != nil {
			return err
		}
	}
	all, err := db.Regions(ctx, store.RegionFilter{WithShape: true})
	if err != nil {
		return err
	}
	names := map[string]string{}
	var grids []store.RegionRecord
	for _, r := range all {
		names[r.Code] = r.Name
		if r.Level == region.Grid {
			grids = append(grids, r)
		}
	}
	cats := demo.Categories()
	rnd := rand.New(rand.NewPCG(7, 7))
	pts := make([][]geo.Point, len(grids))
	for i, g := range grids {
		for range 64 {
			pts[i] = append(pts[i], pointIn(rnd, g.Shape))
		}
	}
	places := []string{"路口", "小区门口", "楼栋旁", "人行道", "菜市场", "公交站", "背街小巷", "梯坎", "商铺前", "停车场"}
	sources := []cases.Source{cases.SourcePatrol, cases.SourcePatrol, cases.SourcePatrol, cases.SourceResident, cases.SourceHotline, cases.SourceEnterprise}
	sevs := []sla.Severity{sla.Normal, sla.Normal, sla.Normal, sla.Normal, sla.Normal, sla.Urgent, sla.Critical}
	units := []string{"cg", "yj", "xf", "zj", "ga", "scjg", "sthj", "jt"}
	span := 182 * 24 * time.Hour
	raw := db.Raw()
	const batch = 20000
	for done := 0; done < n; {
		tx, err := raw.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		insCase, err := tx.PrepareContext(ctx, `INSERT INTO cases (district_code, street_code, community_code, id, number, version, state, source, category, board, severity, grid_code, region_path,
			center_path, lng, lat, reporter_account, reported_at, updated_at, closed_at, due_at, was_overdue, body, doc, item)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24,$25)`)
		if err != nil {
			return err
		}
		insFTS, err := tx.PrepareContext(ctx, `INSERT INTO case_fts(rowid, body) VALUES ($1, $2)`)
		if err != nil {
			return err
		}
		m := min(batch, n-done)
		for k := 0; k < m; k++ {
			i := done + k
			// Report times spread over six months, in order, so IDs sort by time.
			at := listNow.Add(-span + time.Duration(float64(span)*float64(i)/float64(n))).Add(time.Duration(rnd.IntN(1000)) * time.Millisecond)
			age := listNow.Sub(at)
			gi := rnd.IntN(len(grids))
			g := grids[gi]
			p := pts[gi][rnd.IntN(64)]
			cat := cats[rnd.IntN(len(cats))]
			comm := names[g.ParentCode]
			center := centerPath(g.Path)
			var state cases.State
			x := rnd.Float64()
			switch {
			case age > 15*24*time.Hour:
				state = pickState(x, []float64{0.05, 0.95, 0.98}, []cases.State{cases.Rejected, cases.Closed, cases.Handling, cases.Parked})
			case age > 3*24*time.Hour:
				state = pickState(x, []float64{0.05, 0.65, 0.72, 0.9, 0.95}, []cases.State{cases.Rejected, cases.Closed, cases.FedBack, cases.Handling, cases.Dispatched, cases.Parked})
			default:
				state = pickState(x, []float64{0.15, 0.27, 0.42, 0.7, 0.82}, []cases.State{cases.Reported, cases.Accepted, cases.Dispatched, cases.Handling, cases.FedBack, cases.Closed})
			}
			c := cases.Case{
				ID: id.At(at), Number: fmt.Sprintf("%s-%s-%06d", lastSeg(center), at.Format("20060102"), i), Version: 1,
				Source: sources[rnd.IntN(len(sources))], Point: &p, Address: comm + places[rnd.IntN(len(places))],
				GridCode: g.Code, RegionPath: g.Path, CenterPath: center, Category: cat.Code, Board: string(cat.Board),
				Severity: sevs[rnd.IntN(len(sevs))], State: state, ReportedAt: at, UpdatedAt: at,
				Description: fmt.Sprintf("%s%s发现%s问题（%s），请尽快处理。", comm, places[rnd.IntN(len(places))], cat.Name, cat.Keywords[rnd.IntN(len(cat.Keywords))]),
				Reporter:    cases.Reporter{AccountID: "acct-" + strconv.Itoa(gi), Name: g.Name + "网格员"},
			}
			var closedAt, dueAt any
			if state == cases.Closed || state == cases.Rejected {
				t := at.Add(time.Duration(1+rnd.IntN(120)) * time.Hour)
				c.ClosedAt, c.UpdatedAt, c.Version = t, t, 4+rnd.IntN(6)
				closedAt = t.UnixMilli()
				c.WasOverdue = rnd.IntN(10) == 0
			} else {
				// Open: the running clock is due 4 hours to 10 days after the report.
				due := at.Add(time.Duration(4+rnd.IntN(236)) * time.Hour)
				c.Clock = sla.Clock{Due: due, YellowAt: due.Add(-time.Hour)}
				c.Stage = "handle"
				dueAt = due.UnixMilli()
				c.Version = 1 + rnd.IntN(4)
				if state != cases.Reported && state != cases.Accepted {
					c.Tasks = []cases.Task{{UnitID: units[rnd.IntN(len(units))], Role: cases.Lead, State: cases.TaskSigned}}
				}
			}
			doc, err := json.Marshal(&c)
			if err != nil {
				return err
			}
			item, err := store.ItemDoc(&c)
			if err != nil {
				return err
			}
			lng, lat := p.Lng, p.Lat
			lv := strings.Split(strings.Trim(g.Path, "/"), "/")
			res, err := insCase.ExecContext(ctx, lv[1], lv[2], lv[3], c.ID, c.Number, c.Version, string(c.State), string(c.Source), c.Category, c.Board,
				string(c.Severity), c.GridCode, c.RegionPath, c.CenterPath, lng, lat, c.Reporter.AccountID, at.UnixMilli(),
				c.UpdatedAt.UnixMilli(), closedAt, dueAt, boolInt(c.WasOverdue), c.Number+" "+c.Description+" "+c.Address, string(doc), item)
			if err != nil {
				return fmt.Errorf("case %d: %w", i, err)
			}
			rowid, _ := res.LastInsertId()
			if _, err := insFTS.ExecContext(ctx, rowid, c.Number+" "+c.Description+" "+c.Address); err != nil {
				return err
			}
		}
		if err := tx.Commit(); err != nil {
			return err
		}
		done += m
	}
	_, err = raw.ExecContext(ctx, `ANALYZE`)
	return err
}

func pickState(x float64, cuts []float64, states []cases.State) cases.State {
	for i, c := range cuts {
		if x < c {
			return states[i]
		}
	}
	return states[len(states)-1]
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func centerPath(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	return "/" + strings.Join(parts[:min(3, len(parts))], "/") + "/"
}

func lastSeg(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	return parts[len(parts)-1]
}

// listQuery is one kind of queue query.
type listQuery struct {
	name string
	make func(rnd *rand.Rand) store.CaseFilter
}

// BenchmarkCaseList1M runs a mix of typical queue queries through
// store.DB.Cases on a million cases and reports p50/p95/p99 latency, overall
// and per kind. It runs only with ZHIZHI_BENCH_1M=1.
func BenchmarkCaseList1M(b *testing.B) {
	if os.Getenv("ZHIZHI_BENCH_1M") == "" {
		b.Skip("set ZHIZHI_BENCH_1M=1 to load a million cases and run the list benchmark")
	}
	ctx := context.Background()
	db, grids := openListDB(b, listSize())
	defer db.Close()
	streets := map[string]bool{}
	for _, g := range grids {
		streets[centerPath(g.Path)] = true
	}
	var streetList []string
	for s := range streets {
		streetList = append(streetList, s)
	}
	slices.Sort(streetList)
	cats := demo.Categories()
	open := []cases.State{cases.Reported, cases.Accepted, cases.Dispatched, cases.Handling, cases.FedBack}
	words := []string{"消防通道", "井盖", "垃圾", "占道经营", "路灯", "漏水", "噪声", "违章搭建"}
	yes := true
	// Scopes as the API builds them: a street's and the district's
	// commanders, and a grid worker (who also follows own reports).
	street := func(rnd *rand.Rand) store.Scope {
		return store.ScopeOf(cases.Actor{Role: cases.RoleCommander, AccountID: "acct-c", RegionPath: streetList[rnd.IntN(len(streetList))]})
	}
	district := store.ScopeOf(cases.Actor{Role: cases.RoleCommander, AccountID: "acct-d", RegionPath: demo.District})
	gridWorker := func(rnd *rand.Rand) store.Scope {
		gi := rnd.IntN(len(grids))
		return store.ScopeOf(cases.Actor{Role: cases.RoleGridWorker, AccountID: "acct-" + strconv.Itoa(gi), RegionPath: grids[gi].Path})
	}
	queries := []listQuery{
		{"street+state", func(rnd *rand.Rand) store.CaseFilter {
			return store.CaseFilter{Scope: street(rnd), States: open[:1+rnd.IntN(2)], Limit: 50}
		}},
		{"street+open", func(rnd *rand.Rand) store.CaseFilter {
			return store.CaseFilter{Scope: street(rnd), States: open, Limit: 50}
		}},
		{"grid", func(rnd *rand.Rand) store.CaseFilter {
			return store.CaseFilter{Scope: district, Grid: grids[rnd.IntN(len(grids))].Code, Limit: 50}
		}},
		{"category+overdue", func(rnd *rand.Rand) store.CaseFilter {
			return store.CaseFilter{Scope: street(rnd), Category: cats[rnd.IntN(len(cats))].Code, Overdue: &yes, Now: listNow, Limit: 50}
		}},
		{"text", func(rnd *rand.Rand) store.CaseFilter {
			return store.CaseFilter{Scope: district, Text: words[rnd.IntN(len(words))], Limit: 50}
		}},
		{"map: open in box", func(rnd *rand.Rand) store.CaseFilter {
			g := grids[rnd.IntN(len(grids))].Shape.Bounds()
			return store.CaseFilter{Scope: district, BBox: &g, States: open, Limit: 50}
		}},
		{"box, all history", func(rnd *rand.Rand) store.CaseFilter {
			g := grids[rnd.IntN(len(grids))].Shape.Bounds()
			return store.CaseFilter{Scope: district, BBox: &g, Limit: 50}
		}},
		{"grid worker's queue", func(rnd *rand.Rand) store.CaseFilter {
			return store.CaseFilter{Scope: gridWorker(rnd), Limit: 50}
		}},
		{"street page 2", func(rnd *rand.Rand) store.CaseFilter {
			return store.CaseFilter{Scope: street(rnd), Limit: 50, After: "next"}
		}},
	}
	measureLists(ctx, b, db, queries)
}

// measureLists runs the queries in turn (a query whose After is "next"
// first fetches page one and times page two), reports the p50/p95/p99 of all
// as metrics, logs each kind's, and returns the latencies by kind.
func measureLists(ctx context.Context, b *testing.B, db *store.DB, queries []listQuery) map[string][]time.Duration {
	// ZHIZHI_BENCH_SEED picks other streets and words than the default run
	// (a second pass over a warm database, on rows it has not read yet).
	seed := uint64(3)
	if v, err := strconv.ParseUint(os.Getenv("ZHIZHI_BENCH_SEED"), 10, 64); err == nil {
		seed = v
	}
	rnd := rand.New(rand.NewPCG(seed, seed))
	lat := map[string][]time.Duration{}
	var all []time.Duration
	b.ResetTimer()
	i := 0
	for b.Loop() {
		q := queries[i%len(queries)]
		i++
		f := q.make(rnd)
		start := time.Now()
		if f.After == "next" {
			f.After = ""
			first, err := db.Cases(ctx, f)
			if err != nil {
				b.Fatal(err)
			}
			if len(first) == 0 {
				b.Fatalf("%s: empty first page", q.name)
			}
			start = time.Now()
			f.After = first[len(first)-1].ID
		}
		if _, err := db.Cases(ctx, f); err != nil {
			b.Fatalf("%s: %v", q.name, err)
		}
		d := time.Since(start)
		lat[q.name] = append(lat[q.name], d)
		all = append(all, d)
	}
	b.StopTimer()
	p50, p95, p99 := percentiles(all)
	b.ReportMetric(p50, "p50-ms")
	b.ReportMetric(p95, "p95-ms")
	b.ReportMetric(p99, "p99-ms")
	for _, q := range queries {
		if d := lat[q.name]; len(d) > 0 {
			a, c, e := percentiles(d)
			b.Logf("%-31s n=%5d p50=%7.2fms p95=%7.2fms p99=%7.2fms", q.name, len(d), a, c, e)
		}
	}
	return lat
}

func percentiles(d []time.Duration) (p50, p95, p99 float64) {
	s := slices.Clone(d)
	slices.Sort(s)
	at := func(p float64) float64 {
		return float64(s[min(len(s)-1, int(p*float64(len(s))))].Microseconds()) / 1000
	}
	return at(0.50), at(0.95), at(0.99)
}
