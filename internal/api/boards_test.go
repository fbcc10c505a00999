package api_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/geo"
)

// Community codes of the demo used below.
const (
	xinyingcun = "500103014010" // 新影村社区, 石油路街道
	jiaxicun   = "500103005013" // 嘉西村社区, 上清寺街道
)

// gridUnder returns a grid of a region (a community or a street) and its
// shape, read through the API.
func gridUnder(t *testing.T, code string) (string, geo.MultiPolygon) {
	t.Helper()
	var list struct {
		Items []struct {
			Code string `json:"code"`
		} `json:"items"`
	}
	mustJSON(t, as(t, "admin", 200, "GET", "/api/v1/regions?level=grid&under="+code, nil), &list)
	if len(list.Items) == 0 {
		t.Fatalf("no grid under %s", code)
	}
	var rg struct {
		Shape geo.MultiPolygon `json:"shape"`
	}
	mustJSON(t, as(t, "admin", 200, "GET", "/api/v1/regions/"+list.Items[0].Code, nil), &rg)
	return list.Items[0].Code, rg.Shape
}

// reportAs files a case as username at a point of the region's first grid.
func reportAs(t *testing.T, username, regionCode string, body map[string]any) caseView {
	t.Helper()
	_, shape := gridUnder(t, regionCode)
	p := pointIn(t, shape)
	body["point"] = map[string]float64{"lng": p.Lng, "lat": p.Lat}
	if body["source"] == nil {
		body["source"] = "patrol"
	}
	if body["address"] == nil {
		body["address"] = "测试地址"
	}
	var c caseView
	mustJSON(t, as(t, username, 201, "POST", "/api/v1/cases", body), &c)
	return c
}

// fullCase reads the case as the API returns it, as a generic document.
func fullCase(t *testing.T, username, id string) (map[string]any, []stepView) {
	t.Helper()
	var out struct {
		Case  map[string]any `json:"case"`
		Steps []stepView     `json:"steps"`
	}
	mustJSON(t, as(t, username, 200, "GET", "/api/v1/cases/"+id, nil), &out)
	return out.Case, out.Steps
}

// TestStreetNeverReachesAnotherStreet probes every unit of the installation
// from the 石油路 center, for a street matter and a community matter placed
// in 石油路: only 石油路's own posts and sections, the district's
// departments and (for the community matter) the case's own community are
// taken; every other unit is refused with a reason, and nothing changes.
func TestStreetNeverReachesAnotherStreet(t *testing.T) {
	var units struct {
		Items []struct {
			ID         string `json:"id"`
			Kind       string `json:"kind"`
			RegionPath string `json:"region_path"`
		} `json:"items"`
	}
	mustJSON(t, as(t, "admin", 200, "GET", "/api/v1/units", nil), &units)
	const syl = "/500000/500103/500103014/"
	for _, tc := range []struct{ category, level string }{{"MS07", "street"}, {"MS08", "community"}} {
		c := reportAs(t, "zhouchunyan", xinyingcun, map[string]any{"category": tc.category, "description": "路由探测：" + tc.category})
		c = act(t, "syl_zhihui", c.ID, map[string]any{"action": "accept"})
		allowed := 0
		for _, u := range units.Items {
			want := false
			switch u.Kind {
			case "department":
				want = strings.HasPrefix(syl, u.RegionPath)
			case "post", "section":
				want = u.RegionPath == syl
			case "community":
				want = tc.level == "community" && u.ID == "c-"+xinyingcun
			}
			st, body := call(t, token(t, "syl_zhihui"), "POST", "/api/v1/cases/"+c.ID+"/actions",
				map[string]any{"action": "dispatch", "lead_unit": u.ID, "version": c.Version, "note": "probe"})
			if !want {
				if st != 409 && st != 400 {
					t.Fatalf("%s: dispatch to %s (%s at %s): %d, want refused", tc.category, u.ID, u.Kind, u.RegionPath, st)
				}
				if !strings.Contains(string(body), "不能") && !strings.Contains(string(body), "不存在") {
					t.Errorf("%s to %s: refusal without a reason: %s", tc.category, u.ID, body)
				}
				continue
			}
			if st != 200 {
				t.Fatalf("%s: dispatch to %s: %d %s", tc.category, u.ID, st, body)
			}
			allowed++
			// Take it back to try the next unit: re-dispatched to the
			// street's post, which returns it.
			n := act(t, "syl_zhihui", c.ID, map[string]any{"action": "redispatch", "lead_unit": "syl-ms-a", "note": "探测后改派"})
			act(t, "syl_ms_a", c.ID, map[string]any{"action": "return", "note": "探测结束回退"})
			c, _ = detail(t, "syl_zhihui", n.ID)
		}
		if allowed < 10 {
			t.Errorf("%s: only %d units allowed", tc.category, allowed)
		}
		if final, _ := detail(t, "syl_zhihui", c.ID); final.State != "accepted" {
			t.Errorf("%s after the probe: %s", tc.category, final.State)
		}
	}
}

