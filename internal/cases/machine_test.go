package cases_test

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/geo"
	"zhizhi/internal/sla"
)

// validCommand is a command for the action with every input it needs.
func validCommand(a cases.Action, now time.Time) cases.Command {
	cmd := cases.Command{Action: a}
	switch a {
	case cases.ActReturnVisit:
		cmd.Visit = &cases.ReturnVisit{Satisfaction: cases.Satisfied, Resolved: true, At: now}
	case cases.ActReject, cases.ActReturn, cases.ActReopen, cases.ActExtendDeny, cases.ActParkDeny,
		cases.ActSupervise, cases.ActHandle, cases.ActClose, cases.ActSensor:
		cmd.Note = "说明" + string(a)
	case cases.ActComment:
		cmd.Note = "路灯还是不亮"
		cmd.Client = &cases.ClientUpdate{Key: "fixmystreet", UpdateID: "fms-1", Name: "王 小明"}
	case cases.ActMerge:
		cmd.Target = "case-0"
	case cases.ActDispatch:
		cmd.Lead, cmd.Co = leadID, []string{coID}
	case cases.ActRedispatch:
		cmd.Lead, cmd.Note = otherID, "原单位不对口"
	case cases.ActFeedback:
		cmd.Note, cmd.Photos = "已处置完毕", []cases.Photo{{Hash: "ef56"}}
	case cases.ActVerify:
		cmd.Passed = ptr(true)
	case cases.ActRate:
		cmd.Rating = cases.Satisfied
	case cases.ActExtendRequest:
		cmd.Extension, cmd.Note = sla.Limit{Amount: 1, Unit: sla.WorkDays}, "材料未到"
	case cases.ActParkRequest:
		cmd.Until, cmd.Note = now.AddDate(0, 0, 30), "等待汛期结束"
	case cases.ActEscalate:
		cmd.Parent, cmd.Note = districtPath, "街道无法协调"
	case cases.ActHandDown:
		// The pure rule only asks for a center below the case's own; which
		// one is package routing's (tested there).
		cmd.Parent, cmd.Note = communityPath, "属下级清单事项"
	case cases.ActPlace:
		cmd.Point = &geo.Point{Lng: 106.55, Lat: 29.55}
		cmd.Place = &cases.Placement{GridCode: gridCode, RegionPath: gridPath, CenterPath: streetPath}
	case cases.ActWarn:
		cmd.Clock, cmd.Level = "case:accept", "red"
	case cases.ActWhistle:
		cmd.Note, cmd.Parties = "需多部门现场协同", []cases.PartyRef{{UnitID: otherID}}
	case cases.ActRateParty:
		cmd.WhistleID, cmd.PartyKey, cmd.Rating = "w1", "unit:"+leadID, cases.Satisfied
	case cases.ActMeeting:
		cmd.Meeting = &cases.MeetingInput{Kind: cases.MeetingCouncil, Place: "社区议事厅",
			Attendees: []cases.Attendee{{Kind: cases.AttendeeResident, Name: "居民代表王某"}},
			Decisions: []cases.DecisionInput{{Text: "一周内完成修复", UnitID: leadID, Due: now.AddDate(0, 0, 7)}}}
	case cases.ActDecisionDone:
		cmd.DecisionID, cmd.Note = "d1", "已落实"
	case cases.ActVolunteer:
		cmd.Volunteer, cmd.Note = &cases.VolunteerRef{GroupID: "g1", Name: "在职党员志愿服务队", Community: "/5/51/"}, "协助劝导"
	case cases.ActAppeal:
		cmd.Note = appealReason
	case cases.ActAppealReview, cases.ActAppealDecide:
		cmd.Passed = ptr(true)
	}
	return cmd
}

