package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"zhizhi/internal/auth"
	"zhizhi/internal/cases"
	"zhizhi/internal/enterprise"
	"zhizhi/internal/id"
	"zhizhi/internal/service"
	"zhizhi/internal/sla"
	"zhizhi/internal/store"
)

// 化龙桥街道's enterprise services (S7, issue 14): the enterprises in its
// buildings (企业天地), the four-colour catalog of twenty sample services,
// requests attached to the demo's enterprise cases of the street, and the
// medical-insurance policy class.

// EnterpriseStreet is the street whose enterprises the demo registers.
const EnterpriseStreet = "化龙桥街道"

// Liaison and StreetLeader are the demo's section liaison (经济发展办) and
// street leader of 化龙桥; QiyeColleague is a second account of qiye's
// enterprise.
const (
	Liaison       = "hlq_jj"
	StreetLeader  = "hlq_lingdao"
	QiyeColleague = "qiye_hr"
)

// ServiceCatalog is the sample catalog (四色四务): about twenty services.
// Every service files its request under an economic-development category.
func ServiceCatalog() []enterprise.Service {
	wd := func(n int) sla.Limit { return sla.Limit{Amount: n, Unit: sla.WorkDays} }
	dj, jj := SectionUnitID(EnterpriseStreet, cases.BoardParty), SectionUnitID(EnterpriseStreet, cases.BoardEconomy)
	list := []enterprise.Service{
		{Code: "R01", Name: "党组织组建指导", Color: enterprise.Red, Category: "JJ01", UnitID: dj, Limit: wd(10)},
		{Code: "R02", Name: "党员组织关系转接", Color: enterprise.Red, Category: "JJ01", UnitID: dj, Limit: wd(5)},
		{Code: "R03", Name: "两新组织党建活动支持", Color: enterprise.Red, Category: "JJ01", UnitID: dj, Limit: wd(10)},
		{Code: "R04", Name: "党群服务中心场地预约", Color: enterprise.Red, Category: "JJ01", UnitID: dj, Limit: wd(3)},
		{Code: "R05", Name: "青年人才联谊", Color: enterprise.Red, Category: "JJ01", UnitID: dj, Limit: wd(10)},
		{Code: "G01", Name: "医保政策咨询", Color: enterprise.Green, Category: "JJ02", UnitID: "yb", Limit: wd(5),
			Description: "职工医保门诊共济保障、个人账户、异地就医等政策咨询与解读",
			Questions: []cases.Question{
				{Code: "insured", Prompt: "参保职工人数", Type: cases.QNumber, Required: true, Order: 1},
				{Code: "topic", Prompt: "关注内容", Type: cases.QSingle, Required: true, Order: 2, Choices: []cases.Choice{
					{Key: "outpatient", Name: "门诊共济保障"}, {Key: "account", Name: "个人账户"}, {Key: "remote", Name: "异地就医"}, {Key: "other", Name: "其他"}}},
			}},
		{Code: "G02", Name: "社保用工服务", Color: enterprise.Green, Category: "JJ03", UnitID: "rs", Limit: wd(5),
			Questions: []cases.Question{{Code: "staff", Prompt: "用工人数", Type: cases.QNumber, Order: 1}}},
		{Code: "G03", Name: "企业开办与变更", Color: enterprise.Green, Category: "JJ05", UnitID: "scjg", Limit: wd(3)},
		{Code: "G04", Name: "惠企政策申报", Color: enterprise.Green, Category: "JJ01", UnitID: jj, Limit: wd(5),
			Questions: []cases.Question{{Code: "policy", Prompt: "拟申报的政策", Type: cases.QString, Order: 1}}},
		{Code: "G05", Name: "楼宇招商与入驻", Color: enterprise.Green, Category: "JJ06", UnitID: "sw", Limit: wd(10)},
		{Code: "G06", Name: "人才安居服务", Color: enterprise.Green, Category: "JJ03", UnitID: "rs", Limit: wd(10)},
		{Code: "B01", Name: "企业周边治安巡防", Color: enterprise.Blue, Category: "JJ01", UnitID: "ga", Limit: wd(3)},
		{Code: "B02", Name: "员工户籍与居住证办理", Color: enterprise.Blue, Category: "JJ01", UnitID: "ga", Limit: wd(5)},
		{Code: "B03", Name: "反诈宣传进企业", Color: enterprise.Blue, Category: "JJ01", UnitID: "ga", Limit: wd(10)},
		{Code: "B04", Name: "消防安全检查指导", Color: enterprise.Blue, Category: "JJ01", UnitID: "xf", Limit: wd(5)},
		{Code: "B05", Name: "交通出行疏导", Color: enterprise.Blue, Category: "JJ01", UnitID: "jt", Limit: wd(5)},
		{Code: "O01", Name: "合同法律咨询", Color: enterprise.Orange, Category: "JJ07", UnitID: "sf", Limit: wd(5)},
		{Code: "O02", Name: "劳动争议调解", Color: enterprise.Orange, Category: "JJ07", UnitID: "sf", Limit: wd(10)},
		{Code: "O03", Name: "知识产权保护", Color: enterprise.Orange, Category: "JJ07", UnitID: "sf", Limit: wd(10)},
		{Code: "O04", Name: "企业法治体检", Color: enterprise.Orange, Category: "JJ07", UnitID: "sf", Limit: wd(15)},
	}
	for i := range list {
		list[i].Active, list[i].Order = true, i+1
		if list[i].Description == "" {
			list[i].Description = list[i].Name
		}
	}
	return list
}

