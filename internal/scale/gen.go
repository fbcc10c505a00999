package scale

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/demo"
	"zhizhi/internal/evaluation"
	"zhizhi/internal/geo"
	"zhizhi/internal/id"
	"zhizhi/internal/sla"
	"zhizhi/internal/store"
)

var shanghai = time.FixedZone("CST", 8*3600)

// onSpotPhoto is the evidence photo of cases solved on the spot: a reference
// by content hash only (no photo files are generated).
var onSpotPhoto = cases.Photo{Hash: fmt.Sprintf("%x", sha256.Sum256([]byte("zhizhi scale on-spot photo"))), Type: "image/jpeg", Size: 24576}

// spec is what the sequential part of the generator decides for one case:
// when, where, what, its ID and number, and the earlier case it duplicates
// (merge, or ""). The rest (the timeline through the state machine, the JSON
// documents) runs in parallel from spec.seed.
type spec struct {
	at     time.Time
	grid   int
	cat    int
	id     string
	number string
	merge  string
	seed   uint64
}

// rows are the COPY rows of a chunk of cases.
type rows struct {
	cases, steps, units, clocks [][]any
	facts                       [][]any          // case_facts rows
	rollups                     *store.RollupAgg // the chunk's rollups
	firstDay                    int              // the report day of its first case (yyyymmdd)
	open, closed, overdue       int
	whistles, merged            int
}

// gen holds what every worker reads.
type gen struct {
	tree     *Tree
	cats     []cases.Category
	policies []cases.Policy
	rule     store.ClockRule
	now      time.Time
	streets  []store.RegionRecord
	units    map[string]cases.Unit
	loc      *time.Location // the calendar's zone: the rollups' days
}

var (
	places  = []string{"路口", "小区门口", "楼栋旁", "人行道", "菜市场", "公交站", "背街小巷", "梯坎", "商铺前", "停车场"}
	sources = []cases.Source{cases.SourcePatrol, cases.SourcePatrol, cases.SourcePatrol, cases.SourcePatrol, cases.SourceResident, cases.SourceHotline, cases.SourceHotline, cases.SourceEnterprise, cases.SourceVisit}
	sevs    = []sla.Severity{sla.Normal, sla.Normal, sla.Normal, sla.Normal, sla.Normal, sla.Normal, sla.Urgent, sla.Urgent, sla.Critical}
	surname = []rune("张王李赵刘陈杨黄周吴")
)

func pickState(x float64, cuts []float64, states []cases.State) cases.State {
	for i, c := range cuts {
		if x < c {
			return states[i]
		}
	}
	return states[len(states)-1]
}

// target picks how far a case of this age went. Old cases are almost all
// closed (or rejected); a few stay open (parked, or stuck in handling and
// long overdue); recent ones are spread over the loop.
func target(rnd *rand.Rand, age time.Duration) cases.State {
	x := rnd.Float64()
	switch {
	case age > 90*24*time.Hour:
		return pickState(x, []float64{0.05, 0.992, 0.996}, []cases.State{cases.Rejected, cases.Closed, cases.Handling, cases.Parked})
	case age > 15*24*time.Hour:
		return pickState(x, []float64{0.05, 0.95, 0.98}, []cases.State{cases.Rejected, cases.Closed, cases.Handling, cases.Parked})
	case age > 3*24*time.Hour:
		return pickState(x, []float64{0.05, 0.65, 0.72, 0.9, 0.95}, []cases.State{cases.Rejected, cases.Closed, cases.FedBack, cases.Handling, cases.Dispatched, cases.Parked})
	default:
		return pickState(x, []float64{0.15, 0.27, 0.42, 0.7, 0.82}, []cases.State{cases.Reported, cases.Accepted, cases.Dispatched, cases.Handling, cases.FedBack, cases.Closed})
	}
}

func minutes(rnd *rand.Rand, lo, hi int) time.Duration {
	return time.Duration(lo+rnd.IntN(hi-lo+1)) * time.Minute
}

// joint returns the departments a street whistle (街道吹哨、部门报到) on a
// dispatched case of the board summons besides the lead unit, and the share
// of such cases that get one: hazards and public works that need several
// departments on site. About 3% of dispatched cases in all.
func joint(b cases.Board) ([]string, float64) {
	switch b {
	case cases.BoardSafety:
		return []string{"yj", "xf", "ga", "scjg", "zj"}, 0.06
	case cases.BoardServices:
		return []string{"cg", "zj", "sthj", "jt", "gh"}, 0.03
	}
	return nil, 0
}

