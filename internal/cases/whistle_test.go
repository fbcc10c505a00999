package cases_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/geo"
	"zhizhi/internal/sla"
)

// Actors of the whistle tests: a head of the case's grid, one of another
// street (in scope only as a summoned party), and the grid chief.
var (
	headH1   = cases.Actor{AccountID: "acct-h1", Name: "街长赵某", Role: cases.RoleHead, RegionPath: gridPath}
	farHead  = cases.Actor{AccountID: "acct-h2", Name: "楼长钱某", Role: cases.RoleHead, RegionPath: siblingStreet}
	chief    = cases.Actor{AccountID: "acct-gc", Name: "网格长", Role: cases.RoleGridChief, RegionPath: communityPath}
	entActor = cases.Actor{AccountID: "acct-ent", Name: "某科技公司", Role: cases.RoleEnterprise}
)

func streetWhistle(units ...string) cases.Command {
	cmd := cases.Command{Action: cases.ActWhistle, Note: "危化品隐患，需多部门现场处置"}
	for _, u := range units {
		cmd.Parties = append(cmd.Parties, cases.PartyRef{UnitID: u, Name: "单位" + u})
	}
	return cmd
}

func gridWhistle(accounts ...string) cases.Command {
	cmd := cases.Command{Action: cases.ActWhistle, Note: "楼道堆物，请三长到场"}
	for _, a := range accounts {
		cmd.Parties = append(cmd.Parties, cases.PartyRef{AccountID: a, Name: "三长" + a, Title: "街长"})
	}
	return cmd
}

// party returns a party of a whistle, failing when absent.
func party(t *testing.T, c cases.Case, wid, key string) cases.Party {
	t.Helper()
	i := c.Whistle(wid)
	if i < 0 {
		t.Fatalf("no whistle %s", wid)
	}
	j := c.Whistles[i].Party(key)
	if j < 0 {
		t.Fatalf("no party %s in %s", key, wid)
	}
	return c.Whistles[i].Parties[j]
}

// TestWhistleKinds: who may whistle what, and whom.
func TestWhistleKinds(t *testing.T) {
	c, last := reach(t, cases.Handling)
	now := last.Add(time.Minute)

	n, step, err := cases.Apply(c, streetWhistle(leadID, otherID), commander, pol, now)
	if err != nil {
		t.Fatal(err)
	}
	w := n.Whistles[0]
	if w.ID != "w1" || w.Kind != cases.WhistleStreet || w.InitiatorID != commander.AccountID || w.Reason == "" || len(w.Parties) != 2 {
		t.Fatalf("whistle %+v", w)
	}
	if w.Parties[1].Key != "unit:"+otherID || w.Parties[1].Name != "单位"+otherID || n.State != cases.Handling {
		t.Fatalf("party %+v state %s", w.Parties[1], n.State)
	}
	if step.Data["whistle_id"] != "w1" || step.Data["kind"] != "street" || step.Data["limit"] != "30分钟" {
		t.Fatalf("step data %v", step.Data)
	}
	// The second whistle of a case is w2.
	if n2 := must(t, n, gridWhistle(headH1.AccountID), gridWorker, now); n2.Whistles[1].ID != "w2" || n2.Whistles[1].Kind != cases.WhistleGrid {
		t.Fatalf("second whistle %+v", n2.Whistles[1])
	}
	if n2 := must(t, n, gridWhistle(headH1.AccountID), chief, now); n2.Whistles[1].Kind != cases.WhistleGrid {
		t.Fatal("grid chief's whistle")
	}

	for _, tc := range []struct {
		name   string
		c      cases.Case
		cmd    cases.Command
		actor  cases.Actor
		fields []string
	}{
		{"commander summons a person", c, gridWhistle("acct-h1"), commander, []string{"parties[0]"}},
		{"commander blows a grid whistle", c, func() cases.Command { x := gridWhistle("acct-h1"); x.Kind = cases.WhistleGrid; return x }(), commander, []string{"kind"}},
		{"commander relays an enterprise whistle on a patrol case", c, func() cases.Command { x := streetWhistle(leadID); x.Kind = cases.WhistleEnterprise; return x }(), commander, []string{"kind"}},
		{"grid worker summons a unit", c, streetWhistle(leadID), gridWorker, []string{"parties[0]"}},
		{"grid worker blows a street whistle", c, func() cases.Command { x := gridWhistle("acct-h1"); x.Kind = cases.WhistleStreet; return x }(), gridWorker, []string{"kind", "parties[0]"}},
		{"unknown kind", c, func() cases.Command { x := streetWhistle(leadID); x.Kind = "city"; return x }(), commander, []string{"kind"}},
		{"no parties", c, cases.Command{Action: cases.ActWhistle, Note: "x"}, commander, []string{"parties"}},
		{"no reason", c, cases.Command{Action: cases.ActWhistle, Parties: []cases.PartyRef{{UnitID: leadID}}}, commander, []string{"note"}},
		{"duplicate party", c, streetWhistle(leadID, leadID), commander, []string{"parties[1]"}},
		{"unit and person at once", c, cases.Command{Action: cases.ActWhistle, Note: "x", Parties: []cases.PartyRef{{UnitID: leadID, AccountID: "a"}}}, commander, []string{"parties[0]"}},
		{"empty party", c, cases.Command{Action: cases.ActWhistle, Note: "x", Parties: []cases.PartyRef{{}}}, commander, []string{"parties[0]"}},
		{"bad limit", c, func() cases.Command {
			x := streetWhistle(leadID)
			x.ReportInLimit = sla.Limit{Amount: 0, Unit: sla.Minutes}
			return x
		}(), commander, nil},
		{"bad limit unit", c, func() cases.Command {
			x := streetWhistle(leadID)
			x.ReportInLimit = sla.Limit{Amount: 5, Unit: "hours"}
			return x
		}(), commander, []string{"report_in_limit"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := refused(t, tc.c, tc.cmd, tc.actor, now, apperr.Invalid)
			wantField(t, err, tc.fields...)
		})
	}
	many := cases.Command{Action: cases.ActWhistle, Note: "x"}
	for i := 0; i <= cases.MaxParties; i++ {
		many.Parties = append(many.Parties, cases.PartyRef{UnitID: "u" + strings.Repeat("x", i+1)})
	}
	wantField(t, refused(t, c, many, commander, now, apperr.Invalid), "parties")

	// An enterprise whistles units on its own case only; the commander may
	// relay it on an enterprise case.
	ent := c
	ent.Source, ent.Reporter = cases.SourceEnterprise, cases.Reporter{AccountID: entActor.AccountID}
	e := must(t, ent, streetWhistle(leadID), entActor, now)
	if e.Whistles[0].Kind != cases.WhistleEnterprise || e.Whistles[0].InitiatorRole != cases.RoleEnterprise {
		t.Fatalf("enterprise whistle %+v", e.Whistles[0])
	}
	refused(t, c, streetWhistle(leadID), entActor, now, apperr.Forbidden)
	relay := streetWhistle(leadID)
	relay.Kind = cases.WhistleEnterprise
	if r := must(t, ent, relay, commander, now); r.Whistles[0].Kind != cases.WhistleEnterprise {
		t.Fatal("relayed enterprise whistle")
	}
	wantField(t, refused(t, ent, gridWhistle("acct-h1"), entActor, now, apperr.Invalid), "parties[0]")

	// Not before acceptance, not after the end, not by units, heads or leaders.
	rep, _ := reach(t, cases.Reported)
	refused(t, rep, streetWhistle(leadID), commander, at(9, 9, 1), apperr.Refused)
	closed, lastClosed := reach(t, cases.Closed)
	refused(t, closed, streetWhistle(leadID), commander, lastClosed.Add(time.Minute), apperr.Refused)
	parked, lastParked := reach(t, cases.Parked)
	refused(t, parked, streetWhistle(leadID), commander, lastParked.Add(time.Minute), apperr.Refused)
	for _, a := range []cases.Actor{leadUnit, headH1, leader} {
		refused(t, c, streetWhistle(otherID), a, now, apperr.Refused)
	}
	// A street commander cannot whistle on a case its district took over.
	esc := must(t, c, cases.Command{Action: cases.ActEscalate, Note: "街道无法协调", Parent: districtPath}, commander, now)
	refused(t, esc, streetWhistle(otherID), commander, now, apperr.Refused)
	must(t, esc, streetWhistle(otherID), districtCm, now)
}

