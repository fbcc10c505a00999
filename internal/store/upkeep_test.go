package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/id"
)

// TestStatisticsUpkeep: SQLite's writer refreshes the planner's statistics
// after AnalyzeEvery committed writes, not before, and makes the readers
// reload them (the schema version moves on); with a negative AnalyzeEvery
// it never does. On PostgreSQL the case tables carry autovacuum thresholds
// in rows (migration 28), the writer vacuums and analyzes them after
// AnalyzeEvery writes, and the upkeep state is read from PostgreSQL.
func TestStatisticsUpkeep(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		if engineOf(t) == Postgres {
			db := openTestDB(t)
			for _, table := range []string{"cases", "case_units", "case_people"} {
				var opts string
				if err := db.read.QueryRowContext(ctx, `SELECT array_to_string(reloptions, ',') FROM pg_class WHERE oid = $1::regclass`, table).Scan(&opts); err != nil {
					t.Fatal(err)
				}
				for _, want := range []string{"autovacuum_analyze_threshold=5000", "autovacuum_analyze_scale_factor=0.002", "autovacuum_vacuum_insert_threshold=10000"} {
					if !strings.Contains(opts, want) {
						t.Errorf("%s: reloptions %q lack %s", table, opts, want)
					}
				}
			}
			// Autovacuum may be off (it is on the CI server): the node's
			// writer analyzes the case tables after AnalyzeEvery writes.
			every, err := Open(ctx, testDSN(t), Options{AnalyzeEvery: 5})
			if err != nil {
				t.Fatal(err)
			}
			defer every.Close()
			if u, err := every.StatisticsUpkeep(ctx); err != nil || !u.Analyzed.IsZero() {
				t.Fatalf("fresh database: %+v %v, want never analyzed", u, err)
			}
			for i := range 5 {
				insert(t, every, newCase(fmt.Sprintf("01PG%02d", i)))
			}
			deadline := time.Now().Add(time.Minute)
			for {
				u, err := every.StatisticsUpkeep(ctx)
				if err != nil {
					t.Fatal(err)
				}
				// The upkeep is a vacuum with the analyze (the
				// visibility map of the new rows, for the index-only
				// listings).
				if !u.Analyzed.IsZero() && !u.Vacuumed.IsZero() && every.batch.analyzeRuns.Load() == 1 && !every.batch.analyzing.Load() {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no vacuum and analyze after 5 writes: %+v", u)
				}
				time.Sleep(50 * time.Millisecond)
			}
			// Its own analyze does not count as another's: five more
			// writes, a second analyze. (Writes counted while one runs
			// start the next after it: upkeep keeps them.)
			for i := range 5 {
				insert(t, every, newCase(fmt.Sprintf("01PH%02d", i)))
			}
			for every.batch.analyzeRuns.Load() < 2 {
				if time.Now().After(deadline) {
					t.Fatalf("one analyze after 10 writes, want 2")
				}
				time.Sleep(50 * time.Millisecond)
			}
			return
		}
		open := func(every int) *DB {
			db, err := Open(ctx, filepath.Join(t.TempDir(), "z.db"), Options{AnalyzeEvery: every})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		}
		streetRows := func(db *DB) string {
			var stat string
			db.read.QueryRowContext(ctx, `SELECT stat FROM sqlite_stat1 WHERE idx = 'cases_street'`).Scan(&stat)
			return stat
		}
		schemaVersion := func(db *DB) int {
			var v int
			if err := db.read.QueryRowContext(ctx, `PRAGMA schema_version`).Scan(&v); err != nil {
				t.Fatal(err)
			}
			return v
		}
		write := func(db *DB, from, n int) {
			for i := from; i < from+n; i++ {
				insert(t, db, newCase(fmt.Sprintf("01C%04d", i)))
			}
		}

		db := open(20)
		v0 := schemaVersion(db)
		write(db, 0, 19)
		if u, _ := db.StatisticsUpkeep(ctx); u.Runs != 0 || !u.Analyzed.IsZero() || u.Pending != 19 {
			t.Fatalf("after 19 writes: %+v, want no refresh and 19 pending", u)
		}
		// The 20th write reaches the threshold; the writer refreshes after
		// its batch, before it takes the next job (the 21st write).
		write(db, 19, 2)
		u, err := db.StatisticsUpkeep(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if u.Runs != 1 || u.Analyzed.IsZero() || u.Pending != 1 {
			t.Fatalf("after 21 writes: %+v, want one refresh and 1 pending", u)
		}
		if stat := streetRows(db); !strings.HasPrefix(stat, "20 ") {
			t.Errorf("cases_street statistics %q, want 20 rows", stat)
		}
		if v := schemaVersion(db); v <= v0 {
			t.Errorf("schema version %d after the refresh, was %d: readers keep the old statistics", v, v0)
		}
		write(db, 21, 20)
		if u, _ := db.StatisticsUpkeep(ctx); u.Runs != 2 || u.Pending != 1 {
			t.Errorf("after 41 writes: %+v, want 2 refreshes and 1 pending", u)
		}

		off := open(-1)
		write(off, 0, 30)
		if u, _ := off.StatisticsUpkeep(ctx); u.Runs != 0 || u.Pending != 0 {
			t.Errorf("upkeep off: %+v, want nothing", u)
		}
		if stat := streetRows(off); strings.HasPrefix(stat, "30 ") || strings.HasPrefix(stat, "29 ") {
			t.Errorf("upkeep off: cases_street statistics %q refreshed", stat)
		}
	})
}

