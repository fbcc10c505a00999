package cases

import (
	"fmt"
	"strings"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/sla"
)

// Stage names used to look up limits; they match the sla table's stages.
const (
	limitAccept   = "accept"
	limitDispatch = "dispatch"
	limitSign     = "sign"
	limitHandle   = "handle"
	limitVerify   = "verify"
)

func (p Policy) start(stage string, sev sla.Severity, now time.Time) sla.Clock {
	return sla.Start(p.Calendar, now, p.Limit(stage, sev), p.YellowShare)
}

// effect carries out what an action does beyond the table's target state.
func effect(n *Case, step *Step, cmd Command, actor Actor, p Policy, now time.Time) error {
	switch cmd.Action {
	case ActAccept:
		if cmd.Severity != "" && cmd.Severity != n.Severity {
			step.Data = map[string]any{"severity": string(cmd.Severity), "was": string(n.Severity)}
			n.Severity = cmd.Severity
		}
		n.stopCaseClock(now)
		n.Stage, n.Clock = StageDispatch, p.start(limitDispatch, n.Severity, now)

	case ActRelease:
		release(n, now, p)

	case ActReject:
		n.stopCaseClock(now)
		n.Stage = ""
		n.ClosedAt = now

	case ActMerge:
		if cmd.Target == n.ID {
			return apperr.Field("target", "不能合并到自身")
		}
		n.stopCaseClock(now)
		n.Stage = ""
		n.MergedInto = cmd.Target
		n.ClosedAt = now
		step.Data = map[string]any{"target": cmd.Target}

	case ActDispatch:
		n.stopCaseClock(now)
		n.Stage = ""
		n.dispatch(cmd, p, now)
		step.Data = map[string]any{"lead_unit": cmd.Lead, "co_units": cmd.Co}
		n.routedUnder(cmd, step)

	case ActRedispatch:
		n.cancelTasks(now)
		n.Extension, n.Park = nil, nil
		n.dispatch(cmd, p, now)
		step.Data = map[string]any{"lead_unit": cmd.Lead, "co_units": cmd.Co}
		n.routedUnder(cmd, step)

	case ActSign:
		i := n.TaskOf(actor.UnitID)
		t := &n.Tasks[i]
		t.State, t.SignedAt = TaskSigned, now
		t.Sign = stop(t.Sign, now)
		if t.Role == Lead {
			n.State = Handling
		}

	case ActHandle:
		// A progress note: the timeline step is the whole effect.

	case ActFeedback:
		i := n.TaskOf(actor.UnitID)
		t := &n.Tasks[i]
		t.State, t.FedBackAt = TaskFedBack, now
		t.Feedback, t.Photos = step.Note, cmd.Photos
		t.Handle = stop(t.Handle, now)
		if n.Extension != nil && n.Extension.UnitID == t.UnitID {
			n.Extension = nil // a finished task needs no more time
		}
		if t.Role == Lead {
			n.State = FedBack
			n.Stage, n.Clock = StageVerify, p.start(limitVerify, n.Severity, now)
		}

	case ActVerify:
		if *cmd.Passed {
			// Passing closes the case. A co-unit that has not fed back would
			// be left unfinished: only the center may do that, saying why.
			open := n.unfinishedUnits()
			if len(open) > 0 {
				if actor.Role != RoleCommander {
					return refuse("尚有%d个协办单位未反馈，核查通过即结案：请待其反馈后再核查，或由指挥中心说明理由后结案", len(open))
				}
				if step.Note == "" {
					return apperr.Field("note", "尚有协办单位未反馈，结案后其任务记为未完成，请说明结案理由")
				}
			}
			n.stopCaseClock(now)
			n.Stage = ""
			n.close(now)
			step.Data = map[string]any{"passed": true}
			if len(open) > 0 {
				step.Data["unfinished"] = open
			}
			break
		}
		n.stopCaseClock(now)
		n.Stage = ""
		// Rework: back to the same lead unit, with a fresh handling clock.
		i := n.LeadTask()
		t := &n.Tasks[i]
		t.State, t.FedBackAt, t.Feedback, t.Photos = TaskSigned, time.Time{}, "", nil
		t.Reworks++
		t.Handle = p.start(limitHandle, n.Severity, now)
		n.Reworks++
		n.State = Handling
		step.Data = map[string]any{"passed": false, "rework": n.Reworks}

	case ActClose:
		// Closing while a unit has not fed back leaves its task unfinished:
		// the center must say why, and the step names the units.
		open := n.unfinishedUnits()
		if len(open) > 0 {
			if step.Note == "" {
				return apperr.Field("note", "尚有协办单位未反馈，结案后其任务记为未完成，请说明结案理由")
			}
			step.Data = map[string]any{"unfinished": open}
		}
		n.stopCaseClock(now)
		n.Stage = ""
		n.close(now)

	case ActComment:
		step.Data = cmd.Client.data()

	case ActRate:
		n.Rating, n.RatingNote = cmd.Rating, step.Note
		step.Data = map[string]any{"rating": string(cmd.Rating)}

	case ActReturn:
		i := n.TaskOf(actor.UnitID)
		if n.Tasks[i].Role == Co {
			// A co-unit that does not belong steps out (also while the case
			// waits for verification); the case goes on.
			if n.Extension != nil && n.Extension.UnitID == actor.UnitID {
				n.Extension = nil
			}
			n.Tasks[i].State = TaskCancelled
			n.Tasks[i].Sign = stop(n.Tasks[i].Sign, now)
			n.Tasks[i].Handle = stop(n.Tasks[i].Handle, now)
			step.Data = map[string]any{"co_unit": actor.UnitID}
			break
		}
		n.cancelTasks(now)
		n.Extension, n.Park = nil, nil
		n.State = Accepted
		n.Stage, n.Clock = StageDispatch, p.start(limitDispatch, n.Severity, now)

	case ActExtendRequest:
		i := n.TaskOf(actor.UnitID)
		if n.Tasks[i].Extensions >= p.MaxExtensions {
			return refuse("延期次数已达上限（%d次）", p.MaxExtensions)
		}
		n.Extension = &ExtensionRequest{UnitID: actor.UnitID, By: cmd.Extension, Reason: step.Note, At: now}
		step.Data = map[string]any{"by": cmd.Extension.String()}

	case ActExtendApprove:
		e := n.Extension
		n.Extension = nil
		i := n.TaskOf(e.UnitID)
		if i < 0 {
			return refuse("申请延期的单位已不在该案件上")
		}
		t := &n.Tasks[i]
		if t.State == TaskDispatched {
			c, err := t.Sign.Extend(p.Calendar, e.By)
			if err != nil {
				return err
			}
			t.Sign = c
		}
		c, err := t.Handle.Extend(p.Calendar, e.By)
		if err != nil {
			return err
		}
		t.Handle = c
		t.Extensions++
		step.Data = map[string]any{"unit_id": e.UnitID, "by": e.By.String(), "due": t.Handle.Due}

	case ActExtendDeny:
		step.Data = map[string]any{"unit_id": n.Extension.UnitID}
		n.Extension = nil

	case ActParkRequest:
		if n.Parks >= p.MaxParks {
			return refuse("挂账次数已达上限（%d次）", p.MaxParks)
		}
		if !cmd.Until.After(now) {
			return apperr.Field("until", "挂账截止时间必须晚于现在")
		}
		if cmd.Until.After(now.AddDate(0, 0, p.MaxParkDays)) {
			return apperr.Field("until", fmt.Sprintf("挂账不能超过%d天", p.MaxParkDays))
		}
		n.Park = &ParkRequest{UnitID: actor.UnitID, Until: cmd.Until, Reason: step.Note, At: now}
		step.Data = map[string]any{"until": cmd.Until}

	case ActParkApprove:
		until := n.Park.Until
		if !until.After(now) {
			return refuse("挂账截止时间已过，请驳回后重新申请")
		}
		n.Park = nil
		n.Parks++
		n.ParkedUntil = until
		n.pauseClocks(now)
		step.Data = map[string]any{"until": until}

	case ActParkDeny:
		n.Park = nil

	case ActResume:
		n.ParkedUntil = time.Time{}
		n.resumeClocks(p, now)

	case ActReopen:
		n.Reopens++
		n.ClosedAt = time.Time{}
		n.Rating, n.RatingNote = "", ""
		for i := range n.Tasks {
			if n.Tasks[i].State == TaskDone {
				n.Tasks[i].State = TaskCancelled
			}
		}
		n.Stage, n.Clock = StageDispatch, p.start(limitDispatch, n.Severity, now)
		if cmd.Client != nil {
			step.Data = cmd.Client.data()
		}

	case ActEscalate:
		if cmd.Parent == "" {
			return refuse("找不到上级指挥中心")
		}
		step.Data = map[string]any{"from_center": n.CenterPath, "to_center": cmd.Parent}
		n.CenterPath = cmd.Parent
		n.Escalations++
		// Before dispatch, the upper center gets its own time to accept or
		// dispatch; the lower center's clock stops where it was (keeping
		// "was overdue"). Once dispatched, the units' clocks run on.
		switch n.State {
		case Reported:
			n.stopCaseClock(now)
			n.Clock = p.start(limitAccept, n.Severity, now)
		case Accepted:
			n.stopCaseClock(now)
			n.Clock = p.start(limitDispatch, n.Severity, now)
		}

	case ActHandDown:
		if len(cmd.Parent) <= len(n.CenterPath) || !strings.HasPrefix(cmd.Parent, n.CenterPath) {
			return refuse("找不到下级指挥中心")
		}
		step.Data = map[string]any{"from_center": n.CenterPath, "to_center": cmd.Parent}
		n.CenterPath = cmd.Parent
		// The lower center gets its own time for the stage the case is in
		// (to accept, or to dispatch); the upper center's clock stops where
		// it was, keeping "was overdue" if it ran out.
		limit := limitAccept
		if n.State == Accepted {
			limit = limitDispatch
		}
		n.stopCaseClock(now)
		n.Clock = p.start(limit, n.Severity, now)

	case ActUrge:
		n.Urges++

	case ActVolunteer:
		v := *cmd.Volunteer
		for _, x := range n.Volunteers {
			if x.GroupID == v.GroupID {
				return refuse("该志愿服务队已在协办此案件")
			}
		}
		n.Volunteers = append(n.Volunteers, v)
		step.Data = map[string]any{"group_id": v.GroupID, "group": v.Name}

	case ActSupervise:
		n.Supervised = true
		return n.supervise(step, cmd, actor, p, now)

	case ActPlace:
		if cmd.Place == nil || cmd.Place.GridCode == "" {
			return apperr.Field("point", "该位置不在任何网格内")
		}
		step.Data = map[string]any{"from_grid": n.GridCode, "to_grid": cmd.Place.GridCode}
		p := *cmd.Point
		n.Point = &p
		n.GridCode, n.RegionPath = cmd.Place.GridCode, cmd.Place.RegionPath
		if n.Escalations == 0 {
			// Not escalated: the case belongs to the street of its place.
			n.CenterPath = cmd.Place.CenterPath
		}

	case ActWarn:
		if cmd.Level != "yellow" && cmd.Level != "red" {
			return apperr.Field("level", "预警级别无效")
		}
		step.Data = map[string]any{"clock": cmd.Clock, "level": cmd.Level}
		if sid, ok := strings.CutPrefix(cmd.Clock, superviseKeyPrefix); ok {
			loc := time.Local
			if p.Calendar != nil {
				loc = p.Calendar.Location()
			}
			return n.warnSupervision(step, sid, cmd.Level, loc, now)
		}
		return n.warnWhistle(step, cmd, now)

	case ActWhistle, ActReportIn, ActLeave, ActRateParty, ActMeeting, ActDecisionDone:
		return whistleEffect(n, step, cmd, actor, p, now)

	case ActAppeal, ActAppealReview, ActAppealDecide:
		return appealEffect(n, step, cmd, actor, now)

	case ActReturnVisit:
		return visitEffect(n, step, cmd)
	}
	return nil
}

