package server_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/demo"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
)

// testClock is a settable clock for service.Config.Now.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// openNode opens the store and service on a SQLite file, as server.Open does,
// but with the test's clock (server.Config has no way to pass one).
func openNode(t *testing.T, dir string, clk *testClock) (*store.DB, *service.Service) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(dir, "z.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := service.New(ctx, db, service.Config{
		PhotoDir: filepath.Join(dir, "photos"), DefaultCenter: demo.District, Now: clk.Now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	return db, svc
}

// warnings counts a case's warn steps by clock and level.
func warnings(t *testing.T, db *store.DB, caseID string) map[string]int {
	t.Helper()
	steps, err := db.Steps(context.Background(), caseID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, s := range steps {
		if s.Action == cases.ActWarn {
			out[fmt.Sprint(s.Data["clock"])+"/"+fmt.Sprint(s.Data["level"])]++
		}
	}
	return out
}

// allWarnings counts warn steps in the whole database by case, clock and level.
func allWarnings(t *testing.T, db *store.DB) (total int, dups map[string]int) {
	t.Helper()
	dups = map[string]int{}
	seen := map[string]int{}
	err := db.Read(context.Background(), func(tx *sql.Tx) error {
		rows, err := tx.Query(`SELECT case_id, doc FROM steps WHERE action = 'warn'`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var caseID, doc string
			if err := rows.Scan(&caseID, &doc); err != nil {
				return err
			}
			var s cases.Step
			if err := json.Unmarshal([]byte(doc), &s); err != nil {
				return err
			}
			k := caseID + " " + fmt.Sprint(s.Data["clock"]) + "/" + fmt.Sprint(s.Data["level"])
			seen[k]++
			total++
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	for k, n := range seen {
		if n > 1 {
			dups[k] = n
		}
	}
	return total, dups
}

func sweep(t *testing.T, svc *service.Service, at time.Time) int {
	t.Helper()
	n, err := svc.Sweep(context.Background(), at, 200)
	if err != nil {
		t.Fatalf("sweep at %v: %v", at, err)
	}
	return n
}

func wantWarnings(t *testing.T, db *store.DB, when, name, caseID string, yellow, red int) {
	t.Helper()
	got := warnings(t, db, caseID)
	want := map[string]int{}
	if yellow > 0 {
		want["case:accept/yellow"] = yellow
	}
	if red > 0 {
		want["case:accept/red"] = red
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s: case %s warnings = %v, want %v", when, name, got, want)
	}
}

// TestSweeperFiresOnceAcrossRestarts checks that each clock warning is
// recorded exactly once: on repeated sweeps, across a restart (with an event
// that fell due while the node was down), and with two nodes sweeping the
// same database at once.
func TestSweeperFiresOnceAcrossRestarts(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	shanghai := time.FixedZone("CST", 8*3600)
	t0 := time.Date(2026, 3, 10, 10, 0, 0, 0, shanghai) // a Tuesday morning
	clk := &testClock{now: t0}

	db, svc := openNode(t, dir, clk)
	if err := demo.Load(ctx, svc, demo.Options{Cases: 20, Now: t0, Seed: 7}); err != nil {
		db.Close()
		t.Fatal(err)
	}
	acct, err := db.AccountByUsername(ctx, "zhouchunyan")
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	reporter := acct.Actor()
	report := func(svc *service.Service, desc string) cases.Case {
		t.Helper()
		c, err := svc.Report(ctx, reporter, cases.Report{Source: cases.SourcePatrol, Category: "MS03", Address: "新影村社区", Description: desc})
		if err != nil {
			t.Fatalf("report %s: %v", desc, err)
		}
		if c.Clock.YellowAt.IsZero() || !c.Clock.YellowAt.Before(c.Clock.Due) {
			t.Fatalf("report %s: clock %+v has no yellow before due", desc, c.Clock)
		}
		return c
	}
	// The sweep at the start fires whatever demo clocks are already due.
	sweep(t, svc, t0)

	a := report(svc, "清扫测试A")
	clk.Set(t0.Add(20 * time.Minute))
	b := report(svc, "清扫测试B")
	if !a.Clock.Due.Before(b.Clock.YellowAt) {
		db.Close()
		t.Fatalf("test needs A due (%v) before B yellow (%v)", a.Clock.Due, b.Clock.YellowAt)
	}

	// Advance past A's yellow and red at once: both fire, once.
	now1 := a.Clock.Due.Add(time.Second)
	clk.Set(now1)
	n1 := sweep(t, svc, now1)
	wantWarnings(t, db, "first sweep", "A", a.ID, 1, 1)
	wantWarnings(t, db, "first sweep", "B", b.ID, 0, 0)
	if n := sweep(t, svc, now1); n != 0 {
		t.Errorf("second sweep at the same time fired %d events, want 0", n)
	}
	wantWarnings(t, db, "second sweep", "A", a.ID, 1, 1)

	// Restart; while the node was down B's yellow and red fell due.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	now2 := b.Clock.Due.Add(time.Minute)
	clk.Set(now2)
	db, svc = openNode(t, dir, clk)
	n2 := sweep(t, svc, now2)
	wantWarnings(t, db, "first sweep after restart", "A", a.ID, 1, 1)
	wantWarnings(t, db, "first sweep after restart", "B", b.ID, 1, 1)
	if n2 < 2 {
		t.Errorf("first sweep after restart fired %d events, want at least B's 2", n2)
	}
	for _, at := range []time.Time{now1, now2} {
		if n := sweep(t, svc, at); n != 0 {
			t.Errorf("sweep after restart at %v fired %d events, want 0", at, n)
		}
	}
	now3 := now2.Add(3 * time.Hour)
	clk.Set(now3)
	n3 := sweep(t, svc, now3)
	wantWarnings(t, db, "later sweep after restart", "A", a.ID, 1, 1)
	wantWarnings(t, db, "later sweep after restart", "B", b.ID, 1, 1)

	// Two nodes on the same file sweeping at once: each event fires once. The
	// cases are reported five minutes apart, and at each of their yellow and
	// red times both nodes sweep together, so either may win each round.
	var many []cases.Case
	var times []time.Time
	for i := range 12 {
		clk.Set(now3.Add(time.Duration(i) * 5 * time.Minute))
		c := report(svc, fmt.Sprintf("清扫测试并发%d", i))
		many = append(many, c)
		times = append(times, c.Clock.YellowAt, c.Clock.Due)
	}
	slices.SortFunc(times, time.Time.Compare)
	db2, svc2 := openNode(t, dir, clk)
	before, _ := allWarnings(t, db)
	fired := 0
	byNode := [2]int{}
	for _, at := range times {
		clk.Set(at)
		var wg sync.WaitGroup
		var got [4]int
		start := make(chan struct{})
		for i, s := range []*service.Service{svc, svc2, svc, svc2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				n, err := s.Sweep(ctx, at, 200)
				if err != nil {
					t.Errorf("concurrent sweep at %v: %v", at, err)
				}
				got[i] = n
			}()
		}
		close(start)
		wg.Wait()
		for i, n := range got {
			fired += n
			byNode[i%2] += n
		}
	}
	if err := db2.Close(); err != nil {
		t.Error(err)
	}
	for i, c := range many {
		wantWarnings(t, db, "concurrent sweeps", fmt.Sprint("C", i), c.ID, 1, 1)
	}
	after, dups := allWarnings(t, db)
	if len(dups) > 0 {
		t.Errorf("warnings recorded more than once: %v", dups)
	}
	if after-before != fired {
		t.Errorf("concurrent sweeps reported %d events fired but %d warnings were recorded", fired, after-before)
	}
	if err := db.Close(); err != nil {
		t.Error(err)
	}
	t.Logf("fired: %d at A's red, %d on the first sweep after restart, %d three hours later, %d by two concurrent nodes (%d + %d; %d warnings in all, none twice)",
		n1, n2, n3, fired, byNode[0], byNode[1], after)
}
