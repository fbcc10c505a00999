package cases_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/sla"
)

// Joint cases (issue 12): every unit's task is its own to finish. The
// standard case waiting for verification (reach FedBack): the lead fed back
// at 10:00 Monday 9 March, the co-unit was dispatched at 09:10 and has not
// signed (its sign clock, 2 working hours, runs out at 11:10).

// coSigned is the standard case waiting for verification with the co-unit
// signed at 10:05.
func coSigned(t *testing.T) cases.Case {
	t.Helper()
	c, _ := reach(t, cases.FedBack)
	return must(t, c, cases.Command{Action: cases.ActSign}, coUnit, at(9, 10, 5))
}

// TestJointRefusals: each refused transition of a joint case, with its
// reason. A refusal changes nothing (refused checks the input).
func TestJointRefusals(t *testing.T) {
	fedBack, _ := reach(t, cases.FedBack)
	signed := coSigned(t)
	coFedBack := must(t, signed, cases.Command{Action: cases.ActFeedback, Note: "已配合处置"}, coUnit, at(9, 10, 10))
	closed, _ := reach(t, cases.Closed)
	now := at(9, 10, 20)
	for _, tc := range []struct {
		name  string
		c     cases.Case
		cmd   cases.Command
		actor cases.Actor
		kind  apperr.Kind
		why   string // in the message, or the field named for Invalid
	}{
		{"grid worker passes over an unfinished co-unit", fedBack, cases.Command{Action: cases.ActVerify, Passed: ptr(true), Note: "已整改"}, gridWorker, apperr.Refused, "尚有1个协办单位未反馈"},
		{"grid worker passes over a co-unit still handling", signed, cases.Command{Action: cases.ActVerify, Passed: ptr(true)}, gridWorker, apperr.Refused, "由指挥中心说明理由后结案"},
		{"center passes over an unfinished co-unit without a note", fedBack, cases.Command{Action: cases.ActVerify, Passed: ptr(true), Note: "  "}, commander, apperr.Invalid, "note"},
		{"center closes over an unfinished co-unit without a note", fedBack, cases.Command{Action: cases.ActClose}, commander, apperr.Invalid, "note"},
		{"co-unit feeds back before signing", fedBack, cases.Command{Action: cases.ActFeedback, Note: "已配合"}, coUnit, apperr.Refused, "请先签收"},
		{"co-unit reports progress before signing", fedBack, cases.Command{Action: cases.ActHandle, Note: "进展"}, coUnit, apperr.Refused, "请先签收"},
		{"co-unit signs twice", signed, cases.Command{Action: cases.ActSign}, coUnit, apperr.Refused, "本单位已签收"},
		{"co-unit feeds back twice", coFedBack, cases.Command{Action: cases.ActFeedback, Note: "再次反馈"}, coUnit, apperr.Refused, "本单位已反馈"},
		{"co-unit reports progress after its feedback", coFedBack, cases.Command{Action: cases.ActHandle, Note: "补充"}, coUnit, apperr.Refused, "本单位已反馈"},
		{"co-unit asks for time after its feedback", coFedBack, cases.Command{Action: cases.ActExtendRequest, Extension: sla.Limit{Amount: 1, Unit: sla.WorkDays}, Note: "慢"}, coUnit, apperr.Refused, "本单位已反馈"},
		{"co-unit steps out after its feedback", coFedBack, cases.Command{Action: cases.ActReturn, Note: "不属本单位"}, coUnit, apperr.Refused, "本单位已反馈"},
		{"lead reports progress after its feedback", fedBack, cases.Command{Action: cases.ActHandle, Note: "补充"}, leadUnit, apperr.Refused, "本单位已反馈"},
		{"lead returns the case after its feedback", fedBack, cases.Command{Action: cases.ActReturn, Note: "退回"}, leadUnit, apperr.Refused, "本单位已反馈"},
		{"lead asks for time after its feedback", fedBack, cases.Command{Action: cases.ActExtendRequest, Extension: sla.Limit{Amount: 1, Unit: sla.WorkDays}, Note: "慢"}, leadUnit, apperr.Refused, "本单位已反馈"},
		{"lead parks the case after its feedback", fedBack, cases.Command{Action: cases.ActParkRequest, Until: at(20, 18, 0), Note: "等"}, leadUnit, apperr.Refused, "不能执行"},
		{"unit without a task signs", fedBack, cases.Command{Action: cases.ActSign}, otherUnit, apperr.Forbidden, "无权"},
		{"co-unit signs after the close", closed, cases.Command{Action: cases.ActSign}, coUnit, apperr.Refused, "已结案"},
		{"co-unit feeds back after the close", closed, cases.Command{Action: cases.ActFeedback, Note: "迟到的反馈"}, coUnit, apperr.Refused, "已结案"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := refused(t, tc.c, tc.cmd, tc.actor, now, tc.kind)
			if tc.kind == apperr.Invalid {
				wantField(t, err, tc.why)
			} else if !strings.Contains(err.Error(), tc.why) {
				t.Errorf("refusal %q does not say %q", err, tc.why)
			}
			if tc.kind == apperr.Refused && tc.cmd.Action != cases.ActVerify && cases.Allowed(&tc.c, tc.cmd.Action, tc.actor) {
				t.Errorf("Allowed offers %s", tc.cmd.Action)
			}
		})
	}
}

