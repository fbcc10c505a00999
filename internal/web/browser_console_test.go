package web_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"zhizhi/internal/cases"
	"zhizhi/internal/sla"
)

// Browser journeys of the map, the dashboard and the administration pages.

// waitJS polls a JavaScript expression until it is true, across page
// loads (a click that navigates).
func (b *tab) waitJS(expr string, timeout time.Duration) {
	b.t.Helper()
	var last error
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`document.readyState === 'complete' && !!(`+expr+`)`))
		if err == nil && ok {
			return
		}
		last = err
	}
	loc, _ := chromedp.Run(b.ctx, chromedp.Location())
	b.t.Fatalf("waited %v for %s at %s (%v)", timeout, expr, loc, last)
}

// shot saves a screenshot into $ZHIZHI_SCREENSHOTS, when set.
func (b *tab) shot(name string) {
	b.t.Helper()
	dir := os.Getenv("ZHIZHI_SCREENSHOTS")
	if dir == "" {
		return
	}
	img, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), img, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// TestBrowserBoardMap: the board's map draws the street's grids shaded by
// their open cases, flashes the one with a critical case, and a click on a
// grid filters the queue to it.
func TestBrowserBoardMap(t *testing.T) {
	p := gridPoint(t, "zhouchunyan")
	hot, err := plat.Service.Report(t.Context(), actor(t, "zhouchunyan"), cases.Report{Source: cases.SourcePatrol,
		Category: "AQ09", Description: "浏览器地图测试：燃气泄漏", Point: &p, Severity: sla.Critical, Address: "新影村"})
	if err != nil {
		t.Fatal(err)
	}
	elsewhere := reportCase(t, "yangshipei", "MS03", "浏览器地图测试：别的网格")
	b := newBrowser(t)
	b.signIn("qu_zhihui", "/board")
	start := time.Now()
	b.do(chromedp.Navigate(srv.URL + "/board"))
	b.waitJS(`window.zhizhiMap && zhizhiMap.state.loads > 0`, 10*time.Second)
	t.Logf("the board's map was drawn %v after the navigation started", time.Since(start).Round(time.Millisecond))
	st := eval[map[string]any](b, `zhizhiMap.state`)
	t.Logf("district board map: %v", st)
	if st["features"].(float64) < 1 {
		t.Fatalf("the map drew nothing: %v", st)
	}
	b.shot("board-map-desktop")
	// A new report anywhere makes the map fetch its counts again (live).
	before := eval[float64](b, `zhizhiMap.state.loads`)
	reportCase(t, "zhouchunyan", "MS03", "浏览器地图测试：实时刷新")
	b.waitJS(fmt.Sprintf(`zhizhiMap.state.loads > %v`, before), 8*time.Second)
	// Zoom to the grid of the critical case: grids are drawn, and that one flashes.
	loads := eval[float64](b, `zhizhiMap.state.loads`)
	eval[any](b, fmt.Sprintf(`zhizhiMap.map.setView([%f, %f], 16, {animate: false}), null`, p.Lat, p.Lng))
	b.waitJS(fmt.Sprintf(`zhizhiMap.state.loads > %v && zhizhiMap.state.level === 'grid'`, loads), 10*time.Second)
	b.waitJS(`document.querySelectorAll('#map path.map-flash').length > 0`, 10*time.Second)
	if anim := eval[string](b, `getComputedStyle(document.querySelector('#map path.map-flash')).animationName`); anim != "map-flash" {
		t.Fatalf("the critical grid does not flash: animation %q", anim)
	}
	// Click the grid where the case is.
	xy := eval[[]float64](b, fmt.Sprintf(`(function () {
		var pt = zhizhiMap.map.latLngToContainerPoint([%f, %f]);
		var r = document.getElementById('map').getBoundingClientRect();
		return [r.left + pt.x, r.top + pt.y];
	})()`, p.Lat, p.Lng))
	b.do(chromedp.MouseClickXY(xy[0], xy[1]))
	b.waitJS(`!!document.getElementById('region-chip')`, 10*time.Second)
	if loc := eval[string](b, "location.search"); !strings.Contains(loc, "region="+hot.GridCode) {
		t.Fatalf("after the click the board is at %s, want region=%s", loc, hot.GridCode)
	}
	if chip := b.text("#region-chip"); chip != plat.Service.RegionName(hot.GridCode) {
		t.Fatalf("filter chip %q, want the grid %q", chip, plat.Service.RegionName(hot.GridCode))
	}
	queue := b.text("#queue")
	if !strings.Contains(queue, hot.Number) || strings.Contains(queue, elsewhere.Number) {
		t.Fatalf("filtered queue lacks %s or lists %s:\n%s", hot.Number, elsewhere.Number, queue)
	}
	// The map kept its view and outlines the chosen grid.
	b.waitJS(`window.zhizhiMap && zhizhiMap.state.loads > 0 && zhizhiMap.map.getZoom() === 16`, 10*time.Second)
	b.shot("board-map-filtered")
	// Phone: the map sits above the queue.
	b.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch), chromedp.Navigate(srv.URL+"/board"))
	b.waitJS(`window.zhizhiMap && zhizhiMap.state.loads > 0`, 10*time.Second)
	b.shot("board-map-phone")
}

