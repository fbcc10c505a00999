package web_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserEvaluation: a district commander opens 考核排名 from the
// navigation, switches to 十佳网格, opens a grid's score card and follows a
// figure's drill-down to the cases behind it; on a phone the rankings fit
// the screen (the table scrolls within its panel).
func TestBrowserEvaluation(t *testing.T) {
	month := evalSetup(t)
	grid := lastCode(actor(t, "zhouchunyan").RegionPath)
	b := newBrowser(t)
	b.signIn("qu_zhihui", "/board")
	b.do(chromedp.Click(chromedp.CSS(`header.top nav a[href="/evaluation"]`)))
	b.waitJS(`location.pathname === '/evaluation' && document.querySelector('#ranking tbody tr[data-subject]')`, 10*time.Second)
	if s := b.text("#eval-summary"); !strings.Contains(s, "按综合得分排名") {
		t.Fatalf("summary: %s", s)
	}
	b.shot("evaluation-desktop")
	b.do(chromedp.Click(chromedp.CSS(`#to-top10`)))
	b.waitJS(`location.pathname === '/evaluation/top10' && document.querySelector('#top10 li[data-subject]')`, 10*time.Second)
	if s := b.text("#top10-title"); !strings.HasSuffix(s, "十佳网格") || !strings.HasPrefix(s, "渝中区") {
		t.Fatalf("top ten title: %s", s)
	}
	b.shot("evaluation-top10")
	b.do(chromedp.Click(chromedp.CSS(`#top10 li[data-subject="` + grid + `"] a.card-link`)))
	b.waitJS(`location.pathname === '/evaluation/grid/`+grid+`' && document.querySelector('#parts a.num-link')`, 10*time.Second)
	if n := eval[float64](b, `document.querySelectorAll('svg.trend circle.pt').length`); n != 12 {
		t.Errorf("trend points: %v", n)
	}
	if s := b.text("#explain"); !strings.Contains(s, "综合得分") || !strings.Contains(s, "按期结案率") {
		t.Errorf("explained: %s", s)
	}
	b.shot("evaluation-card")
	// The first figure's numerator: the grid's cases closed on time this month.
	b.do(chromedp.Click(chromedp.CSS(`#parts a.num-link`)))
	b.waitJS(`location.pathname === '/cases'`, 10*time.Second)
	q := eval[string](b, `decodeURIComponent(location.search)`)
	if !strings.Contains(q, "fact=grid:"+grid+":closed_on_time") || !strings.Contains(q, "period="+month) {
		t.Fatalf("drill-down query: %s", q)
	}
	// The console's case list of that fact: the grid's cases are on it.
	body := b.text("main")
	if !slices.ContainsFunc(evalNumbers, func(n string) bool { return strings.Contains(body, n) }) {
		t.Errorf("the case list lacks the grid's cases %v:\n%s", evalNumbers, cut(body, 1500))
	}
	b.shot("evaluation-cases")
	// The map: the grid shaded by its grade; a click opens its score card.
	b.do(chromedp.Navigate(srv.URL + "/evaluation"))
	b.waitJS(`document.querySelector('#to-map')`, 10*time.Second)
	b.do(chromedp.Click(chromedp.CSS(`#to-map`)))
	b.waitJS(`location.pathname === '/evaluation/map' && document.querySelector('svg.grade-map a[data-grid="`+grid+`"] path.band-A, svg.grade-map a[data-grid="`+grid+`"] path[class^=band-]')`, 10*time.Second)
	if n := eval[float64](b, `document.querySelectorAll('svg.grade-map path').length`); n < 10 {
		t.Errorf("%v grids on the map", n)
	}
	b.shot("evaluation-map")
	b.do(chromedp.Click(chromedp.CSS(`svg.grade-map a[data-grid="` + grid + `"] path`)))
	b.waitJS(`location.pathname === '/evaluation/grid/`+grid+`' && document.querySelector('#explain')`, 10*time.Second)
	// On a phone the page is as wide as the screen.
	b.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch), chromedp.Navigate(srv.URL+"/evaluation"))
	b.waitJS(`document.querySelector('#ranking')`, 10*time.Second)
	if w := eval[float64](b, `document.documentElement.scrollWidth - 390`); w > 1 {
		t.Errorf("the rankings overflow a phone's screen by %vpx", w)
	}
	b.shot("evaluation-phone")
}
