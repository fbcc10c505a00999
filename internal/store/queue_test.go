package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/id"
	"zhizhi/internal/sla"
)

// TestQueuePaging pages a queue in every order with a keyset cursor: every
// case once, in order, and a case reported between two pages does not
// shift the pages after the first.
func TestQueuePaging(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		var all []*cases.Case
		for i := range 23 {
			all = append(all, newCase(fmt.Sprintf("q%03d", i), func(c *cases.Case) {
				c.ReportedAt = t0.Add(time.Duration(i%7) * time.Minute) // ties in report time
				c.Severity = []sla.Severity{sla.Normal, sla.Urgent, sla.Critical}[i%3]
				due := t0.Add(time.Duration(i%5) * time.Hour)
				c.Clock = sla.Clock{Start: t0, Due: due, YellowAt: due.Add(-time.Minute)}
				if i%6 == 0 {
					c.State, c.Stage, c.Clock = cases.Rejected, "", sla.Clock{} // no running clock
				}
			}))
		}
		insert(t, db, all...)
		less := map[string]func(a, b *cases.Case) bool{
			SortReported: func(a, b *cases.Case) bool {
				if !a.ReportedAt.Equal(b.ReportedAt) {
					return a.ReportedAt.After(b.ReportedAt)
				}
				return a.ID > b.ID
			},
			SortDue: func(a, b *cases.Case) bool {
				ka, kb := CursorOf(*a, SortDue).Key, CursorOf(*b, SortDue).Key
				if ka != kb {
					return ka < kb
				}
				return a.ID > b.ID
			},
			SortSeverity: func(a, b *cases.Case) bool {
				ka, kb := severityRank(a.Severity), severityRank(b.Severity)
				if ka != kb {
					return ka > kb
				}
				return a.ID > b.ID
			},
		}
		for _, sort := range Sorts {
			want := slices.Clone(all)
			slices.SortFunc(want, func(a, b *cases.Case) int {
				if less[sort](a, b) {
					return -1
				}
				return 1
			})
			var got []string
			f := CaseFilter{Scope: Scope{All: true}, Sort: sort, Limit: 5}
			for page := 0; ; page++ {
				list, err := db.Cases(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, ids(list)...)
				if len(list) < f.Limit {
					break
				}
				cur := CursorOf(list[len(list)-1], sort)
				back, ok := ParseCursor(cur.String())
				if !ok || back != cur {
					t.Fatalf("cursor %q does not read back: %+v", cur.String(), back)
				}
				f.Cursor = &back
				if page == 0 && sort == SortReported {
					// A new report arrives after the first page was read.
					insert(t, db, newCase("q999", func(c *cases.Case) { c.ReportedAt = t0.Add(time.Hour) }))
				}
			}
			var wantIDs []string
			for _, c := range want {
				wantIDs = append(wantIDs, c.ID)
			}
			if !slices.Equal(got, wantIDs) {
				t.Errorf("%s: pages\n%v\nwant\n%v", sort, got, wantIDs)
			}
			if sort == SortReported {
				all = append(all, newCase("q999", func(c *cases.Case) { c.ReportedAt = t0.Add(time.Hour) }))
				first, err := db.Cases(ctx, CaseFilter{Scope: Scope{All: true}, Sort: sort, Limit: 1})
				if err != nil || len(first) != 1 || first[0].ID != "q999" {
					t.Errorf("the new report is not on top of the first page: %v %v", ids(first), err)
				}
			}
		}
		if _, ok := ParseCursor("x.q1"); ok {
			t.Error("a cursor with no number was read")
		}
		if _, ok := ParseCursor("12.q1;drop"); ok {
			t.Error("a cursor with a strange ID was read")
		}
	})
}

