package operation

import (
	"fmt"
	"testing"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/geo"
)

var cst = time.FixedZone("CST", 8*3600)

func square(lng, lat, d float64) geo.MultiPolygon {
	return geo.MultiPolygon{{{{Lng: lng, Lat: lat}, {Lng: lng + d, Lat: lat}, {Lng: lng + d, Lat: lat + d}, {Lng: lng, Lat: lat + d}, {Lng: lng, Lat: lat}}}}
}

func nye() Operation {
	start := time.Date(2023, 12, 31, 20, 0, 0, 0, cst)
	return Operation{
		Name: "2024跨年夜解放碑", Start: start, End: start.Add(6 * time.Hour), Kind: "crowd", AlertCategory: "AQ01",
		Areas: []Area{
			{Key: "jfb-square", Name: "解放碑广场", Shape: square(106.57, 29.55, 0.003), Yellow: 80000, Red: 100000,
				Duty: []Duty{{Name: "张伟", Role: "现场指挥", Phone: "13800000000"}}},
			{Key: "jfb-bayi", Name: "八一路", Shape: square(106.575, 29.555, 0.002), Yellow: 20000, Red: 30000},
		},
		Tasks: []Task{
			{ID: "clean", Area: "jfb-square", Title: "广场清扫", Category: "SR01", Unit: "hw", At: start.Add(4*time.Hour + 5*time.Minute), LimitMinutes: 15},
			{ID: "traffic", Area: "jfb-square", Title: "交通疏导", Category: "JT01", Unit: "jj", At: start.Add(4*time.Hour + 5*time.Minute), LimitMinutes: 15},
			{ID: "divert", Area: "jfb-bayi", Title: "八一路分流", Category: "JT01", Unit: "jj", Trigger: OnRed, LimitMinutes: 10},
		},
	}
}

func TestCheckNamesTheField(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(o *Operation)
		field string
	}{
		{"no name", func(o *Operation) { o.Name = "" }, "name"},
		{"end before start", func(o *Operation) { o.End = o.Start.Add(-time.Minute) }, "end"},
		{"too long", func(o *Operation) { o.End = o.Start.Add(15 * 24 * time.Hour); o.Tasks = nil }, "end"},
		{"no kind", func(o *Operation) { o.Kind = "" }, "kind"},
		{"no alert category", func(o *Operation) { o.AlertCategory = "" }, "alert_category"},
		{"no areas", func(o *Operation) { o.Areas, o.Tasks = nil, nil }, "areas"},
		{"bad key", func(o *Operation) { o.Areas[1].Key = "八一路"; o.Tasks = o.Tasks[:2] }, "areas[1].key"},
		{"duplicate key", func(o *Operation) { o.Areas[1].Key = "jfb-square"; o.Tasks = o.Tasks[:2] }, "areas[1].key"},
		{"no shape", func(o *Operation) { o.Areas[0].Shape = nil }, "areas[0].shape"},
		{"open ring", func(o *Operation) { o.Areas[0].Shape[0][0] = o.Areas[0].Shape[0][0][:3] }, "areas[0].shape"},
		{"red below yellow", func(o *Operation) { o.Areas[0].Red = 70000 }, "areas[0].red"},
		{"negative yellow", func(o *Operation) { o.Areas[1].Yellow = -1 }, "areas[1].yellow"},
		{"duty without name", func(o *Operation) { o.Areas[0].Duty[0].Name = "" }, "areas[0].duty[0].name"},
		{"bad phone", func(o *Operation) { o.Areas[0].Duty[0].Phone = "call me" }, "areas[0].duty[0].phone"},
		{"task in no area", func(o *Operation) { o.Tasks[0].Area = "nowhere" }, "tasks[0].area"},
		{"task outside the window", func(o *Operation) { o.Tasks[1].At = o.End.Add(time.Minute) }, "tasks[1].at"},
		{"task without moment", func(o *Operation) { o.Tasks[1].At = time.Time{} }, "tasks[1].at"},
		{"trigger with moment", func(o *Operation) { o.Tasks[2].At = o.Start }, "tasks[2].at"},
		{"unknown trigger", func(o *Operation) { o.Tasks[2].Trigger = "yellow" }, "tasks[2].trigger"},
		{"no limit", func(o *Operation) { o.Tasks[0].LimitMinutes = 0 }, "tasks[0].limit_minutes"},
		{"duplicate task", func(o *Operation) { o.Tasks[1].ID = "clean" }, "tasks[1].id"},
		{"no unit", func(o *Operation) { o.Tasks[0].Unit = "" }, "tasks[0].unit"},
		{"no category", func(o *Operation) { o.Tasks[0].Category = "" }, "tasks[0].category"},
		{"control character", func(o *Operation) { o.Tasks[0].Title = "清\x01扫" }, "tasks[0].title"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := nye()
			tc.edit(&o)
			err := o.Check()
			var e *apperr.Error
			if !apperr.Is(err, apperr.Invalid) || !asErr(err, &e) || len(e.Fields) != 1 || e.Fields[0].Field != tc.field {
				t.Errorf("want one problem on %s, got %v", tc.field, err)
			}
		})
	}
	if err := nye().Check(); err != nil {
		t.Errorf("the S3 operation: %v", err)
	}
}

func asErr(err error, e **apperr.Error) bool {
	x, ok := err.(*apperr.Error)
	*e = x
	return ok
}