// roleCommand is validCommand adjusted to what the role does: a grid
// whistle summons people, an enterprise whistles units; each initiator rates
// the parties of its own whistle (see whistled).
func roleCommand(a cases.Action, role cases.Role, now time.Time) cases.Command {
	cmd := validCommand(a, now)
	switch {
	case a == cases.ActWhistle && (role == cases.RoleGridWorker || role == cases.RoleGridChief):
		cmd.Parties = []cases.PartyRef{{AccountID: "acct-head2", Name: "楼长李某", Title: "楼长"}}
	case a == cases.ActRateParty && role == cases.RoleGridWorker:
		cmd.WhistleID, cmd.PartyKey = "w2", "person:acct-head"
	case a == cases.ActRateParty && role == cases.RoleGridChief:
		cmd.WhistleID, cmd.PartyKey = "w3", "person:acct-head"
	case a == cases.ActRateParty && role == cases.RoleEnterprise:
		cmd.WhistleID, cmd.PartyKey = "w4", "unit:"+coID
	}
	return cmd
}

// whistled is the hook that gives the standard case, right after it is
// accepted, one whistle of each initiator and a meeting: w1 the commander's
// street whistle (u-lead, u-co), w2 the grid worker's and w3 the grid
// chief's grid whistle (the head acct-head), w4 the enterprise whistle of the
// reporter (u-co), and m1 a dispatch meeting on w1 with decision d1 for
// u-lead. No one has reported in yet.
func whistled(t *testing.T) func(cases.Case) cases.Case {
	return func(c cases.Case) cases.Case {
		t.Helper()
		head := []cases.PartyRef{{AccountID: "acct-head", Name: "街长赵某", Title: "街长"}}
		c = must(t, c, cases.Command{Action: cases.ActWhistle, Note: "多部门联合处置",
			Parties: []cases.PartyRef{{UnitID: leadID}, {UnitID: coID}}}, commander, at(9, 9, 6))
		c = must(t, c, cases.Command{Action: cases.ActWhistle, Note: "网格吹哨", Parties: head},
			actorFor(cases.RoleGridWorker, cases.ActWhistle, cases.Accepted, c), at(9, 9, 6))
		c = must(t, c, cases.Command{Action: cases.ActWhistle, Note: "网格吹哨", Parties: head},
			actorFor(cases.RoleGridChief, cases.ActWhistle, cases.Accepted, c), at(9, 9, 6))
		c = must(t, c, cases.Command{Action: cases.ActWhistle, Kind: cases.WhistleEnterprise, Note: "企业吹哨",
			Parties: []cases.PartyRef{{UnitID: coID}}}, actorFor(cases.RoleEnterprise, cases.ActWhistle, cases.Accepted, c), at(9, 9, 6))
		return must(t, c, cases.Command{Action: cases.ActMeeting, WhistleID: "w1", Meeting: &cases.MeetingInput{
			Kind: cases.MeetingDispatch, Place: "现场",
			Decisions: []cases.DecisionInput{{Text: "三日内修复", UnitID: leadID, Due: at(12, 18, 0)}}}}, commander, at(9, 9, 7))
	}
}

// reachWhistled is reach with the whistles and the meeting of whistled.
func reachWhistled(t *testing.T, want cases.State) (cases.Case, time.Time) {
	t.Helper()
	return reachHook(t, want, sla.Normal, whistled(t))
}

// actorFor is an in-scope actor of the role for the action on the case:
// region roles are scoped to the case's street (the grid worker to its grid),
// unit staff to the unit whose turn it is, residents and enterprises are the
// reporter, and a region role rating a case is its reporter.
func actorFor(role cases.Role, a cases.Action, st cases.State, c cases.Case) cases.Actor {
	act := cases.Actor{AccountID: "acct-" + string(role), Name: role.Label(), Role: role}
	switch role {
	case cases.RoleSystem:
		return cases.System
	case cases.RoleUnit:
		unit := leadID
		if coTurn(a, st) {
			unit = coID // the lead has signed (and fed back); the co-unit has not
		}
		return unitActor(unit)
	case cases.RoleCommunity:
		// Community staff acting for the unit whose turn it is, in the
		// case's community.
		act = unitActor(leadID)
		if coTurn(a, st) {
			act = unitActor(coID)
		}
		act.Role, act.RegionPath = cases.RoleCommunity, communityPath
		return act
	case cases.RoleResident, cases.RoleEnterprise:
		act.AccountID = c.Reporter.AccountID
	case cases.RoleGridWorker, cases.RoleHead:
		act.RegionPath = gridPath
	case cases.RoleGridChief:
		act.RegionPath = communityPath
	default:
		act.RegionPath = streetPath
	}
	if a == cases.ActRate {
		act.AccountID = c.Reporter.AccountID
	}
	if a == cases.ActAppealDecide {
		act.RegionPath = districtPath // the district approves appeals
	}
	return act
}