// TestQueueFilters checks the filters a command center uses.
func TestQueueFilters(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		insert(t, db,
			newCase("f1", func(c *cases.Case) { c.Supervised = true; c.Source = cases.SourceHotline }),
			newCase("f2", func(c *cases.Case) {
				c.Whistles = []cases.Whistle{{ID: "w1", Kind: cases.WhistleStreet, At: t0}}
				c.Severity = sla.Critical
			}),
			newCase("f3", func(c *cases.Case) { c.ReportedAt = t0.Add(48 * time.Hour) }),
			newCase("f4", func(c *cases.Case) {
				c.RegionPath, c.GridCode = siblingGrid, "500103002001001"
				c.Tasks = []cases.Task{{UnitID: "u-water", Role: cases.Lead, State: cases.TaskDispatched}}
			}),
		)
		yes, no := true, false
		for _, tc := range []struct {
			name string
			f    CaseFilter
			want []string
		}{
			{"supervised", CaseFilter{Supervised: &yes}, []string{"f1"}},
			{"not supervised", CaseFilter{Supervised: &no}, []string{"f4", "f3", "f2"}},
			{"whistled", CaseFilter{Whistled: &yes}, []string{"f2"}},
			{"not whistled", CaseFilter{Whistled: &no}, []string{"f4", "f3", "f1"}},
			{"source", CaseFilter{Source: string(cases.SourceHotline)}, []string{"f1"}},
			{"severity", CaseFilter{Severity: string(sla.Critical)}, []string{"f2"}},
			{"date range", CaseFilter{From: t0.Add(24 * time.Hour), To: t0.Add(72 * time.Hour)}, []string{"f3"}},
			{"unit", CaseFilter{Unit: "u-water"}, []string{"f4"}},
			{"community", CaseFilter{RegionPath: communityPath}, []string{"f3", "f2", "f1"}},
			{"grid", CaseFilter{RegionPath: siblingGrid}, []string{"f4"}},
		} {
			tc.f.Scope = Scope{All: true}
			got, err := db.Cases(ctx, tc.f)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if !slices.Equal(ids(got), tc.want) {
				t.Errorf("%s: %v, want %v", tc.name, ids(got), tc.want)
			}
			n, err := db.CountCases(ctx, tc.f)
			if err != nil || n != len(tc.want) {
				t.Errorf("%s: count %d %v, want %d", tc.name, n, err, len(tc.want))
			}
		}
	})
}

