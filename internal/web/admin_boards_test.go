package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"zhizhi/internal/cases"
)

// streetCode is the code of the street a unit sits in.
func streetCode(t *testing.T, unitID string) string {
	t.Helper()
	u, ok := plat.Service.Unit(unitID)
	if !ok {
		t.Fatalf("no unit %s", unitID)
	}
	codes := strings.Split(strings.Trim(u.RegionPath, "/"), "/")
	return codes[len(codes)-1]
}

// fieldError fails unless the message shows right after the named input
// (between it and the form's next input).
func fieldError(t *testing.T, body, input, msg string) {
	t.Helper()
	i := strings.Index(body, `name="`+input+`"`)
	if i < 0 {
		t.Fatalf("no input %s: %s", input, excerpt(body))
	}
	rest := body[i:]
	end := ">"
	if strings.HasSuffix(body[:strings.LastIndex(body[:i], "<")+7], "<select") {
		end = "</select>"
	}
	rest = rest[strings.Index(rest, end):]
	next := strings.Index(rest[1:], `name="`)
	if next < 0 {
		next = len(rest) - 1
	}
	if !strings.Contains(rest[:next+1], `class="field-error">`+msg) {
		t.Errorf("no error %q beside %s: %s", msg, input, excerpt(rest[:min(len(rest), 800)]))
	}
}

