package calendar

import (
	"sync"
	"time"

	"github.com/6tail/lunar-go/HolidayUtil"
)

// The years lunar-go is asked about. Its data starts on 2001-12-29; the upper
// bound leaves room for a newer release without a change here, and years with
// no entries simply contribute nothing.
const (
	builtinFirstYear = 2001
	builtinLastYear  = 2040
)

// builtinDay is one entry of the official calendar as published by the State
// Council: a statutory day off or a make-up working day (调休).
type builtinDay struct {
	day  int64 // days since 1970-01-01 (civil date)
	work bool
}

// builtinData is copied out of lunar-go once. HolidayUtil keeps its table in a
// package variable that its Fix function rewrites in place without locking,
// and each look-up scans a 20 KB string; a private snapshot makes every
// Calendar immutable, race-free and fast. Corrections go through the overlay,
// not through HolidayUtil.Fix.
var builtinData = sync.OnceValue(func() []builtinDay {
	var out []builtinDay
	for y := builtinFirstYear; y <= builtinLastYear; y++ {
		l := HolidayUtil.GetHolidaysByYear(y)
		for e := l.Front(); e != nil; e = e.Next() {
			h, ok := e.Value.(*HolidayUtil.Holiday)
			if !ok {
				continue
			}
			d, err := time.Parse(dateLayout, h.GetDay())
			if err != nil {
				// A malformed entry would be a bug in the library; skipping it
				// leaves that date on the ordinary weekday rule.
				continue
			}
			out = append(out, builtinDay{day: dayNumber(d.Year(), d.Month(), d.Day()), work: h.IsWork()})
		}
	}
	return out
})