// TestRecentWindow: a listing of cases reported since a time is first
// looked for among the listing's newest cases (SQLite); the answer is the
// same whether the window fills the page, holds the whole listing, or
// neither (then the planner's query runs), even where ID order and report
// times disagree.
func TestRecentWindow(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		db := openTestDB(t)
		recent := map[int]bool{8: true, 7: true, 5: true}
		var cs []*cases.Case
		for i := range 10 {
			cs = append(cs, newCase(fmt.Sprintf("C%02d", i), func(c *cases.Case) {
				c.ReportedAt = t0.Add(-10 * 24 * time.Hour)
				if recent[i] {
					c.ReportedAt = t0
				}
			}))
		}
		insert(t, db, cs...)
		defer func(n int) { recentWindowRows = n }(recentWindowRows)
		scope := ScopeOf(cases.Actor{Role: cases.RoleCommander, AccountID: "acct-c", RegionPath: streetPath})
		for _, tc := range []struct {
			window, limit int
			want          string
		}{
			{3, 2, "C08 C07"},      // the window fills the page
			{3, 3, "C08 C07 C05"},  // it does not: the planner's query
			{20, 5, "C08 C07 C05"}, // the window holds the whole listing
		} {
			recentWindowRows = tc.window
			got, err := db.Cases(context.Background(), CaseFilter{Scope: scope, From: t0.Add(-24 * time.Hour), Limit: tc.limit})
			if err != nil {
				t.Fatal(err)
			}
			if s := strings.Join(ids(got), " "); s != tc.want {
				t.Errorf("window %d, limit %d: %s, want %s", tc.window, tc.limit, s, tc.want)
			}
		}
	})
}