// TestWhistleLimit: the report-in limit comes from the command, then the
// policy's per-kind limits, then the category's table (30 minutes).
func TestWhistleLimit(t *testing.T) {
	c, _ := reach(t, cases.Accepted)
	now := at(9, 9, 30)
	n := must(t, c, streetWhistle(leadID), commander, now)
	ck := n.Whistles[0].Parties[0].ReportIn
	if !ck.Due.Equal(at(9, 10, 0)) || !ck.YellowAt.Equal(at(9, 9, 54)) || n.Whistles[0].Limit != (sla.Limit{Amount: 30, Unit: sla.Minutes}) {
		t.Fatalf("default report-in clock %+v", ck)
	}
	cmd := streetWhistle(leadID)
	cmd.ReportInLimit = sla.Limit{Amount: 15, Unit: sla.Minutes}
	if n := must(t, c, cmd, commander, now); !n.Whistles[0].Parties[0].ReportIn.Due.Equal(at(9, 9, 45)) {
		t.Fatalf("command limit: due %v", n.Whistles[0].Parties[0].ReportIn.Due)
	}
	perKind := pol
	perKind.ReportInLimits = map[cases.WhistleKind]sla.Limit{cases.WhistleGrid: {Amount: 1, Unit: sla.WorkHours}}
	g, _, err := cases.Apply(c, gridWhistle(headH1.AccountID), gridWorker, perKind, now)
	if err != nil {
		t.Fatal(err)
	}
	if due := g.Whistles[0].Parties[0].ReportIn.Due; !due.Equal(at(9, 10, 30)) {
		t.Fatalf("grid limit from the policy: due %v", due)
	}
	s, _, err := cases.Apply(c, streetWhistle(leadID), commander, perKind, now)
	if err != nil || !s.Whistles[0].Parties[0].ReportIn.Due.Equal(at(9, 10, 0)) {
		t.Fatalf("street limit falls back to the table: %v %v", err, s.Whistles)
	}
}

