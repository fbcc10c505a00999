// Package calendar is the official Chinese working calendar: which days are
// worked (weekdays, statutory holidays, make-up working days 调休), which hours
// of a day are worked, and arithmetic on working time.
//
// The built-in holidays come from github.com/6tail/lunar-go (HolidayUtil,
// 2001-12-29 through 2027), copied once into an immutable table. An
// administrator's overlay overrides it for later years or corrections. Days
// without an entry follow the ordinary rule: Monday to Friday worked.
//
// Working time is measured on the wall clock of the calendar's zone: a span
// 08:30–12:00 is three and a half hours on every working day. The default
// zone, Asia/Shanghai, has had no daylight saving since 1991, so this is exact
// there; in a zone with DST a span crossing a transition counts its
// wall-clock length.
//
// Arithmetic never walks minute by minute or even day by day: a cumulative
// count of working days is closed-form over ordinary weeks plus a prefix sum
// over the few hundred exception days, so AddWorking and WorkingBetween cost
// a few binary searches whatever the length of the interval.
//
// A Calendar is immutable after New and safe for concurrent use.
package calendar

import (
	"slices"
	"sort"
	"sync"
	"time"
)

const (
	secondsPerDay = 24 * 60 * 60
	nsPerDay      = int64(24 * time.Hour)
)

// shanghai is UTC+8 as a fixed zone. China has used UTC+8 without daylight
// saving since 1991, so for every date this platform handles it equals
// Asia/Shanghai from the tz database, without reading the host's zoneinfo
// files (the package stays free of I/O and behaves the same on every host).
var shanghai = time.FixedZone("CST", 8*60*60)

// Shanghai returns the zone of the official calendar: China Standard Time,
// UTC+8, which is what Asia/Shanghai is for all dates since 1991.
func Shanghai() *time.Location { return shanghai }

// Config configures a Calendar. The zero value gives the default calendar.
type Config struct {
	// Location is the zone whose civil dates and clock times the calendar
	// uses; nil means Shanghai().
	Location *time.Location `json:"-"`
	// Hours are the daily working spans in order; empty means DefaultHours().
	Hours []Span `json:"hours,omitempty"`
	// Overlay overrides the built-in holidays and make-up days, one date per
	// entry.
	Overlay []OverlayDay `json:"overlay,omitempty"`
}

// span is a working span in nanoseconds from midnight, with the working time
// of the day before it, so within-day look-ups need no summing.
type span struct {
	start, end, before int64
}

// Calendar answers working-day and working-time questions. Build it with New
// or use Default; it never changes afterwards.
type Calendar struct {
	loc    *time.Location
	hours  []Span
	spans  []span
	dayLen int64 // working time in one working day, ns

	// flips are the days, sorted, whose status differs from the weekday rule
	// (a weekday off or a weekend day worked); adj[i] is the net change
	// those before flips[i] make to the count of working days.
	flips []int64
	adj   []int64
	years map[int]bool // years with any official entry, built-in or overlay
}

// New builds a calendar, refusing bad hours or overlay entries with field
// errors (apperr Invalid) that name the offending entry.
func New(cfg Config) (*Calendar, error) {
	loc := cfg.Location
	if loc == nil {
		loc = shanghai
	}
	hours := slices.Clone(cfg.Hours)
	if len(hours) == 0 {
		hours = DefaultHours()
	}
	if err := validateHours(hours); err != nil {
		return nil, err
	}
	if err := validateOverlay(cfg.Overlay); err != nil {
		return nil, err
	}

	c := &Calendar{loc: loc, hours: hours, years: map[int]bool{}}
	for _, h := range hours {
		s := span{start: int64(h.Start), end: int64(h.End), before: c.dayLen}
		c.spans = append(c.spans, s)
		c.dayLen += s.end - s.start
	}

	// Merge: the overlay wins over the built-in data for its dates.
	work := map[int64]bool{}
	for _, b := range builtinData() {
		work[b.day] = b.work
		c.years[yearOf(b.day)] = true
	}
	for _, o := range cfg.Overlay {
		d, _ := time.Parse(dateLayout, o.Date) // validated above
		n := dayNumber(d.Year(), d.Month(), d.Day())
		work[n] = o.Kind == Workday
		c.years[d.Year()] = true
	}
	for day, w := range work {
		if w != isWeekday(day) {
			c.flips = append(c.flips, day)
		}
	}
	slices.Sort(c.flips)
	c.adj = make([]int64, len(c.flips)+1)
	for i, day := range c.flips {
		delta := int64(1)
		if isWeekday(day) {
			delta = -1
		}
		c.adj[i+1] = c.adj[i] + delta
	}
	return c, nil
}

