package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"zhizhi/internal/cases"
	"zhizhi/internal/geo"
	"zhizhi/internal/sla"
)

// postPanel sends a form as the board's script does: urlencoded here, with
// X-Requested-With, so the answer is the panel fragment.
func (c *client) postPanel(path string, form url.Values) response {
	c.t.Helper()
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", c.csrf)
	}
	form.Set("from", "board")
	req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Requested-With", "fetch")
	return c.do(req)
}

// reportAt reports a case at a given point through the service.
func reportAt(t *testing.T, username, category, desc string, p geo.Point) cases.Case {
	t.Helper()
	c, err := plat.Service.Report(context.Background(), actor(t, username), cases.Report{
		Source: cases.SourcePatrol, Category: category, Description: desc, Point: &p, Address: "面板测试地址",
	})
	if err != nil {
		t.Fatalf("report: %v", err)
	}
	return c
}

func actionsOf(t *testing.T, id, username string) string {
	t.Helper()
	c := caseByID(t, id)
	var out []string
	for _, a := range plat.Service.Actions(&c, actor(t, username)) {
		out = append(out, string(a))
	}
	return strings.Join(out, ",")
}

// TestBoardPanel: the board's panel offers exactly the case page's forms,
// posts them to the same handler and answers with the panel again: field
// errors in Chinese, refusals, merge beside the duplicate, dispatch with the
// category's unit pre-filled.
func TestBoardPanel(t *testing.T) {
	p := gridPoint(t, "zhouchunyan")
	first := reportAt(t, "zhouchunyan", "MS03", "面板测试：垃圾堆放（先报）", p)
	time.Sleep(5 * time.Millisecond)
	dup := reportAt(t, "zhouchunyan", "MS03", "面板测试：垃圾堆放（重复）", p)
	cmd := signIn(t, "syl_zhihui")

	r := cmd.get("/board/panel/" + dup.ID)
	expect(t, r, 200, `class="drawer-in"`, `name="from" value="board"`, `data-key="a"`, `data-key="r"`, `data-key="m"`,
		`data-merge="`+first.ID+`"`, first.Number, "附近同类未结案件", `href="/cases/`+dup.ID+`"`)
	if got, want := strings.Join(formsOn(r.body), ","), actionsOf(t, dup.ID, "syl_zhihui"); got != want {
		t.Fatalf("panel forms [%s], want service Actions [%s]", got, want)
	}
	if strings.Contains(r.body, "<html") {
		t.Fatal("the panel is a fragment, not a page")
	}
	// The leader's panel has only what the leader may do.
	if got, want := strings.Join(formsOn(signIn(t, "leader").get("/board/panel/"+dup.ID).body), ","), actionsOf(t, dup.ID, "leader"); got != want {
		t.Fatalf("leader's panel forms [%s], want [%s]", got, want)
	}

	// Field errors in Chinese, the typed text kept, 400.
	r = cmd.postPanel("/cases/"+dup.ID+"/act", url.Values{"action": {"reject"}, "note": {""}})
	expect(t, r, 400, `class="drawer-in"`, "请填写原因", `class="field-error"`)
	r = cmd.postPanel("/cases/"+dup.ID+"/act", url.Values{"action": {"merge"}})
	expect(t, r, 400, `id="act-merge"`, `class="field-error"`)

	// Merge into the duplicate shown beside it.
	r = cmd.postPanel("/cases/"+dup.ID+"/act", url.Values{"action": {"merge"}, "target": {first.ID}, "version": {itoa(dup.Version)}})
	expect(t, r, 200, "已合并")
	if got := caseByID(t, dup.ID); got.State != cases.Merged || got.MergedInto != first.ID {
		t.Fatalf("after merge: %s into %q", got.State, got.MergedInto)
	}

	// Accept, then dispatch with the library's suggestion pre-selected:
	// exposed rubbish is a grid matter, so the case's community.
	r = cmd.postPanel("/cases/"+first.ID+"/act", url.Values{"action": {"accept"}, "severity": {"critical"}})
	expect(t, r, 200, "已受理", `id="act-dispatch"`, `data-key="d"`)
	lead := "c-500103014010" // 新影村社区
	if !strings.Contains(r.body, `<option value="`+lead+`" selected>`) {
		t.Fatalf("dispatch form does not pre-select %q", lead)
	}
	// A stale version is refused with the reason, in the panel.
	r = cmd.postPanel("/cases/"+first.ID+"/act", url.Values{"action": {"dispatch"}, "lead_unit": {lead}, "version": {"1"}})
	expect(t, r, 409, `class="drawer-in"`, `class="alert"`)
	if caseByID(t, first.ID).State != cases.Accepted {
		t.Fatal("a refused dispatch changed the case")
	}

	// The alerts panel lists the critical case, live as a fragment and on the page.
	expect(t, cmd.get("/board/alerts"), 200, first.Number, "特急")
	expect(t, cmd.get("/board"), 200, `id="alerts"`, first.Number, `id="board-panel"`)

	// Without the script: the panel's form sends the browser back to the
	// board with the panel open, and the rows link to the case page.
	cmd.get("/board?case=" + first.ID)
	r = cmd.post("/cases/"+first.ID+"/act", url.Values{"action": {"dispatch"}, "lead_unit": {lead}, "from": {"board"}})
	if r.status != http.StatusSeeOther || r.location != "/board?case="+first.ID+"&done=dispatch" {
		t.Fatalf("no-script dispatch from the board: %d to %q", r.status, r.location)
	}
	r = cmd.get(r.location)
	expect(t, r, 200, "已派遣", `data-id="`+first.ID+`"`, `href="/cases/`+first.ID+`"`)
	if strings.Contains(r.body, `id="board-panel" hidden`) || !strings.Contains(r.body, `id="board-panel"`) {
		t.Fatal("the board does not show the panel it was sent back to")
	}
	if got := caseByID(t, first.ID); got.State != cases.Dispatched || got.Tasks[0].UnitID != lead || got.Severity != sla.Critical {
		t.Fatalf("after dispatch: %s %+v %s", got.State, got.Tasks, got.Severity)
	}
	// A refused form without the script falls back to the case page.
	r = cmd.post("/cases/"+first.ID+"/act", url.Values{"action": {"urge"}, "from": {"board"}, "version": {"1"}})
	expect(t, r, 409, `<article class="case"`)

	// Without the script a plain board has no panel and no forms, only links.
	r = cmd.get("/board")
	if !strings.Contains(r.body, `id="board-panel" aria-label="案件处理" hidden`) && !strings.Contains(r.body, ` hidden></aside>`) {
		t.Error("the empty panel is not hidden")
	}
	if len(formsOn(r.body)) != 0 {
		t.Errorf("the plain board carries forms %v", formsOn(r.body))
	}

	// Scope: another street's commander gets 404 for the panel, and units cannot open it.
	if r := signIn(t, "jfb_zhihui").get("/board/panel/" + first.ID); r.status != http.StatusNotFound {
		t.Fatalf("another street's panel: %d", r.status)
	}
	if r := signIn(t, "yj_staff").get("/board/panel/" + first.ID); r.status != http.StatusForbidden {
		t.Fatalf("a unit's panel: %d", r.status)
	}
	// CSRF holds for the panel's posts too.
	r = cmd.postPanel("/cases/"+first.ID+"/act", url.Values{"action": {"urge"}, "csrf": {"forged"}})
	if r.status != http.StatusForbidden {
		t.Fatalf("forged panel post: %d", r.status)
	}
}

