package sla

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/calendar"
)

// mustFor returns a helper that unwraps a (Clock, error) or fails t.
func mustFor(t *testing.T) func(Clock, error) Clock {
	return func(c Clock, err error) Clock {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
}

func TestStartAndStatus(t *testing.T) {
	cal := calendar.Default()
	// Monday 09:00 + 4 working hours: due 15:00; 80% = 3h12m → 14:12.
	c := Start(cal, sh(2025, 3, 3, 9, 0), Limit{4, WorkHours}, 0)
	if !c.Due.Equal(sh(2025, 3, 3, 15, 0)) || !c.YellowAt.Equal(sh(2025, 3, 3, 14, 12)) {
		t.Fatalf("Due %v YellowAt %v", c.Due, c.YellowAt)
	}
	// 30 minutes: yellow after 24.
	m := Start(cal, sh(2025, 3, 8, 23, 50), Limit{30, Minutes}, 0)
	// Half-way yellow for a natural-day limit.
	d := Start(cal, sh(2025, 3, 3, 9, 0), Limit{10, Days}, 0.5)

	tests := []struct {
		name string
		c    Clock
		now  time.Time
		want Status
	}{
		{"start", c, sh(2025, 3, 3, 9, 0), Green},
		{"before yellow", c, sh(2025, 3, 3, 14, 11), Green},
		{"at yellow", c, sh(2025, 3, 3, 14, 12), Yellow},
		{"lunch is not yellow yet", c, sh(2025, 3, 3, 13, 0), Green},
		{"at due", c, sh(2025, 3, 3, 15, 0), Yellow},
		{"after due", c, sh(2025, 3, 3, 15, 1), Red},
		{"minutes before yellow", m, sh(2025, 3, 9, 0, 13), Green},
		{"minutes at yellow, over midnight", m, sh(2025, 3, 9, 0, 14), Yellow},
		{"minutes after due", m, sh(2025, 3, 9, 0, 21), Red},
		{"days before half", d, sh(2025, 3, 8, 8, 59), Green},
		{"days at half", d, sh(2025, 3, 8, 9, 0), Yellow},
		{"days after due", d, sh(2025, 3, 13, 9, 1), Red},
	}
	for _, tc := range tests {
		if got := tc.c.Status(tc.now); got != tc.want {
			t.Errorf("%s: Status = %s, want %s", tc.name, got, tc.want)
		}
		if got, want := tc.c.Overdue(tc.now), tc.want == Red; got != want {
			t.Errorf("%s: Overdue = %v, want %v", tc.name, got, want)
		}
	}
	// A share outside (0, 1] falls back to the default.
	for _, share := range []float64{-1, 1.5} {
		if got := Start(cal, sh(2025, 3, 3, 9, 0), Limit{4, WorkHours}, share); !got.YellowAt.Equal(c.YellowAt) {
			t.Errorf("share %v: YellowAt %v", share, got.YellowAt)
		}
	}
}

func TestPauseResume(t *testing.T) {
	cal := calendar.Default()
	must := mustFor(t)
	tests := []struct {
		name          string
		start         time.Time
		limit         Limit
		pause, resume time.Time
		due, yellow   time.Time // after resuming
		pausedFor     time.Duration
		checkAt       time.Time // a moment after the old due, before the new
	}{
		{
			// Due Monday 09:30; paused Friday 17:00 with 2 working hours
			// left (17–18 Friday, 08:30–09:30 Monday).
			name:  "work hours over a weekend",
			start: sh(2025, 3, 7, 15, 0), limit: Limit{4, WorkHours},
			pause: sh(2025, 3, 7, 17, 0), resume: sh(2025, 3, 10, 8, 0),
			due: sh(2025, 3, 10, 10, 30), yellow: sh(2025, 3, 10, 9, 42), // 3h12m: 3h Fri, 12m after the 1h paused
			pausedFor: 63 * time.Hour,
			checkAt:   sh(2025, 3, 10, 10, 0),
		},
		{
			// Paused on Saturday and resumed on Sunday: no working time
			// passed, nothing moves.
			name:  "work hours paused only outside working time",
			start: sh(2025, 3, 7, 15, 0), limit: Limit{4, WorkHours},
			pause: sh(2025, 3, 8, 10, 0), resume: sh(2025, 3, 9, 20, 0),
			due: sh(2025, 3, 10, 9, 30), yellow: sh(2025, 3, 10, 8, 42),
			pausedFor: 34 * time.Hour,
		},
		{
			// Two working days from 9/30 10:00 are due 10/10 10:00; paused
			// for the working hour 17–18 on 9/30 and the whole holiday.
			name:  "work days over National Day 2025",
			start: sh(2025, 9, 30, 10, 0), limit: Limit{2, WorkDays},
			pause: sh(2025, 9, 30, 17, 0), resume: sh(2025, 10, 9, 8, 30),
			due: sh(2025, 10, 10, 11, 0), yellow: sh(2025, 10, 9, 17, 30), // 12h of 15h: 6h on 9/30, 1h of it paused, 7h on 10/9
			pausedFor: 8*24*time.Hour + 15*time.Hour + 30*time.Minute,
			checkAt:   sh(2025, 10, 10, 10, 30),
		},
		{
			// Two working days over Spring Festival 2026, paused on the
			// make-up Saturday 2/14 at 12:00 and resumed on 2/24 at 14:00.
			name:  "work days over Spring Festival 2026",
			start: sh(2026, 2, 13, 9, 0), limit: Limit{2, WorkDays},
			pause: sh(2026, 2, 14, 12, 0), resume: sh(2026, 2, 24, 14, 0),
			due: sh(2026, 2, 25, 9, 0), yellow: sh(2026, 2, 24, 15, 30), // at the pause 4h30m were left to due, 1h30m to yellow
			pausedFor: 10*24*time.Hour + 2*time.Hour,
			checkAt:   sh(2026, 2, 24, 16, 0),
		},
		{
			name:  "minutes on the wall clock",
			start: sh(2025, 3, 3, 10, 0), limit: Limit{30, Minutes},
			pause: sh(2025, 3, 3, 10, 10), resume: sh(2025, 3, 3, 13, 0),
			due: sh(2025, 3, 3, 13, 20), yellow: sh(2025, 3, 3, 13, 14),
			pausedFor: 2*time.Hour + 50*time.Minute,
			checkAt:   sh(2025, 3, 3, 13, 5),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Start(cal, tc.start, tc.limit, 0)
			oldDue := c.Due
			p := must(c.Pause(tc.pause))
			if p.Status(tc.resume) != Paused || p.Overdue(tc.resume) {
				t.Fatalf("paused clock: %s, overdue %v", p.Status(tc.resume), p.Overdue(tc.resume))
			}
			r := must(p.Resume(cal, tc.resume))
			if !r.Due.Equal(tc.due) {
				t.Errorf("Due = %v, want %v", r.Due, tc.due)
			}
			if !r.YellowAt.Equal(tc.yellow) {
				t.Errorf("YellowAt = %v, want %v", r.YellowAt, tc.yellow)
			}
			if r.PausedFor != tc.pausedFor || !r.PausedAt.IsZero() || !r.Running() {
				t.Errorf("PausedFor %v PausedAt %v", r.PausedFor, r.PausedAt)
			}
			// The time left is what was left at the pause.
			if got, want := r.Remaining(cal, tc.resume), p.Remaining(cal, tc.resume); got != want {
				t.Errorf("Remaining after resume %v, at pause %v", got, want)
			}
			if !tc.checkAt.IsZero() {
				if !tc.checkAt.After(oldDue) {
					t.Fatalf("bad test: checkAt %v not after the old due %v", tc.checkAt, oldDue)
				}
				if s := r.Status(tc.checkAt); s == Red {
					t.Errorf("falsely overdue at %v after the pause", tc.checkAt)
				}
			}
			if r.WasOverdue {
				t.Error("WasOverdue set by an on-time pause")
			}
		})
	}
}

