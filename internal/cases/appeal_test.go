package cases_test

import (
	"slices"
	"testing"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
)

const appealReason = "暴雨导致材料无法进场，施工推迟两天"

var (
	districtLeader = cases.Actor{AccountID: "acct-dld", Name: "区领导", Role: cases.RoleLeader, RegionPath: districtPath}
	otherDistrict  = cases.Actor{AccountID: "acct-odc", Name: "外区指挥长", Role: cases.RoleCommander, RegionPath: "/500000/500104/"}
)

// lateCase is the standard case with an overdue lead: dispatched Monday 9
// March 09:10, the lead signs on Thursday 12 March (its sign clock ran out),
// feeds back and the center verifies at once, saying why it closes over the
// co-unit, which never signed (its task is unfinished, stopped late). Closed
// 12 March 10:30.
func lateCase(t *testing.T) (cases.Case, time.Time) {
	t.Helper()
	c, _ := reach(t, cases.Dispatched)
	c = must(t, c, cases.Command{Action: cases.ActSign}, leadUnit, at(12, 9, 0))
	c = must(t, c, cases.Command{Action: cases.ActFeedback, Note: "已修复路面"}, leadUnit, at(12, 10, 0))
	c = must(t, c, cases.Command{Action: cases.ActVerify, Passed: ptr(true), Note: "协办单位未签收，主办已整改到位"}, commander, at(12, 10, 30))
	if c.State != cases.Closed || !task(t, c, leadID).Sign.WasOverdue {
		t.Fatalf("lateCase: state %s, lead sign overdue %v", c.State, task(t, c, leadID).Sign.WasOverdue)
	}
	return c, at(12, 10, 30)
}

