package store

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"zhizhi/internal/cases"
)

// TestUnitsAndAudit: a unit's board and parent round-trip, and the audit
// trail keeps every change with its before and after, newest first, on
// both engines.
func TestUnitsAndAudit(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		board := cases.Unit{ID: "s-ms-bk", Name: "民生服务板块", Kind: cases.UnitBoard, Board: cases.BoardServices, RegionPath: streetPath, Active: true}
		post := cases.Unit{ID: "s-ms-a", Name: "民生服务板块A岗", Kind: cases.UnitPost, Board: cases.BoardServices, Parent: board.ID, RegionPath: streetPath, Active: true}
		at := time.UnixMilli(1_780_000_000_000).UTC()
		err := db.Write(ctx, func(tx *Tx) error {
			for i, u := range []cases.Unit{board, post} {
				if err := tx.PutUnit(ctx, u); err != nil {
					return err
				}
				after, _ := json.Marshal(u)
				if err := tx.Audit(ctx, AuditEntry{ID: "a" + string(rune('0'+i)), At: at, ActorID: "acct", ActorName: "管理员",
					Kind: "unit", ObjectID: u.ID, Action: "create", After: after}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.Unit(ctx, post.ID)
		if err != nil || !reflect.DeepEqual(got, post) {
			t.Fatalf("unit %+v %v, want %+v", got, err, post)
		}
		renamed := post
		renamed.Name = "民生服务板块A岗（夜班）"
		before, _ := json.Marshal(post)
		after, _ := json.Marshal(renamed)
		if err := db.Write(ctx, func(tx *Tx) error {
			if err := tx.PutUnit(ctx, renamed); err != nil {
				return err
			}
			return tx.Audit(ctx, AuditEntry{ID: "a2", At: at.Add(time.Minute), ActorID: "acct", ActorName: "管理员",
				Kind: "unit", ObjectID: post.ID, Action: "update", Before: before, After: after})
		}); err != nil {
			t.Fatal(err)
		}
		log, err := db.AuditLog(ctx, AuditFilter{Kind: "unit", ObjectID: post.ID})
		if err != nil || len(log) != 2 || log[0].ID != "a2" || log[1].ID != "a1" {
			t.Fatalf("audit of the post: %+v %v", log, err)
		}
		var b, a cases.Unit
		json.Unmarshal(log[0].Before, &b)
		json.Unmarshal(log[0].After, &a)
		if b.Name != post.Name || a.Name != renamed.Name || !log[0].At.Equal(at.Add(time.Minute)) || log[1].Before != nil {
			t.Errorf("entry %+v", log[0])
		}
		all, _ := db.AuditLog(ctx, AuditFilter{})
		page, _ := db.AuditLog(ctx, AuditFilter{Before: "a2", Limit: 1})
		if len(all) != 3 || len(page) != 1 || page[0].ID != "a1" {
			t.Errorf("all %d, page after a2 %+v", len(all), page)
		}
		// The audit page's filters: who, what was done, when.
		if err := db.Write(ctx, func(tx *Tx) error {
			return tx.Audit(ctx, AuditEntry{ID: "a3", At: at.Add(2 * time.Hour), ActorID: "cmd", ActorName: "指挥长",
				Kind: "personal_data", ObjectID: "case-1", Action: "read", After: json.RawMessage(`{"field":"reporter.phone"}`)})
		}); err != nil {
			t.Fatal(err)
		}
		ids := func(f AuditFilter) string {
			list, err := db.AuditLog(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			out := ""
			for _, e := range list {
				out += e.ID + " "
			}
			return out
		}
		for _, tc := range []struct {
			f    AuditFilter
			want string
		}{
			{AuditFilter{ActorID: "cmd"}, "a3 "},
			{AuditFilter{ActorID: "acct", Action: "create"}, "a1 a0 "},
			{AuditFilter{Action: "read", Kind: "personal_data"}, "a3 "},
			{AuditFilter{From: at.Add(time.Minute)}, "a3 a2 "},
			{AuditFilter{From: at, To: at.Add(time.Minute)}, "a1 a0 "},
			{AuditFilter{To: at}, ""},
		} {
			if got := ids(tc.f); got != tc.want {
				t.Errorf("%+v: %q, want %q", tc.f, got, tc.want)
			}
		}
	})
}
