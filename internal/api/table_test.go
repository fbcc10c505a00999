package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"zhizhi/internal/api"
	"zhizhi/internal/demo"
)

// apiCase is one row of the declarative API tests. Account "" sends no token;
// "{case}", "{lng}" and "{lat}" in the path are replaced by a fresh case's ID
// and a point inside zhouchunyan's grid.
type apiCase struct {
	name         string
	account      string
	method, path string
	body         any
	wantStatus   int
	wantContains []string
}

func TestAPITable(t *testing.T) {
	c := report(t, nil)
	_, shape := gridOf(t, "zhouchunyan")
	p := pointIn(t, shape)
	grid, _ := gridOf(t, "zhouchunyan")
	var acct struct {
		ID string `json:"id"`
	}
	mustJSON(t, as(t, "admin", 201, "POST", "/api/v1/accounts", map[string]any{"username": "patchme", "name": "待改账号",
		"role": "gridworker", "region_code": grid, "password": "password123"}), &acct)
	rows := []apiCase{
		// Sessions.
		{"sign in", "", "POST", "/api/v1/sessions", map[string]string{"username": "syl_zhihui", "password": "zhizhi2026"}, 201, []string{`"token"`, `"role":"commander"`}},
		{"sign in wrong password", "", "POST", "/api/v1/sessions", map[string]string{"username": "syl_zhihui", "password": "nope"}, 401, []string{"用户名或密码错误"}},
		{"sign in unknown user", "", "POST", "/api/v1/sessions", map[string]string{"username": "nobody", "password": "zhizhi2026"}, 401, []string{"用户名或密码错误"}},
		{"sign in missing fields", "", "POST", "/api/v1/sessions", map[string]string{}, 400, []string{`"field":"username"`, `"field":"password"`}},
		{"sign in empty body", "", "POST", "/api/v1/sessions", "", 400, []string{`"field":"body"`}},
		{"no token", "", "GET", "/api/v1/cases", nil, 401, []string{"unauthorized", "请先登录"}},
		{"no token me", "", "GET", "/api/v1/me", nil, 401, []string{"请先登录"}},
		{"me", "syl_zhihui", "GET", "/api/v1/me", nil, 200, []string{`"username":"syl_zhihui"`}},
		// Admin-only routes.
		{"accounts admin", "admin", "GET", "/api/v1/accounts", nil, 200, []string{"zhouchunyan"}},
		{"accounts commander", "syl_zhihui", "GET", "/api/v1/accounts", nil, 403, []string{"forbidden", "需要管理员权限"}},
		{"create account commander", "syl_zhihui", "POST", "/api/v1/accounts", map[string]any{"username": "x1"}, 403, []string{"需要管理员权限"}},
		{"patch account admin", "admin", "PATCH", "/api/v1/accounts/{acct}", map[string]any{"name": "已改账号", "phone": "13912345678"}, 200,
			[]string{`"name":"已改账号"`, `"phone":"139****5678"`, `"role":"gridworker"`}},
		{"patch account commander", "syl_zhihui", "PATCH", "/api/v1/accounts/{acct}", map[string]any{"name": "x"}, 403, []string{"需要管理员权限"}},
		{"patch account bad role", "admin", "PATCH", "/api/v1/accounts/{acct}", map[string]any{"role": "king"}, 400, []string{`"field":"role"`, "角色无效"}},
		{"patch account unknown field", "admin", "PATCH", "/api/v1/accounts/{acct}", map[string]any{"username": "x"}, 400, []string{`"field":"username"`}},
		{"patch unknown account", "admin", "PATCH", "/api/v1/accounts/nope", map[string]any{"name": "x"}, 404, []string{"账号不存在"}},
		{"import commander", "syl_zhihui", "POST", "/api/v1/regions/import?format=csv", "code,name,level,parent_code\n", 403, []string{"需要管理员权限"}},
		{"put unit commander", "syl_zhihui", "PUT", "/api/v1/units/yj", map[string]any{"name": "x"}, 403, []string{"需要管理员权限"}},
		{"put category commander", "syl_zhihui", "PUT", "/api/v1/categories/AQ01", map[string]any{"name": "x"}, 403, []string{"需要管理员权限"}},
		{"put calendar commander", "syl_zhihui", "PUT", "/api/v1/calendar", map[string]any{}, 403, []string{"需要管理员权限"}},
		// Bodies.
		{"bad JSON", "zhouchunyan", "POST", "/api/v1/cases", `{"category":`, 400, []string{`"field":"body"`}},
		{"trailing data", "zhouchunyan", "POST", "/api/v1/cases", `{"category":"AQ01"} {}`, 400, []string{`"field":"body"`}},
		{"unknown field", "zhouchunyan", "POST", "/api/v1/cases", map[string]any{"category": "AQ01", "colour": "red"}, 400, []string{`"field":"colour"`, "未知字段"}},
		{"wrong type", "zhouchunyan", "POST", "/api/v1/cases", map[string]any{"category": 5}, 400, []string{`"field":"category"`, "字符串"}},
		{"report missing everything", "zhouchunyan", "POST", "/api/v1/cases", map[string]any{"source": "patrol"}, 400,
			[]string{`"field":"category"`, `"field":"description"`, `"field":"point"`}},
		{"report unknown category", "zhouchunyan", "POST", "/api/v1/cases", map[string]any{"source": "patrol", "category": "ZZ99", "description": "x", "address": "某处"}, 400,
			[]string{`"field":"category"`, "类别不存在"}},
		{"report bad point and answers", "zhouchunyan", "POST", "/api/v1/cases", map[string]any{"source": "patrol", "category": "AQ01", "description": " ",
			"point": map[string]float64{"lng": 500, "lat": 29}}, 400, []string{`"field":"description"`, `"field":"point"`, "shop", "equipment"}},
		{"report bad severity and source", "zhouchunyan", "POST", "/api/v1/cases", map[string]any{"source": "visit", "category": "AQ01", "severity": "huge",
			"description": "x", "address": "某处", "answers": map[string]any{"shop": "s", "equipment": "lpg"}}, 400, []string{`"field":"source"`, `"field":"severity"`}},
		{"report unuploaded photo", "zhouchunyan", "POST", "/api/v1/cases", map[string]any{"source": "patrol", "category": "AQ01", "description": "x", "address": "某处",
			"answers": map[string]any{"shop": "s", "equipment": "lpg"}, "photos": []map[string]any{{"hash": strings.Repeat("ab", 32)}}}, 400, []string{`"field":"photos[0]"`, "照片未上传"}},
		// Cases.
		{"unknown case", "syl_zhihui", "GET", "/api/v1/cases/nope-0000", nil, 404, []string{"not_found", "案件不存在"}},
		{"unknown case action", "syl_zhihui", "POST", "/api/v1/cases/nope-0000/actions", map[string]any{"action": "accept"}, 404, []string{"案件不存在"}},
		{"case detail", "syl_zhihui", "GET", "/api/v1/cases/{case}", nil, 200, []string{`"steps"`, `"actions":["accept"`}},
		{"refused transition", "syl_zhihui", "POST", "/api/v1/cases/{case}/actions", map[string]any{"action": "close"}, 409, []string{"refused", "待受理", "结案"}},
		{"refused role", "zhouchunyan", "POST", "/api/v1/cases/{case}/actions", map[string]any{"action": "accept"}, 409, []string{"refused", "网格员不能执行“受理”"}},
		{"missing action", "syl_zhihui", "POST", "/api/v1/cases/{case}/actions", map[string]any{}, 400, []string{`"field":"action"`}},
		{"unknown action", "syl_zhihui", "POST", "/api/v1/cases/{case}/actions", map[string]any{"action": "fly"}, 400, []string{`"field":"action"`, "未知操作"}},
		{"internal action", "syl_zhihui", "POST", "/api/v1/cases/{case}/actions", map[string]any{"action": "warn"}, 400, []string{`"field":"action"`}},
		{"reject needs note", "syl_zhihui", "POST", "/api/v1/cases/{case}/actions", map[string]any{"action": "reject"}, 400, []string{`"field":"note"`}},
		{"duplicates", "syl_zhihui", "GET", "/api/v1/cases/{case}/duplicates", nil, 200, []string{`"items"`}},
		// List filters.
		{"list", "syl_zhihui", "GET", "/api/v1/cases?state=reported&limit=5", nil, 200, []string{`"items"`}},
		{"list bad state", "syl_zhihui", "GET", "/api/v1/cases?state=reported,bogus", nil, 400, []string{`"field":"state"`, "bogus"}},
		{"list bad bbox", "syl_zhihui", "GET", "/api/v1/cases?bbox=1,2,3", nil, 400, []string{`"field":"bbox"`}},
		{"list inverted bbox", "syl_zhihui", "GET", "/api/v1/cases?bbox=107,30,106,29", nil, 400, []string{`"field":"bbox"`}},
		{"list limit 0", "syl_zhihui", "GET", "/api/v1/cases?limit=0", nil, 400, []string{`"field":"limit"`}},
		{"list limit 501", "syl_zhihui", "GET", "/api/v1/cases?limit=501", nil, 400, []string{`"field":"limit"`}},
		{"list bad open and time", "syl_zhihui", "GET", "/api/v1/cases?open=maybe&from=yesterday", nil, 400, []string{`"field":"open"`, `"field":"from"`}},
		{"list unknown region", "syl_zhihui", "GET", "/api/v1/cases?region=999999", nil, 400, []string{`"field":"region"`}},
		// Locate and suggest.
		{"locate inside", "zhouchunyan", "GET", "/api/v1/locate?lng={lng}&lat={lat}", nil, 200, []string{`"grid":"` + grid + `"`, "石油路街道", "新影村社区"}},
		{"locate outside", "zhouchunyan", "GET", "/api/v1/locate?lng=116.39&lat=39.9", nil, 200, []string{`"grid":null`, "人工定位"}},
		{"locate bad", "zhouchunyan", "GET", "/api/v1/locate?lng=abc&lat=95", nil, 400, []string{`"field":"lng"`, `"field":"lat"`}},
		{"suggest", "zhouchunyan", "GET", "/api/v1/suggest?text=%E5%95%86%E9%93%BA%E4%BD%BF%E7%94%A8%E9%86%87%E5%9F%BA%E7%87%83%E6%96%99", nil, 200, []string{`"code":"AQ01"`, `"id":"yj"`}},
		{"suggest empty", "zhouchunyan", "GET", "/api/v1/suggest?text=", nil, 400, []string{`"field":"text"`}},
		// Regions and reference data.
		{"region", "zhouchunyan", "GET", "/api/v1/regions/" + grid, nil, 200, []string{`"level":"grid"`, `"shape"`}},
		{"unknown region", "zhouchunyan", "GET", "/api/v1/regions/999999", nil, 404, []string{"区域不存在"}},
		{"regions bad level", "zhouchunyan", "GET", "/api/v1/regions?level=planet", nil, 400, []string{`"field":"level"`}},
		{"categories", "zhouchunyan", "GET", "/api/v1/categories", nil, 200, []string{"AQ01", "危化品违规使用"}},
		{"units", "zhouchunyan", "GET", "/api/v1/units", nil, 200, []string{"区应急管理局"}},
		{"photo unknown", "zhouchunyan", "GET", "/api/v1/photos/" + strings.Repeat("0", 64), nil, 404, []string{"照片不存在"}},
		{"photo not an image", "zhouchunyan", "POST", "/api/v1/photos", "hello, not a picture", 400, []string{`"field":"photo"`}},
	}
	repl := strings.NewReplacer("{acct}", acct.ID, "{case}", c.ID, "{lng}", fmt.Sprint(p.Lng), "{lat}", fmt.Sprint(p.Lat))
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			tok := ""
			if row.account != "" {
				tok = token(t, row.account)
			}
			st, body := call(t, tok, row.method, repl.Replace(row.path), row.body)
			if st != row.wantStatus {
				t.Fatalf("status %d, want %d: %s", st, row.wantStatus, body)
			}
			for _, w := range row.wantContains {
				if !strings.Contains(string(body), w) {
					t.Errorf("body lacks %q: %s", w, body)
				}
			}
			if st >= 400 {
				var e struct {
					Error struct {
						Code, Message string
					}
				}
				if err := json.Unmarshal(body, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
					t.Errorf("error body is not {error:{code,message}}: %s", body)
				}
			}
		})
	}
}

