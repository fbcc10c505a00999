package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"zhizhi/internal/cases"
)

func TestWhistleBoard(t *testing.T) {
	cs := reportCase(t, "zhouchunyan", "AQ09", "报到看板测试：餐馆燃气管道老化")
	actOn(t, "syl_zhihui", cs.ID, cases.Command{Action: cases.ActAccept})
	path := "/cases/" + cs.ID
	cmd := signIn(t, "syl_zhihui")
	// No whistle yet: the board is there, hidden, for the live script.
	expect(t, cmd.get(path), 200, `id="whistleboard"`, `class="panel whistleboard hidden"`, `召集部门`, `class="units whistle-pick"`)

	actOn(t, "syl_zhihui", cs.ID, cases.Command{Action: cases.ActWhistle, Kind: cases.WhistleStreet, Note: "燃气隐患，请应急、市场监管到场",
		Parties: []cases.PartyRef{{UnitID: "yj"}, {UnitID: "scjg"}}})
	r := cmd.get(path)
	expect(t, r, 200, `class="panel whistleboard"`, "街道吹哨", `data-key="unit:yj" data-status="waiting"`,
		`data-key="unit:scjg" data-status="waiting"`, "已报到 <b>0</b>/2", `data-open="act-whistle"`)
	if !strings.Contains(r.body, `data-due="`) {
		t.Error("the parties have no countdown")
	}

	fragment := func(c *client) response {
		req, _ := http.NewRequest("GET", srv.URL+path+"/whistles", nil)
		req.Header.Set("X-Requested-With", "fetch")
		return c.do(req)
	}
	r = fragment(cmd)
	expect(t, r, 200, `data-key="unit:yj" data-status="waiting"`, "待报到", "已报到 <b>0</b>/2")
	if strings.Contains(r.body, "<html") {
		t.Error("the board fragment is a whole page")
	}

	actOn(t, "yj_staff", cs.ID, cases.Command{Action: cases.ActReportIn})
	expect(t, fragment(cmd), 200, `data-key="unit:yj" data-status="in"`, `data-key="unit:scjg" data-status="waiting"`, "已报到 <b>1</b>/2")
	// A summoned unit sees the board too, without the whistle button.
	r = fragment(signIn(t, "scjg_staff"))
	expect(t, r, 200, `data-key="unit:scjg" data-status="waiting"`)
	if strings.Contains(r.body, "data-open") {
		t.Error("a unit is offered the whistle button")
	}
	// Outside the scope: nothing; without a session: 401.
	if r := fragment(signIn(t, "jfb_zhihui")); r.status != http.StatusNotFound {
		t.Errorf("another street's commander got the board: %d", r.status)
	}
	if r := fragment(newClient(t)); r.status != http.StatusUnauthorized {
		t.Errorf("the board without a session: %d", r.status)
	}
}

// TestWhistleFormGrid: a grid worker's whistle form offers the grid's heads
// with their titles, and no units.
func TestWhistleFormGrid(t *testing.T) {
	cs := reportCase(t, "zhouchunyan", "MS03", "网格吹哨测试：门店占道经营")
	actOn(t, "syl_zhihui", cs.ID, cases.Command{Action: cases.ActAccept})
	w := signIn(t, "zhouchunyan")
	r := w.get("/cases/" + cs.ID)
	expect(t, r, 200, `id="act-whistle"`, "召集三长", `value="person:`, "（街长）", "（楼长）")
	if strings.Contains(r.body, `name="party" value="unit:`) {
		t.Error("a grid whistle offers units")
	}
}

// TestBrowserWhistleBoardLive: the commander whistles two units from the
// case page; when one reports in, the board turns that party to 已报到
// without a reload.
func TestBrowserWhistleBoardLive(t *testing.T) {
	cs := reportCase(t, "zhouchunyan", "AQ09", "浏览器报到看板测试：燃气泄漏隐患")
	actOn(t, "syl_zhihui", cs.ID, cases.Command{Action: cases.ActAccept})
	b := newBrowser(t)
	b.signIn("syl_zhihui", "/board")
	b.do(
		chromedp.Navigate(srv.URL+"/cases/"+cs.ID),
		chromedp.WaitVisible(chromedp.CSS(`#act-whistle`)),
		chromedp.Click(chromedp.CSS(`#act-whistle > summary`)),
		chromedp.WaitVisible(chromedp.CSS(`#act-whistle input[name=party][value="unit:yj"]`)),
	)
	// A long list of units gets a search box.
	b.do(chromedp.SendKeys(chromedp.CSS(`#act-whistle .pick-search`), "市场"))
	if n := eval[int](b, `[...document.querySelectorAll('#act-whistle fieldset.whistle-pick label.check')].filter(l => !l.classList.contains('hidden')).length`); n < 1 {
		t.Fatal("searching the units hides them all")
	}
	b.do(
		chromedp.Click(chromedp.CSS(`#act-whistle input[name=party][value="unit:scjg"]`)),
		chromedp.Evaluate[chromedp.Void](`(q => { q.value = ''; q.dispatchEvent(new Event('input')); })(document.querySelector('#act-whistle .pick-search'))`),
		chromedp.Click(chromedp.CSS(`#act-whistle input[name=party][value="unit:yj"]`)),
		chromedp.SendKeys(chromedp.CSS(`#act-whistle textarea[name=note]`), "燃气泄漏隐患，请应急、市场监管立即到场"),
	)
	if s := b.text(`#act-whistle .picked`); s != "已选 2" {
		t.Fatalf("picked count reads %q", s)
	}
	b.do(
		chromedp.Click(chromedp.CSS(`#act-whistle button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash`)),
		chromedp.WaitVisible(chromedp.CSS(`#whistleboard .wb-party[data-key="unit:yj"][data-status=waiting]`)),
	)
	if s := b.text(`#whistleboard`); !strings.Contains(s, "区应急管理局") || !strings.Contains(s, "区市场监管局") || !strings.Contains(s, "待报到") {
		t.Fatalf("the board reads %q", s)
	}
	// The countdown ticks.
	if s := b.text(`#whistleboard .wb-party[data-key="unit:yj"] .clock`); !strings.HasPrefix(s, "剩") {
		t.Fatalf("countdown reads %q", s)
	}
	eval[any](b, "window.__sameDocument = true")
	time.Sleep(200 * time.Millisecond) // the event stream is open
	start := time.Now()
	actOn(t, "yj_staff", cs.ID, cases.Command{Action: cases.ActReportIn})
	b.do(chromedp.WaitVisible(chromedp.CSS(`#whistleboard .wb-party[data-key="unit:yj"][data-status=in]`)))
	t.Logf("the report-in reached the board %v later", time.Since(start))
	if !eval[bool](b, "window.__sameDocument === true") {
		t.Fatal("the page reloaded instead of updating the board")
	}
	if s := b.text(`#whistleboard .wb-party[data-key="unit:yj"] .wb-status`); s != "已报到" {
		t.Fatalf("the reported party reads %q", s)
	}
	if s := b.text(`#whistleboard .wb-party[data-key="unit:scjg"] .wb-status`); s != "待报到" {
		t.Fatalf("the other party reads %q", s)
	}
	if s := b.text(`#whistleboard .wb-count`); !strings.Contains(s, "已报到 1/2") {
		t.Fatalf("the count reads %q", s)
	}
}
