package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"zhizhi/internal/cases"
	"zhizhi/internal/demo"
	"zhizhi/internal/sensors"
)

// opForm is a good planning form for a district's operation tomorrow
// evening around 解放碑: one area typed as vertex lines with two people on
// duty, one task at 00:05 with 15 minutes.
func opForm(t *testing.T) url.Values {
	t.Helper()
	webOperation(t) // the web-crowd counters' kind
	loc := plat.Service.Calendar().Location()
	day := plat.Service.Now().In(loc).AddDate(0, 0, 1)
	start := time.Date(day.Year(), day.Month(), day.Day(), 20, 0, 0, 0, loc)
	f := func(t time.Time) string { return t.Format("2006-01-02T15:04") }
	return url.Values{
		"name": {"表单跨年活动"}, "start": {f(start)}, "end": {f(start.Add(6 * time.Hour))}, "kind": {"web-crowd"}, "alert_category": {"AQ10"},
		"areas": {"1"}, "tasks": {"1"},
		"area.0.name": {"表单广场"}, "area.0.key": {"form-sq"}, "area.0.yellow": {"800"}, "area.0.red": {"1000"},
		"area.0.shape": {"106.5740,29.5552\n106.5790,29.5552\n106.5790,29.5588\n106.5740,29.5588"},
		"area.0.duty":  {"值守乙,现场指挥,023-63751110,ga\n值守丙，保洁"},
		"task.0.title": {"表单清扫任务"}, "task.0.area": {"0"}, "task.0.trigger": {""}, "task.0.at": {f(start.Add(4*time.Hour + 5*time.Minute))},
		"task.0.limit": {"15"}, "task.0.category": {"MS03"}, "task.0.unit": {"cg"}, "task.0.description": {"清运垃圾"},
		"do": {"save"},
	}
}

