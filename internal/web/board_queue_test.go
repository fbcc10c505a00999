package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"zhizhi/internal/cases"
	"zhizhi/internal/sla"
)

// TestBoardRefusesBadFilters: a filter value that names nothing is refused
// with a Chinese message naming the field, and lists nothing.
func TestBoardRefusesBadFilters(t *testing.T) {
	c := signIn(t, "syl_zhihui")
	cs := reportCase(t, "zhouchunyan", "MS03", "筛选校验测试")
	for _, tc := range []struct{ query, want string }{
		{"from=2026-13-01", "“上报日期自”应为 年-月-日 的日期"},
		{"to=yesterday", "“上报日期至”应为 年-月-日 的日期"},
		{"from=2026-03-09&to=2026-03-01", "“上报日期至”不能早于“上报日期自”"},
		{"unit=nosuchunit", "“承办单位”不存在"},
		{"source=pigeon", "“来源”没有“pigeon”这一项"},
		{"severity=apocalyptic", "“紧急程度”应为 一般、紧急 或 特急"},
		{"community=nope", "“社区”不存在"},
		{"community=" + cs.GridCode, "“社区”不存在"}, // a grid is not a community
		{"grid=nope", "“网格”不存在"},
		{"supervised=maybe", "“督办”的值应为 1（是）或 0（否）"},
		{"whistled=2", "“吹哨”的值应为 1（是）或 0（否）"},
		{"sort=random", "“排序”应为 上报时间、时限 或 紧急程度"},
		{"after=garbage", "翻页位置无效"},
		{"state=lost", "“状态”没有“lost”这一项"},
		{"category=XX99", "“类别”没有“XX99”这一项"},
		{"overdue=yes", "“只看超期”的值应为 1"},
	} {
		r := c.get("/board?" + tc.query)
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, tc.want) {
			t.Errorf("%s: %d, want 400 with %q: %s", tc.query, r.status, tc.want, excerpt(r.body))
		}
		if strings.Contains(r.body, cs.ID) {
			t.Errorf("%s: a refused filter lists cases", tc.query)
		}
	}
	// The live row and the export check the same filter.
	if r := c.get("/board/rows/" + cs.ID + "?sort=random"); r.status != http.StatusBadRequest {
		t.Errorf("row under a bad filter: %d", r.status)
	}
	if r := c.get("/board/export?format=xlsx&severity=x"); r.status != http.StatusBadRequest || !strings.Contains(r.body, "紧急程度") {
		t.Errorf("export under a bad filter: %d", r.status)
	}
}

