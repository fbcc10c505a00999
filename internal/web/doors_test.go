package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/server"
	"zhizhi/internal/server/servertest"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
)

// TestResidentDoorFlood plays issue 20's flood through the console, on a
// platform of its own with tight limits: a used form is refused with a
// message (and a fresh form); past the client's soft limit reports are
// acknowledged but held (待甄别), outside the board; past the hard limit
// 429 with Retry-After. The center's commander releases one from the
// holding queue and rejects the rest at once, after one confirmation.
func TestResidentDoorFlood(t *testing.T) {
	p, s, done, err := servertest.DemoWith("webdoors", 0, func(c *server.Config) {
		c.Doors = service.DoorLimits{ClientHold: 1, ClientMax: 3}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	res := newClient(t)
	res.base = s.URL
	grid := gridPoint(t, "zhouchunyan") // the same regions as the shared platform
	form := func(ref, phone, desc string) url.Values {
		return url.Values{"ref": {ref}, "category": {"MS03"}, "description": {desc}, "lat": {fmt.Sprint(grid.Lat)},
			"lng": {fmt.Sprint(grid.Lng)}, "reporter_phone": {phone}}
	}
	page := func() string {
		t.Helper()
		r := res.get("/r")
		m := refRE.FindStringSubmatch(r.body)
		if r.status != 200 || m == nil {
			t.Fatalf("/r: %d, no form token", r.status)
		}
		return m[1]
	}
	number := func(r response) string {
		t.Helper()
		if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/r?reported=") {
			t.Fatalf("report: %d %s %s", r.status, r.location, excerpt(r.body))
		}
		n, _ := url.QueryUnescape(strings.TrimPrefix(r.location, "/r?reported="))
		return n
	}

	// One form: one case. The same form with another phone is refused,
	// nothing changes, and the form comes back with a fresh token.
	ref := page()
	first := number(res.post("/r", form(ref, "13950000001", "门前积水")))
	r := res.post("/r", form(ref, "13950000002", "门前积水（换个电话再提交）"))
	expect(t, r, http.StatusConflict, "这份表单已经提交过一次", "门前积水（换个电话再提交）")
	if m := refRE.FindStringSubmatch(r.body); m == nil || m[1] == ref {
		t.Error("the refused form did not come back with a fresh token")
	}
	if n, _ := p.Service.Count(context.Background(), cases.Actor{Role: cases.RoleAdmin, RegionPath: "/"}, store.CaseFilter{Text: "换个电话"}); n != 0 {
		t.Fatalf("a used form made %d cases", n)
	}
	// A made-up token: refused, with a fresh form.
	expect(t, res.post("/r", form("r-forged", "13950000003", "伪造")), http.StatusBadRequest, "表单已失效")

	// Fresh forms from the same client: the second and third are held,
	// still acknowledged with their numbers; the fourth is refused.
	var held []string
	for i := range 2 {
		held = append(held, number(res.post("/r", form(page(), fmt.Sprintf("1396000000%d", i), fmt.Sprintf("同一来源第%d件", i+2)))))
	}
	r = res.post("/r", form(page(), "13960000009", "同一来源第4件"))
	expect(t, r, http.StatusTooManyRequests, "提交过于频繁", "同一来源第4件")
	if r.header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	// The resident follows a held report like any other.
	expect(t, res.post("/r/follow", url.Values{"number": {held[0]}, "phone": {"13960000000"}}), http.StatusOK, "待甄别")

	// The center: the held reports are in the holding queue, not on the board.
	cmd := signInAt(t, &client{t: t, http: newClient(t).http, base: s.URL}, "syl_zhihui")
	board := cmd.get("/board")
	expect(t, board, http.StatusOK, first)
	for _, n := range held {
		if strings.Contains(board.body, n) {
			t.Errorf("held report %s on the board", n)
		}
	}
	q := cmd.get("/held")
	expect(t, q, http.StatusOK, "待甄别", held[0], held[1], "同一来源地址短时间内提交过多", "放行所选", "本页全部不予受理")
	if strings.Contains(q.body, first) {
		t.Error("a live report in the holding queue")
	}
	ids := map[string]string{}
	for _, n := range held {
		c, _, err := p.Service.Case(context.Background(), cases.Actor{Role: cases.RoleAdmin, RegionPath: "/"}, n)
		if err != nil || c.State != cases.Held {
			t.Fatalf("%s: %v %s", n, err, c.State)
		}
		ids[n] = c.ID
	}
	// Release one: live, its accept clock running from now.
	before := p.Service.Now()
	r = cmd.post("/held", url.Values{"action": {"release"}, "id": {ids[held[0]]}})
	if r.status != http.StatusSeeOther || !strings.Contains(r.location, "done=release") {
		t.Fatalf("release: %d %s %s", r.status, r.location, excerpt(r.body))
	}
	expect(t, cmd.get(r.location), http.StatusOK, "已放行 1 件")
	rel, _, _ := p.Service.Case(context.Background(), cases.Actor{Role: cases.RoleAdmin, RegionPath: "/"}, ids[held[0]])
	if rel.State != cases.Reported || rel.Clock.Start.Before(before.Add(-time.Second)) {
		t.Fatalf("released: %s, clock from %s", rel.State, rel.Clock.Start)
	}
	expect(t, cmd.get("/board"), http.StatusOK, held[0])
	// Reject the page: one confirmation, then done.
	r = cmd.post("/held", url.Values{"action": {"reject_page"}, "note": {"批量提交，不予受理"}, "page_id": {ids[held[1]]}})
	expect(t, r, http.StatusOK, "确认不予受理 1 件", "批量提交，不予受理")
	if c, _, _ := p.Service.Case(context.Background(), cases.Actor{Role: cases.RoleAdmin, RegionPath: "/"}, ids[held[1]]); c.State != cases.Held {
		t.Fatalf("rejected before the confirmation: %s", c.State)
	}
	expect(t, cmd.post("/held", url.Values{"action": {"reject"}, "id": {ids[held[1]]}, "note": {""}}), http.StatusBadRequest, "请填写不予受理的原因")
	r = cmd.post("/held", url.Values{"action": {"reject"}, "confirm": {"yes"}, "note": {"批量提交，不予受理"}, "id": {ids[held[1]]}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("confirmed reject: %d %s", r.status, excerpt(r.body))
	}
	expect(t, cmd.get(r.location), http.StatusOK, "已不予受理 1 件", "暂无待甄别的反映")
	if c, _, _ := p.Service.Case(context.Background(), cases.Actor{Role: cases.RoleAdmin, RegionPath: "/"}, ids[held[1]]); c.State != cases.Rejected {
		t.Fatalf("after the confirmed reject: %s", c.State)
	}
	// A leader sees the queue, without the actions.
	lead := signInAt(t, &client{t: t, http: newClient(t).http, base: s.URL}, "leader")
	if r := lead.get("/held"); r.status != http.StatusOK || strings.Contains(r.body, "放行所选") {
		t.Errorf("leader: %d, actions offered %v", r.status, strings.Contains(r.body, "放行所选"))
	}
}
