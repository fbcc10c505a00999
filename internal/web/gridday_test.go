package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"zhizhi/internal/gridwork"
	"zhizhi/internal/store"
)

var clientRefRE = regexp.MustCompile(`name="client_ref" value="([^"]+)"`)

// TestGridDayAndVisit: the grid worker's day page shows the patrol panel
// and the grid's plan; the visit form records a visit once however often
// it is sent, turns a need into a case of the grid, and sends bad input
// back naming the need's field; the community's team page shows the team
// and the week.
func TestGridDayAndVisit(t *testing.T) {
	ctx := context.Background()
	c := signIn(t, "zhouchunyan")
	expect(t, c.get("/m/day"), http.StatusOK, `id="patrol-start"`, "巡查计划", "每个工作日", "/static/patrol.", "今日工作")
	r := c.get("/m/visit")
	expect(t, r, http.StatusOK, "记录走访", "当场答复", "转为案件", "承诺跟进")
	m := clientRefRE.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatal("the visit form has no client reference")
	}
	ref := m[1]
	a := actor(t, "zhouchunyan")
	codes := strings.Split(strings.Trim(a.RegionPath, "/"), "/")
	grid := codes[len(codes)-1]
	form := func() url.Values {
		return url.Values{"client_ref": {ref}, "grid": {grid}, "place_kind": {"shop"}, "place": {"新影村水果店"},
			"need0.text": {"门口井盖松动"}, "need0.outcome": {"case"}, "need0.category": {"MS03"},
			"need1.text": {"营业执照年报怎么办"}, "need1.outcome": {"answered"}}
	}
	bad := c.post("/m/visit", form())
	expect(t, bad, http.StatusBadRequest, "当场答复的诉求请填写答复内容", "新影村水果店")
	if _, err := plat.DB.GridVisitByClientRef(ctx, a.AccountID, ref); err == nil {
		t.Fatal("a refused visit was stored")
	}
	good := form()
	good.Set("need1.answer", "已告知网上年报入口")
	for i := 0; i < 2; i++ {
		r := c.post("/m/visit", good)
		if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/m/day?visited=") {
			t.Fatalf("visit sent (%d): %d %s", i+1, r.status, excerpt(r.body))
		}
	}
	v, err := plat.DB.GridVisitByClientRef(ctx, a.AccountID, ref)
	if err != nil || len(v.Needs) != 2 || v.Needs[0].CaseID == "" || v.Needs[1].Outcome != gridwork.Answered {
		t.Fatalf("the visit: %+v %v", v, err)
	}
	if n, _ := plat.DB.CountCases(ctx, store.CaseFilter{Scope: store.Scope{All: true}, IDs: []string{v.Needs[0].CaseID}, Source: "patrol"}); n != 1 {
		t.Errorf("the need's case: %d", n)
	}
	if vs, _ := plat.DB.GridVisits(ctx, store.GridFilter{PersonID: a.AccountID}); len(vs) != 1 {
		t.Errorf("%d visits stored for one form sent twice", len(vs))
	}
	expect(t, c.get("/m/day?visited=x"), http.StatusOK, "今日走访 <b>1</b> 户")
	// The community's view of its grids' teams and week.
	if _, err := plat.Service.SetTeam(ctx, a, grid, []gridwork.TeamMember{{AccountID: a.AccountID, Role: gridwork.FullTime}, {Name: "新影村志愿者甲", Role: gridwork.Volunteer}}); err != nil {
		t.Fatal(err)
	}
	expect(t, signIn(t, "xyc_shuji").get("/m/team"), http.StatusOK, "专职网格员：周春燕", "志愿者：新影村志愿者甲", "0+1+1", "周春燕</td>")
	expect(t, signIn(t, "xyc_wgz").get("/m/team"), http.StatusOK, "专职网格员：周春燕")
}

// TestGridPoster: the poster names the grid's full-time worker with a
// neutral placeholder until the community uploads her portrait on /m/team;
// then it shows the photo; its QR code is a PNG; another street's grid is
// refused; a member's photo must be a stored image.
func TestGridPoster(t *testing.T) {
	ctx := context.Background()
	a := actor(t, "zhouchunyan")
	codes := strings.Split(strings.Trim(a.RegionPath, "/"), "/")
	grid := codes[len(codes)-1]
	if _, err := plat.Service.SetTeam(ctx, a, grid, []gridwork.TeamMember{{AccountID: a.AccountID, Role: gridwork.FullTime}, {Name: "新影村志愿者乙", Role: gridwork.Volunteer}}); err != nil {
		t.Fatal(err)
	}
	if _, err := plat.Service.SetTeam(ctx, a, grid, []gridwork.TeamMember{{Name: "假照片", Role: gridwork.FullTime, Photo: strings.Repeat("b", 64)}}); err == nil || !strings.Contains(err.Error(), "team[0].photo") {
		t.Fatalf("an unknown photo hash was taken: %v", err)
	}
	sec := signIn(t, "xyc_shuji")
	poster := "/m/poster/" + grid
	expect(t, sec.get(poster), http.StatusOK, "有事找网格员", "周春燕", "poster-placeholder", `src="`+poster+`/qr.png"`, "/r/g/"+grid)
	qr := sec.get(poster + "/qr.png")
	if qr.status != http.StatusOK || !strings.HasPrefix(qr.body, "\x89PNG") {
		t.Fatalf("the QR code: %d %.20q", qr.status, qr.body)
	}
	expect(t, sec.get("/m/team"), http.StatusOK, `action="/m/team/`+grid+`/photo"`, "上传照片（用于海报）")
	r := sec.postFiles("/m/team/"+grid+"/photo", url.Values{"member": {"0"}}, "photo_file", pngPhoto(42))
	if r.status != http.StatusSeeOther {
		t.Fatalf("portrait: %d %s", r.status, excerpt(r.body))
	}
	p := sec.get(poster)
	expect(t, p, http.StatusOK, `class="poster-photo" src="`, "周春燕的照片")
	if strings.Contains(p.body, "poster-placeholder") {
		t.Error("the placeholder is still shown")
	}
	tm, _ := plat.DB.Team(ctx, grid)
	if tm.Members[0].Photo == "" || tm.Members[0].Name != "周春燕" {
		t.Fatalf("team: %+v", tm.Members)
	}
	if st := signIn(t, "yangshipei").get(poster).status; st != http.StatusForbidden && st != http.StatusNotFound {
		t.Errorf("another grid's worker opened the poster: %d", st)
	}
}
