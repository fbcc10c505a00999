package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"zhizhi/internal/api"
	"zhizhi/internal/auth"
	"zhizhi/internal/cases"
	"zhizhi/internal/demo"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
)

var streetAdminOnce sync.Once

// streetAdmin makes (once) an administrator scoped to 石油路街道 and returns
// its account and the street's path.
func streetAdmin(t *testing.T) (store.Account, string) {
	t.Helper()
	ctx := context.Background()
	cmd, err := plat.DB.AccountByUsername(ctx, "syl_zhihui")
	if err != nil {
		t.Fatal(err)
	}
	street := cmd.RegionPath
	streetAdminOnce.Do(func() {
		code := lastSeg(street)
		if _, err := plat.Service.CreateAccount(ctx, service.NewAccount{Username: "syl_admin", Name: "石油路街道管理员",
			Role: cases.RoleAdmin, RegionCode: code, Password: demo.Password}, auth.FastParams); err != nil {
			t.Fatal(err)
		}
	})
	a, err := plat.DB.AccountByUsername(ctx, "syl_admin")
	if err != nil {
		t.Fatal(err)
	}
	return a, street
}

// scopeProbe is one admin route's trial by an administrator scoped to a
// street: requests that reach outside the street (refused with 403, or for
// a listing, answered with nothing outside), and one inside it that works.
type scopeProbe func(t *testing.T, tok, street string)

