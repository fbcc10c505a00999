package gridwork

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/geo"
)

var t0 = time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC) // a Monday, 09:00 in Chongqing

// walk makes fixes every step seconds along the points given.
func walk(step time.Duration, pts ...geo.Point) []Fix {
	out := make([]Fix, len(pts))
	for i, p := range pts {
		out[i] = Fix{Lng: p.Lng, Lat: p.Lat, At: t0.Add(time.Duration(i) * step), Accuracy: 8}
	}
	return out
}

// square is a grid of about 200 m by 220 m in 渝中.
var square = geo.MultiPolygon{{{{Lng: 106.550, Lat: 29.560}, {Lng: 106.552, Lat: 29.560}, {Lng: 106.552, Lat: 29.562}, {Lng: 106.550, Lat: 29.562}, {Lng: 106.550, Lat: 29.560}}}}

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

func TestThin(t *testing.T) {
	line := func(n int, wiggle float64) []Fix {
		var pts []geo.Point
		for i := 0; i < n; i++ {
			off := 0.0
			if i%2 == 1 {
				off = wiggle
			}
			pts = append(pts, geo.Point{Lng: 106.55 + float64(i)*0.0001, Lat: 29.56 + off})
		}
		return walk(5*time.Second, pts...)
	}
	tests := []struct {
		name string
		in   []Fix
		tol  float64
		want int
	}{
		{"empty", nil, 5, 0},
		{"two fixes stay", line(2, 0), 5, 2},
		{"straight line keeps its ends", line(20, 0), 5, 2},
		{"wiggle under tolerance (2 m) goes", line(20, 0.00002), 5, 2},
		{"wiggle over tolerance (22 m) stays", line(20, 0.0002), 5, 20},
		{"no tolerance keeps all", line(20, 0.00002), 0, 20},
		{"an L keeps its corner", walk(time.Second, geo.Point{Lng: 106.55, Lat: 29.56}, geo.Point{Lng: 106.5505, Lat: 29.56}, geo.Point{Lng: 106.551, Lat: 29.56},
			geo.Point{Lng: 106.551, Lat: 29.5605}, geo.Point{Lng: 106.551, Lat: 29.561}), 5, 3},
	}
	for _, tc := range tests {
		got := Thin(tc.in, tc.tol)
		if len(got) != tc.want {
			t.Errorf("%s: kept %d, want %d", tc.name, len(got), tc.want)
		}
		if len(got) >= 2 && (got[0] != tc.in[0] || got[len(got)-1] != tc.in[len(tc.in)-1]) {
			t.Errorf("%s: the ends were not kept", tc.name)
		}
	}
}

func TestCleanAndLength(t *testing.T) {
	a := geo.Point{Lng: 106.55, Lat: 29.56}
	b := geo.Point{Lng: 106.55, Lat: 29.561} // 111 m north
	good := walk(60*time.Second, a, b)
	tests := []struct {
		name   string
		in     []Fix
		kept   int
		meters float64
	}{
		{"a walk", good, 2, 111.2},
		{"a glitch 11 km away in 60 s is dropped", append(append([]Fix{}, good[0]), Fix{Lng: 106.65, Lat: 29.56, At: t0.Add(30 * time.Second)}, good[1]), 2, 111.2},
		{"a vague fix is dropped", []Fix{good[0], {Lng: 106.5502, Lat: 29.5605, At: t0.Add(30 * time.Second), Accuracy: 200}, good[1]}, 2, 111.2},
		{"a fix out of order is dropped", []Fix{good[0], good[1], {Lng: 106.5501, Lat: 29.5601, At: t0.Add(10 * time.Second)}}, 2, 111.2},
		{"out-of-range positions go", []Fix{{Lng: 200, Lat: 29.56, At: t0}, good[0], {Lng: math.NaN(), Lat: 1, At: t0.Add(time.Second)}}, 1, 0},
	}
	for _, tc := range tests {
		got := Clean(tc.in)
		if len(got) != tc.kept {
			t.Errorf("%s: kept %d, want %d", tc.name, len(got), tc.kept)
		}
		if d := Length(got); math.Abs(d-tc.meters) > 0.5 {
			t.Errorf("%s: length %.1f m, want %.1f", tc.name, d, tc.meters)
		}
	}
}

