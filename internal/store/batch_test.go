package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/sla"
)

func TestWriteConcurrent(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		const n = 300
		nums := make([]int64, n)
		var after atomic.Int32
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				err := db.Write(ctx, func(tx *Tx) error {
					v, err := tx.NextNumber(ctx, "n")
					if err != nil {
						return err
					}
					nums[i] = v
					tx.AfterCommit(func() { after.Add(1) })
					return tx.PutSetting(ctx, fmt.Sprintf("k%03d", i), i)
				})
				if err != nil {
					t.Errorf("write %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		slices.Sort(nums)
		for i, v := range nums {
			if v != int64(i+1) {
				t.Fatalf("numbers not 1..%d: %v", n, nums)
			}
		}
		if after.Load() != n {
			t.Fatalf("AfterCommit ran %d times", after.Load())
		}
		for i := range n {
			var v int
			if err := db.Setting(ctx, fmt.Sprintf("k%03d", i), &v); err != nil || v != i {
				t.Fatalf("setting %d: %d %v", i, v, err)
			}
		}
	})
}

// TestWriteBatchIsolation queues several jobs behind a blocked writer so that
// they run in one group commit: the failing ones roll back only themselves.
func TestWriteBatchIsolation(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		if err := db.Write(ctx, func(tx *Tx) error {
			return tx.PutAccount(ctx, Account{ID: "a1", Username: "taken", Name: "x", Role: "admin", PasswordHash: "h", Active: true, CreatedAt: t0})
		}); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		ran := map[string]bool{}
		mark := func(name string) func() {
			return func() { mu.Lock(); ran[name] = true; mu.Unlock() }
		}
		boom := errors.New("boom")
		jobs := map[string]func(*Tx) error{
			"ok1": func(tx *Tx) error { tx.AfterCommit(mark("ok1")); return tx.PutSetting(ctx, "ok1", 1) },
			"err": func(tx *Tx) error {
				tx.AfterCommit(mark("err"))
				if err := tx.PutSetting(ctx, "err", 1); err != nil {
					return err
				}
				return boom
			},
			"sql": func(tx *Tx) error {
				tx.AfterCommit(mark("sql"))
				if err := tx.PutSetting(ctx, "sql", 1); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, `INSERT INTO no_such_table VALUES (1)`)
				return err
			},
			"dup": func(tx *Tx) error {
				tx.AfterCommit(mark("dup"))
				if err := tx.PutSetting(ctx, "dup", 1); err != nil {
					return err
				}
				return tx.PutAccount(ctx, Account{ID: "a2", Username: "taken", Name: "y", Role: "admin", PasswordHash: "h", CreatedAt: t0})
			},
			"panic": func(tx *Tx) error {
				tx.AfterCommit(mark("panic"))
				if err := tx.PutSetting(ctx, "panic", 1); err != nil {
					return err
				}
				panic("oops")
			},
			"ok2": func(tx *Tx) error { tx.AfterCommit(mark("ok2")); return tx.PutSetting(ctx, "ok2", 1) },
			"caseok": func(tx *Tx) error {
				tx.AfterCommit(mark("caseok"))
				c := newCase("K1", func(c *cases.Case) { c.Description = "批量提交成功" })
				if err := tx.InsertCase(ctx, c, stepOf(c, cases.ActReport), ClockRule{}); err != nil {
					return err
				}
				return tx.PutSetting(ctx, "caseok", 1)
			},
			"caseerr": func(tx *Tx) error {
				tx.AfterCommit(mark("caseerr"))
				c := newCase("K2", func(c *cases.Case) { c.Description = "批量提交失败" })
				if err := tx.InsertCase(ctx, c, stepOf(c, cases.ActReport), ClockRule{}); err != nil {
					return err
				}
				if err := tx.PutSetting(ctx, "caseerr", 1); err != nil {
					return err
				}
				return boom
			},
		}
		names := make([]string, 0, len(jobs))
		for name := range jobs {
			names = append(names, name)
		}
		results := inOneBatch(t, db, names, jobs)
		for name, err := range results {
			committed := name == "ok1" || name == "ok2" || name == "caseok"
			switch {
			case committed && err != nil:
				t.Errorf("%s: %v", name, err)
			case !committed && err == nil:
				t.Errorf("%s: no error", name)
			}
			var v int
			serr := db.Setting(ctx, name, &v)
			if committed != (serr == nil) {
				t.Errorf("%s: setting read %v", name, serr)
			}
			if ran[name] != committed {
				t.Errorf("%s: AfterCommit ran = %v", name, ran[name])
			}
		}
		if !errors.Is(results["err"], boom) || !errors.Is(results["dup"], ErrConflict) {
			t.Errorf("errors: err=%v dup=%v", results["err"], results["dup"])
		}
		if a, err := db.AccountByUsername(ctx, "taken"); err != nil || a.ID != "a1" {
			t.Errorf("account: %+v %v", a, err)
		}
		for _, q := range []string{"批量", "批量提交"} {
			got, err := db.Cases(ctx, CaseFilter{Scope: Scope{All: true}, Text: q})
			if err != nil || !slices.Equal(ids(got), []string{"K1"}) {
				t.Errorf("text %s: %v %v", q, ids(got), err)
			}
		}
		if _, err := db.Case(ctx, "K2"); !errors.Is(err, ErrNotFound) {
			t.Errorf("failed job's case: %v", err)
		}
		if db.Dialect == SQLite {
			if n := countRows(t, db, `SELECT COUNT(*) FROM case_fts`); n != 1 {
				t.Errorf("%d case_fts rows", n)
			}
		}
	})
}

