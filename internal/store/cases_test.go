package store

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/geo"
	"zhizhi/internal/sla"
)

func TestMigrateIdempotent(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		dsn := testDSN(t)
		db := mustOpen(t, dsn)
		insert(t, db, newCase("C1"))
		if err := db.Close(); err != nil {
			t.Fatalf("close: %v", err)
		}
		for range 2 {
			db = mustOpen(t, dsn)
			var n, v int
			if err := db.Raw().QueryRowContext(ctx, `SELECT COUNT(*), MAX(version) FROM schema_migrations`).Scan(&n, &v); err != nil {
				t.Fatal(err)
			}
			want := 0 // the slots with content; an empty one is reserved
			for _, m := range migrations[1 : Version()+1] {
				if !m.empty() {
					want++
				}
			}
			if n != want || v != Version() {
				t.Fatalf("schema_migrations: %d rows, max %d; want %d, max %d", n, v, want, Version())
			}
			if _, err := db.Case(ctx, "C1"); err != nil {
				t.Fatalf("case after reopen: %v", err)
			}
			db.Close()
		}
	})
}

func TestCaseRoundTrip(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		c := newCase("C1", func(c *cases.Case) {
			c.Answers = map[string]any{"depth": "深", "n": 2.0}
			c.Photos = []cases.Photo{{Hash: "ab", Type: "image/jpeg", Size: 10}}
		})
		insert(t, db, c)
		want := jsonOf(t, c)
		for _, key := range []string{"C1", "ZZC1"} {
			got, err := db.Case(ctx, key)
			if err != nil {
				t.Fatalf("Case(%s): %v", key, err)
			}
			if g := jsonOf(t, got); g != want {
				t.Fatalf("Case(%s)\n got %s\nwant %s", key, g, want)
			}
		}
		err := db.Write(ctx, func(tx *Tx) error {
			got, err := tx.Case(ctx, "C1")
			if err != nil {
				return err
			}
			if g := jsonOf(t, got); g != want {
				t.Errorf("Tx.Case\n got %s\nwant %s", g, want)
			}
			if _, err := tx.Case(ctx, "nope"); !errors.Is(err, ErrNotFound) {
				t.Errorf("Tx.Case(nope): %v", err)
			}
			n := *c
			n.Version, n.State, n.UpdatedAt = 2, cases.Accepted, t0.Add(time.Minute)
			if err := tx.UpdateCase(ctx, was(1), &n, stepOf(&n, cases.ActAccept), ClockRule{}); err != nil {
				return err
			}
			more := []cases.Step{*stepOf(&n, cases.ActUrge), *stepOf(&n, cases.ActUrge)}
			more[0].ID, more[0].Seq, more[1].ID, more[1].Seq = "C1-4", 4, "C1-3", 3
			return tx.InsertSteps(ctx, more)
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Case(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("missing case: %v", err)
		}
		steps, err := db.Steps(ctx, "C1")
		if err != nil {
			t.Fatal(err)
		}
		var seqs []int
		for _, s := range steps {
			seqs = append(seqs, s.Seq)
		}
		if !slices.Equal(seqs, []int{1, 2, 3, 4}) || steps[0].Action != cases.ActReport || steps[1].Action != cases.ActAccept || steps[1].To != cases.Accepted {
			t.Fatalf("steps %+v", steps)
		}
		if jsonOf(t, steps[0]) != jsonOf(t, stepOf(c, cases.ActReport)) {
			t.Fatalf("step 1 %s", jsonOf(t, steps[0]))
		}
	})
}

