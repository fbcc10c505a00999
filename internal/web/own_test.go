package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/store"
)

// ownForm reads a signed-in reporter's report form and returns its token.
func ownForm(t *testing.T, c *client) string {
	t.Helper()
	r := c.get("/mine/report")
	expect(t, r, http.StatusOK, "我要反映", `action="/mine/report"`, `id="pin-map"`, `data-home="/r/map/home"`, `name="lat"`, `name="address"`)
	m := refRE.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatal("the form has no token")
	}
	return m[1]
}

// TestOwnReportJourney: a signed-in resident (jumin) reports from his own
// page (refused input first, nothing stored), through the same door as /r
// (the same form sent twice is one case), follows the case with its public
// steps only (no internal notes, no staff names), and rates it once it is
// closed (an unknown rating is refused, nothing changed).
func TestOwnReportJourney(t *testing.T) {
	ctx := context.Background()
	c := signInAt(t, newClientFrom(t, "127.0.0.71"), "jumin")
	expect(t, c.get("/mine"), http.StatusOK, `href="/mine/report"`, "我要反映")
	ref := ownForm(t, c)
	if strings.Contains(c.get("/mine/report").body, `name="reporter_name"`) {
		t.Error("the signed-in form asks for a name the account has")
	}
	p := gridPoint(t, "zhouchunyan")
	desc := fmt.Sprintf("居民账号反映：楼道灯坏了 %d", time.Now().UnixNano())
	form := func() url.Values {
		return url.Values{"ref": {ref}, "category": {"MS03"}, "description": {desc}, "lat": {fmt.Sprint(p.Lat)}, "lng": {fmt.Sprint(p.Lng)}}
	}
	count := func() int {
		n, err := plat.Service.Count(ctx, cases.Actor{Role: cases.RoleAdmin, RegionPath: "/"}, store.CaseFilter{Text: desc})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	// Refused input: named, nothing stored.
	f := form()
	f.Set("category", "")
	f.Set("lat", "北纬")
	expect(t, c.post("/mine/report", f), http.StatusBadRequest, "请选择问题类别", "经纬度无效", desc)
	f = form()
	f.Set("category", "DJ01") // not a public category
	f.Set("reporter_phone", "12345")
	expect(t, c.post("/mine/report", f), http.StatusBadRequest, "请选择问题类别", "有效的手机或固定电话")
	f = form()
	f.Set("ref", "r-forged")
	expect(t, c.post("/mine/report", f), http.StatusBadRequest, "表单已失效")
	if n := count(); n != 0 {
		t.Fatalf("refused forms made %d cases", n)
	}

	// The report, with a photo, a map point and no phone.
	r := c.postFiles("/mine/report", form(), "photo_file", pngPhoto(91))
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/cases/") {
		t.Fatalf("report: %d %q %s", r.status, r.location, excerpt(r.body))
	}
	loc := r.location
	id := strings.TrimSuffix(strings.TrimPrefix(loc, "/cases/"), "?reported=1")
	cs := caseByID(t, id)
	me := actor(t, "jumin")
	if cs.Source != cases.SourceResident || cs.Reporter.AccountID != me.AccountID || cs.Point == nil || cs.GridCode == "" || len(cs.Photos) != 1 {
		t.Fatalf("case %+v", cs)
	}
	// The same form again: the same case, no second one.
	if r := c.postFiles("/mine/report", form(), "photo_file", pngPhoto(91)); r.status != http.StatusSeeOther || r.location != loc {
		t.Fatalf("the form sent again: %d %q", r.status, r.location)
	}
	if n := count(); n != 1 {
		t.Fatalf("%d cases of one form", n)
	}
	expect(t, c.get(loc), http.StatusOK, "已收到您的反映", cs.Number, "收到您的反映", desc)
	expect(t, c.get("/mine"), http.StatusOK, "/cases/"+id)

	// The center works the case with an internal note; the resident sees
	// the public steps and the unit's result, not the note nor the names.
	actOn(t, "syl_zhihui", id, cases.Command{Action: cases.ActAccept, Note: "内部备注：此人多次反映"})
	actOn(t, "syl_zhihui", id, cases.Command{Action: cases.ActDispatch, Lead: "syl-ms", Note: "派遣说明内部"})
	actOn(t, "syl_ms", id, cases.Command{Action: cases.ActSign})
	actOn(t, "syl_ms", id, cases.Command{Action: cases.ActFeedback, Note: "已更换楼道灯"})
	yes := true
	actOn(t, "syl_zhihui", id, cases.Command{Action: cases.ActVerify, Passed: &yes, Note: "现场核查已亮"})
	cs = caseByID(t, id)
	if cs.State != cases.Closed {
		actOn(t, "syl_zhihui", id, cases.Command{Action: cases.ActClose, Note: "办结"})
	}
	r = c.get("/cases/" + id)
	expect(t, r, http.StatusOK, "已更换楼道灯", "石油路街道民生服务办", "评价", `name="rating"`)
	for _, hidden := range []string{"内部备注", "派遣说明内部", "石油路街道值班指挥长", "syl_zhihui"} {
		if strings.Contains(r.body, hidden) {
			t.Errorf("the resident sees %q", hidden)
		}
	}

	// Rating: an unknown value is refused, nothing changes; then 满意.
	v := caseByID(t, id).Version
	expect(t, act(c, id, url.Values{"action": {"rate"}, "rating": {"great"}}), http.StatusBadRequest)
	if got := caseByID(t, id); got.Version != v || got.Rating != "" {
		t.Fatalf("a refused rating changed the case: %+v", got)
	}
	r = act(c, id, url.Values{"action": {"rate"}, "rating": {"satisfied"}, "note": {"很快"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("rate: %d %s", r.status, excerpt(r.body))
	}
	expect(t, c.get(r.location), http.StatusOK, "感谢您的评价", "满意：很快")
	if got := caseByID(t, id); got.Rating != cases.Satisfied {
		t.Fatalf("rating %q", got.Rating)
	}
	// Another resident's case is not his.
	other := reportCase(t, "zhouchunyan", "MS03", "网格员上报：他人的案件")
	expect(t, c.get("/cases/"+other.ID), http.StatusNotFound)
}

// TestOwnEnterpriseWhistle: an enterprise reports from its own page (the
// source is the enterprise's), and once the center has taken the case on
// it blows the enterprise whistle on it and sees the report-in board.
func TestOwnEnterpriseWhistle(t *testing.T) {
	c := signInAt(t, newClientFrom(t, "127.0.0.72"), "qiye")
	ref := ownForm(t, c)
	p := gridPoint(t, "zhouchunyan")
	desc := fmt.Sprintf("企业诉求：门前占道经营 %d", time.Now().UnixNano())
	r := c.post("/mine/report", url.Values{"ref": {ref}, "category": {"MS03"}, "description": {desc}, "lat": {fmt.Sprint(p.Lat)},
		"lng": {fmt.Sprint(p.Lng)}, "reporter_phone": {"023-6388 1234"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("report: %d %s", r.status, excerpt(r.body))
	}
	id := strings.TrimSuffix(strings.TrimPrefix(r.location, "/cases/"), "?reported=1")
	cs := caseByID(t, id)
	if cs.Source != cases.SourceEnterprise || cs.Reporter.AccountID != actor(t, "qiye").AccountID {
		t.Fatalf("case %+v", cs)
	}
	r = c.get("/cases/" + id)
	if strings.Contains(r.body, "023-6388 1234") || strings.Contains(r.body, "02363881234") {
		t.Error("the phone is shown unmasked")
	}
	if strings.Contains(r.body, `value="whistle"`) {
		t.Error("a whistle form before the center took the case on")
	}
	actOn(t, "syl_zhihui", id, cases.Command{Action: cases.ActAccept})
	r = c.get("/cases/" + id)
	expect(t, r, http.StatusOK, `value="whistle"`, `value="unit:scjg"`)
	// Without a party: refused, named, nothing changed.
	v := caseByID(t, id).Version
	expect(t, act(c, id, url.Values{"action": {"whistle"}, "whistle_kind": {"enterprise"}, "note": {"占道影响经营"}}), http.StatusBadRequest)
	if caseByID(t, id).Version != v {
		t.Fatal("a refused whistle changed the case")
	}
	r = act(c, id, url.Values{"action": {"whistle"}, "whistle_kind": {"enterprise"}, "party": {"unit:scjg", "unit:cg"}, "note": {"占道影响经营"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("whistle: %d %s", r.status, excerpt(r.body))
	}
	expect(t, c.get("/cases/"+id), http.StatusOK, `id="own-whistles"`, "企业吹哨", "区市场监管局", "区城市管理局", "待报到", "占道影响经营")
	if w := caseByID(t, id).Whistles; len(w) != 1 || w[0].Kind != cases.WhistleEnterprise || len(w[0].Parties) != 2 {
		t.Fatalf("whistles %+v", w)
	}
}

// TestResidentMapShapes: the residents' pin picker reads the platform's
// own outlines without signing in, with no case counts; /r offers it.
func TestResidentMapShapes(t *testing.T) {
	res := newClient(t)
	expect(t, res.get("/r"), http.StatusOK, `id="pin-open"`, `data-shapes="/r/map/shapes"`, "/static/map.", `name="lat"`, `name="address"`)
	r := res.get("/r/map/home")
	var home struct{ Bounds []float64 }
	if r.status != 200 || json.Unmarshal([]byte(r.body), &home) != nil || len(home.Bounds) != 4 {
		t.Fatalf("home: %d %s", r.status, r.body)
	}
	p := gridPoint(t, "zhouchunyan")
	bbox := fmt.Sprintf("%f,%f,%f,%f", p.Lng-0.003, p.Lat-0.003, p.Lng+0.003, p.Lat+0.003)
	r = res.get("/r/map/shapes?bbox=" + bbox + "&zoom=16")
	var fc struct {
		Level    string
		Features []struct{ Properties map[string]any }
	}
	if r.status != 200 || json.Unmarshal([]byte(r.body), &fc) != nil || fc.Level != "grid" || len(fc.Features) == 0 {
		t.Fatalf("shapes: %d %s", r.status, cut(r.body, 300))
	}
	for _, f := range fc.Features {
		for _, k := range []string{"open", "overdue", "critical"} {
			if n, _ := f.Properties[k].(float64); n != 0 {
				t.Errorf("the public map shows %s=%v for %v", k, n, f.Properties["name"])
			}
		}
	}
	expect(t, res.get("/r/map/shapes?bbox=x&zoom=16"), http.StatusBadRequest, "视野范围")
}
