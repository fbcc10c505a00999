package store

import (
	"cmp"
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/webhook"
)

func eventKeys(evs []CursorEvent) []string {
	var out []string
	for _, e := range evs {
		out = append(out, fmt.Sprintf("%s/%d", e.CaseID, e.Seq))
	}
	return out
}

func afterCursor(t *testing.T, db *DB, c HookCursor, limit int) []CursorEvent {
	t.Helper()
	evs, err := db.HookEventsAfter(context.Background(), c, limit)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// readAfter is afterCursor once at least n events are readable. On
// PostgreSQL events are read only below the oldest transaction still
// running on the whole server, and other packages' tests run theirs beside
// these: the events of a commit may wait a moment for them.
func readAfter(t *testing.T, db *DB, c HookCursor, limit, n int) []CursorEvent {
	t.Helper()
	for end := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if evs := afterCursor(t, db, c, limit); len(evs) >= n || time.Now().After(end) {
			return evs
		}
	}
}

func advance(t *testing.T, db *DB, b CursorBatch) CursorResult {
	t.Helper()
	var r CursorResult
	err := db.Write(context.Background(), func(tx *Tx) error {
		var err error
		r, err = tx.AdvanceHookCursor(context.Background(), b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func asDelivery(e CursorEvent, sub string) Delivery {
	return Delivery{SubID: sub, CaseID: e.CaseID, Seq: e.Seq, EventID: e.EventID, Kind: e.Kind, Body: e.Body, Queued: e.QueuedAt}
}

// TestHookCursor (both engines): events are read after a cursor in commit
// order, a page at a time; a batch is recorded in one update of the
// subscription's row: the cursor moves, a failure goes to the outbox with
// its retry (and the later event of its case behind it, unsent), the run of
// failures counts it, the log keeps the failure and the batch's last
// success; a batch recorded under a token that no longer holds the lease
// writes nothing; a new subscription starts after the events readable at
// its creation; the purge keeps every event some cursor has not passed or
// an outbox row names.
func TestHookCursor(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		db, ctx, t0 := hookDB(t, "s1", "s2")
		// Three commits: c1/1; c2/1 and c1/2; c3/1.
		putHookEvents(t, db, hookEvent("c1", 1, t0))
		putHookEvents(t, db, hookEvent("c2", 1, t0), hookEvent("c1", 2, t0))
		putHookEvents(t, db, hookEvent("c3", 1, t0))
		all := readAfter(t, db, HookCursor{}, 10, 4)
		if got := eventKeys(all); !reflect.DeepEqual(got, []string{"c1/1", "c2/1", "c1/2", "c3/1"}) {
			t.Fatalf("events in commit order: %v", got)
		}
		for i := 1; i < len(all); i++ {
			if !all[i-1].At.Less(all[i].At) {
				t.Fatalf("cursors not increasing: %+v %+v", all[i-1].At, all[i].At)
			}
		}
		if got := eventKeys(afterCursor(t, db, all[0].At, 2)); !reflect.DeepEqual(got, []string{"c2/1", "c1/2"}) {
			t.Fatalf("after the first, two: %v", got)
		}
		if e := all[0]; e.EventID != "c1-1" || e.Kind != "accept" || string(e.Body) != `{"n":1}` || !e.QueuedAt.Equal(t0) ||
			!reflect.DeepEqual(e.Facts.Units, []string{"u1", "u2"}) || e.Fanned {
			t.Fatalf("event read %+v", e)
		}

		// s1's batch of the first three: c1/1 delivered, c2/1 failed, c1/2
		// delivered.
		lease := t0.Add(time.Hour)
		fail := Attempt{Delivery: asDelivery(all[1], "s1"), At: t0.Add(time.Second), Status: 500, Error: "HTTP 500", Retry: t0.Add(11 * time.Second), LogID: "f1"}
		ok1 := Attempt{Delivery: asDelivery(all[0], "s1"), At: t0, Status: 204, OK: true, LogID: "o1"}
		ok2 := Attempt{Delivery: asDelivery(all[2], "s1"), At: t0.Add(2 * time.Second), Status: 204, OK: true, LogID: "o2"}
		// Under another token: nothing written.
		if r := advance(t, db, CursorBatch{SubID: "s1", Claim: "other", To: all[2].At, Lease: lease, Sent: []Attempt{ok1, fail, ok2}, LogOK: true}); r.Held {
			t.Fatalf("recorded without the lease: %+v", r)
		}
		r := advance(t, db, CursorBatch{SubID: "s1", Claim: testLease, To: all[2].At, Lease: lease, Sent: []Attempt{ok1, fail, ok2}, LogOK: true})
		if !r.Held || r.Run.State != webhook.Active || r.Run.Failures != 0 {
			t.Fatalf("recorded %+v", r)
		}
		items, err := db.Outbox(ctx, "s1", t0)
		if err != nil || len(items) != 1 || items[0].CaseID != "c2" || items[0].Attempts != 1 || !items[0].NextAt.Equal(t0.Add(11*time.Second)) {
			t.Fatalf("s1's outbox %+v %v", items, err)
		}
		log, err := db.DeliveryLog(ctx, "s1", 10)
		if err != nil || len(log) != 2 {
			t.Fatalf("log %+v %v", log, err)
		}
		// The next batch from the new cursor: c3/1 failed, c3/2 would come
		// behind it; c2's later event waits behind its failure.
		putHookEvents(t, db, hookEvent("c2", 2, t0))
		next := readAfter(t, db, all[2].At, 10, 2)
		if got := eventKeys(next); !reflect.DeepEqual(got, []string{"c3/1", "c2/2"}) {
			t.Fatalf("after the batch: %v", got)
		}
		held, err := db.HeldCases(ctx, "s1")
		if err != nil || !reflect.DeepEqual(held, map[string]bool{"c2": true}) {
			t.Fatalf("held cases %v %v", held, err)
		}
		f3 := Attempt{Delivery: asDelivery(next[0], "s1"), At: t0.Add(3 * time.Second), Status: 0, Error: "timeout", Retry: t0.Add(13 * time.Second), LogID: "f3"}
		r = advance(t, db, CursorBatch{SubID: "s1", Claim: testLease, To: next[1].At, Lease: lease, Sent: []Attempt{f3},
			Blocked: []Delivery{asDelivery(next[1], "s1")}})
		if !r.Held || r.Run.Failures != 1 || !r.Run.FailingSince.Equal(t0.Add(3*time.Second)) {
			t.Fatalf("run %+v", r)
		}
		items, _ = db.Outbox(ctx, "s1", t0)
		var q []string
		for _, it := range items {
			q = append(q, fmt.Sprintf("%s/%d:%d", it.CaseID, it.Seq, it.Attempts))
		}
		if !reflect.DeepEqual(q, []string{"c2/1:1", "c2/2:0", "c3/1:1"}) {
			t.Fatalf("outbox %v", q)
		}
		// Due at +20 s: c2/1 and c3/1 (c2/2 waits behind c2/1).
		if got := outKeys(claimHooks(t, db, t0.Add(20*time.Second), "a", 10)); !reflect.DeepEqual(got, []string{"s1/c2/1", "s1/c3/1"}) {
			t.Fatalf("claimed %v", got)
		}
		if afterCursor(t, db, next[1].At, 10) != nil {
			t.Fatal("events after the last batch")
		}

		// The purge: s2's cursor is at the start, so nothing goes; once it
		// has passed everything, the events no outbox row names go.
		purge := func() int {
			t.Helper()
			var n int
			if err := db.Write(ctx, func(tx *Tx) error { var err error; n, err = tx.PurgeHookEvents(ctx, 100); return err }); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := purge(); n != 0 {
			t.Fatalf("purged %d with s2 at the start", n)
		}
		if r := advance(t, db, CursorBatch{SubID: "s2", Claim: testLease, To: next[1].At, Lease: lease}); !r.Held {
			t.Fatal("s2's cursor")
		}
		if n := purge(); n != 2 { // c1/1, c1/2; c2/1, c2/2, c3/1 are in the outbox
			t.Fatalf("purged %d, want 2", n)
		}
		if n, _ := db.HookEventsKept(ctx); n != 3 {
			t.Fatalf("kept %d", n)
		}

		// A subscription created now starts after every event.
		putSub(t, db, "s3", webhook.Active)
		err = db.Write(ctx, func(tx *Tx) error {
			c, err := tx.HookStart(ctx)
			if err != nil {
				return err
			}
			if c != next[1].At {
				return fmt.Errorf("start %+v, want %+v", c, next[1].At)
			}
			return tx.SetHookCursor(ctx, "s3", c)
		})
		if err != nil {
			t.Fatal(err)
		}
		if ev, q, err := db.HookBacklog(ctx); err != nil || ev != 0 || q != 3 {
			t.Fatalf("backlog %d %d %v", ev, q, err)
		}
		// Removing s1 takes its outbox rows; the purge then takes the rest.
		if err := db.Write(ctx, func(tx *Tx) error { return tx.DeleteSubscription(ctx, "s1") }); err != nil {
			t.Fatal(err)
		}
		if n := purge(); n != 3 {
			t.Fatalf("purged %d after removing s1, want 3", n)
		}
	})
}

// TestHookLeases (both engines): two nodes on one database: the first
// takes the free subscriptions, the second none while the leases hold;
// once they run out the second takes them, the first's renewal finds them
// gone and its batch is not recorded; a released lease is free at once.
func TestHookLeases(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		dsn := testDSN(t)
		a, b := mustOpen(t, dsn), mustOpen(t, dsn)
		ctx := context.Background()
		t0 := time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)
		putSub(t, a, "s1", webhook.Active)
		putSub(t, a, "s2", webhook.Active)
		putSub(t, a, "s3", webhook.Paused)
		if _, err := a.Raw().ExecContext(ctx, `UPDATE webhook_subs SET lease_claim = '', lease_until = 0`); err != nil {
			t.Fatal(err)
		}
		acquire := func(db *DB, now time.Time, token string) []string {
			t.Helper()
			var got []LeasedSub
			if err := db.Write(ctx, func(tx *Tx) error {
				var err error
				got, err = tx.AcquireHookLeases(ctx, now, now.Add(time.Minute), token, 10)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, l := range got {
				ids = append(ids, l.ID)
			}
			return ids
		}
		if free, err := a.FreeHookLeases(ctx, t0); err != nil || !free {
			t.Fatalf("free %v %v", free, err)
		}
		if got := acquire(a, t0, "A"); len(got) != 2 {
			t.Fatalf("A took %v", got)
		}
		if free, _ := b.FreeHookLeases(ctx, t0.Add(time.Second)); free {
			t.Fatal("free while A holds them")
		}
		if got := acquire(b, t0.Add(time.Second), "B"); len(got) != 0 {
			t.Fatalf("B took %v while A holds them", got)
		}
		if got := acquire(b, t0.Add(2*time.Minute), "B"); !reflect.DeepEqual(got, []string{"s1", "s2"}) {
			t.Fatalf("B took %v after the leases ran out", got)
		}
		var kept map[string]bool
		if err := a.Write(ctx, func(tx *Tx) error {
			var err error
			kept, err = tx.RenewHookLeases(ctx, t0.Add(2*time.Minute), t0.Add(3*time.Minute), "A")
			return err
		}); err != nil || len(kept) != 0 {
			t.Fatalf("A renewed %v %v", kept, err)
		}
		if r := advance(t, a, CursorBatch{SubID: "s1", Claim: "A", To: HookCursor{Pos: 5}, Lease: t0.Add(time.Hour)}); r.Held {
			t.Fatal("A recorded a batch without its lease")
		}
		if err := b.Write(ctx, func(tx *Tx) error { return tx.ReleaseHookLeases(ctx, "B", []string{"s2"}) }); err != nil {
			t.Fatal(err)
		}
		if got := acquire(a, t0.Add(2*time.Minute), "A"); !reflect.DeepEqual(got, []string{"s2"}) {
			t.Fatalf("A took %v after B let s2 go", got)
		}
	})
}

// TestHookCursorCommitOrder (PostgreSQL): an event of a transaction that
// began earlier but commits later is not skipped: no event is read while a
// transaction older than it is still running, and once it commits both are
// read, the earlier transaction's first.
func TestHookCursorCommitOrder(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		db := openTestDB(t)
		if db.Dialect != Postgres {
			t.Skip("SQLite commits one transaction after another")
		}
		ctx := context.Background()
		t0 := time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)
		ins := `INSERT INTO webhook_events (case_id, seq, event_id, kind, source, region_path, units, queued_at, body) VALUES ($1, 1, $1, 'accept', '', '', ' ', $2, '{}')`
		early, err := db.Raw().BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer early.Rollback()
		if _, err := early.ExecContext(ctx, ins, "early", ms(t0)); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Raw().ExecContext(ctx, ins, "late", ms(t0)); err != nil {
			t.Fatal(err)
		}
		if got := afterCursor(t, db, HookCursor{}, 10); got != nil {
			t.Fatalf("read %v while an older transaction runs", eventKeys(got))
		}
		if err := early.Commit(); err != nil {
			t.Fatal(err)
		}
		if got := eventKeys(readAfter(t, db, HookCursor{}, 10, 2)); !reflect.DeepEqual(got, []string{"early/1", "late/1"}) {
			t.Fatalf("read %v", got)
		}
	})
}