// TestBoardFilters: the filters a command center uses narrow the queue.
func TestBoardFilters(t *testing.T) {
	ctx := context.Background()
	marker := "组合筛选测试"
	plain := reportCase(t, "zhouchunyan", "MS03", marker+"：一般")
	p := gridPoint(t, "zhouchunyan")
	crit, err := plat.Service.Report(ctx, actor(t, "zhouchunyan"), cases.Report{Source: cases.SourcePatrol, Category: "MS03",
		Description: marker + "：特急", Point: &p, Severity: sla.Critical})
	if err != nil {
		t.Fatal(err)
	}
	sup := reportCase(t, "zhouchunyan", "MS03", marker+"：督办")
	actOn(t, "syl_zhihui", sup.ID, cases.Command{Action: cases.ActSupervise, Note: "请从速办理"})
	c := signIn(t, "syl_zhihui")
	q := "q=" + url.QueryEscape(marker)
	comm := plain.RegionPath[:strings.LastIndex(strings.TrimSuffix(plain.RegionPath, "/"), "/")+1]
	commCode := comm[strings.LastIndex(strings.TrimSuffix(comm, "/"), "/")+1 : len(comm)-1]
	day := plain.ReportedAt.In(plat.Service.Calendar().Location()).Format("2006-01-02")
	for _, tc := range []struct {
		query    string
		in, out_ []cases.Case
	}{
		{"severity=critical", []cases.Case{crit}, []cases.Case{plain, sup}},
		{"supervised=1", []cases.Case{sup}, []cases.Case{plain, crit}},
		{"supervised=0", []cases.Case{plain, crit}, []cases.Case{sup}},
		{"whistled=1", nil, []cases.Case{plain, crit, sup}},
		{"source=patrol", []cases.Case{plain, crit, sup}, nil},
		{"source=hotline", nil, []cases.Case{plain, crit, sup}},
		{"community=" + commCode, []cases.Case{plain, crit, sup}, nil},
		{"community=" + commCode + "&grid=" + plain.GridCode, []cases.Case{plain, crit, sup}, nil},
		{"from=" + day + "&to=" + day, []cases.Case{plain, crit, sup}, nil},
		{"from=2020-01-01&to=2020-01-31", nil, []cases.Case{plain, crit, sup}},
		{"sort=severity", []cases.Case{crit, plain, sup}, nil},
		{"sort=due", []cases.Case{plain, crit, sup}, nil},
	} {
		r := c.get("/board?" + q + "&" + tc.query)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", tc.query, r.status, excerpt(r.body))
		}
		r.body = queueOf(r.body)
		for _, cs := range tc.in {
			if !strings.Contains(r.body, `data-id="`+cs.ID+`"`) {
				t.Errorf("%s: lacks %s", tc.query, cs.Description)
			}
		}
		for _, cs := range tc.out_ {
			if strings.Contains(r.body, `data-id="`+cs.ID+`"`) {
				t.Errorf("%s: lists %s", tc.query, cs.Description)
			}
		}
	}
	// Severity order: the critical case comes first.
	r := c.get("/board?" + q + "&sort=severity")
	r.body = queueOf(r.body)
	if i, j := strings.Index(r.body, `data-id="`+crit.ID+`"`), strings.Index(r.body, `data-id="`+plain.ID+`"`); i < 0 || j < 0 || i > j {
		t.Errorf("severity order: critical at %d, normal at %d", i, j)
	}
}

// queueOf is the queue table of a board page (the alerts list cases too).
func queueOf(body string) string {
	i := strings.Index(body, `<table class="cases dense"`)
	if i < 0 {
		return ""
	}
	j := strings.Index(body[i:], "</table>")
	return body[i : i+j]
}

var nextRE = regexp.MustCompile(`href="/board\?([^"]*)" id="next-page"`)

// TestBoardPaging: the queue shows 50 cases a page, newest first, with a
// link to the next page that a new report does not shift.
func TestBoardPaging(t *testing.T) {
	marker := "翻页测试"
	var ids []string
	for i := range 53 {
		ids = append(ids, reportCase(t, "zhouchunyan", "MS03", fmt.Sprintf("%s%02d", marker, i)).ID)
	}
	c := signIn(t, "syl_zhihui")
	r := c.get("/board?q=" + url.QueryEscape(marker))
	expect(t, r, 200, "共 53 件，本页 50 件", `data-first="1"`)
	if strings.Count(r.body, `<tr data-id=`) != 50 {
		t.Fatalf("%d rows on the first page", strings.Count(r.body, `<tr data-id=`))
	}
	// Newest first: the last report is on top.
	if i, j := strings.Index(r.body, ids[52]), strings.Index(r.body, ids[3]); i < 0 || i > j {
		t.Errorf("the newest report is not on top")
	}
	m := nextRE.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatal("no next-page link")
	}
	next := strings.ReplaceAll(m[1], "&amp;", "&")
	// A new report arrives: it goes on top of the first page, and the next
	// page still holds the three oldest.
	fresh := reportCase(t, "zhouchunyan", "MS03", marker+"新到")
	r2 := c.get("/board?" + next)
	expect(t, r2, 200, "« 第一页")
	if strings.Count(r2.body, `<tr data-id=`) != 3 || strings.Contains(r2.body, `data-first="1"`) || strings.Contains(r2.body, `id="next-page"`) {
		t.Errorf("second page: %d rows", strings.Count(r2.body, `<tr data-id=`))
	}
	for _, id := range ids[:3] {
		if !strings.Contains(r2.body, `data-id="`+id+`"`) {
			t.Errorf("the second page lacks %s", id)
		}
	}
	if strings.Contains(r2.body, fresh.ID) {
		t.Error("the new report moved onto the second page")
	}
	first := c.get("/board?q=" + url.QueryEscape(marker))
	if i := strings.Index(first.body, `<tr data-id="`); i < 0 || !strings.HasPrefix(first.body[i:], `<tr data-id="`+fresh.ID+`"`) {
		t.Error("the new report is not the first row")
	}
	// Dense rows: each row carries its details for the expander.
	expect(t, first, 200, `class="cases dense"`, `class="expand"`, `<div class="more" hidden>`, `form="batch"`)
}

