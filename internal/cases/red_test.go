package cases

import (
	"testing"
	"time"

	"zhizhi/internal/sla"
)

func TestRed(t *testing.T) {
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	clock := func(due time.Time) sla.Clock { return sla.Clock{Start: t0, Due: due, YellowAt: t0} }
	base := func(mod func(*Case)) *Case {
		c := &Case{State: Accepted, Stage: StageDispatch, Clock: clock(t0.Add(time.Hour)), UpdatedAt: t0}
		mod(c)
		return c
	}
	for _, tc := range []struct {
		name string
		c    *Case
		want bool
	}{
		{"changed before due", base(func(c *Case) {}), false},
		{"changed at due", base(func(c *Case) { c.UpdatedAt = t0.Add(time.Hour) }), true},
		{"changed after due", base(func(c *Case) { c.UpdatedAt = t0.Add(2 * time.Hour) }), true},
		{"within the millisecond of due", base(func(c *Case) { c.UpdatedAt = t0.Add(time.Hour - 500*time.Microsecond) }), false},
		{"due in the same millisecond", base(func(c *Case) {
			c.Clock.Due = t0.Add(time.Hour + 700*time.Microsecond)
			c.UpdatedAt = t0.Add(time.Hour + 200*time.Microsecond)
		}), true},
		{"closed after due", base(func(c *Case) {
			c.UpdatedAt, c.State, c.ClosedAt = t0.Add(2*time.Hour), Closed, t0.Add(2*time.Hour)
		}), false},
		{"held", base(func(c *Case) { c.State, c.Stage, c.UpdatedAt = Held, "", t0.Add(2*time.Hour) }), false},
		{"case clock paused (parked)", base(func(c *Case) {
			c.State, c.UpdatedAt = Parked, t0.Add(2*time.Hour)
			c.Clock.PausedAt = t0.Add(30 * time.Minute)
		}), false},
		{"case clock stopped, a task's handling clock past due", base(func(c *Case) {
			c.State, c.UpdatedAt = Handling, t0.Add(3*time.Hour)
			c.Clock.Stopped = t0.Add(10 * time.Minute)
			c.Tasks = []Task{{UnitID: "u1", Role: Lead, State: TaskSigned, Handle: clock(t0.Add(2 * time.Hour))}}
		}), true},
		{"extended past the change", base(func(c *Case) {
			c.UpdatedAt = t0.Add(2 * time.Hour)
			c.Clock.Due = t0.Add(4 * time.Hour)
			c.Clock.WasOverdue = true
		}), false},
	} {
		if got := tc.c.Red(); got != tc.want {
			t.Errorf("%s: Red() = %v, want %v (due %v)", tc.name, got, tc.want, tc.c.Due())
		}
	}
}
