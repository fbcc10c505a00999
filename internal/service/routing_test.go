package service

import (
	"context"
	"testing"

	"zhizhi/internal/apperr"
	"zhizhi/internal/auth"
	"zhizhi/internal/cases"
	"zhizhi/internal/store"
)

// TestSetUpBoards: every street under the region gets the four boards it
// lacks, each with a first post, audited; a second run creates nothing; a
// board set up by hand is kept.
func TestSetUpBoards(t *testing.T) {
	s, _ := keyWorld(t)
	ctx := context.Background()
	admin := cases.Actor{AccountID: "acct-admin", Name: "管理员", Role: cases.RoleAdmin, RegionPath: "/500000/"}
	own := cases.Unit{ID: "yi-pa", Name: "乙街道平安法治板块", Kind: cases.UnitBoard, Board: cases.BoardSafety, RegionPath: "/500000/500103/500103002/", Active: true}
	if err := s.PutUnit(ctx, admin, own); err != nil {
		t.Fatal(err)
	}
	created, err := s.SetUpBoards(ctx, admin, "500103")
	if err != nil {
		t.Fatal(err)
	}
	if len(created) != 2*4+2*3 { // 甲: four boards and posts; 乙: three (its safety board exists)
		t.Fatalf("created %d units: %+v", len(created), created)
	}
	for _, b := range cases.Boards {
		u, ok := s.Unit("500103001-" + string(b) + "-a")
		if !ok || u.Kind != cases.UnitPost || u.Parent != "500103001-"+string(b) || u.Board != b || u.Name != "甲街道"+b.Label()+"板块A岗" {
			t.Errorf("post of %s: %+v", b, u)
		}
	}
	if again, err := s.SetUpBoards(ctx, admin, "500000"); err != nil || len(again) != 0 {
		t.Errorf("second run: %v %v", again, err)
	}
	log, err := s.AuditLog(ctx, storeAuditUnit("500103001-party"))
	if err != nil || len(log) != 1 || log[0].ActorName != "管理员" || log[0].Action != "create" {
		t.Errorf("audit %+v %v", log, err)
	}
	if _, err := s.SetUpBoards(ctx, admin, "500103001001"); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("a community: %v", err)
	}
	// An administrator of one street cannot set up the district's streets.
	streetAdmin := cases.Actor{AccountID: "acct-sa", Name: "甲街道管理员", Role: cases.RoleAdmin, RegionPath: "/500000/500103/500103001/"}
	if _, err := s.SetUpBoards(ctx, streetAdmin, "500103"); !apperr.Is(err, apperr.Forbidden) {
		t.Errorf("a street's administrator for the district: %v", err)
	}
	// Staff names only for those whose region holds the street.
	other := cases.Actor{AccountID: "acct-c2", Role: cases.RoleCommander, RegionPath: "/500000/500103/500103002/"}
	if err := s.PutUnit(ctx, admin, cases.Unit{ID: "jia-post-staffed", Name: "甲街道民生服务板块B岗", Kind: cases.UnitPost, Board: cases.BoardServices,
		Parent: "500103001-services", RegionPath: "/500000/500103/500103001/", Active: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateAccount(ctx, NewAccount{Username: "jia_b", Name: "甲B岗", Role: cases.RoleUnit, UnitID: "jia-post-staffed", PasswordHash: "x"}, auth.FastParams); err != nil {
		t.Fatal(err)
	}
	staffed := func(a cases.Actor) int {
		bs, err := s.Boards(ctx, a, "500103001")
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, b := range bs {
			for _, d := range b.Posts {
				n += len(d.Staff)
			}
		}
		return n
	}
	if staffed(admin) != 1 || staffed(other) != 0 {
		t.Errorf("staff shown: district admin %d, another street's commander %d; want 1 and 0", staffed(admin), staffed(other))
	}
}

func storeAuditUnit(id string) store.AuditFilter {
	return store.AuditFilter{Kind: "unit", ObjectID: id}
}
