package web_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"zhizhi/internal/cases"
	"zhizhi/internal/demo"
)

// Browser tests drive a real headless Chromium against the real server. They
// run with ZHIZHI_BROWSER=1 (.ci/run sets it) and skip otherwise; then a
// missing Chromium fails them. Any JavaScript error in a page fails a test.

// chromiumPath finds a Chromium: $ZHIZHI_CHROMIUM, then the usual names.
func chromiumPath() string {
	if p := os.Getenv("ZHIZHI_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// tab is one browser tab, signed in as nobody yet, with the page errors it saw.
type tab struct {
	t    *testing.T
	ctx  context.Context
	mu   sync.Mutex
	errs []string
}

// newBrowser starts a headless Chromium for the test and returns its first
// tab. The browser stops at the end of the test, after the errors the pages
// raised are checked.
func newBrowser(t *testing.T) *tab {
	t.Helper()
	if os.Getenv("ZHIZHI_BROWSER") != "1" {
		// Minutes of Chromium: only when asked (.ci/run asks, on both engines).
		t.Skip("browser tests run with ZHIZHI_BROWSER=1 (.ci/run sets it)")
	}
	path := chromiumPath()
	if path == "" {
		if os.Getenv("ZHIZHI_BROWSER") == "1" {
			t.Fatal("ZHIZHI_BROWSER=1 but no Chromium found (install Debian's chromium or set ZHIZHI_CHROMIUM)")
		}
		t.Skip("no Chromium found: browser tests skipped (install chromium, or set ZHIZHI_CHROMIUM; ZHIZHI_BROWSER=1 makes this a failure)")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("lang", "zh-CN"),
		chromedp.WindowSize(1280, 900),
		chromedp.UserDataDir(t.TempDir()),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	tb := &tab{t: t, ctx: ctx}
	if err := chromedp.Do(ctx); err != nil { // start the browser
		t.Fatalf("start Chromium (%s): %v", path, err)
	}
	tb.watch()
	return tb
}

// another opens a tab in a fresh browser context: another person, with his
// own cookies, in the same browser.
func (b *tab) another() *tab {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	b.t.Cleanup(cancel)
	tb := &tab{t: b.t, ctx: ctx}
	if err := chromedp.Do(ctx); err != nil {
		b.t.Fatalf("open a tab: %v", err)
	}
	tb.watch()
	return tb
}

// watch records every uncaught exception, console.error and browser log
// error of the tab; the test fails on them when it ends.
func (b *tab) watch() {
	msgs := chromedp.Console(b.ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				b.mu.Lock()
				b.errs = append(b.errs, fmt.Sprintf("%s (%s:%d)", m, m.URL, m.Line))
				b.mu.Unlock()
			}
		}
	}()
	b.t.Cleanup(b.checkErrors)
}

func (b *tab) checkErrors() {
	b.t.Helper()
	time.Sleep(100 * time.Millisecond) // let the last events arrive
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.errs {
		b.t.Errorf("JavaScript error in the page: %s", e)
	}
	b.errs = nil
}

// do runs actions with a time limit.
func (b *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 45*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		loc, _ := chromedp.Run(b.ctx, chromedp.Location())
		body, _ := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS("main")))
		b.t.Fatalf("browser: %v (at %s)\n%s", err, loc, cut(body, 1500))
	}
}

