package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"zhizhi/internal/cases"
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
	b.do(chromedp.Click(chromedp.CSS(`a[href="/visits/new"]`)), chromedp.WaitVisible(chromedp.CSS(`#visit-form`)))
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
