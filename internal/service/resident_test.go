package service_test

import (
	"context"
	"path/filepath"
	"testing"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/demo"
	"zhizhi/internal/server"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
)

// TestAnonymousResident plays a resident without an account: report with a
// phone number, follow by number and phone (a wrong phone learns nothing),
// and rate once the case is closed. It also checks that a report sent twice
// with the same client reference makes one case.
func TestAnonymousResident(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	p, err := server.Open(ctx, server.Config{DB: filepath.Join(dir, "z.db"), DataDir: dir, DefaultCenter: demo.District})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	svc := p.Service
	if err := demo.Load(ctx, svc, demo.Options{Cases: 5, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	// A point inside the district's first grid.
	grids, err := p.DB.Regions(ctx, store.RegionFilter{Level: "grid", WithShape: true})
	if err != nil || len(grids) == 0 {
		t.Fatal("no grids", err)
	}
	pt := grids[0].Shape.Centroid()
	r := cases.Report{Category: "MS03", Description: "小区门口垃圾堆放多日", Point: &pt,
		Reporter: cases.Reporter{Name: "李女士", Phone: "139 1234 5678"}}
	tok, err := svc.FormToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	k := service.Knock{Client: "192.0.2.1", Token: tok}
	if _, err := svc.ReportAnonymous(ctx, k, cases.Report{Category: "MS03", Description: "x", Point: &pt}); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("a report without a phone must be refused: %v", err)
	}
	c, err := svc.ReportAnonymous(ctx, k, r)
	if err != nil {
		t.Fatal(err)
	}
	again, err := svc.ReportAnonymous(ctx, k, r)
	if err != nil || again.ID != c.ID || again.Number != c.Number {
		t.Fatalf("the same client reference must return the same case: %v %s %s", err, again.ID, c.ID)
	}
	if n, _ := p.DB.CountCases(ctx, store.CaseFilter{Scope: store.Scope{All: true}, Reporter: c.Reporter.AccountID}); n != 1 {
		t.Fatalf("%d cases for one report sent twice", n)
	}
	if _, _, err := svc.FollowAnonymous(ctx, "192.0.2.1", c.Number, "13900000000"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("a wrong phone must learn nothing: %v", err)
	}
	got, steps, err := svc.FollowAnonymous(ctx, "192.0.2.1", c.Number, "+86 139-1234-5678")
	if err != nil || got.ID != c.ID || len(steps) != 1 {
		t.Fatalf("follow: %v %+v", err, got)
	}
	if _, err := svc.RateAnonymous(ctx, "192.0.2.1", c.Number, "13912345678", cases.Satisfied, ""); !apperr.Is(err, apperr.Refused) {
		t.Fatalf("rating an open case must be refused: %v", err)
	}
	// Close it quickly: accept, solved by the commander's close after feedback.
	must := func(cmd cases.Command, a cases.Actor) {
		t.Helper()
		if _, _, err := svc.Act(ctx, a, c.ID, cmd, 0); err != nil {
			t.Fatalf("%s: %v", cmd.Action, err)
		}
	}
	commander := cases.Actor{AccountID: "cmd", Name: "指挥长", Role: cases.RoleCommander, RegionPath: "/500000/500103/"}
	unit := cases.Actor{AccountID: "u", Name: "城管", Role: cases.RoleUnit, UnitID: "cg"}
	must(cases.Command{Action: cases.ActAccept}, commander)
	must(cases.Command{Action: cases.ActDispatch, Lead: "cg"}, commander)
	must(cases.Command{Action: cases.ActSign}, unit)
	must(cases.Command{Action: cases.ActFeedback, Note: "已清运"}, unit)
	must(cases.Command{Action: cases.ActClose}, commander)
	rated, err := svc.RateAnonymous(ctx, "192.0.2.1", c.Number, "13912345678", cases.Satisfied, "处理很快")
	if err != nil || rated.Rating != cases.Satisfied {
		t.Fatalf("rate: %v %+v", err, rated.Rating)
	}
	if _, err := svc.RateAnonymous(ctx, "192.0.2.1", c.Number, "13912345678", cases.Unsatisfied, ""); !apperr.Is(err, apperr.Refused) {
		t.Fatalf("rating twice must be refused: %v", err)
	}
}

// TestConsoleKeyShared: the console's form key is made once and then the same
// for every node of the installation.
func TestConsoleKeyShared(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "z.db")
	p1, err := server.Open(ctx, server.Config{DB: db, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	k1, err := p1.Service.ConsoleKey(ctx)
	if err != nil || len(k1) < 32 {
		t.Fatalf("key: %v %d", err, len(k1))
	}
	p1.Close(ctx)
	p2, err := server.Open(ctx, server.Config{DB: db, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer p2.Close(ctx)
	k2, err := p2.Service.ConsoleKey(ctx)
	if err != nil || string(k1) != string(k2) {
		t.Fatal("a restart must keep the console key")
	}
}
