package service

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/enterprise"
	"zhizhi/internal/id"
	"zhizhi/internal/region"
	"zhizhi/internal/sla"
	"zhizhi/internal/store"
)

// Enterprise services (issue 14, package enterprise, docs/enterprise.md):
// the registry, the four-colour catalog, requests on the one form followed
// at three levels, and policy classes. A request is a case reported through
// report (source enterprise, the service's category, so on the
// economic-development board, placed in the enterprise's grid and routed by
// the library to the service's unit, its category's default unit); the
// request row is written in the same transaction. Changes to the registry,
// the catalog, memberships and classes are audited; a request's follow-up
// is its own trail (notes with who and when) beside the case's timeline.

// enterprisePath returns the region path of the enterprise an account
// belongs to.
func (s *Service) enterprisePath(ctx context.Context, accountID string) (string, bool) {
	if accountID == "" {
		return "", false
	}
	eid, err := s.db.MemberOf(ctx, accountID)
	if err != nil {
		return "", false
	}
	e, err := s.db.Enterprise(ctx, eid)
	if err != nil || e.RegionPath == "" {
		return "", false
	}
	return e.RegionPath, true
}

// MyEnterprise returns the enterprise an enterprise account belongs to.
func (s *Service) MyEnterprise(ctx context.Context, actor cases.Actor) (enterprise.Enterprise, error) {
	if actor.Role != cases.RoleEnterprise {
		return enterprise.Enterprise{}, apperr.New(apperr.Forbidden, "只有企业账号可以使用企业服务")
	}
	eid, err := s.db.MemberOf(ctx, actor.AccountID)
	if errors.Is(err, store.ErrNotFound) {
		return enterprise.Enterprise{}, apperr.New(apperr.NotFound, "本账号尚未关联企业，请联系街道登记")
	} else if err != nil {
		return enterprise.Enterprise{}, err
	}
	return s.db.Enterprise(ctx, eid)
}

// registrar reports whether the actor keeps the registry at path: an
// administrator of the path, or a commander of the street center above it.
func registrar(actor cases.Actor, path string) bool {
	if administers(actor, path) {
		return true
	}
	return actor.Role == cases.RoleCommander && actor.RegionPath != "" && strings.HasPrefix(path, actor.RegionPath)
}

// EnterpriseIn is an enterprise to save: its liaison and leader by account ID
// or username.
type EnterpriseIn struct {
	enterprise.Enterprise
	Liaison, Leader string // usernames, when the IDs are not given
}

// PutEnterprise registers an enterprise or changes one: its grid must be a
// grid, its liaison a staff account and its leader a leader of the street;
// the credit code is unique.
func (s *Service) PutEnterprise(ctx context.Context, actor cases.Actor, in EnterpriseIn) (enterprise.Enterprise, error) {
	e := in.Enterprise
	e.CreditCode = enterprise.NormalizeCreditCode(e.CreditCode)
	e.Name, e.Address, e.GridCode = strings.TrimSpace(e.Name), strings.TrimSpace(e.Address), strings.TrimSpace(e.GridCode)
	if e.LiaisonID == "" && in.Liaison != "" {
		if a, err := s.db.AccountByUsername(ctx, in.Liaison); err == nil {
			e.LiaisonID = a.ID
		} else {
			e.LiaisonID = "?" + in.Liaison
		}
	}
	if e.LeaderID == "" && in.Leader != "" {
		if a, err := s.db.AccountByUsername(ctx, in.Leader); err == nil {
			e.LeaderID = a.ID
		} else {
			e.LeaderID = "?" + in.Leader
		}
	}
	var f apperr.Fields
	if err := e.Validate(); err != nil {
		f.Merge(err)
	}
	path, ok := s.RegionPath(e.GridCode)
	if e.GridCode != "" && (!ok || s.ref.Load().levels[e.GridCode] != region.Grid) {
		f.Add("grid_code", "网格不存在")
	}
	e.RegionPath = path
	if e.LiaisonID != "" {
		a, err := s.db.Account(ctx, e.LiaisonID)
		if err != nil || !a.Active || !slices.Contains([]cases.Role{cases.RoleUnit, cases.RoleCommunity, cases.RoleCommander}, a.Role) {
			f.Add("liaison_id", "联络员须是有效的街道科室、社区或指挥中心账号")
		}
	}
	if e.LeaderID != "" {
		a, err := s.db.Account(ctx, e.LeaderID)
		if err != nil || !a.Active || a.Role != cases.RoleLeader || (path != "" && !strings.HasPrefix(path, a.RegionPath)) {
			f.Add("leader_id", "包联领导须是企业所在街道（或上级）的有效领导账号")
		}
	}
	if err := f.Err(); err != nil {
		return enterprise.Enterprise{}, err
	}
	if !registrar(actor, path) {
		return enterprise.Enterprise{}, apperr.New(apperr.Forbidden, "只能登记本辖区内的企业")
	}
	e.UpdatedAt = s.Now()
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		var old enterprise.Enterprise
		existed := false
		if e.ID != "" {
			o, err := tx.Enterprise(ctx, e.ID)
			if errors.Is(err, store.ErrNotFound) {
				return apperr.New(apperr.NotFound, "企业不存在")
			} else if err != nil {
				return err
			}
			if !registrar(actor, o.RegionPath) {
				return apperr.New(apperr.Forbidden, "只能修改本辖区内的企业")
			}
			old, existed = o, true
		}
		if dup, err := tx.EnterpriseByCode(ctx, e.CreditCode); err == nil && dup.ID != e.ID {
			return apperr.Field("credit_code", "该统一社会信用代码已登记为“"+dup.Name+"”")
		} else if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if e.ID == "" {
			e.ID = id.New()
		}
		if err := tx.PutEnterprise(ctx, e); err != nil {
			return err
		}
		return tx.Audit(ctx, s.auditEntry(actor, "enterprise", e.ID, existed, old, e))
	})
	if err != nil {
		return enterprise.Enterprise{}, err
	}
	return e, nil
}