// TestScenarioS4 plays S4 (上清寺街道 嘉西村社区, old post-office housing,
// leaking roofs): a community matter raised by the community secretary 吴中兰
// is dispatched by the street to the community, which handles it; a council
// with a city deputy and a CPPCC member; parked with approval while the
// repair fund is split; no clock runs while parked; resumed, fed back,
// verified and closed, the record saying why it took long.
func TestScenarioS4(t *testing.T) {
	c := reportAs(t, "wuzhonglan", jiaxicun, map[string]any{"category": "MS08", "source": "resident",
		"address": "嘉西村社区原邮电宿舍", "description": "老旧邮电宿舍无物业，屋顶漏水、下水道堵塞，住户每月都有纠纷，维修资金存在一个账户中无法动用"})
	if c.State != "reported" {
		t.Fatalf("reported: %s", c.State)
	}
	act(t, "sqs_zhihui", c.ID, map[string]any{"action": "accept"})
	// Another street's section is refused; the community takes its own matter.
	refusedAct(t, "sqs_zhihui", c.ID, map[string]any{"action": "dispatch", "lead_unit": "jfb-ms-a"}, 409, "其他街道")
	refusedAct(t, "sqs_zhihui", c.ID, map[string]any{"action": "dispatch", "lead_unit": "c-" + xinyingcun}, 409, "所在社区")
	n := act(t, "sqs_zhihui", c.ID, map[string]any{"action": "dispatch", "lead_unit": "c-" + jiaxicun})
	if n.State != "dispatched" || n.Tasks[0].UnitID != "c-"+jiaxicun {
		t.Fatalf("dispatched: %+v", n)
	}
	act(t, "wuzhonglan", c.ID, map[string]any{"action": "sign"})
	act(t, "sqs_zhihui", c.ID, map[string]any{"action": "meeting", "meeting": map[string]any{
		"kind": "council", "place": "嘉西村社区议事厅",
		"attendees": []map[string]string{{"kind": "expert", "name": "市人大代表"}, {"kind": "expert", "name": "区政协委员"}, {"kind": "resident", "name": "住户代表"}},
		"shown":     "通报屋顶漏水和下水道堵塞情况",
		"decisions": []map[string]any{{"text": "维修资金分户到账后组织维修", "unit_id": "c-" + jiaxicun, "due": plat.Service.Now().Add(60 * 24 * time.Hour).Format(time.RFC3339)}},
	}})
	until := plat.Service.Now().Add(45 * 24 * time.Hour).Format(time.RFC3339)
	act(t, "wuzhonglan", c.ID, map[string]any{"action": "park_request", "until": until, "note": "维修资金正在分户，待资金到位后施工"})
	n = act(t, "sqs_zhihui", c.ID, map[string]any{"action": "park_approve"})
	if n.State != "parked" {
		t.Fatalf("after approval: %s", n.State)
	}
	// A month passes while parked: nothing turns red.
	sweepAt(t, plat.Service.Now().Add(30*24*time.Hour))
	doc, steps := fullCase(t, "wuzhonglan", c.ID)
	if doc["overdue"] == true {
		t.Error("parked case shown overdue")
	}
	for _, s := range steps {
		if s.Action == "warn" {
			t.Errorf("a warning fired while parked: %+v", s)
		}
	}
	act(t, "wuzhonglan", c.ID, map[string]any{"action": "resume"})
	act(t, "wuzhonglan", c.ID, map[string]any{"action": "decision_done", "decision_id": "d1", "note": "资金已分户到账"})
	p := upload(t, "wuzhonglan", 120)
	act(t, "wuzhonglan", c.ID, map[string]any{"action": "feedback", "note": "屋顶防水和下水管道维修完成", "photos": []photoRef{{Hash: p.Hash}}})
	n = act(t, "sqs_zhihui", c.ID, map[string]any{"action": "verify", "passed": true, "note": "回访住户，已不漏水"})
	if n.State != "closed" || n.WasOverdue || n.Tasks[0].State != "done" {
		t.Fatalf("closed: %s was overdue %v tasks %+v", n.State, n.WasOverdue, n.Tasks)
	}
	_, steps = fullCase(t, "sqs_zhihui", c.ID)
	var actions []string
	for _, s := range steps {
		actions = append(actions, s.Action)
	}
	want := "report,accept,dispatch,sign,meeting,park_request,park_approve,resume,decision_done,feedback,verify"
	if got := strings.Join(actions, ","); got != want {
		t.Errorf("timeline %s, want %s", got, want)
	}
}

