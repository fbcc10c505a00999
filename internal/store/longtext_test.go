package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"zhizhi/internal/cases"
	"zhizhi/internal/store/storetest"
)

// storedText reads how a case's text is stored: body and body_long.
func storedText(t *testing.T, db *DB, id string) (body, long sql.NullString) {
	t.Helper()
	if err := db.write.QueryRowContext(context.Background(), `SELECT body, body_long FROM cases WHERE id = $1`, id).Scan(&body, &long); err != nil {
		t.Fatal(err)
	}
	return body, long
}

// checkStored: the text is stored whole, in body unless it is longer than
// MaxInlineBody on PostgreSQL, where it is in body_long and body is NULL.
func checkStored(t *testing.T, db *DB, id, text string) {
	t.Helper()
	body, long := storedText(t, db, id)
	if db.Dialect == Postgres && len(text) > MaxInlineBody {
		if body.Valid || long.String != text {
			t.Errorf("%s (%d bytes): body %v (%d bytes), body_long %v (%d bytes); want NULL and the text",
				id, len(text), body.Valid, len(body.String), long.Valid, len(long.String))
		}
		return
	}
	if body.String != text || long.Valid {
		t.Errorf("%s (%d bytes): body %v (%d bytes), body_long %v (%d bytes); want the text and NULL",
			id, len(text), body.Valid, len(body.String), long.Valid, len(long.String))
	}
}

