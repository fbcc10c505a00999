package api_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/api"
	"zhizhi/internal/cases"
)

// Views of whistles and meetings, as the tests read them.
type partyView struct {
	Key       string `json:"key"`
	UnitID    string `json:"unit_id"`
	AccountID string `json:"account_id"`
	Name      string `json:"name"`
	Title     string `json:"title"`
	ReportIn  struct {
		Due     time.Time `json:"due"`
		Stopped time.Time `json:"stopped"`
	} `json:"report_in"`
	ReportedAt time.Time `json:"reported_at"`
	OnSite     bool      `json:"on_site"`
	Distance   float64   `json:"distance"`
	Late       bool      `json:"late"`
	Urges      int       `json:"urges"`
	Rating     string    `json:"rating"`
	LeftAt     time.Time `json:"left_at"`
}

type whistleView struct {
	ID            string      `json:"id"`
	Kind          string      `json:"kind"`
	InitiatorID   string      `json:"initiator_id"`
	InitiatorName string      `json:"initiator_name"`
	Reason        string      `json:"reason"`
	Parties       []partyView `json:"parties"`
}

type meetingView struct {
	ID        string `json:"id"`
	Kind      string `json:"kind"`
	WhistleID string `json:"whistle_id"`
	Place     string `json:"place"`
	Shown     string `json:"shown"`
	Attendees []struct {
		Kind      string `json:"kind"`
		Name      string `json:"name"`
		UnitID    string `json:"unit_id"`
		AccountID string `json:"account_id"`
		Title     string `json:"title"`
	} `json:"attendees"`
	Decisions []struct {
		ID       string    `json:"id"`
		UnitID   string    `json:"unit_id"`
		UnitName string    `json:"unit_name"`
		Due      time.Time `json:"due"`
		Done     bool      `json:"done"`
		Clock    struct {
			Stopped time.Time `json:"stopped"`
		} `json:"clock"`
	} `json:"decisions"`
}

type wCase struct {
	caseView
	Point    map[string]float64 `json:"point"`
	Whistles []whistleView      `json:"whistles"`
	Meetings []meetingView      `json:"meetings"`
}

func (c wCase) party(t *testing.T, wid, key string) partyView {
	t.Helper()
	for _, w := range c.Whistles {
		if w.ID != wid {
			continue
		}
		for _, p := range w.Parties {
			if p.Key == key {
				return p
			}
		}
	}
	t.Fatalf("case %s has no party %s in %s: %+v", c.ID, key, wid, c.Whistles)
	return partyView{}
}

func wdetail(t *testing.T, username, id string) (wCase, []stepView) {
	t.Helper()
	var out struct {
		Case  wCase      `json:"case"`
		Steps []stepView `json:"steps"`
	}
	mustJSON(t, as(t, username, 200, "GET", "/api/v1/cases/"+id, nil), &out)
	return out.Case, out.Steps
}

func wact(t *testing.T, username, id string, cmd map[string]any) wCase {
	t.Helper()
	var out struct {
		Case wCase `json:"case"`
	}
	mustJSON(t, as(t, username, 200, "POST", "/api/v1/cases/"+id+"/actions", cmd), &out)
	return out.Case
}

// refusedAct takes an action that must fail with the status, and the body
// must contain every string of want.
func refusedAct(t *testing.T, username, id string, cmd map[string]any, status int, want ...string) {
	t.Helper()
	body := as(t, username, status, "POST", "/api/v1/cases/"+id+"/actions", cmd)
	for _, w := range want {
		if !strings.Contains(string(body), w) {
			t.Fatalf("%s %v: %s lacks %q", username, cmd["action"], body, w)
		}
	}
}

// sweepAt runs the clock sweeper as if it were at: the harness's service
// clock is the real one, so a late party is made by sweeping in the future.
func sweepAt(t *testing.T, at time.Time) {
	t.Helper()
	if _, err := plat.Service.Sweep(context.Background(), at, 500); err != nil {
		t.Fatalf("sweep: %v", err)
	}
}

