package store

import (
	"context"
	"reflect"
	"testing"

	"zhizhi/internal/evaluation"
)

func TestRollups(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		apply := func(caseID string, fs []evaluation.Fact) {
			t.Helper()
			if err := db.Write(ctx, func(tx *Tx) error { return tx.ApplyFacts(ctx, caseID, fs) }); err != nil {
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
