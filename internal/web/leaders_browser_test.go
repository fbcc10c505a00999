package web_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"zhizhi/internal/cases"
	"zhizhi/internal/demo"
	"zhizhi/internal/leaders"
	"zhizhi/internal/service"
	"zhizhi/internal/sla"
	"zhizhi/internal/store"
)

// TestBrowserLeaderVisit plays a leader's journey on a phone: the home
// starts from the pairings; the visit form (its script gives the form a
// client reference) records a visit with a problem, which becomes a case
// on the leader's list; on the list board the leader supervises it with a
// deadline, and the case page shows the supervision's clock.
func TestBrowserLeaderVisit(t *testing.T) {
	ctx := context.Background()
	now := plat.Service.Now()
	admin, lead := actor(t, "admin"), actor(t, "leader")
	p, err := plat.Service.PutPairing(ctx, admin, leaders.Pairing{LeaderID: lead.AccountID, Kind: leaders.TargetCommunity, Target: "500103014010",
		From: now.AddDate(0, -1, 0), To: now.AddDate(1, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	defer plat.Service.DeletePairing(ctx, admin, p.ID)
	desc := "浏览器现场办公：新影村社区活动室屋顶漏水 " + now.Format("150405.000")

	b := newBrowser(t)
	b.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch))
	b.signIn("leader", "/leader")
	if s := b.text(`tr[data-pairing="` + p.ID + `"]`); !strings.Contains(s, "新影村社区") {
		t.Fatalf("the home's pairing row: %q", s)
	}
	b.do(chromedp.Click(chromedp.CSS(`a[href="/m/onsite"]`)), chromedp.WaitVisible(chromedp.CSS(`#visit-form`)))
	if ref := eval[string](b, `document.getElementById('client-ref').value`); ref == "" {
		t.Fatal("the form's script gave no client reference")
	}
	b.do(
		chromedp.SetValue(chromedp.CSS(`#visit-form select[name=region_code]`), "500103014010"),
		chromedp.SetValue(chromedp.CSS(`#visit-form input[name=attendees]`), "社区书记、网格员"),
		chromedp.SetValue(chromedp.CSS(`#visit-form textarea[name=problem_0]`), desc),
		chromedp.SetValue(chromedp.CSS(`#visit-form select[name=category_0]`), "MS08"),
		chromedp.Click(chromedp.CSS(`#visit-form button[type=submit]`)),
	)
	waitFlash(b, "已记录现场办公，提出的问题已作为案件上报并列入领导清单")
	if s := b.text(`.visit-cases`); !strings.Contains(s, "待受理") {
		t.Fatalf("the visit's cases: %q", s)
	}
	list, err := plat.Service.Lists(ctx, lead, store.ListFilter{OwnerID: lead.AccountID, Kind: leaders.ListLeader, At: now})
	if err != nil || len(list) == 0 {
		t.Fatalf("the leader's list: %v", err)
	}
	vs, err := plat.Service.Visits(ctx, lead, store.VisitFilter{LeaderID: lead.AccountID, Limit: 1})
	if err != nil || len(vs) == 0 || len(vs[0].CaseIDs) != 1 {
		t.Fatalf("the visit: %v %+v", err, vs)
	}
	caseID := vs[0].CaseIDs[0]

	// Supervise it from the list board.
	row := `tr[data-item="` + caseID + `"]`
	b.do(chromedp.Navigate(srv.URL+"/lists/"+list[0].ID), chromedp.WaitVisible(chromedp.CSS(row)),
		chromedp.Click(chromedp.CSS(row+` details.supervise summary`)),
		chromedp.WaitVisible(chromedp.CSS(row+` details.supervise input[name=note]`)),
		chromedp.SendKeys(chromedp.CSS(row+` details.supervise input[name=note]`), "五个工作日内修好"),
		chromedp.SetValue(chromedp.CSS(row+` details.supervise select[name=limit]`), "5工作日"),
		chromedp.Click(chromedp.CSS(row+` details.supervise button[type=submit]`)))
	waitFlash(b, "已督办，督办时限自即刻起按工作日历计算")
	if s := b.text(row); !strings.Contains(s, "督办") {
		t.Fatalf("the row after supervising: %q", s)
	}
	b.do(chromedp.Navigate(srv.URL+"/cases/"+caseID), chromedp.WaitVisible(chromedp.CSS(`#supervisions`)))
	if s := b.text(`#supervisions`); !strings.Contains(s, "五个工作日内修好") || !strings.Contains(s, "正常") {
		t.Fatalf("the case page's supervision: %q", s)
	}
}

// TestBrowserListBoardLive: the list board follows the console's stream of
// case changes: when a case on the list changes (here the leader's urge and
// supervision through the service, as from another desk), its row shows the
// change without a reload, and the board's figures stay.
func TestBrowserListBoardLive(t *testing.T) {
	ctx := context.Background()
	now := plat.Service.Now()
	lead := actor(t, "leader")
	open := true
	list, err := plat.Service.List(ctx, lead, store.CaseFilter{Open: &open, States: []cases.State{cases.Accepted, cases.Dispatched, cases.Handling}, Limit: 1})
	if err != nil || len(list) == 0 {
		t.Fatalf("an open case in the leader's region: %v", err)
	}
	c := list[0]
	l, err := plat.Service.CreateList(ctx, lead, leaders.List{Name: "实时清单 " + now.Format("150405.000"), Kind: leaders.ListLeader,
		From: now.AddDate(0, 0, -1), To: now.AddDate(0, 1, 0)}, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := plat.Service.AddItem(ctx, lead, l.ID, leaders.ItemCase, c.ID); err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t)
	b.signIn("leader", "/leader")
	row := `tr[data-item="` + c.ID + `"]`
	b.do(chromedp.Navigate(srv.URL+"/lists/"+l.ID), chromedp.WaitVisible(chromedp.CSS(row)),
		chromedp.WaitVisible(chromedp.CSS(`#live[data-state=on]`)))
	eval[bool](b, `window.__stay = true`) // gone if the page reloads
	before := eval[string](b, `document.querySelector('`+row+`').textContent`)

	if _, _, err := plat.Service.Act(ctx, lead, c.ID, cases.Command{Action: cases.ActUrge, Note: "请加快办理"}, 0); err != nil {
		t.Fatal(err)
	}
	waitRow := func(want string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			// Read in one script: the row may be replaced between a
			// query and a read of its node.
			got, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(document.querySelector('`+row+`')||{}).textContent || ''`))
			if strings.Contains(got, want) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the row never showed %q: %q (before: %q)", want, got, before)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitRow(fmt.Sprintf("催办 %d 次", c.Urges+1))
	if _, _, err := plat.Service.Supervise(ctx, lead, c.ID, service.SuperviseInput{Note: "限期办结", Limit: sla.Limit{Amount: 3, Unit: sla.WorkDays}}); err != nil {
		t.Fatal(err)
	}
	waitRow("督办")
	if !eval[bool](b, `window.__stay === true`) {
		t.Fatal("the page reloaded")
	}
	if v := eval[string](b, `document.querySelector('`+row+`').getAttribute('data-version')`); v == "" || v == fmt.Sprint(c.Version) {
		t.Errorf("the row's version %q after the changes (was %d)", v, c.Version)
	}
}

// TestBrowserOfflineVisit: a leader on site without signal records a visit
// with two problems on the phone's visit form (/m/onsite, kept by the
// service worker: it opens again offline without reaching the server). The
// visit waits on the phone; when the signal returns it is sent once: one
// visit and two cases on the server, also when the phone sends it again as
// after a lost answer.
func TestBrowserOfflineVisit(t *testing.T) {
	ctx := context.Background()
	now := plat.Service.Now()
	admin, lead := actor(t, "admin"), actor(t, "leader")
	p, err := plat.Service.PutPairing(ctx, admin, leaders.Pairing{LeaderID: lead.AccountID, Kind: leaders.TargetCommunity, Target: "500103014010",
		From: now.AddDate(0, -1, 0), To: now.AddDate(1, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	defer plat.Service.DeletePairing(ctx, admin, p.ID)
	// A server of its own (a fresh origin: a fresh worker and store), to
	// count what reaches it while the phone is off.
	counter := &hitCounter{hits: map[string]int{}, h: plat.Handler}
	site := httptest.NewServer(counter)
	defer site.Close()

	b := newBrowser(t)
	phone := b.newTab()
	phone.do(
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch),
		chromedp.Navigate(site.URL+"/signin"),
		chromedp.WaitVisible(chromedp.CSS(`#signin`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "leader"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), demo.Password),
		chromedp.Click(chromedp.CSS(`#signin button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`header.top .me`)),
		chromedp.Navigate(site.URL+"/m/onsite"),
		chromedp.WaitVisible(chromedp.CSS(`#visit-form`)),
	)
	phone.waitForOr("the service worker to control the form and keep it",
		`navigator.serviceWorker.ready.then(() => !!navigator.serviceWorker.controller)
		  .then(ok => ok && Promise.all([caches.match('/m/onsite')].concat(
		    [...document.querySelectorAll('script[src^="/static/"], link[href^="/static/"]')].map(x => caches.match(x.getAttribute('src') || x.getAttribute('href'))))))
		  .then(r => !!r && r.every(Boolean))`, swState, 30*time.Second)

	// Without signal the form opens from the worker's cache.
	phone.close()
	phone = b.newTab()
	phone.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch))
	phone.setOffline(true)
	before := counter.count("/m/onsite")
	phone.do(chromedp.Navigate(site.URL+"/m/onsite"), chromedp.WaitVisible(chromedp.CSS(`#visit-form`)),
		chromedp.Poll[chromedp.Void](`!navigator.onLine && !document.getElementById('offline-banner').classList.contains('hidden')`,
			chromedp.WithPollingTimeout(20*time.Second)))
	if n := counter.count("/m/onsite"); n != before {
		t.Fatalf("the form came from the server while offline (%d requests)", n-before)
	}
	tag := now.Format("150405.000")
	d1, d2 := "离线现场办公：新影村小区化粪池外溢 "+tag, "离线现场办公：社区活动室屋顶漏水 "+tag
	phone.do(
		chromedp.SetValue(chromedp.CSS(`#visit-form select[name=region_code]`), "500103014010"),
		chromedp.SetValue(chromedp.CSS(`#visit-form input[name=attendees]`), "社区书记、网格员"),
		chromedp.SetValue(chromedp.CSS(`#visit-form textarea[name=problem_0]`), d1),
		chromedp.SetValue(chromedp.CSS(`#visit-form select[name=category_0]`), "MS03"),
		chromedp.SetValue(chromedp.CSS(`#visit-form textarea[name=problem_1]`), d2),
		chromedp.SetValue(chromedp.CSS(`#visit-form select[name=category_1]`), "MS08"),
		chromedp.Click(chromedp.CSS(`#visit-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#visit-saved`)),
		chromedp.WaitVisible(chromedp.CSS(`#visit-outbox-list li.ob-pending`)),
	)
	if s := phone.text(`#visit-outbox`); !strings.Contains(s, "1 条待发送") || !strings.Contains(s, "新影村社区") || !strings.Contains(s, "2 个问题") {
		t.Fatalf("the waiting list reads %q", s)
	}
	ref := await[string](phone, `zhizhiVisits.all().then(l => l.filter(e => e.status === 'pending')[0].ref)`)
	visitsOf := func() []leaders.Visit {
		t.Helper()
		vs, err := plat.Service.Visits(ctx, lead, store.VisitFilter{LeaderID: lead.AccountID, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		var out []leaders.Visit
		for _, v := range vs {
			if v.ClientRef == ref {
				out = append(out, v)
			}
		}
		return out
	}
	casesOf := func() int {
		t.Helper()
		list, err := plat.Service.List(ctx, lead, store.CaseFilter{Reporter: lead.AccountID, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, c := range list {
			if strings.HasSuffix(c.Description, tag) && strings.HasPrefix(c.Description, "离线现场办公") {
				n++
			}
		}
		return n
	}
	if n := len(visitsOf()); n != 0 {
		t.Fatalf("%d visits made while offline", n)
	}

	// The signal returns: the visit goes out once.
	phone.setOffline(false)
	phone.do(chromedp.WaitVisible(chromedp.CSS(`#visit-outbox-list li.ob-sent`)))
	vs := visitsOf()
	if len(vs) != 1 || len(vs[0].CaseIDs) != 2 || casesOf() != 2 {
		t.Fatalf("after the signal returned: %d visits %+v, %d cases; want one visit with two cases", len(vs), vs, casesOf())
	}
	if v := vs[0]; v.Place.RegionCode != "500103014010" || strings.Join(v.Attendees, "、") != "社区书记、网格员" || v.RecordedBy != lead.AccountID {
		t.Fatalf("the visit made: %+v", v)
	}
	if s := phone.text(`#visit-outbox-list li.ob-sent`); !strings.Contains(s, "2 件案件") {
		t.Fatalf("the sent visit shows %q", s)
	}
	// As if the answer had been lost: the phone sends it again; the server
	// answers with the visit it already made.
	await[any](phone, `zhizhiVisits.all().then(l => { const e = l.filter(e => e.ref === `+jsString(ref)+`)[0]; e.status = 'pending'; return zhizhiVisits.put(e); }).then(() => zhizhiVisits.flush()).then(() => null)`)
	phone.do(chromedp.WaitVisible(chromedp.CSS(`#visit-outbox-list li.ob-sent`)))
	if vs := visitsOf(); len(vs) != 1 || casesOf() != 2 {
		t.Fatalf("after sending again: %d visits, %d cases; want 1 and 2", len(vs), casesOf())
	}
	if got := await[string](phone, `zhizhiVisits.all().then(l => l.filter(e => e.ref === `+jsString(ref)+`)[0].visitId)`); got != vs[0].ID {
		t.Fatalf("the phone keeps visit %q, the server made %q", got, vs[0].ID)
	}
}

// TestBrowserListBoardProjectLive: a project on a list board follows the
// stream too: when its lead unit meets a milestone and the district then
// verifies and closes it (through the service, as from other desks), the
// project's row is replaced in place, without a reload, and the board's
// closed figure moves.
func TestBrowserListBoardProjectLive(t *testing.T) {
	ctx := context.Background()
	now := plat.Service.Now()
	lead, qu, cg := actor(t, "leader"), actor(t, "qu_zhihui"), actor(t, "cg_staff")
	l, err := plat.Service.CreateList(ctx, lead, leaders.List{Name: "项目实时清单 " + now.Format("150405.000"), Kind: leaders.ListLeader,
		From: now.AddDate(0, 0, -1), To: now.AddDate(0, 1, 0)}, "")
	if err != nil {
		t.Fatal(err)
	}
	proj, err := plat.Service.CreateProject(ctx, qu, service.ProjectInput{Name: "实时项目 " + now.Format("150405.000"), Goal: "整治", LeadUnit: "cg",
		Milestones: []leaders.MilestoneInput{{Title: "调研", Limit: sla.Limit{Amount: 2, Unit: sla.WorkDays}}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := plat.Service.AddItem(ctx, lead, l.ID, leaders.ItemProject, proj.ID); err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t)
	b.signIn("leader", "/leader")
	row := `tr[data-item="` + proj.ID + `"]`
	b.do(chromedp.Navigate(srv.URL+"/lists/"+l.ID), chromedp.WaitVisible(chromedp.CSS(row)),
		chromedp.WaitVisible(chromedp.CSS(`#live[data-state=on]`)))
	eval[bool](b, `window.__stay = true`)
	version := func() string {
		got, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(document.querySelector('`+row+`')||{getAttribute(){return ''}}).getAttribute('data-version') || ''`))
		return got
	}
	waitVersion := func(want int) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for version() != fmt.Sprint(want) {
			if time.Now().After(deadline) {
				t.Fatalf("the project's row never reached version %d (at %q): %q", want, version(), b.text(row))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if v := version(); v != fmt.Sprint(proj.Version) {
		t.Fatalf("the row's version %q, the project's %d", v, proj.Version)
	}
	closedBefore := b.text(`#list-figures`)
	met, err := plat.Service.ProjectAct(ctx, cg, proj.ID, service.ProjectStep{Action: "meet", Seq: 1, Evidence: "已完成调研"})
	if err != nil {
		t.Fatal(err)
	}
	waitVersion(met.Version)
	done, err := plat.Service.ProjectAct(ctx, qu, proj.ID, service.ProjectStep{Action: "verify", Verdict: "验收合格"})
	if err != nil {
		t.Fatal(err)
	}
	waitVersion(done.Version)
	if !eval[bool](b, `window.__stay === true`) {
		t.Fatal("the page reloaded")
	}
	if after := b.text(`#list-figures`); after == closedBefore {
		t.Errorf("the board's figures did not move: %q", after)
	}
}
