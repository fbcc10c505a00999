package store

import (
	"context"
	"testing"
	"time"

	"zhizhi/internal/cases"
)

// TestAppealsIndex: the appeals table follows the case documents through
// UpdateCase, and the queue's scopes and states select from it, on both
// engines.
func TestAppealsIndex(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		sibling := "/500000/500103/500103002/"
		c1 := newCase("A1", func(c *cases.Case) { c.State = cases.Closed })
		c2 := newCase("A2", func(c *cases.Case) {
			c.State, c.RegionPath, c.CenterPath, c.GridCode = cases.Handling, sibling+"500103002001/", sibling, ""
		})
		c3 := newCase("A3", func(c *cases.Case) {
			c.RegionPath, c.CenterPath, c.GridCode = "/500000/500104/500104001/", "/500000/500104/500104001/", ""
		})
		insert(t, db, c1, c2, c3)
		if n := countRows(t, db, `SELECT COUNT(*) FROM appeals`); n != 0 {
			t.Fatalf("%d appeal rows for cases without appeals", n)
		}
		update := func(c *cases.Case, edit func(c *cases.Case)) {
			t.Helper()
			prev := c.Version
			edit(c)
			c.Version++
			if err := db.Write(ctx, func(tx *Tx) error {
				return tx.UpdateCase(ctx, was(prev), c, stepOf(c, cases.ActAppeal), ClockRule{})
			}); err != nil {
				t.Fatalf("update %s: %v", c.ID, err)
			}
		}
		t1 := t0.Add(time.Hour)
		update(c1, func(c *cases.Case) {
			c.Appeals = append(c.Appeals, cases.Appeal{UnitID: "u-lead", Reason: "暴雨导致材料无法进场", State: cases.AppealPendingReview, AskedByName: "单位甲", AskedAt: t1})
		})
		update(c2, func(c *cases.Case) {
			c.Appeals = append(c.Appeals, cases.Appeal{UnitID: "u-co", Reason: "等待上游单位审批", State: cases.AppealPendingReview, AskedByName: "单位乙", AskedAt: t1.Add(time.Minute)})
		})
		update(c3, func(c *cases.Case) {
			c.Appeals = append(c.Appeals, cases.Appeal{UnitID: "u-lead", Reason: "外区案件的申诉", State: cases.AppealPendingReview, AskedAt: t1})
		})
		// The street reviews c1's appeal; a second unit appeals on c1.
		update(c1, func(c *cases.Case) {
			c.Appeals[0].State, c.Appeals[0].ReviewedAt = cases.AppealPendingApproval, t1.Add(2*time.Minute)
			c.Appeals = append(c.Appeals, cases.Appeal{UnitID: "u-co", Reason: "协办单位的申诉理由", State: cases.AppealPendingReview, AskedAt: t1.Add(3 * time.Minute)})
		})
		list := func(f AppealFilter) []string {
			t.Helper()
			rows, err := db.Appeals(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, r := range rows {
				out = append(out, r.CaseID+"/"+r.UnitID+"/"+string(r.State))
			}
			return out
		}
		check := func(name string, got []string, want ...string) {
			t.Helper()
			if len(got) != len(want) {
				t.Fatalf("%s: %v, want %v", name, got, want)
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%s: %v, want %v", name, got, want)
				}
			}
		}
		check("street pending review", list(AppealFilter{Region: streetPath, State: cases.AppealPendingReview}), "A1/u-co/pending_review")
		check("street pending approval", list(AppealFilter{Region: streetPath, State: cases.AppealPendingApproval}), "A1/u-lead/pending_approval")
		check("district all", list(AppealFilter{Region: districtPath}), "A1/u-co/pending_review", "A2/u-co/pending_review", "A1/u-lead/pending_approval")
		check("sibling street", list(AppealFilter{Region: sibling}), "A2/u-co/pending_review")
		check("unit u-lead", list(AppealFilter{Units: []string{"u-lead"}}), "A1/u-lead/pending_approval", "A3/u-lead/pending_review")
		check("no scope", list(AppealFilter{State: cases.AppealPendingReview}))
		check("limit", list(AppealFilter{Region: districtPath, Limit: 1}), "A1/u-co/pending_review")
		check("before", list(AppealFilter{Region: districtPath, Before: t1.Add(time.Minute)}), "A1/u-lead/pending_approval")
		counts, err := db.CountAppeals(ctx, AppealFilter{Region: districtPath})
		if err != nil {
			t.Fatal(err)
		}
		if counts[cases.AppealPendingReview] != 2 || counts[cases.AppealPendingApproval] != 1 || len(counts) != 2 {
			t.Fatalf("counts %v", counts)
		}
		rows, err := db.Appeals(ctx, AppealFilter{Region: streetPath, State: cases.AppealPendingApproval})
		if err != nil {
			t.Fatal(err)
		}
		if r := rows[0]; r.CaseNumber != "ZZA1" || r.Reason != "暴雨导致材料无法进场" || r.AskedBy != "单位甲" || !r.AskedAt.Equal(t1) ||
			!r.UpdatedAt.Equal(t1.Add(2*time.Minute)) || r.Seq != 0 || r.CenterPath != streetPath {
			t.Fatalf("row %+v", r)
		}
		// The case escalates to the district: its rows follow the document.
		update(c1, func(c *cases.Case) { c.CenterPath = districtPath })
		rows, _ = db.Appeals(ctx, AppealFilter{Region: districtPath, State: cases.AppealPendingApproval})
		if len(rows) != 1 || rows[0].CenterPath != districtPath {
			t.Fatalf("after escalation %+v", rows)
		}
	})
}