// TestReportedSince: a listing of cases reported since a time is the same
// on both engines whatever the bound's position among the IDs (PostgreSQL
// also bounds the ID, reportedSinceID): cases whose IDs are made from their
// report times, as the service makes them, several in one millisecond, at
// the bound's millisecond and the one before, in two streets, with the
// text window, pages and counts; and rows whose IDs are not made so (the
// report time alone decides for them).
func TestReportedSince(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		from := t0.Add(-3*24*time.Hour + 123456789*time.Nanosecond) // not on a millisecond
		var g id.Generator
		var all []*cases.Case
		add := func(cid string, at time.Time, street int, desc string) {
			all = append(all, newCase(cid, func(c *cases.Case) {
				c.ReportedAt, c.UpdatedAt, c.Description = at, at, desc
				if street == 1 {
					c.RegionPath, c.CenterPath, c.GridCode = siblingGrid, siblingStreet, "500103002001001"
				}
			}))
		}
		times := []time.Time{from.Add(-24 * time.Hour), from.Truncate(time.Millisecond).Add(-time.Millisecond),
			from.Truncate(time.Millisecond), from, from.Add(time.Millisecond), from.Add(time.Hour), t0}
		for i := range 60 {
			at := times[i%len(times)]
			if i >= 3*len(times) {
				at = from.Add(time.Duration(i) * time.Minute)
			}
			desc := "路面出现坑洼"
			if i%3 == 0 {
				desc = "井盖缺失"
			}
			add(g.At(at), at, i%2, desc)
		}
		// Not made from the report time: the report time decides.
		add("ZOLD", from.Add(-time.Hour), 0, "井盖缺失")
		add("ZNEW", from.Add(time.Hour), 0, "井盖缺失")
		insert(t, db, all...)
		sorted := slices.Clone(all)
		slices.SortFunc(sorted, func(a, b *cases.Case) int { return strings.Compare(b.ID, a.ID) })
		oracle := func(f CaseFilter, path string) (out []string, n int) {
			for _, c := range sorted {
				if !strings.HasPrefix(c.RegionPath, path) || c.ReportedAt.UnixMilli() < f.From.UnixMilli() ||
					(f.Text != "" && !strings.Contains(c.Description, f.Text)) {
					continue
				}
				n++
				if (f.After == "" || c.ID < f.After) && len(out) < f.Limit {
					out = append(out, c.ID)
				}
			}
			return out, n
		}
		saved := textWindowRows
		defer func() { textWindowRows = saved }()
		for _, window := range []int{4000, 5} {
			textWindowRows = window
			for _, path := range []string{districtPath, streetPath, siblingStreet} {
				for _, text := range []string{"", "井盖"} {
					for _, since := range []time.Time{from, from.Add(-time.Millisecond), from.Add(time.Millisecond), from.Add(-48 * time.Hour)} {
						f := CaseFilter{Scope: ScopeOf(cases.Actor{Role: cases.RoleCommander, RegionPath: path}), From: since, Text: text, Limit: 4}
						_, wantN := oracle(f, path)
						if n, err := db.CountCases(ctx, f); err != nil || n != wantN {
							t.Errorf("%s %q since %v: count %d %v, want %d", path, text, since, n, err, wantN)
						}
						for page := 0; page < 30; page++ {
							got, err := db.Cases(ctx, f)
							if err != nil {
								t.Fatal(err)
							}
							want, _ := oracle(f, path)
							if !slices.Equal(ids(got), want) {
								t.Fatalf("window %d, %s %q since %v after %q: got %v, want %v", window, path, text, since, f.After, ids(got), want)
							}
							if len(got) < f.Limit {
								break
							}
							f.After = got[len(got)-1].ID
						}
					}
				}
			}
		}
	})
}

// TestLevelOverdue: a district commander's overdue cases come, on SQLite,
// from the open cases' due-time index (cases_overdue), newest first, and
// only the district's; a street commander's from the street's index walked
// newest first, and only the street's. (On a file this small the planner
// walks the street's index by itself; at 1 M cases its value statistics
// led it, for the streets with the most overdue cases, to a skip-scan of
// the category index: docs/benchmarks-journal.md 2c. The hint is checked here.)
func TestLevelOverdue(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		var cs []*cases.Case
		for i := range 7 {
			cs = append(cs, newCase(fmt.Sprintf("D%02d", i), func(c *cases.Case) {
				c.Clock.Due = t0.Add(time.Duration(i-3) * time.Hour) // D00–D02 overdue at t0
				switch i {
				case 1: // another district
					c.RegionPath, c.CenterPath, c.GridCode = "/500000/500104/500104001/", "/500000/500104/", ""
				case 6: // overdue, in the district's other street
					c.Clock.Due = t0.Add(-5 * time.Hour)
					c.RegionPath, c.GridCode = siblingGrid, "500103002001001"
				}
			}))
		}
		insert(t, db, cs...)
		yes := true
		for _, tc := range []struct{ name, path, want, index string }{
			{"district", districtPath, "D06 D02 D00", "cases_overdue"},
			{"street", streetPath, "D02 D00", "cases_street"},
		} {
			f := CaseFilter{Scope: ScopeOf(cases.Actor{Role: cases.RoleCommander, AccountID: "acct-d", RegionPath: tc.path}), Overdue: &yes, Now: t0}
			got, err := db.Cases(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if s := strings.Join(ids(got), " "); s != tc.want {
				t.Errorf("%s overdue: %s, want %s", tc.name, s, tc.want)
			}
			if db.Dialect == SQLite {
				plan := explainCases(t, db, f)
				if !strings.Contains(plan, tc.index) {
					t.Errorf("%s: plan does not use %s:\n%s", tc.name, tc.index, plan)
				}
			}
		}
	})
}