func TestWriteSingleFailure(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		ran := false
		err := db.Write(ctx, func(tx *Tx) error {
			tx.AfterCommit(func() { ran = true })
			tx.PutSetting(ctx, "x", 1)
			return errors.New("no")
		})
		if err == nil || ran {
			t.Fatalf("err %v ran %v", err, ran)
		}
		var v int
		if err := db.Setting(ctx, "x", &v); !errors.Is(err, ErrNotFound) {
			t.Fatalf("setting: %v", err)
		}
		// The writer still works afterwards.
		if err := db.Write(ctx, func(tx *Tx) error { return tx.PutSetting(ctx, "x", 2) }); err != nil {
			t.Fatal(err)
		}
	})
}

func TestWriteAfterClose(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		db := openTestDB(t)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		called := false
		err := db.Write(context.Background(), func(*Tx) error { called = true; return nil })
		if !errors.Is(err, ErrClosed) || called {
			t.Fatalf("write after close: %v, called %v", err, called)
		}
	})
}

// inOneBatch runs the named jobs in one group commit, queued in the order
// given, behind a job that holds the writer until all are queued.
func inOneBatch(t *testing.T, db *DB, names []string, jobs map[string]func(*Tx) error) map[string]error {
	t.Helper()
	return inOneBatchCounting(t, db, names, jobs, nil)
}

// inOneBatchCounting is inOneBatch with the counter each job names to Write.
func inOneBatchCounting(t *testing.T, db *DB, names []string, jobs map[string]func(*Tx) error, counters map[string]string) map[string]error {
	t.Helper()
	ctx := context.Background()
	release := make(chan struct{})
	entered := make(chan struct{})
	blockerDone := make(chan error, 1)
	go func() {
		blockerDone <- db.Write(ctx, func(tx *Tx) error { close(entered); <-release; return nil })
	}()
	<-entered
	var mu sync.Mutex
	results := map[string]error{}
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			var named []string
			if c := counters[name]; c != "" {
				named = append(named, c)
			}
			err := db.Write(ctx, jobs[name], named...)
			mu.Lock()
			results[name] = err
			mu.Unlock()
		})
		deadline := time.Now().Add(5 * time.Second)
		for len(db.batch.jobs) < i+1 {
			if time.Now().After(deadline) {
				t.Fatalf("job %s not queued", name)
			}
			time.Sleep(100 * time.Microsecond)
		}
	}
	close(release)
	wg.Wait()
	if err := <-blockerDone; err != nil {
		t.Fatalf("blocker: %v", err)
	}
	return results
}