// accountIDs maps demo usernames to account IDs.
func accountIDs(t *testing.T) map[string]string {
	t.Helper()
	var list struct {
		Items []struct {
			ID       string `json:"id"`
			Username string `json:"username"`
		} `json:"items"`
	}
	mustJSON(t, as(t, "admin", 200, "GET", "/api/v1/accounts", nil), &list)
	out := map[string]string{}
	for _, a := range list.Items {
		out[a.Username] = a.ID
	}
	return out
}

func stepsOf(steps []stepView, action string) []stepView {
	var out []stepView
	for _, s := range steps {
		if s.Action == action {
			out = append(out, s)
		}
	}
	return out
}

const leaveRefused = "事不完、人不撤：案件办结前不能退出"

// TestScenarioS1Whistle plays S1 with its whistle: the 石油路 commander
// whistles emergency management, market supervision and fire; two report in
// on site, market supervision only after its 30 minutes ran out (red card); a
// dispatch meeting on site decides the removal within 48 hours; the hazard is
// removed, verified, the case closes on time, and the commander rates each
// summoned unit.
func TestScenarioS1Whistle(t *testing.T) {
	c := report(t, nil)
	id := c.ID
	act(t, "syl_zhihui", id, map[string]any{"action": "accept", "severity": "urgent"})
	act(t, "syl_zhihui", id, map[string]any{"action": "dispatch", "lead_unit": "yj", "co_units": []string{"scjg", "xf"}})

	n := wact(t, "syl_zhihui", id, map[string]any{"action": "whistle", "kind": "street",
		"note":    "商铺拟使用醇基燃料（危险化学品），吹哨应急管理、市场监管、消防到场",
		"parties": []map[string]string{{"unit_id": "yj"}, {"unit_id": "scjg"}, {"unit_id": "xf"}}})
	if len(n.Whistles) != 1 || n.Whistles[0].ID != "w1" || n.Whistles[0].Kind != "street" || len(n.Whistles[0].Parties) != 3 {
		t.Fatalf("whistle: %+v", n.Whistles)
	}
	w := n.Whistles[0]
	if w.InitiatorName != "石油路街道值班指挥长" || w.Parties[0].Name != "区应急管理局" || w.Parties[1].Key != "unit:scjg" {
		t.Fatalf("whistle %+v", w)
	}
	due := w.Parties[1].ReportIn.Due
	if limit := due.Sub(plat.Service.Now()); limit < 29*time.Minute || limit > 30*time.Minute {
		t.Fatalf("report-in due in %v, want 30 minutes", limit)
	}
	for _, u := range []string{"yj_staff", "scjg_staff", "xf_staff"} {
		act(t, u, id, map[string]any{"action": "sign"})
	}
	// Emergency management and fire report in on site.
	for _, u := range []string{"yj_staff", "xf_staff"} {
		wact(t, u, id, map[string]any{"action": "report_in", "point": n.Point})
	}
	// 事不完、人不撤: fire cannot leave while the case is open.
	refusedAct(t, "xf_staff", id, map[string]any{"action": "leave"}, 409, leaveRefused)

	// Market supervision misses its 30 minutes: the sweeper shows it red.
	sweepAt(t, due.Add(time.Minute))
	n, steps := wdetail(t, "syl_zhihui", id)
	if p := n.party(t, "w1", "unit:scjg"); !p.Late || p.Urges != 1 || !p.ReportedAt.IsZero() {
		t.Fatalf("scjg after its limit: %+v", p)
	}
	var red []stepView
	for _, s := range stepsOf(steps, "warn") {
		if s.Data["clock"] == "whistle:w1:unit:scjg:report_in" {
			red = append(red, s)
		}
	}
	if len(red) != 1 || red[0].Data["level"] != "red" || red[0].Data["party"] != "区市场监管局" || !strings.Contains(red[0].Note, "仍未报到") {
		t.Fatalf("warnings on scjg's report-in clock: %+v", red)
	}
	// A second sweep fires nothing more for it.
	sweepAt(t, due.Add(2*time.Minute))
	if _, again := wdetail(t, "syl_zhihui", id); len(again) != len(steps) {
		t.Fatalf("second sweep added %d steps", len(again)-len(steps))
	}
	n = wact(t, "scjg_staff", id, map[string]any{"action": "report_in", "whistle_id": "w1", "point": n.Point})
	if p := n.party(t, "w1", "unit:scjg"); !p.Late || p.ReportedAt.IsZero() || !p.OnSite {
		t.Fatalf("scjg reported in: %+v", p)
	}
	refusedAct(t, "scjg_staff", id, map[string]any{"action": "report_in"}, 409, "已报到")

	// The dispatch meeting on site, on the whistle: its parties attend.
	dueBy := plat.Service.Now().Add(48 * time.Hour).Truncate(time.Second)
	n = wact(t, "syl_zhihui", id, map[string]any{"action": "meeting", "whistle_id": "w1", "note": "现场调度会",
		"meeting": map[string]any{"kind": "dispatch", "place": "新影村社区某餐饮店现场",
			"shown":     "宣读危化品管理告知书，通报醇基燃料警示案例",
			"attendees": []map[string]string{{"kind": "resident", "name": "商铺负责人"}},
			"decisions": []map[string]any{{"text": "48小时内拆除醇基燃料设备，改用合规灶具", "unit_id": "yj", "due": dueBy.Format(time.RFC3339)}},
		}})
	m := n.Meetings[0]
	var who []string
	for _, a := range m.Attendees {
		who = append(who, a.Kind+":"+a.Name)
	}
	if want := []string{"unit:区应急管理局", "unit:区市场监管局", "unit:区消防救援支队", "resident:商铺负责人"}; !slices.Equal(who, want) {
		t.Fatalf("attendees %v, want %v", who, want)
	}
	if m.ID != "m1" || m.Kind != "dispatch" || m.WhistleID != "w1" || len(m.Decisions) != 1 || m.Decisions[0].UnitName != "区应急管理局" || !m.Decisions[0].Due.Equal(dueBy) {
		t.Fatalf("meeting %+v", m)
	}
	refusedAct(t, "scjg_staff", id, map[string]any{"action": "decision_done", "decision_id": "d1"}, 409, "没有待落实的会议决定")
	n = wact(t, "yj_staff", id, map[string]any{"action": "decision_done", "decision_id": "d1", "note": "设备已拆除，改用电能灶具"})
	if d := n.Meetings[0].Decisions[0]; !d.Done || d.Clock.Stopped.IsZero() {
		t.Fatalf("decision %+v", d)
	}

	// Rectified, fed back, verified, closed on time.
	for _, u := range []string{"scjg_staff", "xf_staff", "yj_staff"} {
		act(t, u, id, map[string]any{"action": "feedback", "note": u + " 已处置"})
	}
	refusedAct(t, "syl_zhihui", id, map[string]any{"action": "rate_party", "whistle_id": "w1", "party_key": "unit:yj", "rating": "satisfied"}, 409, "待核查")
	n = wact(t, "zhouchunyan", id, map[string]any{"action": "verify", "passed": true, "note": "现场核查：设备已拆除"})
	if n.State != "closed" || n.WasOverdue {
		t.Fatalf("after verify: %s, was overdue %v", n.State, n.WasOverdue)
	}
	// Now fire may leave.
	n = wact(t, "xf_staff", id, map[string]any{"action": "leave"})
	if n.party(t, "w1", "unit:xf").LeftAt.IsZero() {
		t.Fatal("leave not recorded")
	}

	// The initiator rates each party, once; the grid worker did not whistle.
	refusedAct(t, "zhouchunyan", id, map[string]any{"action": "rate_party", "whistle_id": "w1", "party_key": "unit:yj", "rating": "satisfied"}, 409, "只有吹哨人或指挥中心")
	ratings := map[string]string{"unit:yj": "satisfied", "unit:scjg": "basic_satisfied", "unit:xf": "satisfied"}
	refusedAct(t, "syl_zhihui", id, map[string]any{"action": "rate_party", "whistle_id": "w1", "party_key": "unit:cg", "rating": "unsatisfied"}, 400, "party_key")
	for _, key := range []string{"unit:yj", "unit:scjg", "unit:xf"} {
		act(t, "syl_zhihui", id, map[string]any{"action": "rate_party", "whistle_id": "w1", "party_key": key, "rating": ratings[key], "note": "评价" + key})
	}
	refusedAct(t, "syl_zhihui", id, map[string]any{"action": "rate_party", "whistle_id": "w1", "party_key": "unit:yj", "rating": "unsatisfied"}, 409, "已评价")

	final, steps := wdetail(t, "syl_zhihui", id)
	if final.State != "closed" || final.WasOverdue {
		t.Fatalf("final %s overdue %v", final.State, final.WasOverdue)
	}
	// The timeline shows the whistle and every unit's report-in time.
	ws := stepsOf(steps, "whistle")
	if len(ws) != 1 || ws[0].ActorName != "石油路街道值班指挥长" || fmt.Sprint(ws[0].Data["parties"]) != "[unit:yj unit:scjg unit:xf]" {
		t.Fatalf("whistle steps %+v", ws)
	}
	ins := stepsOf(steps, "report_in")
	if len(ins) != 3 {
		t.Fatalf("%d report-in steps", len(ins))
	}
	for _, s := range ins {
		p := final.party(t, "w1", "unit:"+s.UnitID)
		if !p.ReportedAt.Equal(s.At) || s.Data["party_key"] != p.Key || s.Data["late"] != p.Late || s.Data["on_site"] != true {
			t.Errorf("report-in step %+v vs party %+v", s, p)
		}
		if p.Rating != ratings[p.Key] || !p.ReportIn.Stopped.Equal(p.ReportedAt) {
			t.Errorf("party %+v", p)
		}
		if (p.Key == "unit:scjg") != p.Late {
			t.Errorf("%s late = %v", p.Key, p.Late)
		}
	}
	for _, a := range []string{"meeting", "decision_done", "verify", "leave"} {
		if len(stepsOf(steps, a)) != 1 {
			t.Errorf("timeline has %d %s steps", len(stepsOf(steps, a)), a)
		}
	}
	if rp := stepsOf(steps, "rate_party"); len(rp) != 3 || rp[1].Data["late"] != true || rp[1].Data["urges"] != float64(1) {
		t.Errorf("rate_party steps %+v", rp)
	}
}

