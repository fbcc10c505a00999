package web_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"zhizhi/internal/cases"
)

// TestBrowserPrintHidesNav: the print view shows the console's header and
// its toolbar on screen; printed (print media emulated), only the sheet
// with its sign-off and seal fields is left.
func TestBrowserPrintHidesNav(t *testing.T) {
	cs := reportCase(t, "zhouchunyan", "MS03", "打印样式测试：井盖缺失")
	actOn(t, "syl_zhihui", cs.ID, cases.Command{Action: cases.ActAccept})
	actOn(t, "syl_zhihui", cs.ID, cases.Command{Action: cases.ActDispatch, Lead: "syl-ms"})
	b := newBrowser(t)
	b.signIn("syl_zhihui", "/board")
	b.do(chromedp.Navigate(srv.URL+"/cases/"+cs.ID), chromedp.WaitVisible(chromedp.CSS(`#case-print a[href$="form=dispatch"]`)))
	b.do(chromedp.Navigate(srv.URL+"/cases/"+cs.ID+"/print?form=dispatch"), chromedp.WaitVisible(chromedp.CSS(`#paper`)))
	shown := func(sel string) bool {
		return eval[bool](b, `(function () { var e = document.querySelector('`+sel+`'); return !!e && getComputedStyle(e).display !== 'none' && e.getBoundingClientRect().height > 0; })()`)
	}
	for _, sel := range []string{"header.top nav", ".print-bar", "#print", "#paper", "#signoff"} {
		if !shown(sel) {
			t.Fatalf("on screen %s is hidden", sel)
		}
	}
	b.shot("print-dispatch-screen")
	if _, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatal(err)
	}
	for _, sel := range []string{"header.top", "header.top nav", ".print-bar", "#print"} {
		if shown(sel) {
			t.Errorf("printed, %s is still shown", sel)
		}
	}
	for _, sel := range []string{"#paper", "#signoff", ".signoff .seal"} {
		if !shown(sel) {
			t.Errorf("printed, %s is hidden", sel)
		}
	}
	if s := b.text("#signoff"); !strings.Contains(s, "盖章处") || !strings.Contains(s, "经办人") {
		t.Errorf("sign-off %q", s)
	}
	b.shot("print-dispatch-print")
}

// TestBrowserOwnReport: a resident signs in, reports from his own page with
// the point picked on the map of the platform's outlines, and sees the case.
func TestBrowserOwnReport(t *testing.T) {
	p := gridPoint(t, "zhouchunyan")
	b := newBrowser(t)
	b.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch))
	b.signIn("jumin", "/mine")
	b.do(chromedp.Click(chromedp.CSS(`#report-new`)), chromedp.WaitVisible(chromedp.CSS(`#resident-report`)))
	desc := fmt.Sprintf("居民地图选点反映：路面坑洼 %d", time.Now().UnixNano())
	b.do(
		chromedp.SetValue(chromedp.CSS(`#category`), "MS03"),
		chromedp.SendKeys(chromedp.CSS(`textarea[name=description]`), desc),
		chromedp.Click(chromedp.CSS(`#pin-open`)),
	)
	b.waitJS(`window.zhizhiPin && zhizhiPin.map`, 10*time.Second)
	eval[any](b, fmt.Sprintf(`zhizhiPin.map.setView([%f, %f], 17, {animate: false}), document.getElementById('pin-map').scrollIntoView(), null`, p.Lat, p.Lng))
	b.waitJS(`document.querySelectorAll('#pin-map path.leaflet-interactive, #pin-map canvas, #pin-map svg path').length > 0`, 10*time.Second)
	time.Sleep(300 * time.Millisecond)
	xy := eval[[]float64](b, fmt.Sprintf(`(function () {
		var pt = zhizhiPin.map.latLngToContainerPoint([%f, %f]);
		var r = document.getElementById('pin-map').getBoundingClientRect();
		return [r.left + pt.x, r.top + pt.y];
	})()`, p.Lat, p.Lng))
	b.do(chromedp.MouseClickXY(xy[0], xy[1]))
	b.waitJS(`document.getElementById('lat').value !== ''`, 5*time.Second)
	if s := b.text("#placement"); !strings.Contains(s, "已在地图上选点") {
		t.Errorf("placement %q", s)
	}
	b.do(chromedp.Click(chromedp.CSS(`#resident-report button[type=submit]`)))
	b.waitJS(`location.pathname.indexOf('/cases/') === 0 && !!document.getElementById('resident-case')`, 15*time.Second)
	if s := b.text("#reported"); !strings.Contains(s, "已收到您的反映") {
		t.Errorf("flash %q", s)
	}
	if s := b.text("#resident-case"); !strings.Contains(s, desc) || !strings.Contains(s, "收到您的反映") {
		t.Errorf("case page %q", s)
	}
	id := strings.TrimPrefix(eval[string](b, "location.pathname"), "/cases/")
	cs := caseByID(t, id)
	if cs.Point == nil || (cs.Point.Lat-p.Lat)*(cs.Point.Lat-p.Lat)+(cs.Point.Lng-p.Lng)*(cs.Point.Lng-p.Lng) > 1e-8 || cs.GridCode == "" {
		t.Fatalf("case point %+v grid %q, want about %+v", cs.Point, cs.GridCode, p)
	}
	if cs.Reporter.AccountID != actor(t, "jumin").AccountID || cs.Source != cases.SourceResident {
		t.Fatalf("reporter %+v source %s", cs.Reporter, cs.Source)
	}
	b.do(chromedp.Navigate(srv.URL+"/mine"), chromedp.WaitVisible(chromedp.CSS(`a.card[href="/cases/`+id+`"]`)))
}
