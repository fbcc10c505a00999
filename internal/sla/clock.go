package sla

import (
	"math"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/calendar"
)

// DefaultYellowShare is the share of a limit after which a clock turns
// yellow (临期) when Start is given no share.
const DefaultYellowShare = 0.8

// Status is the colour of a clock at an instant, as shown on the command
// board.
type Status string

// The statuses of a clock.
const (
	Green    Status = "green"     // running, before the yellow point
	Yellow   Status = "yellow"    // running, due soon (临期)
	Red      Status = "red"       // running, past due (超期)
	Paused   Status = "paused"    // stopped temporarily, e.g. parked (挂账)
	Done     Status = "done"      // stopped on time
	DoneLate Status = "done_late" // stopped after having run past its due
	// A clock stopped without its stage being done (a unit's task closed
	// over or withdrawn): never "done", and late when it had run out. Clock
	// itself cannot tell; the owner of the stage does (cases.Task).
	Undone     Status = "undone"      // stopped, the stage not done (未完成)
	UndoneLate Status = "undone_late" // stopped past its due, the stage not done (超期未完成)
)

// Label returns the Chinese name of the status for the console.
func (s Status) Label() string {
	switch s {
	case Green:
		return "正常"
	case Yellow:
		return "临期"
	case Red:
		return "超期"
	case Paused:
		return "暂停"
	case Done:
		return "按期完成"
	case DoneLate:
		return "超期完成"
	case Undone:
		return "未完成"
	case UndoneLate:
		return "超期未完成"
	}
	return string(s)
}

// Clock is the time limit of one stage of one case (or one party of a
// whistle), stored as JSON in the database. It is a value: every operation
// returns a new Clock and leaves the receiver unchanged, so a caller can
// compute a transition and persist it (or not) as one step.
//
// Due and YellowAt are instants; pausing, resuming and extending recompute
// them in the limit's own measure, so reading a clock's status needs no
// calendar.
type Clock struct {
	Limit    Limit     `json:"limit"`
	Start    time.Time `json:"start"`
	Due      time.Time `json:"due"`
	YellowAt time.Time `json:"yellow_at"`
	// PausedAt is when the clock was paused; zero while running. A clock
	// stopped while paused keeps it, because from then on nothing ran.
	PausedAt time.Time `json:"paused_at,omitzero"`
	// Stopped is when the clock was stopped for good; zero until then.
	Stopped time.Time `json:"stopped,omitzero"`
	// WasOverdue records that the clock ran past its due: set when it is
	// paused or stopped late. It is a fact for assessment (按期结案率) and is
	// never cleared, not by Stop, Resume or Extend.
	WasOverdue bool `json:"was_overdue"`
	// Extensions counts approved extensions (延期).
	Extensions int `json:"extensions"`
	// PausedFor is the total wall time spent paused, for reports; in JSON it
	// is nanoseconds.
	PausedFor time.Duration `json:"paused_for,omitempty"`
}

// Start starts a clock for limit at start. YellowAt is when yellowShare of
// the limit has elapsed, in the limit's measure; a share of 0, or any value
// outside (0, 1], means DefaultYellowShare.
//
// The limit should come validated (Limit.Validate, Table.Validate); Start
// cannot refuse it, and an invalid one yields a clock due at start, which
// shows red at once rather than hiding the misconfiguration.
func Start(cal *calendar.Calendar, start time.Time, limit Limit, yellowShare float64) Clock {
	if !(yellowShare > 0 && yellowShare <= 1) { // also catches NaN
		yellowShare = DefaultYellowShare
	}
	total := limit.Duration(cal)
	// Round the yellow point to the second: no one reads nanoseconds off a
	// deadline, and it keeps stored clocks tidy.
	yellow := time.Duration(math.Round(float64(total)*yellowShare/float64(time.Second))) * time.Second
	start = start.In(orDefault(cal).Location()) // drops any monotonic reading
	return Clock{
		Limit:    limit,
		Start:    start,
		Due:      limit.Unit.add(cal, start, total),
		YellowAt: limit.Unit.add(cal, start, yellow),
	}
}

// Running reports whether the clock is neither paused nor stopped.
func (c Clock) Running() bool { return c.PausedAt.IsZero() && c.Stopped.IsZero() }

// Pause pauses a running clock at now (for parking, waiting on the
// reporter, and the like). A clock paused after its due is marked
// WasOverdue.
func (c Clock) Pause(now time.Time) (Clock, error) {
	switch {
	case !c.Stopped.IsZero():
		return c, apperr.New(apperr.Refused, "计时已结束，不能暂停")
	case !c.PausedAt.IsZero():
		return c, apperr.New(apperr.Refused, "计时已暂停，不能重复暂停")
	case now.Before(c.Start):
		return c, apperr.New(apperr.Refused, "暂停时间不能早于计时开始时间")
	}
	c.PausedAt = now.Round(0)
	if now.After(c.Due) {
		c.WasOverdue = true
	}
	return c, nil
}

