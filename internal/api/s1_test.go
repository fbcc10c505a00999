package api_test

import (
	"fmt"
	"strings"
	"testing"
)

// TestScenarioS1 plays scenario S1 (hazardous fuel at a shop, 石油路街道,
// 新影村社区) end to end through HTTP.
func TestScenarioS1(t *testing.T) {
	grid, shape := gridOf(t, "zhouchunyan")
	pt := pointIn(t, shape)
	photo := upload(t, "zhouchunyan", 10)

	// 周春燕 reports the shop; the case lands in her grid, under 石油路.
	var c caseView
	mustJSON(t, as(t, "zhouchunyan", 201, "POST", "/api/v1/cases", map[string]any{
		"source": "patrol", "category": "AQ01", "severity": "normal",
		"point":       map[string]float64{"lng": pt.Lng, "lat": pt.Lat},
		"address":     "新影村社区某餐饮店",
		"description": "巡查发现一商铺准备使用醇基燃料灶具（属危险化学品），存在安全隐患",
		"answers":     map[string]any{"shop": "新影村社区某餐饮店", "equipment": "alcohol_stove", "quantity": 3},
		"photos":      []photoRef{{Hash: photo.Hash}},
	}), &c)
	if c.GridCode != grid || c.State != "reported" || c.Reporter.Name != "周春燕" {
		t.Fatalf("reported case: grid %q (want %q), state %q, reporter %q", c.GridCode, grid, c.State, c.Reporter.Name)
	}

	// The 石油路 commander sees it in the queue and checks for duplicates.
	var queue struct {
		Items []caseView `json:"items"`
	}
	mustJSON(t, as(t, "syl_zhihui", 200, "GET", "/api/v1/cases?state=reported&category=AQ01&limit=500", nil), &queue)
	found := false
	for _, it := range queue.Items {
		found = found || it.ID == c.ID
	}
	if !found {
		t.Fatalf("case %s not in the 石油路 commander's queue", c.ID)
	}
	as(t, "syl_zhihui", 200, "GET", "/api/v1/cases/"+c.ID+"/duplicates", nil)

	// Accept as urgent under the safety board: the lead is the street's own
	// 平安法治板块A岗, the three district departments are co-units; they sign.
	n := act(t, "syl_zhihui", c.ID, map[string]any{"action": "accept", "severity": "urgent", "version": c.Version})
	if n.State != "accepted" {
		t.Fatalf("after accept: %s", n.State)
	}
	n = act(t, "syl_zhihui", c.ID, map[string]any{"action": "dispatch", "lead_unit": "syl-pa-a", "co_units": []string{"yj", "scjg", "xf"}, "version": n.Version})
	if n.State != "dispatched" || len(n.Tasks) != 4 {
		t.Fatalf("after dispatch: %s with %d tasks", n.State, len(n.Tasks))
	}
	for _, u := range []string{"syl_pa_a", "yj_staff", "scjg_staff", "xf_staff"} {
		act(t, u, c.ID, map[string]any{"action": "sign"})
	}
	act(t, "syl_pa_a", c.ID, map[string]any{"action": "handle", "note": "现场召开调度会：宣读告知书，通报警示案例"})

	// Co-units, then the lead, feed back with photos.
	for i, u := range []string{"yj_staff", "scjg_staff", "xf_staff", "syl_pa_a"} {
		p := upload(t, u, uint8(50+40*i))
		n = act(t, u, c.ID, map[string]any{"action": "feedback", "note": u + " 已处置", "photos": []photoRef{{Hash: p.Hash}}})
	}
	if n.State != "fed_back" {
		t.Fatalf("after the lead's feedback: %s", n.State)
	}

	// 周春燕 verifies on site; the case closes; the commander rates it.
	n = act(t, "zhouchunyan", c.ID, map[string]any{"action": "verify", "passed": true, "note": "现场核查：设备已拆除"})
	if n.State != "closed" {
		t.Fatalf("after verify: %s", n.State)
	}
	st, body := call(t, token(t, "syl_zhihui"), "POST", "/api/v1/cases/"+c.ID+"/actions", map[string]any{"action": "close"})
	if st != 409 {
		t.Errorf("close after a passed verification: %d %s, want 409 (already closed)", st, body)
	}
	act(t, "syl_zhihui", c.ID, map[string]any{"action": "rate", "rating": "satisfied", "note": "群众满意"})

	final, steps := detail(t, "syl_zhihui", c.ID)
	if final.State != "closed" || final.Rating != "satisfied" || final.ClosedAt.IsZero() {
		t.Errorf("final case: state %s rating %s closed_at %v", final.State, final.Rating, final.ClosedAt)
	}
	if final.WasOverdue {
		t.Error("S1 case marked was_overdue")
	}
	want := []struct{ action, actor, unit, to string }{
		{"report", "周春燕", "", "reported"},
		{"accept", "石油路街道值班指挥长", "", "accepted"},
		{"dispatch", "石油路街道值班指挥长", "", "dispatched"},
		{"sign", "石油路街道平安法治板块A岗", "syl-pa-a", "handling"},
		{"sign", "区应急管理局工作人员", "yj", "handling"},
		{"sign", "区市场监管局工作人员", "scjg", "handling"},
		{"sign", "区消防救援支队工作人员", "xf", "handling"},
		{"handle", "石油路街道平安法治板块A岗", "syl-pa-a", "handling"},
		{"feedback", "区应急管理局工作人员", "yj", "handling"},
		{"feedback", "区市场监管局工作人员", "scjg", "handling"},
		{"feedback", "区消防救援支队工作人员", "xf", "handling"},
		{"feedback", "石油路街道平安法治板块A岗", "syl-pa-a", "fed_back"},
		{"verify", "周春燕", "", "closed"},
		{"rate", "石油路街道值班指挥长", "", "closed"},
	}
	if len(steps) != len(want) {
		t.Fatalf("timeline has %d steps, want %d: %+v", len(steps), len(want), steps)
	}
	signAt := map[string]string{}
	for i, w := range want {
		s := steps[i]
		if s.Action != w.action || s.ActorName != w.actor || s.UnitID != w.unit || s.To != w.to || s.ActorID == "" {
			t.Errorf("step %d: %s by %s (%s) → %s, want %s by %s (%s) → %s", i+1, s.Action, s.ActorName, s.UnitID, s.To, w.action, w.actor, w.unit, w.to)
		}
		if s.Seq != i+1 {
			t.Errorf("step %d has seq %d", i+1, s.Seq)
		}
		if i > 0 && s.At.Before(steps[i-1].At) {
			t.Errorf("step %d (%s) is before step %d", i+1, s.Action, i)
		}
		if s.Action == "sign" {
			signAt[s.UnitID] = s.At.UTC().String()
		}
		if s.Action == "feedback" && len(s.Photos) != 1 {
			t.Errorf("feedback of %s has %d photos", s.UnitID, len(s.Photos))
		}
	}
	if steps[0].Photos == nil || steps[0].Photos[0].Hash != photo.Hash {
		t.Errorf("report step lacks the uploaded photo: %+v", steps[0].Photos)
	}
	if lead, _ := steps[2].Data["lead_unit"].(string); lead != "syl-pa-a" || !strings.Contains(fmt.Sprint(steps[2].Data["co_units"]), "yj scjg xf") {
		t.Errorf("dispatch data: %v", steps[2].Data)
	}
	// The dispatch keeps the library entry it was routed under.
	if rule := fmt.Sprint(steps[2].Data["rule"]); !strings.Contains(rule, "category:AQ01") || !strings.Contains(rule, "level:street") {
		t.Errorf("dispatch rule: %v", steps[2].Data["rule"])
	}
	roles := map[string]string{}
	for _, tk := range final.Tasks {
		roles[tk.UnitID] = tk.Role
		if tk.SignedAt.IsZero() {
			t.Errorf("task %s has no sign time", tk.UnitID)
		} else if signAt[tk.UnitID] != tk.SignedAt.UTC().String() {
			t.Errorf("task %s signed at %v, timeline says %s", tk.UnitID, tk.SignedAt, signAt[tk.UnitID])
		}
		if tk.State != "done" {
			t.Errorf("task %s is %s after close, want done", tk.UnitID, tk.State)
		}
	}
	if roles["syl-pa-a"] != "lead" || roles["yj"] != "co" || roles["scjg"] != "co" || roles["xf"] != "co" {
		t.Errorf("task roles: %v", roles)
	}
	// The photo can be fetched back by the signed address the timeline
	// gives; its hash alone is not enough.
	if u := steps[0].Photos[0].URL; !strings.HasPrefix(u, "/api/v1/photos/"+photo.Hash+"?") {
		t.Errorf("report step's photo address: %q", u)
	} else {
		st, body = call(t, token(t, "yj_staff"), "GET", u, nil)
		if st != 200 || len(body) != int(photo.Size) {
			t.Errorf("photo download: %d, %d bytes (want %d)", st, len(body), photo.Size)
		}
	}
	if st, _ = call(t, token(t, "yj_staff"), "GET", "/api/v1/photos/"+photo.Hash, nil); st != 404 {
		t.Errorf("photo by bare hash: %d, want 404", st)
	}
}
