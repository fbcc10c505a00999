package calendar

import (
	"strconv"
	"testing"
	"time"
)

// The official 2025 and 2026 calendars as in docs/domain.md §5.
var officialVectors = []struct {
	year   int
	off    [][2]string // inclusive ranges, MM-DD
	worked []string
}{
	{
		year:   2025,
		off:    [][2]string{{"01-01", "01-01"}, {"01-28", "02-04"}, {"04-04", "04-06"}, {"05-01", "05-05"}, {"05-31", "06-02"}, {"10-01", "10-08"}},
		worked: []string{"01-26", "02-08", "04-27", "09-28", "10-11"},
	},
	{
		year:   2026,
		off:    [][2]string{{"01-01", "01-03"}, {"02-15", "02-23"}, {"04-04", "04-06"}, {"05-01", "05-05"}, {"06-19", "06-21"}, {"09-25", "09-27"}, {"10-01", "10-07"}},
		worked: []string{"01-04", "02-14", "02-28", "05-09", "09-20", "10-10"},
	},
}

func mustDate(t testing.TB, s string) time.Time {
	t.Helper()
	d, err := time.ParseInLocation(dateLayout, s, Shanghai())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestBuiltinMatchesOfficialCalendar checks every day of 2025 and 2026: the
// listed days off are off, the listed make-up days are worked, and every other
// day follows the weekend rule. This is the check that lunar-go agrees with the
// State Council announcements we rely on.
func TestBuiltinMatchesOfficialCalendar(t *testing.T) {
	cal := Default()
	for _, v := range officialVectors {
		want := map[string]bool{}
		for _, r := range v.off {
			from := mustDate(t, strconv.Itoa(v.year)+"-"+r[0])
			to := mustDate(t, strconv.Itoa(v.year)+"-"+r[1])
			for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
				want[d.Format(dateLayout)] = false
			}
		}
		for _, w := range v.worked {
			day := mustDate(t, strconv.Itoa(v.year)+"-"+w)
			if wd := day.Weekday(); wd != time.Saturday && wd != time.Sunday {
				t.Errorf("vector %s is a make-up day but falls on %s", w, wd)
			}
			want[day.Format(dateLayout)] = true
		}
		start := time.Date(v.year, 1, 1, 0, 0, 0, 0, Shanghai())
		for d := start; d.Year() == v.year; d = d.AddDate(0, 0, 1) {
			key := d.Format(dateLayout)
			exp, listed := want[key]
			if !listed {
				exp = d.Weekday() != time.Saturday && d.Weekday() != time.Sunday
			}
			// Probe several times of day: the answer is about the date.
			for _, h := range []int{0, 9, 23} {
				if got := cal.IsWorkday(d.Add(time.Duration(h) * time.Hour)); got != exp {
					t.Errorf("IsWorkday(%s %02d:00) = %v, want %v (listed=%v)", key, h, got, exp, listed)
				}
			}
		}
		if !cal.HasYear(v.year) {
			t.Errorf("HasYear(%d) = false", v.year)
		}
	}
	if cal.HasYear(2099) {
		t.Error("HasYear(2099) = true without data")
	}
}

// TestIsWorkdayUsesCalendarZone: 2025-10-08 23:30 in Shanghai (off) is
// 15:30 UTC; 2025-10-08 16:30 UTC is already 10-09 00:30 in Shanghai (worked).
func TestIsWorkdayUsesCalendarZone(t *testing.T) {
	cal := Default()
	tests := []struct {
		t    time.Time
		want bool
	}{
		{time.Date(2025, 10, 8, 15, 30, 0, 0, time.UTC), false},
		{time.Date(2025, 10, 8, 16, 30, 0, 0, time.UTC), true},
		{time.Date(2026, 2, 13, 16, 0, 0, 0, time.UTC), true}, // Sat 2/14 00:00, make-up day
	}
	for _, tc := range tests {
		if got := cal.IsWorkday(tc.t); got != tc.want {
			t.Errorf("IsWorkday(%v) = %v, want %v", tc.t, got, tc.want)
		}
	}
}

// TestWeekdayArithmetic checks the closed-form helpers against the time
// package over a range that spans 1970 in both directions.
func TestWeekdayArithmetic(t *testing.T) {
	var count int64
	base := int64(-800)
	for day := base; day < 800; day++ {
		d := time.Unix(day*secondsPerDay, 0).UTC()
		wd := d.Weekday() != time.Saturday && d.Weekday() != time.Sunday
		if isWeekday(day) != wd {
			t.Fatalf("isWeekday(%d) = %v, want %v (%s)", day, !wd, wd, d.Format(dateLayout))
		}
		if got := weekdaysBefore(day) - weekdaysBefore(base); got != count {
			t.Fatalf("weekdays in [%d,%d) = %d, want %d", base, day, got, count)
		}
		if wd {
			count++
		}
		y, m, dd := d.Date()
		if dayNumber(y, m, dd) != day || yearOf(day) != y {
			t.Fatalf("dayNumber/yearOf disagree for %d", day)
		}
	}
}