// Enterprises lists the enterprises the actor follows or keeps: a liaison's
// or leader's own, a region role's under its region.
func (s *Service) Enterprises(ctx context.Context, actor cases.Actor) ([]enterprise.Enterprise, error) {
	switch actor.Role {
	case cases.RoleSystem:
		return s.db.Enterprises(ctx, store.EnterpriseFilter{})
	case cases.RoleAdmin, cases.RoleCommander:
		if actor.RegionPath == "" {
			return nil, nil
		}
		return s.db.Enterprises(ctx, store.EnterpriseFilter{RegionPath: actor.RegionPath})
	case cases.RoleLeader:
		return s.db.Enterprises(ctx, store.EnterpriseFilter{LeaderID: actor.AccountID})
	case cases.RoleUnit, cases.RoleCommunity:
		return s.db.Enterprises(ctx, store.EnterpriseFilter{LiaisonID: actor.AccountID})
	}
	return nil, apperr.New(apperr.Forbidden, "无权查看企业名录")
}

// ImportEnterprises registers the enterprises of a CSV file. Every problem of
// every row is reported (with the row's line) and then nothing is saved;
// otherwise every row is saved. It returns the number saved.
func (s *Service) ImportEnterprises(ctx context.Context, actor cases.Actor, rows []enterprise.ImportRow, probs []enterprise.Problem) (int, []enterprise.Problem, error) {
	var ins []EnterpriseIn
	for _, r := range rows {
		in := EnterpriseIn{Enterprise: r.Enterprise, Liaison: r.Liaison, Leader: r.Leader}
		in.LiaisonID, in.LeaderID = "", ""
		ins = append(ins, in)
		probs = append(probs, s.checkImportRow(ctx, actor, r.Line, &ins[len(ins)-1])...)
	}
	if len(probs) > 0 {
		slices.SortStableFunc(probs, func(a, b enterprise.Problem) int { return a.Line - b.Line })
		return 0, probs, nil
	}
	n := 0
	for _, in := range ins {
		if _, err := s.PutEnterprise(ctx, actor, in); err != nil {
			return n, nil, err
		}
		n++
	}
	return n, nil, nil
}

// checkImportRow names every problem of one row the file alone cannot show:
// the grid, the accounts, the actor's region, a code already registered
// (which updates that enterprise instead).
func (s *Service) checkImportRow(ctx context.Context, actor cases.Actor, line int, in *EnterpriseIn) []enterprise.Problem {
	var out []enterprise.Problem
	add := func(field, reason string) {
		out = append(out, enterprise.Problem{Line: line, Field: field, Reason: reason})
	}
	path, ok := s.RegionPath(in.GridCode)
	if !ok || s.ref.Load().levels[in.GridCode] != region.Grid {
		add("网格编码", "网格不存在")
	} else if !registrar(actor, path) {
		add("网格编码", "网格不在本辖区内")
	}
	if a, err := s.db.AccountByUsername(ctx, in.Liaison); err != nil || !a.Active || !slices.Contains([]cases.Role{cases.RoleUnit, cases.RoleCommunity, cases.RoleCommander}, a.Role) {
		add("联络员账号", "联络员账号不存在或不是街道科室、社区或指挥中心账号")
	} else {
		in.LiaisonID = a.ID
	}
	if a, err := s.db.AccountByUsername(ctx, in.Leader); err != nil || !a.Active || a.Role != cases.RoleLeader || (path != "" && !strings.HasPrefix(path, a.RegionPath)) {
		add("街道领导账号", "领导账号不存在或不是企业所在街道的领导")
	} else {
		in.LeaderID = a.ID
	}
	if old, err := s.findByCode(ctx, in.CreditCode); err == nil {
		in.ID = old.ID
	}
	return out
}

