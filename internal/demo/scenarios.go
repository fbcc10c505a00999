package demo

import (
	"context"
	"fmt"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/id"
	"zhizhi/internal/routing"
	"zhizhi/internal/sla"
	"zhizhi/internal/store"
)

// scenarios plays the stories of scenarios.md that the demo carries: S1,
// S4, S5 and the stream of S2's grid.
func (g *generator) scenarios(ctx context.Context) error {
	for _, f := range []func(context.Context) error{g.scenarioS1, g.scenarioS4, g.scenarioS5, g.scenarioS2} {
		if err := f(ctx); err != nil {
			return err
		}
	}
	return nil
}

// story plays one scripted case through the state machine.
type story struct {
	g    *generator
	name string
	pol  cases.Policy
	p    pending
	at   time.Time
	err  error
}

// begin reports a scripted case at t.
func (g *generator) begin(name string, r cases.Report, grid store.RegionRecord, by cases.Actor, t time.Time) *story {
	cat, _ := g.svc.Category(r.Category)
	s := &story{g: g, name: name, pol: g.svc.Policy(cat), at: t}
	if r.Point == nil {
		pt := grid.Shape.Centroid()
		if !grid.Shape.Contains(pt) {
			pt = randomPoint(g.rnd, grid.Shape)
		}
		r.Point = &pt
	}
	place := cases.Placement{GridCode: grid.Code, RegionPath: grid.Path, CenterPath: streetOf(grid.Path)}
	c, step, err := cases.New(r, cat, place, id.At(t), "", by, s.pol, t)
	if err != nil {
		s.err = fmt.Errorf("scenario %s: %w", name, err)
		return s
	}
	step.ID = id.At(t)
	s.p = pending{c: c, steps: []cases.Step{step}}
	return s
}

// do applies a command d after the previous step.
func (s *story) do(a cases.Actor, cmd cases.Command, d time.Duration) {
	s.doAt(a, cmd, s.at.Add(d))
}

// doAt applies a command at t.
func (s *story) doAt(a cases.Actor, cmd cases.Command, t time.Time) {
	if s.err != nil {
		return
	}
	if t.Before(s.at) {
		s.err = fmt.Errorf("scenario %s %s: at %s before the previous step", s.name, cmd.Action, t)
		return
	}
	n, step, err := cases.Apply(s.p.c, cmd, a, s.pol, t)
	if err != nil {
		s.err = fmt.Errorf("scenario %s %s: %w", s.name, cmd.Action, err)
		return
	}
	step.ID = id.At(t)
	s.p.c, s.at = n, t
	s.p.steps = append(s.p.steps, step)
}

// save inserts the case; a story that went overdue is a bug of the script.
func (s *story) save(ctx context.Context) error {
	if s.err != nil {
		return s.err
	}
	if s.p.c.WasOverdue {
		return fmt.Errorf("scenario %s ran overdue", s.name)
	}
	return s.g.svc.DB().Write(ctx, func(tx *store.Tx) error { return s.g.insert(ctx, tx, &s.p) })
}

// workday returns the day that is back days before now, moved back to the
// weekday wd, at hh:mm Shanghai time.
func (g *generator) workday(back int, wd time.Weekday, hh, mm int) time.Time {
	d := g.now.In(shanghai).AddDate(0, 0, -back)
	for d.Weekday() != wd {
		d = d.AddDate(0, 0, -1)
	}
	return time.Date(d.Year(), d.Month(), d.Day(), hh, mm, 0, 0, shanghai).UTC()
}

// at is a time of day n days after t (Shanghai).
func at(t time.Time, days, hh, mm int) time.Time {
	d := t.In(shanghai).AddDate(0, 0, days)
	return time.Date(d.Year(), d.Month(), d.Day(), hh, mm, 0, 0, shanghai).UTC()
}

func (g *generator) leadFor(s *story) string {
	cat, _ := g.svc.Category(s.p.c.Category)
	u, ok := routing.Suggest(s.p.c.CenterPath, s.p.c.RegionPath, cat, g.units)
	if !ok {
		s.err = fmt.Errorf("scenario %s: no unit suggested", s.name)
	}
	return u.ID
}

func (g *generator) rule(code string) *cases.RouteRule {
	cat, _ := g.svc.Category(code)
	return &cases.RouteRule{Category: cat.Code, Version: cat.Version, Level: cat.Level}
}