// TestReportIn: on time and on site, late, off site, twice, by strangers.
func TestReportIn(t *testing.T) {
	c, _ := reach(t, cases.Handling)
	start := at(9, 9, 30)
	c = must(t, c, streetWhistle(leadID, otherID), commander, start)
	c = must(t, c, gridWhistle(headH1.AccountID, farHead.AccountID), gridWorker, start)
	if got := clockKeys(c); !slices.Contains(got, "whistle:w1:unit:u-other:report_in") || !slices.Contains(got, "whistle:w2:person:acct-h2:report_in") {
		t.Fatalf("running %v", got)
	}
	if s := party(t, c, "w1", "unit:"+leadID).Status(start); s != cases.PartyWaiting || s.Label() != "待报到" {
		t.Fatalf("status %s", s)
	}

	// The lead unit reports in 100 m from the case: on time and on site.
	near := geo.Point{Lng: c.Point.Lng, Lat: c.Point.Lat + 0.0009}
	n, step, err := cases.Apply(c, cases.Command{Action: cases.ActReportIn, Point: &near}, leadUnit, pol, at(9, 9, 50))
	if err != nil {
		t.Fatal(err)
	}
	p := party(t, n, "w1", "unit:"+leadID)
	if !p.ReportedAt.Equal(at(9, 9, 50)) || p.Late || !p.OnSite || p.Distance < 90 || p.Distance > 110 || p.ReportedBy != leadUnit.AccountID {
		t.Fatalf("party %+v", p)
	}
	if p.ReportIn.Stopped.IsZero() || p.ReportIn.WasOverdue || p.Status(at(9, 11, 0)) != cases.PartyIn {
		t.Fatalf("clock %+v", p.ReportIn)
	}
	if step.Data["party_key"] != "unit:"+leadID || step.Data["on_site"] != true || step.Data["late"] != false || n.State != cases.Handling {
		t.Fatalf("step %v", step.Data)
	}
	if slices.Contains(clockKeys(n), "whistle:w1:unit:u-lead:report_in") {
		t.Fatal("a reported party's clock still runs")
	}
	// Twice is refused; so is a unit or a head not summoned.
	refused(t, n, cases.Command{Action: cases.ActReportIn}, leadUnit, at(9, 9, 51), apperr.Refused)
	refused(t, n, cases.Command{Action: cases.ActReportIn}, coUnit, at(9, 9, 51), apperr.Refused)
	stranger := cases.Actor{AccountID: "acct-h9", Name: "巷长", Role: cases.RoleHead, RegionPath: gridPath}
	refused(t, n, cases.Command{Action: cases.ActReportIn}, stranger, at(9, 9, 51), apperr.Refused)
	if cases.Allowed(&n, cases.ActReportIn, leadUnit) || !cases.Allowed(&n, cases.ActReportIn, otherUnit) {
		t.Fatal("Allowed(report_in)")
	}

	// The other unit comes 1 km away, after the 30 minutes: late, off site.
	far := geo.Point{Lng: c.Point.Lng, Lat: c.Point.Lat + 0.009}
	n = must(t, n, cases.Command{Action: cases.ActReportIn, WhistleID: "w1", Point: &far}, otherUnit, at(9, 10, 5))
	p = party(t, n, "w1", "unit:"+otherID)
	if !p.Late || p.OnSite || p.Distance < 900 || !p.ReportIn.WasOverdue || p.Status(at(9, 11, 0)) != cases.PartyLateIn {
		t.Fatalf("late party %+v", p)
	}
	// A late party counts against the party, not the case's own clocks.
	if n.WasOverdue {
		t.Fatal("a late party made the case overdue")
	}

	// Heads report in as themselves, wherever their own scope is; exactly at
	// the due is on time.
	n = must(t, n, cases.Command{Action: cases.ActReportIn}, headH1, at(9, 10, 0))
	if p := party(t, n, "w2", "person:acct-h1"); p.Late || p.Point != nil || p.OnSite {
		t.Fatalf("head %+v", p)
	}
	if !cases.CanSee(farHead, &n) {
		t.Fatal("a summoned head of another street cannot see the case")
	}
	n = must(t, n, cases.Command{Action: cases.ActReportIn, WhistleID: "w2"}, farHead, at(9, 10, 1))
	if !party(t, n, "w2", "person:acct-h2").Late {
		t.Fatal("late head")
	}

	// Bad inputs.
	wantField(t, refused(t, c, cases.Command{Action: cases.ActReportIn, WhistleID: "w9"}, leadUnit, start, apperr.Invalid), "whistle_id")
	wantField(t, refused(t, c, cases.Command{Action: cases.ActReportIn, Point: &geo.Point{Lng: 500}}, leadUnit, start, apperr.Invalid), "point")
	refused(t, c, cases.Command{Action: cases.ActReportIn, WhistleID: "w2"}, leadUnit, start, apperr.Refused)
}