// TestScenarioS5 plays S5 (菜园坝街道, 菜袁路107号、109号): a fire risk the
// street handles on its safety board with the fire service as co-unit; a
// residents' congress with fire experts; the milestones as the congress's
// decisions with due dates, each carried out in the timeline.
func TestScenarioS5(t *testing.T) {
	c := reportAs(t, "cyb_zhihui", "500103007", map[string]any{"category": "AQ03", "source": "patrol",
		"address": "菜袁路107号、109号", "description": "两栋二十多年楼龄的住宅新风系统损坏，存在消防隐患"})
	act(t, "cyb_zhihui", c.ID, map[string]any{"action": "accept"})
	act(t, "cyb_zhihui", c.ID, map[string]any{"action": "dispatch", "lead_unit": "cyb-pa-a", "co_units": []string{"xf"}})
	act(t, "cyb_pa_a", c.ID, map[string]any{"action": "sign"})
	act(t, "xf_staff", c.ID, map[string]any{"action": "sign"})
	day := func(n int) string {
		return plat.Service.Now().Add(time.Duration(n) * 24 * time.Hour).Format(time.RFC3339)
	}
	act(t, "cyb_zhihui", c.ID, map[string]any{"action": "meeting", "meeting": map[string]any{
		"kind": "congress", "place": "菜袁路107号院坝",
		"attendees": []map[string]string{{"kind": "resident", "name": "107号住户代表"}, {"kind": "resident", "name": "109号住户代表"},
			{"kind": "expert", "name": "消防专家"}, {"kind": "unit", "unit_id": "xf"}},
		"shown": "消防专家讲解新风系统损坏带来的火灾隐患",
		"decisions": []map[string]any{
			{"text": "表决通过维修资金使用方案", "unit_id": "cyb-pa-a", "due": day(3)},
			{"text": "完成四套新风系统安装", "unit_id": "cyb-pa-a", "due": day(21)},
			{"text": "消防验收", "unit_id": "xf", "due": day(22)},
		},
	}})
	act(t, "cyb_pa_a", c.ID, map[string]any{"action": "decision_done", "decision_id": "d1", "note": "维修资金使用方案已表决通过"})
	act(t, "cyb_pa_a", c.ID, map[string]any{"action": "handle", "note": "施工单位进场，已安装两套"})
	act(t, "cyb_pa_a", c.ID, map[string]any{"action": "decision_done", "decision_id": "d2", "note": "四套新风系统安装完成"})
	act(t, "xf_staff", c.ID, map[string]any{"action": "decision_done", "decision_id": "d3", "note": "消防验收合格"})
	p := upload(t, "xf_staff", 90)
	act(t, "xf_staff", c.ID, map[string]any{"action": "feedback", "note": "验收合格", "photos": []photoRef{{Hash: p.Hash}}})
	act(t, "cyb_pa_a", c.ID, map[string]any{"action": "feedback", "note": "新风系统全部恢复运行，隐患消除", "photos": []photoRef{{Hash: p.Hash}}})
	n := act(t, "cyb_zhihui", c.ID, map[string]any{"action": "verify", "passed": true, "note": "现场核查通过"})
	if n.State != "closed" {
		t.Fatalf("closed: %s", n.State)
	}
	for _, tk := range n.Tasks {
		if tk.State != "done" {
			t.Errorf("task %s %s", tk.UnitID, tk.State)
		}
	}
	_, steps := fullCase(t, "cyb_zhihui", c.ID)
	done := 0
	for _, s := range steps {
		if s.Action == "decision_done" {
			done++
		}
	}
	if done != 3 {
		t.Errorf("%d milestones carried out in the timeline, want 3", done)
	}
}