func TestLevelsWithHysteresis(t *testing.T) {
	a := nye().Areas[0] // yellow 80,000, red 100,000
	t0 := time.Date(2023, 12, 31, 20, 0, 0, 0, cst)
	var st AreaState
	var got []string
	for i, v := range []float64{50000, 79999, 80000, 79000, 75000, 99999, 100000, 96000, 94999, 120000, 70000, 30000} {
		var ch *LevelChange
		st, ch = a.Step(st, v, t0.Add(time.Duration(i)*time.Minute))
		if ch != nil {
			got = append(got, fmt.Sprintf("%d:%s>%s", i, ch.From, ch.To))
		}
	}
	// 79,000 stays yellow (within 5% of the line); 96,000 stays red; 70,000
	// is below both lines' bands: red straight to green.
	want := "[2:green>yellow 4:yellow>green 5:green>yellow 6:yellow>red 8:red>yellow 9:yellow>red 10:red>green]"
	if fmt.Sprint(got) != want {
		t.Errorf("changes %v", got)
	}
	if st.Peak != 120000 || !st.PeakAt.Equal(t0.Add(9*time.Minute)) || st.Level != Green || st.Value != 30000 {
		t.Errorf("state %+v", st)
	}
	// A value that is no number changes nothing.
	if st2, ch := a.Step(st, nan(), t0); ch != nil || st2 != st {
		t.Errorf("NaN moved the state")
	}
}

func nan() float64 { var z float64; return z / z }

func TestDueAndRestored(t *testing.T) {
	o := nye()
	at := o.Tasks[0].At
	runs := map[string]TaskRun{}
	for _, tc := range []struct {
		name  string
		task  int
		run   TaskState
		level Level
		now   time.Time
		want  bool
	}{
		{"before its moment", 0, Prepared, Green, at.Add(-time.Second), false},
		{"at its moment", 0, Prepared, Green, at, true},
		{"already released", 0, Released, Green, at.Add(time.Minute), false},
		{"red trigger, area yellow", 2, Prepared, Yellow, o.Start, false},
		{"red trigger, area red", 2, Prepared, Red, o.Start.Add(time.Hour), true},
		{"red trigger after the end", 2, Prepared, Red, o.End, false},
		{"red trigger already released", 2, Dispatched, Red, o.Start, false},
	} {
		if got := Due(o, o.Tasks[tc.task], TaskRun{State: tc.run}, tc.level, tc.now); got != tc.want {
			t.Errorf("%s: due %v", tc.name, got)
		}
	}
	if _, ok := Restored(o, "jfb-square", runs); ok {
		t.Error("restored with nothing done")
	}
	runs["clean"] = TaskRun{State: Done, ReleasedAt: at, DoneAt: at.Add(9 * time.Minute)}
	runs["traffic"] = TaskRun{State: Dispatched, ReleasedAt: at}
	if _, ok := Restored(o, "jfb-square", runs); ok {
		t.Error("restored with one task open")
	}
	runs["traffic"] = TaskRun{State: Done, ReleasedAt: at, DoneAt: at.Add(12 * time.Minute)}
	if when, ok := Restored(o, "jfb-square", runs); !ok || !when.Equal(at.Add(12*time.Minute)) {
		t.Errorf("restored %v %v", when, ok)
	}
	// 八一路 has only a triggered task: no post-event task restores it.
	runs["divert"] = TaskRun{State: Done, ReleasedAt: o.Start, DoneAt: o.Start.Add(time.Minute)}
	if _, ok := Restored(o, "jfb-bayi", runs); ok {
		t.Error("an area without post-event tasks restored")
	}
}

func TestReport(t *testing.T) {
	o := nye()
	at := o.Tasks[0].At
	states := map[string]AreaState{
		"jfb-square": {Area: "jfb-square", Peak: 117000, PeakAt: at.Add(-10 * time.Minute), RestoredAt: at.Add(14 * time.Minute)},
		"jfb-bayi":   {Area: "jfb-bayi", Peak: 15000},
	}
	runs := map[string]TaskRun{
		"clean":   {State: Done, ReleasedAt: at, DoneAt: at.Add(11 * time.Minute)},
		"traffic": {State: Done, ReleasedAt: at, DoneAt: at.Add(16 * time.Minute)},
	}
	alerts := []Alert{
		{Area: "jfb-square", Level: Red, OpenedAt: at.Add(-30 * time.Minute)},
		{Area: "jfb-square", Level: Yellow, OpenedAt: at.Add(-60 * time.Minute)},
	}
	events := []Event{{At: at, Kind: "released", Text: "b"}, {At: at.Add(-time.Hour), Kind: "level", Text: "a"}}
	r := BuildReport(o, states, runs, alerts, events)
	sq := r.Areas[0]
	if sq.Peak != 117000 || sq.PeakShare != 1.17 || sq.Alerts != 2 || sq.RestoreMinutes != 14 {
		t.Errorf("square %+v", sq)
	}
	if r.Areas[1].RestoreMinutes != 0 || r.Areas[1].Alerts != 0 {
		t.Errorf("bayi %+v", r.Areas[1])
	}
	if r.Alerts[0].Level != Yellow || len(r.Timeline) != 4 || r.Timeline[0].Text != "a" || r.Timeline[1].Text != "解放碑广场黄色预警告警" || r.Timeline[3].Text != "b" {
		t.Errorf("not in time order: %+v %+v", r.Alerts, r.Timeline)
	}
	if len(r.Tasks) != 3 || r.Tasks[0].ID != "clean" || !r.Tasks[0].OnTime || r.Tasks[0].Minutes != 11 ||
		r.Tasks[1].OnTime || r.Tasks[1].Minutes != 16 || r.Tasks[2].ID != "divert" || r.Tasks[2].Minutes != 0 {
		t.Errorf("tasks %+v", r.Tasks)
	}
}