// TestScenarioS9 plays the three whistles of S9 end to end.
func TestScenarioS9(t *testing.T) {
	ids := accountIDs(t)

	t.Run("street whistle, departments report in", func(t *testing.T) {
		c := report(t, nil)
		id := c.ID
		act(t, "syl_zhihui", id, map[string]any{"action": "accept"})
		act(t, "syl_zhihui", id, map[string]any{"action": "dispatch", "lead_unit": "cg"})
		act(t, "cg_staff", id, map[string]any{"action": "sign"})
		// The street's own section has no task: the whistle alone puts the
		// case in its scope.
		st, _ := call(t, token(t, "syl_ms"), "GET", "/api/v1/cases/"+id, nil)
		if st != 404 {
			t.Fatalf("syl_ms sees the case before the whistle: %d", st)
		}
		n := wact(t, "syl_zhihui", id, map[string]any{"action": "whistle", "note": "占道经营引发纠纷，街道吹哨",
			"parties": []map[string]string{{"unit_id": "cg"}, {"unit_id": "syl-ms"}}})
		if n.Whistles[0].Kind != "street" {
			t.Fatalf("default kind for a commander: %q", n.Whistles[0].Kind)
		}
		wdetail(t, "syl_ms", id)
		// 城管 reports in from its office, 2 km away: in, but not on site.
		far := map[string]float64{"lng": n.Point["lng"], "lat": n.Point["lat"] + 0.018}
		n = wact(t, "cg_staff", id, map[string]any{"action": "report_in", "point": far})
		if p := n.party(t, "w1", "unit:cg"); p.OnSite || p.Distance < 1900 || p.Late {
			t.Fatalf("cg %+v", p)
		}
		// The street's section is late and turns red.
		sweepAt(t, n.party(t, "w1", "unit:syl-ms").ReportIn.Due.Add(time.Second))
		n, _ = wdetail(t, "syl_ms", id)
		if p := n.party(t, "w1", "unit:syl-ms"); !p.Late || p.Urges != 1 {
			t.Fatalf("syl-ms after its limit %+v", p)
		}
		refusedAct(t, "syl_ms", id, map[string]any{"action": "leave"}, 409, leaveRefused)
		n = wact(t, "syl_ms", id, map[string]any{"action": "report_in"})
		if p := n.party(t, "w1", "unit:syl-ms"); !p.Late || p.ReportedAt.IsZero() {
			t.Fatalf("late report-in %+v", p)
		}
		refusedAct(t, "syl_ms", id, map[string]any{"action": "leave"}, 409, leaveRefused)
		act(t, "cg_staff", id, map[string]any{"action": "feedback", "note": "已清理"})
		act(t, "zhouchunyan", id, map[string]any{"action": "verify", "passed": true})
		n = wact(t, "syl_ms", id, map[string]any{"action": "leave"})
		if n.party(t, "w1", "unit:syl-ms").LeftAt.IsZero() {
			t.Fatal("leave after close")
		}
		refusedAct(t, "syl_ms", id, map[string]any{"action": "leave"}, 409, "已退出")
		act(t, "syl_zhihui", id, map[string]any{"action": "rate_party", "whistle_id": "w1", "party_key": "unit:syl-ms", "rating": "unsatisfied", "note": "未按时报到"})
	})

	t.Run("enterprise whistle, departments report in", func(t *testing.T) {
		_, shape := gridOf(t, "zhouchunyan")
		p := pointIn(t, shape)
		var c caseView
		mustJSON(t, as(t, "qiye", 201, "POST", "/api/v1/cases", map[string]any{
			"source": "enterprise", "category": "JJ01", "point": map[string]float64{"lng": p.Lng, "lat": p.Lat},
			"address": "新影村社区某商铺", "description": "企业诉求：周边无证经营扰乱市场秩序 (" + t.Name() + ")",
		}), &c)
		id := c.ID
		act(t, "syl_zhihui", id, map[string]any{"action": "accept"})
		act(t, "syl_zhihui", id, map[string]any{"action": "dispatch", "lead_unit": "scjg"})
		// The enterprise summons units on its own case, through its street;
		// 城管, with no task on the case, hears of it live.
		cgEvents := stream(t, "cg_staff")
		refusedAct(t, "qiye", id, map[string]any{"action": "whistle", "kind": "grid", "note": "x",
			"parties": []map[string]string{{"account_id": ids["xyc_jiezhang"]}}}, 400, `"field":"kind"`)
		n := wact(t, "qiye", id, map[string]any{"action": "whistle", "note": "请市场监管、城管到场联合执法",
			"parties": []map[string]string{{"unit_id": "scjg"}, {"unit_id": "cg"}}})
		w := n.Whistles[0]
		if w.Kind != "enterprise" || w.InitiatorName != "重庆某科技有限公司" || len(w.Parties) != 2 {
			t.Fatalf("enterprise whistle %+v", w)
		}
		if e, ok := waitFor(cgEvents, id, 2*time.Second); !ok || e.Action != "whistle" {
			t.Fatalf("城管 got no whistle event: %+v %v", e, ok)
		}
		for _, u := range []string{"scjg_staff", "cg_staff"} {
			wact(t, u, id, map[string]any{"action": "report_in", "point": n.Point})
		}
		n, _ = wdetail(t, "qiye", id)
		for _, p := range n.Whistles[0].Parties {
			if p.ReportedAt.IsZero() || p.Late || !p.OnSite {
				t.Errorf("party %+v", p)
			}
		}
		// Rating waits for the close.
		refusedAct(t, "qiye", id, map[string]any{"action": "rate_party", "whistle_id": "w1", "party_key": "unit:cg", "rating": "satisfied"}, 409)
		// Not on someone else's case.
		other := report(t, nil)
		act(t, "syl_zhihui", other.ID, map[string]any{"action": "accept"})
		refusedAct(t, "qiye", other.ID, map[string]any{"action": "whistle", "note": "x", "parties": []map[string]string{{"unit_id": "cg"}}}, 404)
		// Units must exist.
		refusedAct(t, "qiye", id, map[string]any{"action": "whistle", "note": "x", "parties": []map[string]string{{"unit_id": "nope"}}}, 400, "parties[0]")
	})

	t.Run("grid whistle, the heads report in", func(t *testing.T) {
		c := report(t, nil)
		id := c.ID
		act(t, "syl_zhihui", id, map[string]any{"action": "accept"})
		act(t, "syl_zhihui", id, map[string]any{"action": "dispatch", "lead_unit": "syl-ms"})
		act(t, "syl_ms", id, map[string]any{"action": "sign"})
		heads := []string{"xyc_jiezhang", "xyc_louzhang", "xyc_dianzhang"}
		var parties []map[string]string
		for _, h := range heads {
			parties = append(parties, map[string]string{"account_id": ids[h]})
		}
		// A grid whistle summons people, and only heads or unit staff.
		refusedAct(t, "zhouchunyan", id, map[string]any{"action": "whistle", "note": "x", "parties": []map[string]string{{"unit_id": "cg"}}}, 400, "parties[0]")
		refusedAct(t, "zhouchunyan", id, map[string]any{"action": "whistle", "note": "x", "parties": []map[string]string{{"account_id": ids["jumin"]}}}, 400, "只能召集三长")
		refusedAct(t, "zhouchunyan", id, map[string]any{"action": "whistle", "note": "x", "parties": []map[string]string{{"account_id": "nobody"}}}, 400, "人员不存在")
		n := wact(t, "zhouchunyan", id, map[string]any{"action": "whistle", "note": "商铺门前堆放燃料桶，请三长到场劝导", "parties": parties})
		var titles []string
		for _, p := range n.Whistles[0].Parties {
			titles = append(titles, p.Title+":"+p.Name)
		}
		if w := n.Whistles[0]; w.Kind != "grid" || w.InitiatorName != "周春燕" || !slices.Equal(titles, []string{"街长:新影村街长", "楼长:新影村楼长", "店长:新影村店长"}) {
			t.Fatalf("grid whistle %+v", w)
		}
		wact(t, "xyc_jiezhang", id, map[string]any{"action": "report_in", "point": n.Point})
		wact(t, "xyc_louzhang", id, map[string]any{"action": "report_in"})
		// The shop head does not come in time.
		sweepAt(t, n.party(t, "w1", "person:"+ids["xyc_dianzhang"]).ReportIn.Due.Add(time.Second))
		n, steps := wdetail(t, "zhouchunyan", id)
		if p := n.party(t, "w1", "person:"+ids["xyc_dianzhang"]); !p.Late || p.Urges != 1 {
			t.Fatalf("shop head %+v", p)
		}
		if p := n.party(t, "w1", "person:"+ids["xyc_jiezhang"]); p.Late || !p.OnSite {
			t.Fatalf("street head %+v", p)
		}
		if len(stepsOf(steps, "warn")) != 1 {
			t.Fatalf("warn steps: %+v", stepsOf(steps, "warn"))
		}
		refusedAct(t, "xyc_dianzhang", id, map[string]any{"action": "leave"}, 409, leaveRefused)
		refusedAct(t, "xyc_louzhang", id, map[string]any{"action": "leave"}, 409, leaveRefused)
		wact(t, "xyc_dianzhang", id, map[string]any{"action": "report_in"})
		// A residents' council on the whistle: the heads attend; the
		// street's section carries out its decision.
		n = wact(t, "zhouchunyan", id, map[string]any{"action": "meeting", "whistle_id": "w1", "meeting": map[string]any{
			"kind": "council", "place": "新影村社区议事厅",
			"attendees": []map[string]string{{"kind": "resident", "name": "居民代表"}, {"kind": "unit", "unit_id": "syl-ms"}},
			"decisions": []map[string]any{{"text": "三日内清理燃料桶并设置警示标识", "unit_id": "syl-ms", "due": plat.Service.Now().Add(72 * time.Hour).Format(time.RFC3339)}},
		}})
		m := n.Meetings[0]
		if len(m.Attendees) != 5 || m.Attendees[0].Kind != "person" || m.Attendees[0].Title != "街长" || m.Attendees[4].Name != "石油路街道民生服务办" {
			t.Fatalf("council attendees %+v", m.Attendees)
		}
		refusedAct(t, "zhouchunyan", id, map[string]any{"action": "meeting", "meeting": map[string]any{"kind": "council", "place": "x",
			"attendees": []map[string]string{{"kind": "expert", "name": "专家"}},
			"decisions": []map[string]any{{"text": "y", "unit_id": "nope", "due": plat.Service.Now().Add(time.Hour).Format(time.RFC3339)}}}}, 400, "meeting.decisions[0].unit_id")
		act(t, "syl_ms", id, map[string]any{"action": "decision_done", "decision_id": "d1", "note": "已清理"})
		act(t, "syl_ms", id, map[string]any{"action": "feedback", "note": "已清理完毕"})
		act(t, "zhouchunyan", id, map[string]any{"action": "verify", "passed": true})
		for _, h := range heads {
			act(t, "zhouchunyan", id, map[string]any{"action": "rate_party", "whistle_id": "w1", "party_key": "person:" + ids[h], "rating": "satisfied"})
		}
		act(t, "xyc_dianzhang", id, map[string]any{"action": "leave"})
	})
}