// routedUnder keeps the library entry a dispatch was checked against, on the
// case and in the step.
func (n *Case) routedUnder(cmd Command, step *Step) {
	if cmd.Rule == nil {
		return
	}
	r := *cmd.Rule
	n.Rule = &r
	step.Data["rule"] = map[string]any{"category": r.Category, "version": r.Version, "level": r.Level}
}

// dispatch creates the lead and co-unit tasks with their own clocks.
func (n *Case) dispatch(cmd Command, p Policy, now time.Time) {
	add := func(unit string, role TaskRole) {
		n.Tasks = append(n.Tasks, Task{
			UnitID: unit, Role: role, State: TaskDispatched, DispatchedAt: now,
			Sign:   p.start(limitSign, n.Severity, now),
			Handle: p.start(limitHandle, n.Severity, now),
		})
	}
	add(cmd.Lead, Lead)
	for _, u := range cmd.Co {
		add(u, Co)
	}
}

func (n *Case) cancelTasks(now time.Time) {
	for i := range n.Tasks {
		t := &n.Tasks[i]
		if t.Active() {
			t.State = TaskCancelled
			t.Sign = stop(t.Sign, now)
			t.Handle = stop(t.Handle, now)
		}
	}
}

// unfinishedUnits lists the units whose active task has not fed back: the
// tasks a close now would leave unfinished.
func (n *Case) unfinishedUnits() []string {
	var open []string
	for _, t := range n.Tasks {
		if t.Active() && t.State != TaskFedBack {
			open = append(open, t.UnitID)
		}
	}
	return open
}

