package evaluation

import (
	"reflect"
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
		}, Unit, "u1", Counts{Dispatched: 1, SignedOnTime: 1, Handled: 1, HandledOnTime: 1, DueHandle: 1, Reworked: 1, Rated: 1, Satisfied: 1}},
		{"co unit late", func(c *cases.Case) {
			c.State, c.Rating = cases.Closed, cases.Satisfied
			c.Tasks = []cases.Task{{UnitID: "u2", Role: cases.Co, State: cases.TaskFedBack, SignedAt: at,
				Sign: sla.Clock{WasOverdue: true}, Handle: sla.Clock{WasOverdue: true}}}
		}, Unit, "u2", Counts{Dispatched: 1, Handled: 1, HandledLate: 1, DueHandle: 1}},
		{"unit active overdue", func(c *cases.Case) {
			c.State = cases.Dispatched
			c.Tasks = []cases.Task{{UnitID: "u3", Role: cases.Lead, State: cases.TaskDispatched, Handle: sla.Clock{WasOverdue: true}}}
		}, Unit, "u3", Counts{Dispatched: 1, DueHandle: 1}},
		{"unit unfinished", func(c *cases.Case) {
			c.State = cases.Closed
			c.Tasks = []cases.Task{{UnitID: "u4", Role: cases.Co, State: cases.TaskUnfinished, SignedAt: at}}
		}, Unit, "u4", Counts{Dispatched: 1, SignedOnTime: 1, DueHandle: 1}},
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
		}, Unit, "yj", Counts{Dispatched: 1, SignedOnTime: 1, Handled: 1, HandledOnTime: 1, DueHandle: 1,
			Summoned: 1, ReportInOnTime: 1, PartyRated: 1, PartySatisfied: 1}},
		{"whistle late", func(c *cases.Case) { c.State, c.Whistles = cases.Closed, s9Whistle(at) }, Unit, "xf",
			Counts{Summoned: 1, ReportInLate: 1, PartyRated: 1}},
		{"whistle absent", func(c *cases.Case) { c.State, c.Whistles = cases.Closed, s9Whistle(at) }, Unit, "scjg",
			Counts{Summoned: 1, ReportInAbsent: 1}},
		{"whistle not yet due", func(c *cases.Case) { c.State, c.Whistles = cases.Handling, s9Whistle(at) }, Unit, "scjg",
			Counts{Summoned: 1}},
		{"latest task counts", func(c *cases.Case) {
			c.State = cases.Dispatched
			c.Tasks = []cases.Task{{UnitID: "u6", State: cases.TaskCancelled}, {UnitID: "u6", Role: cases.Lead, State: cases.TaskDispatched}}
		}, Unit, "u6", Counts{Dispatched: 1}},
	} {
		c := base()
		tc.edit(&c)
		got := find(Facts(&c, shanghai), tc.kind, tc.sub)
		if !reflect.DeepEqual(got, tc.counts) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.counts)
		}
	}

	// No grid: the facts stop at the region the case fell back to.
	c := cases.Case{RegionPath: "/500000/500103/500103014/", ReportedAt: at, State: cases.Reported}
	fs := Facts(&c, shanghai)
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
