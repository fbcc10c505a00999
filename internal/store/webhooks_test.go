package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"zhizhi/internal/webhook"
)

func putSub(t *testing.T, db *DB, id, state string) {
	t.Helper()
	now := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	err := db.Write(context.Background(), func(tx *Tx) error {
		return tx.PutSubscription(context.Background(), webhook.Subscription{ID: id, Name: id, URL: "http://127.0.0.1:1/" + id,
			Events: []string{webhook.All}, RegionCode: "500103", RegionPath: "/500000/500103/", Secret: "secret-secret-" + id,
			State: state, CreatedAt: now, CreatedBy: "t", UpdatedAt: now})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func putEvents(t *testing.T, db *DB, sub string, at time.Time, evs ...[2]any) {
	t.Helper()
	err := db.Write(context.Background(), func(tx *Tx) error {
		for _, e := range evs {
			c, seq := e[0].(string), e[1].(int)
			if err := tx.PutOutbox(context.Background(), sub, c, seq, fmt.Sprintf("%s-%d", c, seq), "accept", []byte(`{}`), at); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func claimHooks(t *testing.T, db *DB, now time.Time, token string, limit int) []Delivery {
	t.Helper()
	var ds []Delivery
	err := db.Write(context.Background(), func(tx *Tx) error {
		var err error
		ds, err = tx.ClaimDeliveries(context.Background(), now, now.Add(10*time.Minute), token, limit)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func outKeys(ds []Delivery) []string {
	var out []string
	for _, d := range ds {
		out = append(out, fmt.Sprintf("%s/%s/%d", d.SubID, d.CaseID, d.Seq))
	}
	sort.Strings(out)
	return out
}

func record(t *testing.T, db *DB, a Attempt) bool {
	t.Helper()
	var held bool
	err := db.Write(context.Background(), func(tx *Tx) error {
		var err error
		held, err = tx.RecordAttempt(context.Background(), a)
		if err == nil {
			err = tx.TrimLog(context.Background(), a.SubID, 3)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return held
}

// TestOutboxClaims: the claim takes per subscription and case only the
// earliest queued event, skips paused subscriptions, leased rows and rows
// waiting for a retry; an outcome is recorded only under its claim; the
// SQL agrees with the pure rule (webhook.Ready).
func TestOutboxClaims(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		db := openTestDB(t)
		ctx := context.Background()
		t0 := time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)
		putSub(t, db, "s1", webhook.Active)
		putSub(t, db, "s2", webhook.Paused)
		putEvents(t, db, "s1", t0, [2]any{"c1", 1}, [2]any{"c1", 2}, [2]any{"c1", 3}, [2]any{"c2", 4})
		putEvents(t, db, "s2", t0, [2]any{"c1", 1})

		items, err := db.Outbox(ctx, "s1", t0)
		if err != nil {
			t.Fatal(err)
		}
		var q []webhook.Item
		for _, it := range items {
			q = append(q, it.Item)
		}
		var want []string
		for _, it := range webhook.Ready(q, t0) {
			want = append(want, fmt.Sprintf("%s/%s/%d", it.Sub, it.CaseID, it.Seq))
		}
		sort.Strings(want)
		got := claimHooks(t, db, t0, "a", 10)
		if !reflect.DeepEqual(outKeys(got), want) || !reflect.DeepEqual(want, []string{"s1/c1/1", "s1/c2/4"}) {
			t.Fatalf("claimed %v, Ready %v", outKeys(got), want)
		}
		if again := claimHooks(t, db, t0, "b", 10); len(again) != 0 {
			t.Fatalf("leased rows claimed again: %v", outKeys(again))
		}
		var c1 Delivery
		for _, d := range got {
			if d.CaseID == "c1" {
				c1 = d
			}
		}
		if c1.URL != "http://127.0.0.1:1/s1" || c1.Secret != "secret-secret-s1" || c1.EventID != "c1-1" {
			t.Fatalf("delivery %+v", c1)
		}
		// A stranger's claim token records nothing.
		stranger := Attempt{Delivery: c1, At: t0, OK: true, LogID: "l0"}
		stranger.Claim = "x"
		if record(t, db, stranger) {
			t.Fatal("an outcome under another claim was recorded")
		}
		// c1/1 fails: it waits a minute, and c1/2 waits for it.
		if !record(t, db, Attempt{Delivery: c1, At: t0, Status: 500, Error: "HTTP 500", Retry: t0.Add(time.Minute), LogID: "l1"}) {
			t.Fatal("failure not recorded")
		}
		if ds := claimHooks(t, db, t0.Add(30*time.Second), "c", 10); len(ds) != 0 {
			t.Fatalf("claimed before the retry: %v", outKeys(ds))
		}
		ds := claimHooks(t, db, t0.Add(time.Minute), "d", 10)
		if !reflect.DeepEqual(outKeys(ds), []string{"s1/c1/1"}) || ds[0].Attempts != 1 {
			t.Fatalf("retry claim %v %+v", outKeys(ds), ds)
		}
		if !record(t, db, Attempt{Delivery: ds[0], At: t0.Add(time.Minute), Status: 204, OK: true, LogID: "l2"}) {
			t.Fatal("success not recorded")
		}
		ds = claimHooks(t, db, t0.Add(time.Minute), "e", 10)
		if !reflect.DeepEqual(outKeys(ds), []string{"s1/c1/2"}) {
			t.Fatalf("after the first was delivered: %v", outKeys(ds))
		}
		for i, l := range []string{"l3", "l4"} {
			record(t, db, Attempt{Delivery: ds[0], At: t0.Add(time.Duration(2+i) * time.Minute), Status: 200, OK: true, LogID: l})
		}
		var sub webhook.Subscription
		db.Write(ctx, func(tx *Tx) error { sub, err = tx.Subscription(ctx, "s1"); return err })
		if sub.Failures != 0 || !sub.FailingSince.IsZero() || sub.LastOK.IsZero() {
			t.Fatalf("subscription after success: %+v", sub)
		}
		log, err := db.DeliveryLog(ctx, "s1", 10)
		if err != nil {
			t.Fatal(err)
		}
		// l4 was not recorded (its claim was spent by l3); the log keeps 3.
		if len(log) != 3 || log[0].ID != "l3" || log[2].ID != "l1" || log[2].OK || log[2].Status != 500 || log[2].Attempt != 1 || log[1].Attempt != 2 {
			t.Fatalf("log %+v", log)
		}
		// Pause and resume.
		var paused bool
		db.Write(ctx, func(tx *Tx) error { paused, err = tx.PauseSubscription(ctx, "s1", "failing", t0); return err })
		if !paused {
			t.Fatal("not paused")
		}
		if ds := claimHooks(t, db, t0.Add(time.Hour), "f", 10); len(ds) != 0 {
			t.Fatalf("paused subscription claimed: %v", outKeys(ds))
		}
		db.Write(ctx, func(tx *Tx) error { return tx.ResumeSubscription(ctx, "s1", t0.Add(time.Hour)) })
		if ds := claimHooks(t, db, t0.Add(time.Hour), "g", 10); !reflect.DeepEqual(outKeys(ds), []string{"s1/c1/3", "s1/c2/4"}) { // c2/4's lease ran out unrecorded: sent again
			t.Fatalf("after resume: %v", outKeys(ds))
		}
		counts, _ := db.OutboxCounts(ctx)
		if counts["s1"] != 2 || counts["s2"] != 1 {
			t.Fatalf("counts %v", counts)
		}
		if err := db.Write(ctx, func(tx *Tx) error { return tx.DeleteSubscription(ctx, "s2") }); err != nil {
			t.Fatal(err)
		}
		if counts, _ := db.OutboxCounts(ctx); counts["s2"] != 0 {
			t.Fatalf("deleted subscription's queue kept: %v", counts)
		}
	})
}

// TestOutboxTwoNodes: two handles on one database (two nodes) claim and
// record at once; every event is claimed exactly once while every attempt
// succeeds, and per case never two at a time.
func TestOutboxTwoNodes(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		dsn := testDSN(t)
		a, b := mustOpen(t, dsn), mustOpen(t, dsn)
		t0 := time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)
		putSub(t, a, "s1", webhook.Active)
		var evs [][2]any
		for c := range 60 {
			for seq := 1; seq <= 5; seq++ {
				evs = append(evs, [2]any{fmt.Sprintf("c%02d", c), seq})
			}
		}
		putEvents(t, a, "s1", t0, evs...)
		var mu sync.Mutex
		seen := map[string]int{}
		inflight := map[string]bool{}
		var wg sync.WaitGroup
		var failed error
		for n, db := range []*DB{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for round := 0; ; round++ {
					var ds []Delivery
					err := db.Write(context.Background(), func(tx *Tx) error {
						var err error
						ds, err = tx.ClaimDeliveries(context.Background(), t0, t0.Add(time.Minute), fmt.Sprintf("n%d-%d", n, round), 7)
						return err
					})
					if err != nil {
						mu.Lock()
						failed = err
						mu.Unlock()
						return
					}
					mu.Lock()
					for _, d := range ds {
						k := fmt.Sprintf("%s/%d", d.CaseID, d.Seq)
						seen[k]++
						if inflight[d.CaseID] {
							failed = fmt.Errorf("case %s: two events in flight", d.CaseID)
						}
						inflight[d.CaseID] = true
					}
					done := len(seen) == len(evs)
					mu.Unlock()
					if len(ds) == 0 && done {
						return
					}
					err = db.Write(context.Background(), func(tx *Tx) error {
						for i, d := range ds {
							mu.Lock()
							inflight[d.CaseID] = false
							mu.Unlock()
							if _, err := tx.RecordAttempt(context.Background(), Attempt{Delivery: d, At: t0, Status: 200, OK: true,
								LogID: fmt.Sprintf("%s-%d-%d", d.Claim, i, d.Seq)}); err != nil {
								return err
							}
						}
						return nil
					})
					if err != nil && !errors.Is(err, context.Canceled) {
						mu.Lock()
						failed = err
						mu.Unlock()
						return
					}
				}
			}()
		}
		wg.Wait()
		if failed != nil {
			t.Fatal(failed)
		}
		for _, e := range evs {
			if k := fmt.Sprintf("%s/%d", e[0], e[1]); seen[k] != 1 {
				t.Errorf("%s claimed %d times", k, seen[k])
			}
		}
		if n, _ := a.OutboxCounts(context.Background()); n["s1"] != 0 {
			t.Errorf("left in the outbox: %d", n["s1"])
		}
	})
}

func TestHotlineOrders(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		db := openTestDB(t)
		ctx := context.Background()
		at := time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)
		o := HotlineOrder{Number: "GD001", CaseID: "c1", KeyID: "k1", ReceivedAt: at, LimitAt: at.Add(24 * time.Hour), Doc: []byte(`{"number":"GD001"}`)}
		if err := db.Write(ctx, func(tx *Tx) error { return tx.InsertHotlineOrder(ctx, o) }); err != nil {
			t.Fatal(err)
		}
		o2 := o
		o2.CaseID = "c2"
		if err := db.Write(ctx, func(tx *Tx) error { return tx.InsertHotlineOrder(ctx, o2) }); !errors.Is(err, ErrConflict) {
			t.Fatalf("second order with the same number: %v", err)
		}
		got, err := db.HotlineOrder(ctx, "GD001")
		if err != nil || got.CaseID != "c1" || !got.LimitAt.Equal(o.LimitAt) || string(got.Doc) != string(o.Doc) {
			t.Fatalf("%+v %v", got, err)
		}
		if _, err := db.HotlineOrder(ctx, "GD002"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("missing order: %v", err)
		}
	})
}

func putHookEvents(t *testing.T, db *DB, evs ...HookEvent) {
	t.Helper()
	err := db.Write(context.Background(), func(tx *Tx) error {
		for _, e := range evs {
			if err := tx.PutHookEvent(context.Background(), e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// fanOut does what the service's fan-out does (service.fanOutHooks): claim
// up to limit events, add a delivery per subscription that takes each, and
// delete the events, in one transaction; crash makes the transaction fail
// after the deliveries were written. It returns the events it took.
func fanOut(db *DB, limit int, crash bool) ([]HookEvent, error) {
	ctx := context.Background()
	var evs []HookEvent
	err := db.Write(ctx, func(tx *Tx) error {
		var err error
		if evs, err = tx.ClaimHookEvents(ctx, limit); err != nil || len(evs) == 0 {
			return err
		}
		subs, err := tx.FanOutSubscriptions(ctx)
		if err != nil {
			return err
		}
		for _, e := range evs {
			for _, s := range webhook.Fan(subs, e.Facts, e.QueuedAt) {
				if err := tx.PutOutbox(ctx, s.ID, e.CaseID, e.Seq, e.EventID, e.Facts.Kind, e.Body, e.QueuedAt); err != nil {
					return err
				}
			}
		}
		if err := tx.DoneHookEvents(ctx, evs); err != nil {
			return err
		}
		if crash {
			return errors.New("crash")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return evs, nil
}

func hookEvent(caseID string, seq int, at time.Time) HookEvent {
	return HookEvent{CaseID: caseID, Seq: seq, EventID: fmt.Sprintf("%s-%d", caseID, seq), QueuedAt: at, Body: []byte(`{"n":1}`),
		Facts: webhook.Facts{Kind: "accept", Source: "patrol", RegionPath: "/500000/500103/500103014/", Units: []string{"u1", "u2"}}}
}

// TestHookFanOut: a case change's one event row becomes one delivery per
// subscription that takes it, with the event's ID, kind and body; a
// fan-out that fails before its commit (a crash) leaves the events as they
// were and adds no delivery; a later event of a case fanned out first (on
// another node, or queued by a clock ahead) is not sent before the earlier
// event is fanned out and delivered; a subscription created after an event
// was queued does not take it.
func TestHookFanOut(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		db := openTestDB(t)
		ctx := context.Background()
		t0 := time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)
		putSub(t, db, "s1", webhook.Active)
		putSub(t, db, "s2", webhook.Active)
		// s3 is created after the events were queued.
		err := db.Write(ctx, func(tx *Tx) error {
			return tx.PutSubscription(ctx, webhook.Subscription{ID: "s3", Name: "s3", URL: "http://127.0.0.1:1/s3", Events: []string{webhook.All},
				RegionCode: "500103", RegionPath: "/500000/500103/", Secret: "secret-secret-s3", State: webhook.Active,
				CreatedAt: t0.Add(time.Hour), CreatedBy: "t", UpdatedAt: t0.Add(time.Hour)})
		})
		if err != nil {
			t.Fatal(err)
		}
		// c1's second event was queued first (a node's clock ahead).
		putHookEvents(t, db, hookEvent("c1", 1, t0.Add(time.Second)), hookEvent("c1", 2, t0), hookEvent("c2", 1, t0.Add(2*time.Second)))
		if ev, q, err := db.HookBacklog(ctx); err != nil || ev != 3 || q != 0 {
			t.Fatalf("backlog %d events %d deliveries %v", ev, q, err)
		}

		if _, err := fanOut(db, 10, true); err == nil {
			t.Fatal("crashed fan-out committed")
		}
		if ev, q, err := db.HookBacklog(ctx); err != nil || ev != 3 || q != 0 {
			t.Fatalf("after a crashed fan-out: %d events %d deliveries %v", ev, q, err)
		}

		// One event fanned out: c1/2.
		evs, err := fanOut(db, 1, false)
		if err != nil || len(evs) != 1 || evs[0].CaseID != "c1" || evs[0].Seq != 2 {
			t.Fatalf("fanned out %+v %v", evs, err)
		}
		if !reflect.DeepEqual(evs[0].Facts, hookEvent("c1", 2, t0).Facts) || !evs[0].QueuedAt.Equal(t0) {
			t.Fatalf("event read back %+v", evs[0])
		}
		if ds := claimHooks(t, db, t0.Add(time.Minute), "a", 10); len(ds) != 0 {
			t.Fatalf("claimed before the case's earlier event was fanned out: %v", outKeys(ds))
		}
		if evs, err := fanOut(db, 10, false); err != nil || len(evs) != 2 {
			t.Fatalf("fanned out %+v %v", evs, err)
		}
		if ev, q, err := db.HookBacklog(ctx); err != nil || ev != 0 || q != 6 {
			t.Fatalf("after the fan-out: %d events %d deliveries %v", ev, q, err)
		}
		ds := claimHooks(t, db, t0.Add(time.Minute), "b", 10)
		if got := outKeys(ds); !reflect.DeepEqual(got, []string{"s1/c1/1", "s1/c2/1", "s2/c1/1", "s2/c2/1"}) {
			t.Fatalf("claimed %v", got)
		}
		for _, d := range ds {
			if d.EventID != fmt.Sprintf("%s-%d", d.CaseID, d.Seq) || d.Kind != "accept" || string(d.Body) != `{"n":1}` {
				t.Fatalf("delivery %+v", d)
			}
		}
		if counts, _ := db.OutboxCounts(ctx); counts["s3"] != 0 {
			t.Fatalf("a later subscription took earlier events: %v", counts)
		}
	})
}

// TestHookFanOutTwoNodes: two handles on one database (two nodes) fan out
// at once in small slices; every event is fanned out exactly once (a second
// fan-out of one would add its deliveries again and fail on their key, or
// count twice here).
func TestHookFanOutTwoNodes(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		dsn := testDSN(t)
		a, b := mustOpen(t, dsn), mustOpen(t, dsn)
		t0 := time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)
		putSub(t, a, "s1", webhook.Active)
		putSub(t, a, "s2", webhook.Active)
		var evs []HookEvent
		for c := range 80 {
			for seq := 1; seq <= 3; seq++ {
				evs = append(evs, hookEvent(fmt.Sprintf("c%02d", c), seq, t0.Add(time.Duration(seq)*time.Millisecond)))
			}
		}
		putHookEvents(t, a, evs...)
		var mu sync.Mutex
		taken := map[string]int{}
		perNode := [2]int{}
		var wg sync.WaitGroup
		var failed error
		for n, db := range []*DB{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					got, err := fanOut(db, 4, false)
					mu.Lock()
					if err != nil {
						failed = err
					}
					for _, e := range got {
						taken[e.EventID]++
					}
					perNode[n] += len(got)
					mu.Unlock()
					if err != nil || len(got) == 0 {
						return
					}
				}
			}()
		}
		wg.Wait()
		if failed != nil {
			t.Fatal(failed)
		}
		for _, e := range evs {
			if taken[e.EventID] != 1 {
				t.Errorf("event %s fanned out %d times", e.EventID, taken[e.EventID])
			}
		}
		if ev, q, err := a.HookBacklog(context.Background()); err != nil || ev != 0 || q != 2*len(evs) {
			t.Errorf("backlog %d events %d deliveries %v, want 0 and %d", ev, q, err, 2*len(evs))
		}
		t.Logf("fanned out by node: %v", perNode)
	})
}
