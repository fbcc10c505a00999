package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/sla"
)

// TestWhistleScope checks that listings agree with cases.CanSee for parties
// summoned by a whistle and units charged with a meeting's decision: they
// see the case although they have no task on it.
func TestWhistleScope(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		db := openTestDB(t)
		ctx := context.Background()
		whistled := newCase("W01", func(c *cases.Case) {
			c.State = cases.Handling
			c.Whistles = []cases.Whistle{{ID: "w1", Kind: cases.WhistleKind("street"), Parties: []cases.Party{
				{Key: "unit:u-fire", UnitID: "u-fire", Name: "消防"},
				{Key: "person:acct-head", AccountID: "acct-head", Name: "楼长"},
			}}}
			c.Meetings = []cases.Meeting{{ID: "m1", Decisions: []cases.Decision{{ID: "d1", Text: "整改", UnitID: "u-dec"}}}}
		})
		plain := newCase("W02")
		insert(t, db, whistled, plain)
		sibling := "/500000/500103/500103009/"
		for _, tc := range []struct {
			name  string
			actor cases.Actor
			want  []string
		}{
			{"summoned unit", cases.Actor{Role: cases.RoleUnit, UnitID: "u-fire", AccountID: "acct-fire"}, []string{"W01"}},
			{"decision unit", cases.Actor{Role: cases.RoleUnit, UnitID: "u-dec", AccountID: "acct-dec"}, []string{"W01"}},
			{"other unit", cases.Actor{Role: cases.RoleUnit, UnitID: "u-other", AccountID: "acct-o"}, nil},
			{"summoned head elsewhere", cases.Actor{Role: cases.RoleHead, RegionPath: sibling, AccountID: "acct-head"}, []string{"W01"}},
			{"other head elsewhere", cases.Actor{Role: cases.RoleHead, RegionPath: sibling, AccountID: "acct-h2"}, nil},
		} {
			got, err := db.Cases(ctx, CaseFilter{Scope: ScopeOf(tc.actor)})
			if err != nil || !slices.Equal(ids(got), tc.want) {
				t.Errorf("%s: got %v %v, want %v", tc.name, ids(got), err, tc.want)
			}
			for _, c := range []*cases.Case{whistled, plain} {
				listed := slices.Contains(ids(got), c.ID)
				if cases.CanSee(tc.actor, c) != listed {
					t.Errorf("%s: CanSee(%s) = %v but listed = %v", tc.name, c.ID, !listed, listed)
				}
			}
		}
	})
}

// TestBoardAndCommunityScope checks that listings agree with cases.CanSee
// for a board head (who sees the board's posts' cases), a post (only its
// own), and community staff (their community's cases, cases dispatched to
// their community unit, and their own reports).
func TestBoardAndCommunityScope(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		db := openTestDB(t)
		ctx := context.Background()
		sibling := "/500000/500103/500103009/"
		task := func(unit string) func(*cases.Case) {
			return func(c *cases.Case) {
				c.State = cases.Dispatched
				c.Tasks = []cases.Task{{UnitID: unit, Role: cases.Lead, State: cases.TaskDispatched}}
			}
		}
		elsewhere := func(c *cases.Case) { c.RegionPath, c.CenterPath, c.GridCode = sibling+"500103009001/", sibling, "" }
		a := newCase("B01", task("s-ms-a"))
		b := newCase("B02", elsewhere, task("c-x"))
		c := newCase("B03", elsewhere, func(c *cases.Case) { c.Reporter.AccountID = "acct-comm2" })
		insert(t, db, a, b, c)
		head := cases.Actor{Role: cases.RoleUnit, UnitID: "s-ms-bk", Units: []string{"s-ms-a", "s-ms-b"}, AccountID: "acct-head"}
		for _, tc := range []struct {
			name  string
			actor cases.Actor
			want  []string
		}{
			{"board head", head, []string{"B01"}},
			{"another board's head", cases.Actor{Role: cases.RoleUnit, UnitID: "s-pa-bk", Units: []string{"s-pa-a"}, AccountID: "acct-h2"}, nil},
			{"the post", cases.Actor{Role: cases.RoleUnit, UnitID: "s-ms-a", AccountID: "acct-pa"}, []string{"B01"}},
			{"the other post", cases.Actor{Role: cases.RoleUnit, UnitID: "s-ms-b", AccountID: "acct-pb"}, nil},
			{"community staff", cases.Actor{Role: cases.RoleCommunity, RegionPath: communityPath, UnitID: "c-x", AccountID: "acct-comm"}, []string{"B02", "B01"}},
			{"community staff elsewhere", cases.Actor{Role: cases.RoleCommunity, RegionPath: sibling + "500103009002/", UnitID: "c-y", AccountID: "acct-comm2"}, []string{"B03"}},
		} {
			got, err := db.Cases(ctx, CaseFilter{Scope: ScopeOf(tc.actor)})
			if err != nil || !slices.Equal(ids(got), tc.want) {
				t.Errorf("%s: got %v %v, want %v", tc.name, ids(got), err, tc.want)
			}
			for _, x := range []*cases.Case{a, b, c} {
				if listed := slices.Contains(ids(got), x.ID); cases.CanSee(tc.actor, x) != listed {
					t.Errorf("%s: CanSee(%s) = %v but listed = %v", tc.name, x.ID, !listed, listed)
				}
			}
		}
	})
}