// summon picks the units of a whistle: the lead unit and one or two others
// from the pool.
func (g *gen) summon(rnd *rand.Rand, pool []string, lead string) []cases.PartyRef {
	out := []cases.PartyRef{{UnitID: lead, Name: g.units[lead].Name}}
	want := 2 + rnd.IntN(2)
	for _, k := range rnd.Perm(len(pool)) {
		u := pool[k]
		if _, ok := g.units[u]; !ok || u == lead {
			continue
		}
		out = append(out, cases.PartyRef{UnitID: u, Name: g.units[u].Name})
		if len(out) == want {
			break
		}
	}
	return out
}

// near is where a summoned unit reports in from: within about 350 m of the
// case's point, so most count as on site (cases.OnSiteRadius) and some not.
func near(rnd *rand.Rand, p geo.Point) *geo.Point {
	return &geo.Point{Lng: p.Lng + (rnd.Float64()-0.5)*0.005, Lat: p.Lat + (rnd.Float64()-0.5)*0.005}
}

// partyRating is how the whistler rates a party: by whether it came, and in time.
func partyRating(rnd *rand.Rand, p cases.Party) cases.Rating {
	switch {
	case !p.Reported():
		return cases.Unsatisfied
	case p.Late:
		return []cases.Rating{cases.BasicSatisfied, cases.BasicSatisfied, cases.Unsatisfied}[rnd.IntN(3)]
	}
	return []cases.Rating{cases.Satisfied, cases.Satisfied, cases.Satisfied, cases.BasicSatisfied}[rnd.IntN(4)]
}

// one plays a case from its report as far as its age and a random outcome
// allow, through the real state machine (cases.New, cases.Apply), like the
// Yuzhong demo does. A duplicate (s.merge) is merged into the earlier case
// at once; some dispatched cases get a street whistle (see joint), whose
// units report in, sometimes meet, and leave and are rated once the case
// is closed.
func (g *gen) one(s spec) (cases.Case, []cases.Step, error) {
	rnd := rand.New(rand.NewPCG(s.seed, 0x5ca1e))
	gr := g.tree.Grids[s.grid]
	cat := g.cats[s.cat]
	pol := g.policies[s.cat]
	street := g.streets[gr.Street]
	pt := randomPoint(rnd, gr)
	source := sources[rnd.IntN(len(sources))]
	reporter := cases.Actor{AccountID: "gw-" + gr.Code, Name: gr.Name + "网格员", Role: cases.RoleGridWorker, RegionPath: gr.Path}
	commander := cases.Actor{Name: street.Name + "值班指挥长", Role: cases.RoleCommander, RegionPath: street.Path}
	rep := reporter
	switch source {
	case cases.SourceHotline, cases.SourceEnterprise, cases.SourceVisit:
		rep = commander
	}
	kw := cat.Keywords[rnd.IntN(len(cat.Keywords))]
	r := cases.Report{
		Source: source, Point: &pt, Category: cat.Code, Severity: sevs[rnd.IntN(len(sevs))],
		Address:     gr.CommunityName + places[rnd.IntN(len(places))],
		Description: fmt.Sprintf("%s%s发现%s问题（%s），请尽快处理。", gr.CommunityName, places[rnd.IntN(len(places))], cat.Name, kw),
		Answers:     demo.Answers(cat, s.at),
	}
	if source == cases.SourceResident || source == cases.SourceHotline {
		r.Reporter = cases.Reporter{Name: "居民" + string(surname[rnd.IntN(len(surname))]) + "先生", Phone: fmt.Sprintf("139%08d", rnd.IntN(100000000))}
	}
	age := g.now.Sub(s.at)
	onSpot := s.merge == "" && rep.Role == cases.RoleGridWorker && rnd.Float64() < 0.12 && (cat.Level == "grid" || cat.Level == "community")
	if onSpot {
		r.OnSpot, r.Note, r.Photos = true, "已现场劝导整改完毕", []cases.Photo{onSpotPhoto}
	}
	place := cases.Placement{GridCode: gr.Code, RegionPath: gr.Path, CenterPath: street.Path}
	c, step, err := cases.New(r, cat, place, s.id, s.number, rep, pol, s.at)
	if err != nil {
		return c, nil, err
	}
	step.ID = id.At(s.at)
	steps := []cases.Step{step}
	if onSpot {
		return c, steps, nil
	}
	at := s.at
	do := func(actor cases.Actor, cmd cases.Command, delay time.Duration) bool {
		next := at.Add(delay)
		if next.After(g.now) {
			return false
		}
		n, st, err := cases.Apply(c, cmd, actor, pol, next)
		if err != nil {
			panic(fmt.Sprintf("scale: step %s on %s: %v", cmd.Action, c.State, err))
		}
		st.ID = id.At(next)
		c, at = n, next
		steps = append(steps, st)
		return true
	}
	if s.merge != "" {
		do(commander, cases.Command{Action: cases.ActMerge, Target: s.merge, Note: "重复上报，合并办理"}, minutes(rnd, 3, 40))
		return c, steps, nil
	}
	want := target(rnd, age)
	if want == cases.Reported {
		return c, steps, nil
	}
	if want == cases.Rejected {
		do(commander, cases.Command{Action: cases.ActReject, Note: "经核实不属于受理范围"}, minutes(rnd, 3, 50))
		return c, steps, nil
	}
	if !do(commander, cases.Command{Action: cases.ActAccept}, minutes(rnd, 3, 40)) || want == cases.Accepted {
		return c, steps, nil
	}
	lead := cat.DefaultUnit
	if lead == "" {
		// A street matter with no default department: the city-scale
		// installation has one shared section per board (it does not model
		// every street's boards and posts).
		lead = boardSection[cat.Board]
	}
	var co []string
	if rnd.Float64() < 0.08 {
		for _, u := range []string{"scjg", "cg", "ga", "zj"} {
			if u != lead {
				co = append(co, u)
				break
			}
		}
	}
	if !do(commander, cases.Command{Action: cases.ActDispatch, Lead: lead, Co: co}, minutes(rnd, 3, 35)) {
		return c, steps, nil
	}
	// The street whistle: the units report in one after another against a
	// 30-minute limit (so the later ones are often late), a few never come;
	// half the whistles lead to a dispatch meeting with one decision.
	decision := ""
	if pool, share := joint(cat.Board); share > 0 && rnd.Float64() < share {
		parties := g.summon(rnd, pool, lead)
		if !do(commander, cases.Command{Action: cases.ActWhistle, Parties: parties, Note: "需多部门联合处置，吹哨相关部门到场"}, minutes(rnd, 2, 30)) {
			return c, steps, nil
		}
		for _, p := range parties {
			if rnd.Float64() < 0.08 {
				continue
			}
			if !do(g.unitActor(p.UnitID), cases.Command{Action: cases.ActReportIn, Point: near(rnd, pt)}, minutes(rnd, 3, 20)) {
				return c, steps, nil
			}
		}
		if rnd.Float64() < 0.5 {
			d := parties[rnd.IntN(len(parties))]
			delay := minutes(rnd, 10, 60)
			due := at.Add(delay + time.Duration(24+rnd.IntN(49))*time.Hour)
			if !do(commander, cases.Command{Action: cases.ActMeeting, WhistleID: "w1", Note: "现场调度会", Meeting: &cases.MeetingInput{
				Kind: cases.MeetingDispatch, Place: gr.CommunityName + "现场",
				Decisions: []cases.DecisionInput{{Text: "限期完成联合整治并反馈", UnitID: d.UnitID, UnitName: d.Name, Due: due}},
			}}, delay) {
				return c, steps, nil
			}
			decision = d.UnitID
		}
	}
	if want == cases.Dispatched {
		return c, steps, nil
	}
	ua := g.unitActor(lead)
	if !do(ua, cases.Command{Action: cases.ActSign}, minutes(rnd, 5, 200)) {
		return c, steps, nil
	}
	for _, u := range co {
		if !do(g.unitActor(u), cases.Command{Action: cases.ActSign}, minutes(rnd, 5, 60)) {
			return c, steps, nil
		}
	}
	if want == cases.Parked {
		if do(ua, cases.Command{Action: cases.ActParkRequest, Note: "需等待维修资金到位", Until: at.Add(60 * 24 * time.Hour)}, minutes(rnd, 60, 600)) &&
			do(commander, cases.Command{Action: cases.ActParkApprove}, minutes(rnd, 10, 120)) {
			// A park that has ended was resumed by its timer, as the sweeper does.
			do(cases.System, cases.Command{Action: cases.ActResume, Note: "挂账期满，自动恢复处置"}, c.ParkedUntil.Sub(at))
		}
		return c, steps, nil
	}
	if want == cases.Handling {
		do(ua, cases.Command{Action: cases.ActHandle, Note: "已安排人员现场处置"}, minutes(rnd, 30, 300))
		return c, steps, nil
	}
	if decision != "" && rnd.Float64() < 0.85 {
		do(g.unitActor(decision), cases.Command{Action: cases.ActDecisionDone, DecisionID: "d1", Note: "已按调度会要求落实"}, minutes(rnd, 60, 1440))
	}
	// Feed back after 20%–130% of the handling limit, so some are late.
	lt := c.Tasks[c.LeadTask()].Handle
	span := lt.Due.Sub(lt.Start)
	delay := time.Duration(float64(span)*(0.2+rnd.Float64()*1.1)) - at.Sub(lt.Start)
	if delay < time.Minute {
		delay = time.Minute
	}
	for _, u := range co {
		// A co-unit that has not fed back by now holds the case open: the
		// reporter's passing check would be refused (only the center may
		// close over an unfinished co-unit, saying why).
		if !do(g.unitActor(u), cases.Command{Action: cases.ActFeedback, Note: "已配合完成"}, minutes(rnd, 30, 600)) {
			return c, steps, nil
		}
	}
	if !do(ua, cases.Command{Action: cases.ActFeedback, Note: "已处置完毕，现场恢复正常"}, delay) || want == cases.FedBack {
		return c, steps, nil
	}
	pass := rnd.Float64() >= 0.05
	if !do(reporter, cases.Command{Action: cases.ActVerify, Passed: &pass, Note: map[bool]string{true: "现场核查已整改", false: "现场核查仍未整改到位"}[pass]}, minutes(rnd, 30, 900)) {
		return c, steps, nil
	}
	if !pass {
		if !do(ua, cases.Command{Action: cases.ActFeedback, Note: "返工完成"}, minutes(rnd, 120, 2000)) {
			return c, steps, nil
		}
		yes := true
		if !do(reporter, cases.Command{Action: cases.ActVerify, Passed: &yes, Note: "复核通过"}, minutes(rnd, 30, 600)) {
			return c, steps, nil
		}
	}
	if rnd.Float64() < 0.6 {
		rt := []cases.Rating{cases.Satisfied, cases.Satisfied, cases.Satisfied, cases.Satisfied, cases.BasicSatisfied, cases.BasicSatisfied, cases.Unsatisfied}[rnd.IntN(7)]
		do(commander, cases.Command{Action: cases.ActRate, Rating: rt, Note: "电话回访"}, minutes(rnd, 60, 2880))
	}
	// The case is closed: the units that came leave (事不完、人不撤), and the
	// commander rates most parties of the whistle.
	if len(c.Whistles) > 0 {
		parties := c.Whistles[0].Parties
		for _, p := range parties {
			if p.Reported() && !do(g.unitActor(p.UnitID), cases.Command{Action: cases.ActLeave}, minutes(rnd, 10, 240)) {
				return c, steps, nil
			}
		}
		for _, p := range parties {
			if rnd.Float64() < 0.7 && !do(commander, cases.Command{Action: cases.ActRateParty, WhistleID: "w1", PartyKey: p.Key, Rating: partyRating(rnd, p)}, minutes(rnd, 5, 600)) {
				return c, steps, nil
			}
		}
	}
	return c, steps, nil
}

func (g *gen) unitActor(unitID string) cases.Actor {
	return cases.Actor{Name: g.units[unitID].Name + "承办人", Role: cases.RoleUnit, UnitID: unitID}
}

func randomPoint(rnd *rand.Rand, gr Grid) geo.Point {
	b := gr.Shape.Bounds()
	for range 200 {
		p := geo.Point{Lng: b.Min.Lng + rnd.Float64()*(b.Max.Lng-b.Min.Lng), Lat: b.Min.Lat + rnd.Float64()*(b.Max.Lat-b.Min.Lat)}
		if gr.Shape.Contains(p) {
			return p
		}
	}
	return gr.Shape.Centroid()
}

// build turns a chunk of specs into COPY rows with the same columns and
// values the store writes (store.Tx.InsertCase, insertStep, syncUnits,
// syncClocks). Clock events already past at g.now are marked fired, as the
// sweeper would have left them (the warning steps themselves are not
// generated), so the first sweep after the load has only what falls due
// from then on; an open case past due at g.now was last changed when it
// fell due, as by its red warning.
func (g *gen) build(specs []spec) (*rows, error) {
	out := &rows{cases: make([][]any, 0, len(specs)), steps: make([][]any, 0, len(specs)*6),
		facts: make([][]any, 0, len(specs)), rollups: store.NewRollupAgg()}
	nowMs := g.now.UnixMilli()
	for _, s := range specs {
		c, steps, err := g.one(s)
		if err != nil {
			return nil, fmt.Errorf("case %s: %w", s.number, err)
		}
		if due := c.Due(); !due.IsZero() && due.Before(g.now) && c.UpdatedAt.Before(due) && c.State != cases.Held {
			// The red warning would have changed the case when its first
			// clock fell due (cases.Case.Red, the overdue gauge).
			c.UpdatedAt = due
		}
		doc, err := json.Marshal(&c)
		if err != nil {
			return nil, err
		}
		lv := strings.Split(strings.Trim(c.RegionPath, "/"), "/")
		var closed, due any
		if !c.ClosedAt.IsZero() {
			closed = c.ClosedAt.UnixMilli()
			out.closed++
		} else {
			out.open++
		}
		out.whistles += len(c.Whistles)
		if c.State == cases.Merged {
			out.merged++
		}
		if first := c.Due(); !first.IsZero() {
			due = first.UnixMilli()
			if first.Before(g.now) {
				out.overdue++
			}
		}
		wasOverdue := 0
		if c.WasOverdue {
			wasOverdue = 1
		}
		// The text is short (a number, a one-sentence description from
		// the template above, an address: under 300 bytes), so it always
		// goes in body, as the store writes a text of at most
		// store.MaxInlineBody bytes on either engine (body_long is left
		// NULL, caseCols).
		body := c.Number + " " + c.Description + " " + c.Address
		if len(body) > store.MaxInlineBody {
			return nil, fmt.Errorf("case %s: text of %d bytes, longer than the generator writes (%d)", c.Number, len(body), store.MaxInlineBody)
		}
		item, err := store.ItemDoc(&c)
		if err != nil {
			return nil, err
		}
		out.cases = append(out.cases, []any{lv[1], lv[2], lv[3], c.ID, c.Number, int32(c.Version), string(c.State), string(c.Source), c.Category, c.Board,
			string(c.Severity), c.GridCode, c.RegionPath, c.CenterPath, c.Point.Lng, c.Point.Lat, c.Reporter.AccountID, c.ReportedAt.UnixMilli(),
			c.UpdatedAt.UnixMilli(), closed, due, int32(wasOverdue), body, c.ClientRef, string(doc), item})
		for i := range steps {
			sd, err := json.Marshal(&steps[i])
			if err != nil {
				return nil, err
			}
			st := &steps[i]
			out.steps = append(out.steps, []any{st.ID, st.CaseID, int32(st.Seq), st.At.UnixMilli(), string(st.Action), string(sd)})
		}
		// The evaluation's facts, as the rollups loop would apply them.
		facts := evaluation.Facts(&c, steps, g.loc)
		fd, err := store.FactsDoc(facts)
		if err != nil {
			return nil, err
		}
		out.facts = append(out.facts, []any{c.ID, fd})
		if d := evaluation.DayOf(c.ReportedAt, g.loc); out.firstDay == 0 || d < out.firstDay {
			out.firstDay = d
		}
		out.rollups.Add(facts)
		units, people := store.CaseLinks(&c)
		if len(people) > 0 {
			// The generator whistles units only; case_people is not loaded.
			return nil, fmt.Errorf("scale: case %s summons people", c.ID)
		}
		for _, u := range units {
			out.units = append(out.units, []any{c.ID, u.UnitID, u.Role, u.State})
		}
		for _, r := range c.Timers() {
			dueMs, yMs := r.Clock.Due.UnixMilli(), r.Clock.YellowAt.UnixMilli()
			escMs := r.Clock.Due.Add(g.rule.EscalateAfter).UnixMilli()
			times := [3]int64{yMs, dueMs, escMs}
			var fired [3]int32
			if g.rule.EscalateAfter <= 0 {
				fired[2] = 1
			}
			var next any
			for i, t := range times {
				if fired[i] == 0 && t <= nowMs {
					fired[i] = 1
				}
				if fired[i] == 0 && next == nil {
					next = t
				}
			}
			out.clocks = append(out.clocks, []any{c.ID, r.Key, dueMs, yMs, escMs, fired[0], fired[1], fired[2], next})
		}
	}
	return out, nil
}

// Duplicates: a report is merged into the latest earlier case of its
// category in its street when that case is at most mergeWindow old, with
// probability mergeShare. At Chongqing scale such a case almost always exists
// (one per street and category every few days), so about 2% of all reports
// are merged; smaller runs, with sparser streets, have fewer.
const (
	mergeShare  = 0.024
	mergeWindow = 7 * 24 * time.Hour
)

// planner makes the specs in report-time order: the time, the grid
// (weighted by district), the category, the case ID (here, so that a later
// duplicate can name it), the case number from per-center, per-day counters,
// as the service numbers reports, and whether it duplicates an earlier case.
type planner struct {
	rnd      *rand.Rand
	pick     []int     // the grids cases fall in (indexes into grids): all, or one district's
	cum      []float64 // cumulative weights of the pick
	ncat     int
	start    time.Time
	span     time.Duration
	n        int
	counters map[string]int64
	streets  []store.RegionRecord
	grids    []Grid
	latest   []earlier // per street and category: the latest case that is no duplicate
}

// earlier is a case a later duplicate can be merged into.
type earlier struct {
	id string
	at time.Time
}

// newPlanner plans n cases over the grids of the district with that code,
// or of the whole city if district is "". Within a district the weights are
// the city's; the random draws are the same, so a seed gives the same plan.
func newPlanner(t *Tree, ncat int, now time.Time, years, n int, seed uint64, district string) *planner {
	p := &planner{rnd: rand.New(rand.NewPCG(seed, 7790000)), ncat: ncat, n: n, counters: map[string]int64{}, streets: t.Streets, grids: t.Grids,
		latest: make([]earlier, len(t.Streets)*ncat)}
	p.span = time.Duration(years) * 365 * 24 * time.Hour
	p.start = now.Add(-p.span)
	var sum float64
	for i, g := range t.Grids {
		if district != "" && t.Districts[g.District].Code != district {
			continue
		}
		sum += g.Weight
		p.pick = append(p.pick, i)
		p.cum = append(p.cum, sum)
	}
	return p
}

// spec returns case i of n: report times are spread evenly over the span, in
// order (so IDs sort by time), with a second of jitter.
func (p *planner) spec(i int) spec {
	at := p.start.Add(time.Duration(float64(p.span) * (float64(i) + 0.5) / float64(p.n))).Truncate(time.Millisecond)
	x := p.rnd.Float64() * p.cum[len(p.cum)-1]
	k := sort.SearchFloat64s(p.cum, x)
	if k >= len(p.cum) {
		k = len(p.cum) - 1
	}
	gi := p.pick[k]
	street := p.grids[gi].Street
	center := p.streets[street].Code
	day := at.In(shanghai).Format("20060102")
	key := "case:" + center + ":" + day
	p.counters[key]++
	s := spec{at: at, grid: gi, cat: p.rnd.IntN(p.ncat), seed: p.rnd.Uint64(), id: id.At(at),
		number: fmt.Sprintf("%s-%s-%04d", center, day, p.counters[key])}
	// A duplicate points at the original, never at another duplicate.
	e := &p.latest[street*p.ncat+s.cat]
	if e.id != "" && at.Sub(e.at) <= mergeWindow && p.rnd.Float64() < mergeShare {
		s.merge = e.id
	} else {
		*e = earlier{s.id, at}
	}
	return s
}