// TestCursorMigration (both engines): migration 34 keeps what was queued:
// the outbox rows stay with their attempts and retry times (sent from the
// outbox as before), the events not yet fanned out are read by the cursors
// (which start before them all) in the order they were queued, the
// fanned-out ones are read but marked so (no cursor sends them), and the
// subscriptions hold no lease.
func TestCursorMigration(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		db, ctx, t0 := hookDB(t, "s1")
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.Raw().ExecContext(ctx, q, args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		// Back to the layout of migration 30.
		for _, c := range []string{"cursor_pos", "lease_claim", "lease_until", "cursor_xid"} {
			exec(`ALTER TABLE webhook_subs DROP COLUMN ` + c)
		}
		exec(`DROP TABLE webhook_events`)
		exec(`CREATE TABLE webhook_events (case_id TEXT NOT NULL, seq INTEGER NOT NULL, event_id TEXT NOT NULL, kind TEXT NOT NULL,
			source TEXT NOT NULL, region_path TEXT NOT NULL, units TEXT NOT NULL, queued_at BIGINT NOT NULL, body TEXT NOT NULL,
			fanned INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (case_id, seq))`)
		exec(`CREATE INDEX webhook_events_queued ON webhook_events (queued_at) WHERE fanned = 0`)
		ev := func(c string, seq int, at time.Time, fanned int) {
			exec(`INSERT INTO webhook_events (case_id, seq, event_id, kind, source, region_path, units, queued_at, body, fanned)
				VALUES ($1, $2, $3, 'accept', 'patrol', '/500000/500103/', ' ', $4, '{}', $5)`, c, seq, fmt.Sprintf("%s-%d", c, seq), ms(at), fanned)
		}
		// Inserted out of their queued order.
		ev("c2", 1, t0.Add(3*time.Second), 0)
		ev("c1", 2, t0.Add(2*time.Second), 0)
		ev("c1", 1, t0.Add(time.Second), 1)
		exec(`INSERT INTO webhook_outbox (case_id, sub_id, seq, created_at, next_at, attempts) VALUES ('c1', 's1', 1, $1, $2, 2)`,
			ms(t0.Add(time.Second)), ms(t0.Add(time.Minute)))

		m := migrations[34]
		extra := m.sqlite
		if db.Dialect == Postgres {
			extra = m.postgres
		}
		for _, stmt := range splitSQL(m.common + extra) {
			exec(stmt)
		}

		evs := readAfter(t, db, HookCursor{}, 10, 3)
		if got := eventKeys(evs); !reflect.DeepEqual(got, []string{"c1/1", "c1/2", "c2/1"}) {
			t.Fatalf("events after the migration %v", got)
		}
		if !evs[0].Fanned || evs[1].Fanned || evs[2].Fanned {
			t.Fatalf("fanned %v %v %v", evs[0].Fanned, evs[1].Fanned, evs[2].Fanned)
		}
		items, err := db.Outbox(ctx, "s1", t0)
		if err != nil || len(items) != 1 || items[0].Attempts != 2 || !items[0].NextAt.Equal(t0.Add(time.Minute)) {
			t.Fatalf("outbox %+v %v", items, err)
		}
		if held, _ := db.HeldCases(ctx, "s1"); !held["c1"] {
			t.Fatal("c1's later event does not wait behind its queued delivery")
		}
		if ev, q, err := db.HookBacklog(ctx); err != nil || ev != 2 || q != 1 {
			t.Fatalf("backlog %d %d %v", ev, q, err)
		}
		if free, err := db.FreeHookLeases(ctx, t0); err != nil || !free {
			t.Fatalf("free %v %v", free, err)
		}
		// New events come after the migrated ones.
		putHookEvents(t, db, hookEvent("c3", 1, t0))
		if got := eventKeys(readAfter(t, db, evs[2].At, 10, 1)); !reflect.DeepEqual(got, []string{"c3/1"}) {
			t.Fatalf("after the migrated events %v", got)
		}
	})
}

