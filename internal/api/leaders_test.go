package api_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/leaders"
	"zhizhi/internal/sla"
)

type visitView struct {
	ID         string   `json:"id"`
	LeaderID   string   `json:"leader_id"`
	RecordedBy string   `json:"recorded_by"`
	Recorder   string   `json:"recorder"`
	LeaderName string   `json:"leader_name"`
	StreetCode string   `json:"street_code"`
	CaseIDs    []string `json:"case_ids"`
}

type visitAnswer struct {
	Visit visitView `json:"visit"`
	Cases []struct {
		caseView
		Source     string `json:"source"`
		RegionPath string `json:"region_path"`
		CenterPath string `json:"center_path"`
	} `json:"cases"`
}

type totalRow struct {
	Key      string `json:"key"`
	Name     string `json:"name"`
	Visits   int    `json:"visits"`
	Problems int    `json:"problems"`
	Solved   int    `json:"solved"`
}

type totals struct {
	Items []totalRow `json:"items"`
	Sum   totalRow   `json:"sum"`
}

// fieldsOf returns the field names of an error answer.
func fieldsOf(t *testing.T, body []byte) []string {
	t.Helper()
	var e struct {
		Error struct {
			Fields []struct {
				Field string `json:"field"`
			} `json:"fields"`
		} `json:"error"`
	}
	mustJSON(t, body, &e)
	var out []string
	for _, f := range e.Error.Fields {
		out = append(out, f.Field)
	}
	return out
}

// refuse calls as username and wants the status and, for 400, the field.
func refuse(t *testing.T, username string, status int, field, method, path string, body any) {
	t.Helper()
	st, out := call(t, token(t, username), method, path, body)
	if st != status {
		t.Fatalf("%s %s as %s: %d %s, want %d", method, path, username, st, out, status)
	}
	if field != "" && !slices.Contains(fieldsOf(t, out), field) {
		t.Fatalf("%s %s: fields %v, want %q (%s)", method, path, fieldsOf(t, out), field, out)
	}
}

func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// closeCase drives a case of 石油路 (in 周春燕's grid) through the loop to
// closed: accept, dispatch, sign, feed back, verify.
func closeCase(t *testing.T, id string) {
	t.Helper()
	act(t, "syl_zhihui", id, map[string]any{"action": "accept"})
	act(t, "syl_zhihui", id, map[string]any{"action": "dispatch", "lead_unit": "syl-ms-a"})
	act(t, "syl_ms_a", id, map[string]any{"action": "sign"})
	act(t, "syl_ms_a", id, map[string]any{"action": "feedback", "note": "已整改"})
	if n := act(t, "zhouchunyan", id, map[string]any{"action": "verify", "passed": true, "note": "现场核查已整改"}); n.State != "closed" {
		t.Fatalf("case %s: %s after verify", id, n.State)
	}
}

// recount counts the visits of a window, their problems and the closed
// ones, by reading every visit and its cases one by one: the check on the
// totals' query.
func recount(t *testing.T, username, query string) (byLeader map[string]totalRow, sum totalRow) {
	t.Helper()
	var list struct {
		Items []visitView `json:"items"`
	}
	mustJSON(t, as(t, username, 200, "GET", "/api/v1/visits?limit=500&"+query, nil), &list)
	if len(list.Items) == 500 {
		t.Fatal("more than a page of visits in the window: narrow it")
	}
	byLeader = map[string]totalRow{}
	for _, v := range list.Items {
		var d visitAnswer
		mustJSON(t, as(t, username, 200, "GET", "/api/v1/visits/"+v.ID, nil), &d)
		if len(d.Cases) != len(v.CaseIDs) {
			t.Fatalf("visit %s shows %d of its %d cases", v.ID, len(d.Cases), len(v.CaseIDs))
		}
		r := byLeader[v.LeaderID]
		r.Visits++
		r.Problems += len(d.Cases)
		for _, c := range d.Cases {
			if c.State == "closed" {
				r.Solved++
			}
		}
		byLeader[v.LeaderID] = r
	}
	for _, r := range byLeader {
		sum.Visits += r.Visits
		sum.Problems += r.Problems
		sum.Solved += r.Solved
	}
	return byLeader, sum
}