// TestCoUnitActsWhileWaitingForVerification: after the lead fed back the
// co-unit signs, reports progress, asks for and gets more time, and feeds
// back, the case waiting for verification all along; then the grid worker's
// passing verification closes it with both tasks done. A co-unit may also
// step out instead, and nothing is left unfinished.
func TestCoUnitActsWhileWaitingForVerification(t *testing.T) {
	c, _ := reach(t, cases.FedBack)
	verify := c.Clock
	for _, s := range []struct {
		cmd   cases.Command
		actor cases.Actor
		when  time.Time
	}{
		{cases.Command{Action: cases.ActSign}, coUnit, at(9, 10, 5)},
		{cases.Command{Action: cases.ActHandle, Note: "已到场封闭作业区"}, coUnit, at(9, 10, 6)},
		{cases.Command{Action: cases.ActExtendRequest, Extension: sla.Limit{Amount: 1, Unit: sla.WorkDays}, Note: "等待材料"}, coUnit, at(9, 10, 7)},
		{cases.Command{Action: cases.ActExtendApprove}, commander, at(9, 10, 8)},
		{cases.Command{Action: cases.ActFeedback, Note: "已配合处置完毕"}, coUnit, at(9, 10, 9)},
	} {
		if !cases.Allowed(&c, s.cmd.Action, s.actor) {
			t.Fatalf("%s not offered to %s", s.cmd.Action, s.actor.Name)
		}
		c = must(t, c, s.cmd, s.actor, s.when)
		if c.State != cases.FedBack || c.Stage != cases.StageVerify || c.Clock != verify {
			t.Fatalf("after %s: state %s stage %s clock %+v", s.cmd.Action, c.State, c.Stage, c.Clock)
		}
	}
	co := task(t, c, coID)
	if co.State != cases.TaskFedBack || co.Extensions != 1 || c.Extension != nil || co.SignedAt.IsZero() {
		t.Fatalf("co task %+v, pending extension %v", co, c.Extension)
	}
	n := must(t, c, cases.Command{Action: cases.ActVerify, Passed: ptr(true)}, gridWorker, at(9, 10, 30))
	for _, tk := range n.Tasks {
		if tk.State != cases.TaskDone {
			t.Errorf("task %s %s", tk.UnitID, tk.State)
		}
	}

	// Or the co-unit does not belong and steps out: the case still waits.
	c, _ = reach(t, cases.FedBack)
	c = must(t, c, cases.Command{Action: cases.ActReturn, Note: "不属本单位职责"}, coUnit, at(9, 10, 5))
	if c.State != cases.FedBack || task(t, c, coID).State != cases.TaskCancelled || c.Stage != cases.StageVerify {
		t.Fatalf("co-unit stepped out: %s co %s", c.State, task(t, c, coID).State)
	}
	must(t, c, cases.Command{Action: cases.ActVerify, Passed: ptr(true)}, gridWorker, at(9, 10, 30))
}

// TestCloseOverUnfinishedCoUnit: the center closes over a co-unit that never
// signed, by a passing verification or a close, with a note. The task is
// unfinished, its clocks stopped where they were: overdue when they had run
// out, and neither page status says "done on time".
func TestCloseOverUnfinishedCoUnit(t *testing.T) {
	fedBack, _ := reach(t, cases.FedBack)
	signed := coSigned(t)
	for _, tc := range []struct {
		name      string
		c         cases.Case
		cmd       cases.Command
		when      time.Time
		late      bool
		sign      sla.Status
		handle    sla.Status
		wasSigned bool
	}{
		{"verify, in time", fedBack, cases.Command{Action: cases.ActVerify, Passed: ptr(true), Note: "协办单位未到场，主办已整改到位"}, at(9, 10, 30), false, sla.Undone, sla.Undone, false},
		{"close, sign clock run out", fedBack, cases.Command{Action: cases.ActClose, Note: "协办单位逾期未签收"}, at(9, 11, 30), true, sla.UndoneLate, sla.Undone, false},
		{"close, everything run out", fedBack, cases.Command{Action: cases.ActClose, Note: "协办单位逾期未签收"}, at(20, 9, 0), true, sla.UndoneLate, sla.UndoneLate, false},
		{"close, signed, handling run out", signed, cases.Command{Action: cases.ActClose, Note: "协办单位逾期未反馈"}, at(20, 9, 0), true, sla.Done, sla.UndoneLate, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, step, err := cases.Apply(tc.c, tc.cmd, commander, pol, tc.when)
			if err != nil {
				t.Fatal(err)
			}
			if got := step.Data["unfinished"]; !reflect.DeepEqual(got, []string{coID}) {
				t.Errorf("step names unfinished %v", got)
			}
			co := task(t, n, coID)
			if co.State != cases.TaskUnfinished || co.State == cases.TaskDone || co.Active() {
				t.Fatalf("co task %s", co.State)
			}
			if co.SignedAt.IsZero() == tc.wasSigned || !co.FedBackAt.IsZero() {
				t.Errorf("co task signed %v fed back %v: a close records no time the unit did not act", co.SignedAt, co.FedBackAt)
			}
			later := tc.when.Add(48 * time.Hour)
			if got := co.SignStatus(later); got != tc.sign {
				t.Errorf("sign status %s, want %s", got, tc.sign)
			}
			if got := co.HandleStatus(later); got != tc.handle {
				t.Errorf("handle status %s, want %s", got, tc.handle)
			}
			overdue := co.Sign.WasOverdue || co.Handle.WasOverdue
			if overdue != tc.late || (tc.late && !n.WasOverdue) {
				t.Errorf("overdue %v (case %v), want %v", overdue, n.WasOverdue, tc.late)
			}
			if lead := task(t, n, leadID); lead.State != cases.TaskDone || lead.SignStatus(later) != sla.Done || lead.HandleStatus(later) != sla.Done {
				t.Errorf("lead %s %s %s", lead.State, lead.SignStatus(later), lead.HandleStatus(later))
			}
		})
	}
}

