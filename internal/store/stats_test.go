package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/sla"
)

func TestCaseStats(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		closed := func(late bool) func(*cases.Case) {
			return func(c *cases.Case) {
				c.State, c.Stage, c.Clock, c.ClosedAt, c.WasOverdue = cases.Closed, "", sla.Clock{}, c.ReportedAt.Add(time.Hour), late
			}
		}
		at := func(d time.Duration) func(*cases.Case) {
			return func(c *cases.Case) {
				c.ReportedAt, c.UpdatedAt = t0.Add(d), t0.Add(d)
				c.Clock = sla.Clock{Start: c.ReportedAt, Due: c.ReportedAt.Add(2 * time.Hour), YellowAt: c.ReportedAt.Add(90 * time.Minute)}
			}
		}
		other := func(c *cases.Case) {
			c.GridCode, c.RegionPath, c.CenterPath = "500103002001001", siblingGrid, siblingStreet
		}
		safety := func(c *cases.Case) { c.Board, c.Category = string(cases.BoardSafety), "gas.leak" }
		critical := func(c *cases.Case) { c.Severity = sla.Critical }
		// t0 is 09:00 in Shanghai on 9 March; -10h is 23:00 on 8 March there.
		insert(t, db,
			newCase("S01", at(0)),                          // open, due t0+2h
			newCase("S02", at(time.Minute), closed(false)), // closed on time
			newCase("S03", at(2*time.Minute), closed(true)),
			newCase("S04", at(-10*time.Hour), safety, critical), // open, overdue at t0+3h
			newCase("S05", at(3*time.Minute), other, safety),    // other street
			newCase("S06", at(4*time.Minute), func(c *cases.Case) {
				c.State, c.Stage, c.Clock, c.ClosedAt = cases.Rejected, "", sla.Clock{}, c.ReportedAt
			}),
		)
		now := t0.Add(3 * time.Hour)
		all := Scope{All: true}
		get := func(q StatsQuery) []CaseStat {
			t.Helper()
			q.Filter.Now = now
			s, err := db.CaseStats(ctx, q)
			if err != nil {
				t.Fatalf("CaseStats(%s): %v", q.Dim, err)
			}
			return s
		}
		tot := get(StatsQuery{Filter: CaseFilter{Scope: all}})
		// S01 is due at t0+2h and S04 at t0-8h: both overdue at t0+3h.
		want := CaseStat{Reported: 6, Closed: 2, OnTime: 1, Open: 3, OpenOverdue: 3}
		if len(tot) != 1 || tot[0] != want {
			t.Fatalf("totals %+v, want %+v", tot, want)
		}
		// The street's scope leaves the other street's case out.
		st := get(StatsQuery{Filter: CaseFilter{Scope: Scope{RegionPath: streetPath}}})
		if st[0].Reported != 5 || st[0].Open != 2 {
			t.Fatalf("street totals %+v", st[0])
		}
		boards := get(StatsQuery{Filter: CaseFilter{Scope: all}, Dim: ByBoard})
		if len(boards) != 2 || boards[0].Key != "services" || boards[0].Reported != 4 || boards[1].Key != "safety" || boards[1].Reported != 2 {
			t.Fatalf("by board %+v", boards)
		}
		top := get(StatsQuery{Filter: CaseFilter{Scope: all}, Dim: ByCategory, Top: 1})
		if len(top) != 1 || top[0].Key != "road.pothole" {
			t.Fatalf("top category %+v", top)
		}
		streets := get(StatsQuery{Filter: CaseFilter{Scope: all}, Dim: ByStreet})
		if len(streets) != 2 || streets[0].Key != "500103001" || streets[0].Reported != 5 || streets[1].Key != "500103002" {
			t.Fatalf("by street %+v", streets)
		}
		days := get(StatsQuery{Filter: CaseFilter{Scope: all}, Dim: ByDay, Offset: 8 * time.Hour})
		if len(days) != 2 || days[0].Key != "2026-03-08" || days[0].Reported != 1 || days[1].Key != "2026-03-09" || days[1].Reported != 5 {
			t.Fatalf("by day %+v", days)
		}
		// One pass grouped by every dimension together gives each
		// dimension's groups as its own statement does.
		dims := []StatsDim{ByTotal, ByBoard, ByCategory, ByStreet, ByGrid, ByDay}
		by, err := db.CaseStatsBy(ctx, StatsQuery{Filter: CaseFilter{Scope: all, Now: now}, Offset: 8 * time.Hour}, dims...)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range dims {
			one := get(StatsQuery{Filter: CaseFilter{Scope: all}, Dim: d, Offset: 8 * time.Hour})
			if !reflect.DeepEqual(by[d], one) {
				t.Errorf("by %q in one pass %+v, alone %+v", d, by[d], one)
			}
		}
		if g := by[ByGrid]; len(g) != 2 || g[0] != (CaseStat{Key: gridCode, Reported: 5, Closed: 2, OnTime: 1, Open: 2, OpenOverdue: 2}) {
			t.Fatalf("by grid in one pass %+v", g)
		}
		empty, err := db.CaseStatsBy(ctx, StatsQuery{Filter: CaseFilter{Scope: Scope{RegionPath: "/500000/500103/500103099/"}, Now: now}}, ByTotal, ByDay)
		if err != nil || len(empty[ByTotal]) != 1 || empty[ByTotal][0] != (CaseStat{}) || len(empty[ByDay]) != 0 {
			t.Fatalf("empty in one pass %+v, %v", empty, err)
		}
		if _, err := db.CaseStatsBy(ctx, StatsQuery{}, ByBoard, "nope"); err == nil {
			t.Fatal("unknown dimension accepted in one pass")
		}
		// Filters narrow like listings: a period and a board.
		f := CaseFilter{Scope: all, From: t0, To: t0.Add(time.Hour), Board: string(cases.BoardServices)}
		if s := get(StatsQuery{Filter: f}); s[0].Reported != 4 {
			t.Fatalf("filtered totals %+v", s[0])
		}
		// Nothing matches: zeros, not an error.
		if s := get(StatsQuery{Filter: CaseFilter{Scope: Scope{RegionPath: "/500000/500103/500103099/"}}}); len(s) != 1 || s[0] != (CaseStat{}) {
			t.Fatalf("empty totals %+v", s)
		}
		if _, err := db.CaseStats(ctx, StatsQuery{Dim: "nope"}); err == nil {
			t.Fatal("unknown dimension accepted")
		}

		load, err := db.OpenLoad(ctx, all, ByGrid, now)
		if err != nil {
			t.Fatal(err)
		}
		if g := load[gridCode]; g != (AreaLoad{Open: 2, Overdue: 2, Critical: 1}) {
			t.Fatalf("grid load %+v", g)
		}
		if g := load["500103002001001"]; g.Open != 1 {
			t.Fatalf("other grid load %+v", g)
		}
		load, err = db.OpenLoad(ctx, Scope{RegionPath: streetPath}, ByStreet, now)
		if err != nil {
			t.Fatal(err)
		}
		if len(load) != 1 || load["500103001"].Open != 2 {
			t.Fatalf("street load in scope %+v", load)
		}
		if _, err := db.OpenLoad(ctx, all, ByBoard, now); err == nil {
			t.Fatal("open load by board accepted")
		}
	})
}

