package store

import (
	"context"
	"testing"
	"time"

	"zhizhi/internal/cases"
)

// TestWriteRawWritesWhatIntakeWrites: the intake benchmark's raw baseline
// writes, row for row, what the writer writes for the same new case (the
// case row, its clock, its first step, its full-text row, the counter), on
// both engines.
func TestWriteRawWritesWhatIntakeWrites(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		viaWriter, viaRaw := openTestDB(t), openTestDB(t)
		rule := ClockRule{EscalateAfter: time.Hour}
		a := newCase("raw-a")
		if err := viaWriter.Write(ctx, func(tx *Tx) error {
			if _, err := tx.NextNumber(ctx, "n"); err != nil {
				return err
			}
			return tx.InsertCase(ctx, a, stepOf(a, cases.ActReport), rule)
		}); err != nil {
			t.Fatal(err)
		}
		b := newCase("raw-a")
		if err := viaRaw.WriteRaw(ctx, "n", rule, []RawCase{{Case: b, Step: stepOf(b, cases.ActReport)}}); err != nil {
			t.Fatal(err)
		}
		dump := func(db *DB) map[string]string {
			out := map[string]string{}
			for _, q := range []struct{ name, sql string }{
				{"case", `SELECT id || '|' || number || '|' || COALESCE(district_code,'') || '|' || COALESCE(street_code,'') || '|' || COALESCE(community_code,'') || '|' || grid_code || '|' || COALESCE(due_at, 0) || '|' || doc FROM cases`},
				{"clocks", `SELECT case_id || '|' || key || '|' || due_at || '|' || yellow_at || '|' || escalate_at || '|' || COALESCE(next_at, 0) FROM clocks`},
				{"steps", `SELECT id || '|' || seq || '|' || action || '|' || doc FROM steps`},
				{"counter", `SELECT name || '|' || value FROM counters`},
			} {
				var s string
				rows, err := db.read.QueryContext(ctx, q.sql)
				if err != nil {
					t.Fatalf("%s: %v", q.name, err)
				}
				for rows.Next() {
					var v string
					rows.Scan(&v)
					s += v + "\n"
				}
				rows.Close()
				out[q.name] = s
			}
			n, err := db.CountCases(ctx, CaseFilter{Scope: Scope{All: true}, Text: "坑洼"})
			if err != nil {
				t.Fatal(err)
			}
			out["found by text"] = string(rune('0' + n))
			return out
		}
		w, r := dump(viaWriter), dump(viaRaw)
		for k := range w {
			if w[k] != r[k] || w[k] == "" {
				t.Errorf("%s:\n writer %q\n raw    %q", k, w[k], r[k])
			}
		}
	})
}
