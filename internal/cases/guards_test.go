package cases_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/sla"
)

// refused applies a command that must fail with kind k, and checks that the
// input case is left exactly as it was.
func refused(t *testing.T, c cases.Case, cmd cases.Command, actor cases.Actor, now time.Time, k apperr.Kind) error {
	t.Helper()
	before := snapshot(t, c)
	_, _, err := cases.Apply(c, cmd, actor, pol, now)
	wantKind(t, err, k)
	if after := snapshot(t, c); after != before {
		t.Fatalf("refused %s changed its input", cmd.Action)
	}
	return err
}

func TestUnitNotOnCase(t *testing.T) {
	cmds := []cases.Command{
		{Action: cases.ActSign},
		{Action: cases.ActHandle, Note: "进展"},
		{Action: cases.ActFeedback, Note: "完成"},
		{Action: cases.ActReturn, Note: "不归我管"},
		{Action: cases.ActExtendRequest, Note: "慢", Extension: sla.Limit{Amount: 1, Unit: sla.WorkDays}},
		{Action: cases.ActParkRequest, Note: "久", Until: at(20, 9, 0)},
	}
	for _, st := range []cases.State{cases.Dispatched, cases.Handling} {
		c, last := reach(t, st)
		now := last.Add(time.Minute)
		for _, cmd := range cmds {
			t.Run(string(st)+"/never/"+string(cmd.Action), func(t *testing.T) {
				// A unit never dispatched the case is outside its scope.
				refused(t, c, cmd, otherUnit, now, apperr.Forbidden)
			})
		}
		// The co-unit steps out; it can still read the case but no longer act.
		gone := must(t, c, cases.Command{Action: cases.ActReturn, Note: "不属于本单位职责"}, coUnit, now)
		if !cases.CanSee(coUnit, &gone) {
			t.Fatal("a unit that was dispatched keeps read access")
		}
		for _, cmd := range cmds {
			t.Run(string(st)+"/returned/"+string(cmd.Action), func(t *testing.T) {
				refused(t, gone, cmd, coUnit, now.Add(time.Minute), apperr.Refused)
			})
		}
	}
	// A unit with no task at all has no scope, so not even the ID leaks.
	c, last := reach(t, cases.Handling)
	if cases.Allowed(&c, cases.ActSign, otherUnit) || len(cases.Actions(&c, otherUnit)) != 0 {
		t.Error("a unit not on the case is offered actions")
	}
	refused(t, c, cases.Command{Action: cases.ActSign}, cases.Actor{Role: cases.RoleUnit, AccountID: "x"}, last, apperr.Forbidden)
}

func TestSign(t *testing.T) {
	c, last := reach(t, cases.Dispatched)
	// The co-unit signs first: its task moves, the case waits for the lead.
	co := must(t, c, cases.Command{Action: cases.ActSign}, coUnit, last.Add(time.Minute))
	if co.State != cases.Dispatched {
		t.Fatalf("co-unit sign moved the case to %s", co.State)
	}
	ct := task(t, co, coID)
	if ct.State != cases.TaskSigned || !ct.SignedAt.Equal(last.Add(time.Minute)) || ct.Sign.Stopped.IsZero() || !ct.Handle.Stopped.IsZero() {
		t.Fatalf("co task after sign: %+v", ct)
	}
	refused(t, co, cases.Command{Action: cases.ActSign}, coUnit, last.Add(2*time.Minute), apperr.Refused)

	lead := must(t, co, cases.Command{Action: cases.ActSign}, leadUnit, last.Add(3*time.Minute))
	if lead.State != cases.Handling || task(t, lead, leadID).State != cases.TaskSigned {
		t.Fatalf("lead sign: state %s", lead.State)
	}
	// Signing twice is refused, in handling as well.
	err := refused(t, lead, cases.Command{Action: cases.ActSign}, leadUnit, last.Add(4*time.Minute), apperr.Refused)
	if cases.Allowed(&lead, cases.ActSign, leadUnit) {
		t.Errorf("sign offered twice (%v)", err)
	}
}

func TestFeedback(t *testing.T) {
	d, last := reach(t, cases.Dispatched)
	// Feedback before signing: the case is not in handling yet.
	refused(t, d, cases.Command{Action: cases.ActFeedback, Note: "已完成"}, leadUnit, last.Add(time.Minute), apperr.Refused)

	c, last := reach(t, cases.Handling)
	now := last.Add(time.Minute)
	// The co-unit has not signed: no feedback, no progress notes.
	refused(t, c, cases.Command{Action: cases.ActFeedback, Note: "已完成"}, coUnit, now, apperr.Refused)
	refused(t, c, cases.Command{Action: cases.ActHandle, Note: "进展"}, coUnit, now, apperr.Refused)

	c = must(t, c, cases.Command{Action: cases.ActSign}, coUnit, now)
	c = must(t, c, cases.Command{Action: cases.ActHandle, Note: "已到场"}, coUnit, now.Add(time.Minute))
	photos := []cases.Photo{{Hash: "co01"}}
	coAt := now.Add(2 * time.Minute)
	c2, step, err := cases.Apply(c, cases.Command{Action: cases.ActFeedback, Note: " 协办完成 ", Photos: photos}, coUnit, pol, coAt)
	if err != nil {
		t.Fatal(err)
	}
	if c2.State != cases.Handling || step.To != cases.Handling {
		t.Fatalf("co-unit feedback moved the case to %s", c2.State)
	}
	ct := task(t, c2, coID)
	if ct.State != cases.TaskFedBack || !ct.FedBackAt.Equal(coAt) || ct.Feedback != "协办完成" || len(ct.Photos) != 1 ||
		!ct.Handle.Stopped.Equal(coAt) {
		t.Fatalf("co task after feedback: %+v", ct)
	}
	if c2.Stage != "" {
		t.Fatalf("co-unit feedback started the %s clock", c2.Stage)
	}
	refused(t, c2, cases.Command{Action: cases.ActFeedback, Note: "再次反馈"}, coUnit, coAt.Add(time.Minute), apperr.Refused)

	leadAt := coAt.Add(time.Hour)
	c3 := must(t, c2, cases.Command{Action: cases.ActFeedback, Note: "主办完成"}, leadUnit, leadAt)
	if c3.State != cases.FedBack || c3.Stage != cases.StageVerify {
		t.Fatalf("lead feedback: state %s stage %s", c3.State, c3.Stage)
	}
	if !c3.Clock.Start.Equal(leadAt) || !c3.Clock.Due.Equal(sla.Due(cal, leadAt, limitOf(sla.Verify, sla.Normal))) {
		t.Fatalf("verify clock %+v", c3.Clock)
	}
	lt := task(t, c3, leadID)
	if lt.State != cases.TaskFedBack || !lt.Handle.Stopped.Equal(leadAt) {
		t.Fatalf("lead task %+v", lt)
	}
}