// TestLongCaseText: a case whose text is longer than a btree entry holds
// is written on PostgreSQL (migration 39: the text in body_long) and is
// found by a word near its end through every path of a text search: a
// street's and a district's window of newest cases, the all-scope window,
// the walk of a listing (a word shorter than a trigram) and the trigram
// index (a rare word; PostgreSQL's window made too small to hold the
// listing); counted too. A short case that gets a long note becomes long
// and is found by a word of the note; texts at the limit and one byte over
// are stored in body and in body_long; RebuildSearch writes each text back
// where it belongs.
func TestLongCaseText(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		long := storetest.RandomHan(1, 3000) // 9,000 bytes
		var all []*cases.Case
		for i := range 12 {
			all = append(all, newCase(fmt.Sprintf("S%02d", i), func(c *cases.Case) {
				c.Description = "路面出现坑洼" + storetest.RandomHan(uint64(100+i), 20)
				if i%2 == 1 {
					c.RegionPath, c.CenterPath, c.GridCode = siblingGrid, siblingStreet, "500103002001001"
				}
			}))
		}
		all = append(all, newCase("L1", func(c *cases.Case) { c.Description = long }))
		// Texts at the limit and one byte over: the number, the
		// description (Chinese characters, then ASCII letters to the
		// byte), the address.
		for i, id := range []string{"E0", "E1"} {
			c := newCase(id)
			c.Description = ""
			pad := MaxInlineBody - len(caseBody(c, nil)) - 1 + i // the space before it
			c.Description = storetest.RandomHan(uint64(7+i), pad/3) + strings.Repeat("x", pad%3)
			all = append(all, c)
		}
		insert(t, db, all...)
		if n := len(caseBody(all[len(all)-2], nil)); n != MaxInlineBody {
			t.Fatalf("E0's text is %d bytes, want %d", n, MaxInlineBody)
		}
		bodies := map[string]string{}
		for _, c := range all {
			bodies[c.ID] = caseBody(c, stepOf(c, cases.ActReport))
			checkStored(t, db, c.ID, bodies[c.ID])
		}

		// The oracle: every case whose text holds the word, newest first.
		street := map[string]bool{}
		for _, c := range all {
			street[c.ID] = strings.HasPrefix(c.RegionPath, streetPath)
		}
		oracle := func(scope Scope, q string) []string {
			var out []string
			for id, b := range bodies {
				if (scope.All || scope.RegionPath == districtPath || street[id]) && strings.Contains(b, q) {
					out = append(out, id)
				}
			}
			slices.Sort(out)
			slices.Reverse(out)
			return out
		}
		r := []rune(long)
		note := storetest.RandomHan(2, 2000)
		nr := []rune(note)
		search := func(what string, want string, words ...string) {
			t.Helper()
			saved := textWindowRows
			defer func() { textWindowRows = saved }()
			// 4,000: the window holds every listing; 1: it holds one case,
			// and the rare word is looked up in the trigram index, the
			// short one by walking the listing.
			for _, window := range []int{4000, 1} {
				textWindowRows = window
				for _, scope := range []Scope{{RegionPath: streetPath}, {RegionPath: districtPath}, {All: true}} {
					for _, q := range words {
						f := CaseFilter{Scope: scope, Text: q}
						got, err := db.Cases(ctx, f)
						if err != nil {
							t.Fatalf("%s: window %d %v %q: %v", what, window, scope, q, err)
						}
						exp := oracle(scope, q)
						if !slices.Equal(ids(got), exp) || !slices.Contains(exp, want) {
							t.Errorf("%s: window %d %v %q: got %v, want %v (with %s)", what, window, scope, q, ids(got), exp, want)
						}
						items, err := db.CaseItems(ctx, f)
						if err != nil || len(items) != len(exp) {
							t.Errorf("%s: items, window %d %v %q: %d %v, want %d", what, window, scope, q, len(items), err, len(exp))
						}
						if n, err := db.CountCases(ctx, f); err != nil || n != len(exp) {
							t.Errorf("%s: count, window %d %v %q: %d %v, want %d", what, window, scope, q, n, err, len(exp))
						}
					}
				}
			}
		}
		// Near the end of the text: a rare word (four characters, the
		// trigram path) and a word shorter than a trigram (the walk).
		search("long report", "L1", string(r[2990:2994]), string(r[2995:2997]))
		for i, id := range []string{"E0", "E1"} {
			d := []rune(strings.TrimRight(all[len(all)-2+i].Description, "x"))
			search("at the limit + "+id, id, string(d[len(d)-4:]))
		}

		// A short case gets a long note (2,000 characters): written, made
		// long, found by a word near the note's end.
		s := all[0]
		n := *s
		n.Version, n.State, n.UpdatedAt = 2, cases.Accepted, s.UpdatedAt.Add(1)
		step := stepOf(&n, cases.ActAccept)
		step.Note = note
		if err := db.Write(ctx, func(tx *Tx) error { return tx.UpdateCase(ctx, was(1), &n, step, ClockRule{}) }); err != nil {
			t.Fatalf("a long note: %v", err)
		}
		bodies[s.ID] = caseText(&n) + "\n" + note
		checkStored(t, db, s.ID, bodies[s.ID])
		search("long note", s.ID, string(nr[1990:1994]), string(nr[1996:1998]))
		// Another note on the long case: it stays long.
		m := n
		m.Version, m.UpdatedAt = 3, n.UpdatedAt.Add(1)
		step3 := stepOf(&m, cases.ActUrge)
		step3.Note = "请加快处理"
		if err := db.Write(ctx, func(tx *Tx) error { return tx.UpdateCase(ctx, was(2), &m, step3, ClockRule{}) }); err != nil {
			t.Fatal(err)
		}
		bodies[s.ID] = caseText(&m) + "\n" + note + " 请加快处理"
		checkStored(t, db, s.ID, bodies[s.ID])
		search("a note on a long case", s.ID, "请加快处理")

		// RebuildSearch puts each text back where it belongs: the texts
		// are made wrong, the long ones stored short and the other way
		// round where the engine can.
		for id := range bodies {
			stale := "stale " + id
			if len(bodies[id]) <= MaxInlineBody && db.Dialect == Postgres {
				stale += storetest.RandomHan(3, 1000)
			}
			inline, lg := bodyCols(db.Dialect, stale)
			if _, err := db.write.ExecContext(ctx, `UPDATE cases SET body = $1, body_long = $2 WHERE id = $3`, inline, lg, id); err != nil {
				t.Fatal(err)
			}
		}
		if db.Dialect == SQLite {
			if _, err := db.write.ExecContext(ctx, `INSERT INTO case_fts(case_fts) VALUES ('rebuild')`); err != nil {
				t.Fatal(err)
			}
		}
		changed, err := db.RebuildSearch(ctx, nil)
		if err != nil || changed != len(bodies) {
			t.Fatalf("rebuild: %d %v, want %d", changed, err, len(bodies))
		}
		for id, b := range bodies {
			checkStored(t, db, id, b)
		}
		search("after the rebuild", "L1", string(r[2990:2994]), string(r[2995:2997]))
		search("after the rebuild", s.ID, string(nr[1990:1994]))
	})
}