// TestPauseNeverFalselyOverdue pauses and resumes random clocks at random
// times before their due: the resumed clock is never red at the resume.
func TestPauseNeverFalselyOverdue(t *testing.T) {
	cal := calendar.Default()
	must := mustFor(t)
	rng := rand.New(rand.NewPCG(5, 6))
	limits := []Limit{{30, Minutes}, {4, WorkHours}, {3, WorkDays}, {2, Days}, {1, WorkDays}}
	from := sh(2025, 1, 1, 0, 0)
	for i := 0; i < 5000; i++ {
		l := limits[i%len(limits)]
		start := from.Add(time.Duration(rng.Int64N(int64(2 * 365 * 24 * time.Hour))))
		c := Start(cal, start, l, 0)
		pause := start.Add(time.Duration(rng.Int64N(int64(c.Due.Sub(start)) + 1)))
		resume := pause.Add(time.Duration(rng.Int64N(int64(30 * 24 * time.Hour))))
		r := must(must(c.Pause(pause)).Resume(cal, resume))
		if r.Status(resume) == Red || r.Overdue(resume) {
			t.Fatalf("%v from %v paused %v resumed %v: red, due %v", l, start, pause, resume, r.Due)
		}
		if got, want := r.Remaining(cal, resume), c.Remaining(cal, pause); got != want {
			t.Fatalf("%v from %v paused %v resumed %v: remaining %v, was %v", l, start, pause, resume, got, want)
		}
	}
}

