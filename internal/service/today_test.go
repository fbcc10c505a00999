package service_test

import (
	"context"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/server/servertest"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
)

// TestTodayFiguresFromRollups: the command board's today figures come from
// the rollups, for the viewer's region only, and follow reports, acceptances
// and closures once rolled; the time they are as of is given.
func TestTodayFiguresFromRollups(t *testing.T) {
	p, _, closeAll, err := servertest.Demo("today", 300)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll()
	ctx := context.Background()
	s := p.Service
	actor := func(u string) cases.Actor {
		acct, err := p.DB.AccountByUsername(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		return s.ActorOf(acct)
	}
	street, other, district, city := actor("syl_zhihui"), actor("jfb_zhihui"), actor("qu_zhihui"), actor("shi_zhihui")
	if _, err := s.Roll(ctx, s.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	before := map[string]int{}
	for name, a := range map[string]cases.Actor{"street": street, "other": other, "district": district, "city": city} {
		td, err := s.TodayFigures(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		if td.AsOf.IsZero() {
			t.Errorf("%s: no as-of time", name)
		}
		before[name+".reported"], before[name+".accepted"], before[name+".closed"] = td.Reported, td.Accepted, td.Closed
	}

	// Three reports in the street: one accepted, one solved... closed by
	// the center after acceptance.
	some, err := p.DB.Cases(ctx, store.CaseFilter{Scope: store.ScopeOf(street), Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	reported, accepted := 0, 0
	for _, c := range some {
		if c.Point == nil || reported == 3 {
			continue
		}
		tok, err := s.FormToken(ctx)
		if err != nil {
			t.Fatal(err)
		}
		nc, err := s.ReportAnonymous(ctx, service.Knock{Token: tok}, cases.Report{Source: cases.SourceResident, Point: c.Point, Category: c.Category,
			Description: "楼道堆放杂物，请清理", Reporter: cases.Reporter{Name: "李四", Phone: "13800000001"}})
		if err != nil {
			continue
		}
		reported++
		if reported == 1 {
			if _, _, err := s.Act(ctx, street, nc.ID, cases.Command{Action: cases.ActAccept}, 0); err != nil {
				t.Fatal(err)
			}
			accepted++
		}
	}
	if reported != 3 {
		t.Fatalf("reported %d", reported)
	}
	if _, err := s.Roll(ctx, s.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	for name, a := range map[string]cases.Actor{"street": street, "other": other, "district": district, "city": city} {
		td, err := s.TodayFigures(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		wantR, wantA := before[name+".reported"], before[name+".accepted"]
		if name != "other" {
			wantR, wantA = wantR+reported, wantA+accepted
		}
		if td.Reported != wantR || td.Accepted != wantA || td.Closed != before[name+".closed"] {
			t.Errorf("%s: today %+v, want reported %d accepted %d closed %d", name, td, wantR, wantA, before[name+".closed"])
		}
	}
}
