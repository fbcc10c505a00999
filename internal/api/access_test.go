package api_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
)

func TestAccessUnitSeesOnlyItsCases(t *testing.T) {
	c := report(t, nil)
	// Not dispatched yet: no unit sees it.
	as(t, "yj_staff", 404, "GET", "/api/v1/cases/"+c.ID, nil)
	d := dispatched(t)
	as(t, "yj_staff", 200, "GET", "/api/v1/cases/"+d.ID, nil)
	as(t, "scjg_staff", 200, "GET", "/api/v1/cases/"+d.ID, nil)
	// cg was not whistled in: it can neither read nor act.
	out := as(t, "cg_staff", 404, "GET", "/api/v1/cases/"+d.ID, nil)
	if !strings.Contains(string(out), "案件不存在") {
		t.Errorf("404 body: %s", out)
	}
	as(t, "cg_staff", 404, "POST", "/api/v1/cases/"+d.ID+"/actions", map[string]any{"action": "sign"})
	as(t, "cg_staff", 404, "GET", "/api/v1/cases/"+d.ID+"/duplicates", nil)
	var list struct {
		Items []caseView `json:"items"`
	}
	mustJSON(t, as(t, "cg_staff", 200, "GET", "/api/v1/cases?limit=500", nil), &list)
	for _, it := range list.Items {
		if it.ID == d.ID || it.ID == c.ID {
			t.Errorf("cg_staff's list holds case %s", it.ID)
		}
	}
}

func TestAccessOtherStreetCommander(t *testing.T) {
	c := report(t, nil)
	as(t, "jfb_zhihui", 404, "GET", "/api/v1/cases/"+c.ID, nil)
	as(t, "jfb_zhihui", 404, "POST", "/api/v1/cases/"+c.ID+"/actions", map[string]any{"action": "accept"})
	as(t, "jfb_zhihui", 404, "GET", "/api/v1/cases/"+c.ID+"/duplicates", nil)
	var list struct {
		Items []caseView `json:"items"`
	}
	mustJSON(t, as(t, "jfb_zhihui", 200, "GET", "/api/v1/cases?limit=500", nil), &list)
	for _, it := range list.Items {
		if it.ID == c.ID {
			t.Errorf("解放碑 commander lists 石油路 case %s", c.ID)
		}
	}
	// The case is untouched, and the district commander above both sees it.
	n, _ := detail(t, "syl_zhihui", c.ID)
	if n.State != "reported" || n.Version != c.Version {
		t.Errorf("case changed: %s v%d", n.State, n.Version)
	}
	as(t, "qu_zhihui", 200, "GET", "/api/v1/cases/"+c.ID, nil)
}

func TestAccessResidentSeesOwnCases(t *testing.T) {
	_, shape := gridOf(t, "zhouchunyan")
	p := pointIn(t, shape)
	var own caseView
	mustJSON(t, as(t, "jumin", 201, "POST", "/api/v1/cases", map[string]any{
		"source": "resident", "category": "MS03", "description": "楼下垃圾暴露堆放",
		"point": map[string]float64{"lng": p.Lng, "lat": p.Lat},
	}), &own)
	other := report(t, nil)
	as(t, "jumin", 200, "GET", "/api/v1/cases/"+own.ID, nil)
	as(t, "jumin", 404, "GET", "/api/v1/cases/"+other.ID, nil)
	var me struct {
		ID string `json:"id"`
	}
	mustJSON(t, as(t, "jumin", 200, "GET", "/api/v1/me", nil), &me)
	var list struct {
		Items []caseView `json:"items"`
	}
	mustJSON(t, as(t, "jumin", 200, "GET", "/api/v1/cases?limit=500", nil), &list)
	seen := false
	for _, it := range list.Items {
		// A list item carries no reporter: the district's commander reads
		// the case to check whose it is.
		if got, _ := detail(t, "qu_zhihui", it.ID); got.Reporter.AccountID != me.ID {
			t.Errorf("resident lists case %s reported by %q", it.ID, got.Reporter.Name)
		}
		seen = seen || it.ID == own.ID
	}
	if !seen {
		t.Errorf("resident's own case %s not in the list", own.ID)
	}
	// A resident cannot act as a center.
	as(t, "jumin", 409, "POST", "/api/v1/cases/"+own.ID+"/actions", map[string]any{"action": "accept"})
}

