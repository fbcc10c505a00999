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
	Void, Exempted, VerifyDue, VerifiedOnTime, RegisteredOnTime, DispatchDue, DispatchedOnTime,
	Redispatched, ClosedByCenter, ClosedInTime, AcceptedDay, ClosedDay,
	Supervised, SupervisedOnTime,
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

// Facts are the counts one case contributes, per subject, computed from the
// case document and its timeline (steps in order; nil reads as an empty
// timeline):
//
//   - each level of its region path (district, street, community, and the
//     grid when the case has one), on the reporting day: reported,
//     registered (past reported and not rejected; a merged case counts as
//     registered even when it was merged before acceptance: that nuance is
//     left out), rejected, void (merged after an accept step),
//     public_verified, closed, closed_on_time, due_close, on_spot, rated,
//     satisfied, exempted (see below);
//   - each level again on event days (local days in loc), for the command
//     board's "today" figures: accepted_day on the day of the first accept
//     step, closed_day on the day a closed case closed (ClosedAt);
//   - each unit with a task (its latest task; a cancelled one counts
//     nothing), on the reporting day: dispatched_tasks, signed_on_time,
//     handled, handled_on_time, handled_late (fed back late, or left
//     unfinished by the close after a clock of it ran out), due_handle,
//     reworked, the
//     case's closed and due_close (the unit's 结案率), and for the lead task
//     rated and satisfied; the whistle parties' counts; and
//     closed_day on the close day for a unit whose latest task was done or
//     left unfinished by the close;
//   - the reporting account (inspector): reported, accepted, on_spot;
//   - the verifying grid worker (inspector): verify_due per verify step
//     taken by a grid worker or grid chief, verified_on_time when the verify
//     clock had not run out by then; an open verify stage past due counts
//     verify_due for the case's grid worker, taken to be the reporter when
//     the report step was a grid worker's or grid chief's (the case
//     document names no other grid worker; otherwise it counts nowhere);
//   - the account of the first accept step, both as intake and as shift
//     lead (at the center one commander both receives and registers, 受理
//     and 立案): registered, registered_on_time, void; the account of a
//     reject step, as intake: rejected;
//   - the account whose step closed the case (a commander's close, or a
//     commander's passing verify), as shift lead: closed_by_center,
//     closed_in_time when the verify-and-close clock (the case clock at the
//     close) never ran out;
//   - each supervision (督办) with a deadline, once the case closed or the
//     deadline ran out (the sweeper's red warning marked it late, or the
//     case closed past its due): supervised, and supervised_on_time when
//     the case closed by the deadline, for each region level and for the
//     case's lead unit (its latest lead task not cancelled), on the
//     reporting day; a case ended otherwise (rejected, merged) counts none;
//   - the account of the first dispatch step, as dispatcher: dispatch_due,
//     dispatched_on_time, redispatched when the case was later returned by
//     its lead unit or re-dispatched, and the case's due_close and
//     closed_on_time. A case not yet dispatched counts for no dispatcher.
//
// Person measures go to the reporting day, like the case's other cohort
// measures. The case clock is replaced at every stage, so whether a stage
// ended late is read from the timeline: the stage was late when the sweeper
// recorded a red warning of its clock (warn step, Data clock "case:accept",
// "case:dispatch" or "case:verify", level "red") after the stage began and
// before the step that ended it. A step taken in the seconds between the
// due instant and the sweep that follows counts as on time.
//
// A case held for screening (cases.Hold) counts nothing until it is
// released; one rejected from the holding queue never counts.
//
// Exempted (an approved overdue appeal) is not filled yet: see the marked
// place below. A zero count is left out of Counts; facts that share kind,
// subject and day are merged into one.
func Facts(c *cases.Case, steps []cases.Step, loc *time.Location) []Fact {
	if c.Screened() {
		// Held for screening and never released (still held, or rejected
		// from the holding queue): it never entered the loop.
		return nil
	}
	day := DayOf(c.ReportedAt, loc)
	registered := c.State != cases.Reported && c.State != cases.Rejected && c.State != ""
	closed := c.State == cases.Closed
	rated := c.Rating != ""
	satisfied := c.Rating == cases.Satisfied || c.Rating == cases.BasicSatisfied
	// hotline: a 12345 case's return visit (回访, cases/visit.go) is the
	// hotline's verdict, and it decides the 12345 three rates' follow-up
	// parts: satisfaction (满意率) is the caller's, over any rating on the
	// platform; resolution (解决率) needs the caller to say it was solved,
	// so the lead unit's task counts handled on time only when resolved.
	visited := c.Source == cases.SourceHotline && c.Visit != nil
	if visited {
		rated = true
		satisfied = c.Visit.Satisfaction == cases.Satisfied || c.Visit.Satisfaction == cases.BasicSatisfied
	}
	public := false
	switch c.Source {
	case cases.SourceResident, cases.SourceHotline, cases.SourceOpen311, cases.SourceEnterprise:
		public = true
	}
	tl := readTimeline(c, steps)
	void := c.State == cases.Merged && tl.accept != nil
	dueClose := closed || (c.State.Open() && c.WasOverdue)
	closedOnTime := closed && !c.WasOverdue

	region := Counts{Reported: 1}
	put(region, Registered, b2i(registered))
	put(region, Rejected, b2i(c.State == cases.Rejected))
	put(region, Void, b2i(void))
	put(region, PublicVerified, b2i(registered && public))
	put(region, Closed, b2i(closed))
	put(region, ClosedOnTime, b2i(closedOnTime))
	put(region, DueClose, b2i(dueClose))
	put(region, OnSpot, b2i(c.OnSpot))
	put(region, Rated, b2i(rated))
	put(region, Satisfied, b2i(satisfied))

	var fs facts
	// /city/district/street/community/grid/
	segs := strings.Split(strings.Trim(c.RegionPath, "/"), "/")
	levels := []SubjectKind{City, District, Street, Community, Grid}
	var regions []Fact // kind and subject of each level, finest first
	if c.GridCode != "" {
		regions = append(regions, Fact{Kind: Grid, Subject: c.GridCode})
	}
	for i := len(segs) - 1; i >= 1 && i < len(levels); i-- {
		if segs[i] == "" || levels[i] == Grid {
			continue
		}
		regions = append(regions, Fact{Kind: levels[i], Subject: segs[i]})
	}
	for _, r := range regions {
		fs.add(r.Kind, r.Subject, day, region)
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
		unresolved := visited && t.Role == cases.Lead && !c.Visit.Resolved // hotline: the caller says not solved
		put(k, HandledOnTime, b2i(handled && !t.Handle.WasOverdue && !unresolved))
		// A task the case closed over is not handled; it is late when one of
		// its clocks had run out, so leaving a task undone never rates better
		// than finishing it late.
		unfinishedLate := t.State == cases.TaskUnfinished && (t.Sign.WasOverdue || t.Handle.WasOverdue)
		put(k, HandledLate, b2i(handled && t.Handle.WasOverdue || unfinishedLate))
		put(k, DueHandle, b2i(handled || t.State == cases.TaskUnfinished || (t.Active() && t.Handle.WasOverdue)))
		put(k, Reworked, b2i(handled && t.Reworks > 0))
		put(k, Closed, b2i(closed))
		put(k, DueClose, b2i(dueClose))
		if t.Role == cases.Lead {
			put(k, Rated, b2i(rated))
			put(k, Satisfied, b2i(satisfied))
		}
		fs.add(Unit, u, day, k)
	}

	// Whistles: each summons of a unit counts for it (S9: a party that
	// reports in late, or never, counts against it). A party that has not
	// reported in is absent once its report-in clock ran out or the case
	// closed; until then it counts nowhere but in Summoned.
	for _, w := range c.Whistles {
		for _, p := range w.Parties {
			if p.UnitID == "" {
				continue
			}
			k := Counts{Summoned: 1}
			put(k, ReportInOnTime, b2i(p.Reported() && !p.Late))
			put(k, ReportInLate, b2i(p.Reported() && p.Late))
			put(k, ReportInAbsent, b2i(!p.Reported() && (p.Late || !c.State.Open())))
			put(k, PartyRated, b2i(p.Rating != ""))
			put(k, PartySatisfied, b2i(p.Rating == cases.Satisfied || p.Rating == cases.BasicSatisfied))
			fs.add(Unit, p.UnitID, day, k)
		}
	}

	// Supervisions: due once the case closed or the deadline ran out.
	lead := ""
	for _, u := range order {
		if t := latest[u]; t.Role == cases.Lead && t.State != cases.TaskCancelled {
			lead = u
		}
	}
	for _, sv := range c.Supervisions {
		if !closed && !(c.State.Open() && sv.Late) {
			continue
		}
		k := Counts{Supervised: 1}
		put(k, SupervisedOnTime, b2i(sv.OnTime(c)))
		for _, r := range regions {
			fs.add(r.Kind, r.Subject, day, k)
		}
		if lead != "" {
			fs.add(Unit, lead, day, k)
		}
	}

	// The reporter, and the grid workers' verifications.
	if a := c.Reporter.AccountID; a != "" {
		k := Counts{Reported: 1}
		put(k, Accepted, b2i(registered))
		put(k, OnSpot, b2i(c.OnSpot))
		fs.add(Inspector, a, day, k)
	}
	for _, v := range tl.verifies {
		fs.add(Inspector, v.actor, day, Counts{VerifyDue: 1, VerifiedOnTime: b2i(!v.late)})
	}
	if tl.verifyOverdue && tl.gridWorker != "" {
		fs.add(Inspector, tl.gridWorker, day, Counts{VerifyDue: 1})
	}

	// The center's people.
	if a := tl.accept; a != nil && a.ActorID != "" {
		k := Counts{Registered: 1, RegisteredOnTime: b2i(!tl.acceptLate), Void: b2i(void)}
		fs.add(Intake, a.ActorID, day, k)
		fs.add(ShiftLead, a.ActorID, day, k)
	}
	if r := tl.reject; r != nil && r.ActorID != "" {
		fs.add(Intake, r.ActorID, day, Counts{Rejected: 1})
	}
	if cl := tl.close; closed && cl != nil && cl.ActorID != "" && cl.Role == cases.RoleCommander {
		fs.add(ShiftLead, cl.ActorID, day, Counts{ClosedByCenter: 1, ClosedInTime: b2i(!c.Clock.WasOverdue)})
	}
	if d := tl.dispatch; d != nil && d.ActorID != "" {
		fs.add(Dispatcher, d.ActorID, day, Counts{DispatchDue: 1, DispatchedOnTime: b2i(!tl.dispatchLate),
			Redispatched: b2i(tl.redispatched), DueClose: b2i(dueClose), ClosedOnTime: b2i(closedOnTime)})
	}

	// Event days.
	if a := tl.accept; a != nil {
		d := DayOf(a.At, loc)
		for _, r := range regions {
			fs.add(r.Kind, r.Subject, d, Counts{AcceptedDay: 1})
		}
	}
	if closed && !c.ClosedAt.IsZero() {
		d := DayOf(c.ClosedAt, loc)
		for _, r := range regions {
			fs.add(r.Kind, r.Subject, d, Counts{ClosedDay: 1})
		}
		for _, u := range order {
			if t := latest[u]; u != "" && (t.State == cases.TaskDone || t.State == cases.TaskUnfinished) {
				fs.add(Unit, u, d, Counts{ClosedDay: 1})
			}
		}
	}
	exempt(c, fs.list, day)
	return fs.list
}