// TestSavedFilters: each person's own filters, saved, listed, replaced by
// name, deleted; another person's cannot be deleted.
func TestSavedFilters(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
		if err := db.Write(ctx, func(tx *Tx) error {
			for _, id := range []string{"a1", "a2"} {
				if err := tx.PutAccount(ctx, Account{ID: id, Username: id, Name: id, Role: cases.RoleCommander, RegionPath: streetPath, PasswordHash: "h", Active: true, CreatedAt: now}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		save := func(f SavedFilter) (SavedFilter, error) {
			var out SavedFilter
			err := db.Write(ctx, func(tx *Tx) error {
				var err error
				out, err = tx.SaveFilter(ctx, f)
				return err
			})
			return out, err
		}
		f1, err := save(SavedFilter{ID: "s1", AccountID: "a1", Name: "超期特急", Query: "overdue=1&severity=critical", CreatedAt: now})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := save(SavedFilter{ID: "s2", AccountID: "a1", Name: "热线", Query: "source=hotline", CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		if _, err := save(SavedFilter{ID: "s3", AccountID: "a2", Name: "热线", Query: "source=hotline&overdue=1", CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		again, err := save(SavedFilter{ID: "s4", AccountID: "a1", Name: "超期特急", Query: "overdue=1", CreatedAt: now})
		if err != nil || again.ID != f1.ID {
			t.Fatalf("saving under the same name: %+v %v, want ID %s", again, err, f1.ID)
		}
		list, err := db.SavedFilters(ctx, "a1")
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || list[0].Name != "热线" || list[1].Query != "overdue=1" || list[0].Query != "source=hotline" {
			t.Fatalf("a1's filters: %+v", list)
		}
		err = db.Write(ctx, func(tx *Tx) error { return tx.DeleteSavedFilter(ctx, "a2", "s1") })
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("a2 deleting a1's filter: %v", err)
		}
		if err := db.Write(ctx, func(tx *Tx) error { return tx.DeleteSavedFilter(ctx, "a1", "s1") }); err != nil {
			t.Fatal(err)
		}
		if list, _ := db.SavedFilters(ctx, "a1"); len(list) != 1 {
			t.Fatalf("after delete: %+v", list)
		}
		if list, _ := db.SavedFilters(ctx, "a2"); len(list) != 1 || list[0].ID != "s3" {
			t.Fatalf("a2's filters: %+v", list)
		}
	})
}

// TestSearchCoversAnswersFeedbackNotes: a shop's name in a category answer,
// a unit's feedback and a step's note are found, through the index and by
// testing rows, after the change and after a rebuild.
func TestSearchCoversAnswersFeedbackNotes(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		c := newCase("s1", func(c *cases.Case) { c.Answers = map[string]any{"shop": "老码头火锅", "floors": 3} })
		insert(t, db, c, newCase("s2"))
		find := func(q string) []string {
			t.Helper()
			got, err := db.Cases(ctx, CaseFilter{Scope: Scope{All: true}, Text: q})
			if err != nil {
				t.Fatal(err)
			}
			return ids(got)
		}
		if got := find("火锅"); !slices.Equal(got, []string{"s1"}) {
			t.Errorf("火锅 (a category answer): %v", got)
		}
		if got := find("老码头火锅"); !slices.Equal(got, []string{"s1"}) {
			t.Errorf("老码头火锅 (through the index): %v", got)
		}
		n := *c
		n.Version, n.State = 2, cases.Handling
		n.Tasks = []cases.Task{{UnitID: "u1", Role: cases.Lead, State: cases.TaskFedBack, Feedback: "已清理油烟管道"}}
		step := stepOf(&n, cases.ActFeedback)
		step.Note = "商户承诺每周清洗"
		if err := db.Write(ctx, func(tx *Tx) error { return tx.UpdateCase(ctx, was(1), &n, step, ClockRule{}) }); err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{"油烟管道", "每周清洗", "火锅", "路面出现坑洼"} {
			if got := find(q); !slices.Contains(got, "s1") {
				t.Errorf("%s after the feedback: %v", q, got)
			}
		}
		// The text changes again: the old feedback is no longer found.
		m := n
		m.Version = 3
		m.Tasks = []cases.Task{{UnitID: "u1", Role: cases.Lead, State: cases.TaskFedBack, Feedback: "整改完毕"}}
		if err := db.Write(ctx, func(tx *Tx) error { return tx.UpdateCase(ctx, was(2), &m, stepOf(&m, cases.ActFeedback), ClockRule{}) }); err != nil {
			t.Fatal(err)
		}
		if got := find("油烟管道"); len(got) != 0 {
			t.Errorf("the old feedback is still found: %v", got)
		}
		if got := find("整改完毕"); !slices.Equal(got, []string{"s1"}) {
			t.Errorf("the new feedback: %v", got)
		}
		if got := find("每周清洗"); !slices.Equal(got, []string{"s1"}) {
			t.Errorf("the note after a second change: %v", got)
		}
		// An old body (written before search covered answers) is rebuilt.
		if _, err := db.write.ExecContext(ctx, `UPDATE cases SET body = number WHERE id = 's1'`); err != nil {
			t.Fatal(err)
		}
		if db.Dialect == SQLite {
			if _, err := db.write.ExecContext(ctx, `INSERT INTO case_fts(case_fts) VALUES ('rebuild')`); err != nil {
				t.Fatal(err)
			}
		}
		if got := find("火锅"); len(got) != 0 {
			t.Fatalf("the shortened body still finds 火锅: %v", got)
		}
		changed, err := db.RebuildSearch(ctx, nil)
		if err != nil || changed != 1 {
			t.Fatalf("rebuild: %d %v", changed, err)
		}
		for _, q := range []string{"火锅", "老码头火锅", "整改完毕", "每周清洗"} {
			if got := find(q); !slices.Equal(got, []string{"s1"}) {
				t.Errorf("%s after the rebuild: %v", q, got)
			}
		}
		if db.Dialect == SQLite {
			if _, err := db.write.ExecContext(ctx, `INSERT INTO case_fts(case_fts, rank) VALUES ('integrity-check', 1)`); err != nil {
				t.Errorf("integrity check: %v", err)
			}
		}
	})
}

func TestMergeFTS(t *testing.T) {
	dels, ins := mergeFTS([]ftsRow{
		{id: "a", body: "a1"},                          // inserted in the batch
		{id: "a", body: "a2", old: "a1", update: true}, // then changed: indexed once, with a2
		{id: "b", body: "b2", old: "b1", update: true}, // changed twice: one delete of b1
		{id: "b", body: "b3", old: "b2", update: true},
		{id: "c", body: "c1", old: "c1", update: true}, // unchanged
	})
	if fmt.Sprint(dels) != fmt.Sprint([]ftsRow{{id: "b", body: "b1"}}) {
		t.Errorf("deletes %v", dels)
	}
	if fmt.Sprint(ins) != fmt.Sprint([]ftsRow{{id: "a", body: "a2"}, {id: "b", body: "b3"}}) {
		t.Errorf("inserts %v", ins)
	}
}

func TestStepNote(t *testing.T) {
	c := &cases.Case{Description: "  井盖缺失，\n请尽快处理 "}
	for _, tc := range []struct{ note, want string }{
		{"井盖缺失， 请尽快处理", ""},     // the description again (one line, trimmed)
		{" 井盖缺失，\r\n请尽快处理", ""}, // its line break written otherwise
		{"井盖缺失", "井盖缺失"},        // part of it: a note of its own
		{"已派单至市政", "已派单至市政"},    // another note
		{"", ""},
	} {
		if got := stepNote(c, tc.note); got != tc.want {
			t.Errorf("stepNote(%q) = %q, want %q", tc.note, got, tc.want)
		}
	}
	if got := stepNote(&cases.Case{}, "现场已处理"); got != "现场已处理" {
		t.Errorf("no description: %q", got)
	}
}

// A report's note is its description: the case's text holds it once, is
// still found by it (walk and index), and RebuildSearch writes an old body
// that held it twice again without the second copy.
func TestReportNoteNotRepeated(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		c := newCase("r1", func(c *cases.Case) { c.Description = "人行道井盖缺失存在安全隐患" })
		step := stepOf(c, cases.ActReport)
		step.Note = c.Description
		if err := db.Write(ctx, func(tx *Tx) error { return tx.InsertCase(ctx, c, step, ClockRule{}) }); err != nil {
			t.Fatal(err)
		}
		body := func() string {
			t.Helper()
			var b string
			if err := db.write.QueryRowContext(ctx, `SELECT body FROM cases WHERE id = 'r1'`).Scan(&b); err != nil {
				t.Fatal(err)
			}
			return b
		}
		if b := body(); strings.Count(b, c.Description) != 1 || strings.Contains(b, "\n") {
			t.Errorf("body %q: the description once, no notes", b)
		}
		for _, q := range []string{"井盖", "井盖缺失存在"} {
			got, err := db.Cases(ctx, CaseFilter{Scope: Scope{All: true}, Text: q})
			if err != nil || !slices.Equal(ids(got), []string{"r1"}) {
				t.Errorf("%s: %v %v", q, ids(got), err)
			}
		}
		// A later step's own note is kept; the description as a note is not.
		n := *c
		n.Version, n.State = 2, cases.Accepted
		s2 := stepOf(&n, cases.ActAccept)
		s2.Note = "已受理，转市政"
		if err := db.Write(ctx, func(tx *Tx) error { return tx.UpdateCase(ctx, was(1), &n, s2, ClockRule{}) }); err != nil {
			t.Fatal(err)
		}
		if b := body(); b != caseText(&n)+"\n已受理，转市政" {
			t.Errorf("body after a note: %q", b)
		}
		// A body written before (the description twice) is rebuilt without it.
		if _, err := db.write.ExecContext(ctx, `UPDATE cases SET body = $1 WHERE id = 'r1'`, caseText(&n)+"\n"+c.Description+" 已受理，转市政"); err != nil {
			t.Fatal(err)
		}
		if db.Dialect == SQLite {
			if _, err := db.write.ExecContext(ctx, `INSERT INTO case_fts(case_fts) VALUES ('rebuild')`); err != nil {
				t.Fatal(err)
			}
		}
		changed, err := db.RebuildSearch(ctx, nil)
		if err != nil || changed != 1 {
			t.Fatalf("rebuild: %d %v", changed, err)
		}
		if b := body(); b != caseText(&n)+"\n已受理，转市政" {
			t.Errorf("body after the rebuild: %q", b)
		}
		if db.Dialect == SQLite {
			if _, err := db.write.ExecContext(ctx, `INSERT INTO case_fts(case_fts, rank) VALUES ('integrity-check', 1)`); err != nil {
				t.Errorf("integrity check: %v", err)
			}
		}
	})
}

// mixedCases writes the fixture of the queue and count tests: 60 cases in
// seven states (open, closed, held, rejected), reported over nine hours
// with ties, of three urgencies, due before, at and after t0 or with no
// running clock, in two streets and two districts (placeApart), a fifth of
// one category.
func mixedCases(t *testing.T, db *DB) []*cases.Case {
	t.Helper()
	states := []cases.State{cases.Reported, cases.Dispatched, cases.Closed, cases.Held, cases.Handling, cases.Rejected, cases.Accepted}
	var all []*cases.Case
	for i := range 60 {
		all = append(all, newCase(fmt.Sprintf("oq%03d", i), func(c *cases.Case) {
			c.State = states[i%len(states)]
			c.ReportedAt = t0.Add(time.Duration(i%9) * time.Hour) // ties in report time
			c.UpdatedAt = c.ReportedAt
			c.Severity = []sla.Severity{sla.Normal, sla.Urgent, sla.Critical}[i%3]
			due := t0.Add(time.Duration(i%5-2) * time.Hour) // one in five due at t0
			c.Clock = sla.Clock{Start: t0, Due: due, YellowAt: due.Add(-time.Minute)}
			switch c.State {
			case cases.Closed, cases.Rejected:
				c.ClosedAt, c.Clock = c.ReportedAt.Add(time.Hour), sla.Clock{}
			}
			if i%8 == 3 {
				c.Clock = sla.Clock{} // open with no running clock
			}
			placeApart(i, c)
			if i%5 == 0 {
				c.Category = "env.litter"
			}
		}))
	}
	insert(t, db, all...)
	return all
}

// queueFilter is a filter of the board's and its plain reading in Go, and
// whether the open cases' index answers it alone (openIndexed).
type queueFilter struct {
	name    string
	f       CaseFilter
	keep    func(c *cases.Case) bool
	indexed bool
}

// queueFilters are the filters the board sends, read at now.
func queueFilters(now time.Time) []queueFilter {
	open, yes, no := true, true, false
	due := func(c *cases.Case) int64 { return CursorOf(*c, SortDue).Key }
	isOpen := func(c *cases.Case) bool { return c.ClosedAt.IsZero() && c.State != cases.Held }
	return []queueFilter{
		{"open", CaseFilter{Open: &open}, isOpen, true},
		{"overdue", CaseFilter{Open: &open, Overdue: &yes}, func(c *cases.Case) bool { return isOpen(c) && due(c) < ms(now) }, true},
		{"not overdue", CaseFilter{Open: &open, Overdue: &no}, func(c *cases.Case) bool { return isOpen(c) && due(c) >= ms(now) }, true},
		{"two states", CaseFilter{States: []cases.State{cases.Reported, cases.Dispatched}}, func(c *cases.Case) bool {
			return c.State == cases.Reported || c.State == cases.Dispatched
		}, true},
		{"a street", CaseFilter{Open: &open, RegionPath: siblingStreet}, func(c *cases.Case) bool {
			return isOpen(c) && strings.HasPrefix(c.RegionPath, siblingStreet)
		}, true},
		{"dates", CaseFilter{Open: &open, From: t0.Add(2 * time.Hour), To: t0.Add(6 * time.Hour)}, func(c *cases.Case) bool {
			return isOpen(c) && !c.ReportedAt.Before(t0.Add(2*time.Hour)) && c.ReportedAt.Before(t0.Add(6*time.Hour))
		}, true},
		{"a category", CaseFilter{Open: &open, Category: "env.litter"}, func(c *cases.Case) bool { return isOpen(c) && c.Category == "env.litter" }, false},
		{"held", CaseFilter{States: []cases.State{cases.Held}}, func(c *cases.Case) bool { return c.State == cases.Held }, false},
		{"every state", CaseFilter{}, func(c *cases.Case) bool { return true }, false},
		{"closed", CaseFilter{States: []cases.State{cases.Closed}}, func(c *cases.Case) bool { return c.State == cases.Closed }, false},
		{"closed, a category", CaseFilter{Open: &no, Category: "env.litter"}, func(c *cases.Case) bool {
			return !c.ClosedAt.IsZero() && c.Category == "env.litter"
		}, false},
	}
}

// queueScopes are the scopes the queue and count tests read: a district, a
// street and every region, with the region path prefix each holds.
var queueScopes = []struct {
	name string
	s    Scope
	in   string
}{{"district", Scope{RegionPath: districtPath}, districtPath}, {"street", Scope{RegionPath: streetPath}, streetPath}, {"all", Scope{All: true}, "/"}}

// TestOpenQueue: a board's queue of open cases in each sorted order, with
// the filters the board sends (overdue or not, open states, a region, dates,
// a category, and the held reports), pages through exactly the cases a
// plain reading of the filter selects, in order, for a district, a street
// and every region, over cases open, closed, held and rejected in two
// districts. On SQLite the open queue reads the open cases' partial index
// alone (migration 42), and the held reports their own; a queue of any
// state by report time is tried in a window of the newest cases first,
// which may hold every case, some pages or less than one.
func TestOpenQueue(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		all := mixedCases(t, db)
		now := t0
		open, yes := true, true
		filters := queueFilters(now)
		less := func(sort string, a, b *cases.Case) int {
			ka, kb := CursorOf(*a, sort).Key, CursorOf(*b, sort).Key
			if sort == SortReported || sort == SortSeverity {
				ka, kb = -ka, -kb // newest, most urgent first
			}
			if ka != kb {
				if ka < kb {
					return -1
				}
				return 1
			}
			return strings.Compare(b.ID, a.ID)
		}
		// The window of a queue by report time (reportedWindow) holds the
		// whole file, a part of it (pages found in it, others not), or
		// less than a page.
		defer func(n int) { reportedWindowRows = n }(reportedWindowRows)
		for _, window := range []int{2000, 9, 2} {
			reportedWindowRows = window
			for _, scope := range queueScopes {
				for _, fl := range filters {
					for _, sort := range append([]string{SortNewest}, Sorts...) {
						var want []string
						var sel []*cases.Case
						for _, c := range all {
							if strings.HasPrefix(c.RegionPath, scope.in) && fl.keep(c) {
								sel = append(sel, c)
							}
						}
						slices.SortFunc(sel, func(a, b *cases.Case) int { return less(sort, a, b) })
						for _, c := range sel {
							want = append(want, c.ID)
						}
						f := fl.f
						f.Scope, f.Sort, f.Now, f.Limit = scope.s, sort, now, 4
						var got []string
						for {
							list, err := db.Cases(ctx, f)
							if err != nil {
								t.Fatalf("%s, %s, %q: %v", scope.name, fl.name, sort, err)
							}
							got = append(got, ids(list)...)
							if len(list) < f.Limit {
								break
							}
							if sort == SortNewest {
								f.After = list[len(list)-1].ID
							} else {
								cur := CursorOf(list[len(list)-1], sort)
								f.Cursor = &cur
							}
						}
						if !slices.Equal(got, want) {
							t.Errorf("window %d, %s, %s, %q:\n got %v\nwant %v", window, scope.name, fl.name, sort, got, want)
						}
					}
				}
			}
		}
		if db.Dialect != SQLite {
			// A street's sorted queue is the range of its region path in
			// the open cases' index (cases_open_due); a district's, or
			// any queue newest first, is not.
			for _, tc := range []struct {
				f       CaseFilter
				inRange bool
			}{
				{CaseFilter{Scope: Scope{RegionPath: streetPath}, Open: &open, Sort: SortReported}, true},
				{CaseFilter{Scope: Scope{RegionPath: districtPath}, Open: &open, Sort: SortReported}, false},
				{CaseFilter{Scope: Scope{RegionPath: streetPath}, Open: &open}, false},
			} {
				plan := explainCases(t, db, tc.f)
				if got := strings.Contains(plan, "region_path >="); got != tc.inRange {
					t.Errorf("%s, %q: region path range %v, want %v:\n%s", tc.f.Scope.RegionPath, tc.f.Sort, got, tc.inRange, plan)
				}
			}
			return
		}
		for _, tc := range []struct {
			f    CaseFilter
			plan string
		}{
			{CaseFilter{Scope: Scope{RegionPath: districtPath}, Open: &open, Sort: SortReported}, "COVERING INDEX cases_open_overdue"},
			{CaseFilter{Scope: Scope{RegionPath: streetPath}, Open: &open, Overdue: &yes, Sort: SortSeverity, Now: now}, "COVERING INDEX cases_open_overdue"},
			{CaseFilter{Scope: Scope{RegionPath: districtPath}, States: []cases.State{cases.Held}}, "INDEX cases_held"},
			// The city's red panel names the index (with the loader's
			// samples of a 1 M-case file SQLite preferred a skip-scan of
			// the categories' due times, reading each row).
			{CaseFilter{Scope: Scope{All: true}, Open: &open, Overdue: &yes, Now: now}, "INDEXED BY cases_open_overdue"},
			{CaseFilter{Scope: Scope{RegionPath: "/500000/"}, Open: &open, Overdue: &yes, Now: now}, "INDEXED BY cases_open_overdue"},
			{CaseFilter{Scope: Scope{RegionPath: "/500000/"}, Open: &open, Overdue: &yes, Now: now}, "COVERING INDEX cases_open_overdue (due_at<?)"},
		} {
			plan := explainCases(t, db, tc.f)
			if !strings.Contains(plan, tc.plan) {
				t.Errorf("%+v: the plan does not read %s:\n%s", tc.f, tc.plan, plan)
			}
		}
	})
}