// TestSavedFiltersInConsole: a person saves the current filter, sees it
// listed (only their own), applies it and deletes it.
func TestSavedFiltersInConsole(t *testing.T) {
	c := signIn(t, "syl_zhihui")
	c.get("/board?severity=critical&overdue=1")
	r := c.post("/board/filters", url.Values{"name": {"特急超期"}, "query": {"severity=critical&overdue=1&after=1.X"}})
	if r.status != http.StatusSeeOther || r.location != "/board?overdue=1&severity=critical" {
		t.Fatalf("save: %d %q %s", r.status, r.location, excerpt(r.body))
	}
	page := c.get("/board")
	expect(t, page, 200, `href="/board?overdue=1&amp;severity=critical">特急超期</a>`)
	other := signIn(t, "leader")
	if strings.Contains(other.get("/board").body, "特急超期") {
		t.Error("another person sees the saved filter")
	}
	// Refused: no name; a filter that names nothing.
	if r := c.post("/board/filters", url.Values{"name": {""}, "query": {"overdue=1"}}); r.status != http.StatusBadRequest || !strings.Contains(r.body, "筛选名称") {
		t.Errorf("no name: %d", r.status)
	}
	if r := c.post("/board/filters", url.Values{"name": {"坏的"}, "query": {"severity=x"}}); r.status != http.StatusBadRequest || !strings.Contains(r.body, "紧急程度") {
		t.Errorf("a bad filter: %d", r.status)
	}
	id := regexp.MustCompile(`action="/board/filters/([^/"]+)/delete"`).FindStringSubmatch(page.body)
	if id == nil {
		t.Fatal("no delete form")
	}
	other.get("/board")
	if r := other.post("/board/filters/"+id[1]+"/delete", url.Values{}); r.status != http.StatusNotFound {
		t.Errorf("another person deleting it: %d", r.status)
	}
	c.get("/board")
	if r := c.post("/board/filters/"+id[1]+"/delete", url.Values{}); r.status != http.StatusSeeOther {
		t.Fatalf("delete: %d", r.status)
	}
	if strings.Contains(c.get("/board").body, "特急超期") {
		t.Error("the deleted filter is still listed")
	}
}

