package calendar

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"zhizhi/internal/apperr"
)

// Span is one daily working period [Start, End), given as offsets from local
// midnight. End may be 24h (midnight at the end of the day). In text (config
// files, JSON) a span is written "08:30-12:00".
type Span struct {
	Start time.Duration
	End   time.Duration
}

// DefaultHours returns the usual office hours of a Chinese street office:
// 08:30–12:00 and 14:00–18:00, seven and a half working hours a day.
func DefaultHours() []Span {
	return []Span{
		{Start: 8*time.Hour + 30*time.Minute, End: 12 * time.Hour},
		{Start: 14 * time.Hour, End: 18 * time.Hour},
	}
}

// Duration returns the length of the span.
func (s Span) Duration() time.Duration { return s.End - s.Start }

// String formats the span as "08:30-12:00".
func (s Span) String() string { return clockText(s.Start) + "-" + clockText(s.End) }

// MarshalText writes the span as "08:30-12:00", so configuration files stay
// readable instead of holding nanosecond counts.
func (s Span) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a span written as "08:30-12:00".
func (s *Span) UnmarshalText(b []byte) error {
	v, err := ParseSpan(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ParseSpan reads "HH:MM-HH:MM" (an en dash or "~" also separates). It checks
// the form and that the span lies within one day with its start before its
// end; ordering against other spans is checked by New.
func ParseSpan(text string) (Span, error) {
	t := strings.TrimSpace(text)
	t = strings.NewReplacer("–", "-", "~", "-", "～", "-", " ", "").Replace(t)
	a, b, ok := strings.Cut(t, "-")
	if !ok {
		return Span{}, apperr.Field("hours", "工作时间段格式应为 HH:MM-HH:MM")
	}
	start, ok1 := parseClock(a)
	end, ok2 := parseClock(b)
	if !ok1 || !ok2 {
		return Span{}, apperr.Field("hours", "工作时间段格式应为 HH:MM-HH:MM")
	}
	s := Span{Start: start, End: end}
	if reason := s.problem(); reason != "" {
		return Span{}, apperr.Field("hours", reason)
	}
	return s, nil
}

// problem returns why the span on its own is unusable, or "".
func (s Span) problem() string {
	if s.Start < 0 || s.End > 24*time.Hour {
		return "工作时间段须在 00:00 至 24:00 之内"
	}
	if s.Start >= s.End {
		return "工作时间段的开始须早于结束"
	}
	return ""
}

// validateHours checks a whole working day: at least one span, each within a
// day, in order and not overlapping (touching is allowed). Order matters
// because the arithmetic walks spans front to back.
func validateHours(hours []Span) error {
	var f apperr.Fields
	if len(hours) == 0 {
		f.Add("hours", "至少需要一个工作时间段")
	}
	for i, s := range hours {
		field := fmt.Sprintf("hours[%d]", i)
		if reason := s.problem(); reason != "" {
			f.Add(field, reason)
			continue
		}
		if i > 0 && s.Start < hours[i-1].End {
			f.Add(field, "工作时间段须按先后排列且互不重叠")
		}
	}
	return f.Err()
}

// parseClock reads "H:MM" or "HH:MM", allowing "24:00" for the end of a day.
func parseClock(s string) (time.Duration, bool) {
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) < 1 || len(h) > 2 || len(m) != 2 {
		return 0, false
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return 0, false
	}
	return time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute, true
}

// clockText formats an offset from midnight as "HH:MM", with seconds only
// when present, so that a span always prints back to something ParseSpan
// reads when it is whole minutes.
func clockText(d time.Duration) string {
	h := d / time.Hour
	m := (d % time.Hour) / time.Minute
	s := (d % time.Minute) / time.Second
	if s != 0 {
		return fmt.Sprintf("%02d:%02d:%02d", h, m, s)
	}
	return fmt.Sprintf("%02d:%02d", h, m)
}