// TestScenarioS6 plays S6 (肖家沟小学's surroundings): a district matter the
// street may not dispatch; it escalates; the district researches on site,
// holds a council and dispatches across to its departments; it may not hand
// the matter back down, because it is not on the street's list.
func TestScenarioS6(t *testing.T) {
	c := reportAs(t, "qxg_zhihui", "500103001", map[string]any{"category": "MS17", "source": "hotline",
		"reporter": map[string]string{"name": "肖家沟小学", "phone": "02363001935"},
		"address":  "肖家沟小学周边", "description": "学校周边植物腐烂、装修垃圾堆放、围墙破损"})
	act(t, "qxg_zhihui", c.ID, map[string]any{"action": "accept"})
	refusedAct(t, "qxg_zhihui", c.ID, map[string]any{"action": "dispatch", "lead_unit": "qxg-ms-a"}, 409, "区级事项", "上提")
	refusedAct(t, "qxg_zhihui", c.ID, map[string]any{"action": "dispatch", "lead_unit": "jw"}, 409, "区级事项")
	act(t, "qxg_zhihui", c.ID, map[string]any{"action": "escalate", "note": "学校周边环境属区级事项，上提区指挥中心"})
	refusedAct(t, "qu_zhihui", c.ID, map[string]any{"action": "hand_down", "note": "交街道办理"}, 409, "不在下级的清单内")
	act(t, "qu_zhihui", c.ID, map[string]any{"action": "meeting", "meeting": map[string]any{
		"kind": "council", "place": "肖家沟小学",
		"attendees": []map[string]string{{"kind": "unit", "unit_id": "jw"}, {"kind": "unit", "unit_id": "cg"}, {"kind": "unit", "unit_id": "zj"}},
		"shown":     "现场调研学校周边环境，形成整治方案",
	}})
	refusedAct(t, "qu_zhihui", c.ID, map[string]any{"action": "dispatch", "lead_unit": "qxg-ms-a"}, 409, "不能下派")
	n := act(t, "qu_zhihui", c.ID, map[string]any{"action": "dispatch", "lead_unit": "jw", "co_units": []string{"cg", "zj"}})
	if n.State != "dispatched" || len(n.Tasks) != 3 {
		t.Fatalf("dispatched: %+v", n)
	}
	// The street still sees the case it raised, but no longer acts on it.
	refusedAct(t, "qxg_zhihui", c.ID, map[string]any{"action": "redispatch", "lead_unit": "qxg-ms-a", "note": "x"}, 409)
	p := upload(t, "cg_staff", 30)
	for _, u := range []string{"jw", "cg", "zj"} {
		act(t, ensureStaff(t, u), c.ID, map[string]any{"action": "sign"})
	}
	for _, u := range []string{"cg", "zj", "jw"} {
		act(t, ensureStaff(t, u), c.ID, map[string]any{"action": "feedback", "note": "已整治", "photos": []photoRef{{Hash: p.Hash}}})
	}
	n = act(t, "qu_zhihui", c.ID, map[string]any{"action": "verify", "passed": true, "note": "整治完成"})
	if n.State != "closed" {
		t.Fatalf("closed: %s", n.State)
	}
	doc, _ := fullCase(t, "qu_zhihui", c.ID)
	if rule, _ := doc["rule"].(map[string]any); rule["level"] != "district" || rule["category"] != "MS17" {
		t.Errorf("the case keeps the rule it was routed under: %v", doc["rule"])
	}
}

// ensureStaff creates (once) a staff account for a department the demo has
// none for, and returns its username.
func ensureStaff(t *testing.T, unit string) string {
	t.Helper()
	name := unit + "_staff"
	st, _ := call(t, token(t, "admin"), "POST", "/api/v1/accounts", map[string]any{
		"username": name, "name": unit + "工作人员", "role": "unit", "unit_id": unit, "password": "zhizhi2026"})
	if st != 201 && st != 200 && st != 400 && st != 409 {
		t.Fatalf("create %s: %d", name, st)
	}
	return name
}

