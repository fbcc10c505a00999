// Package sla holds time limits (处置时限) and the clocks that run against
// them on the official working calendar.
//
// A limit is measured in one of two ways. Minutes and Days are wall-clock
// time: a 30-minute acceptance limit or a 15-natural-day limit runs through
// nights, weekends and holidays (Days = N×24h). WorkHours and WorkDays are
// working time on the calendar: only time inside working hours on working
// days counts, and WorkDays N is N × the calendar's working-day length (7h30m
// by default) of working time. So 1 work day from Friday 10:00 is due Monday
// 10:00, and 3 work days from 17:00 are due at 17:00 three working days later;
// one currency of working time makes pauses, extensions and "remaining"
// arithmetic exact, with no rounding to whole days.
//
// Every function taking a *calendar.Calendar accepts nil for
// calendar.Default().
package sla

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"zhizhi/internal/apperr"
	"zhizhi/internal/calendar"
)

// Unit is the measure a limit is counted in.
type Unit string

// The units of a limit.
const (
	Minutes   Unit = "minutes"    // wall-clock minutes
	WorkHours Unit = "work_hours" // working hours on the calendar
	WorkDays  Unit = "work_days"  // working days of working time on the calendar
	Days      Unit = "days"       // natural days of 24 hours
)

// MaxAmount bounds a limit's amount. It is far beyond any real limit but
// keeps every due date representable.
const MaxAmount = 100000

// Valid reports whether u is a known unit.
func (u Unit) Valid() bool {
	switch u {
	case Minutes, WorkHours, WorkDays, Days:
		return true
	}
	return false
}

// Working reports whether u counts working time rather than wall time.
func (u Unit) Working() bool { return u == WorkHours || u == WorkDays }

// Label returns the Chinese name of the unit, as used after a number.
func (u Unit) Label() string {
	switch u {
	case Minutes:
		return "分钟"
	case WorkHours:
		return "工作时"
	case WorkDays:
		return "工作日"
	case Days:
		return "自然日"
	}
	return string(u)
}

// add advances t by d in u's measure. Results are in the calendar's zone, and
// carry no monotonic reading, so they compare and serialise predictably.
func (u Unit) add(cal *calendar.Calendar, t time.Time, d time.Duration) time.Time {
	cal = orDefault(cal)
	if u.Working() {
		return cal.AddWorking(t, d).In(cal.Location())
	}
	return t.In(cal.Location()).Add(d)
}

// between measures from a to b in u's measure, negative when b is earlier.
func (u Unit) between(cal *calendar.Calendar, a, b time.Time) time.Duration {
	if u.Working() {
		return orDefault(cal).WorkingBetween(a, b)
	}
	return b.Sub(a)
}

// Limit is a time limit such as 4 working hours or 3 working days.
type Limit struct {
	Amount int  `json:"amount"`
	Unit   Unit `json:"unit"`
}

// Validate checks the amount (1..MaxAmount) and the unit; the fields are
// "amount" and "unit".
func (l Limit) Validate() error {
	var f apperr.Fields
	l.check(&f, "")
	return f.Err()
}

// check adds the limit's problems to f under prefix.
func (l Limit) check(f *apperr.Fields, prefix string) {
	if l.Amount < 1 || l.Amount > MaxAmount {
		f.Addf(prefix+"amount", "时限数值应在 1 至 %d 之间", MaxAmount)
	}
	if !l.Unit.Valid() {
		f.Add(prefix+"unit", "时限单位应为 minutes、work_hours、work_days 或 days")
	}
}

// String writes the limit in Chinese, as "4工作时", "3工作日", "30分钟" or
// "15自然日". ParseLimit reads it back.
func (l Limit) String() string { return strconv.Itoa(l.Amount) + l.Unit.Label() }

// Duration returns the limit's length in its own measure: wall time for
// Minutes and Days, working time for WorkHours and WorkDays.
func (l Limit) Duration(cal *calendar.Calendar) time.Duration {
	n := time.Duration(l.Amount)
	switch l.Unit {
	case Minutes:
		return n * time.Minute
	case WorkHours:
		return n * time.Hour
	case WorkDays:
		return n * orDefault(cal).DayLength()
	case Days:
		return n * 24 * time.Hour
	}
	return 0
}

// limitSuffixes maps the written forms of units to units: the short forms
// for config files and CSV, and the Chinese labels so String round-trips.
// Plain "h" is deliberately absent: it would be ambiguous between wall and
// working hours, which is the mistake a limit must not make silently.
var limitSuffixes = map[string]Unit{
	"m": Minutes, "min": Minutes, "分钟": Minutes,
	"wh": WorkHours, "工作时": WorkHours, "工作小时": WorkHours,
	"wd": WorkDays, "工作日": WorkDays,
	"d": Days, "自然日": Days, "天": Days,
}

// ParseLimit reads a limit written "4wh", "3wd", "30m" or "15d" (or as String
// writes it, "4工作时"), with optional spaces. The result is validated.
func ParseLimit(s string) (Limit, error) {
	t := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), " ", ""))
	i := strings.IndexFunc(t, func(r rune) bool { return !unicode.IsDigit(r) })
	if i <= 0 {
		return Limit{}, apperr.Field("limit", "时限格式应为数字加单位，如 30m、4wh、3wd、15d")
	}
	n, err := strconv.Atoi(t[:i])
	if err != nil {
		return Limit{}, apperr.Field("limit", "时限数值无效")
	}
	u, ok := limitSuffixes[t[i:]]
	if !ok {
		return Limit{}, apperr.Field("limit", "时限单位应为 m（分钟）、wh（工作时）、wd（工作日）或 d（自然日）")
	}
	l := Limit{Amount: n, Unit: u}
	if l.Amount < 1 || l.Amount > MaxAmount {
		return Limit{}, apperr.Field("limit", fmt.Sprintf("时限数值应在 1 至 %d 之间", MaxAmount))
	}
	return l, nil
}

// UnmarshalJSON accepts the object form {"amount":4,"unit":"work_hours"} and
// the short string form "4wh", so hand-written configuration can use either.
// It does not validate an object; call Validate.
func (l *Limit) UnmarshalJSON(b []byte) error {
	if b = bytes.TrimSpace(b); len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		v, err := ParseLimit(s)
		if err != nil {
			return err
		}
		*l = v
		return nil
	}
	type plain Limit // no methods: avoids recursing into UnmarshalJSON
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*l = Limit(p)
	return nil
}

// Due returns when a limit started at start falls due, in the limit's own
// measure. Wall-clock units ignore the calendar except for its zone.
func Due(cal *calendar.Calendar, start time.Time, limit Limit) time.Time {
	return limit.Unit.add(cal, start, limit.Duration(cal))
}

// orDefault lets callers with only wall-clock limits pass a nil calendar.
func orDefault(cal *calendar.Calendar) *calendar.Calendar {
	if cal == nil {
		return calendar.Default()
	}
	return cal
}
