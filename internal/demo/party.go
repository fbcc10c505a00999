package demo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/gridwork"
	"zhizhi/internal/id"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
)

// The party-building board's people (双报到, issue 15): in-service party
// members who reported to the community they live in, the communities'
// volunteer groups, a year of service hours, and open cases a volunteer
// group helps with. Like the cases, the history is written directly, each
// record validated by the domain as of its own day; the cases given to
// volunteers go through the service (the state machine's volunteer action).

var (
	partySurnames = []string{"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴", "徐", "孙", "马", "胡", "朱", "郭", "何", "罗", "高", "林", "谭", "冉", "向", "彭"}
	partyGiven    = []string{"建国", "红梅", "志强", "丽娟", "海燕", "俊杰", "晓东", "秀英", "文静", "明辉", "春华", "国庆", "雪梅", "小兵", "德明", "玉兰", "家豪", "思雨", "永红", "大伟", "桂芳", "子涵", "立新", "婷婷"}
	partyOrgs     = []string{
		"渝中区教育委员会", "渝中区卫生健康委员会", "渝中区税务局", "渝中区人民医院", "重庆市第二十九中学校", "人民路小学校",
		"渝中区市场监督管理局", "渝中区城市管理局", "渝中区住房和城乡建设委员会", "渝中区民政局", "渝中区人力资源和社会保障局",
		"解放碑商圈管委会", "重庆日报报业集团", "中国建设银行解放碑支行", "国网重庆市区供电公司", "重庆轨道交通集团",
		"重庆医科大学附属第一医院", "渝中区图书馆", "渝中区退役军人事务局", "渝中区司法局",
	}
	partyTasks = []string{"楼栋长", "政策宣讲", "文明劝导", "关爱独居老人", "垃圾分类督导", "矛盾纠纷调解", "防汛值守", "反诈宣传",
		"助学辅导", "义诊", "法律咨询", "环境整治", "交通文明引导", "疫苗接种引导"}
	partyActivities = []string{"楼栋环境整治", "独居老人上门探访", "反诈骗宣传进楼栋", "垃圾分类桶边督导", "社区义诊", "法律咨询进社区",
		"文明交通劝导", "防汛巡查值守", "“红岩先锋”主题党日", "儿童暑期课业辅导", "老旧小区楼道清理", "邻里纠纷调解",
		"节日慰问困难群众", "消防安全宣传", "政策宣讲进院坝"}
	groupKinds = []struct{ name, services string }{
		{"党员志愿服务队", "环境整治、文明劝导、关爱帮扶"},
		{"红岩先锋志愿服务队", "政策宣讲、矛盾调解、应急值守"},
		{"邻里守望队", "独居老人探访、楼栋巡查、邻里互助"},
	}
)