func (s *Service) findByCode(ctx context.Context, code string) (enterprise.Enterprise, error) {
	return s.db.EnterpriseByCode(ctx, code)
}

// AddMember makes an enterprise account one of the enterprise's people; the
// account's street must be the enterprise's.
func (s *Service) AddMember(ctx context.Context, actor cases.Actor, enterpriseID, accountID string) error {
	e, err := s.db.Enterprise(ctx, enterpriseID)
	if errors.Is(err, store.ErrNotFound) {
		return apperr.New(apperr.NotFound, "企业不存在")
	} else if err != nil {
		return err
	}
	if !registrar(actor, e.RegionPath) {
		return apperr.New(apperr.Forbidden, "只能管理本辖区内的企业")
	}
	a, err := s.db.Account(ctx, accountID)
	if err != nil || a.Role != cases.RoleEnterprise {
		return apperr.Field("account_id", "须是企业账号")
	}
	if a.RegionPath != centerOf(e.RegionPath) {
		return apperr.Field("account_id", "企业账号所在街道须与企业所在街道一致")
	}
	return s.db.Write(ctx, func(tx *store.Tx) error {
		if err := tx.PutMember(ctx, a.ID, e.ID); err != nil {
			return err
		}
		return tx.Audit(ctx, s.auditEntry(actor, "enterprise_member", a.ID, false, nil, map[string]string{"account_id": a.ID, "enterprise_id": e.ID}))
	})
}

// Members lists an enterprise's accounts.
func (s *Service) Members(ctx context.Context, enterpriseID string) ([]store.Account, error) {
	return s.db.Members(ctx, enterpriseID)
}

// Catalog lists the service catalog; only active services unless all.
func (s *Service) Catalog(ctx context.Context, all bool) ([]enterprise.Service, error) {
	list, err := s.db.Services(ctx)
	if err != nil {
		return nil, err
	}
	out := list[:0]
	for _, x := range list {
		if all || x.Active {
			out = append(out, x)
		}
	}
	slices.SortStableFunc(out, func(a, b enterprise.Service) int {
		if d := slices.Index(enterprise.Colors, a.Color) - slices.Index(enterprise.Colors, b.Color); d != 0 {
			return d
		}
		return a.Order - b.Order
	})
	return out, nil
}

// PutService adds or changes a service of the catalog (district-wide
// administrators): its category must exist and its unit take cases.
func (s *Service) PutService(ctx context.Context, actor cases.Actor, svc enterprise.Service) error {
	var f apperr.Fields
	if err := svc.Validate(); err != nil {
		f.Merge(err)
	}
	if svc.Category != "" {
		if c, ok := s.Category(svc.Category); !ok || !c.Active {
			f.Add("category", "类别不存在或已停用")
		}
	}
	if svc.UnitID != "" {
		if u, ok := s.Unit(svc.UnitID); !ok || !u.Dispatchable() {
			f.Add("unit_id", "承办单位不存在、已停用或不能直接承办")
		}
	}
	if err := f.Err(); err != nil {
		return err
	}
	if err := requireDistrictWide(actor, "企业服务目录"); err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *store.Tx) error {
		old, err := tx.Service(ctx, svc.Code)
		existed := err == nil
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := tx.PutService(ctx, svc); err != nil {
			return err
		}
		return tx.Audit(ctx, s.auditEntry(actor, "enterprise_service", svc.Code, existed, old, svc))
	})
}

// RequestIn is what an enterprise sends on the one form.
type RequestIn struct {
	Service string         `json:"service,omitempty"` // empty: in its own words, the liaison classifies it
	Words   string         `json:"words"`
	Answers map[string]any `json:"answers,omitempty"` // the service's and its category's questions
	ClassID string         `json:"class_id,omitempty"`
	Seq     int            `json:"question,omitempty"` // with ClassID: the question raised at the class
}

// generalCategory is the category of a request in the enterprise's own
// words: the first active economic-development category owned at street
// level (企业政策咨询 in the demo).
func (s *Service) generalCategory() (cases.Category, bool) {
	for _, c := range s.Categories() {
		if c.Active && c.Board == cases.BoardEconomy && c.Level == "street" {
			return c, true
		}
	}
	return cases.Category{}, false
}