// close ends the case. A unit's task is done only if the unit fed back; a
// task never finished stays unfinished, its clocks stopped where they were
// (an overdue one keeps "was overdue"), so no page or figure counts it done.
func (n *Case) close(now time.Time) {
	n.State = Closed
	n.ClosedAt = now
	for i := range n.Tasks {
		t := &n.Tasks[i]
		if !t.Active() {
			continue
		}
		if t.State == TaskFedBack {
			t.State = TaskDone
		} else {
			t.State = TaskUnfinished
		}
		t.Sign = stop(t.Sign, now)
		t.Handle = stop(t.Handle, now)
	}
}

func (n *Case) stopCaseClock(now time.Time) {
	n.Clock = stop(n.Clock, now)
}

func (n *Case) pauseClocks(now time.Time) {
	n.Clock = pause(n.Clock, now)
	n.eachWhistleClock(func(c *sla.Clock) { *c = pause(*c, now) })
	n.eachSupervisionClock(func(c *sla.Clock) { *c = pause(*c, now) })
	for i := range n.Tasks {
		if n.Tasks[i].Active() {
			n.Tasks[i].Sign = pause(n.Tasks[i].Sign, now)
			n.Tasks[i].Handle = pause(n.Tasks[i].Handle, now)
		}
	}
}