// TestPurgeBound (both engines): the purge takes, oldest first and up to
// its limit, the events at or before the lowest cursor that no outbox row
// names, and the events of migration 34 (fanned) wherever they lie; a
// cursor behind keeps every later event; with no subscription every event
// no outbox row names goes.
func TestPurgeBound(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		db, ctx, t0 := hookDB(t, "s1", "s2")
		for i := 1; i <= 8; i++ {
			putHookEvents(t, db, hookEvent(fmt.Sprintf("c%d", i), 1, t0))
		}
		all := readAfter(t, db, HookCursor{}, 10, 8)
		if len(all) != 8 {
			t.Fatalf("%d events", len(all))
		}
		// s1 has passed c1..c5, s2 c1..c3; c2 waits in s1's outbox; c7 was
		// queued before migration 34.
		if r := advance(t, db, CursorBatch{SubID: "s1", Claim: testLease, To: all[4].At, Lease: t0.Add(time.Hour)}); !r.Held {
			t.Fatal("s1's cursor")
		}
		if r := advance(t, db, CursorBatch{SubID: "s2", Claim: testLease, To: all[2].At, Lease: t0.Add(time.Hour)}); !r.Held {
			t.Fatal("s2's cursor")
		}
		if err := db.Write(ctx, func(tx *Tx) error {
			if err := tx.PutOutbox(ctx, "s1", "c2", 1, t0); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `UPDATE webhook_events SET fanned = 1 WHERE case_id = 'c7'`)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		purge := func(limit int) int {
			t.Helper()
			var n int
			if err := db.Write(ctx, func(tx *Tx) error { var err error; n, err = tx.PurgeHookEvents(ctx, limit); return err }); err != nil {
				t.Fatal(err)
			}
			return n
		}
		kept := func() []string {
			t.Helper()
			var out []string
			for _, e := range afterCursor(t, db, HookCursor{}, 20) {
				out = append(out, e.CaseID)
			}
			return out
		}
		if n := purge(1); n != 1 || !reflect.DeepEqual(kept(), []string{"c2", "c3", "c4", "c5", "c6", "c7", "c8"}) {
			t.Fatalf("purged %d, kept %v; want c1 alone to go", n, kept())
		}
		if n := purge(100); n != 2 || !reflect.DeepEqual(kept(), []string{"c2", "c4", "c5", "c6", "c8"}) {
			t.Fatalf("purged %d, kept %v; want c3 and the fanned c7 to go", n, kept())
		}
		if n := purge(100); n != 0 {
			t.Fatalf("purged %d more", n)
		}
		for _, id := range []string{"s1", "s2"} {
			if err := db.Write(ctx, func(tx *Tx) error { return tx.DeleteSubscription(ctx, id) }); err != nil {
				t.Fatal(err)
			}
		}
		// s1's outbox row went with it.
		if n := purge(100); n != 5 || kept() != nil {
			t.Fatalf("purged %d with no subscription, kept %v", n, kept())
		}
	})
}