// Ask takes an enterprise's request: validates the form, reports its case
// (in the enterprise's grid, filed under the service's category) and stores
// the request with its contact and answer clocks, in one transaction.
func (s *Service) Ask(ctx context.Context, actor cases.Actor, in RequestIn) (enterprise.Request, error) {
	e, err := s.MyEnterprise(ctx, actor)
	if err != nil {
		return enterprise.Request{}, err
	}
	var f apperr.Fields
	if err := enterprise.CheckWords(in.Words, false, in.Service); err != nil {
		f.Merge(err)
	}
	var svc *enterprise.Service
	cat, okCat := s.generalCategory()
	if in.Service != "" {
		list, err := s.db.Services(ctx)
		if err != nil {
			return enterprise.Request{}, err
		}
		for _, x := range list {
			if x.Code == in.Service && x.Active {
				svc = &x
			}
		}
		if svc == nil {
			f.Add("service", "服务事项不存在或已停用")
		} else {
			cat, okCat = s.Category(svc.Category)
		}
	}
	if !okCat {
		f.Add("service", "暂无可受理企业诉求的类别，请联系街道")
	}
	// Split the answers: the category's questions go on the case, the
	// service's own stay on the request; anything else is unknown.
	caseAns, svcAns := map[string]any{}, map[string]any{}
	catQ := map[string]bool{}
	for _, q := range cat.Questions {
		catQ[q.Code] = true
	}
	for k, v := range in.Answers {
		if catQ[k] {
			caseAns[k] = v
		} else {
			svcAns[k] = v
		}
	}
	var answers map[string]any
	if svc != nil {
		a, err := svc.Answer(svcAns)
		if err != nil {
			f.Merge(err)
		}
		answers = a
	} else {
		for k := range svcAns {
			f.Add("answers."+k, "该类别没有这个问题")
		}
	}
	var class enterprise.Class
	if in.ClassID != "" {
		c, err := s.db.Class(ctx, in.ClassID)
		if err != nil {
			f.Add("class_id", "课堂不存在")
		} else {
			class = c
			ok := false
			for _, q := range c.Questions {
				if q.Seq == in.Seq && q.EnterpriseID == e.ID {
					ok = true
				}
			}
			if !ok {
				f.Add("question", "没有本企业在该课堂提出的这个问题")
			}
		}
	}
	if err := f.Err(); err != nil {
		return enterprise.Request{}, err
	}
	desc := strings.TrimSpace(in.Words)
	if svc != nil {
		desc = svc.Describe(e.Name, in.Words, answers)
	} else {
		desc = "【企业诉求】" + e.Name + "：" + desc
	}
	if class.ID != "" {
		desc += "\n（提自楼宇课堂“" + class.Topic + "”）"
	}
	if n := []rune(desc); len(n) > cases.MaxDescription {
		desc = string(n[:cases.MaxDescription])
	}
	phone := ""
	if a, err := s.db.Account(ctx, actor.AccountID); err == nil {
		phone = a.Phone
	}
	if phone == "" && len(e.Contacts) > 0 {
		phone = e.Contacts[0].Phone
	}
	if len(caseAns) == 0 {
		caseAns = nil
	}
	rep := cases.Report{Source: cases.SourceEnterprise, Reporter: cases.Reporter{Name: actor.Name, Phone: phone},
		Address: e.Address, Category: cat.Code, Description: desc, Answers: caseAns}
	now := s.Now()
	req := enterprise.Open(enterprise.Request{ID: id.At(now), EnterpriseID: e.ID, Enterprise: e.Name, Words: strings.TrimSpace(in.Words),
		Answers: answers, AccountID: actor.AccountID, AccountName: actor.Name, LiaisonID: e.LiaisonID, LeaderID: e.LeaderID,
		RegionPath: e.RegionPath, ClassID: in.ClassID}, svc, s.Calendar(), s.contactLimit(ctx), now)
	_, _, err = s.report(ctx, actor, rep, nil, func(tx *store.Tx, c *cases.Case) error {
		r := req
		r.CaseID, r.CaseNumber = c.ID, c.Number
		if r.UnitID == "" {
			r.UnitID = cat.DefaultUnit
		}
		if class.ID != "" {
			cl, err := tx.Class(ctx, class.ID)
			if err != nil {
				return err
			}
			cl, _, err = enterprise.Promote(cl, in.Seq, r.ID)
			if err != nil {
				return err
			}
			if err := tx.PutClass(ctx, cl); err != nil {
				return err
			}
		}
		req = r
		return tx.PutRequest(ctx, r)
	})
	if err != nil {
		return enterprise.Request{}, err
	}
	return req, nil
}