// TestActiveUnitFilter: ActiveUnit lists the cases where the unit has an
// active task; a unit whose task was cancelled (re-dispatched away) or that
// was only summoned is still on the case (Unit) but not active there.
func TestActiveUnitFilter(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		db := openTestDB(t)
		ctx := context.Background()
		c := newCase("A01", func(c *cases.Case) {
			c.State = cases.Dispatched
			c.Tasks = []cases.Task{{UnitID: "u-old", Role: cases.Lead, State: cases.TaskCancelled}, {UnitID: "u-new", Role: cases.Lead, State: cases.TaskDispatched}}
			c.Whistles = []cases.Whistle{{ID: "w1", Parties: []cases.Party{{Key: "unit:u-w", UnitID: "u-w"}}}}
		})
		insert(t, db, c)
		all := Scope{All: true}
		for unit, want := range map[string][]string{"u-new": {"A01"}, "u-old": nil, "u-w": nil} {
			got, err := db.Cases(ctx, CaseFilter{Scope: all, ActiveUnit: unit})
			if err != nil || !slices.Equal(ids(got), want) {
				t.Errorf("active %s: %v %v, want %v", unit, ids(got), err, want)
			}
			if any, _ := db.Cases(ctx, CaseFilter{Scope: all, Unit: unit}); len(any) != 1 {
				t.Errorf("unit %s: %d cases, want 1", unit, len(any))
			}
		}
	})
}

// TestUnitOpenCases: a unit's open cases (a department's inbox: the unit's
// scope, alone, with its sub-units or with its staff member's own cases,
// and the unit or active-unit filter) are, page by page and counted, the
// unit's cases of every state with the closed, rejected and held ones left
// out, on both engines. On SQLite the open listing reads the open cases'
// partial index and tests each case's unit by its key in case_units, where
// the listing of every state builds the list of the unit's cases.
func TestUnitOpenCases(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		states := []cases.State{cases.Dispatched, cases.Closed, cases.Handling, cases.Held, cases.Rejected} // five: not in step with the units' three
		var all []*cases.Case
		for i := range 48 {
			all = append(all, newCase(fmt.Sprintf("U%02d", i), func(c *cases.Case) {
				c.State = states[i%len(states)]
				if c.State == cases.Closed || c.State == cases.Rejected {
					c.ClosedAt, c.Clock = c.ReportedAt.Add(time.Hour), sla.Clock{}
				}
				task := cases.TaskDispatched
				if i%4 == 3 {
					task = cases.TaskDone
				}
				switch i % 3 {
				case 0:
					c.Tasks = []cases.Task{{UnitID: "u-a", Role: cases.Lead, State: task}}
				case 1:
					c.Tasks = []cases.Task{{UnitID: "u-b", Role: cases.Lead, State: task}, {UnitID: "u-a-1", Role: cases.Co, State: cases.TaskSigned}}
				}
				if i%7 == 2 { // a person summoned by a whistle
					c.Whistles = []cases.Whistle{{ID: "w1", Parties: []cases.Party{{Key: "account:acct-p", AccountID: "acct-p"}}}}
				}
			}))
		}
		insert(t, db, all...)
		open := true
		for _, tc := range []struct {
			name string
			f    CaseFilter
		}{
			{"the unit's inbox", CaseFilter{Scope: Scope{UnitID: "u-a"}, Unit: "u-a"}},
			{"with sub-units", CaseFilter{Scope: Scope{UnitID: "u-a", Units: []string{"u-a", "u-a-1"}}}},
			{"with the staff member's own", CaseFilter{Scope: Scope{UnitID: "u-b", Person: "acct-p"}}},
			{"active parts", CaseFilter{Scope: Scope{All: true}, ActiveUnit: "u-b"}},
		} {
			every := tc.f
			every.Limit = 500
			got, err := db.Cases(ctx, every)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, c := range got {
				if c.ClosedAt.IsZero() && c.State != cases.Held {
					want = append(want, c.ID)
				}
			}
			if len(want) == 0 || len(want) == len(got) {
				t.Fatalf("%s: %d open of %d: the fixture does not test the open filter", tc.name, len(want), len(got))
			}
			f := tc.f
			f.Open, f.Limit = &open, 3
			var paged []string
			for page := 0; page < 40; page++ {
				list, err := db.Cases(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				paged = append(paged, ids(list)...)
				if len(list) < f.Limit {
					break
				}
				f.After = list[len(list)-1].ID
			}
			if !slices.Equal(paged, want) {
				t.Errorf("%s:\n got %v\nwant %v", tc.name, paged, want)
			}
			f.After = ""
			if n, err := db.CountCases(ctx, f); err != nil || n != len(want) {
				t.Errorf("%s: counted %d, %v; want %d", tc.name, n, err, len(want))
			}
			if db.Dialect != SQLite {
				continue
			}
			plan := explainCases(t, db, f)
			if !strings.Contains(plan, "COVERING INDEX cases_open_overdue") || strings.Contains(plan, "INDEX case_units_unit") ||
				!strings.Contains(plan, "case_units_1 (case_id=? AND unit_id=?)") {
				t.Errorf("%s: the open listing does not read the open cases' index alone, testing each case's units by key:\n%s", tc.name, plan)
			}
		}
	})
}
