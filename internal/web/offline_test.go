package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"zhizhi/internal/cases"
	"zhizhi/internal/demo"
	"zhizhi/internal/store"
	"zhizhi/internal/web"
)

func TestServiceWorkerScript(t *testing.T) {
	c := newClient(t)
	r := c.get("/sw.js")
	expect(t, r, 200, "zhizhi-m-", "/m/report", "/static/offline.")
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
		t.Errorf("service worker served as %q", ct)
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("service worker Cache-Control %q, want no-cache (the browser must see a new version)", cc)
	}
	if strings.Contains(r.body, "__VERSION__") {
		t.Error("the version was not written into the service worker")
	}
	// Every asset it keeps exists, under the content-hashed name the phone
	// pages use.
	pages := c.get("/m/report").body + signIn(t, "zhouchunyan").get("/m/report").body
	for _, name := range []string{"app.css", "clock.js", "photos.js", "report.js", "offline.js", "offline.css", "favicon.svg"} {
		a, err := web.AssetURL(name)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(r.body, `"`+a+`"`) {
			t.Errorf("sw.js does not keep %s", a)
		}
		if strings.Contains(r.body, `"/static/`+name+`"`) {
			t.Errorf("sw.js keeps the plain name of %s", name)
		}
		if !strings.Contains(pages, a) {
			t.Errorf("the phone's report page does not name %s", a)
		}
		if a := c.get(a); a.status != 200 {
			t.Errorf("%s: %d", a.body, a.status)
		}
	}
}

func TestOfflineReportPages(t *testing.T) {
	c := signIn(t, "zhouchunyan")
	me := actor(t, "zhouchunyan")
	expect(t, c.get("/m/report"), 200, `id="outbox"`, `data-account="`+me.AccountID+`"`, asset(t, "offline.js"), `class="photo-offline"`,
		`data-required="shop"`)
	expect(t, c.get("/m"), 200, `id="outbox"`, asset(t, "offline.js"))

	// The phone's script sends through the JSON API with the session
	// cookie and its own reference; sending again (a lost answer) returns
	// the case already made.
	p := gridPoint(t, "zhouchunyan")
	ref := fmt.Sprintf("phone-%d", time.Now().UnixNano())
	body := fmt.Sprintf(`{"source":"patrol","category":"MS03","description":"离线补发测试","point":{"lat":%f,"lng":%f},"client_ref":%q}`, p.Lat, p.Lng, ref)
	var numbers []string
	for range 2 {
		req, _ := http.NewRequest("POST", srv.URL+"/api/v1/cases", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		res, err := c.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var got struct{ Number string }
		json.NewDecoder(res.Body).Decode(&got)
		res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("report through the API: %d", res.StatusCode)
		}
		numbers = append(numbers, got.Number)
	}
	if numbers[0] != numbers[1] || numbers[0] == "" {
		t.Fatalf("the same reference made %v", numbers)
	}
	if n := countByRef(t, "zhouchunyan", ref); n != 1 {
		t.Fatalf("%d cases for one reference", n)
	}
}

