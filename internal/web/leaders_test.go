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
	at := now.Add(-time.Hour).In(plat.Service.Calendar().Location()).Format("2006-01-02T15:04")
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
	day := now.Add(-time.Hour).In(plat.Service.Calendar().Location()).Format("2006-01-02") // the visit's day
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
