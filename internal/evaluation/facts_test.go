package evaluation

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/sla"
)

func TestFacts(t *testing.T) {
	// 23:30 UTC on 2 Nov is 07:30 on 3 Nov in Shanghai: the cohort is the local day.
	at := time.Date(2026, 11, 2, 23, 30, 0, 0, time.UTC)
	path := "/500000/500103/500103014/500103014010/500103014010001/"
	base := func() cases.Case {
		return cases.Case{ID: "c1", RegionPath: path, GridCode: "500103014010001", ReportedAt: at, Source: cases.SourcePatrol}
	}
	find := func(fs []Fact, k SubjectKind, subject string) Counts {
		for _, f := range fs {
			if f.Kind == k && f.Subject == subject {
				if f.Day != 20261103 {
					t.Errorf("%s %s: day %d, want 20261103", k, subject, f.Day)
				}
				return f.Counts
			}
		}
		return nil
	}
	for _, tc := range []struct {
		name   string
		edit   func(c *cases.Case)
		kind   SubjectKind
		sub    string
		counts Counts
	}{
		{"reported grid", func(c *cases.Case) { c.State = cases.Reported }, Grid, "500103014010001", Counts{Reported: 1}},
		{"reported street", func(c *cases.Case) { c.State = cases.Reported }, Street, "500103014", Counts{Reported: 1}},
		{"no district city", func(c *cases.Case) { c.State = cases.Reported }, City, "500000", nil},
		{"rejected", func(c *cases.Case) { c.State = cases.Rejected }, Community, "500103014010", Counts{Reported: 1, Rejected: 1}},
		// Held for screening: nothing until released; rejected from the
		// holding queue: never anything; released: an ordinary report.
		{"held", func(c *cases.Case) { c.State, c.Hold = cases.Held, &cases.Hold{Reason: cases.HoldDoor, Since: at} }, Grid, "500103014010001", nil},
		{"held inspector", func(c *cases.Case) {
			c.State, c.Hold, c.Reporter.AccountID = cases.Held, &cases.Hold{Reason: cases.HoldPhone, Since: at}, "anon:1"
		}, Inspector, "anon:1", nil},
		{"rejected from held", func(c *cases.Case) {
			c.State, c.Hold = cases.Rejected, &cases.Hold{Reason: cases.HoldClient, Since: at}
		}, Street, "500103014", nil},
		{"released", func(c *cases.Case) {
			c.State, c.Hold = cases.Reported, &cases.Hold{Reason: cases.HoldDoor, Since: at, Released: at.Add(time.Hour)}
		}, Grid, "500103014010001", Counts{Reported: 1}},
		{"released then rejected", func(c *cases.Case) {
			c.State, c.Hold = cases.Rejected, &cases.Hold{Reason: cases.HoldDoor, Since: at, Released: at.Add(time.Hour)}
		}, Grid, "500103014010001", Counts{Reported: 1, Rejected: 1}},
		{"public accepted", func(c *cases.Case) { c.State = cases.Accepted; c.Source = cases.SourceHotline }, District, "500103",
			Counts{Reported: 1, Registered: 1, PublicVerified: 1}},
		{"open overdue", func(c *cases.Case) { c.State = cases.Handling; c.WasOverdue = true }, Grid, "500103014010001",
			Counts{Reported: 1, Registered: 1, DueClose: 1}},
		{"closed late rated", func(c *cases.Case) {
			c.State, c.WasOverdue, c.Rating, c.OnSpot = cases.Closed, true, cases.BasicSatisfied, true
		}, Grid, "500103014010001",
			Counts{Reported: 1, Registered: 1, Closed: 1, DueClose: 1, OnSpot: 1, Rated: 1, Satisfied: 1}},
		{"closed on time unsatisfied", func(c *cases.Case) { c.State, c.Rating = cases.Closed, cases.Unsatisfied }, Grid, "500103014010001",
			Counts{Reported: 1, Registered: 1, Closed: 1, ClosedOnTime: 1, DueClose: 1, Rated: 1}},
		{"inspector", func(c *cases.Case) { c.State, c.OnSpot = cases.Closed, true; c.Reporter.AccountID = "a1" }, Inspector, "a1",
			Counts{Reported: 1, Accepted: 1, OnSpot: 1}},
		{"lead unit done reworked", func(c *cases.Case) {
			c.State, c.Rating = cases.Closed, cases.Satisfied
			c.Tasks = []cases.Task{{UnitID: "u1", Role: cases.Lead, State: cases.TaskDone, SignedAt: at, Reworks: 1}}
		}, Unit, "u1", Counts{Closed: 1, DueClose: 1, Dispatched: 1, SignedOnTime: 1, Handled: 1, HandledOnTime: 1, DueHandle: 1, Reworked: 1, Rated: 1, Satisfied: 1}},
		{"co unit late", func(c *cases.Case) {
			c.State, c.Rating = cases.Closed, cases.Satisfied
			c.Tasks = []cases.Task{{UnitID: "u2", Role: cases.Co, State: cases.TaskFedBack, SignedAt: at,
				Sign: sla.Clock{WasOverdue: true}, Handle: sla.Clock{WasOverdue: true}}}
		}, Unit, "u2", Counts{Closed: 1, DueClose: 1, Dispatched: 1, Handled: 1, HandledLate: 1, DueHandle: 1}},
		{"unit active overdue", func(c *cases.Case) {
			c.State = cases.Dispatched
			c.Tasks = []cases.Task{{UnitID: "u3", Role: cases.Lead, State: cases.TaskDispatched, Handle: sla.Clock{WasOverdue: true}}}
		}, Unit, "u3", Counts{Dispatched: 1, DueHandle: 1}},
		{"unit unfinished", func(c *cases.Case) {
			c.State = cases.Closed
			c.Tasks = []cases.Task{{UnitID: "u4", Role: cases.Co, State: cases.TaskUnfinished, SignedAt: at}}
		}, Unit, "u4", Counts{Closed: 1, DueClose: 1, Dispatched: 1, SignedOnTime: 1, DueHandle: 1}},
		// Closed over a co-unit that never signed (the center's note): not
		// handled, and late, since its clocks had run out (issue 12).
		{"co unit unfinished overdue", func(c *cases.Case) {
			c.State = cases.Closed
			c.Tasks = []cases.Task{{UnitID: "u1", Role: cases.Lead, State: cases.TaskDone, SignedAt: at},
				{UnitID: "u7", Role: cases.Co, State: cases.TaskUnfinished,
					Sign: sla.Clock{Stopped: at, WasOverdue: true}, Handle: sla.Clock{Stopped: at, WasOverdue: true}}}
		}, Unit, "u7", Counts{Closed: 1, DueClose: 1, Dispatched: 1, DueHandle: 1, HandledLate: 1}},
		{"co unit unfinished, only its sign clock ran out", func(c *cases.Case) {
			c.State = cases.Closed
			c.Tasks = []cases.Task{{UnitID: "u7", Role: cases.Co, State: cases.TaskUnfinished,
				Sign: sla.Clock{Stopped: at, WasOverdue: true}, Handle: sla.Clock{Stopped: at}}}
		}, Unit, "u7", Counts{Closed: 1, DueClose: 1, Dispatched: 1, DueHandle: 1, HandledLate: 1}},
		{"co unit unfinished in time", func(c *cases.Case) {
			c.State = cases.Closed
			c.Tasks = []cases.Task{{UnitID: "u7", Role: cases.Co, State: cases.TaskUnfinished,
				Sign: sla.Clock{Stopped: at}, Handle: sla.Clock{Stopped: at}}}
		}, Unit, "u7", Counts{Closed: 1, DueClose: 1, Dispatched: 1, DueHandle: 1}},
		{"latest task cancelled", func(c *cases.Case) {
			c.State = cases.Accepted
			c.Tasks = []cases.Task{{UnitID: "u5", Role: cases.Lead, State: cases.TaskCancelled}}
		}, Unit, "u5", nil},
		// S9: a whistle's parties. yj came on time and was rated 满意; xf came
		// late; scjg never came and the case closed: absent.
		{"whistle on time, with a task", func(c *cases.Case) {
			c.State = cases.Closed
			c.Tasks = []cases.Task{{UnitID: "yj", Role: cases.Lead, State: cases.TaskDone, SignedAt: at}}
			c.Whistles = s9Whistle(at)
		}, Unit, "yj", Counts{Closed: 1, DueClose: 1, Dispatched: 1, SignedOnTime: 1, Handled: 1, HandledOnTime: 1, DueHandle: 1,
			Summoned: 1, ReportInOnTime: 1, PartyRated: 1, PartySatisfied: 1}},
		{"whistle late", func(c *cases.Case) { c.State, c.Whistles = cases.Closed, s9Whistle(at) }, Unit, "xf",
			Counts{Summoned: 1, ReportInLate: 1, PartyRated: 1}},
		{"whistle absent", func(c *cases.Case) { c.State, c.Whistles = cases.Closed, s9Whistle(at) }, Unit, "scjg",
			Counts{Summoned: 1, ReportInAbsent: 1}},
		{"whistle not yet due", func(c *cases.Case) { c.State, c.Whistles = cases.Handling, s9Whistle(at) }, Unit, "scjg",
			Counts{Summoned: 1}},
		// The 12345 return visit decides satisfaction and resolution of a
		// hotline case: satisfied but not solved; rated unsatisfied on the
		// platform but 基本满意 on the call; a visit on a case not from the
		// hotline counts for nothing.
		{"hotline visit satisfied, not resolved", func(c *cases.Case) {
			c.State, c.Source = cases.Closed, cases.SourceHotline
			c.Visit = &cases.ReturnVisit{Satisfaction: cases.Satisfied, Resolved: false, At: at}
			c.Tasks = []cases.Task{{UnitID: "h1", Role: cases.Lead, State: cases.TaskDone, SignedAt: at}}
		}, Unit, "h1", Counts{Closed: 1, DueClose: 1, Dispatched: 1, SignedOnTime: 1, Handled: 1, DueHandle: 1, Rated: 1, Satisfied: 1}},
		{"hotline visit over the platform rating", func(c *cases.Case) {
			c.State, c.Source, c.Rating = cases.Closed, cases.SourceHotline, cases.Unsatisfied
			c.Visit = &cases.ReturnVisit{Satisfaction: cases.BasicSatisfied, Resolved: true, At: at}
			c.Tasks = []cases.Task{{UnitID: "h2", Role: cases.Lead, State: cases.TaskDone, SignedAt: at}}
		}, Unit, "h2", Counts{Closed: 1, DueClose: 1, Dispatched: 1, SignedOnTime: 1, Handled: 1, HandledOnTime: 1, DueHandle: 1, Rated: 1, Satisfied: 1}},
		{"hotline visit dissatisfied region", func(c *cases.Case) {
			c.State, c.Source, c.Rating = cases.Closed, cases.SourceHotline, cases.Satisfied
			c.Visit = &cases.ReturnVisit{Satisfaction: cases.Unsatisfied, Resolved: true, At: at}
		}, Grid, "500103014010001", Counts{Reported: 1, Registered: 1, PublicVerified: 1, Closed: 1, ClosedOnTime: 1, DueClose: 1, Rated: 1}},
		{"visit ignored off the hotline", func(c *cases.Case) {
			c.State = cases.Closed
			c.Visit = &cases.ReturnVisit{Satisfaction: cases.Satisfied, Resolved: true, At: at}
		}, Grid, "500103014010001", Counts{Reported: 1, Registered: 1, Closed: 1, ClosedOnTime: 1, DueClose: 1}},
		{"latest task counts", func(c *cases.Case) {
			c.State = cases.Dispatched
			c.Tasks = []cases.Task{{UnitID: "u6", State: cases.TaskCancelled}, {UnitID: "u6", Role: cases.Lead, State: cases.TaskDispatched}}
		}, Unit, "u6", Counts{Dispatched: 1}},
	} {
		c := base()
		tc.edit(&c)
		got := find(Facts(&c, nil, shanghai), tc.kind, tc.sub)
		if !reflect.DeepEqual(got, tc.counts) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.counts)
		}
	}

	// No grid: the facts stop at the region the case fell back to.
	c := cases.Case{RegionPath: "/500000/500103/500103014/", ReportedAt: at, State: cases.Reported}
	fs := Facts(&c, nil, shanghai)
	if len(fs) != 2 || fs[0].Kind != Street || fs[1].Kind != District {
		t.Errorf("no grid: %+v", fs)
	}
}