func TestUpdateConflict(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		c := newCase("C1")
		insert(t, db, c)
		v2 := *c
		v2.Version, v2.State, v2.Severity = 2, cases.Accepted, sla.Urgent
		if err := db.Write(ctx, func(tx *Tx) error {
			return tx.UpdateCase(ctx, was(1), &v2, stepOf(&v2, cases.ActAccept), ClockRule{})
		}); err != nil {
			t.Fatal(err)
		}
		stale := *c
		stale.Version, stale.State = 2, cases.Rejected
		stale.Stage, stale.Clock = "", sla.Clock{}
		stale.Tasks = []cases.Task{{UnitID: "u-x", Role: cases.Lead, State: cases.TaskDispatched}}
		err := db.Write(ctx, func(tx *Tx) error {
			if err := tx.PutSetting(ctx, "touched", true); err != nil {
				return err
			}
			return tx.UpdateCase(ctx, was(1), &stale, stepOf(&stale, cases.ActReject), ClockRule{})
		})
		if !errors.Is(err, ErrConflict) {
			t.Fatalf("stale update: %v, want ErrConflict", err)
		}
		got, err := db.Case(ctx, "C1")
		if err != nil {
			t.Fatal(err)
		}
		if jsonOf(t, got) != jsonOf(t, v2) {
			t.Fatalf("case changed by stale update: %s", jsonOf(t, got))
		}
		if steps, _ := db.Steps(ctx, "C1"); len(steps) != 2 {
			t.Fatalf("%d steps", len(steps))
		}
		var b bool
		if err := db.Setting(ctx, "touched", &b); !errors.Is(err, ErrNotFound) {
			t.Fatalf("failed write left a setting: %v", err)
		}
		if n := countRows(t, db, `SELECT COUNT(*) FROM case_units`); n != 0 {
			t.Fatalf("%d case_units", n)
		}
		if n := countRows(t, db, `SELECT COUNT(*) FROM clocks WHERE case_id = 'C1'`); n != 1 {
			t.Fatalf("%d clocks", n)
		}
	})
}

func countRows(t *testing.T, db *DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.Raw().QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func caseUnits(t *testing.T, db *DB, id string) []string {
	t.Helper()
	rows, err := db.Raw().QueryContext(context.Background(), `SELECT unit_id, role, state FROM case_units WHERE case_id = $1 ORDER BY unit_id`, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var u, r, s string
		if err := rows.Scan(&u, &r, &s); err != nil {
			t.Fatal(err)
		}
		out = append(out, u+":"+r+":"+s)
	}
	return out
}

func TestCaseUnitsSync(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		c := newCase("C1", func(c *cases.Case) {
			c.State, c.Stage, c.Clock = cases.Dispatched, "", sla.Clock{}
			c.Tasks = []cases.Task{
				{UnitID: "u-a", Role: cases.Lead, State: cases.TaskDispatched},
				{UnitID: "u-b", Role: cases.Co, State: cases.TaskDispatched},
			}
		})
		insert(t, db, c)
		if got, want := caseUnits(t, db, "C1"), []string{"u-a:lead:dispatched", "u-b:co:dispatched"}; !slices.Equal(got, want) {
			t.Fatalf("after insert %v, want %v", got, want)
		}
		// Redispatch: u-a cancelled, u-c leads, u-b returns as lead later on.
		n := *c
		n.Version = 2
		n.Tasks = []cases.Task{
			{UnitID: "u-a", Role: cases.Lead, State: cases.TaskCancelled},
			{UnitID: "u-b", Role: cases.Co, State: cases.TaskSigned},
			{UnitID: "u-c", Role: cases.Lead, State: cases.TaskDispatched},
			{UnitID: "u-b", Role: cases.Co, State: cases.TaskCancelled},
		}
		if err := db.Write(ctx, func(tx *Tx) error {
			return tx.UpdateCase(ctx, was(1), &n, stepOf(&n, cases.ActRedispatch), ClockRule{})
		}); err != nil {
			t.Fatal(err)
		}
		if got, want := caseUnits(t, db, "C1"), []string{"u-a:lead:cancelled", "u-b:co:signed", "u-c:lead:dispatched"}; !slices.Equal(got, want) {
			t.Fatalf("after update %v, want %v", got, want)
		}
		for unit, want := range map[string][]string{"u-c": {"C1"}, "u-z": nil} {
			got, err := db.Cases(ctx, CaseFilter{Scope: Scope{All: true}, Unit: unit})
			if err != nil || !slices.Equal(ids(got), want) {
				t.Fatalf("unit %s: %v %v", unit, ids(got), err)
			}
		}
	})
}