// TestStreetPlans: on SQLite a street's center queue (reported or accepted
// cases) is read from cases_queue and its text listings from cases_street
// alone (migration 40); the answers are the street's, in ID order, on both
// engines, and a case leaves the queue when it is dispatched.
func TestStreetPlans(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		states := []cases.State{cases.Reported, cases.Accepted, cases.Dispatched, cases.Reported, cases.Closed, cases.Reported}
		var cs []*cases.Case
		for i, st := range states {
			cs = append(cs, newCase(fmt.Sprintf("Q%02d", i), func(c *cases.Case) {
				c.State = st
				c.Description = "人行道井盖缺失"
				if i == 5 { // the district's other street
					c.RegionPath, c.GridCode = siblingGrid, "500103002001001"
				}
			}))
		}
		insert(t, db, cs...)
		street := ScopeOf(cases.Actor{Role: cases.RoleCommander, AccountID: "acct-s", RegionPath: streetPath})
		check := func(name string, f CaseFilter, want, index string) {
			t.Helper()
			got, err := db.Cases(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if s := strings.Join(ids(got), " "); s != want {
				t.Errorf("%s: %s, want %s", name, s, want)
			}
			if db.Dialect == SQLite && index != "" {
				plan := explainCases(t, db, f)
				if !strings.Contains(plan, index) {
					t.Errorf("%s: plan does not use %s:\n%s", name, index, plan)
				}
			}
		}
		check("reported", CaseFilter{Scope: street, States: []cases.State{cases.Reported}}, "Q03 Q00", "cases_queue")
		check("queue", CaseFilter{Scope: street, States: []cases.State{cases.Reported, cases.Accepted}}, "Q03 Q01 Q00", "cases_queue")
		check("dispatched", CaseFilter{Scope: street, States: []cases.State{cases.Reported, cases.Dispatched}}, "Q03 Q02 Q00", "")
		check("text", CaseFilter{Scope: street, Text: "井盖"}, "Q04 Q03 Q02 Q01 Q00", "COVERING INDEX cases_street")
		// Q00 is dispatched: it leaves the queue.
		n := *cs[0]
		n.Version, n.State = 2, cases.Dispatched
		if err := db.Write(ctx, func(tx *Tx) error { return tx.UpdateCase(ctx, was(1), &n, stepOf(&n, cases.ActDispatch), ClockRule{}) }); err != nil {
			t.Fatal(err)
		}
		check("reported after a dispatch", CaseFilter{Scope: street, States: []cases.State{cases.Reported}}, "Q03", "cases_queue")
	})
}