func TestVerify(t *testing.T) {
	c, last := reach(t, cases.FedBack)
	now := last.Add(30 * time.Minute)

	t.Run("pass", func(t *testing.T) {
		// The co-unit has not fed back: a passing verification would close
		// over it. The grid worker may not; the center must say why.
		err := refused(t, c, cases.Command{Action: cases.ActVerify, Passed: ptr(true)}, gridWorker, now, apperr.Refused)
		if !strings.Contains(err.Error(), "协办单位未反馈") {
			t.Errorf("refusal %v", err)
		}
		wantField(t, refused(t, c, cases.Command{Action: cases.ActVerify, Passed: ptr(true), Note: " "}, commander, now, apperr.Invalid), "note")
		n, step, err := cases.Apply(c, cases.Command{Action: cases.ActVerify, Passed: ptr(true), Note: "协办单位逾期未签收，主办已整改到位"}, commander, pol, now)
		if err != nil {
			t.Fatal(err)
		}
		if got := step.Data["unfinished"]; !reflect.DeepEqual(got, []string{coID}) {
			t.Errorf("step names unfinished %v", got)
		}
		if n.State != cases.Closed || !n.ClosedAt.Equal(now) || n.Stage != "" || !n.Clock.Stopped.Equal(now) {
			t.Fatalf("state %s closed %v stage %q clock %+v", n.State, n.ClosedAt, n.Stage, n.Clock)
		}
		// The lead fed back: done. The co-unit never fed back: unfinished,
		// never counted as done, its clocks stopped.
		for _, tk := range n.Tasks {
			want := cases.TaskDone
			if tk.UnitID == coID {
				want = cases.TaskUnfinished
			}
			if tk.State != want || tk.Sign.Stopped.IsZero() || tk.Handle.Stopped.IsZero() {
				t.Errorf("task %s: %s (want %s) sign %v handle %v", tk.UnitID, tk.State, want, tk.Sign.Stopped, tk.Handle.Stopped)
			}
		}
		if len(n.RunningClocks()) != 0 {
			t.Errorf("running clocks after close: %v", n.RunningClocks())
		}
	})

	t.Run("fail without note", func(t *testing.T) {
		err := refused(t, c, cases.Command{Action: cases.ActVerify, Passed: ptr(false), Note: "  "}, gridWorker, now, apperr.Invalid)
		wantField(t, err, "note")
	})

	t.Run("fail with note", func(t *testing.T) {
		co := task(t, c, coID)
		n, step, err := cases.Apply(c, cases.Command{Action: cases.ActVerify, Passed: ptr(false), Note: "路面仍有积水"}, gridWorker, pol, now)
		if err != nil {
			t.Fatal(err)
		}
		if n.State != cases.Handling || n.Reworks != 1 || n.Stage != "" || n.Clock.Stopped.IsZero() {
			t.Fatalf("state %s reworks %d stage %q", n.State, n.Reworks, n.Stage)
		}
		lt := task(t, n, leadID)
		if lt.State != cases.TaskSigned || lt.Reworks != 1 || !lt.FedBackAt.IsZero() || lt.Feedback != "" || lt.Photos != nil {
			t.Fatalf("lead task %+v", lt)
		}
		h := lt.Handle
		if !h.Start.Equal(now) || !h.Due.Equal(sla.Due(cal, now, limitOf(sla.Handle, sla.Normal))) || !h.Stopped.IsZero() || h.WasOverdue {
			t.Fatalf("fresh handle clock %+v", h)
		}
		if step.Data["rework"] != 1 || step.Data["passed"] != false {
			t.Errorf("step data %v", step.Data)
		}
		if got := task(t, n, coID); got.State != co.State {
			t.Errorf("co task moved from %s to %s", co.State, got.State)
		}
		// The same lead feeds back again and fails again.
		n = must(t, n, cases.Command{Action: cases.ActFeedback, Note: "再次修复"}, leadUnit, now.Add(time.Hour))
		n = must(t, n, cases.Command{Action: cases.ActVerify, Passed: ptr(false), Note: "仍未修好"}, commander, now.Add(2*time.Hour))
		if n.Reworks != 2 || task(t, n, leadID).Reworks != 2 {
			t.Errorf("reworks %d / %d", n.Reworks, task(t, n, leadID).Reworks)
		}
	})

	t.Run("grid worker of another grid", func(t *testing.T) {
		other := cases.Actor{AccountID: "acct-gw2", Name: "网格员李四", Role: cases.RoleGridWorker, RegionPath: communityPath + "500103001001002/"}
		refused(t, c, cases.Command{Action: cases.ActVerify, Passed: ptr(true)}, other, now, apperr.Forbidden)
		// Even when the worker reported it, only the case's own grid verifies.
		mine := c
		mine.Reporter.AccountID = other.AccountID
		refused(t, mine, cases.Command{Action: cases.ActVerify, Passed: ptr(true)}, other, now, apperr.Refused)
	})
}

