package web_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"zhizhi/internal/cases"
)

// overdueCase reports an MS07 case (排水管道堵塞) in 周春燕's grid (石油路),
// has the street dispatch it to its 民生服务板块A岗 and lets the post's sign
// clock run out: the
// sweeper, run past the due, shows it red and marks the case overdue.
func overdueCase(t *testing.T, desc string) cases.Case {
	t.Helper()
	cs := reportCase(t, "zhouchunyan", "MS07", desc)
	actOn(t, "syl_zhihui", cs.ID, cases.Command{Action: cases.ActAccept})
	cs = actOn(t, "syl_zhihui", cs.ID, cases.Command{Action: cases.ActDispatch, Lead: "syl-ms-a"})
	if _, err := plat.Service.Sweep(context.Background(), cs.Tasks[0].Sign.Due.Add(time.Minute), 500); err != nil {
		t.Fatalf("sweep: %v", err)
	}
	cs = caseByID(t, cs.ID)
	if !cs.WasOverdue {
		t.Fatal("the case is not marked overdue")
	}
	return cs
}

const webReason = "燃气公司停气作业推迟，无法按时到场签收"

// TestAppealForms: the forms without JavaScript: a short reason is sent
// back naming the field; the queue page is for commanders and leaders.
func TestAppealForms(t *testing.T) {
	cs := overdueCase(t, fmt.Sprintf("申诉表单：小区排水管道堵塞 %d", time.Now().UnixNano()))
	unit := signIn(t, "syl_ms_a")
	page := unit.get("/cases/" + cs.ID)
	expect(t, page, 200, `id="act-appeal"`, "申请超时豁免", "申诉理由")
	r := unit.post("/cases/"+cs.ID+"/act", url.Values{"action": {"appeal"}, "version": {fmt.Sprint(cs.Version)}, "note": {"太忙"}})
	expect(t, r, 400, "申诉理由不少于10字")
	if caseByID(t, cs.ID).Version != cs.Version {
		t.Fatal("a refused appeal changed the case")
	}
	expect(t, unit.get("/appeals"), 403)
	cmdr := signIn(t, "syl_zhihui")
	expect(t, cmdr.get("/appeals?state=bogus"), 400, "申诉状态无效")
	expect(t, cmdr.get("/appeals"), 200, "超时申诉审核", "待中心审核", `href="/appeals"`)
}

// TestBrowserAppeal plays issue 11's overdue appeal: 民生服务板块A岗's staff
// appeal a case whose sign clock ran out; 石油路's commander finds it in
// the review queue and forwards it; the district commander approves it in
// the queue's 待区级审批 tab; the case page shows it exempted, with the
// reason, and the timeline the three steps.
func TestBrowserAppeal(t *testing.T) {
	cs := overdueCase(t, fmt.Sprintf("申诉旅程：小区排水管道堵塞，污水外溢 %d", time.Now().UnixNano()))

	unit := newBrowser(t)
	unit.signIn("syl_ms_a", "/inbox")
	unit.do(chromedp.Navigate(srv.URL+"/cases/"+cs.ID), chromedp.WaitVisible(chromedp.CSS(`#act-appeal`)),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#act-appeal').open = true`),
		chromedp.SendKeys(chromedp.CSS(`#act-appeal textarea[name=note]`), webReason),
		chromedp.Click(chromedp.CSS(`#act-appeal button[type=submit]`)))
	waitFlash(unit, "已提交超时豁免申请")
	if s := unit.text(`#appeals`); !strings.Contains(s, "待中心审核") || !strings.Contains(s, webReason) {
		t.Fatalf("the case's appeals after the appeal: %q", s)
	}

	// The street commander: the queue from the nav, 审核 on the row.
	street := unit.another()
	street.signIn("syl_zhihui", "/board")
	row := `.appeal-queue tr[data-case="` + cs.ID + `"]`
	street.do(chromedp.Click(chromedp.CSS(`header nav a[href="/appeals"]`)), chromedp.WaitVisible(chromedp.CSS(row)))
	if s := street.text(row); !strings.Contains(s, cs.Number) || !strings.Contains(s, "A岗") || !strings.Contains(s, "审核") {
		t.Fatalf("the queue's row: %q", s)
	}
	street.do(chromedp.Click(chromedp.CSS(row+` a.btn`)), chromedp.WaitVisible(chromedp.CSS(`#act-appeal_review[open]`)),
		chromedp.Click(chromedp.CSS(`#act-appeal_review input[name=passed][value=yes]`)),
		chromedp.SendKeys(chromedp.CSS(`#act-appeal_review textarea[name=note]`), "情况属实，报区级审批"),
		chromedp.Click(chromedp.CSS(`#act-appeal_review button[type=submit]`)))
	waitFlash(street, "已完成中心审核")
	if got := caseByID(t, cs.ID); len(got.Appeals) != 1 || got.Appeals[0].State != cases.AppealPendingApproval {
		t.Fatalf("after review: %+v", got.Appeals)
	}

	// The district commander: the queue opens on 待区级审批.
	district := unit.another()
	district.signIn("qu_zhihui", "/board")
	district.do(chromedp.Navigate(srv.URL+"/appeals"), chromedp.WaitVisible(chromedp.CSS(row)))
	if s := district.text(`.appeal-tabs a[aria-current]`); !strings.Contains(s, "待区级审批") {
		t.Fatalf("the district's queue opens on %q", s)
	}
	district.do(chromedp.Click(chromedp.CSS(row+` a.btn`)), chromedp.WaitVisible(chromedp.CSS(`#act-appeal_decide[open]`)),
		chromedp.Click(chromedp.CSS(`#act-appeal_decide input[name=passed][value=yes]`)),
		chromedp.Click(chromedp.CSS(`#act-appeal_decide button[type=submit]`)))
	waitFlash(district, "已完成区级审批")

	// The case shows exempted, with the reason; the timeline the steps.
	if s := district.text(`#exempted`); s != "已豁免："+webReason {
		t.Fatalf("exempted mark %q", s)
	}
	tl := district.text(`.timeline`)
	for _, want := range []string{"申请超时豁免", "中心审核", "审核通过，报区级审批", "区级审批", "批准豁免"} {
		if !strings.Contains(tl, want) {
			t.Fatalf("timeline lacks %q:\n%s", want, tl)
		}
	}
	got := caseByID(t, cs.ID)
	if !got.Exempted() || got.State != cases.Dispatched {
		t.Fatalf("after approval: exempted %v, state %s", got.Exempted(), got.State)
	}
	// The unit sees it too, and no longer the form.
	unit.do(chromedp.Navigate(srv.URL+"/cases/"+cs.ID), chromedp.WaitVisible(chromedp.CSS(`#exempted`)))
	if n := eval[int](unit, `document.querySelectorAll('#act-appeal').length`); n != 0 {
		t.Fatal("an exempted unit is offered the appeal form")
	}
}
