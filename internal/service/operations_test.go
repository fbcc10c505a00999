package service

import (
	"context"
	"sync"
	"testing"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/operation"
	"zhizhi/internal/sensors"
	"zhizhi/internal/store"
)

var cstZone = time.FixedZone("CST", 8*3600)

// opWorld is sensorWorld on New Year's Eve 2023 at 18:30, with the
// categories and units of S3 and the street's commander.
func opWorld(t *testing.T) (*Service, *testClock, cases.Actor) {
	t.Helper()
	s, clock := sensorWorld(t)
	clock.mu.Lock()
	clock.t = time.Date(2023, 12, 31, 18, 30, 0, 0, cstZone)
	clock.mu.Unlock()
	ctx := context.Background()
	for _, c := range []cases.Category{
		{Code: "AQ01", Name: "人群聚集", Board: cases.BoardServices, Level: "street", Active: true},
		{Code: "SR01", Name: "活动收尾清扫", Board: cases.BoardServices, Level: "street", Active: true},
		{Code: "JT01", Name: "交通疏导", Board: cases.BoardServices, Level: "street", Active: true},
	} {
		if err := s.PutCategory(ctx, cases.System, c); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []cases.Unit{
		{ID: "hw", Name: "区环卫所", Kind: cases.UnitDepartment, RegionPath: "/500000/500103/", Active: true},
		{ID: "jj", Name: "区交巡警支队", Kind: cases.UnitDepartment, RegionPath: "/500000/500103/", Active: true},
	} {
		if err := s.PutUnit(ctx, cases.System, u); err != nil {
			t.Fatal(err)
		}
	}
	return s, clock, cases.Actor{AccountID: "cmd-jia", Name: "甲街道指挥长", Role: cases.RoleCommander, RegionPath: "/500000/500103/500103001/"}
}

func s3Operation() operation.Operation {
	start := time.Date(2023, 12, 31, 20, 0, 0, 0, cstZone)
	at := time.Date(2024, 1, 1, 0, 5, 0, 0, cstZone)
	return operation.Operation{
		Name: "2024跨年夜解放碑", Start: start, End: start.Add(6 * time.Hour), Kind: "crowd", AlertCategory: "AQ01",
		Areas: []operation.Area{{Key: "jfb", Name: "解放碑广场", Shape: square(106.50, 29.50, 0.01), Yellow: 600, Red: 900,
			Duty: []operation.Duty{{Name: "张伟", Role: "现场指挥", Phone: "13800000000"}}}},
		Tasks: []operation.Task{
			{ID: "clean", Area: "jfb", Title: "广场清扫", Category: "SR01", Unit: "hw", At: at, LimitMinutes: 15},
			{ID: "traffic", Area: "jfb", Title: "交通恢复", Category: "JT01", Unit: "jj", At: at, LimitMinutes: 15},
			{ID: "divert", Area: "jfb", Title: "人流分流", Category: "JT01", Unit: "jj", Trigger: operation.OnRed, LimitMinutes: 10},
		},
	}
}

func crowd(s *Service, t *testing.T, at time.Time, vals ...float64) {
	t.Helper()
	var in []Incoming
	for i, v := range vals {
		in = append(in, Incoming{Reading: sensors.Reading{Device: []string{"JFB-1", "JFB-2", "JFB-3"}[i], Kind: "crowd", Value: v, At: at}})
	}
	res, err := s.Ingest(context.Background(), in)
	if err != nil || res.Accepted != len(vals) {
		t.Fatalf("ingest: %+v %v", res, err)
	}
}

func operationCases(t *testing.T, s *Service, src cases.Source) []cases.Case {
	t.Helper()
	list, err := s.db.Cases(context.Background(), store.CaseFilter{Scope: store.Scope{All: true}, Source: string(src), Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// TestS3NewYearsEve plays scenario S3 through the service: the operation
// with its area and thresholds, a crowd feed crossing the lines raising
// one alert case per line, the red-triggered task, the 00:05 tasks
// released once (two nodes ticking together, then a restart) as cases
// dispatched with 15-minute clocks, the area restored when both are done,
// and the report.
func TestS3NewYearsEve(t *testing.T) {
	s, clock, cmd := opWorld(t)
	ctx := context.Background()

	// Bad input names the field and stores nothing.
	bad := s3Operation()
	bad.Areas[0].Red = 500
	bad.Tasks[1].Unit = "nope"
	bad.AlertCategory = "NOPE"
	_, err := s.SaveOperation(ctx, cmd, bad)
	if got := fieldsOf(err); !apperr.Is(err, apperr.Invalid) || len(got) != 3 || got[0] != "areas[0].red" || got[1] != "alert_category" || got[2] != "tasks[1].unit" {
		t.Fatalf("bad operation: %v %v", got, err)
	}
	if list, _ := s.Operations(ctx, cmd); len(list) != 0 {
		t.Fatalf("a refused operation was stored")
	}
	if _, err := s.SaveOperation(ctx, cases.Actor{AccountID: "u", Role: cases.RoleUnit, UnitID: "hw"}, s3Operation()); !apperr.Is(err, apperr.Forbidden) {
		t.Errorf("a unit planned an operation: %v", err)
	}
	op, err := s.SaveOperation(ctx, cmd, s3Operation())
	if err != nil {
		t.Fatal(err)
	}
	// Its alert rules exist, inactive until an hour before the start.
	rules, _ := s.SensorRules(ctx)
	n := 0
	for _, r := range rules {
		if r.Area == "jfb" && r.Type == sensors.AreaSum && r.Category == "AQ01" {
			n++
			if r.Active {
				t.Errorf("rule %s active before the window", r.ID)
			}
		}
	}
	if n != 2 {
		t.Fatalf("alert rules: %d", n)
	}
	// Another street's commander does not see it; the district's does.
	if _, err := s.Operation(ctx, cases.Actor{Role: cases.RoleCommander, RegionPath: "/500000/500103/500103002/"}, op.ID); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("other street: %v", err)
	}
	if _, err := s.Operation(ctx, cases.Actor{Role: cases.RoleLeader, RegionPath: "/500000/500103/"}, op.ID); err != nil {
		t.Errorf("district leader: %v", err)
	}

	// 20:30: the window is open, the crowd grows past yellow, then red.
	clock.t = time.Date(2023, 12, 31, 20, 30, 0, 0, cstZone)
	if err := s.OperationTick(ctx); err != nil {
		t.Fatal(err)
	}
	crowd(s, t, clock.Now(), 100, 150, 150)
	clock.Add(time.Minute)
	crowd(s, t, clock.Now(), 200, 250, 200) // 650: yellow
	if err := s.OperationTick(ctx); err != nil {
		t.Fatal(err)
	}
	clock.Add(time.Minute)
	crowd(s, t, clock.Now(), 300, 320, 300) // 920: red
	clock.Add(time.Minute)
	crowd(s, t, clock.Now(), 280, 300, 300) // 880: still red (hysteresis), same incidents
	clock.Add(time.Minute)
	crowd(s, t, clock.Now(), 320, 320, 320) // 960: the peak
	if err := s.OperationTick(ctx); err != nil {
		t.Fatal(err)
	}
	alerts := operationCases(t, s, cases.SourceSensor)
	if len(alerts) != 2 {
		t.Fatalf("alert cases: %d, want one per line", len(alerts))
	}
	b, err := s.Board(ctx, cmd, op.ID)
	if err != nil {
		t.Fatal(err)
	}
	if a := b.Areas[0]; a.Level != operation.Red || a.Value != 960 || a.Peak != 960 || len(a.Duty) != 1 {
		t.Errorf("board area %+v", a)
	}
	if len(b.Alerts) != 2 || b.Alerts[0].CaseNumber == "" {
		t.Errorf("board alerts %+v", b.Alerts)
	}
	// The red line released the triggered task, dispatched with its own
	// 10-minute limit.
	tasks := map[string]BoardTask{}
	for _, bt := range b.Tasks {
		tasks[bt.ID] = bt
	}
	div := tasks["divert"]
	if div.Run.State != operation.Dispatched || div.CaseNumber == "" || !div.Due.Equal(div.Run.ReleasedAt.Add(10*time.Minute)) {
		t.Errorf("divert %+v", div)
	}
	if tasks["clean"].Run.State != operation.Prepared {
		t.Errorf("clean released early: %+v", tasks["clean"])
	}

	// 00:05: two nodes tick at once; each 00:05 task becomes one case.
	clock.t = time.Date(2024, 1, 1, 0, 5, 0, 0, cstZone)
	s2, err := New(ctx, s.db, Config{PhotoDir: t.TempDir(), DefaultCenter: "/500000/500103/", Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, node := range []*Service{s, s2, s, s2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := node.OperationTick(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	// A restarted node finds everything released.
	s3, err := New(ctx, s.db, Config{PhotoDir: t.TempDir(), DefaultCenter: "/500000/500103/", Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := s3.OperationTick(ctx); err != nil {
		t.Fatal(err)
	}
	made := operationCases(t, s, cases.SourceOperation)
	if len(made) != 3 {
		t.Fatalf("task cases: %d, want 3 (divert, clean, traffic)", len(made))
	}
	runs, _ := s.db.OperationTasks(ctx, op.ID)
	for _, id := range []string{"clean", "traffic"} {
		r := runs[id]
		c, err := s.db.Case(ctx, r.CaseID)
		if err != nil || r.State != operation.Dispatched || c.State != cases.Dispatched || c.Source != cases.SourceOperation {
			t.Fatalf("%s: %+v %v %v", id, r, c.State, err)
		}
		h := c.Tasks[0].Handle
		if !h.Due.Equal(clock.Now().Add(15*time.Minute)) || c.Tasks[0].UnitID != map[string]string{"clean": "hw", "traffic": "jj"}[id] {
			t.Errorf("%s: handle due %v, unit %s", id, h.Due, c.Tasks[0].UnitID)
		}
	}

	// The units sign and feed back: 9 and 12 minutes; the area is restored
	// when the last one is done.
	finish := func(unit, caseID string) {
		u := cases.Actor{AccountID: "u-" + unit, Name: unit, Role: cases.RoleUnit, UnitID: unit}
		if _, _, err := s.Act(ctx, u, caseID, cases.Command{Action: cases.ActSign}, 0); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Act(ctx, u, caseID, cases.Command{Action: cases.ActFeedback, Note: "已完成，现场恢复"}, 0); err != nil {
			t.Fatal(err)
		}
	}
	clock.Add(9 * time.Minute)
	finish("hw", runs["clean"].CaseID)
	if err := s.OperationTick(ctx); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.db.OperationAreas(ctx, op.ID); !st["jfb"].RestoredAt.IsZero() {
		t.Errorf("restored with the traffic task open")
	}
	clock.Add(3 * time.Minute)
	finish("jj", runs["traffic"].CaseID)
	clock.Add(time.Minute)
	if err := s2.OperationTick(ctx); err != nil {
		t.Fatal(err)
	}
	restored := time.Date(2024, 1, 1, 0, 17, 0, 0, cstZone)
	if st, _ := s.db.OperationAreas(ctx, op.ID); !st["jfb"].RestoredAt.Equal(restored) {
		t.Errorf("restored at %v, want %v", st["jfb"].RestoredAt, restored)
	}

	rep, err := s.OperationReport(ctx, cmd, op.ID)
	if err != nil {
		t.Fatal(err)
	}
	ar := rep.Areas[0]
	if ar.Peak != 960 || ar.Alerts != 2 || ar.RestoreMinutes != 12 || !ar.RestoredAt.Equal(restored) {
		t.Errorf("report area %+v", ar)
	}
	got := map[string]operation.TaskReport{}
	for _, tr := range rep.Tasks {
		got[tr.ID] = tr
	}
	if got["clean"].Minutes != 9 || !got["clean"].OnTime || got["traffic"].Minutes != 12 || !got["traffic"].OnTime {
		t.Errorf("report tasks %+v", rep.Tasks)
	}
	kinds := map[string]int{}
	for _, ev := range rep.Timeline {
		kinds[ev.Kind]++
	}
	if kinds["alert"] != 2 || kinds["released"] != 3 || kinds["dispatched"] != 3 || kinds["done"] != 2 || kinds["restored"] != 1 || kinds["level"] < 2 {
		t.Errorf("timeline %v", kinds)
	}

	// A change keeps released tasks' records; a stale version is refused.
	op.Name = "2024跨年夜解放碑（改）"
	if _, err := s.SaveOperation(ctx, cmd, op); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SaveOperation(ctx, cmd, op); !apperr.Is(err, apperr.Conflict) {
		t.Errorf("stale version: %v", err)
	}
	if r, _ := s.db.OperationTasks(ctx, op.ID); r["clean"].State != operation.Done {
		t.Errorf("a change lost a release: %+v", r["clean"])
	}
}
