package api_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/demo"
)

type requestView struct {
	ID          string    `json:"id"`
	Service     string    `json:"service"`
	Color       string    `json:"color"`
	UnitID      string    `json:"unit_id"`
	CaseID      string    `json:"case_id"`
	ContactedAt time.Time `json:"contacted_at"`
	AnsweredAt  time.Time `json:"answered_at"`
	Rating      string    `json:"rating"`
	ClassID     string    `json:"class_id"`
	Notes       []struct {
		Seq  int    `json:"seq"`
		Kind string `json:"kind"`
	} `json:"notes"`
}

type fieldErr struct {
	Error struct {
		Fields []struct {
			Field string `json:"field"`
		} `json:"fields"`
	} `json:"error"`
}

func fieldList(t *testing.T, b []byte) string {
	t.Helper()
	var e fieldErr
	mustJSON(t, b, &e)
	var out []string
	for _, f := range e.Error.Fields {
		out = append(out, f.Field)
	}
	return strings.Join(out, ",")
}

func ask(t *testing.T, username string, body map[string]any) requestView {
	t.Helper()
	var r requestView
	mustJSON(t, as(t, username, 201, "POST", "/api/v1/enterprise/requests", body), &r)
	return r
}

func follow(t *testing.T, username, id string, body map[string]any) requestView {
	t.Helper()
	var r requestView
	mustJSON(t, as(t, username, 200, "POST", "/api/v1/enterprise/requests/"+id+"/follow", body), &r)
	return r
}

// driveToFeedback has the centers route a request's case to unit and the
// unit answer it: the street accepts (and, for a district matter, escalates
// to the district, which accepts and dispatches), the unit signs and feeds
// back.
func driveToFeedback(t *testing.T, caseID, unit, staff string) caseView {
	t.Helper()
	c := act(t, "hlq_zhihui", caseID, map[string]any{"action": "accept"})
	st, _ := call(t, token(t, "hlq_zhihui"), "POST", "/api/v1/cases/"+caseID+"/actions", map[string]any{"action": "dispatch", "lead_unit": unit})
	commander := "hlq_zhihui"
	if st != 200 {
		// A district matter: the street escalates it (上提).
		act(t, "hlq_zhihui", caseID, map[string]any{"action": "escalate", "note": "区级事项，上提区中心"})
		commander = "qu_zhihui"
		c, _ = detail(t, commander, caseID)
		if c.State == "reported" {
			act(t, commander, caseID, map[string]any{"action": "accept"})
		}
		act(t, commander, caseID, map[string]any{"action": "dispatch", "lead_unit": unit})
	}
	act(t, staff, caseID, map[string]any{"action": "sign"})
	c = act(t, staff, caseID, map[string]any{"action": "feedback", "note": "已答复企业：门诊共济改革后门诊统筹报销比例提高，个人账户划入调整"})
	if c.State != "fed_back" {
		t.Fatalf("after feedback: %s", c.State)
	}
	c = act(t, commander, caseID, map[string]any{"action": "close"})
	if c.State != "closed" {
		t.Fatalf("after close: %s", c.State)
	}
	return c
}

