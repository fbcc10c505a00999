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
	"unicode/utf8"

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
// "15自然日"; whole hours of wall-clock minutes are written as hours
// ("120分钟" is "2小时"), since 小时 reads as wall-clock hours (see
// ParseLimit). ParseLimit reads every form back.
func (l Limit) String() string {
	if l.Unit == Minutes && l.Amount >= 60 && l.Amount%60 == 0 {
		return strconv.Itoa(l.Amount/60) + "小时"
	}
	return strconv.Itoa(l.Amount) + l.Unit.Label()
}

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
// for config files and CSV, and the Chinese forms people type after reading
// a limit on a page ("2工作日", "3个工作日", "48小时").
//
// The rule for hours follows the rule for days: a bare unit is wall-clock
// time (天 and 自然日 are natural days, 小时 is natural hours of 60 minutes,
// stored as minutes), and only a unit that says 工作 counts working time
// (工作时, 工作小时, 工作日). Plain "h" stays refused: in config files it has
// always been an error, and guessing wall or working time silently is the
// mistake a limit must not make.
var limitSuffixes = map[string]struct {
	unit Unit
	mult int // amount multiplier into the unit
}{
	"m": {Minutes, 1}, "min": {Minutes, 1}, "分钟": {Minutes, 1},
	"小时": {Minutes, 60},
	"wh": {WorkHours, 1}, "工作时": {WorkHours, 1}, "工作小时": {WorkHours, 1},
	"wd": {WorkDays, 1}, "工作日": {WorkDays, 1}, "工作天": {WorkDays, 1},
	"d": {Days, 1}, "自然日": {Days, 1}, "天": {Days, 1},
}

// limitHint is the reason given for any limit that cannot be read.
const limitHint = "时限应写作数字加单位，如 30分钟、2小时、4工作时、3个工作日、15天（也可写 30m、4wh、3wd、15d）"

// normalizeLimit folds full-width characters (digits, letters, the
// ideographic space) to their ASCII forms, drops all white space and lower-
// cases, so "３ 个工作日" and "3个工作日" read the same.
func normalizeLimit(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\u3000' || unicode.IsSpace(r):
			continue
		case r >= '\uFF01' && r <= '\uFF5E':
			r -= 0xFEE0
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// ParseLimit reads a limit as people write it: the short forms "30m",
// "4wh", "3wd", "15d"; the forms String writes ("4工作时", "15自然日",
// "2小时"); and the everyday Chinese forms "2工作日", "3个工作日",
// "48小时", "4个工作小时", "15天". Spaces anywhere and full-width digits are
// allowed; a 个 between number and unit is optional. The result is
// validated; every error names the field "limit".
func ParseLimit(s string) (Limit, error) {
	t := normalizeLimit(s)
	i := strings.IndexFunc(t, func(r rune) bool { return r < '0' || r > '9' })
	if i == 0 || t == "" {
		return Limit{}, apperr.Field("limit", limitHint)
	}
	if i < 0 {
		return Limit{}, apperr.Field("limit", "时限缺少单位。"+limitHint)
	}
	n, err := strconv.Atoi(t[:i])
	if err != nil || n > MaxAmount {
		return Limit{}, apperr.Field("limit", fmt.Sprintf("时限数值应在 1 至 %d 之间", MaxAmount))
	}
	suffix := strings.TrimPrefix(t[i:], "个")
	u, ok := limitSuffixes[suffix]
	if !ok {
		if utf8.RuneCountInString(t[i:]) > 8 {
			return Limit{}, apperr.Field("limit", "无法识别的时限单位。"+limitHint)
		}
		return Limit{}, apperr.Field("limit", "无法识别的时限单位“"+t[i:]+"”。"+limitHint)
	}
	l := Limit{Amount: n * u.mult, Unit: u.unit}
	if n < 1 || l.Amount > MaxAmount {
		return Limit{}, apperr.Field("limit", fmt.Sprintf("时限数值应在 1 至 %d 之间（%s）", MaxAmount, u.unit.Label()))
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