// TestBrowserDashboard: the dashboard draws its four charts, a click on a
// bar opens the cases behind it, and the CSV export downloads.
func TestBrowserDashboard(t *testing.T) {
	cs := reportCase(t, "zhouchunyan", "MS03", "浏览器看板测试：垃圾堆放")
	b := newBrowser(t)
	dir := t.TempDir()
	if _, err := chromedp.CallBrowser(b.ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir}); err != nil {
		t.Fatal(err)
	}
	b.signIn("leader", "/leader")
	b.do(chromedp.Navigate(srv.URL + "/dashboard"))
	b.waitJS(`window.zhizhiCharts && Object.keys(zhizhiCharts).length === 4 && document.querySelectorAll('.chart[data-ready]').length === 4`, 10*time.Second)
	if n := eval[float64](b, `document.querySelectorAll('.chart canvas').length`); n < 4 {
		t.Fatalf("%v chart canvases, want 4", n)
	}
	b.shot("dashboard-desktop")
	// The CSV export downloads a file with the view's figures.
	b.do(chromedp.Click(chromedp.CSS(`#export-csv`)))
	var file string
	for deadline := time.Now().Add(10 * time.Second); file == "" && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		list, _ := filepath.Glob(filepath.Join(dir, "*.csv"))
		if len(list) > 0 {
			file = list[0]
		}
	}
	if file == "" {
		t.Fatal("the CSV export did not download")
	}
	body, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(body), "\uFEFF") || !strings.Contains(string(body), "按板块") || !strings.Contains(string(body), "民生服务") {
		t.Fatalf("downloaded %s:\n%.500s", filepath.Base(file), body)
	}
	t.Logf("downloaded %s (%d bytes)", filepath.Base(file), len(body))
	// A click on the category chart's first bar opens its cases.
	b.do(chromedp.Navigate(srv.URL + "/dashboard?category=MS03"))
	b.waitJS(`document.querySelector('#chart-category[data-ready]')`, 10*time.Second)
	xy := eval[[]float64](b, `(function () {
		var c = zhizhiCharts.category, el = document.getElementById('chart-category');
		el.scrollIntoView();
		var bar = c.getModel().getSeriesByIndex(0).getData().getItemLayout(0);
		var r = el.getBoundingClientRect();
		return [r.left + bar.x + bar.width / 2, r.top + bar.y + bar.height / 2];
	})()`)
	b.do(chromedp.MouseClickXY(xy[0], xy[1]))
	b.waitJS(`location.pathname === '/dashboard/cases'`, 10*time.Second)
	if s := b.text("#dash-cases"); !strings.Contains(s, cs.Number) {
		t.Fatalf("the bar's cases lack %s:\n%.800s", cs.Number, s)
	}
	b.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch), chromedp.Navigate(srv.URL+"/dashboard"))
	b.waitJS(`window.zhizhiCharts && Object.keys(zhizhiCharts).length === 4 && document.querySelectorAll('.chart[data-ready]').length === 4`, 10*time.Second)
	b.shot("dashboard-phone")
}

