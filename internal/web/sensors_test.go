package web_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"zhizhi/internal/cases"
	"zhizhi/internal/sensors"
	"zhizhi/internal/service"
	"zhizhi/internal/sla"
)

var webSensorsOnce sync.Once

// webSensors registers (once) a kind, two water-level gauges and a rule,
// and feeds one gauge a rising series that crosses the rule's line.
func webSensors(t *testing.T) {
	t.Helper()
	webSensorsOnce.Do(func() {
		ctx := context.Background()
		s := plat.Service
		if err := s.PutDeviceKind(ctx, cases.System, sensors.Kind{Code: "web-water", Name: "积水水位", Unit: "cm", Min: 0, Max: 500}); err != nil {
			t.Fatal(err)
		}
		csv := "id,kind,name,lng,lat,area,risk_point\nWEB-W1,web-water,较场口下穿道水位,106.5775,29.5535,web-tunnel,较场口下穿隧道\nWEB-W2,web-water,储奇门水位,106.5800,29.5520,web-tunnel,\n"
		if _, probs, err := s.ImportDevices(ctx, cases.System, strings.NewReader(csv)); err != nil {
			t.Fatal(err, probs)
		}
		cat := ""
		for _, c := range s.Categories() {
			required := false
			for _, q := range c.Questions {
				required = required || q.Required
			}
			if c.Active && !required && cat == "" {
				cat = c.Code
			}
		}
		if _, err := s.SaveSensorRule(ctx, cases.System, sensors.Rule{ID: "web-flood", Name: "下穿道积水", Type: sensors.Threshold, Kind: "web-water",
			Raise: 30, Clear: 20, ClearMinutes: 5, Category: cat, Severity: sla.Urgent, Active: true}); err != nil {
			t.Fatal(err)
		}
		now := plat.Service.Now().Add(-20 * time.Minute)
		var in []service.Incoming
		for i := 0; i < 20; i++ {
			in = append(in, service.Incoming{Reading: sensors.Reading{Device: "WEB-W1", Kind: "web-water", Value: float64(2 * i), At: now.Add(time.Duration(i) * time.Minute)}})
		}
		in = append(in, service.Incoming{Reading: sensors.Reading{Device: "WEB-W1", Kind: "web-water", Value: 900, At: now}})
		if _, err := s.Ingest(ctx, in); err != nil {
			t.Fatal(err)
		}
	})
}

func TestSensorsPages(t *testing.T) {
	webSensors(t)
	cmdr := signIn(t, "qu_zhihui")
	expect(t, cmdr.get("/sensors?kind=web-water"), 200, "感知设备", `data-device="WEB-W1"`, "较场口下穿道水位", "积水水位",
		"下穿道积水", "持续中", "查看案件", `href="/sensors"`)
	// Filters: another state shows none of them.
	r := cmdr.get("/sensors?kind=web-water&state=retired")
	expect(t, r, 200, "没有符合条件的设备")
	if strings.Contains(r.body, `data-device="WEB-W1"`) {
		t.Error("a retired filter listed an active device")
	}
	page := cmdr.get("/sensors/devices/WEB-W1")
	expect(t, page, 200, "较场口下穿隧道", "<svg", `class="avg"`, "超出量程", "最高 38cm")
	expect(t, cmdr.get("/sensors/devices/WEB-W1?grain=h"), 200, "近7天（按小时）", "<polyline")
	expect(t, cmdr.get("/sensors/devices/WEB-W2"), 200, "尚无读数", "这段时间没有读数", "没有被拒的读数")
	expect(t, cmdr.get("/sensors/devices/NOPE"), 404)
	expect(t, cmdr.get("/sensors/devices/WEB-W1?grain=year"), 400)
	expect(t, signIn(t, "yj_staff").get("/sensors"), 403)
}

// TestBrowserSensors: a commander opens 感知设备 from the nav, finds the
// gauge, opens its page and sees its series drawn, then follows the
// incident to its case.
func TestBrowserSensors(t *testing.T) {
	webSensors(t)
	b := newBrowser(t)
	b.signIn("qu_zhihui", "/board")
	b.do(chromedp.Click(chromedp.CSS(`header nav a[href="/sensors"]`)), chromedp.WaitVisible(chromedp.CSS(`#sensors-filter`)),
		chromedp.SetValue(chromedp.CSS(`#sensors-filter select[name=kind]`), "web-water"),
		leave(chromedp.Click(chromedp.CSS(`#sensors-filter button[type=submit]`))),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-device="WEB-W1"] a`)),
		chromedp.Click(chromedp.CSS(`tr[data-device="WEB-W1"] a`)),
		chromedp.WaitVisible(chromedp.CSS(`.series-chart svg polyline.avg`)))
	if n := eval[int](b, `document.querySelector('.series-chart polyline.avg').getAttribute('points').split(' ').length`); n < 10 {
		t.Errorf("the chart has %d points", n)
	}
	if w := eval[float64](b, `document.querySelector('.series-chart svg').getBoundingClientRect().width`); w < 200 {
		t.Errorf("the chart is %v px wide", w)
	}
	// The incidents list is the district's (other tests' incidents too):
	// follow this rule's.
	b.do(chromedp.Navigate(srv.URL+"/sensors?kind=web-water"), chromedp.WaitVisible(chromedp.CSS(`#incidents a[href^="/cases/"]`)))
	href := eval[string](b, `[...document.querySelectorAll('#incidents tr')].filter(tr => tr.textContent.includes('下穿道积水')).map(tr => tr.querySelector('a[href^="/cases/"]')).filter(Boolean).map(a => a.getAttribute('href'))[0] || ''`)
	if href == "" {
		t.Fatalf("no case link for the rule 下穿道积水 in %.500s", b.text(`#incidents`))
	}
	b.do(chromedp.Navigate(srv.URL+href), chromedp.WaitVisible(chromedp.CSS(`main`)))
	if s := b.text(`main`); !strings.Contains(s, "感知告警") || !strings.Contains(s, "下穿道积水") {
		t.Errorf("the incident's case: %.300s", s)
	}
}