// TestWriteHeldRows checks the rows a batch holds back: later jobs of the
// same batch read the cases earlier ones made (by ID and by client
// reference), update them, and count on from the same counter; a held row
// that cannot be written (a duplicate ID) makes the batch run again without
// holding, which fails only the job at fault.
func TestWriteHeldRows(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		insert(t, db, newCase("OLD", func(c *cases.Case) { c.Description = "早已存在" }))
		got := map[string]int64{}
		var mu sync.Mutex
		number := func(tx *Tx, job string) error {
			n, err := tx.NextNumber(ctx, "held")
			mu.Lock()
			got[job] = n
			mu.Unlock()
			return err
		}
		report := func(id, ref string) func(*Tx) error {
			return func(tx *Tx) error {
				if err := number(tx, id); err != nil {
					return err
				}
				c := newCase(id, func(c *cases.Case) { c.ClientRef = ref; c.Reporter.AccountID = "wgy" })
				return tx.InsertCase(ctx, c, stepOf(c, cases.ActReport), ClockRule{EscalateAfter: time.Hour})
			}
		}
		var again cases.Case
		jobs := map[string]func(*Tx) error{
			"A": report("A", "ref-a"),
			"again": func(tx *Tx) error { // the phone sends A again
				c, err := tx.CaseByClientRef(ctx, "wgy", "ref-a")
				again = c
				return err
			},
			"accept": func(tx *Tx) error {
				c, err := tx.Case(ctx, "A")
				if err != nil {
					return err
				}
				prev := c.Version
				c.Version++
				c.State = cases.Accepted
				c.Clock = sla.Clock{}
				return tx.UpdateCase(ctx, was(prev), &c, stepOf(&c, cases.ActAccept), ClockRule{EscalateAfter: time.Hour})
			},
			"B": report("B", ""),
			"C": report("C", "ref-c"),
		}
		names := []string{"A", "again", "accept", "B", "C"}
		before := db.WriterStats()
		res := inOneBatch(t, db, names, jobs)
		for _, n := range names {
			if res[n] != nil {
				t.Errorf("%s: %v", n, res[n])
			}
		}
		if again.ID != "A" {
			t.Errorf("client reference read %q in the same batch", again.ID)
		}
		if got["A"] != 1 || got["B"] != 2 || got["C"] != 3 {
			t.Errorf("numbers %v", got)
		}
		if s := db.WriterStats(); s.Replays != before.Replays {
			t.Errorf("a clean batch was replayed %d times", s.Replays-before.Replays)
		}
		a, err := db.Case(ctx, "A")
		if err != nil || a.Version != 2 || a.State != cases.Accepted {
			t.Errorf("A after the batch: v%d %s %v", a.Version, a.State, err)
		}
		if steps, err := db.Steps(ctx, "A"); err != nil || len(steps) != 2 {
			t.Errorf("A's steps: %d %v", len(steps), err)
		}
		if n := countRows(t, db, `SELECT COUNT(*) FROM clocks WHERE case_id = 'A'`); n != 0 {
			t.Errorf("A's accept clock not stopped: %d rows", n)
		}
		for _, id := range []string{"B", "C"} {
			if n := countRows(t, db, `SELECT COUNT(*) FROM clocks WHERE case_id = $1`, id); n != 1 {
				t.Errorf("%s: %d clock rows", id, n)
			}
		}
		// The counter was stored: the next batch counts on.
		if err := db.Write(ctx, func(tx *Tx) error { return number(tx, "next") }); err != nil || got["next"] != 4 {
			t.Errorf("next number %d %v", got["next"], err)
		}

		// A held case whose ID is taken: the batch is replayed without
		// holding and only that job fails.
		jobs = map[string]func(*Tx) error{
			"D":   report("D", ""),
			"OLD": report("OLD", ""),
			"E":   report("E", "ref-e"),
		}
		names = []string{"D", "OLD", "E"}
		before = db.WriterStats()
		res = inOneBatch(t, db, names, jobs)
		if res["D"] != nil || res["E"] != nil || !errors.Is(res["OLD"], ErrConflict) {
			t.Errorf("results %v", res)
		}
		if s := db.WriterStats(); s.Replays != before.Replays+1 {
			t.Errorf("replays %d, want 1", s.Replays-before.Replays)
		}
		if got["D"] != 5 || got["E"] != 6 {
			t.Errorf("numbers after the replay %v", got)
		}
		if old, err := db.Case(ctx, "OLD"); err != nil || old.Description != "早已存在" {
			t.Errorf("OLD changed: %q %v", old.Description, err)
		}
		for _, id := range []string{"D", "E"} {
			if _, err := db.Case(ctx, id); err != nil {
				t.Errorf("%s: %v", id, err)
			}
		}
	})
}

