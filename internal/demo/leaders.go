package demo

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/id"
	"zhizhi/internal/leaders"
	"zhizhi/internal/service"
	"zhizhi/internal/sla"
	"zhizhi/internal/store"
)

// The leaders at the grassroots (issue 13, S5, S6, S8): three district
// leaders paired with streets, communities and a key enterprise; their
// on-site office visits over the year before now (250 in a full demo),
// each problem raised a
// case reported by the leader and on the leader's list; the 肖家沟小学
// project (S6) with its on-site research, council meeting and plan; the
// 菜袁路 ventilation project (S5) with four milestones; a monthly topic; and
// cases the leader supervises.

// demoLeaders are the district leaders and what each is paired with
// (street names, community names, enterprise names with their street).
var demoLeaders = []struct {
	user        string
	streets     []string
	communities []string
	enterprise  [2]string
}{
	{"leader", []string{"石油路街道", "七星岗街道"}, []string{"新影村社区"}, [2]string{}},
	{"liu_quzhang", []string{"菜园坝街道", "解放碑街道"}, nil, [2]string{}},
	{"chen_fuquzhang", []string{"化龙桥街道", "上清寺街道"}, []string{"嘉西村社区"}, [2]string{"重庆某科技有限公司", "化龙桥街道"}},
}

// leaderProblems are the categories visits raise most.
var leaderProblems = []string{"MS01", "MS03", "MS04", "MS05", "MS06", "MS07", "MS08", "MS09", "MS10", "MS14", "AQ02", "AQ03", "AQ04", "AQ05", "MS16", "JJ01", "JJ06"}

