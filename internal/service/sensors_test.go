package service

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/sensors"
	"zhizhi/internal/sla"
	"zhizhi/internal/store"
	"zhizhi/internal/xlsx/xlsxtest"
)

// sensorWorld is keyWorld with the crowd kind, three crowd counters in
// area jfb (in 甲网格) and one smoke detector.
func sensorWorld(t *testing.T) (*Service, *testClock) {
	t.Helper()
	s, clock := keyWorld(t)
	ctx := context.Background()
	for _, k := range []sensors.Kind{
		{Code: "crowd", Name: "客流计数", Unit: "人", Min: 0, Max: 100000},
		{Code: "smoke", Name: "烟感", Unit: "ppm", Min: 0, Max: 1000},
	} {
		if err := s.PutDeviceKind(ctx, cases.System, k); err != nil {
			t.Fatal(err)
		}
	}
	csv := "id,kind,name,lng,lat,area,risk_point,unit,state\n" +
		"JFB-1,crowd,解放碑东,106.505,29.505,jfb,,,\n" +
		"JFB-2,crowd,解放碑西,106.506,29.506,jfb,,,active\n" +
		"JFB-3,crowd,解放碑南,106.507,29.507,jfb,,,\n" +
		"SMK-1,smoke,八一路烟感,106.605,29.505,,八一路高层,,\n"
	if n, probs, err := s.ImportDevices(ctx, cases.System, strings.NewReader(csv)); err != nil || n != 4 {
		t.Fatalf("import: %d %v %v", n, probs, err)
	}
	return s, clock
}

func TestDeviceImportListsEveryProblem(t *testing.T) {
	s, _ := sensorWorld(t)
	ctx := context.Background()
	csv := "\ufeff编号,类型,经度,纬度,状态,权属单位\n" +
		"OK-1,crowd,106.5,29.5,,\n" +
		"bad/id,nope,east,29.5,lost,\n" + // id, kind, point, state
		"OK-1,crowd,106.5,29.5,,no-such-unit\n" + // duplicate id, unknown unit
		"\"unterminated,crowd\n"
	n, probs, err := s.ImportDevices(ctx, cases.System, strings.NewReader(csv))
	if !apperr.Is(err, apperr.Invalid) || n != 0 {
		t.Fatalf("bad import: %d %v", n, err)
	}
	got := map[int][]string{}
	for _, p := range probs {
		for _, f := range p.Problems {
			got[p.Row] = append(got[p.Row], f.Field)
		}
	}
	if fmt.Sprint(got) != "map[2:[point id kind state] 3:[unit id] 4:[row]]" {
		t.Errorf("problems: %v", got)
	}
	if d, _ := s.db.Devices(ctx, store.DeviceFilter{}); len(d) != 4 {
		t.Errorf("a refused import stored devices: %d", len(d))
	}
	if _, _, err := s.ImportDevices(ctx, cases.System, strings.NewReader("name,kind\nx,crowd\n")); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("missing columns: %v", err)
	}
	commander := cases.Actor{AccountID: "c", Role: cases.RoleCommander, RegionPath: "/500000/500103/500103001/"}
	if _, _, err := s.ImportDevices(ctx, commander, strings.NewReader("id,kind,lng,lat\nX,crowd,106.5,29.5\n")); !apperr.Is(err, apperr.Forbidden) {
		t.Errorf("street commander imported devices: %v", err)
	}
	// Devices are placed in their grid.
	d, err := s.db.Device(ctx, "JFB-1")
	if err != nil || d.Grid != "500103001001001" {
		t.Errorf("device %+v %v", d, err)
	}
}