// TestCaseStatsInGo: the cases summed as they are read (SQLite's way)
// give every dimension's groups exactly as the statement's own GROUP BY
// (PostgreSQL's way), on both engines, over cases of two streets, two
// boards, three categories, every end state, open ones on time and late,
// held ones, reported over ten days.
func TestCaseStatsInGo(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		rng := rand.New(rand.NewPCG(7, 43))
		cats := []struct{ board, code string }{{"services", "road.pothole"}, {"services", "light.broken"}, {"safety", "gas.leak"}}
		var cs []*cases.Case
		for i := range 240 {
			cs = append(cs, newCase(fmt.Sprintf("G%03d", i), func(c *cases.Case) {
				c.ReportedAt = t0.Add(-time.Duration(rng.IntN(10*24*60)) * time.Minute)
				c.UpdatedAt = c.ReportedAt
				c.Clock = sla.Clock{Start: c.ReportedAt, Due: c.ReportedAt.Add(time.Duration(1+rng.IntN(72)) * time.Hour)}
				k := cats[rng.IntN(len(cats))]
				c.Board, c.Category = k.board, k.code
				if rng.IntN(3) == 0 {
					c.GridCode, c.RegionPath, c.CenterPath = "500103002001001", siblingGrid, siblingStreet
				}
				switch rng.IntN(6) {
				case 0, 1:
					c.State, c.Stage, c.Clock, c.ClosedAt, c.WasOverdue = cases.Closed, "", sla.Clock{}, c.ReportedAt.Add(time.Hour), rng.IntN(2) == 0
				case 2:
					c.State, c.Stage, c.Clock, c.ClosedAt = cases.Rejected, "", sla.Clock{}, c.ReportedAt
				case 3:
					c.State = cases.Held
				}
			}))
		}
		insert(t, db, cs...)
		now := t0.Add(-2 * 24 * time.Hour)
		dims := []StatsDim{ByTotal, ByBoard, ByCategory, ByStreet, ByCommunity, ByGrid, ByDay}
		for name, f := range map[string]CaseFilter{
			"the district, every case":   {Scope: Scope{RegionPath: districtPath}},
			"the district, a week":       {Scope: Scope{RegionPath: districtPath}, From: t0.Add(-7 * 24 * time.Hour), To: t0},
			"a street, a board":          {Scope: Scope{RegionPath: streetPath}, Board: "services"},
			"the district, a category":   {Scope: Scope{RegionPath: districtPath}, Category: "gas.leak", From: t0.Add(-5 * 24 * time.Hour), To: t0},
			"the city, held ones":        {Scope: Scope{All: true}, States: []cases.State{cases.Held}},
			"a street, nothing reported": {Scope: Scope{RegionPath: streetPath}, From: t0.Add(time.Hour), To: t0.Add(2 * time.Hour)},
		} {
			f.Now = now
			q := StatsQuery{Filter: f, Offset: 8 * time.Hour}
			grouped, err := db.caseStatsBy(ctx, q, dims, false)
			if err != nil {
				t.Fatalf("%s, grouped: %v", name, err)
			}
			summed, err := db.caseStatsBy(ctx, q, dims, true)
			if err != nil {
				t.Fatalf("%s, summed: %v", name, err)
			}
			if !reflect.DeepEqual(grouped, summed) {
				t.Errorf("%s:\ngrouped %+v\nsummed  %+v", name, grouped, summed)
			}
			if name != "a street, nothing reported" && grouped[ByTotal][0].Reported == 0 {
				t.Errorf("%s: nothing matched; the comparison says nothing", name)
			}
		}
	})
}
