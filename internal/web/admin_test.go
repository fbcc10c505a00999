package web_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/auth"
	"zhizhi/internal/calendar"
	"zhizhi/internal/cases"
	"zhizhi/internal/demo"
	"zhizhi/internal/service"
	"zhizhi/internal/sla"
)

// upload posts a file the way the import form does.
func (c *client) upload(path, name, body string, fields url.Values) response {
	c.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("csrf", c.csrf)
	for k, vs := range fields {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	if name != "" {
		w, _ := mw.CreateFormFile("file", name)
		w.Write([]byte(body))
	}
	mw.Close()
	req, _ := http.NewRequest("POST", srv.URL+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return c.do(req)
}

func TestAdminAccess(t *testing.T) {
	for _, u := range []string{"syl_zhihui", "leader", "zhouchunyan", "yj_staff"} {
		c := signIn(t, u)
		for _, p := range []string{"/admin", "/admin/regions", "/admin/units", "/admin/categories", "/admin/calendar", "/admin/accounts", "/admin/regions/export?format=csv"} {
			if r := c.get(p); r.status != http.StatusForbidden {
				t.Errorf("%s GET %s: %d, want 403", u, p, r.status)
			}
		}
	}
	a := signIn(t, "admin")
	if r := a.get("/admin"); r.status != http.StatusSeeOther || r.location != "/admin/regions" {
		t.Fatalf("/admin: %d %s", r.status, r.location)
	}
	expect(t, a.get("/board"), 200, `href="/admin"`, "系统管理")
	// Every form refuses a POST without the page's token.
	for _, p := range []string{"/admin/regions", "/admin/units", "/admin/categories", "/admin/calendar", "/admin/accounts"} {
		if r := a.post(p, url.Values{"csrf": {"forged"}}); r.status != http.StatusForbidden {
			t.Errorf("POST %s with a forged token: %d", p, r.status)
		}
	}
}

func TestAdminRegions(t *testing.T) {
	a := signIn(t, "admin")
	r := a.get("/admin/regions")
	expect(t, r, 200, "区域树", "网格", "石油路街道", "导入区域与网格", `name="csrf"`)
	street, _ := plat.Service.RegionPath("500103014")
	if street == "" {
		t.Fatal("no 石油路街道")
	}
	expect(t, a.get("/admin/regions?under=500103014"), 200, "新影村社区")

	// A broken CSV: every problem by row, nothing stored.
	a.get("/admin/regions")
	bad := "code,name,level,parent_code\n500103014091,测试社区一,community,500103014\n50010301409,测试社区二,community,500103014\n500103014092,,community,500103014\n500103014093,测试社区四,city,500103014\n"
	r = a.upload("/admin/regions", "regions.csv", bad, nil)
	expect(t, r, 400, "导入文件有", "未导入任何数据", "第 3 行", "应为 12 位数字", "第 4 行", "缺少名称", "第 5 行")
	if strings.Contains(r.body, "<td>第 2 行</td>") {
		t.Error("the good line is listed")
	}
	if _, ok := plat.Service.RegionPath("500103014091"); ok {
		t.Fatal("a refused file was partly imported")
	}
	// No file; a file whose format cannot be told.
	a.get("/admin/regions")
	expect(t, a.upload("/admin/regions", "", "", nil), 400, "请选择要导入的 GeoJSON 或 CSV 文件")
	a.get("/admin/regions")
	expect(t, a.upload("/admin/regions", "regions.xls", "x", nil), 400, "无法从文件名判断格式")
	a.get("/admin/regions")
	expect(t, a.upload("/admin/regions", "regions.geojson", `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"500103014094","name":"测试","level":"community","parent_code":"500103014"},"geometry":{"type":"Point","coordinates":[1,2]}}]}`, nil),
		400, "第 1 个要素")

	// A good file is stored, and the list shows it.
	a.get("/admin/regions")
	r = a.upload("/admin/regions", "new.txt", "代码,名称,级别,上级代码\n500103014095,导入测试社区,社区,500103014\n", url.Values{"format": {"csv"}})
	if r.status != http.StatusSeeOther || r.location != "/admin/regions?imported=1" {
		t.Fatalf("good import: %d %s %s", r.status, r.location, excerpt(r.body))
	}
	expect(t, a.get(r.location), 200, "已导入 1 个区域")
	expect(t, a.get("/admin/regions?under=500103014"), 200, "导入测试社区")

	// Exports.
	r = a.get("/admin/regions/export?under=500103014&format=csv")
	if r.status != 200 || !strings.Contains(r.body, "500103014095,导入测试社区,community,500103014") || !strings.Contains(r.header.Get("Content-Disposition"), "regions-500103014.csv") {
		t.Fatalf("CSV export: %d %v\n%.300s", r.status, r.header, r.body)
	}
	r = a.get("/admin/regions/export?under=500103014&format=geojson")
	if r.status != 200 || !strings.Contains(r.body, `"FeatureCollection"`) || !strings.Contains(r.body, `"coordinates"`) {
		t.Fatalf("GeoJSON export: %d %.300s", r.status, r.body)
	}
	expect(t, a.get("/admin/regions/export?format=kml"), 400, "导出格式应为 csv 或 geojson")
}

func TestAdminUnits(t *testing.T) {
	a := signIn(t, "admin")
	expect(t, a.get("/admin/units"), 200, "区应急管理局", "新建部门", `name="region"`)
	// Field errors in Chinese, nothing stored.
	r := a.post("/admin/units", url.Values{"mode": {"new"}, "id": {"Bad ID"}, "name": {""}, "kind": {"x"}, "region": {""}})
	expect(t, r, 400, "部门未保存", "编号为1–40位小写字母", "请选择所属区域")
	a.get("/admin/units")
	r = a.post("/admin/units", url.Values{"mode": {"new"}, "id": {"yj"}, "name": {"重复"}, "kind": {"department"}, "region": {"500103"}})
	expect(t, r, 400, "编号已被“区应急管理局”使用")
	a.get("/admin/units")
	r = a.post("/admin/units", url.Values{"mode": {"new"}, "id": {"jt-test"}, "name": {""}, "kind": {"department"}, "region": {"500103"}, "active": {"1"}})
	expect(t, r, 400, "名称不能为空")
	// Create, then rename.
	a.get("/admin/units")
	r = a.post("/admin/units", url.Values{"mode": {"new"}, "id": {"jt-test"}, "name": {"区交通局（测试）"}, "kind": {"department"}, "region": {"500103"}, "active": {"1"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("create unit: %d %s", r.status, excerpt(r.body))
	}
	expect(t, a.get(r.location), 200, "已保存部门：区交通局（测试）")
	expect(t, a.get("/admin/units?edit=jt-test"), 200, "编辑部门", `value="区交通局（测试）"`, "readonly")
	r = a.post("/admin/units", url.Values{"mode": {"edit"}, "id": {"jt-test"}, "name": {"区交通运输委员会（测试）"}, "kind": {"department"}, "region": {"500103"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("edit unit: %d %s", r.status, excerpt(r.body))
	}
	if u, ok := plat.Service.Unit("jt-test"); !ok || u.Name != "区交通运输委员会（测试）" || u.Active {
		t.Fatalf("unit after edit: %+v", u)
	}
	expect(t, a.get("/admin/units?edit=nope"), 404)
}

func TestAdminCategories(t *testing.T) {
	ctx := context.Background()
	orig, _ := plat.Service.Category("MS01")
	t.Cleanup(func() { plat.Service.PutCategory(ctx, cases.System, orig) })
	a := signIn(t, "admin")
	expect(t, a.get("/admin/categories"), 200, "类别与时限", "MS01", "编辑")
	r := a.get("/admin/categories?edit=MS01")
	expect(t, r, 200, "编辑类别", `name="limit.handle.urgent"`, `name="public"`)
	form := url.Values{"code": {"MS01"}, "name": {orig.Name}, "board": {string(orig.Board)}, "level": {orig.Level},
		"default_unit": {orig.DefaultUnit}, "keywords": {"路面，坑洼、破损"}, "active": {"1"}}
	set := func(extra url.Values) url.Values {
		v := url.Values{}
		for k, x := range form {
			v[k] = x
		}
		for k, x := range extra {
			v[k] = x
		}
		return v
	}
	// Bad limits: the cell says why; a stage without its normal limit too.
	r = a.post("/admin/categories", set(url.Values{"limit.handle.urgent": {"两天"}, "limit.sign.critical": {"5m"}}))
	expect(t, r, 400, "类别未保存", "时限应写作数字加单位", "须同时填写一般时限", `aria-invalid="true"`)
	a.get("/admin/categories?edit=MS01")
	r = a.post("/admin/categories", set(url.Values{"name": {""}, "limit.handle.normal": {"0wd"}}))
	expect(t, r, 400, "名称不能为空", "时限数值应在 1 至")
	r = a.post("/admin/categories", set(url.Values{"limit.handle.normal": {"48h"}}))
	expect(t, r, 400, "无法识别的时限单位“h”", `aria-invalid="true"`)
	// A good edit: limits per stage and severity, typed as pages show them, not public.
	a.get("/admin/categories?edit=MS01")
	r = a.post("/admin/categories", set(url.Values{"limit.handle.normal": {"2个工作日"}, "limit.handle.urgent": {"3 工作时"}, "limit.accept.normal": {"20m"}, "limit.verify.normal": {"１天"}, "limit.verify.urgent": {"４８小时"}}))
	if r.status != http.StatusSeeOther {
		t.Fatalf("save category: %d %s", r.status, excerpt(r.body))
	}
	got, _ := plat.Service.Category("MS01")
	if got.Public || got.Limits[sla.Handle][sla.Urgent] != (sla.Limit{Amount: 3, Unit: sla.WorkHours}) ||
		got.Limits[sla.Accept][sla.Normal] != (sla.Limit{Amount: 20, Unit: sla.Minutes}) ||
		got.Limits[sla.Verify][sla.Urgent] != (sla.Limit{Amount: 48 * 60, Unit: sla.Minutes}) ||
		got.Limits[sla.Verify][sla.Normal] != (sla.Limit{Amount: 1, Unit: sla.Days}) ||
		strings.Join(got.Keywords, "|") != "路面|坑洼|破损" || len(got.Questions) != len(orig.Questions) {
		t.Fatalf("category after save: %+v", got)
	}
	expect(t, a.get(r.location), 200, "已保存类别", "处置2工作日")
	// Back to public, limits cleared: the defaults apply again.
	a.get("/admin/categories?edit=MS01")
	if r := a.post("/admin/categories", set(url.Values{"public": {"1"}})); r.status != http.StatusSeeOther {
		t.Fatalf("save category: %d %s", r.status, excerpt(r.body))
	}
	if got, _ := plat.Service.Category("MS01"); !got.Public || got.Limits != nil {
		t.Fatalf("category after clearing: %+v", got)
	}
	expect(t, a.post("/admin/categories", url.Values{"code": {"NOPE"}}), 404)
}

func TestAdminCalendar(t *testing.T) {
	ctx := context.Background()
	orig := plat.Service.CalendarConfig(ctx)
	t.Cleanup(func() { plat.Service.PutCalendar(ctx, orig) })
	a := signIn(t, "admin")
	expect(t, a.get("/admin/calendar"), 200, "工作日历", "08:30-12:00", "内置的国务院节假日安排")
	r := a.post("/admin/calendar", url.Values{"hours": {"08:30-12:00\n9点到5点"}, "overlay": {"2027-02-06,holiday,春节\n2027-13-01,holiday\n2027-02-06,workday"}})
	expect(t, r, 400, "工作日历未保存", "第 2 行“9点到5点”", "第 2 行：", "日期格式应为 YYYY-MM-DD", "日期与第 1 行重复")
	a.get("/admin/calendar")
	r = a.post("/admin/calendar", url.Values{"hours": {"14:00-18:00\n08:30-12:00"}, "overlay": {""}})
	expect(t, r, 400, "须按先后排列")
	a.get("/admin/calendar")
	r = a.post("/admin/calendar", url.Values{"hours": {"09:00-12:00\n13:30-17:30"}, "overlay": {"2099-02-06,holiday,测试假日\n"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("save calendar: %d %s", r.status, excerpt(r.body))
	}
	cfg := plat.Service.CalendarConfig(ctx)
	if len(cfg.Hours) != 2 || cfg.Hours[0].String() != "09:00-12:00" || len(cfg.Overlay) != 1 || cfg.Overlay[0].Name != "测试假日" {
		t.Fatalf("calendar after save: %+v", cfg)
	}
	expect(t, a.get(r.location), 200, "已保存工作日历", "13:30-17:30", "2099-02-06,休,测试假日")
}

// TestAdminCalendarView: the calendar page is a year of months with the
// official days marked, Chinese kinds are read, and a day clicked without
// the script (a plain POST with toggle=date) is flipped and saved through
// the same write path.
func TestAdminCalendarView(t *testing.T) {
	ctx := context.Background()
	orig := plat.Service.CalendarConfig(ctx)
	t.Cleanup(func() { plat.Service.PutCalendar(ctx, orig) })
	a := signIn(t, "admin")
	r := a.get("/admin/calendar?year=2026")
	expect(t, r, 200, `id="calendar-view"`, "2026 年", "1月", "12月", `href="/admin/calendar?year=2025"`, `href="/admin/calendar?year=2027"`,
		`name="toggle" value="2026-10-01"`, asset(t, "calendar.js"))
	// National Day: an official holiday, marked 休; 2026-09-20 (a Sunday
	// before it) is an official make-up day, marked 班.
	day := func(body, date string) string {
		m := regexp.MustCompile(`<button[^>]*value="` + date + `"[^>]*>[^<]*<small>[^<]*</small>`).FindString(body)
		if m == "" {
			t.Fatalf("no cell for %s", date)
		}
		return m
	}
	if c := day(r.body, "2026-10-01"); !strings.Contains(c, "official") || !strings.Contains(c, " off") || !strings.Contains(c, "<small>休</small>") {
		t.Errorf("National Day: %s", c)
	}
	if c := day(r.body, "2026-09-20"); !strings.Contains(c, "official") || !strings.Contains(c, " work") || !strings.Contains(c, "<small>班</small>") {
		t.Errorf("make-up day: %s", c)
	}
	if c := day(r.body, "2026-03-04"); strings.Contains(c, "official") || strings.Contains(c, " off") || strings.Contains(c, "<small>休</small>") {
		t.Errorf("an ordinary Wednesday: %s", c)
	}
	// A click without the script: the Wednesday becomes a day off, saved.
	form := url.Values{"hours": {"08:30-12:00\n14:00-17:30"}, "overlay": {"2099-02-06,休,测试"}, "year": {"2026"}, "toggle": {"2026-03-04"}}
	r = a.post("/admin/calendar", form)
	if r.status != http.StatusSeeOther || !strings.Contains(r.location, "year=2026") {
		t.Fatalf("toggle: %d %s %s", r.status, r.location, excerpt(r.body))
	}
	cfg := plat.Service.CalendarConfig(ctx)
	if len(cfg.Overlay) != 2 || cfg.Overlay[1].Date != "2026-03-04" || cfg.Overlay[1].Kind != calendar.Holiday {
		t.Fatalf("overlay after the click: %+v", cfg.Overlay)
	}
	if plat.Service.Calendar().IsWorkday(time.Date(2026, 3, 4, 12, 0, 0, 0, calendar.Shanghai())) {
		t.Error("the clicked day is still worked")
	}
	r = a.get(r.location)
	if c := day(r.body, "2026-03-04"); !strings.Contains(c, "custom") || !strings.Contains(c, "<small>休</small>") {
		t.Errorf("clicked day: %s", c)
	}
	// Clicked again: back to the official day.
	form.Set("overlay", "2099-02-06,休,测试\n2026-03-04,休")
	if r := a.post("/admin/calendar", form); r.status != http.StatusSeeOther {
		t.Fatalf("toggle back: %d", r.status)
	}
	if cfg := plat.Service.CalendarConfig(ctx); len(cfg.Overlay) != 1 {
		t.Fatalf("overlay after the second click: %+v", cfg.Overlay)
	}
	// A bad date is named, nothing saved.
	form.Set("toggle", "2026-02-30")
	expect(t, a.post("/admin/calendar", form), 400, "日期格式应为 YYYY-MM-DD")
}

func TestAdminAccounts(t *testing.T) {
	a := signIn(t, "admin")
	r := a.get("/admin/accounts")
	expect(t, r, 200, "zhouchunyan", "周春燕", "网格员", "138****", "新建账号")
	if strings.Contains(r.body, "13800000005") || strings.Contains(r.body, "1380000000") {
		t.Fatal("a full phone number is shown")
	}
	expect(t, a.get("/admin/accounts?q=zhou"), 200, "zhouchunyan")
	if r := a.get("/admin/accounts?q=zhou"); strings.Contains(r.body, "syl_zhihui") {
		t.Error("search does not narrow")
	}
	// Field errors in Chinese.
	r = a.post("/admin/accounts", url.Values{"username": {"a"}, "name": {""}, "role": {string(cases.RoleGridWorker)}, "region_code": {"999"},
		"phone": {"abc"}, "password": {"short"}, "password2": {"short"}})
	expect(t, r, 400, "账号未创建", "电话号码应为11位手机号")
	// A 7-digit number without its area code is refused, alone, named.
	a.get("/admin/accounts")
	r = a.post("/admin/accounts", url.Values{"username": {"sevendigits"}, "name": {"七位电话"}, "role": {string(cases.RoleGridWorker)},
		"region_code": {"500103014"}, "phone": {"6388123"}, "password": {"password123"}, "password2": {"password123"}})
	expect(t, r, 400, "账号未创建", "电话号码应为11位手机号", `name="phone"`)
	if _, err := plat.DB.AccountByUsername(context.Background(), "sevendigits"); err == nil {
		t.Fatal("an account with a 7-digit phone was created")
	}
	a.get("/admin/accounts")
	r = a.post("/admin/accounts", url.Values{"username": {"a"}, "name": {""}, "role": {string(cases.RoleGridWorker)}, "region_code": {"999"},
		"password": {"short"}, "password2": {"short"}})
	expect(t, r, 400, "用户名为2–32位", "姓名不能为空", "密码至少8位", "须指定账号管辖的区域")
	a.get("/admin/accounts")
	expect(t, a.post("/admin/accounts", url.Values{"username": {"newworker"}, "name": {"新网格员"}, "role": {string(cases.RoleGridWorker)},
		"region_code": {"500103014"}, "password": {"password123"}, "password2": {"password124"}}), 400, "两次输入的密码不一致")
	a.get("/admin/accounts")
	expect(t, a.post("/admin/accounts", url.Values{"username": {"zhouchunyan"}, "name": {"重名"}, "role": {"resident"},
		"password": {"password123"}, "password2": {"password123"}}), 400, "用户名已存在")
	// A good account can sign in at once.
	grid := strings.Split(strings.Trim(actor(t, "zhouchunyan").RegionPath, "/"), "/")[4]
	a.get("/admin/accounts")
	r = a.post("/admin/accounts", url.Values{"username": {"newworker"}, "name": {"新网格员"}, "role": {string(cases.RoleGridWorker)},
		"region_code": {grid}, "phone": {"１３９ １２３４ ５６７８"}, "password": {"password123"}, "password2": {"password123"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("create account: %d %s", r.status, excerpt(r.body))
	}
	if got, _ := plat.DB.AccountByUsername(context.Background(), "newworker"); got.Phone != "13912345678" {
		t.Fatalf("phone stored as %q, want the normal form", got.Phone)
	}
	expect(t, a.get(r.location), 200, "已创建账号：newworker", "139****5678")
	c := newClient(t)
	c.get("/signin")
	if r := c.post("/signin", url.Values{"username": {"newworker"}, "password": {"password123"}}); r.status != http.StatusSeeOther || r.location != "/m" {
		t.Fatalf("new account signs in: %d %s", r.status, r.location)
	}
	if got := actor(t, "newworker"); got.Role != cases.RoleGridWorker || !strings.HasSuffix(got.RegionPath, grid+"/") {
		t.Fatalf("new account %+v", got)
	}
}

func TestAdminEditAccount(t *testing.T) {
	ctx := context.Background()
	grid := strings.Split(strings.Trim(actor(t, "zhouchunyan").RegionPath, "/"), "/")[4]
	acct, err := plat.Service.CreateAccount(ctx, service.NewAccount{Username: "editme", Name: "待编辑", Role: cases.RoleGridWorker,
		RegionCode: grid, Password: demo.Password}, auth.FastParams)
	if err != nil {
		t.Fatal(err)
	}
	path := "/admin/accounts/" + acct.ID
	a := signIn(t, "admin")
	expect(t, a.get("/admin/accounts"), 200, `href="/admin/accounts?edit=`+acct.ID)
	expect(t, a.get("/admin/accounts?edit="+acct.ID), 200, "编辑账号", `action="`+path+`"`, `value="待编辑"`, `name="e.password"`, `name="csrf"`)
	expect(t, a.get("/admin/accounts?edit=nope"), 404)
	// The token is required.
	if r := a.post(path, url.Values{"csrf": {"forged"}, "e.name": {"x"}}); r.status != http.StatusForbidden {
		t.Fatalf("forged token: %d", r.status)
	}
	// The worker signs in; field errors in Chinese, nothing stored.
	w := signIn(t, "editme")
	good := url.Values{"e.name": {"已编辑"}, "e.role": {string(cases.RoleGridWorker)}, "e.region_code": {grid}, "e.phone": {"13912345678"}, "e.active": {"1"}}
	with := func(extra url.Values) url.Values {
		v := url.Values{}
		for k, x := range good {
			v[k] = x
		}
		for k, x := range extra {
			v[k] = x
		}
		return v
	}
	a.get("/admin/accounts?edit=" + acct.ID)
	r := a.post(path, with(url.Values{"e.name": {""}, "e.role": {"king"}, "e.password": {"short"}, "e.password2": {"short"}}))
	expect(t, r, 400, "账号未保存", "姓名不能为空", "角色无效", "密码至少8位")
	a.get("/admin/accounts?edit=" + acct.ID)
	expect(t, a.post(path, with(url.Values{"e.role": {string(cases.RoleHead)}, "e.title": {"国王"}})), 400, "三长须选择职务")
	a.get("/admin/accounts?edit=" + acct.ID)
	expect(t, a.post(path, with(url.Values{"e.phone": {"abc"}, "e.password": {"password456"}, "e.password2": {"password789"}})), 400,
		"电话号码应为11位手机号", "两次输入的密码不一致")
	a.get("/admin/accounts?edit=" + acct.ID)
	expect(t, a.post(path, with(url.Values{"e.phone": {"1234567"}})), 400, "电话号码应为11位手机号")
	if got, _ := plat.DB.Account(ctx, acct.ID); got.Name != "待编辑" {
		t.Fatalf("a refused edit was stored: %+v", got)
	}
	// A good edit; deactivating signs the worker out.
	a.get("/admin/accounts?edit=" + acct.ID)
	r = a.post(path, with(nil))
	if r.status != http.StatusSeeOther {
		t.Fatalf("edit: %d %s", r.status, excerpt(r.body))
	}
	expect(t, a.get(r.location), 200, "已保存账号：editme", "已编辑", "139****5678")
	a.get("/admin/accounts?edit=" + acct.ID)
	if r := a.post(path, with(url.Values{"e.phone": {"（023）6388 1234"}})); r.status != http.StatusSeeOther {
		t.Fatalf("edit landline: %d %s", r.status, excerpt(r.body))
	}
	if got, _ := plat.DB.Account(ctx, acct.ID); got.Phone != "023-63881234" {
		t.Fatalf("landline stored as %q", got.Phone)
	}
	if r := w.get("/m"); r.status != http.StatusOK {
		t.Fatalf("a rename signs the worker out: %d", r.status)
	}
	a.get("/admin/accounts?edit=" + acct.ID)
	v := with(nil)
	v.Del("e.active")
	if r := a.post(path, v); r.status != http.StatusSeeOther {
		t.Fatalf("deactivate: %d %s", r.status, excerpt(r.body))
	}
	if r := w.get("/m"); r.status == http.StatusOK {
		t.Fatal("a deactivated account's session still works")
	}
	// An administrator cannot deactivate or demote themselves.
	me := actor(t, "admin")
	a.get("/admin/accounts?edit=" + me.AccountID)
	r = a.post("/admin/accounts/"+me.AccountID, url.Values{"e.name": {me.Name}, "e.role": {string(cases.RoleCommander)},
		"e.region_code": {lastCode(me.RegionPath)}})
	expect(t, r, 400, "不能停用自己的账号", "不能取消自己的管理员角色")
	if got := actor(t, "admin"); got.Role != cases.RoleAdmin {
		t.Fatalf("admin demoted: %+v", got)
	}
}

func lastCode(p string) string {
	parts := strings.Split(strings.Trim(p, "/"), "/")
	return parts[len(parts)-1]
}

func TestAdminNewCategory(t *testing.T) {
	a := signIn(t, "admin")
	expect(t, a.get("/admin/categories"), 200, `href="/admin/categories?new=1`)
	expect(t, a.get("/admin/categories?new=1"), 200, "新建类别", `name="mode" value="new"`, `name="code"`, `name="public"`, `name="csrf"`)
	if r := a.post("/admin/categories", url.Values{"csrf": {"forged"}, "mode": {"new"}, "code": {"ZZ01"}}); r.status != http.StatusForbidden {
		t.Fatalf("forged token: %d", r.status)
	}
	form := url.Values{"mode": {"new"}, "code": {"ZZ01"}, "name": {"测试类别"}, "board": {string(cases.Boards[0])}, "level": {"street"},
		"default_unit": {"yj"}, "public": {"1"}, "active": {"1"}}
	with := func(extra url.Values) url.Values {
		v := url.Values{}
		for k, x := range form {
			v[k] = x
		}
		for k, x := range extra {
			v[k] = x
		}
		return v
	}
	a.get("/admin/categories?new=1")
	expect(t, a.post("/admin/categories", with(url.Values{"code": {"bad code!"}, "name": {""}, "level": {"planet"}})), 400,
		"类别未保存", "编码只能包含", "名称不能为空", "责任层级必须是")
	a.get("/admin/categories?new=1")
	expect(t, a.post("/admin/categories", with(url.Values{"code": {"MS01"}})), 400, "编码已被")
	a.get("/admin/categories?new=1")
	expect(t, a.post("/admin/categories", with(url.Values{"default_unit": {"nope"}})), 400, "默认部门不存在")
	if _, ok := plat.Service.Category("ZZ01"); ok {
		t.Fatal("a refused category was stored")
	}
	a.get("/admin/categories?new=1")
	r := a.post("/admin/categories", with(nil))
	if r.status != http.StatusSeeOther {
		t.Fatalf("create category: %d %s", r.status, excerpt(r.body))
	}
	got, ok := plat.Service.Category("ZZ01")
	if !ok || got.Name != "测试类别" || got.Level != "street" || got.DefaultUnit != "yj" || !got.Public || !got.Active {
		t.Fatalf("new category: %+v", got)
	}
	expect(t, a.get(r.location), 200, "已保存类别：测试类别", "ZZ01")
}