// contactLimit is the liaison's contact limit (setting
// "enterprise.contact_limit", default four working hours).
func (s *Service) contactLimit(ctx context.Context) sla.Limit {
	var l sla.Limit
	if err := s.db.Setting(ctx, "enterprise.contact_limit", &l); err == nil && l.Validate() == nil {
		return l
	}
	return enterprise.DefaultContactLimit
}

// RequestView is a request with its case and the reader's level.
type RequestView struct {
	Request enterprise.Request
	Case    cases.Case
	Steps   []cases.Step
	Level   enterprise.Level
}

// level says at which level the actor follows an enterprise.
func (s *Service) level(ctx context.Context, actor cases.Actor, e enterprise.Enterprise) enterprise.Level {
	member := false
	if actor.Role == cases.RoleEnterprise {
		eid, err := s.db.MemberOf(ctx, actor.AccountID)
		member = err == nil && eid == e.ID
	}
	return enterprise.LevelOf(e, actor.AccountID, member)
}

// Request returns a request for one of its three levels, or for a
// commander, leader or administrator above its grid (who read it, level
// none).
func (s *Service) Request(ctx context.Context, actor cases.Actor, reqID string) (RequestView, error) {
	r, err := s.db.Request(ctx, reqID)
	if errors.Is(err, store.ErrNotFound) {
		return RequestView{}, apperr.New(apperr.NotFound, "诉求不存在")
	} else if err != nil {
		return RequestView{}, err
	}
	e, err := s.db.Enterprise(ctx, r.EnterpriseID)
	if err != nil {
		return RequestView{}, err
	}
	lv := s.level(ctx, actor, e)
	if lv == enterprise.LevelNone {
		// The request's own liaison and leader (as assigned when it came)
		// follow it too.
		switch actor.AccountID {
		case r.LiaisonID:
			lv = enterprise.LevelLiaison
		case r.LeaderID:
			lv = enterprise.LevelLeader
		}
	}
	above := (actor.Role == cases.RoleCommander || actor.Role == cases.RoleLeader || actor.Role == cases.RoleAdmin) &&
		actor.RegionPath != "" && strings.HasPrefix(r.RegionPath, actor.RegionPath)
	if lv == enterprise.LevelNone && !above && actor.Role != cases.RoleSystem {
		return RequestView{}, apperr.New(apperr.NotFound, "诉求不存在")
	}
	c, err := s.db.Case(ctx, r.CaseID)
	if err != nil {
		return RequestView{}, err
	}
	steps, err := s.db.Steps(ctx, c.ID)
	if err != nil {
		return RequestView{}, err
	}
	reader := actor
	if lv != enterprise.LevelNone {
		// The three levels read the case as the center does, phones masked.
		reader = cases.Actor{Role: cases.RoleUnit, AccountID: actor.AccountID}
	}
	return RequestView{Request: r, Case: cases.Redact(reader, c), Steps: steps, Level: lv}, nil
}

// Requests lists the requests the actor follows: an enterprise's own, a
// liaison's, a leader's (escalated ones too), or those under a commander's
// or administrator's region.
func (s *Service) Requests(ctx context.Context, actor cases.Actor, openOnly bool) ([]enterprise.Request, error) {
	f := store.RequestFilter{OpenOnly: openOnly}
	switch actor.Role {
	case cases.RoleEnterprise:
		e, err := s.MyEnterprise(ctx, actor)
		if err != nil {
			return nil, err
		}
		f.EnterpriseID = e.ID
	case cases.RoleLeader:
		f.LeaderID = actor.AccountID
	case cases.RoleUnit, cases.RoleCommunity:
		f.LiaisonID = actor.AccountID
	case cases.RoleCommander, cases.RoleAdmin:
		if actor.RegionPath == "" {
			return nil, nil
		}
		f.RegionPath = actor.RegionPath
	case cases.RoleSystem:
	default:
		return nil, apperr.New(apperr.Forbidden, "无权查看企业诉求")
	}
	return s.db.Requests(ctx, f)
}

// FollowIn is one step of a request's follow-up outside its case.
type FollowIn struct {
	Action   string       `json:"action"` // contact, ask, reply, classify, rate, whistle
	Text     string       `json:"text,omitempty"`
	Question int          `json:"question,omitempty"` // reply: the question's seq
	Service  string       `json:"service,omitempty"`  // classify
	Rating   cases.Rating `json:"rating,omitempty"`   // rate
	Units    []string     `json:"units,omitempty"`    // whistle: the departments summoned
}