// TestTaskClockStatus: what a task's clocks show on a page, by table.
func TestTaskClockStatus(t *testing.T) {
	start := at(9, 9, 10)
	due := at(9, 11, 10)
	running := sla.Clock{Start: start, Due: due, YellowAt: at(9, 10, 46)}
	stoppedOnTime, stoppedLate := running, running
	stoppedOnTime.Stopped = at(9, 10, 0)
	stoppedLate.Stopped, stoppedLate.WasOverdue = at(9, 12, 0), true
	paused := running
	paused.PausedAt = at(9, 10, 0)
	acted := at(9, 10, 0)
	now := at(9, 11, 30)
	for _, tc := range []struct {
		name  string
		clock sla.Clock
		acted bool
		want  sla.Status
	}{
		{"never started", sla.Clock{}, false, ""},
		{"running past due", running, false, sla.Red},
		{"paused", paused, false, sla.Paused},
		{"done on time", stoppedOnTime, true, sla.Done},
		{"done late", stoppedLate, true, sla.DoneLate},
		{"stopped, not done", stoppedOnTime, false, sla.Undone},
		{"stopped late, not done", stoppedLate, false, sla.UndoneLate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tk := cases.Task{Sign: tc.clock, Handle: tc.clock}
			if tc.acted {
				tk.SignedAt, tk.FedBackAt = acted, acted
			}
			if got := tk.SignStatus(now); got != tc.want {
				t.Errorf("sign %s, want %s", got, tc.want)
			}
			if got := tk.HandleStatus(now); got != tc.want {
				t.Errorf("handle %s, want %s", got, tc.want)
			}
		})
	}
	for _, s := range []sla.Status{sla.Undone, sla.UndoneLate} {
		if s.Label() == string(s) || !strings.Contains(s.Label(), "未完成") {
			t.Errorf("%s label %q", s, s.Label())
		}
	}
}

// TestHeadlineClocks: while the case waits for verification its headline
// is the verify clock (and a party's or decision's), never a co-unit's sign
// or handling clock, which stay in RunningClocks for the sweeper.
func TestHeadlineClocks(t *testing.T) {
	keys := func(refs []cases.ClockRef) []string {
		var out []string
		for _, r := range refs {
			out = append(out, r.Key)
		}
		slices.Sort(out)
		return out
	}
	handling, _ := reach(t, cases.Handling)
	fedBack, _ := reach(t, cases.FedBack)
	signed := coSigned(t)
	whistled, _ := reachWhistled(t, cases.FedBack)
	for _, tc := range []struct {
		name     string
		c        cases.Case
		headline []string
		running  []string
	}{
		{"handling: the units' clocks are the case's", handling,
			[]string{"task:u-co:handle", "task:u-co:sign", "task:u-lead:handle"},
			[]string{"task:u-co:handle", "task:u-co:sign", "task:u-lead:handle"}},
		{"waiting for verification, co-unit unsigned", fedBack,
			[]string{"case:verify"},
			[]string{"case:verify", "task:u-co:handle", "task:u-co:sign"}},
		{"waiting for verification, co-unit handling", signed,
			[]string{"case:verify"},
			[]string{"case:verify", "task:u-co:handle"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := keys(tc.c.HeadlineClocks()); !slices.Equal(got, tc.headline) {
				t.Errorf("headline %v, want %v", got, tc.headline)
			}
			if got := keys(tc.c.RunningClocks()); !slices.Equal(got, tc.running) {
				t.Errorf("running %v, want %v", got, tc.running)
			}
		})
	}
	// Parties' and decisions' clocks stay in the headline.
	hl := keys(whistled.HeadlineClocks())
	if !slices.Contains(hl, "case:verify") || !slices.ContainsFunc(hl, func(k string) bool { return strings.HasPrefix(k, "whistle:") }) ||
		slices.ContainsFunc(hl, func(k string) bool { return strings.HasPrefix(k, "task:") }) {
		t.Errorf("whistled headline %v", hl)
	}
}
