package cases_test

import (
	"slices"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/sla"
)

func clockKeys(c cases.Case) []string {
	var out []string
	for _, r := range c.RunningClocks() {
		out = append(out, r.Key)
	}
	return out
}

// TestRunningClocks lists, for the standard case in each state, exactly the
// clocks that count: the case's stage clock and each active task's sign and
// handle clocks that are neither stopped nor paused.
func TestRunningClocks(t *testing.T) {
	for _, tc := range []struct {
		state cases.State
		want  []string
	}{
		{cases.Reported, []string{"case:accept"}},
		{cases.Accepted, []string{"case:dispatch"}},
		{cases.Dispatched, []string{"task:u-lead:sign", "task:u-lead:handle", "task:u-co:sign", "task:u-co:handle"}},
		{cases.Handling, []string{"task:u-lead:handle", "task:u-co:sign", "task:u-co:handle"}},
		{cases.Parked, nil},
		{cases.FedBack, []string{"case:verify", "task:u-co:sign", "task:u-co:handle"}},
		{cases.Closed, nil},
		{cases.Rejected, nil},
		{cases.Merged, nil},
	} {
		t.Run(string(tc.state), func(t *testing.T) {
			c, last := reach(t, tc.state)
			if got := clockKeys(c); !slices.Equal(got, tc.want) {
				t.Fatalf("running %v, want %v", got, tc.want)
			}
			for _, r := range c.RunningClocks() {
				if !r.Clock.Running() || r.Clock.Start.IsZero() || r.Clock.Start.After(last) {
					t.Errorf("%s: %+v", r.Key, r.Clock)
				}
				if want := r.Key != "case:"+string(c.Stage); (r.UnitID != "") != want {
					t.Errorf("%s: unit %q", r.Key, r.UnitID)
				}
			}
			if c.Overdue(last) {
				t.Errorf("overdue at %v", last)
			}
		})
	}
}

// TestWasOverdueIsKept runs a case past its handling deadline: the red card
// stays on the record after a late feedback, the verification and the close.
func TestWasOverdueIsKept(t *testing.T) {
	c, _ := reach(t, cases.Handling)
	c = coDone(t, c)
	// Handling: 3 working days from Mon 9 March 09:10, due Thu 12 March 09:10.
	due := task(t, c, leadID).Handle.Due
	if !due.Equal(at(12, 9, 10)) {
		t.Fatalf("handle due %v", due)
	}
	if c.Overdue(at(12, 9, 10)) || !c.Overdue(at(12, 9, 11)) {
		t.Fatal("Overdue around the due")
	}
	if c.WasOverdue {
		t.Fatal("was overdue before anything happened")
	}
	late := at(13, 10, 0)
	c = must(t, c, cases.Command{Action: cases.ActFeedback, Note: "已修复"}, leadUnit, late)
	if !c.WasOverdue {
		t.Fatal("late feedback not recorded")
	}
	h := task(t, c, leadID).Handle
	if !h.WasOverdue || h.Status(late) != sla.DoneLate {
		t.Fatalf("handle clock %+v", h)
	}
	c = must(t, c, cases.Command{Action: cases.ActVerify, Passed: ptr(true)}, gridWorker, late.Add(time.Hour))
	if c.State != cases.Closed || !c.WasOverdue {
		t.Fatalf("after close: %s was overdue %v", c.State, c.WasOverdue)
	}
	c = must(t, c, cases.Command{Action: cases.ActRate, Rating: cases.Satisfied}, gridWorker, late.Add(2*time.Hour))
	c = must(t, c, cases.Command{Action: cases.ActReopen, Note: "复发"}, commander, late.Add(3*time.Hour))
	if !c.WasOverdue {
		t.Fatal("reopen cleared was overdue")
	}
}