// Follow takes one follow-up step on a request: the liaison contacts the
// enterprise or classifies a request in its own words, the liaison or
// leader asks the enterprise a question, the enterprise answers it, rates
// the answer (through the case's rate action) or blows the enterprise
// whistle on it (the case's whistle, summoning several departments).
func (s *Service) Follow(ctx context.Context, actor cases.Actor, reqID string, in FollowIn) (enterprise.Request, error) {
	v, err := s.Request(ctx, actor, reqID)
	if err != nil {
		return enterprise.Request{}, err
	}
	switch in.Action {
	case "rate":
		if v.Level != enterprise.LevelEnterprise {
			return enterprise.Request{}, apperr.New(apperr.Forbidden, "只有本企业可以评价")
		}
		if v.Request.AccountID != actor.AccountID {
			return enterprise.Request{}, apperr.New(apperr.Refused, "由提出诉求的人（"+v.Request.AccountName+"）评价")
		}
		if _, _, err := s.Act(ctx, actor, v.Request.CaseID, cases.Command{Action: cases.ActRate, Rating: in.Rating, Note: in.Text}, 0); err != nil {
			return enterprise.Request{}, err
		}
		return s.db.Request(ctx, reqID)
	case "whistle":
		if v.Level != enterprise.LevelEnterprise {
			return enterprise.Request{}, apperr.New(apperr.Forbidden, "只有本企业可以吹哨")
		}
		if len(in.Units) < 2 {
			return enterprise.Request{}, apperr.Field("units", "企业吹哨须召集至少两个部门")
		}
		if v.Request.AccountID != actor.AccountID {
			return enterprise.Request{}, apperr.New(apperr.Refused, "由提出诉求的人（"+v.Request.AccountName+"）吹哨")
		}
		var parties []cases.PartyRef
		for _, u := range in.Units {
			parties = append(parties, cases.PartyRef{UnitID: u})
		}
		if _, _, err := s.Act(ctx, actor, v.Request.CaseID, cases.Command{Action: cases.ActWhistle, Kind: cases.WhistleEnterprise, Note: in.Text, Parties: parties}, 0); err != nil {
			return enterprise.Request{}, err
		}
		return s.db.Request(ctx, reqID)
	}
	var svc *enterprise.Service
	if in.Action == "classify" {
		if v.Level != enterprise.LevelLiaison {
			return enterprise.Request{}, apperr.New(apperr.Forbidden, "只有该企业的联络员可以归类")
		}
		list, err := s.db.Services(ctx)
		if err != nil {
			return enterprise.Request{}, err
		}
		for _, x := range list {
			if x.Code == in.Service && x.Active {
				svc = &x
			}
		}
		if svc == nil {
			return enterprise.Request{}, apperr.Field("service", "服务事项不存在或已停用")
		}
	}
	now := s.Now()
	var out enterprise.Request
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		r, err := tx.Request(ctx, reqID)
		if err != nil {
			return err
		}
		switch in.Action {
		case "contact":
			r, err = enterprise.ContactBy(r, actor.AccountID, actor.Name, in.Text, now)
		case "ask":
			r, err = enterprise.Ask(r, v.Level, actor.AccountID, actor.Name, in.Text, now)
		case "reply":
			r, err = enterprise.Reply(r, v.Level, actor.AccountID, actor.Name, in.Question, in.Text, now)
		case "classify":
			if r.Service != "" {
				return apperr.Field("service", "该诉求已选定服务事项")
			}
			r.Service, r.ServiceName, r.Color, r.UnitID = svc.Code, svc.Name, svc.Color, svc.UnitID
			r.Answer.Limit = svc.Limit
			r.Answer = sla.Start(s.Calendar(), r.CreatedAt, svc.Limit, 0)
		default:
			return apperr.Field("action", "操作无效")
		}
		if err != nil {
			return err
		}
		out = r
		return tx.PutRequest(ctx, r)
	})
	return out, err
}