// facts collects facts, merging those of the same kind, subject and day.
type facts struct {
	list []Fact
	at   map[factKey]int
}

type factKey struct {
	kind    SubjectKind
	subject string
	day     int
}

// add adds the non-zero counts of c to the fact of (k, subject, day),
// creating it (even with no non-zero count) if needed.
func (fs *facts) add(k SubjectKind, subject string, day int, c Counts) {
	if fs.at == nil {
		fs.at = map[factKey]int{}
	}
	key := factKey{k, subject, day}
	i, ok := fs.at[key]
	if !ok {
		fs.list = append(fs.list, Fact{Kind: k, Subject: subject, Day: day, Counts: Counts{}})
		i = len(fs.list) - 1
		fs.at[key] = i
	}
	for m, v := range c {
		put(fs.list[i].Counts, m, fs.list[i].Counts[m]+v)
	}
}

// verification is one verify step taken by a grid worker.
type verification struct {
	actor string
	late  bool
}

// timeline is what Facts reads from a case's steps.
type timeline struct {
	accept, reject, dispatch, close *cases.Step
	acceptLate, dispatchLate        bool
	redispatched                    bool
	verifies                        []verification
	verifyOverdue                   bool   // the verify stage is open and its clock ran out
	gridWorker                      string // the reporting grid worker, "" if the reporter was not one
}

