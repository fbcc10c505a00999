package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/demo"
	"zhizhi/internal/geo"
	"zhizhi/internal/server"
	"zhizhi/internal/sla"
	"zhizhi/internal/store"
)

// BenchmarkScaleFlood measures every list kind of the scale benchmarks
// (scaleQueries) on a loaded installation (ZHIZHI_BENCH_SCALE), then posts
// a flood of new reports over HTTP the way intake takes them (a running
// node, server.Open on the DSN, 128 keep-alive clients, POST /api/v1/cases,
// each report placed, routed, clocked and committed by the group-commit
// writer), then measures the list kinds again at once, and again after the
// platform's own statistics upkeep has run since the flood ended (SQLite:
// the writer's refresh every AnalyzeEvery writes; PostgreSQL: autovacuum's
// analyze of cases; the benchmark waits for it, it runs no ANALYZE). It
// prints one table with all three phases, the installation's size and the
// load average at each phase.
//
//	ZHIZHI_BENCH_FLOOD        reports in the flood (default 100000)
//	ZHIZHI_BENCH_ROUNDS       queries of each kind per phase (default 100)
//	ZHIZHI_BENCH_UPKEEP_WAIT  longest wait for the upkeep (default 10m)
//	ZHIZHI_BENCH_DATA         the node's data directory, kept for its key
//	                          (default $TMPDIR/zhizhi-bench-page-data, the
//	                          page benchmarks' own, so that a copy of a file
//	                          they opened starts with the key it was sealed
//	                          under)
//	ZHIZHI_BENCH_ANALYZE_EVERY the node's AnalyzeEvery (default 0: the
//	                          store's default; -1: no upkeep, the state before)
//
// The flood writes into the database: run it on a copy.
func BenchmarkScaleFlood(b *testing.B) {
	dsn := scaleDSN(b)
	ctx := context.Background()
	flood := envInt("ZHIZHI_BENCH_FLOOD", 100000)
	rounds := envInt("ZHIZHI_BENCH_ROUNDS", 100)
	wait := 10 * time.Minute
	if d, err := time.ParseDuration(os.Getenv("ZHIZHI_BENCH_UPKEEP_WAIT")); err == nil {
		wait = d
	}
	every, _ := strconv.Atoi(os.Getenv("ZHIZHI_BENCH_ANALYZE_EVERY"))
	// The node's key file must outlive the run: the first start seals a
	// key check into the database, and a second run with another key would
	// refuse to start.
	data := os.Getenv("ZHIZHI_BENCH_DATA")
	if data == "" {
		data = filepath.Join(os.TempDir(), "zhizhi-bench-page-data")
	}
	p, err := server.Open(ctx, server.Config{Addr: "127.0.0.1:0", DB: dsn, DataDir: data, DefaultCenter: "/500000/",
		Logger: quietLogger(), AnalyzeEvery: every})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close(context.Background())
	if err := p.Start(); err != nil {
		b.Fatal(err)
	}
	db := p.DB
	e := &platform{p: p, base: "http://" + p.Addr()}
	if e.token, err = signIn(e.base, "wgy", demo.Password); err != nil {
		b.Fatal(err)
	}
	now := latestReport(ctx, b, db)
	queries := scaleQueries(ctx, b, db, &now)
	_, e.grids = activeRegions(ctx, b, db)
	e.points = samplePoints(rand.New(rand.NewPCG(1, 2)), e.grids, 1<<14)
	bodies := floodBodies(e.points, min(flood, 1<<15))

	fmt.Printf("flood benchmark on %s (%s), %d list kinds × %d queries per phase, flood of %d reports\n",
		db.Dialect, describeDB(ctx, b, db), len(queries), rounds, flood)
	var phases []floodPhase
	b.ResetTimer()
	measurePhase(ctx, b, db, queries, rounds) // warm-up: the same queries, not counted
	phases = append(phases, floodPhase{"before", measurePhase(ctx, b, db, queries, rounds), loadAvg()})

	u0, err := db.StatisticsUpkeep(ctx)
	if err != nil {
		b.Fatal(err)
	}
	took, rate := postFlood(b, e, bodies, flood)
	floodEnd := time.Now()
	u1, _ := db.StatisticsUpkeep(ctx)
	fmt.Printf("flood: %d reports in %s (%.0f reports/s, load %s); statistics refreshed during the flood: %d times (last took %s)\n",
		flood, took.Round(time.Millisecond), rate, loadAvg(), u1.Runs-u0.Runs, u1.Took.Round(time.Microsecond))

	now = latestReport(ctx, b, db)
	phases = append(phases, floodPhase{"right after", measurePhase(ctx, b, db, queries, rounds), loadAvg()})

	// The platform's own upkeep, once more after the flood ended: the
	// SQLite writer refreshes after AnalyzeEvery writes (the flood's last
	// reports may not have reached it; nothing else writes here, so the
	// figures "right after" are the ones a flood leaves until the next
	// writes); PostgreSQL's autovacuum analyzes cases once enough rows
	// changed (migration 28) at its next round.
	waited := time.Now()
	var u store.Upkeep
	for {
		u, err = db.StatisticsUpkeep(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if !u.Analyzed.Before(floodEnd) || time.Since(waited) > wait {
			break
		}
		time.Sleep(2 * time.Second)
	}
	label := "after upkeep"
	if u.Analyzed.Before(floodEnd) {
		label = "no upkeep"
		fmt.Printf("upkeep: none since the flood ended within %s (statistics of %s, %d writes pending)\n", wait, fmtTime(u.Analyzed), u.Pending)
	} else {
		fmt.Printf("upkeep: statistics refreshed %s after the flood ended (%s)\n", u.Analyzed.Sub(floodEnd).Round(time.Second), fmtTime(u.Analyzed))
	}
	if u.Analyzed.Before(floodEnd) && db.Dialect == store.SQLite {
		// Nothing more to wait for: SQLite refreshes on writes only.
	} else {
		phases = append(phases, floodPhase{label, measurePhase(ctx, b, db, queries, rounds), loadAvg()})
	}
	b.StopTimer()
	printFlood(phases, queries)
	fmt.Printf("after: %s\n", describeDB(ctx, b, db))
	for _, ph := range phases {
		_, p95, _ := percentiles(ph.all())
		b.ReportMetric(p95, strings.ReplaceAll(ph.name, " ", "-")+"-p95-ms")
	}
}

type floodPhase struct {
	name string
	lat  map[string][]time.Duration
	load string
}

func (ph floodPhase) all() []time.Duration {
	var out []time.Duration
	for _, d := range ph.lat {
		out = append(out, d...)
	}
	return out
}

// measurePhase runs rounds queries of each kind, the kinds interleaved, with
// the same random choices in every phase (same streets, grids, words).
func measurePhase(ctx context.Context, b *testing.B, db *store.DB, queries []listQuery, rounds int) map[string][]time.Duration {
	start := time.Now()
	st := takePhaseStats(ctx, db)
	st.sample(ctx, db)
	var busy time.Duration
	defer func() {
		took := time.Since(start)
		st.stopSampling()
		end := takePhaseStats(ctx, db)
		time.Sleep(1500 * time.Millisecond) // PostgreSQL's sessions report their counters within a second of going idle
		end.pgFrom(takePhaseStats(ctx, db))
		fmt.Printf("  phase took %s, load %s\n%s\n", took.Round(time.Second), loadAvg(), st.describe(end, busy))
	}()
	rnd := rand.New(rand.NewPCG(3, 3))
	lat := map[string][]time.Duration{}
	for range rounds {
		for _, q := range queries {
			f := q.make(rnd)
			if f.After == "next" {
				f.After = ""
				first, err := db.Cases(ctx, f)
				if err != nil {
					b.Fatal(err)
				}
				if len(first) == 0 {
					b.Fatalf("%s: empty first page", q.name)
				}
				f.After = first[len(first)-1].ID
			}
			start := time.Now()
			if _, err := db.Cases(ctx, f); err != nil {
				b.Fatalf("%s: %v", q.name, err)
			}
			d := time.Since(start)
			busy += d
			lat[q.name] = append(lat[q.name], d)
		}
	}
	for _, q := range queries {
		p50, p95, _ := percentiles(lat[q.name])
		fmt.Printf("  %-28s p50 %7.2f ms  p95 %7.2f ms\n", q.name, p50, p95)
	}
	return lat
}

func printFlood(phases []floodPhase, queries []listQuery) {
	var head, rule strings.Builder
	head.WriteString("| list kind |")
	rule.WriteString("|---|")
	for _, ph := range phases {
		fmt.Fprintf(&head, " %s p50 | p95 |", ph.name)
		rule.WriteString("---|---|")
	}
	fmt.Println(head.String())
	fmt.Println(rule.String())
	row := func(name string, get func(floodPhase) []time.Duration) {
		fmt.Printf("| %s |", name)
		for _, ph := range phases {
			p50, p95, _ := percentiles(get(ph))
			fmt.Printf(" %.2f | %.2f |", p50, p95)
		}
		fmt.Println()
	}
	for _, q := range queries {
		row(q.name, func(ph floodPhase) []time.Duration { return ph.lat[q.name] })
	}
	row("**all**", floodPhase.all)
	for _, ph := range phases {
		fmt.Printf("load average during %q: %s\n", ph.name, ph.load)
	}
}

// floodBodies returns n report bodies with the generated history's mix
// (internal/scale): any of the 40 demo categories, with the answers their
// questions require, the generator's description and address shape, one of
// the category's keywords, random severities, at the given points.
func floodBodies(points []geo.Point, n int) [][]byte {
	cats := demo.Categories()
	places := []string{"路口", "小区门口", "楼栋旁", "人行道", "菜市场", "公交站", "背街小巷", "梯坎"}
	rnd := rand.New(rand.NewPCG(19, 19))
	now := time.Now()
	out := make([][]byte, n)
	for i := range out {
		c := cats[rnd.IntN(len(cats))]
		pt := points[rnd.IntN(len(points))]
		sev := sla.Normal
		if rnd.IntN(7) == 0 {
			sev = sla.Urgent
		}
		kw := c.Keywords[rnd.IntN(len(c.Keywords))]
		r := cases.Report{Source: cases.SourcePatrol, Point: &pt, Category: c.Code, Severity: sev,
			Address:     "社区" + places[rnd.IntN(len(places))],
			Description: fmt.Sprintf("社区%s发现%s问题（%s），请尽快处理。", places[rnd.IntN(len(places))], c.Name, kw),
			Answers:     demo.Answers(c, now)}
		out[i], _ = json.Marshal(r)
	}
	return out
}

// postFlood posts n reports from 128 keep-alive clients and returns the
// time it took and the rate.
func postFlood(b *testing.B, e *platform, bodies [][]byte, n int) (time.Duration, float64) {
	client := newClient()
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range 2 * intakeParallelism {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				status, body, err := postReport(client, e, bodies[int(i)%len(bodies)])
				if err != nil || status != http.StatusCreated {
					if failed.Add(1) == 1 {
						b.Errorf("report: %d %s %v", status, body, err)
					}
				}
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d of %d reports failed", f, n)
	}
	return took, float64(n) / took.Seconds()
}

// describeDB gives the installation's size: cases, open cases, the file or
// database size.
func describeDB(ctx context.Context, b *testing.B, db *store.DB) string {
	var all, open int64
	if err := db.Raw().QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE closed_at IS NULL) FROM cases`).Scan(&all, &open); err != nil {
		b.Fatal(err)
	}
	var size int64
	q := `SELECT pg_database_size(current_database())`
	if db.Dialect == store.SQLite {
		q = `SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()`
	}
	if err := db.Raw().QueryRowContext(ctx, q).Scan(&size); err != nil {
		b.Fatal(err)
	}
	return fmt.Sprintf("%d cases, %d open, database %.1f GB", all, open, float64(size)/(1<<30))
}

func loadAvg() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("15:04:05 UTC")
}