var enterpriseNames = []struct{ name, industry string }{
	{"重庆某科技有限公司", "软件和信息技术服务"}, {"重庆云渝数据服务有限公司", "数据服务"}, {"重庆天地设计咨询有限公司", "设计咨询"},
	{"重庆渝新跨境电商有限公司", "批发零售"}, {"重庆桥北文化传媒有限公司", "文化传媒"}, {"重庆智汇人力资源有限公司", "人力资源服务"},
	{"重庆江岸餐饮管理有限公司", "餐饮"}, {"重庆睿联医药科技有限公司", "医药科技"}, {"重庆恒信财税咨询有限公司", "财税咨询"},
	{"重庆融创工程设计有限公司", "工程设计"},
}

// CreditCode makes the demo's i-th unified social credit code (in 渝中区,
// with a valid check character).
func CreditCode(i int) string {
	first := fmt.Sprintf("91500103MA%07d", 6000000+i*7919)
	c, _ := enterprise.CreditCheckChar(first)
	return first + string(c)
}

// enterprises registers 化龙桥's enterprises, the catalog, the history of
// requests and the S7 policy class.
func enterprises(ctx context.Context, svc *service.Service, w *world, rnd *rand.Rand, now time.Time, hash string) error {
	st, ok := w.resolve(EnterpriseStreet)
	if !ok {
		return fmt.Errorf("enterprises: no %s", EnterpriseStreet)
	}
	leader, err := svc.CreateAccount(ctx, service.NewAccount{Username: StreetLeader, Name: "化龙桥街道分管领导", Role: cases.RoleLeader,
		RegionCode: st.Code, PasswordHash: hash, Phone: "13800009001"}, auth.DefaultParams)
	if err != nil {
		return fmt.Errorf("enterprises: leader: %w", err)
	}
	colleague, err := svc.CreateAccount(ctx, service.NewAccount{Username: QiyeColleague, Name: "重庆某科技有限公司人事专员", Role: cases.RoleEnterprise,
		RegionCode: st.Code, PasswordHash: hash, Phone: "13800009002"}, auth.DefaultParams)
	if err != nil {
		return fmt.Errorf("enterprises: colleague: %w", err)
	}
	db := svc.DB()
	liaison, err := db.AccountByUsername(ctx, Liaison)
	if err != nil {
		return fmt.Errorf("enterprises: liaison: %w", err)
	}
	qiye, err := db.AccountByUsername(ctx, "qiye")
	if err != nil {
		return fmt.Errorf("enterprises: qiye: %w", err)
	}
	var grids []store.RegionRecord
	for _, g := range w.grids {
		if strings.HasPrefix(g.Path, st.Path) {
			grids = append(grids, g)
		}
	}
	if len(grids) == 0 {
		return fmt.Errorf("enterprises: no grids in %s", EnterpriseStreet)
	}
	var ents []enterprise.Enterprise
	sizes := []enterprise.Size{enterprise.Small, enterprise.Micro, enterprise.Medium, enterprise.Small, enterprise.Large}
	for i, n := range enterpriseNames {
		b := fmt.Sprintf("企业天地%d号楼", i%8+1)
		e, err := svc.PutEnterprise(ctx, cases.System, service.EnterpriseIn{Enterprise: enterprise.Enterprise{
			Name: n.name, CreditCode: CreditCode(i), Address: "重庆市渝中区化龙桥" + b, GridCode: grids[i%len(grids)].Code,
			Building: b, Industry: n.industry, Size: sizes[i%len(sizes)], Key: i%3 == 0, Active: true,
			Contacts:  []enterprise.Contact{{Name: []string{"王", "李", "张", "刘", "陈"}[i%5] + "经理", Phone: fmt.Sprintf("1390000%04d", i+1), Title: "行政负责人"}},
			LiaisonID: liaison.ID, LeaderID: leader.ID,
		}})
		if err != nil {
			return fmt.Errorf("enterprises: %s: %w", n.name, err)
		}
		ents = append(ents, e)
	}
	for _, a := range []string{qiye.ID, colleague.ID} {
		if err := svc.AddMember(ctx, cases.System, ents[0].ID, a); err != nil {
			return fmt.Errorf("enterprises: member: %w", err)
		}
	}
	catalog := ServiceCatalog()
	for _, s := range catalog {
		if err := svc.PutService(ctx, cases.System, s); err != nil {
			return fmt.Errorf("enterprises: service %s: %w", s.Code, err)
		}
	}
	if err := requestHistory(ctx, svc, st.Path, ents, catalog, rnd, now); err != nil {
		return err
	}
	return policyClass(ctx, svc, st.Path, ents, rnd, now)
}

