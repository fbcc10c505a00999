package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"zhizhi/internal/cases"
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
		release := make(chan struct{})
		blockerDone := make(chan error, 1)
		entered := make(chan struct{})
		go func() {
			blockerDone <- db.Write(ctx, func(tx *Tx) error { close(entered); <-release; return tx.PutSetting(ctx, "blocker", 1) })
		}()
		<-entered // the writer is busy: the jobs below queue up for one batch

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
		results := map[string]error{}
		var wg sync.WaitGroup
		for name, fn := range jobs {
			wg.Go(func() {
				err := db.Write(ctx, fn)
				mu.Lock()
				results[name] = err
				mu.Unlock()
			})
		}
		deadline := time.Now().Add(5 * time.Second)
		for len(db.batch.jobs) < len(jobs) {
			if time.Now().After(deadline) {
				t.Fatalf("only %d jobs queued", len(db.batch.jobs))
			}
			time.Sleep(time.Millisecond)
		}
		close(release)
		wg.Wait()
		if err := <-blockerDone; err != nil {
			t.Fatalf("blocker: %v", err)
		}
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