// TestCountOverdueIndex: the board's overdue count of a region counts the
// open, not held cases of the region past due, not the closed, held, not yet
// due or other regions' ones; on SQLite it reads cases_open_overdue alone
// (migration 31: no table row looked up), and cases_open_due is gone.
func TestCountOverdueIndex(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		var cs []*cases.Case
		for i := range 8 {
			cs = append(cs, newCase(fmt.Sprintf("O%02d", i), func(c *cases.Case) {
				c.Clock.Due = t0.Add(-time.Hour) // past due at t0, but:
				switch i {
				case 1: // another district
					c.RegionPath, c.CenterPath, c.GridCode = "/500000/500104/500104001/", "/500000/500104/", ""
				case 2: // closed
					c.State, c.ClosedAt = cases.Closed, t0.Add(-2*time.Hour)
				case 3: // held
					c.State = cases.Held
				case 4: // not yet due
					c.Clock.Due = t0.Add(time.Hour)
				}
			}))
		}
		insert(t, db, cs...)
		district := Scope{RegionPath: districtPath}
		for _, tc := range []struct {
			s    Scope
			want int
		}{{district, 4}, {Scope{RegionPath: "/500000/"}, 5}, {Scope{RegionPath: "/500000/500104/"}, 1}, {Scope{RegionPath: "/500000/500105/"}, 0}} {
			n, err := db.CountOverdue(ctx, tc.s, t0)
			if err != nil {
				t.Fatal(err)
			}
			if n != tc.want {
				t.Errorf("%s: %d overdue, want %d", tc.s.RegionPath, n, tc.want)
			}
		}
		if db.Dialect != SQLite {
			return
		}
		open, overdue := true, true
		q, args, _ := db.countQuery(CaseFilter{Scope: district, Open: &open, Overdue: &overdue, Now: t0}, 0)
		plan := strings.Join(sqlitePlan(t, db.read, q, args...), "\n")
		if !strings.Contains(plan, "COVERING INDEX cases_open_overdue") {
			t.Errorf("the overdue count does not read cases_open_overdue alone:\n%s", plan)
		}
		var n int
		if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE name = 'cases_open_due'`).Scan(&n); err != nil || n != 0 {
			t.Errorf("cases_open_due still there (%d, %v)", n, err)
		}
	})
}

// TestFTSStatistics: the full-text index's own tables carry no planner
// statistics, so FTS5's removal of a merged segment seeks its rows instead
// of scanning the table (issue 19). A new file has none after Open (an
// earlier build's optimize recorded "2 rows" for case_fts_data), a file
// from an earlier build has its records deleted at the next Open, and the
// writer plans with the change at once.
func TestFTSStatistics(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "z.db")
	const removal = `DELETE FROM case_fts_data WHERE id >= 1 AND id <= 9`
	// writerPlan is the writer's plan for FTS5's removal of a segment.
	writerPlan := func(db *DB) string {
		// A statement that reads the file first: EXPLAIN alone does not
		// look at the schema version, running statements do.
		if _, err := db.write.ExecContext(ctx, `SELECT count(*) FROM sqlite_schema`); err != nil {
			t.Fatal(err)
		}
		return strings.Join(sqlitePlan(t, db.write, removal), "; ")
	}
	records := func(db *DB) int {
		var n int
		if err := db.write.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_stat1 WHERE tbl LIKE 'case_fts%'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// plant writes the record an earlier build's Open left, from another
	// connection, as that build would have.
	plant := func() {
		raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		for _, q := range []string{`INSERT INTO sqlite_stat1 VALUES ('case_fts_data', NULL, '2')`, `CREATE TABLE planted (a)`, `DROP TABLE planted`} {
			if _, err := raw.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
	}
	const seek = "SEARCH case_fts_data USING INTEGER PRIMARY KEY"

	db, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n := records(db); n != 0 {
		t.Errorf("new file: %d statistics records of the full-text tables, want none", n)
	}
	if plan := writerPlan(db); !strings.Contains(plan, seek) {
		t.Errorf("new file: the writer removes a segment by %q, want %q", plan, seek)
	}
	for i := range 3 {
		insert(t, db, newCase(fmt.Sprintf("01F%04d", i)))
	}
	// The record an earlier build left makes the writer scan: the check
	// above can fail.
	plant()
	if plan := writerPlan(db); !strings.Contains(plan, "SCAN case_fts_data") {
		t.Fatalf("with \"2 rows\" on record the writer plans %q, want a scan (is the record read?)", plan)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n := records(db); n != 0 {
		t.Errorf("reopened: %d statistics records of the full-text tables, want none", n)
	}
	if plan := writerPlan(db); !strings.Contains(plan, seek) {
		t.Errorf("reopened: the writer removes a segment by %q, want %q", plan, seek)
	}
	// While it runs: the record is dropped and the writer plans anew.
	plant()
	if err := dropFTSStatistics(ctx, path); err != nil {
		t.Fatal(err)
	}
	if plan := writerPlan(db); !strings.Contains(plan, seek) {
		t.Errorf("after the drop the writer removes a segment by %q, want %q", plan, seek)
	}
	if err := dropFTSStatistics(ctx, path); err != nil {
		t.Errorf("nothing to drop: %v", err)
	}
}

// TestStatisticsOtherTables: a table small when the file was opened (its
// record taken by the optimize at Open) is analyzed again by the writer's
// refresh once it has grown about tenfold, and neither the optimize at Open
// nor the refresh analyzes the full-text index's tables.
func TestStatisticsOtherTables(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "z.db")
	stepsRows := func(db *DB) int {
		var stat string
		if err := db.write.QueryRowContext(ctx, `SELECT stat FROM sqlite_stat1 WHERE idx = 'sqlite_autoindex_steps_2'`).Scan(&stat); err != nil {
			t.Fatalf("steps' record: %v", err)
		}
		var n int
		fmt.Sscan(stat, &n)
		return n
	}
	db, err := Open(ctx, path, Options{AnalyzeEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		insert(t, db, newCase(fmt.Sprintf("01S%04d", i)))
	}
	db.Close()
	db, err = Open(ctx, path, Options{AnalyzeEvery: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n := stepsRows(db); n != 10 {
		t.Fatalf("steps on record at Open: %d rows, want 10", n)
	}
	for i := 10; i < 311; i++ { // the 301st starts after the third refresh
		insert(t, db, newCase(fmt.Sprintf("01S%04d", i)))
	}
	if u, _ := db.StatisticsUpkeep(ctx); u.Runs != 3 {
		t.Fatalf("%d refreshes after 301 writes, want 3", u.Runs)
	}
	if n := stepsRows(db); n < 100 {
		t.Errorf("steps on record after the refreshes: %d rows, want its size (≥ 100)", n)
	}
	var fts int
	if err := db.write.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_stat1 WHERE tbl LIKE 'case_fts%'`).Scan(&fts); err != nil {
		t.Fatal(err)
	}
	if fts != 0 {
		t.Errorf("%d records of the full-text tables after the refreshes, want none", fts)
	}
}

