package service_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/demo"
	"zhizhi/internal/gridwork"
	"zhizhi/internal/server"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
)

// TestGridDoor plays the residents' door of 杨诗培's grid end to end: a
// resident writes without an account and gets a link; the message reaches
// the grid's worker (and no other grid's); she answers one, turns another
// into a case of the grid, blocks an abusive one (its phone may
// write no more); each resident sees the answer by their link, a wrong
// link learns nothing, a form is good once, and past the hard threshold
// the door refuses.
func TestGridDoor(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	p, err := server.Open(ctx, server.Config{DB: filepath.Join(dir, "z.db"), DataDir: dir, DefaultCenter: demo.District,
		Doors: service.DoorLimits{ClientHold: 3, ClientMax: 5}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	svc := p.Service
	// The demo's history (杨诗培's grid work included) ends 60 days ago,
	// so today's and this week's figures are this test's alone.
	if err := demo.Load(ctx, svc, demo.Options{Cases: 5, Seed: 1, Now: time.Now().AddDate(0, 0, -60)}); err != nil {
		t.Fatal(err)
	}
	acct, _ := p.DB.AccountByUsername(ctx, "yangshipei")
	yang := svc.ActorOf(acct)
	zacct, _ := p.DB.AccountByUsername(ctx, "zhouchunyan")
	zhou := svc.ActorOf(zacct)
	grid := yang.RegionPath[strings.LastIndex(strings.TrimSuffix(yang.RegionPath, "/"), "/")+1 : len(yang.RegionPath)-1]
	post := func(client string, in gridwork.MessageInput) (gridwork.Message, string, error) {
		tok, err := svc.FormToken(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return svc.PostGridMessage(ctx, service.Knock{Client: client, Token: tok}, grid, in)
	}
	if _, _, err := post("192.0.2.10", gridwork.MessageInput{Text: "没有电话"}); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("a message without a phone: %v", err)
	}
	m1, key1, err := post("192.0.2.10", gridwork.MessageInput{Name: "王阿姨", Phone: "139 0000 1111", Text: "楼道灯坏了"})
	if err != nil {
		t.Fatal(err)
	}
	m2, key2, err := post("192.0.2.11", gridwork.MessageInput{Phone: "13900002222", Text: "门口垃圾堆了三天"})
	if err != nil {
		t.Fatal(err)
	}
	m3, _, err := post("192.0.2.12", gridwork.MessageInput{Phone: "13900003333", Text: "骂人的话"})
	if err != nil {
		t.Fatal(err)
	}
	// A form is good once.
	tok, _ := svc.FormToken(ctx)
	if _, _, err := svc.PostGridMessage(ctx, service.Knock{Client: "192.0.2.13", Token: tok}, grid, gridwork.MessageInput{Phone: "13900004444", Text: "a"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.PostGridMessage(ctx, service.Knock{Client: "192.0.2.13", Token: tok}, grid, gridwork.MessageInput{Phone: "13900004444", Text: "a"}); !apperr.Is(err, apperr.Conflict) {
		t.Errorf("a form used twice: %v", err)
	}
	list, err := svc.GridMessages(ctx, yang, grid, svc.Now().AddDate(0, 0, -1))
	if err != nil || len(list) != 4 || list[len(list)-1].Phone != "13900001111" {
		t.Fatalf("the worker's messages: %+v %v", list, err)
	}
	if _, err := svc.GridMessages(ctx, zhou, grid, svc.Now().AddDate(0, 0, -1)); !apperr.Is(err, apperr.Forbidden) {
		t.Errorf("another grid's worker read the messages: %v", err)
	}
	if _, err := svc.ActOnMessage(ctx, zhou, m1.ID, service.MessageAction{Action: "reply", Answer: "x"}); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("another grid's worker answered: %v", err)
	}
	if _, err := svc.ActOnMessage(ctx, yang, m1.ID, service.MessageAction{Action: "reply", Answer: "明天上午来修"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ActOnMessage(ctx, yang, m1.ID, service.MessageAction{Action: "block"}); !apperr.Is(err, apperr.Refused) {
		t.Errorf("blocking an answered message: %v", err)
	}
	done, err := svc.ActOnMessage(ctx, yang, m2.ID, service.MessageAction{Action: "case", Category: "MS03", Address: "民乐村3栋门口"})
	if err != nil || done.State != gridwork.MadeCase || done.CaseID == "" {
		t.Fatalf("to case: %+v %v", done, err)
	}
	c, err := p.DB.Case(ctx, done.CaseID)
	if err != nil || c.Source != cases.SourceResident || c.Reporter.Phone != "13900002222" || c.GridCode == "" && c.RegionPath != yang.RegionPath {
		t.Fatalf("the message's case: %+v %v", c, err)
	}
	if _, err := svc.ActOnMessage(ctx, yang, m3.ID, service.MessageAction{Action: "block"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := post("192.0.2.14", gridwork.MessageInput{Phone: "13900003333", Text: "再骂"}); !apperr.Is(err, apperr.Forbidden) {
		t.Errorf("a blocked phone wrote again: %v", err)
	}
	// Each resident follows by their link.
	f1, err := svc.FollowGridMessage(ctx, "192.0.2.10", key1)
	if err != nil || f1.Answer != "明天上午来修" || f1.AnsweredBy != "杨诗培" || f1.Phone != "139****1111" {
		t.Fatalf("follow 1: %+v %v", f1, err)
	}
	f2, err := svc.FollowGridMessage(ctx, "192.0.2.11", key2)
	if err != nil || f2.State != gridwork.MadeCase || !strings.Contains(f2.Answer, done.CaseNumber) || f2.CaseState == "" {
		t.Fatalf("follow 2: %+v %v", f2, err)
	}
	if _, err := svc.FollowGridMessage(ctx, "192.0.2.10", key1+"x"); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("a wrong link: %v", err)
	}
	// Past the client's hard threshold: refused before any write.
	var last error
	for i := 0; i < 6; i++ {
		_, _, last = post("192.0.2.20", gridwork.MessageInput{Phone: "1390000" + string(rune('5'+i%3)) + "000", Text: "刷屏"})
	}
	if !apperr.Is(last, apperr.TooMany) {
		t.Errorf("a flood from one address: %v", last)
	}
	n, held := 0, 0
	ms, _ := p.DB.Messages(ctx, store.GridFilter{Under: yang.RegionPath})
	for _, m := range ms {
		if m.Text == "刷屏" {
			n++
			if m.Held {
				held++
			}
		}
	}
	if n != 5 || held != 2 {
		t.Errorf("%d flood messages taken, %d held; want 5 (3 plain, 2 held, then refused)", n, held)
	}
	// The figures against a recount: the grid received 8 messages (the
	// blocked one aside), 2 answered in time, both by 杨诗培.
	cmd, _ := p.DB.AccountByUsername(ctx, "syl_zhihui")
	fig, err := svc.GridFigures(ctx, svc.ActorOf(cmd), grid, svc.Now().In(svc.Calendar().Location()).Format("2006-01-02"))
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, f := range fig.Figures {
		switch {
		case f.Kind == "grid" && f.ID == grid:
			seen++
			if f.Messages != 8 || f.InTime != 2 {
				t.Errorf("the grid's messages %d, in time %d; want 8 and 2", f.Messages, f.InTime)
			}
		case f.Kind == "worker" && f.ID == yang.AccountID:
			seen++
			if f.Messages != 2 || f.InTime != 2 {
				t.Errorf("杨诗培's messages %d, in time %d; want 2 and 2", f.Messages, f.InTime)
			}
		}
	}
	if seen != 2 {
		t.Errorf("figures %+v", fig.Figures)
	}
	days, _ := svc.Today(ctx, yang)
	if len(days) != 1 || days[0].Messages != 6 {
		t.Errorf("messages waiting today: %+v, want 6", days)
	}
}
