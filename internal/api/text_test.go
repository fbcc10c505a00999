package api_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestTextNoEngineDisagreesOn: a NUL byte (which SQLite stores and
// PostgreSQL refuses), another control character, a line break in a
// one-line field and invalid UTF-8 are 400 naming the field, on every kind
// of input: a report's fields, an action's note, an administrator's unit,
// account and category, a sign-in, a query string and a path. Never a 500,
// never stored. Run on both engines (ZHIZHI_TEST_POSTGRES).
func TestTextNoEngineDisagreesOn(t *testing.T) {
	_, shape := gridOf(t, "zhouchunyan")
	p := pointIn(t, shape)
	point := map[string]float64{"lng": p.Lng, "lat": p.Lat}
	rep := func(k string, v any) map[string]any {
		b := map[string]any{"source": "patrol", "category": "MS07", "address": "测试", "description": "井盖缺失", "point": point}
		b[k] = v
		return b
	}
	c := reportAs(t, "zhouchunyan", xinyingcun, map[string]any{"category": "MS07", "description": "文本检查"})
	unit := map[string]any{"name": "石油路街道民生服务板块\x00岗", "kind": "post", "board": "services", "parent": "syl-ms-bk",
		"region_path": "/500000/500103/500103014/", "active": true}
	cat := map[string]any{"code": "ZZ99", "name": "测试\n类别", "board": "services", "level": "street", "active": true}
	var acct struct {
		ID string `json:"id"`
	}
	mustJSON(t, as(t, "admin", 200, "GET", "/api/v1/me", nil), &acct)
	for _, tc := range []struct {
		name, user, method, path string
		body                     any
		field, reason            string
	}{
		{"NUL in a description", "zhouchunyan", "POST", "/api/v1/cases", rep("description", "井盖\x00缺失"), "description", "控制字符"},
		{"NUL in an address", "zhouchunyan", "POST", "/api/v1/cases", rep("address", "新影村\x00"), "address", "控制字符"},
		{"line break in an address", "zhouchunyan", "POST", "/api/v1/cases", rep("address", "新影村\n3号"), "address", "换行"},
		{"escape in a reporter's name", "zhouchunyan", "POST", "/api/v1/cases", rep("reporter", map[string]any{"name": "\x1b[2J"}), "reporter.name", "控制字符"},
		{"NUL in a photo hash", "zhouchunyan", "POST", "/api/v1/cases", rep("photos", []map[string]string{{"hash": "ab\x00"}}), "photos[0].hash", "控制字符"},
		{"invalid UTF-8 in a body", "zhouchunyan", "POST", "/api/v1/cases", `{"source":"patrol","category":"MS07","address":"测试","description":"井盖` + "\xff\xfe" + `"}`, "body", "UTF-8"},
		{"NUL in a note", "syl_zhihui", "POST", "/api/v1/cases/" + c.ID + "/actions", map[string]any{"action": "accept", "note": "好\x00"}, "note", "控制字符"},
		{"NUL in a unit's name", "admin", "PUT", "/api/v1/units/syl-ms-nul", unit, "name", "控制字符"},
		{"line break in a category's name", "admin", "PUT", "/api/v1/categories/ZZ99", cat, "name", "换行"},
		{"NUL in an account's name", "admin", "PATCH", "/api/v1/accounts/" + acct.ID, map[string]any{"name": "管理员\x00"}, "name", "控制字符"},
		{"NUL in a search", "syl_zhihui", "GET", "/api/v1/cases?q=%00", nil, "q", "控制字符"},
		{"invalid UTF-8 in a search", "syl_zhihui", "GET", "/api/v1/cases?q=%FF%FE", nil, "q", "UTF-8"},
		{"NUL in a path", "syl_zhihui", "GET", "/api/v1/cases/x%00y", nil, "path", "控制字符"},
		{"NUL in a region filter", "syl_zhihui", "GET", "/api/v1/regions/50%0001", nil, "path", "控制字符"},
		{"NUL in a user name", "", "POST", "/api/v1/sessions", map[string]string{"username": "admin\x00", "password": "x"}, "username", "控制字符"},
	} {
		tok := ""
		if tc.user != "" {
			tok = token(t, tc.user)
		}
		st, b := call(t, tok, tc.method, tc.path, tc.body)
		if st != http.StatusBadRequest || !strings.Contains(string(b), `"field":"`+tc.field+`"`) || !strings.Contains(string(b), tc.reason) {
			t.Errorf("%s: %d %s", tc.name, st, b)
		}
	}
	if b := as(t, "admin", 200, "GET", "/api/v1/categories", nil); strings.Contains(string(b), "ZZ99") {
		t.Fatal("a refused category was stored")
	}
	if got, _ := detail(t, "syl_zhihui", c.ID); got.State != "reported" {
		t.Fatalf("a refused action changed the case: %s", got.State)
	}
	// Tabs and line breaks stay allowed where text has lines.
	act(t, "syl_zhihui", c.ID, map[string]any{"action": "accept", "note": "第一行\r\n第二行\t完"})
}