// requestHistory attaches a request to each of the street's demo cases from
// enterprises: one of the registered enterprises asked, for a service of the
// case's category; the liaison called within hours (now and then late), the
// unit answered at the case's first feedback, the rating is the case's.
func requestHistory(ctx context.Context, svc *service.Service, street string, ents []enterprise.Enterprise, catalog []enterprise.Service, rnd *rand.Rand, now time.Time) error {
	db := svc.DB()
	list, err := db.Cases(ctx, store.CaseFilter{Scope: store.Scope{All: true}, RegionPath: street, Source: string(cases.SourceEnterprise), Limit: 1000})
	if err != nil {
		return err
	}
	byCat := map[string][]enterprise.Service{}
	for _, s := range catalog {
		byCat[s.Category] = append(byCat[s.Category], s)
	}
	cal := svc.Calendar()
	var reqs []enterprise.Request
	for i, c := range list {
		e := ents[i%len(ents)]
		var sv *enterprise.Service
		if opts := byCat[c.Category]; len(opts) > 0 {
			x := opts[rnd.IntN(len(opts))]
			sv = &x
		}
		r := enterprise.Open(enterprise.Request{ID: id.At(c.ReportedAt), EnterpriseID: e.ID, Enterprise: e.Name, Words: c.Description,
			CaseID: c.ID, CaseNumber: c.Number, AccountName: e.Contacts[0].Name, LiaisonID: e.LiaisonID, LeaderID: e.LeaderID,
			RegionPath: e.RegionPath}, sv, cal, enterprise.DefaultContactLimit, c.ReportedAt)
		if r.UnitID == "" {
			if cat, ok := svc.Category(c.Category); ok {
				r.UnitID = cat.DefaultUnit
			}
		}
		steps, err := db.Steps(ctx, c.ID)
		if err != nil {
			return err
		}
		var answered time.Time
		for _, s := range steps {
			if answered.IsZero() && (s.To == cases.FedBack || s.To == cases.Closed || s.To == cases.Rejected) {
				answered = s.At
			}
		}
		contact := sla.Due(cal, c.ReportedAt, sla.Limit{Amount: 1 + rnd.IntN(5), Unit: sla.WorkHours})
		if contact.Before(now) && (answered.IsZero() || contact.Before(answered)) {
			r, _ = enterprise.ContactBy(r, e.LiaisonID, "化龙桥街道经济发展办", "已电话联系"+e.Contacts[0].Name+"，了解诉求详情", contact)
		}
		if !answered.IsZero() {
			r = enterprise.Answered(r, answered)
		}
		end := now
		if !answered.IsZero() {
			end = answered
		}
		if why, ok := enterprise.Due(r, end); ok {
			at := r.Answer.Due
			if r.ContactedAt.IsZero() && r.Contact.Due.Before(at) {
				at = r.Contact.Due
			}
			r = enterprise.Escalate(r, why, at)
		}
		r.Rating = c.Rating
		reqs = append(reqs, r)
	}
	return db.Write(ctx, func(tx *store.Tx) error {
		for _, r := range reqs {
			if err := tx.PutRequest(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
}

// policyClass holds S7's class: the district medical-insurance bureau
// explains the outpatient reform in 企业天地2号楼 ten days ago; seven
// enterprises signed in, three questions were raised, and qiye's became a
// request. A second class is scheduled for next week.
func policyClass(ctx context.Context, svc *service.Service, street string, ents []enterprise.Enterprise, rnd *rand.Rand, now time.Time) error {
	loc := svc.Calendar().Location()
	d := now.In(loc).AddDate(0, 0, -10)
	at := time.Date(d.Year(), d.Month(), d.Day(), 14, 30, 0, 0, loc)
	var invited []string
	for _, e := range ents {
		invited = append(invited, e.ID)
	}
	c, err := svc.PutClass(ctx, cases.Actor{Role: cases.RoleSystem, Name: "化龙桥街道经济发展办", RegionPath: street}, enterprise.Class{
		Topic: "职工医保门诊共济保障机制改革政策解读", Building: "企业天地2号楼", Place: "企业天地党群服务中心多功能厅", At: at, Minutes: 90,
		Speakers: []string{"渝中区医疗保障局", "化龙桥街道经济发展办"}, Invited: invited,
		Materials: []string{"职工医保门诊共济保障机制改革问答（区医保局）", "门诊统筹报销比例一览表", "个人账户家庭共济操作指引"},
	})
	if err != nil {
		return fmt.Errorf("policy class: %w", err)
	}
	questions := []struct {
		ent  int
		text string
	}{
		{0, "改革后公司职工门诊报销的起付线和比例怎么变化？个人账户划入减少后对员工有什么影响？"},
		{3, "外地户籍员工在渝中参保，异地就医备案怎么办理？"},
		{5, "个人账户能否给员工家属使用？"},
	}
	err = svc.DB().Write(ctx, func(tx *store.Tx) error {
		cl, err := tx.Class(ctx, c.ID)
		if err != nil {
			return err
		}
		for i, e := range ents[:7] {
			if err := tx.SignIn(ctx, enterprise.Attendance{ClassID: c.ID, EnterpriseID: e.ID, AccountID: "", Name: e.Contacts[0].Name,
				At: at.Add(time.Duration(-20+i*3) * time.Minute)}); err != nil {
				return err
			}
		}
		for i, q := range questions {
			if cl, err = enterprise.Raise(cl, ents[q.ent].ID, ents[q.ent].Name, q.text, at.Add(time.Duration(60+i*5)*time.Minute)); err != nil {
				return err
			}
		}
		return tx.PutClass(ctx, cl)
	})
	if err != nil {
		return fmt.Errorf("policy class: %w", err)
	}
	qiye, err := svc.DB().AccountByUsername(ctx, "qiye")
	if err != nil {
		return err
	}
	if _, err := svc.Ask(ctx, svc.ActorOf(qiye), service.RequestIn{Service: "G01", ClassID: c.ID, Seq: 1,
		Words:   questions[0].text,
		Answers: map[string]any{"insured": "56", "topic": "outpatient"}}); err != nil {
		return fmt.Errorf("policy class request: %w", err)
	}
	next := now.In(loc).AddDate(0, 0, 7)
	_, err = svc.PutClass(ctx, cases.Actor{Role: cases.RoleSystem, Name: "化龙桥街道经济发展办", RegionPath: street}, enterprise.Class{
		Topic: "企业劳动用工合规与劳动争议预防", Building: "企业天地5号楼", Place: "5号楼一层共享会议室",
		At: time.Date(next.Year(), next.Month(), next.Day(), 15, 0, 0, 0, loc), Minutes: 60,
		Speakers: []string{"渝中区司法局", "渝中区人力社保局"}, Materials: []string{"劳动合同示范文本"},
	})
	return err
}