// filterData is the dataset of the listing tests; see the expectations in
// TestCaseFilters.
func filterData() []*cases.Case {
	return []*cases.Case{
		newCase("C01"),
		newCase("C02", func(c *cases.Case) {
			c.RegionPath, c.CenterPath, c.GridCode = siblingGrid, siblingStreet, "500103002001001"
			c.Category, c.Board, c.Description = "env.garbage", string(cases.BoardSafety), "垃圾桶满溢无人清理"
			c.Reporter.AccountID = "acct-b"
			c.Point = &geo.Point{Lng: 106.60, Lat: 29.58}
		}),
		newCase("C03", func(c *cases.Case) {
			c.State, c.Severity, c.GridCode, c.RegionPath = cases.Accepted, sla.Urgent, "", communityPath
			c.ReportedAt, c.Description, c.Point = t0.Add(24*time.Hour), "占道经营摊贩", nil
			c.Stage, c.Clock = cases.StageDispatch, sla.Clock{Start: t0, Due: t0.Add(30 * 24 * time.Hour), YellowAt: t0.Add(20 * 24 * time.Hour)}
		}),
		newCase("C04", func(c *cases.Case) {
			c.State, c.Stage, c.Clock, c.ClosedAt = cases.Closed, "", sla.Clock{}, t0.Add(5*time.Hour)
			c.Reporter.AccountID, c.Description, c.ReportedAt = "acct-res", "井盖 Manhole 缺失需要更换", t0.Add(-24*time.Hour)
		}),
		newCase("C05", func(c *cases.Case) {
			c.CenterPath, c.State, c.Stage, c.Clock = districtPath, cases.Dispatched, "", sla.Clock{}
			sign := sla.Clock{Start: t0, Due: t0.Add(time.Hour), YellowAt: t0.Add(48 * time.Minute)}
			c.Tasks = []cases.Task{
				{UnitID: "u-a", Role: cases.Lead, State: cases.TaskDispatched, Sign: sign},
				{UnitID: "u-b", Role: cases.Co, State: cases.TaskDispatched, Sign: sign},
			}
			c.Point = &geo.Point{Lng: 106.70, Lat: 29.70}
		}),
		newCase("C06", func(c *cases.Case) {
			c.RegionPath, c.CenterPath, c.GridCode = "/500000/500104/500104001/", "/500000/500104/", ""
			c.Severity, c.ReportedAt, c.Description, c.Point = sla.Critical, t0.Add(48*time.Hour), "井盖缺失", nil
			c.Clock = sla.Clock{Start: t0, Due: t0.Add(72 * time.Hour), YellowAt: t0.Add(60 * time.Hour)}
		}),
	}
}

