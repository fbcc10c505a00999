package web_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"zhizhi/internal/cases"
	"zhizhi/internal/geo"
	"zhizhi/internal/operation"
	"zhizhi/internal/sensors"
	"zhizhi/internal/service"
)

var webOpOnce sync.Once
var webOpID string

// webOperation plans (once) an operation running now around 解放碑, with two
// crowd counters in its area and a task due a minute ago, as the district's
// commander, and runs the operation loop once (the task is released).
func webOperation(t *testing.T) string {
	t.Helper()
	webOpOnce.Do(func() {
		ctx := context.Background()
		s := plat.Service
		if err := s.PutDeviceKind(ctx, cases.System, sensors.Kind{Code: "web-crowd", Name: "客流计数", Unit: "人", Min: 0, Max: 100000}); err != nil {
			t.Fatal(err)
		}
		csv := "id,kind,name,lng,lat,area\nWEB-C1,web-crowd,广场东,106.5770,29.5570,web-sq\nWEB-C2,web-crowd,广场西,106.5760,29.5572,web-sq\n"
		if _, _, err := s.ImportDevices(ctx, cases.System, strings.NewReader(csv)); err != nil {
			t.Fatal(err)
		}
		a, err := plat.DB.AccountByUsername(ctx, "qu_zhihui")
		if err != nil {
			t.Fatal(err)
		}
		now := s.Now()
		sq := geo.MultiPolygon{{{{Lng: 106.5740, Lat: 29.5552}, {Lng: 106.5790, Lat: 29.5552}, {Lng: 106.5790, Lat: 29.5588}, {Lng: 106.5740, Lat: 29.5588}, {Lng: 106.5740, Lat: 29.5552}}}}
		op, err := s.SaveOperation(ctx, s.ActorOf(a), operation.Operation{ID: "web-op", Name: "网页测试活动", Start: now.Add(-30 * time.Minute), End: now.Add(2 * time.Hour),
			Kind: "web-crowd", AlertCategory: "AQ10",
			Areas: []operation.Area{{Key: "web-sq", Name: "测试广场", Shape: sq, Yellow: 100, Red: 200, Duty: []operation.Duty{{Name: "值守甲", Role: "现场指挥"}}}},
			Tasks: []operation.Task{{ID: "clean", Area: "web-sq", Title: "测试清扫任务", Category: "MS03", Unit: "cg", At: now.Add(-time.Minute), LimitMinutes: 15}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Ingest(ctx, []service.Incoming{
			{Reading: sensors.Reading{Device: "WEB-C1", Kind: "web-crowd", Value: 120, At: now}},
			{Reading: sensors.Reading{Device: "WEB-C2", Kind: "web-crowd", Value: 130, At: now}},
		}); err != nil {
			t.Fatal(err)
		}
		if err := s.OperationTick(ctx); err != nil {
			t.Fatal(err)
		}
		webOpID = op.ID
	})
	return webOpID
}

func TestOperationPages(t *testing.T) {
	id := webOperation(t)
	cmdr := signIn(t, "qu_zhihui")
	expect(t, cmdr.get("/operations"), 200, "大型活动", "网页测试活动", `href="/operations/web-op"`, "进行中")
	expect(t, cmdr.get("/operations/"+id), 200, "测试广场", "红色预警", "250", "值守甲", "测试清扫任务", "处置中", `data-due="`, "/static/operations.")
	frag := cmdr.get("/operations/" + id + "?part=board")
	expect(t, frag, 200, `id="op-areas"`, "测试清扫任务")
	if strings.Contains(frag.body, "<html") {
		t.Error("the fragment is a whole page")
	}
	expect(t, cmdr.get("/operations/"+id+"/report"), 200, "活动报告", "时间线", "测试清扫任务", "升至红色预警", "导出 Excel")
	csv := cmdr.get("/operations/" + id + "/export?format=csv")
	expect(t, csv, 200, "预置任务", "测试清扫任务", "时间线", "测试广场")
	expect(t, cmdr.get("/operations/"+id+"/export?format=xlsx"), 200)
	expect(t, cmdr.get("/operations/"+id+"/export?format=pdf"), 400)
	expect(t, cmdr.get("/operations/nope"), 404)
	// A district's operation is shown to its streets' centers too (a
	// street's own operation is not shown to other streets: TestOperationAPI).
	expect(t, signIn(t, "syl_zhihui").get("/operations/"+id), 200, "测试广场")
	expect(t, signIn(t, "yj_staff").get("/operations"), 403)
}

// TestBrowserOperationBoard: the board goes live and follows the crowd
// without a reload.
func TestBrowserOperationBoard(t *testing.T) {
	id := webOperation(t)
	b := newBrowser(t)
	b.signIn("qu_zhihui", "/board")
	b.do(chromedp.Click(chromedp.CSS(`header nav a[href="/operations"]`)), chromedp.WaitVisible(chromedp.CSS(`tr[data-operation="`+id+`"] a`)),
		chromedp.Click(chromedp.CSS(`tr[data-operation="`+id+`"] a`)), chromedp.WaitVisible(chromedp.CSS(`#op-live.on`)))
	if s := b.text(`#op-tasks`); !strings.Contains(s, "测试清扫任务") || !strings.Contains(s, "剩") {
		t.Errorf("tasks: %.300s", s)
	}
	now := plat.Service.Now()
	if _, err := plat.Service.Ingest(context.Background(), []service.Incoming{
		{Reading: sensors.Reading{Device: "WEB-C1", Kind: "web-crowd", Value: 30, At: now}},
		{Reading: sensors.Reading{Device: "WEB-C2", Kind: "web-crowd", Value: 40, At: now}},
	}); err != nil {
		t.Fatal(err)
	}
	b.do(chromedp.WaitVisible(chromedp.CSS(`article.op-area[data-level="green"]`)))
	if s := b.text(`article.op-area .op-value`); s != "70" {
		t.Errorf("crowd shown %q, want 70", s)
	}
}