// coTurn is whether the co-unit, not the lead, is the unit whose turn it is:
// signing once the lead has signed, and every task action once the lead has
// fed back (the case waits for verification, the co-unit's task is open).
func coTurn(a cases.Action, st cases.State) bool {
	switch a {
	case cases.ActSign:
		return st == cases.Handling || st == cases.FedBack
	case cases.ActFeedback, cases.ActHandle, cases.ActReturn, cases.ActExtendRequest:
		return st == cases.FedBack
	}
	return false
}

// prepare puts in place what an action's guard waits for (a pending
// extension or park request) when the state allows asking for it.
func prepare(t *testing.T, c cases.Case, a cases.Action, now time.Time) cases.Case {
	t.Helper()
	var req cases.Command
	switch a {
	case cases.ActExtendApprove, cases.ActExtendDeny:
		req = validCommand(cases.ActExtendRequest, now)
		if c.State == cases.FedBack {
			// The lead's task is finished: the co-unit asks for more time.
			n, _, err := cases.Apply(c, req, coUnit, pol, now)
			if err != nil {
				t.Fatalf("co-unit extension request while waiting for verification: %v", err)
			}
			return n
		}
	case cases.ActParkApprove, cases.ActParkDeny:
		req = validCommand(cases.ActParkRequest, now)
	case cases.ActReturnVisit:
		c.Source = cases.SourceHotline // the return visit is the hotline's
		return c
	case cases.ActAppeal, cases.ActAppealReview, cases.ActAppealDecide:
		// The lead's clock ran out (the case is marked overdue); then the
		// lead appeals, the street center reviews.
		c.WasOverdue = true
		if a == cases.ActAppeal {
			return c
		}
		n, _, err := cases.Apply(c, validCommand(cases.ActAppeal, now), leadUnit, pol, now)
		if err != nil {
			return c // the state does not allow appeals: the action is refused anyway
		}
		if a == cases.ActAppealDecide {
			n = must(t, n, validCommand(cases.ActAppealReview, now), actorFor(cases.RoleCommander, cases.ActAppealReview, n.State, n), now)
		}
		return n
	case cases.ActFeedback, cases.ActHandle:
		// After the lead fed back, the co-unit signs before its own progress
		// notes and feedback.
		if c.State != cases.FedBack {
			return c
		}
		n, _, err := cases.Apply(c, cases.Command{Action: cases.ActSign}, unitActor(coID), pol, now)
		if err != nil {
			t.Fatalf("co-unit sign before feedback: %v", err)
		}
		return n
	case cases.ActVerify:
		// Every unit finishes its own task before a passing verification
		// (closing over an unfinished co-unit is the center's, with a note:
		// TestJointRefusals).
		if c.State != cases.FedBack {
			return c
		}
		n := must(t, c, cases.Command{Action: cases.ActSign}, coUnit, now)
		return must(t, n, cases.Command{Action: cases.ActFeedback, Note: "已配合处置"}, coUnit, now)
	default:
		return c
	}
	n, _, err := cases.Apply(c, req, leadUnit, pol, now)
	if err != nil {
		return c // the state does not allow the request: the action is refused anyway
	}
	return n
}

// unitInScope is whether the whistled standard case in this state has u-lead
// on it: summoned by the whistle right after acceptance, then dispatched.
func unitInScope(st cases.State) bool {
	switch st {
	case cases.Accepted, cases.Dispatched, cases.Handling, cases.FedBack, cases.Parked, cases.Closed:
		return true
	}
	return false
}