// TestHeadAccounts: a head carries one of the configured titles.
func TestHeadAccounts(t *testing.T) {
	grid, _ := gridOf(t, "zhouchunyan")
	body := map[string]any{"username": "xyc_xiangzhang", "name": "新影村巷长", "role": "head", "region_code": grid, "password": "zhizhi2026", "title": "村长"}
	out := as(t, "admin", 400, "POST", "/api/v1/accounts", body)
	if !strings.Contains(string(out), `"field":"title"`) || !strings.Contains(string(out), "街长、路长、巷长、楼长、店长") {
		t.Fatalf("bad title: %s", out)
	}
	body["title"] = "巷长"
	out = as(t, "admin", 201, "POST", "/api/v1/accounts", body)
	if !strings.Contains(string(out), `"title":"巷长"`) {
		t.Fatalf("created head: %s", out)
	}
}

// TestOpenAPICommandActions: the Command schema names every action a
// client may take.
func TestOpenAPICommandActions(t *testing.T) {
	doc := api.Document()
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	props := schemas["Command"].(map[string]any)["properties"].(map[string]any)
	actions := props["action"].(map[string]any)["enum"].([]string)
	for _, r := range cases.Table {
		// Warnings are the sweeper's; comments come from Open311 clients;
		// sensor updates from the sensor rules; volunteer has its own route
		// (POST /api/v1/cases/{id}/volunteers).
		if r.Action != cases.ActWarn && r.Action != cases.ActComment && r.Action != cases.ActSensor && r.Action != cases.ActVolunteer && !slices.Contains(actions, string(r.Action)) {
			t.Errorf("Command schema lacks action %s", r.Action)
		}
	}
	for _, f := range []string{"kind", "parties", "report_in_limit", "whistle_id", "party_key", "point", "meeting", "decision_id"} {
		if _, ok := props[f]; !ok {
			t.Errorf("Command schema lacks %s", f)
		}
	}
}