// followCase keeps an enterprise's request in step with its case, inside the
// case's write: the first feedback (or a close or rejection) answers it and
// stops its answer clock; the enterprise's rating is copied.
func (s *Service) followCase(ctx context.Context, tx *store.Tx, c *cases.Case, step *cases.Step) error {
	answered := c.State == cases.FedBack || c.State == cases.Closed || c.State == cases.Rejected
	if !answered && step.Action != cases.ActRate {
		return nil
	}
	r, err := tx.RequestOfCase(ctx, c.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	before := r
	if answered {
		r = enterprise.Answered(r, step.At)
	}
	if step.Action == cases.ActRate {
		r.Rating = c.Rating
	}
	if r.AnsweredAt.Equal(before.AnsweredAt) && r.Rating == before.Rating {
		return nil
	}
	return tx.PutRequest(ctx, r)
}

// SweepRequests escalates to the street leader every request whose liaison
// has not contacted the enterprise in time or that is unanswered past its
// limit, once each; it returns how many.
func (s *Service) SweepRequests(ctx context.Context, now time.Time) (int, error) {
	if any, err := s.db.AnyDueRequest(ctx, now); err != nil || !any {
		return 0, err
	}
	n := 0
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		n = 0
		due, err := tx.DueRequests(ctx, now, 200)
		if err != nil {
			return err
		}
		for _, r := range due {
			why, ok := enterprise.Due(r, now)
			if !ok {
				continue
			}
			if err := tx.PutRequest(ctx, enterprise.Escalate(r, why, now)); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// classOrganizer returns the street path under which the actor holds policy
// classes: a commander's, leader's or administrator's region, or a street
// unit's (a section liaison's) street.
func (s *Service) classOrganizer(actor cases.Actor) (string, bool) {
	switch actor.Role {
	case cases.RoleCommander, cases.RoleLeader, cases.RoleAdmin, cases.RoleSystem:
		return actor.RegionPath, actor.RegionPath != "" || actor.Role == cases.RoleSystem
	case cases.RoleUnit:
		if u, ok := s.Unit(actor.UnitID); ok && s.ref.Load().levels[lastCode(u.RegionPath)] == region.Street {
			return u.RegionPath, true
		}
	}
	return "", false
}

// OrganizesClasses says whether the actor organizes (and so reads) the
// policy classes of a street: the console offers the page only to them.
func (s *Service) OrganizesClasses(actor cases.Actor) bool {
	_, ok := s.classOrganizer(actor)
	return ok
}

// PutClass schedules a policy class (or changes one) in the organizer's
// street; the invited enterprises must be registered there.
func (s *Service) PutClass(ctx context.Context, actor cases.Actor, c enterprise.Class) (enterprise.Class, error) {
	path, ok := s.classOrganizer(actor)
	if !ok {
		return c, apperr.New(apperr.Forbidden, "只有街道指挥中心、领导、科室或管理员可以组织楼宇课堂")
	}
	var f apperr.Fields
	if err := c.Validate(); err != nil {
		f.Merge(err)
	}
	for i, eid := range c.Invited {
		e, err := s.db.Enterprise(ctx, eid)
		if err != nil || !strings.HasPrefix(e.RegionPath, path) {
			f.Addf("invited", "第%d家受邀企业不存在或不在本街道", i+1)
		}
	}
	if err := f.Err(); err != nil {
		return c, err
	}
	switch {
	case c.RegionPath == "":
		c.RegionPath = path
	case !strings.HasPrefix(c.RegionPath, path) || s.ref.Load().paths[lastCode(c.RegionPath)] != c.RegionPath:
		// A class is held in the organizer's own street (or below it).
		return c, apperr.Field("region_path", "楼宇课堂须在本辖区内")
	}
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		var old enterprise.Class
		existed := false
		if c.ID != "" {
			o, err := tx.Class(ctx, c.ID)
			if err != nil {
				return apperr.New(apperr.NotFound, "课堂不存在")
			}
			if !strings.HasPrefix(o.RegionPath, path) {
				return apperr.New(apperr.Forbidden, "只能修改本街道的课堂")
			}
			old, existed = o, true
			c.Questions, c.RegionPath = o.Questions, o.RegionPath
		} else {
			c.ID, c.CreatedBy = id.New(), actor.Name
		}
		if err := tx.PutClass(ctx, c); err != nil {
			return err
		}
		return tx.Audit(ctx, s.auditEntry(actor, "enterprise_class", c.ID, existed, old, c))
	})
	return c, err
}

// Classes lists the policy classes an actor sees: an enterprise's street's,
// an organizer's.
func (s *Service) Classes(ctx context.Context, actor cases.Actor) ([]enterprise.Class, error) {
	if actor.Role == cases.RoleEnterprise {
		e, err := s.MyEnterprise(ctx, actor)
		if err != nil {
			return nil, err
		}
		all, err := s.db.Classes(ctx, centerOf(e.RegionPath))
		if err != nil {
			return nil, err
		}
		out := all[:0]
		for _, c := range all {
			if len(c.Invited) == 0 || slices.Contains(c.Invited, e.ID) {
				out = append(out, c)
			}
		}
		return out, nil
	}
	path, ok := s.classOrganizer(actor)
	if !ok {
		return nil, apperr.New(apperr.Forbidden, "无权查看楼宇课堂")
	}
	return s.db.Classes(ctx, path)
}

// ClassView is a class with its sign-ins.
type ClassView struct {
	Class      enterprise.Class
	Attendance []enterprise.Attendance
	Mine       string // the reader's enterprise, for an enterprise
}

// Class returns a class to an invited enterprise or an organizer.
func (s *Service) Class(ctx context.Context, actor cases.Actor, classID string) (ClassView, error) {
	c, err := s.db.Class(ctx, classID)
	if errors.Is(err, store.ErrNotFound) {
		return ClassView{}, apperr.New(apperr.NotFound, "课堂不存在")
	} else if err != nil {
		return ClassView{}, err
	}
	v := ClassView{Class: c}
	if actor.Role == cases.RoleEnterprise {
		e, err := s.MyEnterprise(ctx, actor)
		if err != nil || !strings.HasPrefix(e.RegionPath, c.RegionPath) || (len(c.Invited) > 0 && !slices.Contains(c.Invited, e.ID)) {
			return ClassView{}, apperr.New(apperr.NotFound, "课堂不存在")
		}
		v.Mine = e.ID
	} else if path, ok := s.classOrganizer(actor); !ok || !strings.HasPrefix(c.RegionPath, path) {
		return ClassView{}, apperr.New(apperr.NotFound, "课堂不存在")
	}
	v.Attendance, err = s.db.Attendance(ctx, classID)
	return v, err
}

// SignInClass records the actor's enterprise at a class (on a phone, within
// the sign-in window), once per enterprise.
func (s *Service) SignInClass(ctx context.Context, actor cases.Actor, classID string) error {
	v, err := s.Class(ctx, actor, classID)
	if err != nil {
		return err
	}
	if v.Mine == "" {
		return apperr.New(apperr.Forbidden, "只有企业可以签到")
	}
	now := s.Now()
	if why := v.Class.CanSignIn(v.Mine, now); why != "" {
		return apperr.New(apperr.Refused, why)
	}
	return s.db.Write(ctx, func(tx *store.Tx) error {
		err := tx.SignIn(ctx, enterprise.Attendance{ClassID: classID, EnterpriseID: v.Mine, AccountID: actor.AccountID, Name: actor.Name, At: now})
		if errors.Is(err, store.ErrConflict) {
			return apperr.New(apperr.Conflict, "本企业已签到")
		}
		return err
	})
}

// RaiseQuestion records a question the actor's enterprise raised at a class.
func (s *Service) RaiseQuestion(ctx context.Context, actor cases.Actor, classID, text string) (enterprise.Class, error) {
	v, err := s.Class(ctx, actor, classID)
	if err != nil {
		return enterprise.Class{}, err
	}
	if v.Mine == "" {
		return enterprise.Class{}, apperr.New(apperr.Forbidden, "只有企业可以提问")
	}
	e, err := s.db.Enterprise(ctx, v.Mine)
	if err != nil {
		return enterprise.Class{}, err
	}
	var out enterprise.Class
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		c, err := tx.Class(ctx, classID)
		if err != nil {
			return err
		}
		c, err = enterprise.Raise(c, e.ID, e.Name, text, s.Now())
		if err != nil {
			return err
		}
		out = c
		return tx.PutClass(ctx, c)
	})
	return out, err
}

