package web_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// TestBrowserGridDoorPhotoAndLocation: a resident on her phone opens 杨诗培's
// door, takes her position with 获取当前位置, adds a photo and sends; her
// link shows the photo and the location noted, and the message is stored
// with both.
func TestBrowserGridDoorPhotoAndLocation(t *testing.T) {
	b := newBrowser(t)
	b.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch))
	if _, err := chromedp.Call(b.ctx, browser.SetPermission, browser.SetPermissionParams{
		Permission: &browser.PermissionDescriptor{Name: "geolocation"}, Setting: browser.PermissionSettingGranted, Origin: srv.URL}); err != nil {
		t.Fatalf("grant geolocation: %v", err)
	}
	p := gridPoint(t, "yangshipei")
	lat, lng, acc := p.Lat, p.Lng, 5.0
	if _, err := chromedp.Call(b.ctx, emulation.SetGeolocationOverride, emulation.SetGeolocationOverrideParams{Latitude: &lat, Longitude: &lng, Accuracy: &acc}); err != nil {
		t.Fatalf("geolocation override: %v", err)
	}
	a := actor(t, "yangshipei")
	codes := strings.Split(strings.Trim(a.RegionPath, "/"), "/")
	grid := codes[len(codes)-1]
	photo := filepath.Join(t.TempDir(), "well.png")
	if err := os.WriteFile(photo, pngPhoto(99), 0o600); err != nil {
		t.Fatal(err)
	}
	text := "浏览器测试：七单元门口路灯不亮"
	b.do(chromedp.Navigate(srv.URL+"/r/g/"+grid), chromedp.WaitVisible(chromedp.CSS(`#door`)),
		chromedp.Click(chromedp.CSS(`#locate`)))
	b.waitFor("the position in the form", `document.getElementById('lat').value !== ''`, 15*time.Second)
	b.do(chromedp.SetUploadFiles(chromedp.CSS(`#door input[type=file]`), []string{photo}),
		chromedp.SendKeys(chromedp.CSS(`#door textarea[name=text]`), text),
		chromedp.SendKeys(chromedp.CSS(`#door input[name=phone]`), "13900006666"),
		chromedp.Click(chromedp.CSS(`#door button.primary`)),
		chromedp.WaitVisible(chromedp.CSS(`#followed`)))
	if s := b.text(`#followed`); !strings.Contains(s, text) || !strings.Contains(s, "附照片 1 张") || !strings.Contains(s, "已附位置") {
		t.Fatalf("the resident's link reads %q", s)
	}
	list, err := plat.Service.GridMessages(t.Context(), a, grid, plat.Service.Now().AddDate(0, 0, -1))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range list {
		if m.Text == text {
			if len(m.Photos) != 1 || m.Point == nil || m.Point.Lat-lat > 1e-5 || lat-m.Point.Lat > 1e-5 {
				t.Fatalf("stored: %+v", m)
			}
			return
		}
	}
	t.Fatal("the message was not stored")
}
