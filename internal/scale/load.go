package scale

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"zhizhi/internal/auth"
	"zhizhi/internal/cases"
	"zhizhi/internal/demo"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
)

// Options tune Load.
type Options struct {
	Cases   int       // cases to generate (default 7,790,000)
	Years   int       // span of report times, ending at Now (default 2)
	Now     time.Time // the present (default time.Now())
	Seed    uint64    // same seed, same data (IDs aside)
	Size    Size      // default Chongqing
	Chunk   int       // cases per COPY (default 50,000)
	Workers int       // generator goroutines (default GOMAXPROCS)
	Log     io.Writer // progress lines (nil: none)
}

// Result says what was loaded and how long each phase took.
type Result struct {
	Regions, Grids                         int
	Cases, Steps, Units, Clocks            int64
	Open, Closed, Overdue                  int64
	Whistles, Merged                       int64 // street whistles; cases merged into an earlier one (counted in Closed)
	Setup, CaseLoad, Indexes, Analyze, All time.Duration
	DBSize                                 int64 // bytes, pg_database_size
}

// unitNames names the units the demo categories route to, at city level.
var unitNames = map[string]string{
	"yj": "市应急管理局", "scjg": "市市场监管局", "xf": "市消防救援总队", "cg": "市城市管理局", "zj": "市住房城乡建委",
	"sthj": "市生态环境局", "jt": "市交通运输委", "wj": "市卫生健康委", "mz": "市民政局", "rs": "市人力社保局",
	"yb": "市医保局", "ga": "市公安局", "sf": "市司法局", "jw": "市教委", "sw": "市商务委", "gh": "市规划自然资源局",
	"syl-ms": "街道民生服务办", "syl-jj": "街道经济发展办", "syl-dj": "街道党建办",
}

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
var bulkTables = []string{"cases", "steps", "clocks", "case_units"}