// TestHandDownStreetMatter: a street matter escalated by mistake is handed
// down by the district to the street, which then dispatches it to its post.
func TestHandDownStreetMatter(t *testing.T) {
	c := reportAs(t, "zhouchunyan", xinyingcun, map[string]any{"category": "MS07", "description": "交办测试：下水道堵塞"})
	act(t, "syl_zhihui", c.ID, map[string]any{"action": "accept"})
	act(t, "syl_zhihui", c.ID, map[string]any{"action": "escalate", "note": "请区中心协调"})
	refusedAct(t, "qu_zhihui", c.ID, map[string]any{"action": "hand_down"}, 400, `"field":"note"`)
	act(t, "qu_zhihui", c.ID, map[string]any{"action": "hand_down", "note": "属街道清单事项，交石油路街道办理"})
	_, steps := fullCase(t, "syl_zhihui", c.ID)
	last := steps[len(steps)-1]
	if last.Action != "hand_down" || fmt.Sprint(last.Data["to_center"]) != "/500000/500103/500103014/" {
		t.Fatalf("hand down step %+v", last)
	}
	act(t, "syl_zhihui", c.ID, map[string]any{"action": "dispatch", "lead_unit": "syl-ms-a"})
	// The board head sees the post's case; another board's head does not.
	as(t, "syl_ms_head", 200, "GET", "/api/v1/cases/"+c.ID, nil)
	as(t, "syl_pa_head", 404, "GET", "/api/v1/cases/"+c.ID, nil)
	var list struct {
		Items []caseView `json:"items"`
	}
	mustJSON(t, as(t, "syl_ms_head", 200, "GET", "/api/v1/cases?limit=500", nil), &list)
	found := false
	for _, it := range list.Items {
		found = found || it.ID == c.ID
	}
	if !found {
		t.Error("the board head's listing lacks the post's case")
	}
	// The head sees but does not act for the post.
	refusedAct(t, "syl_ms_head", c.ID, map[string]any{"action": "sign"}, 409, "不是该案件的承办单位")
}

// TestCommunityStaff: the community secretary sees the community's cases,
// handles what is dispatched to the community, and may return a street
// matter to the street with a reason.
func TestCommunityStaff(t *testing.T) {
	c := reportAs(t, "zhouchunyan", xinyingcun, map[string]any{"category": "MS19", "description": "社区测试：居民咨询"})
	as(t, "xyc_shuji", 200, "GET", "/api/v1/cases/"+c.ID, nil)
	as(t, "wuzhonglan", 404, "GET", "/api/v1/cases/"+c.ID, nil)
	act(t, "syl_zhihui", c.ID, map[string]any{"action": "accept"})
	act(t, "syl_zhihui", c.ID, map[string]any{"action": "dispatch", "lead_unit": "c-" + xinyingcun})
	act(t, "xyc_shuji", c.ID, map[string]any{"action": "sign"})
	refusedAct(t, "xyc_shuji", c.ID, map[string]any{"action": "return"}, 400, `"field":"note"`)
	n := act(t, "xyc_shuji", c.ID, map[string]any{"action": "return", "note": "需街道协调多个部门，退回街道"})
	if n.State != "accepted" {
		t.Fatalf("after return: %s", n.State)
	}
}

// TestOnSpotOutsideOwnGrid: a grid worker reporting a point in another
// street as solved on the spot is refused; in their own grid it closes.
func TestOnSpotOutsideOwnGrid(t *testing.T) {
	p := upload(t, "zhouchunyan", 140)
	_, shape := gridUnder(t, "500103012") // 大坪街道
	pt := pointIn(t, shape)
	st, body := call(t, token(t, "zhouchunyan"), "POST", "/api/v1/cases", map[string]any{
		"source": "patrol", "category": "MS03", "point": map[string]float64{"lng": pt.Lng, "lat": pt.Lat}, "address": "大坪某处",
		"description": "就地解决测试", "solved_on_spot": true, "photos": []photoRef{{Hash: p.Hash}}})
	if st != 400 || !strings.Contains(string(body), `"field":"point"`) || !strings.Contains(string(body), "不在您负责的网格内") {
		t.Fatalf("on the spot in 大坪: %d %s", st, body)
	}
	_, own := gridOf(t, "zhouchunyan")
	pt = pointIn(t, own)
	var c caseView
	mustJSON(t, as(t, "zhouchunyan", 201, "POST", "/api/v1/cases", map[string]any{
		"source": "patrol", "category": "MS03", "point": map[string]float64{"lng": pt.Lng, "lat": pt.Lat}, "address": "新影村某处",
		"description": "就地解决测试", "solved_on_spot": true, "photos": []photoRef{{Hash: p.Hash}}}), &c)
	if c.State != "closed" {
		t.Fatalf("on the spot in own grid: %s", c.State)
	}
}

