package sensors

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/geo"
	"zhizhi/internal/sla"
)

var t0 = time.Date(2023, 12, 31, 20, 0, 0, 0, time.UTC)

var crowdKind = Kind{Code: "crowd", Name: "客流计数", Unit: "人", Min: 0, Max: 200000}

func dev(id, area string) Device {
	return Device{ID: id, Kind: "crowd", Point: geo.Point{Lng: 106.577, Lat: 29.557}, Area: area, State: Active}
}

func TestValidate(t *testing.T) {
	d := dev("c1", "jfb")
	retired := d
	retired.State = Retired
	now := t0
	cases := []struct {
		name string
		r    Reading
		dev  *Device
		kind *Kind
		want Problem
	}{
		{"good", Reading{"c1", "crowd", 1200, now}, &d, &crowdKind, OK},
		{"kind from device when not named", Reading{"c1", "", 1, now}, &d, &crowdKind, OK},
		{"unknown device", Reading{"nope", "crowd", 1, now}, nil, &crowdKind, UnknownDevice},
		{"retired device", Reading{"c1", "crowd", 1, now}, &retired, &crowdKind, RetiredDevice},
		{"wrong kind", Reading{"c1", "smoke", 1, now}, &d, &crowdKind, WrongKind},
		{"kind missing from catalog", Reading{"c1", "crowd", 1, now}, &d, nil, WrongKind},
		{"below range", Reading{"c1", "crowd", -1, now}, &d, &crowdKind, OutOfRange},
		{"above range", Reading{"c1", "crowd", 200001, now}, &d, &crowdKind, OutOfRange},
		{"NaN", Reading{"c1", "crowd", math.NaN(), now}, &d, &crowdKind, Malformed},
		{"no time", Reading{"c1", "crowd", 1, time.Time{}}, &d, &crowdKind, Malformed},
		{"an hour old is fine", Reading{"c1", "crowd", 1, now.Add(-time.Hour)}, &d, &crowdKind, OK},
		{"too old", Reading{"c1", "crowd", 1, now.Add(-25 * time.Hour)}, &d, &crowdKind, Replayed},
		{"far future", Reading{"c1", "crowd", 1, now.Add(3 * time.Minute)}, &d, &crowdKind, Future},
		{"slight skew is fine", Reading{"c1", "crowd", 1, now.Add(time.Minute)}, &d, &crowdKind, OK},
	}
	for _, c := range cases {
		if got := Validate(c.r, c.dev, c.kind, now); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

func TestParse(t *testing.T) {
	cases := []struct {
		name, kind, device, body string
		want                     Problem
		value                    float64
		at                       time.Time
	}{
		{"rfc3339", "crowd", "c1", `{"value": 1200, "at": "2024-01-01T00:00:00+08:00"}`, OK, 1200, time.Date(2023, 12, 31, 16, 0, 0, 0, time.UTC)},
		{"millis", "crowd", "c1", `{"value": 3.5, "at": 1704038400000}`, OK, 3.5, time.UnixMilli(1704038400000).UTC()},
		{"body agrees with topic", "crowd", "c1", `{"device":"c1","kind":"crowd","value": 1, "at": 1704038400000}`, OK, 1, time.UnixMilli(1704038400000).UTC()},
		{"not json", "crowd", "c1", `value=3`, Malformed, 0, time.Time{}},
		{"no value", "crowd", "c1", `{"at": 1704038400000}`, Malformed, 0, time.Time{}},
		{"value a string", "crowd", "c1", `{"value": "3", "at": 1704038400000}`, Malformed, 0, time.Time{}},
		{"no time", "crowd", "c1", `{"value": 3}`, Malformed, 0, time.Time{}},
		{"bad time", "crowd", "c1", `{"value": 3, "at": "yesterday"}`, Malformed, 0, time.Time{}},
		{"negative millis", "crowd", "c1", `{"value": 3, "at": -5}`, Malformed, 0, time.Time{}},
		{"other device than topic", "crowd", "c1", `{"device":"c2","value": 3, "at": 1704038400000}`, Malformed, 0, time.Time{}},
		{"other kind than topic", "crowd", "c1", `{"kind":"smoke","value": 3, "at": 1704038400000}`, WrongKind, 0, time.Time{}},
		{"http without device", "", "", `{"kind":"crowd","value": 3, "at": 1704038400000}`, Malformed, 0, time.Time{}},
	}
	for _, c := range cases {
		r, p := Parse(c.kind, c.device, []byte(c.body))
		if p != c.want {
			t.Errorf("%s: problem %q, want %q", c.name, p, c.want)
			continue
		}
		if p == OK && (r.Value != c.value || !r.At.Equal(c.at) || r.Device != c.device) {
			t.Errorf("%s: got %+v", c.name, r)
		}
	}
	rs, ps, err := ParseBatch([]byte(`[{"device":"c1","kind":"crowd","value":1,"at":1704038400000}, 7, {"device":"c2"}]`))
	if err != nil || len(rs) != 3 || ps[0] != OK || ps[1] != Malformed || ps[2] != Malformed || rs[0].Kind != "crowd" {
		t.Errorf("batch: %v %v %v", rs, ps, err)
	}
	if _, _, err := ParseBatch([]byte(`{"device":"c1"}`)); err == nil {
		t.Error("a batch that is not an array was taken")
	}
}

func TestTopic(t *testing.T) {
	topic := Topic("zhizhi/readings", "crowd", "JFB-001")
	k, d, err := SplitTopic("zhizhi/readings", topic)
	if err != nil || k != "crowd" || d != "JFB-001" {
		t.Fatalf("%s → %s %s %v", topic, k, d, err)
	}
	for _, bad := range []string{"other/crowd/x", "zhizhi/readings/crowd", "zhizhi/readings/crowd/x/y", "zhizhi/readings/cr owd/x"} {
		if _, _, err := SplitTopic("zhizhi/readings", bad); err == nil {
			t.Errorf("%s: taken", bad)
		}
	}
}

func TestChecks(t *testing.T) {
	fields := func(err error) string {
		var e *apperr.Error
		if !errors.As(err, &e) {
			return ""
		}
		var s []string
		for _, f := range e.Fields {
			s = append(s, f.Field)
		}
		return strings.Join(s, ",")
	}
	if err := crowdKind.Check(); err != nil {
		t.Errorf("good kind refused: %v", err)
	}
	if got := fields(Kind{Code: "a/b", Min: 5, Max: 5}.Check()); got != "code,name,unit,max" {
		t.Errorf("bad kind: %q", got)
	}
	d := dev("c1", "")
	if err := d.Check(&crowdKind); err != nil {
		t.Errorf("good device refused: %v", err)
	}
	if got := fields(Device{ID: "c#1", Kind: "x", Point: geo.Point{Lng: 500}, State: "lost"}.Check(nil)); got != "id,kind,point,state" {
		t.Errorf("bad device: %q", got)
	}
	good := Rule{Name: "人流", Type: Threshold, Kind: "crowd", Raise: 10, Clear: 8, Category: "crowd", Severity: sla.Urgent}
	if err := good.Check(); err != nil {
		t.Errorf("good rule refused: %v", err)
	}
	bad := []struct {
		r     Rule
		field string
	}{
		{Rule{Type: Threshold, Kind: "crowd", Raise: 10, Clear: 8, Category: "c", Severity: sla.Normal}, "name"},
		{Rule{Name: "x", Type: Threshold, Kind: "crowd", Raise: 10, Clear: 12, Category: "c", Severity: sla.Normal}, "clear"},
		{Rule{Name: "x", Type: Threshold, Kind: "crowd", Below: true, Raise: 10, Clear: 8, Category: "c", Severity: sla.Normal}, "clear"},
		{Rule{Name: "x", Type: Silence, Kind: "crowd", Category: "c", Severity: sla.Normal}, "silent_minutes"},
		{Rule{Name: "x", Type: "magic", Kind: "crowd", Category: "c", Severity: sla.Normal}, "type"},
		{Rule{Name: "x", Type: AreaSum, Raise: 1, Clear: 1, Category: "c", Severity: sla.Normal}, "area"},
		{Rule{Name: "x", Type: Threshold, Raise: 1, Clear: 1, Category: "c", Severity: sla.Normal}, "kind"},
		{Rule{Name: "x", Type: Threshold, Kind: "k", Raise: 1, Clear: 1, Severity: sla.Normal}, "category"},
		{Rule{Name: "x", Type: Threshold, Kind: "k", Raise: 1, Clear: 1, Category: "c", Severity: "meh"}, "severity"},
	}
	for _, c := range bad {
		if got := fields(c.r.Check()); got != c.field {
			t.Errorf("%+v: fields %q, want %q", c.r, got, c.field)
		}
	}
}

func TestSimulator(t *testing.T) {
	kinds := []Kind{crowdKind, {Code: "smoke", Name: "烟感", Unit: "ppm", Min: 0, Max: 1000}, {Code: "strain", Name: "应变", Unit: "με", Min: -500, Max: 500}}
	var devs []Device
	for i := 0; i < 30; i++ {
		d := dev(fmt.Sprintf("c%d", i), "jfb")
		d.Kind = kinds[i%3].Code
		devs = append(devs, d)
	}
	gone := dev("gone", "")
	gone.State = Retired
	devs = append(devs, gone, Device{ID: "nokind", Kind: "nope", State: Active})
	s := NewSimulator(devs, kinds, 7)
	if s.Devices() != 30 {
		t.Fatalf("%d devices", s.Devices())
	}
	cst := time.FixedZone("CST", 8*3600)
	evening, dawn := time.Date(2024, 1, 1, 20, 0, 0, 0, cst), time.Date(2024, 1, 1, 4, 0, 0, 0, cst)
	sum := func(at time.Time) float64 {
		var total float64
		for _, r := range s.Next(30, at) {
			k := map[string]Kind{"crowd": kinds[0], "smoke": kinds[1], "strain": kinds[2]}[r.Kind]
			if r.Value < k.Min || r.Value > k.Max || r.Device == "gone" || r.Device == "nokind" || !r.At.Equal(at) {
				t.Fatalf("reading %+v outside its kind %+v", r, k)
			}
			if r.Kind == "crowd" {
				total += r.Value
			}
		}
		return total
	}
	if e, d := sum(evening), sum(dawn); e < 3*d {
		t.Errorf("crowd in the evening %v, at dawn %v", e, d)
	}
	a, b := NewSimulator(devs, kinds, 9).Next(5, evening), NewSimulator(devs, kinds, 9).Next(5, evening)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Error("not deterministic for a seed")
	}
}
