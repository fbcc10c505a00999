package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"zhizhi/internal/id"
	"zhizhi/internal/notify"
)

// TestPurgeHistory (both engines): history older than the bound goes, in
// batches; unread notifications, pending deliveries, events not fanned out
// and anything newer stay.
func TestPurgeHistory(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		db := openTestDB(t)
		ctx := context.Background()
		now := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
		old, recent := now.Add(-100*24*time.Hour), now.Add(-10*24*time.Hour)
		e := notify.Event{Kind: notify.Dispatched, Title: "派遣", At: old}
		want := map[string]bool{} // id → kept
		err := db.Write(ctx, func(tx *Tx) error {
			notif := func(at time.Time, read bool, keep bool) error {
				nid := id.At(at)
				want["n "+nid] = keep
				if _, err := tx.InsertNotification(ctx, Notification{ID: nid, AccountID: "u1", EventID: "E" + nid, Kind: notify.Dispatched, Title: "派遣", At: at}); err != nil {
					return err
				}
				if read {
					return tx.MarkRead(ctx, "u1", nid, at.Add(time.Hour))
				}
				return nil
			}
			for range 5 { // more than a batch
				if err := notif(old, true, false); err != nil {
					return err
				}
			}
			if err := notif(old, false, true); err != nil { // unread: kept
				return err
			}
			if err := notif(recent, true, true); err != nil {
				return err
			}
			deliv := func(at time.Time, state string, keep bool) error {
				did := id.At(at)
				want["d "+did] = keep
				if err := tx.InsertNotifyDelivery(ctx, NotifyDelivery{ID: did, EventID: "E" + did, Channel: notify.SMS, Target: "13900000001", NextAt: at, Event: e}); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, `UPDATE notify_deliveries SET state = $1 WHERE id = $2`, state, did)
				return err
			}
			for _, d := range []struct {
				at    time.Time
				state string
				keep  bool
			}{{old, "sent", false}, {old, "failed", false}, {old, "pending", true}, {recent, "sent", true}} {
				if err := deliv(d.at, d.state, d.keep); err != nil {
					return err
				}
			}
			for i, ev := range []struct {
				at     time.Time
				fanned int
				keep   bool
			}{{old, 1, false}, {old, 0, true}, {recent, 1, true}} {
				eid := id.At(ev.at)
				want["e "+eid] = ev.keep
				if _, err := tx.Exec(ctx, `INSERT INTO notify_events (id, case_id, at, fanned, doc) VALUES ($1, '', $2, $3, '{}')`, eid, ms(ev.at), ev.fanned); err != nil {
					return fmt.Errorf("event %d: %w", i, err)
				}
			}
			for slot, l := range []struct {
				at   time.Time
				keep bool
			}{{old, false}, {old, false}, {old, false}, {recent, true}} {
				lid := id.At(l.at)
				want["w "+lid] = l.keep
				if _, err := tx.Exec(ctx, `INSERT INTO webhook_log (sub_id, slot, id, event_id, case_id, kind, attempt, at, status, ok, error, response, duration_ms, node)
					VALUES ('s', $3, $1, 'e', 'c', 'accept', 1, $2, 200, 1, '', '', 1, 'n')`, lid, ms(l.at), slot); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.PurgeHistory(ctx, id.At(now.Add(-90*24*time.Hour)), 2)
		if err != nil {
			t.Fatal(err)
		}
		if got != (HistoryPurged{Notifications: 5, Deliveries: 2, Events: 1, WebhookLog: 3}) {
			t.Errorf("purged %+v", got)
		}
		tables := map[byte]string{'n': "notifications", 'd': "notify_deliveries", 'e': "notify_events", 'w': "webhook_log"}
		for k, keep := range want {
			var n int
			if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+tables[k[0]]+` WHERE id = $1`, k[2:]).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if (n == 1) != keep {
				t.Errorf("%s: %d rows, kept %v", k, n, keep)
			}
		}
		if again, err := db.PurgeHistory(ctx, id.At(now.Add(-90*24*time.Hour)), 2); err != nil || again.Total() != 0 {
			t.Errorf("second purge %+v %v", again, err)
		}
	})
}