// TestScenarioS7 plays S7 through HTTP: an enterprise of 化龙桥 asks on the
// one form how the medical-insurance outpatient reform affects it; the
// liaison contacts it within the limit; the district medical-insurance
// bureau answers; the enterprise rates. Then the policy class: scheduled,
// signed in on a phone, a question raised and turned into a request.
func TestScenarioS7(t *testing.T) {
	var catalog struct {
		Items []struct {
			Code, Color string
		} `json:"items"`
	}
	mustJSON(t, as(t, "qiye", 200, "GET", "/api/v1/enterprise/services", nil), &catalog)
	colors := map[string]int{}
	for _, s := range catalog.Items {
		colors[s.Color]++
	}
	if len(catalog.Items) < 20 || len(colors) != 4 {
		t.Fatalf("catalog: %d services in %d colours", len(catalog.Items), len(colors))
	}

	// Refused input names its fields and stores nothing.
	var before struct{ Items []requestView }
	mustJSON(t, as(t, "qiye", 200, "GET", "/api/v1/enterprise/requests", nil), &before)
	st, body := call(t, token(t, "qiye"), "POST", "/api/v1/enterprise/requests", map[string]any{"service": "G01", "answers": map[string]any{"insured": "很多", "topic": "outpatient"}})
	if st != 400 || fieldList(t, body) != "words,answers.insured" {
		t.Fatalf("bad request: %d %s", st, body)
	}
	if st, body := call(t, token(t, "hlq_jj"), "POST", "/api/v1/enterprise/requests", map[string]any{"words": "x"}); st != 403 {
		t.Fatalf("a liaison used the enterprise's form: %d %s", st, body)
	}
	var after struct{ Items []requestView }
	mustJSON(t, as(t, "qiye", 200, "GET", "/api/v1/enterprise/requests", nil), &after)
	if len(after.Items) != len(before.Items) {
		t.Fatalf("refused requests stored: %d → %d", len(before.Items), len(after.Items))
	}

	r := ask(t, "qiye", map[string]any{"service": "G01", "words": "医保门诊共济改革对公司和职工有什么影响？",
		"answers": map[string]any{"insured": "56", "topic": "outpatient"}})
	if r.Color != "green" || r.UnitID != "yb" || r.CaseID == "" {
		t.Fatalf("request %+v", r)
	}

	// The liaison sees it among its open requests and contacts the enterprise.
	var open struct{ Items []requestView }
	mustJSON(t, as(t, demo.Liaison, 200, "GET", "/api/v1/enterprise/requests?open=true", nil), &open)
	found := false
	for _, x := range open.Items {
		found = found || x.ID == r.ID
	}
	if !found {
		t.Fatal("the liaison's open requests lack the new one")
	}
	if st, _ := call(t, token(t, demo.StreetLeader), "POST", "/api/v1/enterprise/requests/"+r.ID+"/follow", map[string]any{"action": "contact", "text": "x"}); st != 403 {
		t.Errorf("the leader contacted as the liaison: %d", st)
	}
	r = follow(t, demo.Liaison, r.ID, map[string]any{"action": "contact", "text": "已电话联系王经理，约定区医保局专人答复"})
	if r.ContactedAt.IsZero() {
		t.Fatal("contact not recorded")
	}
	r = follow(t, demo.Liaison, r.ID, map[string]any{"action": "ask", "text": "请提供异地参保职工人数"})
	r = follow(t, demo.QiyeColleague, r.ID, map[string]any{"action": "reply", "question": 2, "text": "3人"})
	if len(r.Notes) != 3 {
		t.Fatalf("notes %+v", r.Notes)
	}
	// The street leader follows it too.
	var lv struct {
		Level   string      `json:"level"`
		Request requestView `json:"request"`
		Case    caseView    `json:"case"`
	}
	mustJSON(t, as(t, demo.StreetLeader, 200, "GET", "/api/v1/enterprise/requests/"+r.ID, nil), &lv)
	if lv.Level != "leader" || lv.Case.ID != r.CaseID {
		t.Fatalf("leader's view: %+v", lv)
	}
	if st, _ := call(t, token(t, "syl_zhihui"), "GET", "/api/v1/enterprise/requests/"+r.ID, nil); st != 404 {
		t.Errorf("another street read the request: %d", st)
	}

	// The district medical-insurance bureau answers; the case closes.
	driveToFeedback(t, r.CaseID, "yb", "yb_staff")
	mustJSON(t, as(t, "qiye", 200, "GET", "/api/v1/enterprise/requests/"+r.ID, nil), &lv)
	if lv.Level != "enterprise" || lv.Request.AnsweredAt.IsZero() || lv.Case.State != "closed" {
		t.Fatalf("after the answer: %+v", lv)
	}
	if st, body := call(t, token(t, demo.QiyeColleague), "POST", "/api/v1/enterprise/requests/"+r.ID+"/follow", map[string]any{"action": "rate", "rating": "satisfied"}); st != 409 {
		t.Errorf("a colleague rated for the asker: %d %s", st, body)
	}
	if st, body := call(t, token(t, "qiye"), "POST", "/api/v1/enterprise/requests/"+r.ID+"/follow", map[string]any{"action": "rate", "rating": "great"}); st != 400 {
		t.Errorf("a bad rating: %d %s", st, body)
	}
	r = follow(t, "qiye", r.ID, map[string]any{"action": "rate", "rating": "satisfied", "text": "解答清楚"})
	if r.Rating != "satisfied" {
		t.Fatalf("rating %q", r.Rating)
	}

	// The policy class, in 企业天地2号楼 now.
	var ents struct {
		Items []struct {
			ID, Name string
		} `json:"items"`
	}
	mustJSON(t, as(t, demo.Liaison, 200, "GET", "/api/v1/enterprises", nil), &ents)
	if len(ents.Items) < 10 {
		t.Fatalf("the liaison follows %d enterprises", len(ents.Items))
	}
	var mine string
	for _, e := range ents.Items {
		if e.Name == "重庆某科技有限公司" {
			mine = e.ID
		}
	}
	if st, body := call(t, token(t, demo.Liaison), "POST", "/api/v1/enterprise/classes", map[string]any{"topic": "", "minutes": 5}); st != 400 ||
		!strings.Contains(fieldList(t, body), "topic") {
		t.Errorf("a bad class: %d %s", st, body)
	}
	var class struct{ ID string }
	mustJSON(t, as(t, demo.Liaison, 201, "POST", "/api/v1/enterprise/classes", map[string]any{
		"topic": "职工医保门诊共济保障机制改革政策解读", "building": "企业天地2号楼", "at": plat.Service.Now().Add(10 * time.Minute).Format(time.RFC3339),
		"minutes": 90, "speakers": []string{"渝中区医疗保障局"}, "invited": []string{mine, ents.Items[1].ID}, "materials": []string{"政策问答"},
	}), &class)
	as(t, "qiye", 204, "POST", "/api/v1/enterprise/classes/"+class.ID+"/signin", nil)
	if st, _ := call(t, token(t, demo.QiyeColleague), "POST", "/api/v1/enterprise/classes/"+class.ID+"/signin", nil); st != 409 {
		t.Errorf("the same enterprise signed in twice: %d", st)
	}
	as(t, "qiye", 201, "POST", "/api/v1/enterprise/classes/"+class.ID+"/questions", map[string]any{"text": "个人账户划入减少后，职工门诊报销怎么算？"})
	q := ask(t, "qiye", map[string]any{"service": "G01", "words": "个人账户划入减少后，职工门诊报销怎么算？", "class_id": class.ID, "question": 1,
		"answers": map[string]any{"insured": "56", "topic": "account"}})
	if q.ClassID != class.ID {
		t.Errorf("request from the class: %+v", q)
	}
	if st, body := call(t, token(t, "qiye"), "POST", "/api/v1/enterprise/requests", map[string]any{"words": "again", "class_id": class.ID, "question": 1}); st != 400 {
		t.Errorf("a question turned into a request twice: %d %s", st, body)
	}
	var cd struct {
		Class struct {
			Questions []struct {
				RequestID string `json:"request_id"`
			} `json:"questions"`
		} `json:"class"`
		Attendance []struct {
			EnterpriseID string `json:"enterprise_id"`
		} `json:"attendance"`
	}
	mustJSON(t, as(t, demo.Liaison, 200, "GET", "/api/v1/enterprise/classes/"+class.ID, nil), &cd)
	if len(cd.Attendance) != 1 || cd.Attendance[0].EnterpriseID != mine || len(cd.Class.Questions) != 1 || cd.Class.Questions[0].RequestID != q.ID {
		t.Errorf("class after: %+v", cd)
	}
	var classes struct{ Items []struct{ ID string } }
	mustJSON(t, as(t, "qiye", 200, "GET", "/api/v1/enterprise/classes", nil), &classes)
	if len(classes.Items) < 2 {
		t.Errorf("qiye sees %d classes", len(classes.Items))
	}

	// The figures for the street.
	var fig struct {
		By map[string][]struct {
			Key      string
			Requests int
		} `json:"by"`
		Totals struct {
			ClassesHeld int `json:"classes_held"`
			Attendances int `json:"attendances"`
		} `json:"totals"`
	}
	mustJSON(t, as(t, "hlq_zhihui", 200, "GET", "/api/v1/enterprise/figures?from=2020-01-01", nil), &fig)
	if len(fig.By["color"]) == 0 || fig.Totals.ClassesHeld < 1 || fig.Totals.Attendances < 7 {
		t.Errorf("figures %+v", fig)
	}
	if st, _ := call(t, token(t, "qiye"), "GET", "/api/v1/enterprise/figures", nil); st != 403 {
		t.Errorf("an enterprise read the figures: %d", st)
	}
	if st, body := call(t, token(t, "hlq_zhihui"), "GET", "/api/v1/enterprise/figures?from=yesterday", nil); st != 400 || fieldList(t, body) != "from" {
		t.Errorf("a bad date: %d %s", st, body)
	}
}