// TestBrowserAdminImport: an administrator uploads a broken CSV and sees
// each problem by row; nothing is imported.
func TestBrowserAdminImport(t *testing.T) {
	csv := "code,name,level,parent_code\n" +
		"500103014099,测试社区甲,community,500103014\n" +
		"50010301409,测试社区乙,community,500103014\n" +
		"500103014098,,community,500103014\n" +
		"500103014097,测试社区丁,社区,599999999\n"
	file := filepath.Join(t.TempDir(), "regions.csv")
	if err := os.WriteFile(file, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	b.signIn("admin", "/board")
	b.do(
		chromedp.Navigate(srv.URL+"/admin"),
		chromedp.WaitVisible(chromedp.CSS(`#import-form`)),
		chromedp.SetUploadFiles(chromedp.CSS(`#import-form input[name=file]`), []string{file}),
		chromedp.Click(chromedp.CSS(`#import-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#problems`)),
	)
	// The 400 answer is logged by Chromium; that one is expected.
	b.mu.Lock()
	kept := b.errs[:0]
	for _, e := range b.errs {
		if !strings.Contains(e, "status of 400") {
			kept = append(kept, e)
		}
	}
	b.errs = kept
	b.mu.Unlock()
	msg, problems := b.text("#form-message"), b.text("#problems")
	t.Logf("%s\n%s", msg, problems)
	if !strings.Contains(msg, "未导入任何数据") {
		t.Fatalf("message %q", msg)
	}
	for _, want := range []string{"第 3 行", "第 4 行", "第 5 行", "名称", "上级"} {
		if !strings.Contains(problems, want) {
			t.Errorf("problems lack %q", want)
		}
	}
	if strings.Contains(problems, "第 2 行") {
		t.Error("the good row is listed as a problem")
	}
	if _, ok := plat.Service.RegionPath("500103014099"); ok {
		t.Fatal("a row of a refused file was imported")
	}
	b.shot("admin-import-errors")
}

// TestBrowserPinPicker: on the report form a grid worker opens the map
// (Leaflet loads only then) and taps the place: latitude and longitude are
// filled and the grid the point falls in is named.
func TestBrowserPinPicker(t *testing.T) {
	p := gridPoint(t, "zhouchunyan")
	b := newBrowser(t)
	b.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch))
	b.signIn("zhouchunyan", "/m")
	b.do(chromedp.Navigate(srv.URL+"/m/report"), chromedp.WaitVisible(chromedp.CSS(`#pin-open`)))
	if eval[bool](b, `typeof window.L !== 'undefined'`) {
		t.Fatal("the map library loads before the map is opened")
	}
	b.do(chromedp.Click(chromedp.CSS(`#pin-open`)))
	b.waitJS(`window.zhizhiPin && zhizhiPin.map`, 10*time.Second)
	eval[any](b, fmt.Sprintf(`zhizhiPin.map.setView([%f, %f], 17, {animate: false}), document.getElementById('pin-map').scrollIntoView(), null`, p.Lat, p.Lng))
	time.Sleep(300 * time.Millisecond)
	xy := eval[[]float64](b, fmt.Sprintf(`(function () {
		var pt = zhizhiPin.map.latLngToContainerPoint([%f, %f]);
		var r = document.getElementById('pin-map').getBoundingClientRect();
		return [r.left + pt.x, r.top + pt.y];
	})()`, p.Lat, p.Lng))
	b.do(chromedp.MouseClickXY(xy[0], xy[1]))
	b.waitJS(`document.getElementById('lat').value !== ''`, 5*time.Second)
	lat, lng := eval[string](b, `document.getElementById('lat').value`), eval[string](b, `document.getElementById('lng').value`)
	var y, x float64
	fmt.Sscan(lat, &y)
	fmt.Sscan(lng, &x)
	if d := (y-p.Lat)*(y-p.Lat) + (x-p.Lng)*(x-p.Lng); d > 1e-8 {
		t.Fatalf("pin at %s,%s, want about %f,%f", lat, lng, p.Lat, p.Lng)
	}
	b.waitJS(`document.getElementById('placement').textContent.indexOf('所在网格') >= 0`, 5*time.Second)
	if s := b.text("#placement"); !strings.Contains(s, "新影村社区") {
		t.Fatalf("placement %q", s)
	}
	if n := eval[float64](b, `document.querySelectorAll('#pin-map .leaflet-marker-icon').length`); n != 1 {
		t.Fatalf("%v pins on the map", n)
	}
	b.shot("report-pin-phone")
}
