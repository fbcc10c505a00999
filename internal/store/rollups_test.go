package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"testing"
	"time"

	"zhizhi/internal/evaluation"
)

func TestRollups(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		apply := func(caseID string, fs []evaluation.Fact) {
			t.Helper()
			if err := db.Write(ctx, func(tx *Tx) error { return tx.ApplyFacts(ctx, CaseFacts{caseID, fs}) }); err != nil {
				t.Fatal(err)
			}
		}
		sums := func(kind evaluation.SubjectKind, prefix string, from, to int) map[string]evaluation.Counts {
			t.Helper()
			m, err := db.RollupCounts(ctx, kind, prefix, from, to)
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		want := func(name string, got, want map[string]evaluation.Counts) {
			t.Helper()
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: %v, want %v", name, got, want)
			}
		}
		g1, g2 := "500103014010001", "500103014010002"
		reported := func(grid string, day int) []evaluation.Fact {
			return []evaluation.Fact{
				{Kind: evaluation.Grid, Subject: grid, Day: day, Counts: evaluation.Counts{evaluation.Reported: 1}},
				{Kind: evaluation.Street, Subject: "500103014", Day: day, Counts: evaluation.Counts{evaluation.Reported: 1}},
			}
		}
		apply("c1", reported(g1, 20261103))
		apply("c2", reported(g1, 20261104))
		apply("c3", reported(g2, 20261201))
		want("apply", sums(evaluation.Grid, "500103014", 20261101, 20261130),
			map[string]evaluation.Counts{g1: {evaluation.Reported: 2}})
		// Applying the same facts again changes nothing.
		apply("c1", reported(g1, 20261103))
		apply("c3", reported(g2, 20261201))
		want("re-apply", sums(evaluation.Grid, "", 20261101, 20261231),
			map[string]evaluation.Counts{g1: {evaluation.Reported: 2}, g2: {evaluation.Reported: 1}})
		want("street", sums(evaluation.Street, "", 20261101, 20261231),
			map[string]evaluation.Counts{"500103014": {evaluation.Reported: 3}})

		// A change adds its difference: c1 closed, and c2 moved to g2.
		closed := reported(g1, 20261103)
		for _, f := range closed {
			f.Counts[evaluation.Registered] = 1
			f.Counts[evaluation.Closed] = 1
		}
		apply("c1", closed)
		apply("c2", reported(g2, 20261104))
		want("change", sums(evaluation.Grid, "", 20261101, 20261130), map[string]evaluation.Counts{
			g1: {evaluation.Reported: 1, evaluation.Registered: 1, evaluation.Closed: 1},
			g2: {evaluation.Reported: 1},
		})
		want("days", sums(evaluation.Grid, "", 20261104, 20261231), map[string]evaluation.Counts{
			g1: {}, g2: {evaluation.Reported: 2},
		})
		want("prefix", sums(evaluation.Grid, "500104", 20261101, 20261231), map[string]evaluation.Counts{})
		// Facts that repeat a key are summed before the upsert.
		apply("c4", append(reported(g1, 20261105), reported(g1, 20261105)...))
		want("repeat", sums(evaluation.Grid, "", 20261105, 20261105), map[string]evaluation.Counts{g1: {evaluation.Reported: 2}})
		// No facts: the case's counts are taken away.
		apply("c4", nil)
		want("none", sums(evaluation.Grid, "", 20261105, 20261105), map[string]evaluation.Counts{g1: {}})

		if err := db.Write(ctx, func(tx *Tx) error { return tx.ClearRollups(ctx) }); err != nil {
			t.Fatal(err)
		}
		want("cleared", sums(evaluation.Grid, "", 0, 99999999), map[string]evaluation.Counts{})
	})
}

// TestRollupGrains: the month rows and the day rows agree, for whole
// months, ranges across months and years, and single days; every rollup
// measure is a column.
func TestRollupGrains(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		every := evaluation.Counts{}
		for i, m := range evaluation.RollupMeasures {
			every[m] = i + 1
		}
		days := []int{20261031, 20261101, 20261115, 20261130, 20261201, 20261231, 20270101, 20270215}
		recount := func(from, to int) evaluation.Counts {
			c := evaluation.Counts{}
			for _, d := range days {
				if d >= from && d <= to {
					for m, v := range every {
						c[m] += v
					}
				}
			}
			return c
		}
		for i, d := range days {
			f := []evaluation.Fact{{Kind: evaluation.Dispatcher, Subject: "a1", Day: d, Counts: every}}
			if err := db.Write(ctx, func(tx *Tx) error { return tx.ApplyFacts(ctx, CaseFacts{fmt.Sprint("c", i), f}) }); err != nil {
				t.Fatal(err)
			}
		}
		for _, r := range [][2]int{
			{20261101, 20261130}, {20261115, 20261210}, {20261101, 20261231}, {20261031, 20270101},
			{20261115, 20261115}, {20261130, 20261201}, {20261201, 20270228}, {20261102, 20261129}, {0, 99999999},
		} {
			got, err := db.RollupCounts(ctx, evaluation.Dispatcher, "", r[0], r[1])
			if err != nil {
				t.Fatal(err)
			}
			if w := recount(r[0], r[1]); len(w) == 0 {
				if len(got) != 0 {
					t.Errorf("%v: %v, want none", r, got)
				}
			} else if !reflect.DeepEqual(got["a1"], w) {
				t.Errorf("%v: %v, want %v", r, got["a1"], w)
			}
		}
	})
}

