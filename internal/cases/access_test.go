package cases_test

import (
	"testing"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
)

func TestCanSee(t *testing.T) {
	// A case placed in the grid of street 001, owned by the street center.
	streetCase := cases.Case{
		RegionPath: gridPath, CenterPath: streetPath, Reporter: cases.Reporter{AccountID: "acct-rep"},
		Tasks: []cases.Task{{UnitID: leadID, Role: cases.Lead, State: cases.TaskSigned}, {UnitID: coID, Role: cases.Co, State: cases.TaskCancelled}},
	}
	// The same kind of case escalated to the district center.
	escalated := streetCase
	escalated.CenterPath = districtPath
	// A case of the sibling street escalated to the district: the district
	// sees it; street 001 does not.
	siblingEsc := cases.Case{RegionPath: siblingStreet + "500103002001/", CenterPath: districtPath, Reporter: cases.Reporter{AccountID: "acct-other"}}
	// A case with no grid, placed on the street and owned by it.
	noGrid := cases.Case{RegionPath: streetPath, CenterPath: streetPath}
	// A case of the sibling street.
	sibling := cases.Case{RegionPath: siblingStreet + "500103002001/500103002001001/", CenterPath: siblingStreet}

	region := func(role cases.Role, path string) cases.Actor {
		return cases.Actor{AccountID: "acct-" + string(role) + path, Role: role, RegionPath: path}
	}
	regionRoles := []cases.Role{cases.RoleAdmin, cases.RoleLeader, cases.RoleCommander, cases.RoleGridWorker, cases.RoleGridChief, cases.RoleHead}

	type want struct {
		street, escalated, siblingEsc, noGrid, sibling bool
	}
	check := func(t *testing.T, a cases.Actor, w want) {
		t.Helper()
		for _, tc := range []struct {
			name string
			c    cases.Case
			want bool
		}{
			{"street case", streetCase, w.street},
			{"escalated", escalated, w.escalated},
			{"sibling escalated", siblingEsc, w.siblingEsc},
			{"no grid", noGrid, w.noGrid},
			{"sibling street", sibling, w.sibling},
		} {
			if got := cases.CanSee(a, &tc.c); got != tc.want {
				t.Errorf("%s %q sees %s: %v, want %v", a.Role, a.RegionPath+a.UnitID, tc.name, got, tc.want)
			}
		}
	}

	for _, role := range regionRoles {
		t.Run(string(role), func(t *testing.T) {
			check(t, region(role, cityPath), want{true, true, true, true, true})
			check(t, region(role, districtPath), want{true, true, true, true, true})
			check(t, region(role, streetPath), want{true, true, false, true, false})
			check(t, region(role, siblingStreet), want{false, false, true, false, true})
			check(t, region(role, communityPath), want{true, true, false, false, false})
			check(t, region(role, gridPath), want{true, true, false, false, false})
			check(t, region(role, communityPath+"500103001001002/"), want{})
			// A path is a whole segment: "/500000/5001/" is no prefix of Yuzhong.
			check(t, region(role, "/500000/5001/"), want{})
			// An empty scope sees nothing, not even the actor's own report.
			empty := cases.Actor{AccountID: "acct-rep", Role: role}
			check(t, empty, want{})
			// Outside the subtree, a grid's people still see their own
			// reports; a center's staff see their region only.
			rep := region(role, siblingStreet)
			rep.AccountID = "acct-rep"
			switch role {
			case cases.RoleGridWorker, cases.RoleGridChief, cases.RoleHead:
				check(t, rep, want{true, true, true, false, true})
			default:
				check(t, rep, want{false, false, true, false, true})
			}
		})
	}

	t.Run("unit", func(t *testing.T) {
		check(t, unitActor(leadID), want{street: true, escalated: true})
		// A unit that stepped out keeps reading the case it worked on.
		check(t, unitActor(coID), want{street: true, escalated: true})
		check(t, unitActor(otherID), want{})
		check(t, cases.Actor{AccountID: "acct-rep", Role: cases.RoleUnit, RegionPath: cityPath}, want{})
	})

	for _, role := range []cases.Role{cases.RoleResident, cases.RoleEnterprise} {
		t.Run(string(role), func(t *testing.T) {
			check(t, cases.Actor{AccountID: "acct-rep", Role: role}, want{street: true, escalated: true})
			check(t, cases.Actor{AccountID: "acct-other", Role: role}, want{siblingEsc: true})
			check(t, cases.Actor{AccountID: "acct-x", Role: role, RegionPath: cityPath}, want{})
			// No account, no scope: an anonymous reporter's case stays hidden.
			check(t, cases.Actor{Role: role}, want{noGrid: false})
			anon := cases.Case{RegionPath: gridPath}
			if cases.CanSee(cases.Actor{Role: role}, &anon) {
				t.Error("an actor without an account sees an anonymous case")
			}
		})
	}

	t.Run("system", func(t *testing.T) {
		check(t, cases.System, want{true, true, true, true, true})
	})

	t.Run("unknown role", func(t *testing.T) {
		check(t, cases.Actor{AccountID: "acct-rep", Role: "guest", RegionPath: cityPath, UnitID: leadID}, want{})
	})
}

