package web_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"zhizhi/internal/cases"
)

// TestBrowserNotificationBell: the bell in the header counts the unread
// notifications live: a dispatch to the person's unit raises it without a
// reload; opening the notification goes to the case and lowers it; "all
// read" empties it.
func TestBrowserNotificationBell(t *testing.T) {
	// What earlier tests left to fan out for the unit goes first, so that
	// the count read below moves only by this test's dispatch (a clock of
	// an earlier case may still warn meanwhile: the checks allow more).
	for i := 0; i < 20; i++ {
		if n, err := plat.Service.FanOut(context.Background()); err != nil || n == 0 {
			break
		}
	}
	b := newBrowser(t)
	b.signIn("xf_staff", "/inbox")
	b.do(chromedp.Navigate(srv.URL + "/notifications"))
	b.do(chromedp.WaitReady(chromedp.CSS(`#bell[data-unread]`)))
	before := eval[string](b, `document.getElementById('bell').getAttribute('data-unread')`)
	n, _ := strconv.Atoi(before)
	eval[any](b, "window.__sameDocument = true")

	c := reportCase(t, "zhouchunyan", "MS03", fmt.Sprintf("铃铛测试%d：小区门口垃圾堆放", time.Now().UnixNano()%100000))
	actOn(t, "syl_zhihui", c.ID, cases.Command{Action: cases.ActAccept})
	actOn(t, "syl_zhihui", c.ID, cases.Command{Action: cases.ActDispatch, Lead: "xf"})
	if _, err := plat.Service.FanOut(context.Background()); err != nil {
		t.Fatal(err)
	}
	b.do(chromedp.Poll[chromedp.Void](`+document.getElementById('bell').getAttribute('data-unread') >= `+strconv.Itoa(n+1),
		chromedp.WithPollingTimeout(30*time.Second)))
	if !eval[bool](b, "window.__sameDocument === true") {
		t.Fatal("the page reloaded instead of counting live")
	}
	if s, want := b.text(`#bell .count`), eval[string](b, `document.getElementById('bell').getAttribute('data-unread')`); s != want {
		t.Errorf("the bell shows %q, its count is %s", s, want)
	}
	n, _ = strconv.Atoi(eval[string](b, `document.getElementById('bell').getAttribute('data-unread')`))
	// The list (reloaded) has the notification; opening it goes to the case.
	b.do(chromedp.Navigate(srv.URL+"/notifications?unread=1"), chromedp.WaitVisible(chromedp.CSS(`.notification-list li.unread:has(input[name=to][value$="`+c.ID+`"])`)))
	b.do(chromedp.Click(chromedp.CSS(`.notification-list li.unread:has(input[name=to][value$="` + c.ID + `"]) form button`)))
	// The click navigates to the case: ask again until the case page is
	// there with the lower count (an evaluation during the navigation fails).
	lowered := false
	for end := time.Now().Add(30 * time.Second); !lowered && time.Now().Before(end); {
		ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`location.pathname === '/cases/`+c.ID+`' && !!document.getElementById('bell') && +document.getElementById('bell').getAttribute('data-unread') <= `+strconv.Itoa(n-1)))
		lowered = err == nil && ok
		if !lowered {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if !lowered {
		t.Fatalf("opening the notification did not reach the case with the count lowered below %d", n)
	}
	if loc := eval[string](b, "location.pathname"); loc != "/cases/"+c.ID {
		t.Errorf("the notification opened %s, want the case", loc)
	}
	b.do(chromedp.Navigate(srv.URL+"/notifications"), chromedp.WaitVisible(chromedp.CSS(`#read-all`)),
		chromedp.Click(chromedp.CSS(`#read-all`)), chromedp.WaitVisible(chromedp.CSS(`p.flash`)),
		chromedp.WaitReady(chromedp.CSS(`#bell[data-unread="0"] .count`)))
	if s := b.text(`p.flash`); s != "已全部标为已读" {
		t.Errorf("after all read the page says %q", s)
	}
	if !eval[bool](b, `document.querySelector('#bell .count').hidden`) {
		t.Error("the count shows with nothing unread")
	}
	b.checkErrors()
}