// countByRef counts a grid worker's cases with a client reference.
func countByRef(t *testing.T, username, ref string) int {
	t.Helper()
	a := actor(t, username)
	list, err := plat.Service.List(context.Background(), a, store.CaseFilter{Reporter: a.AccountID, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range list {
		if c.ClientRef == ref {
			n++
		}
	}
	return n
}

// hitCounter counts the requests for each path that reach the server.
type hitCounter struct {
	mu   sync.Mutex
	hits map[string]int
	h    http.Handler
}

func (h *hitCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.hits[r.URL.Path]++
	h.mu.Unlock()
	h.h.ServeHTTP(w, r)
}

func (h *hitCounter) count(path string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.hits[path]
}

// setOffline cuts a tab off the network, or connects it again: its
// navigator.onLine and online/offline events, its requests, and the
// requests of the service worker that controls it.
//
// The requests are cut or connected first and navigator.onLine changes
// last, as on a phone: the page's "online" event must not come while its
// requests still fail (a report sent at once would meet a dead network).
func (b *tab) setOffline(off bool) {
	b.t.Helper()
	defer func() {
		if _, err := chromedp.Call(b.ctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{
			Offline: off, DownloadThroughput: -1, UploadThroughput: -1}); err != nil {
			b.t.Fatalf("override network state: %v", err)
		}
	}()
	if _, err := chromedp.Call(b.ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
		EmulateOfflineServiceWorker: &off,
		MatchedNetworkConditions:    []*network.Conditions{{Offline: off, DownloadThroughput: -1, UploadThroughput: -1}},
	}); err != nil {
		b.t.Fatalf("emulate network conditions: %v", err)
	}
	// The service worker is a target of its own: cut it off too, as the
	// phone's lost signal would.
	targets, err := chromedp.Targets(b.ctx)
	if err != nil {
		b.t.Fatalf("targets: %v", err)
	}
	for _, ti := range targets {
		if ti.Type != "service_worker" {
			continue
		}
		ctx, ok := workerSessions[ti.TargetID]
		if !ok {
			var cancel context.CancelFunc
			ctx, cancel = chromedp.NewContext(b.ctx, chromedp.WithTargetID(ti.TargetID))
			b.t.Cleanup(func() { cancel(); delete(workerSessions, ti.TargetID) })
			workerSessions[ti.TargetID] = ctx
		}
		_, err := chromedp.Call(ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			MatchedNetworkConditions: []*network.Conditions{{Offline: off, DownloadThroughput: -1, UploadThroughput: -1}},
		})
		if err != nil {
			b.t.Fatalf("emulate network conditions in the service worker: %v", err)
		}
	}
}

// workerSessions are the sessions attached to service workers, which keep
// their network emulation while attached.
var workerSessions = map[target.ID]context.Context{}

// newTab opens a tab in the same browser context as b (same cookies,
// storage and service workers), as opening the page again on one phone.
func (b *tab) newTab() *tab {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	tb := &tab{t: b.t, ctx: ctx}
	b.t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		b.t.Fatalf("open a tab: %v", err)
	}
	tb.watch()
	return tb
}

// close closes the tab, checking the errors its pages raised.
func (b *tab) close() {
	b.t.Helper()
	b.checkErrors()
	if err := chromedp.Cancel(b.ctx); err != nil {
		b.t.Fatalf("close the tab: %v", err)
	}
}