// TestWasOverdueOnEveryStage makes each stage late in turn; whichever clock
// ran out, the case records it at the action that stops or replaces it.
func TestWasOverdueOnEveryStage(t *testing.T) {
	for _, tc := range []struct {
		name  string
		from  cases.State
		cmd   cases.Command
		actor cases.Actor
		when  time.Time
	}{
		// Accept within 30 minutes of 09:00.
		{"late accept", cases.Reported, cases.Command{Action: cases.ActAccept}, commander, at(9, 9, 31)},
		{"late reject", cases.Reported, cases.Command{Action: cases.ActReject, Note: "无效"}, commander, at(9, 9, 31)},
		// Dispatch within 30 minutes of 09:05.
		{"late dispatch", cases.Accepted, cases.Command{Action: cases.ActDispatch, Lead: leadID}, commander, at(9, 9, 36)},
		{"late merge", cases.Accepted, cases.Command{Action: cases.ActMerge, Target: "case-0"}, commander, at(9, 9, 36)},
		// Sign within 2 working hours of 09:10.
		{"late sign", cases.Dispatched, cases.Command{Action: cases.ActSign}, leadUnit, at(9, 11, 11)},
		// Verify within 1 working day of 10:00 Monday.
		{"late verify", cases.FedBack, cases.Command{Action: cases.ActVerify, Passed: ptr(true)}, gridWorker, at(10, 10, 1)},
		{"late close", cases.FedBack, cases.Command{Action: cases.ActClose, Note: "协办单位未反馈，中心结案"}, commander, at(10, 10, 1)},
		// Any action after a running clock ran out, e.g. a progress note.
		{"note after due", cases.Handling, cases.Command{Action: cases.ActHandle, Note: "进展"}, leadUnit, at(12, 9, 11)},
		// An extension asked for in time (Thu 09:00) but approved after the
		// due (09:10) does not hide that the clock ran out.
		{"late extension", cases.Handling, cases.Command{Action: cases.ActExtendApprove}, commander, at(12, 9, 11)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := reach(t, tc.from)
			if tc.from == cases.Handling || tc.name == "late verify" {
				c = coDone(t, c)
			}
			if tc.cmd.Action == cases.ActExtendApprove {
				c = must(t, c, cases.Command{Action: cases.ActExtendRequest, Note: "慢", Extension: sla.Limit{Amount: 5, Unit: sla.WorkDays}}, leadUnit, at(12, 9, 0))
			}
			if c.WasOverdue {
				t.Fatal("late before the late action")
			}
			n := must(t, c, tc.cmd, tc.actor, tc.when)
			if tc.cmd.Action == cases.ActExtendApprove && n.Overdue(tc.when) {
				t.Fatal("the extension did not move the due")
			}
			if !n.WasOverdue {
				t.Fatalf("%s at %v: was overdue not recorded", tc.cmd.Action, tc.when)
			}
		})
	}
	// And on time, nothing is recorded.
	c, last := reach(t, cases.Closed)
	if c.WasOverdue {
		t.Fatalf("the standard story (last step %v) is on time", last)
	}
}

// TestOnTimeAtTheDue: a clock stopped exactly at its due is on time.
func TestOnTimeAtTheDue(t *testing.T) {
	c, _ := reach(t, cases.Reported)
	n := must(t, c, cases.Command{Action: cases.ActAccept}, commander, at(9, 9, 30))
	if n.WasOverdue {
		t.Fatal("accepted exactly at the due counts as late")
	}
}

// coDone has the co-unit of a case in handling sign and feed back at once, so
// that only the lead's clock runs.
func coDone(t *testing.T, c cases.Case) cases.Case {
	t.Helper()
	when := at(9, 9, 25)
	if c.State == cases.FedBack {
		when = at(9, 10, 5) // the lead fed back at 10:00
	}
	c = must(t, c, cases.Command{Action: cases.ActSign}, coUnit, when)
	c = must(t, c, cases.Command{Action: cases.ActFeedback, Note: "协办完成"}, coUnit, when.Add(5*time.Minute))
	if got := clockKeys(c); c.State == cases.Handling && !slices.Equal(got, []string{"task:u-lead:handle"}) {
		t.Fatalf("running %v", got)
	}
	return c
}

