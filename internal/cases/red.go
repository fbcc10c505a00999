package cases

import "time"

// Due is the earliest due time among the case's running clocks (the cases
// table's due_at); zero when no clock runs (closed, held, parked).
func (c *Case) Due() time.Time {
	var due time.Time
	for _, r := range c.RunningClocks() {
		if due.IsZero() || r.Clock.Due.Before(due) {
			due = r.Clock.Due
		}
	}
	return due
}

// Red reports whether the case stood overdue at its last change: it is open
// and not held, and a running clock's due time had come by UpdatedAt (to
// the millisecond, as the store keeps both). The sweeper's red warning is a
// change at the clock's due time, so an open case turns red within a sweep
// of falling due, and a change that stops or moves its clocks (closing,
// parking, an extension) clears it. The overdue gauge counts red cases
// (store: overdue_gauge); it is the live count "due before now" as of the
// sweeper.
func (c *Case) Red() bool {
	if !c.ClosedAt.IsZero() || c.State == Held {
		return false
	}
	due := c.Due()
	return !due.IsZero() && due.UnixMilli() <= c.UpdatedAt.UnixMilli()
}
