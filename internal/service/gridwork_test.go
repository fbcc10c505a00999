package service_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/demo"
	"zhizhi/internal/geo"
	"zhizhi/internal/gridwork"
	"zhizhi/internal/server"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
)

// TestGridWorkerDay plays 杨诗培's day in 第九网格 (S2) through the
// service: a patrol with a report made on it, uploaded twice and stored
// once; a household visit whose need becomes a case (source patrol) and
// another answered on the spot; the roster with a household and its
// people, masked for every reader, revealed only to the grid's own people
// and each reveal recorded; the figures against a recount; and the
// refusals (another grid's worker, a unit's staff, bad input changing
// nothing).
func TestGridWorkerDay(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	// The test puts things up to 45 minutes in the past and counts them as
	// today's: in the first hour after midnight (Beijing) its clock runs
	// behind, to the end of the day before.
	var shift time.Duration
	if l := time.Now().In(time.FixedZone("CST", 8*3600)); l.Hour() == 0 {
		shift = time.Duration(l.Minute()+2) * time.Minute
	}
	p, err := server.Open(ctx, server.Config{DB: filepath.Join(dir, "z.db"), DataDir: dir, DefaultCenter: demo.District,
		Now: func() time.Time { return time.Now().Add(-shift) }})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	svc := p.Service
	// The demo's history (杨诗培's grid work included) ends 60 days ago,
	// so today's and this week's figures are this test's alone.
	if err := demo.Load(ctx, svc, demo.Options{Cases: 5, Seed: 1, Now: time.Now().AddDate(0, 0, -60)}); err != nil {
		t.Fatal(err)
	}
	actor := func(username string) cases.Actor {
		a, err := p.DB.AccountByUsername(ctx, username)
		if err != nil {
			t.Fatal(username, err)
		}
		return svc.ActorOf(a)
	}
	yang, zhou, unit, commander, chief := actor("yangshipei"), actor("zhouchunyan"), actor("syl_ms_a"), actor("syl_zhihui"), actor("xyc_wgz")
	parts := strings.Split(strings.Trim(yang.RegionPath, "/"), "/")
	grid := parts[len(parts)-1]
	g, err := p.DB.Region(ctx, grid)
	if err != nil {
		t.Fatal(err)
	}
	c := g.Shape.Centroid()
	now := svc.Now()
	var fixes []gridwork.Fix
	for i := 0; i < 40; i++ {
		fixes = append(fixes, gridwork.Fix{Lng: c.Lng + float64(i%10)*0.00005, Lat: c.Lat + float64(i/10)*0.00005, At: now.Add(time.Duration(i-41) * time.Minute), Accuracy: 10})
	}
	// A report made on the patrol, sent first.
	rep, err := svc.Report(ctx, yang, cases.Report{Source: cases.SourcePatrol, Category: "MS03", Description: "巡查发现垃圾堆放", Point: &c, ClientRef: "patrol-1-r1"})
	if err != nil {
		t.Fatal(err)
	}
	up := gridwork.PatrolUpload{ClientRef: "patrol-1", Grid: grid, StartedAt: now.Add(-42 * time.Minute), EndedAt: now.Add(-time.Minute), Fixes: fixes, ReportRefs: []string{"patrol-1-r1"}}
	bad := up
	bad.ReportRefs = []string{"never-sent"}
	if _, err := svc.UploadPatrol(ctx, yang, bad); !apperr.Is(err, apperr.Invalid) || !strings.Contains(err.Error(), "report_refs[0]") {
		t.Fatalf("a patrol naming a report never sent: %v", err)
	}
	if _, err := svc.UploadPatrol(ctx, zhou, up); !apperr.Is(err, apperr.Forbidden) {
		t.Fatalf("another grid's worker recorded a patrol here: %v", err)
	}
	first, err := svc.UploadPatrol(ctx, yang, up)
	if err != nil {
		t.Fatal(err)
	}
	second, err := svc.UploadPatrol(ctx, yang, up)
	if err != nil {
		t.Fatal(err)
	}
	if first.Replay || !second.Replay || second.Patrol.ID != first.Patrol.ID || !slices.Equal(first.Patrol.CaseIDs, []string{rep.ID}) {
		t.Fatalf("patrol uploaded twice: %+v / %+v", first, second)
	}
	if ps, _ := p.DB.Patrols(ctx, store.GridFilter{Under: g.Path, From: now.Add(-time.Hour)}); len(ps) != 1 {
		t.Fatalf("%d patrols stored for one uploaded twice (and one refused)", len(ps))
	}
	if log, _ := p.DB.AuditLog(ctx, store.AuditFilter{Kind: "patrol"}); len(log) != 1 {
		t.Errorf("%d audit entries for one patrol", len(log))
	}
	if first.Patrol.Meters <= 0 || len(first.Patrol.Cells) == 0 || !first.Patrol.Counted {
		t.Errorf("patrol %+v", first.Patrol)
	}
	// A visit: a need becomes a case, another is answered on the spot.
	due := now.Add(48 * time.Hour)
	visit := gridwork.VisitInput{ClientRef: "visit-1", Grid: grid, PlaceKind: gridwork.Household, Place: "民乐村3栋501", At: now.Add(-10 * time.Minute), Point: &c,
		Needs: []gridwork.Need{{Text: "楼道灯坏了一个月", Outcome: gridwork.ToCase, Category: "MS03"}, {Text: "医保关系怎么转", Outcome: gridwork.Answered, Answer: "已告知办理流程"},
			{Text: "想申请老年助餐", Outcome: gridwork.FollowUp, Promise: "问社区后回复", Due: &due}}}
	badVisit := visit
	badVisit.Needs = []gridwork.Need{{Text: "x", Outcome: gridwork.ToCase, Category: "NOPE"}}
	if _, err := svc.RecordHouseholdVisit(ctx, yang, badVisit); !apperr.Is(err, apperr.Invalid) || !strings.Contains(err.Error(), "needs[0].category") {
		t.Fatalf("a need of an unknown category: %v", err)
	}
	v1, err := svc.RecordHouseholdVisit(ctx, yang, visit)
	if err != nil {
		t.Fatal(err)
	}
	v2, err := svc.RecordHouseholdVisit(ctx, yang, visit)
	if err != nil || !v2.Replay || v2.Visit.ID != v1.Visit.ID {
		t.Fatalf("visit twice: %+v %v", v2, err)
	}
	caseID := v1.Visit.Needs[0].CaseID
	vc, err := p.DB.Case(ctx, caseID)
	if err != nil || vc.Source != cases.SourcePatrol || vc.Reporter.AccountID != yang.AccountID || vc.GridCode == "" {
		t.Fatalf("the need's case: %+v %v", vc, err)
	}
	if n, _ := p.DB.CountCases(ctx, store.CaseFilter{Scope: store.Scope{All: true}, Reporter: yang.AccountID, From: now}); n != 2 {
		t.Errorf("%d cases reported by 杨诗培, want 2 (the patrol's and the visit's)", n)
	}
	// The day.
	days, err := svc.Today(ctx, yang)
	if err != nil || len(days) != 1 {
		t.Fatalf("today: %+v %v", days, err)
	}
	d := days[0]
	if d.PatrolDue || len(d.PatrolsToday) != 1 || d.VisitsToday != 1 || len(d.FollowUps) != 1 || d.Week.Covered == 0 {
		t.Errorf("today %+v", d)
	}
	if days, _ := svc.Today(ctx, unit); len(days) != 0 {
		t.Errorf("a unit's staff has %d grid days", len(days))
	}
	// The roster.
	if _, err := svc.PutPlace(ctx, zhou, gridwork.Place{GridCode: grid, Kind: gridwork.Building, Name: "3栋"}); !apperr.Is(err, apperr.Forbidden) {
		t.Fatalf("another grid's worker kept this roster: %v", err)
	}
	demoPlaces, _ := p.DB.Places(ctx, grid)
	b, err := svc.PutPlace(ctx, yang, gridwork.Place{GridCode: grid, Kind: gridwork.Building, Name: "3栋"})
	if err != nil {
		t.Fatal(err)
	}
	h, err := svc.PutPlace(ctx, yang, gridwork.Place{GridCode: grid, Kind: gridwork.Household, Name: "3栋501", Building: b.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.PutPlace(ctx, yang, gridwork.Place{GridCode: grid, Kind: gridwork.Household, Name: "3栋502", Building: h.ID}); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("a household in a household: %v", err)
	}
	person, err := svc.PutPerson(ctx, yang, gridwork.Person{PlaceID: h.ID, Name: "张三丰", Phone: "13800001234", Relation: "户主", Tags: []string{"独居老人"}})
	if err != nil || person.Phone != "138****1234" || person.Name != "张**" {
		t.Fatalf("person as written back: %+v %v", person, err)
	}
	if log, _ := p.DB.AuditLog(ctx, store.AuditFilter{Kind: "roster", ObjectID: person.ID}); len(log) != 1 || strings.Contains(string(log[0].After), "13800001234") || strings.Contains(string(log[0].After), "张三丰") {
		t.Errorf("the roster's audit entry copies personal data: %+v", log)
	}
	if _, err := svc.Roster(ctx, unit, grid); !apperr.Is(err, apperr.Forbidden) {
		t.Fatalf("a unit's staff read a roster: %v", err)
	}
	if _, err := svc.RevealPerson(ctx, unit, person.ID); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("a unit's staff revealed a person: %v", err)
	}
	ros, err := svc.Roster(ctx, commander, grid)
	var mine []gridwork.Person
	for _, x := range ros.People {
		if x.ID == person.ID {
			mine = append(mine, x)
		}
	}
	if err != nil || len(mine) != 1 || mine[0].Phone != "138****1234" || ros.Reveal || len(ros.Places) != len(demoPlaces)+2 {
		t.Fatalf("the commander's roster: %+v %v", ros, err)
	}
	if _, err := svc.RevealPerson(ctx, commander, person.ID); !apperr.Is(err, apperr.Forbidden) {
		t.Fatalf("the commander revealed a person: %v", err)
	}
	reads := func() int {
		log, _ := p.DB.AuditLog(ctx, store.AuditFilter{Kind: "personal_data", ObjectID: person.ID})
		return len(log)
	}
	if reads() != 0 {
		t.Fatal("a read recorded before any reveal")
	}
	full, err := svc.RevealPerson(ctx, yang, person.ID)
	if err != nil || full.Phone != "13800001234" || full.Name != "张三丰" || reads() != 1 {
		t.Fatalf("reveal: %+v %v, %d reads recorded", full, err, reads())
	}
	if _, err := svc.RevealPerson(ctx, chief, person.ID); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("another community's grid chief: %v", err)
	}
	// Retention: a person kept until a moment that has passed is neither
	// shown nor revealed, and the purge removes them.
	short, err := svc.PutPerson(ctx, yang, gridwork.Person{PlaceID: h.ID, Name: "临时租户", RetainUntil: svc.Now().Add(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	if _, err := svc.RevealPerson(ctx, yang, short.ID); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("a person past retention revealed: %v", err)
	}
	if n, err := svc.PurgeRoster(ctx); err != nil || n != 1 {
		t.Errorf("purged %d, %v; want 1", n, err)
	}
	if _, err := p.DB.Person(ctx, short.ID); err == nil {
		t.Error("a person past retention is still stored")
	}
	// Import: a file with problems changes nothing; a good one adds.
	before, _ := p.DB.Places(ctx, grid)
	if _, err := svc.ImportRoster(ctx, yang, grid, []byte("类型,名称,姓名,电话\n住户,4栋101,李四,abc\n")); !apperr.Is(err, apperr.Invalid) || !strings.Contains(err.Error(), "line2.电话") {
		t.Fatalf("a bad file: %v", err)
	}
	if after, _ := p.DB.Places(ctx, grid); len(after) != len(before) {
		t.Fatal("a bad file changed the roster")
	}
	res, err := svc.ImportRoster(ctx, yang, grid, []byte("类型,名称,所在楼栋,姓名,电话\n楼栋,4栋,,,\n住户,4栋101,4栋,李四,13900001111\n住户,3栋501,3栋,张三丰,13800001234\n"))
	if err != nil || res.Places != 3 || res.People != 1 || res.Skipped != 1 {
		t.Fatalf("import: %+v %v", res, err)
	}
	if after, _ := p.DB.Places(ctx, grid); len(after) != len(demoPlaces)+4 {
		t.Fatalf("%d places after the import, want 4 (3栋501 updated, not doubled)", len(after))
	}
	// Team and plan.
	if _, err := svc.SetTeam(ctx, yang, grid, []gridwork.TeamMember{{Name: "a", Role: gridwork.Chief}, {Name: "b", Role: gridwork.Chief}}); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("two chiefs: %v", err)
	}
	tv, err := svc.SetTeam(ctx, yang, grid, []gridwork.TeamMember{{AccountID: yang.AccountID, Role: gridwork.FullTime}, {Name: "王党员", Role: gridwork.Member}})
	if err != nil || tv.Three != 1 || tv.N != 1 || tv.Members[0].Name != "杨诗培" {
		t.Fatalf("team %+v %v", tv, err)
	}
	if _, err := svc.Team(ctx, unit, grid); !apperr.Is(err, apperr.Forbidden) {
		t.Errorf("a unit's staff read a team: %v", err)
	}
	if _, err := svc.SetPlan(ctx, yang, gridwork.Plan{GridCode: grid, PerWeek: 9}); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("nine patrols a week: %v", err)
	}
	// Figures against a recount.
	day := now.In(svc.Calendar().Location()).Format("2006-01-02")
	fig, err := svc.GridFigures(ctx, commander, "", day)
	if err != nil {
		t.Fatal(err)
	}
	var w, gr *gridwork.Figure
	for i, f := range fig.Figures {
		switch {
		case f.Kind == "worker" && f.ID == yang.AccountID:
			w = &fig.Figures[i]
		case f.Kind == "grid" && f.ID == grid:
			gr = &fig.Figures[i]
		}
	}
	recount := func(f *gridwork.Figure) bool {
		return f != nil && f.Patrols == 1 && f.Counted == 1 && f.Minutes == 41 && f.Reports == 1 && f.Visits == 1 && f.Needs == 3 && f.Answered == 1 && f.ToCase == 1 && f.FollowUps == 1
	}
	if !recount(w) || !recount(gr) || gr.Coverage == nil || gr.Coverage.Covered != len(first.Patrol.Cells) {
		t.Errorf("figures %+v / %+v, want the recount", w, gr)
	}
	if _, err := svc.GridFigures(ctx, unit, "", day); !apperr.Is(err, apperr.Forbidden) {
		t.Errorf("a unit's staff read the figures: %v", err)
	}
	if _, err := svc.GridFigures(ctx, yang, "500103", day); !apperr.Is(err, apperr.Forbidden) {
		t.Errorf("a grid worker read the district's figures: %v", err)
	}
	_ = geo.Point{}
	_ = service.GridRef{}
}
