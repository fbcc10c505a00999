package sla

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/calendar"
)

func sh(y int, m time.Month, d, h, mi int) time.Time {
	return time.Date(y, m, d, h, mi, 0, 0, calendar.Shanghai())
}

func fieldNames(t *testing.T, err error) []string {
	t.Helper()
	var e *apperr.Error
	if !errors.As(err, &e) || e.Kind != apperr.Invalid {
		t.Fatalf("error %v is not apperr Invalid", err)
	}
	var names []string
	for _, f := range e.Fields {
		names = append(names, f.Field)
	}
	return names
}

func TestLimitStringAndParse(t *testing.T) {
	tests := []struct {
		in   string
		want Limit
		str  string
	}{
		{"4wh", Limit{4, WorkHours}, "4工作时"},
		{"3wd", Limit{3, WorkDays}, "3工作日"},
		{"30m", Limit{30, Minutes}, "30分钟"},
		{"15d", Limit{15, Days}, "15自然日"},
		{" 2 WH ", Limit{2, WorkHours}, "2工作时"},
		{"4工作时", Limit{4, WorkHours}, "4工作时"},
		{"15自然日", Limit{15, Days}, "15自然日"},
	}
	for _, tc := range tests {
		got, err := ParseLimit(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseLimit(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			continue
		}
		if got.String() != tc.str {
			t.Errorf("String() = %q, want %q", got.String(), tc.str)
		}
		if again, err := ParseLimit(got.String()); err != nil || again != got {
			t.Errorf("ParseLimit(String()) = %v, %v", again, err)
		}
	}
	for _, bad := range []string{"", "wh", "4", "4h", "4 hours", "0m", "-3wd", "100001m", "99999999999999999999m", "3.5wd"} {
		if l, err := ParseLimit(bad); err == nil {
			t.Errorf("ParseLimit(%q) = %v, want error", bad, l)
		} else if names := fieldNames(t, err); !reflect.DeepEqual(names, []string{"limit"}) {
			t.Errorf("ParseLimit(%q) fields %v", bad, names)
		}
	}
}

func TestLimitValidate(t *testing.T) {
	tests := []struct {
		l    Limit
		want []string
	}{
		{Limit{1, Minutes}, nil},
		{Limit{MaxAmount, Days}, nil},
		{Limit{0, Minutes}, []string{"amount"}},
		{Limit{MaxAmount + 1, WorkDays}, []string{"amount"}},
		{Limit{3, "hours"}, []string{"unit"}},
		{Limit{}, []string{"amount", "unit"}},
	}
	for _, tc := range tests {
		err := tc.l.Validate()
		if tc.want == nil {
			if err != nil {
				t.Errorf("Validate(%v) = %v", tc.l, err)
			}
			continue
		}
		if got := fieldNames(t, err); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Validate(%+v) fields %v, want %v", tc.l, got, tc.want)
		}
	}
}

func TestLimitJSON(t *testing.T) {
	b, err := json.Marshal(Limit{4, WorkHours})
	if err != nil || string(b) != `{"amount":4,"unit":"work_hours"}` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	for _, in := range []string{`{"amount":4,"unit":"work_hours"}`, `"4wh"`, ` "4工作时"`} {
		var l Limit
		if err := json.Unmarshal([]byte(in), &l); err != nil || l != (Limit{4, WorkHours}) {
			t.Errorf("Unmarshal(%s) = %v, %v", in, l, err)
		}
	}
	var l Limit
	if err := json.Unmarshal([]byte(`"4h"`), &l); err == nil {
		t.Error(`Unmarshal("4h") accepted`)
	}
}

func TestDue(t *testing.T) {
	cal := calendar.Default()
	tests := []struct {
		name  string
		start time.Time
		limit Limit
		want  time.Time
	}{
		{"minutes run through the night", sh(2025, 3, 7, 23, 50), Limit{30, Minutes}, sh(2025, 3, 8, 0, 20)},
		{"natural days ignore holidays", sh(2025, 9, 30, 10, 0), Limit{15, Days}, sh(2025, 10, 15, 10, 0)},
		{"work hours skip the weekend", sh(2025, 3, 7, 16, 0), Limit{4, WorkHours}, sh(2025, 3, 10, 10, 30)},
		{"work days keep the time of day", sh(2025, 3, 7, 10, 0), Limit{3, WorkDays}, sh(2025, 3, 12, 10, 0)},
		{"work days from outside hours", sh(2025, 3, 8, 20, 0), Limit{1, WorkDays}, sh(2025, 3, 10, 18, 0)},
		{"work days over Spring Festival 2026", sh(2026, 2, 13, 9, 0), Limit{3, WorkDays}, sh(2026, 2, 25, 9, 0)}, // 2/13, 2/14, 2/24
		{"work days over National Day 2025", sh(2025, 9, 30, 15, 0), Limit{2, WorkDays}, sh(2025, 10, 10, 15, 0)},
		{"start in UTC, due in Shanghai", time.Date(2025, 3, 7, 8, 0, 0, 0, time.UTC), Limit{4, WorkHours}, sh(2025, 3, 10, 10, 30)},
	}
	for _, tc := range tests {
		got := Due(cal, tc.start, tc.limit)
		if !got.Equal(tc.want) {
			t.Errorf("%s: Due = %v, want %v", tc.name, got, tc.want)
		}
		if got.Location() != cal.Location() {
			t.Errorf("%s: due in %v", tc.name, got.Location())
		}
	}
	// nil means the default calendar.
	if got := Due(nil, sh(2025, 3, 7, 16, 0), Limit{4, WorkHours}); !got.Equal(sh(2025, 3, 10, 10, 30)) {
		t.Errorf("Due(nil) = %v", got)
	}
}