// TestQueuedCountsBound: a subscription's queue is counted exactly up to
// the limit and stops just past it, its events after the cursor and its
// outbox rows each; the fanned events are not counted.
func TestQueuedCountsBound(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		db, ctx, t0 := hookDB(t, "s1", "s2", "s3")
		for i := 1; i <= 8; i++ {
			putHookEvents(t, db, hookEvent(fmt.Sprintf("c%d", i), 1, t0))
		}
		all := readAfter(t, db, HookCursor{}, 10, 8)
		// s1 has passed c1..c5 and holds c2 and c3 in its outbox; s2 has
		// passed all; s3 none; c7 was queued before migration 34.
		if r := advance(t, db, CursorBatch{SubID: "s1", Claim: testLease, To: all[4].At, Lease: t0.Add(time.Hour)}); !r.Held {
			t.Fatal("s1's cursor")
		}
		if r := advance(t, db, CursorBatch{SubID: "s2", Claim: testLease, To: all[7].At, Lease: t0.Add(time.Hour)}); !r.Held {
			t.Fatal("s2's cursor")
		}
		if err := db.Write(ctx, func(tx *Tx) error {
			for _, c := range []string{"c2", "c3"} {
				if err := tx.PutOutbox(ctx, "s1", c, 1, t0); err != nil {
					return err
				}
			}
			_, err := tx.Exec(ctx, `UPDATE webhook_events SET fanned = 1 WHERE case_id = 'c7'`)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			limit int
			want  map[string]int
		}{
			{100, map[string]int{"s1": 2 + 2, "s2": 0, "s3": 7}},
			{7, map[string]int{"s1": 4, "s2": 0, "s3": 7}},
			{6, map[string]int{"s1": 4, "s2": 0, "s3": 7}}, // 7 events: counted to 6+1, above the limit
			{3, map[string]int{"s1": 4, "s2": 0, "s3": 4}},
			{1, map[string]int{"s1": 4, "s2": 0, "s3": 2}}, // each part stops at 2
			{0, map[string]int{"s1": 2, "s2": 0, "s3": 1}},
		} {
			got, err := db.QueuedCounts(ctx, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("limit %d: %v, want %v", tc.limit, got, tc.want)
			}
		}
	})
}