// scenarioS1 plays scenario S1 of scenarios.md: hazardous fuel at a shop in
// 新影村社区, 石油路街道, reported by 周春燕. The 石油路 center accepts it under the
// safety board and dispatches the lead to 平安法治板块A岗, whistles emergency
// management, market supervision and fire (who report in on site within
// their 30 minutes), convenes a dispatch meeting on site with one decision;
// the post asks for the 48 hours the removal needs, the hazard is removed,
// 周春燕 verifies, the case closes on time and each summoned unit is rated.
func (g *generator) scenarioS1(ctx context.Context) error {
	reporter := g.actors["zhouchunyan"]
	commander := g.actors["syl_zhihui"]
	grid, ok := g.w.resolve("新影村社区#1")
	if !ok {
		return fmt.Errorf("scenario S1: 新影村社区 has no grid")
	}
	// A Tuesday morning at least eight days ago.
	t := g.workday(8, time.Tuesday, 9, 20)
	s := g.begin("S1", cases.Report{Source: cases.SourcePatrol, Category: "AQ01", Severity: sla.Urgent,
		Address:     "新影村社区石油路某餐饮店",
		Description: "巡查发现新影村社区一商铺准备使用醇基燃料灶具（属危险化学品），存在安全隐患，店主称下周开业即投入使用。",
		Answers:     map[string]any{"shop": "新影村社区某餐饮店", "equipment": "alcohol_stove", "quantity": "3"},
		Photos:      g.photos[0:1],
	}, grid, reporter, t)
	pt := *s.p.c.Point
	var parties []cases.PartyRef
	for _, u := range []string{"yj", "scjg", "xf"} {
		unit, _ := g.svc.Unit(u)
		parties = append(parties, cases.PartyRef{UnitID: u, Name: unit.Name})
	}
	post := g.deskActor("syl-pa-a")
	meetingAt := t.Add(71 * time.Minute)
	yes := true
	s.do(commander, cases.Command{Action: cases.ActAccept, Severity: sla.Urgent, Note: "危化品隐患，按平安法治板块受理"}, 6*time.Minute)
	s.do(commander, cases.Command{Action: cases.ActDispatch, Lead: "syl-pa-a", Rule: g.rule("AQ01")}, 4*time.Minute)
	s.do(commander, cases.Command{Action: cases.ActWhistle, Parties: parties, Note: "醇基燃料属危险化学品，吹哨应急管理、市场监管、消防到场联合处置"}, time.Minute)
	s.do(post, cases.Command{Action: cases.ActSign}, 5*time.Minute)
	s.do(g.deskActor("yj"), cases.Command{Action: cases.ActReportIn, Point: &pt}, 12*time.Minute)
	s.do(g.deskActor("scjg"), cases.Command{Action: cases.ActReportIn, Point: &pt}, 2*time.Minute)
	s.do(g.deskActor("xf"), cases.Command{Action: cases.ActReportIn, Point: &pt}, 4*time.Minute)
	s.doAt(commander, cases.Command{Action: cases.ActMeeting, WhistleID: "w1", Note: "现场调度会", Meeting: &cases.MeetingInput{
		Kind: cases.MeetingDispatch, At: meetingAt, Place: "新影村社区某餐饮店现场",
		Attendees: []cases.Attendee{{Kind: cases.AttendeeUnit, UnitID: "syl-pa-a", Name: "石油路街道平安法治板块A岗"}, {Kind: cases.AttendeeResident, Name: "商铺负责人"}},
		Shown:     "宣读危化品管理告知书，通报醇基燃料警示案例",
		Decisions: []cases.DecisionInput{{Text: "48小时内拆除醇基燃料设备，改用合规灶具", UnitID: "yj", UnitName: parties[0].Name, Due: meetingAt.Add(48 * time.Hour)}},
	}}, meetingAt.Add(10*time.Minute))
	s.do(post, cases.Command{Action: cases.ActHandle, Note: "会同应急、市场监管、消防责令商铺停止使用醇基燃料，张贴告知书"}, 40*time.Minute)
	s.do(post, cases.Command{Action: cases.ActExtendRequest, Extension: sla.Limit{Amount: 12, Unit: sla.WorkHours}, Note: "按调度会决定，商铺须在48小时内拆除设备、更换合规灶具，申请延期"}, 10*time.Minute)
	s.do(commander, cases.Command{Action: cases.ActExtendApprove, Note: "同意，按48小时整改时限办理"}, 5*time.Minute)
	s.do(post, cases.Command{Action: cases.ActHandle, Note: "区市场监管局已核查商铺经营资质；区消防救援支队已开展消防安全检查，配备灭火器材"}, 20*time.Hour)
	s.do(g.deskActor("yj"), cases.Command{Action: cases.ActDecisionDone, DecisionID: "d1", Note: "醇基燃料设备已拆除，改用电能灶具"}, 2*time.Hour)
	s.do(post, cases.Command{Action: cases.ActFeedback, Note: "商铺已拆除醇基燃料设备，改用电能灶具，隐患48小时内消除", Photos: g.photos[2:3]}, time.Hour)
	s.do(reporter, cases.Command{Action: cases.ActVerify, Passed: &yes, Note: "现场核查：醇基燃料设备已拆除，隐患消除"}, 80*time.Minute)
	s.do(commander, cases.Command{Action: cases.ActRate, Rating: cases.Satisfied, Note: "商户配合整改，群众满意"}, 3*time.Hour)
	s.do(commander, cases.Command{Action: cases.ActRateParty, WhistleID: "w1", PartyKey: "unit:yj", Rating: cases.Satisfied, Note: "到场及时，牵头有力"}, time.Minute)
	s.do(commander, cases.Command{Action: cases.ActRateParty, WhistleID: "w1", PartyKey: "unit:scjg", Rating: cases.Satisfied}, time.Minute)
	s.do(commander, cases.Command{Action: cases.ActRateParty, WhistleID: "w1", PartyKey: "unit:xf", Rating: cases.Satisfied}, time.Minute)
	return s.save(ctx)
}

