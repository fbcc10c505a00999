package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/gridwork"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
)

// TestGridWorkAPI walks the grid worker's routes as 杨诗培 (S2): her grid
// and day, a patrol uploaded twice and stored once, a visit, the roster
// with a household whose phone no unit's staff ever sees and whose every
// reveal is recorded, the team, the plan, the import and the figures; and
// the scopes of the other roles.
func TestGridWorkAPI(t *testing.T) {
	var grids struct {
		Items []service.GridRef `json:"items"`
	}
	mustJSON(t, as(t, "yangshipei", 200, "GET", "/api/v1/grids", nil), &grids)
	if len(grids.Items) != 1 {
		t.Fatalf("杨诗培 works in %d grids, want 1", len(grids.Items))
	}
	grid := grids.Items[0].Code
	mustJSON(t, as(t, "syl_ms_a", 200, "GET", "/api/v1/grids", nil), &grids)
	if len(grids.Items) != 0 {
		t.Errorf("a unit's staff sees %d grids", len(grids.Items))
	}
	rg, err := plat.DB.Region(t.Context(), grid)
	if err != nil {
		t.Fatal(err)
	}
	c := rg.Shape.Centroid()
	now := plat.Service.Now().UTC()
	// The day's figures below need the patrol (from 36 minutes ago) and the
	// visit on one day: in the first hour after midnight (Beijing) both are
	// put just before it.
	if l := now.In(time.FixedZone("CST", 8*3600)); l.Hour() == 0 {
		now = now.Add(-time.Duration(l.Minute()+2) * time.Minute)
	}
	var fixes []gridwork.Fix
	for i := 0; i < 30; i++ {
		fixes = append(fixes, gridwork.Fix{Lng: c.Lng + float64(i)*0.00004, Lat: c.Lat, At: now.Add(time.Duration(i-35) * time.Minute), Accuracy: 5})
	}
	ref := fmt.Sprintf("api-patrol-%d", now.UnixNano())
	up := map[string]any{"client_ref": ref, "grid": grid, "started_at": now.Add(-36 * time.Minute), "ended_at": now.Add(-time.Minute), "fixes": fixes}
	var first, second service.PatrolResult
	mustJSON(t, as(t, "yangshipei", 201, "POST", "/api/v1/patrols", up), &first)
	mustJSON(t, as(t, "yangshipei", 201, "POST", "/api/v1/patrols", up), &second)
	if first.Replay || !second.Replay || first.Patrol.ID != second.Patrol.ID {
		t.Fatalf("a patrol uploaded twice: %+v / %+v", first.Patrol.ID, second.Patrol.ID)
	}
	stored := 0
	ps, _ := plat.DB.Patrols(t.Context(), store.GridFilter{PersonID: first.Patrol.WorkerID, Under: rg.Path})
	for _, p := range ps {
		if p.ClientRef == ref {
			stored++
		}
	}
	if stored != 1 {
		t.Fatalf("%d patrols stored for one uploaded twice", stored)
	}
	as(t, "zhouchunyan", 403, "POST", "/api/v1/patrols", up)
	as(t, "syl_ms_a", 403, "POST", "/api/v1/patrols", up)
	bad := map[string]any{"client_ref": ref + "x", "grid": grid, "started_at": now, "ended_at": now.Add(-time.Hour), "fixes": fixes}
	if b := as(t, "yangshipei", 400, "POST", "/api/v1/patrols", bad); !strings.Contains(string(b), "ended_at") {
		t.Errorf("a patrol ending before it starts: %s", b)
	}
	var detail struct {
		Fixes []gridwork.Fix `json:"fixes"`
	}
	mustJSON(t, as(t, "yangshipei", 200, "GET", "/api/v1/patrols/"+first.Patrol.ID, nil), &detail)
	if len(detail.Fixes) < 2 {
		t.Errorf("the patrol's track has %d fixes", len(detail.Fixes))
	}
	as(t, "syl_ms_a", 404, "GET", "/api/v1/patrols/"+first.Patrol.ID, nil)
	as(t, "syl_zhihui", 200, "GET", "/api/v1/grids/"+grid+"/patrols", nil)
	as(t, "syl_ms_a", 403, "GET", "/api/v1/grids/"+grid+"/patrols?period="+now.Format("2006-01"), nil)

	visit := map[string]any{"client_ref": ref + "-v", "grid": grid, "place_kind": "household", "place": "民乐村5栋302", "at": now.Add(-5 * time.Minute),
		"needs": []map[string]any{{"text": "想办老年卡", "outcome": "answered", "answer": "带身份证到社区办理"}}}
	var v service.VisitResult
	mustJSON(t, as(t, "yangshipei", 201, "POST", "/api/v1/household-visits", visit), &v)
	if v.Visit.ID == "" || len(v.Visit.Needs) != 1 {
		t.Fatalf("visit %+v", v)
	}
	as(t, "yangshipei", 200, "GET", "/api/v1/grids/"+grid+"/visits", nil)
	as(t, "yangshipei", 200, "GET", "/api/v1/grids/today", nil)

	// The roster: a household and a person.
	var house gridwork.Place
	mustJSON(t, as(t, "yangshipei", 200, "PUT", "/api/v1/grids/"+grid+"/places", map[string]any{"kind": "household", "name": ref + "户"}), &house)
	phone := "13912345678"
	var masked gridwork.Person
	mustJSON(t, as(t, "yangshipei", 200, "PUT", "/api/v1/grids/"+grid+"/people", map[string]any{"place_id": house.ID, "name": "王大妈", "phone": phone, "tags": []string{"独居老人"}}), &masked)
	if masked.Phone == phone || !masked.Masked {
		t.Fatalf("a person written back unmasked: %+v", masked)
	}
	for _, who := range []string{"syl_ms_a", "syl_ms", "cg_staff", "syl_pa_head"} {
		if st, b := call(t, token(t, who), "GET", "/api/v1/grids/"+grid+"/roster", nil); st != http.StatusForbidden || strings.Contains(string(b), phone) {
			t.Errorf("%s (a unit's staff) read the roster: %d %s", who, st, b)
		}
		if st, b := call(t, token(t, who), "GET", "/api/v1/people/"+masked.ID, nil); st != http.StatusNotFound || strings.Contains(string(b), phone) {
			t.Errorf("%s (a unit's staff) revealed a person: %d %s", who, st, b)
		}
	}
	ros := as(t, "syl_zhihui", 200, "GET", "/api/v1/grids/"+grid+"/roster", nil)
	if strings.Contains(string(ros), phone) || strings.Contains(string(ros), "王大妈") || !strings.Contains(string(ros), "139****5678") {
		t.Errorf("the commander's roster shows personal data: %s", ros)
	}
	as(t, "syl_zhihui", 403, "GET", "/api/v1/people/"+masked.ID, nil)
	reads := func() int {
		var log struct {
			Items []store.AuditEntry `json:"items"`
		}
		mustJSON(t, as(t, "admin", 200, "GET", "/api/v1/audit?kind=personal_data&object_id="+masked.ID, nil), &log)
		return len(log.Items)
	}
	if n := reads(); n != 0 {
		t.Fatalf("%d reads recorded before any reveal (the refused ones included)", n)
	}
	var full gridwork.Person
	mustJSON(t, as(t, "yangshipei", 200, "GET", "/api/v1/people/"+masked.ID, nil), &full)
	if full.Phone != phone || full.Name != "王大妈" {
		t.Fatalf("revealed %+v", full)
	}
	as(t, "yangshipei", 200, "GET", "/api/v1/people/"+masked.ID, nil)
	if n := reads(); n != 2 {
		t.Errorf("%d reads recorded for two reveals", n)
	}
	// Import, team, plan, figures.
	st, b := callType(t, token(t, "yangshipei"), "POST", "/api/v1/grids/"+grid+"/roster/import", "text/csv", "类型,名称\n商铺,"+ref+"店\n")
	if st != 200 || !strings.Contains(string(b), `"places":1`) {
		t.Errorf("import: %d %s", st, b)
	}
	st, b = callType(t, token(t, "yangshipei"), "POST", "/api/v1/grids/"+grid+"/roster/import", "text/csv", "类型,名称\n城堡,x\n")
	if st != 400 || !strings.Contains(string(b), "line2.类型") {
		t.Errorf("import of a bad file: %d %s", st, b)
	}
	as(t, "yangshipei", 200, "PUT", "/api/v1/grids/"+grid+"/team", map[string]any{"members": []map[string]any{{"name": "民乐村网格长", "role": "chief"}, {"name": "杨诗培", "role": "full_time"}, {"name": "李志愿", "role": "volunteer"}}})
	var team service.TeamView
	mustJSON(t, as(t, "syl_zhihui", 200, "GET", "/api/v1/grids/"+grid+"/team", nil), &team)
	if team.One != 1 || team.Three != 1 || team.N != 1 {
		t.Errorf("team %+v", team)
	}
	as(t, "syl_zhihui", 403, "PUT", "/api/v1/grids/"+grid+"/team", map[string]any{"members": []any{}})
	as(t, "syl_ms_a", 403, "GET", "/api/v1/grids/"+grid+"/team", nil)
	as(t, "yangshipei", 200, "PUT", "/api/v1/grids/"+grid+"/plan", map[string]any{"per_week": 0, "min_minutes": 30})
	as(t, "yangshipei", 400, "PUT", "/api/v1/grids/"+grid+"/plan", map[string]any{"per_week": 8})
	var fig service.GridFigures
	mustJSON(t, as(t, "syl_zhihui", 200, "GET", "/api/v1/gridwork/figures?period="+now.In(time.FixedZone("CST", 8*3600)).Format("2006-01-02"), nil), &fig)
	found := false
	for _, f := range fig.Figures {
		if f.Kind == "grid" && f.ID == grid && f.Patrols >= 1 && f.Visits >= 1 && f.Coverage != nil && f.Coverage.Covered > 0 {
			found = true
		}
	}
	if !found {
		t.Errorf("the figures miss the grid's patrol and visit: %+v", fig.Figures)
	}
	as(t, "syl_ms_a", 403, "GET", "/api/v1/gridwork/figures", nil)

	// A resident's message through the grid's door, replied to by API.
	tok, err := plat.Service.FormToken(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	msg, _, err := plat.Service.PostGridMessage(t.Context(), service.Knock{Client: "192.0.2.50", Token: tok}, grid, gridwork.MessageInput{Phone: "13900005555", Text: ref + " 路灯不亮"})
	if err != nil {
		t.Fatal(err)
	}
	list := as(t, "syl_zhihui", 200, "GET", "/api/v1/grids/"+grid+"/messages", nil)
	if strings.Contains(string(list), "13900005555") || !strings.Contains(string(list), ref+" 路灯不亮") {
		t.Errorf("the commander's list of messages shows the phone: %s", list)
	}
	if b := as(t, "yangshipei", 200, "GET", "/api/v1/grids/"+grid+"/messages", nil); !strings.Contains(string(b), "13900005555") {
		t.Errorf("the grid's worker sees the phone masked: %s", b)
	}
	as(t, "syl_ms_a", 403, "GET", "/api/v1/grids/"+grid+"/messages", nil)
	as(t, "syl_zhihui", 403, "POST", "/api/v1/messages/"+msg.ID+"/actions", map[string]any{"action": "reply", "answer": "x"})
	as(t, "yangshipei", 400, "POST", "/api/v1/messages/"+msg.ID+"/actions", map[string]any{"action": "reply"})
	var replied gridwork.Message
	mustJSON(t, as(t, "yangshipei", 200, "POST", "/api/v1/messages/"+msg.ID+"/actions", map[string]any{"action": "reply", "answer": "今晚修好"}), &replied)
	if replied.State != gridwork.Replied || replied.AnsweredBy != "杨诗培" {
		t.Errorf("replied %+v", replied)
	}
	as(t, "yangshipei", 409, "POST", "/api/v1/messages/"+msg.ID+"/actions", map[string]any{"action": "block"})
}
