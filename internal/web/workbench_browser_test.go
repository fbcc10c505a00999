package web_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"zhizhi/internal/cases"
)

// TestBrowserWorkbench plays issue 10's journey: 石油路's commander accepts a
// new street matter (MS07, 排水管道堵塞) on its case page and dispatches it
// to 民生服务板块A岗; A岗, on a phone, opens the board workbench from the
// nav, sees the case with its countdown, opens it, signs and feeds back; the
// board head's workbench shows it under A岗.
func TestBrowserWorkbench(t *testing.T) {
	desc := fmt.Sprintf("工作台旅程：小区排水管道堵塞，污水外溢 %d", time.Now().UnixNano())
	cs := reportCase(t, "zhouchunyan", "MS07", desc)
	cmdr := newBrowser(t)
	cmdr.signIn("syl_zhihui", "/board")
	cmdr.do(chromedp.Navigate(srv.URL+"/cases/"+cs.ID), chromedp.WaitVisible(chromedp.CSS(`#act-accept`)),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#act-accept').open = true`),
		chromedp.Click(chromedp.CSS(`#act-accept button[type=submit]`)))
	waitFlash(cmdr, "已受理")
	cmdr.do(chromedp.WaitVisible(chromedp.CSS(`#act-dispatch`)),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#act-dispatch').open = true`),
		chromedp.SetValue(chromedp.CSS(`#act-dispatch select[name=lead_unit]`), "syl-ms-a"),
		chromedp.Click(chromedp.CSS(`#act-dispatch button[type=submit]`)))
	waitFlash(cmdr, "已派遣")
	if got := caseByID(t, cs.ID); got.State != cases.Dispatched || len(got.Tasks) != 1 || got.Tasks[0].UnitID != "syl-ms-a" {
		t.Fatalf("after dispatch: %s %+v", got.State, got.Tasks)
	}

	// A岗 on a phone: the workbench from the nav, the case with its countdown.
	post := cmdr.another()
	post.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch))
	post.signIn("syl_ms_a", "/inbox")
	row := `#desk-syl-ms-a tr[data-id="` + cs.ID + `"]`
	post.do(chromedp.Click(chromedp.CSS(`header nav a[href="/workbench"]`)), chromedp.WaitVisible(chromedp.CSS(row)))
	if loc := eval[string](post, "location.pathname"); loc != "/workbench" {
		t.Fatalf("the nav's link went to %s", loc)
	}
	if s := post.text(row); !strings.Contains(s, cs.Number) || !strings.Contains(s, "待签收") || !strings.Contains(s, "签收") {
		t.Fatalf("the workbench's row: %q", s)
	}
	clock := row + ` .clock[data-due]`
	post.do(chromedp.WaitVisible(chromedp.CSS(clock)))
	if s := post.text(clock); !strings.HasPrefix(s, "剩") {
		t.Fatalf("countdown %q, want 剩…", s)
	}
	if n := eval[int](post, `document.querySelectorAll('#desk-syl-ms-a tr[data-id]').length`); n < 1 {
		t.Fatal("no rows in A岗's queue")
	}
	if dir := os.Getenv("ZHIZHI_SCREENSHOTS"); dir != "" {
		img, _ := chromedp.Run(post.ctx, chromedp.FullScreenshot(100))
		os.WriteFile(filepath.Join(dir, "workbench-phone.png"), img, 0o644)
	}
	// Open it, sign, feed back.
	href := eval[string](post, `document.querySelector('`+row+` td.num a').getAttribute('href')`)
	if href != "/cases/"+cs.ID {
		t.Fatalf("the row links to %q", href)
	}
	post.do(chromedp.Click(chromedp.CSS(row + ` td.num a`))) // a real tap: the countdown must not cover the link
	post.do(chromedp.WaitVisible(chromedp.CSS(`#act-sign`)),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#act-sign').open = true`),
		chromedp.Click(chromedp.CSS(`#act-sign button[type=submit]`)))
	waitFlash(post, "已签收")
	post.do(chromedp.WaitVisible(chromedp.CSS(`#act-feedback`)),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#act-feedback').open = true`),
		chromedp.SendKeys(chromedp.CSS(`#act-feedback textarea[name=note]`), "已疏通管道，路面已冲洗"),
		chromedp.Click(chromedp.CSS(`#act-feedback button[type=submit]`)))
	waitFlash(post, "已反馈")
	if got := caseByID(t, cs.ID); got.State != cases.FedBack || got.Tasks[0].State != cases.TaskFedBack {
		t.Fatalf("after feedback: %s, task %s", got.State, got.Tasks[0].State)
	}
	// Back on the workbench the case waits for verification, fed back.
	post.do(chromedp.Navigate(srv.URL+"/workbench"), chromedp.WaitVisible(chromedp.CSS(row)))
	if s := post.text(row); !strings.Contains(s, "已反馈") {
		t.Fatalf("the row after feedback: %q", s)
	}

	// The board head: the case under A岗, not under B岗.
	head := cmdr.another()
	head.signIn("syl_ms_head", "/workbench")
	head.do(chromedp.WaitVisible(chromedp.CSS(`#desk-syl-ms-a`)))
	if s := head.text(`#desk-syl-ms-a`); !strings.Contains(s, cs.Number) || !strings.Contains(s, "石油路街道民生服务板块A岗") {
		t.Fatalf("A岗 on the head's workbench: %q", cut(s, 500))
	}
	if s := head.text(`#desk-syl-ms-b`); strings.Contains(s, cs.Number) {
		t.Fatalf("B岗 on the head's workbench shows %s", cs.Number)
	}
	if s := head.text(`#bench-totals`); !strings.Contains(s, "近7日已反馈/结案") {
		t.Fatalf("the board's totals: %q", s)
	}
}

// waitFlash waits until the page a form led to says what was done (the
// page navigates, so the check is retried across the load).
func waitFlash(b *tab, want string) {
	b.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(document.querySelector('.flash')||{}).textContent || ''`))
		if err == nil && strings.TrimSpace(got) == want {
			return
		}
		if time.Now().After(deadline) {
			body, _ := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS("main")))
			b.t.Fatalf("no %q on the page (flash %q, err %v)\n%s", want, got, err, cut(body, 1500))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