func BenchmarkDue15WorkDays(b *testing.B) {
	cal := calendar.Default()
	start := sh(2026, 1, 20, 10, 17) // spans the 2026 Spring Festival
	limit := Limit{15, WorkDays}
	for b.Loop() {
		Due(cal, start, limit)
	}
}

// TestParseLimitAsShown reads limits the way pages show them and people type
// them: Chinese units, 个, spaces, full-width digits, and the old short forms.
func TestParseLimitAsShown(t *testing.T) {
	tests := []struct {
		in   string
		want Limit
	}{
		{"2工作日", Limit{2, WorkDays}},
		{"3个工作日", Limit{3, WorkDays}},
		{"3 个 工作日", Limit{3, WorkDays}},
		{"３个工作日", Limit{3, WorkDays}},
		{"１２　工作时", Limit{12, WorkHours}},
		{"4工作小时", Limit{4, WorkHours}},
		{"4个工作小时", Limit{4, WorkHours}},
		{"48小时", Limit{48 * 60, Minutes}}, // natural hours: wall-clock minutes
		{"2 个小时", Limit{120, Minutes}},
		{"30分钟", Limit{30, Minutes}},
		{"30 分钟", Limit{30, Minutes}},
		{"15天", Limit{15, Days}},
		{"15个自然日", Limit{15, Days}},
		{"5工作天", Limit{5, WorkDays}},
		{"ＷＤ３", Limit{}}, // unit before number: refused below
		{"3ＷＤ", Limit{3, WorkDays}},
		{"30m", Limit{30, Minutes}},
		{"4wh", Limit{4, WorkHours}},
		{"3wd", Limit{3, WorkDays}},
		{"15d", Limit{15, Days}},
		{"1666小时", Limit{99960, Minutes}},
	}
	for _, tc := range tests {
		got, err := ParseLimit(tc.in)
		if tc.want == (Limit{}) {
			if err == nil {
				t.Errorf("ParseLimit(%q) = %v, want error", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseLimit(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"48h", "3个", "个工作日", "3工作", "3周", "1667小时", "0小时", "3.5工作日", "三个工作日", "3个个工作日", "٣wd"} {
		if l, err := ParseLimit(bad); err == nil {
			t.Errorf("ParseLimit(%q) = %v, want error", bad, l)
		} else if names := fieldNames(t, err); !reflect.DeepEqual(names, []string{"limit"}) {
			t.Errorf("ParseLimit(%q) fields %v", bad, names)
		}
	}
}

// TestLimitStringHours writes whole wall-clock hours as 小时, which reads back.
func TestLimitStringHours(t *testing.T) {
	for _, tc := range []struct {
		l    Limit
		want string
	}{
		{Limit{120, Minutes}, "2小时"},
		{Limit{90, Minutes}, "90分钟"},
		{Limit{30, Minutes}, "30分钟"},
		{Limit{2, WorkHours}, "2工作时"},
	} {
		if got := tc.l.String(); got != tc.want {
			t.Errorf("%v.String() = %q, want %q", tc.l, got, tc.want)
		}
	}
}

func TestTableUnmarshalNamesEveryCell(t *testing.T) {
	var tab Table
	err := json.Unmarshal([]byte(`{"handle":{"normal":"3个工作日","urgent":"4h"},"sign":{"normal":"2小时","urgent":{"amount":30,"unit":"minutes"}},"verify":{"normal":"soon"}}`), &tab)
	if names := fieldNames(t, err); !reflect.DeepEqual(names, []string{"handle.urgent", "verify.normal"}) {
		t.Fatalf("fields %v", names)
	}
	if tab != nil {
		t.Fatalf("table changed on error: %v", tab)
	}
	if err := json.Unmarshal([]byte(`{"handle":{"normal":"3个工作日"},"sign":{"urgent":{"amount":30,"unit":"minutes"}}}`), &tab); err != nil {
		t.Fatal(err)
	}
	if tab[Handle][Normal] != (Limit{3, WorkDays}) || tab[Sign][Urgent] != (Limit{30, Minutes}) {
		t.Fatalf("table %v", tab)
	}
	tab = Table{}
	if err := json.Unmarshal([]byte(`null`), &tab); err != nil || tab != nil {
		t.Fatalf("null: %v, %v", tab, err)
	}
}

// FuzzParseLimit: whatever is typed, a limit is either refused with the
// field named or valid, and what it prints reads back as itself.
func FuzzParseLimit(f *testing.F) {
	for _, s := range []string{"3个工作日", "48小时", "30m", "４wh", "15 天", "1 工作小时", "0d", "99999999999999999999m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseLimit(s)
		if err != nil {
			var e *apperr.Error
			if !errors.As(err, &e) || e.Kind != apperr.Invalid || len(e.Fields) != 1 || e.Fields[0].Field != "limit" {
				t.Fatalf("ParseLimit(%q) error %v does not name the field", s, err)
			}
			return
		}
		if err := l.Validate(); err != nil {
			t.Fatalf("ParseLimit(%q) = %v, invalid: %v", s, l, err)
		}
		if again, err := ParseLimit(l.String()); err != nil || again != l {
			t.Fatalf("ParseLimit(%q) = %v; String %q reads back as %v, %v", s, l, l.String(), again, err)
		}
	})
}
