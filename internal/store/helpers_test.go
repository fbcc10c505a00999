package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/geo"
	"zhizhi/internal/sla"
)

// pgEnv names the environment variable holding a PostgreSQL DSN; when it is
// set every test also runs on PostgreSQL, each in a fresh schema.
const pgEnv = "ZHIZHI_TEST_POSTGRES"

// forEachEngine runs fn as the subtests "sqlite" and "postgres" (the latter
// skipped unless ZHIZHI_TEST_POSTGRES is set). Inside fn, openTestDB opens a
// fresh database of the subtest's engine.
func forEachEngine(t *testing.T, fn func(t *testing.T)) {
	t.Helper()
	for _, e := range []Dialect{SQLite, Postgres} {
		t.Run(string(e), func(t *testing.T) {
			if e == Postgres && os.Getenv(pgEnv) == "" {
				t.Skip(pgEnv + " not set")
			}
			fn(t)
		})
	}
}

// engineOf reads the engine from the enclosing forEachEngine subtest name.
func engineOf(t testing.TB) Dialect {
	for _, part := range strings.Split(t.Name(), "/") {
		if part == string(Postgres) {
			return Postgres
		}
	}
	return SQLite
}

// openTestDB opens a fresh, migrated database of the current subtest's engine
// (a temp SQLite file, or a new PostgreSQL schema) and closes and drops it at
// cleanup.
func openTestDB(t *testing.T) *DB {
	t.Helper()
	return mustOpen(t, testDSN(t))
}

// testDSN creates an empty database of the current engine and returns its DSN.
func testDSN(t testing.TB) string {
	t.Helper()
	if engineOf(t) == SQLite {
		return filepath.Join(t.TempDir(), "zhizhi.db")
	}
	base := os.Getenv(pgEnv)
	admin := adminPG(t, base)
	var rnd [6]byte
	rand.Read(rnd[:])
	schema := "t_" + hex.EncodeToString(rnd[:])
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	// public stays on the path for the shared pg_trgm extension.
	return base + sep + "search_path=" + schema + ",public"
}

var (
	pgOnce  sync.Once
	pgAdmin *sql.DB
	pgErr   error
)

// adminPG returns a shared connection to the test server, with pg_trgm
// installed once in public so that concurrent migrations in fresh schemas
// find it.
func adminPG(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	pgOnce.Do(func() {
		pgAdmin, pgErr = sql.Open("pgx", dsn)
		if pgErr == nil {
			_, pgErr = pgAdmin.Exec(`CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public`)
		}
	})
	if pgErr != nil {
		t.Fatalf("postgres: %v", pgErr)
	}
	return pgAdmin
}

func mustOpen(t *testing.T, dsn string) *DB {
	t.Helper()
	db, err := Open(context.Background(), dsn, Options{})
	if err != nil {
		t.Fatalf("open %s: %v", dsn, err)
	}
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { db.Close() }) })
	return db
}

// The region tree used in the tests.
const (
	cityPath      = "/500000/"
	districtPath  = "/500000/500103/"
	streetPath    = "/500000/500103/500103001/"
	communityPath = streetPath + "500103001001/"
	gridPath      = communityPath + "500103001001001/"
	gridCode      = "500103001001001"
	siblingStreet = "/500000/500103/500103002/"
	siblingGrid   = siblingStreet + "500103002001/500103002001001/"
)

var (
	sh = time.FixedZone("CST", 8*3600)
	t0 = time.Date(2026, time.March, 9, 9, 0, 0, 0, sh)
)

// newCase builds a reported case with a running accept clock (due t0+2h,
// yellow at t0+90m) and applies mods.
func newCase(id string, mods ...func(*cases.Case)) *cases.Case {
	c := &cases.Case{
		ID:          id,
		Number:      "ZZ" + id,
		Version:     1,
		Source:      cases.SourcePatrol,
		Reporter:    cases.Reporter{AccountID: "acct-gw", Name: "网格员张三", Phone: "13800000000"},
		Point:       &geo.Point{Lng: 106.58, Lat: 29.56},
		Address:     "解放碑步行街",
		GridCode:    gridCode,
		RegionPath:  gridPath,
		CenterPath:  streetPath,
		Category:    "road.pothole",
		Board:       string(cases.BoardServices),
		Severity:    sla.Normal,
		Description: "路面出现坑洼",
		State:       cases.Reported,
		Stage:       cases.StageAccept,
		Clock:       sla.Clock{Start: t0, Due: t0.Add(2 * time.Hour), YellowAt: t0.Add(90 * time.Minute)},
		ReportedAt:  t0,
		UpdatedAt:   t0,
	}
	for _, m := range mods {
		m(c)
	}
	return c
}

func stepOf(c *cases.Case, action cases.Action) *cases.Step {
	return &cases.Step{
		ID: fmt.Sprintf("%s-%d", c.ID, c.Version), CaseID: c.ID, Seq: c.Version, At: c.UpdatedAt,
		ActorName: "测试", Role: cases.RoleSystem, Action: action, To: c.State,
	}
}

func insert(t *testing.T, db *DB, cs ...*cases.Case) {
	t.Helper()
	err := db.Write(context.Background(), func(tx *Tx) error {
		for _, c := range cs {
			if err := tx.InsertCase(context.Background(), c, stepOf(c, cases.ActReport), ClockRule{EscalateAfter: time.Hour}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("insert: %v", err)
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func ids(cs []cases.Case) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

// was is the case a test's update starts from when only its version
// matters (the overdue gauge sees it as not red).
func was(version int) *cases.Case { return &cases.Case{Version: version} }

// explainCases is the statement and plan of a listing (DB.ExplainCases).
func explainCases(t testing.TB, db *DB, f CaseFilter) string {
	t.Helper()
	plan, err := db.ExplainCases(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

// sqlitePlan is SQLite's plan of q on conn (EXPLAIN QUERY PLAN), one line
// of detail a step.
func sqlitePlan(t testing.TB, conn *sql.DB, q string, args ...any) []string {
	t.Helper()
	rows, err := conn.QueryContext(context.Background(), `EXPLAIN QUERY PLAN `+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan
}

// placeApart places the ith case of a fixture, in turn, in the test grid,
// the sibling street's grid, the next district, or the test grid again.
func placeApart(i int, c *cases.Case) {
	switch i % 4 {
	case 1:
		c.RegionPath, c.GridCode = siblingGrid, "500103002001001"
	case 2:
		c.RegionPath, c.CenterPath, c.GridCode = "/500000/500104/500104001/", "/500000/500104/", ""
	}
}
