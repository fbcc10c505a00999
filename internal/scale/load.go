package scale

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"time"

	"zhizhi/internal/auth"
	"zhizhi/internal/cases"
	"zhizhi/internal/demo"
	"zhizhi/internal/id"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
)

// Options tune Load.
type Options struct {
	Cases    int       // cases to generate (default 7,790,000)
	Years    int       // span of report times, ending at Now (default 2)
	Now      time.Time // the present (default time.Now())
	Seed     uint64    // same seed, same data (IDs aside)
	Size     Size      // default Chongqing
	Chunk    int       // cases per COPY or SQLite transaction (default 50,000)
	Workers  int       // generator goroutines (default GOMAXPROCS)
	District string    // a district's code: every case falls in one of its grids ("" for the whole city)
	Log      io.Writer // progress lines (nil: none)
}

// Result says what was loaded and how long each phase took.
type Result struct {
	Regions, Grids                         int
	Cases, Steps, Units, Clocks            int64
	Open, Closed, Overdue                  int64
	Whistles, Merged                       int64 // street whistles; cases merged into an earlier one (counted in Closed)
	Rollups                                int64 // rollup rows (day and month grains)
	Setup, CaseLoad, Indexes, Analyze, All time.Duration
	DBSize                                 int64 // bytes: pg_database_size, or the SQLite file's page_count × page_size
	Dialect                                store.Dialect
}

// unitNames names the units the demo categories route to, at city level.
var unitNames = map[string]string{
	"yj": "市应急管理局", "scjg": "市市场监管局", "xf": "市消防救援总队", "cg": "市城市管理局", "zj": "市住房城乡建委",
	"sthj": "市生态环境局", "jt": "市交通运输委", "wj": "市卫生健康委", "mz": "市民政局", "rs": "市人力社保局",
	"yb": "市医保局", "ga": "市公安局", "sf": "市司法局", "jw": "市教委", "sw": "市商务委", "gh": "市规划自然资源局",
	"syl-ms": "街道民生服务办", "syl-jj": "街道经济发展办", "syl-dj": "街道党建办",
}

// boardSection is the shared section that takes a board's street matters in
// the generated installation.
var boardSection = map[cases.Board]string{cases.BoardParty: "syl-dj", cases.BoardEconomy: "syl-jj", cases.BoardServices: "syl-ms", cases.BoardSafety: "yj"}

// Accounts are the few accounts Load creates (password demo.Password):
// username → role and where.
var Accounts = []struct {
	Username, Name string
	Role           cases.Role
	Region         string // "city", "district" (渝中区), "street" (its first street), "grid" (that street's first grid)
	Unit           string
}{
	{"admin", "系统管理员", cases.RoleAdmin, "city", ""},
	{"cq_zhihui", "市指挥中心值班长", cases.RoleCommander, "city", ""},
	{"yz_zhihui", "渝中区指挥中心值班长", cases.RoleCommander, "district", ""},
	{"jd_zhihui", "街道值班指挥长", cases.RoleCommander, "street", ""},
	{"wgy", "网格员", cases.RoleGridWorker, "grid", ""},
	{"cg_staff", "市城市管理局工作人员", cases.RoleUnit, "", "cg"},
	{"leader", "市领导", cases.RoleLeader, "city", ""},
}

// tables whose secondary indexes and constraints are dropped during the
// load and rebuilt afterwards (primary keys stay).
var bulkTables = []string{"cases", "steps", "clocks", "case_units", "case_facts"}