func (n *Case) resumeClocks(p Policy, now time.Time) {
	n.Clock = resume(n.Clock, p, now)
	n.eachWhistleClock(func(c *sla.Clock) { *c = resume(*c, p, now) })
	n.eachSupervisionClock(func(c *sla.Clock) { *c = resume(*c, p, now) })
	for i := range n.Tasks {
		if n.Tasks[i].Active() {
			n.Tasks[i].Sign = resume(n.Tasks[i].Sign, p, now)
			n.Tasks[i].Handle = resume(n.Tasks[i].Handle, p, now)
		}
	}
}

// running reports whether a clock is started and neither stopped nor paused.
func running(c sla.Clock) bool {
	return !c.Start.IsZero() && c.Stopped.IsZero() && c.PausedAt.IsZero()
}

// stop ends a running or paused clock; an unstarted or stopped one is kept.
func stop(c sla.Clock, now time.Time) sla.Clock {
	if c.Start.IsZero() || !c.Stopped.IsZero() {
		return c
	}
	if !c.PausedAt.IsZero() {
		// A paused clock stops where it was paused; the time parked does not count.
		s, err := c.Stop(c.PausedAt)
		if err == nil {
			return s
		}
		return c
	}
	s, err := c.Stop(now)
	if err != nil {
		return c
	}
	return s
}

func pause(c sla.Clock, now time.Time) sla.Clock {
	if !running(c) {
		return c
	}
	s, err := c.Pause(now)
	if err != nil {
		return c
	}
	return s
}

func resume(c sla.Clock, p Policy, now time.Time) sla.Clock {
	if c.Start.IsZero() || !c.Stopped.IsZero() || c.PausedAt.IsZero() {
		return c
	}
	s, err := c.Resume(p.Calendar, now)
	if err != nil {
		return c
	}
	return s
}

// clocksOverdue reports whether any running clock of the case is past due.
func clocksOverdue(n *Case, now time.Time) bool {
	if n.Clock.WasOverdue || (running(n.Clock) && now.After(n.Clock.Due)) {
		return true
	}
	for _, t := range n.Tasks {
		for _, c := range []sla.Clock{t.Sign, t.Handle} {
			if c.WasOverdue || (running(c) && now.After(c.Due)) {
				return true
			}
		}
	}
	return false
}