// scenarioS4 plays scenario S4: leaking roofs and blocked drains at the old
// post-office housing of 嘉西村社区, 上清寺街道. A community matter, dispatched
// by the 上清寺 center to the community, handled by its secretary 吴中兰; a
// council meeting with a city deputy and a CPPCC member; parked with the
// street's approval while the repair fund is split to the households;
// resumed, extended once for rain, fed back, verified and closed about two
// months after the report, never overdue.
func (g *generator) scenarioS4(ctx context.Context) error {
	grid, ok := g.w.resolve("嘉西村社区#1")
	if !ok {
		return fmt.Errorf("scenario S4: 嘉西村社区 has no grid")
	}
	commander := g.actors["sqs_zhihui"]
	wu := g.actors["wuzhonglan"]
	worker := cases.Actor{Name: "嘉西村社区网格员", Role: cases.RoleGridWorker, RegionPath: grid.Path}
	if a, ok := g.gridWorker[grid.Path]; ok {
		worker = a
	}
	t := g.workday(100, time.Monday, 9, 40)
	s := g.begin("S4", cases.Report{Source: cases.SourcePatrol, Category: "MS08", Severity: sla.Normal,
		Address:     "嘉西村社区邮政老宿舍",
		Description: "嘉西村社区邮政老宿舍无物业管理，多栋楼顶漏水、下水道堵塞，住户每月都因漏水和堵塞发生纠纷；维修资金存在一个账户内无法使用，居民反映强烈。",
		Photos:      g.photos[0:1],
	}, grid, worker, t)
	unit := g.leadFor(s)
	s.do(commander, cases.Command{Action: cases.ActAccept}, 12*time.Minute)
	s.do(commander, cases.Command{Action: cases.ActDispatch, Lead: unit, Rule: g.rule("MS08"), Note: "社区级事项，派嘉西村社区牵头办理"}, 9*time.Minute)
	s.do(wu, cases.Command{Action: cases.ActSign}, 35*time.Minute)
	s.doAt(wu, cases.Command{Action: cases.ActHandle, Note: "吴中兰带社区干部逐户查看：6个单元顶楼漏水，2处主排水管堵塞；老宿舍无物业，维修资金仍在原单位一个账户内"}, at(t, 1, 10, 30))
	meet := at(t, 3, 15, 0)
	s.doAt(commander, cases.Command{Action: cases.ActMeeting, Note: "社区议事会", Meeting: &cases.MeetingInput{
		Kind: cases.MeetingCouncil, At: meet, Place: "嘉西村社区党群服务站",
		Attendees: []cases.Attendee{
			{Kind: cases.AttendeePerson, AccountID: wu.AccountID, Name: "吴中兰", Title: "社区书记"},
			{Kind: cases.AttendeePerson, Name: "市人大代表", Title: "市人大代表"},
			{Kind: cases.AttendeePerson, Name: "区政协委员", Title: "政协委员"},
			{Kind: cases.AttendeeUnit, UnitID: "sqs-ms", Name: "上清寺街道民生服务办"},
			{Kind: cases.AttendeeResident, Name: "邮政老宿舍居民代表"},
		},
		Shown: "通报漏水、堵塞情况和维修资金账户现状，讨论资金分户方案",
		Decisions: []cases.DecisionInput{
			{Text: "先行疏通主排水管道", UnitID: unit, UnitName: "嘉西村社区居委会", Due: at(t, 10, 18, 0)},
			{Text: "维修资金从原账户分拆到各户", UnitID: unit, UnitName: "嘉西村社区居委会", Due: at(t, 55, 18, 0)},
		},
	}}, meet.Add(2*time.Hour))
	s.doAt(wu, cases.Command{Action: cases.ActHandle, Note: "已请专业队伍疏通两处主排水管，楼道积水消除"}, at(t, 4, 16, 0))
	s.do(commander, cases.Command{Action: cases.ActDecisionDone, DecisionID: "d1", Note: "主排水管已疏通"}, 30*time.Minute)
	s.doAt(wu, cases.Command{Action: cases.ActParkRequest, Until: at(t, 52, 18, 0), Note: "屋面维修须动用维修资金，资金在一个账户内，需分拆到户后方可施工，申请挂账"}, at(t, 7, 10, 0))
	s.do(commander, cases.Command{Action: cases.ActParkApprove, Note: "同意挂账，资金分户期间暂停计时"}, 2*time.Hour)
	s.doAt(commander, cases.Command{Action: cases.ActDecisionDone, DecisionID: "d2", Note: "维修资金已分拆到各户账户"}, at(t, 44, 11, 0))
	s.doAt(wu, cases.Command{Action: cases.ActResume, Note: "维修资金已分户，维修队进场"}, at(t, 45, 9, 0))
	s.doAt(wu, cases.Command{Action: cases.ActHandle, Note: "维修队进场，开始屋面防水施工"}, at(t, 45, 14, 30))
	s.doAt(wu, cases.Command{Action: cases.ActExtendRequest, Extension: sla.Limit{Amount: 5, Unit: sla.WorkDays}, Note: "连续降雨无法进行屋面防水施工，申请延期"}, at(t, 46, 10, 0))
	s.do(commander, cases.Command{Action: cases.ActExtendApprove, Note: "同意延期"}, time.Hour)
	s.doAt(wu, cases.Command{Action: cases.ActFeedback, Note: "6个单元屋面防水、排水管道全部修复，经雨天检验无渗漏，居民签字确认", Photos: g.photos[2:3]}, at(t, 56, 16, 0))
	yes := true
	s.doAt(worker, cases.Command{Action: cases.ActVerify, Passed: &yes, Note: "入户核查：屋顶不再漏水，下水道通畅"}, at(t, 57, 10, 0))
	s.do(commander, cases.Command{Action: cases.ActRate, Rating: cases.Satisfied, Note: "居民送来感谢信"}, 26*time.Hour)
	return s.save(ctx)
}

