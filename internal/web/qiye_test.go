package web_test

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/demo"
	"zhizhi/internal/enterprise"
)

var requestLinkRE = regexp.MustCompile(`/qiye/requests/([0-9A-Z]+)`)

// TestQiyeConsoleJourney plays S7 through the console's forms, without
// scripts: the enterprise picks a service and asks on the one form (a
// refused form keeps what was typed and names the fields), the liaison
// contacts and asks, a colleague answers, the unit answers, the asker rates;
// the enterprise whistles on another request.
func TestQiyeConsoleJourney(t *testing.T) {
	qiye := signIn(t, "qiye")
	r := qiye.get("/qiye")
	expect(t, r, 200, "红色党务", "绿色政务", "蓝色警务", "橙色法务", "医保政策咨询", "本企业的诉求")
	r = qiye.get("/qiye?service=G01")
	expect(t, r, 200, "参保职工人数", "关注内容", "区医保局")

	r = qiye.post("/qiye/requests", url.Values{"service": {"G01"}, "words": {""}, "answers.insured": {"很多"}})
	expect(t, r, 400, "请说明需要什么服务", "请按提示修改后重新提交", `value="很多"`)
	r = qiye.post("/qiye/requests", url.Values{"service": {"G01"}, "words": {"门诊共济改革对公司的影响"}, "answers.insured": {"56"}, "answers.topic": {"outpatient"}})
	if r.status != 303 || !strings.HasPrefix(r.location, "/qiye/requests/") {
		t.Fatalf("ask: %d %s", r.status, excerpt(r.body))
	}
	id := requestLinkRE.FindStringSubmatch(r.location)[1]
	expect(t, qiye.get(r.location), 200, "诉求已提交", "待联络员联系", "门诊共济改革对公司的影响")

	liaison := signIn(t, demo.Liaison)
	expect(t, liaison.get("/qiye/follow"), 200, "企业服务跟进", "/qiye/requests/"+id)
	expect(t, liaison.get("/qiye/requests/"+id), 200, "登记联系企业", "向企业提问")
	r = liaison.post("/qiye/requests/"+id+"/follow", url.Values{"action": {"contact"}, "text": {""}})
	expect(t, r, 400, "请填写内容")
	r = liaison.post("/qiye/requests/"+id+"/follow", url.Values{"action": {"contact"}, "text": {"已电话联系王经理"}})
	if r.status != 303 {
		t.Fatalf("contact: %d %s", r.status, excerpt(r.body))
	}
	expect(t, liaison.post("/qiye/requests/"+id+"/follow", url.Values{"action": {"ask"}, "text": {"请提供异地参保人数"}}), 303)

	hr := signIn(t, demo.QiyeColleague)
	r = hr.get("/qiye/requests/" + id)
	expect(t, r, 200, "待答复的问题", "请提供异地参保人数")
	expect(t, hr.post("/qiye/requests/"+id+"/follow", url.Values{"action": {"reply"}, "question": {"2"}, "text": {"3人"}}), 303)

	leader := signIn(t, demo.StreetLeader)
	expect(t, leader.get("/qiye/requests/"+id), 200, "企业答复", "3人", "已电话联系王经理")
	// Another street's commander cannot read it.
	expect(t, signIn(t, "syl_zhihui").get("/qiye/requests/"+id), 404)

	// The unit answers through the case; the asker rates on the page.
	v, err := plat.Service.Request(context.Background(), actor(t, "qiye"), id)
	if err != nil {
		t.Fatal(err)
	}
	caseID := v.Request.CaseID
	actOn(t, "hlq_zhihui", caseID, cases.Command{Action: cases.ActAccept})
	actOn(t, "hlq_zhihui", caseID, cases.Command{Action: cases.ActEscalate, Note: "区级事项"})
	if c := caseByID(t, caseID); c.State == cases.Reported {
		actOn(t, "qu_zhihui", caseID, cases.Command{Action: cases.ActAccept})
	}
	actOn(t, "qu_zhihui", caseID, cases.Command{Action: cases.ActDispatch, Lead: "yb"})
	actOn(t, "yb_staff", caseID, cases.Command{Action: cases.ActSign})
	actOn(t, "yb_staff", caseID, cases.Command{Action: cases.ActFeedback, Note: "已答复企业"})
	actOn(t, "qu_zhihui", caseID, cases.Command{Action: cases.ActClose})
	expect(t, hr.get("/qiye/requests/"+id), 200, "已办结，待评价")
	if strings.Contains(hr.get("/qiye/requests/"+id).body, "提交评价") {
		t.Error("a colleague is offered the asker's rating")
	}
	expect(t, qiye.get("/qiye/requests/"+id), 200, "提交评价")
	expect(t, qiye.post("/qiye/requests/"+id+"/follow", url.Values{"action": {"rate"}, "rating": {"satisfied"}}), 303)
	expect(t, qiye.get("/qiye/requests/"+id+"?done=rate"), 200, "感谢评价", "评价：满意")

	// The enterprise whistle from the enterprise's page.
	r = qiye.post("/qiye/requests", url.Values{"service": {"B04"}, "words": {"楼宇消防通道被占用，多方推诿"}})
	wid := requestLinkRE.FindStringSubmatch(r.location)[1]
	wv, _ := plat.Service.Request(context.Background(), actor(t, "qiye"), wid)
	actOn(t, "hlq_zhihui", wv.Request.CaseID, cases.Command{Action: cases.ActAccept})
	expect(t, qiye.get("/qiye/requests/"+wid), 200, "企业吹哨", "区消防救援支队")
	expect(t, qiye.post("/qiye/requests/"+wid+"/follow", url.Values{"action": {"whistle"}, "units": {"xf"}}), 400, "企业吹哨须召集至少两个部门")
	expect(t, qiye.post("/qiye/requests/"+wid+"/follow", url.Values{"action": {"whistle"}, "text": {"请消防、公安协同"}, "units": {"xf", "ga"}}), 303)
	if c := caseByID(t, wv.Request.CaseID); len(c.Whistles) != 1 || c.Whistles[0].Kind != cases.WhistleEnterprise {
		t.Errorf("whistles %+v", c.Whistles)
	}
}