// TestScenarioS8 plays S8 through HTTP: a district leader paired with a
// street holds an on-site office visit; each problem raised becomes a case
// with source visit on the leader's list, also when a secretary records it;
// a case closes; the district's totals are a query that matches a recount,
// with drill-down to the cases.
func TestScenarioS8(t *testing.T) {
	ids := accountIDs(t)
	leaderID := ids["leader"]
	_, shape := gridOf(t, "zhouchunyan")
	pt := pointIn(t, shape)
	now := plat.Service.Now()
	window := "from=" + rfc(now.Add(-48*time.Hour)) + "&to=" + rfc(now.Add(time.Hour))

	// The administrator pairs the leader with 石油路街道.
	var pairing struct {
		ID         string `json:"id"`
		TargetName string `json:"target_name"`
		RegionPath string `json:"region_path"`
	}
	mustJSON(t, as(t, "admin", 201, "POST", "/api/v1/pairings", map[string]any{
		"leader_id": leaderID, "kind": "street", "target": "500103014",
		"from": rfc(now.AddDate(0, -1, 0)), "to": rfc(now.AddDate(1, 0, 0)), "note": "四下基层包联",
	}), &pairing)
	if pairing.TargetName != "石油路街道" || !strings.HasSuffix(pairing.RegionPath, "/500103014/") {
		t.Fatalf("pairing %+v", pairing)
	}
	as(t, "admin", 200, "PUT", "/api/v1/pairings/"+pairing.ID, map[string]any{
		"leader_id": leaderID, "kind": "street", "target": "500103014",
		"from": rfc(now.AddDate(0, -2, 0)), "to": rfc(now.AddDate(1, 0, 0)),
	})
	var mine struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	mustJSON(t, as(t, "leader", 200, "GET", "/api/v1/pairings?leader=me", nil), &mine)
	if !slices.ContainsFunc(mine.Items, func(p struct {
		ID string `json:"id"`
	}) bool {
		return p.ID == pairing.ID
	}) {
		t.Fatalf("the leader's pairings %+v lack %s", mine.Items, pairing.ID)
	}

	var before totals
	mustJSON(t, as(t, "qu_zhihui", 200, "GET", "/api/v1/visits/totals?by=leader&"+window, nil), &before)
	beforeLeader := totalRow{}
	for _, r := range before.Items {
		if r.Key == leaderID {
			beforeLeader = r
		}
	}

	// The leader records a visit on site with two problems.
	var v1 visitAnswer
	mustJSON(t, as(t, "leader", 201, "POST", "/api/v1/visits", map[string]any{
		"place":     map[string]any{"point": map[string]float64{"lng": pt.Lng, "lat": pt.Lat}, "address": "新影村社区"},
		"at":        rfc(now.Add(-2 * time.Hour)),
		"attendees": []string{"石油路街道党工委书记", "新影村社区书记"},
		"summary":   "现场办公，听取社区意见",
		"problems": []map[string]any{
			{"category": "MS03", "description": "新影村菜市场旁垃圾堆放"},
			{"category": "MS06", "description": "新影村主干道路灯不亮"},
		},
		"client_ref": "s8-visit-1",
	}), &v1)
	if len(v1.Cases) != 2 || v1.Visit.StreetCode != "500103014" || v1.Visit.LeaderID != leaderID {
		t.Fatalf("visit %+v", v1)
	}
	for _, c := range v1.Cases {
		if c.Source != "visit" || c.Reporter.AccountID != leaderID || c.State != "reported" || !strings.Contains(c.CenterPath, "500103014") {
			t.Fatalf("case from a visit: %+v", c)
		}
	}
	// Sent again (a phone's retry): the same visit, no new cases.
	var again visitAnswer
	mustJSON(t, as(t, "leader", 201, "POST", "/api/v1/visits", map[string]any{
		"place": map[string]any{"point": map[string]float64{"lng": pt.Lng, "lat": pt.Lat}}, "at": rfc(now.Add(-2 * time.Hour)),
		"problems":   []map[string]any{{"category": "MS03", "description": "新影村菜市场旁垃圾堆放"}},
		"client_ref": "s8-visit-1",
	}), &again)
	if again.Visit.ID != v1.Visit.ID {
		t.Fatalf("a retry made visit %s, not %s", again.Visit.ID, v1.Visit.ID)
	}

	// The district center records a second visit on the leader's behalf,
	// once an administrator made it the leader's secretary.
	behalf := map[string]any{
		"leader_id": leaderID, "place": map[string]any{"region_code": "500103014"},
		"at":       rfc(now.Add(-time.Hour)),
		"problems": []map[string]any{{"category": "MS19", "description": "居民反映社区活动室开放时间短"}},
	}
	refuse(t, "qu_zhihui", 403, "", "POST", "/api/v1/visits", behalf)
	as(t, "admin", 201, "POST", "/api/v1/secretaries", map[string]any{"leader_id": leaderID, "secretary_id": ids["qu_zhihui"]})
	defer as(t, "admin", 204, "DELETE", "/api/v1/secretaries/"+leaderID+"/"+ids["qu_zhihui"], nil)
	var secs struct {
		Items []leaders.Secretary `json:"items"`
	}
	mustJSON(t, as(t, "qu_zhihui", 200, "GET", "/api/v1/secretaries?secretary=me", nil), &secs)
	if len(secs.Items) != 1 || secs.Items[0].LeaderID != leaderID || secs.Items[0].LeaderName != "区领导" {
		t.Fatalf("the secretary's leaders: %+v", secs.Items)
	}
	var v2 visitAnswer
	mustJSON(t, as(t, "qu_zhihui", 201, "POST", "/api/v1/visits", behalf), &v2)
	if v2.Visit.RecordedBy != ids["qu_zhihui"] || v2.Cases[0].Reporter.AccountID != leaderID || v2.Cases[0].Reporter.Name != "区领导" ||
		v2.Visit.Recorder != "区指挥中心值班长" || v2.Visit.LeaderName != "区领导" {
		t.Fatalf("visit on behalf: %+v", v2)
	}
	// Only for the leaders assigned: not for another leader.
	other := map[string]any{"leader_id": ids["liu_quzhang"], "place": map[string]any{"region_code": "500103014"}, "at": rfc(now.Add(-time.Hour))}
	refuse(t, "qu_zhihui", 403, "", "POST", "/api/v1/visits", other)
	// Assignments: refusals name the field and change nothing.
	unchangedSecretaries := string(as(t, "admin", 200, "GET", "/api/v1/secretaries", nil))
	refuse(t, "admin", 400, "secretary_id", "POST", "/api/v1/secretaries", map[string]any{"leader_id": leaderID, "secretary_id": ids["qu_zhihui"]})
	refuse(t, "admin", 400, "secretary_id", "POST", "/api/v1/secretaries", map[string]any{"leader_id": leaderID, "secretary_id": ids["zhouchunyan"]})
	refuse(t, "admin", 400, "leader_id", "POST", "/api/v1/secretaries", map[string]any{"leader_id": ids["qu_zhihui"], "secretary_id": ids["jfb_zhihui"]})
	refuse(t, "admin", 400, "secretary_id", "POST", "/api/v1/secretaries", map[string]any{"leader_id": leaderID, "secretary_id": leaderID})
	refuse(t, "qu_zhihui", 403, "", "POST", "/api/v1/secretaries", map[string]any{"leader_id": ids["liu_quzhang"], "secretary_id": ids["qu_zhihui"]})
	refuse(t, "admin", 404, "", "DELETE", "/api/v1/secretaries/"+ids["liu_quzhang"]+"/"+ids["qu_zhihui"], nil)
	if got := string(as(t, "admin", 200, "GET", "/api/v1/secretaries", nil)); got != unchangedSecretaries {
		t.Fatalf("refused assignments changed the list:\n%s\n%s", unchangedSecretaries, got)
	}

	// Every problem is on the leader's list.
	var lists struct {
		Items []struct {
			ID   string `json:"id"`
			Kind string `json:"kind"`
		} `json:"items"`
	}
	mustJSON(t, as(t, "leader", 200, "GET", "/api/v1/lists?kind=leader&owner=me", nil), &lists)
	if len(lists.Items) == 0 {
		t.Fatal("the leader has no list")
	}
	var board struct {
		Items []struct {
			RefID string `json:"ref_id"`
			State string `json:"state"`
			Clock string `json:"clock"`
		} `json:"items"`
		Open int `json:"open"`
	}
	mustJSON(t, as(t, "leader", 200, "GET", "/api/v1/lists/"+lists.Items[0].ID, nil), &board)
	for _, id := range append(slices.Clone(v1.Visit.CaseIDs), v2.Visit.CaseIDs...) {
		if !slices.ContainsFunc(board.Items, func(it struct {
			RefID string `json:"ref_id"`
			State string `json:"state"`
			Clock string `json:"clock"`
		}) bool {
			return it.RefID == id && it.State == "reported" && it.Clock != ""
		}) {
			t.Fatalf("case %s not on the leader's list board %+v", id, board.Items)
		}
	}

	// One problem is solved through the loop.
	closeCase(t, v1.Visit.CaseIDs[0])

	// The totals: the visits added exactly what was recorded…
	var after totals
	mustJSON(t, as(t, "qu_zhihui", 200, "GET", "/api/v1/visits/totals?by=leader&"+window, nil), &after)
	var got totalRow
	for _, r := range after.Items {
		if r.Key == leaderID {
			got = r
			if r.Name != "区领导" {
				t.Errorf("leader row named %q", r.Name)
			}
		}
	}
	if d := (totalRow{Visits: got.Visits - beforeLeader.Visits, Problems: got.Problems - beforeLeader.Problems, Solved: got.Solved - beforeLeader.Solved}); d != (totalRow{Visits: 2, Problems: 3, Solved: 1}) {
		t.Fatalf("the visits added %+v, want 2 visits, 3 problems, 1 solved", d)
	}
	// …and they match a recount, visit by visit, case by case.
	byLeader, sum := recount(t, "qu_zhihui", window)
	if after.Sum.Visits != sum.Visits || after.Sum.Problems != sum.Problems || after.Sum.Solved != sum.Solved {
		t.Fatalf("totals %+v, recount %+v", after.Sum, sum)
	}
	for _, r := range after.Items {
		if rc := byLeader[r.Key]; rc.Visits != r.Visits || rc.Problems != r.Problems || rc.Solved != r.Solved {
			t.Fatalf("leader %s: totals %+v, recount %+v", r.Key, r, rc)
		}
	}
	var streets totals
	mustJSON(t, as(t, "qu_zhihui", 200, "GET", "/api/v1/visits/totals?by=street&"+window, nil), &streets)
	if streets.Sum != after.Sum {
		t.Fatalf("by street %+v, by leader %+v", streets.Sum, after.Sum)
	}
	var months totals
	mustJSON(t, as(t, "qu_zhihui", 200, "GET", "/api/v1/visits/totals?by=month&"+window, nil), &months)
	if months.Sum.Visits != after.Sum.Visits || months.Sum.Solved != after.Sum.Solved {
		t.Fatalf("by month %+v, by leader %+v", months.Sum, after.Sum)
	}
	// Drill-down: the solved cases of the leader in the window.
	var solved struct {
		Items []caseView `json:"items"`
	}
	mustJSON(t, as(t, "qu_zhihui", 200, "GET", "/api/v1/visits/cases?solved=true&leader="+leaderID+"&"+window, nil), &solved)
	if len(solved.Items) != got.Solved || !slices.ContainsFunc(solved.Items, func(c caseView) bool { return c.ID == v1.Visit.CaseIDs[0] }) {
		t.Fatalf("drill-down: %d solved cases (want %d) %+v", len(solved.Items), got.Solved, solved.Items)
	}

	// The leader's home starts from the pairing.
	var home struct {
		Pairings []struct {
			Pairing struct {
				ID string `json:"id"`
			} `json:"pairing"`
			Open int `json:"open"`
		} `json:"pairings"`
		Visits []visitView `json:"visits"`
	}
	mustJSON(t, as(t, "leader", 200, "GET", "/api/v1/leader/home", nil), &home)
	i := slices.IndexFunc(home.Pairings, func(p struct {
		Pairing struct {
			ID string `json:"id"`
		} `json:"pairing"`
		Open int `json:"open"`
	}) bool {
		return p.Pairing.ID == pairing.ID
	})
	if i < 0 || home.Pairings[i].Open < 2 || len(home.Visits) == 0 {
		t.Fatalf("home %+v", home)
	}
	as(t, "admin", 204, "DELETE", "/api/v1/pairings/"+pairing.ID, nil)
	refuse(t, "admin", 404, "", "DELETE", "/api/v1/pairings/"+pairing.ID, nil)
}

