package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"zhizhi/internal/cases"
)

// submitAction opens an action's form on the case page, types its note (if
// any) and submits it, waiting for the page that comes back.
func (b *tab) submitAction(action, note string) {
	b.t.Helper()
	sel := `#act-` + action
	b.do(chromedp.WaitReady(chromedp.CSS(sel)),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('`+sel+`').open = true`))
	if note != "" {
		b.do(chromedp.SendKeys(chromedp.CSS(sel+` textarea[name=note]`), note))
	}
	// A mark on the old page tells when the answer has replaced it.
	b.do(chromedp.Evaluate[chromedp.Void](`window.zhizhiOldPage = true`),
		chromedp.Click(chromedp.CSS(sel+` button[type=submit]`)))
	for end := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		// Errors while the page navigates are expected: ask again.
		done, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`!window.zhizhiOldPage && document.readyState === 'complete' && document.querySelector('#state') !== null`))
		if err == nil && done {
			return
		}
		if time.Now().After(end) {
			b.t.Fatalf("%s: no page came back (%v)", action, err)
		}
	}
}

// expected drops the logged answer of a refused form (the status Chromium
// logs as an error): the test asked for that refusal.
func (b *tab) expected(status string) {
	time.Sleep(100 * time.Millisecond) // let the log event arrive
	b.mu.Lock()
	defer b.mu.Unlock()
	kept := b.errs[:0]
	for _, e := range b.errs {
		if !strings.Contains(e, "status of "+status) {
			kept = append(kept, e)
		}
	}
	b.errs = kept
}

// TestBrowserJointCase plays S1's joint case as each role would: the post
// (lead) has fed back; market supervision, a co-unit, signs, reports
// progress and feeds back from its inbox while the case waits for
// verification; the grid worker cannot close over fire, which never signed;
// the center closes only with a note; the pages then show fire's task as
// 未完成, never 按期完成.
func TestBrowserJointCase(t *testing.T) {
	cs := s1Joint(t, "浏览器联办：商铺醇基燃料，市场监管和消防协办")
	b := newBrowser(t)
	b.signIn("syl_zhihui", "/board")
	b.do(chromedp.Navigate(srv.URL+"/cases/"+cs.ID), chromedp.WaitVisible(chromedp.CSS(`#state`)))
	if s := b.text(".case-title"); !strings.Contains(s, "待核查") || !strings.Contains(s, "核查时限") || strings.Contains(s, "签收") {
		t.Errorf("headline while waiting for verification: %q", s)
	}

	// Market supervision from its inbox.
	scjg := b.another()
	scjg.signIn("scjg_staff", "/inbox")
	row := `tr[data-id="` + cs.ID + `"]`
	if s := scjg.text(row); !strings.Contains(s, "待签收") || !strings.Contains(s, "协办") {
		t.Errorf("inbox row: %q", s)
	}
	scjg.do(chromedp.Click(chromedp.CSS(row+` a`)), chromedp.WaitVisible(chromedp.CSS(`#act-sign`)))
	scjg.submitAction("sign", "")
	scjg.submitAction("handle", "已核查商铺经营资质")
	scjg.submitAction("feedback", "已责令整改，经营资质无误")
	if s := scjg.text(".flash"); s != "已反馈" {
		t.Errorf("flash %q", s)
	}
	if got := caseByID(t, cs.ID); got.State != cases.FedBack || got.Tasks[1].State != cases.TaskFedBack {
		t.Fatalf("after market supervision: %s %s", got.State, got.Tasks[1].State)
	}
	scjg.do(chromedp.Navigate(srv.URL + "/inbox"))
	if s := scjg.text(row); !strings.Contains(s, "已反馈") {
		t.Errorf("inbox row after feedback: %q", s)
	}
	if cls := eval[string](scjg, `document.querySelector('`+row+`').className`); cls != "r-none" {
		t.Errorf("the finished co-unit's row is coloured %q by someone else's clock", cls)
	}

	// The grid worker may not close over fire.
	worker := b.another()
	worker.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch))
	worker.signIn("zhouchunyan", "/m")
	worker.do(chromedp.Navigate(srv.URL+"/cases/"+cs.ID), chromedp.WaitVisible(chromedp.CSS(`#act-verify`)),
		chromedp.Click(chromedp.CSS(`#act-verify input[name=passed][value=yes]`)))
	worker.submitAction("verify", "现场已整改")
	if s := worker.text("#act-verify .alert"); !strings.Contains(s, "尚有1个协办单位未反馈") {
		t.Errorf("verify over an unfinished co-unit: %q", s)
	}
	worker.expected("409")
	if got := caseByID(t, cs.ID); got.State != cases.FedBack {
		t.Fatalf("the grid worker closed the case: %s", got.State)
	}

	// The center closes only with a note.
	b.do(chromedp.Navigate(srv.URL+"/cases/"+cs.ID), chromedp.WaitVisible(chromedp.CSS(`#act-close`)))
	b.submitAction("close", "")
	if s := b.text("#act-close .field-error"); !strings.Contains(s, "请说明结案理由") {
		t.Errorf("close without a note: %q", s)
	}
	b.expected("400")
	b.submitAction("close", "消防逾期未签收，隐患已由主办消除")
	if s := b.text("#state"); s != "已结案" {
		t.Fatalf("state %q", s)
	}
	fire := eval[string](b, `[...document.querySelectorAll('table.tasks tr')].map(r => r.textContent).find(t => t.includes('区消防救援支队')) || ''`)
	if !strings.Contains(fire, "未完成") || strings.Contains(fire, "按期完成") || strings.Contains(fire, "签收\n") || !strings.Contains(fire, "未签收") {
		t.Errorf("fire's task row: %q", fire)
	}
	if s := b.text("ol.timeline"); !strings.Contains(s, "结案时未反馈，任务记为未完成：区消防救援支队") {
		t.Errorf("timeline: %q", cut(s, 600))
	}
	if got := caseByID(t, cs.ID); got.Tasks[2].State != cases.TaskUnfinished || !got.Tasks[2].SignedAt.IsZero() {
		t.Errorf("fire's task %+v", got.Tasks[2])
	}
}

