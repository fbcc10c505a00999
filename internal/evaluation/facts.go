package evaluation

import (
	"strings"
	"time"

	"zhizhi/internal/cases"
)

// Fact is what one case contributes to one subject's counts: the case's
// cohort is the local day it was reported (Day, yyyymmdd in the calendar's
// zone), so a period's counts are the sum of its days' facts. Facts are
// recomputed from the case document whenever the case changes; the store
// keeps the facts last applied and adds only the difference (rollups).
type Fact struct {
	Kind    SubjectKind `json:"kind"`
	Subject string      `json:"subject"`
	Day     int         `json:"day"`
	Counts  Counts      `json:"counts"`
}

// RollupMeasures are the measures Facts produces, the columns of the store's
// rollups.
var RollupMeasures = []Measure{
	Reported, Registered, Rejected, PublicVerified, Closed, ClosedOnTime, DueClose,
	OnSpot, Rated, Satisfied, Dispatched, SignedOnTime, Handled, HandledOnTime,
	HandledLate, DueHandle, Reworked, Accepted,
	Summoned, ReportInOnTime, ReportInLate, ReportInAbsent, PartyRated, PartySatisfied,
	Exempted, // overdue appeals (rollups column from migration 8)
}

// DayOf is the yyyymmdd number of t's local day in loc.
func DayOf(t time.Time, loc *time.Location) int {
	y, m, d := t.In(loc).Date()
	return y*10000 + int(m)*100 + d
}