// TestPolicyDefaults: a policy with only limits uses the default calendar
// and bounds.
func TestPolicyDefaults(t *testing.T) {
	bare := cases.Policy{Limit: pol.Limit, YellowShare: 2}
	c, _, err := cases.New(testReport(), testCategory(), testPlace, "c", "n", gridWorker, bare, at(9, 9, 0))
	if err != nil {
		t.Fatal(err)
	}
	// Yellow at 80% of 30 minutes.
	if !c.Clock.YellowAt.Equal(at(9, 9, 24)) {
		t.Errorf("yellow at %v", c.Clock.YellowAt)
	}
	c = must(t, c, cases.Command{Action: cases.ActAccept}, commander, at(9, 9, 5))
	c, _, err = cases.Apply(c, cases.Command{Action: cases.ActDispatch, Lead: leadID}, commander, bare, at(9, 9, 10))
	if err != nil {
		t.Fatal(err)
	}
	if got := task(t, c, leadID).Handle.Due; !got.Equal(at(12, 9, 10)) {
		t.Errorf("handle due on the default calendar %v", got)
	}
}

// TestNationalDayHoliday runs a case through the 2026 National Day holiday
// (1–7 October off, Sunday 20 September and Saturday 10 October worked): the
// clocks count working time on the official calendar only.
func TestNationalDayHoliday(t *testing.T) {
	day := func(m time.Month, d, h, mi int) time.Time { return time.Date(2026, m, d, h, mi, 0, 0, sh) }
	c, _, err := cases.New(testReport(), testCategory(), testPlace, "case-nd", "YZ-ND", gridWorker, pol, day(9, 30, 8, 40))
	if err != nil {
		t.Fatal(err)
	}
	c = must(t, c, cases.Command{Action: cases.ActAccept}, commander, day(9, 30, 8, 45))
	c = must(t, c, cases.Command{Action: cases.ActDispatch, Lead: leadID}, commander, day(9, 30, 9, 0))
	// 3 working days = 22h30m of working time: 7h on 30 September, 7h30m on
	// 8 and 9 October, and the last 30 minutes on Saturday 10 October.
	h := task(t, c, leadID).Handle
	if !h.Due.Equal(day(10, 10, 9, 0)) {
		t.Fatalf("handle due %v", h.Due)
	}
	// Sign: 2 working hours from 09:00, due 11:00 the same day.
	if s := task(t, c, leadID).Sign; !s.Due.Equal(day(9, 30, 11, 0)) {
		t.Fatalf("sign due %v", s.Due)
	}
	c = must(t, c, cases.Command{Action: cases.ActSign}, leadUnit, day(9, 30, 9, 10))
	if c.Overdue(day(10, 7, 23, 0)) || c.Overdue(day(10, 10, 9, 0)) || !c.Overdue(day(10, 10, 9, 1)) {
		t.Fatal("overdue during the holiday or not after the due")
	}

	t.Run("extension over the Sunday", func(t *testing.T) {
		e := must(t, c, cases.Command{Action: cases.ActExtendRequest, Note: "节后材料才到", Extension: sla.Limit{Amount: 1, Unit: sla.WorkDays}}, leadUnit, day(10, 8, 9, 0))
		e = must(t, e, cases.Command{Action: cases.ActExtendApprove}, commander, day(10, 8, 10, 0))
		if got := task(t, e, leadID).Handle.Due; !got.Equal(day(10, 12, 9, 0)) {
			t.Errorf("extended due %v", got)
		}
	})

	t.Run("parked over the holiday", func(t *testing.T) {
		p := must(t, c, cases.Command{Action: cases.ActParkRequest, Note: "节日期间停工", Until: day(10, 8, 8, 30)}, leadUnit, day(9, 30, 9, 30))
		p = must(t, p, cases.Command{Action: cases.ActParkApprove}, commander, day(9, 30, 10, 0))
		p = must(t, p, cases.Command{Action: cases.ActResume}, cases.System, day(10, 8, 8, 30))
		// Paused with 21h30m of working time left; resumed at the start of
		// 8 October, the due moves by the 6 working hours parked, to 17:00.
		if got := task(t, p, leadID).Handle.Due; !got.Equal(day(10, 10, 17, 0)) {
			t.Errorf("resumed due %v", got)
		}
		if p.WasOverdue || p.Overdue(day(10, 10, 16, 59)) {
			t.Error("overdue after parking over the holiday")
		}
	})
}