// TestWriteDeadlockReplayed makes two nodes' batches take two counters in
// opposite orders. PostgreSQL breaks the deadlock by failing one; its writer
// runs the batch again instead of failing the report.
func TestWriteDeadlockReplayed(t *testing.T) {
	if os.Getenv(pgEnv) == "" {
		t.Skip(pgEnv + " not set")
	}
	t.Run(string(Postgres), func(t *testing.T) {
		ctx := context.Background()
		dsn := testDSN(t)
		a, b := mustOpen(t, dsn), mustOpen(t, dsn)
		aHas, bHas := make(chan struct{}), make(chan struct{})
		var aOnce, bOnce sync.Once
		var mu sync.Mutex
		got := map[string][]int64{}
		job := func(first, second string, mine *sync.Once, has, other chan struct{}) func(*Tx) error {
			return func(tx *Tx) error {
				n, err := tx.NextNumber(ctx, first)
				if err != nil {
					return err
				}
				mine.Do(func() { close(has) })
				<-other
				m, err := tx.NextNumber(ctx, second)
				if err != nil {
					return err
				}
				tx.AfterCommit(func() {
					mu.Lock()
					got[first] = append(got[first], n)
					got[second] = append(got[second], m)
					mu.Unlock()
				})
				return nil
			}
		}
		before := a.WriterStats().Replays + b.WriterStats().Replays
		errs := make(chan error, 2)
		go func() { errs <- a.Write(ctx, job("x", "y", &aOnce, aHas, bHas)) }()
		go func() { errs <- b.Write(ctx, job("y", "x", &bOnce, bHas, aHas)) }()
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatalf("write: %v", err)
			}
		}
		for _, k := range []string{"x", "y"} {
			slices.Sort(got[k])
			if !slices.Equal(got[k], []int64{1, 2}) {
				t.Errorf("counter %s handed out %v", k, got[k])
			}
		}
		// Usually one side is failed; both may be when their deadlock checks
		// run at the same moment.
		if n := a.WriterStats().Replays + b.WriterStats().Replays - before; n < 1 {
			t.Errorf("no replay: was there a deadlock?")
		}
	})
}

// TestWriteReservedNumbers checks the numbers a batch reserves for the
// counters its jobs named: handed out in queue order, those not used given
// back, so numbers stay dense; a job may take more than it named.
func TestWriteReservedNumbers(t *testing.T) {
	forEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := openTestDB(t)
		var mu sync.Mutex
		got := map[string][]int64{}
		take := func(name string, times int) func(*Tx) error {
			return func(tx *Tx) error {
				for range times {
					n, err := tx.NextNumber(ctx, name)
					if err != nil {
						return err
					}
					mu.Lock()
					got[name] = append(got[name], n)
					mu.Unlock()
				}
				return nil
			}
		}
		jobs := map[string]func(*Tx) error{
			"r1": take("r", 1), "r2": take("r", 1), "unused": take("r", 0), "r3": take("r", 1), "s": take("s", 2),
		}
		names := []string{"r1", "r2", "unused", "r3", "s"}
		declared := map[string]string{"r1": "r", "r2": "r", "unused": "r", "r3": "r", "s": "s"}
		res := inOneBatchCounting(t, db, names, jobs, declared)
		for n, err := range res {
			if err != nil {
				t.Errorf("%s: %v", n, err)
			}
		}
		if !slices.Equal(got["r"], []int64{1, 2, 3}) || !slices.Equal(got["s"], []int64{1, 2}) {
			t.Fatalf("numbers %v", got)
		}
		// The next batch counts on from the last number used.
		if err := db.Write(ctx, take("r", 1), "r"); err != nil {
			t.Fatal(err)
		}
		if err := db.Write(ctx, take("s", 1)); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got["r"], []int64{1, 2, 3, 4}) || !slices.Equal(got["s"], []int64{1, 2, 3}) {
			t.Fatalf("numbers after %v", got)
		}
	})
}