func TestAdminUnitKinds(t *testing.T) {
	a := signIn(t, "admin")
	syl := streetCode(t, "syl-ms-bk")
	r := a.get("/admin/units")
	expect(t, r, 200, "部门与板块", `<option value="post"`, "板块岗位", "街道板块", "街道科室", ">社区<", `name="board"`, `name="parent"`,
		`data-street="`+syl+`"`, "街道板块架构", `id="tree-`+syl+`"`, "石油路街道民生服务板块A岗", "syl_ms_a", "syl_ms_head", asset(t, "admin.js"))
	// The tree: the board, its posts and section, and their staff.
	tree := r.body[strings.Index(r.body, `id="tree-`+syl+`"`):]
	tree = tree[:strings.Index(tree, "</details>")]
	for _, s := range []string{"石油路街道民生服务板块", "石油路街道民生服务板块A岗", "石油路街道民生服务板块B岗", "石油路街道民生服务办", "syl_ms_head", "syl_ms_a", "syl_ms_b", "syl_ms<"} {
		if !strings.Contains(tree, s) {
			t.Errorf("石油路's tree lacks %q", s)
		}
	}
	if strings.Contains(tree, "解放碑") {
		t.Error("石油路's tree holds 解放碑's units")
	}

	// A post whose parent is another street's board is refused, the field named.
	r = a.post("/admin/units", url.Values{"mode": {"new"}, "id": {"syl-ms-c"}, "name": {"石油路街道民生服务板块C岗（测试）"}, "kind": {"post"},
		"region": {syl}, "board": {"services"}, "parent": {"jfb-ms-bk"}, "active": {"1"}})
	expect(t, r, 400, "部门未保存")
	fieldError(t, r.body, "parent", "“解放碑街道民生服务板块”不是本街道的民生服务板块")
	if _, ok := plat.Service.Unit("syl-ms-c"); ok {
		t.Fatal("the refused post was stored")
	}
	// A post without a parent, a board outside a street.
	a.get("/admin/units")
	r = a.post("/admin/units", url.Values{"mode": {"new"}, "id": {"syl-ms-c"}, "name": {"石油路街道民生服务板块C岗（测试）"}, "kind": {"post"},
		"region": {syl}, "board": {"services"}, "active": {"1"}})
	expect(t, r, 400)
	fieldError(t, r.body, "parent", "岗位须属于本街道的一个板块")
	a.get("/admin/units")
	r = a.post("/admin/units", url.Values{"mode": {"new"}, "id": {"qu-bk-test"}, "name": {"区级板块（测试）"}, "kind": {"board"},
		"region": {"500103"}, "board": {"services"}})
	expect(t, r, 400)
	fieldError(t, r.body, "region", "街道板块应属于一个街道")

	// A good post: its board follows the parent.
	a.get("/admin/units")
	r = a.post("/admin/units", url.Values{"mode": {"new"}, "id": {"syl-ms-c"}, "name": {"石油路街道民生服务板块C岗（测试）"}, "kind": {"post"},
		"region": {syl}, "parent": {"syl-ms-bk"}, "active": {"1"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("create post: %d %s", r.status, excerpt(r.body))
	}
	u, _ := plat.Service.Unit("syl-ms-c")
	if u.Kind != cases.UnitPost || u.Board != cases.BoardServices || u.Parent != "syl-ms-bk" || !u.Active {
		t.Fatalf("new post: %+v", u)
	}
	tree = a.get("/admin/units").body
	tree = tree[strings.Index(tree, `id="tree-`+syl+`"`):]
	if !strings.Contains(tree[:strings.Index(tree, "</details>")], "石油路街道民生服务板块C岗（测试）") {
		t.Error("the new post is not in 石油路's tree")
	}
	// Its edit page: the kind, board and parent selected, and the trail.
	r = a.get("/admin/units?edit=syl-ms-c")
	expect(t, r, 200, "编辑部门", `<option value="post" selected>`, `<option value="services" selected>`, `value="syl-ms-bk" data-street="`+syl+`" selected`,
		"修改记录", "系统管理员", "新建", "板块岗位", "石油路街道民生服务板块C岗（测试）")
	// Moving it to another street's board is refused too.
	r = a.post("/admin/units", url.Values{"mode": {"edit"}, "id": {"syl-ms-c"}, "name": {"石油路街道民生服务板块C岗（测试）"}, "kind": {"post"},
		"region": {syl}, "board": {"services"}, "parent": {"jfb-ms-bk"}, "active": {"1"}})
	expect(t, r, 400, "修改记录")
	fieldError(t, r.body, "parent", "“解放碑街道民生服务板块”不是本街道的民生服务板块")
	// Renamed and stopped: the trail says before → after.
	a.get("/admin/units?edit=syl-ms-c")
	r = a.post("/admin/units", url.Values{"mode": {"edit"}, "id": {"syl-ms-c"}, "name": {"石油路街道民生服务板块C岗"}, "kind": {"post"},
		"region": {syl}, "board": {"services"}, "parent": {"syl-ms-bk"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("edit post: %d %s", r.status, excerpt(r.body))
	}
	expect(t, a.get("/admin/units?edit=syl-ms-c"), 200, "</b> 修改", "名称：<del>石油路街道民生服务板块C岗（测试）</del> → <ins>石油路街道民生服务板块C岗</ins>",
		"状态：<del>启用</del> → <ins>停用</ins>")
}

func TestAdminCategoryLevelAndTrail(t *testing.T) {
	a := signIn(t, "admin")
	r := a.get("/admin/categories?edit=MS07")
	expect(t, r, 200, `<option value="city"`, "市级", "版本", "修改记录")
	// A new entry, then moved up to the city.
	a.get("/admin/categories?new=1")
	r = a.post("/admin/categories", url.Values{"mode": {"new"}, "code": {"WB01"}, "name": {"工作台测试类别"}, "board": {"services"},
		"level": {"street"}, "active": {"1"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("create category: %d %s", r.status, excerpt(r.body))
	}
	r = a.get("/admin/categories?edit=WB01")
	expect(t, r, 200, "WB01 · 版本 1", "修改记录", "新建", "责任层级：<ins>街道级</ins>")
	r = a.post("/admin/categories", url.Values{"code": {"WB01"}, "name": {"工作台测试类别"}, "board": {"services"}, "level": {"city"},
		"active": {"1"}, "keywords": {"测试"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("edit category: %d %s", r.status, excerpt(r.body))
	}
	if c, _ := plat.Service.Category("WB01"); c.Level != "city" || c.Version != 2 {
		t.Fatalf("category after edit: level %s version %d", c.Level, c.Version)
	}
	r = a.get("/admin/categories?edit=WB01")
	expect(t, r, 200, "WB01 · 版本 2", `<option value="city" selected>`, "责任层级：<del>街道级</del> → <ins>市级</ins>",
		"版本：<del>1</del> → <ins>2</ins>", "关键词：<del>（空）</del> → <ins>测试</ins>")
	list := a.get("/admin/categories")
	row := list.body[strings.Index(list.body, ">WB01<"):]
	row = row[:strings.Index(row, "</tr>")]
	if !strings.Contains(row, "市级") || !strings.Contains(row, ">2<") {
		t.Errorf("the list's row lacks the level or version: %s", row)
	}
	// A wrong level is named beside its select.
	a.get("/admin/categories?edit=WB01")
	r = a.post("/admin/categories", url.Values{"code": {"WB01"}, "name": {"工作台测试类别"}, "board": {"services"}, "level": {"province"}, "active": {"1"}})
	expect(t, r, 400, "类别未保存", "修改记录")
	fieldError(t, r.body, "level", "责任层级必须是")
}

func TestAdminCommunityAndEnterpriseAccounts(t *testing.T) {
	a := signIn(t, "admin")
	community := actor(t, "xyc_shuji")
	r := a.get("/admin/accounts")
	expect(t, r, 200, `<optgroup label="社区">`, `<optgroup label="板块岗位">`, `value="c-500103014010"`, `<option value="community"`)
	// A community account takes its unit's community as its region.
	r = a.post("/admin/accounts", url.Values{"username": {"xyc_zhuren"}, "name": {"新影村社区主任"}, "role": {"community"},
		"unit_id": {"c-500103014010"}, "password": {"password123"}, "password2": {"password123"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("create community account: %d %s", r.status, excerpt(r.body))
	}
	if got := actor(t, "xyc_zhuren"); got.Role != cases.RoleCommunity || got.UnitID != "c-500103014010" || got.RegionPath != community.RegionPath {
		t.Fatalf("community account %+v", got)
	}
	// …and must have a community unit.
	a.get("/admin/accounts")
	r = a.post("/admin/accounts", url.Values{"username": {"xyc_zhuren2"}, "name": {"社区主任"}, "role": {"community"},
		"unit_id": {"syl-ms-a"}, "password": {"password123"}, "password2": {"password123"}})
	expect(t, r, 400, "账号未创建")
	fieldError(t, r.body, "unit_id", "社区账号须指定有效的社区单位")
	// An enterprise needs its street: none, or a community, is refused.
	syl := streetCode(t, "syl-ms-bk")
	for _, code := range []string{"", strings.TrimPrefix(community.UnitID, "c-")} {
		a.get("/admin/accounts")
		r = a.post("/admin/accounts", url.Values{"username": {"qiye_test"}, "name": {"测试企业"}, "role": {"enterprise"},
			"region_code": {code}, "password": {"password123"}, "password2": {"password123"}})
		expect(t, r, 400)
		fieldError(t, r.body, "region_code", "企业账号须指定所在街道")
	}
	a.get("/admin/accounts")
	r = a.post("/admin/accounts", url.Values{"username": {"qiye_test"}, "name": {"测试企业"}, "role": {"enterprise"},
		"region_code": {syl}, "password": {"password123"}, "password2": {"password123"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("create enterprise: %d %s", r.status, excerpt(r.body))
	}
	ent := actor(t, "qiye_test")
	if !strings.HasSuffix(ent.RegionPath, syl+"/") {
		t.Fatalf("enterprise region %q", ent.RegionPath)
	}
	// Its street can be changed on the edit form, not removed.
	jfb := streetCode(t, "jfb-ms-bk")
	r = a.get("/admin/accounts?edit=" + ent.AccountID)
	expect(t, r, 200, "编辑账号", `value="`+syl+`"`)
	edit := url.Values{"e.name": {"测试企业"}, "e.role": {"enterprise"}, "e.region_code": {jfb}, "e.active": {"1"}}
	if r = a.post("/admin/accounts/"+ent.AccountID, edit); r.status != http.StatusSeeOther {
		t.Fatalf("edit enterprise: %d %s", r.status, excerpt(r.body))
	}
	if got := actor(t, "qiye_test"); !strings.HasSuffix(got.RegionPath, jfb+"/") {
		t.Fatalf("enterprise moved to %q", got.RegionPath)
	}
	a.get("/admin/accounts?edit=" + ent.AccountID)
	edit.Set("e.region_code", "")
	r = a.post("/admin/accounts/"+ent.AccountID, edit)
	expect(t, r, 400, "账号未保存")
	fieldError(t, r.body, "e.region_code", "企业账号须指定所在街道")
	// A community account's unit can be edited with its region following.
	zr := actor(t, "xyc_zhuren")
	other := "c-500103005013" // 嘉西村
	a.get("/admin/accounts?edit=" + zr.AccountID)
	r = a.post("/admin/accounts/"+zr.AccountID, url.Values{"e.name": {"新影村社区主任"}, "e.role": {"community"}, "e.unit_id": {other}, "e.active": {"1"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("edit community account: %d %s", r.status, excerpt(r.body))
	}
	if got := actor(t, "xyc_zhuren"); got.UnitID != other || got.RegionPath != actor(t, "wuzhonglan").RegionPath {
		t.Fatalf("community account after edit %+v", got)
	}
}

// TestAdminUnitFilter: the units list narrows to a kind and a street.
func TestAdminUnitFilter(t *testing.T) {
	a := signIn(t, "admin")
	r := a.get("/admin/units?kind=post&street=500103014")
	expect(t, r, 200, `id="unit-filter"`, `<option value="post" selected>`, `<option value="500103014" selected>`, `<td class="code">syl-ms-a</td>`)
	for _, not := range []string{`<td class="code">jfb-ms-a</td>`, `<td class="code">syl-ms</td>`, `<td class="code">yj</td>`} {
		if strings.Contains(r.body, not) {
			t.Errorf("filtered list shows %s", not)
		}
	}
	expect(t, a.get("/admin/units"), 200, `<td class="code">yj</td>`, `<td class="code">jfb-ms-a</td>`)
}
