package store

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/sla"
)

func claim(t *testing.T, db *DB, now time.Time, limit int) []string {
	t.Helper()
	var out []string
	err := db.Write(context.Background(), func(tx *Tx) error {
		ds, err := tx.ClaimDue(context.Background(), now, limit)
		for _, d := range ds {
			out = append(out, d.CaseID+"/"+d.Key+"/"+d.Kind)
		}
		return err
	})
	if err != nil {
		t.Fatalf("claim: %v", err)
	}
	sort.Strings(out)
	return out
}

func TestClaimDue(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		rule := ClockRule{EscalateAfter: time.Hour}
		c := newCase("C1") // accept clock: yellow t0+90m, due t0+2h, escalate t0+3h
		insert(t, db, c)
		check := func(now time.Time, want ...string) {
			t.Helper()
			if got := claim(t, db, now, 100); !slices.Equal(got, want) {
				t.Fatalf("claim at %v: %v, want %v", now.Sub(t0), got, want)
			}
		}
		check(t0.Add(time.Hour))
		check(t0.Add(100*time.Minute), "C1/case:accept/yellow")
		check(t0.Add(100 * time.Minute))
		check(t0.Add(4*time.Hour), "C1/case:accept/escalate", "C1/case:accept/red")
		check(t0.Add(4 * time.Hour))
		check(t0.Add(100 * time.Hour))

		update := func(n *cases.Case, prev int) {
			t.Helper()
			if err := db.Write(ctx, func(tx *Tx) error { return tx.UpdateCase(ctx, was(prev), n, stepOf(n, cases.ActUrge), rule) }); err != nil {
				t.Fatal(err)
			}
		}
		// An update that leaves the due alone keeps the fired flags.
		v2 := *c
		v2.Version, v2.Urges = 2, 1
		update(&v2, 1)
		check(t0.Add(100 * time.Hour))

		// An extension moves the due: the clock re-arms and fires again.
		v3 := v2
		v3.Version = 3
		v3.Clock.Due, v3.Clock.YellowAt = t0.Add(6*time.Hour), t0.Add(5*time.Hour)
		update(&v3, 2)
		check(t0.Add(4 * time.Hour))
		check(t0.Add(5*time.Hour), "C1/case:accept/yellow")
		check(t0.Add(8*time.Hour), "C1/case:accept/escalate", "C1/case:accept/red")
		check(t0.Add(8 * time.Hour))

		// A new stage replaces the old clock.
		v4 := v3
		v4.Version, v4.State, v4.Stage = 4, cases.Accepted, cases.StageDispatch
		v4.Clock = sla.Clock{Start: t0.Add(9 * time.Hour), Due: t0.Add(10 * time.Hour), YellowAt: t0.Add(9*time.Hour + 30*time.Minute)}
		update(&v4, 3)
		if n := countRows(t, db, `SELECT COUNT(*) FROM clocks`); n != 1 {
			t.Fatalf("%d clocks", n)
		}
		check(t0.Add(9*time.Hour+45*time.Minute), "C1/case:dispatch/yellow")

		// Closing stops every clock.
		v5 := v4
		v5.Version, v5.State, v5.Stage, v5.Clock, v5.ClosedAt = 5, cases.Closed, "", sla.Clock{}, t0.Add(10*time.Hour)
		update(&v5, 4)
		if n := countRows(t, db, `SELECT COUNT(*) FROM clocks`); n != 0 {
			t.Fatalf("%d clocks after close", n)
		}
		check(t0.Add(100 * time.Hour))
	})
}

func TestClaimDueNoEscalation(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		db := openTestDB(t)
		c := newCase("C1")
		if err := db.Write(context.Background(), func(tx *Tx) error {
			return tx.InsertCase(context.Background(), c, stepOf(c, cases.ActReport), ClockRule{})
		}); err != nil {
			t.Fatal(err)
		}
		if got := claim(t, db, t0.Add(100*time.Hour), 100); !slices.Equal(got, []string{"C1/case:accept/red", "C1/case:accept/yellow"}) {
			t.Fatalf("claimed %v", got)
		}
	})
}

