package service_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/notify"
	"zhizhi/internal/server"
	"zhizhi/internal/store"
)

// TestNotifyTwoNodesOnPostgres: two nodes on one PostgreSQL database fan
// out and deliver at the same time; every dispatch's push reaches the
// browser exactly once; and a person's live inbox on one node is told when
// the other node fans out a notification for them.
func TestNotifyTwoNodesOnPostgres(t *testing.T) {
	ctx := context.Background()
	a, b := twoNodes(t, settleDemo)

	acct, _ := a.DB.AccountByUsername(ctx, "cg_staff")
	unit := a.Service.ActorOf(acct)
	push := newPushService(t)
	push.subscribe(t, a.Service, unit)
	live := b.Service.SubscribeInbox(unit)
	defer live.Close()
	time.Sleep(500 * time.Millisecond) // B's listener is up

	gw, pt := gridWorker(t, a.DB)
	reporter := a.Service.ActorOf(gw)
	commander := cases.Actor{AccountID: "cmd", Name: "指挥长", Role: cases.RoleCommander, RegionPath: "/500000/500103/"}
	const n = 20
	dispatch := func(nodeOf *server.Platform) {
		t.Helper()
		c, err := nodeOf.Service.Report(ctx, reporter, cases.Report{Source: cases.SourcePatrol, Category: "MS03", Description: "两节点推送测试：垃圾堆放", Point: &pt})
		if err != nil {
			t.Fatal(err)
		}
		for _, cmd := range []cases.Command{{Action: cases.ActAccept}, {Action: cases.ActDispatch, Lead: "cg"}} {
			if _, _, err := nodeOf.Service.Act(ctx, commander, c.ID, cmd, 0); err != nil {
				t.Fatalf("%s: %v", cmd.Action, err)
			}
		}
	}
	// One dispatch fanned out by A alone: B's live inbox hears of it
	// through PostgreSQL.
	dispatch(a)
	if k, err := a.Service.FanOut(ctx); err != nil || k == 0 {
		t.Fatalf("fan out on A: %d %v", k, err)
	}
	select {
	case <-live.C:
	case <-time.After(5 * time.Second):
		t.Fatal("node B's live inbox was not told of node A's fan-out")
	}
	for i := 1; i < n; i++ {
		dispatch([]*server.Platform{a, b}[i%2])
	}
	// Both nodes fan out and deliver at once, several rounds.
	var wg sync.WaitGroup
	for _, p := range []*server.Platform{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 3 {
				if _, err := p.Service.FanOut(ctx); err != nil {
					t.Error(err)
				}
				if _, err := p.Service.Deliver(ctx); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	list, err := a.Service.Notifications(ctx, unit, store.InboxFilter{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	dispatched := 0
	for _, x := range list {
		if x.Kind == notify.Dispatched {
			dispatched++
		}
	}
	if dispatched != n {
		t.Errorf("%d dispatch notifications in the inbox, want %d", dispatched, n)
	}
	got := push.messages()
	seen := map[string]int{}
	for _, m := range got {
		seen[string(m.Plain)]++
	}
	if len(got) != n || len(seen) != n {
		t.Errorf("%d pushes received, %d distinct, want %d each", len(got), len(seen), n)
	}
	ds, _ := a.DB.Deliveries(ctx, store.DeliveryFilter{Channel: notify.Push})
	for _, d := range ds {
		if d.State != "sent" || d.Attempts != 1 {
			t.Errorf("delivery %s: %s after %d attempts", d.ID, d.State, d.Attempts)
		}
	}
}
