package service

import (
	"context"
	"fmt"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/sla"
	"zhizhi/internal/store"
)

// TestParkedCasesResumeByTimer: every parked case resumes once its park
// ends, however many there are (more than a sweep's batch, more than a
// listing's page), each exactly once; one still parked stays parked, and
// a parked case is never shown overdue.
func TestParkedCasesResumeByTimer(t *testing.T) {
	s, clock := keyWorld(t)
	ctx := context.Background()
	now := clock.Now()
	until := now.Add(48 * time.Hour)
	const n = 520
	mk := func(i int, end time.Time) *cases.Case {
		handle := sla.Clock{Start: now.Add(-time.Hour), Due: now.Add(time.Hour), YellowAt: now.Add(30 * time.Minute), PausedAt: now}
		return &cases.Case{
			ID: fmt.Sprintf("01PARK%05d", i), Number: fmt.Sprintf("P-%05d", i), Version: 5, Source: cases.SourcePatrol,
			RegionPath: "/500000/500103/500103001/500103001001/500103001001001/", CenterPath: "/500000/500103/500103001/",
			GridCode: "500103001001001", Category: "MS01", Board: string(cases.BoardServices), Severity: sla.Normal,
			Description: "挂账测试", State: cases.Parked, ParkedUntil: end, Parks: 1,
			Tasks:      []cases.Task{{UnitID: "u1", Role: cases.Lead, State: cases.TaskSigned, Handle: handle, DispatchedAt: now.Add(-time.Hour)}},
			ReportedAt: now.Add(-2 * time.Hour), UpdatedAt: now,
		}
	}
	// park stores cases from..to-1, parked until end, in one transaction.
	park := func(from, to int, end time.Time) {
		t.Helper()
		err := s.db.Write(ctx, func(tx *store.Tx) error {
			for i := from; i < to; i++ {
				c := mk(i, end)
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
	park(0, n, until)
	park(n, n+1, until.Add(30*24*time.Hour)) // still parked after the sweep
	if c, _ := s.db.Case(ctx, "01PARK00000"); c.Overdue(until.Add(time.Hour)) {
		t.Error("a parked case past its park end shows overdue")
	}
	if fired, err := s.Sweep(ctx, until.Add(-time.Minute), 200); err != nil || fired != 0 {
		t.Fatalf("before the end: %d fired, %v", fired, err)
	}
	if _, err := s.Sweep(ctx, until.Add(time.Minute), 200); err != nil {
		t.Fatal(err)
	}
	open := true
	parked, err := s.db.CountCases(ctx, store.CaseFilter{Scope: store.Scope{All: true}, States: []cases.State{cases.Parked}, Open: &open})
	if err != nil || parked != 1 {
		t.Fatalf("%d still parked (%v), want 1", parked, err)
	}
	for _, id := range []string{"01PARK00000", "01PARK00519"} {
		c, _ := s.db.Case(ctx, id)
		steps, _ := s.db.Steps(ctx, id)
		resumes := 0
		for _, st := range steps {
			if st.Action == cases.ActResume {
				resumes++
			}
		}
		if c.State != cases.Handling || resumes != 1 || c.Tasks[0].Handle.PausedAt.IsZero() == false {
			t.Errorf("%s: %s, %d resume steps, handle %+v", id, c.State, resumes, c.Tasks[0].Handle)
		}
	}
	// A second sweep finds nothing more to do.
	if fired, err := s.Sweep(ctx, until.Add(2*time.Minute), 200); err != nil || fired != 0 {
		t.Errorf("second sweep: %d fired, %v", fired, err)
	}
	// A start where every parked case has its timer writes nothing: the
	// one still parked was armed by its park.
	w0 := s.db.WriterStats().Batches
	if armed, err := s.ArmParkTimers(ctx); err != nil || armed != 0 {
		t.Errorf("armed %d, %v; want none", armed, err)
	}
	if w := s.db.WriterStats().Batches - w0; w != 0 {
		t.Errorf("%d commits with nothing to arm", w)
	}
	// Cases parked before the timers existed (stored, their timer rows
	// gone) get theirs at start, however many: more than a page; a page's
	// timers in one transaction.
	park(1000, 1600, until.Add(10*24*time.Hour))
	unarmed := func() int {
		t.Helper()
		ids, err := s.db.UnarmedParked(ctx, "", 1000)
		if err != nil {
			t.Fatal(err)
		}
		return len(ids)
	}
	// The legacy state, planted: these cases' timer rows removed.
	if _, err := s.db.Raw().ExecContext(ctx, `DELETE FROM clocks WHERE key = $1 AND case_id >= '01PARK01000'`, cases.ParkTimer); err != nil {
		t.Fatal(err)
	}
	if n := unarmed(); n != 600 {
		t.Fatalf("%d parked cases without a timer before arming, want 600", n)
	}
	w0 = s.db.WriterStats().Batches
	if armed, err := s.ArmParkTimers(ctx); err != nil || armed != 600 {
		t.Errorf("armed %d, %v; want 600", armed, err)
	}
	if w := s.db.WriterStats().Batches - w0; w != 2 {
		t.Errorf("%d commits to arm 600 timers, want 2 (pages of 500)", w)
	}
	if n := unarmed(); n != 0 {
		t.Errorf("%d parked cases still without a timer after arming", n)
	}
	// The armed timers fire: at their park's end the 600 resume, the one
	// parked longer stays.
	if _, err := s.Sweep(ctx, until.Add(10*24*time.Hour+time.Minute), 1000); err != nil {
		t.Fatal(err)
	}
	if parked, err := s.db.CountCases(ctx, store.CaseFilter{Scope: store.Scope{All: true}, States: []cases.State{cases.Parked}, Open: &open}); err != nil || parked != 1 {
		t.Errorf("%d still parked after the armed timers' end (%v), want 1", parked, err)
	}
	if armed, err := s.ArmParkTimers(ctx); err != nil || armed != 0 {
		t.Errorf("armed again: %d, %v; want none", armed, err)
	}
}
