package cases

import (
	"time"

	"zhizhi/internal/sla"
)

// Holding (待甄别, issue 20). A flood on an anonymous door (one client or one
// phone sending many reports, or the door as a whole taking more than it
// ever does) must not fill the center's live queue with clocks running. The
// service still takes every such report, so an acknowledged report is never
// lost, but it is born Held: no clock runs, it is not in the live queue, and
// the evaluation does not count it. The center screens the holding queue:
// release (放行) starts the case as if it had just been reported (the accept
// clock starts then), reject (不予受理) ends it like any rejected report.
// A case rejected while held never entered the loop: the evaluation leaves it
// out too (Hold set, Released zero).

// HoldReason says why a report was held.
type HoldReason string

// The reasons a report is held.
const (
	HoldClient HoldReason = "client" // one client address sent many reports
	HoldPhone  HoldReason = "phone"  // one phone number sent many reports
	HoldDoor   HoldReason = "door"   // the anonymous door as a whole took a flood
)

// Label is the reason in Chinese, for the holding queue.
func (r HoldReason) Label() string {
	switch r {
	case HoldClient:
		return "同一来源地址短时间内提交过多"
	case HoldPhone:
		return "同一电话号码提交过多"
	case HoldDoor:
		return "匿名入口短时间内涌入大量反映"
	}
	return string(r)
}

// Hold is why and since when a report was held, and when it was released.
type Hold struct {
	Reason   HoldReason `json:"reason"`
	Since    time.Time  `json:"since"`
	Released time.Time  `json:"released,omitzero"`
}

// Screened reports whether the case was held and never released: still
// held, or rejected from the holding queue. Such a case never entered the
// loop, so no figure counts it.
func (c *Case) Screened() bool { return c.Hold != nil && c.Hold.Released.IsZero() }

// hold makes a new report a held one: no stage, no clock.
func hold(c *Case, step *Step, reason HoldReason, now time.Time) {
	c.State, c.Stage, c.Clock = Held, "", sla.Clock{}
	c.Hold = &Hold{Reason: reason, Since: now}
	step.To = Held
	if step.Data == nil {
		step.Data = map[string]any{}
	}
	step.Data["hold"] = string(reason)
}

// release starts a held case: the accept clock starts now.
func release(n *Case, now time.Time, p Policy) {
	if n.Hold != nil {
		n.Hold.Released = now
	}
	n.Stage, n.Clock = StageAccept, p.start(limitAccept, n.Severity, now)
}