// Load fills an empty PostgreSQL database (migrated here if needed) with a
// generated Chongqing-sized installation. Cases, steps, case units and clocks
// go in with COPY through a dedicated pgx connection, in chunks; the
// secondary indexes, unique and foreign-key constraints of those tables are
// dropped first and rebuilt from their own definitions afterwards, so the
// schema ends exactly as the migrations made it; then VACUUM ANALYZE (the
// visibility map it sets lets listings scan indexes without reading rows, as
// autovacuum keeps it on a running installation).
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
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return res, errors.New("scale: the generator loads PostgreSQL only (-db postgres://…)")
	}
	db, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		return res, err
	}
	defer db.Close()
	for _, t := range []string{"cases", "regions", "accounts"} {
		var n int64
		if err := db.Raw().QueryRowContext(ctx, `SELECT count(*) FROM `+t).Scan(&n); err != nil {
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
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return res, fmt.Errorf("scale: connect: %w", err)
	}
	defer conn.Close(context.Background())
	for _, q := range []string{`SET synchronous_commit = off`, `SET maintenance_work_mem = '1GB'`, `SET max_parallel_maintenance_workers = 2`} {
		if _, err := conn.Exec(ctx, q); err != nil {
			return res, fmt.Errorf("scale: %s: %w", q, err)
		}
	}
	if err := copyRegions(ctx, conn, tree); err != nil {
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
	for _, c := range g.cats {
		g.policies = append(g.policies, svc.Policy(c))
	}
	if err := createAccounts(ctx, svc, tree); err != nil {
		return res, err
	}
	res.Setup = time.Since(begin)
	logf("units %d, categories %d, accounts %d", len(g.units), len(g.cats), len(Accounts))

	defs, err := dropSecondary(ctx, conn)
	if err != nil {
		return res, err
	}
	logf("dropped %d indexes and constraints for the load", len(defs))

	start := time.Now()
	if err := g.stream(ctx, conn, opt, &res, logf); err != nil {
		return res, err
	}
	res.CaseLoad = time.Since(start)
	logf("cases loaded: %d cases (%d whistles, %d merged), %d steps, %d case units, %d clocks in %s (%.0f cases/s)", res.Cases,
		res.Whistles, res.Merged, res.Steps, res.Units, res.Clocks, res.CaseLoad.Round(time.Second), float64(res.Cases)/res.CaseLoad.Seconds())

	start = time.Now()
	for _, d := range defs {
		t := time.Now()
		if _, err := conn.Exec(ctx, d.create); err != nil {
			return res, fmt.Errorf("scale: rebuild %s: %w", d.name, err)
		}
		logf("rebuilt %-24s %6.1fs", d.name, time.Since(t).Seconds())
	}
	res.Indexes = time.Since(start)
	start = time.Now()
	if _, err := conn.Exec(ctx, `VACUUM (ANALYZE)`); err != nil {
		return res, fmt.Errorf("scale: vacuum analyze: %w", err)
	}
	res.Analyze = time.Since(start)
	if err := conn.QueryRow(ctx, `SELECT pg_database_size(current_database())`).Scan(&res.DBSize); err != nil {
		return res, err
	}
	res.All = time.Since(begin)
	logf("vacuumed and analyzed in %.1fs; database %.1f GB; total %s", res.Analyze.Seconds(), float64(res.DBSize)/(1<<30), res.All.Round(time.Second))
	return res, nil
}

func copyRegions(ctx context.Context, conn *pgx.Conn, t *Tree) error {
	now := time.Now().UnixMilli()
	rows := make([][]any, 0, len(t.Regions))
	for _, r := range t.Regions {
		shape := ""
		var a, b, c, d any
		if len(r.Shape) > 0 {
			s, err := json.Marshal(r.Shape)
			if err != nil {
				return err
			}
			shape = string(s)
			bb := r.Shape.Bounds()
			a, b, c, d = bb.Min.Lng, bb.Min.Lat, bb.Max.Lng, bb.Max.Lat
		}
		rows = append(rows, []any{r.Code, r.Name, string(r.Level), r.ParentCode, r.Path, shape, a, b, c, d, now})
	}
	_, err := conn.CopyFrom(ctx, pgx.Identifier{"regions"},
		[]string{"code", "name", "level", "parent_code", "path", "shape", "min_lng", "min_lat", "max_lng", "max_lat", "updated_at"},
		pgx.CopyFromRows(rows))
	if err != nil {
		return fmt.Errorf("scale: copy regions: %w", err)
	}
	return nil
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

// ddl is a dropped index or constraint and the statement that rebuilds it.
type ddl struct{ name, create string }

// dropSecondary drops the foreign keys, unique constraints and secondary
// indexes of the bulk tables and returns the statements that recreate them
// (from pg_get_indexdef and pg_get_constraintdef, so they come back exactly
// as the migrations made them), indexes first, foreign keys last.
func dropSecondary(ctx context.Context, conn *pgx.Conn) ([]ddl, error) {
	var idx, uniq, fks []ddl
	var drops []string
	rows, err := conn.Query(ctx, `SELECT c.conrelid::regclass::text, c.conname, c.contype::text, pg_get_constraintdef(c.oid)
		FROM pg_constraint c WHERE c.conrelid = ANY($1::regclass[]) AND c.contype IN ('u', 'f') ORDER BY c.contype DESC, c.conname`, bulkTables)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var table, name, kind, def string
		if err := rows.Scan(&table, &name, &kind, &def); err != nil {
			rows.Close()
			return nil, err
		}
		d := ddl{name, fmt.Sprintf(`ALTER TABLE %s ADD CONSTRAINT %s %s`, table, name, def)}
		if kind == "f" {
			fks = append(fks, d)
		} else {
			uniq = append(uniq, d)
		}
		drops = append(drops, fmt.Sprintf(`ALTER TABLE %s DROP CONSTRAINT %s`, table, name))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = conn.Query(ctx, `SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i
		WHERE i.indrelid = ANY($1::regclass[]) AND NOT i.indisprimary
		AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY 1`, bulkTables)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			rows.Close()
			return nil, err
		}
		idx = append(idx, ddl{name, def})
		drops = append(drops, `DROP INDEX `+name)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, q := range drops {
		if _, err := conn.Exec(ctx, q); err != nil {
			return nil, fmt.Errorf("scale: %s: %w", q, err)
		}
	}
	return append(append(idx, uniq...), fks...), nil
}

// chunkOut is one chunk of generated rows, or the error that stopped it.
type chunkOut struct {
	rows *rows
	err  error
}

// stream plans the cases in time order, builds them on opt.Workers
// goroutines and copies the chunks in order on conn.
func (g *gen) stream(ctx context.Context, conn *pgx.Conn, opt Options, res *Result, logf func(string, ...any)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	p := newPlanner(g.tree, len(g.cats), g.now, opt.Years, opt.Cases, opt.Seed)
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
	last := time.Now()
	for out := range ordered {
		c := <-out
		if c.err != nil {
			return c.err
		}
		if err := copyChunk(ctx, conn, c.rows); err != nil {
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
	// The per-center, per-day counters that numbered the cases.
	var crow [][]any
	for k, v := range p.counters {
		crow = append(crow, []any{k, v})
	}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"counters"}, []string{"name", "value"}, pgx.CopyFromRows(crow)); err != nil {
		return fmt.Errorf("scale: copy counters: %w", err)
	}
	return nil
}

var (
	caseCols = []string{"district_code", "street_code", "community_code", "id", "number", "version", "state", "source", "category", "board",
		"severity", "grid_code", "region_path", "center_path", "lng", "lat", "reporter_account", "reported_at", "updated_at", "closed_at",
		"due_at", "was_overdue", "body", "client_ref", "doc"}
	stepCols  = []string{"id", "case_id", "seq", "at", "action", "doc"}
	unitCols  = []string{"case_id", "unit_id", "role", "state"}
	clockCols = []string{"case_id", "key", "due_at", "yellow_at", "escalate_at", "yellow_fired", "red_fired", "escalated", "next_at"}
)

// copyChunk copies one chunk's rows in one transaction, parents first.
func copyChunk(ctx context.Context, conn *pgx.Conn, r *rows) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background())
	for _, t := range []struct {
		name string
		cols []string
		rows [][]any
	}{{"cases", caseCols, r.cases}, {"steps", stepCols, r.steps}, {"case_units", unitCols, r.units}, {"clocks", clockCols, r.clocks}} {
		if len(t.rows) == 0 {
			continue
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{t.name}, t.cols, pgx.CopyFromRows(t.rows)); err != nil {
			return fmt.Errorf("scale: copy %s: %w", t.name, err)
		}
	}
	return tx.Commit(ctx)
}

