package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/sla"
)

// TestCaseItems: a listing of items holds, in the same order, exactly the
// items of the cases the same listing of documents holds (cases.ItemOf), on
// both engines, for plain, open, text (rare and common words, the trigram
// index and the row test; PostgreSQL's window and index) and keyset pages;
// an item follows every change of its case; a row without an item (written
// before migration 27) is listed from its document until FillItems fills
// it, which leaves items already written alone.
func TestCaseItems(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		var all []*cases.Case
		for i := range 30 {
			c := newCase(caseID(i), func(c *cases.Case) {
				c.ReportedAt = t0.Add(time.Duration(i) * time.Minute)
				c.UpdatedAt = c.ReportedAt
				c.Description = "路面出现坑洼 第" + caseID(i) + "处"
				if i%3 == 0 {
					c.Description = "窨井盖缺失，行人易跌落 " + caseID(i)
					c.Severity = sla.Urgent
				}
				if i%5 == 0 {
					c.State, c.Stage, c.Clock = cases.Closed, "", sla.Clock{}
					c.ClosedAt = c.ReportedAt.Add(time.Hour)
				}
				if i%7 == 1 {
					c.State, c.Stage, c.Clock = cases.Handling, "", sla.Clock{}
					c.Tasks = []cases.Task{{UnitID: "u-lead", Role: cases.Lead, State: cases.TaskSigned,
						Handle: sla.Clock{Start: t0, Due: t0.Add(time.Hour), YellowAt: t0.Add(45 * time.Minute)}}}
					c.Supervised = true
				}
			})
			all = append(all, c)
		}
		insert(t, db, all...)
		// A change rewrites the item with the document.
		err := db.Write(ctx, func(tx *Tx) error {
			n := *all[4]
			n.Version, n.State, n.Stage, n.UpdatedAt, n.Urges = 2, cases.Accepted, cases.StageDispatch, t0.Add(3*time.Hour), 1
			n.Clock = sla.Clock{Start: t0, Due: t0.Add(5 * time.Hour), YellowAt: t0.Add(4 * time.Hour)}
			return tx.UpdateCase(ctx, was(1), &n, stepOf(&n, cases.ActAccept), ClockRule{})
		})
		if err != nil {
			t.Fatal(err)
		}
		open, closed := true, false
		sc := Scope{RegionPath: streetPath}
		filters := map[string]CaseFilter{
			"all":                   {Scope: sc},
			"open":                  {Scope: sc, Open: &open},
			"closed":                {Scope: sc, Open: &closed},
			"page 2":                {Scope: sc, Limit: 7, After: caseID(20)},
			"common word":           {Scope: sc, Text: "坑洼"},
			"rare word":             {Scope: sc, Text: "窨井盖缺失"},
			"number":                {Scope: sc, Text: "ZZ" + caseID(4)},
			"sorted by due":         {Scope: sc, Open: &open, Sort: SortDue},
			"no word":               {Scope: sc, Text: "无此内容的词"},
			"ids":                   {Scope: Scope{All: true}, IDs: []string{caseID(1), caseID(8), caseID(4)}},
			"supervised, two words": {Scope: sc, Supervised: &open},
		}
		check := func(t *testing.T, when string) {
			t.Helper()
			for name, f := range filters {
				docs, err := db.Cases(ctx, f)
				if err != nil {
					t.Fatalf("%s, %s: Cases: %v", when, name, err)
				}
				items, err := db.CaseItems(ctx, f)
				if err != nil {
					t.Fatalf("%s, %s: CaseItems: %v", when, name, err)
				}
				if len(items) != len(docs) {
					t.Fatalf("%s, %s: %d items, %d cases", when, name, len(items), len(docs))
				}
				for i := range docs {
					it, ck := cases.ItemOf(&docs[i])
					if got, want := string(items[i].JSON), jsonOf(t, it); got != want && !strings.ContainsAny(docs[i].Description, "<>&") {
						t.Errorf("%s, %s: item %d\n got %s\nwant %s", when, name, i, got, want)
					}
					if got, want := jsonOf(t, items[i].Clocks), jsonOf(t, ck); got != want {
						t.Errorf("%s, %s: clocks %d\n got %s\nwant %s", when, name, i, got, want)
					}
					if d, err := items[i].Item(); err != nil || jsonOf(t, d) != jsonOf(t, it) || items[i].ID() != docs[i].ID {
						t.Errorf("%s, %s: item %d decodes to %+v (%v), ID %s", when, name, i, d, err, items[i].ID())
					}
				}
			}
		}
		check(t, "as written")
		items, err := db.CaseItems(ctx, CaseFilter{Scope: Scope{All: true}, IDs: []string{caseID(4)}})
		if err != nil || len(items) != 1 || !items[0].Clocks.Due.Equal(t0.Add(5*time.Hour)) {
			t.Fatalf("changed case's items: %+v, %v", items, err)
		}
		if it, err := items[0].Item(); err != nil || it.State != cases.Accepted || it.Urges != 1 || it.Version != 2 {
			t.Fatalf("changed case's item: %+v, %v", it, err)
		}
		// Rows from before migration 27.
		if _, err := db.Raw().ExecContext(ctx, `UPDATE cases SET item = '' WHERE id IN ($1, $2, $3)`, caseID(3), caseID(4), caseID(29)); err != nil {
			t.Fatal(err)
		}
		check(t, "without items")
		var before string
		if err := db.Raw().QueryRowContext(ctx, `SELECT item FROM cases WHERE id = $1`, caseID(5)).Scan(&before); err != nil {
			t.Fatal(err)
		}
		n, err := db.FillItems(ctx, nil)
		if err != nil || n != 3 {
			t.Fatalf("FillItems: %d, %v; want 3", n, err)
		}
		var empty int
		if err := db.Raw().QueryRowContext(ctx, `SELECT count(*) FROM cases WHERE item = ''`).Scan(&empty); err != nil || empty != 0 {
			t.Fatalf("%d rows without an item after FillItems (%v)", empty, err)
		}
		var after string
		if err := db.Raw().QueryRowContext(ctx, `SELECT item FROM cases WHERE id = $1`, caseID(5)).Scan(&after); err != nil || after != before {
			t.Fatalf("FillItems rewrote a written item: %s → %s (%v)", before, after, err)
		}
		if n, err := db.FillItems(ctx, nil); err != nil || n != 0 {
			t.Fatalf("FillItems again: %d, %v", n, err)
		}
		var filled bool
		if err := db.Setting(ctx, "case_items_filled", &filled); err != nil || !filled {
			t.Fatalf("no marker after a finished fill: %v, %v", filled, err)
		}
		check(t, "filled")
		// PostgreSQL's text search past its window (the trigram index).
		defer func(n int) { textWindowRows = n }(textWindowRows)
		textWindowRows = 5
		check(t, "past the text window")
		if strings.Count(after, "\n") != 1 || strings.Count(after, "\t") != 3 || !strings.HasPrefix(after, `{"id":"`+caseID(5)+`"`) {
			t.Errorf("item column %q", after)
		}
	})
}

func caseID(i int) string { return "CI" + string(rune('A'+i/10)) + string(rune('0'+i%10)) }
