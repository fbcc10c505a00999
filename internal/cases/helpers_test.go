package cases_test

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/calendar"
	"zhizhi/internal/cases"
	"zhizhi/internal/geo"
	"zhizhi/internal/sla"
)

// The region tree used throughout: Chongqing city, Yuzhong district, one
// street with one community and one grid, and a sibling street.
const (
	cityPath      = "/500000/"
	districtPath  = "/500000/500103/"
	streetPath    = "/500000/500103/500103001/"
	communityPath = streetPath + "500103001001/"
	gridPath      = communityPath + "500103001001001/"
	siblingStreet = "/500000/500103/500103002/"
	gridCode      = "500103001001001"
)

// Unit IDs of the standard story: one lead and one co-unit.
const (
	leadID  = "u-lead"
	coID    = "u-co"
	otherID = "u-other"
)

var (
	cal = calendar.Default()
	sh  = calendar.Shanghai() // UTC+8, identical to Asia/Shanghai for 2026
	tbl = sla.DefaultTable()
	pol = cases.Policy{Calendar: cal, Limit: func(stage string, sev sla.Severity) sla.Limit {
		l, ok := tbl.Limit(sla.Stage(stage), sev)
		if !ok {
			panic("no limit for stage " + stage)
		}
		return l
	}}
)

// at returns a moment in March 2026 in Shanghai. March 2026 is an ordinary
// month: Mon 2 to Fri 6, Mon 9 to Fri 13, Mon 16 to Fri 20, Mon 23 to Fri 27
// and Mon 30 to Tue 31 are working days, with no holiday or make-up day.
func at(day, hour, minute int) time.Time {
	return time.Date(2026, time.March, day, hour, minute, 0, 0, sh)
}

// limitOf is the default limit of a stage and severity.
func limitOf(stage sla.Stage, sev sla.Severity) sla.Limit {
	l, _ := tbl.Limit(stage, sev)
	return l
}

// The actors of the standard story.
var (
	gridWorker = cases.Actor{AccountID: "acct-gw", Name: "网格员张三", Role: cases.RoleGridWorker, RegionPath: gridPath}
	commander  = cases.Actor{AccountID: "acct-cmd", Name: "值班指挥长", Role: cases.RoleCommander, RegionPath: streetPath}
	districtCm = cases.Actor{AccountID: "acct-dcmd", Name: "区指挥长", Role: cases.RoleCommander, RegionPath: districtPath}
	siblingCm  = cases.Actor{AccountID: "acct-scmd", Name: "邻街指挥长", Role: cases.RoleCommander, RegionPath: siblingStreet}
	leader     = cases.Actor{AccountID: "acct-leader", Name: "街道领导", Role: cases.RoleLeader, RegionPath: streetPath}
	leadUnit   = unitActor(leadID)
	coUnit     = unitActor(coID)
	otherUnit  = unitActor(otherID)
)

func unitActor(id string) cases.Actor {
	return cases.Actor{AccountID: "acct-" + id, Name: "单位" + id, Role: cases.RoleUnit, UnitID: id}
}

func testCategory() cases.Category {
	return cases.Category{Code: "road.pothole", Name: "道路坑洼", Board: cases.BoardServices, Level: "street", Active: true}
}

func testReport() cases.Report {
	return cases.Report{
		Source:      cases.SourcePatrol,
		Point:       &geo.Point{Lng: 106.577, Lat: 29.556},
		Address:     "解放碑步行街12号",
		Description: "人行道路面塌陷，约半米见方",
		Photos:      []cases.Photo{{Hash: "ab12", Type: "image/jpeg", Size: 2048}},
	}
}

var testPlace = cases.Placement{GridCode: gridCode, RegionPath: gridPath, CenterPath: streetPath}