// TestLeadersRefuseBadInput: bad input is refused naming the field, and a
// role outside its part is refused; nothing changes.
func TestLeadersRefuseBadInput(t *testing.T) {
	ids := accountIDs(t)
	now := plat.Service.Now()
	_, shape := gridOf(t, "zhouchunyan")
	pt := pointIn(t, shape)
	place := map[string]any{"point": map[string]float64{"lng": pt.Lng, "lat": pt.Lat}}
	var before struct {
		Items []visitView `json:"items"`
	}
	mustJSON(t, as(t, "leader", 200, "GET", "/api/v1/visits?leader=me&limit=500", nil), &before)

	refuse(t, "leader", 400, "at", "POST", "/api/v1/visits", map[string]any{"place": place, "at": rfc(now.Add(3 * time.Hour))})
	refuse(t, "leader", 400, "place", "POST", "/api/v1/visits", map[string]any{"place": map[string]any{}, "at": rfc(now)})
	refuse(t, "leader", 400, "problems[0].category", "POST", "/api/v1/visits", map[string]any{"place": place, "at": rfc(now),
		"problems": []map[string]any{{"category": "NOPE", "description": "x"}}})
	refuse(t, "leader", 400, "problems[1].description", "POST", "/api/v1/visits", map[string]any{"place": place, "at": rfc(now),
		"problems": []map[string]any{{"category": "MS03", "description": "x"}, {"category": "MS03"}}})
	refuse(t, "leader", 400, "nonsense", "POST", "/api/v1/visits", map[string]any{"place": place, "at": rfc(now), "nonsense": 1})
	refuse(t, "zhouchunyan", 403, "", "POST", "/api/v1/visits", map[string]any{"place": place, "at": rfc(now)})
	refuse(t, "jfb_zhihui", 400, "place", "POST", "/api/v1/visits", map[string]any{"leader_id": ids["leader"], "place": place, "at": rfc(now)})

	var after struct {
		Items []visitView `json:"items"`
	}
	mustJSON(t, as(t, "leader", 200, "GET", "/api/v1/visits?leader=me&limit=500", nil), &after)
	if len(after.Items) != len(before.Items) {
		t.Fatalf("refused visits were stored: %d → %d", len(before.Items), len(after.Items))
	}

	refuse(t, "leader", 403, "", "POST", "/api/v1/pairings", map[string]any{"leader_id": ids["leader"], "kind": "street", "target": "500103014",
		"from": rfc(now), "to": rfc(now.AddDate(1, 0, 0))})
	refuse(t, "admin", 400, "target", "POST", "/api/v1/pairings", map[string]any{"leader_id": ids["leader"], "kind": "community", "target": "500103014",
		"from": rfc(now), "to": rfc(now.AddDate(1, 0, 0))})
	refuse(t, "admin", 400, "leader_id", "POST", "/api/v1/pairings", map[string]any{"leader_id": ids["jumin"], "kind": "street", "target": "500103014",
		"from": rfc(now), "to": rfc(now.AddDate(1, 0, 0))})
	refuse(t, "admin", 400, "to", "POST", "/api/v1/pairings", map[string]any{"leader_id": ids["leader"], "kind": "street", "target": "500103014",
		"from": rfc(now), "to": rfc(now.AddDate(-1, 0, 0))})
	refuse(t, "leader", 400, "topic", "POST", "/api/v1/lists", map[string]any{"name": "每月一题", "kind": "monthly",
		"from": rfc(now), "to": rfc(now.AddDate(0, 1, 0))})
	refuse(t, "zhouchunyan", 403, "", "GET", "/api/v1/lists", nil)
	refuse(t, "zhouchunyan", 403, "", "GET", "/api/v1/visits/totals", nil)
	refuse(t, "leader", 400, "by", "GET", "/api/v1/visits/totals?by=weather", nil)
	refuse(t, "leader", 400, "from", "GET", "/api/v1/visits/totals?from=yesterday", nil)
	refuse(t, "leader", 400, "milestones", "POST", "/api/v1/projects", map[string]any{"name": "n", "goal": "g", "lead_unit": "cg"})
	refuse(t, "leader", 400, "lead_unit", "POST", "/api/v1/projects", map[string]any{"name": "n", "goal": "g", "lead_unit": "nope",
		"milestones": []map[string]any{{"title": "t", "limit": map[string]any{"amount": 1, "unit": "work_days"}}}})
	refuse(t, "leader", 404, "", "GET", "/api/v1/lists/nope", nil)
	refuse(t, "leader", 404, "", "GET", "/api/v1/visits/nope", nil)
}