// TestEnterpriseReportLandsInItsStreet: an enterprise's report without a
// point lands at its own street's center, never silently at the district.
func TestEnterpriseReportLandsInItsStreet(t *testing.T) {
	var c struct {
		CenterPath string `json:"center_path"`
		RegionPath string `json:"region_path"`
	}
	mustJSON(t, as(t, "qiye", 201, "POST", "/api/v1/cases", map[string]any{
		"source": "enterprise", "category": "JJ01", "address": "化龙桥某写字楼", "description": "企业咨询稳岗补贴政策"}), &c)
	if c.CenterPath != "/500000/500103/500103013/" {
		t.Fatalf("enterprise report landed at %q", c.CenterPath)
	}
}

// TestBoardsAndAudit: the boards API lists a street's four boards with two
// posts and a section each and their staff; an administrator's changes to
// units and to the library are refused when wrong and audited when made; a
// case keeps the library version it was dispatched under.
func TestBoardsAndAudit(t *testing.T) {
	var boards struct {
		Items []struct {
			Board string `json:"board"`
			Unit  *struct {
				ID string `json:"id"`
			} `json:"unit"`
			Heads []struct{ Username string } `json:"heads"`
			Posts []struct {
				Unit  struct{ ID string }         `json:"unit"`
				Staff []struct{ Username string } `json:"staff"`
			} `json:"posts"`
			Sections []struct {
				Unit struct{ ID string } `json:"unit"`
			} `json:"sections"`
		} `json:"items"`
	}
	mustJSON(t, as(t, "syl_zhihui", 200, "GET", "/api/v1/boards", nil), &boards)
	if len(boards.Items) != 4 {
		t.Fatalf("%d boards", len(boards.Items))
	}
	for _, b := range boards.Items {
		if b.Unit == nil || len(b.Posts) != 2 || len(b.Sections) != 1 || len(b.Heads) != 1 || len(b.Posts[0].Staff) != 1 {
			t.Errorf("board %s: %+v", b.Board, b)
		}
	}
	as(t, "admin", 400, "GET", "/api/v1/boards?street=500103014010", nil) // a community, not a street

	// A post under another street's board is refused, naming the field.
	body := as(t, "admin", 400, "PUT", "/api/v1/units/syl-ms-c", map[string]any{
		"name": "石油路街道民生服务板块C岗", "kind": "post", "board": "services", "parent": "jfb-ms-bk",
		"region_path": "/500000/500103/500103014/", "active": true})
	if !strings.Contains(string(body), `"field":"parent"`) {
		t.Fatalf("post under another street's board: %s", body)
	}
	unit := map[string]any{"name": "石油路街道民生服务板块C岗", "kind": "post", "board": "services", "parent": "syl-ms-bk",
		"region_path": "/500000/500103/500103014/", "active": true}
	as(t, "admin", 200, "PUT", "/api/v1/units/syl-ms-c", unit)
	unit["name"] = "石油路街道民生服务板块C岗（夜班）"
	as(t, "admin", 200, "PUT", "/api/v1/units/syl-ms-c", unit)
	var log struct {
		Items []struct {
			Action    string          `json:"action"`
			ActorName string          `json:"actor_name"`
			Before    json.RawMessage `json:"before"`
			After     json.RawMessage `json:"after"`
		} `json:"items"`
	}
	mustJSON(t, as(t, "admin", 200, "GET", "/api/v1/audit?kind=unit&object_id=syl-ms-c", nil), &log)
	if len(log.Items) != 2 || log.Items[0].Action != "update" || log.Items[1].Action != "create" || log.Items[0].ActorName == "" ||
		!strings.Contains(string(log.Items[0].Before), "C岗\"") || !strings.Contains(string(log.Items[0].After), "夜班") {
		t.Fatalf("audit %+v", log.Items)
	}
	as(t, "syl_zhihui", 403, "GET", "/api/v1/audit", nil)

	// A case dispatched under version v keeps it after the entry changes.
	c := reportAs(t, "zhouchunyan", xinyingcun, map[string]any{"category": "MS12", "description": "版本测试：施工噪音"})
	act(t, "syl_zhihui", c.ID, map[string]any{"action": "accept"})
	act(t, "syl_zhihui", c.ID, map[string]any{"action": "dispatch", "lead_unit": "syl-ms-a"})
	before, _ := fullCase(t, "syl_zhihui", c.ID)
	var cats struct {
		Items []map[string]any `json:"items"`
	}
	mustJSON(t, as(t, "admin", 200, "GET", "/api/v1/categories", nil), &cats)
	var ms12 map[string]any
	for _, x := range cats.Items {
		if x["code"] == "MS12" {
			ms12 = x
		}
	}
	ms12["level"] = "district"
	var saved map[string]any
	mustJSON(t, as(t, "admin", 200, "PUT", "/api/v1/categories/MS12", ms12), &saved)
	defer func() {
		ms12["level"] = "street"
		as(t, "admin", 200, "PUT", "/api/v1/categories/MS12", ms12)
	}()
	after, _ := fullCase(t, "syl_zhihui", c.ID)
	rb, ra := before["rule"].(map[string]any), after["rule"].(map[string]any)
	if rb["level"] != "street" || ra["level"] != "street" || ra["version"] != rb["version"] {
		t.Errorf("rule before %v after %v", rb, ra)
	}
	mustJSON(t, as(t, "admin", 200, "GET", "/api/v1/audit?kind=category&object_id=MS12", nil), &log)
	if len(log.Items) == 0 || !strings.Contains(string(log.Items[0].After), `"level":"district"`) {
		t.Errorf("category audit %+v", log.Items)
	}
	// Staffing a post is audited too, without the password.
	var acct struct {
		ID string `json:"id"`
	}
	mustJSON(t, as(t, "admin", 201, "POST", "/api/v1/accounts", map[string]any{
		"username": "syl_ms_c", "name": "C岗值班员", "role": "unit", "unit_id": "syl-ms-c", "password": "zhizhi2026"}), &acct)
	as(t, "admin", 200, "PATCH", "/api/v1/accounts/"+acct.ID, map[string]any{"unit_id": "syl-ms-b"})
	mustJSON(t, as(t, "admin", 200, "GET", "/api/v1/audit?kind=account&object_id="+acct.ID, nil), &log)
	if len(log.Items) != 2 || log.Items[0].Action != "update" || !strings.Contains(string(log.Items[0].Before), "syl-ms-c") ||
		!strings.Contains(string(log.Items[0].After), "syl-ms-b") || strings.Contains(string(log.Items[1].After), "argon") {
		t.Errorf("account audit %+v", log.Items)
	}

	// Now a district matter: a new MS12 case cannot be dispatched by the street.
	c2 := reportAs(t, "zhouchunyan", xinyingcun, map[string]any{"category": "MS12", "description": "版本测试：夜间施工"})
	act(t, "syl_zhihui", c2.ID, map[string]any{"action": "accept"})
	refusedAct(t, "syl_zhihui", c2.ID, map[string]any{"action": "dispatch", "lead_unit": "syl-ms-a"}, 409, "区级事项")
}