func TestExtension(t *testing.T) {
	req := func(by sla.Limit) cases.Command {
		return cases.Command{Action: cases.ActExtendRequest, Extension: by, Note: "需采购材料"}
	}
	oneDay := sla.Limit{Amount: 1, Unit: sla.WorkDays}

	t.Run("twice", func(t *testing.T) {
		c, last := reach(t, cases.Handling)
		c = must(t, c, req(oneDay), leadUnit, last.Add(time.Minute))
		if c.Extension == nil || c.Extension.UnitID != leadID || c.Extension.By != oneDay || c.Extension.Reason != "需采购材料" {
			t.Fatalf("pending %+v", c.Extension)
		}
		refused(t, c, req(oneDay), leadUnit, last.Add(2*time.Minute), apperr.Refused)
		// One pending request per case: the co-unit waits too.
		refused(t, c, req(oneDay), coUnit, last.Add(2*time.Minute), apperr.Refused)
	})

	t.Run("no pending", func(t *testing.T) {
		c, last := reach(t, cases.Handling)
		refused(t, c, cases.Command{Action: cases.ActExtendApprove}, commander, last.Add(time.Minute), apperr.Refused)
		refused(t, c, cases.Command{Action: cases.ActExtendDeny, Note: "不批"}, commander, last.Add(time.Minute), apperr.Refused)
	})

	// The lead's handle clock started at dispatch, Mon 9 March 09:10, with 3
	// working days: due Thu 12 March 09:10.
	for _, tc := range []struct {
		by   sla.Limit
		want time.Time
	}{
		{sla.Limit{Amount: 1, Unit: sla.WorkDays}, at(13, 9, 10)},
		{sla.Limit{Amount: 2, Unit: sla.WorkDays}, at(16, 9, 10)}, // over the weekend
		{sla.Limit{Amount: 4, Unit: sla.WorkHours}, at(12, 15, 10)},
		{sla.Limit{Amount: 2, Unit: sla.Days}, at(14, 9, 10)},
		{sla.Limit{Amount: 90, Unit: sla.Minutes}, at(12, 10, 40)},
	} {
		t.Run("approve "+tc.by.String(), func(t *testing.T) {
			c, last := reach(t, cases.Handling)
			old := task(t, c, leadID)
			if !old.Handle.Due.Equal(at(12, 9, 10)) {
				t.Fatalf("handle due %v", old.Handle.Due)
			}
			c = must(t, c, req(tc.by), leadUnit, last.Add(time.Minute))
			n, step, err := cases.Apply(c, cases.Command{Action: cases.ActExtendApprove}, commander, pol, last.Add(2*time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			lt := task(t, n, leadID)
			if !lt.Handle.Due.Equal(tc.want) || !lt.Handle.Due.Equal(sla.Due(cal, old.Handle.Due, tc.by)) {
				t.Fatalf("handle due %v, want %v", lt.Handle.Due, tc.want)
			}
			if lt.Extensions != 1 || lt.Handle.Extensions != 1 || n.Extension != nil || n.State != cases.Handling {
				t.Fatalf("extensions %d/%d pending %v", lt.Extensions, lt.Handle.Extensions, n.Extension)
			}
			if lt.Sign != old.Sign {
				t.Errorf("the stopped sign clock moved")
			}
			if step.Data["unit_id"] != leadID || step.Data["by"] != tc.by.String() {
				t.Errorf("step data %v", step.Data)
			}
			if got := task(t, n, coID); got.Handle != task(t, c, coID).Handle {
				t.Errorf("co-unit clock moved")
			}
		})
	}

	t.Run("unsigned unit extends sign too", func(t *testing.T) {
		c, last := reach(t, cases.Dispatched)
		old := task(t, c, leadID)
		c = must(t, c, req(oneDay), leadUnit, last.Add(time.Minute))
		n := must(t, c, cases.Command{Action: cases.ActExtendApprove}, commander, last.Add(2*time.Minute))
		lt := task(t, n, leadID)
		// Sign: 2 working hours from 09:10 Mon, due 11:10; one working day later.
		if !old.Sign.Due.Equal(at(9, 11, 10)) || !lt.Sign.Due.Equal(at(10, 11, 10)) || !lt.Handle.Due.Equal(at(13, 9, 10)) {
			t.Fatalf("sign %v→%v handle %v", old.Sign.Due, lt.Sign.Due, lt.Handle.Due)
		}
	})

	t.Run("at most two", func(t *testing.T) {
		c, last := reach(t, cases.Handling)
		now := last
		for i := range 2 {
			now = now.Add(time.Minute)
			c = must(t, c, req(oneDay), leadUnit, now)
			now = now.Add(time.Minute)
			c = must(t, c, cases.Command{Action: cases.ActExtendApprove}, commander, now)
			if got := task(t, c, leadID).Extensions; got != i+1 {
				t.Fatalf("extensions %d", got)
			}
		}
		refused(t, c, req(oneDay), leadUnit, now.Add(time.Minute), apperr.Refused)
		// The co-unit has its own count.
		c = must(t, c, cases.Command{Action: cases.ActSign}, coUnit, now.Add(time.Minute))
		must(t, c, req(oneDay), coUnit, now.Add(2*time.Minute))
		// A policy may allow more.
		more := pol
		more.MaxExtensions = 3
		if _, _, err := cases.Apply(c, req(oneDay), leadUnit, more, now.Add(time.Minute)); err != nil {
			t.Errorf("third extension under MaxExtensions 3: %v", err)
		}
	})

	t.Run("deny", func(t *testing.T) {
		c, last := reach(t, cases.Handling)
		c = must(t, c, req(oneDay), leadUnit, last.Add(time.Minute))
		err := refused(t, c, cases.Command{Action: cases.ActExtendDeny}, commander, last.Add(2*time.Minute), apperr.Invalid)
		wantField(t, err, "note")
		n := must(t, c, cases.Command{Action: cases.ActExtendDeny, Note: "时限充足"}, commander, last.Add(2*time.Minute))
		if n.Extension != nil || task(t, n, leadID).Extensions != 0 || task(t, n, leadID).Handle != task(t, c, leadID).Handle {
			t.Fatalf("deny: pending %v", n.Extension)
		}
		// A new request may follow a denial.
		must(t, n, req(oneDay), leadUnit, last.Add(3*time.Minute))
	})

	t.Run("lead feedback drops its request", func(t *testing.T) {
		c, last := reach(t, cases.Handling)
		c = must(t, c, req(oneDay), leadUnit, last.Add(time.Minute))
		n := must(t, c, cases.Command{Action: cases.ActFeedback, Note: "提前完成"}, leadUnit, last.Add(2*time.Minute))
		if n.Extension != nil {
			t.Fatal("the request of a unit that fed back stays pending")
		}
	})

	t.Run("requesting unit gone", func(t *testing.T) {
		c, last := reach(t, cases.Handling)
		c = must(t, c, cases.Command{Action: cases.ActSign}, coUnit, last.Add(time.Minute))
		c = must(t, c, req(oneDay), coUnit, last.Add(2*time.Minute))
		c = must(t, c, cases.Command{Action: cases.ActReturn, Note: "非本单位职责"}, coUnit, last.Add(3*time.Minute))
		refused(t, c, cases.Command{Action: cases.ActExtendApprove}, commander, last.Add(4*time.Minute), apperr.Refused)
	})
}

func TestPark(t *testing.T) {
	park := func(until time.Time) cases.Command {
		return cases.Command{Action: cases.ActParkRequest, Until: until, Note: "待汛期结束后施工"}
	}

	t.Run("bounds", func(t *testing.T) {
		c, last := reach(t, cases.Handling)
		now := last.Add(time.Minute)
		for _, tc := range []struct {
			name  string
			until time.Time
			ok    bool
		}{
			{"past", now.Add(-time.Hour), false},
			{"now", now, false},
			{"beyond 365 days", now.AddDate(0, 0, 365).Add(time.Minute), false},
			{"a year from now", now.AddDate(0, 0, 365), true},
			{"next week", now.AddDate(0, 0, 7), true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				n, _, err := cases.Apply(c, park(tc.until), leadUnit, pol, now)
				if !tc.ok {
					wantField(t, err, "until")
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if n.State != cases.Handling || n.Park == nil || !n.Park.Until.Equal(tc.until) || n.Park.UnitID != leadID {
					t.Fatalf("state %s park %+v", n.State, n.Park)
				}
			})
		}
	})

	t.Run("who and how often", func(t *testing.T) {
		c, last := reach(t, cases.Handling)
		now := last.Add(time.Minute)
		c = must(t, c, cases.Command{Action: cases.ActSign}, coUnit, now)
		refused(t, c, park(at(20, 9, 0)), coUnit, now, apperr.Refused)
		c = must(t, c, park(at(20, 9, 0)), leadUnit, now)
		refused(t, c, park(at(21, 9, 0)), leadUnit, now, apperr.Refused)
		d := must(t, c, cases.Command{Action: cases.ActParkDeny, Note: "请尽快处置"}, commander, now.Add(time.Minute))
		if d.Park != nil || d.State != cases.Handling || d.Parks != 0 {
			t.Fatalf("deny: %+v", d.Park)
		}
		// The request was due to lapse: approval after until is refused.
		refused(t, c, cases.Command{Action: cases.ActParkApprove}, commander, at(20, 9, 1), apperr.Refused)
	})

	t.Run("pause and resume", func(t *testing.T) {
		for _, sev := range []sla.Severity{sla.Normal, sla.Urgent} {
			for _, days := range []int{7, 14, 21} {
				t.Run(string(sev)+"/"+time.Duration(days*24*int(time.Hour)).String(), func(t *testing.T) {
					testParkResume(t, sev, days)
				})
			}
		}
	})

	t.Run("second park", func(t *testing.T) {
		c, last := reach(t, cases.Parked)
		c = must(t, c, cases.Command{Action: cases.ActResume}, leadUnit, last.Add(time.Hour))
		refused(t, c, park(at(30, 9, 0)), leadUnit, last.Add(2*time.Hour), apperr.Refused)
		twice := pol
		twice.MaxParks = 2
		if _, _, err := cases.Apply(c, park(at(30, 9, 0)), leadUnit, twice, last.Add(2*time.Hour)); err != nil {
			t.Errorf("second park under MaxParks 2: %v", err)
		}
	})

	t.Run("who resumes", func(t *testing.T) {
		c, last := reach(t, cases.Parked)
		now := last.Add(time.Hour)
		refused(t, c, cases.Command{Action: cases.ActResume}, coUnit, now, apperr.Refused)
		refused(t, c, cases.Command{Action: cases.ActResume}, otherUnit, now, apperr.Forbidden)
		for _, a := range []cases.Actor{leadUnit, commander, cases.System} {
			if n := must(t, c, cases.Command{Action: cases.ActResume}, a, now); n.State != cases.Handling || !n.ParkedUntil.IsZero() {
				t.Errorf("resume by %s: %s until %v", a.Name, n.State, n.ParkedUntil)
			}
		}
	})
}

// testParkResume parks a case in handling (lead signed, co-unit not) at
// Mon 9 March 09:30 and resumes it `days` later, when the original handling
// deadline (Thu 12 March) has long passed.
func testParkResume(t *testing.T, sev sla.Severity, days int) {
	c, _ := reachSev(t, cases.Handling, sev)
	c = must(t, c, cases.Command{Action: cases.ActParkRequest, Until: at(31, 18, 0), Note: "待管网改造"}, leadUnit, at(9, 9, 25))
	before := c.RunningClocks()
	if len(before) != 3 { // lead handle, co sign, co handle
		t.Fatalf("running before park: %v", before)
	}
	// The urgent co-unit sign clock (30 minutes from 09:10) has 10 minutes left.
	pausedAt := at(9, 9, 30)
	p, step, err := cases.Apply(c, cases.Command{Action: cases.ActParkApprove}, commander, pol, pausedAt)
	if err != nil {
		t.Fatal(err)
	}
	if p.State != cases.Parked || p.Parks != 1 || p.Park != nil || !p.ParkedUntil.Equal(at(31, 18, 0)) || step.To != cases.Parked {
		t.Fatalf("parked: state %s parks %d until %v", p.State, p.Parks, p.ParkedUntil)
	}
	if got := p.RunningClocks(); len(got) != 0 {
		t.Fatalf("running while parked: %v", got)
	}
	paused := map[string]sla.Clock{}
	for _, r := range before {
		tk := task(t, p, r.UnitID)
		clk := tk.Handle
		if r.Key == "task:"+r.UnitID+":sign" {
			clk = tk.Sign
		}
		if !clk.PausedAt.Equal(pausedAt) || clk.Due != r.Clock.Due {
			t.Fatalf("%s not paused at %v: %+v", r.Key, pausedAt, clk)
		}
		paused[r.Key] = clk
	}
	if p.Overdue(at(31, 9, 0)) {
		t.Fatal("a parked case shows overdue")
	}

	resumeAt := pausedAt.AddDate(0, 0, days) // a Monday, same time of day
	r := must(t, p, cases.Command{Action: cases.ActResume}, cases.System, resumeAt)
	if r.State != cases.Handling || r.WasOverdue {
		t.Fatalf("resumed: state %s was overdue %v", r.State, r.WasOverdue)
	}
	after := r.RunningClocks()
	if len(after) != len(before) {
		t.Fatalf("running after resume: %v", after)
	}
	for i, ref := range after {
		old := paused[ref.Key]
		if ref.Key != before[i].Key {
			t.Fatalf("clock %d is %s, was %s", i, ref.Key, before[i].Key)
		}
		var want time.Time
		if old.Limit.Unit.Working() {
			want = cal.AddWorking(resumeAt, cal.WorkingBetween(pausedAt, old.Due))
			// In ordinary weeks, N whole weeks parked move a working due by N weeks.
			if !want.Equal(old.Due.AddDate(0, 0, days)) {
				t.Errorf("%s: %v is not %d days after %v", ref.Key, want, days, old.Due)
			}
		} else {
			want = resumeAt.Add(old.Due.Sub(pausedAt))
		}
		if !ref.Clock.Due.Equal(want) {
			t.Errorf("%s: due %v, want %v", ref.Key, ref.Clock.Due, want)
		}
		if ref.Clock.Overdue(resumeAt) || ref.Clock.WasOverdue || ref.Clock.PausedFor != resumeAt.Sub(pausedAt) {
			t.Errorf("%s: overdue %v was %v paused for %v", ref.Key, ref.Clock.Overdue(resumeAt), ref.Clock.WasOverdue, ref.Clock.PausedFor)
		}
	}
	if r.Overdue(resumeAt.Add(time.Minute)) {
		t.Error("case overdue right after resuming")
	}
}

func TestReopen(t *testing.T) {
	c, last := reach(t, cases.Closed)
	c = must(t, c, cases.Command{Action: cases.ActRate, Rating: cases.Unsatisfied, Note: "又坏了"}, gridWorker, last.Add(time.Hour))
	now := last.Add(2 * time.Hour)
	err := refused(t, c, cases.Command{Action: cases.ActReopen}, commander, now, apperr.Invalid)
	wantField(t, err, "note")
	n := must(t, c, cases.Command{Action: cases.ActReopen, Note: "群众反映问题复发"}, commander, now)
	if n.State != cases.Accepted || n.Reopens != 1 || !n.ClosedAt.IsZero() || n.Rating != "" || n.RatingNote != "" {
		t.Fatalf("reopened: %s reopens %d closed %v rating %q", n.State, n.Reopens, n.ClosedAt, n.Rating)
	}
	if n.Stage != cases.StageDispatch || !n.Clock.Start.Equal(now) || !n.Clock.Due.Equal(now.Add(30*time.Minute)) || !n.Clock.Stopped.IsZero() {
		t.Fatalf("dispatch clock: stage %s %+v", n.Stage, n.Clock)
	}
	// The finished tasks are superseded.
	for _, tk := range n.Tasks {
		if tk.State != cases.TaskCancelled {
			t.Errorf("task %s %s, want cancelled", tk.UnitID, tk.State)
		}
	}
	if got := n.RunningClocks(); len(got) != 1 || got[0].Key != "case:dispatch" {
		t.Errorf("running %v", got)
	}
	// It can be dispatched again, to the same unit, with fresh tasks.
	d := must(t, n, cases.Command{Action: cases.ActDispatch, Lead: leadID}, commander, now.Add(time.Minute))
	if len(d.Tasks) != 3 || d.Units()[0] != leadID || len(d.Units()) != 1 {
		t.Errorf("tasks %d units %v", len(d.Tasks), d.Units())
	}
}

func TestEscalate(t *testing.T) {
	esc := func(parent string) cases.Command {
		return cases.Command{Action: cases.ActEscalate, Note: "街道协调不了", Parent: parent}
	}

	t.Run("moves the center", func(t *testing.T) {
		c, last := reach(t, cases.Handling)
		n, step, err := cases.Apply(c, esc(districtPath), commander, pol, last.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if n.CenterPath != districtPath || n.Escalations != 1 || n.State != cases.Handling || n.RegionPath != gridPath {
			t.Fatalf("center %s escalations %d state %s", n.CenterPath, n.Escalations, n.State)
		}
		if step.Data["from_center"] != streetPath || step.Data["to_center"] != districtPath {
			t.Errorf("step data %v", step.Data)
		}
		n = must(t, n, esc(cityPath), districtCm, last.Add(2*time.Minute))
		if n.CenterPath != cityPath || n.Escalations != 2 {
			t.Fatalf("center %s", n.CenterPath)
		}
		// The city center is the top: nowhere left to go, whoever asks.
		city := cases.Actor{AccountID: "acct-city", Name: "市指挥长", Role: cases.RoleCommander, RegionPath: cityPath}
		refused(t, n, esc("/"), city, last.Add(3*time.Minute), apperr.Refused)
		refused(t, n, esc(""), cases.System, last.Add(3*time.Minute), apperr.Refused)
		if cases.Allowed(&n, cases.ActEscalate, city) {
			t.Error("escalate offered at the top")
		}
	})

	t.Run("without parent", func(t *testing.T) {
		for _, st := range []cases.State{cases.Reported, cases.Accepted, cases.Parked} {
			c, last := reach(t, st)
			refused(t, c, esc(""), commander, last.Add(time.Minute), apperr.Refused)
			refused(t, c, esc(""), cases.System, last.Add(time.Minute), apperr.Refused)
		}
	})

	t.Run("street commander loses the case", func(t *testing.T) {
		c, last := reach(t, cases.Reported)
		c = must(t, c, esc(districtPath), cases.System, last.Add(time.Minute))
		now := last.Add(2 * time.Minute)
		if !cases.CanSee(commander, &c) {
			t.Fatal("the street still sees its escalated case")
		}
		for _, cmd := range []cases.Command{
			{Action: cases.ActAccept},
			{Action: cases.ActReject, Note: "不予受理"},
			{Action: cases.ActMerge, Target: "case-0"},
			esc(districtPath),
		} {
			refused(t, c, cmd, commander, now, apperr.Refused)
		}
		if len(cases.Actions(&c, commander)) != 2 { // urge and supervise remain
			t.Errorf("street commander offered %v", cases.Actions(&c, commander))
		}
		c = must(t, c, cases.Command{Action: cases.ActAccept}, districtCm, now)
		refused(t, c, cases.Command{Action: cases.ActDispatch, Lead: leadID}, commander, now, apperr.Refused)
		c = must(t, c, cases.Command{Action: cases.ActDispatch, Lead: leadID}, districtCm, now)
		c = must(t, c, cases.Command{Action: cases.ActSign}, leadUnit, now.Add(time.Minute))
		c = must(t, c, cases.Command{Action: cases.ActFeedback, Note: "完成"}, leadUnit, now.Add(time.Hour))
		refused(t, c, cases.Command{Action: cases.ActClose}, commander, now.Add(2*time.Hour), apperr.Refused)
		// Verifying with a pass closes the case, so the street commander may
		// not do that either; the grid worker still checks on site.
		refused(t, c, cases.Command{Action: cases.ActVerify, Passed: ptr(true)}, commander, now.Add(2*time.Hour), apperr.Refused)
		if n := must(t, c, cases.Command{Action: cases.ActVerify, Passed: ptr(true)}, gridWorker, now.Add(2*time.Hour)); n.State != cases.Closed {
			t.Errorf("grid worker verify: %s", n.State)
		}
		if n := must(t, c, cases.Command{Action: cases.ActClose, Note: "中心结案"}, districtCm, now.Add(2*time.Hour)); n.State != cases.Closed {
			t.Errorf("district close: %s", n.State)
		}
	})

	t.Run("district acts on a street case", func(t *testing.T) {
		c, last := reach(t, cases.Reported)
		n := must(t, c, cases.Command{Action: cases.ActAccept}, districtCm, last.Add(time.Minute))
		if n.State != cases.Accepted {
			t.Fatal(n.State)
		}
		refused(t, c, cases.Command{Action: cases.ActAccept}, siblingCm, last.Add(time.Minute), apperr.Forbidden)
	})
}

func TestRate(t *testing.T) {
	c, last := reach(t, cases.Closed)
	now := last.Add(time.Hour)
	rate := cases.Command{Action: cases.ActRate, Rating: cases.BasicSatisfied, Note: "修得还行"}
	if c.Reporter.AccountID != gridWorker.AccountID {
		t.Fatalf("reporter %q", c.Reporter.AccountID)
	}
	n, step, err := cases.Apply(c, rate, gridWorker, pol, now)
	if err != nil {
		t.Fatal(err)
	}
	if n.Rating != cases.BasicSatisfied || n.RatingNote != "修得还行" || n.State != cases.Closed || step.Data["rating"] != "basic_satisfied" {
		t.Fatalf("rating %q note %q", n.Rating, n.RatingNote)
	}
	// Only once, whoever asks.
	refused(t, n, rate, gridWorker, now.Add(time.Minute), apperr.Refused)
	refused(t, n, rate, commander, now.Add(time.Minute), apperr.Refused)

	// Only the reporter or the center.
	colleague := cases.Actor{AccountID: "acct-gw3", Name: "网格员王五", Role: cases.RoleGridWorker, RegionPath: gridPath}
	refused(t, c, rate, colleague, now, apperr.Refused)
	stranger := cases.Actor{AccountID: "acct-res", Name: "居民", Role: cases.RoleResident}
	refused(t, c, rate, stranger, now, apperr.Forbidden)
	refused(t, c, rate, leader, now, apperr.Refused)
	if n := must(t, c, rate, commander, now); n.Rating != cases.BasicSatisfied {
		t.Error("commander rating")
	}
	// A resident rates what the resident reported.
	res := cases.Actor{AccountID: "acct-res", Name: "居民", Role: cases.RoleResident}
	mine := c
	mine.Reporter.AccountID = res.AccountID
	must(t, mine, rate, res, now)
	// Rating is for closed cases only.
	open, last2 := reach(t, cases.FedBack)
	refused(t, open, rate, gridWorker, last2.Add(time.Minute), apperr.Refused)
}

func TestMerge(t *testing.T) {
	c, last := reach(t, cases.Accepted)
	now := last.Add(time.Minute)
	err := refused(t, c, cases.Command{Action: cases.ActMerge, Target: c.ID}, commander, now, apperr.Invalid)
	wantField(t, err, "target")
	n, step, err := cases.Apply(c, cases.Command{Action: cases.ActMerge, Target: "case-0"}, commander, pol, now)
	if err != nil {
		t.Fatal(err)
	}
	if n.State != cases.Merged || n.MergedInto != "case-0" || !n.ClosedAt.Equal(now) || n.Stage != "" || !n.Clock.Stopped.Equal(now) {
		t.Fatalf("merged: %s into %q", n.State, n.MergedInto)
	}
	if step.Data["target"] != "case-0" || len(n.RunningClocks()) != 0 {
		t.Errorf("data %v running %v", step.Data, n.RunningClocks())
	}
}

func TestReject(t *testing.T) {
	c, last := reach(t, cases.Reported)
	now := last.Add(time.Minute)
	n := must(t, c, cases.Command{Action: cases.ActReject, Note: "重复上报"}, commander, now)
	if n.State != cases.Rejected || !n.ClosedAt.Equal(now) || n.Stage != "" || !n.Clock.Stopped.Equal(now) || len(n.RunningClocks()) != 0 {
		t.Fatalf("rejected: %+v", n)
	}
}

func TestReturn(t *testing.T) {
	for _, st := range []cases.State{cases.Dispatched, cases.Handling} {
		t.Run("lead/"+string(st), func(t *testing.T) {
			c, last := reach(t, st)
			now := last.Add(time.Minute)
			c = must(t, c, cases.Command{Action: cases.ActExtendRequest, Note: "慢", Extension: sla.Limit{Amount: 1, Unit: sla.WorkDays}}, leadUnit, now)
			if st == cases.Handling {
				c = must(t, c, cases.Command{Action: cases.ActParkRequest, Note: "久", Until: at(20, 9, 0)}, leadUnit, now)
			}
			now = now.Add(time.Minute)
			n := must(t, c, cases.Command{Action: cases.ActReturn, Note: "不属于本单位职责"}, leadUnit, now)
			if n.State != cases.Accepted || n.Extension != nil || n.Park != nil || len(n.Units()) != 0 {
				t.Fatalf("state %s units %v", n.State, n.Units())
			}
			for _, tk := range n.Tasks {
				if tk.State != cases.TaskCancelled || tk.Handle.Stopped.IsZero() || tk.Sign.Stopped.IsZero() {
					t.Errorf("task %s: %s %+v", tk.UnitID, tk.State, tk.Handle)
				}
			}
			if n.Stage != cases.StageDispatch || !n.Clock.Start.Equal(now) || !n.Clock.Due.Equal(now.Add(30*time.Minute)) {
				t.Errorf("stage %s clock %+v", n.Stage, n.Clock)
			}
			// The center sends it on at once.
			d := must(t, n, cases.Command{Action: cases.ActDispatch, Lead: otherID}, commander, now.Add(time.Minute))
			if d.State != cases.Dispatched || d.Units()[0] != otherID {
				t.Errorf("redispatched to %v", d.Units())
			}
		})
	}

	t.Run("co-unit", func(t *testing.T) {
		c, last := reach(t, cases.Handling)
		now := last.Add(time.Minute)
		n, step, err := cases.Apply(c, cases.Command{Action: cases.ActReturn, Note: "非本单位职责"}, coUnit, pol, now)
		if err != nil {
			t.Fatal(err)
		}
		if n.State != cases.Handling || step.Data["co_unit"] != coID {
			t.Fatalf("state %s data %v", n.State, step.Data)
		}
		ct, lt := task(t, n, coID), task(t, n, leadID)
		if ct.State != cases.TaskCancelled || !ct.Sign.Stopped.Equal(now) || !ct.Handle.Stopped.Equal(now) {
			t.Errorf("co task %+v", ct)
		}
		if !reflect.DeepEqual(lt, task(t, c, leadID)) {
			t.Errorf("lead task changed: %+v", lt)
		}
		if u := n.Units(); len(u) != 1 || u[0] != leadID {
			t.Errorf("units %v", u)
		}
	})
}

func TestRedispatch(t *testing.T) {
	c, last := reach(t, cases.Handling)
	now := last.Add(time.Minute)
	c = must(t, c, cases.Command{Action: cases.ActParkRequest, Note: "久", Until: at(20, 9, 0)}, leadUnit, now)
	now = now.Add(time.Minute)
	n := must(t, c, cases.Command{Action: cases.ActRedispatch, Lead: otherID, Co: []string{leadID}, Note: "改由城管处置"}, commander, now)
	if n.State != cases.Dispatched || n.Park != nil || len(n.Tasks) != 4 {
		t.Fatalf("state %s tasks %d", n.State, len(n.Tasks))
	}
	if u := n.Units(); len(u) != 2 || u[0] != otherID || u[1] != leadID {
		t.Fatalf("units %v", u)
	}
	for _, tk := range n.Tasks[:2] {
		if tk.State != cases.TaskCancelled {
			t.Errorf("old task %s %s", tk.UnitID, tk.State)
		}
	}
	for _, tk := range n.Tasks[2:] {
		if tk.State != cases.TaskDispatched || !tk.DispatchedAt.Equal(now) || !tk.Sign.Start.Equal(now) || !tk.Handle.Start.Equal(now) {
			t.Errorf("new task %+v", tk)
		}
	}
	// The old lead, now a co-unit, must sign its new task.
	refused(t, n, cases.Command{Action: cases.ActFeedback, Note: "x"}, leadUnit, now, apperr.Refused)
}

func TestAcceptCorrectsSeverity(t *testing.T) {
	c, last := reach(t, cases.Reported)
	now := last.Add(time.Minute)
	n, step, err := cases.Apply(c, cases.Command{Action: cases.ActAccept, Severity: sla.Urgent}, commander, pol, now)
	if err != nil {
		t.Fatal(err)
	}
	if n.Severity != sla.Urgent || step.Data["was"] != "normal" || !n.Clock.Due.Equal(now.Add(10*time.Minute)) || n.Stage != cases.StageDispatch {
		t.Fatalf("severity %s due %v data %v", n.Severity, n.Clock.Due, step.Data)
	}
	if !c.Clock.Stopped.IsZero() || c.Severity != sla.Normal {
		t.Fatal("input changed")
	}
	d := must(t, n, cases.Command{Action: cases.ActDispatch, Lead: leadID}, commander, now.Add(time.Minute))
	if got := task(t, d, leadID).Handle.Limit; got != limitOf(sla.Handle, sla.Urgent) {
		t.Errorf("urgent handle limit %v", got)
	}
}

func TestUrgeSuperviseWarn(t *testing.T) {
	c, last := reach(t, cases.Handling)
	now := last.Add(time.Minute)
	n := must(t, c, cases.Command{Action: cases.ActUrge}, leader, now)
	n = must(t, n, cases.Command{Action: cases.ActUrge}, commander, now)
	n = must(t, n, cases.Command{Action: cases.ActSupervise, Note: "限期办结"}, leader, now)
	if n.Urges != 2 || !n.Supervised || n.State != cases.Handling {
		t.Fatalf("urges %d supervised %v", n.Urges, n.Supervised)
	}
	for _, lvl := range []string{"", "green", "RED"} {
		err := refused(t, c, cases.Command{Action: cases.ActWarn, Level: lvl}, cases.System, now, apperr.Invalid)
		wantField(t, err, "level")
	}
	_, step, err := cases.Apply(c, cases.Command{Action: cases.ActWarn, Level: "yellow", Clock: "task:u-lead:handle"}, cases.System, pol, now)
	if err != nil || step.Data["level"] != "yellow" || step.Data["clock"] != "task:u-lead:handle" {
		t.Fatalf("warn: %v %v", err, step.Data)
	}
}

// TestCloseWithUnfinishedTasks: the center may close a joint case whose
// co-unit never fed back only with a note; that task stays unfinished (and
// overdue if its clock ran out) and is never counted as done.
func TestCloseWithUnfinishedTasks(t *testing.T) {
	c, last := reach(t, cases.FedBack)
	if task(t, c, coID).State == cases.TaskFedBack {
		t.Fatal("the standard case's co-unit has fed back; this test needs one that has not")
	}
	late := last.Add(30 * 24 * time.Hour) // long after every clock ran out
	err := refused(t, c, cases.Command{Action: cases.ActClose}, commander, late, apperr.Invalid)
	wantField(t, err, "note")
	n, step, err := cases.Apply(c, cases.Command{Action: cases.ActClose, Note: "协办单位逾期未反馈，主办已整改到位"}, commander, pol, late)
	if err != nil {
		t.Fatal(err)
	}
	if got := step.Data["unfinished"]; !reflect.DeepEqual(got, []string{coID}) {
		t.Errorf("step names unfinished %v", got)
	}
	co, lead := task(t, n, coID), task(t, n, leadID)
	if co.State != cases.TaskUnfinished || lead.State != cases.TaskDone {
		t.Fatalf("co %s lead %s", co.State, lead.State)
	}
	if !co.Handle.WasOverdue || co.Handle.Stopped.IsZero() || !n.WasOverdue {
		t.Errorf("the unfinished overdue task keeps the fact: handle %+v, case was overdue %v", co.Handle, n.WasOverdue)
	}
}

// TestCoUnitFinishesAfterLead: after the lead fed back, the co-unit can
// still sign and feed back its own task; the case waits for verification
// meanwhile, and on close both tasks are done.
func TestCoUnitFinishesAfterLead(t *testing.T) {
	c, last := reach(t, cases.FedBack)
	now := last.Add(10 * time.Minute)
	co := unitActor(coID)
	refused(t, c, cases.Command{Action: cases.ActFeedback, Note: "已配合"}, co, now, apperr.Refused) // not signed yet
	c = must(t, c, cases.Command{Action: cases.ActSign}, co, now)
	c = must(t, c, cases.Command{Action: cases.ActFeedback, Note: "已配合处置"}, co, now.Add(time.Minute))
	if c.State != cases.FedBack || c.Stage != cases.StageVerify || task(t, c, coID).State != cases.TaskFedBack {
		t.Fatalf("state %s stage %s co %s", c.State, c.Stage, task(t, c, coID).State)
	}
	refused(t, c, cases.Command{Action: cases.ActFeedback, Note: "再次反馈"}, co, now.Add(2*time.Minute), apperr.Refused)
	n := must(t, c, cases.Command{Action: cases.ActVerify, Passed: ptr(true)}, gridWorker, now.Add(time.Hour))
	for _, tk := range n.Tasks {
		if tk.State != cases.TaskDone {
			t.Errorf("task %s %s", tk.UnitID, tk.State)
		}
	}
}

// TestHandDown: an escalated case handed down to the street keeps its
// state; the street gets a fresh clock for that stage, the district's clock
// stops; the step names both centers.
func TestHandDown(t *testing.T) {
	c, last := reach(t, cases.Accepted)
	now := last.Add(time.Hour)
	c = must(t, c, cases.Command{Action: cases.ActEscalate, Parent: districtPath, Note: "需区里协调"}, commander, now)
	// The district gets its own time to dispatch.
	if c.Stage != cases.StageDispatch || !c.Clock.Start.Equal(now) || !c.Clock.Stopped.IsZero() {
		t.Fatalf("escalated: stage %s clock %+v", c.Stage, c.Clock)
	}
	refused(t, c, cases.Command{Action: cases.ActHandDown, Parent: streetPath}, districtCm, now, apperr.Invalid)
	refused(t, c, cases.Command{Action: cases.ActHandDown, Parent: districtPath, Note: "x"}, districtCm, now, apperr.Refused)
	later := now.Add(10 * time.Minute)
	n, step, err := cases.Apply(c, cases.Command{Action: cases.ActHandDown, Parent: streetPath, Note: "属街道清单事项"}, districtCm, pol, later)
	if err != nil {
		t.Fatal(err)
	}
	if n.State != cases.Accepted || n.CenterPath != streetPath || n.Stage != cases.StageDispatch || !n.Clock.Start.Equal(later) {
		t.Fatalf("handed down: %s center %s stage %s clock %+v", n.State, n.CenterPath, n.Stage, n.Clock)
	}
	if step.Data["from_center"] != districtPath || step.Data["to_center"] != streetPath {
		t.Errorf("step data %v", step.Data)
	}
	// The street acts on it again.
	must(t, n, cases.Command{Action: cases.ActDispatch, Lead: leadID}, commander, later.Add(time.Minute))
}