// TestReportInRedCard: when a party's report-in clock runs out, the
// sweeper's red warning marks it late and counts an urge; the fact stays.
func TestReportInRedCard(t *testing.T) {
	c, _ := reach(t, cases.Dispatched)
	c = must(t, c, streetWhistle(leadID, otherID), commander, at(9, 9, 15))
	key := "whistle:w1:unit:u-other:report_in"
	yellow := must(t, c, cases.Command{Action: cases.ActWarn, Clock: key, Level: "yellow"}, cases.System, at(9, 9, 39))
	if p := party(t, yellow, "w1", "unit:"+otherID); p.Late || p.Urges != 0 {
		t.Fatalf("yellow %+v", p)
	}
	n, step, err := cases.Apply(c, cases.Command{Action: cases.ActWarn, Clock: key, Level: "red"}, cases.System, pol, at(9, 9, 46))
	if err != nil {
		t.Fatal(err)
	}
	p := party(t, n, "w1", "unit:"+otherID)
	if !p.Late || p.Urges != 1 || p.Status(at(9, 9, 46)) != cases.PartyRed || p.Status(at(9, 9, 46)).Label() != "超时未报到" {
		t.Fatalf("red %+v", p)
	}
	if step.Data["party_key"] != "unit:"+otherID || step.Data["urges"] != 1 || !strings.Contains(step.Note, "仍未报到") {
		t.Fatalf("step %+v", step)
	}
	if n.WasOverdue {
		t.Fatal("a red party made the case overdue")
	}
	// It comes late; the red card stays on the record.
	n = must(t, n, cases.Command{Action: cases.ActReportIn}, otherUnit, at(9, 9, 50))
	if p := party(t, n, "w1", "unit:"+otherID); !p.Late || p.Urges != 1 || !p.Reported() {
		t.Fatalf("after reporting in %+v", p)
	}
	// A warning on a clock that no longer runs, or is unknown, is refused
	// (the sweeper drops it).
	refused(t, n, cases.Command{Action: cases.ActWarn, Clock: key, Level: "red"}, cases.System, at(9, 9, 51), apperr.Refused)
	refused(t, n, cases.Command{Action: cases.ActWarn, Clock: "whistle:w7:unit:x:report_in", Level: "red"}, cases.System, at(9, 9, 51), apperr.Refused)
	refused(t, n, cases.Command{Action: cases.ActWarn, Clock: "meeting:m1:d1", Level: "red"}, cases.System, at(9, 9, 51), apperr.Refused)
	// A yellow that a late sweep finds already past the due is dropped.
	refused(t, c, cases.Command{Action: cases.ActWarn, Clock: key, Level: "yellow"}, cases.System, at(9, 9, 46), apperr.Refused)
	if !cases.CaseClock("case:accept") || !cases.CaseClock("task:u:sign") || cases.CaseClock(key) || cases.CaseClock("meeting:m1:d1") {
		t.Fatal("CaseClock")
	}
}