// TestBoardBatchMixed: a batch accept over cases some of which the rules
// refuse: one confirmation page, then the result per case.
func TestBoardBatchMixed(t *testing.T) {
	a := reportCase(t, "zhouchunyan", "MS03", "批量测试：甲")
	b := reportCase(t, "zhouchunyan", "MS03", "批量测试：乙")
	done := reportCase(t, "zhouchunyan", "MS03", "批量测试：已受理")
	actOn(t, "syl_zhihui", done.ID, cases.Command{Action: cases.ActAccept})
	c := signIn(t, "syl_zhihui")
	const gone = "01NOSUCHCASE0000000000000"
	form := url.Values{"action": {"accept"}, "id": {a.ID, b.ID, done.ID, gone}, "back": {"q=批量测试"}}
	r := c.post("/board/batch", form)
	expect(t, r, 200, "批量处理：受理", "确认执行（4 件）", a.Number, done.Number, `name="confirm" value="1"`)
	if caseByID(t, a.ID).State != cases.Reported {
		t.Fatal("the confirmation page changed a case")
	}
	form.Set("confirm", "1")
	r = c.post("/board/batch", form)
	expect(t, r, 200, "共 4 件：办成 2 件，未办 2 件", `href="/board?q=%E6%89%B9%E9%87%8F%E6%B5%8B%E8%AF%95"`)
	for _, id := range []string{a.ID, b.ID} {
		if caseByID(t, id).State != cases.Accepted {
			t.Errorf("%s not accepted", id)
		}
	}
	row := func(id string) string {
		i := strings.Index(r.body, `data-id="`+id+`"`)
		if i < 0 {
			t.Fatalf("no result for %s", id)
		}
		j := strings.Index(r.body[i:], "</tr>")
		return r.body[i : i+j]
	}
	if s := row(done.ID); !strings.Contains(s, "被拒绝") || !strings.Contains(s, "不能") {
		t.Errorf("the accepted case's result: %s", s)
	}
	if s := row(gone); !strings.Contains(s, "被拒绝") || !strings.Contains(s, "不存在") {
		t.Errorf("the missing case's result: %s", s)
	}
	// Another street's commander: the case is not theirs, refused, unchanged.
	jfb := signIn(t, "jfb_zhihui")
	r2 := jfb.post("/board/batch", url.Values{"action": {"duplicate"}, "id": {b.ID}, "confirm": {"1"}})
	expect(t, r2, 200, "办成 0 件，未办 1 件", "不存在")
	if caseByID(t, b.ID).State != cases.Accepted {
		t.Error("another street's commander changed the case")
	}
	if s := row(a.ID); !strings.Contains(s, "已受理") {
		t.Errorf("a's result: %s", s)
	}
	// Refused before anything: no case ticked, a dispatch with no unit, no CSRF.
	if r := c.post("/board/batch", url.Values{"action": {"accept"}}); r.status != http.StatusBadRequest || !strings.Contains(r.body, "请先勾选") {
		t.Errorf("no case: %d", r.status)
	}
	if r := c.post("/board/batch", url.Values{"action": {"dispatch"}, "id": {a.ID}}); r.status != http.StatusBadRequest || !strings.Contains(r.body, "派遣单位") {
		t.Errorf("dispatch with no unit: %d", r.status)
	}
	if r := c.post("/board/batch", url.Values{"action": {"accept"}, "id": {a.ID}, "csrf": {""}}); r.status != http.StatusForbidden {
		t.Errorf("no CSRF: %d", r.status)
	}
	// Dispatch and urge in one batch each, through the same rules.
	form = url.Values{"action": {"dispatch"}, "lead": {"syl-pa-a"}, "id": {a.ID, done.ID}, "confirm": {"1"}}
	expect(t, c.post("/board/batch", form), 200, "办成 2 件")
	form = url.Values{"action": {"urge"}, "id": {a.ID, b.ID}, "confirm": {"1"}}
	expect(t, c.post("/board/batch", form), 200, "办成 2 件")
	if n := caseByID(t, b.ID).Urges; n != 1 {
		t.Errorf("b urged %d times", n)
	}
}

