package calendar

import (
	"math/rand/v2"
	"testing"
	"time"
)

// sh is a time in Shanghai to the minute.
func sh(y int, m time.Month, d, h, mi int) time.Time {
	return time.Date(y, m, d, h, mi, 0, 0, Shanghai())
}

const (
	hour   = time.Hour
	minute = time.Minute
	day    = 7*time.Hour + 30*time.Minute // one default working day
)

func TestAddWorking(t *testing.T) {
	cal := Default()
	tests := []struct {
		name  string
		start time.Time
		d     time.Duration
		want  time.Time
	}{
		{"within morning", sh(2025, 3, 3, 9, 0), hour, sh(2025, 3, 3, 10, 0)},
		{"ends at lunch, not after it", sh(2025, 3, 3, 11, 0), hour, sh(2025, 3, 3, 12, 0)},
		{"across lunch", sh(2025, 3, 3, 11, 0), 2 * hour, sh(2025, 3, 3, 15, 0)},
		{"whole day ends at 18:00", sh(2025, 3, 3, 8, 30), day, sh(2025, 3, 3, 18, 0)},
		{"across evening", sh(2025, 3, 3, 17, 0), 2 * hour, sh(2025, 3, 4, 9, 30)},
		{"across weekend", sh(2025, 3, 7, 17, 0), 2 * hour, sh(2025, 3, 10, 9, 30)},
		{"one working day from Friday", sh(2025, 3, 7, 10, 0), day, sh(2025, 3, 10, 10, 0)},
		{"ten working days", sh(2025, 3, 3, 10, 0), 10 * day, sh(2025, 3, 17, 10, 0)},

		{"before hours", sh(2025, 3, 3, 7, 0), 30 * minute, sh(2025, 3, 3, 9, 0)},
		{"in lunch break", sh(2025, 3, 3, 12, 30), 30 * minute, sh(2025, 3, 3, 14, 30)},
		{"at 18:00", sh(2025, 3, 3, 18, 0), 30 * minute, sh(2025, 3, 4, 9, 0)},
		{"in the evening", sh(2025, 3, 3, 19, 0), 30 * minute, sh(2025, 3, 4, 9, 0)},
		{"on Saturday", sh(2025, 3, 8, 10, 0), 30 * minute, sh(2025, 3, 10, 9, 0)},
		{"start given in UTC", time.Date(2025, 3, 3, 1, 0, 0, 0, time.UTC), hour, sh(2025, 3, 3, 10, 0)},

		// Spring Festival 2026: 2/15–2/23 off, Sat 2/14 and Sat 2/28 worked.
		{"Friday before Spring Festival to make-up Saturday", sh(2026, 2, 13, 17, 0), 2 * hour, sh(2026, 2, 14, 9, 30)},
		{"make-up Saturday across the festival", sh(2026, 2, 14, 17, 0), 2 * hour, sh(2026, 2, 24, 9, 30)},
		{"three working days over the festival", sh(2026, 2, 14, 10, 0), 3 * day, sh(2026, 2, 26, 10, 0)},
		{"inside the festival", sh(2026, 2, 17, 10, 0), hour, sh(2026, 2, 24, 9, 30)},
		{"Friday to worked Saturday 2/28", sh(2026, 2, 27, 10, 0), day, sh(2026, 2, 28, 10, 0)},

		// National Day 2025: 10/1–10/8 off, Sun 9/28 and Sat 10/11 worked.
		{"Saturday 9/27 to worked Sunday", sh(2025, 9, 27, 10, 0), hour, sh(2025, 9, 28, 9, 30)},
		{"across National Day", sh(2025, 9, 30, 17, 0), 2 * hour, sh(2025, 10, 9, 9, 30)},
		{"Friday 10/10 to worked Saturday", sh(2025, 10, 10, 17, 0), 2 * hour, sh(2025, 10, 11, 9, 30)},
		{"five working days over National Day", sh(2025, 9, 26, 9, 0), 5 * day, sh(2025, 10, 10, 9, 0)}, // 9/28, 9/29, 9/30, 10/9, 10/10

		{"zero is start", sh(2025, 3, 8, 10, 0), 0, sh(2025, 3, 8, 10, 0)},
		{"backwards across evening", sh(2025, 3, 4, 9, 30), -2 * hour, sh(2025, 3, 3, 17, 0)},
		{"backwards to a morning start", sh(2025, 3, 4, 8, 30), -day, sh(2025, 3, 3, 8, 30)},
		{"backwards across National Day", sh(2025, 10, 9, 9, 30), -2 * hour, sh(2025, 9, 30, 17, 0)},
		{"backwards lands after lunch", sh(2025, 3, 3, 15, 0), -hour, sh(2025, 3, 3, 14, 0)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := cal.AddWorking(tc.start, tc.d)
			if !got.Equal(tc.want) {
				t.Fatalf("AddWorking(%v, %v) = %v, want %v", tc.start, tc.d, got, tc.want)
			}
			if tc.d != 0 && got.Location() != cal.Location() {
				t.Errorf("result in %v, want %v", got.Location(), cal.Location())
			}
			if back := cal.WorkingBetween(tc.start, got); back != tc.d {
				t.Errorf("WorkingBetween(start, result) = %v, want %v", back, tc.d)
			}
		})
	}
}