// leave runs an action that loads another page (a form's submit, a link)
// and returns once the new document has replaced the old one, so a wait
// that follows cannot be satisfied by the page being left.
func leave(act chromedp.Action[chromedp.Void]) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		if _, err := chromedp.Evaluate[bool](`window.__zzLeaving = true`)(ctx, t); err != nil {
			return chromedp.Void{}, err
		}
		if _, err := act(ctx, t); err != nil {
			return chromedp.Void{}, err
		}
		for {
			// Errors while the old document goes away are expected: ask again.
			if done, err := chromedp.Evaluate[bool](`window.__zzLeaving !== true && document.readyState !== 'loading'`)(ctx, t); err == nil && done {
				return chromedp.Void{}, nil
			}
			select {
			case <-ctx.Done():
				return chromedp.Void{}, fmt.Errorf("the page was not left: %w", ctx.Err())
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
}

func cut(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// text reads the text of the first element matching a CSS selector.
func (b *tab) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func eval[T any](b *tab, js string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// signIn signs in through the sign-in form and waits for the home page.
func (b *tab) signIn(username, home string) {
	b.t.Helper()
	b.do(
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#signin`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), username),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), demo.Password),
		chromedp.Click(chromedp.CSS(`#signin button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`header.top .me`)),
	)
	if loc := eval[string](b, "location.pathname"); loc != home {
		b.t.Fatalf("%s landed on %s, want %s", username, loc, home)
	}
}

func TestBrowserSignIn(t *testing.T) {
	b := newBrowser(t)
	b.do(chromedp.Navigate(srv.URL + "/board"))
	if loc := eval[string](b, "location.pathname + location.search"); loc != "/signin?next=%2Fboard" {
		t.Fatalf("board before sign-in went to %s", loc)
	}
	b.do(
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "syl_zhihui"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "wrong-password"),
		chromedp.Click(chromedp.CSS(`#signin button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.alert`)),
	)
	if s := b.text(".alert"); !strings.Contains(s, "用户名或密码错误") {
		t.Fatalf("wrong password says %q", s)
	}
	// A failed sign-in answers 401, which Chromium logs; that one is expected.
	b.mu.Lock()
	kept := b.errs[:0]
	for _, e := range b.errs {
		if !strings.Contains(e, "status of 401") {
			kept = append(kept, e)
		}
	}
	b.errs = kept
	b.mu.Unlock()
	b.signIn("syl_zhihui", "/board")
	if s := b.text(".me"); !strings.Contains(s, "石油路街道值班指挥长") {
		t.Fatalf("header shows %q", s)
	}
	b.do(chromedp.Click(chromedp.CSS(`.me button`)), chromedp.WaitVisible(chromedp.CSS(`#signin`)))
}

// TestBrowserBoardLive: a grid worker reports with a photo from the phone
// page; the case appears on the command board without a reload.
func TestBrowserBoardLive(t *testing.T) {
	board := newBrowser(t)
	board.signIn("syl_zhihui", "/board")
	board.do(chromedp.WaitVisible(chromedp.CSS(`#live[data-state=on]`)))
	eval[any](board, "window.__sameDocument = true")

	phone := board.another()
	phone.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch))
	phone.signIn("zhouchunyan", "/m")
	p := gridPoint(t, "zhouchunyan")
	photo := filepath.Join(t.TempDir(), "scene.png")
	if err := os.WriteFile(photo, pngPhoto(120), 0o644); err != nil {
		t.Fatal(err)
	}
	desc := fmt.Sprintf("浏览器测试：小区门口垃圾堆放 %d", time.Now().UnixNano())
	phone.do(
		chromedp.Navigate(srv.URL+"/m/report"),
		chromedp.WaitVisible(chromedp.CSS(`#report`)),
		chromedp.SendKeys(chromedp.CSS(`#description`), desc),
		// The suggestion from the description picks the category.
		chromedp.WaitVisible(chromedp.CSS(`#suggest .chip`)),
		chromedp.Click(chromedp.CSS(`#suggest .chip`)),
		chromedp.SetValue(chromedp.CSS(`#lat`), fmt.Sprint(p.Lat)),
		chromedp.SetValue(chromedp.CSS(`#lng`), fmt.Sprint(p.Lng)),
		chromedp.SetUploadFiles(chromedp.CSS(`input[name=photo_file]`), []string{photo}),
		// The script uploads the photo at once and keeps its hash.
		chromedp.WaitReady(chromedp.CSS(`.thumbs input[name=photo]`)),
	)
	if cat := eval[string](phone, "document.getElementById('category').value"); cat != "MS03" {
		t.Fatalf("suggested category %q, want MS03 (暴露垃圾)", cat)
	}
	start := time.Now()
	phone.do(
		chromedp.Click(chromedp.CSS(`#report button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash`)),
	)
	flash := phone.text(".flash")
	number := strings.TrimSpace(strings.TrimPrefix(flash, "已上报，案件编号"))
	cs, _, err := plat.Service.Case(t.Context(), actor(t, "syl_zhihui"), number)
	if err != nil {
		t.Fatalf("reported case %q: %v", flash, err)
	}
	if len(cs.Photos) != 1 || cs.Description != desc {
		t.Fatalf("case has %d photos and description %q", len(cs.Photos), cs.Description)
	}
	board.do(chromedp.WaitVisible(chromedp.CSS(`tr[data-id="` + cs.ID + `"]`)))
	took := time.Since(start)
	t.Logf("the new report reached the board %v after the submit", took)
	if took > 2*time.Second {
		t.Errorf("the board showed the report after %v, want within 2 s", took)
	}
	if !eval[bool](board, "window.__sameDocument === true") {
		t.Fatal("the board reloaded instead of updating in place")
	}
	if row := board.text(`tr[data-id="` + cs.ID + `"]`); !strings.Contains(row, "待受理") || !strings.Contains(row, "暴露垃圾") {
		t.Fatalf("new row reads %q", row)
	}
	// An action elsewhere refreshes the row in place.
	actOn(t, "syl_zhihui", cs.ID, cases.Command{Action: cases.ActAccept})
	board.do(chromedp.Poll[chromedp.Void](`document.querySelector('tr[data-id="`+cs.ID+`"]').textContent.includes('待派遣')`, chromedp.WithPollingTimeout(20*time.Second)))
}

// TestBrowserDispatch: the commander dispatches a street matter from the case
// page with the suggested unit (the board's post) pre-filled and a co-unit
// ticked.
func TestBrowserDispatch(t *testing.T) {
	cs := reportCase(t, "zhouchunyan", "MS07", "浏览器测试：小区排水管道堵塞")
	actOn(t, "syl_zhihui", cs.ID, cases.Command{Action: cases.ActAccept})
	b := newBrowser(t)
	b.signIn("syl_zhihui", "/board")
	b.do(
		chromedp.Navigate(srv.URL+"/cases/"+cs.ID),
		chromedp.WaitVisible(chromedp.CSS(`#act-dispatch`)),
	)
	if lead := eval[string](b, `document.querySelector('#act-dispatch select[name=lead_unit]').value`); lead != "syl-ms-a" {
		t.Fatalf("lead unit pre-filled with %q, want syl-ms-a (the suggestion for a street matter)", lead)
	}
	// The keyboard shortcut d focuses the dispatch form.
	eval[any](b, "document.activeElement && document.activeElement.blur(), null")
	b.do(
		chromedp.KeyEvent("d"),
		chromedp.Click(chromedp.CSS(`#act-dispatch input[name=co_units][value=xf]`)),
		chromedp.SendKeys(chromedp.CSS(`#act-dispatch textarea[name=note]`), "请A岗牵头，消防协助"),
		chromedp.Click(chromedp.CSS(`#act-dispatch button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash`)),
	)
	if s := b.text("#state"); s != "待签收" {
		t.Fatalf("state after dispatch: %q", s)
	}
	if s := b.text(".flash"); s != "已派遣" {
		t.Fatalf("flash %q", s)
	}
	got := caseByID(t, cs.ID)
	if got.State != cases.Dispatched || len(got.Tasks) != 2 || got.Tasks[0].UnitID != "syl-ms-a" || got.Tasks[1].UnitID != "xf" {
		t.Fatalf("after dispatch: %s with tasks %+v", got.State, got.Tasks)
	}
	if s := b.text(".timeline"); !strings.Contains(s, "请A岗牵头，消防协助") {
		t.Fatalf("timeline lacks the note: %q", s)
	}
}

// TestBrowserCatchesErrors checks the watcher itself: an uncaught exception
// and a console.error in a page are seen.
func TestBrowserCatchesErrors(t *testing.T) {
	b := newBrowser(t)
	b.do(chromedp.Navigate(srv.URL + "/signin"))
	eval[any](b, "setTimeout(function () { throw new Error('boom'); }, 0); console.error('bad thing'); null")
	time.Sleep(300 * time.Millisecond)
	b.mu.Lock()
	got := strings.Join(b.errs, "\n")
	b.errs = nil
	b.mu.Unlock()
	if !strings.Contains(got, "boom") || !strings.Contains(got, "bad thing") {
		t.Fatalf("the watcher saw %q, want the exception and the console error", got)
	}
}

// TestBrowserScreenshots saves screenshots of the main pages at phone and
// desktop widths into $ZHIZHI_SCREENSHOTS, for a person to look at.
func TestBrowserScreenshots(t *testing.T) {
	dir := os.Getenv("ZHIZHI_SCREENSHOTS")
	if dir == "" {
		t.Skip("set ZHIZHI_SCREENSHOTS to a directory to take screenshots")
	}
	cs := reportCase(t, "zhouchunyan", "AQ09", "截图：某小区楼道内闻到明显燃气味道，疑似泄漏")
	actOn(t, "syl_zhihui", cs.ID, cases.Command{Action: cases.ActAccept})
	dup := reportAt(t, "zhouchunyan", "AQ09", "截图：同一楼道燃气味，居民再次反映", *cs.Point) // shown beside it in the panel
	for i, d := range []struct{ cat, desc string }{
		{"MS03", "菜市场门口生活垃圾堆放未清运"}, {"MS07", "小区下水道堵塞，污水漫到人行道"},
		{"AQ09", "餐馆后厨燃气管道老化有异味"}, {"MS04", "楼栋转角处建筑垃圾乱堆"},
	} {
		c := reportCase(t, "zhouchunyan", d.cat, d.desc)
		if i%2 == 1 {
			actOn(t, "syl_zhihui", c.ID, cases.Command{Action: cases.ActAccept})
			actOn(t, "syl_zhihui", c.ID, cases.Command{Action: cases.ActDispatch, Lead: "syl-ms-a"})
		}
	}
	b := newBrowser(t)
	b.signIn("syl_zhihui", "/board")
	w := b.another()
	w.signIn("zhouchunyan", "/m")
	head := b.another()
	head.signIn("syl_ms_head", "/workbench")
	adm := b.another()
	adm.signIn("admin", "/board")
	shots := []struct {
		tab  *tab
		name string
		path string
	}{
		{b, "board", "/board"}, {b, "board-panel", "/board?case=" + dup.ID}, {b, "case", "/cases/" + cs.ID}, {w, "worker", "/m"}, {w, "report", "/m/report"},
		{head, "workbench", "/workbench"}, {adm, "admin-units", "/admin/units"},
	}
	for _, size := range []struct {
		name   string
		w, h   int64
		mobile bool
	}{{"phone", 390, 844, true}, {"desktop", 1440, 900, false}} {
		for _, s := range shots {
			vp := chromedp.EmulateViewport(size.w, size.h)
			if size.mobile {
				vp = chromedp.EmulateViewport(size.w, size.h, chromedp.EmulateMobile, chromedp.EmulateTouch)
			}
			s.tab.do(vp, chromedp.Navigate(srv.URL+s.path), chromedp.Sleep(300*time.Millisecond))
			img, err := chromedp.Run(s.tab.ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, s.name+"-"+size.name+".png"), img, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