// newCase reports the standard case: a patrol report by the grid worker at
// Monday 9 March 2026, 09:00.
func newCase(t *testing.T, sev sla.Severity) cases.Case {
	t.Helper()
	r := testReport()
	r.Severity = sev
	r.Answers = map[string]any{"depth": "12", "hazards": []any{"water"}}
	c, _, err := cases.New(r, questionCategory(), testPlace, "case-1", "YZ-2026-0001", gridWorker, pol, at(9, 9, 0))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// heldCase is the standard report held for screening (reported at 09:00).
func heldCase(t *testing.T, why cases.HoldReason) cases.Case {
	t.Helper()
	r := testReport()
	r.Answers = map[string]any{"depth": "12", "hazards": []any{"water"}}
	r.Hold = why
	c, _, err := cases.New(r, questionCategory(), testPlace, "case-1", "YZ-2026-0001", gridWorker, pol, at(9, 9, 0))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// must applies a command that has to succeed.
func must(t *testing.T, c cases.Case, cmd cases.Command, actor cases.Actor, now time.Time) cases.Case {
	t.Helper()
	n, _, err := cases.Apply(c, cmd, actor, pol, now)
	if err != nil {
		t.Fatalf("%s by %s at %s in state %s: %v", cmd.Action, actor.Name, now.Format("01-02 15:04"), c.State, err)
	}
	return n
}

// reach plays the standard case through New and Apply until it stands in
// state want, and returns it with the time of its last step. Along the way:
// reported 09:00, accepted 09:05, dispatched 09:10 (lead u-lead, co u-co),
// handling 09:20 (the lead signed; the co-unit has not), parked 09:30/09:40,
// fed back 10:00 (lead), the co-unit signed 10:05 and fed back 10:10,
// closed 10:30 (verified by the grid worker),
// rejected or merged 09:05.
func reach(t *testing.T, want cases.State) (cases.Case, time.Time) {
	t.Helper()
	return reachSev(t, want, sla.Normal)
}

func reachSev(t *testing.T, want cases.State, sev sla.Severity) (cases.Case, time.Time) {
	t.Helper()
	return reachHook(t, want, sev, nil)
}

// reachHook is reachSev with a hook run on the case right after it is
// accepted (at 09:05); the hook's steps are taken by 09:07.
func reachHook(t *testing.T, want cases.State, sev sla.Severity, hook func(cases.Case) cases.Case) (cases.Case, time.Time) {
	t.Helper()
	c := newCase(t, sev)
	now := at(9, 9, 0)
	step := func(cmd cases.Command, actor cases.Actor, when time.Time) {
		t.Helper()
		c, now = must(t, c, cmd, actor, when), when
	}
	switch want {
	case cases.Held:
		return heldCase(t, cases.HoldDoor), now
	case cases.Reported:
		return c, now
	case cases.Rejected:
		step(cases.Command{Action: cases.ActReject, Note: "非本辖区事项"}, commander, at(9, 9, 5))
		return c, now
	case cases.Merged:
		step(cases.Command{Action: cases.ActMerge, Target: "case-0"}, commander, at(9, 9, 5))
		return c, now
	}
	step(cases.Command{Action: cases.ActAccept}, commander, at(9, 9, 5))
	if hook != nil {
		c, now = hook(c), at(9, 9, 7)
	}
	if want == cases.Accepted {
		return c, now
	}
	step(cases.Command{Action: cases.ActDispatch, Lead: leadID, Co: []string{coID}}, commander, at(9, 9, 10))
	if want == cases.Dispatched {
		return c, now
	}
	step(cases.Command{Action: cases.ActSign}, leadUnit, at(9, 9, 20))
	if want == cases.Handling {
		return c, now
	}
	if want == cases.Parked {
		step(cases.Command{Action: cases.ActParkRequest, Until: at(31, 18, 0), Note: "需等待管网改造"}, leadUnit, at(9, 9, 30))
		step(cases.Command{Action: cases.ActParkApprove}, commander, at(9, 9, 40))
		return c, now
	}
	step(cases.Command{Action: cases.ActFeedback, Note: "已修复路面", Photos: []cases.Photo{{Hash: "cd34"}}}, leadUnit, at(9, 10, 0))
	if want == cases.FedBack {
		return c, now
	}
	// Every unit finishes its own task before the grid worker's passing
	// verification closes the case: the co-unit signs and feeds back while
	// the case waits for verification.
	step(cases.Command{Action: cases.ActSign}, coUnit, at(9, 10, 5))
	step(cases.Command{Action: cases.ActFeedback, Note: "已配合封闭作业区"}, coUnit, at(9, 10, 10))
	step(cases.Command{Action: cases.ActVerify, Passed: ptr(true)}, gridWorker, at(9, 10, 30))
	if want == cases.Closed {
		return c, now
	}
	t.Fatalf("reach: unknown state %q", want)
	return c, now
}

func ptr[T any](v T) *T { return &v }

// snapshot is the case as JSON, to prove Apply left its input alone.
func snapshot(t *testing.T, c cases.Case) string {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return string(b)
}

// fieldsOf returns the field names of an apperr Invalid error.
func fieldsOf(err error) []string {
	var e *apperr.Error
	if !errors.As(err, &e) {
		return nil
	}
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Field)
	}
	return out
}

// wantKind fails unless err is an apperr of kind k.
func wantKind(t *testing.T, err error, k apperr.Kind) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", k)
	}
	if got := apperr.KindOf(err); got != k {
		t.Fatalf("got %s (%v), want %s", got, err, k)
	}
}

// wantField fails unless err is Invalid and names every field in want.
func wantField(t *testing.T, err error, want ...string) {
	t.Helper()
	wantKind(t, err, apperr.Invalid)
	got := fieldsOf(err)
	for _, f := range want {
		if !slices.Contains(got, f) {
			t.Fatalf("fields %v do not name %q (%v)", got, f, err)
		}
	}
}

// task returns the active or past task of a unit, failing when absent.
func task(t *testing.T, c cases.Case, unit string) cases.Task {
	t.Helper()
	for i := len(c.Tasks) - 1; i >= 0; i-- {
		if c.Tasks[i].UnitID == unit {
			return c.Tasks[i]
		}
	}
	t.Fatalf("no task for %s", unit)
	return cases.Task{}
}
