package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/serviceworker"
	"github.com/chromedp/chromedp"

	"zhizhi/internal/cases"
	"zhizhi/internal/notify/pushtest"
)

// TestBrowserWebPush: Web Push end to end, as far as a machine without a
// browser vendor's push service allows (docs/notifications.md).
//
// A local push service (pushtest) stands in for the vendor's: it holds
// the browser's side of the subscription (a P-256 key pair and auth secret
// the test made), which the signed-in page registers through the console's
// own API, next to the console's real service worker (/sw.js, scope /m).
// A dispatch to the person's unit is fanned out and delivered by the
// server: the push service checks the VAPID JWT and decrypts the RFC 8291
// body. The decrypted payload is then handed to that service worker
// with the DevTools method ServiceWorker.deliverPushMessage (what the
// vendor's service would do through the browser), and the page finds the
// notification the worker showed, with the case's title, the kind and the
// link to the case.
func TestBrowserWebPush(t *testing.T) {
	ctx := context.Background()
	for i := 0; i < 20; i++ { // earlier tests' events first
		if n, err := plat.Service.FanOut(ctx); err != nil || n == 0 {
			break
		}
	}
	push := pushtest.New(t)
	key, _, err := plat.Service.VAPIDKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	push.Expect(key)

	b := newBrowser(t)
	if _, err := chromedp.Call(b.ctx, browser.SetPermission, browser.SetPermissionParams{
		Permission: &browser.PermissionDescriptor{Name: "notifications"}, Setting: browser.PermissionSettingGranted, Origin: srv.URL}); err != nil {
		t.Fatalf("grant notifications: %v", err)
	}
	// The DevTools side of the service workers: their registrations' IDs.
	var (
		regMu sync.Mutex
		regs  = map[string]serviceworker.RegistrationID{}
	)
	evCtx, stop := context.WithCancel(b.ctx)
	defer stop()
	go func() {
		for ev, err := range chromedp.Events(evCtx, serviceworker.WorkerRegistrationUpdated) {
			if err != nil {
				return
			}
			regMu.Lock()
			for _, r := range ev.Registrations {
				if !r.IsDeleted {
					regs[r.ScopeURL] = r.RegistrationID
				}
			}
			regMu.Unlock()
		}
	}()
	b.signIn("xf_staff", "/inbox")
	if _, err := chromedp.Call(b.ctx, serviceworker.Enable, cdp.Empty{}); err != nil {
		t.Fatalf("ServiceWorker.enable: %v", err)
	}
	b.do(chromedp.Navigate(srv.URL+"/notifications"), chromedp.WaitReady(chromedp.CSS(`#bell`)))
	if p := eval[string](b, `Notification.permission`); p != "granted" {
		t.Fatalf("notification permission %q", p)
	}
	// The page registers the worker as notify.js does and posts the
	// subscription (the push service's endpoint and the browser's keys)
	// through the console's API, with its session.
	p256dh, auth := push.Keys()
	endpoint := push.Endpoint(fmt.Sprintf("xf-%d", time.Now().UnixNano()))
	sub, _ := json.Marshal(map[string]any{"endpoint": endpoint, "keys": map[string]string{"p256dh": p256dh, "auth": auth}})
	status, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`navigator.serviceWorker.register('/sw.js', { scope: '/m' })
		.then(function () { return navigator.serviceWorker.getRegistration('/m'); })
		.then(function () {
			return fetch('/api/v1/push/subscriptions', { method: 'POST', credentials: 'same-origin',
				headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(`+string(sub)+`) });
		}).then(function (r) { return r.status; })`, chromedp.EvalAwaitPromise))
	if err != nil || status != 201 && status != 200 {
		t.Fatalf("register the worker and the subscription: %d %v", status, err)
	}
	b.do(chromedp.Poll[chromedp.Void](`navigator.serviceWorker.getRegistration('/m').then(function (r) { return !!(r && r.active && r.active.state === 'activated'); })`,
		chromedp.WithPollingTimeout(30*time.Second)))

	// A dispatch to the person's unit: fanned out and delivered by the
	// server to the push service, which checks and decrypts it.
	c := reportCase(t, "zhouchunyan", "MS03", fmt.Sprintf("推送测试%d：小区门口垃圾堆放", time.Now().UnixNano()%100000))
	actOn(t, "syl_zhihui", c.ID, cases.Command{Action: cases.ActAccept})
	actOn(t, "syl_zhihui", c.ID, cases.Command{Action: cases.ActDispatch, Lead: "xf"})
	if _, err := plat.Service.FanOut(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := plat.Service.Deliver(ctx); err != nil {
		t.Fatal(err)
	}
	var plain []byte
	for _, m := range push.Messages() {
		var p struct{ URL string }
		if m.Endpoint == endpoint && json.Unmarshal(m.Plain, &p) == nil && p.URL == "/cases/"+c.ID {
			plain = m.Plain
		}
	}
	if plain == nil {
		t.Fatalf("the push service got no push of the case among %d", len(push.Messages()))
	}

	// The push service's part done, the browser's: the decrypted payload
	// goes to the console's service worker.
	var reg serviceworker.RegistrationID
	for end := time.Now().Add(15 * time.Second); reg == "" && time.Now().Before(end); {
		regMu.Lock()
		reg = regs[srv.URL+"/m"]
		regMu.Unlock()
		if reg == "" {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if reg == "" {
		t.Fatalf("no service worker registration for %s/m among %v", srv.URL, regs)
	}
	type shown struct {
		Title, Body, URL, Tag string
		Sticky                bool
	}
	var got []shown
	// Headless Chromium does not show the first push DevTools delivers
	// to a worker of an origin whose permission was granted by override
	// (consistently, whether the worker was running or not; the second
	// is shown at once): the same push is delivered again, up to three
	// times. Its tag is the event's, so a repeat replaces and never
	// doubles the notification (checked: exactly one is shown).
	for try := 0; try < 3 && len(got) == 0; try++ {
		if _, err := chromedp.Call(b.ctx, serviceworker.DeliverPushMessage, serviceworker.DeliverPushMessageParams{
			Origin: srv.URL, RegistrationID: reg, Data: string(plain)}); err != nil {
			t.Fatalf("ServiceWorker.deliverPushMessage: %v", err)
		}
		for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
			s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`navigator.serviceWorker.getRegistration('/m')
			.then(function (r) { return r.getNotifications(); })
			.then(function (ns) { return JSON.stringify(ns.map(function (n) {
				return { title: n.title, body: n.body, url: n.data && n.data.url, tag: n.tag, sticky: n.requireInteraction };
			})); })`, chromedp.EvalAwaitPromise))
			if err == nil && json.Unmarshal([]byte(s), &got) == nil && len(got) > 0 {
				break
			}
		}
	}
	if len(got) != 1 {
		t.Fatalf("the worker shows %d notifications: %+v", len(got), got)
	}
	n := got[0]
	if !strings.Contains(n.Title, c.Number) || n.Body != "派遣至本单位" || n.URL != "/cases/"+c.ID || n.Tag == "" || n.Sticky {
		t.Errorf("the worker showed %+v (case %s)", n, c.Number)
	}
	b.checkErrors()
}