func TestPeriodDays(t *testing.T) {
	p, err := ParsePeriod("2026-11", shanghai)
	if err != nil {
		t.Fatal(err)
	}
	if from, to := p.Days(shanghai); from != 20261101 || to != 20261130 {
		t.Errorf("days %d–%d", from, to)
	}
}

// s9Whistle is a street whistle with three summoned units: yj reported in on
// time (rated 满意), xf late (rated 不满意), scjg not at all.
func s9Whistle(at time.Time) []cases.Whistle {
	return []cases.Whistle{{ID: "w1", Kind: cases.WhistleStreet, Parties: []cases.Party{
		{Key: "unit:yj", UnitID: "yj", ReportedAt: at.Add(20 * time.Minute), Rating: cases.Satisfied},
		{Key: "unit:xf", UnitID: "xf", ReportedAt: at.Add(50 * time.Minute), Late: true, Rating: cases.Unsatisfied},
		{Key: "unit:scjg", UnitID: "scjg"},
	}}}
}

// TestFactsTimeline: the person and event-day measures read from the steps,
// on hand-computed fixtures.
func TestFactsTimeline(t *testing.T) {
	at := time.Date(2026, 11, 2, 23, 30, 0, 0, time.UTC) // 3 Nov 07:30 in Shanghai
	path := "/500000/500103/500103014/500103014010/500103014010001/"
	grid, comm, street, dist := "500103014010001", "500103014010", "500103014", "500103"
	step := func(min int, a cases.Action, actor string, role cases.Role, from, to cases.State, data map[string]any) cases.Step {
		return cases.Step{At: at.Add(time.Duration(min) * time.Minute), Action: a, ActorID: actor, Role: role, From: from, To: to, Data: data}
	}
	red := func(min int, stage string, s cases.State) cases.Step {
		return step(min, cases.ActWarn, "", cases.RoleSystem, s, s, map[string]any{"clock": "case:" + stage, "level": "red"})
	}
	report := step(0, cases.ActReport, "g1", cases.RoleGridWorker, "", cases.Reported, nil)
	accept := step(60, cases.ActAccept, "c1", cases.RoleCommander, cases.Reported, cases.Accepted, nil)
	dispatch := step(70, cases.ActDispatch, "c2", cases.RoleCommander, cases.Accepted, cases.Dispatched, nil)
	type key struct {
		kind    SubjectKind
		subject string
		day     int
	}
	for _, tc := range []struct {
		name  string
		c     cases.Case
		steps []cases.Step
		want  map[key]Counts
	}{
		{
			// Accepted late (a red accept warning came first), dispatched
			// on time by c2, returned by the lead unit u1 and dispatched
			// again to u2; verified late and failed by grid worker g2, then
			// verified and closed by commander c3 on 5 Nov (local).
			name: "closed after a return and a late verification",
			c: cases.Case{State: cases.Closed, WasOverdue: true, ClosedAt: at.Add(45 * time.Hour), Reporter: cases.Reporter{AccountID: "g1"},
				Tasks: []cases.Task{{UnitID: "u1", Role: cases.Lead, State: cases.TaskCancelled},
					{UnitID: "u2", Role: cases.Lead, State: cases.TaskDone, SignedAt: at}}},
			steps: []cases.Step{report, red(30, "accept", cases.Reported), accept, dispatch,
				step(80, cases.ActReturn, "uu1", cases.RoleUnit, cases.Dispatched, cases.Accepted, nil),
				step(90, cases.ActDispatch, "c4", cases.RoleCommander, cases.Accepted, cases.Dispatched, nil),
				step(200, cases.ActFeedback, "uu2", cases.RoleUnit, cases.Handling, cases.FedBack, nil),
				red(300, "verify", cases.FedBack),
				step(400, cases.ActVerify, "g2", cases.RoleGridWorker, cases.FedBack, cases.Handling, map[string]any{"passed": false}),
				step(500, cases.ActFeedback, "uu2", cases.RoleUnit, cases.Handling, cases.FedBack, nil),
				step(45*60, cases.ActVerify, "c3", cases.RoleCommander, cases.FedBack, cases.Closed, map[string]any{"passed": true}),
			},
			want: map[key]Counts{
				{Grid, grid, 20261103}:       {Reported: 1, Registered: 1, Closed: 1, DueClose: 1, AcceptedDay: 1},
				{Community, comm, 20261103}:  {Reported: 1, Registered: 1, Closed: 1, DueClose: 1, AcceptedDay: 1},
				{Street, street, 20261103}:   {Reported: 1, Registered: 1, Closed: 1, DueClose: 1, AcceptedDay: 1},
				{District, dist, 20261103}:   {Reported: 1, Registered: 1, Closed: 1, DueClose: 1, AcceptedDay: 1},
				{Grid, grid, 20261105}:       {ClosedDay: 1},
				{Community, comm, 20261105}:  {ClosedDay: 1},
				{Street, street, 20261105}:   {ClosedDay: 1},
				{District, dist, 20261105}:   {ClosedDay: 1},
				{Unit, "u2", 20261103}:       {Closed: 1, DueClose: 1, Dispatched: 1, SignedOnTime: 1, Handled: 1, HandledOnTime: 1, DueHandle: 1},
				{Unit, "u2", 20261105}:       {ClosedDay: 1},
				{Inspector, "g1", 20261103}:  {Reported: 1, Accepted: 1},
				{Inspector, "g2", 20261103}:  {VerifyDue: 1},
				{Intake, "c1", 20261103}:     {Registered: 1},
				{ShiftLead, "c1", 20261103}:  {Registered: 1},
				{ShiftLead, "c3", 20261103}:  {ClosedByCenter: 1, ClosedInTime: 1},
				{Dispatcher, "c2", 20261103}: {DispatchDue: 1, DispatchedOnTime: 1, Redispatched: 1, DueClose: 1},
			},
		},
		{
			// Accepted on time on 3 Nov, then merged as a duplicate: void.
			name:  "void",
			c:     cases.Case{State: cases.Merged, Source: cases.SourceHotline},
			steps: []cases.Step{step(0, cases.ActReport, "", cases.RoleSystem, "", cases.Reported, nil), accept, step(90, cases.ActMerge, "c1", cases.RoleCommander, cases.Accepted, cases.Merged, nil)},
			want: map[key]Counts{
				{Grid, grid, 20261103}:      {Reported: 1, Registered: 1, Void: 1, PublicVerified: 1, AcceptedDay: 1},
				{Community, comm, 20261103}: {Reported: 1, Registered: 1, Void: 1, PublicVerified: 1, AcceptedDay: 1},
				{Street, street, 20261103}:  {Reported: 1, Registered: 1, Void: 1, PublicVerified: 1, AcceptedDay: 1},
				{District, dist, 20261103}:  {Reported: 1, Registered: 1, Void: 1, PublicVerified: 1, AcceptedDay: 1},
				{Intake, "c1", 20261103}:    {Registered: 1, RegisteredOnTime: 1, Void: 1},
				{ShiftLead, "c1", 20261103}: {Registered: 1, RegisteredOnTime: 1, Void: 1},
			},
		},
		{
			name:  "rejected",
			c:     cases.Case{State: cases.Rejected, Reporter: cases.Reporter{AccountID: "g1"}},
			steps: []cases.Step{report, step(20, cases.ActReject, "c1", cases.RoleCommander, cases.Reported, cases.Rejected, nil)},
			want: map[key]Counts{
				{Grid, grid, 20261103}:      {Reported: 1, Rejected: 1},
				{Community, comm, 20261103}: {Reported: 1, Rejected: 1},
				{Street, street, 20261103}:  {Reported: 1, Rejected: 1},
				{District, dist, 20261103}:  {Reported: 1, Rejected: 1},
				{Inspector, "g1", 20261103}: {Reported: 1},
				{Intake, "c1", 20261103}:    {Rejected: 1},
			},
		},
		{
			// The lead fed back; the verify clock ran out and nobody has
			// verified: due for the reporting grid worker g1, not on time.
			// The dispatch came after a red dispatch warning: late.
			name: "open verification past due",
			c: cases.Case{State: cases.FedBack, Stage: cases.StageVerify, Reporter: cases.Reporter{AccountID: "g1"},
				Tasks: []cases.Task{{UnitID: "u2", Role: cases.Lead, State: cases.TaskFedBack, SignedAt: at}}},
			steps: []cases.Step{report, accept, red(65, "dispatch", cases.Accepted), dispatch,
				step(200, cases.ActFeedback, "uu2", cases.RoleUnit, cases.Handling, cases.FedBack, nil),
				red(300, "verify", cases.FedBack)},
			want: map[key]Counts{
				{Grid, grid, 20261103}:       {Reported: 1, Registered: 1, AcceptedDay: 1},
				{Community, comm, 20261103}:  {Reported: 1, Registered: 1, AcceptedDay: 1},
				{Street, street, 20261103}:   {Reported: 1, Registered: 1, AcceptedDay: 1},
				{District, dist, 20261103}:   {Reported: 1, Registered: 1, AcceptedDay: 1},
				{Unit, "u2", 20261103}:       {Dispatched: 1, SignedOnTime: 1, Handled: 1, HandledOnTime: 1, DueHandle: 1},
				{Inspector, "g1", 20261103}:  {Reported: 1, Accepted: 1, VerifyDue: 1},
				{Intake, "c1", 20261103}:     {Registered: 1, RegisteredOnTime: 1},
				{ShiftLead, "c1", 20261103}:  {Registered: 1, RegisteredOnTime: 1},
				{Dispatcher, "c2", 20261103}: {DispatchDue: 1},
			},
		},
	} {
		c := tc.c
		c.RegionPath, c.GridCode, c.ReportedAt = path, grid, at
		got := map[key]Counts{}
		for _, f := range Facts(&c, tc.steps, shanghai) {
			k := key{f.Kind, f.Subject, f.Day}
			if _, dup := got[k]; dup {
				t.Errorf("%s: two facts for %v", tc.name, k)
			}
			got[k] = f.Counts
		}
		if !reflect.DeepEqual(got, tc.want) {
			for k, v := range got {
				if !reflect.DeepEqual(v, tc.want[k]) {
					t.Errorf("%s: %v = %v, want %v", tc.name, k, v, tc.want[k])
				}
			}
			for k, v := range tc.want {
				if _, ok := got[k]; !ok {
					t.Errorf("%s: %v missing, want %v", tc.name, k, v)
				}
			}
		}
	}
}

