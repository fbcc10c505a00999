package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/enterprise"
	"zhizhi/internal/sla"
)

// TestEnterpriseTables: the registry, requests, due requests, sign-ins and
// the figures' GROUP BY on both engines.
func TestEnterpriseTables(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		t0 := time.Date(2026, 11, 2, 1, 0, 0, 0, time.UTC)
		c1 := newCase("E1", func(c *cases.Case) { c.Source, c.State = cases.SourceEnterprise, cases.Closed })
		c2 := newCase("E2", func(c *cases.Case) { c.Source = cases.SourceEnterprise })
		insert(t, db, c1, c2)
		e := enterprise.Enterprise{ID: "ent1", Name: "甲公司", CreditCode: "91350100M000100Y43", RegionPath: gridPath, GridCode: gridCode,
			LiaisonID: "li", LeaderID: "le", Active: true}
		clock := func(d time.Duration) sla.Clock {
			return sla.Clock{Limit: sla.Limit{Amount: 1, Unit: sla.Days}, Start: t0, Due: t0.Add(d)}
		}
		r1 := enterprise.Request{ID: "R1", EnterpriseID: "ent1", Service: "G01", Color: enterprise.Green, UnitID: "yb", CaseID: c1.ID,
			LiaisonID: "li", LeaderID: "le", RegionPath: gridPath, CreatedAt: t0, Contact: clock(time.Hour), Answer: clock(48 * time.Hour),
			ContactedAt: t0.Add(30 * time.Minute), AnsweredAt: t0.Add(50 * time.Hour), Rating: cases.Satisfied}
		r2 := enterprise.Request{ID: "R2", EnterpriseID: "ent1", Service: "B01", Color: enterprise.Blue, UnitID: "ga", CaseID: c2.ID,
			LiaisonID: "li", LeaderID: "le", RegionPath: gridPath, CreatedAt: t0, Contact: clock(time.Hour), Answer: clock(48 * time.Hour)}
		class := enterprise.Class{ID: "C1", Topic: "医保", Building: "2号楼", RegionPath: streetPath, At: t0, Minutes: 60, Speakers: []string{"区医保局"}}
		err := db.Write(ctx, func(tx *Tx) error {
			for _, f := range []func() error{
				func() error { return tx.PutEnterprise(ctx, e) },
				func() error { return tx.PutRequest(ctx, r1) },
				func() error { return tx.PutRequest(ctx, r2) },
				func() error { return tx.PutClass(ctx, class) },
				func() error {
					return tx.SignIn(ctx, enterprise.Attendance{ClassID: "C1", EnterpriseID: "ent1", AccountID: "a", Name: "王", At: t0})
				},
			} {
				if err := f(); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		err = db.Write(ctx, func(tx *Tx) error {
			return tx.SignIn(ctx, enterprise.Attendance{ClassID: "C1", EnterpriseID: "ent1", AccountID: "b", Name: "李", At: t0})
		})
		if !errors.Is(err, ErrConflict) {
			t.Errorf("second sign-in of one enterprise: %v", err)
		}
		if l, err := db.Enterprises(ctx, EnterpriseFilter{RegionPath: streetPath}); err != nil || len(l) != 1 {
			t.Errorf("enterprises under the street: %d %v", len(l), err)
		}
		if l, _ := db.Enterprises(ctx, EnterpriseFilter{RegionPath: "/500000/500104/"}); len(l) != 0 {
			t.Errorf("enterprises under another district: %d", len(l))
		}
		if l, _ := db.Requests(ctx, RequestFilter{LiaisonID: "li", OpenOnly: true}); len(l) != 1 || l[0].ID != "R2" {
			t.Errorf("open requests of the liaison: %+v", l)
		}
		var due []enterprise.Request
		db.Write(ctx, func(tx *Tx) error {
			due, err = tx.DueRequests(ctx, t0.Add(2*time.Hour), 10)
			return err
		})
		if len(due) != 1 || due[0].ID != "R2" {
			t.Errorf("due at +2h: %+v", due)
		}
		rows, err := db.RequestFigures(ctx, streetPath, "color", t0.Add(-time.Hour), t0.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		want := []RequestFigure{{Key: "blue", Requests: 1}, {Key: "green", Requests: 1, Contacted: 1, ContactedOnTime: 1, Answered: 1, Resolved: 1, Rated: 1, Satisfied: 1}}
		if len(rows) != 2 || rows[0] != want[0] || rows[1] != want[1] {
			t.Errorf("figures %+v, want %+v", rows, want)
		}
		if _, err := db.RequestFigures(ctx, streetPath, "nope; DROP", t0, t0); err == nil {
			t.Error("an unknown dimension was accepted")
		}
		tot, err := db.ServiceTotals(ctx, streetPath, t0.Add(-time.Hour), t0.Add(time.Hour), t0.Add(time.Minute))
		if err != nil || tot != (ServiceTotals{EnterprisesServed: 1, ClassesHeld: 1, Attendances: 1, Attending: 1}) {
			t.Errorf("totals %+v %v", tot, err)
		}
	})
}
