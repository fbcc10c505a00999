package service

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/sla"
	"zhizhi/internal/store"
)

// TestSweepSlicesYield: a sweep of a backlog larger than a slice claims it
// in slices of at most the slice's size, each its own transaction, and
// between slices pauses for other writers only when there are any; with
// NoYield (the benchmarks' comparison) it never pauses. Every timer fires
// once in each case.
func TestSweepSlicesYield(t *testing.T) {
	s, clock := keyWorld(t)
	ctx := context.Background()
	now := clock.Now()
	var pauses atomic.Int64
	s.sweepPause = func(ctx context.Context, d time.Duration) error {
		pauses.Add(1)
		return nil
	}
	const n, slice = 150, 40
	// backlog stores n parked cases whose park ends at end.
	backlog := func(tag string, end time.Time) {
		t.Helper()
		err := s.db.Write(ctx, func(tx *store.Tx) error {
			for i := range n {
				c := &cases.Case{
					ID: fmt.Sprintf("01SLICE%s%04d", tag, i), Number: fmt.Sprintf("S-%s-%04d", tag, i), Version: 5, Source: cases.SourcePatrol,
					RegionPath: "/500000/500103/500103001/500103001001/500103001001001/", CenterPath: "/500000/500103/500103001/",
					GridCode: "500103001001001", Category: "MS01", Board: string(cases.BoardServices), Severity: sla.Normal,
					Description: "分片测试", State: cases.Parked, ParkedUntil: end, Parks: 1,
					Tasks: []cases.Task{{UnitID: "u1", Role: cases.Lead, State: cases.TaskSigned, DispatchedAt: now.Add(-time.Hour),
						Handle: sla.Clock{Start: now.Add(-time.Hour), Due: now.Add(time.Hour), YellowAt: now.Add(30 * time.Minute), PausedAt: now}}},
					ReportedAt: now.Add(-2 * time.Hour), UpdatedAt: now,
				}
				step := cases.Step{ID: c.ID + "-1", CaseID: c.ID, Seq: 5, At: now, ActorName: "测试", Role: cases.RoleSystem, Action: cases.ActParkApprove, To: cases.Parked}
				if err := tx.InsertCase(ctx, c, &step, s.ClockRule()); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	parked := func() int {
		open := true
		k, err := s.db.CountCases(ctx, store.CaseFilter{Scope: store.Scope{All: true}, States: []cases.State{cases.Parked}, Open: &open})
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	// othersWrite keeps another writer busy until the returned stop is called.
	othersWrite := func() (stop func() int64) {
		done := make(chan struct{})
		var wg sync.WaitGroup
		var jobs atomic.Int64
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				if err := s.db.Write(ctx, func(tx *store.Tx) error { return nil }); err != nil {
					t.Error(err)
					return
				}
				jobs.Add(1)
			}
		}()
		return func() int64 { close(done); wg.Wait(); return jobs.Load() }
	}

	for k, tc := range []struct {
		name       string
		others     bool
		opt        SweepOptions
		wantPauses bool
	}{
		{"alone", false, SweepOptions{Slice: slice}, false},
		{"with intake", true, SweepOptions{Slice: slice}, true},
		{"with intake, no yield", true, SweepOptions{Slice: slice, NoYield: true}, false},
	} {
		end := now.Add(time.Duration(k+1) * 24 * time.Hour)
		backlog(fmt.Sprint(k), end)
		if got := parked(); got != n {
			t.Fatalf("%s: %d parked, want %d", tc.name, got, n)
		}
		pauses.Store(0)
		batches := s.db.WriterStats().Batches
		var stop func() int64
		if tc.others {
			stop = othersWrite()
			time.Sleep(20 * time.Millisecond)
		}
		fired, err := s.SweepWith(ctx, end.Add(time.Minute), tc.opt)
		if err != nil {
			t.Fatal(err)
		}
		var others int64
		if stop != nil {
			others = stop()
		}
		if got := parked(); got != 0 {
			t.Errorf("%s: %d still parked after the sweep (%d events)", tc.name, got, fired)
		}
		// Every timer gives its events in one slice: at least n/slice
		// transactions of the sweep's own.
		if got := s.db.WriterStats().Batches - batches; got < int64(n/slice) {
			t.Errorf("%s: %d transactions, want at least %d slices", tc.name, got, n/slice)
		}
		if p := pauses.Load(); (p > 0) != tc.wantPauses {
			t.Errorf("%s: %d pauses (other writer's jobs %d), want pauses %v", tc.name, p, others, tc.wantPauses)
		}
		t.Logf("%s: %d events, %d pauses, other writer's jobs %d", tc.name, fired, pauses.Load(), others)
	}
}
