// Package evaluation is the pure core of 分析问效: periods, indicators as
// formulas over counts, versioned rule sets (weights and A–E bands),
// composite scores that explain themselves, and rankings with a documented
// tie-break. It knows nothing of SQL or HTTP: the store counts measures per
// subject and period, and this package turns counts into figures and scores.
package evaluation

import (
	"fmt"
	"regexp"
	"strconv"
	"time"

	"zhizhi/internal/apperr"
)

// PeriodKind is the length of an evaluation period.
type PeriodKind string

// The period kinds.
const (
	Day     PeriodKind = "day"
	Week    PeriodKind = "week" // ISO 8601 week, Monday to Sunday
	Month   PeriodKind = "month"
	Quarter PeriodKind = "quarter"
	Year    PeriodKind = "year"
	Range   PeriodKind = "range" // any run of whole days
)

// Period is a half-open interval [Start, End) of whole local days, with the
// label the console shows.
type Period struct {
	Kind  PeriodKind `json:"kind"`
	Key   string     `json:"key"` // as parsed: 2026-11, 2026-W45, 2026-Q4, …
	Start time.Time  `json:"start"`
	End   time.Time  `json:"end"`
	Label string     `json:"label"`
}

var (
	dayRE     = regexp.MustCompile(`^(\d{4})-(\d{2})-(\d{2})$`)
	weekRE    = regexp.MustCompile(`^(\d{4})-W(\d{2})$`)
	monthRE   = regexp.MustCompile(`^(\d{4})-(\d{2})$`)
	quarterRE = regexp.MustCompile(`^(\d{4})-Q([1-4])$`)
	yearRE    = regexp.MustCompile(`^(\d{4})$`)
	rangeRE   = regexp.MustCompile(`^(\d{4}-\d{2}-\d{2})~(\d{4}-\d{2}-\d{2})$`)
)

// MaxRangeDays bounds a free range (about three years).
const MaxRangeDays = 1100

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

func date(y, m, d int, loc *time.Location) time.Time {
	return time.Date(y, time.Month(m), d, 0, 0, 0, 0, loc)
}

// validDay reports whether y-m-d is a real calendar day.
func validDay(y, m, d int, loc *time.Location) bool {
	t := date(y, m, d, loc)
	return t.Year() == y && int(t.Month()) == m && t.Day() == d
}