// TestStreetAdminScopeMatrix: an administrator scoped to one street may read
// and change only what lies inside its street, may not grant a scope wider
// than its own nor widen its own, and may not change district-wide settings.
// Every admin route of the API's route table must have a probe here, so a
// new admin route cannot escape the matrix.
func TestStreetAdminScopeMatrix(t *testing.T) {
	me, street := streetAdmin(t)
	tok := token(t, "syl_admin")
	ctx := context.Background()
	jfb, _ := plat.DB.AccountByUsername(ctx, "jfb_zhihui")
	district := "500103"
	probes := map[string]scopeProbe{
		"POST /api/v1/regions/import": func(t *testing.T, tok, street string) {
			// Rename a grid of another street: refused, nothing imported.
			other := jfb.RegionPath
			grids, err := plat.DB.Regions(ctx, store.RegionFilter{Under: other, Level: "grid"})
			if err != nil || len(grids) == 0 {
				t.Fatalf("grids of 解放碑: %v", err)
			}
			g := grids[0]
			exported := as(t, "admin", 200, "GET", "/api/v1/regions/export?format=geojson&under="+g.Code, nil)
			body := strings.Replace(string(exported), `"`+g.Name+`"`, `"被改名的网格"`, 1)
			if body == string(exported) {
				t.Fatalf("grid %s not in its export: %.300s", g.Name, exported)
			}
			st, out := callType(t, tok, "POST", "/api/v1/regions/import?format=geojson", "application/geo+json", body)
			if st != http.StatusForbidden {
				t.Errorf("import into another street: %d %s", st, out)
			}
			if after, _ := plat.DB.Region(ctx, g.Code); after.Name != g.Name {
				t.Errorf("another street's grid renamed to %q", after.Name)
			}
		},
		"PUT /api/v1/categories/{code}": func(t *testing.T, tok, street string) {
			c, _ := plat.Service.Category("MS03")
			st, out := call(t, tok, "PUT", "/api/v1/categories/MS03", c)
			if st != http.StatusForbidden {
				t.Errorf("category: %d %s", st, out)
			}
		},
		"PUT /api/v1/units/{id}": func(t *testing.T, tok, street string) {
			for _, id := range []string{demo.SectionUnitID("解放碑街道", cases.BoardServices), "yj"} {
				u, ok := plat.Service.Unit(id)
				if !ok {
					t.Fatalf("no unit %s", id)
				}
				old := u.Name
				u.Name = old + "（改）"
				if st, out := call(t, tok, "PUT", "/api/v1/units/"+id, u); st != http.StatusForbidden {
					t.Errorf("unit %s outside the street: %d %s", id, st, out)
				}
				if now, _ := plat.Service.Unit(id); now.Name != old {
					t.Errorf("unit %s renamed to %q", id, now.Name)
				}
			}
			// Moving one of its own units out of the street is refused too.
			u, _ := plat.Service.Unit(demo.SectionUnitID("石油路街道", cases.BoardServices))
			u.RegionPath = jfb.RegionPath
			if st, out := call(t, tok, "PUT", "/api/v1/units/"+u.ID, u); st != http.StatusForbidden {
				t.Errorf("unit moved out of the street: %d %s", st, out)
			}
		},
		"POST /api/v1/boards": func(t *testing.T, tok, street string) {
			if st, out := call(t, tok, "POST", "/api/v1/boards", map[string]string{"region": district}); st != http.StatusForbidden {
				t.Errorf("boards for the district: %d %s", st, out)
			}
		},
		"GET /api/v1/audit": func(t *testing.T, tok, street string) {
			if st, out := call(t, tok, "GET", "/api/v1/audit", nil); st != http.StatusForbidden {
				t.Errorf("the whole audit trail: %d %s", st, out)
			}
			if st, out := call(t, tok, "GET", "/api/v1/audit?kind=account&object_id="+jfb.ID, nil); st != http.StatusForbidden {
				t.Errorf("another street's account's trail: %d %s", st, out)
			}
			if st, out := call(t, tok, "GET", "/api/v1/audit?kind=account&object_id="+me.ID, nil); st != http.StatusOK {
				t.Errorf("own account's trail: %d %s", st, out)
			}
		},
		"GET /api/v1/accounts": func(t *testing.T, tok, street string) {
			st, out := call(t, tok, "GET", "/api/v1/accounts", nil)
			if st != http.StatusOK {
				t.Fatalf("accounts: %d %s", st, out)
			}
			var list struct {
				Items []store.Account `json:"items"`
			}
			mustJSON(t, out, &list)
			if len(list.Items) == 0 {
				t.Fatal("no accounts listed")
			}
			for _, a := range list.Items {
				p := a.RegionPath
				if a.Role == cases.RoleUnit {
					u, _ := plat.Service.Unit(a.UnitID)
					p = u.RegionPath
				}
				if !strings.HasPrefix(p, street) {
					t.Errorf("lists %s (%s) at %q", a.Username, a.Role, p)
				}
			}
		},
		"POST /api/v1/accounts": func(t *testing.T, tok, street string) {
			for _, in := range []map[string]any{
				{"username": "x_jfb_cmd", "name": "越权指挥长", "role": "commander", "region_code": lastSeg(jfb.RegionPath), "password": "password1"},
				{"username": "x_qu_admin", "name": "越权管理员", "role": "admin", "region_code": district, "password": "password1"},
				{"username": "x_yj_staff", "name": "越权部门账号", "role": "unit", "unit_id": "yj", "password": "password1"},
				{"username": "x_resident", "name": "越权居民", "role": "resident", "password": "password1"},
			} {
				if st, out := call(t, tok, "POST", "/api/v1/accounts", in); st != http.StatusForbidden {
					t.Errorf("create %v: %d %s", in["username"], st, out)
				}
			}
		},
		"PATCH /api/v1/accounts/{id}": func(t *testing.T, tok, street string) {
			for _, ch := range []map[string]any{{"name": "改名"}, {"active": false}, {"password": "newpassword1"}} {
				if st, out := call(t, tok, "PATCH", "/api/v1/accounts/"+jfb.ID, ch); st != http.StatusForbidden {
					t.Errorf("change another street's commander %v: %d %s", ch, st, out)
				}
			}
			if now, _ := plat.DB.Account(ctx, jfb.ID); now.Name != jfb.Name || !now.Active || now.PasswordHash != jfb.PasswordHash {
				t.Errorf("another street's commander changed: %+v", now)
			}
			// Widening its own scope.
			if st, out := call(t, tok, "PATCH", "/api/v1/accounts/"+me.ID, map[string]any{"region_code": district}); st != http.StatusForbidden {
				t.Errorf("widen own scope: %d %s", st, out)
			}
			// An account inside the street can be renamed.
			cmd, _ := plat.DB.AccountByUsername(ctx, "syl_zhihui")
			if st, out := call(t, tok, "PATCH", "/api/v1/accounts/"+cmd.ID, map[string]any{"name": cmd.Name}); st != http.StatusOK {
				t.Errorf("own street's commander: %d %s", st, out)
			}
		},
		"POST /api/v1/evaluation/rules": func(t *testing.T, tok, street string) {
			var book struct {
				Versions []json.RawMessage `json:"versions"`
			}
			mustJSON(t, as(t, "syl_admin", 200, "GET", "/api/v1/evaluation/rules", nil), &book)
			if len(book.Versions) == 0 {
				t.Fatal("no rules")
			}
			if st, out := call(t, tok, "POST", "/api/v1/evaluation/rules", book.Versions[len(book.Versions)-1]); st != http.StatusForbidden {
				t.Errorf("evaluation rules: %d %s", st, out)
			}
		},
		// The sensors are the district's: a street's administrator
		// changes none of them.
		"PUT /api/v1/device-kinds/{code}": func(t *testing.T, tok, street string) {
			if st, out := call(t, tok, "PUT", "/api/v1/device-kinds/scope-k", map[string]any{"name": "k", "unit": "u", "min": 0, "max": 1}); st != http.StatusForbidden {
				t.Errorf("device kind: %d %s", st, out)
			}
		},
		"POST /api/v1/devices/import": func(t *testing.T, tok, street string) {
			if st, out := callType(t, tok, "POST", "/api/v1/devices/import", "text/csv", "id,kind,lng,lat\nS-1,api-crowd,106.5,29.5\n"); st != http.StatusForbidden {
				t.Errorf("device import: %d %s", st, out)
			}
		},
		"PUT /api/v1/sensor-rules/{id}": func(t *testing.T, tok, street string) {
			if st, out := call(t, tok, "PUT", "/api/v1/sensor-rules/scope-r", map[string]any{"name": "r", "type": "silence", "kind": "api-crowd",
				"silent_minutes": 5, "category": plat.Service.Categories()[0].Code, "severity": "normal"}); st != http.StatusForbidden {
				t.Errorf("sensor rule: %d %s", st, out)
			}
		},
		"POST /api/v1/readings": func(t *testing.T, tok, street string) {
			if st, out := call(t, tok, "POST", "/api/v1/readings", `[{"device":"API-C1","value":1,"at":1}]`); st != http.StatusForbidden {
				t.Errorf("readings: %d %s", st, out)
			}
		},
		"GET /api/v1/notifications/gateway": func(t *testing.T, tok, street string) {
			// Read-only for a street's administrator, the auth value masked.
			if st, out := call(t, tok, "GET", "/api/v1/notifications/gateway", nil); st != http.StatusOK || strings.Contains(string(out), "secret") {
				t.Errorf("gateway read: %d %s", st, out)
			}
		},
		"PUT /api/v1/notifications/gateway": func(t *testing.T, tok, street string) {
			if st, out := call(t, tok, "PUT", "/api/v1/notifications/gateway", map[string]any{"url": "http://127.0.0.1:9/sms", "base_url": "http://127.0.0.1"}); st != http.StatusForbidden {
				t.Errorf("gateway: %d %s", st, out)
			}
		},
		"PUT /api/v1/calendar": func(t *testing.T, tok, street string) {
			var cfg json.RawMessage
			mustJSON(t, as(t, "syl_admin", 200, "GET", "/api/v1/calendar", nil), &cfg)
			if st, out := call(t, tok, "PUT", "/api/v1/calendar", cfg); st != http.StatusForbidden {
				t.Errorf("calendar: %d %s", st, out)
			}
		},
	}
	for route, probe := range hookProbes {
		probes[route] = probe
	}
	for route, acc := range api.RouteAccess() {
		if acc != "admin" {
			continue
		}
		probe, ok := probes[route]
		if !ok {
			t.Errorf("admin route %s has no scope probe in TestStreetAdminScopeMatrix", route)
			continue
		}
		t.Run(route, func(t *testing.T) { probe(t, tok, street) })
	}
}

// lastSeg is the last code of a region path.
func lastSeg(path string) string {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	return segs[len(segs)-1]
}

var otherStreetAdminOnce sync.Once

// otherStreetAdmin is an administrator of 解放碑 street (made once), who
// administers nothing of 石油路; it returns the username.
func otherStreetAdmin(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	jfb, err := plat.DB.AccountByUsername(ctx, "jfb_zhihui")
	if err != nil {
		t.Fatal(err)
	}
	otherStreetAdminOnce.Do(func() {
		if _, err := plat.Service.CreateAccount(ctx, service.NewAccount{Username: "jfb_admin", Name: "解放碑街道管理员",
			Role: cases.RoleAdmin, RegionCode: lastSeg(jfb.RegionPath), Password: demo.Password}, auth.FastParams); err != nil {
			t.Fatal(err)
		}
	})
	return "jfb_admin"
}
