package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/gridwork"
)

// TestPartyConsole: 新影村's secretary registers an in-service party
// member on /party (bad input comes back naming the problem, nothing
// stored), founds a volunteer group, records hours; the page lists them
// with the phone masked and the month's figures count them; the street's
// commander sees the figures; a grid worker may not open the page.
func TestPartyConsole(t *testing.T) {
	ctx := context.Background()
	c := signIn(t, "xyc_shuji")
	expect(t, c.get("/party"), http.StatusOK, "党员双报到", "登记报到", "党建统计", `id="party-member-form"`)
	phone := fmt.Sprintf("136%08d", time.Now().UnixNano()%1e8)
	bad := c.post("/party/member", url.Values{"name": {"钱党员"}, "phone": {phone}, "tasks": {"巡河\n助老"}})
	expect(t, bad, http.StatusBadRequest, "请填写工作单位或所在党组织", "钱党员")
	if strings.Contains(c.get("/party").body, "钱党员") {
		t.Fatal("a refused registration was stored")
	}
	r := c.post("/party/member", url.Values{"name": {"钱党员"}, "org": {"渝中区教委"}, "phone": {phone}, "tasks": {"巡河\n助老"}})
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/party?done=") {
		t.Fatalf("register: %d %s", r.status, excerpt(r.body))
	}
	group := fmt.Sprintf("新影村河长志愿队%d", time.Now().UnixNano())
	if r := c.post("/party/group", url.Values{"name": {group}, "services": {"巡河护河"}}); r.status != http.StatusSeeOther {
		t.Fatalf("group: %d %s", r.status, excerpt(r.body))
	}
	a := actor(t, "xyc_shuji")
	comm := a.RegionPath[strings.LastIndex(strings.TrimSuffix(a.RegionPath, "/"), "/")+1 : len(a.RegionPath)-1]
	board, err := plat.Service.Party(ctx, a, comm)
	if err != nil {
		t.Fatal(err)
	}
	var member gridwork.PartyMember
	for _, m := range board.Members {
		if m.Name == "钱党员" {
			member = m
		}
	}
	if member.ID == "" || len(member.Tasks) != 2 {
		t.Fatalf("the member: %+v", member)
	}
	expect(t, c.post("/party/hours", url.Values{"member_id": {member.ID}, "activity": {"巡河"}, "on": {gridwork.Today(plat.Service.Now())}, "hours": {"一个半"}}),
		http.StatusBadRequest, "服务时长应为小时数")
	if r := c.post("/party/hours", url.Values{"member_id": {member.ID}, "activity": {"巡河"}, "on": {gridwork.Today(plat.Service.Now())}, "hours": {"1.5"}}); r.status != http.StatusSeeOther {
		t.Fatalf("hours: %d %s", r.status, excerpt(r.body))
	}
	page := c.get("/party")
	expect(t, page, http.StatusOK, "钱党员", "渝中区教委", phone[:3]+"****"+phone[7:], "巡河、助老", group, "1.5</td>")
	if strings.Contains(page.body, phone) {
		t.Error("the page shows a phone whole")
	}
	expect(t, signIn(t, "syl_zhihui").get("/party"), http.StatusOK, "党建统计", "新影村")
	if r := signIn(t, "zhouchunyan").get("/party"); r.status != http.StatusForbidden {
		t.Errorf("a grid worker opened /party: %d", r.status)
	}
}
