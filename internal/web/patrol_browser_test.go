package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"zhizhi/internal/store"
)

// TestBrowserPatrol: 杨诗培 starts a patrol on her phone, walks (the
// browser's geolocation moves), loses the signal and stops it: the patrol
// waits on the phone; when the signal returns it is uploaded, and stored
// once even when the phone sends it again.
func TestBrowserPatrol(t *testing.T) {
	b := newBrowser(t)
	phone := b.newTab()
	phone.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch))
	if _, err := chromedp.Call(phone.ctx, browser.SetPermission, browser.SetPermissionParams{
		Permission: &browser.PermissionDescriptor{Name: "geolocation"}, Setting: browser.PermissionSettingGranted, Origin: srv.URL}); err != nil {
		t.Fatalf("grant geolocation: %v", err)
	}
	p := gridPoint(t, "yangshipei")
	moveTo := func(dLng float64) {
		t.Helper()
		lat, lng, acc := p.Lat, p.Lng+dLng, 5.0
		if _, err := chromedp.Call(phone.ctx, emulation.SetGeolocationOverride, emulation.SetGeolocationOverrideParams{Latitude: &lat, Longitude: &lng, Accuracy: &acc}); err != nil {
			t.Fatalf("geolocation override: %v", err)
		}
	}
	moveTo(0)
	phone.signIn("yangshipei", "/m")
	phone.do(chromedp.Navigate(srv.URL+"/m/day"), chromedp.WaitVisible(chromedp.CSS(`#patrol-start`)),
		chromedp.Click(chromedp.CSS(`#patrol-start`)), chromedp.WaitVisible(chromedp.CSS(`#patrol-stop`)))
	fixes := func(n int) {
		t.Helper()
		phone.waitFor("the patrol to keep "+string(rune('0'+n))+" fixes",
			`window.zhizhiPatrols.all().then(l => l.some(e => e.status === 'running' && e.fixes.length >= `+string(rune('0'+n))+`))`, 20*time.Second)
	}
	fixes(1)
	for i := 1; i <= 3; i++ {
		// About 29 m east every 1.5 s: a brisk walk, not the jump of a GPS
		// glitch (faster than 25 m/s), which the server would drop.
		time.Sleep(1500 * time.Millisecond)
		moveTo(float64(i) * 0.0003)
		fixes(i + 1)
	}
	if s := phone.text(`#patrol-state`); !strings.Contains(s, "巡查中") {
		t.Fatalf("the patrol reads %q", s)
	}
	if d := phone.text(`#patrol-distance`); d == "0米" {
		t.Errorf("distance %q after walking about 87 m", d)
	}
	a := actor(t, "yangshipei")
	count := func() int {
		ps, err := plat.DB.Patrols(t.Context(), store.GridFilter{PersonID: a.AccountID, From: time.Now().Add(-time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		return len(ps)
	}
	before := count()
	phone.setOffline(true)
	phone.do(chromedp.Click(chromedp.CSS(`#patrol-stop`)), chromedp.WaitVisible(chromedp.CSS(`#patrol-list li.patrol-pending`)))
	if n := count(); n != before {
		t.Fatalf("%d patrols stored while offline", n-before)
	}
	phone.setOffline(false)
	phone.do(chromedp.WaitVisible(chromedp.CSS(`#patrol-list li.patrol-sent`)))
	if n := count(); n != before+1 {
		t.Fatalf("%d patrols stored after the signal returned, want 1", n-before)
	}
	ps, _ := plat.DB.Patrols(t.Context(), store.GridFilter{PersonID: a.AccountID, Limit: 1})
	if len(ps) != 1 || ps[0].Points < 2 || ps[0].Meters < 50 || len(ps[0].Cells) == 0 {
		t.Fatalf("the stored patrol: %+v", ps)
	}
	// As if the answer had been lost: sent again, stored once.
	await[any](phone, `window.zhizhiPatrols.all().then(l => { const e = l.filter(e => e.status === 'sent')[0]; e.status = 'pending'; return window.zhizhiPatrols.put(e); }).then(() => window.zhizhiPatrols.flush()).then(() => null)`)
	phone.do(chromedp.WaitVisible(chromedp.CSS(`#patrol-list li.patrol-sent`)))
	if n := count(); n != before+1 {
		t.Fatalf("%d patrols after sending again, want 1", n-before)
	}
	phone.do(chromedp.Navigate(srv.URL+"/m/day"), chromedp.WaitVisible(chromedp.CSS(`#patrol-start`)))
	if s := phone.text(`.grid-day .today-patrols`); s == "0" {
		t.Errorf("the day shows %s patrols today", s)
	}
}
