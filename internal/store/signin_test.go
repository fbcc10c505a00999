package store

import (
	"context"
	"testing"
	"time"

	"zhizhi/internal/cases"
)

// TestSignInLocks: failures count up, the limit-th locks the account and
// starts the count again, a clear forgets it all; on both engines.
func TestSignInLocks(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		acct := Account{ID: "acct-lock", Username: "lockme", Name: "锁定测试", Role: cases.RoleCommander, RegionPath: streetPath,
			PasswordHash: "x", Active: true, CreatedAt: time.UnixMilli(1_780_000_000_000).UTC()}
		now := time.UnixMilli(1_780_000_100_000).UTC()
		var last SignInLock
		err := db.Write(ctx, func(tx *Tx) error {
			if err := tx.PutAccount(ctx, acct); err != nil {
				return err
			}
			for i := 1; i <= 3; i++ {
				l, err := tx.SignInFailed(ctx, acct.ID, now, 3, time.Hour)
				if err != nil {
					return err
				}
				if i < 3 && (l.Failures != i || l.Locked(now)) {
					t.Errorf("failure %d: %+v", i, l)
				}
				last = l
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !last.Locked(now) || !last.LockedUntil.Equal(now.Add(time.Hour)) || last.Failures != 0 {
			t.Errorf("third failure: %+v", last)
		}
		got, err := db.SignInLockOf(ctx, acct.ID)
		if err != nil || got != last {
			t.Errorf("read back %+v %v, want %+v", got, err, last)
		}
		if err := db.Write(ctx, func(tx *Tx) error { return tx.ClearSignInLock(ctx, acct.ID) }); err != nil {
			t.Fatal(err)
		}
		if got, err := db.SignInLockOf(ctx, acct.ID); err != nil || got != (SignInLock{}) {
			t.Errorf("after clear: %+v %v", got, err)
		}
	})
}
