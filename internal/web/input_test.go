package web_test

import (
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"zhizhi/internal/cases"
	"zhizhi/internal/web"
)

type repeat byte

func (b repeat) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

// TestBodyLimitEveryRoute: every POST route of the console's table answers
// 413 to a body one byte over its limit: at once when the length is
// declared, and when reading passes the limit when it is not (for the
// routes an administrator or anyone may post to). A form of fields is held
// to 1 MB even on a route that takes photos.
func TestBodyLimitEveryRoute(t *testing.T) {
	admin := signIn(t, "admin")
	n := 0
	for _, rt := range web.Routes() {
		if rt.Method != http.MethodPost {
			continue
		}
		n++
		limit := web.BodyLimit(rt.Method, rt.Path)
		u := srv.URL + paramRE.ReplaceAllString(rt.Path, "x")
		streamed := rt.Public || len(rt.Roles) == 0 || slices.Contains(rt.Roles, cases.RoleAdmin)
		for _, declared := range []bool{true, false} {
			if !declared && !streamed {
				continue
			}
			prefix := "csrf=" + url.QueryEscape(admin.csrf) + "&note="
			size := limit + 1
			if !declared {
				size = 1<<20 + 1 // a form of fields, chunked
			}
			body := io.MultiReader(strings.NewReader(prefix), io.LimitReader(repeat('a'), size-int64(len(prefix))))
			req, _ := http.NewRequest("POST", u, body)
			if declared {
				req.ContentLength = size
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", srv.URL)
			r := admin.do(req)
			if r.status != http.StatusRequestEntityTooLarge || !strings.Contains(r.body, "请求内容过大") {
				t.Errorf("%s %s (declared %v) with %d bytes: %d %s", rt.Method, rt.Path, declared, size, r.status, excerpt(r.body))
			}
		}
	}
	if n < 10 {
		t.Fatalf("only %d POST routes", n)
	}
}

// TestFormTextNoEngineDisagreesOn: a NUL byte, another control character or
// invalid UTF-8 in any form field or query parameter is 400 naming why,
// before any handler; nothing is stored.
func TestFormTextNoEngineDisagreesOn(t *testing.T) {
	admin := signIn(t, "admin")
	admin.get("/admin/units")
	for name, form := range map[string]url.Values{
		"NUL in a unit's name":        {"id": {"syl-nul"}, "name": {"测试\x00单位"}, "kind": {"department"}, "region_path": {"/500000/500103/"}},
		"invalid UTF-8 in a name":     {"id": {"syl-nul"}, "name": {"测试\xff单位"}, "kind": {"department"}, "region_path": {"/500000/500103/"}},
		"bell in an unexpected field": {"id": {"syl-nul"}, "name": {"测试单位"}, "x": {"\x07"}},
	} {
		r := admin.post("/admin/units", form)
		if r.status != http.StatusBadRequest || !(strings.Contains(r.body, "控制字符") || strings.Contains(r.body, "UTF-8")) {
			t.Errorf("%s: %d %s", name, r.status, excerpt(r.body))
		}
	}
	if strings.Contains(admin.get("/admin/units").body, "syl-nul") {
		t.Fatal("a refused unit was stored")
	}
	cmd := signIn(t, "syl_zhihui")
	for _, q := range []string{"/cases?q=%00", "/dashboard?board=%FF", "/cases/x%00"} {
		if r := cmd.get(q); r.status != http.StatusBadRequest {
			t.Errorf("GET %s: %d %s", q, r.status, excerpt(r.body))
		}
	}
	// A resident's report with a NUL in its description: the form comes
	// back (or the error page) with 400, never a 500.
	res := newClient(t)
	res.get("/r")
	r := res.post("/r", url.Values{"category": {"MS07"}, "description": {"井盖\x00缺失"}, "reporter_phone": {"13912345678"}, "address": {"新影村"}})
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "控制字符") {
		t.Errorf("a resident's NUL: %d %s", r.status, excerpt(r.body))
	}
}

// TestDashboardUnknownBoard: an unknown board filter is 400 naming it, on
// the page and on its exports, not an empty dashboard.
func TestDashboardUnknownBoard(t *testing.T) {
	cmd := signIn(t, "qu_zhihui")
	expect(t, cmd.get("/dashboard?board=roads"), http.StatusBadRequest, "板块应为")
	if r := cmd.get("/dashboard/export?board=roads&format=csv"); r.status != http.StatusBadRequest {
		t.Errorf("export: %d %s", r.status, excerpt(r.body))
	}
	expect(t, cmd.get("/dashboard?board=services"), http.StatusOK)
}