// TestLongTextIndexOnly: on PostgreSQL a street's and a district's text
// listings and counts can still read their index alone (cases_street,
// cases_district_cover), now that a long text is looked up elsewhere:
// PostgreSQL reads an index alone only when the query names no other
// column of the walked table, and a test naming body_long there would
// make it read every tested row from the table. The plans are made with
// sequential and bitmap scans disabled, the table vacuumed (its pages
// all-visible), so the planner takes the index-only scan of the level's
// index whenever it can, and the plain index scan of it otherwise (the
// tables here are too small for it to prefer either on its own).
func TestLongTextIndexOnly(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		if engineOf(t) != Postgres {
			t.Skip("PostgreSQL's plans")
		}
		ctx := context.Background()
		db := openTestDB(t)
		insert(t, db, newCase("S1"), newCase("L1", func(c *cases.Case) { c.Description = storetest.RandomHan(1, 3000) }))
		conn, err := db.read.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		for _, q := range []string{`SET enable_seqscan = off`, `SET enable_bitmapscan = off`, `VACUUM ANALYZE cases`} {
			if _, err := conn.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		explain := func(q string, args []any) string {
			t.Helper()
			rows, err := conn.QueryContext(ctx, `EXPLAIN `+q, args...)
			if err != nil {
				t.Fatalf("explain: %v\n%s", err, q)
			}
			defer rows.Close()
			var b strings.Builder
			for rows.Next() {
				var line string
				if err := rows.Scan(&line); err != nil {
					t.Fatal(err)
				}
				b.WriteString(line + "\n")
			}
			return b.String()
		}
		for _, tc := range []struct {
			scope Scope
			index string
		}{{Scope{RegionPath: streetPath}, "cases_street"}, {Scope{RegionPath: districtPath}, "cases_district_cover"}} {
			want := "Index Only Scan Backward using " + tc.index + " on cases"
			// The window of newest cases (textWindow), a word of any length.
			f := CaseFilter{Scope: tc.scope, Limit: 50}
			w := db.caseWhere(f)
			win := `SELECT id, body` + w.table() + w.sql() + ` ORDER BY id DESC LIMIT 4000`
			q := windowPGSQL(w, win, selectItem, pgBodyContains("井盖", "$%[1]d", "win"), 4000)
			if plan := explain(q, append(w.args, "井盖", 50)); !strings.Contains(plan, want) {
				t.Errorf("%s window: no %q\n%s", tc.index, want, plan)
			}
			// The walk of the listing (a word shorter than a trigram,
			// after the window), in both of pgBodyContains's forms.
			for _, text := range []string{"井", "a"} {
				f.Text = text
				if err := db.textPlan(ctx, &f); err != nil || f.textIndex {
					t.Fatalf("%q: text index %v %v", text, f.textIndex, err)
				}
				w := db.caseWhere(f)
				w.args = append(w.args, f.Limit)
				if plan := explain(listSQL(w, f.Sort, selectItem), w.args); !strings.Contains(plan, want) {
					t.Errorf("%s walk %q: no %q\n%s", tc.index, text, want, plan)
				}
				w = db.caseWhere(f)
				if plan := explain(`SELECT COUNT(*)`+w.table()+w.sql(), w.args); !strings.Contains(plan, "Index Only Scan using "+tc.index) {
					t.Errorf("%s count %q: no index-only scan\n%s", tc.index, text, plan)
				}
			}
			// A word of three characters or more tested as the trigram
			// path tests it (ILIKE), when the planner walks the listing
			// (a common word) or counts it.
			f.Text = "井盖缺"
			if err := db.textPlan(ctx, &f); err != nil || !f.textIndex {
				t.Fatalf("text index %v %v", f.textIndex, err)
			}
			w = db.caseWhere(f)
			if plan := explain(`SELECT COUNT(*)`+w.table()+w.sql(), w.args); !strings.Contains(plan, "Index Only Scan using "+tc.index) {
				t.Errorf("%s count, ILIKE: no index-only scan\n%s", tc.index, plan)
			}
			w.args = append(w.args, f.Limit)
			if plan := explain(listSQL(w, f.Sort, selectItem), w.args); !strings.Contains(plan, want) {
				t.Errorf("%s walk, ILIKE: no %q\n%s", tc.index, want, plan)
			}
		}
	})
}

// TestLongTextCopy: a copy between the engines (zhizhi copy, and a
// PostgreSQL backup, which is a copy into SQLite) moves a long text to
// where the target keeps it, and the checksums agree: SQLite to
// PostgreSQL (body_long there) and back.
func TestLongTextCopy(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		if engineOf(t) != Postgres {
			t.Skip("a copy between the engines")
		}
		ctx := context.Background()
		lite := mustOpen(t, filepath.Join(t.TempDir(), "from.db"))
		all := []*cases.Case{newCase("S1"), newCase("L1", func(c *cases.Case) { c.Description = storetest.RandomHan(1, 3000) })}
		insert(t, lite, all...)
		pg := openTestDB(t)
		back := mustOpen(t, filepath.Join(t.TempDir(), "back.db"))
		for _, hop := range []struct{ from, to *DB }{{lite, pg}, {pg, back}} {
			res, err := Copy(ctx, hop.from, hop.to, nil)
			if err != nil {
				t.Fatalf("copy %s to %s: %v", hop.from.Dialect, hop.to.Dialect, err)
			}
			if !res.OK() {
				for i := range res.Source {
					if i < len(res.Target) && res.Source[i] != res.Target[i] {
						t.Errorf("copy %s to %s: %+v, target %+v", hop.from.Dialect, hop.to.Dialect, res.Source[i], res.Target[i])
					}
				}
				t.Errorf("copy %s to %s: searches %+v", hop.from.Dialect, hop.to.Dialect, res.Search)
			}
			for _, c := range all {
				checkStored(t, hop.to, c.ID, caseBody(c, nil))
			}
		}
		for _, db := range []*DB{pg, back} {
			got, err := db.Cases(ctx, CaseFilter{Scope: Scope{All: true}, Text: string([]rune(all[1].Description)[2990:2994])})
			if err != nil || !slices.Equal(ids(got), []string{"L1"}) {
				t.Errorf("%s: %v %v", db.Dialect, ids(got), err)
			}
		}
	})
}