func TestCaseFilters(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		insert(t, db, filterData()...)
		all := Scope{All: true}
		yes, no := true, false
		now := t0.Add(3 * time.Hour)
		for _, tc := range []struct {
			name string
			f    CaseFilter
			want []string
		}{
			{"all", CaseFilter{Scope: all}, []string{"C06", "C05", "C04", "C03", "C02", "C01"}},
			{"state", CaseFilter{Scope: all, States: []cases.State{cases.Reported}}, []string{"C06", "C02", "C01"}},
			{"states", CaseFilter{Scope: all, States: []cases.State{cases.Accepted, cases.Closed}}, []string{"C04", "C03"}},
			{"open", CaseFilter{Scope: all, Open: &yes}, []string{"C06", "C05", "C03", "C02", "C01"}},
			{"closed", CaseFilter{Scope: all, Open: &no}, []string{"C04"}},
			{"region street", CaseFilter{Scope: all, RegionPath: streetPath}, []string{"C05", "C04", "C03", "C01"}},
			{"region district", CaseFilter{Scope: all, RegionPath: districtPath}, []string{"C05", "C04", "C03", "C02", "C01"}},
			{"region city", CaseFilter{Scope: all, RegionPath: cityPath}, []string{"C06", "C05", "C04", "C03", "C02", "C01"}},
			{"region grid", CaseFilter{Scope: all, RegionPath: gridPath}, []string{"C05", "C04", "C01"}},
			{"region other", CaseFilter{Scope: all, RegionPath: "/500000/500105/"}, nil},
			{"center", CaseFilter{Scope: all, CenterPath: streetPath}, []string{"C04", "C03", "C01"}},
			{"center exact", CaseFilter{Scope: all, CenterPath: districtPath}, []string{"C05"}},
			{"grid", CaseFilter{Scope: all, Grid: gridCode}, []string{"C05", "C04", "C01"}},
			{"category", CaseFilter{Scope: all, Category: "env.garbage"}, []string{"C02"}},
			{"board", CaseFilter{Scope: all, Board: string(cases.BoardSafety)}, []string{"C02"}},
			{"unit", CaseFilter{Scope: all, Unit: "u-b"}, []string{"C05"}},
			{"severity", CaseFilter{Scope: all, Severity: string(sla.Urgent)}, []string{"C03"}},
			{"severity critical", CaseFilter{Scope: all, Severity: string(sla.Critical)}, []string{"C06"}},
			{"reporter", CaseFilter{Scope: all, Reporter: "acct-res"}, []string{"C04"}},
			{"overdue", CaseFilter{Scope: all, Overdue: &yes, Now: now}, []string{"C05", "C02", "C01"}},
			{"not overdue", CaseFilter{Scope: all, Overdue: &no, Now: now}, []string{"C06", "C04", "C03"}},
			{"overdue earlier", CaseFilter{Scope: all, Overdue: &yes, Now: t0.Add(90 * time.Minute)}, []string{"C05"}},
			{"time range", CaseFilter{Scope: all, From: t0, To: t0.Add(25 * time.Hour)}, []string{"C05", "C03", "C02", "C01"}},
			{"time to is exclusive", CaseFilter{Scope: all, From: t0.Add(-24 * time.Hour), To: t0}, []string{"C04"}},
			{"text 2 chars", CaseFilter{Scope: all, Text: "井盖"}, []string{"C06", "C04"}},
			{"text 4 chars", CaseFilter{Scope: all, Text: "井盖缺失"}, []string{"C06"}},
			{"text 4 chars other", CaseFilter{Scope: all, Text: "满溢无人"}, []string{"C02"}},
			{"text 2 chars other", CaseFilter{Scope: all, Text: "坑洼"}, []string{"C05", "C01"}},
			{"text 1 char", CaseFilter{Scope: all, Text: "摊"}, []string{"C03"}},
			{"text number", CaseFilter{Scope: all, Text: "ZZC03"}, []string{"C03"}},
			{"text any case", CaseFilter{Scope: all, Text: "manhole"}, []string{"C04"}},
			{"text no match", CaseFilter{Scope: all, Text: "井盖丢失"}, nil},
			{"text operators inert", CaseFilter{Scope: all, Text: `井盖" OR "坑洼`}, nil},
			{"bbox", CaseFilter{Scope: all, BBox: &geo.Rect{Min: geo.Point{Lng: 106.55, Lat: 29.55}, Max: geo.Point{Lng: 106.65, Lat: 29.60}}}, []string{"C04", "C02", "C01"}},
			{"combined", CaseFilter{Scope: Scope{RegionPath: streetPath}, Open: &yes, Overdue: &yes, Now: now}, []string{"C05", "C01"}},
			{"after", CaseFilter{Scope: all, After: "C04"}, []string{"C03", "C02", "C01"}},
			{"limit", CaseFilter{Scope: all, Limit: 2}, []string{"C06", "C05"}},
		} {
			got, err := db.Cases(ctx, tc.f)
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
				continue
			}
			if !slices.Equal(ids(got), tc.want) {
				t.Errorf("%s: got %v, want %v", tc.name, ids(got), tc.want)
			}
			n, err := db.CountCases(ctx, tc.f)
			wantN := len(tc.want)
			if tc.f.After != "" || tc.f.Limit != 0 {
				wantN = -1
			}
			if err != nil || (wantN >= 0 && n != wantN) {
				t.Errorf("%s: count %d %v, want %d", tc.name, n, err, wantN)
			}
		}
	})
}

func TestCaseScope(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		insert(t, db, filterData()...)
		for _, tc := range []struct {
			name string
			s    Scope
			want []string
		}{
			{"all", Scope{All: true}, []string{"C06", "C05", "C04", "C03", "C02", "C01"}},
			{"street", Scope{RegionPath: streetPath}, []string{"C05", "C04", "C03", "C01"}},
			{"district center", Scope{RegionPath: districtPath}, []string{"C05", "C04", "C03", "C02", "C01"}},
			{"other district", Scope{RegionPath: "/500000/500104/"}, []string{"C06"}},
			{"sibling plus own", Scope{RegionPath: siblingStreet, AccountID: "acct-res"}, []string{"C04", "C02"}},
			{"unit", Scope{UnitID: "u-a"}, []string{"C05"}},
			{"reporter", Scope{AccountID: "acct-res"}, []string{"C04"}},
			{"none", Scope{}, nil},
			{"unit without unit", ScopeOf(cases.Actor{Role: cases.RoleUnit, AccountID: "x"}), nil},
			{"resident without account", ScopeOf(cases.Actor{Role: cases.RoleResident}), nil},
			{"commander without region", ScopeOf(cases.Actor{Role: cases.RoleCommander}), nil},
			{"commander sees the region, not own reports elsewhere", ScopeOf(cases.Actor{Role: cases.RoleCommander, RegionPath: siblingStreet, AccountID: "acct-res"}), []string{"C02"}},
			{"grid worker sees own reports elsewhere", ScopeOf(cases.Actor{Role: cases.RoleGridWorker, RegionPath: siblingStreet, AccountID: "acct-res"}), []string{"C04", "C02"}},
			{"system", ScopeOf(cases.Actor{Role: cases.RoleSystem}), []string{"C06", "C05", "C04", "C03", "C02", "C01"}},
		} {
			got, err := db.Cases(ctx, CaseFilter{Scope: tc.s})
			if err != nil || !slices.Equal(ids(got), tc.want) {
				t.Errorf("%s: got %v %v, want %v", tc.name, ids(got), err, tc.want)
			}
			if n, err := db.CountCases(ctx, CaseFilter{Scope: tc.s}); err != nil || n != len(tc.want) {
				t.Errorf("%s: count %d %v", tc.name, n, err)
			}
		}
	})
}