func TestMaskPhone(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"1", "*"},
		{"12345", "*****"},
		{"123456", "******"},
		{"1234567", "*******"}, // too short to show both ends
		{"12345678", "123*5678"},
		{"13812345678", "138****5678"},
		{"+8613812345678", "+86*******5678"},
		{"023-63861234", "023*****1234"},
	} {
		if got := cases.MaskPhone(tc.in); got != tc.want {
			t.Errorf("MaskPhone(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRedact(t *testing.T) {
	c := cases.Case{ID: "case-1", Reporter: cases.Reporter{AccountID: "acct-rep", Name: "赵六", Phone: "13812345678"}, Description: "路灯不亮"}
	for _, tc := range []struct {
		name  string
		actor cases.Actor
		phone string
	}{
		{"commander (reveals on demand)", commander, "138****5678"},
		{"system", cases.System, "13812345678"},
		{"the reporter", cases.Actor{AccountID: "acct-rep", Role: cases.RoleResident}, "13812345678"},
		{"grid worker", gridWorker, "138****5678"},
		{"leader", leader, "138****5678"},
		{"unit", leadUnit, "138****5678"},
		{"admin", cases.Actor{AccountID: "acct-admin", Role: cases.RoleAdmin, RegionPath: cityPath}, "138****5678"},
		{"another resident", cases.Actor{AccountID: "acct-x", Role: cases.RoleResident}, "138****5678"},
		{"no account", cases.Actor{Role: cases.RoleResident}, "138****5678"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := cases.Redact(tc.actor, c)
			if got.Reporter.Phone != tc.phone || got.Reporter.Name != "赵六" || got.Description != c.Description {
				t.Errorf("reporter %+v", got.Reporter)
			}
			if c.Reporter.Phone != "13812345678" {
				t.Fatal("Redact changed its input")
			}
			if cases.SeesPhones(tc.actor) != (tc.actor.Role == cases.RoleCommander || tc.actor.Role == cases.RoleSystem) {
				t.Error("SeesPhones")
			}
		})
	}
	// A reporter with no account never matches an actor with none.
	anon := c
	anon.Reporter.AccountID = ""
	if got := cases.Redact(cases.Actor{Role: cases.RoleResident}, anon); got.Reporter.Phone != "138****5678" {
		t.Errorf("anonymous: %q", got.Reporter.Phone)
	}
}

// TestBoardHeadSeesButDoesNotAct: a board head's actor carries the board's
// posts (Units): the head sees their cases but takes no unit action on them;
// a post acts only on its own task.
func TestBoardHeadSeesButDoesNotAct(t *testing.T) {
	c, last := reach(t, cases.Dispatched)
	head := cases.Actor{AccountID: "acct-head", Name: "板块负责人", Role: cases.RoleUnit, UnitID: "u-board", Units: []string{leadID, "u-post-b"}}
	otherHead := cases.Actor{AccountID: "acct-head2", Role: cases.RoleUnit, UnitID: "u-board2", Units: []string{"u-post-x"}}
	if !cases.CanSee(head, &c) || cases.CanSee(otherHead, &c) {
		t.Fatalf("head sees %v, other head sees %v", cases.CanSee(head, &c), cases.CanSee(otherHead, &c))
	}
	if got := cases.Actions(&c, head); len(got) != 0 {
		t.Errorf("the head may take %v", got)
	}
	refused(t, c, cases.Command{Action: cases.ActSign}, head, last.Add(time.Minute), apperr.Refused)
	if _, _, err := cases.Apply(c, cases.Command{Action: cases.ActSign}, otherHead, pol, last.Add(time.Minute)); !apperr.Is(err, apperr.Forbidden) {
		t.Errorf("another board's head: %v", err)
	}
}