func with(v url.Values, kv ...string) url.Values {
	out := url.Values{}
	for k, s := range v {
		out[k] = append([]string(nil), s...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out.Set(kv[i], kv[i+1])
	}
	return out
}

func operationCount(t *testing.T) int {
	t.Helper()
	list, err := plat.Service.Operations(context.Background(), cases.System)
	if err != nil {
		t.Fatal(err)
	}
	return len(list)
}

var demoOpOnce sync.Once

// demoOperation stores (once) the crowd counters' kind and the demo's New
// Year's Eve operation, planned by 解放碑's commander, as the command's
// demo does.
func demoOperation(t *testing.T) {
	t.Helper()
	demoOpOnce.Do(func() {
		ctx := context.Background()
		if err := plat.Service.PutDeviceKind(ctx, cases.System, sensors.Kind{Code: "crowd", Name: "客流计数", Unit: "人", Min: 0, Max: 200000}); err != nil {
			t.Fatal(err)
		}
		if err := demo.LoadOperation(ctx, plat.Service); err != nil {
			t.Fatal(err)
		}
	})
}

var savedOpRE = regexp.MustCompile(`^/operations/([^/?]+)\?saved=(\d+)$`)

// TestOperationForm: a commander plans an operation with the form, without
// JavaScript; every bad field is named next to it and saves nothing; an
// edit carries its version, and a stale one is refused (409).
func TestOperationForm(t *testing.T) {
	good := opForm(t)
	cmdr := signIn(t, "qu_zhihui")
	expect(t, cmdr.get("/operations"), 200, `href="/operations/new"`)
	expect(t, cmdr.get("/operations/new"), 200, "制定大型活动", `name="area.0.shape"`, `name="area.0.file"`, `name="task.0.limit"`, `enctype="multipart/form-data"`)

	// More rows, without saving.
	before := operationCount(t)
	expect(t, cmdr.post("/operations", with(good, "do", "area")), 200, `name="area.1.name"`, `value="表单广场"`, `name="areas" value="2"`)
	expect(t, cmdr.post("/operations", with(good, "do", "task")), 200, `name="task.1.title"`, `value="表单清扫任务"`)

	bad := []struct {
		name  string
		form  url.Values
		field string
		text  string
	}{
		{"no name", with(good, "name", ""), "name", "请填写活动名称"},
		{"no start", with(good, "start", ""), "start", "请填写开始时间"},
		{"bad start", with(good, "start", "明天晚上"), "start", "时间格式"},
		{"end before start", with(good, "end", good.Get("start")), "end", "结束时间须晚于开始时间"},
		{"no kind", with(good, "kind", ""), "kind", "请指定客流计数设备类型"},
		{"unknown kind", with(good, "kind", "nope"), "kind", "设备类型不存在"},
		{"no alert category", with(good, "alert_category", ""), "alert_category", "请选择告警案件类别"},
		{"bad id", with(good, "id", "活动一"), "id", "活动编号无效"},
		{"a page's name as id", with(good, "id", "new"), "id", "活动编号不能为 new"},
		{"bad area key", with(good, "area.0.key", "广场"), "area.0.key", "区域编码"},
		{"no area name", with(good, "area.0.name", ""), "area.0.name", "请填写区域名称"},
		{"yellow not a number", with(good, "area.0.yellow", "很多"), "area.0.yellow", "请填写数字"},
		{"no yellow", with(good, "area.0.yellow", ""), "area.0.yellow", "请填写黄色阈值"},
		{"red below yellow", with(good, "area.0.red", "500"), "area.0.red", "红色阈值须大于黄色阈值"},
		{"no shape", with(good, "area.0.shape", ""), "area.0.shape", "请绘制或导入区域范围"},
		{"bad vertex", with(good, "area.0.shape", "106.574,29.5552\n106.579"), "area.0.shape", "第2行"},
		{"two vertices", with(good, "area.0.shape", "106.574,29.5552\n106.579,29.5552"), "area.0.shape", "区域范围无效"},
		{"outside the district", with(good, "area.0.shape", "116.39,39.90\n116.40,39.90\n116.40,39.91"), "area.0.shape", "不在本指挥中心的辖区内"},
		{"duty without a name", with(good, "area.0.duty", ",保洁"), "area.0.duty", "第1行：请填写值守人员姓名"},
		{"duty's bad phone", with(good, "area.0.duty", "值守乙,指挥,打电话"), "area.0.duty", "电话号码格式不正确"},
		{"duty's unknown unit", with(good, "area.0.duty", "值守乙,指挥,110,nope"), "area.0.duty", "单位不存在"},
		{"every area removed", with(good, "area.0.remove", "1"), "areas", "至少需要一个区域"},
		{"no task title", with(good, "task.0.title", ""), "task.0.title", "请填写任务名称"},
		{"task in a removed row", with(good, "task.0.area", "3"), "task.0.area", "任务须属于本活动的一个区域"},
		{"task outside the window", with(good, "task.0.at", good.Get("end")[:11]+"23:59"), "task.0.at", "下达时间须在活动时段内"},
		{"task without a moment", with(good, "task.0.at", ""), "task.0.at", "请填写下达时间"},
		{"triggered task with a moment", with(good, "task.0.trigger", "red"), "task.0.at", "触发下达的任务不设下达时间"},
		{"unknown trigger", with(good, "task.0.trigger", "yellow"), "task.0.trigger", "触发条件"},
		{"no limit", with(good, "task.0.limit", ""), "task.0.limit", "请填写处置时限"},
		{"limit not a number", with(good, "task.0.limit", "一刻钟"), "task.0.limit", "整数分钟"},
		{"limit zero", with(good, "task.0.limit", "0"), "task.0.limit", "处置时限须为1至"},
		{"no category", with(good, "task.0.category", ""), "task.0.category", "请选择案件类别"},
		{"unknown category", with(good, "task.0.category", "ZZ99"), "task.0.category", "类别不存在"},
		{"no unit", with(good, "task.0.unit", ""), "task.0.unit", "请选择承办单位"},
		{"unknown unit", with(good, "task.0.unit", "nope"), "task.0.unit", "承办单位不存在"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			r := cmdr.post("/operations", tc.form)
			expect(t, r, http.StatusBadRequest, "活动尚未保存", `<p class="field-error" data-for="`+tc.field+`">`)
			m := regexp.MustCompile(`data-for="` + regexp.QuoteMeta(tc.field) + `">([^<]*)<`).FindStringSubmatch(r.body)
			if m == nil || !strings.Contains(m[1], tc.text) {
				t.Errorf("error by %s: %v, want %q", tc.field, m, tc.text)
			}
			// What was typed is shown again.
			if tc.field != "name" && !strings.Contains(r.body, `value="表单跨年活动"`) {
				t.Error("the typed name is not shown again")
			}
		})
	}
	if n := operationCount(t); n != before {
		t.Fatalf("%d operations after bad forms, want %d: a bad form saved something", n, before)
	}

	// A good one is saved and shown on its board.
	r := cmdr.post("/operations", good)
	m := savedOpRE.FindStringSubmatch(r.location)
	if r.status != http.StatusSeeOther || m == nil || m[2] != "1" {
		t.Fatalf("save: %d %q %s", r.status, r.location, excerpt(r.body))
	}
	id := m[1]
	expect(t, cmdr.get(r.location), 200, "已保存（第1版）", "表单广场", "表单清扫任务", "值守乙", "值守丙 · 保洁", "15分钟", `href="/operations/`+id+`/edit"`)
	op, err := plat.Service.Operation(context.Background(), cases.System, id)
	if err != nil {
		t.Fatal(err)
	}
	a := op.Areas[0]
	if a.Key != "form-sq" || a.Yellow != 800 || a.Red != 1000 || len(a.Shape) != 1 || len(a.Shape[0][0]) != 5 || len(a.Duty) != 2 || a.Duty[0].Unit != "ga" {
		t.Errorf("area saved as %+v", a)
	}
	if tk := op.Tasks[0]; tk.LimitMinutes != 15 || tk.Area != "form-sq" || tk.Unit != "cg" || tk.At.Sub(op.Start) != 4*time.Hour+5*time.Minute || tk.ID == "" {
		t.Errorf("task saved as %+v", tk)
	}
	expect(t, cmdr.get("/operations"), 200, "表单跨年活动", `href="/operations/`+id+`/edit"`)

	// The edit form carries the version; a save moves it on.
	edit := cmdr.get("/operations/" + id + "/edit")
	expect(t, edit, 200, `name="version" value="1"`, `value="form-sq"`, "106.579,29.5588", "值守乙,现场指挥,023-63751110,ga", `value="表单清扫任务"`)
	form := with(good, "version", "1", "area.0.red", "1200", "task.0.id", op.Tasks[0].ID)
	r = cmdr.post("/operations/"+id, form)
	if m := savedOpRE.FindStringSubmatch(r.location); r.status != http.StatusSeeOther || m == nil || m[2] != "2" {
		t.Fatalf("edit: %d %q %s", r.status, r.location, excerpt(r.body))
	}
	// A save from a form opened on version 1: someone else's version 2 is
	// not overwritten.
	r = cmdr.post("/operations/"+id, with(form, "area.0.red", "3000"))
	expect(t, r, http.StatusConflict, "已被他人修改", `href="/operations/`+id+`/edit"`, "重新载入最新版本", `value="3000"`)
	if op, _ := plat.Service.Operation(context.Background(), cases.System, id); op.Version != 2 || op.Areas[0].Red != 1200 {
		t.Errorf("after a stale save: version %d, red %v; want 2, 1200", op.Version, op.Areas[0].Red)
	}
	// A bad edit names its field too, and changes nothing.
	expect(t, cmdr.post("/operations/"+id, with(form, "version", "2", "area.0.yellow", "-5")), 400, `data-for="area.0.yellow"`)
	expect(t, cmdr.post("/operations/"+id, with(form, "version", "")), 400, `data-for="version"`)
	if op, _ := plat.Service.Operation(context.Background(), cases.System, id); op.Version != 2 {
		t.Errorf("a bad edit saved version %d", op.Version)
	}

	// A GeoJSON file replaces the typed shape.
	geojson := `{"type":"Feature","properties":{"name":"广场"},"geometry":{"type":"Polygon","coordinates":[[[106.575,29.556],[106.578,29.556],[106.578,29.558],[106.575,29.558],[106.575,29.556]]]}}`
	r = cmdr.postFiles("/operations/"+id, with(form, "version", "2", "area.0.shape", ""), "area.0.file", []byte(geojson))
	if m := savedOpRE.FindStringSubmatch(r.location); r.status != http.StatusSeeOther || m == nil || m[2] != "3" {
		t.Fatalf("import: %d %q %s", r.status, r.location, excerpt(r.body))
	}
	if op, _ := plat.Service.Operation(context.Background(), cases.System, id); op.Areas[0].Shape[0][0][1].Lng != 106.578 {
		t.Errorf("imported shape: %v", op.Areas[0].Shape)
	}
	r = cmdr.postFiles("/operations/"+id, with(form, "version", "3"), "area.0.file", []byte(`{"type":"Point","coordinates":[106.57,29.55]}`))
	expect(t, r, 400, `data-for="area.0.shape"`, "Point")

	// Who may: a street's commander sees the district's operation but may
	// not change it; leaders and administrators do not plan (the route
	// table's scope test refuses them the form's routes).
	street := signIn(t, "syl_zhihui")
	if b := street.get("/operations/" + id); b.status != 200 || strings.Contains(b.body, "/edit") {
		t.Errorf("a street's commander on the district's board: %d, edit link %v", b.status, strings.Contains(b.body, "/edit"))
	}
	expect(t, street.get("/operations/"+id+"/edit"), 403)
	expect(t, street.post("/operations/"+id, with(form, "version", "3")), 403)
	expect(t, signIn(t, "leader").get("/operations/new"), 403)
	expect(t, cmdr.get("/operations/nope/edit"), 404)
}

