package store

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/sla"
)

// TestFormTokens: a form token is used once; a second use (later, or at the
// same moment in the same or another batch) is a conflict naming the case
// that used it and writes nothing; expired tokens are purged; on both
// engines.
func TestFormTokens(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		now := time.UnixMilli(1_780_000_000_000).UTC()
		use := func(token, caseID string, expires time.Time) (string, error) {
			var by string
			err := db.Write(ctx, func(tx *Tx) error {
				var err error
				by, err = tx.UseFormToken(ctx, token, caseID, now, expires)
				return err
			})
			return by, err
		}
		if _, err := use("tok-a", "case-1", now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		by, err := use("tok-a", "case-2", now.Add(time.Hour))
		if !errors.Is(err, ErrConflict) || by != "case-1" {
			t.Fatalf("second use: %q %v, want a conflict naming case-1", by, err)
		}
		if id, err := db.FormTokenCase(ctx, "tok-a"); err != nil || id != "case-1" {
			t.Fatalf("the token's case: %q %v", id, err)
		}
		if _, err := db.FormTokenCase(ctx, "tok-none"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("an unused token: %v", err)
		}

		// Sixteen reports with one token at once (the writer batches them
		// together): exactly one uses it.
		var wg sync.WaitGroup
		var mu sync.Mutex
		won, lost := 0, 0
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := use("tok-b", "case-b"+string(rune('a'+i)), now.Add(time.Hour))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won++
				case errors.Is(err, ErrConflict):
					lost++
				default:
					t.Errorf("use: %v", err)
				}
			}()
		}
		wg.Wait()
		if won != 1 || lost != 15 {
			t.Fatalf("one token sent 16 times at once: %d used it, %d refused", won, lost)
		}

		if _, err := use("tok-old", "case-3", now.Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
		n, err := db.PurgeFormTokens(ctx, now)
		if err != nil || n != 1 {
			t.Fatalf("purge: %d %v, want 1", n, err)
		}
		if _, err := db.FormTokenCase(ctx, "tok-old"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("an expired token was kept: %v", err)
		}
		if _, err := db.FormTokenCase(ctx, "tok-a"); err != nil {
			t.Fatalf("a live token was purged: %v", err)
		}
	})
}

// TestHeldOutsideTheLoop: a held report (待甄别) is outside open listings,
// the dashboard's counts and the possible duplicates; it is listed by its
// state only; on both engines.
func TestHeldOutsideTheLoop(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		live := newCase("c-live")
		held := newCase("c-held", func(c *cases.Case) {
			c.State, c.Stage, c.Clock = cases.Held, "", sla.Clock{}
			c.Hold = &cases.Hold{Reason: cases.HoldDoor, Since: t0}
		})
		insert(t, db, live, held)
		all := Scope{All: true}
		yes := true
		got, err := db.Cases(ctx, CaseFilter{Scope: all, Open: &yes, Limit: 10})
		if err != nil || len(got) != 1 || got[0].ID != "c-live" {
			t.Fatalf("open cases: %v %v, want only the live one", ids(got), err)
		}
		got, err = db.Cases(ctx, CaseFilter{Scope: all, States: []cases.State{cases.Held}, Limit: 10})
		if err != nil || len(got) != 1 || got[0].ID != "c-held" || got[0].Hold == nil || got[0].Hold.Reason != cases.HoldDoor {
			t.Fatalf("held cases: %v %v", ids(got), err)
		}
		if n, err := db.CountCases(ctx, CaseFilter{Scope: all, States: []cases.State{cases.Held}}); err != nil || n != 1 {
			t.Fatalf("count held: %d %v", n, err)
		}
		st, err := db.CaseStats(ctx, StatsQuery{Filter: CaseFilter{Scope: all, Now: t0.Add(time.Hour)}, Dim: ByTotal})
		if err != nil || st[0].Reported != 1 || st[0].Open != 1 {
			t.Fatalf("dashboard counts: %+v %v, want the live case only", st, err)
		}
		near, err := db.Nearby(ctx, live.Category, *live.Point, 100, "c-live", 10)
		if err != nil || len(near) != 0 {
			t.Fatalf("a held case offered as a duplicate: %v %v", ids(near), err)
		}
	})
}