// TestSetUpBoards: the demo's streets have their boards already; only an
// administrator sets boards up, for a street, district or city.
func TestSetUpBoards(t *testing.T) {
	var out struct {
		Created []struct {
			ID   string `json:"id"`
			Kind string `json:"kind"`
		} `json:"created"`
	}
	mustJSON(t, as(t, "admin", 200, "POST", "/api/v1/boards", map[string]any{"region": "500103014"}), &out)
	if len(out.Created) != 0 {
		t.Fatalf("石油路 already has its boards, created %+v", out.Created)
	}
	as(t, "admin", 400, "POST", "/api/v1/boards", map[string]any{"region": "500103014010"})
	as(t, "syl_zhihui", 403, "POST", "/api/v1/boards", map[string]any{"region": "500103014"})
	// A new street's set-up is tested in the service's own suite.
}

// TestInputsNoEngineDisagreesOn: a NUL byte, an empty point, a version of 0
// and unknown board or source filters are 400 with the field named, and
// change nothing.
func TestInputsNoEngineDisagreesOn(t *testing.T) {
	_, shape := gridOf(t, "zhouchunyan")
	p := pointIn(t, shape)
	for name, tc := range map[string]struct {
		body  map[string]any
		field string
	}{
		"NUL":         {map[string]any{"description": "井盖\u0000缺失", "point": map[string]float64{"lng": p.Lng, "lat": p.Lat}}, "description"},
		"empty point": {map[string]any{"description": "井盖缺失", "point": map[string]float64{}}, "point"},
	} {
		body := map[string]any{"source": "patrol", "category": "MS07", "address": "测试"}
		for k, v := range tc.body {
			body[k] = v
		}
		st, b := call(t, token(t, "zhouchunyan"), "POST", "/api/v1/cases", body)
		if st != 400 || !strings.Contains(string(b), `"field":"`+tc.field+`"`) {
			t.Errorf("%s: %d %s", name, st, b)
		}
	}
	c := reportAs(t, "zhouchunyan", xinyingcun, map[string]any{"category": "MS07", "description": "版本号测试"})
	refusedAct(t, "syl_zhihui", c.ID, map[string]any{"action": "accept", "version": 0}, 400, `"field":"version"`)
	refusedAct(t, "syl_zhihui", c.ID, map[string]any{"action": "accept", "version": -3}, 400, `"field":"version"`)
	if got, _ := detail(t, "syl_zhihui", c.ID); got.State != "reported" {
		t.Fatalf("a refused action changed the case: %s", got.State)
	}
	act(t, "syl_zhihui", c.ID, map[string]any{"action": "accept", "version": c.Version})
	for _, q := range []string{"board=roads", "source=fax"} {
		st, b := call(t, token(t, "syl_zhihui"), "GET", "/api/v1/cases?"+q, nil)
		if st != 400 || !strings.Contains(string(b), `"field":"`+strings.Split(q, "=")[0]+`"`) {
			t.Errorf("%s: %d %s", q, st, b)
		}
	}
	as(t, "syl_zhihui", 200, "GET", "/api/v1/cases?board=services&source=patrol", nil)
}