func TestAppealJourney(t *testing.T) {
	c, now := lateCase(t)
	if c.Exempted() {
		t.Fatal("a case with no appeal is exempted")
	}
	if !cases.Allowed(&c, cases.ActAppeal, leadUnit) || cases.Allowed(&c, cases.ActAppealReview, commander) {
		t.Fatalf("actions: lead %v, commander %v", cases.Actions(&c, leadUnit), cases.Actions(&c, commander))
	}
	before := snapshot(t, c)
	n, step, err := cases.Apply(c, cases.Command{Action: cases.ActAppeal, Note: "  " + appealReason + " "}, leadUnit, pol, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if snapshot(t, c) != before {
		t.Fatal("Apply changed its input")
	}
	if len(n.Appeals) != 1 || n.Appeals[0].State != cases.AppealPendingReview || n.Appeals[0].Reason != appealReason || n.Appeals[0].UnitID != leadID {
		t.Fatalf("appeal: %+v", n.Appeals)
	}
	if step.Action != cases.ActAppeal || step.From != cases.Closed || step.To != cases.Closed || step.Seq != c.Version+1 {
		t.Fatalf("step: %+v", step)
	}
	if n.State != c.State || n.ClosedAt != c.ClosedAt || !slices.Equal(taskClocks(n), taskClocks(c)) {
		t.Fatal("an appeal changed the state or the clocks")
	}
	// Review by the street center: forwarded to the district.
	if !cases.Allowed(&n, cases.ActAppealReview, commander) || cases.Allowed(&n, cases.ActAppealDecide, districtCm) {
		t.Fatalf("after appeal: commander %v, district %v", cases.Actions(&n, commander), cases.Actions(&n, districtCm))
	}
	n = must(t, n, cases.Command{Action: cases.ActAppealReview, Passed: ptr(true)}, commander, now.Add(2*time.Hour))
	if a := n.Appeals[0]; a.State != cases.AppealPendingApproval || a.ReviewedBy != commander.AccountID || a.ReviewedAt.IsZero() {
		t.Fatalf("reviewed: %+v", a)
	}
	if n.Exempted() {
		t.Fatal("exempted before the district approved")
	}
	// Approval by the district leader.
	n = must(t, n, cases.Command{Action: cases.ActAppealDecide, Passed: ptr(true), Note: "同意"}, districtLeader, now.Add(3*time.Hour))
	if a := n.Appeals[0]; a.State != cases.AppealApproved || a.DecidedBy != districtLeader.AccountID || a.DecideNote != "同意" {
		t.Fatalf("decided: %+v", a)
	}
	if !n.Exempted() || n.ExemptReason() != appealReason {
		t.Fatalf("Exempted %v, reason %q", n.Exempted(), n.ExemptReason())
	}
	if _, ok := n.ExemptedUnit(leadID); !ok {
		t.Fatal("the lead's task is not exempted")
	}
	if _, ok := n.ExemptedUnit(coID); ok {
		t.Fatal("the co-unit's task is exempted without its own appeal")
	}
	if n.State != cases.Closed || n.Version != c.Version+3 {
		t.Fatalf("state %s version %d", n.State, n.Version)
	}
	// Exempted: the lead may not appeal again; the co-unit still may.
	refused(t, n, cases.Command{Action: cases.ActAppeal, Note: appealReason}, leadUnit, now.Add(4*time.Hour), apperr.Refused)
	must(t, n, cases.Command{Action: cases.ActAppeal, Note: appealReason}, coUnit, now.Add(4*time.Hour))
}

func taskClocks(c cases.Case) []string {
	var out []string
	for _, t := range c.Tasks {
		out = append(out, t.Sign.Due.String()+t.Sign.Stopped.String()+t.Handle.Due.String()+t.Handle.Stopped.String())
	}
	return out
}

func TestAppealRefusals(t *testing.T) {
	closed, now := lateCase(t)
	later := now.Add(time.Hour)
	asked := must(t, closed, cases.Command{Action: cases.ActAppeal, Note: appealReason}, leadUnit, later)
	reviewed := must(t, asked, cases.Command{Action: cases.ActAppealReview, Passed: ptr(true)}, commander, later.Add(time.Minute))
	onTime, last := reach(t, cases.Closed) // nothing ran out
	open, _ := reach(t, cases.Handling)
	rejected, _ := reach(t, cases.Rejected)
	// A case escalated to the district is reviewed by the district center.
	escalated := must(t, asked, cases.Command{Action: cases.ActAppealReview, Passed: ptr(true)}, commander, later.Add(time.Minute))
	escalated.CenterPath = districtPath

	tests := []struct {
		name  string
		c     cases.Case
		cmd   cases.Command
		actor cases.Actor
		at    time.Time
		kind  apperr.Kind
		field string
	}{
		// appeal
		{"appeal/no reason", closed, cases.Command{Action: cases.ActAppeal}, leadUnit, later, apperr.Invalid, "note"},
		{"appeal/short reason", closed, cases.Command{Action: cases.ActAppeal, Note: "下雨了"}, leadUnit, later, apperr.Invalid, "note"},
		{"appeal/control char", closed, cases.Command{Action: cases.ActAppeal, Note: appealReason + "\x00"}, leadUnit, later, apperr.Invalid, "note"},
		{"appeal/never overdue", onTime, cases.Command{Action: cases.ActAppeal, Note: appealReason}, leadUnit, last, apperr.Refused, ""},
		{"appeal/not overdue yet", open, cases.Command{Action: cases.ActAppeal, Note: appealReason}, leadUnit, at(9, 9, 30), apperr.Refused, ""},
		{"appeal/unit not on case", closed, cases.Command{Action: cases.ActAppeal, Note: appealReason}, otherUnit, later, apperr.Forbidden, ""},
		{"appeal/commander", closed, cases.Command{Action: cases.ActAppeal, Note: appealReason}, commander, later, apperr.Refused, ""},
		{"appeal/grid worker", closed, cases.Command{Action: cases.ActAppeal, Note: appealReason}, gridWorker, later, apperr.Refused, ""},
		{"appeal/second pending", asked, cases.Command{Action: cases.ActAppeal, Note: appealReason}, leadUnit, later, apperr.Refused, ""},
		{"appeal/second awaiting approval", reviewed, cases.Command{Action: cases.ActAppeal, Note: appealReason}, leadUnit, later, apperr.Refused, ""},
		{"appeal/too late", closed, cases.Command{Action: cases.ActAppeal, Note: appealReason}, leadUnit, now.AddDate(0, 0, cases.AppealDays).Add(time.Minute), apperr.Refused, ""},
		{"appeal/rejected case", rejected, cases.Command{Action: cases.ActAppeal, Note: appealReason}, leadUnit, later, apperr.Forbidden, ""},
		// review
		{"review/nothing pending", closed, cases.Command{Action: cases.ActAppealReview, Passed: ptr(true)}, commander, later, apperr.Refused, ""},
		{"review/no verdict", asked, cases.Command{Action: cases.ActAppealReview}, commander, later, apperr.Invalid, "passed"},
		{"review/refusal without note", asked, cases.Command{Action: cases.ActAppealReview, Passed: ptr(false)}, commander, later, apperr.Invalid, "note"},
		{"review/unknown unit", asked, cases.Command{Action: cases.ActAppealReview, Passed: ptr(true), AppealUnit: coID}, commander, later, apperr.Invalid, "appeal_unit"},
		{"review/district is not the center", asked, cases.Command{Action: cases.ActAppealReview, Passed: ptr(true)}, districtCm, later, apperr.Refused, ""},
		{"review/sibling street", asked, cases.Command{Action: cases.ActAppealReview, Passed: ptr(true)}, siblingCm, later, apperr.Forbidden, ""},
		{"review/leader", asked, cases.Command{Action: cases.ActAppealReview, Passed: ptr(true)}, districtLeader, later, apperr.Refused, ""},
		{"review/unit", asked, cases.Command{Action: cases.ActAppealReview, Passed: ptr(true)}, leadUnit, later, apperr.Refused, ""},
		{"review/already reviewed", reviewed, cases.Command{Action: cases.ActAppealReview, Passed: ptr(true)}, commander, later, apperr.Refused, ""},
		{"review/street after escalation", escalated, cases.Command{Action: cases.ActAppealReview, Passed: ptr(true)}, commander, later, apperr.Refused, ""},
		// decide
		{"decide/not reviewed", asked, cases.Command{Action: cases.ActAppealDecide, Passed: ptr(true)}, districtCm, later, apperr.Refused, ""},
		{"decide/street commander", reviewed, cases.Command{Action: cases.ActAppealDecide, Passed: ptr(true)}, commander, later, apperr.Refused, ""},
		{"decide/street leader", reviewed, cases.Command{Action: cases.ActAppealDecide, Passed: ptr(true)}, leader, later, apperr.Refused, ""},
		{"decide/other district", reviewed, cases.Command{Action: cases.ActAppealDecide, Passed: ptr(true)}, otherDistrict, later, apperr.Forbidden, ""},
		{"decide/no verdict", reviewed, cases.Command{Action: cases.ActAppealDecide}, districtCm, later, apperr.Invalid, "passed"},
		{"decide/refusal without note", reviewed, cases.Command{Action: cases.ActAppealDecide, Passed: ptr(false), Note: "  "}, districtCm, later, apperr.Invalid, "note"},
		{"decide/unit", reviewed, cases.Command{Action: cases.ActAppealDecide, Passed: ptr(true)}, leadUnit, later, apperr.Refused, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := refused(t, tc.c, tc.cmd, tc.actor, tc.at, tc.kind)
			if tc.field != "" {
				wantField(t, err, tc.field)
			}
			if tc.kind != apperr.Invalid && cases.Allowed(&tc.c, tc.cmd.Action, tc.actor) && tc.name != "appeal/too late" && tc.name != "review/unknown unit" {
				t.Errorf("Allowed offers %s", tc.cmd.Action)
			}
		})
	}
}