func TestOpenAPIListsEveryRoute(t *testing.T) {
	st, body := call(t, "", "GET", "/api/v1/openapi.json", nil)
	if st != 200 {
		t.Fatalf("openapi.json: %d %s", st, body)
	}
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi version %q", doc.OpenAPI)
	}
	want := map[string]bool{}
	for _, k := range api.RouteKeys() {
		want[k] = true
		method, path, _ := strings.Cut(k, " ")
		op, ok := doc.Paths[path][strings.ToLower(method)]
		if !ok {
			t.Errorf("route %s missing from openapi.json", k)
			continue
		}
		if s, _ := op["summary"].(string); s == "" {
			t.Errorf("route %s has no summary", k)
		}
		if _, ok := api.RouteResponses()[k]; !ok {
			t.Errorf("route %s has no documented answer (api.responses)", k)
		}
	}
	n := 0
	for path, item := range doc.Paths {
		for method := range item {
			n++
			if !want[strings.ToUpper(method)+" "+path] {
				t.Errorf("openapi.json lists %s %s, which the route table does not serve", method, path)
			}
		}
	}
	if n != len(want) {
		t.Errorf("openapi.json has %d operations, route table %d", n, len(want))
	}
}

// TestEveryRouteRefusesOutsiders walks the route table, so a new route
// cannot escape it: without a token every signed and admin route is 401;
// a street commander gets 403 from every admin route (before any handler
// runs, so nothing changes).
func TestEveryRouteRefusesOutsiders(t *testing.T) {
	cmd := token(t, "syl_zhihui")
	for key, who := range api.RouteAccess() {
		method, path, _ := strings.Cut(key, " ")
		path = strings.NewReplacer("{id}", "x", "{code}", "x", "{hash}", "x").Replace(path)
		var body any
		if method != "GET" && method != "DELETE" {
			body = map[string]any{}
		}
		switch who {
		case "signed", "admin":
			if st, b := call(t, "", method, path, body); st != 401 {
				t.Errorf("%s without a token: %d %s", key, st, b)
			}
		}
		if who == "admin" {
			if st, b := call(t, cmd, method, path, body); st != 403 {
				t.Errorf("%s as a street commander: %d %s", key, st, b)
			}
		}
	}
}