// ParsePeriod reads a period in the zone loc (Asia/Shanghai for the
// platform): 2026-11-03 (a day), 2026-W45 (an ISO week), 2026-11 (a month),
// 2026-Q4 (a quarter), 2026 (a year) or 2026-11-01~2026-11-15 (a range of
// days, both ends included).
func ParsePeriod(s string, loc *time.Location) (Period, error) {
	bad := func(why string) (Period, error) { return Period{}, apperr.Field("period", why) }
	var p Period
	switch {
	case dayRE.MatchString(s):
		m := dayRE.FindStringSubmatch(s)
		y, mo, d := atoi(m[1]), atoi(m[2]), atoi(m[3])
		if !validDay(y, mo, d, loc) {
			return bad("日期不存在")
		}
		p = Period{Kind: Day, Start: date(y, mo, d, loc), End: date(y, mo, d+1, loc), Label: fmt.Sprintf("%d年%d月%d日", y, mo, d)}
	case weekRE.MatchString(s):
		m := weekRE.FindStringSubmatch(s)
		y, w := atoi(m[1]), atoi(m[2])
		// ISO week 1 holds the year's first Thursday; its Monday starts it.
		jan4 := date(y, 1, 4, loc)
		monday := jan4.AddDate(0, 0, -((int(jan4.Weekday()) + 6) % 7))
		start := monday.AddDate(0, 0, 7*(w-1))
		if wy, ww := start.ISOWeek(); w < 1 || wy != y || ww != w {
			return bad(fmt.Sprintf("%d年没有第%d周", y, w))
		}
		p = Period{Kind: Week, Start: start, End: start.AddDate(0, 0, 7), Label: fmt.Sprintf("%d年第%d周", y, w)}
	case monthRE.MatchString(s):
		m := monthRE.FindStringSubmatch(s)
		y, mo := atoi(m[1]), atoi(m[2])
		if mo < 1 || mo > 12 {
			return bad("月份应为01–12")
		}
		p = Period{Kind: Month, Start: date(y, mo, 1, loc), End: date(y, mo+1, 1, loc), Label: fmt.Sprintf("%d年%d月", y, mo)}
	case quarterRE.MatchString(s):
		m := quarterRE.FindStringSubmatch(s)
		y, q := atoi(m[1]), atoi(m[2])
		p = Period{Kind: Quarter, Start: date(y, 3*q-2, 1, loc), End: date(y, 3*q+1, 1, loc), Label: fmt.Sprintf("%d年第%d季度", y, q)}
	case yearRE.MatchString(s):
		y := atoi(s)
		p = Period{Kind: Year, Start: date(y, 1, 1, loc), End: date(y+1, 1, 1, loc), Label: fmt.Sprintf("%d年", y)}
	case rangeRE.MatchString(s):
		m := rangeRE.FindStringSubmatch(s)
		a, err1 := ParsePeriod(m[1], loc)
		b, err2 := ParsePeriod(m[2], loc)
		if err1 != nil || err2 != nil {
			return bad("起止日期不存在")
		}
		if b.Start.Before(a.Start) {
			return bad("结束日期早于开始日期")
		}
		if days := int(b.End.Sub(a.Start).Hours()/24 + 0.5); days > MaxRangeDays {
			return bad(fmt.Sprintf("时间段不能超过%d天", MaxRangeDays))
		}
		p = Period{Kind: Range, Start: a.Start, End: b.End, Label: a.Label + "至" + b.Label}
	default:
		return bad("时间段格式应为 2026-11-03、2026-W45、2026-11、2026-Q4、2026 或 2026-11-01~2026-11-15")
	}
	if y := p.Start.Year(); y < 2000 || y > 2100 {
		return bad("年份应在2000–2100之间")
	}
	p.Key = s
	p.Start, p.End = p.Start.UTC(), p.End.UTC()
	return p, nil
}

// Contains reports whether t falls in the period.
func (p Period) Contains(t time.Time) bool { return !t.Before(p.Start) && t.Before(p.End) }

// Previous returns the period of the same kind just before p (a range: the
// same number of days before it); an error before the year 2000.
func (p Period) Previous(loc *time.Location) (Period, error) {
	s := p.Start.In(loc)
	var key string
	switch p.Kind {
	case Day:
		key = s.AddDate(0, 0, -1).Format("2006-01-02")
	case Week:
		y, w := s.AddDate(0, 0, -7).ISOWeek()
		key = fmt.Sprintf("%d-W%02d", y, w)
	case Month:
		key = s.AddDate(0, -1, 0).Format("2006-01")
	case Quarter:
		q := s.AddDate(0, -3, 0)
		key = fmt.Sprintf("%d-Q%d", q.Year(), (int(q.Month())+2)/3)
	case Year:
		key = strconv.Itoa(s.Year() - 1)
	default:
		days := int(p.End.Sub(p.Start).Hours()/24 + 0.5)
		from := s.AddDate(0, 0, -days)
		key = from.Format("2006-01-02") + "~" + s.AddDate(0, 0, -1).Format("2006-01-02")
	}
	return ParsePeriod(key, loc)
}

// Trend returns up to n periods ending with p, oldest first (fewer when the
// calendar's start is reached).
func (p Period) Trend(n int, loc *time.Location) []Period {
	out := []Period{p}
	for len(out) < n {
		prev, err := out[0].Previous(loc)
		if err != nil {
			break
		}
		out = append([]Period{prev}, out...)
	}
	return out
}