// TestEnterpriseWhistle: an enterprise blows the enterprise whistle on its
// own request, summoning several departments, from its own door.
func TestEnterpriseWhistle(t *testing.T) {
	r := ask(t, "qiye", map[string]any{"service": "B04", "words": "楼宇消防通道被占用，物业和派出所都说不归自己管"})
	if st, body := call(t, token(t, "qiye"), "POST", "/api/v1/enterprise/requests/"+r.ID+"/follow", map[string]any{"action": "whistle", "units": []string{"xf"}}); st != 400 || fieldList(t, body) != "units" {
		t.Fatalf("a whistle of one department: %d %s", st, body)
	}
	// Not yet accepted: the state machine refuses.
	if st, _ := call(t, token(t, "qiye"), "POST", "/api/v1/enterprise/requests/"+r.ID+"/follow", map[string]any{"action": "whistle", "text": "请多部门协同", "units": []string{"xf", "ga"}}); st != 409 {
		t.Fatalf("a whistle before acceptance: %d", st)
	}
	act(t, "hlq_zhihui", r.CaseID, map[string]any{"action": "accept"})
	follow(t, "qiye", r.ID, map[string]any{"action": "whistle", "text": "请消防、公安协同处理", "units": []string{"xf", "ga"}})
	var out struct {
		Case struct {
			Whistles []struct {
				Kind    string `json:"kind"`
				Parties []struct {
					UnitID string `json:"unit_id"`
				} `json:"parties"`
			} `json:"whistles"`
		} `json:"case"`
	}
	mustJSON(t, as(t, "qiye", 200, "GET", "/api/v1/enterprise/requests/"+r.ID, nil), &out)
	if len(out.Case.Whistles) != 1 || out.Case.Whistles[0].Kind != "enterprise" || len(out.Case.Whistles[0].Parties) != 2 {
		t.Fatalf("whistles %+v", out.Case.Whistles)
	}
	if st, _ := call(t, token(t, demo.QiyeColleague), "POST", "/api/v1/enterprise/requests/"+r.ID+"/follow", map[string]any{"action": "whistle", "units": []string{"xf", "ga"}}); st != 409 {
		t.Errorf("a colleague whistled for the asker: %d", st)
	}
}