// TestSignOutAndCalendarAnswers: sign-out answers 204 and the token is dead
// at once; the calendar put back as it is answers it unchanged (both are
// routes the document describes and the suite must see succeed).
func TestSignOutAndCalendarAnswers(t *testing.T) {
	var s struct {
		Token string `json:"token"`
	}
	st, body := call(t, "", "POST", "/api/v1/sessions", map[string]string{"username": "zhouchunyan", "password": demo.Password})
	if st != 201 {
		t.Fatalf("sign in: %d %s", st, body)
	}
	mustJSON(t, body, &s)
	if st, body := call(t, s.Token, "DELETE", "/api/v1/sessions", nil); st != 204 || len(body) != 0 {
		t.Fatalf("sign out: %d %s", st, body)
	}
	if st, _ := call(t, s.Token, "GET", "/api/v1/me", nil); st != 401 {
		t.Errorf("a signed-out token: %d", st)
	}
	before := as(t, "admin", 200, "GET", "/api/v1/calendar", nil)
	var cfg any
	mustJSON(t, before, &cfg)
	after := as(t, "admin", 200, "PUT", "/api/v1/calendar", cfg)
	if !bytes.Equal(before, after) {
		t.Errorf("calendar put back as it was came back changed:\n%s\n%s", before, after)
	}
}