// EnterpriseFigures are the enterprise services' figures of a period for
// the economic board and the evaluation.
type EnterpriseFigures struct {
	By     map[string][]store.RequestFigure `json:"by"` // color, service, liaison, unit
	Totals store.ServiceTotals              `json:"totals"`
}

// Figures counts the requests and classes under the actor's region made in
// [from, to), by colour, service, liaison and unit (commanders, leaders and
// administrators).
func (s *Service) Figures(ctx context.Context, actor cases.Actor, from, to time.Time) (EnterpriseFigures, error) {
	path := actor.RegionPath
	switch actor.Role {
	case cases.RoleCommander, cases.RoleLeader, cases.RoleAdmin:
		if path == "" {
			return EnterpriseFigures{}, apperr.New(apperr.Forbidden, "无权查看企业服务统计")
		}
	case cases.RoleSystem:
	default:
		return EnterpriseFigures{}, apperr.New(apperr.Forbidden, "无权查看企业服务统计")
	}
	if !to.After(from) {
		return EnterpriseFigures{}, apperr.Field("to", "结束时间须晚于开始时间")
	}
	out := EnterpriseFigures{By: map[string][]store.RequestFigure{}}
	for by := range store.FigureBy {
		rows, err := s.db.RequestFigures(ctx, path, by, from, to)
		if err != nil {
			return out, err
		}
		out.By[by] = rows
	}
	t, err := s.db.ServiceTotals(ctx, path, from, to, s.Now())
	out.Totals = t
	return out, err
}
