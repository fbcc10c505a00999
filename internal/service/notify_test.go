package service_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/demo"
	"zhizhi/internal/notify"
	"zhizhi/internal/notify/pushtest"
	"zhizhi/internal/server"
	"zhizhi/internal/service"
	"zhizhi/internal/sla"
	"zhizhi/internal/store"
)

// smsGateway stands in for the operator's SMS gateway: it keeps what it
// receives and answers with status (200 unless set).
type smsGateway struct {
	mu     sync.Mutex
	got    []map[string]string
	auth   []string
	status int
}

func (g *smsGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var m map[string]string
	json.NewDecoder(r.Body).Decode(&m)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.status != 0 && g.status != 200 {
		w.WriteHeader(g.status)
		io.WriteString(w, "gateway down")
		return
	}
	g.got = append(g.got, m)
	g.auth = append(g.auth, r.Header.Get("X-Api-Key"))
}

func (g *smsGateway) texts(phone string) []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []string
	for _, m := range g.got {
		if m["phone"] == phone {
			out = append(out, m["kind"]+": "+m["text"])
		}
	}
	return out
}

type notifyWorld struct {
	p   *server.Platform
	svc *service.Service
	gw  *smsGateway
	pt  cases.Report
}

func newNotifyWorld(t *testing.T) *notifyWorld {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	p, err := server.Open(ctx, server.Config{DB: filepath.Join(dir, "z.db"), DataDir: dir, DefaultCenter: demo.District})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(context.Background()) })
	if err := demo.Load(ctx, p.Service, demo.Options{Cases: 5, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	settleDemo(t, p)
	w := &notifyWorld{p: p, svc: p.Service, gw: &smsGateway{}}
	srv := httptest.NewServer(w.gw)
	t.Cleanup(srv.Close)
	admin := w.actor(t, "admin")
	if _, err := w.svc.SetGateway(ctx, admin, notify.Gateway{URL: srv.URL + "/send", BaseURL: "https://zz.example", AuthHeader: "X-Api-Key", AuthValue: "k-123",
		Templates: map[notify.Kind]string{notify.ResidentClosed: "【测试】{number}已办结，请评价：{link}"}}); err != nil {
		t.Fatal(err)
	}
	_, pt := gridWorker(t, p.DB) // 周春燕's grid
	w.pt = cases.Report{Category: "MS03", Description: "小区门口垃圾堆放多日", Point: &pt, Reporter: cases.Reporter{Name: "李女士", Phone: "13912345678"}}
	return w
}

func (w *notifyWorld) actor(t *testing.T, username string) cases.Actor {
	t.Helper()
	a, err := w.p.DB.AccountByUsername(context.Background(), username)
	if err != nil {
		t.Fatalf("%s: %v", username, err)
	}
	return w.svc.ActorOf(a)
}

// report files the resident's report through the anonymous door.
func (w *notifyWorld) report(t *testing.T) cases.Case {
	t.Helper()
	ctx := context.Background()
	tok, err := w.svc.FormToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, err := w.svc.ReportAnonymous(ctx, service.Knock{Client: "192.0.2.7", Token: tok}, w.pt)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (w *notifyWorld) act(t *testing.T, a cases.Actor, c cases.Case, cmd cases.Command) {
	t.Helper()
	if _, _, err := w.svc.Act(context.Background(), a, c.ID, cmd, 0); err != nil {
		t.Fatalf("%s: %v", cmd.Action, err)
	}
}

// flush fans out and delivers what is pending.
func (w *notifyWorld) flush(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	if _, err := w.svc.FanOut(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Deliver(ctx); err != nil {
		t.Fatal(err)
	}
}

func (w *notifyWorld) inbox(t *testing.T, username string) []store.Notification {
	t.Helper()
	list, err := w.svc.Notifications(context.Background(), w.actor(t, username), store.InboxFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func kindsOf(list []store.Notification, caseID string) []notify.Kind {
	var out []notify.Kind
	for _, n := range list {
		if n.CaseID == caseID {
			out = append(out, n.Kind)
		}
	}
	return out
}

// TestNotifyCaseLoop: a resident's case through accept, dispatch and
// close. The unit's people get the dispatch in their inbox (the commander
// who dispatched gets nothing of their own step), the center gets the
// feedback to verify... and the resident gets three SMS through the
// gateway with the operator's template, the link to the resident page.
func TestNotifyCaseLoop(t *testing.T) {
	w := newNotifyWorld(t)
	ctx := context.Background()
	commander := w.actor(t, "syl_zhihui")
	unit := w.actor(t, "cg_staff")
	c := w.report(t)
	w.act(t, commander, c, cases.Command{Action: cases.ActAccept})
	w.act(t, commander, c, cases.Command{Action: cases.ActDispatch, Lead: "cg"})
	w.flush(t)
	got := w.inbox(t, "cg_staff")
	if k := kindsOf(got, c.ID); !slices.Equal(k, []notify.Kind{notify.Dispatched}) {
		t.Fatalf("cg_staff's inbox: %v", k)
	}
	if got[0].Link != "/cases/"+c.ID || !strings.Contains(got[0].Title, c.Number) {
		t.Errorf("notification %+v", got[0])
	}
	if k := kindsOf(w.inbox(t, "syl_zhihui"), c.ID); len(k) != 0 {
		t.Errorf("the dispatching commander is told of their own step: %v", k)
	}
	if k := kindsOf(w.inbox(t, "yj_staff"), c.ID); len(k) != 0 {
		t.Errorf("another unit is told: %v", k)
	}
	if n, _ := w.svc.Unread(ctx, unit); n != 1 {
		t.Errorf("unread %d", n)
	}
	w.act(t, unit, c, cases.Command{Action: cases.ActSign})
	w.act(t, unit, c, cases.Command{Action: cases.ActFeedback, Note: "已清运"})
	w.act(t, commander, c, cases.Command{Action: cases.ActClose})
	w.flush(t)
	// The grid's worker is asked to verify (the case lies in her grid).
	if k := kindsOf(w.inbox(t, "zhouchunyan"), c.ID); !slices.Equal(k, []notify.Kind{notify.ToVerify}) {
		t.Errorf("zhouchunyan's inbox: %v", k)
	}
	texts := w.gw.texts("13912345678")
	want := []string{
		"resident_accepted: 【智治】您反映的问题（编号" + c.Number + "）已受理，我们将尽快安排处置。",
		"resident_dispatched: 【智治】您反映的问题（编号" + c.Number + "）已派遣至承办单位处置。",
		"resident_closed: 【测试】" + c.Number + "已办结，请评价：https://zz.example/r/follow?number=" + c.Number,
	}
	if !slices.Equal(texts, want) {
		t.Errorf("the resident's SMS:\n%s\nwant\n%s", strings.Join(texts, "\n"), strings.Join(want, "\n"))
	}
	for _, a := range w.gw.auth {
		if a != "k-123" {
			t.Errorf("gateway auth header %q", a)
		}
	}
	// Marks: one read, then all.
	if err := w.svc.MarkRead(ctx, unit, got[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := w.svc.MarkRead(ctx, w.actor(t, "yj_staff"), got[0].ID); err == nil {
		t.Error("marked another's notification")
	}
	if n, _ := w.svc.Unread(ctx, unit); n != 0 {
		t.Errorf("unread after read: %d", n)
	}
	// The gateway's settings as shown back never carry the secret.
	g, err := w.svc.Gateway(ctx, w.actor(t, "admin"))
	if err != nil || g.AuthValue == "k-123" {
		t.Errorf("gateway shown back: %+v %v", g, err)
	}
}

// TestNotifyRedClockAndQuietHours: a red clock tells the unit, the center's
// commander and the supervising leader, urgently, with a push at once even
// in quiet hours; the dispatch's push to the same person in quiet hours
// waits until they end. A failing gateway fails no case action: the SMS
// waits for its retry.
func TestNotifyRedClockAndQuietHours(t *testing.T) {
	w := newNotifyWorld(t)
	ctx := context.Background()
	commander := w.actor(t, "syl_zhihui")
	unit := w.actor(t, "cg_staff")
	leader := w.actor(t, "leader")
	push := newPushService(t)
	sub := push.subscribe(t, w.svc, unit)
	// Quiet hours around now for cg_staff.
	loc := w.svc.Calendar().Location()
	now := time.Now().In(loc)
	quiet := notify.Prefs{QuietFrom: now.Add(-time.Hour).Format("15:04"), QuietTo: now.Add(time.Hour).Format("15:04")}
	if _, err := w.svc.SetPrefs(ctx, unit, quiet); err != nil {
		t.Fatal(err)
	}
	w.gw.mu.Lock()
	w.gw.status = 502
	w.gw.mu.Unlock()
	c := w.report(t)
	w.act(t, commander, c, cases.Command{Action: cases.ActAccept})
	w.act(t, commander, c, cases.Command{Action: cases.ActDispatch, Lead: "cg"})
	w.flush(t)
	// The gateway failed: the actions went through, the SMS waits.
	sms, err := w.p.DB.Deliveries(ctx, store.DeliveryFilter{Channel: notify.SMS})
	if err != nil || len(sms) != 2 {
		t.Fatalf("SMS deliveries %d %v", len(sms), err)
	}
	for _, d := range sms {
		if d.State != "pending" || d.Attempts != 1 || !strings.Contains(d.LastError, "502") || !d.NextAt.After(time.Now()) {
			t.Errorf("failed SMS: %+v", d)
		}
	}
	pushes, _ := w.p.DB.Deliveries(ctx, store.DeliveryFilter{Channel: notify.Push, Account: unit.AccountID})
	if len(pushes) != 1 || pushes[0].State != "pending" || pushes[0].Attempts != 0 || pushes[0].NextAt.Before(time.Now().Add(50*time.Minute)) {
		t.Fatalf("the dispatch's push in quiet hours: %+v", pushes)
	}
	if _, _, err := w.svc.Supervise(ctx, leader, c.ID, service.SuperviseInput{Note: "请尽快清运", Limit: sla.Limit{Amount: 1, Unit: sla.WorkDays}}); err != nil {
		t.Fatal(err)
	}
	// Long after every clock's due: the sign clock turns yellow and red.
	if _, err := w.svc.Sweep(ctx, time.Now().Add(30*24*time.Hour), 200); err != nil {
		t.Fatal(err)
	}
	w.flush(t)
	red := func(username string) *store.Notification {
		for _, n := range w.inbox(t, username) {
			if n.CaseID == c.ID && n.Kind == notify.ClockRed {
				return &n
			}
		}
		return nil
	}
	for _, who := range []string{"cg_staff", "syl_zhihui", "leader"} {
		if n := red(who); n == nil || !n.Urgent {
			t.Errorf("%s: red clock %+v", who, n)
		}
	}
	if k := kindsOf(w.inbox(t, "cg_staff"), c.ID); !slices.Contains(k, notify.Supervised) {
		t.Errorf("cg_staff not told of the supervision: %v", k)
	}
	// The urgent push went out at once, through quiet hours, and the
	// browser's key opens it.
	msgs := push.messages()
	if len(msgs) == 0 {
		t.Fatal("no push received")
	}
	// (The demo's own cases dispatched to cg turn red too: pick this case's.)
	type payload struct {
		Title, URL string
		Urgent     bool
	}
	var mine []payload
	var urgency []string
	for _, m := range msgs {
		var p payload
		if err := json.Unmarshal(m.Plain, &p); err != nil {
			t.Fatalf("push payload %q: %v", m.Plain, err)
		}
		if p.URL == "/cases/"+c.ID {
			mine, urgency = append(mine, p), append(urgency, m.Urgency)
		}
	}
	if len(mine) == 0 {
		t.Fatalf("no push of the case among %d", len(msgs))
	}
	for i, p := range mine {
		if !p.Urgent || !strings.Contains(p.Title, c.Number) || urgency[i] != "high" {
			t.Errorf("push %+v urgency %q", p, urgency[i])
		}
	}
	for _, m := range msgs {
		if m.Endpoint != sub {
			t.Errorf("push to %s", m.Endpoint)
		}
	}
	// The quiet-hours push is still waiting.
	pushes, _ = w.p.DB.Deliveries(ctx, store.DeliveryFilter{Channel: notify.Push, Account: unit.AccountID})
	waiting := 0
	for _, d := range pushes {
		if d.State == "pending" && d.Event.Kind == notify.Dispatched {
			waiting++
		}
	}
	if waiting != 1 {
		t.Errorf("%d dispatch pushes waiting, want 1", waiting)
	}
}

// newPushService starts a local push service (pushtest) and subscribes
// the actor's "browser" to it.
type pushService struct{ *pushtest.Service }

func newPushService(t *testing.T) pushService { return pushService{pushtest.New(t)} }

func (ps pushService) subscribe(t *testing.T, svc *service.Service, a cases.Actor) string {
	t.Helper()
	var in service.PushInput
	in.Endpoint = ps.Endpoint("abc")
	in.Keys.P256dh, in.Keys.Auth = ps.Keys()
	sub, err := svc.Subscribe(context.Background(), a, in)
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := svc.VAPIDKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ps.Expect(key)
	return sub.Endpoint
}

func (ps pushService) messages() []pushtest.Message { return ps.Messages() }

// settleDemo fans out what the demo's own steps announced (its supervisions,
// dispatches…) and marks it all read, before any device subscribes, so a
// test counts only the notifications of its own steps. Which demo cases
// announce what depends on the time of day the demo is generated at.
func settleDemo(t *testing.T, p *server.Platform) {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < 100; i++ {
		n, err := p.Service.FanOut(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	accts, err := p.DB.Accounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range accts {
		if _, err := p.Service.MarkAllRead(ctx, p.Service.ActorOf(a)); err != nil {
			t.Fatal(err)
		}
	}
}