func TestCasePagination(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		var cs []*cases.Case
		var want []string
		for i := range 25 {
			id := fmt.Sprintf("P%02d", i)
			cs = append(cs, newCase(id, func(c *cases.Case) {
				if i%3 == 0 {
					c.Category = "other"
				}
			}))
			if i%3 != 0 {
				want = append(want, id)
			}
		}
		insert(t, db, cs...)
		slices.Reverse(want)
		for _, limit := range []int{1, 4, 7, 16, 100} {
			var got []string
			f := CaseFilter{Scope: Scope{All: true}, Category: "road.pothole", Limit: limit}
			for pages := 0; ; pages++ {
				if pages > 30 {
					t.Fatal("pagination does not end")
				}
				page, err := db.Cases(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				if len(page) > limit {
					t.Fatalf("page of %d with limit %d", len(page), limit)
				}
				got = append(got, ids(page)...)
				if len(page) < limit {
					break
				}
				f.After = page[len(page)-1].ID
			}
			if !slices.Equal(got, want) {
				t.Fatalf("limit %d: got %v, want %v", limit, got, want)
			}
		}
	})
}

func TestNearby(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		p := geo.Point{Lng: 106.58, Lat: 29.56}
		at := func(dLng, dLat float64) func(*cases.Case) {
			return func(c *cases.Case) { c.Point = &geo.Point{Lng: p.Lng + dLng, Lat: p.Lat + dLat} }
		}
		insert(t, db,
			newCase("N1", at(0.003, 0)),       // ~290 m east
			newCase("N2", at(0, 0.001)),       // ~111 m north
			newCase("N3", at(0.0001, 0.0001)), // the case itself
			newCase("N4", at(0, 0.0005), func(c *cases.Case) { c.Category = "env.garbage" }),
			newCase("N5", at(0, -0.0005), func(c *cases.Case) {
				c.State, c.ClosedAt, c.Stage, c.Clock = cases.Closed, t0, "", sla.Clock{}
			}),
			newCase("N6", at(0.02, 0)),      // ~1.9 km
			newCase("N7", at(0.004, 0.004)), // inside the box, outside the circle
			newCase("N8", func(c *cases.Case) { c.Point = nil }),
		)
		got, err := db.Nearby(ctx, "road.pothole", p, 500, "N3", 10)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"N2", "N1"}; !slices.Equal(ids(got), want) {
			t.Fatalf("nearby %v, want %v", ids(got), want)
		}
		got, err = db.Nearby(ctx, "road.pothole", p, 500, "", 2)
		if err != nil || !slices.Equal(ids(got), []string{"N3", "N2"}) {
			t.Fatalf("nearby limit 2: %v %v", ids(got), err)
		}
	})
}