func isGridWorker(r cases.Role) bool { return r == cases.RoleGridWorker || r == cases.RoleGridChief }

// redWarn reports whether s is the sweeper's red warning of the case clock
// of stage.
func redWarn(s *cases.Step, stage cases.Stage) bool {
	if s.Action != cases.ActWarn || s.Data == nil {
		return false
	}
	clock, _ := s.Data["clock"].(string)
	level, _ := s.Data["level"].(string)
	return level == "red" && clock == "case:"+string(stage)
}

func readTimeline(c *cases.Case, steps []cases.Step) timeline {
	var tl timeline
	acceptRed, dispatchRed, verifyRed := false, false, false
	for i := range steps {
		s := &steps[i]
		switch {
		case s.Action == cases.ActReport && isGridWorker(s.Role) && s.ActorID == c.Reporter.AccountID:
			tl.gridWorker = s.ActorID
		case redWarn(s, cases.StageAccept):
			acceptRed = true
		case redWarn(s, cases.StageDispatch):
			dispatchRed = true
		case redWarn(s, cases.StageVerify):
			verifyRed = true
		case s.Action == cases.ActAccept && tl.accept == nil:
			tl.accept, tl.acceptLate = s, acceptRed
		case s.Action == cases.ActReject && tl.reject == nil:
			tl.reject = s
		case s.Action == cases.ActDispatch && tl.dispatch == nil:
			tl.dispatch, tl.dispatchLate = s, dispatchRed
		case s.Action == cases.ActRedispatch && tl.dispatch != nil:
			tl.redispatched = true
		case s.Action == cases.ActReturn && tl.dispatch != nil && s.Data["co_unit"] == nil:
			tl.redispatched = true // the lead unit sent it back: misrouted
		}
		if s.Action == cases.ActVerify && isGridWorker(s.Role) && s.ActorID != "" {
			tl.verifies = append(tl.verifies, verification{actor: s.ActorID, late: verifyRed})
		}
		if s.To == cases.Closed && s.From != cases.Closed {
			tl.close = s
		}
		// A stage begins afresh: its clock's warnings so far are the last
		// stage's.
		if s.To == cases.FedBack && s.From != cases.FedBack || s.Action == cases.ActVerify {
			verifyRed = false
		}
	}
	tl.verifyOverdue = c.State == cases.FedBack && c.Stage == cases.StageVerify && verifyRed
	return tl
}

