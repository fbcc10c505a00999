package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserWebhooks: the administrator subscribes a receiver on the
// console's 推送订阅 page (region, two events, a source), reads the secret
// shown once, pauses the subscription from its row and opens its delivery
// log, in Chromium under the console's CSP.
func TestBrowserWebhooks(t *testing.T) {
	b := newBrowser(t)
	b.signIn("admin", "/board")
	b.do(chromedp.Navigate(srv.URL+"/admin/webhooks"), chromedp.WaitVisible(chromedp.CSS(`#webhook-create`)))
	b.do(
		chromedp.SendKeys(chromedp.CSS(`#webhook-create input[name="name"]`), "浏览器订阅测试"),
		chromedp.SendKeys(chromedp.CSS(`#webhook-create input[name="url"]`), "http://127.0.0.1:9/browser-hook"),
		chromedp.Click(chromedp.CSS(`#webhook-create input[name="events"][value="accept"]`)),
		chromedp.Click(chromedp.CSS(`#webhook-create input[name="events"][value="close"]`)),
		chromedp.Click(chromedp.CSS(`#webhook-create input[name="sources"][value="hotline"]`)),
		chromedp.Click(chromedp.CSS(`#webhook-create button.primary`)),
		chromedp.WaitVisible(chromedp.CSS(`#new-secret`)),
	)
	if s := b.text(`#secret`); len(s) < 16 {
		t.Fatalf("secret shown: %q", s)
	}
	row := `#webhooks tr:has(td b)`
	if s := b.text(row); !strings.Contains(s, "浏览器订阅测试") || !strings.Contains(s, "推送中") {
		t.Fatalf("listed row: %q", s)
	}
	b.do(chromedp.Click(chromedp.CSS(row+` form[action$="/state"] button`)), chromedp.WaitVisible(chromedp.CSS(`p.flash`)))
	if s := b.text(row + ` td.state`); !strings.Contains(s, "已暂停") || !strings.Contains(s, "管理员暂停") {
		t.Fatalf("after pausing: %q", s)
	}
	b.do(chromedp.Click(chromedp.CSS(row+` a.btn`)), chromedp.WaitVisible(chromedp.CSS(`#webhook-log`)))
	if s := b.text(`#webhook-log`); !strings.Contains(s, "还没有投递记录") {
		t.Errorf("log page: %q", s)
	}
	b.do(chromedp.Navigate(srv.URL+"/admin/webhooks"), chromedp.WaitVisible(chromedp.CSS(`#webhooks`)))
	b.do(chromedp.Click(chromedp.CSS(row+` form[action$="/delete"] button`)), chromedp.WaitVisible(chromedp.CSS(`p.flash`)))
}