func TestTrackEncoding(t *testing.T) {
	fixes := walk(7*time.Second, geo.Point{Lng: 106.55123, Lat: 29.56045}, geo.Point{Lng: 106.55098, Lat: 29.56101}, geo.Point{Lng: -0.12345, Lat: -51.5})
	s := EncodeTrack(fixes)
	if len(s) > 3*4*3+12 {
		t.Errorf("encoded %d fixes in %d bytes: not compact", len(fixes), len(s))
	}
	back, err := DecodeTrack(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != len(fixes) {
		t.Fatalf("decoded %d fixes, want %d", len(back), len(fixes))
	}
	for i := range fixes {
		if math.Abs(back[i].Lng-fixes[i].Lng) > 1e-5 || math.Abs(back[i].Lat-fixes[i].Lat) > 1e-5 || !back[i].At.Equal(fixes[i].At) {
			t.Errorf("fix %d: %+v, want %+v", i, back[i], fixes[i])
		}
	}
	for _, bad := range []string{"_", "~~~~~~~~~~~~~~~", " ab"} {
		if _, err := DecodeTrack(bad); !errors.Is(err, ErrBadTrack) {
			t.Errorf("DecodeTrack(%q): %v, want ErrBadTrack", bad, err)
		}
	}
	if got, _ := DecodeTrack(""); len(got) != 0 {
		t.Errorf("empty track decodes to %d fixes", len(got))
	}
}

func TestCoverage(t *testing.T) {
	c := CellsOf(square, 50)
	if c.NX != 4 || c.NY != 5 || len(c.Inside) != 20 {
		t.Fatalf("cells %dx%d with %d inside, want 4x5 with 20", c.NX, c.NY, len(c.Inside))
	}
	// Along the bottom row, west to east: its 4 cells.
	bottom := walk(30*time.Second, geo.Point{Lng: 106.5501, Lat: 29.5601}, geo.Point{Lng: 106.5519, Lat: 29.5601})
	// Up the west column.
	west := walk(30*time.Second, geo.Point{Lng: 106.5501, Lat: 29.5601}, geo.Point{Lng: 106.5501, Lat: 29.5619})
	outside := walk(30*time.Second, geo.Point{Lng: 106.56, Lat: 29.57}, geo.Point{Lng: 106.561, Lat: 29.57})
	tests := []struct {
		name    string
		tracks  [][]Fix
		covered int
		share   float64
	}{
		{"nothing walked", nil, 0, 0},
		{"the bottom row (two fixes, the segment fills in)", [][]Fix{bottom}, 4, 0.2},
		{"bottom row and west column share a cell", [][]Fix{bottom, west}, 8, 0.4},
		{"the same track twice counts once", [][]Fix{bottom, bottom}, 4, 0.2},
		{"a track outside the grid covers nothing", [][]Fix{outside}, 0, 0},
	}
	for _, tc := range tests {
		var sets [][]int
		for _, tr := range tc.tracks {
			sets = append(sets, c.Touched(tr))
		}
		got := Cover(len(c.Inside), sets...)
		if got.Covered != tc.covered || got.Share != tc.share || got.Total != 20 {
			t.Errorf("%s: %+v, want %d of 20 (%.2f)", tc.name, got, tc.covered, tc.share)
		}
	}
	// A triangle leaves the cells whose centre is outside it out of the grid.
	tri := geo.MultiPolygon{{{{Lng: 106.550, Lat: 29.560}, {Lng: 106.552, Lat: 29.560}, {Lng: 106.550, Lat: 29.562}, {Lng: 106.550, Lat: 29.560}}}}
	if n := len(CellsOf(tri, 50).Inside); n >= 20 || n < 6 {
		t.Errorf("a triangle has %d cells inside, want about half of 20", n)
	}
	// A huge grid gets larger cells, never more than MaxCells.
	huge := geo.MultiPolygon{{{{Lng: 106.0, Lat: 29.0}, {Lng: 107.0, Lat: 29.0}, {Lng: 107.0, Lat: 30.0}, {Lng: 106.0, Lat: 30.0}, {Lng: 106.0, Lat: 29.0}}}}
	if h := CellsOf(huge, 50); h.NX*h.NY > MaxCells {
		t.Errorf("huge grid: %d cells", h.NX*h.NY)
	}
	if got := ParseCells(FormatCells([]int{3, 1, 17})); !slices.Equal(got, []int{1, 3, 17}) {
		t.Errorf("cells round trip: %v", got)
	}
}

func TestPlanDue(t *testing.T) {
	tests := []struct {
		name        string
		plan        Plan
		working     bool
		today, week int
		due         bool
	}{
		{"every working day, none yet", Plan{}, true, 0, 3, true},
		{"every working day, done today", Plan{}, true, 1, 4, false},
		{"every working day, a holiday", Plan{}, false, 0, 0, false},
		{"three a week, two done", Plan{PerWeek: 3}, false, 0, 2, true},
		{"three a week, three done", Plan{PerWeek: 3}, true, 0, 3, false},
	}
	for _, tc := range tests {
		if got := tc.plan.Due(tc.working, tc.today, tc.week); got != tc.due {
			t.Errorf("%s: due %v, want %v", tc.name, got, tc.due)
		}
	}
	p := DefaultPlan("g")
	if p.Counts(29*time.Minute) || !p.Counts(30*time.Minute) {
		t.Error("a default plan counts patrols of 30 minutes and more")
	}
}

func TestNewPatrol(t *testing.T) {
	cells := CellsOf(square, 50)
	fixes := walk(10*time.Minute, geo.Point{Lng: 106.5501, Lat: 29.5601}, geo.Point{Lng: 106.5519, Lat: 29.5601}, geo.Point{Lng: 106.5519, Lat: 29.5619}, geo.Point{Lng: 106.5501, Lat: 29.5619})
	ok := PatrolUpload{ClientRef: "p-1", Grid: "500103014006009", StartedAt: t0, EndedAt: t0.Add(35 * time.Minute), Fixes: fixes, ReportRefs: []string{"r1"}}
	now := t0.Add(time.Hour)
	p, err := NewPatrol(ok, cells, DefaultPlan(ok.Grid), now)
	if err != nil {
		t.Fatal(err)
	}
	if p.Seconds != 35*60 || !p.Counted || p.Points != 4 || math.Abs(p.Meters-(174+200+174)) > 10 || len(p.Cells) != 11 || len(p.CaseIDs) != 0 {
		t.Errorf("patrol %+v", p)
	}
	if back, _ := DecodeTrack(p.Track); len(back) != 4 {
		t.Errorf("stored track holds %d fixes", len(back))
	}
	short := ok
	short.EndedAt = t0.Add(20 * time.Minute)
	short.Fixes = fixes[:3]
	if p, _ := NewPatrol(short, cells, DefaultPlan(ok.Grid), now); p.Counted {
		t.Error("a 20-minute patrol counted toward a 30-minute plan")
	}
	mod := func(f func(*PatrolUpload)) PatrolUpload {
		u := ok
		u.Fixes = append([]Fix(nil), ok.Fixes...)
		f(&u)
		return u
	}
	bad := []struct {
		name  string
		in    PatrolUpload
		field string
	}{
		{"no client ref", mod(func(u *PatrolUpload) { u.ClientRef = "" }), "client_ref"},
		{"no grid", mod(func(u *PatrolUpload) { u.Grid = "" }), "grid"},
		{"a slash in the client ref", mod(func(u *PatrolUpload) { u.ClientRef = "a/b" }), "client_ref"},
		{"ends before it starts", mod(func(u *PatrolUpload) { u.EndedAt = t0.Add(-time.Minute) }), "ended_at"},
		{"ends in the future", mod(func(u *PatrolUpload) { u.EndedAt = now.Add(time.Hour) }), "ended_at"},
		{"longer than 12 h", mod(func(u *PatrolUpload) { u.StartedAt = t0.Add(-13 * time.Hour) }), "ended_at"},
		{"one fix", mod(func(u *PatrolUpload) { u.Fixes = u.Fixes[:1] }), "fixes"},
		{"fixes outside its time", mod(func(u *PatrolUpload) {
			for i := range u.Fixes {
				u.Fixes[i].At = u.Fixes[i].At.Add(-24 * time.Hour)
			}
		}), "fixes"},
		{"an empty report reference", mod(func(u *PatrolUpload) { u.ReportRefs = []string{""} }), "report_refs[0]"},
		{"a control character in the note", mod(func(u *PatrolUpload) { u.Note = "a\x00b" }), "note"},
	}
	for _, tc := range bad {
		_, err := NewPatrol(tc.in, cells, DefaultPlan(ok.Grid), now)
		if !slices.Contains(fieldsOf(err), tc.field) {
			t.Errorf("%s: %v, want the field %s named", tc.name, err, tc.field)
		}
	}
}

func TestCheckVisit(t *testing.T) {
	due := t0.Add(72 * time.Hour)
	ok := VisitInput{ClientRef: "v-1", Grid: "g", PlaceKind: Household, Place: "3栋2单元501", At: t0,
		Needs: []Need{{Text: "楼道灯坏了", Outcome: ToCase, Category: "lamp"}, {Text: "医保怎么转", Outcome: Answered, Answer: "已告知办理流程"},
			{Text: "想申请助餐", Outcome: FollowUp, Promise: "问社区后回复", Due: &due}}}
	now := t0.Add(time.Hour)
	if err := CheckVisit(ok, now); err != nil {
		t.Fatal(err)
	}
	past := t0.Add(-time.Hour)
	mod := func(f func(*VisitInput)) VisitInput {
		v := ok
		v.Needs = append([]Need(nil), ok.Needs...)
		f(&v)
		return v
	}
	bad := []struct {
		name  string
		in    VisitInput
		field string
	}{
		{"unknown place kind", mod(func(v *VisitInput) { v.PlaceKind = "castle" }), "place_kind"},
		{"no place", mod(func(v *VisitInput) { v.Place = "" }), "place"},
		{"a client ref too long for its needs' cases", mod(func(v *VisitInput) { v.ClientRef = strings.Repeat("a", 57) }), "client_ref"},
		{"in the future", mod(func(v *VisitInput) { v.At = now.Add(time.Hour) }), "at"},
		{"too long ago", mod(func(v *VisitInput) { v.At = now.AddDate(0, 0, -31) }), "at"},
		{"answered without an answer", mod(func(v *VisitInput) { v.Needs[1].Answer = "" }), "needs[1].answer"},
		{"a case without a category", mod(func(v *VisitInput) { v.Needs[0].Category = "" }), "needs[0].category"},
		{"a case ID given", mod(func(v *VisitInput) { v.Needs[0].CaseID = "x" }), "needs[0].case_id"},
		{"a follow-up due before the visit", mod(func(v *VisitInput) { v.Needs[2].Due = &past }), "needs[2].due"},
		{"a follow-up without a date", mod(func(v *VisitInput) { v.Needs[2].Due = nil }), "needs[2].due"},
		{"no outcome", mod(func(v *VisitInput) { v.Needs[1].Outcome = "" }), "needs[1].outcome"},
		{"an empty need", mod(func(v *VisitInput) { v.Needs[1].Text = "" }), "needs[1].text"},
	}
	for _, tc := range bad {
		if !slices.Contains(fieldsOf(CheckVisit(tc.in, now)), tc.field) {
			t.Errorf("%s: want the field %s named, got %v", tc.name, tc.field, fieldsOf(CheckVisit(tc.in, now)))
		}
	}
}

func TestPrivacy(t *testing.T) {
	grid := "/500000/500103/500103014/500103014006/500103014006009/"
	masks := []struct{ in, want string }{{"杨诗培", "杨**"}, {"欧阳", "欧*"}, {"王", "*"}, {"", ""}}
	for _, m := range masks {
		if got := MaskName(m.in); got != m.want {
			t.Errorf("MaskName(%q) = %q, want %q", m.in, got, m.want)
		}
	}
	p := MaskPerson(Person{Name: "张三丰", Phone: "13800001234"})
	if p.Name != "张**" || p.Phone != "138****1234" || !p.Masked {
		t.Errorf("masked person %+v", p)
	}
	actors := []struct {
		name                 string
		a                    cases.Actor
		roster, people, work bool
	}{
		{"the grid's worker", cases.Actor{Role: cases.RoleGridWorker, RegionPath: grid}, true, true, true},
		{"another grid's worker", cases.Actor{Role: cases.RoleGridWorker, RegionPath: "/500000/500103/500103014/500103014006/500103014006001/"}, false, false, false},
		{"the community's grid chief", cases.Actor{Role: cases.RoleGridChief, RegionPath: "/500000/500103/500103014/500103014006/"}, true, true, true},
		{"the community's staff", cases.Actor{Role: cases.RoleCommunity, RegionPath: "/500000/500103/500103014/500103014006/", UnitID: "c"}, true, true, false},
		{"the street's commander", cases.Actor{Role: cases.RoleCommander, RegionPath: "/500000/500103/500103014/"}, true, false, false},
		{"a unit's staff", cases.Actor{Role: cases.RoleUnit, UnitID: "cg"}, false, false, false},
		{"a head of the grid", cases.Actor{Role: cases.RoleHead, RegionPath: grid}, false, false, false},
		{"a resident", cases.Actor{Role: cases.RoleResident}, false, false, false},
		{"a grid worker with no region", cases.Actor{Role: cases.RoleGridWorker}, false, false, false},
	}
	for _, tc := range actors {
		if got := SeesRoster(tc.a, grid); got != tc.roster {
			t.Errorf("%s: SeesRoster %v, want %v", tc.name, got, tc.roster)
		}
		if got := SeesPeople(tc.a, grid); got != tc.people {
			t.Errorf("%s: SeesPeople %v, want %v", tc.name, got, tc.people)
		}
		if got := Works(tc.a, grid); got != tc.work {
			t.Errorf("%s: Works %v, want %v", tc.name, got, tc.work)
		}
	}
	now := t0
	if err := CheckPerson(Person{PlaceID: "p", Name: "张三", Phone: "138-0000-1234"}, now); err != nil {
		t.Error(err)
	}
	badPeople := []struct {
		name  string
		in    Person
		field string
	}{
		{"no name", Person{PlaceID: "p"}, "name"},
		{"a phone with letters", Person{PlaceID: "p", Name: "张三", Phone: "138abc"}, "phone"},
		{"kept past five years", Person{PlaceID: "p", Name: "张三", RetainUntil: now.AddDate(6, 0, 0)}, "retain_until"},
		{"no place", Person{Name: "张三"}, "place_id"},
	}
	for _, tc := range badPeople {
		if !slices.Contains(fieldsOf(CheckPerson(tc.in, now)), tc.field) {
			t.Errorf("%s: want %s named", tc.name, tc.field)
		}
	}
	if !(Person{RetainUntil: now}).Expired(now) || (Person{}).Expired(now) {
		t.Error("retention: a record is expired at its limit, never without one")
	}
	if err := CheckPlace(Place{GridCode: "g", Kind: "farm", Name: "x"}); !slices.Contains(fieldsOf(err), "kind") {
		t.Errorf("a place of unknown kind: %v", err)
	}
	if k, ok := ParsePlaceKind("商铺"); !ok || k != Shop {
		t.Error("a kind by its Chinese name")
	}
}

func TestTeam(t *testing.T) {
	team := []TeamMember{{Name: "王网格长", Role: Chief, AccountID: "a1"}, {Name: "杨诗培", Role: FullTime, AccountID: "a2"},
		{Name: "李兼职", Role: PartTime}, {Name: "赵指导", Role: Instructor}, {Name: "党员甲", Role: Member}, {Name: "志愿者乙", Role: Volunteer}}
	if err := CheckTeam(team); err != nil {
		t.Fatal(err)
	}
	if one, three, n := TeamShape(team); one != 1 || three != 3 || n != 2 {
		t.Errorf("shape %d+%d+%d, want 1+3+2", one, three, n)
	}
	bad := []struct {
		name  string
		team  []TeamMember
		field string
	}{
		{"two chiefs", append(append([]TeamMember{}, team...), TeamMember{Name: "第二网格长", Role: Chief}), "team[6].role"},
		{"an unknown role", []TeamMember{{Name: "x", Role: "boss"}}, "team[0].role"},
		{"no name", []TeamMember{{Role: Volunteer}}, "team[0].name"},
		{"one account twice", []TeamMember{{Name: "a", Role: Member, AccountID: "x"}, {Name: "b", Role: Volunteer, AccountID: "x"}}, "team[1].account_id"},
	}
	for _, tc := range bad {
		if !slices.Contains(fieldsOf(CheckTeam(tc.team)), tc.field) {
			t.Errorf("%s: want %s named, got %v", tc.name, tc.field, fieldsOf(CheckTeam(tc.team)))
		}
	}
}

func TestTally(t *testing.T) {
	patrols := []Patrol{
		{WorkerID: "w1", WorkerName: "甲", GridCode: "g1", Seconds: 3600, Meters: 2500, Counted: true, Cells: []int{1, 2}, CaseIDs: []string{"c1"}},
		{WorkerID: "w1", WorkerName: "甲", GridCode: "g1", Seconds: 600, Meters: 500, Cells: []int{2, 3}},
		{WorkerID: "w2", WorkerName: "乙", GridCode: "g2", Seconds: 1800, Meters: 1000, Counted: true, Cells: []int{7}},
	}
	visits := []Visit{
		{VisitorID: "w1", VisitorName: "甲", VisitInput: VisitInput{Grid: "g1", Needs: []Need{{Outcome: Answered}, {Outcome: ToCase}}}},
		{VisitorID: "w2", VisitorName: "乙", VisitInput: VisitInput{Grid: "g1", Needs: []Need{{Outcome: FollowUp}}}},
	}
	messages := []Message{
		{GridCode: "g1", State: Replied, AnsweredID: "w1", AnsweredBy: "甲", CreatedAt: t0, AnsweredAt: t0.Add(time.Hour)},
		{GridCode: "g1", State: MadeCase, AnsweredID: "w1", AnsweredBy: "甲", CreatedAt: t0, AnsweredAt: t0.Add(30 * time.Hour)},
		{GridCode: "g1", State: Waiting, CreatedAt: t0},
		{GridCode: "g1", State: Blocked, AnsweredID: "w1", CreatedAt: t0, AnsweredAt: t0},
	}
	got := Tally(patrols, visits, messages, map[string]int{"g1": 10, "g2": 4}, map[string]string{"g1": "一网格"})
	want := map[string]Figure{
		"worker:w1": {Patrols: 2, Counted: 1, Minutes: 70, Kilometer: 3, Reports: 1, Visits: 1, Needs: 2, Answered: 1, ToCase: 1, Messages: 2, InTime: 1},
		"worker:w2": {Patrols: 1, Counted: 1, Minutes: 30, Kilometer: 1, Visits: 1, Needs: 1, FollowUps: 1},
		"grid:g1":   {Patrols: 2, Counted: 1, Minutes: 70, Kilometer: 3, Reports: 1, Visits: 2, Needs: 3, Answered: 1, ToCase: 1, FollowUps: 1, Messages: 3, InTime: 1, Coverage: &Coverage{Covered: 3, Total: 10, Share: 0.3}},
		"grid:g2":   {Patrols: 1, Counted: 1, Minutes: 30, Kilometer: 1, Coverage: &Coverage{Covered: 1, Total: 4, Share: 0.25}},
	}
	if len(got) != len(want) {
		t.Fatalf("%d figures, want %d: %+v", len(got), len(want), got)
	}
	for _, f := range got {
		w, ok := want[f.Kind+":"+f.ID]
		if !ok {
			t.Errorf("unexpected figure %s:%s", f.Kind, f.ID)
			continue
		}
		w.Kind, w.ID, w.Name = f.Kind, f.ID, f.Name
		if (w.Coverage == nil) != (f.Coverage == nil) || (w.Coverage != nil && *w.Coverage != *f.Coverage) {
			t.Errorf("%s:%s coverage %+v, want %+v", f.Kind, f.ID, f.Coverage, w.Coverage)
		}
		w.Coverage, f.Coverage = nil, nil
		if f != w {
			t.Errorf("%s:%s = %+v, want %+v", f.Kind, f.ID, f, w)
		}
	}
}

func TestParseRoster(t *testing.T) {
	ok := "\ufeff类型,名称,所在楼栋,经度,纬度,姓名,电话,关系,标签\n" +
		"楼栋,3栋,,106.551,29.561,,,,\n" +
		"住户,3栋501,3栋,,,张三,13800001234,户主,独居老人、低保户\n" +
		"住户,3栋501,3栋,,,李四,,家庭成员,\n" +
		",,,,,,,,\n" +
		"商铺,民乐便利店,,,,,,,\n"
	rows, err := ParseRoster(strings.NewReader(ok), "g9", t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || rows[0].Place.Kind != Building || rows[0].Place.Point == nil || rows[1].Person == nil ||
		rows[1].Person.Name != "张三" || !slices.Equal(rows[1].Person.Tags, []string{"独居老人", "低保户"}) || rows[3].Person != nil || rows[3].Line != 6 {
		t.Fatalf("rows %+v", rows)
	}
	bad := "类型,名称,所在楼栋,经度,纬度,姓名,电话\n" +
		"城堡,A,,,,,\n" + // unknown kind
		"住户,,3栋,,,,\n" + // no name
		"住户,5号,,200,29,,\n" + // bad point
		"住户,6号,,,,王五,12ab\n" + // bad phone
		"楼栋,7栋,3栋,,,,\n" + // a building in a building
		"住户,8号,,,,,13800001234\n" // a phone without a name
	_, err = ParseRoster(strings.NewReader(bad), "g9", t0)
	var re *RosterError
	if !errors.As(err, &re) {
		t.Fatalf("bad file: %v", err)
	}
	want := []RowProblem{{2, "类型", ""}, {3, "名称", ""}, {4, "经度/纬度", ""}, {5, "电话", ""}, {6, "所在楼栋", ""}, {7, "姓名", ""}}
	if len(re.Problems) != len(want) {
		t.Fatalf("problems %+v, want %d", re.Problems, len(want))
	}
	for i, w := range want {
		if re.Problems[i].Line != w.Line || re.Problems[i].Field != w.Field || re.Problems[i].Reason == "" {
			t.Errorf("problem %d: %+v, want line %d field %s", i, re.Problems[i], w.Line, w.Field)
		}
	}
	for _, head := range []string{"", "名称\n", "类型,名称,颜色\n"} {
		if _, err := ParseRoster(strings.NewReader(head), "g9", t0); !errors.As(err, &re) || re.Problems[0].Line != 1 {
			t.Errorf("header %q: %v", head, err)
		}
	}
}

func TestMessages(t *testing.T) {
	ok := MessageInput{Phone: "13900001111", Text: "楼下垃圾三天没人收"}
	if err := CheckMessage(ok); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		in    MessageInput
		field string
	}{
		{MessageInput{Phone: "13900001111"}, "text"},
		{MessageInput{Text: "x"}, "phone"},
		{MessageInput{Text: "x", Phone: "abc"}, "phone"},
		{MessageInput{Text: "x", Phone: "13900001111", Name: strings.Repeat("名", 51)}, "name"},
		{MessageInput{Text: "x", Phone: "13900001111", Point: &geo.Point{Lng: 999}}, "point"},
	} {
		if !slices.Contains(fieldsOf(CheckMessage(tc.in)), tc.field) {
			t.Errorf("%+v: want %s named", tc.in, tc.field)
		}
	}
	m := Message{MessageInput: ok, State: Waiting, CreatedAt: t0}
	if _, err := Reply(m, "", "杨诗培", t0); !slices.Contains(fieldsOf(err), "answer") {
		t.Errorf("an empty reply: %v", err)
	}
	r, err := Reply(m, "已联系环卫，今天下午清运", "杨诗培", t0.Add(2*time.Hour))
	if err != nil || r.State != Replied || !r.InTime(ReplyWithin) {
		t.Fatalf("reply: %+v %v", r, err)
	}
	if _, err := Reply(r, "again", "杨诗培", t0); !apperr.Is(err, apperr.Refused) {
		t.Errorf("a second reply: %v", err)
	}
	late, _ := Reply(m, "抱歉来晚了", "杨诗培", t0.Add(25*time.Hour))
	if late.InTime(ReplyWithin) || m.InTime(ReplyWithin) {
		t.Error("a late reply or none is not in time")
	}
	c, err := ToCaseOf(m, cases.Case{ID: "c1", Number: "N1", OnSpot: true}, "已清运", "杨诗培", t0.Add(time.Hour))
	if err != nil || c.State != MadeCase || c.CaseNumber != "N1" || !strings.Contains(c.Answer, "已清运") {
		t.Errorf("to case: %+v %v", c, err)
	}
	b, err := Block(m, "杨诗培", t0)
	if err != nil || b.State != Blocked || b.InTime(ReplyWithin) {
		t.Errorf("block: %+v %v", b, err)
	}
	if p := r.Public(); p.Phone != "139****1111" || p.GridPath != "" {
		t.Errorf("public %+v", p)
	}
}
