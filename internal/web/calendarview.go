package web

import (
	"strconv"
	"strings"
	"time"

	"zhizhi/internal/calendar"
)

// The administrator's calendar view: a year of months, Monday first, each
// day marked as the official calendar has it (built-in holidays 休 and
// make-up days 班) and as the overlay changes it. Every day is a submit
// button of the calendar form carrying its date (toggle=YYYY-MM-DD), so a
// click works without a script (the server flips the day and saves);
// static/calendar.js instead flips the day's line in the overlay box and
// the cell in place, to be saved with the form.

type calMonth struct {
	Name string
	Lead []int // blank cells before the 1st (Monday first)
	Days []calDay
}

type calDay struct {
	Date     string
	Day      int
	Weekend  bool
	Off      bool // off in effect (official day or overlay)
	Official bool // the official calendar differs from the weekday rule here
	Custom   bool // the overlay sets this day
	Mark     string
	Title    string
	Kind     string // the overlay entry's kind a click adds: holiday or workday
}

// calendarYear lays out year with overlay over the official calendar. An
// overlay the calendar refuses is ignored here (the form names its errors).
func calendarYear(year int, overlay []calendar.OverlayDay) []calMonth {
	official := calendar.Default()
	eff, err := calendar.New(calendar.Config{Overlay: overlay})
	if err != nil {
		eff = official
	}
	custom := map[string]bool{}
	for _, o := range overlay {
		custom[o.Date] = true
	}
	months := make([]calMonth, 12)
	for m := range 12 {
		first := time.Date(year, time.Month(m+1), 1, 12, 0, 0, 0, calendar.Shanghai())
		cm := calMonth{Name: strconv.Itoa(m+1) + "月", Lead: make([]int, (int(first.Weekday())+6)%7)}
		for d := first; d.Month() == first.Month(); d = d.AddDate(0, 0, 1) {
			wk := d.Weekday() == time.Saturday || d.Weekday() == time.Sunday
			offOfficial := !official.IsWorkday(d)
			day := calDay{Date: d.Format("2006-01-02"), Day: d.Day(), Weekend: wk, Off: !eff.IsWorkday(d),
				Official: offOfficial != wk, Custom: custom[d.Format("2006-01-02")], Kind: "holiday"}
			if offOfficial {
				day.Kind = "workday"
			}
			switch {
			case day.Off && (!wk || day.Official || day.Custom):
				day.Mark = "休"
			case !day.Off && wk:
				day.Mark = "班"
			}
			var t []string
			t = append(t, d.Format("2006年1月2日"))
			switch {
			case day.Custom:
				t = append(t, "本地调整")
			case day.Official:
				t = append(t, "国务院安排")
			}
			if day.Off {
				t = append(t, "休息")
			} else {
				t = append(t, "上班")
			}
			day.Title = strings.Join(t, " · ")
			cm.Days = append(cm.Days, day)
		}
		months[m] = cm
	}
	return months
}

// formatOverlay writes an overlay as the form's box holds it, one day a
// line: date, kind in Chinese (休 or 班), name.
func formatOverlay(list []calendar.OverlayDay) string {
	lines := make([]string, len(list))
	for i, o := range list {
		kind := "休"
		if o.Kind == calendar.Workday {
			kind = "班"
		}
		line := o.Date + "," + kind
		if o.Name != "" {
			line += "," + o.Name
		}
		lines[i] = line
	}
	return strings.Join(lines, "\n")
}