// Resume restarts a paused clock at now. What remained at the pause, from
// PausedAt to Due (and to YellowAt) in the limit's measure, is added from
// now, so time spent paused never counts against the limit and a pause never
// makes a clock falsely overdue. A clock paused after its due stays behind by
// as much as it was.
func (c Clock) Resume(cal *calendar.Calendar, now time.Time) (Clock, error) {
	switch {
	case !c.Stopped.IsZero():
		return c, apperr.New(apperr.Refused, "计时已结束，不能恢复")
	case c.PausedAt.IsZero():
		return c, apperr.New(apperr.Refused, "计时未暂停，无需恢复")
	case now.Before(c.PausedAt):
		return c, apperr.New(apperr.Refused, "恢复时间不能早于暂停时间")
	}
	u := c.Limit.Unit
	toDue := u.between(cal, c.PausedAt, c.Due)
	toYellow := u.between(cal, c.PausedAt, c.YellowAt)
	now = now.Round(0)
	c.Due = u.add(cal, now, toDue)
	c.YellowAt = u.add(cal, now, toYellow)
	c.PausedFor += now.Sub(c.PausedAt)
	c.PausedAt = time.Time{}
	return c, nil
}

// Extend moves Due and YellowAt later by `by`, counted in by's own measure
// (4 working hours stay working hours even on a minutes clock), and counts
// the extension. A paused clock can be extended; a stopped one cannot.
//
// Extend is not told the time, so it cannot itself record that a clock was
// already late: extending a red running clock turns it back to green or
// yellow without setting WasOverdue. Extensions are meant to be approved
// before the due; a caller that allows them after should Stop or Pause the
// late clock first if the lateness must count.
func (c Clock) Extend(cal *calendar.Calendar, by Limit) (Clock, error) {
	if !c.Stopped.IsZero() {
		return c, apperr.New(apperr.Refused, "计时已结束，不能延期")
	}
	if err := by.Validate(); err != nil {
		return c, err
	}
	d := by.Duration(cal)
	c.Due = by.Unit.add(cal, c.Due, d)
	c.YellowAt = by.Unit.add(cal, c.YellowAt, d)
	c.Extensions++
	return c, nil
}

// Stop stops the clock for good at now, marking WasOverdue if now is past
// Due. A paused clock may be stopped (a parked case closed): its lateness was
// settled when it was paused, and it keeps PausedAt so Remaining reports
// what was left at the pause.
func (c Clock) Stop(now time.Time) (Clock, error) {
	switch {
	case !c.Stopped.IsZero():
		return c, apperr.New(apperr.Refused, "计时已结束，不能重复结束")
	case now.Before(c.Start):
		return c, apperr.New(apperr.Refused, "结束时间不能早于计时开始时间")
	case !c.PausedAt.IsZero() && now.Before(c.PausedAt):
		return c, apperr.New(apperr.Refused, "结束时间不能早于暂停时间")
	}
	now = now.Round(0)
	if c.PausedAt.IsZero() {
		if now.After(c.Due) {
			c.WasOverdue = true
		}
	} else {
		c.PausedFor += now.Sub(c.PausedAt)
	}
	c.Stopped = now
	return c, nil
}

// Status returns the clock's colour at now. It needs no calendar: Due and
// YellowAt are already instants.
func (c Clock) Status(now time.Time) Status {
	switch {
	case !c.Stopped.IsZero():
		if c.WasOverdue {
			return DoneLate
		}
		return Done
	case !c.PausedAt.IsZero():
		return Paused
	case now.After(c.Due):
		return Red
	case !now.Before(c.YellowAt):
		return Yellow
	}
	return Green
}

// Overdue reports whether the clock is past due at now: for a running clock,
// now is after Due; for a paused or stopped one, whether it was late when
// paused or stopped (time does not run against it any more).
func (c Clock) Overdue(now time.Time) bool {
	if c.Running() {
		return now.After(c.Due)
	}
	return c.WasOverdue
}

// Remaining returns the time left until Due at now, in the limit's measure
// (working time for work units), negative once overdue. A paused clock
// reports what remained at the pause, a stopped one what remained when it
// stopped running (at the stop, or at the pause if stopped while paused).
func (c Clock) Remaining(cal *calendar.Calendar, now time.Time) time.Duration {
	switch {
	case !c.PausedAt.IsZero():
		now = c.PausedAt
	case !c.Stopped.IsZero():
		now = c.Stopped
	}
	return c.Limit.Unit.between(cal, now, c.Due)
}