// TestScenarioS6KeyProject plays S6 through HTTP: a school reports its surroundings;
// the street center takes the case on as a district key rectification
// project in one step (escalated to the district center, on the district's
// key project list); a council meeting produces the plan; the milestones
// are met on the official calendar; the leader verifies and closes it.
func TestScenarioS6KeyProject(t *testing.T) {
	_, shape := gridOf(t, "zhouchunyan")
	pt := pointIn(t, shape)
	var c caseView
	mustJSON(t, as(t, "zhouchunyan", 201, "POST", "/api/v1/cases", map[string]any{
		"source": "resident", "category": "MS17",
		"point":       map[string]float64{"lng": pt.Lng, "lat": pt.Lat},
		"address":     "肖家沟小学",
		"description": "肖家沟小学反映：学校周边绿植腐烂、装修垃圾堆放、围墙破损",
	}), &c)
	act(t, "syl_zhihui", c.ID, map[string]any{"action": "accept"})

	// The leader may not escalate: that is the center's (the case loop's) part.
	refuse(t, "leader", 403, "", "POST", "/api/v1/cases/"+c.ID+"/key-project", map[string]any{"note": "x", "goal": "g", "lead_unit": "cg",
		"milestones": []map[string]any{{"title": "t", "limit": map[string]any{"amount": 1, "unit": "work_days"}}}})
	refuse(t, "syl_zhihui", 400, "note", "POST", "/api/v1/cases/"+c.ID+"/key-project", map[string]any{"goal": "g", "lead_unit": "cg",
		"milestones": []map[string]any{{"title": "t", "limit": map[string]any{"amount": 1, "unit": "work_days"}}}})

	var kp struct {
		Project struct {
			ID         string `json:"id"`
			Name       string `json:"name"`
			RegionPath string `json:"region_path"`
			CaseID     string `json:"case_id"`
			Milestones []struct {
				Seq   int `json:"seq"`
				Clock struct {
					Start time.Time `json:"start"`
					Due   time.Time `json:"due"`
				} `json:"clock"`
			} `json:"milestones"`
		} `json:"project"`
		Case struct {
			CenterPath string `json:"center_path"`
		} `json:"case"`
	}
	mustJSON(t, as(t, "syl_zhihui", 201, "POST", "/api/v1/cases/"+c.ID+"/key-project", map[string]any{
		"note": "学校周边环境涉及多个部门，列为区级重点整治整改项目", "name": "肖家沟小学周边环境整治",
		"goal": "清除腐烂绿植和装修垃圾，修复围墙", "lead_unit": "cg", "co_units": []string{"jw"},
		"milestones": []map[string]any{
			{"title": "现场调研", "limit": map[string]any{"amount": 2, "unit": "work_days"}},
			{"title": "议事会形成方案", "limit": map[string]any{"amount": 3, "unit": "work_days"}},
			{"title": "整治完成", "limit": map[string]any{"amount": 5, "unit": "work_days"}},
		},
	}), &kp)
	if kp.Case.CenterPath != "/500000/500103/" || kp.Project.RegionPath != "/500000/500103/" || kp.Project.CaseID != c.ID {
		t.Fatalf("key project %+v", kp)
	}
	// Each milestone's clock runs on the official calendar from the last.
	cal := plat.Service.Calendar()
	for i, m := range kp.Project.Milestones {
		want := []int{2, 3, 5}[i]
		if due := sla.Due(cal, m.Clock.Start, sla.Limit{Amount: want, Unit: sla.WorkDays}); !due.Equal(m.Clock.Due) {
			t.Fatalf("milestone %d due %v, want %v on the calendar", m.Seq, m.Clock.Due, due)
		}
		if i > 0 && !m.Clock.Start.Equal(kp.Project.Milestones[i-1].Clock.Due) {
			t.Fatalf("milestone %d starts %v, not at the previous due", m.Seq, m.Clock.Start)
		}
	}
	_, steps := detail(t, "qu_zhihui", c.ID)
	if last := steps[len(steps)-1]; last.Action != "escalate" || !strings.Contains(last.Note, "重点整治整改项目") {
		t.Fatalf("the case's last step %+v", last)
	}
	// In one step: on the district's key project list.
	var lists struct {
		Items []struct {
			ID         string `json:"id"`
			RegionPath string `json:"region_path"`
		} `json:"items"`
	}
	mustJSON(t, as(t, "leader", 200, "GET", "/api/v1/lists?kind=project", nil), &lists)
	found := ""
	for _, l := range lists.Items {
		var b struct {
			Items []struct {
				Kind  string `json:"kind"`
				RefID string `json:"ref_id"`
			} `json:"items"`
		}
		mustJSON(t, as(t, "leader", 200, "GET", "/api/v1/lists/"+l.ID, nil), &b)
		for _, it := range b.Items {
			if it.Kind == "project" && it.RefID == kp.Project.ID && l.RegionPath == "/500000/500103/" {
				found = l.ID
			}
		}
	}
	if found == "" {
		t.Fatal("the project is not on the district's key project list")
	}
	refuse(t, "syl_zhihui", 409, "", "POST", "/api/v1/cases/"+c.ID+"/key-project", map[string]any{"note": "again", "goal": "g", "lead_unit": "cg",
		"milestones": []map[string]any{{"title": "t", "limit": map[string]any{"amount": 1, "unit": "work_days"}}}})

	// On-site research, the council meeting and its plan, on the case.
	pid := kp.Project.ID
	as(t, "cg_staff", 200, "POST", "/api/v1/projects/"+pid+"/actions", map[string]any{"action": "meet", "seq": 1, "evidence": "区城管局、区教委现场调研"})
	act(t, "qu_zhihui", c.ID, map[string]any{"action": "meeting", "meeting": map[string]any{"kind": "council", "place": "肖家沟小学会议室",
		"shown":     "整治方案：清运垃圾、补种绿植、修复围墙",
		"attendees": []map[string]string{{"kind": "resident", "name": "学校负责人"}, {"kind": "unit", "unit_id": "cg"}}}})
	refuse(t, "leader", 409, "", "POST", "/api/v1/projects/"+pid+"/actions", map[string]any{"action": "verify", "verdict": "验收合格"})
	refuse(t, "jumin", 404, "", "POST", "/api/v1/projects/"+pid+"/actions", map[string]any{"action": "meet", "seq": 2, "evidence": "x"})
	refuse(t, "cg_staff", 400, "evidence", "POST", "/api/v1/projects/"+pid+"/actions", map[string]any{"action": "meet", "seq": 2})
	as(t, "cg_staff", 200, "POST", "/api/v1/projects/"+pid+"/actions", map[string]any{"action": "meet", "seq": 2, "evidence": "议事会通过整治方案"})
	as(t, "leader", 200, "POST", "/api/v1/projects/"+pid+"/actions", map[string]any{"action": "meet", "seq": 3, "evidence": "整治完成，围墙修复"})
	refuse(t, "cg_staff", 403, "", "POST", "/api/v1/projects/"+pid+"/actions", map[string]any{"action": "verify", "verdict": "验收合格"})
	var closed struct {
		State string `json:"state"`
	}
	mustJSON(t, as(t, "leader", 200, "POST", "/api/v1/projects/"+pid+"/actions", map[string]any{"action": "verify", "verdict": "验收合格，销号"}), &closed)
	if closed.State != "closed" {
		t.Fatalf("project after verify: %s", closed.State)
	}
	var view struct {
		Project struct {
			State string `json:"state"`
		} `json:"project"`
		Meetings []struct {
			Kind string `json:"kind"`
		} `json:"meetings"`
		Lists  []string `json:"lists"`
		Clocks []string `json:"clocks"`
	}
	mustJSON(t, as(t, "leader", 200, "GET", "/api/v1/projects/"+pid, nil), &view)
	if view.Project.State != "closed" || len(view.Meetings) != 1 || view.Meetings[0].Kind != "council" || !slices.Contains(view.Lists, found) {
		t.Fatalf("project view %+v", view)
	}
	for i, st := range view.Clocks {
		if st != "done" {
			t.Errorf("milestone %d clock %s, want done (met on time)", i+1, st)
		}
	}
	as(t, "cg_staff", 200, "GET", "/api/v1/projects/"+pid, nil)
	var all struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	mustJSON(t, as(t, "leader", 200, "GET", "/api/v1/projects", nil), &all)
	if len(all.Items) == 0 {
		t.Fatal("no projects listed")
	}
}

