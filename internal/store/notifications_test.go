package store

import (
	"context"
	"slices"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/notify"
)

// TestNotificationOutbox: an event written with a case in one transaction
// is claimed once, fanned out once per person (a second insert of the same
// person and event adds nothing), read marks count, and deliveries are
// leased so a second claim while the lease runs gets nothing.
func TestNotificationOutbox(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		now := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
		accts := []Account{
			{ID: "u1", Username: "u1", Name: "单位甲", Role: cases.RoleUnit, UnitID: "unit-a", Phone: "13900000001", Active: true},
			{ID: "u2", Username: "u2", Name: "单位甲二", Role: cases.RoleUnit, UnitID: "unit-a", Active: true},
			{ID: "u3", Username: "u3", Name: "单位乙", Role: cases.RoleUnit, UnitID: "unit-b", Active: true},
			{ID: "u4", Username: "u4", Name: "停用", Role: cases.RoleUnit, UnitID: "unit-a", Active: false},
			{ID: "cmd", Username: "cmd", Name: "指挥长", Role: cases.RoleCommander, RegionPath: streetPath, Active: true},
			{ID: "gw", Username: "gw", Name: "网格员", Role: cases.RoleGridWorker, RegionPath: gridPath, Active: true},
			{ID: "ld", Username: "ld", Name: "领导", Role: cases.RoleLeader, RegionPath: streetPath, Active: true},
		}
		c := newCase("N1")
		e := notify.Event{Kind: notify.Dispatched, CaseID: "N1", Number: "ZZN1", Title: "派遣", At: now, Link: "/cases/N1",
			To: notify.Audience{Units: []string{"unit-a"}, Except: "u2"}}
		err := db.Write(ctx, func(tx *Tx) error {
			for _, a := range accts {
				a.PasswordHash, a.CreatedAt = "x", now
				if err := tx.PutAccount(ctx, a); err != nil {
					return err
				}
			}
			if err := tx.InsertCase(ctx, c, stepOf(c, cases.ActReport), ClockRule{EscalateAfter: time.Hour}); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO supervisions (id, case_id, supervisor_id, region_path, at, doc) VALUES ('s1', 'N1', 'ld', $1, 0, '{}')`, streetPath); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO leader_lists (id, kind, owner_id, region_path, from_at, to_at, doc) VALUES ('L1', 'key', 'cmd', $1, 0, 0, '{}')`, streetPath); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO list_items (list_id, kind, ref_id, added_by, added_at) VALUES ('L1', 'case', 'N1', 'cmd', 0), ('L1', 'project', 'N1', 'cmd', 0)`); err != nil {
				return err
			}
			return tx.PutNotifyEvent(ctx, "E1", e)
		})
		if err != nil {
			t.Fatal(err)
		}
		if ev, dl, err := db.NotifyBacklog(ctx); err != nil || ev != 1 || dl != 0 {
			t.Fatalf("backlog %d %d %v", ev, dl, err)
		}
		var claimed []NotifyEvent
		var people []Person
		err = db.Write(ctx, func(tx *Tx) error {
			var err error
			if claimed, err = tx.ClaimNotifyEvents(ctx, 10); err != nil {
				return err
			}
			if people, err = tx.Audience(ctx, claimed[0].Event.To, "N1"); err != nil {
				return err
			}
			for range 2 { // the second time adds nothing
				for _, p := range people {
					if _, err := tx.InsertNotification(ctx, Notification{ID: "n-" + p.ID, AccountID: p.ID, EventID: claimed[0].ID,
						Kind: e.Kind, CaseID: "N1", Number: e.Number, Title: e.Title, Link: e.Link, At: now}); err != nil {
						return err
					}
				}
			}
			return tx.InsertNotifyDelivery(ctx, NotifyDelivery{ID: "d1", EventID: "E1", AccountID: "u1", Channel: notify.SMS, Target: "13900000001", NextAt: now, Event: e})
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(claimed) != 1 || claimed[0].ID != "E1" || claimed[0].Event.Title != "派遣" {
			t.Fatalf("claimed %+v", claimed)
		}
		// Only u1: u2 acted, u4 is inactive, u3 is another unit.
		if len(people) != 1 || people[0].ID != "u1" || people[0].Phone != "13900000001" {
			t.Fatalf("audience %+v", people)
		}
		err = db.Write(ctx, func(tx *Tx) error {
			again, err := tx.ClaimNotifyEvents(ctx, 10)
			if len(again) != 0 {
				t.Errorf("claimed again: %+v", again)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}

		audience := func(a notify.Audience) []string {
			var ids []string
			err := db.Write(ctx, func(tx *Tx) error {
				ps, err := tx.Audience(ctx, a, "N1")
				for _, p := range ps {
					ids = append(ids, p.ID)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return ids
		}
		if got := audience(notify.Audience{Center: streetPath, Supervisor: true}); !slices.Equal(got, []string{"cmd", "ld"}) {
			t.Errorf("center and supervisors: %v", got)
		}
		if got := audience(notify.Audience{Grid: gridPath, Accounts: []string{"u3"}}); !slices.Equal(got, []string{"gw", "u3"}) {
			t.Errorf("grid and accounts: %v", got)
		}
		if got := audience(notify.Audience{ListOwners: true}); !slices.Equal(got, []string{"cmd"}) {
			t.Errorf("list owners: %v", got)
		}
		if got := audience(notify.Audience{Phone: "1"}); got != nil {
			t.Errorf("a phone names no account: %v", got)
		}

		if n, _ := db.Unread(ctx, "u1"); n != 1 {
			t.Errorf("unread %d", n)
		}
		list, err := db.Notifications(ctx, InboxFilter{Account: "u1"})
		if err != nil || len(list) != 1 || list[0].Title != "派遣" || list[0].Link != "/cases/N1" || !list[0].ReadAt.IsZero() {
			t.Fatalf("inbox %+v %v", list, err)
		}
		err = db.Write(ctx, func(tx *Tx) error {
			if err := tx.MarkRead(ctx, "u3", list[0].ID, now); err != ErrNotFound {
				t.Errorf("another's notification marked: %v", err)
			}
			return tx.MarkRead(ctx, "u1", list[0].ID, now)
		})
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := db.Unread(ctx, "u1"); n != 0 {
			t.Errorf("unread after read %d", n)
		}
		if list, _ := db.Notifications(ctx, InboxFilter{Account: "u1", Unread: true}); len(list) != 0 {
			t.Errorf("unread list %+v", list)
		}

		// Deliveries: claimed under a lease, once.
		lease := func(at time.Time) []NotifyDelivery {
			var ds []NotifyDelivery
			if err := db.Write(ctx, func(tx *Tx) error {
				var err error
				ds, err = tx.ClaimNotifyDeliveries(ctx, at, time.Minute, 10)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return ds
		}
		ds := lease(now)
		if len(ds) != 1 || ds[0].Attempts != 1 || ds[0].Target != "13900000001" || ds[0].Event.Kind != notify.Dispatched {
			t.Fatalf("claimed deliveries %+v", ds)
		}
		if again := lease(now.Add(30 * time.Second)); len(again) != 0 {
			t.Fatalf("claimed within the lease: %+v", again)
		}
		// The attempt failed: next try in a minute and a half.
		if err := db.Write(ctx, func(tx *Tx) error {
			return tx.FinishNotifyDelivery(ctx, ds[0], false, "gateway answered 502", now.Add(90*time.Second), now)
		}); err != nil {
			t.Fatal(err)
		}
		if again := lease(now.Add(80 * time.Second)); len(again) != 0 {
			t.Fatalf("claimed before the retry: %+v", again)
		}
		ds = lease(now.Add(2 * time.Minute))
		if len(ds) != 1 || ds[0].Attempts != 2 {
			t.Fatalf("retry %+v", ds)
		}
		// A stale holder (attempt 1) cannot mark it.
		stale := ds[0]
		stale.Attempts = 1
		if err := db.Write(ctx, func(tx *Tx) error {
			if err := tx.FinishNotifyDelivery(ctx, stale, true, "", time.Time{}, now); err != nil {
				return err
			}
			return tx.FinishNotifyDelivery(ctx, ds[0], true, "", time.Time{}, now.Add(2*time.Minute))
		}); err != nil {
			t.Fatal(err)
		}
		got, err := db.Deliveries(ctx, DeliveryFilter{EventID: "E1"})
		if err != nil || len(got) != 1 || got[0].State != "sent" || got[0].Attempts != 2 || got[0].LastError != "" {
			t.Fatalf("deliveries %+v %v", got, err)
		}
		if ev, dl, _ := db.NotifyBacklog(ctx); ev != 0 || dl != 0 {
			t.Errorf("backlog %d %d", ev, dl)
		}

		// Preferences and push subscriptions.
		p := notify.Prefs{Off: []notify.Kind{notify.ClockYellow}, QuietFrom: "22:00", QuietTo: "07:00"}
		sub := PushSub{ID: "s1", AccountID: "u1", Endpoint: "https://push.example/1", P256dh: "k", Auth: "a", CreatedAt: now}
		if err := db.Write(ctx, func(tx *Tx) error {
			if err := tx.PutPrefs(ctx, "u1", p); err != nil {
				return err
			}
			return tx.PutPushSub(ctx, sub)
		}); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.Prefs(ctx, "u1"); got.QuietFrom != "22:00" || !slices.Equal(got.Off, p.Off) {
			t.Errorf("prefs %+v", got)
		}
		if got, _ := db.Prefs(ctx, "u2"); got.QuietFrom != "" || got.Off != nil {
			t.Errorf("default prefs %+v", got)
		}
		if err := db.Write(ctx, func(tx *Tx) error {
			m, err := tx.PushSubsOf(ctx, []string{"u1", "u2"})
			if err != nil || len(m["u1"]) != 1 || m["u1"][0].Endpoint != sub.Endpoint || len(m["u2"]) != 0 {
				t.Errorf("subs %+v %v", m, err)
			}
			if ok, err := tx.DeletePushSub(ctx, "s1", "u2"); ok || err != nil {
				t.Errorf("another's subscription deleted: %v %v", ok, err)
			}
			ok, err := tx.DeletePushSub(ctx, "s1", "u1")
			if !ok {
				t.Error("own subscription not deleted")
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
	})
}