func TestWorkingBetween(t *testing.T) {
	cal := Default()
	tests := []struct {
		name string
		a, b time.Time
		want time.Duration
	}{
		{"same instant", sh(2025, 3, 3, 10, 0), sh(2025, 3, 3, 10, 0), 0},
		{"whole day from before to after hours", sh(2025, 3, 3, 7, 0), sh(2025, 3, 3, 19, 0), day},
		{"lunch counts nothing", sh(2025, 3, 3, 12, 0), sh(2025, 3, 3, 14, 0), 0},
		{"Friday evening to Monday", sh(2025, 3, 7, 17, 0), sh(2025, 3, 10, 9, 30), 2 * hour},
		{"reversed is negative", sh(2025, 3, 10, 9, 30), sh(2025, 3, 7, 17, 0), -2 * hour},
		{"all of Spring Festival 2026", sh(2026, 2, 14, 18, 0), sh(2026, 2, 24, 8, 30), 0},
		{"a week with National Day 2025", sh(2025, 9, 29, 0, 0), sh(2025, 10, 13, 0, 0), 5 * day}, // 9/29, 9/30, 10/9, 10/10, 10/11
		{"a year", sh(2025, 1, 1, 0, 0), sh(2026, 1, 1, 0, 0), 248 * day},
	}
	for _, tc := range tests {
		if got := cal.WorkingBetween(tc.a, tc.b); got != tc.want {
			t.Errorf("%s: WorkingBetween = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestWorkingBetweenInvertsAddWorking is a property test over many random
// starts (to the nanosecond) and durations, forwards and backwards, across
// 2024–2028 (the last year beyond the built-in data).
func TestWorkingBetweenInvertsAddWorking(t *testing.T) {
	cal := Default()
	rng := rand.New(rand.NewPCG(1, 2))
	from := sh(2024, 1, 1, 0, 0)
	spread := int64(5 * 365 * 24 * time.Hour)
	for i := 0; i < 20000; i++ {
		start := from.Add(time.Duration(rng.Int64N(spread)))
		d := time.Duration(rng.Int64N(int64(60 * day)))
		if i%3 == 0 {
			d = time.Duration(rng.Int64N(int64(2 * day))) // many short ones
		}
		if i%5 == 0 {
			d = -d
		}
		got := cal.AddWorking(start, d)
		if back := cal.WorkingBetween(start, got); back != d {
			t.Fatalf("start %v d %v: AddWorking = %v, WorkingBetween back = %v", start, d, got, back)
		}
		if d > 0 {
			// The earliest instant: the moment just before is still working
			// time, so the result is never pushed into a break.
			if !cal.IsWorkingTime(got.Add(-time.Nanosecond)) {
				t.Fatalf("start %v d %v: result %v is not the end of working time", start, d, got)
			}
			if !got.After(start) {
				t.Fatalf("start %v d %v: result %v not after start", start, d, got)
			}
		}
		if d < 0 && !cal.IsWorkingTime(got) {
			t.Fatalf("start %v d %v: backward result %v is not working time", start, d, got)
		}
	}
}

// TestWorkingBetweenAgainstMinuteWalk compares the closed-form count with a
// plain walk over every minute, for random minute-aligned intervals.
func TestWorkingBetweenAgainstMinuteWalk(t *testing.T) {
	cal := Default()
	rng := rand.New(rand.NewPCG(3, 4))
	from := sh(2025, 9, 1, 0, 0)
	for i := 0; i < 200; i++ {
		a := from.Add(time.Duration(rng.IntN(200*24*60)) * minute)
		b := a.Add(time.Duration(rng.IntN(20*24*60)) * minute)
		var want time.Duration
		for m := a; m.Before(b); m = m.Add(minute) {
			if cal.IsWorkingTime(m) {
				want += minute
			}
		}
		if got := cal.WorkingBetween(a, b); got != want {
			t.Fatalf("WorkingBetween(%v, %v) = %v, minute walk %v", a, b, got, want)
		}
	}
}

func TestIsWorkingTime(t *testing.T) {
	cal := Default()
	tests := []struct {
		t    time.Time
		want bool
	}{
		{sh(2025, 3, 3, 8, 29), false},
		{sh(2025, 3, 3, 8, 30), true},
		{sh(2025, 3, 3, 11, 59), true},
		{sh(2025, 3, 3, 12, 0), false},
		{sh(2025, 3, 3, 14, 0), true},
		{sh(2025, 3, 3, 18, 0), false},
		{sh(2025, 3, 8, 10, 0), false},  // Saturday
		{sh(2025, 9, 28, 10, 0), true},  // make-up Sunday
		{sh(2025, 10, 1, 10, 0), false}, // National Day
	}
	for _, tc := range tests {
		if got := cal.IsWorkingTime(tc.t); got != tc.want {
			t.Errorf("IsWorkingTime(%v) = %v, want %v", tc.t, got, tc.want)
		}
	}
}

func TestCustomHoursAndZone(t *testing.T) {
	utc, err := New(Config{
		Location: time.UTC,
		Hours:    []Span{{Start: 9 * hour, End: 17 * hour}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if utc.DayLength() != 8*hour {
		t.Fatalf("DayLength = %v", utc.DayLength())
	}
	got := utc.AddWorking(time.Date(2025, 3, 7, 16, 0, 0, 0, time.UTC), 2*hour)
	if want := time.Date(2025, 3, 10, 10, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("AddWorking = %v, want %v", got, want)
	}
	if utc.Location() != time.UTC {
		t.Error("Location not kept")
	}

	// A round-the-clock desk: 00:00–24:00 makes working time equal wall time
	// on working days.
	allDay, err := New(Config{Hours: []Span{{Start: 0, End: 24 * hour}}})
	if err != nil {
		t.Fatal(err)
	}
	// Friday 20:00 + 4h ends exactly at Friday's 24:00, the earliest instant.
	got = allDay.AddWorking(sh(2025, 3, 7, 20, 0), 4*hour)
	if want := sh(2025, 3, 8, 0, 0); !got.Equal(want) {
		t.Errorf("round-the-clock AddWorking = %v, want %v", got, want)
	}
	got = allDay.AddWorking(sh(2025, 3, 7, 20, 0), 5*hour)
	if want := sh(2025, 3, 10, 1, 0); !got.Equal(want) {
		t.Errorf("round-the-clock AddWorking over a weekend = %v, want %v", got, want)
	}
}

func TestDefaultIsShared(t *testing.T) {
	if a, b := Default(), Default(); a != b {
		t.Error("Default builds a new calendar each call")
	}
	hs := Default().Hours()
	hs[0].Start = 0 // a copy: must not change the calendar
	if Default().Hours()[0].Start != 8*hour+30*minute {
		t.Error("Hours exposes internal state")
	}
}

func BenchmarkAddWorkingYear(b *testing.B) {
	cal := Default()
	start := sh(2025, 3, 3, 10, 17)
	for b.Loop() {
		cal.AddWorking(start, 250*day)
	}
}

func BenchmarkWorkingBetweenYear(b *testing.B) {
	cal := Default()
	a, c := sh(2025, 3, 3, 10, 17), sh(2026, 3, 3, 15, 1)
	for b.Loop() {
		cal.WorkingBetween(a, c)
	}
}

// TestConcurrentUse runs look-ups from many goroutines; with -race it checks
// that a Calendar (and the shared built-in snapshot) is safe to share.
func TestConcurrentUse(t *testing.T) {
	cal, err := New(Config{Overlay: []OverlayDay{{Date: "2028-01-03", Kind: Holiday}}})
	if err != nil {
		t.Fatal(err)
	}
	want := cal.AddWorking(sh(2027, 12, 31, 17, 0), 2*hour)
	done := make(chan bool)
	for g := 0; g < 8; g++ {
		go func() {
			ok := true
			for i := 0; i < 1000; i++ {
				ok = ok && cal.AddWorking(sh(2027, 12, 31, 17, 0), 2*hour).Equal(want)
				ok = ok && Default().IsWorkday(sh(2026, 2, 14, 9, 0))
			}
			done <- ok
		}()
	}
	for g := 0; g < 8; g++ {
		if !<-done {
			t.Error("inconsistent result under concurrency")
		}
	}
	if !want.Equal(sh(2028, 1, 4, 9, 30)) {
		t.Errorf("AddWorking over overlay holiday = %v", want)
	}
}