// TestSupervisedCaseClock: a leader supervises a case from a list with a
// deadline; the supervision's clock runs on the official calendar; the
// case's progress is reported back to the leader; the clock stops at the
// close.
func TestSupervisedCaseClock(t *testing.T) {
	_, shape := gridOf(t, "zhouchunyan")
	pt := pointIn(t, shape)
	var c caseView
	mustJSON(t, as(t, "zhouchunyan", 201, "POST", "/api/v1/cases", map[string]any{
		"source": "patrol", "category": "MS03", "point": map[string]float64{"lng": pt.Lng, "lat": pt.Lat},
		"description": "督办测试：垃圾堆放",
	}), &c)
	now := plat.Service.Now()
	var l struct {
		ID string `json:"id"`
	}
	mustJSON(t, as(t, "leader", 201, "POST", "/api/v1/lists", map[string]any{"name": fmt.Sprintf("%d月每月一题：垃圾堆放", now.Month()), "kind": "monthly",
		"topic": "垃圾堆放", "from": rfc(now.Add(-time.Hour)), "to": rfc(now.AddDate(0, 0, 28))}), &l)
	as(t, "leader", 201, "POST", "/api/v1/lists/"+l.ID+"/items", map[string]any{"kind": "case", "ref_id": c.ID})
	refuse(t, "leader", 409, "", "POST", "/api/v1/lists/"+l.ID+"/items", map[string]any{"kind": "case", "ref_id": c.ID})

	refuse(t, "leader", 400, "limit.amount", "POST", "/api/v1/cases/"+c.ID+"/supervise", map[string]any{"note": "尽快", "limit": map[string]any{"amount": 0, "unit": "work_days"}})
	refuse(t, "leader", 400, "note", "POST", "/api/v1/cases/"+c.ID+"/supervise", map[string]any{"limit": map[string]any{"amount": 3, "unit": "work_days"}})
	refuse(t, "syl_ms_a", 404, "", "POST", "/api/v1/cases/"+c.ID+"/supervise", map[string]any{"note": "x", "limit": map[string]any{"amount": 3, "unit": "work_days"}})
	var sv struct {
		Supervision struct {
			ID    string `json:"id"`
			Clock struct {
				Start time.Time `json:"start"`
				Due   time.Time `json:"due"`
			} `json:"clock"`
		} `json:"supervision"`
		Case struct {
			Supervised bool `json:"supervised"`
		} `json:"case"`
	}
	mustJSON(t, as(t, "leader", 201, "POST", "/api/v1/cases/"+c.ID+"/supervise", map[string]any{
		"note": "三个工作日内办结", "limit": map[string]any{"amount": 3, "unit": "work_days"}, "list_id": l.ID}), &sv)
	if !sv.Case.Supervised {
		t.Fatal("the case is not marked supervised")
	}
	if due := sla.Due(plat.Service.Calendar(), sv.Supervision.Clock.Start, sla.Limit{Amount: 3, Unit: sla.WorkDays}); !due.Equal(sv.Supervision.Clock.Due) {
		t.Fatalf("supervision due %v, want %v on the calendar", sv.Supervision.Clock.Due, due)
	}
	_, steps := detail(t, "syl_zhihui", c.ID)
	if last := steps[len(steps)-1]; last.Action != "supervise" || last.ActorName != "区领导" {
		t.Fatalf("last step %+v", last)
	}

	type svView struct {
		ID       string `json:"id"`
		Status   string `json:"status"`
		State    string `json:"state"`
		Since    int    `json:"since"`
		LastStep string `json:"last_step"`
	}
	mine := func() svView {
		var out struct {
			Items []svView `json:"items"`
		}
		mustJSON(t, as(t, "leader", 200, "GET", "/api/v1/supervisions?supervisor=me", nil), &out)
		for _, it := range out.Items {
			if it.ID == sv.Supervision.ID {
				return it
			}
		}
		t.Fatalf("supervision %s not reported back to the leader", sv.Supervision.ID)
		return svView{}
	}
	if v := mine(); v.Status != "green" || v.Since != 0 {
		t.Fatalf("fresh supervision %+v", v)
	}
	closeCase(t, c.ID)
	v := mine()
	if v.State != "closed" || v.Since != 5 || v.Status != "done" || v.LastStep == "" {
		t.Fatalf("after the close, the supervision shows %+v", v)
	}
	var byCase struct {
		Items []svView `json:"items"`
	}
	mustJSON(t, as(t, "syl_zhihui", 200, "GET", "/api/v1/supervisions?case="+c.ID, nil), &byCase)
	if len(byCase.Items) != 1 {
		t.Fatalf("supervisions of the case: %+v", byCase.Items)
	}
	var b struct {
		Items []struct {
			RefID      string `json:"ref_id"`
			Supervised bool   `json:"supervised"`
			Open       bool   `json:"open"`
		} `json:"items"`
		Closed int `json:"closed"`
	}
	mustJSON(t, as(t, "leader", 200, "GET", "/api/v1/lists/"+l.ID, nil), &b)
	if len(b.Items) != 1 || !b.Items[0].Supervised || b.Items[0].Open || b.Closed != 1 {
		t.Fatalf("monthly topic board %+v", b)
	}
}