// TestDeviceImportExcel: an Excel workbook imports like the CSV it holds,
// its problems named by the same rows and fields; a broken workbook is a
// problem of the file and stores nothing.
func TestDeviceImportExcel(t *testing.T) {
	s, _ := sensorWorld(t)
	ctx := context.Background()
	good := "编号,类型,名称,经度,纬度,区域\n" +
		"XL-1,crowd,较场口东,106.505,29.505,jfb\n" +
		"XL-2,smoke,较场口烟感,106.506,29.506,\n"
	if n, probs, err := s.ImportDevices(ctx, cases.System, bytes.NewReader(xlsxtest.FromCSV(good))); err != nil || n != 2 {
		t.Fatalf("import a workbook: %d %v %v", n, probs, err)
	}
	if d, err := s.db.Device(ctx, "XL-1"); err != nil || d.Name != "较场口东" || d.Area != "jfb" || d.Grid == "" {
		t.Errorf("device from a workbook: %+v %v", d, err)
	}
	bad := "id,kind,lng,lat,state\n" +
		"XL-3,crowd,106.5,29.5,\n" +
		"XL-4,nope,east,29.5,lost\n"
	_, csvProbs, _ := s.ImportDevices(ctx, cases.System, strings.NewReader(bad))
	n, probs, err := s.ImportDevices(ctx, cases.System, bytes.NewReader(xlsxtest.FromCSV(bad)))
	if !apperr.Is(err, apperr.Invalid) || n != 0 || fmt.Sprint(probs) != fmt.Sprint(csvProbs) || len(probs) != 1 {
		t.Errorf("a workbook's problems %v (%v), the CSV's %v", probs, err, csvProbs)
	}
	if _, err := s.db.Device(ctx, "XL-3"); err == nil {
		t.Error("a refused workbook stored a device")
	}
	broken := xlsxtest.FromCSV(good)[:200]
	if _, _, err := s.ImportDevices(ctx, cases.System, bytes.NewReader(broken)); fmt.Sprint(fieldsOf(err)) != "[file]" {
		t.Errorf("a broken workbook: %v", err)
	}
}

func TestSensorRuleSaveValidatesAndVersions(t *testing.T) {
	s, _ := sensorWorld(t)
	ctx := context.Background()
	bad := sensors.Rule{Name: "x", Type: sensors.Threshold, Kind: "crowd", Raise: 10, Clear: 5, Category: "NOPE", Severity: sla.Normal}
	if _, err := s.SaveSensorRule(ctx, cases.System, bad); !apperr.Is(err, apperr.Invalid) || fmt.Sprint(fieldsOf(err)) != "[category]" {
		t.Errorf("rule with unknown category: %v", err)
	}
	r := sensors.Rule{ID: "crowd-jfb", Name: "解放碑人流", Type: sensors.AreaSum, Area: "jfb", Kind: "crowd", Raise: 1000, Clear: 800,
		Category: "MS01", Severity: sla.Critical, Active: true}
	v1, err := s.SaveSensorRule(ctx, cases.System, r)
	if err != nil || v1.Version != 1 {
		t.Fatalf("save: %v %v", v1, err)
	}
	if _, err := s.SaveSensorRule(ctx, cases.System, r); !apperr.Is(err, apperr.Conflict) {
		t.Errorf("stale save: %v", err)
	}
	audit, _ := s.AuditLog(ctx, store.AuditFilter{Kind: "sensor_rule"})
	if len(audit) != 1 || audit[0].ObjectID != "crowd-jfb" {
		t.Errorf("audit %+v", audit)
	}
}