// TestBrowserMeetingFromWhistle: the report-in board's 召开会议 opens the
// meeting form on the whistle with its units ticked; 增加一项决定 adds a row;
// the meeting is recorded with each decision.
func TestBrowserMeetingFromWhistle(t *testing.T) {
	cs := reportS1(t, "浏览器调度会：从吹哨发起")
	actOn(t, "syl_zhihui", cs.ID, cases.Command{Action: cases.ActAccept})
	actOn(t, "syl_zhihui", cs.ID, cases.Command{Action: cases.ActDispatch, Lead: "syl-pa-a"})
	actOn(t, "syl_zhihui", cs.ID, cases.Command{Action: cases.ActWhistle, Note: "吹哨应急、市场监管、消防",
		Parties: []cases.PartyRef{{UnitID: "yj"}, {UnitID: "scjg"}, {UnitID: "xf"}}})
	b := newBrowser(t)
	b.signIn("syl_zhihui", "/board")
	b.do(chromedp.Navigate(srv.URL+"/cases/"+cs.ID), chromedp.WaitVisible(chromedp.CSS(`.wb-meet a`)),
		chromedp.Click(chromedp.CSS(`.wb-meet a`)), chromedp.WaitVisible(chromedp.CSS(`#act-meeting [name=meeting_place]`)))
	ticked := eval[string](b, `[...document.querySelectorAll('#act-meeting input[name=meeting_units]:checked')].map(i => i.value).sort().join(',')`)
	if ticked != "scjg,xf,yj" {
		t.Errorf("ticked %q", ticked)
	}
	if w := eval[string](b, `document.querySelector('#act-meeting select[name=whistle_id]').value`); w != "w1" {
		t.Errorf("whistle %q", w)
	}
	rows := func() int { return eval[int](b, `document.querySelectorAll('#act-meeting .decision-row').length`) }
	n := rows()
	b.do(chromedp.Click(chromedp.CSS(`#act-meeting [data-add-decision]`)))
	if rows() != n+1 {
		t.Fatalf("增加一项决定: %d rows, was %d", rows(), n)
	}
	due := time.Now().Add(48 * time.Hour).In(time.FixedZone("CST", 8*3600))
	eval[any](b, `(function(){
	  var f = document.querySelector('#act-meeting form');
	  f.meeting_place.value = '商铺现场';
	  var rows = f.querySelectorAll('.decision-row');
	  var set = function(r, text, unit) {
	    r.querySelector('[name=decision_text]').value = text;
	    r.querySelector('[name=decision_unit]').value = unit;
	    r.querySelector('[name=decision_due]').value = '`+due.Format("2006-01-02T15:04")+`';
	  };
	  set(rows[0], '48小时内拆除设备', 'yj');
	  set(rows[rows.length-1], '核查经营资质', 'scjg');
	  return null })()`)
	b.do(chromedp.Click(chromedp.CSS(`#act-meeting button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS(`.flash`)))
	got := caseByID(t, cs.ID)
	if len(got.Meetings) != 1 || len(got.Meetings[0].Decisions) != 2 || got.Meetings[0].WhistleID != "w1" || len(got.Meetings[0].Attendees) != 3 {
		t.Fatalf("meeting %+v", got.Meetings)
	}
	if s := b.text(".meeting"); !strings.Contains(s, "48小时内拆除设备") || !strings.Contains(s, "核查经营资质") {
		t.Errorf("meeting on the page: %q", s)
	}
}