// TestScenarioS9LateParty: a party that reports in late, and one that never
// comes, count against them in the evaluation (S9): the units' 按时报到率
// shows the late and absent summons, from the rollups.
func TestScenarioS9LateParty(t *testing.T) {
	c := reportAs(t, "zhouchunyan", xinyingcun, map[string]any{"category": "MS07", "description": "S9测试：下水道堵塞多部门联动"})
	act(t, "syl_zhihui", c.ID, map[string]any{"action": "accept"})
	ensureStaff(t, "gh")
	ensureStaff(t, "yb")
	n := wact(t, "syl_zhihui", c.ID, map[string]any{"action": "whistle", "note": "需规划、医保部门到场",
		"parties": []map[string]string{{"unit_id": "gh"}, {"unit_id": "yb"}}})
	due := n.Whistles[len(n.Whistles)-1].Parties[0].ReportIn.Due
	sweepAt(t, due.Add(time.Minute)) // both miss the 30 minutes
	wact(t, "gh_staff", c.ID, map[string]any{"action": "report_in"})
	act(t, "syl_zhihui", c.ID, map[string]any{"action": "dispatch", "lead_unit": "syl-ms-a"})
	act(t, "syl_ms_a", c.ID, map[string]any{"action": "sign"})
	p := upload(t, "syl_ms_a", 77)
	act(t, "syl_ms_a", c.ID, map[string]any{"action": "feedback", "note": "已疏通", "photos": []photoRef{{Hash: p.Hash}}})
	act(t, "syl_zhihui", c.ID, map[string]any{"action": "verify", "passed": true, "note": "已核查"})
	if _, err := plat.Service.Roll(t.Context(), plat.Service.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	var r rankingView
	mustJSON(t, as(t, "qu_zhihui", 200, "GET", "/api/v1/evaluation?kind=unit&under=500103&period="+plat.Service.Now().In(time.FixedZone("CST", 8*3600)).Format("2006-01"), nil), &r)
	got := map[string]string{}
	for _, it := range r.Items {
		for _, f := range it.Figures {
			if f.Indicator == "report_in_rate" {
				got[it.Subject] = fmt.Sprintf("%d/%d", f.Num, f.Den)
			}
		}
	}
	if got["gh"] != "0/1" || got["yb"] != "0/1" {
		t.Fatalf("按时报到率: gh %q, yb %q, want 0/1 each (late, absent)", got["gh"], got["yb"])
	}
}