func TestAppealRefusedAndAskedAgain(t *testing.T) {
	c, now := lateCase(t)
	c = must(t, c, cases.Command{Action: cases.ActAppeal, Note: appealReason}, leadUnit, now.Add(time.Hour))
	c = must(t, c, cases.Command{Action: cases.ActAppealReview, Passed: ptr(false), Note: "理由不充分，请补充材料"}, commander, now.Add(2*time.Hour))
	if a := c.Appeals[0]; a.State != cases.AppealRefused || a.ReviewNote != "理由不充分，请补充材料" || c.Exempted() {
		t.Fatalf("refused at review: %+v", a)
	}
	// Refused: the unit may ask again, with better reasons.
	c = must(t, c, cases.Command{Action: cases.ActAppeal, Note: appealReason + "，附气象部门证明"}, leadUnit, now.Add(3*time.Hour))
	c = must(t, c, cases.Command{Action: cases.ActAppeal, Note: appealReason}, coUnit, now.Add(3*time.Hour))
	// Two appeals wait for review: the commander must say whose.
	err := refused(t, c, cases.Command{Action: cases.ActAppealReview, Passed: ptr(true)}, commander, now.Add(4*time.Hour), apperr.Invalid)
	wantField(t, err, "appeal_unit")
	c = must(t, c, cases.Command{Action: cases.ActAppealReview, Passed: ptr(true), AppealUnit: coID}, commander, now.Add(4*time.Hour))
	c = must(t, c, cases.Command{Action: cases.ActAppealDecide, Passed: ptr(false), Note: "协办单位超期属实"}, districtCm, now.Add(5*time.Hour))
	if got := []cases.AppealState{c.Appeals[0].State, c.Appeals[1].State, c.Appeals[2].State}; !slices.Equal(got, []cases.AppealState{cases.AppealRefused, cases.AppealPendingReview, cases.AppealRefused}) {
		t.Fatalf("states %v", got)
	}
	if c.Exempted() {
		t.Fatal("exempted by a refused appeal")
	}
}

func TestAppealOpenCase(t *testing.T) {
	// An open case whose lead ran overdue (the sweeper's red warning marks
	// the case): the lead may appeal before it finishes.
	c, _ := reach(t, cases.Dispatched)
	c = must(t, c, cases.Command{Action: cases.ActWarn, Clock: "task:u-lead:sign", Level: "red"}, cases.System, at(11, 9, 0))
	if !c.WasOverdue {
		t.Fatal("the red warning did not mark the case overdue")
	}
	if !cases.Allowed(&c, cases.ActAppeal, leadUnit) {
		t.Fatalf("lead actions %v", cases.Actions(&c, leadUnit))
	}
	n := must(t, c, cases.Command{Action: cases.ActAppeal, Note: appealReason}, leadUnit, at(11, 9, 5))
	if n.State != cases.Dispatched || !slices.Equal(taskClocks(n), taskClocks(c)) {
		t.Fatal("the appeal changed the state or clocks")
	}
	if cases.Allowed(&c, cases.ActAppeal, coUnit) {
		t.Fatal("a co-unit whose clocks did not run out may appeal")
	}
}