// expectedTo is where an allowed action leaves the standard case when the
// rule's To is "" (the effect decides).
func expectedTo(a cases.Action, st cases.State) cases.State {
	switch a {
	case cases.ActSign:
		if st == cases.FedBack {
			return cases.FedBack // the co-unit signs after the lead fed back
		}
		return cases.Handling // the lead signs in dispatched; the co-unit in handling
	case cases.ActFeedback:
		return cases.FedBack // the lead feeds back
	case cases.ActVerify:
		return cases.Closed // passed
	case cases.ActReturn:
		if st == cases.FedBack {
			return cases.FedBack // the co-unit steps out; the lead's feedback waits
		}
		return cases.Accepted // the lead returns
	}
	return st
}

// TestMatrix tries every action of the table in every state by every role,
// with valid inputs and an in-scope actor, on the standard case with the
// whistles and the meeting of whistled.
func TestMatrix(t *testing.T) {
	roles := append(slices.Clone(cases.Roles), cases.RoleSystem)
	built := map[cases.State]cases.Case{}
	last := map[cases.State]time.Time{}
	for _, st := range cases.States {
		built[st], last[st] = reachWhistled(t, st)
		if built[st].State != st {
			t.Fatalf("builder reached %s, want %s", built[st].State, st)
		}
	}
	allowedCount := 0
	for _, r := range cases.Table {
		for _, st := range cases.States {
			for _, role := range roles {
				name := fmt.Sprintf("%s/%s/%s", r.Action, st, role)
				t.Run(name, func(t *testing.T) {
					now := last[st].Add(5 * time.Minute)
					c := prepare(t, built[st], r.Action, now)
					now = now.Add(time.Minute)
					actor := actorFor(role, r.Action, st, c)
					cmd := roleCommand(r.Action, role, now)
					before := snapshot(t, c)

					inRoles := slices.Contains(r.Roles, role)
					inScope := role != cases.RoleUnit || unitInScope(st)
					inFrom := slices.Contains(r.From, st)
					var want apperr.Kind
					switch {
					case !inRoles:
						want = apperr.Refused
					case !inScope:
						want = apperr.Forbidden
					case !inFrom:
						want = apperr.Refused
					}

					n, step, err := cases.Apply(c, cmd, actor, pol, now)
					if after := snapshot(t, c); after != before {
						t.Fatalf("Apply changed its input:\nbefore %s\nafter  %s", before, after)
					}
					if inScope {
						if got := cases.Allowed(&c, r.Action, actor); got != (want == "") {
							t.Errorf("Allowed = %v, want %v", got, want == "")
						}
						if r.Action != cases.ActWarn {
							if got := slices.Contains(cases.Actions(&c, actor), r.Action); got != (want == "") {
								t.Errorf("Actions contains %s = %v, want %v", r.Action, got, want == "")
							}
						}
					}
					if want != "" {
						wantKind(t, err, want)
						if !reflect.DeepEqual(step, cases.Step{}) {
							t.Errorf("refused action returned a step: %+v", step)
						}
						if got := snapshot(t, n); got != before {
							t.Errorf("refused action returned a changed case")
						}
						return
					}
					if err != nil {
						t.Fatalf("refused: %v", err)
					}
					allowedCount++
					wantTo := r.To
					if wantTo == "" {
						wantTo = expectedTo(r.Action, st)
					}
					if n.State != wantTo {
						t.Errorf("state %s, want %s", n.State, wantTo)
					}
					// The store relies on it: closed_at IS NULL exactly for open states.
					if n.State.Open() != n.ClosedAt.IsZero() {
						t.Errorf("state %s with closed at %v", n.State, n.ClosedAt)
					}
					if n.Version != c.Version+1 || step.Seq != n.Version {
						t.Errorf("version %d, step seq %d; input version %d", n.Version, step.Seq, c.Version)
					}
					if step.Action != r.Action || step.From != st || step.To != n.State || step.CaseID != c.ID {
						t.Errorf("step %+v", step)
					}
					if !n.UpdatedAt.Equal(now) || !step.At.Equal(now) || step.Role != role {
						t.Errorf("updated %v, step at %v role %s", n.UpdatedAt, step.At, step.Role)
					}
				})
			}
		}
	}
	// Every action must be possible somewhere, or the matrix proves little.
	if allowedCount < len(cases.Table) {
		t.Errorf("only %d allowed combinations", allowedCount)
	}
}