// defaultCalendar is built once on first use and shared; it is immutable.
var defaultCalendar = sync.OnceValue(func() *Calendar {
	c, err := New(Config{})
	if err != nil {
		panic("calendar: default configuration is invalid: " + err.Error())
	}
	return c
})

// Default returns the shared default calendar: Asia/Shanghai, 08:30–12:00
// and 14:00–18:00, built-in holidays without an overlay.
func Default() *Calendar { return defaultCalendar() }

// Location returns the calendar's zone; results of AddWorking are in it.
func (c *Calendar) Location() *time.Location { return c.loc }

// Hours returns a copy of the daily working spans.
func (c *Calendar) Hours() []Span { return slices.Clone(c.hours) }

// DayLength returns the working time in one working day (7h30m by default).
// It is the length of one working day in working-time arithmetic.
func (c *Calendar) DayLength() time.Duration { return time.Duration(c.dayLen) }

// HasYear reports whether the calendar holds official entries (built-in or
// overlay) for the year. A year without them falls back to plain weekends,
// which is wrong around every holiday, so operators should be warned.
func (c *Calendar) HasYear(year int) bool { return c.years[year] }

// IsWorkday reports whether t's date, in the calendar's zone, is a working
// day.
func (c *Calendar) IsWorkday(t time.Time) bool {
	day, _ := c.civil(t)
	return c.isWork(day)
}

// IsWorkingTime reports whether t falls inside working hours on a working
// day.
func (c *Calendar) IsWorkingTime(t time.Time) bool {
	day, sod := c.civil(t)
	if !c.isWork(day) {
		return false
	}
	for _, s := range c.spans {
		if sod >= s.start && sod < s.end {
			return true
		}
	}
	return false
}

// AddWorking returns the instant at which d of working time has elapsed after
// start, counting only time inside working hours on working days. A start
// outside working hours begins at the next working period. The result is the
// earliest such instant, so a limit that ends with a span is due at the
// span's end (18:00), not at the next morning.
//
// A negative d goes backwards and returns the latest instant that far before
// start; d == 0 returns start unchanged. Results are in the calendar's zone.
func (c *Calendar) AddWorking(start time.Time, d time.Duration) time.Time {
	if d == 0 {
		return start
	}
	day, sod := c.civil(start)
	if d > 0 {
		rem := int64(d)
		if c.isWork(day) {
			t := c.workedUpTo(sod) + rem
			if t <= c.dayLen {
				return c.at(day, c.earliest(t))
			}
			rem = t - c.dayLen
		}
		// rem > 0 is still to be worked from the start of day+1: k-1 whole
		// working days, then r into the k-th.
		k := (rem + c.dayLen - 1) / c.dayLen
		r := rem - (k-1)*c.dayLen
		return c.at(c.nthWorkdayFrom(day+1, k), c.earliest(r))
	}

	need := -int64(d)
	var before int64
	if c.isWork(day) {
		before = c.workedUpTo(sod)
	}
	if need <= before {
		return c.at(day, c.latest(before-need))
	}
	rem := need - before
	k := (rem + c.dayLen - 1) / c.dayLen
	r := k*c.dayLen - rem
	return c.at(c.nthWorkdayBefore(day, k), c.latest(r))
}

// WorkingBetween returns the working time from a to b. It is antisymmetric
// (negative when b is before a), which lets a clock report how far past its
// due it is, and it inverts AddWorking:
// WorkingBetween(t, AddWorking(t, d)) == d.
func (c *Calendar) WorkingBetween(a, b time.Time) time.Duration {
	da, sa := c.civil(a)
	db, sb := c.civil(b)
	total := (c.workdaysBefore(db) - c.workdaysBefore(da)) * c.dayLen
	if c.isWork(db) {
		total += c.workedUpTo(sb)
	}
	if c.isWork(da) {
		total -= c.workedUpTo(sa)
	}
	return time.Duration(total)
}

// civil splits t into a civil day number and nanoseconds since local
// midnight, in the calendar's zone.
func (c *Calendar) civil(t time.Time) (day, sod int64) {
	_, off := t.In(c.loc).Zone()
	sec := t.Unix() + int64(off)
	day = floorDiv(sec, secondsPerDay)
	sod = (sec-day*secondsPerDay)*int64(time.Second) + int64(t.Nanosecond())
	return day, sod
}