func TestLatePauseStaysLate(t *testing.T) {
	cal := calendar.Default()
	must := mustFor(t)
	c := Start(cal, sh(2025, 3, 3, 9, 0), Limit{4, WorkHours}, 0) // due 15:00
	p := must(c.Pause(sh(2025, 3, 3, 16, 0)))
	if !p.WasOverdue || !p.Overdue(sh(2025, 3, 4, 9, 0)) {
		t.Fatal("late pause not recorded")
	}
	r := must(p.Resume(cal, sh(2025, 3, 5, 9, 0)))
	// It was one working hour late at the pause and still is at the resume.
	if got := r.Remaining(cal, sh(2025, 3, 5, 9, 0)); got != -time.Hour {
		t.Errorf("Remaining = %v, want -1h", got)
	}
	if r.Status(sh(2025, 3, 5, 9, 0)) != Red {
		t.Errorf("Status = %s, want red", r.Status(sh(2025, 3, 5, 9, 0)))
	}
	s := must(r.Stop(sh(2025, 3, 5, 9, 30)))
	if s.Status(sh(2025, 3, 6, 0, 0)) != DoneLate || !s.WasOverdue {
		t.Errorf("Stop: %s, WasOverdue %v", s.Status(sh(2025, 3, 6, 0, 0)), s.WasOverdue)
	}
}

func TestExtend(t *testing.T) {
	cal := calendar.Default()
	must := mustFor(t)
	c := Start(cal, sh(2025, 3, 3, 9, 0), Limit{4, WorkHours}, 0) // due Mon 15:00, yellow 14:12
	e := must(c.Extend(cal, Limit{1, WorkDays}))
	if !e.Due.Equal(sh(2025, 3, 4, 15, 0)) || !e.YellowAt.Equal(sh(2025, 3, 4, 14, 12)) || e.Extensions != 1 {
		t.Fatalf("after Extend: due %v yellow %v ext %d", e.Due, e.YellowAt, e.Extensions)
	}
	if e.Status(sh(2025, 3, 3, 16, 0)) != Green {
		t.Errorf("extended clock is %s at the old due", e.Status(sh(2025, 3, 3, 16, 0)))
	}
	// by's own measure: 30 wall minutes from 15:00.
	e2 := must(e.Extend(cal, Limit{30, Minutes}))
	if !e2.Due.Equal(sh(2025, 3, 4, 15, 30)) || e2.Extensions != 2 {
		t.Errorf("second Extend: due %v ext %d", e2.Due, e2.Extensions)
	}
	// A paused clock can be extended, and the extension survives the resume.
	p := must(c.Pause(sh(2025, 3, 3, 10, 0)))
	pe := must(p.Extend(cal, Limit{2, WorkHours}))
	r := must(pe.Resume(cal, sh(2025, 3, 3, 10, 0)))
	if !r.Due.Equal(sh(2025, 3, 3, 17, 0)) {
		t.Errorf("paused extend then resume: due %v, want 17:00", r.Due)
	}
	// Bad extension: field error, clock unchanged.
	if _, err := c.Extend(cal, Limit{0, WorkHours}); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("Extend by 0: %v", err)
	}
	if c.Extensions != 0 || !c.Due.Equal(sh(2025, 3, 3, 15, 0)) {
		t.Error("Extend mutated the receiver")
	}
}

func TestStop(t *testing.T) {
	cal := calendar.Default()
	must := mustFor(t)
	c := Start(cal, sh(2025, 3, 3, 9, 0), Limit{4, WorkHours}, 0) // due 15:00
	tests := []struct {
		name     string
		stop     time.Time
		want     Status
		late     bool
		remain   time.Duration
		prePause time.Time
	}{
		{"on time", sh(2025, 3, 3, 14, 0), Done, false, time.Hour, time.Time{}},
		{"at due", sh(2025, 3, 3, 15, 0), Done, false, 0, time.Time{}},
		{"late", sh(2025, 3, 4, 9, 0), DoneLate, true, -(3*time.Hour + 30*time.Minute), time.Time{}},
		{"while paused on time", sh(2025, 3, 10, 9, 0), Done, false, time.Hour, sh(2025, 3, 3, 13, 0)}, // 14:00–15:00 left
		{"while paused late", sh(2025, 3, 10, 9, 0), DoneLate, true, -time.Hour, sh(2025, 3, 3, 16, 0)},
	}
	for _, tc := range tests {
		x := c
		if !tc.prePause.IsZero() {
			x = must(x.Pause(tc.prePause))
		}
		s := must(x.Stop(tc.stop))
		later := tc.stop.Add(30 * 24 * time.Hour)
		if s.Status(later) != tc.want || s.WasOverdue != tc.late || s.Overdue(later) != tc.late {
			t.Errorf("%s: Status %s WasOverdue %v Overdue %v", tc.name, s.Status(later), s.WasOverdue, s.Overdue(later))
		}
		if got := s.Remaining(cal, later); got != tc.remain {
			t.Errorf("%s: Remaining %v, want %v", tc.name, got, tc.remain)
		}
		if s.Running() || !s.PausedAt.Equal(tc.prePause) {
			t.Errorf("%s: stopped clock running, or pause time lost", tc.name)
		}
	}
}

func TestRefusedOperations(t *testing.T) {
	cal := calendar.Default()
	must := mustFor(t)
	c := Start(cal, sh(2025, 3, 3, 9, 0), Limit{4, WorkHours}, 0)
	paused := must(c.Pause(sh(2025, 3, 3, 10, 0)))
	stopped := must(c.Stop(sh(2025, 3, 3, 11, 0)))
	tests := []struct {
		name string
		op   func() (Clock, error)
		from Clock
	}{
		{"resume a running clock", func() (Clock, error) { return c.Resume(cal, sh(2025, 3, 3, 10, 0)) }, c},
		{"pause a paused clock", func() (Clock, error) { return paused.Pause(sh(2025, 3, 3, 11, 0)) }, paused},
		{"pause a stopped clock", func() (Clock, error) { return stopped.Pause(sh(2025, 3, 3, 12, 0)) }, stopped},
		{"resume a stopped clock", func() (Clock, error) { return stopped.Resume(cal, sh(2025, 3, 3, 12, 0)) }, stopped},
		{"stop a stopped clock", func() (Clock, error) { return stopped.Stop(sh(2025, 3, 3, 12, 0)) }, stopped},
		{"extend a stopped clock", func() (Clock, error) { return stopped.Extend(cal, Limit{1, WorkDays}) }, stopped},
		{"pause before the start", func() (Clock, error) { return c.Pause(sh(2025, 3, 3, 8, 0)) }, c},
		{"stop before the start", func() (Clock, error) { return c.Stop(sh(2025, 3, 3, 8, 0)) }, c},
		{"resume before the pause", func() (Clock, error) { return paused.Resume(cal, sh(2025, 3, 3, 9, 30)) }, paused},
		{"stop before the pause", func() (Clock, error) { return paused.Stop(sh(2025, 3, 3, 9, 30)) }, paused},
	}
	for _, tc := range tests {
		got, err := tc.op()
		if !apperr.Is(err, apperr.Refused) {
			t.Errorf("%s: err %v, want Refused", tc.name, err)
			continue
		}
		var e *apperr.Error
		if !errors.As(err, &e) || e.Message == "" {
			t.Errorf("%s: no message", tc.name)
		}
		if !reflect.DeepEqual(got, tc.from) {
			t.Errorf("%s: refused operation changed the clock", tc.name)
		}
	}
}

func TestClockJSON(t *testing.T) {
	cal := calendar.Default()
	must := mustFor(t)
	c := Start(cal, sh(2025, 3, 3, 9, 0), Limit{4, WorkHours}, 0)
	c = must(c.Pause(sh(2025, 3, 3, 10, 0)))
	c = must(c.Extend(cal, Limit{1, WorkDays}))
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var back Clock
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !back.Due.Equal(c.Due) || !back.YellowAt.Equal(c.YellowAt) || !back.PausedAt.Equal(c.PausedAt) ||
		!back.Start.Equal(c.Start) || back.Limit != c.Limit || back.Extensions != 1 || !back.Stopped.IsZero() {
		t.Errorf("round trip %s → %+v", b, back)
	}
	// A running clock omits the zero pause and stop times.
	b, _ = json.Marshal(Start(cal, sh(2025, 3, 3, 9, 0), Limit{30, Minutes}, 0))
	want := `{"limit":{"amount":30,"unit":"minutes"},"start":"2025-03-03T09:00:00+08:00","due":"2025-03-03T09:30:00+08:00","yellow_at":"2025-03-03T09:24:00+08:00","was_overdue":false,"extensions":0}`
	if string(b) != want {
		t.Errorf("json %s\nwant %s", b, want)
	}
}