// await evaluates an expression that yields a promise and returns its value.
func await[T any](b *tab, js string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// waitFor polls a promise-valued expression until it yields true.
func (b *tab) waitFor(what, js string, limit time.Duration) {
	b.t.Helper()
	b.waitForOr(what, js, `Promise.resolve('')`, limit)
}

// waitForOr is waitFor that, when it gives up, says what the promise-valued
// expression diag yields (the state the wait was stuck in).
func (b *tab) waitForOr(what, js, diag string, limit time.Duration) {
	b.t.Helper()
	end := time.Now().Add(limit)
	for {
		if await[bool](b, js) {
			return
		}
		if time.Now().After(end) {
			b.t.Fatalf("waited %v for %s; %s", limit, what, await[string](b, diag))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// swState describes the page's service worker and what its cache lacks.
const swState = `(async () => {
  const regs = await navigator.serviceWorker.getRegistrations();
  const w = regs.map(r => ['installing', 'waiting', 'active'].map(k => r[k] ? k + ':' + r[k].state : '').filter(Boolean).join(',')).join(' | ');
  const want = ['/m', '/m/report'].concat([...document.querySelectorAll('script[src^="/static/"], link[href^="/static/"]')].map(x => x.getAttribute('src') || x.getAttribute('href')));
  const missing = [];
  for (const u of want) { if (!(await caches.match(u))) missing.push(u); }
  return 'workers: ' + (w || 'none') + '; controller: ' + !!navigator.serviceWorker.controller + '; caches: ' + (await caches.keys()).join(',') + '; missing: ' + missing.join(' ');
})()`

// TestBrowserOfflineReport: a grid worker without signal reports with a
// photo; the report waits on the phone (待发送), survives closing the page,
// and when the signal returns it is sent once: one case on the server, also
// when the phone sends it again as after a lost answer.
func TestBrowserOfflineReport(t *testing.T) {
	// A server of its own, to count what reaches it while the phone is off.
	counter := &hitCounter{hits: map[string]int{}, h: plat.Handler}
	site := httptest.NewServer(counter)
	defer site.Close()

	b := newBrowser(t) // holds the browser; the phone's pages open beside it
	phone := b.newTab()
	phone.do(
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch),
		chromedp.Navigate(site.URL+"/signin"),
		chromedp.WaitVisible(chromedp.CSS(`#signin`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "zhouchunyan"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), demo.Password),
		chromedp.Click(chromedp.CSS(`#signin button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`header.top .me`)),
		chromedp.Navigate(site.URL+"/m/report"),
		chromedp.WaitVisible(chromedp.CSS(`#report`)),
	)
	// The service worker takes the page and keeps both phone pages and every
	// asset of the report page.
	phone.waitForOr("the service worker to control the page and keep the pages",
		`navigator.serviceWorker.ready.then(() => !!navigator.serviceWorker.controller)
		  .then(ok => ok && Promise.all([caches.match('/m'), caches.match('/m/report')].concat(
		    [...document.querySelectorAll('script[src^="/static/"], link[href^="/static/"]')].map(x => caches.match(x.getAttribute('src') || x.getAttribute('href'))))))
		  .then(r => !!r && r.every(Boolean))`, swState, 30*time.Second) // generous: on a loaded machine installing the worker took over 10 s

	phone.setOffline(true)
	phone.do(chromedp.Poll[chromedp.Void](`!navigator.onLine && !document.getElementById('offline-banner').classList.contains('hidden')`,
		chromedp.WithPollingTimeout(20*time.Second)))
	p := gridPoint(t, "zhouchunyan")
	photo := filepath.Join(t.TempDir(), "offline.png")
	if err := os.WriteFile(photo, pngPhoto(77), 0o644); err != nil {
		t.Fatal(err)
	}
	desc := fmt.Sprintf("离线上报测试：楼道堆放杂物 %d", time.Now().UnixNano())
	phone.do(
		chromedp.SendKeys(chromedp.CSS(`#description`), desc),
		chromedp.SetValue(chromedp.CSS(`#category`), "MS03"),
		chromedp.SetValue(chromedp.CSS(`#lat`), fmt.Sprint(p.Lat)),
		chromedp.SetValue(chromedp.CSS(`#lng`), fmt.Sprint(p.Lng)),
		chromedp.SetUploadFiles(chromedp.CSS(`input[name=photo_file]`), []string{photo}),
		chromedp.WaitVisible(chromedp.CSS(`.photo-offline .thumb img`)),
		chromedp.Click(chromedp.CSS(`#report button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#saved-flash`)),
		chromedp.WaitVisible(chromedp.CSS(`#outbox-list li.ob-pending`)),
	)
	if s := phone.text(`#outbox`); !strings.Contains(s, "1 件待发送") || !strings.Contains(s, "待发送") || !strings.Contains(s, string([]rune(desc)[:12])) || !strings.Contains(s, "1 张照片") {
		t.Fatalf("the waiting list reads %q", s)
	}
	ref := await[string](phone, `zhizhiOutbox.all().then(l => l.filter(e => e.status === 'pending' && e.report.description === `+jsString(desc)+`)[0].ref)`)
	if await[string](phone, `zhizhiOutbox.all().then(l => l.filter(e => e.ref === `+jsString(ref)+`)[0].photos[0].blob.type)`) == "" {
		t.Fatal("the photo is not kept as a Blob")
	}
	if n := countByRef(t, "zhouchunyan", ref); n != 0 {
		t.Fatalf("%d cases made while offline", n)
	}

	// Close the page and open it again, still without signal: the service
	// worker serves it from its cache, and the report is still waiting.
	phone.close()
	before := counter.count("/m/report")
	phone = b.newTab()
	phone.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch))
	phone.setOffline(true)
	phone.do(
		chromedp.Navigate(site.URL+"/m/report"),
		chromedp.WaitVisible(chromedp.CSS(`#outbox-list li.ob-pending`)),
	)
	if n := counter.count("/m/report"); n != before {
		t.Fatalf("the page came from the server while offline (%d requests)", n-before)
	}
	if s := phone.text(`#outbox-list`); !strings.Contains(s, string([]rune(desc)[:12])) {
		t.Fatalf("after reopening, the waiting list reads %q", s)
	}

	// The signal returns: the report goes out once, with its photo.
	start := time.Now()
	phone.setOffline(false)
	phone.do(chromedp.WaitVisible(chromedp.CSS(`#outbox-list li.ob-sent`)))
	t.Logf("sent %v after the signal returned", time.Since(start))
	if n := countByRef(t, "zhouchunyan", ref); n != 1 {
		t.Fatalf("%d cases for the offline report, want 1", n)
	}
	a := actor(t, "zhouchunyan")
	list, err := plat.Service.List(t.Context(), a, store.CaseFilter{Reporter: a.AccountID, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	var made cases.Case
	for _, c := range list {
		if c.ClientRef == ref {
			made = c
		}
	}
	if made.Description != desc || len(made.Photos) != 1 || made.Category != "MS03" || made.GridCode == "" {
		t.Fatalf("the case made: %q, %d photos, category %s, grid %q", made.Description, len(made.Photos), made.Category, made.GridCode)
	}
	if s := phone.text(`#outbox-list li.ob-sent`); !strings.Contains(s, made.Number) {
		t.Fatalf("the sent report shows %q, want its number %s", s, made.Number)
	}
	// As if the answer had been lost: the phone sends the same report
	// again; the server answers with the case it already made.
	await[any](phone, `zhizhiOutbox.all().then(l => { const e = l.filter(e => e.ref === `+jsString(ref)+`)[0]; e.status = 'pending'; return zhizhiOutbox.put(e); }).then(() => zhizhiOutbox.flush()).then(() => null)`)
	phone.do(chromedp.WaitVisible(chromedp.CSS(`#outbox-list li.ob-sent`)))
	if n := countByRef(t, "zhouchunyan", ref); n != 1 {
		t.Fatalf("%d cases after the report was sent again, want 1", n)
	}
	// Reopening the page online sends nothing more.
	phone.do(chromedp.Navigate(site.URL+"/m"), chromedp.WaitVisible(chromedp.CSS(`#outbox-list li.ob-sent`)))
	time.Sleep(300 * time.Millisecond)
	if n := countByRef(t, "zhouchunyan", ref); n != 1 {
		t.Fatalf("%d cases after reopening, want 1", n)
	}
	// Signing out drops the kept pages, which show the worker's grid.
	phone.do(chromedp.Click(chromedp.CSS(`.me button`)), chromedp.WaitVisible(chromedp.CSS(`#signin`)))
	if kept := await[bool](phone, `Promise.all([caches.match('/m'), caches.match('/m/report')]).then(r => r.some(Boolean))`); kept {
		t.Fatal("the phone pages are still kept after signing out")
	}
}

// TestBrowserReportRefused: online, a report the server refuses shows the
// reasons next to the inputs and is not kept on the phone; corrected, it
// goes through.
func TestBrowserReportRefused(t *testing.T) {
	b := newBrowser(t)
	b.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch))
	b.signIn("zhouchunyan", "/m")
	desc := fmt.Sprintf("退回测试：井盖缺失 %d", time.Now().UnixNano())
	b.do(
		chromedp.Navigate(srv.URL+"/m/report"),
		chromedp.WaitVisible(chromedp.CSS(`#report`)),
		// The form's own check: nothing is sent without a description.
		chromedp.Click(chromedp.CSS(`#report button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#report .js-error`)),
	)
	if s := b.text(`#report`); !strings.Contains(s, "请描述问题") || !strings.Contains(s, "请选择问题类别") || !strings.Contains(s, "请标注位置或填写地址") {
		t.Fatalf("the form's check says %q", s)
	}
	b.do(
		chromedp.SendKeys(chromedp.CSS(`#description`), desc),
		chromedp.SetValue(chromedp.CSS(`#category`), "MS03"),
		chromedp.SendKeys(chromedp.CSS(`input[name=address]`), "新影村小区东门"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('input[name=reporter_phone]').value = 'abc'`),
		chromedp.Click(chromedp.CSS(`#report button[type=submit]`)),
		chromedp.Poll[chromedp.Void](`[...document.querySelectorAll('#report .field-error.js-error')].some(p => p.textContent.includes('电话号码格式不正确'))`,
			chromedp.WithPollingTimeout(20*time.Second)),
	)
	if n := await[float64](b, `zhizhiOutbox.all().then(l => l.filter(e => e.report.description === `+jsString(desc)+`).length)`); n != 0 {
		t.Fatalf("a refused report is kept on the phone (%v)", n)
	}
	// The refusal came as an HTTP 400, which Chromium logs; that one is expected.
	b.mu.Lock()
	kept := b.errs[:0]
	for _, e := range b.errs {
		if !strings.Contains(e, "status of 400") {
			kept = append(kept, e)
		}
	}
	b.errs = kept
	b.mu.Unlock()
	b.do(
		chromedp.Evaluate[chromedp.Void](`document.querySelector('input[name=reporter_phone]').value = '13812345678'`),
		chromedp.Click(chromedp.CSS(`#report button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash`)),
	)
	if s := b.text(".flash"); !strings.HasPrefix(s, "已上报，案件编号") {
		t.Fatalf("flash %q", s)
	}
	a := actor(t, "zhouchunyan")
	list, err := plat.Service.List(t.Context(), a, store.CaseFilter{Reporter: a.AccountID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range list {
		if c.Description == desc {
			n++
			if c.Reporter.Phone != "13812345678" || c.ClientRef == "" {
				t.Errorf("the case: phone %q, reference %q", c.Reporter.Phone, c.ClientRef)
			}
		}
	}
	if n != 1 {
		t.Fatalf("%d cases for the corrected report", n)
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestBrowserReportPhotoOnline: online, a photo chosen on the phone's report
// form is shrunk and uploaded at once (photos.js's functions), and the form
// carries its hash, which the server knows.
func TestBrowserReportPhotoOnline(t *testing.T) {
	b := newBrowser(t)
	b.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch))
	b.signIn("zhouchunyan", "/m")
	photo := filepath.Join(t.TempDir(), "online.png")
	if err := os.WriteFile(photo, pngPhoto(91), 0o644); err != nil {
		t.Fatal(err)
	}
	b.do(
		chromedp.Navigate(srv.URL+"/m/report"),
		chromedp.WaitVisible(chromedp.CSS(`#report`)),
		chromedp.SetUploadFiles(chromedp.CSS(`input[name=photo_file]`), []string{photo}),
		chromedp.Poll[chromedp.Void](`document.querySelector('.photo-offline input[type=hidden][name=photo]')`,
			chromedp.WithPollingTimeout(20*time.Second)),
	)
	hash := await[string](b, `Promise.resolve(document.querySelector('.photo-offline input[type=hidden][name=photo]').value)`)
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(hash) {
		t.Fatalf("photo hash %q", hash)
	}
	f, err := plat.Service.OpenPhoto(hash)
	if err != nil {
		t.Fatalf("the uploaded photo is not on the server: %v", err)
	}
	f.Close()
}
