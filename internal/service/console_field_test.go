package service

import (
	"context"
	"testing"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
)

// TestAPIKeysAsAdministrator: in the console an administrator sees, creates
// and revokes only keys scoped within his region.
func TestAPIKeysAsAdministrator(t *testing.T) {
	s, _ := keyWorld(t)
	ctx := context.Background()
	district := cases.Actor{AccountID: "a1", Role: cases.RoleAdmin, RegionPath: "/500000/500103/"}
	streetA := cases.Actor{AccountID: "a2", Role: cases.RoleAdmin, RegionPath: "/500000/500103/500103001/"}
	commander := cases.Actor{AccountID: "c1", Role: cases.RoleCommander, RegionPath: "/500000/500103/"}

	scopes, err := s.KeyScopes(ctx, streetA)
	if err != nil || len(scopes) != 1 || scopes[0].Code != "500103001" {
		t.Fatalf("a street administrator's scopes: %+v %v", scopes, err)
	}
	scopes, _ = s.KeyScopes(ctx, district)
	if len(scopes) != 3 || scopes[0].Code != "500103" {
		t.Fatalf("a district administrator's scopes: %+v", scopes)
	}
	if _, err := s.KeyScopes(ctx, commander); !apperr.Is(err, apperr.Forbidden) {
		t.Fatalf("a commander's scopes: %v", err)
	}

	if _, _, err := s.CreateAPIKeyAs(ctx, streetA, NewAPIKey{Name: "全区", RegionCode: "500103"}); fieldsOf(err) == nil || fieldsOf(err)[0] != "region_code" {
		t.Fatalf("a key above the administrator's region: %v", err)
	}
	if _, _, err := s.CreateAPIKeyAs(ctx, commander, NewAPIKey{Name: "x", RegionCode: "500103"}); !apperr.Is(err, apperr.Forbidden) {
		t.Fatalf("a commander creates a key: %v", err)
	}
	_, a, err := s.CreateAPIKeyAs(ctx, streetA, NewAPIKey{Name: "甲", RegionCode: "500103001"})
	if err != nil {
		t.Fatal(err)
	}
	_, b, err := s.CreateAPIKeyAs(ctx, district, NewAPIKey{Name: "乙", RegionCode: "500103002"})
	if err != nil {
		t.Fatal(err)
	}
	if keys, _ := s.APIKeysOf(ctx, streetA); len(keys) != 1 || keys[0].ID != a.ID {
		t.Fatalf("a street administrator sees %+v", keys)
	}
	if keys, _ := s.APIKeysOf(ctx, district); len(keys) != 2 {
		t.Fatalf("a district administrator sees %d keys", len(keys))
	}
	if _, err := s.RevokeAPIKeyAs(ctx, streetA, b.ID); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("revoking another street's key: %v", err)
	}
	if k, err := s.RevokeAPIKeyAs(ctx, district, b.ID); err != nil || k.Active() {
		t.Fatalf("revoke: %+v %v", k, err)
	}
	if _, err := s.RevokeAPIKeyAs(ctx, district, b.ID); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("revoking twice: %v", err)
	}
}