// scenarioS5 plays scenario S5: the broken fresh-air system of 菜袁路107号 and
// 109号, 菜园坝街道, a fire risk. Street cadres survey, the post asks more time
// for a residents' congress and the works, fire experts explain the risk at
// the congress, which agrees the use of the repair fund; four systems are
// installed, each milestone a meeting decision carried out, and the case
// closes three weeks after the report.
func (g *generator) scenarioS5(ctx context.Context) error {
	grid, ok := g.w.resolve("渝铁村社区#1")
	if !ok {
		return fmt.Errorf("scenario S5: 渝铁村社区 has no grid")
	}
	commander := g.actors["cyb_zhihui"]
	t := g.workday(70, time.Monday, 9, 30)
	s := g.begin("S5", cases.Report{Source: cases.SourceVisit, Category: "AQ03", Severity: sla.Normal,
		Address:     "菜袁路107号、109号",
		Description: "街道干部走访发现：菜袁路107号、109号两栋楼建成二十余年，新风系统损坏，楼内排烟不畅，存在火灾隐患。",
		Photos:      g.photos[0:1],
	}, grid, commander, t)
	lead := g.leadFor(s)
	desk := g.deskActor(lead)
	s.do(commander, cases.Command{Action: cases.ActAccept}, 5*time.Minute)
	s.do(commander, cases.Command{Action: cases.ActDispatch, Lead: lead, Rule: g.rule("AQ03")}, 8*time.Minute)
	s.do(desk, cases.Command{Action: cases.ActSign}, 25*time.Minute)
	s.doAt(desk, cases.Command{Action: cases.ActHandle, Note: "街道干部入户调查：两栋楼共4套新风系统全部损坏，楼道排烟不畅"}, at(t, 0, 15, 30))
	s.doAt(desk, cases.Command{Action: cases.ActExtendRequest, Extension: sla.Limit{Amount: 15, Unit: sla.WorkDays}, Note: "需召开居民代表大会表决维修资金使用，并采购安装4套新风系统，申请延期"}, at(t, 1, 10, 0))
	s.do(commander, cases.Command{Action: cases.ActExtendApprove, Note: "同意延期"}, time.Hour)
	meet := at(t, 3, 19, 0)
	s.doAt(commander, cases.Command{Action: cases.ActMeeting, Note: "居民代表大会", Meeting: &cases.MeetingInput{
		Kind: cases.MeetingCongress, At: meet, Place: "菜袁路107号楼下坝子",
		Attendees: []cases.Attendee{
			{Kind: cases.AttendeeUnit, UnitID: lead, Name: "菜园坝街道平安法治板块"},
			{Kind: cases.AttendeeUnit, UnitID: "xf", Name: "区消防救援支队"},
			{Kind: cases.AttendeeExpert, Name: "消防专家", Title: "区消防救援支队"},
			{Kind: cases.AttendeeExpert, Name: "暖通工程师", Title: "新风系统专家"},
			{Kind: cases.AttendeeResident, Name: "107号居民代表"},
			{Kind: cases.AttendeeResident, Name: "109号居民代表"},
		},
		Shown: "消防专家讲解新风系统失效带来的火灾风险，介绍维修资金使用程序",
		Decisions: []cases.DecisionInput{
			{Text: "表决同意使用维修资金更换新风系统", UnitID: lead, Due: at(t, 5, 18, 0)},
			{Text: "完成107号两套新风系统安装", UnitID: lead, Due: at(t, 14, 18, 0)},
			{Text: "完成109号两套新风系统安装", UnitID: lead, Due: at(t, 21, 18, 0)},
		},
	}}, meet.Add(150*time.Minute))
	s.doAt(desk, cases.Command{Action: cases.ActDecisionDone, DecisionID: "d1", Note: "居民代表大会表决通过，维修资金使用已公示"}, at(t, 4, 10, 0))
	s.doAt(desk, cases.Command{Action: cases.ActHandle, Note: "新风设备进场，开始安装107号第一套"}, at(t, 7, 9, 0))
	s.doAt(desk, cases.Command{Action: cases.ActDecisionDone, DecisionID: "d2", Note: "107号两套新风系统安装调试完毕"}, at(t, 11, 17, 0))
	s.doAt(desk, cases.Command{Action: cases.ActHandle, Note: "开始安装109号新风系统"}, at(t, 14, 9, 0))
	s.doAt(desk, cases.Command{Action: cases.ActDecisionDone, DecisionID: "d3", Note: "109号两套新风系统安装调试完毕"}, at(t, 18, 16, 0))
	s.doAt(desk, cases.Command{Action: cases.ActFeedback, Note: "4套新风系统已全部安装并联调，排烟正常，火灾隐患消除", Photos: g.photos[2:3]}, at(t, 21, 10, 0))
	yes := true
	s.doAt(commander, cases.Command{Action: cases.ActVerify, Passed: &yes, Note: "现场核查：新风系统运行正常"}, at(t, 21, 15, 0))
	s.do(commander, cases.Command{Action: cases.ActRate, Rating: cases.Satisfied, Note: "居民满意"}, 20*time.Hour)
	g.s5 = &s.p.c
	return s.save(ctx)
}