// TestListExports: the board queue (with its filter), the unit inbox, the
// accounts and the units export to Excel.
func TestListExports(t *testing.T) {
	cs := reportCase(t, "zhouchunyan", "MS03", "导出测试：队列")
	c := signIn(t, "syl_zhihui")
	r := c.get("/board/export?format=xlsx&q=" + url.QueryEscape("导出测试"))
	if r.status != 200 {
		t.Fatalf("board export: %d %s", r.status, excerpt(r.body))
	}
	rows := readXLSX(t, []byte(r.body))[0].rows
	if len(rows) != 2 || rows[0][0] != "编号" || rows[1][0] != cs.Number {
		t.Errorf("board export rows: %v", rows)
	}
	if r := c.get("/board/export?format=xlsx&q=" + url.QueryEscape("导出测试") + "&state=closed"); len(readXLSX(t, []byte(r.body))[0].rows) != 1 {
		t.Error("the board export ignores the filter")
	}
	if r := c.get("/board/export?format=pdf"); r.status != http.StatusBadRequest || !strings.Contains(r.body, "导出格式") {
		t.Errorf("pdf: %d", r.status)
	}
	expect(t, c.get("/board"), 200, `href="/board/export?format=xlsx"`)

	// The unit inbox: a case the unit is summoned to.
	actOn(t, "syl_zhihui", cs.ID, cases.Command{Action: cases.ActAccept})
	actOn(t, "syl_zhihui", cs.ID, cases.Command{Action: cases.ActDispatch, Lead: "syl-pa-a"})
	actOn(t, "syl_zhihui", cs.ID, cases.Command{Action: cases.ActWhistle, Note: "导出测试吹哨", Parties: []cases.PartyRef{{UnitID: "yj"}}})
	yj := signIn(t, "yj_staff")
	expect(t, yj.get("/inbox"), 200, `href="/inbox/export?format=xlsx"`)
	r = yj.get("/inbox/export?format=xlsx")
	found := false
	for _, row := range readXLSX(t, []byte(r.body))[0].rows {
		found = found || row[0] == cs.Number
	}
	if !found {
		t.Error("the inbox export lacks the summoned case")
	}
	if r := yj.get("/board/export?format=xlsx"); r.status != http.StatusForbidden {
		t.Errorf("unit staff exporting the board: %d", r.status)
	}

	admin := signIn(t, "admin")
	accounts := readXLSX(t, []byte(admin.get("/admin/accounts/export?format=xlsx").body))[0].rows
	if accounts[0][0] != "用户名" || !containsRow(accounts, "syl_zhihui") {
		t.Errorf("accounts export: %v", accounts[:min(3, len(accounts))])
	}
	for _, row := range accounts {
		for _, cell := range row {
			if regexp.MustCompile(`^1\d{10}$`).MatchString(cell) {
				t.Errorf("an unmasked phone in the accounts export: %s", cell)
			}
		}
	}
	units := readXLSX(t, []byte(admin.get("/admin/units/export?format=xlsx").body))[0].rows
	if units[0][1] != "名称" || !containsRow(units, "yj") {
		t.Errorf("units export: %v", units[:min(3, len(units))])
	}
	expect(t, admin.get("/admin/accounts"), 200, `/admin/accounts/export?format=xlsx`)
	expect(t, admin.get("/admin/units"), 200, `/admin/units/export?format=xlsx`)
}

func containsRow(rows [][]string, first string) bool {
	for _, r := range rows {
		if len(r) > 0 && r[0] == first {
			return true
		}
	}
	return false
}

// TestBoardCommunityChoices: the board offers the communities of the
// commander's region, or of the region chosen on the map, once that is a
// district or narrower: a district's commander all of the district's, a
// street's its own, the city's commander none until a district or a street
// is chosen on the map; a community chosen without its list is kept in the
// form, and still filters.
func TestBoardCommunityChoices(t *testing.T) {
	t.Parallel()
	const huayipo, xinying = `value="500103001003"`, `value="500103014010"` // 七星岗's and 石油路's
	for _, tc := range []struct {
		user, query string
		has, hasNot []string
	}{
		{"qu_zhihui", "", []string{`name="community"`, huayipo, xinying}, nil},
		{"syl_zhihui", "", []string{`name="community"`, xinying}, []string{huayipo}},
		{"shi_zhihui", "", nil, []string{`name="community"`, huayipo, xinying}},
		{"shi_zhihui", "?region=500103", []string{`name="community"`, huayipo, xinying}, nil},
		{"shi_zhihui", "?region=500103014", []string{`name="community"`, xinying}, []string{huayipo}},
		{"shi_zhihui", "?community=500103014010", []string{`<input type="hidden" name="community" value="500103014010">`}, []string{huayipo}},
	} {
		r := signIn(t, tc.user).get("/board" + tc.query)
		expect(t, r, http.StatusOK, tc.has...)
		for _, s := range tc.hasNot {
			if strings.Contains(r.body, s) {
				t.Errorf("%s /board%s offers %s", tc.user, tc.query, s)
			}
		}
	}
}
