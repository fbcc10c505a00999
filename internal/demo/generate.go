package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"zhizhi/internal/calendar"
	"zhizhi/internal/cases"
	"zhizhi/internal/id"
	"zhizhi/internal/leaders"
	"zhizhi/internal/routing"
	"zhizhi/internal/sla"
	"zhizhi/internal/store"
)

type generator struct {
	svc interface {
		Policy(cases.Category) cases.Policy
		ClockRule() store.ClockRule
		Category(string) (cases.Category, bool)
		Unit(string) (cases.Unit, bool)
		Units() []cases.Unit
		DB() *store.DB
		Reload(context.Context) error
		AssignSecretary(ctx context.Context, actor cases.Actor, leaderID, secretaryID string) (leaders.Secretary, error)
	}
	w      *world
	rnd    *rand.Rand
	now    time.Time
	photos []cases.Photo
	actors map[string]cases.Actor
	recent map[string][]earlier // category and community → cases generated so far, for duplicates

	units      []cases.Unit
	byUnit     map[string]cases.Actor // unit ID → the account acting for it
	commanders map[string]cases.Actor // street path → its commander
	gridWorker map[string]cases.Actor // grid path → its grid worker's account
	cal        *calendar.Calendar     // the working calendar, for desks' hours
	s5         *cases.Case            // scenario S5's case, for its project (leaders.go)
}

// index finds the demo accounts that act for units, streets and grids.
func (g *generator) index() {
	g.units = g.svc.Units()
	g.byUnit, g.commanders, g.gridWorker = map[string]cases.Actor{}, map[string]cases.Actor{}, map[string]cases.Actor{}
	names := make([]string, 0, len(g.actors))
	for n := range g.actors {
		names = append(names, n)
	}
	sort.Strings(names)
	chosen := map[string]string{}
	for _, n := range names {
		a := g.actors[n]
		switch {
		case a.UnitID != "" && (a.Role == cases.RoleUnit || a.Role == cases.RoleCommunity):
			// A unit's own desk rather than its board head; a community's
			// named secretary (吴中兰) rather than the generic account.
			if prev, ok := chosen[a.UnitID]; !ok || strings.HasSuffix(prev, "_head") || strings.HasPrefix(prev, "sq0") && !strings.HasSuffix(n, "_head") {
				g.byUnit[a.UnitID], chosen[a.UnitID] = a, n
			}
		case a.Role == cases.RoleCommander && routing.Depth(a.RegionPath) == 3:
			g.commanders[a.RegionPath] = a
		case a.Role == cases.RoleGridWorker:
			g.gridWorker[a.RegionPath] = a
		}
	}
	for _, st := range g.w.streets {
		if _, ok := g.commanders[st.Path]; !ok {
			g.commanders[st.Path] = cases.Actor{Name: st.Name + "值班指挥长", Role: cases.RoleCommander, RegionPath: st.Path}
		}
	}
}

// earlier is a generated case a later report may duplicate.
type earlier struct {
	id string
	at time.Time
}

// pending is one generated case with its whole timeline.
type pending struct {
	c     cases.Case
	steps []cases.Step
}

var places = []string{"路口", "小区门口", "楼栋旁", "人行道", "菜市场", "公交站", "背街小巷", "梯坎", "商铺前", "停车场"}

func (g *generator) pick(n int) int { return g.rnd.IntN(n) }

func (g *generator) chance(p float64) bool { return g.rnd.Float64() < p }

func (g *generator) minutes(lo, hi int) time.Duration {
	return time.Duration(lo+g.rnd.IntN(hi-lo+1)) * time.Minute
}

// reportTime picks a time in the last days, mostly in daytime (Shanghai).
func (g *generator) reportTime(days int) time.Time {
	for {
		t := g.now.Add(-time.Duration(g.rnd.Float64() * float64(time.Duration(days)*24*time.Hour)))
		h := t.In(shanghai).Hour()
		if h >= 7 && h <= 21 || g.chance(0.15) {
			return t.Truncate(time.Second)
		}
	}
}

var shanghai = time.FixedZone("CST", 8*3600)

func lastSeg(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	return parts[len(parts)-1]
}

func streetOf(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if len(parts) > 3 {
		parts = parts[:3]
	}
	return "/" + strings.Join(parts, "/") + "/"
}

func (g *generator) unitActor(unitID string) cases.Actor {
	u, _ := g.svc.Unit(unitID)
	if u.Kind == cases.UnitCommunity {
		return cases.Actor{Name: u.Name + "工作人员", Role: cases.RoleCommunity, UnitID: unitID, RegionPath: u.RegionPath}
	}
	return cases.Actor{Name: u.Name + "承办人", Role: cases.RoleUnit, UnitID: unitID}
}

// history generates n cases over the last six months in every state.
func (g *generator) history(ctx context.Context, n int) error {
	// Grid and community matters come up most often.
	var cats []cases.Category
	for _, c := range Categories() {
		k := 1
		switch c.Level {
		case "grid":
			k = 4
		case "community":
			k = 2
		}
		for ; k > 0; k-- {
			cats = append(cats, c)
		}
	}
	var batch []pending
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := g.svc.DB().Write(ctx, func(tx *store.Tx) error {
			for i := range batch {
				if err := g.insert(ctx, tx, &batch[i]); err != nil {
					return err
				}
			}
			return nil
		})
		batch = batch[:0]
		return err
	}
	for i := 0; i < n; i++ {
		cat := cats[g.pick(len(cats))]
		grid := g.w.grids[g.pick(len(g.w.grids))]
		p, err := g.one(cat, g.reportTime(182), grid, nil)
		if err != nil {
			return fmt.Errorf("demo case %d: %w", i, err)
		}
		batch = append(batch, p)
		if len(batch) == 250 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

func (g *generator) insert(ctx context.Context, tx *store.Tx, p *pending) error {
	day := p.c.ReportedAt.In(shanghai).Format("20060102")
	center := lastSeg(p.c.CenterPath)
	num, err := tx.NextNumber(ctx, "case:"+center+":"+day)
	if err != nil {
		return err
	}
	p.c.Number = fmt.Sprintf("%s-%s-%04d", center, day, num)
	first := p.steps[0]
	if err := tx.InsertCase(ctx, &p.c, &first, g.svc.ClockRule()); err != nil {
		return err
	}
	return tx.InsertSteps(ctx, p.steps[1:])
}

// On-time rate. The console and the dashboard count a street's on-time rate
// as service.StatRow.OnTimeRate does (store.CaseStats): cases closed that
// were never overdue (was_overdue false: no case clock, no task's sign or
// handling clock ever ran past its due while it ran), over the closed cases
// plus the open ones whose running clock is already past due now; rejected
// and merged cases do not count. So the generator keeps most cases inside
// every clock (accept and dispatch within minutes, signing within the sign
// limit, feedback within the handling limit or an approved extension,
// verification within its limit), lets a minority of cases run late, each
// with a reason in its timeline, and stops an open case at a state only while
// its running clock is still within its limit.

// lateShare is the share of a street's cases that run past a limit; it
// differs a little from street to street, as real streets do.
func lateShare(streetCode string) float64 {
	var h uint32
	for _, r := range streetCode {
		h = h*31 + uint32(r)
	}
	return 0.09 + float64(h%3)*0.01
}

// before returns a delay from at that lands before due: a random share of
// what is left, at least lo when that still fits, moved into the working day
// when the action is a desk's work and the morning is still in time.
func (g *generator) before(at, due time.Time, lo time.Duration, desk bool) time.Duration {
	left := due.Sub(at)
	if left <= 2*time.Minute {
		return left / 2
	}
	share := 0.08 + 0.6*g.rnd.Float64()
	d := time.Duration(float64(left) * share)
	if d < lo && lo < left*9/10 {
		d = lo
	}
	if w := time.Duration(0); desk && g.cal != nil {
		// A desk works in working hours: the same share of the working
		// time left, when there is some.
		if w = g.cal.WorkingBetween(at, due); w > 10*time.Minute {
			if wd := g.cal.AddWorking(at, time.Duration(float64(w)*share)).Sub(at); wd > 0 && wd < left && (wd >= lo || lo >= left*9/10) {
				return wd.Truncate(time.Second) + time.Second
			}
		}
	}
	if desk {
		t := at.Add(d).In(shanghai)
		if h := t.Hour(); h < 8 || h >= 20 {
			day := t
			if h >= 20 {
				day = t.AddDate(0, 0, 1)
			}
			m := time.Date(day.Year(), day.Month(), day.Day(), 8, 30, 0, 0, shanghai).Add(g.minutes(0, 90))
			if m.Before(due.Add(-time.Minute)) && m.After(at) {
				d = m.Sub(at)
			}
		}
	}
	if d >= left {
		d = left - time.Minute
	}
	if d < time.Second {
		d = time.Second
	}
	return d.Truncate(time.Second)
}

// after returns a delay that lands past due: by an hour to two days.
func (g *generator) after(at, due time.Time) time.Duration {
	d := due.Sub(at)
	if d < 0 {
		d = 0
	}
	return d + g.minutes(60, 2880)
}

// deskActor is the demo account that acts for a unit (a post's or
// section's desk, a department's staff, a community's secretary), or a
// stand-in with the unit's name when the demo has no account for it.
func (g *generator) deskActor(unitID string) cases.Actor {
	if a, ok := g.byUnit[unitID]; ok {
		return a
	}
	return g.unitActor(unitID)
}

// works are the categories whose handling is building work, where weather,
// materials and the repair fund hold things up.
var works = map[string]bool{"AQ03": true, "AQ05": true, "AQ08": true, "MS01": true, "MS02": true, "MS04": true, "MS05": true,
	"MS06": true, "MS07": true, "MS08": true, "MS09": true, "MS10": true, "MS15": true}

// lateReasons explain a late feedback in its note: for works, then for the
// rest.
var lateReasons = [2][]string{{
	"因连续降雨无法施工，延后处置，现已完成",
	"材料采购周期较长，现已完成维修",
	"因需协调产权单位，处置时间超出时限，现已处置完毕",
}, {
	"当事人多次联系未果，经上门做工作后已处置完毕",
	"涉及多个部门会商，处置超期，现已办结",
	"诉求人外出，约定时间上门后已办结",
}}

// extensionReasons are units' reasons for asking more time.
var extensionReasons = [2][]string{{
	"需协调物业及产权单位共同处置，申请延期",
	"需等待专业施工队伍进场，申请延期",
	"涉及维修资金使用，需征求业主意见，申请延期",
	"天气原因无法施工，申请延期",
}, {
	"需协调相关单位共同处置，申请延期",
	"诉求人近期外出，需约定时间上门，申请延期",
	"需进一步核实情况并制定方案，申请延期",
}}

// reason picks a reason for the category from a pair of lists.
func (g *generator) reason(cat string, lists [2][]string) string {
	l := lists[1]
	if works[cat] {
		l = lists[0]
	}
	return l[g.pick(len(l))]
}

// one plays a case from its report as far as its age and a random outcome
// allow, through the real state machine.
func (g *generator) one(cat cases.Category, t time.Time, grid store.RegionRecord, rep *cases.Actor) (pending, error) {
	return g.oneFrom(cat, t, grid, rep, "")
}

// oneFrom is one with the source given ("" picks one as one does).
func (g *generator) oneFrom(cat cases.Category, t time.Time, grid store.RegionRecord, rep *cases.Actor, source cases.Source) (pending, error) {
	pt := randomPoint(g.rnd, grid.Shape)
	comm := g.w.byCode[grid.ParentCode]
	street := g.w.byCode[comm.ParentCode]
	streetPath := streetOf(grid.Path)
	// Enterprises ask about economic matters; grid workers find the rest on
	// patrol, residents and the 12345 hotline report them. Leaders' visits
	// raise theirs as visits (scenarioLeaders), never at random here.
	switch {
	case source != "":
	case cat.Board == cases.BoardEconomy:
		source = []cases.Source{cases.SourceEnterprise, cases.SourceEnterprise, cases.SourceEnterprise, cases.SourceHotline, cases.SourceHotline}[g.pick(5)]
	default:
		source = []cases.Source{cases.SourcePatrol, cases.SourcePatrol, cases.SourcePatrol, cases.SourceResident, cases.SourceHotline, cases.SourceHotline, cases.SourcePatrol}[g.pick(7)]
	}
	reporter := cases.Actor{Name: grid.Name + "网格员", Role: cases.RoleGridWorker, RegionPath: grid.Path}
	if a, ok := g.gridWorker[grid.Path]; ok {
		reporter = a
	}
	if rep != nil {
		reporter, source = *rep, cases.SourcePatrol
	}
	commander := g.commanders[streetPath]
	by := reporter
	switch source {
	case cases.SourceHotline, cases.SourceEnterprise, cases.SourceVisit:
		by = commander
	}
	where := g.place(street.Name, comm.Name)
	r := cases.Report{
		Source: source, Point: &pt, Category: cat.Code,
		Address:     where,
		Description: g.describe(cat, source, street.Name, comm.Name, where, t),
		Severity:    []sla.Severity{sla.Normal, sla.Normal, sla.Normal, sla.Normal, sla.Normal, sla.Normal, sla.Normal, sla.Urgent, sla.Urgent, sla.Critical}[g.pick(10)],
		Answers:     Answers(cat, t),
	}
	if source == cases.SourceResident || source == cases.SourceHotline {
		r.Reporter = cases.Reporter{Name: "居民" + string([]rune("张王李赵刘陈杨黄周吴")[g.pick(10)]) + []string{"先生", "女士", "大爷", "阿姨"}[g.pick(4)], Phone: fmt.Sprintf("139%08d", g.pick(100000000))}
	}
	age := g.now.Sub(t)
	onSpotShare := 0.15
	if rep != nil {
		onSpotShare = 0.85 // 小杨 sorts most of the group's requests out at once
	}
	onSpot := by.Role == cases.RoleGridWorker && (cat.Level == "grid" || cat.Level == "community" && rep == nil) && g.chance(onSpotShare)
	if onSpot {
		r.OnSpot, r.Photos, r.Note = true, g.photos[2:3], onSpotNotes[g.pick(len(onSpotNotes))]
	}
	place := cases.Placement{GridCode: grid.Code, RegionPath: grid.Path, CenterPath: streetPath}
	pol := g.svc.Policy(cat)
	g.cal = pol.Calendar
	c, step, err := cases.New(r, cat, place, id.At(t), "", by, pol, t)
	if err != nil {
		return pending{}, err
	}
	step.ID = id.At(t)
	p := pending{c: c, steps: []cases.Step{step}}
	if onSpot {
		return p, nil
	}
	// How far this case goes: older cases are mostly closed. An open case
	// stops at its state only while its running clock is within its limit
	// (stop); a few old ones are left stuck on purpose.
	var target cases.State
	x := g.rnd.Float64()
	switch {
	case age > 20*24*time.Hour:
		target = pickState(x, []float64{0.03, 0.99, 0.995}, []cases.State{cases.Rejected, cases.Closed, cases.Handling, cases.Parked})
	case age > 3*24*time.Hour:
		target = pickState(x, []float64{0.04, 0.7, 0.76, 0.9, 0.95}, []cases.State{cases.Rejected, cases.Closed, cases.FedBack, cases.Handling, cases.Dispatched, cases.Parked})
	default:
		target = pickState(x, []float64{0.1, 0.2, 0.32, 0.62, 0.78}, []cases.State{cases.Reported, cases.Accepted, cases.Dispatched, cases.Handling, cases.FedBack, cases.Closed})
	}
	stuck := age > 20*24*time.Hour && target == cases.Handling
	stop := func(s cases.State) bool {
		return target == s && (stuck || !p.c.Overdue(g.now))
	}
	// Which limit, if any, this case runs past.
	late := ""
	if g.chance(lateShare(street.Code)) {
		late = pickLate(g.rnd.Float64())
	}
	at := t
	do := func(actor cases.Actor, cmd cases.Command, delay time.Duration) bool {
		next := at.Add(delay)
		if next.After(g.now) {
			return false
		}
		n, s, err := cases.Apply(p.c, cmd, actor, pol, next)
		if err != nil {
			panic(fmt.Sprintf("demo step %s on %s (%s): %v", cmd.Action, p.c.State, p.c.Category, err))
		}
		s.ID = id.At(next)
		p.c, at = n, next
		p.steps = append(p.steps, s)
		return true
	}
	caseClock := func(lo time.Duration, stage string) time.Duration {
		if late == stage {
			return g.after(at, p.c.Clock.Due)
		}
		return g.before(at, p.c.Clock.Due, lo, false)
	}
	if stop(cases.Reported) {
		return p, nil
	}
	// Now and then the same problem was reported twice within a few days:
	// the center merges the later report into the earlier one.
	if g.recent == nil {
		g.recent = map[string][]earlier{}
	}
	key := cat.Code + comm.Code
	dup := ""
	for _, e := range g.recent[key] {
		if e.at.Before(t) && t.Sub(e.at) < 72*time.Hour {
			dup = e.id
			break
		}
	}
	g.recent[key] = append(g.recent[key], earlier{id: p.c.ID, at: t})
	if dup != "" && g.chance(0.3) {
		do(commander, cases.Command{Action: cases.ActMerge, Target: dup, Note: "与此前上报为同一问题，合并办理"}, caseClock(2*time.Minute, ""))
		return p, nil
	}
	if target == cases.Rejected {
		do(commander, cases.Command{Action: cases.ActReject, Note: rejectNotes[g.pick(len(rejectNotes))]}, caseClock(2*time.Minute, ""))
		return p, nil
	}
	if !do(commander, cases.Command{Action: cases.ActAccept}, caseClock(2*time.Minute, "accept")) || stop(cases.Accepted) {
		return p, nil
	}
	// The graded classification library decides who may take it: a
	// district matter is escalated to the district center, which dispatches
	// it across to a department.
	center := commander
	if routing.Owned(p.c.CenterPath, cat) != nil {
		if !do(commander, cases.Command{Action: cases.ActEscalate, Note: "属区级事项，上提区指挥中心", Parent: District}, g.before(at, p.c.Clock.Due, time.Minute, false)/2) {
			return p, nil
		}
		center = g.actors["qu_zhihui"]
	}
	leadUnit, ok := routing.Suggest(p.c.CenterPath, p.c.RegionPath, cat, g.units)
	if !ok {
		return p, nil
	}
	lead := leadUnit.ID
	// A board's B post takes a share of the cases when A is busy.
	if leadUnit.Kind == cases.UnitPost && strings.HasSuffix(lead, "-a") && g.chance(0.3) {
		if b, ok := g.svc.Unit(strings.TrimSuffix(lead, "-a") + "-b"); ok && routing.Dispatch(p.c.CenterPath, p.c.RegionPath, cat, b) == nil {
			lead = b.ID
		}
	}
	var co []string
	if leadUnit.Kind != cases.UnitCommunity && cat.DefaultUnit != "" && cat.DefaultUnit != lead && g.chance(0.12) {
		co = append(co, cat.DefaultUnit)
	}
	rule := &cases.RouteRule{Category: cat.Code, Version: cat.Version, Level: cat.Level}
	if !do(center, cases.Command{Action: cases.ActDispatch, Lead: lead, Co: co, Rule: rule}, caseClock(time.Minute, "dispatch")) || stop(cases.Dispatched) {
		return p, nil
	}
	ua := g.deskActor(lead)
	li := p.c.LeadTask()
	signDelay := g.before(at, p.c.Tasks[li].Sign.Due, 3*time.Minute, true)
	if late == "sign" {
		// The center urges a desk that lets its sign limit pass.
		if do(center, cases.Command{Action: cases.ActUrge, Note: "超时未签收，请立即签收办理"}, p.c.Tasks[li].Sign.Due.Sub(at)+g.minutes(5, 60)) {
			signDelay = g.minutes(10, 240)
		} else {
			return p, nil
		}
	}
	if !do(ua, cases.Command{Action: cases.ActSign}, signDelay) {
		return p, nil
	}
	for _, u := range co {
		if i := p.c.TaskOf(u); i >= 0 {
			do(g.deskActor(u), cases.Command{Action: cases.ActSign}, g.before(at, p.c.Tasks[i].Sign.Due, time.Minute, true))
		}
	}
	if target == cases.Parked && !works[cat.Code] {
		target = cases.Handling
	}
	if target == cases.Parked && !stuck {
		if do(ua, cases.Command{Action: cases.ActParkRequest, Note: parkReasons[g.pick(len(parkReasons))], Until: at.Add(time.Duration(30+g.pick(60)) * 24 * time.Hour)},
			g.before(at, p.c.Tasks[li].Handle.Due, 30*time.Minute, true)) {
			do(center, cases.Command{Action: cases.ActParkApprove}, g.before(at, p.c.Tasks[li].Handle.Due, 10*time.Minute, true))
		}
		if p.c.State == cases.Parked {
			return p, nil
		}
	}
	if g.chance(0.5) {
		do(ua, cases.Command{Action: cases.ActHandle, Note: handleNotes[g.pick(len(handleNotes))]}, g.before(at, p.c.Tasks[li].Handle.Due, 20*time.Minute, true))
	}
	if stuck {
		// Left open past its limit: the center has urged it, the district
		// supervises it.
		if do(center, cases.Command{Action: cases.ActUrge, Note: "已超过办理时限，请加快办理并说明原因"}, g.after(at, p.c.Tasks[li].Handle.Due)) {
			do(g.actors["qu_zhihui"], cases.Command{Action: cases.ActSupervise, Note: "超期未办结，列入区级督办"}, g.minutes(24*60, 5*24*60))
		}
		return p, nil
	}
	if stop(cases.Handling) {
		return p, nil
	}
	// Co-units feed back before the lead, within their own limits.
	for _, u := range co {
		if i := p.c.TaskOf(u); i >= 0 {
			due := p.c.Tasks[i].Handle.Due
			if d := p.c.Tasks[li].Handle.Due; d.Before(due) {
				due = d
			}
			// A co-unit's feedback still in the future leaves the case in
			// handling: the lead's feedback and the verification wait for it.
			if !do(g.deskActor(u), cases.Command{Action: cases.ActFeedback, Note: "已配合牵头单位完成处置", Photos: g.photos[1:2]}, g.before(at, due, 20*time.Minute, true)) {
				return p, nil
			}
		}
	}
	// Some units ask for more time before their limit and get it; a late
	// case may have asked and been refused, or not asked at all.
	extended := false
	if late == "handle" || g.chance(0.06) {
		by := sla.Limit{Amount: 2 + g.pick(4), Unit: sla.WorkDays}
		if do(ua, cases.Command{Action: cases.ActExtendRequest, Extension: by, Note: g.reason(cat.Code, extensionReasons)}, g.before(at, p.c.Tasks[li].Handle.Due, 30*time.Minute, true)) {
			if late == "handle" && g.chance(0.5) {
				do(center, cases.Command{Action: cases.ActExtendDeny, Note: "该事项群众反映强烈，请按原时限办结"}, g.before(at, p.c.Tasks[li].Handle.Due, 5*time.Minute, false))
			} else {
				extended = do(center, cases.Command{Action: cases.ActExtendApprove, Note: "同意延期"}, g.before(at, p.c.Tasks[li].Handle.Due, 5*time.Minute, false))
			}
		}
	}
	fbNote := feedbackNotes[g.pick(len(feedbackNotes))]
	fbDelay := g.before(at, p.c.Tasks[li].Handle.Due, 20*time.Minute, true)
	if extended && late != "handle" {
		// Uses part of the extra time.
		fbDelay = g.before(at, p.c.Tasks[li].Handle.Due, p.c.Tasks[li].Handle.Due.Sub(at)/2, true)
	}
	if late == "handle" {
		fbDelay, fbNote = g.after(at, p.c.Tasks[li].Handle.Due), g.reason(cat.Code, lateReasons)
	}
	if !do(ua, cases.Command{Action: cases.ActFeedback, Note: fbNote, Photos: g.photos[1:2]}, fbDelay) || stop(cases.FedBack) {
		return p, nil
	}
	verifier := reporter
	if verifier.Role != cases.RoleGridWorker {
		verifier = commander
	}
	pass := !g.chance(0.05)
	vDelay := g.before(at, p.c.Clock.Due, 10*time.Minute, true)
	vNote := map[bool]string{true: verifyNotes[g.pick(len(verifyNotes))], false: "现场核查仍未整改到位，退回返工"}[pass]
	if late == "verify" {
		vDelay = g.after(at, p.c.Clock.Due)
		vNote = "网格员参加防汛值守，核查延后；" + vNote
	}
	if !do(verifier, cases.Command{Action: cases.ActVerify, Passed: &pass, Note: vNote}, vDelay) {
		return p, nil
	}
	if !pass {
		if !do(ua, cases.Command{Action: cases.ActFeedback, Note: "已按核查意见返工整改完毕", Photos: g.photos[1:2]}, g.before(at, p.c.Tasks[li].Handle.Due, 30*time.Minute, true)) {
			return p, nil
		}
		t := true
		if !do(verifier, cases.Command{Action: cases.ActVerify, Passed: &t, Note: "复核通过"}, g.before(at, p.c.Clock.Due, 10*time.Minute, true)) {
			return p, nil
		}
	}
	if g.chance(0.8) {
		rt := []cases.Rating{cases.Satisfied, cases.Satisfied, cases.Satisfied, cases.Satisfied, cases.Satisfied, cases.BasicSatisfied, cases.BasicSatisfied, cases.Unsatisfied}[g.pick(8)]
		do(commander, cases.Command{Action: cases.ActRate, Rating: rt, Note: "电话回访"}, g.minutes(60, 2880))
	}
	return p, nil
}

// pickLate chooses which limit a late case runs past: mostly handling.
func pickLate(x float64) string {
	switch {
	case x < 0.72:
		return "handle"
	case x < 0.86:
		return "sign"
	case x < 0.92:
		return "verify"
	case x < 0.96:
		return "dispatch"
	}
	return "accept"
}

func pickState(x float64, cuts []float64, states []cases.State) cases.State {
	for i, c := range cuts {
		if x < c {
			return states[i]
		}
	}
	return states[len(states)-1]
}

// Answers are a report's answers to its category's own questions (the
// categories that ask any), as the demo and the scale generator fill them.
func Answers(cat cases.Category, t time.Time) map[string]any {
	switch cat.Code {
	case "AQ01":
		return map[string]any{"shop": "某餐饮店", "equipment": "alcohol_stove", "quantity": "2"}
	case "MS02":
		return map[string]any{"kind": []any{"rain"}, "found_at": t.Format(time.RFC3339)}
	}
	return nil
}