// TestRollupMeasuresCoverIndicators: every measure an indicator reads is a
// rollup column, so every indicator of every kind is computed from rollups.
func TestRollupMeasuresCoverIndicators(t *testing.T) {
	have := map[Measure]bool{}
	for _, m := range RollupMeasures {
		if have[m] {
			t.Errorf("measure %s twice", m)
		}
		have[m] = true
	}
	for _, i := range Indicators {
		for _, m := range []Measure{i.Num, i.Den} {
			if !have[m] {
				t.Errorf("indicator %s reads %s, not in RollupMeasures", i.Code, m)
			}
		}
	}
	for _, m := range []Measure{AcceptedDay, ClosedDay, Exempted} {
		if !have[m] {
			t.Errorf("%s not in RollupMeasures", m)
		}
	}
}

// TestMeasuresFor: every indicator of a kind can be computed from the
// measures MeasuresFor reads, and they are rollup measures.
func TestMeasuresFor(t *testing.T) {
	for _, k := range []SubjectKind{Grid, Community, Street, District, City, Unit, Inspector, Intake, ShiftLead, Dispatcher} {
		ms := MeasuresFor(k)
		for _, ind := range Indicators {
			if ind.Applies(k) && (!slices.Contains(ms, ind.Num) || !slices.Contains(ms, ind.Den)) {
				t.Errorf("%s: %s needs %s/%s, MeasuresFor gives %v", k, ind.Code, ind.Num, ind.Den, ms)
			}
		}
		for _, m := range ms {
			if !slices.Contains(RollupMeasures, m) {
				t.Errorf("%s: %s is not a rollup measure", k, m)
			}
		}
	}
}