// scenarioS2 gives 杨诗培's grid (民乐村社区#9, or the community's last grid
// when it has fewer) a stream of requests from the residents' group "有事找小杨"
// over six months, many solved on the spot.
func (g *generator) scenarioS2(ctx context.Context) error {
	ysp, ok := g.actors["yangshipei"]
	if !ok {
		return nil
	}
	var grid store.RegionRecord
	for _, gr := range g.w.grids {
		if gr.Path == ysp.RegionPath {
			grid = gr
		}
	}
	if grid.Code == "" {
		return fmt.Errorf("scenario S2: 杨诗培's grid not found")
	}
	var cats []cases.Category
	for _, code := range []string{"MS03", "MS03", "MS03", "MS03", "MS03", "MS11", "MS11", "MS11", "MS11", "MS14", "AQ04", "AQ06", "MS19", "MS16", "AQ02", "DJ02"} {
		c, _ := g.svc.Category(code)
		cats = append(cats, c)
	}
	var batch []pending
	for i := 0; i < 90; i++ {
		p, err := g.one(cats[g.pick(len(cats))], g.reportTime(182), grid, &ysp)
		if err != nil {
			return fmt.Errorf("scenario S2: %w", err)
		}
		p.c.Description = "“有事找小杨”居民群：" + p.c.Description
		batch = append(batch, p)
	}
	return g.svc.DB().Write(ctx, func(tx *store.Tx) error {
		for i := range batch {
			if err := g.insert(ctx, tx, &batch[i]); err != nil {
				return err
			}
		}
		return nil
	})
}
