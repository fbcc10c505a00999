package gridwork

import (
	"strings"
	"testing"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
)

func TestCheckPartyRecords(t *testing.T) {
	now := time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC) // 16:00 in Shanghai
	ok := PartyMember{Name: "李建国", Org: "渝中区税务局", Phone: "13900007777", Community: "500103014006", ReportedOn: "2026-12-04"}
	hours := ServiceHours{MemberID: "M1", Activity: "清理楼道", On: "2026-12-04", Minutes: 90}
	for _, tc := range []struct {
		name  string
		err   error
		field string
	}{
		{"member ok", CheckPartyMember(ok, now), ""},
		{"no name", CheckPartyMember(with(ok, func(m *PartyMember) { m.Name = " " }), now), "name"},
		{"no org", CheckPartyMember(with(ok, func(m *PartyMember) { m.Org = "" }), now), "org"},
		{"bad phone", CheckPartyMember(with(ok, func(m *PartyMember) { m.Phone = "abc" }), now), "phone"},
		{"no community", CheckPartyMember(with(ok, func(m *PartyMember) { m.Community = "" }), now), "community"},
		{"reported tomorrow", CheckPartyMember(with(ok, func(m *PartyMember) { m.ReportedOn = "2026-12-05" }), now), "reported_on"},
		{"bad day", CheckPartyMember(with(ok, func(m *PartyMember) { m.ReportedOn = "12/04/2026" }), now), "reported_on"},
		{"empty task", CheckPartyMember(with(ok, func(m *PartyMember) { m.Tasks = []string{"巡查", ""} }), now), "tasks[1]"},
		{"task with a control character", CheckPartyMember(with(ok, func(m *PartyMember) { m.Tasks = []string{"巡\x07查"} }), now), "tasks[0]"},
		{"hours ok", CheckHours(hours, now), ""},
		{"hours 90 days back", CheckHours(with(hours, func(h *ServiceHours) { h.On = "2026-09-05" }), now), ""},
		{"hours too far back", CheckHours(with(hours, func(h *ServiceHours) { h.On = "2026-08-01" }), now), "on"},
		{"hours tomorrow", CheckHours(with(hours, func(h *ServiceHours) { h.On = "2026-12-05" }), now), "on"},
		{"no minutes", CheckHours(with(hours, func(h *ServiceHours) { h.Minutes = 0 }), now), "minutes"},
		{"more than a day", CheckHours(with(hours, func(h *ServiceHours) { h.Minutes = 1441 }), now), "minutes"},
		{"no activity", CheckHours(with(hours, func(h *ServiceHours) { h.Activity = "" }), now), "activity"},
		{"no member", CheckHours(with(hours, func(h *ServiceHours) { h.MemberID = "" }), now), "member_id"},
		{"group ok", CheckGroup(VolunteerGroup{Name: "志愿服务队", Community: "500103014006"}), ""},
		{"group unnamed", CheckGroup(VolunteerGroup{Community: "500103014006"}), "name"},
	} {
		if tc.field == "" {
			if tc.err != nil {
				t.Errorf("%s: %v", tc.name, tc.err)
			}
			continue
		}
		if !apperr.Is(tc.err, apperr.Invalid) || !strings.Contains(tc.err.Error(), tc.field+":") {
			t.Errorf("%s: %v, want a problem with %s", tc.name, tc.err, tc.field)
		}
	}
	if m := MaskMember(ok); m.Phone != "139****7777" || !m.Masked || m.Name != ok.Name {
		t.Errorf("masked: %+v", m)
	}
}

func with[T any](v T, f func(*T)) T { f(&v); return v }

// PartyTally against a recount by hand: members reported by the period's
// end and not left; hours and activities with days in the period; cases
// helped counted once per community however many groups helped.
func TestPartyTally(t *testing.T) {
	c1, c2 := "/5/51/511/5111/", "/5/51/511/5112/"
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, shanghai)
	to := from.AddDate(0, 1, 0)
	members := []PartyMember{
		{CommunityPath: c1, ReportedOn: "2026-10-01", Grid: "g1"},
		{CommunityPath: c1, ReportedOn: "2026-11-30"},
		{CommunityPath: c1, ReportedOn: "2026-12-01"},             // after the period
		{CommunityPath: c1, ReportedOn: "2026-10-01", Left: true}, // left
		{CommunityPath: c2, ReportedOn: "2026-11-15", Grid: "g2"},
	}
	hours := []ServiceHours{
		{CommunityPath: c1, On: "2026-11-01", Minutes: 60},
		{CommunityPath: c1, On: "2026-11-30", Minutes: 30},
		{CommunityPath: c1, On: "2026-10-31", Minutes: 600}, // before
		{CommunityPath: c1, On: "2026-12-01", Minutes: 600}, // after
		{CommunityPath: c2, On: "2026-11-10", Minutes: 45},
	}
	at := from.Add(48 * time.Hour)
	helps := []CaseHelp{
		{CaseID: "A", GroupID: "G1", CommunityPath: c1, At: at},
		{CaseID: "A", GroupID: "G2", CommunityPath: c1, At: at}, // same case, another group
		{CaseID: "B", GroupID: "G1", CommunityPath: c1, At: to}, // at the end: outside
		{CaseID: "C", GroupID: "G3", CommunityPath: c2, At: from},
	}
	rows := PartyTally(members, hours, helps, from, to)
	want := []PartyRow{
		{Path: c1, Members: 2, InGrids: 1, Hours: 1.5, Activities: 2, CasesHelped: 1},
		{Path: c2, Members: 1, InGrids: 1, Hours: 0.75, Activities: 1, CasesHelped: 1},
	}
	if len(rows) != len(want) {
		t.Fatalf("rows %+v", rows)
	}
	for i := range want {
		if rows[i] != want[i] {
			t.Errorf("row %d: %+v, want %+v", i, rows[i], want[i])
		}
	}
	if tot := PartyTotal("/5/51/511/", rows); tot.Members != 3 || tot.Hours != 2.25 || tot.CasesHelped != 2 || tot.Activities != 3 {
		t.Errorf("total %+v", tot)
	}
}

func TestPartyScope(t *testing.T) {
	comm := "/5/51/511/5111/"
	for _, tc := range []struct {
		a           cases.Actor
		sees, keeps bool
	}{
		{cases.Actor{Role: cases.RoleCommunity, RegionPath: comm}, true, true},
		{cases.Actor{Role: cases.RoleGridChief, RegionPath: comm}, true, true},
		{cases.Actor{Role: cases.RoleGridWorker, RegionPath: comm + "5111009/"}, true, false},
		{cases.Actor{Role: cases.RoleGridWorker, RegionPath: "/5/51/511/5112/5112001/"}, false, false},
		{cases.Actor{Role: cases.RoleCommander, RegionPath: "/5/51/511/"}, true, false},
		{cases.Actor{Role: cases.RoleCommander, RegionPath: "/5/51/512/"}, false, false},
		{cases.Actor{Role: cases.RoleCommunity, RegionPath: "/5/51/511/5112/"}, false, false},
		{cases.Actor{Role: cases.RoleUnit, UnitID: "u"}, false, false},
		{cases.Actor{Role: cases.RoleResident}, false, false},
	} {
		if got := SeesParty(tc.a, comm); got != tc.sees {
			t.Errorf("%s at %s sees: %v", tc.a.Role, tc.a.RegionPath, got)
		}
		if got := KeepsParty(tc.a, comm); got != tc.keeps {
			t.Errorf("%s at %s keeps: %v", tc.a.Role, tc.a.RegionPath, got)
		}
	}
}