// TestTableIsWellFormed checks the table against the types it uses.
func TestTableIsWellFormed(t *testing.T) {
	seen := map[cases.Action]bool{}
	for _, r := range cases.Table {
		if seen[r.Action] {
			t.Errorf("%s listed twice", r.Action)
		}
		seen[r.Action] = true
		if r.Label == "" || r.Action.Label() != r.Label {
			t.Errorf("%s: label %q / %q", r.Action, r.Label, r.Action.Label())
		}
		if got, ok := cases.RuleOf(r.Action); !ok || got.Action != r.Action {
			t.Errorf("RuleOf(%s) = %v, %v", r.Action, got, ok)
		}
		if len(r.From) == 0 || len(r.Roles) == 0 {
			t.Errorf("%s: no states or no roles", r.Action)
		}
		for _, s := range r.From {
			afterClose := r.Action == cases.ActRate || r.Action == cases.ActReopen || r.Action == cases.ActLeave || r.Action == cases.ActRateParty ||
				r.Action == cases.ActAppeal || r.Action == cases.ActAppealReview || r.Action == cases.ActAppealDecide ||
				r.Action == cases.ActComment || r.Action == cases.ActReturnVisit
			if !s.Valid() || !s.Open() && !afterClose {
				t.Errorf("%s: from %q", r.Action, s)
			}
		}
		if r.To != "" && !r.To.Valid() {
			t.Errorf("%s: to %q", r.Action, r.To)
		}
		for _, role := range r.Roles {
			if !role.Valid() && role != cases.RoleSystem {
				t.Errorf("%s: role %q", r.Action, role)
			}
		}
	}
	if _, ok := cases.RuleOf(cases.ActReport); ok {
		t.Error("report is not a machine action")
	}
	if cases.ActReport.Label() != "上报" || cases.ActSolvedOnSpot.Label() != "就地解决" {
		t.Error("labels of report actions")
	}
	_, _, err := cases.Apply(newCase(t, sla.Normal), cases.Command{Action: "fly"}, commander, pol, at(9, 9, 1))
	wantField(t, err, "action")
	_, _, err = cases.Apply(newCase(t, sla.Normal), cases.Command{Action: cases.ActReport}, commander, pol, at(9, 9, 1))
	wantField(t, err, "action")
}

// TestStateAndRoleLabels checks the helpers on the enums.
func TestStateAndRoleLabels(t *testing.T) {
	for _, s := range cases.States {
		if !s.Valid() || s.Label() == string(s) {
			t.Errorf("state %s: valid %v label %q", s, s.Valid(), s.Label())
		}
		open := s != cases.Closed && s != cases.Rejected && s != cases.Merged
		if s.Open() != open {
			t.Errorf("%s.Open() = %v", s, s.Open())
		}
	}
	if cases.State("").Open() || cases.State("x").Valid() {
		t.Error("empty or unknown state")
	}
	for _, r := range append(slices.Clone(cases.Roles), cases.RoleSystem) {
		if r.Label() == string(r) {
			t.Errorf("role %s has no label", r)
		}
	}
	if cases.RoleSystem.Valid() {
		t.Error("system is not a role a person can hold")
	}
	for _, s := range cases.Sources {
		if !s.Valid() || s.Label() == string(s) {
			t.Errorf("source %s", s)
		}
	}
	for _, r := range []cases.Rating{cases.Satisfied, cases.BasicSatisfied, cases.Unsatisfied} {
		if !r.Valid() || r.Label() == string(r) {
			t.Errorf("rating %s", r)
		}
	}
	if cases.Rating("great").Valid() || cases.Rating("").Valid() {
		t.Error("unknown rating valid")
	}
}