// scenarioLeaders stores a year of visits (Load asks for one per 16 cases,
// at least a dozen: 250 in the full demo of 4,000 cases) with their cases
// and the leaders' lists of each year, and the S5 and S6 projects.
func (g *generator) scenarioLeaders(ctx context.Context, visits int) error {
	visits = max(12, visits)
	db := g.svc.DB()
	type visitRow struct {
		v     leaders.Visit
		cases []pending
	}
	var rows []visitRow
	secretaries := map[[2]string]bool{} // leader, secretary
	for i := 0; i < visits; i++ {
		dl := demoLeaders[i%len(demoLeaders)]
		leader, ok := g.actors[dl.user]
		if !ok {
			return fmt.Errorf("demo leader %s missing", dl.user)
		}
		street, ok := g.w.resolve(dl.streets[g.pick(len(dl.streets))])
		if !ok {
			return fmt.Errorf("demo leader %s: street not found", dl.user)
		}
		var grids []store.RegionRecord
		for _, gr := range g.w.grids {
			if strings.HasPrefix(gr.Path, street.Path) {
				grids = append(grids, gr)
			}
		}
		if len(grids) == 0 {
			continue
		}
		grid := grids[g.pick(len(grids))]
		t := g.reportTime(365) // a year of visits
		t = time.Date(t.In(shanghai).Year(), t.In(shanghai).Month(), t.In(shanghai).Day(), 9+g.pick(8), 0, 0, 0, shanghai).UTC()
		if t.After(g.now) {
			t = t.AddDate(0, 0, -1)
		}
		if i >= visits-len(demoLeaders) {
			t = g.now.Add(-time.Duration(1+g.pick(3)) * time.Hour).Truncate(time.Minute) // the latest: their cases still open
		}
		comm := g.w.byCode[grid.ParentCode]
		pt := grid.Shape.Centroid()
		if !grid.Shape.Contains(pt) {
			pt = randomPoint(g.rnd, grid.Shape)
		}
		v := leaders.Visit{ID: id.At(t), LeaderID: leader.AccountID, LeaderName: leader.Name, RecordedBy: leader.AccountID, Recorder: leader.Name,
			Place: leaders.Place{Point: &pt, Address: comm.Name + "党群服务中心"}, RegionPath: grid.Path, StreetCode: street.Code, At: t,
			Attendees: []string{street.Name + "党工委书记", comm.Name + "书记", "区级相关部门负责人"},
			Summary:   "四下基层现场办公：听取" + comm.Name + "居民和网格员意见，现场研究解决问题", CreatedAt: t}
		// About a third are recorded by the street's commander as the
		// leader's secretary (only a real account: a visit always names
		// who recorded it); the assignments are recorded below.
		if sec := g.commanders[street.Path]; sec.AccountID != "" && g.chance(0.3) {
			v.RecordedBy, v.Recorder = sec.AccountID, sec.Name
			secretaries[[2]string{leader.AccountID, sec.AccountID}] = true
		}
		row := visitRow{v: v}
		// About 1.25 problems a visit: the seed's district solved more than
		// 1,300 problems raised in its more than 1,200 visits a year.
		k := []int{1, 1, 1, 1, 1, 1, 2, 2}[g.pick(8)]
		if i >= visits-len(demoLeaders) {
			k = 2
		}
		for j := 0; j < k; j++ {
			cat, _ := g.svc.Category(leaderProblems[g.pick(len(leaderProblems))])
			// Recorded by the street's center (a visit's problem is never
			// solved on the spot by a grid's people).
			p, err := g.oneFrom(cat, t.Add(time.Duration(10+j*5)*time.Minute), grid, nil, cases.SourceVisit)
			if err != nil {
				return fmt.Errorf("demo visit case: %w", err)
			}
			p.c.Reporter = cases.Reporter{AccountID: leader.AccountID, Name: leader.Name}
			p.c.Description = strings.Replace(p.c.Description, "领导现场办公", leader.Name+"现场办公", 1)
			row.cases = append(row.cases, p)
			row.v.Problems = append(row.v.Problems, leaders.Problem{Category: cat.Code, Description: p.c.Description})
		}
		rows = append(rows, row)
	}
	// Each leader's list of each year, and the visits with their cases.
	lists := map[string]leaders.List{}
	err := db.Write(ctx, func(tx *store.Tx) error {
		for i := range rows {
			r := &rows[i]
			r.v.CaseIDs = nil
			for j := range r.cases {
				if err := g.insert(ctx, tx, &r.cases[j]); err != nil {
					return err
				}
				r.v.CaseIDs = append(r.v.CaseIDs, r.cases[j].c.ID)
			}
			if err := tx.InsertVisit(ctx, r.v); err != nil {
				return err
			}
			year := r.v.At.In(shanghai).Year()
			key := fmt.Sprintf("%s:%d", r.v.LeaderID, year)
			l, ok := lists[key]
			if !ok {
				l = leaders.List{ID: id.At(time.Date(year, 1, 1, 0, 0, 0, 0, shanghai)), Name: fmt.Sprintf("%s %d年现场办公问题清单", r.v.LeaderName, year),
					Kind: leaders.ListLeader, OwnerID: r.v.LeaderID, OwnerName: r.v.LeaderName, RegionPath: District,
					From: time.Date(year, 1, 1, 0, 0, 0, 0, shanghai), To: time.Date(year+1, 1, 1, 0, 0, 0, 0, shanghai), CreatedAt: r.v.At}
				if err := tx.PutList(ctx, l); err != nil {
					return err
				}
				lists[key] = l
			}
			for _, c := range r.v.CaseIDs {
				if err := tx.AddItem(ctx, leaders.Item{ListID: l.ID, Kind: leaders.ItemCase, RefID: c, AddedBy: r.v.RecordedBy, AddedAt: r.v.At}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("demo visits: %w", err)
	}
	// The commanders who recorded visits for a leader are that leader's
	// secretaries, assigned through the service (audited, checked).
	pairs := make([][2]string, 0, len(secretaries))
	for p := range secretaries {
		pairs = append(pairs, p)
	}
	slices.SortFunc(pairs, func(a, b [2]string) int { return strings.Compare(a[0]+"/"+a[1], b[0]+"/"+b[1]) })
	for _, p := range pairs {
		if _, err := g.svc.AssignSecretary(ctx, cases.System, p[0], p[1]); err != nil {
			return fmt.Errorf("demo secretary %s for %s: %w", p[1], p[0], err)
		}
	}
	if err := g.scenarioS6(ctx); err != nil {
		return err
	}
	return g.projectS5(ctx)
}

// scenarioS6 plays S6: 肖家沟小学 (七星岗街道) reports rotting plants,
// renovation waste and broken walls around it; the street center takes it
// on and escalates it to the district as a key rectification project; the
// district researches on site, holds a council meeting that decides the
// plan, dispatches across to urban management with education; it is solved
// in a little over ten days and the project is verified and closed.
func (g *generator) scenarioS6(ctx context.Context) error {
	var grid store.RegionRecord
	for _, gr := range g.w.grids {
		if strings.HasPrefix(gr.Path, District+"500103001/") {
			grid = gr
			break
		}
	}
	if grid.Code == "" {
		return fmt.Errorf("scenario S6: 七星岗街道 has no grid")
	}
	street, district := g.actors["qxg_zhihui"], g.actors["qu_zhihui"]
	lead := g.actors["leader"]
	t := g.workday(45, time.Tuesday, 9, 0)
	s := g.begin("S6", cases.Report{Source: cases.SourceHotline, Category: "MS17",
		Reporter:    cases.Reporter{Name: "肖家沟小学", Phone: "02363001935"},
		Address:     "肖家沟小学周边（1935年建校）",
		Description: "肖家沟小学反映：学校周边绿植腐烂、装修垃圾堆放、围墙多处破损，影响师生安全和校园环境。",
		Photos:      g.photos[1:2],
	}, grid, street, t)
	cg, jw := g.deskActor("cg"), g.deskActor("jw")
	s.do(street, cases.Command{Action: cases.ActAccept}, 5*time.Minute)
	s.do(street, cases.Command{Action: cases.ActEscalate, Parent: District, Note: "列为区级重点整治整改项目：学校周边环境涉及城管、教育等多个部门"}, 10*time.Minute)
	s.do(district, cases.Command{Action: cases.ActDispatch, Lead: "cg", Co: []string{"jw"}, Rule: g.rule("MS17")}, 30*time.Minute)
	s.do(cg, cases.Command{Action: cases.ActSign}, 20*time.Minute)
	s.do(jw, cases.Command{Action: cases.ActSign}, 10*time.Minute)
	s.doAt(cg, cases.Command{Action: cases.ActHandle, Note: "区城管局、区教委会同七星岗街道现场调研：垃圾约20方，围墙破损3处，腐烂绿植约200平方米"}, at(t, 1, 10, 0))
	meet := at(t, 2, 15, 0)
	s.doAt(district, cases.Command{Action: cases.ActMeeting, Note: "区级议事会", Meeting: &cases.MeetingInput{
		Kind: cases.MeetingCouncil, At: meet, Place: "肖家沟小学会议室",
		Attendees: []cases.Attendee{
			{Kind: cases.AttendeeUnit, UnitID: "cg", Name: "区城市管理局"},
			{Kind: cases.AttendeeUnit, UnitID: "jw", Name: "区教育委员会"},
			{Kind: cases.AttendeePerson, AccountID: lead.AccountID, Name: lead.Name},
			{Kind: cases.AttendeeResident, Name: "肖家沟小学校长"},
			{Kind: cases.AttendeeResident, Name: "家长代表"},
		},
		Shown: "整治方案：清运装修垃圾、清除腐烂绿植并补种、修复围墙，十日内完成",
		Decisions: []cases.DecisionInput{
			{Text: "清运装修垃圾，清除腐烂绿植并补种", UnitID: "cg", Due: at(t, 7, 18, 0)},
			{Text: "修复学校围墙", UnitID: "jw", Due: at(t, 10, 18, 0)},
		},
	}}, meet.Add(90*time.Minute))
	s.doAt(cg, cases.Command{Action: cases.ActDecisionDone, DecisionID: "d1", Note: "装修垃圾已清运，绿植已补种"}, at(t, 6, 16, 0))
	s.doAt(jw, cases.Command{Action: cases.ActDecisionDone, DecisionID: "d2", Note: "围墙修复完成"}, at(t, 9, 11, 0))
	s.doAt(jw, cases.Command{Action: cases.ActFeedback, Note: "围墙修复完成"}, at(t, 9, 15, 0))
	s.doAt(cg, cases.Command{Action: cases.ActFeedback, Note: "学校周边环境整治完成", Photos: g.photos[2:3]}, at(t, 10, 10, 0))
	yes := true
	s.doAt(district, cases.Command{Action: cases.ActVerify, Passed: &yes, Note: "现场核查：学校周边环境整洁，围墙完好"}, at(t, 10, 15, 0))
	s.do(district, cases.Command{Action: cases.ActRate, Rating: cases.Satisfied, Note: "学校和家长满意"}, 20*time.Hour)
	if err := s.save(ctx); err != nil {
		return err
	}
	start := t.Add(15 * time.Minute)
	p, err := leaders.NewProject(leaders.Project{ID: id.At(start), Name: "肖家沟小学周边环境整治", Goal: "清除腐烂绿植和装修垃圾，修复围墙，还师生整洁安全的校园周边环境",
		LeadUnit: "cg", CoUnits: []string{"jw"}, RegionPath: District, CaseID: s.p.c.ID, OwnerID: street.AccountID, CreatedAt: start},
		[]leaders.MilestoneInput{
			{Title: "现场调研", Limit: sla.Limit{Amount: 2, Unit: sla.WorkDays}},
			{Title: "议事会形成整治方案", Limit: sla.Limit{Amount: 2, Unit: sla.WorkDays}},
			{Title: "整治完成", Limit: sla.Limit{Amount: 8, Unit: sla.WorkDays}},
		}, g.cal, start)
	if err != nil {
		return fmt.Errorf("scenario S6 project: %w", err)
	}
	for i, m := range []struct {
		at   time.Time
		text string
	}{{at(t, 1, 16, 0), "完成现场调研，摸清垃圾、绿植和围墙情况"}, {meet.Add(90 * time.Minute), "区级议事会通过整治方案"}, {at(t, 10, 10, 0), "整治完成，学校周边环境整洁"}} {
		if p, err = p.MeetMilestone(i+1, m.text, nil, "区城市管理局", m.at); err != nil {
			return fmt.Errorf("scenario S6 milestone %d: %w", i+1, err)
		}
	}
	if p, err = p.Verify(lead.Name, "验收合格，予以销号", at(t, 11, 10, 0)); err != nil {
		return err
	}
	return g.svc.DB().Write(ctx, func(tx *store.Tx) error {
		if err := tx.InsertProject(ctx, p); err != nil {
			return err
		}
		year := start.In(shanghai).Year()
		l, err := tx.ListAt(ctx, leaders.ListProject, District, start)
		if err != nil {
			l = leaders.List{ID: id.At(start), Name: fmt.Sprintf("%d年渝中区重点整治整改项目清单", year), Kind: leaders.ListProject,
				OwnerID: lead.AccountID, OwnerName: lead.Name, RegionPath: District,
				From: time.Date(year, 1, 1, 0, 0, 0, 0, shanghai), To: time.Date(year+1, 1, 1, 0, 0, 0, 0, shanghai), CreatedAt: start}
			if err := tx.PutList(ctx, l); err != nil {
				return err
			}
		}
		return tx.AddItem(ctx, leaders.Item{ListID: l.ID, Kind: leaders.ItemProject, RefID: p.ID, AddedBy: street.AccountID, AddedAt: start})
	})
}

// projectS5 makes the 菜袁路 ventilation repair of S5 a project on
// 菜园坝街道's own list, with its four milestones met as the case's timeline
// tells.
func (g *generator) projectS5(ctx context.Context) error {
	if g.s5 == nil {
		return nil
	}
	c := g.s5
	t := c.ReportedAt
	street := g.actors["cyb_zhihui"]
	lead := ""
	if i := c.LeadTask(); i >= 0 {
		lead = c.Tasks[i].UnitID
	} else if len(c.Tasks) > 0 {
		lead = c.Tasks[0].UnitID
	}
	p, err := leaders.NewProject(leaders.Project{ID: id.At(t), Name: "菜袁路107、109号新风系统维修", Goal: "更换4套损坏的新风系统，消除火灾隐患",
		LeadUnit: lead, CoUnits: []string{"xf"}, RegionPath: streetOf(c.RegionPath), CaseID: c.ID, OwnerID: street.AccountID, CreatedAt: t},
		[]leaders.MilestoneInput{
			{Title: "入户调查", Limit: sla.Limit{Amount: 2, Unit: sla.WorkDays}},
			{Title: "居民代表大会议定维修资金使用", Limit: sla.Limit{Amount: 4, Unit: sla.WorkDays}},
			{Title: "107号两套新风系统安装", Limit: sla.Limit{Amount: 8, Unit: sla.WorkDays}},
			{Title: "109号两套新风系统安装", Limit: sla.Limit{Amount: 6, Unit: sla.WorkDays}},
		}, g.cal, t)
	if err != nil {
		return fmt.Errorf("S5 project: %w", err)
	}
	for i, m := range []struct {
		at   time.Time
		text string
	}{{at(t, 0, 15, 30), "两栋楼共4套新风系统全部损坏"}, {at(t, 4, 10, 0), "居民代表大会表决通过，维修资金使用已公示"},
		{at(t, 11, 17, 0), "107号两套新风系统安装调试完毕"}, {at(t, 18, 16, 0), "109号两套新风系统安装调试完毕"}} {
		if p, err = p.MeetMilestone(i+1, m.text, nil, "菜园坝街道", m.at); err != nil {
			return fmt.Errorf("S5 milestone %d: %w", i+1, err)
		}
	}
	if p, err = p.Verify(street.Name, "4套新风系统运行正常，隐患消除", at(t, 21, 15, 0)); err != nil {
		return err
	}
	return g.svc.DB().Write(ctx, func(tx *store.Tx) error {
		if err := tx.InsertProject(ctx, p); err != nil {
			return err
		}
		l := leaders.List{ID: id.At(t), Name: "菜园坝街道民生实事清单", Kind: leaders.ListStreet, OwnerID: street.AccountID, OwnerName: street.Name,
			RegionPath: p.RegionPath, From: t.AddDate(0, 0, -7), To: t.AddDate(1, 0, 0), CreatedAt: t}
		if err := tx.PutList(ctx, l); err != nil {
			return err
		}
		return tx.AddItem(ctx, leaders.Item{ListID: l.ID, Kind: leaders.ItemProject, RefID: p.ID, AddedBy: street.AccountID, AddedAt: t})
	})
}

// leadersNow records, through the service as it runs, what belongs to
// today: the pairings, this month's topic (每月一题) with its cases, and
// the cases the district leader supervises from the list.
func leadersNow(ctx context.Context, svc *service.Service, w *world, actors map[string]cases.Actor) error {
	now := svc.Now()
	loc := svc.Calendar().Location()
	y := now.In(loc).Year()
	from, to := time.Date(y, 1, 1, 0, 0, 0, 0, loc), time.Date(y+1, 1, 1, 0, 0, 0, 0, loc)
	for _, dl := range demoLeaders {
		leader := actors[dl.user]
		var ps []leaders.Pairing
		for _, s := range dl.streets {
			if r, ok := w.resolve(s); ok {
				ps = append(ps, leaders.Pairing{Kind: leaders.TargetStreet, Target: r.Code})
			}
		}
		for _, c := range dl.communities {
			if r, ok := w.resolve(c); ok {
				ps = append(ps, leaders.Pairing{Kind: leaders.TargetCommunity, Target: r.Code})
			}
		}
		if dl.enterprise[0] != "" {
			if r, ok := w.resolve(dl.enterprise[1]); ok {
				ps = append(ps, leaders.Pairing{Kind: leaders.TargetEnterprise, Target: "91500103MA5U000001", TargetName: dl.enterprise[0], Region: r.Code})
			}
		}
		for _, p := range ps {
			p.LeaderID, p.From, p.To, p.Note = leader.AccountID, from, to, "四下基层包联"
			if _, err := svc.PutPairing(ctx, cases.System, p); err != nil {
				return fmt.Errorf("demo pairing %s %s: %w", dl.user, p.Target, err)
			}
		}
	}
	lead := actors["leader"]
	m := now.In(loc)
	mFrom := time.Date(m.Year(), m.Month(), 1, 0, 0, 0, 0, loc)
	topic, err := svc.CreateList(ctx, lead, leaders.List{Name: fmt.Sprintf("%d年%d月每月一题：电动车违规充电", m.Year(), m.Month()), Kind: leaders.ListMonthly,
		Topic: "电动车飞线充电、楼道充电屡禁不止，本月集中整治", From: mFrom, To: mFrom.AddDate(0, 1, 0)}, "")
	if err != nil {
		return fmt.Errorf("demo monthly topic: %w", err)
	}
	open := true
	list, err := svc.List(ctx, lead, store.CaseFilter{Category: "AQ04", Open: &open, Limit: 8})
	if err != nil {
		return err
	}
	for _, c := range list {
		if err := svc.AddItem(ctx, lead, topic.ID, leaders.ItemCase, c.ID); err != nil {
			return fmt.Errorf("demo monthly topic item: %w", err)
		}
	}
	// Cadre training at 红色三岩学院: two courses, a session each with the
	// streets' commanders, and a practical posting.
	var cadres []string
	for name, a := range actors {
		if strings.HasSuffix(name, "_zhihui") && a.Role == cases.RoleCommander && strings.Count(a.RegionPath, "/") == 4 {
			cadres = append(cadres, a.AccountID)
		}
	}
	slices.Sort(cadres)
	for i, c := range []leaders.Course{
		{Title: "数字化转型专题培训", Topic: "数字化转型", Provider: "红色三岩学院", Hours: 6},
		{Title: "项目融资能力提升班", Topic: "项目融资", Provider: "红色三岩学院", Hours: 4},
	} {
		course, err := svc.CreateCourse(ctx, lead, c)
		if err != nil {
			return fmt.Errorf("demo course: %w", err)
		}
		if len(cadres) == 0 {
			continue
		}
		if _, err := svc.RecordSession(ctx, lead, leaders.Session{CourseID: course.ID, At: now.AddDate(0, -2+i, 0), Place: "红色三岩学院",
			Trainers: []string{"区委党校教授", "区大数据发展局负责人"}, Attendees: cadres}); err != nil {
			return fmt.Errorf("demo session: %w", err)
		}
	}
	if syl, ok := actors["syl_zhihui"]; ok {
		if _, err := svc.AddPosting(ctx, lead, leaders.Posting{CadreID: syl.AccountID, Post: "新影村社区第一书记（挂职历练）",
			From: now.AddDate(0, -3, 0), To: now.AddDate(0, 3, 0), Note: "多岗位历练"}, ""); err != nil {
			return fmt.Errorf("demo posting: %w", err)
		}
	}
	// The leader supervises a few open cases of their own list.
	ls, err := svc.Lists(ctx, lead, store.ListFilter{OwnerID: lead.AccountID, Kind: leaders.ListLeader, At: now})
	if err != nil || len(ls) == 0 {
		return err
	}
	b, err := svc.ListBoard(ctx, lead, ls[0].ID)
	if err != nil {
		return err
	}
	n := 0
	for _, it := range b.Items {
		if n == 3 || !it.Open || it.Kind != leaders.ItemCase || it.State == string(cases.Held) {
			continue
		}
		if _, _, err := svc.Supervise(ctx, lead, it.RefID, service.SuperviseInput{Note: "群众反映强烈，请加快办理", Limit: sla.Limit{Amount: 3, Unit: sla.WorkDays}, ListID: ls[0].ID}); err == nil {
			n++
		}
	}
	return nil
}