// Supervisions count for the case's regions and its lead unit once the case
// closed or the deadline ran out: on time when the case closed by it.
func TestFactsSupervision(t *testing.T) {
	at := time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)
	path := "/500000/500103/500103014/500103014010/500103014010001/"
	due := at.Add(48 * time.Hour)
	running := sla.Clock{Start: at, Due: due, YellowAt: due.Add(-time.Hour)}
	stopped := func(late bool) sla.Clock {
		c := running
		c.Stopped, c.WasOverdue = at.Add(time.Hour), late
		if late {
			c.Stopped = due.Add(time.Hour)
		}
		return c
	}
	lead := cases.Task{UnitID: "u-lead", Role: cases.Lead, State: cases.TaskDone}
	co := cases.Task{UnitID: "u-co", Role: cases.Co, State: cases.TaskDone}
	for _, tc := range []struct {
		name  string
		state cases.State
		tasks []cases.Task
		svs   []cases.Supervision
		want  Counts // for the street and the lead unit
		co    Counts // supervision counts of the co-unit (none)
	}{
		{"open in time", cases.Handling, []cases.Task{lead}, []cases.Supervision{{ID: "1", Clock: running}}, nil, nil},
		{"open, ran out", cases.Handling, []cases.Task{lead}, []cases.Supervision{{ID: "1", Clock: running, Late: true}},
			Counts{Supervised: 1}, nil},
		{"closed in time", cases.Closed, []cases.Task{lead, co}, []cases.Supervision{{ID: "1", Clock: stopped(false)}},
			Counts{Supervised: 1, SupervisedOnTime: 1}, nil},
		{"closed late", cases.Closed, []cases.Task{lead, co}, []cases.Supervision{{ID: "1", Clock: stopped(true), Late: true}},
			Counts{Supervised: 1}, nil},
		{"two supervisions", cases.Closed, []cases.Task{lead}, []cases.Supervision{
			{ID: "1", Clock: stopped(false)}, {ID: "2", Clock: stopped(true), Late: true}},
			Counts{Supervised: 2, SupervisedOnTime: 1}, nil},
		{"merged", cases.Merged, []cases.Task{lead}, []cases.Supervision{{ID: "1", Clock: stopped(true), Late: true}}, nil, nil},
		{"not supervised", cases.Closed, []cases.Task{lead}, nil, nil, nil},
	} {
		c := cases.Case{ID: "c", RegionPath: path, GridCode: "500103014010001", ReportedAt: at, State: tc.state,
			Tasks: tc.tasks, Supervisions: tc.svs, ClosedAt: at.Add(time.Hour)}
		fs := Facts(&c, nil, time.UTC)
		pick := func(k SubjectKind, sub string) Counts {
			out := Counts{}
			for _, f := range fs {
				if f.Kind == k && f.Subject == sub && f.Day == 20261103 {
					for _, m := range []Measure{Supervised, SupervisedOnTime} {
						put(out, m, f.Counts[m])
					}
				}
			}
			if len(out) == 0 {
				return nil
			}
			return out
		}
		for _, s := range []struct {
			k   SubjectKind
			sub string
		}{{Street, "500103014"}, {Grid, "500103014010001"}, {District, "500103"}, {Unit, "u-lead"}} {
			if got := pick(s.k, s.sub); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%s: %s %s: %v, want %v", tc.name, s.k, s.sub, got, tc.want)
			}
		}
		if got := pick(Unit, "u-co"); !reflect.DeepEqual(got, tc.co) {
			t.Errorf("%s: co-unit %v", tc.name, got)
		}
	}
	ind, ok := IndicatorOf("supervised_on_time_rate")
	if !ok || !ind.Applies(Unit) || !ind.Applies(Street) || ind.Applies(Inspector) {
		t.Fatalf("indicator %+v", ind)
	}
	if f := ind.Compute(Counts{Supervised: 4, SupervisedOnTime: 3}); f.Num != 3 || f.Den != 4 || f.Points != 75 {
		t.Errorf("figure %+v", f)
	}
}