func TestAccessPhoneMasking(t *testing.T) {
	const phone = "13912345678"
	c := report(t, map[string]any{"reporter": map[string]string{"name": "店主李先生", "phone": phone}})
	act(t, "syl_zhihui", c.ID, map[string]any{"action": "accept"})
	act(t, "syl_zhihui", c.ID, map[string]any{"action": "dispatch", "lead_unit": "yj"})
	// The commander sees it masked too, and reveals it on demand: each reveal
	// is in the audit trail (issue 20: reads of personal data are logged).
	if got, _ := detail(t, "syl_zhihui", c.ID); got.Reporter.Phone != "139****5678" {
		t.Errorf("commander's case detail shows phone %q, want it masked", got.Reporter.Phone)
	}
	var rep struct{ Name, Phone string }
	mustJSON(t, as(t, "syl_zhihui", 200, "GET", "/api/v1/cases/"+c.ID+"/reporter", nil), &rep)
	if rep.Phone != phone || rep.Name != "店主李先生" {
		t.Errorf("revealed reporter: %+v", rep)
	}
	var audit struct {
		Items []struct {
			ActorName string `json:"actor_name"`
			ObjectID  string `json:"object_id"`
			Action    string `json:"action"`
		} `json:"items"`
	}
	mustJSON(t, as(t, "admin", 200, "GET", "/api/v1/audit?kind=personal_data&object_id="+c.ID, nil), &audit)
	if len(audit.Items) != 1 || audit.Items[0].Action != "read" || audit.Items[0].ActorName == "" {
		t.Errorf("the reveal's record: %+v", audit.Items)
	}
	// Units, grid workers and leaders may not reveal it.
	for _, u := range []string{"yj_staff", "zhouchunyan", "leader"} {
		if st, body := call(t, token(t, u), "GET", "/api/v1/cases/"+c.ID+"/reporter", nil); st != 403 && st != 404 || strings.Contains(string(body), phone) {
			t.Errorf("%s reveals: %d %s", u, st, body)
		}
	}
	got, _ := detail(t, "yj_staff", c.ID)
	if got.Reporter.Phone != "139****5678" {
		t.Errorf("unit sees phone %q, want 139****5678", got.Reporter.Phone)
	}
	// Absent from the unit's list (a list item has no reporter), and
	// masked in the answer to its own action.
	var list struct {
		Items []map[string]any `json:"items"`
	}
	body := as(t, "yj_staff", 200, "GET", "/api/v1/cases?limit=500", nil)
	mustJSON(t, body, &list)
	listed := false
	for _, it := range list.Items {
		if it["id"] == c.ID {
			listed = true
			if _, ok := it["reporter"]; ok {
				t.Errorf("unit list's item has a reporter: %v", it)
			}
		}
	}
	if !listed || strings.Contains(string(body), phone) || strings.Contains(string(body), "139****5678") {
		t.Errorf("unit list (case listed: %v) shows the phone: %s", listed, body)
	}
	if n := act(t, "yj_staff", c.ID, map[string]any{"action": "sign"}); n.Reporter.Phone != "139****5678" {
		t.Errorf("unit's action answer shows phone %q", n.Reporter.Phone)
	}
	if strings.Contains(string(as(t, "yj_staff", 200, "GET", "/api/v1/cases/"+c.ID, nil)), phone) {
		t.Error("full phone number appears in the unit's case detail")
	}
}

func TestStaleVersionConflict(t *testing.T) {
	c := report(t, nil)
	n := act(t, "syl_zhihui", c.ID, map[string]any{"action": "accept", "version": c.Version})
	st, body := call(t, token(t, "syl_zhihui"), "POST", "/api/v1/cases/"+c.ID+"/actions",
		map[string]any{"action": "dispatch", "lead_unit": "yj", "version": c.Version})
	if st != http.StatusConflict || !strings.Contains(string(body), "conflict") || !strings.Contains(string(body), "刷新") {
		t.Fatalf("stale version: %d %s, want 409 conflict", st, body)
	}
	got, steps := detail(t, "syl_zhihui", c.ID)
	if got.Version != n.Version || got.State != "accepted" || len(steps) != 2 {
		t.Errorf("after the refused action: v%d %s with %d steps", got.Version, got.State, len(steps))
	}
	act(t, "syl_zhihui", c.ID, map[string]any{"action": "dispatch", "lead_unit": "yj", "version": n.Version})
}

// race sends the same action on a case from two goroutines at once and checks
// that exactly one wins and the other gets 409.
func race(t *testing.T, username, id string, cmd map[string]any) {
	t.Helper()
	tok := token(t, username)
	var wg sync.WaitGroup
	start := make(chan struct{})
	status := make([]int, 2)
	bodies := make([][]byte, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			status[i], bodies[i] = call(t, tok, "POST", "/api/v1/cases/"+id+"/actions", cmd)
		}()
	}
	close(start)
	wg.Wait()
	ok, conflict := 0, 0
	for i, st := range status {
		switch st {
		case http.StatusOK:
			ok++
		case http.StatusConflict:
			conflict++
		default:
			t.Errorf("%s %v: status %d: %s", username, cmd["action"], st, bodies[i])
		}
	}
	if ok != 1 || conflict != 1 {
		t.Errorf("%s %v twice at once: %d succeeded, %d conflicted (%s | %s)", username, cmd["action"], ok, conflict, bodies[0], bodies[1])
	}
}

func TestConcurrentActions(t *testing.T) {
	for range 3 {
		c := report(t, nil)
		race(t, "syl_zhihui", c.ID, map[string]any{"action": "accept"})
		act(t, "syl_zhihui", c.ID, map[string]any{"action": "dispatch", "lead_unit": "yj", "co_units": []string{"xf"}})
		race(t, "yj_staff", c.ID, map[string]any{"action": "sign"})
		// With the version the client saw: still exactly one.
		got, _ := detail(t, "syl_zhihui", c.ID)
		race(t, "xf_staff", c.ID, map[string]any{"action": "sign", "version": got.Version})
		_, steps := detail(t, "syl_zhihui", c.ID)
		count := map[string]int{}
		for _, s := range steps {
			count[s.Action+"/"+s.UnitID]++
		}
		if count["accept/"] != 1 || count["sign/yj"] != 1 || count["sign/xf"] != 1 {
			t.Errorf("timeline counts: %v", count)
		}
		for i, s := range steps {
			if s.Seq != i+1 {
				t.Errorf("step %d has seq %d", i+1, s.Seq)
			}
		}
	}
}