func TestNextNumber(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		var got []int64
		next := func(tx *Tx, name string) error {
			v, err := tx.NextNumber(ctx, name)
			got = append(got, v)
			return err
		}
		if err := db.Write(ctx, func(tx *Tx) error {
			for _, n := range []string{"case", "case", "case", "other"} {
				if err := next(tx, n); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		// A rolled-back number is given out again.
		if err := db.Write(ctx, func(tx *Tx) error {
			next(tx, "case")
			return errors.New("abandon")
		}); err == nil {
			t.Fatal("want error")
		}
		if err := db.Write(ctx, func(tx *Tx) error { return next(tx, "case") }); err != nil {
			t.Fatal(err)
		}
		if want := []int64{1, 2, 3, 1, 4, 4}; !slices.Equal(got, want) {
			t.Fatalf("numbers %v, want %v", got, want)
		}
	})
}

// TestCaseTextSearch compares text searches with a plain reading of every
// case, with PostgreSQL's window of newest rows large (the listing fits),
// small (rare words fall back to the index) and tiny: words common and rare,
// shorter and longer than a trigram, ASCII in another case, LIKE's wildcards
// taken literally, in two scopes, page by page.
func TestCaseTextSearch(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		words := []string{"井盖缺失", "垃圾满溢", "占道经营", "路灯不亮", "Manhole 破损", "折扣100%_特价", "噪声扰民"}
		var all []*cases.Case
		for i := range 90 {
			id := fmt.Sprintf("T%03d", i)
			c := newCase(id, func(c *cases.Case) {
				c.Description = words[i%3] + "，" + words[3+i%4]
				if i%17 == 0 {
					c.Description += "，罕见的消防通道堵塞"
				}
				c.ReportedAt = t0.Add(time.Duration(i) * time.Minute)
				if i%2 == 1 {
					c.RegionPath, c.CenterPath, c.GridCode = siblingGrid, siblingStreet, "500103002001001"
				}
			})
			all = append(all, c)
		}
		insert(t, db, all...)
		oracle := func(f CaseFilter) []string {
			var out []string
			for i := len(all) - 1; i >= 0; i-- {
				c := all[i]
				if f.Scope.RegionPath != "" && !strings.HasPrefix(c.RegionPath, f.Scope.RegionPath) {
					continue
				}
				if !strings.Contains(strings.ToLower(caseBody(c, nil)), strings.ToLower(f.Text)) || (f.After != "" && c.ID >= f.After) {
					continue
				}
				out = append(out, c.ID)
			}
			if len(out) > f.Limit {
				out = out[:f.Limit]
			}
			return out
		}
		saved := textWindowRows
		defer func() { textWindowRows = saved }()
		for _, window := range []int{1000, 12, 1} {
			textWindowRows = window
			for _, scope := range []Scope{{All: true}, {RegionPath: streetPath}} {
				for _, q := range []string{"井盖缺失", "垃圾", "消防通道", "罕见", "灯", "manhole", "MANHOLE 破", "100%_", "100", "%", "_特", "，罕见", "不存在的词"} {
					f := CaseFilter{Scope: scope, Text: q, Limit: 7}
					for page := 0; page < 20; page++ {
						got, err := db.Cases(ctx, f)
						if err != nil {
							t.Fatalf("window %d %q: %v", window, q, err)
						}
						want := oracle(f)
						if !slices.Equal(ids(got), want) {
							t.Fatalf("window %d scope %v %q after %q: got %v, want %v", window, scope, q, f.After, ids(got), want)
						}
						if len(got) < f.Limit {
							break
						}
						f.After = got[len(got)-1].ID
					}
				}
			}
		}
	})
}

// TestCenterQueueIndexStates checks the states in the predicate of the
// partial index cases_center_queue (migration 4): a misspelt state would
// leave the index empty and the listings slow, silently.
func TestCenterQueueIndexStates(t *testing.T) {
	m := regexp.MustCompile(`cases_center_queue .* WHERE state IN \(([^)]*)\)`).FindStringSubmatch(migrations[4].postgres)
	if m == nil {
		t.Fatal("no state list in migration 4")
	}
	want := "'" + string(cases.Reported) + "', '" + string(cases.Accepted) + "'"
	if m[1] != want {
		t.Fatalf("index states %s, want %s", m[1], want)
	}
}

// TestPGBodyContains: PostgreSQL searches the text as it is only for words
// that lowering cannot touch (TestCaseTextSearch checks the answers).
func TestPGBodyContains(t *testing.T) {
	for q, plain := range map[string]bool{
		"井盖": true, "消防通道": true, "100%_": true, "井盖，": false, "井盖、": true, "（井盖）": false,
		"manhole": false, "Manhole 破": false, "ΣΑ": false, "Ⓐ": false, "ｍａｎ": false, "": true,
	} {
		got := pgBodyContains(q, "$1", "cases")
		want := map[bool]string{
			true:  `(strpos(body, $1) > 0 OR (body IS NULL AND strpos(case_long_text(cases.id), $1) > 0))`,
			false: `(strpos(lower(body), lower($1)) > 0 OR (body IS NULL AND strpos(lower(case_long_text(cases.id)), lower($1)) > 0))`,
		}[plain]
		if got != want {
			t.Errorf("%q: %s, want %s", q, got, want)
		}
	}
}
