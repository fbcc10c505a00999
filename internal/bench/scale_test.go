package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/demo"
	"zhizhi/internal/evaluation"
	"zhizhi/internal/region"
	"zhizhi/internal/server"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
)

// The scale benchmarks run against an installation loaded by `zhizhi bench
// chongqing -db <dsn>` — on PostgreSQL the whole city (7.79 million cases
// over two years, 62,000 grids), on SQLite a district (-district) — named by
// ZHIZHI_BENCH_SCALE; without it they skip. The intake and sweep benchmarks
// write to that database (new reports, fired clock events).
func scaleDSN(b *testing.B) string {
	dsn := os.Getenv("ZHIZHI_BENCH_SCALE")
	if dsn == "" {
		b.Skip("set ZHIZHI_BENCH_SCALE=postgres://… or a SQLite file (an installation loaded by 'zhizhi bench chongqing') to run")
	}
	return dsn
}

func openScale(b *testing.B) *store.DB {
	db, err := store.Open(context.Background(), scaleDSN(b), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return db
}

// activeRegions returns the streets that have cases and their grids (all of
// them in a city installation, one district's in a district installation),
// so that every query and report lands where the data is.
func activeRegions(ctx context.Context, b testing.TB, db *store.DB) (streets, grids []store.RegionRecord) {
	all, err := db.Regions(ctx, store.RegionFilter{Level: region.Street})
	if err != nil {
		b.Fatal(err)
	}
	active := map[string]bool{}
	for _, s := range all {
		found, err := db.Cases(ctx, store.CaseFilter{Scope: store.Scope{RegionPath: s.Path}, Limit: 1})
		if err != nil {
			b.Fatal(err)
		}
		if len(found) > 0 {
			streets = append(streets, s)
			active[s.Code] = true
		}
	}
	if len(streets) == 0 {
		b.Fatal("no cases in any street")
	}
	allGrids, err := db.Regions(ctx, store.RegionFilter{Level: region.Grid, WithShape: true})
	if err != nil {
		b.Fatal(err)
	}
	for _, g := range allGrids {
		if active[g.ParentCode[:9]] {
			grids = append(grids, g)
		}
	}
	return streets, grids
}

// BenchmarkScaleList runs a street commander's queue queries (and a few
// wider ones for comparison) through store.DB.Cases and reports p50/p95/p99,
// overall and per kind. Target: street queries p95 < 50 ms.
func BenchmarkScaleList(b *testing.B) {
	db := openScale(b)
	defer db.Close()
	ctx := context.Background()
	now := latestReport(ctx, b, db)
	queries := scaleQueries(ctx, b, db, &now)
	if os.Getenv("ZHIZHI_BENCH_EXPLAIN") != "" {
		rnd := rand.New(rand.NewPCG(9, 9))
		for _, q := range queries {
			f := q.make(rnd)
			if f.After == "next" {
				f.After = "01Z"
			}
			plan, err := db.ExplainCases(ctx, f)
			if err != nil {
				b.Fatal(err)
			}
			b.Logf("%s:\n%s", q.name, plan)
		}
	}
	lat := measureLists(ctx, b, db, queries)
	var streetLat []time.Duration
	for name, d := range lat {
		if strings.HasPrefix(name, "street") {
			streetLat = append(streetLat, d...)
		}
	}
	if len(streetLat) > 0 {
		_, s95, _ := percentiles(streetLat)
		b.ReportMetric(s95, "street-p95-ms")
	}
}

// latestReport is the time of the newest report: "now" for the listings of
// a generated installation (its history ends at the load).
func latestReport(ctx context.Context, b *testing.B, db *store.DB) time.Time {
	var last int64
	if err := db.Raw().QueryRowContext(ctx, `SELECT max(reported_at) FROM cases`).Scan(&last); err != nil {
		b.Fatal(err)
	}
	return time.UnixMilli(last)
}

// scaleQueries returns the list kinds of the scale benchmarks: a street
// commander's queue queries, a grid worker's queue and the district's
// wider ones, with the scopes the API builds (store.ScopeOf). now is read
// each time a query is made, so a caller can move it (after a flood).
func scaleQueries(ctx context.Context, b testing.TB, db *store.DB, now *time.Time) []listQuery {
	streets, grids := activeRegions(ctx, b, db)
	byStreet := map[string][]store.RegionRecord{}
	for _, g := range grids {
		byStreet[g.ParentCode[:9]] = append(byStreet[g.ParentCode[:9]], g)
	}
	cats := demo.Categories()
	open := []cases.State{cases.Reported, cases.Accepted, cases.Dispatched, cases.Handling, cases.FedBack}
	words := []string{"消防通道", "井盖", "垃圾", "占道经营", "路灯", "漏水", "噪声", "违章搭建"}
	yes := true
	type pick struct {
		scope store.Scope
		grids []store.RegionRecord
	}
	street := func(rnd *rand.Rand) pick {
		s := streets[rnd.IntN(len(streets))]
		return pick{store.ScopeOf(cases.Actor{Role: cases.RoleCommander, AccountID: "acct-c", RegionPath: s.Path}), byStreet[s.Code]}
	}
	district := func(rnd *rand.Rand) (store.Scope, store.RegionRecord) {
		g := grids[rnd.IntN(len(grids))]
		return store.ScopeOf(cases.Actor{Role: cases.RoleCommander, AccountID: "acct-d", RegionPath: "/500000/" + g.Code[:6] + "/"}), g
	}
	return []listQuery{
		{"street: newest", func(rnd *rand.Rand) store.CaseFilter {
			return store.CaseFilter{Scope: street(rnd).scope, Limit: 50}
		}},
		{"street+state", func(rnd *rand.Rand) store.CaseFilter {
			return store.CaseFilter{Scope: street(rnd).scope, States: open[:1+rnd.IntN(2)], Limit: 50}
		}},
		{"street+open", func(rnd *rand.Rand) store.CaseFilter {
			return store.CaseFilter{Scope: street(rnd).scope, States: open, Limit: 50}
		}},
		{"street+overdue", func(rnd *rand.Rand) store.CaseFilter {
			return store.CaseFilter{Scope: street(rnd).scope, Overdue: &yes, Now: *now, Limit: 50}
		}},
		{"street+category+overdue", func(rnd *rand.Rand) store.CaseFilter {
			return store.CaseFilter{Scope: street(rnd).scope, Category: cats[rnd.IntN(len(cats))].Code, Overdue: &yes, Now: *now, Limit: 50}
		}},
		{"street+category", func(rnd *rand.Rand) store.CaseFilter {
			return store.CaseFilter{Scope: street(rnd).scope, Category: cats[rnd.IntN(len(cats))].Code, Limit: 50}
		}},
		{"street+grid", func(rnd *rand.Rand) store.CaseFilter {
			p := street(rnd)
			return store.CaseFilter{Scope: p.scope, Grid: p.grids[rnd.IntN(len(p.grids))].Code, Limit: 50}
		}},
		{"street+text", func(rnd *rand.Rand) store.CaseFilter {
			return store.CaseFilter{Scope: street(rnd).scope, Text: words[rnd.IntN(len(words))], Limit: 50}
		}},
		{"street+last 7 days", func(rnd *rand.Rand) store.CaseFilter {
			return store.CaseFilter{Scope: street(rnd).scope, From: now.Add(-7 * 24 * time.Hour), Limit: 50}
		}},
		{"street page 2", func(rnd *rand.Rand) store.CaseFilter {
			return store.CaseFilter{Scope: street(rnd).scope, Limit: 50, After: "next"}
		}},
		{"grid worker's queue", func(rnd *rand.Rand) store.CaseFilter {
			g := grids[rnd.IntN(len(grids))]
			return store.CaseFilter{Scope: store.ScopeOf(cases.Actor{Role: cases.RoleGridWorker, AccountID: "gw-" + g.Code, RegionPath: g.Path}), Limit: 50}
		}},
		{"district+open", func(rnd *rand.Rand) store.CaseFilter {
			sc, _ := district(rnd)
			return store.CaseFilter{Scope: sc, States: open, Limit: 50}
		}},
		{"district+text", func(rnd *rand.Rand) store.CaseFilter {
			sc, _ := district(rnd)
			return store.CaseFilter{Scope: sc, Text: words[rnd.IntN(len(words))], Limit: 50}
		}},
		{"district map: open in grid box", func(rnd *rand.Rand) store.CaseFilter {
			sc, g := district(rnd)
			bb := g.Shape.Bounds()
			return store.CaseFilter{Scope: sc, BBox: &bb, States: open, Limit: 50}
		}},
		{"district: newest", func(rnd *rand.Rand) store.CaseFilter {
			sc, _ := district(rnd)
			return store.CaseFilter{Scope: sc, Limit: 50}
		}},
		{"district+last 7 days", func(rnd *rand.Rand) store.CaseFilter {
			sc, _ := district(rnd)
			return store.CaseFilter{Scope: sc, From: now.Add(-7 * 24 * time.Hour), Limit: 50}
		}},
		{"district+category", func(rnd *rand.Rand) store.CaseFilter {
			sc, _ := district(rnd)
			return store.CaseFilter{Scope: sc, Category: cats[rnd.IntN(len(cats))].Code, Limit: 50}
		}},
		{"district+category+overdue", func(rnd *rand.Rand) store.CaseFilter {
			sc, _ := district(rnd)
			return store.CaseFilter{Scope: sc, Category: cats[rnd.IntN(len(cats))].Code, Overdue: &yes, Now: *now, Limit: 50}
		}},
		{"district+overdue", func(rnd *rand.Rand) store.CaseFilter {
			sc, _ := district(rnd)
			return store.CaseFilter{Scope: sc, Overdue: &yes, Now: *now, Limit: 50}
		}},
	}
}

// BenchmarkScaleCase reads one case and its whole timeline (store.DB.Case
// and Steps, what the detail page and GET /api/v1/cases/{id} need) for
// random cases of the whole history. Target: p95 < 10 ms.
func BenchmarkScaleCase(b *testing.B) {
	db := openScale(b)
	defer db.Close()
	ctx := context.Background()
	sample := `SELECT id FROM cases TABLESAMPLE SYSTEM (0.05) LIMIT 5000`
	if db.Dialect == store.SQLite {
		sample = `SELECT id FROM cases ORDER BY random() LIMIT 5000`
	}
	rows, err := db.Raw().QueryContext(ctx, sample)
	if err != nil {
		b.Fatal(err)
	}
	var ids []string
	for rows.Next() {
		var id string
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	if len(ids) == 0 {
		b.Fatal("no cases")
	}
	rnd := rand.New(rand.NewPCG(5, 5))
	var lat []time.Duration
	steps := 0
	b.ResetTimer()
	for b.Loop() {
		id := ids[rnd.IntN(len(ids))]
		start := time.Now()
		c, err := db.Case(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		tl, err := db.Steps(ctx, c.ID)
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
		steps += len(tl)
	}
	b.StopTimer()
	p50, p95, p99 := percentiles(lat)
	b.ReportMetric(p50, "p50-ms")
	b.ReportMetric(p95, "p95-ms")
	b.ReportMetric(p99, "p99-ms")
	b.ReportMetric(float64(steps)/float64(len(lat)), "steps/case")
}

// BenchmarkScaleIntakeHTTP is BenchmarkIntakeHTTP against the loaded
// installation: server.Open on the DSN, the grid worker account 'wgy' the
// generator made, 64 keep-alive clients posting patrol reports at points
// inside the grids that have cases (all over the city, or the district).
// Target on PostgreSQL: ≥ 2,000 acknowledged reports/s.
func BenchmarkScaleIntakeHTTP(b *testing.B) {
	dsn := scaleDSN(b)
	ctx := context.Background()
	// The page benchmarks' data directory: the node seals its secrets in
	// the database under the key kept there, so every benchmark that
	// opens the same installation keeps it.
	dir := filepath.Join(os.TempDir(), "zhizhi-bench-page-data")
	p, err := server.Open(ctx, server.Config{Addr: "127.0.0.1:0", DB: dsn, DataDir: dir, DefaultCenter: "/500000/", Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close(context.Background())
	if err := p.Start(); err != nil {
		b.Fatal(err)
	}
	e := &platform{p: p, base: "http://" + p.Addr()}
	tok, err := signIn(e.base, "wgy", demo.Password)
	if err != nil {
		b.Fatal(err)
	}
	e.token = tok
	_, e.grids = activeRegions(ctx, b, p.DB)
	e.points = samplePoints(rand.New(rand.NewPCG(1, 2)), e.grids, 1<<14)
	driveIntake(b, e)
}

func signIn(base, user, password string) (string, error) {
	body, _ := json.Marshal(map[string]string{"username": user, "password": password})
	resp, err := http.Post(base+"/api/v1/sessions", "application/json", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusCreated {
		return "", errors.New("sign in failed: " + resp.Status)
	}
	return out.Token, nil
}

var errRollback = errors.New("rollback")

// BenchmarkScaleSweep shows that the sweeper's cost follows the number of
// clock events due, not the number of open cases: it times the claim query
// (store.Tx.ClaimDue, rolled back) for horizons with more and more events
// due, then real sweeps (service.Sweep, which fires what is due now). One
// iteration = one real sweep at the current time.
func BenchmarkScaleSweep(b *testing.B) {
	db := openScale(b)
	defer db.Close()
	ctx := context.Background()
	var openCases, clocks int64
	db.Raw().QueryRowContext(ctx, `SELECT count(*) FROM cases WHERE closed_at IS NULL`).Scan(&openCases)
	db.Raw().QueryRowContext(ctx, `SELECT count(*) FROM clocks`).Scan(&clocks)
	b.Logf("open cases %d, clock rows %d", openCases, clocks)
	for _, h := range []time.Duration{0, time.Minute, 10 * time.Minute, time.Hour, 6 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour} {
		at := time.Now().Add(h)
		var due int64
		db.Raw().QueryRowContext(ctx, `SELECT count(*) FROM clocks WHERE next_at <= $1`, at.UnixMilli()).Scan(&due)
		var best time.Duration
		claimed := 0
		for range 3 {
			start := time.Now()
			err := db.Write(ctx, func(tx *store.Tx) error {
				got, err := tx.ClaimDue(ctx, at, 1_000_000)
				claimed = len(got)
				if err != nil {
					return err
				}
				return errRollback
			})
			d := time.Since(start)
			if !errors.Is(err, errRollback) {
				b.Fatal(err)
			}
			if best == 0 || d < best {
				best = d
			}
		}
		b.Logf("horizon %-8s due clocks %6d: claim (rolled back) %8.2f ms, %d events", h, due, float64(best.Microseconds())/1000, claimed)
	}
	svc, err := service.New(ctx, db, service.Config{EscalateAfter: 24 * time.Hour, DefaultCenter: "/500000/", Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	var lat []time.Duration
	fired := 0
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		n, err := svc.Sweep(ctx, time.Now(), 200)
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
		fired += n
	}
	b.StopTimer()
	p50, p95, _ := percentiles(lat)
	b.ReportMetric(p50, "sweep-p50-ms")
	b.ReportMetric(p95, "sweep-p95-ms")
	b.ReportMetric(float64(fired), "fired")
	b.Logf("first sweep %.2f ms (fired what fell due since the load), %d sweeps fired %d events", float64(lat[0].Microseconds())/1000, len(lat), fired)
}

// BenchmarkScaleEvaluate scores and ranks from the rollups of a loaded
// installation: every grid of the city (or of the district, on a district
// installation) for last month, the streets and units, a district's and a
// street's grids, and the command board's today figures for each level of
// commander (the rollups' row alone, and TodayFigures with its live count
// of overdue cases). Each query runs b.N times; p50 and p95 are logged per query.
// Targets: all 62,000 grids for a month < 200 ms on PostgreSQL; a
// district's grids on 1 M cases < 50 ms on SQLite; today figures < 20 ms.
func BenchmarkScaleEvaluate(b *testing.B) {
	db := openScale(b)
	defer db.Close()
	ctx := context.Background()
	svc, err := service.New(ctx, db, service.Config{EscalateAfter: 24 * time.Hour, DefaultCenter: "/500000/", Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	var rows int64
	db.Raw().QueryRowContext(ctx, `SELECT count(*) FROM rollups`).Scan(&rows)
	b.Logf("rollup rows %d", rows)
	actor := func(u string) cases.Actor {
		a, err := db.AccountByUsername(ctx, u)
		if err != nil {
			b.Fatal(err)
		}
		return svc.ActorOf(a)
	}
	city, district, street := actor("cq_zhihui"), actor("yz_zhihui"), actor("jd_zhihui")
	month := time.Now().AddDate(0, -1, 0).Format("2006-01")
	if m := os.Getenv("ZHIZHI_BENCH_MONTH"); m != "" {
		// Another whole month (yyyy-mm): an installation whose load
		// stopped before last month's end has no month rows for it.
		month = m
	}
	type query struct {
		name string
		run  func() (int, error)
	}
	eval := func(a cases.Actor, kind evaluation.SubjectKind, period string, top int) func() (int, error) {
		return func() (int, error) {
			r, err := svc.Evaluate(ctx, a, kind, period, "", top)
			return len(r.Items), err
		}
	}
	page := func(a cases.Actor, kind evaluation.SubjectKind, period, by string) func() (int, error) {
		return func() (int, error) {
			r, err := svc.Rank(ctx, a, service.RankingQuery{Kind: kind, Period: period, By: by, Limit: 50})
			if r.Total < 50 && err == nil {
				return 0, fmt.Errorf("only %d subjects scored", r.Total)
			}
			return r.Total, err
		}
	}
	today := func(a cases.Actor) func() (int, error) {
		return func() (int, error) {
			t, err := svc.TodayFigures(ctx, a)
			return t.Reported, err
		}
	}
	rolled := func(kind evaluation.SubjectKind, subject string) func() (int, error) {
		return func() (int, error) {
			day := evaluation.DayOf(time.Now(), svc.Calendar().Location())
			c, err := db.RollupCounts(ctx, kind, subject, day, day)
			return len(c), err
		}
	}
	queries := []query{
		{"city: every grid, " + month + ", every place explained", eval(city, evaluation.Grid, month, 0)},
		{"city: every grid scored and placed, " + month + ", first 50 explained", page(city, evaluation.Grid, month, "")},
		{"city: every grid by on_time_close_rate, " + month + ", first 50 explained", page(city, evaluation.Grid, month, "on_time_close_rate")},
		{"city: grids top 10, " + month, eval(city, evaluation.Grid, month, 10)},
		{"city: every grid, quarter", eval(city, evaluation.Grid, time.Now().AddDate(0, -3, 0).Format("2006")+"-Q"+strconv.Itoa((int(time.Now().AddDate(0, -3, 0).Month())+2)/3), 0)},
		{"city: every grid, 10 days across two months", eval(city, evaluation.Grid, time.Now().AddDate(0, -1, -5).Format("2006-01-02")+"~"+time.Now().AddDate(0, -1, 4).Format("2006-01-02"), 0)},
		{"city: every street, " + month, eval(city, evaluation.Street, month, 0)},
		{"city: every unit, " + month, eval(city, evaluation.Unit, month, 0)},
		{"district: every grid, " + month, eval(district, evaluation.Grid, month, 0)},
		{"street: every grid, " + month, eval(street, evaluation.Grid, month, 0)},
		{"today's rollup row, city (every district)", rolled(evaluation.District, "")},
		{"today's rollup row, district", rolled(evaluation.District, "500103")},
		{"today's rollup row, street", rolled(evaluation.Street, "500103001")},
		{"today figures, city", today(city)},
		{"today figures, district", today(district)},
		{"today figures, street", today(street)},
	}
	if only := os.Getenv("ZHIZHI_BENCH_QUERY"); only != "" {
		// Only the queries whose name holds this text (for a profile of one).
		queries = slices.DeleteFunc(queries, func(q query) bool { return !strings.Contains(q.name, only) })
	}
	lat := make([][]time.Duration, len(queries))
	items := make([]int, len(queries))
	b.ResetTimer()
	for b.Loop() {
		for i, q := range queries {
			start := time.Now()
			n, err := q.run()
			if err != nil {
				b.Fatalf("%s: %v", q.name, err)
			}
			lat[i] = append(lat[i], time.Since(start))
			items[i] = n
		}
	}
	b.StopTimer()
	for i, q := range queries {
		p50, p95, _ := percentiles(lat[i])
		b.Logf("%-48s %6d items  p50 %8.2f ms  p95 %8.2f ms  first %8.2f ms", q.name, items[i], p50, p95, float64(lat[i][0].Microseconds())/1000)
	}
}