// TestBrowserJourney plays the journey of issue 3 in Chromium, on one case a
// resident can rate (so one reported through /r with the resident's phone):
// the report with a photo reaches the command board live; the commander
// accepts and dispatches from the board's panel with the keyboard (a, d,
// the category's unit pre-filled, a co-unit ticked, Enter); the lead unit
// signs and feeds back with a photo on the case page; the grid worker
// verifies; the case closes; the resident rates it on /r/follow. The grid
// worker's own report reaching the board is TestBrowserBoardLive.
func TestBrowserJourney(t *testing.T) {
	board := newBrowser(t)
	board.signIn("syl_zhihui", "/board")
	board.do(chromedp.WaitVisible(chromedp.CSS(`#live[data-state=on]`)))

	resident := board.another()
	resident.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch))
	p := gridPoint(t, "zhouchunyan")
	photo := filepath.Join(t.TempDir(), "scene.png")
	os.WriteFile(photo, pngPhoto(60), 0o644)
	fix := filepath.Join(t.TempDir(), "fixed.png")
	os.WriteFile(fix, pngPhoto(200), 0o644)
	phone := fmt.Sprintf("139%08d", time.Now().UnixNano()%100000000)
	desc := fmt.Sprintf("旅程测试：楼下垃圾堆了三天没人清 %d", time.Now().UnixNano())
	resident.do(
		chromedp.Navigate(srv.URL+"/r"),
		chromedp.WaitVisible(chromedp.CSS(`#resident-report`)),
		chromedp.SetValue(chromedp.CSS(`#category`), "MS03"),
		chromedp.SendKeys(chromedp.CSS(`textarea[name=description]`), desc),
		chromedp.SetValue(chromedp.CSS(`#lat`), fmt.Sprint(p.Lat)),
		chromedp.SetValue(chromedp.CSS(`#lng`), fmt.Sprint(p.Lng)),
		chromedp.SendKeys(chromedp.CSS(`input[name=address]`), "石油路某小区3栋"),
		chromedp.SetUploadFiles(chromedp.CSS(`#resident-report input[name=photo_file]`), []string{photo}),
		chromedp.SendKeys(chromedp.CSS(`input[name=reporter_phone]`), phone),
	)
	start := time.Now()
	resident.do(chromedp.Click(chromedp.CSS(`#resident-report button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS(`#reported-number`)))
	number := strings.TrimSpace(resident.text(`#reported-number`))
	cs, _, err := plat.Service.Case(t.Context(), actor(t, "syl_zhihui"), number)
	if err != nil || len(cs.Photos) != 1 {
		t.Fatalf("reported case %q: %v, %d photos", number, err, len(cs.Photos))
	}
	rowSel := `tr[data-id="` + cs.ID + `"]`
	board.do(chromedp.WaitVisible(chromedp.CSS(rowSel)))
	t.Logf("the resident's report reached the board %v after the submit", time.Since(start))

	// The commander: j selects the new row (at the top), its panel opens; a accepts.
	eval[any](board, "document.activeElement && document.activeElement.blur(), null")
	board.do(chromedp.KeyEvent("j"), chromedp.WaitVisible(chromedp.CSS(`#board-panel .drawer-in[data-id="`+cs.ID+`"]`)))
	board.do(chromedp.KeyEvent("a"),
		chromedp.Poll[chromedp.Void](`document.activeElement && document.activeElement.closest('#act-accept') !== null`, chromedp.WithPollingTimeout(20*time.Second)),
		chromedp.KeyEvent("\r"),
		chromedp.Poll[chromedp.Void](`(document.querySelector('#board-panel .flash')||{}).textContent === '已受理'`, chromedp.WithPollingTimeout(20*time.Second)),
		chromedp.Poll[chromedp.Void](`document.querySelector('`+rowSel+`').textContent.includes('待派遣')`, chromedp.WithPollingTimeout(20*time.Second)),
	)
	// d opens the dispatch form with the library's suggestion selected
	// (exposed rubbish is a grid matter: the case's community); the
	// commander picks the street's 民生服务 A岗 instead, ticks a co-unit and
	// Enter on it sends the form.
	suggested, _ := plat.Service.SuggestUnit(context.Background(), caseByID(t, cs.ID))
	board.do(chromedp.KeyEvent("d"),
		chromedp.Poll[chromedp.Void](`document.activeElement && document.activeElement.closest('#act-dispatch') !== null`, chromedp.WithPollingTimeout(20*time.Second)))
	if lead := eval[string](board, `document.querySelector('#board-panel #act-dispatch select[name=lead_unit]').value`); lead != suggested.ID || suggested.Kind != cases.UnitCommunity {
		t.Fatalf("lead unit pre-filled with %q, want the suggestion %q (a community)", lead, suggested.ID)
	}
	const lead = "syl-ms-a"
	eval[any](board, `(function(){document.querySelector('#board-panel #act-dispatch select[name=lead_unit]').value='syl-ms-a';return null})()`)
	co := "xf" // a unit with a demo account
	eval[any](board, `(function(){var b=document.querySelector('#act-dispatch input[name=co_units][value=`+co+`]');b.focus();b.click();return null})()`)
	board.do(chromedp.KeyEvent("\r"),
		chromedp.Poll[chromedp.Void](`(document.querySelector('#board-panel .flash')||{}).textContent === '已派遣'`, chromedp.WithPollingTimeout(20*time.Second)),
		chromedp.Poll[chromedp.Void](`document.querySelector('`+rowSel+`').textContent.includes('待签收')`, chromedp.WithPollingTimeout(20*time.Second)),
	)
	got := caseByID(t, cs.ID)
	if got.State != cases.Dispatched || len(got.Tasks) != 2 || got.Tasks[0].UnitID != lead || got.Tasks[1].UnitID != co {
		t.Fatalf("after dispatch from the panel: %s %+v", got.State, got.Tasks)
	}

	// The lead unit signs and feeds back with a photo on the case page; the co-unit does its part through the service.
	unit := board.another()
	unit.signIn("syl_ms_a", "/inbox")
	unit.do(chromedp.Navigate(srv.URL+"/cases/"+cs.ID), chromedp.WaitVisible(chromedp.CSS(`#act-sign`)),
		chromedp.Click(chromedp.CSS(`#act-sign button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS(`.flash`)))
	actOn(t, co+"_staff", cs.ID, cases.Command{Action: cases.ActSign})
	actOn(t, co+"_staff", cs.ID, cases.Command{Action: cases.ActFeedback, Note: "协办已配合清运"})
	unit.do(chromedp.Navigate(srv.URL+"/cases/"+cs.ID), chromedp.WaitVisible(chromedp.CSS(`#act-feedback`)),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#act-feedback').open = true`),
		chromedp.SendKeys(chromedp.CSS(`#act-feedback textarea[name=note]`), "已清运，现场已冲洗"),
		chromedp.SetUploadFiles(chromedp.CSS(`#act-feedback input[name=photo_file]`), []string{fix}),
		chromedp.WaitReady(chromedp.CSS(`#act-feedback .thumbs input[name=photo]`)),
		chromedp.Click(chromedp.CSS(`#act-feedback button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash`)))
	if got := caseByID(t, cs.ID); got.State != cases.FedBack || len(got.Tasks[0].Photos) != 1 {
		t.Fatalf("after feedback: %s, lead photos %d", got.State, len(got.Tasks[0].Photos))
	}
	board.do(chromedp.Poll[chromedp.Void](`document.querySelector('`+rowSel+`').textContent.includes('待核查')`, chromedp.WithPollingTimeout(20*time.Second)))

	// The grid worker verifies on the phone; the case closes.
	worker := board.another()
	worker.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch))
	worker.signIn("zhouchunyan", "/m")
	worker.do(chromedp.Navigate(srv.URL+"/cases/"+cs.ID), chromedp.WaitVisible(chromedp.CSS(`#act-verify`)),
		chromedp.Click(chromedp.CSS(`#act-verify input[name=passed][value=yes]`)),
		chromedp.SendKeys(chromedp.CSS(`#act-verify textarea[name=note]`), "现场已干净"),
		chromedp.Click(chromedp.CSS(`#act-verify button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash`)))
	if s := worker.text("#state"); s != "已结案" {
		t.Fatalf("state after verification: %q", s)
	}

	// The resident follows the case by number and phone and rates it.
	resident.do(chromedp.Navigate(srv.URL+"/r/follow"), chromedp.WaitVisible(chromedp.CSS(`#resident-follow`)),
		chromedp.SendKeys(chromedp.CSS(`#resident-follow input[name=number]`), number),
		chromedp.SendKeys(chromedp.CSS(`#resident-follow input[name=phone]`), phone),
		chromedp.Click(chromedp.CSS(`#resident-follow button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#resident-rate`)),
		chromedp.Click(chromedp.CSS(`#resident-rate input[name=rating][value=satisfied]`)),
		chromedp.Click(chromedp.CSS(`#resident-rate button[type=submit]`)),
		chromedp.WaitNotPresent(chromedp.CSS(`#resident-rate`)))
	if got := caseByID(t, cs.ID); got.State != cases.Closed || got.Rating != cases.Satisfied {
		t.Fatalf("at the end: %s rated %q", got.State, got.Rating)
	}
	board.do(chromedp.WaitNotPresent(chromedp.CSS(rowSel))) // closed: it leaves the open queue live
}