func TestRollupSpans(t *testing.T) {
	for _, tc := range []struct {
		from, to, first, last int
		left, right           [2]int
	}{
		{20261101, 20261130, 202611, 202611, [2]int{20261101, 20261099}, [2]int{20261199, 20261130}},
		{20261115, 20261210, 202612, 202611, [2]int{20261115, 20261210}, [2]int{1, 0}},
		{20261115, 20270110, 202612, 202612, [2]int{20261115, 20261199}, [2]int{20261299, 20270110}},
		{20260201, 20260228, 202602, 202602, [2]int{20260201, 20260199}, [2]int{20260299, 20260228}},
		{20240201, 20240228, 202402, 202401, [2]int{20240201, 20240228}, [2]int{1, 0}}, // leap year: not whole
	} {
		f, l, left, right := rollupSpans(tc.from, tc.to)
		if f != tc.first || l != tc.last || left != tc.left || right != tc.right {
			t.Errorf("%d–%d: %d %d %v %v", tc.from, tc.to, f, l, left, right)
		}
	}
}

func TestFactsDoc(t *testing.T) {
	for _, m := range evaluation.RollupMeasures {
		if _, ok := measureCode[m]; !ok {
			t.Errorf("measure %s has no code in factMeasures", m)
		}
	}
	fs := []evaluation.Fact{
		{Kind: evaluation.Grid, Subject: "500103014010001", Day: 20261103, Counts: evaluation.Counts{evaluation.Reported: 1, evaluation.Closed: 1}},
		{Kind: evaluation.Street, Subject: "500103014", Day: 20261103, Counts: evaluation.Counts{evaluation.Reported: 1, evaluation.Closed: 1}},
		{Kind: evaluation.Unit, Subject: "u1", Day: 20261105, Counts: evaluation.Counts{evaluation.ClosedDay: 1}},
		{Kind: evaluation.Unit, Subject: "u2", Day: 20261105, Counts: evaluation.Counts{}},
	}
	b, err := encodeFacts(fs)
	if err != nil {
		t.Fatal(err)
	}
	want := `[[[0,1,4,1],[0,"500103014010001",20261103],[2,"500103014",20261103]],[[35,1],[5,"u1",20261105]],[[],[5,"u2",20261105]]]`
	if string(b) != want {
		t.Errorf("doc %s\nwant %s", b, want)
	}
	back, err := decodeFacts(b)
	if err != nil || !reflect.DeepEqual(back, fs) {
		t.Errorf("round trip: %v %v", back, err)
	}
	if b, _ := encodeFacts(nil); string(b) != `[]` {
		t.Errorf("no facts: %s", b)
	}
}

// TestRollupSpeed times a month of every grid of a city (62,000 grids with
// a month of day rows and three month rows each) and a district's grids.
// It runs only with ZHIZHI_ROLLUP_SPEED set (it writes two million rows).
func TestRollupSpeed(t *testing.T) {
	if os.Getenv("ZHIZHI_ROLLUP_SPEED") == "" {
		t.Skip("ZHIZHI_ROLLUP_SPEED not set")
	}
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		grids := 62000
		if engineOf(t) == SQLite {
			grids = 8000 // about a million cases
		}
		// Day numbers: 20261101..20261130 and the month rows of Oct–Dec.
		days := `SELECT 20261100 + n AS d FROM nums WHERE n BETWEEN 1 AND 30 UNION ALL SELECT 20261000 UNION ALL SELECT 20261100 UNION ALL SELECT 20261200`
		q := `WITH RECURSIVE nums(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM nums WHERE n < ` + fmt.Sprint(grids) + `),
			days(d) AS (` + days + `)
			INSERT INTO rollups (kind, subject, day, grain, reported, registered, closed, closed_on_time, due_close, on_spot, rated, satisfied, public_verified)
			SELECT 'grid', '500' || substr('000' || (n % 40), -3, 3) || substr('000000000' || n, -9, 9), d, CASE WHEN d % 100 = 0 THEN 'm' ELSE 'd' END,
				CASE WHEN d % 100 = 0 THEN 120 ELSE 4 END, 3, 3, 2, 3, 1, 2, 1, 1 FROM nums, days`
		if engineOf(t) == Postgres {
			q = `INSERT INTO rollups (kind, subject, day, grain, reported, registered, closed, closed_on_time, due_close, on_spot, rated, satisfied, public_verified)
			SELECT 'grid', '500' || lpad((n % 40)::text, 3, '0') || lpad(n::text, 9, '0'), d, CASE WHEN d % 100 = 0 THEN 'm' ELSE 'd' END,
				CASE WHEN d % 100 = 0 THEN 120 ELSE 4 END, 3, 3, 2, 3, 1, 2, 1, 1
			FROM generate_series(1, ` + fmt.Sprint(grids) + `) n,
			(SELECT 20261100 + x AS d FROM generate_series(1, 30) x UNION ALL SELECT 20261000 UNION ALL SELECT 20261100 UNION ALL SELECT 20261200) days`
		}
		start := time.Now()
		if _, err := db.Raw().ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Raw().ExecContext(ctx, `ANALYZE`); err != nil {
			t.Fatal(err)
		}
		t.Logf("%d grids loaded in %v", grids, time.Since(start))
		run := func(name, prefix string, from, to, want int) {
			var best time.Duration
			for i := 0; i < 5; i++ {
				s := time.Now()
				got, err := db.RollupCounts(ctx, evaluation.Grid, prefix, from, to)
				if err != nil {
					t.Fatal(err)
				}
				if d := time.Since(s); i == 0 || d < best {
					best = d
				}
				if len(got) != want {
					t.Fatalf("%s: %d grids, want %d", name, len(got), want)
				}
			}
			t.Logf("%s: %d grids in %v (best of 5)", name, want, best)
		}
		run("month, every grid", "", 20261101, 20261130, grids)
		run("month, a district", "500007", 20261101, 20261130, grids/40)
		run("range across months, a district", "500007", 20261115, 20261231, grids/40)
	})
}

