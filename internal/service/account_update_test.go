package service

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/auth"
	"zhizhi/internal/cases"
)

func ptr[T any](v T) *T { return &v }

func TestUpdateAccount(t *testing.T) {
	ctx := context.Background()
	s, _ := keyWorld(t)
	admin, err := s.CreateAccount(ctx, NewAccount{Username: "root", Name: "管理员", Role: cases.RoleAdmin, RegionCode: "500103", Password: "password123"}, auth.FastParams)
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.CreateAccount(ctx, NewAccount{Username: "w1", Name: "网格员", Role: cases.RoleGridWorker, RegionCode: "500103001001001", Password: "password123"}, auth.FastParams)
	if err != nil {
		t.Fatal(err)
	}
	by := admin.Actor()

	// Validation: every field's problem, in Chinese, nothing stored.
	_, err = s.UpdateAccount(ctx, by, w.ID, AccountChange{Name: ptr(" "), Role: ptr(cases.Role("king")), Password: ptr("short")}, auth.FastParams)
	if got := fieldsOf(err); !slices.Contains(got, "name") || !slices.Contains(got, "role") || !slices.Contains(got, "password") {
		t.Fatalf("fields %v (%v)", got, err)
	}
	_, err = s.UpdateAccount(ctx, by, w.ID, AccountChange{Role: ptr(cases.RoleHead), Title: ptr("国王")}, auth.FastParams)
	if !slices.Contains(fieldsOf(err), "title") || !strings.Contains(err.Error(), "三长须选择职务") {
		t.Fatalf("head title: %v", err)
	}
	_, err = s.UpdateAccount(ctx, by, w.ID, AccountChange{Role: ptr(cases.RoleUnit), UnitID: ptr("nope")}, auth.FastParams)
	if !slices.Contains(fieldsOf(err), "unit_id") {
		t.Fatalf("unit scope: %v", err)
	}
	_, err = s.UpdateAccount(ctx, by, w.ID, AccountChange{RegionCode: ptr("999")}, auth.FastParams)
	if !slices.Contains(fieldsOf(err), "region_code") {
		t.Fatalf("region: %v", err)
	}
	if _, err = s.UpdateAccount(ctx, by, "nope", AccountChange{}, auth.FastParams); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("unknown account: %v", err)
	}
	// An administrator cannot deactivate or demote themselves.
	_, err = s.UpdateAccount(ctx, by, admin.ID, AccountChange{Active: ptr(false), Role: ptr(cases.RoleCommander)}, auth.FastParams)
	if f := fieldsOf(err); !slices.Contains(f, "active") || !slices.Contains(f, "role") || !strings.Contains(err.Error(), "不能停用自己的账号") {
		t.Fatalf("self: %v", err)
	}
	if got, _ := s.DB().Account(ctx, admin.ID); !got.Active || got.Role != cases.RoleAdmin {
		t.Fatalf("admin after refused change: %+v", got)
	}

	// A name change keeps the session; deactivation revokes it at once,
	// though the token was cached.
	tok, err := s.IssueToken(ctx, w.ID, "t", 100*365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, tok); err != nil {
		t.Fatal(err)
	}
	got, err := s.UpdateAccount(ctx, by, w.ID, AccountChange{Name: ptr("新名字"), Title: ptr("组长")}, auth.FastParams)
	if err != nil || got.Name != "新名字" || got.Title != "组长" || got.RegionPath == "" {
		t.Fatalf("rename: %+v %v", got, err)
	}
	if a, err := s.Authenticate(ctx, tok); err != nil || a.Name != "新名字" {
		t.Fatalf("after rename: %+v %v", a, err)
	}
	if _, err := s.UpdateAccount(ctx, by, w.ID, AccountChange{Active: ptr(false)}, auth.FastParams); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, tok); !apperr.Is(err, apperr.Unauthorized) {
		t.Fatalf("token after deactivation: %v", err)
	}
	// Reactivated with a new password and a head role: the old password fails.
	tok, _ = s.IssueToken(ctx, w.ID, "t2", 100*365*24*time.Hour)
	got, err = s.UpdateAccount(ctx, by, w.ID, AccountChange{Active: ptr(true), Password: ptr("newpassword1"), Role: ptr(cases.RoleHead), Title: ptr(DefaultHeadTitles[0])}, auth.FastParams)
	if err != nil || got.Role != cases.RoleHead || !got.Active {
		t.Fatalf("reactivate: %+v %v", got, err)
	}
	if _, err := s.Authenticate(ctx, tok); err == nil {
		t.Fatal("token survives a password change")
	}
	if _, _, err := s.SignIn(ctx, "w1", "password123"); err == nil {
		t.Fatal("old password still signs in")
	}
	if _, _, err := s.SignIn(ctx, "w1", "newpassword1"); err != nil {
		t.Fatalf("new password: %v", err)
	}
}
