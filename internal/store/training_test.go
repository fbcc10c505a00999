package store

import (
	"context"
	"reflect"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/leaders"
)

// TestTrainingFiguresAndPostings stores sessions with their attendance and
// postings of cadres in two streets and a unit, and checks the figures by
// street and by unit and the postings' groups for a period against a table
// worked out by hand, on both engines (a session or a posting outside the
// period counts nowhere).
func TestTrainingFiguresAndPostings(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		db := openTestDB(t)
		ctx := context.Background()
		a1 := "/500000/500103/500103001/"
		a2 := "/500000/500103/500103014/"
		accounts := []Account{
			{ID: "c1", Username: "c1", Name: "甲", Role: cases.RoleCommander, RegionPath: a1, Active: true},
			{ID: "c2", Username: "c2", Name: "乙", Role: cases.RoleCommander, RegionPath: a1, Active: true},
			{ID: "c3", Username: "c3", Name: "丙", Role: cases.RoleLeader, RegionPath: a2, Active: true},
			{ID: "u1", Username: "u1", Name: "丁", Role: cases.RoleUnit, UnitID: "unit-a", Active: true},
		}
		in := t0.AddDate(0, 0, 1)
		out := t0.AddDate(0, -2, 0) // before the period
		err := db.Write(ctx, func(tx *Tx) error {
			for _, a := range accounts {
				a.PasswordHash, a.CreatedAt = "x", t0
				if err := tx.PutAccount(ctx, a); err != nil {
					return err
				}
			}
			sessions := []struct {
				id    string
				at    time.Time
				hours int
				who   []Attendee
			}{
				{"s1", in, 4, []Attendee{{"c1", "500103001", ""}, {"c2", "500103001", ""}, {"c3", "500103014", ""}}},
				{"s2", in.Add(time.Hour), 6, []Attendee{{"c1", "500103001", ""}, {"u1", "", "unit-a"}}},
				{"s3", out, 8, []Attendee{{"c1", "500103001", ""}, {"c3", "500103014", ""}}},
			}
			for _, s := range sessions {
				if err := tx.InsertSession(ctx, leaders.Session{ID: s.id, CourseID: "k", At: s.at, RegionPath: "/500000/500103/"}, s.hours, s.who); err != nil {
					return err
				}
			}
			postings := []leaders.Posting{
				{ID: "p1", CadreID: "c1", Post: "社区第一书记", From: in, To: in.AddDate(0, 6, 0)},
				{ID: "p2", CadreID: "c1", Post: "网格长", From: in.AddDate(0, 0, 2), To: in.AddDate(0, 3, 0)},
				{ID: "p3", CadreID: "u1", Post: "街道挂职", From: in, To: in.AddDate(0, 3, 0)},
				{ID: "p4", CadreID: "c3", Post: "挂职", From: out, To: out.AddDate(0, 1, 0)},
			}
			for _, p := range postings {
				if err := tx.InsertPosting(ctx, p); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		from, to := t0, t0.AddDate(0, 1, 0)
		byStreet, err := db.TrainingFigures(ctx, false, from, to)
		if err != nil {
			t.Fatal(err)
		}
		want := []TrainingFigure{
			{Key: "", Cadres: 1, Sessions: 1, Hours: 6},
			{Key: "500103001", Cadres: 2, Sessions: 3, Hours: 14},
			{Key: "500103014", Cadres: 1, Sessions: 1, Hours: 4},
		}
		if !reflect.DeepEqual(byStreet, want) {
			t.Errorf("by street %+v, want %+v", byStreet, want)
		}
		byUnit, err := db.TrainingFigures(ctx, true, from, to)
		if err != nil {
			t.Fatal(err)
		}
		if want := []TrainingFigure{{Key: "", Cadres: 3, Sessions: 4, Hours: 18}, {Key: "unit-a", Cadres: 1, Sessions: 1, Hours: 6}}; !reflect.DeepEqual(byUnit, want) {
			t.Errorf("by unit %+v, want %+v", byUnit, want)
		}
		posts, err := db.PostingCounts(ctx, from, to)
		if err != nil {
			t.Fatal(err)
		}
		wantPosts := []PostingCount{
			{Role: "commander", RegionPath: a1, Postings: 2, Cadres: 1},
			{Role: "unit", UnitID: "unit-a", Postings: 1, Cadres: 1},
		}
		if !reflect.DeepEqual(posts, wantPosts) {
			t.Errorf("postings %+v, want %+v", posts, wantPosts)
		}
		all, err := db.PostingCounts(ctx, time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, c := range all {
			n += c.Postings
		}
		if n != 4 {
			t.Errorf("all postings: %d, want 4 (%+v)", n, all)
		}
	})
}