// party gives every community its reported party members, volunteer
// groups, a year of service hours and a few open cases helped by a group.
// members is the average per community (the full demo's 4,000 cases give
// 30, like a mid-sized community's in-service members).
func (g *generator) party(ctx context.Context, svc *service.Service, members int) error {
	db := svc.DB()
	today := g.now
	phone := 0
	var give []struct {
		comm  store.RegionRecord
		group gridwork.VolunteerGroup
	}
	for _, comm := range g.w.communities {
		grids := g.w.byComm[comm.Code]
		keeper := g.actors["sq"+strings.TrimPrefix(comm.Code, "500103")]
		recorder := keeper.AccountID
		if recorder == "" {
			recorder = cases.System.AccountID
		}
		var groups []gridwork.VolunteerGroup
		var ms []gridwork.PartyMember
		var hours []gridwork.ServiceHours
		for k, kind := range groupKinds[:2+g.pick(2)] {
			gr := gridwork.VolunteerGroup{ID: id.At(today.Add(-time.Duration(400-k) * 24 * time.Hour)), Name: comm.Name + kind.name,
				Community: comm.Code, CommunityPath: comm.Path, Services: kind.services, UpdatedAt: today.AddDate(-1, 0, -k)}
			if err := gridwork.CheckGroup(gr); err != nil {
				return fmt.Errorf("party: group %s: %w", gr.Name, err)
			}
			groups = append(groups, gr)
		}
		n := members/2 + g.pick(members+1)
		for i := 0; i < n; i++ {
			phone++
			// Most reported in earlier years; a few every month of this one.
			back := 30 + g.pick(3*365)
			if g.chance(0.3) {
				back = 1 + g.pick(360)
			}
			on := today.AddDate(0, 0, -back)
			m := gridwork.PartyMember{
				ID:   id.At(on.Add(time.Duration(i) * time.Millisecond)),
				Name: partySurnames[g.pick(len(partySurnames))] + partyGiven[g.pick(len(partyGiven))],
				Org:  partyOrgs[g.pick(len(partyOrgs))], Phone: fmt.Sprintf("139%08d", 23000000+phone),
				Community: comm.Code, CommunityPath: comm.Path, ReportedOn: gridwork.Today(on), UpdatedAt: on,
			}
			if len(grids) > 0 && g.chance(0.7) {
				gr := grids[g.pick(len(grids))]
				m.Grid, m.GridPath = gr.Code, gr.Path
			}
			if g.chance(0.6) {
				m.GroupID = groups[g.pick(len(groups))].ID
			}
			for t := 0; t < 1+g.pick(2); t++ {
				task := partyTasks[g.pick(len(partyTasks))]
				if t == 0 || task != m.Tasks[0] {
					m.Tasks = append(m.Tasks, task)
				}
			}
			if err := gridwork.CheckPartyMember(m, on.Add(time.Hour)); err != nil {
				return fmt.Errorf("party: member %s: %w", m.Name, err)
			}
			m.Left = g.chance(0.03)
			ms = append(ms, m)
			if m.Left {
				continue
			}
			// Service hours since they reported, within the last year: a
			// member serves about once a month, some far more, some never.
			since := min(back, 365)
			times := g.pick(1 + since/30)
			if g.chance(0.15) {
				times += g.pick(12)
			}
			for h := 0; h < times; h++ {
				// Mornings and afternoons in Chongqing, on a day before today.
				day := today.In(shanghai).AddDate(0, 0, -g.pick(since)-1)
				at := time.Date(day.Year(), day.Month(), day.Day(), 9, 0, 0, 0, shanghai).Add(g.minutes(0, 8*60))
				sh := gridwork.ServiceHours{ID: id.At(at), MemberID: m.ID, MemberName: m.Name, CommunityPath: comm.Path,
					Activity: partyActivities[g.pick(len(partyActivities))], On: gridwork.Today(at),
					Minutes: 30 * (2 + g.pick(7)), RecordedBy: recorder, At: at.Add(4 * time.Hour)}
				if err := gridwork.CheckHours(sh, sh.At); err != nil {
					return fmt.Errorf("party: hours of %s: %w", m.Name, err)
				}
				hours = append(hours, sh)
			}
		}
		err := db.Write(ctx, func(tx *store.Tx) error {
			for _, gr := range groups {
				if err := tx.PutVolunteerGroup(ctx, gr); err != nil {
					return err
				}
			}
			for _, m := range ms {
				if err := tx.PutPartyMember(ctx, m); err != nil {
					return err
				}
			}
			for _, h := range hours {
				if err := tx.InsertServiceHours(ctx, h); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("party: %s: %w", comm.Name, err)
		}
		give = append(give, struct {
			comm  store.RegionRecord
			group gridwork.VolunteerGroup
		}{comm, groups[0]})
	}
	// A volunteer group helps with a few of the open cases in its community
	// that residents' help suits (environment, public order).
	helped := 0
	for _, gv := range give {
		if helped >= max(3, members/3) {
			break
		}
		actor, ok := g.actors["sq"+strings.TrimPrefix(gv.comm.Code, "500103")]
		if !ok {
			continue
		}
		open := true
		cs, err := db.Cases(ctx, store.CaseFilter{Scope: store.Scope{All: true}, RegionPath: gv.comm.Path, Open: &open,
			States: []cases.State{cases.Accepted, cases.Dispatched, cases.Handling}, Limit: 20})
		if err != nil {
			return fmt.Errorf("party: open cases of %s: %w", gv.comm.Name, err)
		}
		for _, c := range cs {
			if cases.Board(c.Board) != cases.BoardSafety && cases.Board(c.Board) != cases.BoardServices {
				continue
			}
			if _, err := svc.GiveToVolunteers(ctx, actor, c.ID, gv.group.ID, "请"+gv.group.Name+"协助入户宣传、现场劝导"); err != nil {
				return fmt.Errorf("party: volunteers on %s: %w", c.Number, err)
			}
			helped++
			break
		}
	}
	return nil
}
