package web_test

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"zhizhi/internal/cases"
)

// The evaluation pages read the rollups; the harness does not run the roll
// loop, so the tests give two grids work enough to be ranked this month and
// rebuild the rollups once.
var (
	evalOnce    sync.Once
	evalNumbers []string // the numbers of the cases reported in zhouchunyan's grid
)

func evalSetup(t *testing.T) string {
	t.Helper()
	evalOnce.Do(func() {
		// Solved on the spot, a case is closed at once: due to close and
		// closed on time, the work a grid is ranked by.
		ph, err := plat.Service.SavePhoto(bytes.NewReader(pngPhoto(90)), "image/png")
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range []struct {
			user   string
			onSpot int
		}{{"zhouchunyan", 6}, {"yangshipei", 5}} {
			for i := 0; i <= w.onSpot; i++ {
				p := gridPoint(t, w.user)
				c, err := plat.Service.Report(context.Background(), actor(t, w.user), cases.Report{Source: cases.SourcePatrol,
					Category: "MS03", Description: fmt.Sprintf("考核页面测试：垃圾清运不及时%d", i), Point: &p, Address: "测试地址",
					OnSpot: i < w.onSpot, Photos: []cases.Photo{ph}, Note: "已当场清理"})
				if err != nil {
					t.Fatal(err)
				}
				if w.user == "zhouchunyan" {
					evalNumbers = append(evalNumbers, c.Number)
				}
			}
		}
		if _, err := plat.Service.RebuildRollups(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
	svc := plat.Service
	return svc.Now().In(svc.Calendar().Location()).Format("2006-01")
}

var hrefRE = regexp.MustCompile(`href="([^"]+)"`)

// links returns the hrefs of a page with a prefix, unescaped.
func links(body, prefix string) []string {
	var out []string
	for _, m := range hrefRE.FindAllStringSubmatch(body, -1) {
		if h := html.UnescapeString(m[1]); strings.HasPrefix(h, prefix) {
			out = append(out, h)
		}
	}
	return out
}

func TestEvaluationRankings(t *testing.T) {
	month := evalSetup(t)
	grid := lastCode(actor(t, "zhouchunyan").RegionPath)
	qu := signIn(t, "qu_zhihui")
	// The navigation offers 考核排名 to commanders.
	expect(t, qu.get("/board"), 200, `href="/evaluation"`, "考核排名")
	r := qu.get("/evaluation")
	expect(t, r, 200, "考核排名", "渝中区", `id="ranking"`, "按期结案率", "综合得分", "十佳网格", "导出Excel",
		"得分相同时，案件量", "评价规则第1版", `data-subject="`+grid+`"`, `class="bar-fill" width="`)
	if !strings.Contains(r.body, `<td class="place">1</td>`) {
		t.Errorf("no first place: %s", excerpt(r.body))
	}
	// Every figure links to the cases behind its numerator and denominator.
	drill := links(r.body, "/cases?fact=grid%3A"+grid)
	if len(drill) < 2 || !strings.Contains(drill[0], "&period="+month) {
		t.Errorf("drill-down links of %s: %v", grid, drill)
	}
	if len(links(r.body, "/evaluation/grid/"+grid+"?period="+month)) != 1 {
		t.Errorf("no score card link for %s", grid)
	}
	// The page states its cap; a page past the end shows the last one.
	expect(t, qu.get("/evaluation?page=9&period="+month), 200, "每页最多显示100个", `data-subject="`+grid+`"`)
	// Another kind, a region below, ranked by one indicator.
	street := lastCode(actor(t, "syl_zhihui").RegionPath)
	r = qu.get("/evaluation?kind=community&under=" + street + "&by=close_rate&period=" + month)
	expect(t, r, 200, "社区", "按结案率排名", `<th class="by">结案率</th>`)
	expect(t, qu.get("/evaluation?kind=unit"), 200, "承办单位", "响应率")
	// A bad period, kind or indicator is said on the page in Chinese, not a 500.
	expect(t, qu.get("/evaluation?period=2026-13"), 400, `id="eval-problem"`, "月份应为01–12")
	expect(t, qu.get("/evaluation?period=yesterday"), 400, "时间段格式应为")
	expect(t, qu.get("/evaluation?kind=planet"), 400, "考核对象应为")
	expect(t, qu.get("/evaluation?by=response_rate"), 400, "指标“响应率”不用于网格")
	expect(t, qu.get("/evaluation?under=nowhere"), 400, "区域不存在")

	// Scope: a street's commander ranks within the street only.
	jfb := lastCode(actor(t, "jfb_zhihui").RegionPath)
	syl := signIn(t, "syl_zhihui")
	r = syl.get("/evaluation?period=" + month)
	expect(t, r, 200, "石油路街道")
	if strings.Contains(r.body, "/evaluation/grid/"+lastCode(actor(t, "yangshipei").RegionPath)+"?") &&
		!strings.HasPrefix(actor(t, "yangshipei").RegionPath, actor(t, "syl_zhihui").RegionPath) {
		t.Error("a street's commander sees another street's grid")
	}
	expect(t, syl.get("/evaluation?under="+jfb), 403, "只能查看本辖区的考核排名")
	expect(t, syl.get("/evaluation/export?under="+jfb), 403)
	expect(t, syl.get("/evaluation/map?under="+jfb), 403)
	expect(t, syl.get("/evaluation/top10?under="+jfb), 403)
	// Other roles may not open the pages at all.
	for _, u := range []string{"zhouchunyan", "yj_staff", "xyc_shuji"} {
		expect(t, signIn(t, u).get("/evaluation"), 403, "您的角色不能打开此页面")
	}
	expect(t, signIn(t, "zhouchunyan").get("/board"), 403) // and have no link to them
	if r := newClient(t).get("/evaluation"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/signin") {
		t.Errorf("signed out: %d %s", r.status, r.location)
	}

	// The export is an Excel workbook with the whole ranking.
	r = qu.get("/evaluation/export?kind=grid&period=" + month + "&format=xlsx")
	if r.status != 200 || !strings.Contains(r.header.Get("Content-Disposition"), ".xlsx") {
		t.Fatalf("export: %d %v %s", r.status, r.header, excerpt(r.body))
	}
	sheets := readXLSX(t, []byte(r.body))
	if len(sheets) != 1 || sheets[0].rows[0][0] != "名次" || sheets[0].rows[0][3] != "综合得分" || len(sheets[0].rows) < 3 {
		t.Fatalf("export sheets: %+v", sheets)
	}
	found := false
	for _, row := range sheets[0].rows[1:] {
		found = found || row[2] == grid
	}
	if !found {
		t.Errorf("export lacks grid %s", grid)
	}
}

var pointRE = regexp.MustCompile(`<circle class="pt`)

func TestEvaluationScoreCard(t *testing.T) {
	month := evalSetup(t)
	grid := lastCode(actor(t, "zhouchunyan").RegionPath)
	qu := signIn(t, "qu_zhihui")
	r := qu.get("/evaluation/grid/" + grid + "?period=" + month)
	expect(t, r, 200, "考核得分", "得分说明", "综合得分", "评价规则第1版", "按期结案率", "折算权重", "得分贡献", "规则版本",
		"近12期得分趋势", `<svg class="trend"`, "导出Excel")
	if n := len(pointRE.FindAllString(r.body, -1)); n != 12 {
		t.Errorf("trend has %d points, want 12", n)
	}
	drill := links(r.body, "/cases?fact=grid%3A"+grid+"%3A")
	if len(drill) < 10 {
		t.Errorf("drill-down links: %v", drill)
	}
	for _, want := range []string{"%3Areported&period=" + month, "%3Adue_close&period=" + month, "%3Aclosed_on_time&period=" + month} {
		ok := false
		for _, h := range drill {
			ok = ok || strings.HasSuffix(h, want)
		}
		if !ok {
			t.Errorf("no drill-down ending %s in %v", want, drill)
		}
	}
	// The trend's periods link to their score cards; the first is 11 months back.
	if len(links(r.body, "/evaluation/grid/"+grid+"?period=")) < 12 {
		t.Errorf("trend points do not link to their periods")
	}
	// Other kinds; a quarter; a bad period is said on the page.
	street := lastCode(actor(t, "syl_zhihui").RegionPath)
	expect(t, qu.get("/evaluation/street/"+street+"?period=2026-Q4"), 200, "2026年第4季度", "近12期得分趋势")
	expect(t, qu.get("/evaluation/unit/yj"), 200, "区应急管理局", "响应率")
	expect(t, qu.get("/evaluation/grid/"+grid+"?period=2026-02-30"), 400, `id="eval-problem"`, "日期不存在")
	expect(t, qu.get("/evaluation/grid/nowhere"), 404, "网格不存在")
	expect(t, qu.get("/evaluation/planet/"+grid), 400, "考核对象应为")
	// Scope: another street's grid is not shown to a street's commander.
	other := signIn(t, "jfb_zhihui")
	expect(t, other.get("/evaluation/grid/"+grid), 403)
	expect(t, other.get("/evaluation/grid/"+grid+"/export"), 403)
	// The export opens: the parts, the other figures and the trend.
	r = qu.get("/evaluation/grid/" + grid + "/export?period=" + month)
	if r.status != 200 {
		t.Fatalf("card export: %d %s", r.status, excerpt(r.body))
	}
	sheets := readXLSX(t, []byte(r.body))
	if len(sheets) != 3 || sheets[0].name != "得分构成" || sheets[2].name != "得分趋势" || len(sheets[2].rows) != 13 {
		t.Fatalf("card export: %+v", sheets)
	}
	if sheets[0].rows[1][0] != "按期结案率" {
		t.Errorf("first part: %v", sheets[0].rows[1])
	}
}

func TestEvaluationTop10AndMap(t *testing.T) {
	month := evalSetup(t)
	grid := lastCode(actor(t, "zhouchunyan").RegionPath)
	qu := signIn(t, "qu_zhihui")
	r := qu.get("/evaluation/top10?period=" + month)
	y, m := 0, 0
	fmt.Sscanf(month, "%d-%d", &y, &m)
	title := fmt.Sprintf("渝中区%d年%d月十佳网格", y, m)
	expect(t, r, 200, "<title>"+title, `id="top10-title">`+title, `id="print"`, asset(t, "print.js"), "导出Excel", `data-subject="`+grid+`"`, "综合得分")
	if !strings.Contains(r.body, asset(t, "evaluation.css")) {
		t.Error("no stylesheet")
	}
	// Printed: no navigation, A4.
	expect(t, qu.get("/static/evaluation.css"), 200, "@media print", "size: A4", "header.top, .no-print, nav { display: none")
	if n := strings.Count(r.body, `<li data-subject=`); n == 0 || n > 10 && !strings.Contains(r.body, "并列") {
		t.Errorf("%d grids in the top ten", n)
	}
	expect(t, qu.get("/evaluation/top10?period=2026-W45"), 400, "十佳网格按月或按季度评选")
	expect(t, qu.get("/evaluation/top10?period=2026-Q5"), 400, "时间段格式应为")
	expect(t, qu.get("/evaluation/top10?period=2026-Q4"), 200, "渝中区2026年第4季度十佳网格")
	r = qu.get("/evaluation/top10/export?period=" + month)
	if r.status != 200 {
		t.Fatalf("top10 export: %d", r.status)
	}
	sheets := readXLSX(t, []byte(r.body))
	if len(sheets) != 1 || sheets[0].rows[0][1] != "网格" || len(sheets[0].rows) < 2 || !strings.Contains(sheets[0].rows[1][7], "综合得分") {
		t.Fatalf("top10 export: %+v", sheets)
	}

	// The map shades each grid by its grade and links it to its score card.
	r = qu.get("/evaluation/map?period=" + month)
	expect(t, r, 200, "网格考核地图", `<svg class="grade-map"`, "A档 ≥90分", "未排名", "band-none")
	if !strings.Contains(r.body, `href="/evaluation/grid/`+grid+`?period=`+month+`" data-grid="`+grid+`"><path class="band-`) {
		t.Errorf("grid %s not on the map", grid)
	}
	if regexp.MustCompile(`<path class="band-[A-E]"`).FindString(r.body) == "" {
		t.Error("no grid shaded by grade")
	}
	expect(t, qu.get("/evaluation/map?period=nope"), 400, "时间段格式应为")
}