// TestLeadStatistics: after the writer's sampled ANALYZE, the cases
// indexes whose leading column holds few values record how many rows a
// value has, counted (correctLeadStatistics), not the about a thousand a
// sample of a thousand entries gives them: a file of one district records
// the district's every case under its one value, a street's third of them
// under each. A file whose statistics an earlier build sampled is corrected
// at Open.
func TestLeadStatistics(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "lead.db")
	db, err := Open(ctx, path, Options{AnalyzeEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	const n = 4500
	streets := []string{streetPath + "500103001001/500103001001001/", siblingGrid, "/500000/500103/500103003/500103003001/500103003001001/"}
	var cs []*cases.Case
	for i := range n {
		cs = append(cs, newCase(fmt.Sprintf("01LS%05d", i), func(c *cases.Case) {
			c.RegionPath = streets[i%len(streets)]
			c.GridCode = strings.Split(strings.Trim(c.RegionPath, "/"), "/")[4]
			c.Reporter.AccountID = fmt.Sprintf("acct-%d", i%2)
		}))
	}
	for len(cs) > 0 {
		k := min(500, len(cs))
		insert(t, db, cs[:k]...)
		cs = cs[k:]
	}
	stat := func(db *DB, idx string) []string {
		t.Helper()
		var s string
		if err := db.write.QueryRowContext(ctx, `SELECT stat FROM sqlite_stat1 WHERE tbl = 'cases' AND idx = $1`, idx).Scan(&s); err != nil {
			t.Fatalf("%s: %v", idx, err)
		}
		return strings.Fields(s)
	}
	want := map[string]string{"cases_district": "4500", "cases_street": "1500", "cases_grid": "1500", "cases_reporter": "2250"}
	check := func(db *DB, when string) {
		t.Helper()
		for idx, per := range want {
			if f := stat(db, idx); len(f) < 2 || f[0] != "4500" || f[1] != per {
				t.Errorf("%s: %s records %v, want %s rows of %s a value", when, idx, f, "4500", per)
			}
		}
	}
	if err := db.refreshStatistics(ctx); err != nil {
		t.Fatal(err)
	}
	check(db, "after the writer's ANALYZE")
	// As an earlier build's sampled ANALYZE left them.
	if _, err := db.write.ExecContext(ctx, `PRAGMA analysis_limit=1000; ANALYZE cases`); err != nil {
		t.Fatal(err)
	}
	if f := stat(db, "cases_district"); f[1] == "4500" {
		t.Fatalf("the sampled ANALYZE recorded %v: the test shows nothing", f)
	}
	db.Close()
	again, err := Open(ctx, path, Options{AnalyzeEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	check(again, "at Open")
}

// TestSincePlanSampled: with the statistics a node's sampled ANALYZE leaves
// on a one-district file of a million cases (row counts per value, no
// samples of the report times), a street's or a grid's cases since a time,
// or of a period, are counted from its level index over the IDs since the
// start (reportedSinceID), not over its whole history nor through the
// district's period; a district's period, counted or on its dashboard
// (every table in one statement, statsSQL), is read from the district's
// period index alone (migration 43), not case by case from the table.
func TestSincePlanSampled(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "z.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	insert(t, db, newCase("P01"), newCase("P02", func(c *cases.Case) {
		c.RegionPath, c.CenterPath, c.GridCode = siblingGrid, siblingStreet, "500103002001001"
	}))
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	stats := map[string]string{
		"cases_district": "1000000 1000000 1 1", "cases_street": "1000000 71429 1 1 1 1 1",
		"cases_community": "1000000 7043 1", "cases_grid": "1000000 1343 1", "cases_reported": "1000000 1",
		"cases_updated": "1000000 1", "sqlite_autoindex_cases_1": "1000000 1",
		"cases_district_period": "1000000 1000000 1 1 1 1 1 1 1 1",
	}
	for _, q := range []string{`ANALYZE cases`, `DELETE FROM sqlite_stat1 WHERE tbl = 'cases'`} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	for idx, st := range stats {
		if _, err := tx.ExecContext(ctx, `INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('cases', ?, ?)`, idx, st); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM sqlite_stat4 WHERE tbl = 'cases'`); err != nil && !strings.Contains(err.Error(), "no such table") {
		t.Fatal(err)
	}
	if err := bumpSchemaVersion(ctx, tx); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	street, district := Scope{RegionPath: streetPath}, Scope{RegionPath: districtPath}
	week, month, end := t0.Add(-7*24*time.Hour), t0.Add(-30*24*time.Hour), t0.Add(time.Hour)
	for _, tc := range []struct {
		name string
		f    CaseFilter
		want string
		n    int
	}{
		{"a street's week", CaseFilter{Scope: street, From: week}, "INDEX cases_street (street_code=? AND id>?)", 1},
		{"a street's month on its dashboard", CaseFilter{Scope: street, From: month, To: end}, "INDEX cases_street (street_code=? AND id>?)", 1},
		{"a street of the district's dashboard", CaseFilter{Scope: district, RegionPath: streetPath, From: month, To: end}, "INDEX cases_street (street_code=? AND id>?)", 1},
		{"a grid's month", CaseFilter{Scope: street, RegionPath: gridPath, From: month, To: end}, "INDEX cases_grid (grid_code=? AND id>?)", 1},
		{"a street's month of one grid", CaseFilter{Scope: street, Grid: gridCode, From: month, To: end}, "INDEX cases_grid (grid_code=?", 1},
		{"a district's week", CaseFilter{Scope: district, From: week}, "COVERING INDEX cases_district_period (district_code=? AND reported_at>?)", 2},
		{"a district's month on its dashboard", CaseFilter{Scope: district, From: month, To: end}, "COVERING INDEX cases_district_period (district_code=? AND reported_at>? AND reported_at<?)", 2},
	} {
		q, args, _ := db.countQuery(tc.f, 0)
		plan := strings.Join(sqlitePlan(t, db.read, q, args...), "\n")
		if !strings.Contains(plan, tc.want) {
			t.Errorf("%s: want %s, plan:\n%s", tc.name, tc.want, plan)
		}
		n, err := db.CountCases(ctx, tc.f)
		if err != nil || n != tc.n {
			t.Errorf("%s: %d cases, %v; want %d", tc.name, n, err, tc.n)
		}
	}
	// The dashboard of a district's month and of a year, filtered by a
	// board and a category or not: every table from the index alone, its
	// cases summed as they are read (no sort for a GROUP BY).
	for name, f := range map[string]CaseFilter{
		"a month":                    {Scope: district, From: month, To: end},
		"a year, a board's category": {Scope: district, From: t0.Add(-365 * 24 * time.Hour), To: end, Board: string(cases.BoardServices), Category: "road.pothole"},
	} {
		q, args, _, err := db.statsSQL(ctx, StatsQuery{Filter: f, Offset: 8 * time.Hour}, []StatsDim{ByTotal, ByBoard, ByCategory, ByStreet, ByDay}, false)
		if err != nil {
			t.Fatal(err)
		}
		plan := strings.Join(sqlitePlan(t, db.read, q, args...), "\n")
		if want := "COVERING INDEX cases_district_period (district_code=? AND reported_at>? AND reported_at<?)"; !strings.Contains(plan, want) || strings.Contains(plan, "TEMP B-TREE") {
			t.Errorf("a district's dashboard, %s: want %s and no sort, plan:\n%s", name, want, plan)
		}
	}
}
