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

// testLease is the lease token under which the tests claim the outbox.
const testLease = "L"

// putSub stores a subscription of the district for every event, its
// deliveries held by the tests' node.
func putSub(t testing.TB, db *DB, id, state string) {
	t.Helper()
	now := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	err := db.Write(context.Background(), func(tx *Tx) error {
		if err := tx.PutSubscription(context.Background(), webhook.Subscription{ID: id, Name: id, URL: "http://127.0.0.1:1/" + id,
			Events: []string{webhook.All}, RegionCode: "500103", RegionPath: "/500000/500103/", Secret: "secret-secret-" + id,
			State: state, CreatedAt: now, CreatedBy: "t", UpdatedAt: now}); err != nil {
			return err
		}
		// The tests' node holds its deliveries (lease token testLease).
		_, err := tx.Exec(context.Background(), `UPDATE webhook_subs SET lease_claim = $2, lease_until = $3 WHERE id = $1`, id, testLease, ms(now.Add(24*time.Hour)))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// hookDB opens a test database of the current engine with an active
// subscription of each ID (putSub) and returns it with the webhook tests'
// time.
func hookDB(t *testing.T, subs ...string) (*DB, context.Context, time.Time) {
	t.Helper()
	db := openTestDB(t)
	for _, id := range subs {
		putSub(t, db, id, webhook.Active)
	}
	return db, context.Background(), time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)
}

// putEvents queues events for one subscription as the fan-out leaves them:
// the event (fanned, with its body) and the subscription's delivery. An
// event queued already (for another subscription) is kept.
func putEvents(t *testing.T, db *DB, sub string, at time.Time, evs ...[2]any) {
	t.Helper()
	ctx := context.Background()
	err := db.Write(ctx, func(tx *Tx) error {
		for _, e := range evs {
			c, seq := e[0].(string), e[1].(int)
			if _, err := tx.Exec(ctx, `INSERT INTO webhook_events (case_id, seq, event_id, kind, source, region_path, units, queued_at, body, fanned)
				VALUES ($1, $2, $3, 'accept', 'patrol', '/500000/500103/', ' ', $4, '{}', 1) ON CONFLICT DO NOTHING`,
				c, seq, fmt.Sprintf("%s-%d", c, seq), ms(at)); err != nil {
				return err
			}
			if err := tx.PutOutbox(ctx, sub, c, seq, at); err != nil {
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
		ds, err = tx.ClaimDeliveries(context.Background(), now, now.Add(10*time.Minute), token, testLease, limit)
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
		db, ctx, t0 := hookDB(t, "s1")
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
		// l4 was not recorded (its claim was spent by l3).
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
		// Resumed, it is free: no node's claim takes its rows until one
		// holds it again.
		if ds := claimHooks(t, db, t0.Add(time.Hour), "g0", 10); len(ds) != 0 {
			t.Fatalf("claimed without the lease: %v", outKeys(ds))
		}
		if err := db.Write(ctx, func(tx *Tx) error {
			_, err := tx.AcquireHookLeases(ctx, t0.Add(time.Hour), t0.Add(2*time.Hour), testLease, 10)
			return err
		}); err != nil {
			t.Fatal(err)
		}
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
						ds, err = tx.ClaimDeliveries(context.Background(), t0, t0.Add(time.Minute), fmt.Sprintf("n%d-%d", n, round), testLease, 7)
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

func hookEvent(caseID string, seq int, at time.Time) HookEvent {
	return HookEvent{CaseID: caseID, Seq: seq, EventID: fmt.Sprintf("%s-%d", caseID, seq), QueuedAt: at, Body: []byte(`{"n":1}`),
		Facts: webhook.Facts{Kind: "accept", Source: "patrol", RegionPath: "/500000/500103/500103014/", Units: []string{"u1", "u2"}}}
}

// recordBatch records outcomes in one transaction.
func recordBatch(t *testing.T, db *DB, as []Attempt) ([]bool, []SubRun) {
	t.Helper()
	var held []bool
	var runs []SubRun
	err := db.Write(context.Background(), func(tx *Tx) error {
		var err error
		held, runs, err = tx.RecordAttempts(context.Background(), as)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return held, runs
}

// TestRecordAttemptsMixed: one batch with a 2xx, a 5xx, a timeout (no
// answer), an outcome under a spent claim and the same delivery twice,
// over two subscriptions, records each as if recorded one by one: the
// delivered rows leave the outbox, the failed ones wait for their retry
// with one more attempt, the stranger's changes nothing; each
// subscription's run of failures and last success follow the batch's
// order; the held attempts are logged with their status and error.
func TestRecordAttemptsMixed(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		db, ctx, t0 := hookDB(t, "s1", "s2")
		putEvents(t, db, "s1", t0, [2]any{"c1", 1}, [2]any{"c2", 1}, [2]any{"c3", 1}, [2]any{"c4", 1})
		putEvents(t, db, "s2", t0, [2]any{"c1", 1}, [2]any{"c2", 1})
		ds := claimHooks(t, db, t0, "a", 10)
		if len(ds) != 6 {
			t.Fatalf("claimed %v", outKeys(ds))
		}
		by := map[string]Delivery{}
		for _, d := range ds {
			by[d.SubID+"/"+d.CaseID] = d
		}
		sec := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }
		stranger := by["s1/c4"]
		stranger.Claim = "x"
		batch := []Attempt{
			{Delivery: by["s1/c1"], At: sec(1), Status: 204, OK: true, LogID: "l1", Node: "n1", Duration: 3 * time.Millisecond},
			{Delivery: by["s2/c1"], At: sec(1), Status: 503, Error: "HTTP 503", Response: "busy", Retry: sec(30), LogID: "l2", Node: "n1"},
			{Delivery: by["s1/c2"], At: sec(2), Status: 500, Error: "HTTP 500", Retry: sec(12), LogID: "l3", Node: "n1"},
			{Delivery: by["s2/c2"], At: sec(2), Status: 200, OK: true, LogID: "l4", Node: "n1"},
			{Delivery: by["s1/c3"], At: sec(3), Error: "context deadline exceeded (Client.Timeout exceeded while awaiting headers)",
				Retry: sec(13), LogID: "l5", Node: "n1", Duration: 10 * time.Second},
			{Delivery: stranger, At: sec(3), OK: true, Status: 204, LogID: "l6", Node: "n1"},
			// The same delivery again (already recorded above): not held.
			{Delivery: by["s1/c1"], At: sec(4), Status: 204, OK: true, LogID: "l7", Node: "n1"},
		}
		held, runs := recordBatch(t, db, batch)
		if want := []bool{true, true, true, true, true, false, false}; !reflect.DeepEqual(held, want) {
			t.Fatalf("held %v, want %v", held, want)
		}
		wantRuns := []SubRun{{ID: "s1", State: webhook.Active, Failures: 2, FailingSince: sec(2)}, {ID: "s2", State: webhook.Active}}
		if !reflect.DeepEqual(runs, wantRuns) {
			t.Fatalf("runs %+v, want %+v", runs, wantRuns)
		}
		var s1, s2 webhook.Subscription
		db.Write(ctx, func(tx *Tx) error {
			s1, _ = tx.Subscription(ctx, "s1")
			s2, _ = tx.Subscription(ctx, "s2")
			return nil
		})
		if s1.Failures != 2 || !s1.FailingSince.Equal(sec(2)) || !s1.LastOK.Equal(sec(1)) {
			t.Errorf("s1 %d failures since %v, last ok %v", s1.Failures, s1.FailingSince, s1.LastOK)
		}
		if s2.Failures != 0 || !s2.FailingSince.IsZero() || !s2.LastOK.Equal(sec(2)) {
			t.Errorf("s2 %d failures since %v, last ok %v", s2.Failures, s2.FailingSince, s2.LastOK)
		}
		type row struct {
			Case     string
			Attempts int
			NextAt   time.Time
			Leased   bool
		}
		outbox := func(sub string) []row {
			items, err := db.Outbox(ctx, sub, sec(5))
			if err != nil {
				t.Fatal(err)
			}
			var out []row
			for _, it := range items {
				out = append(out, row{it.CaseID, it.Attempts, it.NextAt, it.Leased})
			}
			return out
		}
		if got, want := outbox("s1"), []row{{"c2", 1, sec(12), false}, {"c3", 1, sec(13), false}, {"c4", 0, t0, true}}; !reflect.DeepEqual(got, want) {
			t.Errorf("s1 outbox %+v, want %+v", got, want)
		}
		if got, want := outbox("s2"), []row{{"c1", 1, sec(30), false}}; !reflect.DeepEqual(got, want) {
			t.Errorf("s2 outbox %+v, want %+v", got, want)
		}
		type entry struct {
			ID, Case string
			Status   int
			OK       bool
			Error    string
			Attempt  int
			Duration int64
			Response string
		}
		logOf := func(sub string) []entry {
			log, err := db.DeliveryLog(ctx, sub, 10)
			if err != nil {
				t.Fatal(err)
			}
			var out []entry
			for _, e := range log {
				out = append(out, entry{e.ID, e.CaseID, e.Status, e.OK, e.Error, e.Attempt, e.DurationMs, e.Response})
			}
			return out
		}
		if got, want := logOf("s1"), []entry{
			{"l5", "c3", 0, false, batch[4].Error, 1, 10000, ""},
			{"l3", "c2", 500, false, "HTTP 500", 1, 0, ""},
			{"l1", "c1", 204, true, "", 1, 3, ""},
		}; !reflect.DeepEqual(got, want) {
			t.Errorf("s1 log %+v, want %+v", got, want)
		}
		if got, want := logOf("s2"), []entry{{"l4", "c2", 200, true, "", 1, 0, ""}, {"l2", "c1", 503, false, "HTTP 503", 1, 0, "busy"}}; !reflect.DeepEqual(got, want) {
			t.Errorf("s2 log %+v, want %+v", got, want)
		}
		// A later batch of failures only extends s1's run (its start kept).
		ds = claimHooks(t, db, sec(12), "b", 10)
		if !reflect.DeepEqual(outKeys(ds), []string{"s1/c2/1"}) || ds[0].Attempts != 1 {
			t.Fatalf("retry claim %v", outKeys(ds))
		}
		_, runs = recordBatch(t, db, []Attempt{{Delivery: ds[0], At: sec(20), Status: 502, Error: "HTTP 502", Retry: sec(40), LogID: "l8"}})
		if want := []SubRun{{ID: "s1", State: webhook.Active, Failures: 3, FailingSince: sec(2)}}; !reflect.DeepEqual(runs, want) {
			t.Fatalf("runs %+v, want %+v", runs, want)
		}
		if log := logOf("s1"); log[0].ID != "l8" || log[0].Attempt != 2 {
			t.Errorf("retry logged %+v", log[0])
		}
	})
}

// TestDeliveryLogRing: a subscription's log keeps its latest LogKeep
// attempts, newest first, whether they come in one batch larger than the
// ring or in many small ones; another subscription's log is its own.
func TestDeliveryLogRing(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		db, ctx, t0 := hookDB(t, "s1", "s2")
		var evs [][2]any
		for c := range 240 {
			evs = append(evs, [2]any{fmt.Sprintf("c%03d", c), 1})
		}
		putEvents(t, db, "s1", t0, evs...)
		putEvents(t, db, "s2", t0, evs[:3]...)
		n := 0
		var mine []int // the attempts made on s1, in order
		record := func(ds []Delivery) {
			var as []Attempt
			for _, d := range ds {
				n++
				if d.SubID == "s1" {
					mine = append(mine, n)
				}
				as = append(as, Attempt{Delivery: d, At: t0, Status: 200 + n%2, OK: true, LogID: fmt.Sprintf("l%04d", n)})
			}
			held, _ := recordBatch(t, db, as)
			for i, h := range held {
				if !h {
					t.Fatalf("attempt %d not held", i)
				}
			}
		}
		check := func(what string) {
			t.Helper()
			log, err := db.DeliveryLog(ctx, "s1", 1000)
			if err != nil {
				t.Fatal(err)
			}
			if len(log) != LogKeep {
				t.Fatalf("%s: %d entries", what, len(log))
			}
			for i, e := range log {
				k := mine[len(mine)-1-i] // newest first: the latest attempts made on s1
				if want := fmt.Sprintf("l%04d", k); e.ID != want || e.Status != 200+k%2 {
					t.Fatalf("%s: entry %d is %s (%d), want %s", what, i, e.ID, e.Status, want)
				}
			}
		}
		// 130 of s1 in one batch, then the rest (and s2's three) in batches of 7.
		ds := claimHooks(t, db, t0, "b", 130)
		if len(ds) != 130 {
			t.Fatalf("claimed %d", len(ds))
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i].CaseID < ds[j].CaseID })
		record(ds)
		check("after a batch of 130")
		for round := 0; ; round++ {
			ds := claimHooks(t, db, t0, fmt.Sprintf("c%d", round), 7)
			if len(ds) == 0 {
				break
			}
			record(ds)
		}
		check("after batches of 7")
		if log, err := db.DeliveryLog(ctx, "s2", 1000); err != nil || len(log) != 3 {
			t.Fatalf("s2's log: %d entries, %v", len(log), err)
		}
	})
}

// TestLogRingMigration: migration 25 moves each subscription's latest
// LogKeep log entries into the ring, the newest in the last slot, so the
// next attempt overwrites the oldest kept.
func TestLogRingMigration(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		db, ctx, t0 := hookDB(t, "s1", "s2")
		// Back to the log of migration 18, with 105 entries of s1 and 2 of s2.
		if _, err := db.Raw().ExecContext(ctx, `ALTER TABLE webhook_subs DROP COLUMN log_seq`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Raw().ExecContext(ctx, `DROP TABLE webhook_log`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Raw().ExecContext(ctx, `CREATE TABLE webhook_log (id TEXT PRIMARY KEY, sub_id TEXT NOT NULL, event_id TEXT NOT NULL,
			case_id TEXT NOT NULL, kind TEXT NOT NULL, attempt INTEGER NOT NULL, at BIGINT NOT NULL, status INTEGER NOT NULL, ok INTEGER NOT NULL,
			error TEXT NOT NULL, response TEXT NOT NULL, duration_ms BIGINT NOT NULL, node TEXT NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		add := func(sub string, i int) {
			if _, err := db.Raw().ExecContext(ctx, `INSERT INTO webhook_log (id, sub_id, event_id, case_id, kind, attempt, at, status, ok, error, response, duration_ms, node)
				VALUES ($1, $2, 'e', 'c', 'accept', 1, $3, 200, 1, '', '', 1, 'n')`, fmt.Sprintf("%s-%04d", sub, i), sub, ms(t0)); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 105 {
			add("s1", i)
		}
		add("s2", 0)
		add("s2", 1)
		if _, err := db.Raw().ExecContext(ctx, migrations[25].common); err != nil {
			t.Fatal(err)
		}
		ids := func(sub string) []string {
			log, err := db.DeliveryLog(ctx, sub, 1000)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, e := range log {
				out = append(out, e.ID)
			}
			return out
		}
		if got := ids("s1"); len(got) != LogKeep || got[0] != "s1-0104" || got[LogKeep-1] != "s1-0005" {
			t.Fatalf("s1's log after the migration: %d entries, %v … %v", len(got), got[:1], got[len(got)-1:])
		}
		if got := ids("s2"); !reflect.DeepEqual(got, []string{"s2-0001", "s2-0000"}) {
			t.Fatalf("s2's log after the migration: %v", got)
		}
		putEvents(t, db, "s1", t0, [2]any{"c1", 1})
		putEvents(t, db, "s2", t0, [2]any{"c1", 1})
		var as []Attempt
		for _, d := range claimHooks(t, db, t0, "a", 10) {
			as = append(as, Attempt{Delivery: d, At: t0, Status: 204, OK: true, LogID: d.SubID + "-new"})
		}
		recordBatch(t, db, as)
		if got := ids("s1"); len(got) != LogKeep || got[0] != "s1-new" || got[1] != "s1-0104" || got[LogKeep-1] != "s1-0006" {
			t.Fatalf("s1's log after one more: %d entries, %v … %v", len(got), got[:2], got[len(got)-1:])
		}
		if got := ids("s2"); !reflect.DeepEqual(got, []string{"s2-new", "s2-0001", "s2-0000"}) {
			t.Fatalf("s2's log after one more: %v", got)
		}
	})
}

// TestNarrowOutboxMigration: migration 30 moves the outbox of migration 22
// (a body in every subscription's row) to narrow rows: each queued event's
// body once, in a fanned event; the deliveries keep their attempts, retry
// time and lease; an event still waiting for the fan-out stays as it was;
// the deliveries are claimed with their bodies and the events go with
// their last delivery.
func TestNarrowOutboxMigration(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		db, ctx, t0 := hookDB(t, "s1", "s2")
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.Raw().ExecContext(ctx, q, args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		// Back to the layout of migrations 18 and 22.
		exec(`DROP TABLE webhook_outbox`)
		exec(`DROP INDEX IF EXISTS webhook_events_queued`)
		exec(`DROP INDEX webhook_events_fanned`) // migration 41
		exec(`ALTER TABLE webhook_events DROP COLUMN fanned`)
		exec(`CREATE INDEX webhook_events_queued ON webhook_events (queued_at)`)
		exec(`CREATE TABLE webhook_outbox (sub_id TEXT NOT NULL, case_id TEXT NOT NULL, seq INTEGER NOT NULL, event_id TEXT NOT NULL,
			kind TEXT NOT NULL, body TEXT NOT NULL, created_at BIGINT NOT NULL, next_at BIGINT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
			lease_until BIGINT NOT NULL DEFAULT 0, claim TEXT NOT NULL DEFAULT '', PRIMARY KEY (sub_id, case_id, seq))`)
		exec(`CREATE INDEX webhook_outbox_due ON webhook_outbox (next_at, sub_id, case_id)`)
		old := func(sub, c string, seq int, kind, body string, next time.Time, attempts int, lease time.Time, claim string) {
			exec(`INSERT INTO webhook_outbox (sub_id, case_id, seq, event_id, kind, body, created_at, next_at, attempts, lease_until, claim)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, sub, c, seq, fmt.Sprintf("%s-%d", c, seq), kind, body, ms(t0), ms(next),
				attempts, zeroMs(lease), claim)
		}
		old("s1", "c1", 1, "report", `{"c":"c1","s":1}`, t0, 0, time.Time{}, "")
		old("s2", "c1", 1, "report", `{"c":"c1","s":1}`, t0.Add(time.Minute), 2, time.Time{}, "")
		old("s1", "c1", 2, "accept", `{"c":"c1","s":2}`, t0, 0, time.Time{}, "")
		old("s2", "c2", 1, "report", `{"c":"c2","s":1}`, t0, 0, t0.Add(time.Hour), "n1:x")
		exec(`INSERT INTO webhook_events (case_id, seq, event_id, kind, source, region_path, units, queued_at, body)
			VALUES ('c3', 1, 'c3-1', 'report', 'patrol', '/500000/500103/', ' ', $1, '{"c":"c3"}')`, ms(t0))

		m := migrations[30]
		extra := m.sqlite
		if db.Dialect == Postgres {
			extra = m.postgres
		}
		for _, stmt := range splitSQL(m.common + extra) {
			exec(stmt)
		}

		if ev, q, err := db.HookBacklog(ctx); err != nil || ev != 1 || q != 4 {
			t.Fatalf("after the migration: %d events %d deliveries %v", ev, q, err)
		}
		if n, err := db.HookEventsKept(ctx); err != nil || n != 4 {
			t.Fatalf("events kept: %d %v, want 4 (c1/1, c1/2, c2/1 fanned, c3/1 waiting)", n, err)
		}
		items, err := db.Outbox(ctx, "s2", t0)
		if err != nil || len(items) != 2 || items[0].Attempts != 2 || !items[0].NextAt.Equal(t0.Add(time.Minute)) || items[0].EventID != "c1-1" ||
			!items[1].Leased || items[1].EventID != "c2-1" {
			t.Fatalf("s2's queue %+v %v", items, err)
		}
		// Due now: s1's c1/1 only (c1/2 waits behind it; s2's c1/1 waits
		// for its retry, its c2/1 is leased).
		ds := claimHooks(t, db, t0, "a", 10)
		if got := outKeys(ds); !reflect.DeepEqual(got, []string{"s1/c1/1"}) || string(ds[0].Body) != `{"c":"c1","s":1}` || ds[0].Kind != "report" {
			t.Fatalf("claimed %v %+v", got, ds)
		}
		recordBatch(t, db, []Attempt{{Delivery: ds[0], At: t0, Status: 204, OK: true, LogID: "l1"}})
		ds = claimHooks(t, db, t0.Add(2*time.Hour), "b", 10)
		if got := outKeys(ds); !reflect.DeepEqual(got, []string{"s1/c1/2", "s2/c1/1", "s2/c2/1"}) {
			t.Fatalf("claimed %v", got)
		}
		var as []Attempt
		for _, d := range ds {
			if want := fmt.Sprintf(`{"c":"%s","s":%d}`, d.CaseID, d.Seq); string(d.Body) != want {
				t.Fatalf("body of %s/%s/%d: %s", d.SubID, d.CaseID, d.Seq, d.Body)
			}
			if d.SubID == "s2" && d.CaseID == "c1" && d.Attempts != 2 {
				t.Fatalf("attempts %d", d.Attempts)
			}
			as = append(as, Attempt{Delivery: d, At: t0.Add(2 * time.Hour), Status: 204, OK: true, LogID: "m-" + d.SubID + d.CaseID})
		}
		recordBatch(t, db, as)
		if _, err := db.PurgeHistory(ctx, "0", 100); err != nil {
			t.Fatal(err)
		}
		if n, err := db.HookEventsKept(ctx); err != nil || n != 1 {
			t.Fatalf("events kept after every delivery: %d %v, want c3's", n, err)
		}
	})
}
