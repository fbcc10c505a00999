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
	"zhizhi/internal/store"
)

// signoff are the fields a street office signs and stamps on every form.
var signoff = []string{"经办人", "审核人", "签发", "日期", "盖章处"}

// printedCase reports a case with a photo from the grid worker's form and
// takes it through dispatch, a supervision, the unit's feedback and the
// close.
func printedCase(t *testing.T, desc string) cases.Case {
	t.Helper()
	w := signIn(t, "zhouchunyan")
	w.get("/m/report")
	p := gridPoint(t, "zhouchunyan")
	r := w.postFiles("/m/report", url.Values{"source": {"patrol"}, "category": {"MS03"}, "description": {desc},
		"lat": {fmt.Sprint(p.Lat)}, "lng": {fmt.Sprint(p.Lng)}, "address": {"新影村某巷"}, "reporter_phone": {"13912345678"}}, "photo_file", pngPhoto(77))
	if r.status != http.StatusSeeOther {
		t.Fatalf("report: %d %s", r.status, excerpt(r.body))
	}
	list, err := plat.Service.List(context.Background(), cases.Actor{Role: cases.RoleAdmin, RegionPath: "/"}, store.CaseFilter{Text: desc})
	if err != nil || len(list) != 1 {
		t.Fatalf("report: %v %d", err, len(list))
	}
	return list[0]
}

// TestPrintForms: each paper form carries the case and its own part, with
// the sign-off and seal fields; a form the case does not have yet is
// refused, as is an unknown form name, in Chinese; the scope is the case
// page's.
func TestPrintForms(t *testing.T) {
	desc := fmt.Sprintf("打印测试：路灯不亮 %d", time.Now().UnixNano())
	cs := printedCase(t, desc)
	cmd := signIn(t, "syl_zhihui")
	get := func(form string) response { return cmd.get("/cases/" + cs.ID + "/print?form=" + url.QueryEscape(form)) }

	// Before dispatch: only the record; the others are refused.
	expect(t, get("dispatch"), http.StatusConflict, "尚未派遣")
	expect(t, get("close"), http.StatusConflict, "尚未结案")
	expect(t, get("supervise"), http.StatusConflict, "没有督办")
	expect(t, get("fax"), http.StatusBadRequest, "没有名为“fax”的单据", "派遣单（dispatch）", "全程记录（record）")
	expect(t, cmd.get("/cases/"+cs.ID+"/print"), http.StatusBadRequest, "请选择要打印的单据")
	page := cmd.get("/cases/" + cs.ID)
	expect(t, page, http.StatusOK, `id="case-print"`, "/print?form=record")
	if strings.Contains(page.body, "print?form=dispatch") {
		t.Error("the case page offers a dispatch form before the dispatch")
	}

	actOn(t, "syl_zhihui", cs.ID, cases.Command{Action: cases.ActAccept})
	actOn(t, "syl_zhihui", cs.ID, cases.Command{Action: cases.ActDispatch, Lead: "syl-ms", Co: []string{"cg"}, Note: "请今日内修复"})
	r := get("dispatch")
	expect(t, r, http.StatusOK, append([]string{"派遣单", cs.Number, desc, "石油路街道民生服务办", "区城市管理局", "请今日内修复", "承办单位签收", "139****5678"}, signoff...)...)
	if strings.Contains(r.body, "13912345678") {
		t.Error("the dispatch form shows the full phone")
	}

	actOn(t, "syl_zhihui", cs.ID, cases.Command{Action: cases.ActSupervise, Note: "群众反映强烈，限两日内办结"})
	expect(t, get("supervise"), http.StatusOK, append([]string{"督办单", "群众反映强烈，限两日内办结", "石油路街道民生服务办", "承办单位回执"}, signoff...)...)

	actOn(t, "syl_ms", cs.ID, cases.Command{Action: cases.ActSign})
	actOn(t, "syl_ms", cs.ID, cases.Command{Action: cases.ActFeedback, Note: "已更换灯泡"})
	actOn(t, "cg_staff", cs.ID, cases.Command{Action: cases.ActSign})
	actOn(t, "cg_staff", cs.ID, cases.Command{Action: cases.ActFeedback, Note: "线路已检查"})
	yes := true
	actOn(t, "syl_zhihui", cs.ID, cases.Command{Action: cases.ActVerify, Passed: &yes, Note: "夜间复查已亮"})
	if caseByID(t, cs.ID).State != cases.Closed {
		actOn(t, "syl_zhihui", cs.ID, cases.Command{Action: cases.ActClose, Note: "同意结案"})
	}
	expect(t, get("close"), http.StatusOK, append([]string{"结案单", "已更换灯泡", "线路已检查", "夜间复查已亮", "未评价"}, signoff...)...)

	r = get("record")
	expect(t, r, http.StatusOK, append([]string{"全程记录", "办理过程", "承办单位与时限", "派遣", "督办", "签收", "反馈", "核查", `class="thumb"`, "照片 "}, signoff...)...)
	if n := strings.Count(r.body, `class="paper-step"`); n < 8 {
		t.Errorf("the record has %d steps", n)
	}
	page = cmd.get("/cases/" + cs.ID)
	for _, f := range []string{"dispatch", "close", "supervise", "record"} {
		if !strings.Contains(page.body, "/print?form="+f) {
			t.Errorf("the case page has no %s print", f)
		}
	}

	// Scope: another street's commander and an uninvolved unit see nothing;
	// the units of the case may print; residents have no paper forms.
	expect(t, signIn(t, "jfb_zhihui").get("/cases/"+cs.ID+"/print?form=record"), http.StatusNotFound)
	expect(t, signIn(t, "yj_staff").get("/cases/"+cs.ID+"/print?form=record"), http.StatusNotFound)
	expect(t, signIn(t, "cg_staff").get("/cases/"+cs.ID+"/print?form=dispatch"), http.StatusOK, "派遣单")
	expect(t, signIn(t, "jumin").get("/cases/"+cs.ID+"/print?form=record"), http.StatusForbidden)
}