// --- overdue appeals (超时申诉) ---
//
// exempt applies approved overdue appeals to a case's cohort facts (those
// on the report day). An exempted case counts Exempted for its regions and
// leaves their closing rates: Closed, ClosedOnTime and DueClose are not
// counted (keeping Closed while dropping DueClose would lift 结案率). The
// appealing unit's task counts Exempted and leaves the unit's rates:
// Dispatched, SignedOnTime, DueHandle, HandledOnTime, HandledLate, Closed
// and DueClose are not counted. The dispatcher's closing figures leave too.
// Other counts (reported, registered, handled, rated…) stay: the case and
// the work happened. Event-day facts (accepted_day, closed_day) stay.
func exempt(c *cases.Case, out []Fact, day int) {
	if !c.Exempted() {
		return
	}
	for _, f := range out {
		if f.Day != day {
			continue
		}
		switch f.Kind {
		case Unit:
			if _, ok := c.ExemptedUnit(f.Subject); !ok {
				continue
			}
			for _, m := range []Measure{Dispatched, SignedOnTime, DueHandle, HandledOnTime, HandledLate, Closed, DueClose} {
				delete(f.Counts, m)
			}
		case Grid, Community, Street, District, City:
			for _, m := range []Measure{Closed, ClosedOnTime, DueClose} {
				delete(f.Counts, m)
			}
		case Dispatcher:
			delete(f.Counts, DueClose)
			delete(f.Counts, ClosedOnTime)
			continue
		default:
			continue
		}
		f.Counts[Exempted] = 1
	}
}
