package calendar

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"zhizhi/internal/apperr"
	"zhizhi/internal/textcheck"
)

// dateLayout is how dates are written in the overlay and in lunar-go.
const dateLayout = "2006-01-02"

// Bounds on overlay dates: wide enough for any real announcement, narrow
// enough to catch a mistyped year before it silently does nothing.
const (
	overlayMinYear = 2000
	overlayMaxYear = 2100
	maxNameRunes   = 50
)

// DayKind says whether an overlay day is worked or off.
type DayKind string

// The kinds of overlay day.
const (
	// Workday marks a day as worked: a make-up working day (调休上班) on a
	// weekend, or a correction cancelling a holiday.
	Workday DayKind = "workday"
	// Holiday marks a day as off: a statutory holiday on a weekday, or a
	// local closure.
	Holiday DayKind = "holiday"
)

// OverlayDay is one administrator entry that overrides the built-in calendar
// for one date: for a year the built-in data lacks (announcements arrive in
// Oct–Dec for the next year) or to correct it.
type OverlayDay struct {
	Date string  `json:"date"` // YYYY-MM-DD, a civil date in the calendar's zone
	Kind DayKind `json:"kind"`
	Name string  `json:"name,omitempty"` // e.g. 春节; shown to administrators only
}

// Validate checks one entry; the field names are "date", "kind" and "name".
func (o OverlayDay) Validate() error {
	var f apperr.Fields
	o.check(&f, "")
	return f.Err()
}

// check adds the entry's problems to f under prefix.
func (o OverlayDay) check(f *apperr.Fields, prefix string) {
	if _, err := parseOverlayDate(o.Date); err != nil {
		f.Add(prefix+"date", err.Error())
	}
	if o.Kind != Workday && o.Kind != Holiday {
		f.Add(prefix+"kind", "类型应为 休（holiday，放假）或 班（workday，上班）")
	}
	if utf8.RuneCountInString(o.Name) > maxNameRunes {
		f.Addf(prefix+"name", "名称不能超过 %d 个字", maxNameRunes)
	}
	textcheck.AddLine(f, prefix+"name", o.Name)
}

// parseOverlayDate reads a strict YYYY-MM-DD date within the allowed years.
// The error text is the user-facing reason.
func parseOverlayDate(s string) (time.Time, error) {
	d, err := time.Parse(dateLayout, s)
	if err != nil {
		return time.Time{}, errors.New("日期格式应为 YYYY-MM-DD")
	}
	if d.Year() < overlayMinYear || d.Year() > overlayMaxYear {
		return time.Time{}, fmt.Errorf("年份应在 %d 至 %d 之间", overlayMinYear, overlayMaxYear)
	}
	return d, nil
}

// validateOverlay checks every entry and refuses a date given twice, since
// the two entries could disagree and neither would be obviously right.
func validateOverlay(list []OverlayDay) error {
	var f apperr.Fields
	seen := make(map[string]int, len(list))
	for i, o := range list {
		prefix := fmt.Sprintf("overlay[%d].", i)
		o.check(&f, prefix)
		if j, dup := seen[o.Date]; dup {
			f.Addf(prefix+"date", "日期与第 %d 条重复", j+1)
		} else {
			seen[o.Date] = i
		}
	}
	return f.Err()
}

// kindWords are the Chinese words for the kinds, as the calendar view
// labels days (休, 班) and as announcements write them.
var kindWords = map[string]DayKind{
	"holiday": Holiday, "休": Holiday, "休息": Holiday, "放假": Holiday, "假": Holiday,
	"workday": Workday, "班": Workday, "上班": Workday, "调休上班": Workday, "补班": Workday,
}

// ParseKind reads a day's kind in English (holiday, workday) or Chinese
// (休, 放假 / 班, 上班, 调休上班, 补班); anything else is returned as written,
// for Validate to refuse.
func ParseKind(s string) DayKind {
	s = strings.TrimSpace(s)
	if k, ok := kindWords[strings.ToLower(s)]; ok {
		return k
	}
	return DayKind(s)
}

// Toggle flips one date's overlay entry, as a click on the calendar view
// does: a date without an entry gets the opposite of what the official
// calendar (built-in holidays and make-up days on the weekday rule) makes
// it — 休 on a worked day, 班 on a day off —, and a date with an entry
// loses it, going back to the official day. The list is not changed; the
// result keeps the order, the new entry last.
func Toggle(overlay []OverlayDay, date string) ([]OverlayDay, error) {
	d, err := parseOverlayDate(date)
	if err != nil {
		return nil, apperr.Field("date", err.Error())
	}
	out := make([]OverlayDay, 0, len(overlay)+1)
	found := false
	for _, o := range overlay {
		if o.Date == date {
			found = true
			continue
		}
		out = append(out, o)
	}
	if found {
		return out, nil
	}
	kind := Workday
	if Default().IsWorkday(time.Date(d.Year(), d.Month(), d.Day(), 12, 0, 0, 0, Shanghai())) {
		kind = Holiday
	}
	return append(out, OverlayDay{Date: date, Kind: kind}), nil
}

// ParseOverlay reads an overlay written as CSV, one day per line:
//
//	2027-02-06,holiday,春节
//	2027-02-20,workday,春节调休
//
// The name is optional; blank lines and lines starting with "#" are skipped.
// It lets an administrator paste a State Council announcement as a list.
// Errors name the line, as "line[3].kind".
func ParseOverlay(text string) ([]OverlayDay, error) {
	r := csv.NewReader(strings.NewReader(text))
	r.Comment = '#'
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	var (
		out  []OverlayDay
		f    apperr.Fields
		seen = map[string]int{}
	)
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		line, _ := r.FieldPos(0)
		prefix := fmt.Sprintf("line[%d].", line)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				prefix = fmt.Sprintf("line[%d].", pe.Line)
			}
			f.Add(strings.TrimSuffix(prefix, "."), "无法读取这一行")
			// A CSV syntax error leaves the reader at an unknown place; stop
			// rather than report a cascade of follow-on errors.
			break
		}
		if len(rec) < 2 || len(rec) > 3 {
			f.Add(strings.TrimSuffix(prefix, "."), "每行应为：日期,类型[,名称]")
			continue
		}
		o := OverlayDay{Date: strings.TrimSpace(rec[0]), Kind: ParseKind(rec[1])}
		if len(rec) == 3 {
			o.Name = strings.TrimSpace(rec[2])
		}
		o.check(&f, prefix)
		if first, dup := seen[o.Date]; dup {
			f.Addf(prefix+"date", "日期与第 %d 行重复", first)
		} else {
			seen[o.Date] = line
		}
		out = append(out, o)
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	return out, nil
}
