package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/id"
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
	}
	w      *world
	rnd    *rand.Rand
	now    time.Time
	photos []cases.Photo
	actors map[string]cases.Actor
	recent map[string][]earlier // category → cases generated so far, for duplicates
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

func (g *generator) commander(streetPath string) cases.Actor {
	code := lastSeg(streetPath)
	name := "值班指挥长"
	for _, s := range g.w.streets {
		if s.Code == code {
			name = s.Name + "值班指挥长"
		}
	}
	for _, a := range g.actors {
		if a.Role == cases.RoleCommander && a.RegionPath == streetPath {
			return a
		}
	}
	return cases.Actor{AccountID: "", Name: name, Role: cases.RoleCommander, RegionPath: streetPath}
}

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
	cats := Categories()
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
		p, err := g.one(cat, g.reportTime(182))
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

// one plays a case from its report as far as its age and a random outcome
// allow, through the real state machine.
func (g *generator) one(cat cases.Category, t time.Time) (pending, error) {
	grid := g.w.grids[g.pick(len(g.w.grids))]
	pt := randomPoint(g.rnd, grid.Shape)
	comm := g.w.byName[""]
	for _, r := range g.w.byName {
		if r.Code == grid.ParentCode {
			comm = r
		}
	}
	source := []cases.Source{cases.SourcePatrol, cases.SourcePatrol, cases.SourcePatrol, cases.SourceResident, cases.SourceHotline, cases.SourceEnterprise, cases.SourceVisit}[g.pick(7)]
	reporter := cases.Actor{Name: grid.Name + "网格员", Role: cases.RoleGridWorker, RegionPath: grid.Path}
	for _, a := range g.actors {
		if a.Role == cases.RoleGridWorker && a.RegionPath == grid.Path {
			reporter = a
		}
	}
	commander := g.commander(streetOf(grid.Path))
	rep := reporter
	switch source {
	case cases.SourceHotline, cases.SourceEnterprise, cases.SourceVisit:
		rep = commander
	}
	kw := cat.Keywords[g.pick(len(cat.Keywords))]
	r := cases.Report{
		Source: source, Point: &pt, Category: cat.Code,
		Address:     comm.Name + places[g.pick(len(places))],
		Description: fmt.Sprintf("%s%s发现%s问题（%s），请尽快处理。", comm.Name, places[g.pick(len(places))], cat.Name, kw),
		Severity:    []sla.Severity{sla.Normal, sla.Normal, sla.Normal, sla.Normal, sla.Normal, sla.Normal, sla.Urgent, sla.Urgent, sla.Critical}[g.pick(9)],
		Answers:     Answers(cat, t),
	}
	if source == cases.SourceResident || source == cases.SourceHotline {
		r.Reporter = cases.Reporter{Name: "居民" + string([]rune("张王李赵刘陈杨黄周吴")[g.pick(10)]) + "先生", Phone: fmt.Sprintf("139%08d", g.pick(100000000))}
	}
	age := g.now.Sub(t)
	onSpot := rep.Role == cases.RoleGridWorker && g.chance(0.15) && (cat.Level == "grid" || cat.Level == "community")
	if onSpot {
		r.OnSpot, r.Photos, r.Note = true, g.photos[2:3], "已现场劝导整改完毕"
	}
	place := cases.Placement{GridCode: grid.Code, RegionPath: grid.Path, CenterPath: streetOf(grid.Path)}
	pol := g.svc.Policy(cat)
	c, step, err := cases.New(r, cat, place, id.At(t), "", rep, pol, t)
	if err != nil {
		return pending{}, err
	}
	step.ID = id.At(t)
	p := pending{c: c, steps: []cases.Step{step}}
	if onSpot {
		return p, nil
	}
	// How far this case goes: older cases are mostly closed.
	var target cases.State
	x := g.rnd.Float64()
	switch {
	case age > 15*24*time.Hour:
		target = pickState(x, []float64{0.05, 0.93, 0.97}, []cases.State{cases.Rejected, cases.Closed, cases.Handling, cases.Parked})
	case age > 3*24*time.Hour:
		target = pickState(x, []float64{0.05, 0.65, 0.72, 0.9, 0.95}, []cases.State{cases.Rejected, cases.Closed, cases.FedBack, cases.Handling, cases.Dispatched, cases.Parked})
	default:
		target = pickState(x, []float64{0.15, 0.27, 0.42, 0.7, 0.82}, []cases.State{cases.Reported, cases.Accepted, cases.Dispatched, cases.Handling, cases.FedBack, cases.Closed})
	}
	at := t
	do := func(actor cases.Actor, cmd cases.Command, delay time.Duration) bool {
		next := at.Add(delay)
		if next.After(g.now) {
			return false
		}
		n, s, err := cases.Apply(p.c, cmd, actor, pol, next)
		if err != nil {
			panic(fmt.Sprintf("demo step %s on %s: %v", cmd.Action, p.c.State, err))
		}
		s.ID = id.At(next)
		p.c, at = n, next
		p.steps = append(p.steps, s)
		return true
	}
	if target == cases.Reported {
		return p, nil
	}
	// Now and then the same problem was reported twice within a few days:
	// the center merges the later report into the earlier one.
	if g.recent == nil {
		g.recent = map[string][]earlier{}
	}
	dup := ""
	for _, e := range g.recent[cat.Code] {
		if e.at.Before(t) && t.Sub(e.at) < 72*time.Hour {
			dup = e.id
			break
		}
	}
	g.recent[cat.Code] = append(g.recent[cat.Code], earlier{id: p.c.ID, at: t})
	if dup != "" && g.chance(0.08) {
		do(commander, cases.Command{Action: cases.ActMerge, Target: dup, Note: "重复上报，合并办理"}, g.minutes(3, 40))
		return p, nil
	}
	if target == cases.Rejected {
		do(commander, cases.Command{Action: cases.ActReject, Note: "经核实不属于受理范围"}, g.minutes(3, 50))
		return p, nil
	}
	if !do(commander, cases.Command{Action: cases.ActAccept}, g.minutes(3, 40)) || target == cases.Accepted {
		return p, nil
	}
	// The graded classification library decides who may take it: a
	// district matter is escalated to the district center, which dispatches
	// it across to a department.
	if routing.Owned(p.c.CenterPath, cat) != nil {
		if !do(commander, cases.Command{Action: cases.ActEscalate, Note: "属区级事项，上提区指挥中心", Parent: District}, g.minutes(5, 30)) {
			return p, nil
		}
		commander = g.actors["qu_zhihui"]
	}
	leadUnit, ok := routing.Suggest(p.c.CenterPath, p.c.RegionPath, cat, g.svc.Units())
	if !ok {
		return p, nil
	}
	lead := leadUnit.ID
	var co []string
	if g.chance(0.1) {
		for _, u := range []string{"scjg", "cg", "ga", "zj"} {
			if u != lead {
				co = append(co, u)
				break
			}
		}
	}
	rule := &cases.RouteRule{Category: cat.Code, Version: cat.Version, Level: cat.Level}
	if !do(commander, cases.Command{Action: cases.ActDispatch, Lead: lead, Co: co, Rule: rule}, g.minutes(3, 35)) || target == cases.Dispatched {
		return p, nil
	}
	ua := g.unitActor(lead)
	if !do(ua, cases.Command{Action: cases.ActSign}, g.minutes(5, 200)) {
		return p, nil
	}
	for _, u := range co {
		do(g.unitActor(u), cases.Command{Action: cases.ActSign}, g.minutes(5, 60))
	}
	if target == cases.Parked {
		if do(ua, cases.Command{Action: cases.ActParkRequest, Note: "需等待维修资金到位", Until: at.Add(60 * 24 * time.Hour)}, g.minutes(60, 600)) {
			do(commander, cases.Command{Action: cases.ActParkApprove}, g.minutes(10, 120))
		}
		return p, nil
	}
	if target == cases.Handling {
		do(ua, cases.Command{Action: cases.ActHandle, Note: "已安排人员现场处置"}, g.minutes(30, 300))
		return p, nil
	}
	// Feed back after 20%–130% of the handling limit, so some are late.
	lt := p.c.Tasks[p.c.LeadTask()].Handle
	span := lt.Due.Sub(lt.Start)
	delay := time.Duration(float64(span)*(0.2+g.rnd.Float64()*1.1)) - at.Sub(lt.Start)
	if delay < time.Minute {
		delay = time.Minute
	}
	for _, u := range co {
		do(g.unitActor(u), cases.Command{Action: cases.ActFeedback, Note: "已配合完成", Photos: g.photos[1:2]}, g.minutes(30, 600))
	}
	if !do(ua, cases.Command{Action: cases.ActFeedback, Note: "已处置完毕，现场恢复正常", Photos: g.photos[1:2]}, delay) || target == cases.FedBack {
		return p, nil
	}
	verifier := reporter
	pass := !g.chance(0.06)
	if !do(verifier, cases.Command{Action: cases.ActVerify, Passed: &pass, Note: map[bool]string{true: "现场核查已整改", false: "现场核查仍未整改到位"}[pass]}, g.minutes(30, 900)) {
		return p, nil
	}
	if !pass {
		if !do(ua, cases.Command{Action: cases.ActFeedback, Note: "返工完成", Photos: g.photos[1:2]}, g.minutes(120, 2000)) {
			return p, nil
		}
		t := true
		if !do(verifier, cases.Command{Action: cases.ActVerify, Passed: &t, Note: "复核通过"}, g.minutes(30, 600)) {
			return p, nil
		}
	}
	if g.chance(0.8) {
		rt := []cases.Rating{cases.Satisfied, cases.Satisfied, cases.Satisfied, cases.Satisfied, cases.BasicSatisfied, cases.BasicSatisfied, cases.Unsatisfied}[g.pick(7)]
		do(commander, cases.Command{Action: cases.ActRate, Rating: rt, Note: "电话回访"}, g.minutes(60, 2880))
	}
	return p, nil
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

// scenarioS1 plays scenario S1 of scenarios.md: hazardous fuel at a shop in
// 新影村社区, 石油路街道, reported by 周春燕, whistled to emergency management,
// market supervision and fire (who report in on site within the 30 minutes),
// a dispatch meeting on site with one decision, rectified within 48 hours,
// verified, closed on time, each summoned unit rated.
func (g *generator) scenarioS1(ctx context.Context) error {
	cat, _ := g.svc.Category("AQ01")
	reporter := g.actors["zhouchunyan"]
	commander := g.actors["syl_zhihui"]
	grid, ok := g.w.resolve("新影村社区#1")
	if !ok {
		return fmt.Errorf("scenario S1: 新影村社区 has no grid")
	}
	pt := grid.Shape.Centroid()
	if !grid.Shape.Contains(pt) {
		pt = randomPoint(g.rnd, grid.Shape)
	}
	// Ten days ago, a Tuesday-like working morning in Shanghai.
	day := g.now.In(shanghai).AddDate(0, 0, -10)
	t := time.Date(day.Year(), day.Month(), day.Day(), 9, 20, 0, 0, shanghai).UTC()
	pol := g.svc.Policy(cat)
	r := cases.Report{Source: cases.SourcePatrol, Point: &pt, Category: "AQ01", Severity: sla.Urgent,
		Address:     "新影村社区某餐饮店",
		Description: "巡查发现新影村社区一商铺准备使用醇基燃料灶具（属危险化学品），存在安全隐患，店主称下周开业即投入使用。",
		Answers:     map[string]any{"shop": "新影村社区某餐饮店", "equipment": "alcohol_stove", "quantity": "3"},
		Photos:      g.photos[0:1],
	}
	place := cases.Placement{GridCode: grid.Code, RegionPath: grid.Path, CenterPath: streetOf(grid.Path)}
	c, step, err := cases.New(r, cat, place, id.At(t), "", reporter, pol, t)
	if err != nil {
		return fmt.Errorf("scenario S1: %w", err)
	}
	step.ID = id.At(t)
	p := pending{c: c, steps: []cases.Step{step}}
	at := t
	do := func(actor cases.Actor, cmd cases.Command, d time.Duration) error {
		at = at.Add(d)
		n, s, err := cases.Apply(p.c, cmd, actor, pol, at)
		if err != nil {
			return fmt.Errorf("scenario S1 %s: %w", cmd.Action, err)
		}
		s.ID = id.At(at)
		p.c = n
		p.steps = append(p.steps, s)
		return nil
	}
	yes := true
	var parties []cases.PartyRef
	for _, u := range []string{"yj", "scjg", "xf"} {
		unit, _ := g.svc.Unit(u)
		parties = append(parties, cases.PartyRef{UnitID: u, Name: unit.Name})
	}
	yjName := parties[0].Name
	meetingAt := t.Add(71 * time.Minute)
	steps := []struct {
		a   cases.Actor
		cmd cases.Command
		d   time.Duration
	}{
		{commander, cases.Command{Action: cases.ActAccept, Severity: sla.Urgent}, 6 * time.Minute},
		{commander, cases.Command{Action: cases.ActDispatch, Lead: "yj", Co: []string{"scjg", "xf"}}, 4 * time.Minute},
		{commander, cases.Command{Action: cases.ActWhistle, Parties: parties, Note: "醇基燃料属危险化学品，吹哨应急管理、市场监管、消防到场联合处置"}, time.Minute},
		{g.unitActor("yj"), cases.Command{Action: cases.ActSign}, 12 * time.Minute},
		{g.unitActor("yj"), cases.Command{Action: cases.ActReportIn, Point: &pt}, time.Minute},
		{g.unitActor("scjg"), cases.Command{Action: cases.ActSign}, 2 * time.Minute},
		{g.unitActor("scjg"), cases.Command{Action: cases.ActReportIn, Point: &pt}, time.Minute},
		{g.unitActor("xf"), cases.Command{Action: cases.ActSign}, 3 * time.Minute},
		{g.unitActor("xf"), cases.Command{Action: cases.ActReportIn, Point: &pt}, time.Minute},
		{commander, cases.Command{Action: cases.ActMeeting, WhistleID: "w1", Note: "现场调度会", Meeting: &cases.MeetingInput{
			Kind: cases.MeetingDispatch, At: meetingAt, Place: "新影村社区某餐饮店现场",
			Attendees: []cases.Attendee{{Kind: cases.AttendeeResident, Name: "商铺负责人"}},
			Shown:     "宣读危化品管理告知书，通报醇基燃料警示案例",
			Decisions: []cases.DecisionInput{{Text: "48小时内拆除醇基燃料设备，改用合规灶具", UnitID: "yj", UnitName: yjName, Due: meetingAt.Add(48 * time.Hour)}},
		}}, 40 * time.Minute},
		{g.unitActor("yj"), cases.Command{Action: cases.ActHandle, Note: "责令商铺停止使用醇基燃料，张贴告知书"}, 50 * time.Minute},
		{g.unitActor("scjg"), cases.Command{Action: cases.ActFeedback, Note: "已核查商铺经营资质，督促更换合规燃料", Photos: g.photos[1:2]}, 20 * time.Hour},
		{g.unitActor("xf"), cases.Command{Action: cases.ActFeedback, Note: "已开展消防安全检查，配备灭火器材", Photos: g.photos[1:2]}, 2 * time.Hour},
		{g.unitActor("yj"), cases.Command{Action: cases.ActDecisionDone, DecisionID: "d1", Note: "醇基燃料设备已拆除，改用电能灶具"}, 2 * time.Hour},
		{g.unitActor("yj"), cases.Command{Action: cases.ActFeedback, Note: "商铺已拆除醇基燃料设备，改用电能灶具，隐患48小时内消除", Photos: g.photos[2:3]}, time.Hour},
		{reporter, cases.Command{Action: cases.ActVerify, Passed: &yes, Note: "现场核查：醇基燃料设备已拆除，隐患消除"}, 2 * time.Hour},
		{commander, cases.Command{Action: cases.ActRate, Rating: cases.Satisfied, Note: "商户配合整改，群众满意"}, 3 * time.Hour},
		{commander, cases.Command{Action: cases.ActRateParty, WhistleID: "w1", PartyKey: "unit:yj", Rating: cases.Satisfied, Note: "到场及时，牵头有力"}, time.Minute},
		{commander, cases.Command{Action: cases.ActRateParty, WhistleID: "w1", PartyKey: "unit:scjg", Rating: cases.Satisfied}, time.Minute},
		{commander, cases.Command{Action: cases.ActRateParty, WhistleID: "w1", PartyKey: "unit:xf", Rating: cases.Satisfied}, time.Minute},
	}
	for _, s := range steps {
		if err := do(s.a, s.cmd, s.d); err != nil {
			return err
		}
	}
	return g.svc.DB().Write(ctx, func(tx *store.Tx) error { return g.insert(ctx, tx, &p) })
}