// TestQiyeClassConsole: the organizer schedules a class, the enterprise
// signs in on its phone (once), raises a question and turns it into a
// request; the figures and the catalog pages render; refused input names
// its fields.
func TestQiyeClassConsole(t *testing.T) {
	liaison := signIn(t, demo.Liaison)
	expect(t, liaison.get("/qiye/classes"), 200, "组织课堂", "职工医保门诊共济保障机制改革政策解读")
	r := liaison.post("/qiye/classes", url.Values{"topic": {""}, "minutes": {"5"}})
	expect(t, r, 400, "不能为空", "时长应在15至480分钟之间")
	at := plat.Service.Now().In(plat.Service.Calendar().Location()).Add(5 * time.Minute).Format("2006-01-02T15:04")
	r = liaison.post("/qiye/classes", url.Values{"topic": {"惠企政策申报辅导"}, "building": {"企业天地3号楼"}, "at": {at}, "minutes": {"60"},
		"speakers": {"区商务委\n化龙桥街道经济发展办"}, "materials": {"申报指南"}})
	if r.status != 303 {
		t.Fatalf("new class: %d %s", r.status, excerpt(r.body))
	}
	classPath := r.location
	qiye := signIn(t, "qiye")
	expect(t, qiye.get(classPath), 200, "惠企政策申报辅导", "签到", "区商务委、化龙桥街道经济发展办")
	expect(t, qiye.post(classPath+"/signin", url.Values{}), 303)
	expect(t, qiye.get(classPath), 200, "本企业已签到")
	expect(t, signIn(t, demo.QiyeColleague).post(classPath+"/signin", url.Values{}), 409, "本企业已签到")
	expect(t, qiye.post(classPath+"/questions", url.Values{"text": {""}}), 400, "请填写内容")
	expect(t, qiye.post(classPath+"/questions", url.Values{"text": {"申报需要哪些材料？"}}), 303)
	r = qiye.get(classPath)
	expect(t, r, 200, "申报需要哪些材料？", "转为诉求")
	classID := strings.TrimPrefix(classPath, "/qiye/classes/")
	r = qiye.post("/qiye/requests", url.Values{"service": {"G04"}, "words": {"申报需要哪些材料？"}, "class_id": {classID}, "question": {"1"}})
	if r.status != 303 {
		t.Fatalf("question to request: %d %s", r.status, excerpt(r.body))
	}
	expect(t, liaison.get(classPath), 200, "签到 <small>1", "重庆某科技有限公司", "已转为诉求")

	commander := signIn(t, "hlq_zhihui")
	expect(t, commander.get("/qiye/figures"), 200, "按四色", "按服务事项", "按联络员", "按承办单位", "绿色政务")
	expect(t, commander.get("/qiye/figures?from=bad"), 400)
	x := commander.get("/qiye/figures/export")
	if x.status != 200 || !strings.Contains(x.header.Get("Content-Type"), "spreadsheetml") || !strings.HasPrefix(x.body, "PK") {
		t.Errorf("figures export: %d %s", x.status, x.header.Get("Content-Type"))
	}
	x = commander.get("/qiye/figures/export?format=csv")
	if x.status != 200 || !strings.Contains(x.body, "按时联系率") || !strings.Contains(x.body, "绿色政务") {
		t.Errorf("figures CSV: %d %s", x.status, excerpt(x.body))
	}
	r = commander.get("/qiye/enterprises")
	expect(t, r, 200, "企业名录", "重庆某科技有限公司", "导入企业", "关联企业账号")
	ents, _ := plat.Service.Enterprises(context.Background(), actor(t, "hlq_zhihui"))
	expect(t, commander.post("/qiye/enterprises/members", url.Values{"enterprise_id": {ents[0].ID}, "username": {"nobody"}}), 400, "账号不存在")
	expect(t, commander.post("/qiye/enterprises/members", url.Values{"enterprise_id": {ents[0].ID}, "username": {demo.Liaison}}), 400, "须是企业账号")
	csv := "企业名称,统一社会信用代码,地址,网格编码,联系人,联系电话,联络员账号,街道领导账号\n,91500103MA60000000,,nope,张三,abc,nobody,hlq_lingdao\n"
	r = commander.postFiles("/qiye/enterprises/import", url.Values{}, "file", []byte(csv))
	expect(t, r, 400, "未导入任何企业", "第2行 统一社会信用代码", "第2行 网格编码：网格不存在", "第2行 联络员账号")

	admin := signIn(t, "admin")
	expect(t, admin.get("/qiye/catalog?code=G01"), 200, "医保政策咨询", `value="5wd"`)
	expect(t, admin.post("/qiye/catalog", url.Values{"code": {"X1"}, "name": {"测试"}, "color": {"purple"}, "limit": {"abc"}, "questions": {"{"}}), 400,
		"请选择红色党务、绿色政务、蓝色警务或橙色法务", "时限格式应为数字加单位", "问题须是JSON数组")
	expect(t, admin.post("/qiye/catalog", url.Values{"code": {"R09"}, "name": {"党建指导员选派"}, "color": {"red"}, "category": {"JJ01"},
		"unit_id": {"hlq-dj"}, "limit": {"10wd"}, "active": {"1"}}), 303)
	if list, _ := plat.Service.Catalog(context.Background(), true); !hasService(list, "R09") {
		t.Error("the new service is not in the catalog")
	}
}

func hasService(list []enterprise.Service, code string) bool {
	for _, s := range list {
		if s.Code == code {
			return true
		}
	}
	return false
}