// TestApplyFactsTogether: the facts of many cases applied in one call leave
// the rollups and the kept facts exactly as applying them one case at a
// time does, across changes of a case's facts (its old facts taken back)
// and a case named twice in one call (its last facts count, once).
func TestApplyFactsTogether(t *testing.T) {
	if n := rollupPGChunk * (4 + len(rollupCols)); n > 65535 {
		t.Fatalf("a PostgreSQL upsert of rollupPGChunk rows has %d parameters, more than 65,535", n)
	}
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		one, together := openTestDB(t), openTestDB(t)
		rnd := rand.New(rand.NewPCG(11, 19))
		grids := []string{"500103014010001", "500103014010002", "500103014011003", "500103015001001"}
		measures := []evaluation.Measure{evaluation.Reported, evaluation.Closed, evaluation.ClosedOnTime, evaluation.Dispatched, evaluation.Satisfied}
		factsOf := func() []evaluation.Fact {
			grid := grids[rnd.IntN(len(grids))]
			day := 20261100 + 1 + rnd.IntN(40)%30
			if rnd.IntN(4) == 0 {
				day = 20261200 + 1 + rnd.IntN(5)
			}
			c := evaluation.Counts{}
			for _, m := range measures {
				if rnd.IntN(2) == 0 {
					c[m] = 1 + rnd.IntN(2)
				}
			}
			return []evaluation.Fact{
				{Kind: evaluation.Grid, Subject: grid, Day: day, Counts: c},
				{Kind: evaluation.Community, Subject: grid[:12], Day: day, Counts: c},
				{Kind: evaluation.Street, Subject: grid[:9], Day: day, Counts: c},
				{Kind: evaluation.District, Subject: grid[:6], Day: day, Counts: c},
			}
		}
		var rounds [][]CaseFacts
		for r := range 3 {
			var round []CaseFacts
			for i := range 40 {
				if r > 0 && i%3 != 0 {
					continue // later rounds change a third of the cases
				}
				round = append(round, CaseFacts{fmt.Sprint("c", i), factsOf()})
			}
			if r == 2 { // one case twice: its last facts count
				round = append(round, CaseFacts{"c3", factsOf()})
			}
			rounds = append(rounds, round)
		}
		for _, round := range rounds {
			for _, cf := range round {
				if err := one.Write(ctx, func(tx *Tx) error { return tx.ApplyFacts(ctx, cf) }); err != nil {
					t.Fatal(err)
				}
			}
			if err := together.Write(ctx, func(tx *Tx) error { return tx.ApplyFacts(ctx, round...) }); err != nil {
				t.Fatal(err)
			}
		}
		dump := func(db *DB, q string) []string {
			t.Helper()
			rows, err := db.read.QueryContext(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			cols, _ := rows.Columns()
			var out []string
			for rows.Next() {
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					t.Fatal(err)
				}
				out = append(out, fmt.Sprint(vals...))
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			return out
		}
		for _, q := range []string{
			`SELECT * FROM rollups ORDER BY kind, subject, day, grain`,
			`SELECT case_id, doc FROM case_facts ORDER BY case_id`,
		} {
			a, b := dump(one, q), dump(together, q)
			if len(a) < 40 {
				t.Fatalf("%s: %d rows, want at least 40", q, len(a))
			}
			if !reflect.DeepEqual(a, b) {
				t.Errorf("%s: applied together differs from one at a time:\n%v\nwant\n%v", q, b, a)
			}
		}
	})
}