// ClockRef is one running clock of a case, as the sweeper stores it.
type ClockRef struct {
	// "case:accept", "task:<unit>:sign", "task:<unit>:handle",
	// "whistle:<wid>:<party key>:report_in", "meeting:<mid>:<did>"
	Key    string
	UnitID string
	Clock  sla.Clock
}

// RunningClocks lists the clocks that are counting now, for the sweeper.
func (c *Case) RunningClocks() []ClockRef {
	var out []ClockRef
	if running(c.Clock) && c.Stage != "" {
		out = append(out, ClockRef{Key: "case:" + string(c.Stage), Clock: c.Clock})
	}
	for _, t := range c.Tasks {
		if !t.Active() {
			continue
		}
		if running(t.Sign) {
			out = append(out, ClockRef{Key: "task:" + t.UnitID + ":sign", UnitID: t.UnitID, Clock: t.Sign})
		}
		if running(t.Handle) {
			out = append(out, ClockRef{Key: "task:" + t.UnitID + ":handle", UnitID: t.UnitID, Clock: t.Handle})
		}
	}
	out = append(out, c.whistleClocks()...)
	return append(out, c.supervisionClocks()...)
}

// HeadlineClocks are the running clocks the case's own countdown may show
// (the case page's headline, a row in a list): all of RunningClocks, except
// while the case waits for verification. Then the case's clock is the
// verify clock (and any party's or decision's): a co-unit still signing or
// handling runs its own clocks, shown on its task and in its own inbox,
// never as the case's headline.
func (c *Case) HeadlineClocks() []ClockRef {
	all := c.RunningClocks()
	if c.State != FedBack {
		return all
	}
	out := all[:0:0]
	for _, r := range all {
		if !strings.HasPrefix(r.Key, "task:") {
			out = append(out, r)
		}
	}
	return out
}

// SignStatus is the colour of the task's sign clock as pages show it. A
// clock that stopped without the unit signing (the case closed over it, or
// the task was withdrawn) is not "done on time": it is undone, and undone
// late when it had run out.
func (t Task) SignStatus(now time.Time) sla.Status {
	return taskClockStatus(t.Sign, !t.SignedAt.IsZero(), now)
}

// HandleStatus is the colour of the task's handling clock as pages show it:
// undone (or undone late) when it stopped without the unit feeding back.
func (t Task) HandleStatus(now time.Time) sla.Status {
	return taskClockStatus(t.Handle, !t.FedBackAt.IsZero(), now)
}

func taskClockStatus(c sla.Clock, done bool, now time.Time) sla.Status {
	if c.Due.IsZero() {
		return ""
	}
	st := c.Status(now)
	if c.Stopped.IsZero() || done {
		return st
	}
	if c.WasOverdue {
		return sla.UndoneLate
	}
	return sla.Undone
}

// ParkTimer is the key of the timer that ends a park.
const ParkTimer = "park:until"

// Timers are what the sweeper watches: the running clocks and, while the
// case is parked, the timer at the park's end, which resumes it (claimed
// once, like any clock, across restarts and nodes). The park timer is not a
// deadline: it is neither in RunningClocks nor in Overdue.
func (c *Case) Timers() []ClockRef {
	out := c.RunningClocks()
	if c.State == Parked && !c.ParkedUntil.IsZero() {
		out = append(out, ClockRef{Key: ParkTimer, Clock: sla.Clock{Start: c.UpdatedAt, Due: c.ParkedUntil, YellowAt: c.ParkedUntil}})
	}
	return out
}

// Overdue reports whether any running clock of the case is past due at now.
func (c *Case) Overdue(now time.Time) bool {
	for _, r := range c.RunningClocks() {
		if now.After(r.Clock.Due) {
			return true
		}
	}
	return false
}

// data is what a client update leaves in its step's data.
func (u *ClientUpdate) data() map[string]any {
	if u == nil {
		return nil
	}
	d := map[string]any{"client": u.Key, "update_id": u.UpdateID}
	if u.Name != "" {
		d["name"] = u.Name
	}
	if u.MediaURL != "" {
		d["media_url"] = u.MediaURL
	}
	return d
}
