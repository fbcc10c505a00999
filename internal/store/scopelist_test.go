package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/sla"
)

// TestGridPeopleListing pages through a grid's people's listings (their
// grid's cases, their own reports elsewhere, what they were whistled to) in
// every order and with a state filter, and checks each against cases.CanSee
// and the order computed here. On PostgreSQL the listing reads a page from
// each of the three alternatives and keeps the page of their union
// (where.alts): a case must appear once, in order, whichever alternatives
// it matches, and no page may miss one.
func TestGridPeopleListing(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		db := openTestDB(t)
		me := cases.Actor{Role: cases.RoleGridWorker, RegionPath: gridPath, AccountID: "acct-me"}
		states := []cases.State{cases.Reported, cases.Handling, cases.Accepted}
		sevs := []sla.Severity{sla.Normal, sla.Urgent, sla.Critical}
		var all []*cases.Case
		for i := range 48 {
			c := newCase(fmt.Sprintf("G%02d", i), func(c *cases.Case) {
				c.State = states[i%3]
				c.Severity = sevs[(i/3)%3]
				// Report times out of ID order, some equal.
				c.ReportedAt = t0.Add(time.Duration((i*7)%13) * time.Minute)
				c.Clock.Due = t0.Add(time.Duration((i*5)%11) * time.Hour)
				c.Clock.YellowAt = c.Clock.Due.Add(-time.Minute)
				c.Reporter.AccountID = "acct-other"
				elsewhere := i%4 != 1
				if i%6 == 1 {
					// In the grid and reported by me: two alternatives.
					c.Reporter.AccountID = "acct-me"
				}
				if i%4 == 2 {
					c.Reporter.AccountID = "acct-me"
				}
				if i%4 == 3 && i%8 == 3 || i%12 == 2 {
					// Whistled to me (i%12 == 2: also my own report).
					c.Whistles = []cases.Whistle{{ID: "w", Kind: cases.WhistleKind("street"), Parties: []cases.Party{
						{Key: "person:acct-me", AccountID: "acct-me", Name: "我"},
					}}}
				}
				if elsewhere {
					c.RegionPath, c.CenterPath, c.GridCode = siblingGrid, siblingStreet, "500103002001001"
				}
			})
			all = append(all, c)
		}
		insert(t, db, all...)
		visible := 0
		for _, c := range all {
			if cases.CanSee(me, c) {
				visible++
			}
		}
		if visible < 20 || visible == len(all) {
			t.Fatalf("%d of %d cases visible: the test's cases do not exercise the scope", visible, len(all))
		}
		key := func(c *cases.Case, sort string) int64 {
			k := CursorOf(*c, sort).Key
			if sort == SortDue {
				return -k // the earliest first: compared like the others, descending
			}
			return k
		}
		for _, sort := range append([]string{SortNewest}, Sorts...) {
			for _, only := range [][]cases.State{nil, {cases.Handling}} {
				var want []string
				var keep []*cases.Case
				for _, c := range all {
					if cases.CanSee(me, c) && (only == nil || c.State == only[0]) {
						keep = append(keep, c)
					}
				}
				slices.SortFunc(keep, func(a, b *cases.Case) int {
					if k := cmp.Compare(key(b, sort), key(a, sort)); k != 0 {
						return k
					}
					return cmp.Compare(b.ID, a.ID)
				})
				for _, c := range keep {
					want = append(want, c.ID)
				}
				for _, limit := range []int{1, 5, 50} {
					got := allPages(t, db, CaseFilter{Scope: ScopeOf(me), States: only, Sort: sort, Limit: limit}, len(all))
					if !slices.Equal(got, want) {
						t.Errorf("order %q, states %v, pages of %d: got %v, want %v", sort, only, limit, got, want)
					}
				}
			}
		}
	})
}

// TestOpenOverdueWindow lists a district's open overdue cases (the command
// board's red panel) through SQLite's window (openOverdueWindow) with
// windows too small to fill a page, just filling it, and holding every
// overdue case, among the newest cases closed with a clock still recorded
// (which the window must skip) and open cases not yet due, page by page,
// and checks each against the cases computed here.
func TestOpenOverdueWindow(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		db := openTestDB(t)
		now := t0.Add(3 * time.Hour) // past the helper's due time, t0+2h
		var all []*cases.Case
		add := func(prefix string, n int, mod func(*cases.Case)) {
			for i := range n {
				c := newCase(fmt.Sprintf("%s%02d", prefix, i), mod)
				all = append(all, c)
			}
		}
		add("O", 30, func(c *cases.Case) { c.State = cases.Handling })
		add("P", 6, func(c *cases.Case) { c.Clock.Due, c.Clock.YellowAt = now.Add(time.Hour), now }) // open, not due
		add("Q", 4, func(c *cases.Case) { c.State = cases.Held })
		add("X", 12, func(c *cases.Case) { c.State, c.ClosedAt = cases.Closed, t0.Add(time.Hour) }) // the newest: closed
		insert(t, db, all...)
		var want []string
		for _, c := range all {
			if c.ClosedAt.IsZero() && c.State != cases.Held && !c.Due().IsZero() && c.Due().Before(now) {
				want = append(want, c.ID)
			}
		}
		slices.Reverse(want)
		if len(want) != 30 {
			t.Fatalf("%d open overdue cases, want 30", len(want))
		}
		district := ScopeOf(cases.Actor{Role: cases.RoleCommander, RegionPath: "/500000/500103/"})
		yes := true
		defer func(n int) { openOverdueRows = n }(openOverdueRows)
		for _, rows := range []int{3, 14, 20, 400} {
			openOverdueRows = rows
			for _, limit := range []int{1, 5, 50} {
				got := allPages(t, db, CaseFilter{Scope: district, Open: &yes, Overdue: &yes, Now: now, Limit: limit}, len(all))
				if !slices.Equal(got, want) {
					t.Errorf("window %d, pages of %d: got %v, want %v", rows, limit, got, want)
				}
			}
		}
	})
}

// allPages lists f page by page (f.Limit a page, the next page after the
// last case: by ID in the default order, by cursor in the others) and
// returns the IDs in order; more than most pages fails the test.
func allPages(t *testing.T, db *DB, f CaseFilter, most int) []string {
	t.Helper()
	var got []string
	for pages := 0; ; pages++ {
		if pages > most {
			t.Fatal("pagination does not end")
		}
		page, err := db.Cases(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ids(page)...)
		if len(page) < f.Limit {
			return got
		}
		last := page[len(page)-1]
		if f.Sort == SortNewest {
			f.After = last.ID
		} else {
			cur := CursorOf(last, f.Sort)
			f.Cursor = &cur
		}
	}
}
