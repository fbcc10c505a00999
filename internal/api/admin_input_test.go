package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"zhizhi/internal/cases"
	"zhizhi/internal/sla"
)

// TestCategoryLimitsAsShown: a category's limits are typed the way pages show
// them ("3个工作日", "48小时"); an unreadable cell is refused, named, and
// changes nothing.
func TestCategoryLimitsAsShown(t *testing.T) {
	ctx := context.Background()
	orig, _ := plat.Service.Category("MS12")
	t.Cleanup(func() { plat.Service.PutCategory(ctx, cases.System, orig) })
	var cats struct {
		Items []map[string]any `json:"items"`
	}
	mustJSON(t, as(t, "admin", 200, "GET", "/api/v1/categories", nil), &cats)
	var ms12 map[string]any
	for _, x := range cats.Items {
		if x["code"] == "MS12" {
			ms12 = x
		}
	}
	ms12["limits"] = map[string]any{
		"handle": map[string]any{"normal": "48h", "urgent": "3个工作日"},
		"verify": map[string]any{"normal": "很快"},
	}
	st, b := call(t, token(t, "admin"), "PUT", "/api/v1/categories/MS12", ms12)
	if st != http.StatusBadRequest || !strings.Contains(string(b), `"field":"handle.normal"`) ||
		!strings.Contains(string(b), `"field":"verify.normal"`) || strings.Contains(string(b), `"field":"handle.urgent"`) {
		t.Fatalf("bad limits: %d %s", st, b)
	}
	if got, _ := plat.Service.Category("MS12"); got.Limits != nil && got.Limits[sla.Handle][sla.Urgent] == (sla.Limit{Amount: 3, Unit: sla.WorkDays}) {
		t.Fatalf("refused input changed the category: %+v", got.Limits)
	}
	table := map[string]any{}
	for _, st := range sla.Stages() {
		table[string(st)] = map[string]any{"normal": "2工作日"}
	}
	table["handle"] = map[string]any{"normal": "３ 个工作日", "urgent": "48小时", "critical": map[string]any{"amount": 2, "unit": "work_hours"}}
	ms12["limits"] = table
	mustJSON(t, as(t, "admin", 200, "PUT", "/api/v1/categories/MS12", ms12), &map[string]any{})
	got, _ := plat.Service.Category("MS12")
	if got.Limits[sla.Handle][sla.Normal] != (sla.Limit{Amount: 3, Unit: sla.WorkDays}) ||
		got.Limits[sla.Handle][sla.Urgent] != (sla.Limit{Amount: 48 * 60, Unit: sla.Minutes}) ||
		got.Limits[sla.Handle][sla.Critical] != (sla.Limit{Amount: 2, Unit: sla.WorkHours}) {
		t.Fatalf("limits after save: %+v", got.Limits)
	}
}

// TestAccountPhones: staff phones are mobile numbers or landlines with an
// area code, stored in one form; a 7-digit number is refused and named.
func TestAccountPhones(t *testing.T) {
	tok := token(t, "admin")
	st, b := call(t, tok, "POST", "/api/v1/accounts", map[string]any{
		"username": "phone_seven", "name": "七位", "role": "resident", "phone": "6388123", "password": "zhizhi2026"})
	if st != http.StatusBadRequest || !strings.Contains(string(b), `"field":"phone"`) {
		t.Fatalf("7-digit phone: %d %s", st, b)
	}
	var acct struct {
		ID    string `json:"id"`
		Phone string `json:"phone"`
	}
	mustJSON(t, as(t, "admin", 201, "POST", "/api/v1/accounts", map[string]any{
		"username": "phone_mobile", "name": "手机", "role": "resident", "phone": "+86 139-1234-5678", "password": "zhizhi2026"}), &acct)
	if acct.Phone != "13912345678" {
		t.Fatalf("stored phone %q", acct.Phone)
	}
	st, b = call(t, tok, "PATCH", "/api/v1/accounts/"+acct.ID, map[string]any{"phone": "139123456"})
	if st != http.StatusBadRequest || !strings.Contains(string(b), `"field":"phone"`) {
		t.Fatalf("short phone: %d %s", st, b)
	}
	mustJSON(t, as(t, "admin", 200, "PATCH", "/api/v1/accounts/"+acct.ID, map[string]any{"phone": "０２３－６３８８１２３４"}), &acct)
	if a, err := plat.DB.Account(context.Background(), acct.ID); err != nil || a.Phone != "023-63881234" {
		t.Fatalf("landline stored as %+v %v", a, err)
	}
}