// at is the instant at nanosecond sod of civil day, in the calendar's zone.
// time.Date normalises sod == 24h into the next midnight.
func (c *Calendar) at(day, sod int64) time.Time {
	y, m, d := time.Unix(day*secondsPerDay, 0).UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, int(sod), c.loc)
}

// isWork reports whether civil day is a working day.
func (c *Calendar) isWork(day int64) bool {
	w := isWeekday(day)
	if _, found := slices.BinarySearch(c.flips, day); found {
		return !w
	}
	return w
}

// workdaysBefore is a running count of working days: the number of working
// days in [x, day) equals workdaysBefore(day) - workdaysBefore(x). Its origin
// is arbitrary; only differences matter.
func (c *Calendar) workdaysBefore(day int64) int64 {
	i, _ := slices.BinarySearch(c.flips, day) // flips strictly before day
	return weekdaysBefore(day) + c.adj[i]
}

// nthWorkdayFrom returns the k-th (k >= 1) working day on or after day.
func (c *Calendar) nthWorkdayFrom(day, k int64) int64 {
	base := c.workdaysBefore(day)
	// Grow an upper bound until it holds k working days; ordinary weeks give
	// 5 in 7, so the first guess almost always suffices.
	reach := k*7/5 + 14
	for c.workdaysBefore(day+reach)-base < k {
		reach *= 2
	}
	n := sort.Search(int(reach), func(i int) bool {
		return c.workdaysBefore(day+int64(i)+1)-base >= k
	})
	return day + int64(n)
}

// nthWorkdayBefore returns the k-th (k >= 1) working day strictly before day,
// counting backwards.
func (c *Calendar) nthWorkdayBefore(day, k int64) int64 {
	top := c.workdaysBefore(day)
	reach := k*7/5 + 14
	for top-c.workdaysBefore(day-reach) < k {
		reach *= 2
	}
	// The first i (from the far end) where fewer than k remain marks the
	// day after the answer.
	n := sort.Search(int(reach), func(i int) bool {
		return top-c.workdaysBefore(day-reach+int64(i)+1) < k
	})
	return day - reach + int64(n)
}

// workedUpTo returns the working time of a working day before sod.
func (c *Calendar) workedUpTo(sod int64) int64 {
	for _, s := range c.spans {
		if sod < s.end {
			if sod <= s.start {
				return s.before
			}
			return s.before + sod - s.start
		}
	}
	return c.dayLen
}

// earliest returns the first time of day by which t (0 < t <= dayLen) of
// working time has been worked.
func (c *Calendar) earliest(t int64) int64 {
	for _, s := range c.spans {
		if t <= s.before+s.end-s.start {
			return s.start + t - s.before
		}
	}
	last := c.spans[len(c.spans)-1]
	return last.end
}

// latest returns the last time of day at which exactly t (0 <= t < dayLen)
// of working time has been worked.
func (c *Calendar) latest(t int64) int64 {
	for _, s := range c.spans {
		if t < s.before+s.end-s.start {
			return s.start + t - s.before
		}
	}
	last := c.spans[len(c.spans)-1]
	return last.end
}

// Civil day arithmetic. Day 0 is 1970-01-01, a Thursday.

// dayNumber returns the civil day number of a date.
func dayNumber(y int, m time.Month, d int) int64 {
	return floorDiv(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix(), secondsPerDay)
}

// yearOf returns the year of a civil day number.
func yearOf(day int64) int { return time.Unix(day*secondsPerDay, 0).UTC().Year() }

// mondayOrigin is the day number of Monday 1969-12-29.
const mondayOrigin = -3

// isWeekday reports whether civil day falls Monday to Friday.
func isWeekday(day int64) bool { return floorMod(day-mondayOrigin, 7) < 5 }

// weekdaysBefore counts Monday-to-Friday days in [mondayOrigin, day),
// negatively for earlier days, so differences count the days between.
func weekdaysBefore(day int64) int64 {
	n := day - mondayOrigin
	return 5*floorDiv(n, 7) + min(floorMod(n, 7), 5)
}

// floorDiv divides rounding down; Go's / truncates toward zero, which would
// misplace instants before 1970 by a day.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// floorMod is the remainder matching floorDiv, never negative for b > 0.
func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }
