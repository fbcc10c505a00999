package service_test

import (
	"context"
	"strings"
	"testing"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/gridwork"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
)

// TestPartyDualReporting plays 双报到 in 杨诗培's community: the community's
// secretary registers in-service party members (one in grid 9's N), a
// volunteer group, records service hours; a grid worker gives a case of
// her grid to the group as a co-handler (a step through the state
// machine, once); the board's figures count members, hours and cases
// helped per community and street; other streets and other roles are kept
// out, and bad input changes nothing. SQLite, or PostgreSQL with
// ZHIZHI_TEST_POSTGRES.
func TestPartyDualReporting(t *testing.T) {
	ctx := context.Background()
	p, _ := doorPlatform(t, service.DoorLimits{})
	svc := p.Service
	actor := func(user string) cases.Actor {
		a, err := p.DB.AccountByUsername(ctx, user)
		if err != nil {
			t.Fatal(user, err)
		}
		return svc.ActorOf(a)
	}
	yang := actor("yangshipei")
	gridPath := yang.RegionPath
	segs := strings.Split(strings.Trim(gridPath, "/"), "/")
	grid, community, street := segs[len(segs)-1], segs[len(segs)-2], segs[len(segs)-3]
	sec := actor("sq" + strings.TrimPrefix(community, "500103"))
	other := actor("xyc_shuji") // another community's secretary
	jfb := actor("jfb_zhihui")  // another street's commander
	syl := actor("syl_zhihui")

	// The demo's own registrations, hours and helped cases come first: what
	// this test adds is counted on top of them.
	rowOf := func(under string) (service.PartyFigures, *service.PartyFigureRow) {
		t.Helper()
		f, err := svc.PartyFigures(ctx, syl, under, "")
		if err != nil {
			t.Fatal(err)
		}
		for i := range f.Rows {
			if f.Rows[i].Code == community {
				return f, &f.Rows[i]
			}
		}
		return f, nil
	}
	_, before := rowOf(community)
	if before == nil {
		before = &service.PartyFigureRow{}
	}
	demoView, err := svc.Party(ctx, syl, community)
	if err != nil {
		t.Fatal(err)
	}
	demoHours, err := svc.ServiceHoursOf(ctx, sec, community, "", "")
	if err != nil {
		t.Fatal(err)
	}

	// Registration.
	m1, err := svc.PutPartyMember(ctx, sec, gridwork.PartyMember{Name: "李建国", Org: "渝中区税务局", Phone: "13900007777", Community: community, Grid: grid, Tasks: []string{"楼栋巡查", "独居老人结对"}})
	if err != nil {
		t.Fatal(err)
	}
	if m1.Phone != "139****7777" || !m1.Masked || m1.GridPath != gridPath || m1.ReportedOn == "" {
		t.Fatalf("registered: %+v", m1)
	}
	if _, err := svc.PutPartyMember(ctx, sec, gridwork.PartyMember{Name: "王芳", Org: "市一中", Phone: "13900008888", Community: community}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		actor cases.Actor
		in    gridwork.PartyMember
		kind  apperr.Kind
		field string
	}{
		{"same phone", sec, gridwork.PartyMember{Name: "李建国", Org: "x", Phone: "13900007777", Community: community}, apperr.Invalid, "phone"},
		{"no org", sec, gridwork.PartyMember{Name: "张三", Phone: "13900009999", Community: community}, apperr.Invalid, "org"},
		{"grid of another community", sec, gridwork.PartyMember{Name: "张三", Org: "x", Phone: "13900009999", Community: community, Grid: strings.TrimSuffix(lastSeg(other.RegionPath), "") + "001"}, apperr.Invalid, "grid"},
		{"another community's secretary", other, gridwork.PartyMember{Name: "张三", Org: "x", Phone: "13900009999", Community: community}, apperr.Forbidden, ""},
		{"a grid worker", yang, gridwork.PartyMember{Name: "张三", Org: "x", Phone: "13900009999", Community: community}, apperr.Forbidden, ""},
		{"a commander", syl, gridwork.PartyMember{Name: "张三", Org: "x", Phone: "13900009999", Community: community}, apperr.Forbidden, ""},
	} {
		_, err := svc.PutPartyMember(ctx, tc.actor, tc.in)
		if !apperr.Is(err, tc.kind) || (tc.field != "" && !strings.Contains(err.Error(), tc.field)) {
			t.Errorf("%s: %v, want %s %s", tc.name, err, tc.kind, tc.field)
		}
	}
	view, err := svc.Party(ctx, syl, community)
	if err != nil || len(view.Members) != len(demoView.Members)+2 || view.Keeps || len(view.Grids) == 0 {
		t.Fatalf("the street reads the board: %+v %v", view, err)
	}
	for _, m := range view.Members {
		if !strings.Contains(m.Phone, "****") {
			t.Errorf("a phone unmasked: %+v", m)
		}
	}
	if _, err := svc.Party(ctx, jfb, community); !apperr.Is(err, apperr.Forbidden) {
		t.Errorf("another street read the board: %v", err)
	}
	if _, err := svc.Party(ctx, yang, community); err != nil {
		t.Errorf("the community's grid worker reads the board: %v", err)
	}

	// A volunteer group and hours.
	g, err := svc.PutVolunteerGroup(ctx, sec, gridwork.VolunteerGroup{Name: "民乐村在职党员志愿服务队", Community: community, Services: "助老、环境整治"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.PutVolunteerGroup(ctx, sec, gridwork.VolunteerGroup{Name: "民乐村在职党员志愿服务队", Community: community}); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("a second group of the same name: %v", err)
	}
	today := gridwork.Today(svc.Now())
	if _, err := svc.RecordServiceHours(ctx, sec, gridwork.ServiceHours{MemberID: m1.ID, Activity: "清理楼道杂物", On: today, Minutes: 90}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RecordServiceHours(ctx, sec, gridwork.ServiceHours{MemberID: m1.ID, Activity: "x", On: today, Minutes: 0}); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("zero minutes: %v", err)
	}
	if _, err := svc.RecordServiceHours(ctx, other, gridwork.ServiceHours{MemberID: m1.ID, Activity: "越权", On: today, Minutes: 30}); err == nil {
		t.Error("another community recorded hours of our member")
	}

	// A case of grid 9, accepted, given to the group by the grid worker.
	grids, err := p.DB.Regions(ctx, store.RegionFilter{Level: "grid", Under: gridPath, WithShape: true})
	if err != nil || len(grids) != 1 {
		t.Fatal("grid 9", err)
	}
	pt := grids[0].Shape.Centroid()
	c, err := svc.Report(ctx, yang, cases.Report{Category: "AQ06", Description: "楼上噪音扰民", Point: &pt, Source: cases.SourcePatrol})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.GiveToVolunteers(ctx, yang, c.Number, g.ID, "请志愿者上门劝导"); !apperr.Is(err, apperr.Refused) {
		t.Errorf("a case not yet accepted was given to volunteers: %v", err)
	}
	if _, _, err := svc.Act(ctx, syl, c.ID, cases.Command{Action: cases.ActAccept}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.GiveToVolunteers(ctx, jfb, c.ID, g.ID, "越权"); err == nil {
		t.Error("another street's commander gave the case to the group")
	}
	res, err := svc.GiveToVolunteers(ctx, yang, c.Number, g.ID, "请志愿者上门劝导")
	if err != nil {
		t.Fatal(err)
	}
	if res.Step.Action != cases.ActVolunteer || len(res.Case.Volunteers) != 1 || res.Case.State != cases.Accepted {
		t.Fatalf("given: %+v %+v", res.Step, res.Case.Volunteers)
	}
	if _, err := svc.GiveToVolunteers(ctx, sec, c.ID, g.ID, "再次"); !apperr.Is(err, apperr.Refused) {
		t.Errorf("the same group twice: %v", err)
	}
	if _, err := svc.RecordServiceHours(ctx, sec, gridwork.ServiceHours{MemberID: m1.ID, Activity: "上门劝导", On: today, Minutes: 60, CaseID: c.Number}); err != nil {
		t.Fatal(err)
	}
	if acts := svc.Actions(&res.Case, sec); len(acts) > 0 {
		for _, a := range acts {
			if a == cases.ActVolunteer {
				t.Error("the case page offers volunteer without its form")
			}
		}
	}

	// The board's figures, per community and for the street.
	for _, under := range []string{community, street} {
		f, row := rowOf(under)
		if row == nil || row.Members != before.Members+2 || row.InGrids != before.InGrids+1 || row.Hours != before.Hours+2.5 ||
			row.Activities != before.Activities+2 || row.CasesHelped != before.CasesHelped+1 || row.Name == "" {
			t.Fatalf("figures under %s: %+v (before: %+v)", under, f, before)
		}
		if f.Total.Members < 2 || f.Total.CasesHelped < 1 {
			t.Errorf("total under %s: %+v", under, f.Total)
		}
	}
	if _, err := svc.PartyFigures(ctx, jfb, street, ""); !apperr.Is(err, apperr.Forbidden) {
		t.Errorf("another street read the figures: %v", err)
	}
	// The board counts communities: a grid is below what it answers.
	if _, err := svc.PartyFigures(ctx, syl, grid, ""); !apperr.Is(err, apperr.Forbidden) {
		t.Errorf("figures under a grid: %v", err)
	}
	hours, err := svc.ServiceHoursOf(ctx, sec, community, "", "")
	if err != nil || len(hours) != len(demoHours)+2 || hours[0].MemberName != "李建国" {
		t.Fatalf("hours: %+v %v", hours, err)
	}
}

func lastSeg(path string) string {
	s := strings.Split(strings.Trim(path, "/"), "/")
	return s[len(s)-1]
}
