package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
)

var refRE = regexp.MustCompile(`name="ref" value="([^"]+)"`)

// TestResidentReportFollowRate plays a resident without an account: report
// with a photo and a phone number, get the case number, follow it with the
// number and the phone (a wrong phone learns nothing), and rate it once it
// is closed. The phone shows masked to everyone but the commander.
func TestResidentReportFollowRate(t *testing.T) {
	res := newClient(t)
	r := res.get("/r")
	expect(t, r, 200, "我要反映", "联系电话", `name="csrf"`, "暴露垃圾", `/r/follow`)
	if strings.Contains(r.body, "党建") {
		t.Error("the resident's form offers internal categories")
	}
	m := refRE.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatal("the form has no reference")
	}
	ref := m[1]

	p := gridPoint(t, "zhouchunyan")
	desc := fmt.Sprintf("居民反映：小区门口垃圾多日无人清运 %d", time.Now().UnixNano())
	form := func() url.Values {
		return url.Values{"ref": {ref}, "category": {"MS03"}, "description": {desc}, "lat": {fmt.Sprint(p.Lat)},
			"lng": {fmt.Sprint(p.Lng)}, "address": {"新影村小区东门"}, "reporter_name": {"李女士"}, "reporter_phone": {"139 1234 5678"}}
	}

	// CSRF applies: without the token, or from another site, nothing.
	f := form()
	f.Set("csrf", "")
	expect(t, res.post("/r", f), http.StatusForbidden)
	res.get("/r")
	req, _ := http.NewRequest("POST", srv.URL+"/r", strings.NewReader(form().Encode()+"&csrf="+url.QueryEscape(res.csrf)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	expect(t, res.do(req), http.StatusForbidden)

	// Mistakes are named next to their inputs, all at once.
	res.get("/r")
	f = form()
	f.Del("reporter_phone")
	f.Set("description", "")
	expect(t, res.post("/r", f), http.StatusBadRequest, "请留下联系电话", "请描述问题")
	res.get("/r")
	f = form()
	f.Set("category", "DJ01") // party building: not for residents
	expect(t, res.post("/r", f), http.StatusBadRequest, "请选择问题类别")
	res.get("/r")
	f = form()
	f.Set("reporter_phone", "12345")
	expect(t, res.post("/r", f), http.StatusBadRequest, "请填写有效的手机或固定电话号码")
	// A photo stored with a refused form is kept, signed, for the next try.
	res.get("/r")
	f = form()
	f.Del("reporter_phone")
	r = res.postFiles("/r", f, "photo_file", pngPhoto(33))
	expect(t, r, http.StatusBadRequest, "已附照片 1 张", `name="photo_signed"`)
	signed := regexp.MustCompile(`name="photo_signed" value="([^"]+)"`).FindStringSubmatch(r.body)[1]

	// A bare hash is not accepted; a forged signature neither: the form
	// comes back naming the photo and why, keeping the good one, and
	// nothing is stored until it is sent again without them.
	hash := strings.Split(signed, ".")[0]
	other := strings.Repeat("ab", 32)
	f = form()
	f.Set("photo", hash)
	f.Add("photo_signed", other+".forged")
	f.Add("photo_signed", signed)
	r = res.post("/r", f)
	expect(t, r, http.StatusBadRequest, "已附的第1张照片（abababab…）未被接受", "签名与本表单不符", "不接受照片编号", "已附照片 1 张", `value="`+signed+`"`)
	if strings.Contains(r.body, other+".forged") {
		t.Fatal("the forged photo is offered again")
	}
	f = form()
	f.Add("photo_signed", signed)
	r = res.post("/r", f)
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/r?reported=") {
		t.Fatalf("report: %d %s %s", r.status, r.location, excerpt(r.body))
	}
	number, _ := url.QueryUnescape(strings.TrimPrefix(r.location, "/r?reported="))
	expect(t, res.get(r.location), 200, "已收到您的反映", number, "查询办理进度")

	// The same form sent again (a double tap, a retry) makes no second case.
	res.get("/r")
	r = res.post("/r", form())
	if r.location != "/r?reported="+url.QueryEscape(number) {
		t.Fatalf("the same form again went to %q, want the same case %s", r.location, number)
	}
	cmdActor := actor(t, "syl_zhihui")
	cs, _, err := plat.Service.Case(context.Background(), cmdActor, number)
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := plat.Service.RevealPhone(context.Background(), cmdActor, number); err != nil || rep.Phone != "13912345678" {
		t.Errorf("the center reveals the phone: %+v %v", rep, err)
	}
	if cs.Source != cases.SourceResident || cs.Reporter.Phone != "139****5678" || cs.Reporter.Name != "李女士" || len(cs.Photos) != 1 || cs.ClientRef != ref || cs.GridCode == "" {
		t.Fatalf("the case: source %s, reporter %+v, %d photos, ref %q, grid %q", cs.Source, cs.Reporter, len(cs.Photos), cs.ClientRef, cs.GridCode)
	}
	if n, _ := plat.DB.CountCases(context.Background(), store.CaseFilter{Scope: store.Scope{All: true}, Reporter: cs.Reporter.AccountID}); n != 1 {
		t.Fatalf("%d cases for one resident's report", n)
	}
	// The commander calls back: the page shows the number masked, with a
	// button that reveals it and records the read; the grid worker sees it
	// masked with no such button.
	cmd := signIn(t, "syl_zhihui")
	r = cmd.get("/cases/" + cs.ID)
	expect(t, r, 200, "139****5678", "查看完整电话")
	if strings.Contains(r.body, "13912345678") {
		t.Error("the case page shows the full phone before it is asked for")
	}
	expect(t, cmd.post("/cases/"+cs.ID+"/phone", url.Values{}), 200, "13912345678", "本次查看已记录")
	if log, err := plat.DB.AuditLog(context.Background(), store.AuditFilter{Kind: "personal_data", ObjectID: cs.ID}); err != nil || len(log) != 2 {
		t.Errorf("reads of the phone recorded: %d %v, want 2 (the service's and the page's)", len(log), err)
	}
	r = signIn(t, "zhouchunyan").get("/cases/" + cs.ID)
	expect(t, r, 200, "139****5678")
	if strings.Contains(r.body, "13912345678") || strings.Contains(r.body, "查看完整电话") {
		t.Error("the grid worker sees the resident's phone, or a way to reveal it")
	}
	if r := signIn(t, "zhouchunyan").post("/cases/"+cs.ID+"/phone", url.Values{}); r.status != http.StatusForbidden || strings.Contains(r.body, "13912345678") {
		t.Errorf("a grid worker reveals the phone: %d", r.status)
	}

	// Following: a wrong phone learns nothing.
	fol := newClient(t)
	expect(t, fol.get("/r/follow?number="+url.QueryEscape(number)), 200, "查询办理进度", number)
	r = fol.post("/r/follow", url.Values{"number": {number}, "phone": {"13900000000"}})
	expect(t, r, http.StatusNotFound, "案件编号或电话不正确")
	for _, leak := range []string{desc, "待受理", "新影村小区东门", "139****5678", "李女士"} {
		if strings.Contains(r.body, leak) {
			t.Errorf("a wrong phone saw %q", leak)
		}
	}
	expect(t, fol.post("/r/follow", url.Values{"number": {""}, "phone": {""}}), http.StatusBadRequest, "请输入案件编号", "请输入上报时留下的电话")
	r = fol.post("/r/follow", url.Values{"number": {number}, "phone": {"+86 139-1234-5678"}})
	expect(t, r, 200, desc, "待受理", "收到您的反映", "139****5678")
	if strings.Contains(r.body, "13912345678") || strings.Contains(r.body, `id="resident-rate"`) {
		t.Error("the follow page shows the whole phone, or rating before the case is closed")
	}

	// The case is handled; the resident sees the units and the result,
	// not the staff.
	actOn(t, "syl_zhihui", cs.ID, cases.Command{Action: cases.ActAccept})
	actOn(t, "syl_zhihui", cs.ID, cases.Command{Action: cases.ActDispatch, Lead: "cg"})
	actOn(t, "cg_staff", cs.ID, cases.Command{Action: cases.ActSign})
	actOn(t, "cg_staff", cs.ID, cases.Command{Action: cases.ActHandle, Note: "内部进展：已联系环卫班组长王某"})
	actOn(t, "cg_staff", cs.ID, cases.Command{Action: cases.ActFeedback, Note: "垃圾已全部清运"})
	actOn(t, "syl_zhihui", cs.ID, cases.Command{Action: cases.ActClose, Note: "已办结"})
	r = fol.post("/r/follow", url.Values{"number": {number}, "phone": {"13912345678"}})
	expect(t, r, 200, "已结案", "派遣（区城市管理局）", "反馈（区城市管理局）：垃圾已全部清运", `id="resident-rate"`)
	for _, internal := range []string{"区城市管理局工作人员", "石油路街道值班指挥长", "王某"} {
		if strings.Contains(r.body, internal) {
			t.Errorf("the resident sees %q", internal)
		}
	}
	expect(t, fol.post("/r/rate", url.Values{"number": {number}, "phone": {"13912345678"}}), http.StatusConflict, "请选择满意")
	r = fol.post("/r/rate", url.Values{"number": {number}, "phone": {"13912345678"}, "rating": {"satisfied"}, "note": {"处理很快"}})
	expect(t, r, 200, "感谢您的评价", "您的评价", "满意")
	if strings.Contains(r.body, `id="resident-rate"`) {
		t.Error("the rating form is offered again")
	}
	if got := caseByID(t, cs.ID); got.Rating != cases.Satisfied || got.RatingNote != "处理很快" {
		t.Fatalf("rating stored: %q %q", got.Rating, got.RatingNote)
	}
	expect(t, fol.post("/r/rate", url.Values{"number": {number}, "phone": {"13912345678"}, "rating": {"unsatisfied"}}), http.StatusConflict)
	// Rating with a wrong phone changes nothing.
	expect(t, fol.post("/r/rate", url.Values{"number": {number}, "phone": {"13800000000"}, "rating": {"unsatisfied"}}), http.StatusNotFound)
	if got := caseByID(t, cs.ID); got.Rating != cases.Satisfied {
		t.Fatalf("a wrong phone changed the rating to %q", got.Rating)
	}
}