// TestHookPlans (SQLite): with planner statistics of a large events table
// and an empty outbox (ANALYZE writes none for an empty table), the
// outbox's claim (and the console's queue) walks the outbox, not the
// events, and the purge walks
// the events only up to the lowest cursor (and the fanned ones through
// their own index). Both run on the writer every second or so.
func TestHookPlans(t *testing.T) {
	db := openTestDB(t)
	if db.Dialect != SQLite {
		t.Skip("SQLite's plans")
	}
	ctx := context.Background()
	putSub(t, db, "s1", webhook.Active)
	if _, err := db.write.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
		INSERT INTO webhook_events (case_id, seq, event_id, kind, source, region_path, units, queued_at, body)
		SELECT printf('c%06d', i), 1, printf('e%06d', i), 'report', 'patrol', '/500000/', ' ', i, '{}' FROM n`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.write.ExecContext(ctx, `ANALYZE`); err != nil {
		t.Fatal(err)
	}
	plan := func(q string, args ...any) string {
		t.Helper()
		return strings.Join(sqlitePlan(t, db.write, q, args...), "\n")
	}
	if p := plan(sqlClaimLite, 1, 2, "claim", 10, testLease); strings.Contains(p, "SCAN ev") || strings.Contains(p, "SCAN e ") ||
		!strings.Contains(p, "webhook_outbox_due") {
		t.Errorf("the claim walks the events:\n%s", p)
	}
	if p := plan(sqlOutbox, "s1"); strings.Contains(p, "SCAN e") {
		t.Errorf("the console's queue walks the events:\n%s", p)
	}
	for _, tc := range []struct{ cond, want string }{
		{"e.pos <= $2", "SEARCH e USING INTEGER PRIMARY KEY (rowid<?)"},
		{"e.fanned = 1", "e USING INDEX webhook_events_fanned"},
	} {
		if p := plan(sqlPurgeEvents(SQLite, tc.cond), 100, 50); !strings.Contains(p, tc.want) {
			t.Errorf("the purge of %s does not %s:\n%s", tc.cond, tc.want, p)
		}
	}
}

// TestHookCursorCompare: Compare orders by transaction, then position, and
// Less agrees with it.
func TestHookCursorCompare(t *testing.T) {
	t.Parallel()
	cs := []HookCursor{{}, {Pos: 1}, {Pos: 9}, {X: 7, Pos: 0}, {X: 7, Pos: 3}, {X: 9, Pos: 1}}
	for i, a := range cs {
		for j, b := range cs {
			want := cmp.Compare(i, j)
			if got := a.Compare(b); got != want {
				t.Errorf("%+v.Compare(%+v) = %d, want %d", a, b, got, want)
			}
			if a.Less(b) != (want < 0) {
				t.Errorf("%+v.Less(%+v) = %v", a, b, a.Less(b))
			}
		}
	}
}
