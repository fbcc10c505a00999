package service_test

import (
	"context"
	"testing"
	"time"

	"zhizhi/internal/leaders"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
)

// TestVisitSentTwiceOnce: a phone that sends the same visit again (the
// answer lost, the signal back) gets the first visit back and makes
// nothing new: no visit, no case, no list item, no audit row. The key is
// the recorder's client reference; another reference makes a new visit.
// SQLite, or PostgreSQL with ZHIZHI_TEST_POSTGRES.
func TestVisitSentTwiceOnce(t *testing.T) {
	ctx := context.Background()
	p, _ := doorPlatform(t, service.DoorLimits{})
	svc := p.Service
	a, err := p.DB.AccountByUsername(ctx, "leader")
	if err != nil {
		t.Fatal(err)
	}
	lead := svc.ActorOf(a)
	now := svc.Now()
	visit := func(ref string) leaders.Visit {
		return leaders.Visit{ClientRef: ref, At: now.Add(-time.Hour), Place: leaders.Place{RegionCode: "500103014010"},
			Attendees: []string{"社区书记"},
			Problems:  []leaders.Problem{{Category: "MS03", Description: "重发测试：楼道堆物"}, {Category: "MS08", Description: "重发测试：路灯不亮"}}}
	}
	type counts struct{ visits, cases, items, audit int }
	count := func() counts {
		t.Helper()
		vs, err := svc.Visits(ctx, lead, store.VisitFilter{LeaderID: lead.AccountID, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		cs, err := svc.List(ctx, lead, store.CaseFilter{Reporter: lead.AccountID, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		n := len(cs)
		items := 0
		lists, err := svc.Lists(ctx, lead, store.ListFilter{OwnerID: lead.AccountID, Kind: leaders.ListLeader, At: now})
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range lists {
			its, err := p.DB.Items(ctx, l.ID)
			if err != nil {
				t.Fatal(err)
			}
			items += len(its)
		}
		log, err := p.DB.AuditLog(ctx, store.AuditFilter{Kind: "visit", Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		return counts{len(vs), n, items, len(log)}
	}
	before := count()
	first, made, err := svc.RecordVisit(ctx, lead, visit("phone-ref-1"))
	if err != nil || len(made) != 2 || len(first.CaseIDs) != 2 {
		t.Fatalf("first send: %v, %d cases", err, len(made))
	}
	after := count()
	if want := (counts{before.visits + 1, before.cases + 2, before.items + 2, before.audit + 1}); after != want {
		t.Fatalf("after the first send %+v, want %+v", after, want)
	}
	for i := 0; i < 3; i++ {
		again, _, err := svc.RecordVisit(ctx, lead, visit("phone-ref-1"))
		if err != nil || again.ID != first.ID || len(again.CaseIDs) != 2 || again.CaseIDs[0] != first.CaseIDs[0] {
			t.Fatalf("send %d again: %v, visit %s (first %s) cases %v", i+2, err, again.ID, first.ID, again.CaseIDs)
		}
		if got := count(); got != after {
			t.Fatalf("send %d again made something: %+v, want %+v", i+2, got, after)
		}
	}
	// Another reference is another visit.
	if other, _, err := svc.RecordVisit(ctx, lead, visit("phone-ref-2")); err != nil || other.ID == first.ID {
		t.Fatalf("another reference: %v, %s", err, other.ID)
	}
	if got := count(); got.visits != after.visits+1 || got.cases != after.cases+2 {
		t.Fatalf("after another reference %+v", got)
	}
	// The store keeps one visit per recorder and reference, whoever asks.
	if err := p.DB.Write(ctx, func(tx *store.Tx) error {
		dup := first
		dup.ID, dup.CaseIDs = "dup-"+first.ID, nil
		return tx.InsertVisit(ctx, dup)
	}); err == nil {
		t.Fatal("the store took a second visit with the same recorder and reference")
	}
}