// Days are the first and last day numbers of the period, in loc.
func (p Period) Days(loc *time.Location) (from, to int) {
	return DayOf(p.Start, loc), DayOf(p.End.Add(-time.Nanosecond), loc)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// put sets the non-zero counts.
func put(c Counts, m Measure, v int) {
	if v != 0 {
		c[m] = v
	}
}

// Facts are the counts one case contributes, per subject:
//
//   - each level of its region path (district, street, community, and the
//     grid when the case has one): reported, registered (past reported and
//     not rejected; a merged case counts as registered even when it was
//     merged before acceptance: that nuance is left out), rejected,
//     public_verified, closed, closed_on_time, due_close, on_spot, rated,
//     satisfied;
//   - each unit with a task (its latest task; a cancelled one counts
//     nothing): dispatched_tasks, signed_on_time, handled, handled_on_time,
//     handled_late, due_handle, reworked, and for the lead task rated and
//     satisfied;
//   - the reporting account (inspector): reported, accepted, on_spot.
//
// A zero count is left out of Counts.
func Facts(c *cases.Case, loc *time.Location) []Fact {
	day := DayOf(c.ReportedAt, loc)
	registered := c.State != cases.Reported && c.State != cases.Rejected && c.State != ""
	closed := c.State == cases.Closed
	rated := c.Rating != ""
	satisfied := c.Rating == cases.Satisfied || c.Rating == cases.BasicSatisfied
	public := false
	switch c.Source {
	case cases.SourceResident, cases.SourceHotline, cases.SourceOpen311, cases.SourceEnterprise:
		public = true
	}

	region := Counts{Reported: 1}
	put(region, Registered, b2i(registered))
	put(region, Rejected, b2i(c.State == cases.Rejected))
	put(region, PublicVerified, b2i(registered && public))
	put(region, Closed, b2i(closed))
	put(region, ClosedOnTime, b2i(closed && !c.WasOverdue))
	put(region, DueClose, b2i(closed || (c.State.Open() && c.WasOverdue)))
	put(region, OnSpot, b2i(c.OnSpot))
	put(region, Rated, b2i(rated))
	put(region, Satisfied, b2i(satisfied))

	var out []Fact
	// /city/district/street/community/grid/
	segs := strings.Split(strings.Trim(c.RegionPath, "/"), "/")
	levels := []SubjectKind{City, District, Street, Community, Grid}
	for i := len(segs) - 1; i >= 1 && i < len(levels); i-- {
		if segs[i] == "" || levels[i] == Grid {
			continue
		}
		out = append(out, Fact{Kind: levels[i], Subject: segs[i], Day: day, Counts: clone(region)})
	}
	if c.GridCode != "" {
		out = append([]Fact{{Kind: Grid, Subject: c.GridCode, Day: day, Counts: clone(region)}}, out...)
	}

	// Units: the latest task of each, in order of first dispatch.
	latest := map[string]cases.Task{}
	var order []string
	for _, t := range c.Tasks {
		if _, ok := latest[t.UnitID]; !ok {
			order = append(order, t.UnitID)
		}
		latest[t.UnitID] = t
	}
	for _, u := range order {
		t := latest[u]
		if t.State == cases.TaskCancelled || u == "" {
			continue
		}
		handled := t.State == cases.TaskFedBack || t.State == cases.TaskDone
		k := Counts{Dispatched: 1}
		put(k, SignedOnTime, b2i(!t.SignedAt.IsZero() && !t.Sign.WasOverdue))
		put(k, Handled, b2i(handled))
		put(k, HandledOnTime, b2i(handled && !t.Handle.WasOverdue))
		put(k, HandledLate, b2i(handled && t.Handle.WasOverdue))
		put(k, DueHandle, b2i(handled || t.State == cases.TaskUnfinished || (t.Active() && t.Handle.WasOverdue)))
		put(k, Reworked, b2i(handled && t.Reworks > 0))
		if t.Role == cases.Lead {
			put(k, Rated, b2i(rated))
			put(k, Satisfied, b2i(satisfied))
		}
		out = append(out, Fact{Kind: Unit, Subject: u, Day: day, Counts: k})
	}

	// Whistles: each summons of a unit counts for it (S9: a party that
	// reports in late, or never, counts against it). A party that has not
	// reported in is absent once its report-in clock ran out or the case
	// closed; until then it counts nowhere but in Summoned.
	unitFact := map[string]int{}
	for i, f := range out {
		if f.Kind == Unit {
			unitFact[f.Subject] = i
		}
	}
	for _, w := range c.Whistles {
		for _, p := range w.Parties {
			if p.UnitID == "" {
				continue
			}
			i, ok := unitFact[p.UnitID]
			if !ok {
				out = append(out, Fact{Kind: Unit, Subject: p.UnitID, Day: day, Counts: Counts{}})
				i = len(out) - 1
				unitFact[p.UnitID] = i
			}
			k := out[i].Counts
			k[Summoned]++
			put(k, ReportInOnTime, k[ReportInOnTime]+b2i(p.Reported() && !p.Late))
			put(k, ReportInLate, k[ReportInLate]+b2i(p.Reported() && p.Late))
			put(k, ReportInAbsent, k[ReportInAbsent]+b2i(!p.Reported() && (p.Late || !c.State.Open())))
			put(k, PartyRated, k[PartyRated]+b2i(p.Rating != ""))
			put(k, PartySatisfied, k[PartySatisfied]+b2i(p.Rating == cases.Satisfied || p.Rating == cases.BasicSatisfied))
		}
	}

	// --- overdue appeals (超时申诉), see exempt below: keep this one call ---
	exempt(c, out)

	if a := c.Reporter.AccountID; a != "" {
		k := Counts{Reported: 1}
		put(k, Accepted, b2i(registered))
		put(k, OnSpot, b2i(c.OnSpot))
		out = append(out, Fact{Kind: Inspector, Subject: a, Day: day, Counts: k})
	}
	return out
}

func clone(c Counts) Counts {
	out := make(Counts, len(c))
	for k, v := range c {
		out[k] = v
	}
	return out
}

// --- overdue appeals (超时申诉) ---
//
// exempt applies approved overdue appeals to a case's facts (before the
// inspector's are added). An exempted case counts Exempted for its regions
// and leaves their timeliness rates: DueClose and ClosedOnTime are not
// counted. The appealing unit's task counts Exempted and leaves the unit's
// rates: Dispatched, SignedOnTime, DueHandle, HandledOnTime and HandledLate
// are not counted. Other counts (reported, closed, handled, rated…) stay:
// the case and the work happened.
func exempt(c *cases.Case, out []Fact) {
	if !c.Exempted() {
		return
	}
	for _, f := range out {
		switch f.Kind {
		case Unit:
			if _, ok := c.ExemptedUnit(f.Subject); !ok {
				continue
			}
			for _, m := range []Measure{Dispatched, SignedOnTime, DueHandle, HandledOnTime, HandledLate} {
				delete(f.Counts, m)
			}
		case Inspector:
			continue
		default:
			delete(f.Counts, DueClose)
			delete(f.Counts, ClosedOnTime)
		}
		f.Counts[Exempted] = 1
	}
}
