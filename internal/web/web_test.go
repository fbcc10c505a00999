package web_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"zhizhi/internal/cases"
	"zhizhi/internal/demo"
	"zhizhi/internal/service"
)

func TestSignInAndOut(t *testing.T) {
	c := newClient(t)
	r := c.get("/board")
	if r.status != http.StatusSeeOther || r.location != "/signin?next=%2Fboard" {
		t.Fatalf("board before sign-in: %d → %q, want a redirect to the sign-in page", r.status, r.location)
	}
	expect(t, c.get("/signin"), 200, "登录", `name="csrf"`)

	// Wrong password, empty fields: the form comes back with the reason.
	expect(t, c.post("/signin", url.Values{"username": {"syl_zhihui"}, "password": {"nope"}}), 401, "用户名或密码错误")
	expect(t, c.post("/signin", url.Values{"username": {""}, "password": {""}}), 400, "请输入用户名", "请输入密码")
	// Without the form's token the sign-in is refused.
	expect(t, c.post("/signin", url.Values{"csrf": {""}, "username": {"syl_zhihui"}, "password": {demo.Password}}), 403)

	r = c.post("/signin", url.Values{"username": {"syl_zhihui"}, "password": {demo.Password}, "next": {"/board?state=reported"}})
	if r.status != http.StatusSeeOther || r.location != "/board?state=reported" {
		t.Fatalf("sign in: %d → %q, want the page asked for", r.status, r.location)
	}
	ck := (&http.Response{Header: r.header}).Cookies()
	var session *http.Cookie
	for _, k := range ck {
		if k.Name == "zhizhi_session" {
			session = k
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.MaxAge != int(service.SessionTTL.Seconds()) {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Lax, MaxAge 12 h", session)
	}
	expect(t, c.get("/board"), 200, "一屏掌控", "今日上报", "石油路街道值班指挥长")
	// The same cookie opens the JSON API (the pages' scripts use it).
	if r := c.get("/api/v1/me"); r.status != 200 || !strings.Contains(r.body, "syl_zhihui") {
		t.Fatalf("API with the session cookie: %d %s", r.status, r.body)
	}

	// Sign-out needs the token too, then revokes the session.
	expect(t, c.post("/signout", url.Values{"csrf": {"forged"}}), 403)
	r = c.post("/signout", url.Values{})
	if r.status != http.StatusSeeOther || r.location != "/signin" {
		t.Fatalf("sign out: %d → %q", r.status, r.location)
	}
	replay := newClient(t)
	u, _ := url.Parse(srv.URL)
	replay.http.Jar.SetCookies(u, []*http.Cookie{{Name: "zhizhi_session", Value: session.Value}})
	if r := replay.get("/board"); r.status != http.StatusSeeOther {
		t.Fatalf("board with a signed-out session: %d, want a redirect to sign in", r.status)
	}
	// An open redirect through next is not followed.
	c2 := newClient(t)
	c2.get("/signin")
	if r := c2.post("/signin", url.Values{"username": {"syl_zhihui"}, "password": {demo.Password}, "next": {"//evil.example/"}}); r.location != "/board" {
		t.Fatalf("next=//evil.example/ sent to %q", r.location)
	}
}

func TestHomePerRole(t *testing.T) {
	for _, tc := range []struct{ user, home, text string }{
		{"syl_zhihui", "/board", "案件队列"},
		{"leader", "/leader", "包联对象"},
		{"zhouchunyan", "/m", "待我核查"},
		{"xyc_jiezhang", "/m", "本网格未结案件"},
		{"yj_staff", "/inbox", "待办"},
		{"syl_ms_a", "/inbox", "石油路街道民生服务板块A岗"},
		{"xyc_shuji", "/inbox", "新影村社区居委会"},
		{"jumin", "/mine", "我的诉求"},
	} {
		t.Run(tc.user, func(t *testing.T) {
			c := signIn(t, tc.user)
			r := c.get("/")
			if r.status != http.StatusSeeOther || r.location != tc.home {
				t.Fatalf("home: %d → %q, want %s", r.status, r.location, tc.home)
			}
			expect(t, c.get(tc.home), 200, tc.text)
		})
	}
	// Pages of other roles are refused.
	w := signIn(t, "zhouchunyan")
	expect(t, w.get("/board"), 403, "您的角色不能打开此页面")
	u := signIn(t, "yj_staff")
	expect(t, u.get("/m/report"), 403)
}

// TestCommunityInbox: a case the street dispatches to the community shows in
// the community secretary's inbox with its countdown; the secretary signs
// it on the case page.
func TestCommunityInbox(t *testing.T) {
	cs := reportCase(t, "zhouchunyan", "MS19", "社区待办测试：居民咨询养老服务")
	actOn(t, "syl_zhihui", cs.ID, cases.Command{Action: cases.ActAccept})
	actOn(t, "syl_zhihui", cs.ID, cases.Command{Action: cases.ActDispatch, Lead: "c-500103014010"})
	c := signIn(t, "xyc_shuji")
	expect(t, c.get("/inbox"), 200, cs.Number, "签收")
	r := c.get("/cases/" + cs.ID)
	expect(t, r, 200, `id="act-sign"`, `id="act-return"`)
	r = c.post("/cases/"+cs.ID+"/act", url.Values{"action": {"sign"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("sign: %d", r.status)
	}
	if got := caseByID(t, cs.ID); got.State != cases.Handling || got.Tasks[0].State != cases.TaskSigned {
		t.Fatalf("after sign: %s %+v", got.State, got.Tasks)
	}
	// Another community's secretary sees neither the inbox entry nor the case.
	o := signIn(t, "wuzhonglan")
	if strings.Contains(o.get("/inbox").body, cs.Number) {
		t.Error("another community's inbox lists the case")
	}
	expect(t, o.get("/cases/"+cs.ID), 404)
}

func TestCSRF(t *testing.T) {
	cs := reportCase(t, "zhouchunyan", "MS03", "CSRF 测试：路边暴露垃圾")
	c := signIn(t, "syl_zhihui")
	expect(t, c.get("/cases/"+cs.ID), 200, `id="act-accept"`)
	for name, form := range map[string]url.Values{
		"no token":    {"csrf": {""}, "action": {"accept"}},
		"wrong token": {"csrf": {"AAAA"}, "action": {"accept"}},
	} {
		r := c.post("/cases/"+cs.ID+"/act", form)
		if r.status != http.StatusForbidden || !strings.Contains(r.body, "页面已过期") {
			t.Errorf("%s: %d, want 403 with the reason", name, r.status)
		}
	}
	// Another signed-in person's token does not work for this session.
	other := signIn(t, "jfb_zhihui")
	expect(t, c.post("/cases/"+cs.ID+"/act", url.Values{"csrf": {other.csrf}, "action": {"accept"}}), 403)
	// A cross-site request is refused whatever it carries.
	req, _ := http.NewRequest("POST", srv.URL+"/cases/"+cs.ID+"/act", strings.NewReader(url.Values{"csrf": {c.csrf}, "action": {"accept"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	expect(t, c.do(req), 403)
	if got := caseByID(t, cs.ID); got.State != cases.Reported || got.Version != 1 {
		t.Fatalf("case changed by refused posts: %s v%d", got.State, got.Version)
	}
	// With the token it goes through.
	r := c.post("/cases/"+cs.ID+"/act", url.Values{"action": {"accept"}, "version": {"1"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("accept with the token: %d %s", r.status, excerpt(r.body))
	}
}

func TestScope(t *testing.T) {
	cs := reportCase(t, "zhouchunyan", "MS03", "范围测试：石油路的案件")
	expect(t, signIn(t, "syl_zhihui").get("/cases/"+cs.ID), 200, cs.Number)
	expect(t, signIn(t, "qu_zhihui").get("/cases/"+cs.ID), 200, cs.Number)
	jfb := signIn(t, "jfb_zhihui")
	expect(t, jfb.get("/cases/"+cs.ID), 404, "案件不存在")
	expect(t, jfb.get("/cases/"+cs.Number), 404)
	if r := jfb.get("/board/rows/" + cs.ID); r.status != http.StatusNoContent {
		t.Fatalf("another street's row: %d, want 204", r.status)
	}
	if r := jfb.get("/board?q=" + url.QueryEscape("范围测试")); strings.Contains(r.body, cs.ID) {
		t.Fatal("解放碑's board lists a 石油路 case")
	}
	// A unit sees a case only once it is dispatched to it.
	expect(t, signIn(t, "yj_staff").get("/cases/"+cs.ID), 404)
	// Acting outside one's scope is refused the same way.
	r := jfb.post("/cases/"+cs.ID+"/act", url.Values{"action": {"accept"}})
	if r.status != http.StatusNotFound {
		t.Fatalf("accept from another street: %d", r.status)
	}
}

var formRE = regexp.MustCompile(`id="act-([a-z_]+)"`)

// formsOn lists the action forms a page shows.
func formsOn(body string) []string {
	var out []string
	for _, m := range formRE.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestCasePageShowsOnlyAllowedActions(t *testing.T) {
	cs := reportCase(t, "zhouchunyan", "AQ03", "表单测试：楼道灭火器损坏")
	check := func(user string, want ...string) {
		t.Helper()
		r := signIn(t, user).get("/cases/" + cs.ID)
		expect(t, r, 200)
		got := strings.Join(formsOn(r.body), ",")
		if got != strings.Join(want, ",") {
			t.Errorf("%s sees forms [%s], want [%s]", user, got, strings.Join(want, ","))
		}
	}
	c := caseByID(t, cs.ID)
	var want []string
	for _, a := range plat.Service.Actions(&c, actor(t, "syl_zhihui")) {
		want = append(want, string(a))
	}
	check("syl_zhihui", want...)
	check("zhouchunyan")
	check("leader", "urge", "supervise")

	actOn(t, "syl_zhihui", cs.ID, cases.Command{Action: cases.ActAccept})
	actOn(t, "syl_zhihui", cs.ID, cases.Command{Action: cases.ActDispatch, Lead: "yj", Co: []string{"xf"}})
	check("yj_staff", "sign", "return", "extend_request")
	check("xf_staff", "sign", "return", "extend_request")

	// The dispatch form pre-fills the graded classification library's
	// suggestion (the street's post of the category's board) and offers only
	// the units this center may send the case to.
	c2 := reportCase(t, "zhouchunyan", "MS07", "表单测试：下水道堵塞")
	actOn(t, "syl_zhihui", c2.ID, cases.Command{Action: cases.ActAccept})
	r := signIn(t, "syl_zhihui").get("/cases/" + c2.ID)
	expect(t, r, 200, `<option value="syl-ms-a" selected>石油路街道民生服务板块A岗</option>`, `value="syl-ms"`, `value="zj"`)
	form := r.body[strings.Index(r.body, `id="act-dispatch"`):]
	form = form[:strings.Index(form, "</form>")]
	for _, not := range []string{`value="jfb-`, `value="syl-ms-bk"`, `value="c-`} {
		if strings.Contains(form, not) {
			t.Errorf("the dispatch form offers %s: another street's units, a board or a community for a street matter", not)
		}
	}
	// A district matter is not on the street's list: no dispatch, only
	// escalation.
	c3 := reportCase(t, "zhouchunyan", "AQ09", "表单测试：燃气味道")
	actOn(t, "syl_zhihui", c3.ID, cases.Command{Action: cases.ActAccept})
	r = signIn(t, "syl_zhihui").get("/cases/" + c3.ID)
	expect(t, r, 200, `id="act-escalate"`)
	if strings.Contains(r.body, `id="act-dispatch"`) {
		t.Error("the street is offered to dispatch a district matter")
	}
	if !regexp.MustCompile(`<details[^>]*id="act-escalate"[^>]*open`).MatchString(r.body) && !regexp.MustCompile(`<details[^>]*open[^>]*id="act-escalate"`).MatchString(r.body) {
		t.Error("escalating, the next step, is not the unfolded form")
	}
}

// caseNumberRE finds a case number in a redirect after reporting.
func TestFullLoopThroughForms(t *testing.T) {
	p := gridPoint(t, "zhouchunyan")
	worker := signIn(t, "zhouchunyan")
	expect(t, worker.get("/m/report"), 200, "上报问题", `capture="environment"`, `data-cat="AQ01"`)
	form := url.Values{
		"description": {"巡查发现一商铺准备使用醇基燃料灶具（属危险化学品），存在安全隐患"},
		"category":    {"AQ01"}, "source": {"patrol"}, "severity": {"normal"},
		"lat": {fmt.Sprint(p.Lat)}, "lng": {fmt.Sprint(p.Lng)}, "address": {"新影村社区某餐饮店"},
		"answers.shop": {"某餐饮店"}, "answers.equipment": {"alcohol_stove"}, "answers.quantity": {"3"},
	}
	r := worker.postFiles("/m/report", form, "photo_file", pngPhoto(10))
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/m?reported=") {
		t.Fatalf("report: %d → %q %s", r.status, r.location, excerpt(r.body))
	}
	number, _ := url.QueryUnescape(strings.TrimPrefix(r.location, "/m?reported="))
	expect(t, worker.get(r.location), 200, "已上报，案件编号 "+number)
	cs, _, err := plat.Service.Case(t.Context(), actor(t, "syl_zhihui"), number)
	if err != nil {
		t.Fatal(err)
	}
	if cs.State != cases.Reported || len(cs.Photos) != 1 || cs.Answers["equipment"] != "alcohol_stove" || cs.GridCode == "" {
		t.Fatalf("reported case: %s, %d photos, answers %v, grid %q", cs.State, len(cs.Photos), cs.Answers, cs.GridCode)
	}
	path := "/cases/" + cs.ID
	act := func(c *client, fields url.Values, files ...[]byte) {
		t.Helper()
		c.get(path) // the page gives the version and the token
		if fields.Get("version") == "" {
			fields.Set("version", fmt.Sprint(caseByID(t, cs.ID).Version))
		}
		var r response
		if len(files) > 0 {
			r = c.postFiles(path+"/act", fields, "photo_file", files...)
		} else {
			r = c.post(path+"/act", fields)
		}
		if r.status != http.StatusSeeOther || r.location != path+"?done="+fields.Get("action") {
			t.Fatalf("%s: %d → %q %s", fields.Get("action"), r.status, r.location, excerpt(r.body))
		}
	}

	cmd := signIn(t, "syl_zhihui")
	expect(t, cmd.get("/board?state=reported"), 200, cs.Number)
	page := cmd.get(path)
	expect(t, page, 200, "待受理", "醇基燃料灶具", "/api/v1/photos/"+cs.Photos[0].Hash+"?e=")
	// The page's photo address is signed and works; the hash alone does not
	// (issue 20).
	m := regexp.MustCompile(`src="(/api/v1/photos/` + cs.Photos[0].Hash + `\?[^"]+)"`).FindStringSubmatch(page.body)
	if m == nil {
		t.Fatalf("no photo address on the case page")
	}
	expect(t, newClient(t).get(html.UnescapeString(m[1])), 200)
	// The page shows the thumbnail and links to the full photo.
	if !strings.HasSuffix(html.UnescapeString(m[1]), "&v=thumb") {
		t.Errorf("the case page shows the full photo, not its thumbnail: %s", m[1])
	}
	full := regexp.MustCompile(`href="(/api/v1/photos/` + cs.Photos[0].Hash + `\?[^"]+)"`).FindStringSubmatch(page.body)
	if full == nil || strings.Contains(full[1], "v=thumb") {
		t.Errorf("no link to the full photo: %v", full)
	}
	if r := cmd.get("/api/v1/photos/" + cs.Photos[0].Hash); r.status != http.StatusNotFound {
		t.Errorf("photo by bare hash: %d, want 404", r.status)
	}
	act(cmd, url.Values{"action": {"accept"}, "severity": {"urgent"}, "note": {"属实，受理"}})
	act(cmd, url.Values{"action": {"dispatch"}, "lead_unit": {"yj"}, "co_units": {"scjg", "yj"}, "note": {"请应急局牵头，市场监管局协助"}})
	expect(t, cmd.get(path+"?done=dispatch"), 200, "已派遣", "待签收", "区应急管理局", "区市场监管局")

	for _, u := range []string{"yj_staff", "scjg_staff"} {
		unit := signIn(t, u)
		expect(t, unit.get("/inbox"), 200, cs.Number)
		act(unit, url.Values{"action": {"sign"}})
	}
	scjg := signIn(t, "scjg_staff")
	act(scjg, url.Values{"action": {"feedback"}, "note": {"已检查证照"}}, pngPhoto(60))
	yj := signIn(t, "yj_staff")
	act(yj, url.Values{"action": {"feedback"}, "note": {"设备已拆除，商铺已整改"}}, pngPhoto(90))
	if got := caseByID(t, cs.ID); got.State != cases.FedBack {
		t.Fatalf("after the lead's feedback: %s", got.State)
	}

	// The grid worker sees the verification task with the feedback photos.
	home := worker.get("/m")
	expect(t, home, 200, "去核查", "设备已拆除，商铺已整改")
	fb := caseByID(t, cs.ID)
	for _, task := range fb.Tasks {
		if len(task.Photos) != 1 || !strings.Contains(home.body, task.Photos[0].Hash) {
			t.Errorf("verification task lacks %s's feedback photo", task.UnitID)
		}
	}
	act(worker, url.Values{"action": {"verify"}, "passed": {"yes"}, "note": {"现场核查：设备已拆除"}})
	final := caseByID(t, cs.ID)
	if final.State != cases.Closed {
		t.Fatalf("after verification: %s", final.State)
	}
	r = cmd.get(path)
	expect(t, r, 200, "已结案", "核查", "现场核查：设备已拆除", "反馈", "签收", "派遣", "受理", "上报")
	if got := strings.Join(formsOn(r.body), ","); got != "rate,reopen" {
		t.Errorf("closed case offers the commander [%s], want [rate,reopen]", got)
	}
}

func TestFormErrorsInChinese(t *testing.T) {
	worker := signIn(t, "zhouchunyan")
	r := worker.post("/m/report", url.Values{"description": {""}, "category": {""}})
	expect(t, r, 400, "请描述问题", "请选择问题类别", "请标注位置或填写地址", `class="field-error"`)
	r = worker.post("/m/report", url.Values{"description": {"井盖缺失"}, "category": {"MS02"}, "address": {"某路口"}, "lat": {"abc"}, "lng": {"1"}})
	expect(t, r, 400, "经纬度无效", "井盖缺失")
	r = worker.post("/m/report", url.Values{"description": {"井盖缺失"}, "category": {"MS02"}, "address": {"某路口"}, "source": {"patrol"}})
	expect(t, r, 400, "请回答“井盖类型”")
	r = worker.post("/m/report", url.Values{"description": {"垃圾"}, "category": {"MS03"}, "address": {"某路口"}, "on_spot": {"1"}, "source": {"patrol"}})
	expect(t, r, 400, "就地解决须上传处置照片作为凭证")

	cs := reportCase(t, "zhouchunyan", "MS03", "错误测试：垃圾堆放")
	cmd := signIn(t, "syl_zhihui")
	path := "/cases/" + cs.ID
	cmd.get(path)
	expect(t, cmd.post(path+"/act", url.Values{"action": {"reject"}, "note": {""}}), 400, "请填写原因")
	expect(t, cmd.post(path+"/act", url.Values{"action": {"merge"}, "target_number": {"NO-SUCH"}}), 400, "找不到编号为“NO-SUCH”的案件")
	actOn(t, "syl_zhihui", cs.ID, cases.Command{Action: cases.ActAccept})
	cmd.get(path)
	r = cmd.post(path+"/act", url.Values{"action": {"dispatch"}, "lead_unit": {""}, "note": {"留着的说明"}})
	expect(t, r, 400, "请选择主办单位", "留着的说明")
	// A stale page: someone else acted first.
	r = cmd.post(path+"/act", url.Values{"action": {"dispatch"}, "lead_unit": {"cg"}, "version": {"1"}})
	expect(t, r, 409, "案件已被他人更新")
	// A refused action says why.
	r = cmd.post(path+"/act", url.Values{"action": {"sign"}})
	expect(t, r, 409, "指挥长不能执行“签收”")
	if got := caseByID(t, cs.ID); got.State != cases.Accepted {
		t.Fatalf("refused forms changed the case: %s", got.State)
	}
	// A unit's extension request needs a duration.
	actOn(t, "syl_zhihui", cs.ID, cases.Command{Action: cases.ActDispatch, Lead: "cg"})
	unit := signIn(t, "cg_staff")
	unit.get(path)
	expect(t, unit.post(path+"/act", url.Values{"action": {"extend_request"}, "ext_amount": {"x"}, "note": {""}}), 400,
		"请填写有效的延期时长", "请填写原因")
	unit.get(path)
	r = unit.post(path+"/act", url.Values{"action": {"extend_request"}, "ext_amount": {"2"}, "ext_unit": {"work_days"}, "note": {"需协调物业"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("extension request: %d %s", r.status, excerpt(r.body))
	}
	expect(t, cmd.get(path), 200, "申请延期 2工作日：需协调物业", `id="act-extend_approve"`, `id="act-extend_deny"`)
}

func TestBoard(t *testing.T) {
	cs := reportCase(t, "zhouchunyan", "MS03", "队列测试：垃圾桶满溢")
	c := signIn(t, "syl_zhihui")
	r := c.get("/board")
	expect(t, r, 200, "今日上报", "今日受理", "今日结案", "超期未结", `data-id="`+cs.ID+`"`, "data-due=", asset(t, "board.js"))
	// Filters.
	expect(t, c.get("/board?q="+url.QueryEscape("队列测试")), 200, cs.Number)
	if r := c.get("/board?state=closed"); strings.Contains(r.body, cs.ID) {
		t.Error("closed filter lists an open case")
	}
	if r := c.get("/board?board=economy"); strings.Contains(r.body, cs.ID) {
		t.Error("economy board lists a public-services case")
	}
	expect(t, c.get("/board?category=MS03&state=reported"), 200, cs.Number)
	// Rows for live refresh: the row, or 204 once it no longer matches.
	get := func(path string) response {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Header.Set("X-Requested-With", "fetch")
		return c.do(req)
	}
	r = get("/board/rows/" + cs.ID)
	expect(t, r, 200, `<tr data-id="`+cs.ID+`"`, "待受理")
	if r := get("/board/rows/" + cs.ID + "?state=closed"); r.status != http.StatusNoContent {
		t.Errorf("row under a filter it fails: %d", r.status)
	}
	expect(t, get("/board/figures"), 200, "今日上报")
	// Scripts asking without a session get 401, not a sign-in page.
	anon := newClient(t)
	req, _ := http.NewRequest("GET", srv.URL+"/board/rows/"+cs.ID, nil)
	req.Header.Set("X-Requested-With", "fetch")
	if r := anon.do(req); r.status != http.StatusUnauthorized {
		t.Errorf("row without a session: %d", r.status)
	}
}

func TestPageWeight(t *testing.T) {
	cs := reportCase(t, "zhouchunyan", "MS03", "页面大小测试")
	assets := map[string]int{}
	srcRE := regexp.MustCompile(`(?:src|href)="(/static/[^"]+)"`)
	for _, tc := range []struct{ user, path string }{
		{"syl_zhihui", "/board"}, {"syl_zhihui", "/cases/" + cs.ID}, {"zhouchunyan", "/m"},
		{"zhouchunyan", "/m/report"}, {"yj_staff", "/inbox"},
		{"leader", "/dashboard"}, {"leader", "/dashboard/cases?days=365"}, {"admin", "/admin/regions"},
		{"admin", "/admin/units"}, {"admin", "/admin/categories?edit=MS03"}, {"admin", "/admin/calendar"}, {"admin", "/admin/accounts"},
	} {
		c := signIn(t, tc.user)
		r := c.get(tc.path)
		expect(t, r, 200)
		total := len(r.body)
		vendor := 0
		for _, m := range srcRE.FindAllStringSubmatch(r.body, -1) {
			if strings.HasPrefix(m[1], "/static/vendor/") {
				vendor++ // the map and chart libraries are outside the budget
				continue
			}
			if _, ok := assets[m[1]]; !ok {
				a := c.get(m[1])
				if a.status != 200 {
					t.Fatalf("%s: %d", m[1], a.status)
				}
				assets[m[1]] = len(a.body)
			}
			total += assets[m[1]]
		}
		t.Logf("%s: %d bytes with its assets (and %d vendored library files)", tc.path, total, vendor)
		if total > 200<<10 {
			t.Errorf("%s weighs %d bytes, over 200 KB", tc.path, total)
		}
	}
}

func TestErrorPages(t *testing.T) {
	c := signIn(t, "syl_zhihui")
	expect(t, c.get("/cases/NO-SUCH-CASE"), 404, "案件不存在", "返回首页")
	// Unknown paths get the console's own page, in Chinese, with the way
	// home — signed in or not.
	for _, cl := range []*client{c, newClient(t)} {
		r := cl.get("/no/such/page")
		expect(t, r, 404, "找不到页面", "页面不存在", `href="/"`, "返回首页")
		if !strings.Contains(r.header.Get("Content-Type"), "text/html") || strings.Contains(r.body, "404 page not found") {
			t.Errorf("unknown path: %s %q", r.header.Get("Content-Type"), excerpt(r.body))
		}
	}
	if r := c.get("/static/app.css"); r.status != 200 || !strings.Contains(r.header.Get("Content-Type"), "text/css") {
		t.Errorf("stylesheet: %d %s", r.status, r.header.Get("Content-Type"))
	}
	// Unknown API paths stay JSON-shaped 404s, not console pages.
	if r := c.get("/api/v1/nothing"); r.status != 404 || strings.Contains(r.body, "<html") {
		t.Errorf("unknown API path: %d", r.status)
	}
}

func TestWhistleAndMeetingForms(t *testing.T) {
	cs := reportCase(t, "zhouchunyan", "AQ09", "吹哨测试：燃气管道隐患")
	actOn(t, "syl_zhihui", cs.ID, cases.Command{Action: cases.ActAccept})
	path := "/cases/" + cs.ID
	cmd := signIn(t, "syl_zhihui")
	expect(t, cmd.get(path), 200, `id="act-whistle"`, `value="unit:yj"`)
	expect(t, cmd.post(path+"/act", url.Values{"action": {"whistle"}, "whistle_kind": {"street"}, "note": {""}}), 400, "请填写吹哨事由", "请选择召集的部门或人员")
	cmd.get(path)
	r := cmd.post(path+"/act", url.Values{"action": {"whistle"}, "whistle_kind": {"street"}, "party": {"unit:yj", "unit:xf"}, "note": {"燃气隐患，请应急、消防到场"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("whistle: %d %s", r.status, excerpt(r.body))
	}
	expect(t, cmd.get(path), 200, "街道吹哨", "待报到", "区应急管理局")

	yj := signIn(t, "yj_staff")
	expect(t, yj.get(path), 200, `id="act-report_in"`)
	if r := yj.post(path+"/act", url.Values{"action": {"report_in"}}); r.status != http.StatusSeeOther {
		t.Fatalf("report in: %d %s", r.status, excerpt(r.body))
	}
	expect(t, cmd.get(path), 200, "已报到")

	cmd.get(path)
	r = cmd.post(path+"/act", url.Values{"action": {"meeting"}, "meeting_kind": {"dispatch"}, "meeting_place": {"新影村社区会议室"},
		"meeting_units": {"yj", "xf"}, "meeting_people": {"商铺负责人\n居民代表"}, "meeting_shown": {"宣读告知书，通报警示案例"},
		"decision_text": {"48小时内更换燃气管道"}, "decision_unit": {"yj"}, "decision_due": {"2099-01-02T10:00"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("meeting: %d %s", r.status, excerpt(r.body))
	}
	expect(t, cmd.get(path), 200, "调度会", "新影村社区会议室", "48小时内更换燃气管道")
	expect(t, yj.get(path), 200, `id="act-decision_done"`)
	if r := yj.post(path+"/act", url.Values{"action": {"decision_done"}, "decision_id": {"d1"}, "note": {"已更换"}}); r.status != http.StatusSeeOther {
		t.Fatalf("decision done: %d %s", r.status, excerpt(r.body))
	}
	expect(t, cmd.get(path), 200, "已落实")
}