// TestBrowserOperationForm: a district's commander plans an operation in
// the browser, drawing its area on the map (four vertices, a fifth taken
// back, the ring closed on the first), sets its lines and a task at 00:05
// with 15 minutes, saves, and sees it on the operations board.
func TestBrowserOperationForm(t *testing.T) {
	good := opForm(t)
	b := newBrowser(t)
	b.signIn("qu_zhihui", "/board")
	b.do(chromedp.Navigate(srv.URL+"/operations"), chromedp.WaitVisible(chromedp.CSS(`#op-new`)),
		chromedp.Click(chromedp.CSS(`#op-new`)), chromedp.WaitVisible(chromedp.CSS(`#op-form`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=name]`), "浏览器跨年活动"),
		chromedp.SetValue(chromedp.CSS(`input[name=start]`), good.Get("start")),
		chromedp.SetValue(chromedp.CSS(`input[name=end]`), good.Get("end")),
		chromedp.SetValue(chromedp.CSS(`select[name=kind]`), "web-crowd"),
		chromedp.SetValue(chromedp.CSS(`select[name=alert_category]`), "AQ10"),
		chromedp.SendKeys(chromedp.CSS(`input[name="area.0.name"]`), "浏览器广场"),
		chromedp.SendKeys(chromedp.CSS(`input[name="area.0.key"]`), "browser-sq"),
		chromedp.Click(chromedp.CSS(`button.op-draw[data-shape="area.0.shape"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.op-draw-map.leaflet-container`)))
	b.waitJS(`!!window.zhizhiDraw`, 10*time.Second)
	eval[any](b, `zhizhiDraw.map.setView([29.5570, 106.5765], 17, {animate: false}), null`)
	click := func(lat, lng float64) {
		xy := eval[[]float64](b, fmt.Sprintf(`(function () {
			var box = document.querySelector('.op-draw-map');
			box.scrollIntoView({block: 'center'});
			var pt = zhizhiDraw.map.latLngToContainerPoint([%f, %f]);
			var r = box.getBoundingClientRect();
			return [r.left + pt.x, r.top + pt.y];
		})()`, lat, lng))
		b.do(chromedp.MouseClickXY(xy[0], xy[1]))
	}
	corners := [][2]float64{{29.5560, 106.5750}, {29.5560, 106.5780}, {29.5580, 106.5780}, {29.5580, 106.5750}}
	for _, c := range corners {
		click(c[0], c[1])
	}
	click(29.5570, 106.5765) // a fifth, taken back
	b.waitJS(`zhizhiDraw.points().length === 5`, 5*time.Second)
	b.do(chromedp.Click(chromedp.CSS(`.op-draw-bar .op-undo`)))
	b.waitJS(`zhizhiDraw.points().length === 4`, 5*time.Second)
	click(corners[0][0], corners[0][1]) // the first vertex closes the ring
	b.waitJS(`zhizhiDraw.closed()`, 5*time.Second)
	if s := eval[string](b, `document.querySelector('select[name="task.0.area"] option[value="0"]').textContent`); s != "区域1：浏览器广场" {
		t.Errorf("the task's area list says %q, want the area's typed name", s)
	}
	shape := eval[string](b, `document.getElementById('area.0.shape').value`)
	if lines := strings.Split(shape, "\n"); len(lines) != 5 || lines[0] != lines[4] {
		t.Fatalf("drawn shape %q, want 4 vertices and the ring closed", shape)
	}
	b.do(
		chromedp.SendKeys(chromedp.CSS(`input[name="area.0.yellow"]`), "800"),
		chromedp.SendKeys(chromedp.CSS(`input[name="area.0.red"]`), "1000"),
		chromedp.SendKeys(chromedp.CSS(`textarea[name="area.0.duty"]`), "值守丁,现场指挥"),
		chromedp.SendKeys(chromedp.CSS(`input[name="task.0.title"]`), "浏览器清扫任务"),
		chromedp.SetValue(chromedp.CSS(`input[name="task.0.at"]`), good.Get("task.0.at")),
		chromedp.SendKeys(chromedp.CSS(`input[name="task.0.limit"]`), "15"),
		chromedp.SetValue(chromedp.CSS(`select[name="task.0.category"]`), "MS03"),
		chromedp.SetValue(chromedp.CSS(`select[name="task.0.unit"]`), "cg"),
		chromedp.Click(chromedp.CSS(`#op-save`)),
		chromedp.WaitVisible(chromedp.CSS(`#op-saved`)),
	)
	if s := b.text(`#op-areas`); !strings.Contains(s, "浏览器广场") || !strings.Contains(s, "值守丁") || !strings.Contains(s, "黄 800") {
		t.Errorf("board's areas: %.300s", s)
	}
	if s := b.text(`#op-tasks`); !strings.Contains(s, "浏览器清扫任务") || !strings.Contains(s, "15分钟") || !strings.Contains(s, "00:05") {
		t.Errorf("board's tasks: %.300s", s)
	}
	if !strings.HasPrefix(good.Get("task.0.at")[11:], "00:05") {
		t.Fatalf("the form's task is at %s", good.Get("task.0.at"))
	}
}
