package web_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"zhizhi/internal/cases"
)

// TestBrowserQueue: the board queue on a desk screen: one line per case,
// a row expands to its details, pages follow a cursor, a new report
// appears on top of the first page without a reload, and a batch accept
// over ticked rows takes one confirmation and reports per case.
func TestBrowserQueue(t *testing.T) {
	marker := fmt.Sprintf("浏览器队列%d", time.Now().UnixNano()%100000)
	var ids []string
	for i := range 52 {
		ids = append(ids, reportCase(t, "zhouchunyan", "MS03", fmt.Sprintf("%s：第%02d件 小区门口垃圾堆放，需要尽快清运，居民反映多次", marker, i)).ID)
	}
	b := newBrowser(t)
	b.signIn("syl_zhihui", "/board")
	b.do(
		chromedp.Navigate(srv.URL+"/board?q="+marker),
		chromedp.WaitVisible(chromedp.CSS(`#live[data-state=on]`)),
	)
	if n := eval[int](b, `document.querySelectorAll('#queue tbody tr[data-id]').length`); n != 50 {
		t.Fatalf("%d rows on the first page, want 50", n)
	}
	// Dense: every row is one line on a desk screen.
	if h := eval[float64](b, `Math.max(...[...document.querySelectorAll('#queue tbody tr')].map(r => r.getBoundingClientRect().height))`); h > 40 {
		t.Errorf("the tallest row is %.0f px, want one line (≤ 40 px)", h)
	}
	first := `#queue tbody tr[data-id="` + ids[51] + `"]`
	if eval[string](b, `document.querySelector('#queue tbody tr').getAttribute('data-id')`) != ids[51] {
		t.Error("the newest report is not the first row")
	}
	// Expand the first row: its details show, the row grows; again folds it.
	b.do(chromedp.Click(chromedp.CSS(first+` .expand`)), chromedp.WaitVisible(chromedp.CSS(first+` .more`)))
	if !eval[bool](b, `document.querySelector('`+first+`').classList.contains('open') && document.querySelector('`+first+` .expand').getAttribute('aria-expanded') === 'true'`) {
		t.Error("the expanded row is not marked open")
	}
	if s := b.text(first + ` .more`); !strings.Contains(s, "居民反映多次") || !strings.Contains(s, "网格巡查") {
		t.Errorf("the details read %q", s)
	}
	if eval[bool](b, `!!document.querySelector('#board-panel .drawer-in')`) {
		t.Error("expanding a row opened the action panel")
	}
	b.do(chromedp.Click(chromedp.CSS(first+` .expand`)), chromedp.WaitNotVisible(chromedp.CSS(first+` .more`)))

	// The next page: the two oldest; back to the first.
	b.do(chromedp.Click(chromedp.CSS(`#next-page`)), chromedp.WaitVisible(chromedp.CSS(`#first-page`)))
	if n := eval[int](b, `document.querySelectorAll('#queue tbody tr[data-id]').length`); n != 2 {
		t.Errorf("%d rows on the second page, want 2", n)
	}
	if !eval[bool](b, `!!document.querySelector('#queue tbody tr[data-id="`+ids[0]+`"]') && !document.querySelector('#next-page')`) {
		t.Error("the second page lacks the oldest case, or offers a third page")
	}
	b.do(chromedp.Click(chromedp.CSS(`#first-page`)), chromedp.WaitVisible(chromedp.CSS(`#live[data-state=on]`)))
	eval[any](b, "window.__sameDocument = true")

	// A new report arrives: on top of the first page, live.
	fresh := reportCase(t, "zhouchunyan", "MS03", marker+"：新到的一件")
	b.do(chromedp.WaitVisible(chromedp.CSS(`#queue tbody tr[data-id="` + fresh.ID + `"]`)))
	if eval[string](b, `document.querySelector('#queue tbody tr').getAttribute('data-id')`) != fresh.ID {
		t.Error("the new report is not on top")
	}
	if !eval[bool](b, "window.__sameDocument === true") {
		t.Fatal("the board reloaded instead of updating in place")
	}

	// Batch: tick the new case and one more, one of them accepted already.
	accepted := actOn(t, "syl_zhihui", ids[51], cases.Command{Action: cases.ActAccept})
	// The board replaces that row live; a tick sent while the row is being
	// replaced finds no node (seen in CI), so the new row comes first.
	b.do(chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`%s[data-version="%d"]`, first, accepted.Version))))
	b.do(
		chromedp.Click(chromedp.CSS(`#queue tbody tr[data-id="`+fresh.ID+`"] td.pick input`)),
		chromedp.Click(chromedp.CSS(first+` td.pick input`)),
	)
	if s := b.text(`#selected-count`); s != "已选 2 件" {
		t.Errorf("the count reads %q", s)
	}
	b.do(
		chromedp.SetValue(chromedp.CSS(`#batch-action`), "accept"),
		chromedp.Click(chromedp.CSS(`#batch-go`)),
		chromedp.WaitVisible(chromedp.CSS(`#batch-confirm`)),
	)
	if s := b.text("main"); !strings.Contains(s, "确认执行（2 件）") || !strings.Contains(s, fresh.Number) {
		t.Fatalf("the confirmation reads %q", cut(s, 500))
	}
	if caseByID(t, fresh.ID).State != cases.Reported {
		t.Fatal("the case changed before the confirmation")
	}
	b.do(chromedp.Click(chromedp.CSS(`#batch-confirm button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS(`#batch-summary`)))
	if s := b.text("#batch-summary"); !strings.Contains(s, "办成 1 件，未办 1 件") {
		t.Errorf("the summary reads %q", s)
	}
	if s := b.text(`#batch-results tr[data-id="` + ids[51] + `"]`); !strings.Contains(s, "被拒绝") {
		t.Errorf("the accepted case's result reads %q", s)
	}
	if caseByID(t, fresh.ID).State != cases.Accepted {
		t.Error("the new case was not accepted")
	}
}
