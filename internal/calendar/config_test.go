package calendar

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/apperr"
)

// fieldNames returns the fields of an apperr Invalid error, failing the test
// for any other error.
func fieldNames(t *testing.T, err error) []string {
	t.Helper()
	var e *apperr.Error
	if !errors.As(err, &e) || e.Kind != apperr.Invalid {
		t.Fatalf("error %v is not apperr Invalid", err)
	}
	var names []string
	for _, f := range e.Fields {
		if f.Reason == "" {
			t.Errorf("field %s has no reason", f.Field)
		}
		names = append(names, f.Field)
	}
	return names
}

func TestParseSpan(t *testing.T) {
	tests := []struct {
		in      string
		want    Span
		wantErr bool
	}{
		{"08:30-12:00", Span{8*hour + 30*minute, 12 * hour}, false},
		{" 8:30 - 12:00 ", Span{8*hour + 30*minute, 12 * hour}, false},
		{"14:00–18:00", Span{14 * hour, 18 * hour}, false},
		{"00:00-24:00", Span{0, 24 * hour}, false},
		{"12:00-08:30", Span{}, true},
		{"09:00-09:00", Span{}, true},
		{"09:00", Span{}, true},
		{"9-12", Span{}, true},
		{"09:60-12:00", Span{}, true},
		{"24:30-25:00", Span{}, true},
		{"aa:bb-cc:dd", Span{}, true},
	}
	for _, tc := range tests {
		got, err := ParseSpan(tc.in)
		if tc.wantErr {
			if err == nil {
				t.Errorf("ParseSpan(%q) = %v, want error", tc.in, got)
			} else if names := fieldNames(t, err); !reflect.DeepEqual(names, []string{"hours"}) {
				t.Errorf("ParseSpan(%q) fields %v", tc.in, names)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseSpan(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestSpanJSON(t *testing.T) {
	in := Config{Hours: DefaultHours()}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"hours":["08:30-12:00","14:00-18:00"]}`; string(b) != want {
		t.Fatalf("json = %s, want %s", b, want)
	}
	var out Config
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out.Hours, in.Hours) {
		t.Errorf("round trip = %v", out.Hours)
	}
	if err := json.Unmarshal([]byte(`{"hours":["18:00-08:00"]}`), &out); err == nil {
		t.Error("bad span accepted from JSON")
	}
}

func TestNewRefusesBadHours(t *testing.T) {
	tests := []struct {
		name  string
		hours []Span
		want  []string
	}{
		{"reversed", []Span{{12 * hour, 8 * hour}}, []string{"hours[0]"}},
		{"past midnight", []Span{{20 * hour, 25 * hour}}, []string{"hours[0]"}},
		{"negative", []Span{{-hour, 8 * hour}}, []string{"hours[0]"}},
		{"overlapping", []Span{{8 * hour, 12 * hour}, {11 * hour, 18 * hour}}, []string{"hours[1]"}},
		{"out of order", []Span{{14 * hour, 18 * hour}, {8 * hour, 12 * hour}}, []string{"hours[1]"}},
		{"empty span among good", []Span{{8 * hour, 12 * hour}, {13 * hour, 13 * hour}}, []string{"hours[1]"}},
	}
	for _, tc := range tests {
		_, err := New(Config{Hours: tc.hours})
		if err == nil {
			t.Errorf("%s: accepted", tc.name)
			continue
		}
		if got := fieldNames(t, err); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: fields %v, want %v", tc.name, got, tc.want)
		}
	}
	// Touching spans are fine.
	if _, err := New(Config{Hours: []Span{{8 * hour, 12 * hour}, {12 * hour, 13 * hour}}}); err != nil {
		t.Errorf("touching spans refused: %v", err)
	}
}

func TestOverlayValidate(t *testing.T) {
	tests := []struct {
		name string
		o    OverlayDay
		want []string
	}{
		{"good holiday", OverlayDay{Date: "2027-02-06", Kind: Holiday, Name: "春节"}, nil},
		{"good workday, no name", OverlayDay{Date: "2027-02-20", Kind: Workday}, nil},
		{"bad date", OverlayDay{Date: "2027-2-6", Kind: Holiday}, []string{"date"}},
		{"impossible date", OverlayDay{Date: "2027-02-30", Kind: Holiday}, []string{"date"}},
		{"year out of range", OverlayDay{Date: "1999-01-01", Kind: Holiday}, []string{"date"}},
		{"bad kind", OverlayDay{Date: "2027-02-06", Kind: "off"}, []string{"kind"}},
		{"both bad", OverlayDay{Date: "", Kind: ""}, []string{"date", "kind"}},
		{"NUL in name", OverlayDay{Date: "2027-02-06", Kind: Holiday, Name: "春节\x00"}, []string{"name"}},
		{"line break in name", OverlayDay{Date: "2027-02-06", Kind: Holiday, Name: "春\n节"}, []string{"name"}},
		{"long name", OverlayDay{Date: "2027-02-06", Kind: Holiday, Name: strings.Repeat("长", 51)}, []string{"name"}},
	}
	for _, tc := range tests {
		err := tc.o.Validate()
		if tc.want == nil {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if got := fieldNames(t, err); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: fields %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestNewRefusesBadOverlay(t *testing.T) {
	_, err := New(Config{Overlay: []OverlayDay{
		{Date: "2027-02-06", Kind: Holiday},
		{Date: "2027/02/07", Kind: Holiday},
		{Date: "2027-02-08", Kind: "rest"},
		{Date: "2027-02-06", Kind: Workday},
	}})
	want := []string{"overlay[1].date", "overlay[2].kind", "overlay[3].date"}
	if got := fieldNames(t, err); !reflect.DeepEqual(got, want) {
		t.Errorf("fields %v, want %v", got, want)
	}
}

func TestOverlayOverridesBuiltin(t *testing.T) {
	cal, err := New(Config{Overlay: []OverlayDay{
		{Date: "2026-02-23", Kind: Workday, Name: "更正"},   // built-in: off (Monday)
		{Date: "2026-02-14", Kind: Holiday, Name: "更正"},   // built-in: make-up Saturday
		{Date: "2026-03-02", Kind: Holiday, Name: "地方放假"}, // ordinary Monday
		{Date: "2028-01-01", Kind: Holiday, Name: "元旦"},   // Saturday, beyond built-in data
		{Date: "2028-01-03", Kind: Holiday, Name: "元旦"},   // Monday, beyond built-in data
		{Date: "2028-01-08", Kind: Workday, Name: "调休"},   // Saturday
	}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		date       string
		want, base bool // with the overlay, and in Default()
	}{
		{"2026-02-23", true, false},
		{"2026-02-14", false, true},
		{"2026-03-02", false, true},
		{"2026-02-16", false, false}, // untouched built-in holiday
		{"2026-02-28", true, true},   // untouched make-up day
		{"2028-01-03", false, true},
		{"2028-01-08", true, false},
		{"2028-01-04", true, true},
	}
	for _, tc := range tests {
		d := mustDate(t, tc.date).Add(10 * time.Hour)
		if got := cal.IsWorkday(d); got != tc.want {
			t.Errorf("overlay IsWorkday(%s) = %v, want %v", tc.date, got, tc.want)
		}
		if got := Default().IsWorkday(d); got != tc.base {
			t.Errorf("default IsWorkday(%s) = %v, want %v", tc.date, got, tc.base)
		}
	}
	if !cal.HasYear(2028) || Default().HasYear(2028) {
		t.Error("HasYear does not reflect the overlay")
	}
	// Arithmetic follows the overlay: from the make-up Saturday 2/28 17:00,
	// two working hours skip Sunday and the locally closed Monday 3/2.
	if got, want := cal.AddWorking(sh(2026, 2, 28, 17, 0), 2*hour), sh(2026, 3, 3, 9, 30); !got.Equal(want) {
		t.Errorf("AddWorking over overlay holiday = %v, want %v", got, want)
	}
	if got, want := cal.WorkingBetween(sh(2027, 12, 31, 18, 0), sh(2028, 1, 10, 8, 30)), 5*day; got != want {
		t.Errorf("WorkingBetween in overlay year = %v, want %v", got, want) // 1/4–1/8
	}
}

func TestParseOverlay(t *testing.T) {
	text := `# 2027 announcement
2027-02-06, holiday, 春节

2027-02-20,workday
`
	got, err := ParseOverlay(text)
	if err != nil {
		t.Fatal(err)
	}
	want := []OverlayDay{
		{Date: "2027-02-06", Kind: Holiday, Name: "春节"},
		{Date: "2027-02-20", Kind: Workday},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseOverlay = %+v, want %+v", got, want)
	}

	bad := []struct {
		text string
		want []string
	}{
		{"2027-02-06\n", []string{"line[1]"}},
		{"2027-02-06,holiday,a,b\n", []string{"line[1]"}},
		{"2027-02-06,holiday\n2027-13-01,workday\n2027-02-07,nope\n", []string{"line[2].date", "line[3].kind"}},
		{"2027-02-06,holiday\n2027-02-06,workday\n", []string{"line[2].date"}},
		{"2027-02-06,\"holiday\n", []string{"line[1]"}},
	}
	for _, tc := range bad {
		_, err := ParseOverlay(tc.text)
		if err == nil {
			t.Errorf("ParseOverlay(%q) accepted", tc.text)
			continue
		}
		if names := fieldNames(t, err); !reflect.DeepEqual(names, tc.want) {
			t.Errorf("ParseOverlay(%q) fields %v, want %v", tc.text, names, tc.want)
		}
	}
}

func TestParseOverlayChineseKinds(t *testing.T) {
	list, err := ParseOverlay("2027-02-06,休,春节\n2027-02-07,放假\n2027-02-20,班,春节调休\n2027-02-21,调休上班\n2027-02-22, HOLIDAY \n")
	if err != nil {
		t.Fatal(err)
	}
	want := []DayKind{Holiday, Holiday, Workday, Workday, Holiday}
	for i, o := range list {
		if o.Kind != want[i] {
			t.Errorf("line %d: %s, want %s", i+1, o.Kind, want[i])
		}
	}
	if _, err := ParseOverlay("2027-02-06,周末\n"); err == nil || !strings.Contains(err.Error(), "休") {
		t.Errorf("unknown kind: %v", err)
	}
}

func TestToggle(t *testing.T) {
	base := []OverlayDay{{Date: "2027-01-04", Kind: Holiday, Name: "本地"}}
	for _, tc := range []struct {
		date string
		want []OverlayDay
	}{
		// A Wednesday, worked: marked off.
		{"2027-03-03", append(slices.Clone(base), OverlayDay{Date: "2027-03-03", Kind: Holiday})},
		// A Saturday, off: marked worked.
		{"2027-03-06", append(slices.Clone(base), OverlayDay{Date: "2027-03-06", Kind: Workday})},
		// National Day, an official holiday on a weekday: marked worked.
		{"2026-10-01", append(slices.Clone(base), OverlayDay{Date: "2026-10-01", Kind: Workday})},
		// A date with an entry goes back to the official day.
		{"2027-01-04", []OverlayDay{}},
	} {
		got, err := Toggle(base, tc.date)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Toggle(%s) = %v, %v; want %v", tc.date, got, err, tc.want)
		}
	}
	if len(base) != 1 {
		t.Error("Toggle changed its input")
	}
	for _, bad := range []string{"2027-02-30", "tomorrow", "1999-01-01"} {
		if _, err := Toggle(base, bad); err == nil {
			t.Errorf("Toggle(%q) accepted", bad)
		}
	}
}