// TestLeave: a summoned party cannot leave an open case (事不完、人不撤);
// after the close, leaving is recorded once.
func TestLeave(t *testing.T) {
	for _, st := range []cases.State{cases.Accepted, cases.Dispatched, cases.Handling, cases.FedBack, cases.Parked} {
		c, last := reachWhistled(t, st)
		for _, a := range []cases.Actor{leadUnit, {AccountID: "acct-head", Name: "街长", Role: cases.RoleHead, RegionPath: gridPath}} {
			err := refused(t, c, cases.Command{Action: cases.ActLeave}, a, last.Add(time.Minute), apperr.Refused)
			if !strings.Contains(err.Error(), "事不完、人不撤：案件办结前不能退出") {
				t.Fatalf("%s: %v", st, err)
			}
			// Reporting in does not change that.
			if st != cases.Accepted {
				continue
			}
			in := must(t, c, cases.Command{Action: cases.ActReportIn}, a, last.Add(time.Minute))
			refused(t, in, cases.Command{Action: cases.ActLeave}, a, last.Add(2*time.Minute), apperr.Refused)
		}
	}
	c, last := reachWhistled(t, cases.Closed)
	n, step, err := cases.Apply(c, cases.Command{Action: cases.ActLeave}, coUnit, pol, last.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// u-co was summoned by w1 and w4: it leaves both.
	if !party(t, n, "w1", "unit:"+coID).LeftAt.Equal(last.Add(time.Hour)) || party(t, n, "w4", "unit:"+coID).LeftAt.IsZero() || n.State != cases.Closed {
		t.Fatalf("left %+v", n.Whistles)
	}
	if got, _ := step.Data["parties"].([]string); !slices.Equal(got, []string{"w1/unit:u-co", "w4/unit:u-co"}) {
		t.Fatalf("step %v", step.Data)
	}
	refused(t, n, cases.Command{Action: cases.ActLeave}, coUnit, last.Add(2*time.Hour), apperr.Refused)
	// Not a party: refused.
	refused(t, c, cases.Command{Action: cases.ActLeave}, cases.Actor{AccountID: "acct-x", Role: cases.RoleHead, RegionPath: gridPath}, last.Add(time.Hour), apperr.Refused)
}

// TestRateParty: after the close, the initiator or a commander rates each
// party once.
func TestRateParty(t *testing.T) {
	rate := func(wid, key string, r cases.Rating) cases.Command {
		return cases.Command{Action: cases.ActRateParty, WhistleID: wid, PartyKey: key, Rating: r, Note: "评价"}
	}
	open, lastOpen := reachWhistled(t, cases.FedBack)
	refused(t, open, rate("w1", "unit:u-lead", cases.Satisfied), commander, lastOpen.Add(time.Minute), apperr.Refused)

	c, last := reachWhistled(t, cases.Closed)
	now := last.Add(time.Hour)
	n, step, err := cases.Apply(c, rate("w1", "unit:u-lead", cases.Satisfied), commander, pol, now)
	if err != nil {
		t.Fatal(err)
	}
	p := party(t, n, "w1", "unit:u-lead")
	if p.Rating != cases.Satisfied || p.RatingNote != "评价" || !p.RatedAt.Equal(now) || p.RatedBy != commander.AccountID {
		t.Fatalf("rated %+v", p)
	}
	if step.Data["rating"] != "satisfied" || step.Data["reported"] != false || n.Rating != "" {
		t.Fatalf("step %v, case rating %q", step.Data, n.Rating)
	}
	// Once per party, whoever asks.
	refused(t, n, rate("w1", "unit:u-lead", cases.Unsatisfied), commander, now, apperr.Refused)
	// The grid worker rates the parties of its own whistle only.
	gw := actorFor(cases.RoleGridWorker, cases.ActRateParty, cases.Closed, c)
	must(t, n, rate("w2", "person:acct-head", cases.BasicSatisfied), gw, now)
	refused(t, n, rate("w1", "unit:u-co", cases.Satisfied), gw, now, apperr.Refused)
	other := cases.Actor{AccountID: "acct-gw9", Role: cases.RoleGridWorker, RegionPath: gridPath}
	refused(t, n, rate("w2", "person:acct-head", cases.Satisfied), other, now, apperr.Refused)
	// Inputs.
	wantField(t, refused(t, n, rate("w9", "unit:u-co", cases.Satisfied), commander, now, apperr.Invalid), "whistle_id")
	wantField(t, refused(t, n, rate("w1", "unit:u-x", cases.Satisfied), commander, now, apperr.Invalid), "party_key")
	wantField(t, refused(t, n, rate("w1", "unit:u-co", "great"), commander, now, apperr.Invalid), "rating")
	wantField(t, refused(t, n, cases.Command{Action: cases.ActRateParty, Rating: cases.Satisfied}, commander, now, apperr.Invalid), "whistle_id", "party_key")

	// When every party is rated, nothing is left to rate.
	all := c
	for _, w := range c.Whistles {
		for _, pt := range w.Parties {
			all = must(t, all, rate(w.ID, pt.Key, cases.Satisfied), commander, now)
		}
	}
	if cases.Allowed(&all, cases.ActRateParty, commander) {
		t.Fatal("rate_party allowed with every party rated")
	}
}

// TestCloseEndsWhistles: the close stops every report-in clock (a party
// that never came stays late) and every decision clock (undone decisions stay
// undone).
func TestCloseEndsWhistles(t *testing.T) {
	c, _ := reachWhistled(t, cases.FedBack) // fed back at 10:00; report-in due 09:36
	c = must(t, c, cases.Command{Action: cases.ActReportIn}, leadUnit, at(9, 10, 10))
	c = coDone(t, c)
	c = must(t, c, cases.Command{Action: cases.ActVerify, Passed: ptr(true)}, gridWorker, at(9, 10, 30))
	if c.State != cases.Closed || len(c.RunningClocks()) != 0 {
		t.Fatalf("%s, running %v", c.State, clockKeys(c))
	}
	if p := party(t, c, "w1", "unit:u-lead"); !p.Late || !p.Reported() {
		t.Fatalf("late reporter %+v", p)
	}
	p := party(t, c, "w1", "unit:u-co")
	if p.Reported() || !p.Late || p.ReportIn.Stopped.IsZero() || p.Status(at(9, 11, 0)) != cases.PartyAbsent {
		t.Fatalf("absent party %+v", p)
	}
	d := c.Meetings[0].Decisions[0]
	if d.Done || d.Clock.Stopped.IsZero() {
		t.Fatalf("undone decision %+v", d)
	}
	// The case itself was on time.
	if c.WasOverdue {
		t.Fatal("the whistle's lateness made the case overdue")
	}
	// A party summoned shortly before the close, with time left, is absent
	// but not late.
	f, _ := reach(t, cases.FedBack)
	f = must(t, f, streetWhistle(otherID), commander, at(9, 10, 20))
	f = must(t, f, cases.Command{Action: cases.ActClose, Note: "协办单位未反馈，中心结案"}, commander, at(9, 10, 25))
	if p := party(t, f, "w1", "unit:"+otherID); p.Late || p.ReportIn.Stopped.IsZero() {
		t.Fatalf("closed early %+v", p)
	}
	// Merging an accepted, whistled case ends its whistles too.
	a, _ := reachWhistled(t, cases.Accepted)
	m := must(t, a, cases.Command{Action: cases.ActMerge, Target: "case-0"}, commander, at(9, 9, 8))
	if len(m.RunningClocks()) != 0 {
		t.Fatalf("merged case runs %v", clockKeys(m))
	}
}

// TestParkPausesWhistles: parking pauses the report-in and decision clocks
// with the rest; resuming moves their dues by the time parked.
func TestParkPausesWhistles(t *testing.T) {
	c, _ := reachWhistled(t, cases.Handling) // whistles at 09:06, due 09:36
	c = must(t, c, cases.Command{Action: cases.ActParkRequest, Until: at(31, 18, 0), Note: "等待"}, leadUnit, at(9, 9, 21))
	c = must(t, c, cases.Command{Action: cases.ActParkApprove}, commander, at(9, 9, 26))
	if got := clockKeys(c); len(got) != 0 {
		t.Fatalf("parked case runs %v", got)
	}
	// A party may still report in while the case is parked.
	in := must(t, c, cases.Command{Action: cases.ActReportIn}, leadUnit, at(9, 9, 30))
	if p := party(t, in, "w1", "unit:u-lead"); p.Late || !p.Reported() {
		t.Fatalf("report in while parked %+v", p)
	}
	r := must(t, c, cases.Command{Action: cases.ActResume}, commander, at(9, 12, 26))
	p := party(t, r, "w1", "unit:u-co")
	if !p.ReportIn.Due.Equal(at(9, 12, 36)) || !p.ReportIn.Running() {
		t.Fatalf("resumed report-in clock %+v", p.ReportIn)
	}
	if !slices.Contains(clockKeys(r), "meeting:m1:d1") || !slices.Contains(clockKeys(r), "whistle:w1:unit:u-co:report_in") {
		t.Fatalf("resumed clocks %v", clockKeys(r))
	}
}

// TestMeeting: a meeting on a whistle takes its parties as attendees; each
// decision gets a unit, a deadline and a clock, and is tracked until done.
func TestMeeting(t *testing.T) {
	c, _ := reach(t, cases.Handling)
	now := at(9, 9, 30)
	c = must(t, c, streetWhistle(leadID, otherID), commander, now)
	c = must(t, c, gridWhistle(headH1.AccountID), gridWorker, now)
	in := &cases.MeetingInput{
		Kind: cases.MeetingDispatch, Place: " 商铺门前 ", Shown: "宣读告知书，通报警示案例",
		Attendees: []cases.Attendee{
			{Kind: cases.AttendeeUnit, UnitID: leadID, Name: "重复的主办单位"}, // already there from the whistle
			{Kind: cases.AttendeeResident, Name: "店主"},
			{Kind: cases.AttendeeExpert, Name: "消防专家孙某", Title: "高级工程师"},
			{Kind: cases.AttendeePerson, AccountID: headH1.AccountID, Name: "街长赵某"},
		},
		Decisions: []cases.DecisionInput{
			{Text: "48小时内拆除醇基燃料设备", UnitID: leadID, UnitName: "单位u-lead", Due: at(11, 9, 40)},
			{Text: "一周内复查", UnitID: otherID, Due: at(16, 9, 40)},
		},
	}
	n, step, err := cases.Apply(c, cases.Command{Action: cases.ActMeeting, WhistleID: "w1", Meeting: in, Note: "现场调度"}, commander, pol, at(9, 9, 40))
	if err != nil {
		t.Fatal(err)
	}
	m := n.Meetings[0]
	if m.ID != "m1" || m.Kind != cases.MeetingDispatch || m.WhistleID != "w1" || m.Place != "商铺门前" || !m.At.Equal(at(9, 9, 40)) || m.ConvenerID != commander.AccountID {
		t.Fatalf("meeting %+v", m)
	}
	var names []string
	for _, a := range m.Attendees {
		names = append(names, string(a.Kind)+":"+a.Name)
	}
	if want := []string{"unit:单位u-lead", "unit:单位u-other", "resident:店主", "expert:消防专家孙某", "person:街长赵某"}; !slices.Equal(names, want) {
		t.Fatalf("attendees %v, want %v", names, want)
	}
	d := m.Decisions[0]
	if d.ID != "d1" || d.UnitName != "单位u-lead" || !d.Due.Equal(at(11, 9, 40)) || !d.Clock.Due.Equal(at(11, 9, 40)) || d.Clock.Limit != (sla.Limit{Amount: 2880, Unit: sla.Minutes}) {
		t.Fatalf("decision %+v", d)
	}
	// Yellow at 80% of the 48 hours.
	if !d.Clock.YellowAt.Equal(at(11, 0, 4)) {
		t.Fatalf("yellow %v", d.Clock.YellowAt)
	}
	if step.Data["meeting_id"] != "m1" || step.Data["attendees"] != 5 || !slices.Equal(step.Data["decisions"].([]string), []string{"d1", "d2"}) {
		t.Fatalf("step %v", step.Data)
	}
	keys := clockKeys(n)
	if !slices.Contains(keys, "meeting:m1:d1") || !slices.Contains(keys, "meeting:m1:d2") {
		t.Fatalf("running %v", keys)
	}
	for _, r := range n.RunningClocks() {
		if r.Key == "meeting:m1:d2" && r.UnitID != otherID {
			t.Fatalf("decision clock unit %q", r.UnitID)
		}
	}
	// A unit with a decision sees the case, even with no task or whistle.
	plain, _ := reach(t, cases.Handling)
	plain = must(t, plain, cases.Command{Action: cases.ActMeeting, Meeting: &cases.MeetingInput{Kind: cases.MeetingCouncil, Place: "议事厅",
		Attendees: []cases.Attendee{{Kind: cases.AttendeeResident, Name: "居民代表"}},
		Decisions: []cases.DecisionInput{{Text: "协调维修资金", UnitID: "u-fund", Due: at(20, 18, 0)}}}}, leader, now)
	if !cases.CanSee(unitActor("u-fund"), &plain) || cases.CanSee(unitActor("u-none"), &plain) {
		t.Fatal("decision unit scope")
	}

	// The sweeper warns on a decision's clock like on any other.
	_, ws, err := cases.Apply(n, cases.Command{Action: cases.ActWarn, Clock: "meeting:m1:d2", Level: "red"}, cases.System, pol, at(16, 9, 41))
	if err != nil || ws.Data["decision_id"] != "d2" || ws.Data["unit_id"] != otherID || ws.Data["meeting_id"] != "m1" {
		t.Fatalf("decision warning %v %v", err, ws.Data)
	}
	refused(t, n, cases.Command{Action: cases.ActWarn, Clock: "meeting:m1:d2", Level: "yellow"}, cases.System, at(16, 9, 41), apperr.Refused)
	refused(t, n, cases.Command{Action: cases.ActWarn, Clock: "meeting:m2:d2", Level: "red"}, cases.System, at(16, 9, 41), apperr.Refused)

	// Decisions are done by their unit or a commander, once; late ones say so.
	refused(t, n, cases.Command{Action: cases.ActDecisionDone, DecisionID: "d1"}, otherUnit, at(10, 9, 0), apperr.Refused)
	done, step, err := cases.Apply(n, cases.Command{Action: cases.ActDecisionDone, DecisionID: "d1", Note: "设备已拆除"}, leadUnit, pol, at(10, 9, 0))
	if err != nil {
		t.Fatal(err)
	}
	if d := done.Meetings[0].Decisions[0]; !d.Done || d.DoneNote != "设备已拆除" || d.Clock.Stopped.IsZero() || d.Clock.WasOverdue || d.DoneBy != leadUnit.AccountID {
		t.Fatalf("done %+v", d)
	}
	if step.Data["late"] != false || slices.Contains(clockKeys(done), "meeting:m1:d1") {
		t.Fatalf("step %v running %v", step.Data, clockKeys(done))
	}
	refused(t, done, cases.Command{Action: cases.ActDecisionDone, DecisionID: "d1"}, commander, at(10, 9, 1), apperr.Refused)
	late := must(t, done, cases.Command{Action: cases.ActDecisionDone, DecisionID: "d2"}, commander, at(17, 9, 0))
	if !late.Meetings[0].Decisions[1].Clock.WasOverdue {
		t.Fatalf("late decision %+v", late.Meetings[0].Decisions[1].Clock)
	}
	if cases.Allowed(&late, cases.ActDecisionDone, commander) {
		t.Fatal("decision_done allowed with nothing left")
	}
	wantField(t, refused(t, n, cases.Command{Action: cases.ActDecisionDone, DecisionID: "d9"}, commander, now, apperr.Invalid), "decision_id")
	wantField(t, refused(t, n, cases.Command{Action: cases.ActDecisionDone}, commander, now, apperr.Invalid), "decision_id")

	// A second meeting numbers on: m2 with decision d3.
	n2 := must(t, n, cases.Command{Action: cases.ActMeeting, Meeting: &cases.MeetingInput{Kind: cases.MeetingBriefing, Place: "社区",
		Attendees: []cases.Attendee{{Kind: cases.AttendeeExpert, Name: "专家"}},
		Decisions: []cases.DecisionInput{{Text: "复查", UnitID: leadID, Due: at(20, 9, 0)}}}}, chief, at(9, 10, 0))
	if n2.Meetings[1].ID != "m2" || n2.Meetings[1].Decisions[0].ID != "d3" || n2.Meetings[1].WhistleID != "" {
		t.Fatalf("second meeting %+v", n2.Meetings[1])
	}

	// Bad inputs.
	bad := func(mi cases.MeetingInput, wid string, fields ...string) {
		t.Helper()
		err := refused(t, c, cases.Command{Action: cases.ActMeeting, WhistleID: wid, Meeting: &mi}, commander, at(9, 9, 40), apperr.Invalid)
		wantField(t, err, fields...)
	}
	ok := []cases.Attendee{{Kind: cases.AttendeeResident, Name: "居民"}}
	bad(cases.MeetingInput{Kind: "party", Place: "x", Attendees: ok}, "", "meeting.kind")
	bad(cases.MeetingInput{Kind: cases.MeetingCouncil, Attendees: ok}, "", "meeting.place")
	bad(cases.MeetingInput{Kind: cases.MeetingCouncil, Place: "x"}, "", "meeting.attendees")
	bad(cases.MeetingInput{Kind: cases.MeetingCouncil, Place: "x", Attendees: ok}, "w9", "whistle_id")
	bad(cases.MeetingInput{Kind: cases.MeetingCouncil, Place: "x", Attendees: ok, At: at(1, 9, 0)}, "", "meeting.at")
	bad(cases.MeetingInput{Kind: cases.MeetingCouncil, Place: "x", Attendees: []cases.Attendee{{Kind: cases.AttendeeExpert}}}, "", "meeting.attendees[0]")
	bad(cases.MeetingInput{Kind: cases.MeetingCouncil, Place: "x", Attendees: []cases.Attendee{{Kind: cases.AttendeeUnit, Name: "x"}}}, "", "meeting.attendees[0]")
	bad(cases.MeetingInput{Kind: cases.MeetingCouncil, Place: "x", Attendees: []cases.Attendee{{Kind: "guest", Name: "x"}}}, "", "meeting.attendees[0]")
	bad(cases.MeetingInput{Kind: cases.MeetingCouncil, Place: "x", Attendees: ok,
		Decisions: []cases.DecisionInput{{Text: " ", Due: at(9, 9, 0)}}}, "",
		"meeting.decisions[0].text", "meeting.decisions[0].unit_id", "meeting.decisions[0].due")
	wantField(t, refused(t, c, cases.Command{Action: cases.ActMeeting}, commander, now, apperr.Invalid), "meeting")
	// Not by units, heads or enterprises; not on a closed or reported case.
	refused(t, c, cases.Command{Action: cases.ActMeeting, Meeting: in}, leadUnit, now, apperr.Refused)
	refused(t, c, cases.Command{Action: cases.ActMeeting, Meeting: in}, headH1, now, apperr.Refused)
	closed, last := reach(t, cases.Closed)
	refused(t, closed, cases.Command{Action: cases.ActMeeting, Meeting: in}, commander, last.Add(time.Minute), apperr.Refused)
}

// TestWhistleScope: summoned parties see the case; Apply leaves its input
// alone through every whistle action.
func TestWhistleScope(t *testing.T) {
	c, _ := reach(t, cases.Accepted)
	if cases.CanSee(otherUnit, &c) || cases.CanSee(farHead, &c) {
		t.Fatal("in scope before the whistle")
	}
	before := snapshot(t, c)
	n := must(t, c, streetWhistle(otherID), commander, at(9, 9, 10))
	n = must(t, n, gridWhistle(farHead.AccountID), gridWorker, at(9, 9, 10))
	if snapshot(t, c) != before {
		t.Fatal("Apply changed its input")
	}
	if !cases.CanSee(otherUnit, &n) || !cases.CanSee(farHead, &n) {
		t.Fatal("summoned parties do not see the case")
	}
	snap := snapshot(t, n)
	must(t, n, cases.Command{Action: cases.ActReportIn}, otherUnit, at(9, 9, 20))
	must(t, n, cases.Command{Action: cases.ActWarn, Clock: "whistle:w1:unit:u-other:report_in", Level: "red"}, cases.System, at(9, 9, 41))
	must(t, n, cases.Command{Action: cases.ActMeeting, WhistleID: "w1", Meeting: &cases.MeetingInput{Kind: cases.MeetingDispatch, Place: "x",
		Decisions: []cases.DecisionInput{{Text: "y", UnitID: otherID, Due: at(10, 9, 0)}}}}, commander, at(9, 9, 20))
	if snapshot(t, n) != snap {
		t.Fatal("Apply changed its input")
	}
	for _, k := range cases.WhistleKinds {
		if !k.Valid() || k.Label() == string(k) {
			t.Errorf("whistle kind %s", k)
		}
	}
	for _, k := range cases.MeetingKinds {
		if !k.Valid() || k.Label() == string(k) {
			t.Errorf("meeting kind %s", k)
		}
	}
	for _, k := range cases.AttendeeKinds {
		if !k.Valid() || k.Label() == string(k) {
			t.Errorf("attendee kind %s", k)
		}
	}
	for _, s := range []cases.PartyStatus{cases.PartyWaiting, cases.PartyIn, cases.PartyLateIn, cases.PartyRed, cases.PartyAbsent} {
		if s.Label() == string(s) {
			t.Errorf("party status %s", s)
		}
	}
}

// A volunteer group helps once per case: a step that names it, no task, no
// clock, the state unchanged; the same group again is refused.
func TestVolunteerGroupHelps(t *testing.T) {
	c, last := reach(t, cases.Handling)
	community := cases.Actor{AccountID: "acct-comm", Name: "社区书记", Role: cases.RoleCommunity, RegionPath: c.RegionPath}
	g := &cases.VolunteerRef{GroupID: "g1", Name: "在职党员志愿服务队", Community: c.RegionPath}
	now := last.Add(time.Hour)
	if _, _, err := cases.Apply(c, cases.Command{Action: cases.ActVolunteer, Note: "协助劝导"}, community, pol, now); err == nil {
		t.Fatal("volunteer without a group was taken")
	}
	n, step, err := cases.Apply(c, cases.Command{Action: cases.ActVolunteer, Note: "协助劝导", Volunteer: g}, community, pol, now)
	if err != nil {
		t.Fatal(err)
	}
	if n.State != c.State || len(n.Tasks) != len(c.Tasks) || len(n.Volunteers) != 1 || step.Data["group_id"] != "g1" {
		t.Fatalf("state %s tasks %d volunteers %+v data %v", n.State, len(n.Tasks), n.Volunteers, step.Data)
	}
	if _, _, err := cases.Apply(n, cases.Command{Action: cases.ActVolunteer, Note: "再次", Volunteer: g}, community, pol, now.Add(time.Minute)); err == nil {
		t.Fatal("the same group twice was taken")
	}
	unit := cases.Actor{AccountID: "acct-unit", Role: cases.RoleUnit, UnitID: leadID}
	if _, _, err := cases.Apply(c, cases.Command{Action: cases.ActVolunteer, Note: "x", Volunteer: g}, unit, pol, now); err == nil {
		t.Fatal("a unit gave the case to a volunteer group")
	}
}