// TestResidentFollowGuessing: a client that guesses phones for a case
// number is throttled (429 with Retry-After); the case is not locked: the
// resident, from another address, follows it.
func TestResidentFollowGuessing(t *testing.T) {
	p := gridPoint(t, "zhouchunyan")
	tok, err := plat.Service.FormToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cs, err := plat.Service.ReportAnonymous(context.Background(), service.Knock{Client: "192.0.2.7", Token: tok},
		cases.Report{Category: "MS03", Description: "猜测电话测试", Point: &p, Reporter: cases.Reporter{Phone: "13712345678"}})
	if err != nil {
		t.Fatal(err)
	}
	guesser := newClientFrom(t, "127.0.0.3")
	guesser.get("/r/follow")
	misses := service.DefaultDoorLimits.FollowMisses
	for i := range misses {
		expect(t, guesser.post("/r/follow", url.Values{"number": {cs.Number}, "phone": {fmt.Sprintf("1370000%04d", i)}}), http.StatusNotFound)
	}
	r := guesser.post("/r/follow", url.Values{"number": {cs.Number}, "phone": {"13712345678"}})
	expect(t, r, http.StatusTooManyRequests, "查询错误次数过多")
	if r.header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	if strings.Contains(r.body, "猜测电话测试") {
		t.Error("the case shows to the guessing client")
	}
	expect(t, guesser.post("/r/rate", url.Values{"number": {cs.Number}, "phone": {"13712345678"}, "rating": {"satisfied"}}), http.StatusTooManyRequests)
	resident := newClient(t)
	resident.get("/r/follow")
	expect(t, resident.post("/r/follow", url.Values{"number": {cs.Number}, "phone": {"13712345678"}}), http.StatusOK, "猜测电话测试")
}

func TestResidentPagesWeight(t *testing.T) {
	c := newClient(t)
	r := c.get("/r")
	expect(t, r, 200)
	total := len(r.body)
	for _, a := range []string{"/static/app.css", "/static/resident.css", "/static/resident.js"} {
		x := c.get(a)
		if x.status != 200 {
			t.Fatalf("%s: %d", a, x.status)
		}
		total += len(x.body)
	}
	if total > 200<<10 {
		t.Errorf("/r weighs %d bytes", total)
	}
	t.Logf("/r: %d bytes with its assets", total)
}