// Summary formats a result for the command line.
func (r Result) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "regions %d (grids %d)\n", r.Regions, r.Grids)
	fmt.Fprintf(&b, "cases %d (open %d, of which overdue %d; closed %d)\n", r.Cases, r.Open, r.Overdue, r.Closed)
	fmt.Fprintf(&b, "whistles %d (%.2f%% of cases), merged cases %d (%.2f%%)\n", r.Whistles, 100*float64(r.Whistles)/max(1, float64(r.Cases)),
		r.Merged, 100*float64(r.Merged)/max(1, float64(r.Cases)))
	fmt.Fprintf(&b, "steps %d (%.1f per case), case units %d, clocks %d\n", r.Steps, float64(r.Steps)/max(1, float64(r.Cases)), r.Units, r.Clocks)
	fmt.Fprintf(&b, "time: setup %s, cases %s (%s cases/s), indexes %s, vacuum analyze %s, total %s\n", r.Setup.Round(time.Second),
		r.CaseLoad.Round(time.Second), strconv.Itoa(int(float64(r.Cases)/max(0.001, r.CaseLoad.Seconds()))), r.Indexes.Round(time.Second),
		r.Analyze.Round(time.Second), r.All.Round(time.Second))
	fmt.Fprintf(&b, "database size %.2f GB\n", float64(r.DBSize)/(1<<30))
	return b.String()
}
