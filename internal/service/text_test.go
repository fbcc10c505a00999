package service

import (
	"context"
	"errors"
	"strings"
	"testing"

	"zhizhi/internal/apperr"
	"zhizhi/internal/auth"
	"zhizhi/internal/cases"
)

// TestOneLineText: the service refuses control characters and line breaks
// in the one-line fields of units and accounts, whatever door they came
// through, naming the field.
func TestOneLineText(t *testing.T) {
	s, _ := keyWorld(t)
	ctx := context.Background()
	admin := cases.Actor{AccountID: "acct-admin", Name: "管理员", Role: cases.RoleAdmin, RegionPath: "/500000/"}
	field := func(err error) string {
		var e *apperr.Error
		if !apperr.Is(err, apperr.Invalid) || !errors.As(err, &e) {
			return "not invalid: " + strings.TrimSpace(err.Error())
		}
		var out []string
		for _, f := range e.Fields {
			out = append(out, f.Field)
		}
		return strings.Join(out, ",")
	}
	unit := cases.Unit{ID: "text-test", Name: "测试\n部门", Kind: cases.UnitDepartment, RegionPath: "/500000/500103/", Active: true}
	if got := field(s.PutUnit(ctx, admin, unit)); got != "name" {
		t.Errorf("a unit's name with a line break: %s", got)
	}
	unit.Name = "测试部门"
	if err := s.PutUnit(ctx, admin, unit); err != nil {
		t.Fatal(err)
	}
	_, err := s.CreateAccount(ctx, NewAccount{Username: "text_t", Name: "张\x00三", Title: "科员\t", Phone: "138\x1b", Role: cases.RoleUnit, UnitID: "text-test", PasswordHash: "x"}, auth.FastParams)
	if got := field(err); got != "name,title,phone" {
		t.Errorf("an account: %s", got)
	}
	a, err := s.CreateAccount(ctx, NewAccount{Username: "text_t", Name: "张三", Role: cases.RoleUnit, UnitID: "text-test", PasswordHash: "x"}, auth.FastParams)
	if err != nil {
		t.Fatal(err)
	}
	name, title := "李\r\n四", "\x7f"
	if _, err := s.UpdateAccount(ctx, admin, a.ID, AccountChange{Name: &name, Title: &title}, auth.FastParams); field(err) != "name,title" {
		t.Errorf("an account's change: %v", err)
	}
}