// TestCountOpenIndex: a list's total of a region's open cases (the command
// board as it opens, with its state, overdue and date filters) is counted
// from the partial index of the open cases and is the plain reading of the
// filter, for each filter and scope of TestOpenQueue; a filter asking for a
// column that index lacks, or another scope, is counted as before, and up
// to a limit stops at limit+1 (the open count is exact whatever the limit).
// On SQLite the open count reads cases_open_overdue alone.
func TestCountOpenIndex(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		all := mixedCases(t, db)
		open := true
		for _, scope := range queueScopes {
			for _, fl := range queueFilters(t0) {
				f := fl.f
				f.Scope, f.Now = scope.s, t0
				if got := f.openIndexed(); got != fl.indexed {
					t.Errorf("%s, %s: counted from the open index %v, want %v", scope.name, fl.name, got, fl.indexed)
				}
				want := 0
				for _, c := range all {
					if strings.HasPrefix(c.RegionPath, scope.in) && fl.keep(c) {
						want++
					}
				}
				for _, limit := range []int{0, 1, 5, 100} {
					n, more, err := db.CountCasesUpTo(ctx, f, limit)
					if err != nil {
						t.Fatal(err)
					}
					exp, expMore := want, false
					if limit > 0 && !fl.indexed && want > limit {
						exp, expMore = limit, true
					}
					if n != exp || more != expMore {
						t.Errorf("%s, %s, limit %d: %d (more %v), want %d (more %v) of %d", scope.name, fl.name, limit, n, more, exp, expMore, want)
					}
				}
			}
		}
		for _, s := range []Scope{{RegionPath: gridPath, AccountID: "acct-gw"}, {UnitID: "u1"}} {
			if (CaseFilter{Scope: s, Open: &open}).openIndexed() {
				t.Errorf("%+v: a scope beyond a region counted from the open index", s)
			}
		}
		if db.Dialect != SQLite {
			return
		}
		yes := true
		q, args, _ := db.countQuery(CaseFilter{Scope: Scope{RegionPath: districtPath}, Open: &open, Overdue: &yes, From: t0, Now: t0}, 0)
		plan := strings.Join(sqlitePlan(t, db.read, q, args...), "\n")
		if !strings.Contains(plan, "COVERING INDEX cases_open_overdue") {
			t.Errorf("the open count does not read cases_open_overdue alone:\n%s", plan)
		}
	})
}