// TestEnterpriseRegistryAPI: registering, changing, members, import with
// row problems, the catalog's administration.
func TestEnterpriseRegistryAPI(t *testing.T) {
	var me struct{ ID string }
	mustJSON(t, as(t, demo.Liaison, 200, "GET", "/api/v1/me", nil), &me)
	var grids struct {
		Items []struct{ Code string } `json:"items"`
	}
	var hlq struct {
		RegionPath string `json:"region_path"`
	}
	mustJSON(t, as(t, "hlq_zhihui", 200, "GET", "/api/v1/me", nil), &hlq)
	parts := strings.Split(strings.Trim(hlq.RegionPath, "/"), "/")
	mustJSON(t, as(t, "hlq_zhihui", 200, "GET", "/api/v1/regions?level=grid&under="+parts[len(parts)-1], nil), &grids)
	if len(grids.Items) == 0 {
		t.Fatal("no grids under 化龙桥")
	}
	e := map[string]any{"name": "重庆测试注册有限公司", "credit_code": "91500103MA60000000", "address": "企业天地3号楼", "grid_code": grids.Items[0].Code,
		"contacts": []map[string]string{{"name": "赵经理", "phone": "13900001111"}}, "liaison": demo.Liaison, "leader": demo.StreetLeader, "active": true}
	st, body := call(t, token(t, "hlq_zhihui"), "POST", "/api/v1/enterprises", e)
	if st != 400 || fieldList(t, body) != "credit_code" {
		t.Fatalf("a bad credit code: %d %s", st, body)
	}
	e["credit_code"] = demo.CreditCode(500)
	if st, _ := call(t, token(t, "syl_zhihui"), "POST", "/api/v1/enterprises", e); st != 403 {
		t.Errorf("another street registered: %d", st)
	}
	var got struct{ ID string }
	mustJSON(t, as(t, "hlq_zhihui", 201, "POST", "/api/v1/enterprises", e), &got)
	e["key"] = true
	as(t, "hlq_zhihui", 200, "PUT", "/api/v1/enterprises/"+got.ID, e)
	if st, _ := call(t, token(t, "hlq_zhihui"), "POST", "/api/v1/enterprises/"+got.ID+"/members", map[string]any{"account_id": me.ID}); st != 400 {
		t.Errorf("a liaison's account made a member: %d", st)
	}
	var acct struct{ ID string }
	mustJSON(t, as(t, "admin", 201, "POST", "/api/v1/accounts", map[string]any{"username": "qiye_test_reg", "name": "测试企业员工", "role": "enterprise",
		"region_code": parts[len(parts)-1], "password": "zhizhi2026x"}), &acct)
	as(t, "hlq_zhihui", 204, "POST", "/api/v1/enterprises/"+got.ID+"/members", map[string]any{"account_id": acct.ID})

	head := "企业名称,统一社会信用代码,地址,网格编码,联系人,联系电话,联络员账号,街道领导账号,规模\n"
	bad := head + fmt.Sprintf("甲公司,%s,企业天地1号楼,%s,张三,13800000000,%s,%s,小型\n", demo.CreditCode(501), grids.Items[0].Code, demo.Liaison, demo.StreetLeader) +
		fmt.Sprintf(",91500103MA60000000,,nope,张三,abc,nobody,%s,巨型\n", demo.StreetLeader)
	st, body = callType(t, token(t, "hlq_zhihui"), "POST", "/api/v1/enterprises/import", "text/csv", bad)
	if st != 400 || fieldList(t, body) != "rows[3].规模,rows[3].企业名称,rows[3].统一社会信用代码,rows[3].地址,rows[3].联系电话,rows[3].网格编码,rows[3].联络员账号" {
		t.Fatalf("import with problems: %d %s", st, body)
	}
	good := head + fmt.Sprintf("甲公司,%s,企业天地1号楼,%s,张三,13800000000,%s,%s,小型\n", demo.CreditCode(501), grids.Items[0].Code, demo.Liaison, demo.StreetLeader)
	var imp struct{ Imported int }
	mustJSON(t, callOK(t, "hlq_zhihui", "POST", "/api/v1/enterprises/import", "text/csv", good), &imp)
	if imp.Imported != 1 {
		t.Errorf("imported %d", imp.Imported)
	}

	svc := map[string]any{"code": "O09", "name": "企业合规咨询", "color": "orange", "category": "JJ07", "unit_id": "sf", "limit": "5wd", "active": true, "order": 30}
	if st, _ := call(t, token(t, "hlq_zhihui"), "PUT", "/api/v1/enterprise/services/O09", svc); st != 403 {
		t.Errorf("a commander changed the catalog: %d", st)
	}
	svc["color"] = "purple"
	if st, body := call(t, token(t, "admin"), "PUT", "/api/v1/enterprise/services/O09", svc); st != 400 || fieldList(t, body) != "color" {
		t.Errorf("a bad colour: %d %s", st, body)
	}
	svc["color"] = "orange"
	as(t, "admin", 200, "PUT", "/api/v1/enterprise/services/O09", svc)
	var all struct{ Items []json.RawMessage }
	mustJSON(t, as(t, "admin", 200, "GET", "/api/v1/enterprise/services?all=true", nil), &all)
	if len(all.Items) != 21 {
		t.Errorf("catalog has %d services", len(all.Items))
	}
}

func callOK(t *testing.T, username, method, path, ctype string, body any) []byte {
	t.Helper()
	st, out := callType(t, token(t, username), method, path, ctype, body)
	if st != 200 {
		t.Fatalf("%s %s: %d %s", method, path, st, out)
	}
	return out
}