// TestClaimDueConcurrent claims from several goroutines on two handles to the
// same database at once, in small batches: every event is claimed once.
func TestClaimDueConcurrent(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		dsn := testDSN(t)
		dbs := []*DB{mustOpen(t, dsn), mustOpen(t, dsn)}
		var cs []*cases.Case
		want := map[string]bool{}
		for i := range 30 {
			c := newCase(fmt.Sprintf("C%02d", i))
			cs = append(cs, c)
			for _, k := range []string{"yellow", "red", "escalate"} {
				want[c.ID+"/case:accept/"+k] = true
			}
		}
		insert(t, dbs[0], cs...)
		now := t0.Add(10 * time.Hour)
		var mu sync.Mutex
		seen := map[string]int{}
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				db := dbs[g%2]
				for {
					var got []string
					err := db.Write(context.Background(), func(tx *Tx) error {
						ds, err := tx.ClaimDue(context.Background(), now, 4)
						got = got[:0]
						for _, d := range ds {
							got = append(got, d.CaseID+"/"+d.Key+"/"+d.Kind)
						}
						return err
					})
					if err != nil {
						t.Errorf("claim: %v", err)
						return
					}
					if len(got) == 0 {
						return
					}
					mu.Lock()
					for _, e := range got {
						seen[e]++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if rest := claim(t, dbs[0], now, 1000); len(rest) != 0 {
			t.Fatalf("left unclaimed: %v", rest)
		}
		for e, n := range seen {
			if n != 1 || !want[e] {
				t.Errorf("%s claimed %d times", e, n)
			}
		}
		if len(seen) != len(want) {
			t.Errorf("claimed %d events, want %d", len(seen), len(want))
		}
	})
}

// TestUnarmedParked: the open parked cases without a park timer row are read
// in ID order after a given ID; a parked case with its timer, a parked case
// closed and a case not parked are not.
func TestUnarmedParked(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		parked := func(c *cases.Case) { c.State, c.ParkedUntil = cases.Parked, t0.Add(48*time.Hour) }
		closed := func(c *cases.Case) { c.ClosedAt = t0.Add(time.Hour) }
		insert(t, db, newCase("P1", parked), newCase("P2", parked), newCase("P3", parked), newCase("P4", parked, closed), newCase("R1"))
		var n int
		if err := db.Raw().QueryRowContext(ctx, `SELECT count(*) FROM clocks WHERE key = $1`, cases.ParkTimer).Scan(&n); err != nil || n != 4 {
			t.Fatalf("%d park timers (%v), want 4: InsertCase arms the parked cases", n, err)
		}
		read := func(after string, limit int) []string {
			t.Helper()
			got, err := db.UnarmedParked(ctx, after, limit)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		if got := read("", 10); len(got) != 0 {
			t.Fatalf("every parked case armed: read %v", got)
		}
		// P1 and P3 lose their timers (stored before park timers existed).
		if _, err := db.Raw().ExecContext(ctx, `DELETE FROM clocks WHERE key = $1 AND case_id IN ('P1', 'P3', 'P4')`, cases.ParkTimer); err != nil {
			t.Fatal(err)
		}
		if got := read("", 10); !slices.Equal(got, []string{"P1", "P3"}) {
			t.Fatalf("read %v, want [P1 P3]", got)
		}
		if got := read("", 1); !slices.Equal(got, []string{"P1"}) {
			t.Fatalf("first page of one: %v, want [P1]", got)
		}
		if got := read("P1", 1); !slices.Equal(got, []string{"P3"}) {
			t.Fatalf("after P1: %v, want [P3]", got)
		}
		c, err := db.Case(ctx, "P3")
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Write(ctx, func(tx *Tx) error { return tx.ArmTimers(ctx, &c, ClockRule{EscalateAfter: time.Hour}) }); err != nil {
			t.Fatal(err)
		}
		if got := read("", 10); !slices.Equal(got, []string{"P1"}) {
			t.Fatalf("after arming P3: %v, want [P1]", got)
		}
		// At every start: the open cases' index, not every case by ID.
		if db.Dialect == SQLite {
			plan := strings.Join(sqlitePlan(t, db.read, sqlUnarmedParked(SQLite), "", cases.ParkTimer, 500), "\n")
			if !strings.Contains(plan, "COVERING INDEX cases_open_overdue") {
				t.Errorf("the unarmed parked cases are not read from the open cases' index:\n%s", plan)
			}
		}
	})
}