// TestReportedByID: a street's queue by report time in any state, when the
// window of the file's newest cases does not answer it (reportedWindow with
// a window of 2), is paged through on both engines exactly as a plain
// reading of the filter orders it, over cases made at their report time
// (several in one millisecond), cases taken in hours after they were
// reported (a hotline's work orders: IDs later than their report times),
// and cases whose IDs are not made from a time at all. On SQLite the
// street's index walked by ID answers it (reportedByID) whatever the number
// of matches read beyond a page: it answers a page when the matches read
// decide it, and hands over to the planner when they do not.
func TestReportedByID(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		var g id.Generator
		var all []*cases.Case
		states := []cases.State{cases.Closed, cases.Dispatched, cases.Closed, cases.Reported, cases.Closed, cases.Rejected}
		for i := range 90 {
			at := t0.Add(time.Duration(i/3) * time.Minute) // three in a minute, two of them in one millisecond
			if i%3 == 2 {
				at = at.Add(time.Second)
			}
			made := at
			if i%10 == 4 {
				made = at.Add(time.Duration(i%7+1) * time.Hour) // a work order taken hours after its report
			}
			cid := g.At(made)
			switch i {
			case 7:
				cid = "ZNEW" // not made from a time; sorts above every made ID
			case 8:
				cid = "ZOLD"
				at = t0.Add(-time.Hour)
			}
			all = append(all, newCase(cid, func(c *cases.Case) {
				c.State, c.ReportedAt, c.UpdatedAt = states[i%len(states)], at, at
				if c.State == cases.Closed || c.State == cases.Rejected {
					c.ClosedAt, c.Clock = at.Add(time.Hour), sla.Clock{}
				}
				if i%4 == 1 {
					c.RegionPath, c.CenterPath, c.GridCode = siblingGrid, siblingStreet, "500103002001001"
				}
				if i%5 == 0 {
					c.Category = "env.litter"
				}
			}))
		}
		insert(t, db, all...)
		open, no := true, false
		filters := []struct {
			name string
			f    CaseFilter
			keep func(*cases.Case) bool
		}{
			{"closed", CaseFilter{States: []cases.State{cases.Closed}}, func(c *cases.Case) bool { return c.State == cases.Closed }},
			{"every state", CaseFilter{}, func(c *cases.Case) bool { return true }},
			{"done, a category", CaseFilter{Open: &no, Category: "env.litter"}, func(c *cases.Case) bool {
				return !c.ClosedAt.IsZero() && c.Category == "env.litter"
			}},
			{"since", CaseFilter{States: []cases.State{cases.Closed}, From: t0.Add(10 * time.Minute)}, func(c *cases.Case) bool {
				return c.State == cases.Closed && !c.ReportedAt.Before(t0.Add(10*time.Minute))
			}},
			{"open", CaseFilter{Open: &open}, func(c *cases.Case) bool { return c.ClosedAt.IsZero() }},
		}
		defer func(w, s int) { reportedWindowRows, reportedByIDSlack = w, s }(reportedWindowRows, reportedByIDSlack)
		reportedWindowRows = 2
		for _, slack := range []int{50, 3, 0} {
			reportedByIDSlack = slack
			for _, scope := range []Scope{{RegionPath: streetPath}, {RegionPath: siblingStreet}} {
				for _, fl := range filters {
					var want []string
					var sel []*cases.Case
					for _, c := range all {
						if strings.HasPrefix(c.RegionPath, scope.RegionPath) && fl.keep(c) {
							sel = append(sel, c)
						}
					}
					slices.SortFunc(sel, func(a, b *cases.Case) int {
						if !a.ReportedAt.Equal(b.ReportedAt) {
							return b.ReportedAt.Compare(a.ReportedAt)
						}
						return strings.Compare(b.ID, a.ID)
					})
					for _, c := range sel {
						want = append(want, c.ID)
					}
					for _, limit := range []int{4, 7} {
						f := fl.f
						f.Scope, f.Sort, f.Now, f.Limit = scope, SortReported, t0, limit
						var got []string
						for page := 0; page < 40; page++ {
							list, err := db.Cases(ctx, f)
							if err != nil {
								t.Fatalf("%s, %s: %v", scope.RegionPath, fl.name, err)
							}
							got = append(got, ids(list)...)
							if len(list) < f.Limit {
								break
							}
							cur := CursorOf(list[len(list)-1], SortReported)
							f.Cursor = &cur
						}
						if !slices.Equal(got, want) {
							t.Errorf("slack %d, %s, %s, %d a page:\n got %v\nwant %v", slack, scope.RegionPath, fl.name, limit, got, want)
						}
					}
				}
			}
		}
		if db.Dialect != SQLite {
			return
		}
		// The walk itself. The sibling street's cases were all taken at
		// their report times: the matches of a page decide it, with or
		// without more. The street's closed cases include work orders
		// taken hours after their reports, whose IDs come first: a few
		// matches beyond the page do not decide it; all of them do (the
		// walk reads every match).
		for _, tc := range []struct {
			scope Scope
			f     CaseFilter
			slack int
			ok    bool
		}{
			{Scope{RegionPath: siblingStreet}, CaseFilter{}, 3, true},
			{Scope{RegionPath: siblingStreet}, CaseFilter{}, 0, true},
			{Scope{RegionPath: streetPath}, CaseFilter{States: []cases.State{cases.Closed}}, 3, false},
			{Scope{RegionPath: streetPath}, CaseFilter{States: []cases.State{cases.Closed}}, 50, true},
		} {
			reportedByIDSlack = tc.slack
			f := tc.f
			f.Scope, f.Sort, f.Now, f.Limit = tc.scope, SortReported, t0, 4
			found, ok, err := db.reportedByID(ctx, f, db.caseWhere(f), selectItem)
			if err != nil || ok != tc.ok {
				t.Errorf("%s, slack %d: ok %v, %v; want ok %v", tc.scope.RegionPath, tc.slack, ok, err, tc.ok)
			}
			if ok && len(found) != 4 {
				t.Errorf("%s, slack %d: %d cases", tc.scope.RegionPath, tc.slack, len(found))
			}
		}
	})
}