// Load fills an empty database (migrated here if needed) with a generated
// Chongqing-sized installation. dsn is a PostgreSQL URL or a SQLite file path,
// as for store.Open; SQLite is meant for district scale (opt.District).
// Cases, steps, case units and clocks go in by chunks, one transaction each
// (store.Bulk): on PostgreSQL with COPY through a dedicated pgx connection, on
// SQLite with prepared INSERTs on the store's writer connection. The
// secondary indexes (on PostgreSQL also the unique and foreign-key
// constraints) of those tables are dropped first and rebuilt from their own
// definitions afterwards, so the schema ends exactly as the migrations made
// it; then the statistics: VACUUM ANALYZE on PostgreSQL (the visibility map
// it sets lets listings scan indexes without reading rows, as autovacuum
// keeps it on a running installation), ANALYZE on SQLite.
func Load(ctx context.Context, dsn string, opt Options) (Result, error) {
	var res Result
	begin := time.Now()
	if opt.Cases <= 0 {
		opt.Cases = 7_790_000
	}
	if opt.Years <= 0 {
		opt.Years = 2
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	opt.Now = opt.Now.UTC().Truncate(time.Millisecond)
	if opt.Size == (Size{}) {
		opt.Size = Chongqing
	}
	if opt.Chunk <= 0 {
		opt.Chunk = 50_000
	}
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	logf := func(format string, args ...any) {
		if opt.Log != nil {
			fmt.Fprintf(opt.Log, "%6.1fs  "+format+"\n", append([]any{time.Since(begin).Seconds()}, args...)...)
		}
	}
	if err := checkDistrict(opt.Size, opt.District); err != nil {
		return res, err
	}
	db, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		return res, err
	}
	defer db.Close()
	res.Dialect = db.Dialect
	out, err := db.Bulk(ctx)
	if err != nil {
		return res, err
	}
	closed := false
	defer func() {
		if !closed {
			out.Close()
		}
	}()
	for _, t := range []string{"cases", "regions", "accounts"} {
		n, err := out.Count(ctx, t)
		if err != nil {
			return res, err
		}
		if n > 0 {
			return res, fmt.Errorf("scale: database is not empty (%d rows in %s)", n, t)
		}
	}
	tree, err := BuildTree(opt.Size, opt.Seed)
	if err != nil {
		return res, err
	}
	res.Regions, res.Grids = len(tree.Regions), len(tree.Grids)
	regions, err := regionRows(tree)
	if err != nil {
		return res, err
	}
	if err := out.Write(ctx, regions); err != nil {
		return res, err
	}
	logf("regions: %d (%d grids)", len(tree.Regions), len(tree.Grids))
	// Units and categories go straight to the store: through the service,
	// each would reload the caches (the 62,000-grid index) once.
	g, err := reference(ctx, db, tree, opt.Now)
	if err != nil {
		return res, err
	}
	svc, err := service.New(ctx, db, service.Config{EscalateAfter: 24 * time.Hour, DefaultCenter: CityPath,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return res, err
	}
	g.rule = svc.ClockRule()
	g.loc = svc.Calendar().Location()
	for _, c := range g.cats {
		g.policies = append(g.policies, svc.Policy(c))
	}
	if err := createAccounts(ctx, svc, tree); err != nil {
		return res, err
	}
	res.Setup = time.Since(begin)
	logf("units %d, categories %d, accounts %d", len(g.units), len(g.cats), len(Accounts))

	defs, err := out.DropSecondary(ctx, bulkTables)
	if err != nil {
		return res, err
	}
	logf("dropped %d indexes and constraints for the load", len(defs))

	start := time.Now()
	if err := g.stream(ctx, out, opt, &res, logf); err != nil {
		return res, err
	}
	res.CaseLoad = time.Since(start)
	logf("cases loaded: %d cases (%d whistles, %d merged), %d steps, %d case units, %d clocks in %s (%.0f cases/s)", res.Cases,
		res.Whistles, res.Merged, res.Steps, res.Units, res.Clocks, res.CaseLoad.Round(time.Second), float64(res.Cases)/res.CaseLoad.Seconds())

	start = time.Now()
	for _, d := range defs {
		t := time.Now()
		if err := out.Rebuild(ctx, d); err != nil {
			return res, err
		}
		logf("rebuilt %-24s %6.1fs", d.Name, time.Since(t).Seconds())
	}
	res.Indexes = time.Since(start)
	// The overdue gauge from the loaded cases (store/gauge.go).
	if err := db.RebuildGauge(ctx); err != nil {
		return res, err
	}
	start = time.Now()
	if err := out.Analyze(ctx); err != nil {
		return res, err
	}
	res.Analyze = time.Since(start)
	if res.DBSize, err = out.Size(ctx); err != nil {
		return res, err
	}
	closed = true
	if err := out.Close(); err != nil {
		return res, err
	}
	res.All = time.Since(begin)
	logf("%s in %.1fs; database %.1f GB; total %s", res.statistics(), res.Analyze.Seconds(), float64(res.DBSize)/(1<<30), res.All.Round(time.Second))
	return res, nil
}

// checkDistrict refuses a district code that is not in the tree of that size.
func checkDistrict(sz Size, code string) error {
	if code == "" {
		return nil
	}
	var codes []string
	for _, d := range districts[:min(max(sz.Districts, 0), len(districts))] {
		if d.code == code {
			return nil
		}
		codes = append(codes, d.code)
	}
	return fmt.Errorf("scale: -district %q is not a district of the generated city (one of %s)", code, strings.Join(codes, " "))
}

var regionCols = []string{"code", "name", "level", "parent_code", "path", "shape", "min_lng", "min_lat", "max_lng", "max_lat", "updated_at"}

// regionRows returns the region tree as the store writes regions.
func regionRows(t *Tree) (store.Rows, error) {
	now := time.Now().UnixMilli()
	rows := make([][]any, 0, len(t.Regions))
	for _, r := range t.Regions {
		shape := ""
		var a, b, c, d any
		if len(r.Shape) > 0 {
			s, err := json.Marshal(r.Shape)
			if err != nil {
				return store.Rows{}, err
			}
			shape = string(s)
			bb := r.Shape.Bounds()
			a, b, c, d = bb.Min.Lng, bb.Min.Lat, bb.Max.Lng, bb.Max.Lat
		}
		rows = append(rows, []any{r.Code, r.Name, string(r.Level), r.ParentCode, r.Path, shape, a, b, c, d, now})
	}
	return store.Rows{Table: "regions", Cols: regionCols, Rows: rows}, nil
}

// reference stores the units and the demo categories and returns the
// generator's shared state (policies are added once the service is up).
func reference(ctx context.Context, db *store.DB, t *Tree, now time.Time) (*gen, error) {
	g := &gen{tree: t, now: now, streets: t.Streets, units: map[string]cases.Unit{}}
	for _, c := range demo.Categories() {
		if _, ok := g.units[c.DefaultUnit]; ok {
			continue
		}
		name := unitNames[c.DefaultUnit]
		if name == "" {
			name = "市" + c.DefaultUnit
		}
		kind := "department"
		if strings.Contains(c.DefaultUnit, "-") {
			kind = "section"
		}
		u := cases.Unit{ID: c.DefaultUnit, Name: name, Kind: kind, RegionPath: CityPath, Active: true}
		if err := db.Write(ctx, func(tx *store.Tx) error { return tx.PutUnit(ctx, u) }); err != nil {
			return nil, fmt.Errorf("unit %s: %w", u.ID, err)
		}
		g.units[u.ID] = u
	}
	for _, c := range demo.Categories() {
		if err := c.Validate(); err != nil {
			return nil, fmt.Errorf("category %s: %w", c.Code, err)
		}
		if err := db.Write(ctx, func(tx *store.Tx) error { return tx.PutCategory(ctx, c) }); err != nil {
			return nil, fmt.Errorf("category %s: %w", c.Code, err)
		}
		g.cats = append(g.cats, c)
	}
	return g, nil
}

func createAccounts(ctx context.Context, svc *service.Service, t *Tree) error {
	where := map[string]string{"city": City}
	for _, d := range t.Districts {
		if d.Code == "500103" || where["district"] == "" {
			where["district"] = d.Code
		}
	}
	for _, s := range t.Streets {
		if s.ParentCode == where["district"] {
			where["street"] = s.Code
			break
		}
	}
	for _, g := range t.Grids {
		if strings.HasPrefix(g.Code, where["street"]) {
			where["grid"] = g.Code
			break
		}
	}
	for i, a := range Accounts {
		in := service.NewAccount{Username: a.Username, Name: a.Name, Role: a.Role, UnitID: a.Unit, Password: demo.Password,
			Phone: "1380000" + fmt.Sprintf("%04d", i+1), RegionCode: where[a.Region]}
		if _, err := svc.CreateAccount(ctx, in, auth.DefaultParams); err != nil {
			return fmt.Errorf("account %s: %w", a.Username, err)
		}
	}
	return nil
}

// chunkOut is one chunk of generated rows, or the error that stopped it.
type chunkOut struct {
	rows *rows
	err  error
}

// stream plans the cases in time order, builds them on opt.Workers
// goroutines and writes the chunks in order to out, parents first.
func (g *gen) stream(ctx context.Context, out store.Bulk, opt Options, res *Result, logf func(string, ...any)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	p := newPlanner(g.tree, len(g.cats), g.now, opt.Years, opt.Cases, opt.Seed, opt.District)
	if opt.District != "" {
		d := g.tree.Districts[g.tree.Grids[p.pick[0]].District]
		logf("cases in %s %s only (%d grids)", d.Code, d.Name, len(p.pick))
	}
	type job struct {
		specs []spec
		out   chan chunkOut
	}
	jobs := make(chan job)
	ordered := make(chan chan chunkOut, opt.Workers+1)
	go func() {
		defer close(jobs)
		defer close(ordered)
		for done := 0; done < opt.Cases; {
			n := min(opt.Chunk, opt.Cases-done)
			specs := make([]spec, n)
			for k := range specs {
				specs[k] = p.spec(done + k)
			}
			done += n
			j := job{specs, make(chan chunkOut, 1)}
			select {
			case ordered <- j.out:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- j:
			case <-ctx.Done():
				return
			}
		}
	}()
	for range opt.Workers {
		go func() {
			for j := range jobs {
				r, err := g.build(j.specs)
				j.out <- chunkOut{r, err}
			}
		}()
	}
	rollups := store.NewRollupAgg()
	last := time.Now()
	for next := range ordered {
		c := <-next
		if c.err != nil {
			return c.err
		}
		r := c.rows
		if err := out.Write(ctx, store.Rows{Table: "cases", Cols: caseCols, Rows: r.cases}, store.Rows{Table: "steps", Cols: stepCols, Rows: r.steps},
			store.Rows{Table: "case_units", Cols: unitCols, Rows: r.units}, store.Rows{Table: "clocks", Cols: clockCols, Rows: r.clocks},
			store.Rows{Table: "case_facts", Cols: []string{"case_id", "doc"}, Rows: r.facts}); err != nil {
			return err
		}
		rollups.Merge(r.rollups)
		// Chunks come in the order of their report days: what lies before
		// this chunk's first day is complete (RollupAgg.Flush).
		if err := rollups.Flush(r.firstDay, 100_000, func(rs store.Rows) error {
			res.Rollups += int64(len(rs.Rows))
			return out.Write(ctx, rs)
		}); err != nil {
			return err
		}
		res.Cases += int64(len(c.rows.cases))
		res.Steps += int64(len(c.rows.steps))
		res.Units += int64(len(c.rows.units))
		res.Clocks += int64(len(c.rows.clocks))
		res.Open += int64(c.rows.open)
		res.Closed += int64(c.rows.closed)
		res.Overdue += int64(c.rows.overdue)
		res.Whistles += int64(c.rows.whistles)
		res.Merged += int64(c.rows.merged)
		if time.Since(last) > 30*time.Second || res.Cases == int64(opt.Cases) {
			last = time.Now()
			logf("%d / %d cases", res.Cases, opt.Cases)
		}
	}
	// The rollups of every case, at day and month grain, and the watermark:
	// the rollups loop goes on from the load's steps (all made up to now).
	start := time.Now()
	if err := rollups.Rows(100_000, func(rs store.Rows) error {
		res.Rollups += int64(len(rs.Rows))
		return out.Write(ctx, rs)
	}); err != nil {
		return err
	}
	wm, err := json.Marshal(id.Last(g.now))
	if err != nil {
		return err
	}
	if err := out.Write(ctx, store.Rows{Table: "settings", Cols: []string{"key", "value"}, Rows: [][]any{{service.RollupWatermark, string(wm)}}}); err != nil {
		return err
	}
	logf("rollups: %d rows (the last %s)", res.Rollups, time.Since(start).Round(time.Second))
	// The per-center, per-day counters that numbered the cases.
	var crow [][]any
	for k, v := range p.counters {
		crow = append(crow, []any{k, v})
	}
	return out.Write(ctx, store.Rows{Table: "counters", Cols: []string{"name", "value"}, Rows: crow})
}

var (
	caseCols = []string{"district_code", "street_code", "community_code", "id", "number", "version", "state", "source", "category", "board",
		"severity", "grid_code", "region_path", "center_path", "lng", "lat", "reporter_account", "reported_at", "updated_at", "closed_at",
		"due_at", "was_overdue", "body", "client_ref", "doc", "item"}
	stepCols  = []string{"id", "case_id", "seq", "at", "action", "doc"}
	unitCols  = []string{"case_id", "unit_id", "role", "state"}
	clockCols = []string{"case_id", "key", "due_at", "yellow_at", "escalate_at", "yellow_fired", "red_fired", "escalated", "next_at"}
)

// Summary formats a result for the command line.
func (r Result) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "regions %d (grids %d)\n", r.Regions, r.Grids)
	fmt.Fprintf(&b, "cases %d (open %d, of which overdue %d; closed %d)\n", r.Cases, r.Open, r.Overdue, r.Closed)
	fmt.Fprintf(&b, "whistles %d (%.2f%% of cases), merged cases %d (%.2f%%)\n", r.Whistles, 100*float64(r.Whistles)/max(1, float64(r.Cases)),
		r.Merged, 100*float64(r.Merged)/max(1, float64(r.Cases)))
	fmt.Fprintf(&b, "steps %d (%.1f per case), case units %d, clocks %d\n", r.Steps, float64(r.Steps)/max(1, float64(r.Cases)), r.Units, r.Clocks)
	fmt.Fprintf(&b, "time: setup %s, cases %s (%s cases/s), indexes %s, %s %s, total %s\n", r.Setup.Round(time.Second),
		r.CaseLoad.Round(time.Second), strconv.Itoa(int(float64(r.Cases)/max(0.001, r.CaseLoad.Seconds()))), r.Indexes.Round(time.Second),
		r.statistics(), r.Analyze.Round(time.Second), r.All.Round(time.Second))
	fmt.Fprintf(&b, "database size %.2f GB\n", float64(r.DBSize)/(1<<30))
	return b.String()
}

// statistics names the statistics phase as it runs on the engine.
func (r Result) statistics() string {
	if r.Dialect == store.SQLite {
		return "analyze"
	}
	return "vacuum analyze"
}