// TestScenarioS5Milestones: the 菜袁路 ventilation repair as a project on
// 菜园坝街道's own list, with four milestones one after another on the
// official calendar; the project cannot close before each is met.
func TestScenarioS5Milestones(t *testing.T) {
	now := plat.Service.Now()
	var l struct {
		ID         string `json:"id"`
		RegionPath string `json:"region_path"`
	}
	mustJSON(t, as(t, "qu_zhihui", 201, "POST", "/api/v1/lists", map[string]any{"name": "菜园坝街道民生实事清单", "kind": "street",
		"region": "500103007", "from": rfc(now.Add(-time.Hour)), "to": rfc(now.AddDate(0, 6, 0))}), &l)
	if l.RegionPath != "/500000/500103/500103007/" {
		t.Fatalf("street list %+v", l)
	}
	refuse(t, "jfb_zhihui", 403, "", "POST", "/api/v1/lists", map[string]any{"name": "越权清单", "kind": "street",
		"region": "500103007", "from": rfc(now), "to": rfc(now.AddDate(0, 6, 0))})
	var p struct {
		ID         string `json:"id"`
		State      string `json:"state"`
		Milestones []struct {
			Title string `json:"title"`
			Clock struct {
				Start time.Time `json:"start"`
				Due   time.Time `json:"due"`
			} `json:"clock"`
		} `json:"milestones"`
	}
	titles := []string{"入户摸排", "居民代表大会议定维修资金", "消防专家讲解风险", "四套新风系统安装完成"}
	days := []int{3, 5, 2, 10}
	var ms []map[string]any
	for i, ti := range titles {
		ms = append(ms, map[string]any{"title": ti, "limit": map[string]any{"amount": days[i], "unit": "work_days"}})
	}
	mustJSON(t, as(t, "qu_zhihui", 201, "POST", "/api/v1/projects", map[string]any{"name": "菜袁路107、109号新风系统维修", "goal": "恢复新风系统，消除火灾隐患",
		"lead_unit": "zj", "co_units": []string{"xf"}, "region": "500103007", "list_id": l.ID, "milestones": ms}), &p)
	if len(p.Milestones) != 4 || p.State != "open" {
		t.Fatalf("project %+v", p)
	}
	cal := plat.Service.Calendar()
	for i, m := range p.Milestones {
		if due := sla.Due(cal, m.Clock.Start, sla.Limit{Amount: days[i], Unit: sla.WorkDays}); !due.Equal(m.Clock.Due) || m.Title != titles[i] {
			t.Fatalf("milestone %d (%s) due %v, want %v", i+1, m.Title, m.Clock.Due, due)
		}
	}
	var b struct {
		Items []struct {
			Kind     string `json:"kind"`
			RefID    string `json:"ref_id"`
			Clock    string `json:"clock"`
			LastStep string `json:"last_step"`
		} `json:"items"`
	}
	mustJSON(t, as(t, "qu_zhihui", 200, "GET", "/api/v1/lists/"+l.ID, nil), &b)
	if len(b.Items) != 1 || b.Items[0].RefID != p.ID || b.Items[0].Clock != "green" || !strings.Contains(b.Items[0].LastStep, "入户摸排") {
		t.Fatalf("street list board %+v", b.Items)
	}
	for seq := 1; seq <= 4; seq++ {
		if seq == 4 {
			refuse(t, "qu_zhihui", 409, "", "POST", "/api/v1/projects/"+p.ID+"/actions", map[string]any{"action": "verify", "verdict": "验收"})
		}
		as(t, "qu_zhihui", 200, "POST", "/api/v1/projects/"+p.ID+"/actions", map[string]any{"action": "meet", "seq": seq, "evidence": titles[seq-1] + "：已完成"})
	}
	refuse(t, "qu_zhihui", 409, "", "POST", "/api/v1/projects/"+p.ID+"/actions", map[string]any{"action": "meet", "seq": 4, "evidence": "again"})
	refuse(t, "qu_zhihui", 409, "", "POST", "/api/v1/projects/"+p.ID+"/actions", map[string]any{"action": "verify", "verdict": "验收合格", "version": 1})
	as(t, "qu_zhihui", 200, "POST", "/api/v1/projects/"+p.ID+"/actions", map[string]any{"action": "verify", "verdict": "验收合格"})
}
