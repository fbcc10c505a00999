package cases

import (
	"fmt"
	"strings"
	"time"

	"zhizhi/internal/sla"
)

// Supervision is the deadline of one supervision (督办) of the case: who
// pressed it and by when it must be closed. Its clock runs on the official
// calendar from the supervise step, pauses while the case is parked like the
// case's other clocks, and stops when the case ends; the sweeper warns
// yellow and red on it like any clock (key "supervise:<id>"), and the red
// warning marks it Late. It never escalates the case (CaseClock).
type Supervision struct {
	ID             string    `json:"id"`
	SupervisorID   string    `json:"supervisor_id,omitempty"`
	SupervisorName string    `json:"supervisor_name,omitempty"`
	Limit          sla.Limit `json:"limit"`
	Clock          sla.Clock `json:"clock"`
	Late           bool      `json:"late,omitempty"` // its red warning fired, or the case ended past its due
}

// OnTime reports whether the case closed by the supervision's deadline.
func (s Supervision) OnTime(c *Case) bool {
	return c.State == Closed && !s.Late && !s.Clock.WasOverdue && !s.Clock.Stopped.IsZero()
}

const superviseKeyPrefix = "supervise:"

// SupervisionKey is the sweeper's key of a supervision's clock.
func SupervisionKey(id string) string { return superviseKeyPrefix + id }

// SupervisionOf returns the supervision with the ID, or false.
func (c *Case) SupervisionOf(id string) (Supervision, bool) {
	for _, s := range c.Supervisions {
		if s.ID == id {
			return s, true
		}
	}
	return Supervision{}, false
}

// supervise starts a supervision's clock when the command carries a
// deadline (a supervise step without one only marks the case supervised).
// The step's data carries the supervision's ID, its limit and its due.
func (n *Case) supervise(step *Step, cmd Command, actor Actor, p Policy, now time.Time) error {
	if cmd.SuperviseBy.Amount == 0 {
		return nil
	}
	if err := cmd.SuperviseBy.Validate(); err != nil {
		return err
	}
	sid := cmd.SuperviseID
	if sid == "" {
		sid = fmt.Sprintf("%d", n.Version+1)
	}
	if _, ok := n.SupervisionOf(sid); ok {
		return refuse("该督办已记录")
	}
	sv := Supervision{ID: sid, SupervisorID: actor.AccountID, SupervisorName: actor.Name, Limit: cmd.SuperviseBy,
		Clock: sla.Start(p.Calendar, now, cmd.SuperviseBy, p.YellowShare)}
	if n.State == Parked {
		// Started while the case is parked: it counts from the resume.
		if c, err := sv.Clock.Pause(now); err == nil {
			sv.Clock = c
		}
	}
	n.Supervisions = append(n.Supervisions, sv)
	step.Data = map[string]any{"supervision_id": sid, "limit": sv.Limit.String(), "due": sv.Clock.Due}
	return nil
}

// warnSupervision is the sweeper's warning of a supervision's clock: yellow
// as the deadline nears, red (督办超期) when it ran out, which marks the
// supervision late.
func (n *Case) warnSupervision(step *Step, sid, level string, loc *time.Location, now time.Time) error {
	i := -1
	for j := range n.Supervisions {
		if n.Supervisions[j].ID == sid {
			i = j
		}
	}
	if i < 0 {
		return refuse("没有该督办计时")
	}
	sv := &n.Supervisions[i]
	if !running(sv.Clock) {
		return refuse("督办计时已结束")
	}
	if level == "yellow" && now.After(sv.Clock.Due) {
		return refuse("督办计时已超期")
	}
	step.Data["supervision_id"] = sid
	who := sv.SupervisorName
	if who == "" {
		who = "领导"
	}
	due := sv.Clock.Due.In(loc).Format("2006-01-02 15:04")
	if level == "red" {
		sv.Late = true
		if step.Note == "" {
			step.Note = fmt.Sprintf("督办超期：%s督办限%s内办结（%s前），仍未办结", who, sv.Limit.String(), due)
		}
	} else if step.Note == "" {
		step.Note = fmt.Sprintf("督办即将到期：%s督办限%s内办结（%s前）", who, sv.Limit.String(), due)
	}
	return nil
}

// endSupervisions stops the supervisions' clocks when the case ends: a
// supervision whose deadline had run out stays late.
func (n *Case) endSupervisions(now time.Time) {
	for i := range n.Supervisions {
		sv := &n.Supervisions[i]
		sv.Clock = stop(sv.Clock, now)
		sv.Late = sv.Late || sv.Clock.WasOverdue
	}
}

func (n *Case) eachSupervisionClock(fn func(*sla.Clock)) {
	for i := range n.Supervisions {
		fn(&n.Supervisions[i].Clock)
	}
}

// supervisionClocks lists the running supervision clocks.
func (c *Case) supervisionClocks() []ClockRef {
	var out []ClockRef
	for _, sv := range c.Supervisions {
		if running(sv.Clock) {
			out = append(out, ClockRef{Key: SupervisionKey(sv.ID), Clock: sv.Clock})
		}
	}
	return out
}

// SupervisionClock reports whether a clock key is a supervision's.
func SupervisionClock(key string) bool { return strings.HasPrefix(key, superviseKeyPrefix) }