func TestIngestRefusesBadReadingsWithoutCases(t *testing.T) {
	s, clock := sensorWorld(t)
	ctx := context.Background()
	if _, err := s.SaveSensorRule(ctx, cases.System, sensors.Rule{ID: "any", Name: "任何读数", Type: sensors.Threshold, Kind: "crowd",
		Raise: 0, Clear: 0, Category: "MS01", Severity: sla.Normal, Active: true}); err != nil {
		t.Fatal(err)
	}
	now := clock.Now()
	ms := now.UnixMilli()
	var in []Incoming
	add := func(kind, device, body string) {
		r, p := sensors.Parse(kind, device, []byte(body))
		in = append(in, Incoming{Reading: r, Problem: p, Raw: body})
	}
	add("crowd", "JFB-1", `{"value": 5`)                                                             // malformed
	add("crowd", "NOBODY", fmt.Sprintf(`{"value": 5, "at": %d}`, ms))                                // unknown device
	add("crowd", "SMK-1", fmt.Sprintf(`{"value": 5, "at": %d}`, ms))                                 // wrong kind
	add("crowd", "JFB-1", fmt.Sprintf(`{"value": -5, "at": %d}`, ms))                                // out of range
	add("crowd", "JFB-1", fmt.Sprintf(`{"value": 5, "at": %d}`, now.Add(time.Hour).UnixMilli()))     // future
	add("crowd", "JFB-1", fmt.Sprintf(`{"value": 5, "at": %d}`, now.Add(-48*time.Hour).UnixMilli())) // too old
	res, err := s.Ingest(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	want := []sensors.Problem{sensors.Malformed, sensors.UnknownDevice, sensors.WrongKind, sensors.OutOfRange, sensors.Future, sensors.Replayed}
	if fmt.Sprint(res.Problems) != fmt.Sprint(want) || res.Accepted != 0 || res.Rejected != 6 {
		t.Errorf("problems %v, want %v (%+v)", res.Problems, want, res)
	}
	// A good reading, then the same again (a redelivery) and an older one.
	in = nil
	add("crowd", "JFB-1", fmt.Sprintf(`{"value": 5, "at": %d}`, ms))
	if res, err := s.Ingest(ctx, in); err != nil || res.Accepted != 1 {
		t.Fatalf("good: %+v %v", res, err)
	}
	in = nil
	add("crowd", "JFB-1", fmt.Sprintf(`{"value": 5, "at": %d}`, ms))
	add("crowd", "JFB-1", fmt.Sprintf(`{"value": 5, "at": %d}`, ms-1000))
	// The redelivery is refused as a replay; the older one, come late (from
	// another node's share), is stored.
	if res, err := s.Ingest(ctx, in); err != nil || res.Problems[0] != sensors.Replayed || res.Problems[1] != sensors.OK {
		t.Fatalf("replays: %+v %v", res, err)
	}
	if got, _ := s.db.Readings(ctx, "JFB-1", now.Add(-time.Minute), now.Add(time.Minute), 10); len(got) != 2 {
		t.Errorf("readings stored: %+v", got)
	}
	rej, _ := s.db.Rejects(ctx, "JFB-1", 20)
	counts := map[sensors.Problem]int64{}
	for _, r := range rej {
		counts[r.Problem] = r.N
	}
	if counts[sensors.Malformed] != 1 || counts[sensors.OutOfRange] != 1 || counts[sensors.Future] != 1 || counts[sensors.Replayed] != 2 {
		t.Errorf("rejects of JFB-1: %v", counts)
	}
	if r, _ := s.db.Rejects(ctx, "NOBODY", 5); len(r) != 1 || r[0].Problem != sensors.UnknownDevice {
		t.Errorf("rejects of an unknown device: %+v", r)
	}
	// Only the good reading raised a case (the rule takes any value).
	if n := sensorCases(t, s); n != 1 {
		t.Errorf("%d sensor cases, want 1", n)
	}
}

func sensorCases(t *testing.T, s *Service) int {
	t.Helper()
	n, err := s.db.CountCases(context.Background(), store.CaseFilter{Scope: store.Scope{All: true}, Source: string(cases.SourceSensor)})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestAreaCrowdOpensOneCase: crowd counters in an area cross the area's
// line: one case with the readings attached; flapping adds no case;
// updates and the clearing are noted on the case.
func TestAreaCrowdOpensOneCase(t *testing.T) {
	s, clock := sensorWorld(t)
	ctx := context.Background()
	if _, err := s.SaveSensorRule(ctx, cases.System, sensors.Rule{ID: "crowd-jfb", Name: "解放碑人流", Type: sensors.AreaSum, Area: "jfb", Kind: "crowd",
		Raise: 1000, Clear: 800, ClearMinutes: 5, UpdateMinutes: 10, Category: "MS01", Severity: sla.Critical, Active: true}); err != nil {
		t.Fatal(err)
	}
	feed := func(device string, v float64) {
		t.Helper()
		clock.Add(time.Minute)
		r := sensors.Reading{Device: device, Kind: "crowd", Value: v, At: clock.Now()}
		if res, err := s.Ingest(ctx, []Incoming{{Reading: r}}); err != nil || res.Accepted != 1 {
			t.Fatalf("ingest %s %v: %+v %v", device, v, res, err)
		}
	}
	feed("JFB-1", 400)
	feed("JFB-2", 400)
	if sensorCases(t, s) != 0 {
		t.Fatal("case below the line")
	}
	feed("JFB-3", 300) // 1100
	if n := sensorCases(t, s); n != 1 {
		t.Fatalf("%d cases after crossing", n)
	}
	// Flapping across both lines for 20 minutes.
	for i := 0; i < 20; i++ {
		v := 50.0
		if i%2 == 1 {
			v = 600
		}
		feed("JFB-3", v)
	}
	if n := sensorCases(t, s); n != 1 {
		t.Fatalf("%d cases after flapping", n)
	}
	feed("JFB-1", 10)
	for i := 0; i < 6; i++ {
		feed("JFB-3", 10)
	}
	list, _ := s.db.Incidents(ctx, store.IncidentFilter{})
	if len(list) != 1 || list[0].State != "cleared" || list[0].Incident.Peak != 1400 {
		t.Fatalf("incidents %+v", list)
	}
	c, steps, err := s.Case(ctx, cases.System, list[0].Incident.CaseID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Source != cases.SourceSensor || c.Severity != sla.Critical || c.GridCode != "500103001001001" || !strings.Contains(c.Description, "区域jfb合计1100人") {
		t.Errorf("case %+v", c)
	}
	extra := map[string]string{}
	for _, e := range c.Extra {
		extra[e.Key] = e.Value
	}
	if extra["sensor_rule"] != "crowd-jfb v1" || !strings.HasPrefix(extra["reading_1"], "JFB-3 ") || extra["sensor_incident"] != list[0].ID {
		t.Errorf("extra %v", extra)
	}
	var notes []string
	for _, st := range steps {
		if st.Action == cases.ActSensor {
			notes = append(notes, st.Note)
		}
	}
	if len(notes) != 3 || !strings.HasPrefix(notes[0], "告警持续") || !strings.HasPrefix(notes[2], "告警解除") || !strings.Contains(notes[2], "峰值1400人") {
		t.Errorf("notes %q", notes)
	}
	// Crossing again later is a new incident and a new case.
	feed("JFB-1", 900)
	if n := sensorCases(t, s); n != 2 {
		t.Errorf("%d cases after a new crossing", n)
	}
}

func TestSilenceRule(t *testing.T) {
	s, clock := sensorWorld(t)
	ctx := context.Background()
	if _, err := s.SaveSensorRule(ctx, cases.System, sensors.Rule{ID: "smoke-quiet", Name: "烟感离线", Type: sensors.Silence, Kind: "smoke",
		SilentMinutes: 30, Category: "MS01", Severity: sla.Urgent, Active: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Ingest(ctx, []Incoming{{Reading: sensors.Reading{Device: "SMK-1", Value: 1, At: clock.Now()}}}); err != nil {
		t.Fatal(err)
	}
	clock.Add(20 * time.Minute)
	if err := s.SensorTick(ctx); err != nil || sensorCases(t, s) != 0 {
		t.Fatalf("silent too early: %v", err)
	}
	clock.Add(11 * time.Minute)
	for i := 0; i < 2; i++ {
		if err := s.SensorTick(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := sensorCases(t, s); n != 1 {
		t.Fatalf("%d cases after silence", n)
	}
	if d, _ := s.db.Device(ctx, "SMK-1"); d.State != sensors.Silent {
		t.Errorf("device state %s", d.State)
	}
	clock.Add(time.Minute)
	if _, err := s.Ingest(ctx, []Incoming{{Reading: sensors.Reading{Device: "SMK-1", Value: 1, At: clock.Now()}}}); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.db.Device(ctx, "SMK-1"); d.State != sensors.Active {
		t.Errorf("device state after a reading %s", d.State)
	}
	list, _ := s.db.Incidents(ctx, store.IncidentFilter{})
	if len(list) != 1 || list[0].State != "cleared" {
		t.Errorf("incidents %+v", list)
	}
}

// TestIncidentClaimAcrossNodes: two nodes on one database whose engines
// both see the crossing open one case between them.
func TestIncidentClaimAcrossNodes(t *testing.T) {
	a, clock := sensorWorld(t)
	ctx := context.Background()
	if _, err := a.SaveSensorRule(ctx, cases.System, sensors.Rule{ID: "hot", Name: "烟感超标", Type: sensors.Threshold, Kind: "smoke",
		Raise: 100, Clear: 50, Category: "MS01", Severity: sla.Urgent, Active: true}); err != nil {
		t.Fatal(err)
	}
	b, err := New(ctx, a.db, a.cfg)
	if err != nil {
		t.Fatal(err)
	}
	r1 := sensors.Reading{Device: "SMK-1", Value: 200, At: clock.Now()}
	r2 := sensors.Reading{Device: "SMK-1", Value: 300, At: clock.Now().Add(time.Second)}
	if _, err := b.OpenIncidents(ctx); err != nil { // load b before a's reading
		t.Fatal(err)
	}
	if _, err := a.Ingest(ctx, []Incoming{{Reading: r1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Ingest(ctx, []Incoming{{Reading: r2}}); err != nil {
		t.Fatal(err)
	}
	if n := sensorCases(t, a); n != 1 {
		t.Errorf("%d cases from two nodes", n)
	}
}

// TestConcurrentIngest: batches posted at once (HTTP gateways) whose
// readings open, update and clear incidents all complete, and the area
// gets one case at a time.
func TestConcurrentIngest(t *testing.T) {
	s, clock := sensorWorld(t)
	ctx := context.Background()
	for _, r := range []sensors.Rule{
		{ID: "each", Name: "单点", Type: sensors.Threshold, Kind: "crowd", Raise: 500, Clear: 100, Category: "MS01", Severity: sla.Normal, Active: true},
		{ID: "area", Name: "区域", Type: sensors.AreaSum, Area: "jfb", Kind: "crowd", Raise: 1500, Clear: 300, Category: "MS01", Severity: sla.Normal, Active: true},
	} {
		if _, err := s.SaveSensorRule(ctx, cases.System, r); err != nil {
			t.Fatal(err)
		}
	}
	base := clock.Now().Add(-time.Hour)
	done := make(chan error, 8)
	for g := 0; g < 8; g++ {
		go func() {
			var err error
			for i := 0; i < 10 && err == nil; i++ {
				v := 900.0
				if i%2 == 1 {
					v = 10
				}
				at := base.Add(time.Duration(i*8+g) * time.Second)
				_, err = s.Ingest(ctx, []Incoming{{Reading: sensors.Reading{Device: fmt.Sprintf("JFB-%d", g%3+1), Value: v, At: at}}})
			}
			done <- err
		}()
	}
	timeout := time.After(60 * time.Second)
	for g := 0; g < 8; g++ {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-timeout:
			t.Fatal("concurrent ingests did not finish (a deadlock)")
		}
	}
	open, _ := s.db.Incidents(ctx, store.IncidentFilter{State: "open", Rule: "area"})
	if len(open) > 1 {
		t.Errorf("%d open area incidents", len(open))
	}
}

// TestSensorReloadKeepsDevicesUnlessImported: a change of reference data
// (here a rule) refreshes the node's rules and open incidents on the engine
// it has (its devices, last readings and area sums stay, nothing is read
// per device); an import of devices builds the engine again from the
// database, with the new devices.
func TestSensorReloadKeepsDevicesUnlessImported(t *testing.T) {
	s, clock := sensorWorld(t)
	ctx := context.Background()
	rule := sensors.Rule{ID: "crowd-jfb", Name: "解放碑人流", Type: sensors.AreaSum, Area: "jfb", Kind: "crowd",
		Raise: 1000, Clear: 800, ClearMinutes: 5, UpdateMinutes: 10, Category: "MS01", Severity: sla.Critical, Active: true}
	saved, err := s.SaveSensorRule(ctx, cases.System, rule)
	if err != nil {
		t.Fatal(err)
	}
	feed := func(device string, v float64) {
		t.Helper()
		clock.Add(time.Minute)
		r := sensors.Reading{Device: device, Kind: "crowd", Value: v, At: clock.Now()}
		if res, err := s.Ingest(ctx, []Incoming{{Reading: r}}); err != nil || res.Accepted != 1 {
			t.Fatalf("ingest %s %v: %+v %v", device, v, res, err)
		}
	}
	feed("JFB-1", 400)
	feed("JFB-2", 400)
	st := s.sens.Load()
	engine := st.engine
	// The line comes down to 700: the engine is kept and judges by it.
	saved.Raise, saved.Clear = 700, 600
	if _, err := s.SaveSensorRule(ctx, cases.System, saved); err != nil {
		t.Fatal(err)
	}
	st.mu.Lock()
	kept, version, sum := st.engine == engine, st.rules["crowd-jfb"].Version, st.engine.AreaSum("jfb", "crowd")
	st.mu.Unlock()
	if !kept || version != 2 || sum != 800 {
		t.Fatalf("after a rule change: engine kept %v, rule version %d, area sum %v", kept, version, sum)
	}
	feed("JFB-3", 1) // 801: above the new line
	if n := sensorCases(t, s); n != 1 {
		t.Fatalf("%d cases after crossing the changed line", n)
	}
	// An import: the engine is read again, with the new device, and the
	// open incident goes on (no second case).
	csv := "id,kind,name,lng,lat,area\nJFB-4,crowd,解放碑北,106.508,29.508,jfb\n"
	if n, probs, err := s.ImportDevices(ctx, cases.System, strings.NewReader(csv)); err != nil || n != 1 {
		t.Fatalf("import: %d %v %v", n, probs, err)
	}
	st.mu.Lock()
	_, known := st.engine.Device("JFB-4")
	rebuilt, sum := st.engine != engine, st.engine.AreaSum("jfb", "crowd")
	st.mu.Unlock()
	if !rebuilt || !known || sum != 801 {
		t.Fatalf("after an import: engine rebuilt %v, new device known %v, area sum %v", rebuilt, known, sum)
	}
	feed("JFB-4", 100)
	if n := sensorCases(t, s); n != 1 {
		t.Errorf("%d cases after the import", n)
	}
}
