package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/leaders"
	"zhizhi/internal/service"
	"zhizhi/internal/sla"
	"zhizhi/internal/store"
)

// TestLeaderConsole walks a leader's pages: the home starts from the
// pairings; the visit form refuses bad input keeping what was typed, then
// records a visit whose problems become cases on the leader's list; the
// list board urges and supervises; the totals drill down to the cases; the
// project page shows milestones as a timeline with the lead unit's form.
func TestLeaderConsole(t *testing.T) {
	ctx := context.Background()
	now := plat.Service.Now()
	admin := actor(t, "admin")
	lead := actor(t, "leader")
	p, err := plat.Service.PutPairing(ctx, admin, leaders.Pairing{LeaderID: lead.AccountID, Kind: leaders.TargetStreet, Target: "500103014",
		From: now.AddDate(0, -1, 0), To: now.AddDate(1, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	defer plat.Service.DeletePairing(ctx, admin, p.ID)

	c := signIn(t, "leader")
	expect(t, c.get("/leader"), 200, "包联对象", "石油路街道", "记录现场办公")

	// The form: refused input keeps what was typed.
	form := c.get("/m/onsite")
	expect(t, form, 200, "提出的问题", `value="500103014"`, "/static/onsite.", `id="visit-outbox"`)
	if old := c.get("/visits/new"); old.status != http.StatusFound || old.location != "/m/onsite" {
		t.Fatalf("the form's old address: %d %q", old.status, old.location)
	}
	// Within today, so that the year's totals below hold it.
	at := earlierToday(time.Hour).Format("2006-01-02T15:04")
	r := c.post("/visits", url.Values{"at": {at}, "region_code": {"500103014"}, "problem_0": {"控制台测试：菜市场门口积水"}, "client_ref": {"web-visit-1"}})
	expect(t, r, 400, "控制台测试：菜市场门口积水", "请选择问题类别")
	r = c.post("/visits", url.Values{"at": {at}, "region_code": {"500103014"}, "address": {"石油路街道办事处"},
		"attendees": {"街道书记、社区书记"}, "summary": {"现场办公"}, "client_ref": {"web-visit-1"},
		"problem_0": {"控制台测试：菜市场门口积水"}, "category_0": {"MS07"},
		"problem_2": {"控制台测试：路灯不亮"}, "category_2": {"MS06"}})
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/visits/") {
		t.Fatalf("record visit: %d %s", r.status, excerpt(r.body))
	}
	page := c.get(r.location)
	expect(t, page, 200, "已记录现场办公", "控制台测试：菜市场门口积水", "控制台测试：路灯不亮", "街道书记、社区书记")
	visitID := strings.TrimPrefix(strings.Split(r.location, "?")[0], "/visits/")
	v, made, err := plat.Service.Visit(ctx, lead, visitID)
	if err != nil || len(made) != 2 {
		t.Fatalf("visit %v: %d cases", err, len(made))
	}

	// The leader's list board shows both, with urge and supervise.
	lists, err := plat.Service.Lists(ctx, lead, storeListsOf(lead.AccountID))
	if err != nil || len(lists) == 0 {
		t.Fatalf("lists %v %v", err, lists)
	}
	board := c.get("/lists/" + lists[0].ID)
	expect(t, board, 200, made[0].Number, made[1].Number, "催办", "督办")
	r = c.post("/lists/"+lists[0].ID+"/urge", url.Values{"case_id": {made[0].ID}, "version": {strconv.Itoa(made[0].Version)}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("urge: %d %s", r.status, excerpt(r.body))
	}
	expect(t, c.get(r.location), 200, "已催办", "催办 1 次")
	expect(t, c.post("/lists/"+lists[0].ID+"/supervise", url.Values{"case_id": {made[1].ID}, "limit": {"3工作日"}}), 400, "请写明督办要求")
	r = c.post("/lists/"+lists[0].ID+"/supervise", url.Values{"case_id": {made[1].ID}, "note": {"三日内办结"}, "limit": {"3工作日"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("supervise: %d %s", r.status, excerpt(r.body))
	}
	expect(t, c.get(r.location), 200, "已督办", `class="tag supervised"`)
	csv := c.get("/lists/" + lists[0].ID + "/export?format=csv")
	expect(t, csv, 200, "事项,状态", made[0].Number, made[1].Number, "催办次数")
	if xl := c.get("/lists/" + lists[0].ID + "/export"); xl.status != 200 || !strings.HasPrefix(xl.body, "PK") {
		t.Fatalf("xlsx export: %d", xl.status)
	}
	expect(t, c.get("/lists/"+lists[0].ID+"/export?format=pdf"), 400, "导出格式")
	expect(t, c.get("/leader"), 200, "我督办的案件", made[1].Number, "三日内办结")
	expect(t, c.get("/cases/"+made[1].ID), 200, `id="supervisions"`, "区领导：三日内办结")

	// Totals and the drill-down to the cases.
	tot := c.get("/visits/totals?by=street")
	expect(t, tot, 200, "四下基层统计", "石油路街道")
	day := at[:len("2006-01-02")] // the visit's day
	expect(t, c.get("/visits/totals?by=street&from="+day+"&to="+day+"&street=500103014&cases=all"), 200, made[0].Number, made[1].Number)
	expect(t, c.get("/visits?street=500103014&from="+day+"&to="+day), 200, "/visits/"+v.ID)
	expect(t, c.get("/visits/totals?from=yesterday"), 400, "开始日期格式")

	// A project: milestones as a timeline; the lead unit meets the next.
	qu := actor(t, "qu_zhihui")
	proj, err := plat.Service.CreateProject(ctx, qu, service.ProjectInput{Name: "控制台测试项目", Goal: "整治", LeadUnit: "cg",
		Milestones: []leaders.MilestoneInput{{Title: "调研", Limit: sla.Limit{Amount: 2, Unit: sla.WorkDays}}, {Title: "完成", Limit: sla.Limit{Amount: 3, Unit: sla.WorkDays}}}})
	if err != nil {
		t.Fatal(err)
	}
	cg := signIn(t, "cg_staff")
	pp := cg.get("/projects/" + proj.ID)
	expect(t, pp, 200, "控制台测试项目", "调研", "完成", "报告节点完成：调研")
	if strings.Contains(pp.body, `id="verify"`) {
		t.Error("the lead unit is offered the verdict")
	}
	r = cg.post("/projects/"+proj.ID+"/act", url.Values{"action": {"meet"}, "seq": {"1"}, "evidence": {"已调研"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("meet: %d %s", r.status, excerpt(r.body))
	}
	expect(t, cg.get(r.location), 200, "已记录节点完成", "milestone met", "报告节点完成：完成")
	expect(t, signIn(t, "jumin").get("/projects/"+proj.ID), 404)

	// A cadre's record: a session and a posting, read by the leader and by
	// the cadre; another street's commander is refused.
	course, err := plat.Service.CreateCourse(ctx, lead, leaders.Course{Title: "项目融资专题培训", Topic: "项目融资", Provider: "红色三岩学院", Hours: 4})
	if err != nil {
		t.Fatal(err)
	}
	syl := actor(t, "syl_zhihui")
	if _, err := plat.Service.RecordSession(ctx, lead, leaders.Session{CourseID: course.ID, At: now.Add(-time.Hour), Place: "红色三岩学院",
		Trainers: []string{"王老师"}, Attendees: []string{syl.AccountID}}); err != nil {
		t.Fatal(err)
	}
	if _, err := plat.Service.AddPosting(ctx, lead, leaders.Posting{CadreID: syl.AccountID, Post: "新影村社区第一书记（挂职）",
		From: now.AddDate(0, -1, 0), To: now.AddDate(0, 5, 0)}, ""); err != nil {
		t.Fatal(err)
	}
	expect(t, c.get("/cadres/"+syl.AccountID), 200, "项目融资专题培训", "王老师", "新影村社区第一书记（挂职）", "学时")
	expect(t, signIn(t, "syl_zhihui").get("/cadres/me"), 200, "项目融资专题培训")
	expect(t, signIn(t, "jfb_zhihui").get("/cadres/"+syl.AccountID), 404)
	expect(t, signIn(t, "jfb_zhihui").get("/lists/"+lists[0].ID), 404)
}

func storeListsOf(owner string) store.ListFilter {
	return store.ListFilter{OwnerID: owner, Kind: leaders.ListLeader}
}

// TestSecretaryConsole: the administrator assigns 区指挥中心值班长 as 刘区长's
// secretary on /admin/secretaries (audited); the secretary's visit form
// offers that leader, the visit it records for him and its case read
// "由秘书 … 代 … 录入"; a visit for a leader it is not assigned to, a
// refused assignment, and a street administrator's removal change nothing;
// once removed, the form offers no leader.
func TestSecretaryConsole(t *testing.T) {
	ctx := context.Background()
	liu, _ := plat.DB.AccountByUsername(ctx, "liu_quzhang")
	sec, _ := plat.DB.AccountByUsername(ctx, "qu_zhihui")
	other, _ := plat.DB.AccountByUsername(ctx, "leader")
	grid, _ := plat.DB.AccountByUsername(ctx, "zhouchunyan")
	admin := signIn(t, "admin")
	expect(t, admin.get("/admin/secretaries"), http.StatusOK, "领导秘书", "刘区长", "区指挥中心值班长")

	// A grid worker is no secretary: refused, nothing assigned.
	r := admin.post("/admin/secretaries", url.Values{"leader_id": {liu.ID}, "secretary_id": {grid.ID}})
	expect(t, r, http.StatusBadRequest, "秘书须为指挥中心账号")
	// (The demo's street commanders are his secretaries already.)
	if list, _ := plat.Service.Secretaries(ctx, actor(t, "admin"), liu.ID, grid.ID); len(list) != 0 {
		t.Fatalf("a refused assignment was stored: %+v", list)
	}
	r = admin.post("/admin/secretaries", url.Values{"leader_id": {liu.ID}, "secretary_id": {sec.ID}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("assign: %d %s", r.status, excerpt(r.body))
	}
	expect(t, admin.get(r.location), http.StatusOK, "已安排秘书", `data-leader="`+liu.ID+`" data-secretary="`+sec.ID+`"`)
	log, err := plat.DB.AuditLog(ctx, store.AuditFilter{Kind: "secretary", ObjectID: liu.ID + "/" + sec.ID})
	if err != nil || len(log) != 1 || log[0].Action != "create" {
		t.Fatalf("audit of the assignment: %v %+v", err, log)
	}

	// The secretary records a visit for that leader, and only for him.
	c := signIn(t, "qu_zhihui")
	expect(t, c.get("/m/onsite"), http.StatusOK, `name="leader_id"`, `value="`+liu.ID+`"`, "刘区长")
	at := plat.Service.Now().Add(-time.Hour).In(plat.Service.Calendar().Location()).Format("2006-01-02T15:04")
	desc := "秘书代录测试：解放碑步行街井盖松动 " + plat.Service.Now().Format("150405.000")
	refusedForm := url.Values{"leader_id": {other.ID}, "at": {at}, "region_code": {"500103001"}, "problem_0": {desc}, "category_0": {"MS03"}}
	if r := c.post("/visits", refusedForm); r.status != http.StatusForbidden {
		t.Fatalf("a visit for a leader not assigned: %d %s", r.status, excerpt(r.body))
	}
	r = c.post("/visits", url.Values{"leader_id": {liu.ID}, "at": {at}, "region_code": {"500103001"}, "problem_0": {desc}, "category_0": {"MS03"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("a visit on the leader's behalf: %d %s", r.status, excerpt(r.body))
	}
	behalf := "由秘书 区指挥中心值班长 代 刘区长 录入"
	expect(t, c.get(r.location), http.StatusOK, behalf, desc)
	visitID := strings.TrimPrefix(strings.Split(r.location, "?")[0], "/visits/")
	v, made, err := plat.Service.Visit(ctx, actor(t, "qu_zhihui"), visitID)
	if err != nil || len(made) != 1 || v.LeaderID != liu.ID || made[0].Reporter.AccountID != liu.ID {
		t.Fatalf("the visit: %v %+v, %d cases", err, v, len(made))
	}
	expect(t, c.get("/cases/"+made[0].ID), http.StatusOK, behalf)
	n := 0
	if vs, err := plat.Service.Visits(ctx, actor(t, "admin"), store.VisitFilter{LeaderID: other.ID, Limit: 1000}); err == nil {
		for _, v := range vs {
			if len(v.Problems) > 0 && v.Problems[0].Description == desc {
				n++
			}
		}
	}
	if n != 0 {
		t.Fatalf("the refused visit was stored (%d)", n)
	}

	// A street administrator cannot end it; the district's can.
	street := signIn(t, streetAdmin(t))
	if r := street.post("/admin/secretaries/"+liu.ID+"/"+sec.ID+"/delete", url.Values{}); r.status != http.StatusNotFound {
		t.Fatalf("a street administrator's removal: %d", r.status)
	}
	if r := admin.post("/admin/secretaries/"+liu.ID+"/"+sec.ID+"/delete", url.Values{}); r.status != http.StatusSeeOther {
		t.Fatalf("remove: %d %s", r.status, excerpt(r.body))
	}
	expect(t, c.get("/m/onsite"), http.StatusOK, `id="no-leaders"`)
	if r := c.post("/visits", url.Values{"leader_id": {liu.ID}, "at": {at}, "region_code": {"500103001"}}); r.status != http.StatusForbidden {
		t.Fatalf("a visit after the assignment ended: %d", r.status)
	}
}

// TestTrainingConsole: a leader keeps the training records on /training: a
// course (a bad class-hours input refused), a session whose attendees are
// typed as usernames (an unknown one refused, nothing stored), a practical
// posting; the figures per street and per department move by exactly what
// was recorded, and the cadre's record page shows both. Other roles get 403.
func TestTrainingConsole(t *testing.T) {
	ctx := context.Background()
	lead := actor(t, "leader")
	syl, _ := plat.DB.AccountByUsername(ctx, "syl_zhihui")
	street := strings.Split(strings.Trim(syl.RegionPath, "/"), "/")[2]
	loc := plat.Service.Calendar().Location()
	now := plat.Service.Now().In(loc)
	from := time.Date(now.Year(), 1, 1, 0, 0, 0, 0, loc)
	to := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc).AddDate(0, 0, 1)
	figure := func() store.TrainingFigure {
		t.Helper()
		rows, err := plat.Service.TrainingFigures(ctx, lead, "street", from, to)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.Key == street {
				return r.TrainingFigure
			}
		}
		return store.TrainingFigure{Key: street}
	}
	before := figure()

	c := signIn(t, "leader")
	// (The year's figures may be empty before the session below: early in
	// January the demo's sessions are all last year's.)
	expect(t, c.get("/training"), http.StatusOK, "干部培训", "记录培训", "多岗位历练", "新建课程")
	title := "数字化转型专题 " + now.Format("150405.000")
	expect(t, c.post("/training/courses", url.Values{"title": {title}, "topic": {"数字化转型"}, "hours": {"四"}}), http.StatusBadRequest, "学时应为整数", title)
	if r := c.post("/training/courses", url.Values{"title": {title}, "topic": {"数字化转型"}, "provider": {"红色三岩学院"}, "hours": {"4"}}); r.status != http.StatusSeeOther {
		t.Fatalf("course: %d %s", r.status, excerpt(r.body))
	}
	courses, err := plat.Service.Courses(ctx, lead)
	if err != nil {
		t.Fatal(err)
	}
	var course leaders.Course
	for _, k := range courses {
		if k.Title == title {
			course = k
		}
	}
	if course.ID == "" {
		t.Fatal("the course was not stored")
	}
	at := earlierToday(2 * time.Hour).Format("2006-01-02T15:04") // within the year's figures
	session := url.Values{"course_id": {course.ID}, "at": {at}, "place": {"红色三岩学院"}, "trainers": {"王教授、李老师"}, "attendees": {"syl_zhihui、nosuchuser"}}
	expect(t, c.post("/training/sessions", session), http.StatusBadRequest, "账号“nosuchuser”不存在")
	if f := figure(); f != before {
		t.Fatalf("a refused session moved the figures: %+v -> %+v", before, f)
	}
	session.Set("attendees", "syl_zhihui\njfb_zhihui")
	if r := c.post("/training/sessions", session); r.status != http.StatusSeeOther {
		t.Fatalf("session: %d %s", r.status, excerpt(r.body))
	}
	post := "新影村社区第一书记 " + now.Format("150405")
	r := c.post("/training/postings", url.Values{"cadre": {"syl_zhihui"}, "post": {post}, "from": {now.Format("2006-01-02")}, "to": {now.AddDate(0, 6, 0).Format("2006-01-02")}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("posting: %d %s", r.status, excerpt(r.body))
	}
	expect(t, c.get(r.location), http.StatusOK, "已记录多岗位历练", "/cadres/"+syl.ID)
	after := figure()
	want := before
	want.Cadres, want.Sessions, want.Hours, want.Postings, want.Posted = after.Cadres, before.Sessions+1, before.Hours+4, before.Postings+1, after.Posted
	if after != want || after.Posted < 1 || after.Cadres < 1 {
		t.Fatalf("the street's figures: %+v -> %+v, want %+v", before, after, want)
	}
	page := c.get("/training")
	expect(t, page, http.StatusOK, `id="figures-street"`, `data-key="`+street+`"`, title)
	expect(t, c.get("/cadres/"+syl.ID), http.StatusOK, title, "王教授、李老师", post)
	for _, u := range []string{"zhouchunyan", "syl_ms_a"} {
		if r := signIn(t, u).get("/training"); r.status != http.StatusForbidden {
			t.Errorf("%s reads /training: %d", u, r.status)
		}
	}
}
