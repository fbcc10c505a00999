package service

import (
	"context"
	"errors"
	"strings"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/evaluation"
	"zhizhi/internal/gridwork"
	"zhizhi/internal/id"
	"zhizhi/internal/region"
	"zhizhi/internal/routing"
	"zhizhi/internal/store"
)

// The party-building board's people in the grid (双报到, docs/gridwork.md):
// in-service party members reported to a community, its volunteer groups,
// their service hours and the cases the groups help with. The community's
// staff and grid chiefs keep them; centers, leaders and administrators
// above read them masked and count them.

// community resolves a community's code; field names the input.
func (s *Service) community(ctx context.Context, code, field string) (store.RegionRecord, error) {
	if code == "" {
		return store.RegionRecord{}, apperr.Field(field, "请选择社区")
	}
	r, err := s.db.Region(ctx, code)
	if errors.Is(err, store.ErrNotFound) || (err == nil && r.Level != region.Community) {
		return store.RegionRecord{}, apperr.Field(field, "社区不存在")
	}
	return r, err
}

// PartyView is a community's party-building board: its reported members
// (phones masked), volunteer groups and grids, and whether the reader keeps
// them.
type PartyView struct {
	Community GridRef                   `json:"community"`
	Members   []gridwork.PartyMember    `json:"members"`
	Groups    []gridwork.VolunteerGroup `json:"groups"`
	Grids     []GridRef                 `json:"grids"`
	Keeps     bool                      `json:"keeps"`
}

// Party returns a community's party-building board.
func (s *Service) Party(ctx context.Context, actor cases.Actor, community string) (PartyView, error) {
	c, err := s.community(ctx, community, "community")
	if err != nil {
		return PartyView{}, err
	}
	if !gridwork.SeesParty(actor, c.Path) {
		return PartyView{}, apperr.New(apperr.Forbidden, "无权查看该社区的党员报到")
	}
	v := PartyView{Community: GridRef{Code: c.Code, Name: c.Name, Path: c.Path}, Keeps: gridwork.KeepsParty(actor, c.Path),
		Members: []gridwork.PartyMember{}, Groups: []gridwork.VolunteerGroup{}, Grids: []GridRef{}}
	ms, err := s.db.PartyMembers(ctx, c.Path)
	if err != nil {
		return PartyView{}, err
	}
	for _, m := range ms {
		v.Members = append(v.Members, gridwork.MaskMember(m))
	}
	gs, err := s.db.VolunteerGroups(ctx, c.Path)
	if err != nil {
		return PartyView{}, err
	}
	v.Groups = append(v.Groups, gs...)
	grids, err := s.db.Regions(ctx, store.RegionFilter{Level: region.Grid, Under: c.Path})
	if err != nil {
		return PartyView{}, err
	}
	for _, g := range grids {
		v.Grids = append(v.Grids, GridRef{Code: g.Code, Name: s.gridName(g), Path: g.Path})
	}
	return v, nil
}

// keptCommunity resolves a community whose party board the actor keeps.
func (s *Service) keptCommunity(ctx context.Context, actor cases.Actor, code string) (store.RegionRecord, error) {
	c, err := s.community(ctx, code, "community")
	if err != nil {
		return c, err
	}
	if !gridwork.KeepsParty(actor, c.Path) {
		return c, apperr.New(apperr.Forbidden, "只有本社区的工作人员和网格长可以登记党员报到")
	}
	return c, nil
}

// PutPartyMember registers a party member with a community (no id) or
// changes a registration; the grid, if any, must be the community's and the
// group its own. Answered and audited masked.
func (s *Service) PutPartyMember(ctx context.Context, actor cases.Actor, m gridwork.PartyMember) (gridwork.PartyMember, error) {
	now := s.Now()
	if m.ReportedOn == "" {
		m.ReportedOn = gridwork.Today(now)
	}
	m.Name, m.Org, m.Phone = strings.TrimSpace(m.Name), strings.TrimSpace(m.Org), strings.TrimSpace(m.Phone)
	if err := gridwork.CheckPartyMember(m, now); err != nil {
		return gridwork.PartyMember{}, err
	}
	c, err := s.keptCommunity(ctx, actor, m.Community)
	if err != nil {
		return gridwork.PartyMember{}, err
	}
	m.CommunityPath, m.GridPath = c.Path, ""
	if m.Grid != "" {
		g, err := s.grid(ctx, m.Grid, "grid")
		if err != nil {
			return gridwork.PartyMember{}, err
		}
		if !strings.HasPrefix(g.Path, c.Path) {
			return gridwork.PartyMember{}, apperr.Field("grid", "网格不在该社区")
		}
		m.GridPath = g.Path
	}
	m.UpdatedAt = now
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		if m.GroupID != "" {
			g, err := tx.VolunteerGroup(ctx, m.GroupID)
			if errors.Is(err, store.ErrNotFound) || (err == nil && g.CommunityPath != c.Path) {
				return apperr.Field("group_id", "志愿服务队不存在")
			} else if err != nil {
				return err
			}
		}
		var old gridwork.PartyMember
		existed := m.ID != ""
		if existed {
			var err error
			old, err = tx.PartyMember(ctx, m.ID)
			if errors.Is(err, store.ErrNotFound) || (err == nil && old.CommunityPath != c.Path) {
				return apperr.New(apperr.NotFound, "报到党员不存在")
			} else if err != nil {
				return err
			}
		} else {
			m.ID = id.At(now)
		}
		if other, err := tx.PartyMemberByPhone(ctx, c.Code, m.Phone); err == nil && other.ID != m.ID {
			return apperr.Field("phone", "该电话已在本社区报到")
		} else if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := tx.PutPartyMember(ctx, m); err != nil {
			return err
		}
		return tx.Audit(ctx, s.auditEntry(actor, "party_member", m.ID, existed, gridwork.MaskMember(old), gridwork.MaskMember(m)))
	})
	if err != nil {
		return gridwork.PartyMember{}, err
	}
	return gridwork.MaskMember(m), nil
}

// PutVolunteerGroup creates (no id) or renames a community's volunteer
// group (audited).
func (s *Service) PutVolunteerGroup(ctx context.Context, actor cases.Actor, g gridwork.VolunteerGroup) (gridwork.VolunteerGroup, error) {
	g.Name = strings.TrimSpace(g.Name)
	if err := gridwork.CheckGroup(g); err != nil {
		return g, err
	}
	c, err := s.keptCommunity(ctx, actor, g.Community)
	if err != nil {
		return g, err
	}
	now := s.Now()
	g.CommunityPath, g.UpdatedAt = c.Path, now
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		var old gridwork.VolunteerGroup
		existed := g.ID != ""
		if existed {
			var err error
			old, err = tx.VolunteerGroup(ctx, g.ID)
			if errors.Is(err, store.ErrNotFound) || (err == nil && old.CommunityPath != c.Path) {
				return apperr.New(apperr.NotFound, "志愿服务队不存在")
			} else if err != nil {
				return err
			}
		} else {
			g.ID = id.At(now)
		}
		if err := tx.PutVolunteerGroup(ctx, g); errors.Is(err, store.ErrConflict) {
			return apperr.Field("name", "本社区已有同名志愿服务队")
		} else if err != nil {
			return err
		}
		return tx.Audit(ctx, s.auditEntry(actor, "volunteer_group", g.ID, existed, old, g))
	})
	return g, err
}

// RecordServiceHours records a reported member's time on an activity of
// their community, with the case it helped if any (a case the actor may
// see, by ID or number).
func (s *Service) RecordServiceHours(ctx context.Context, actor cases.Actor, h gridwork.ServiceHours) (gridwork.ServiceHours, error) {
	now := s.Now()
	h.Activity = strings.TrimSpace(h.Activity)
	if err := gridwork.CheckHours(h, now); err != nil {
		return h, err
	}
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		m, err := tx.PartyMember(ctx, h.MemberID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && !gridwork.SeesParty(actor, m.CommunityPath)) {
			return apperr.Field("member_id", "报到党员不存在")
		} else if err != nil {
			return err
		}
		if !gridwork.KeepsParty(actor, m.CommunityPath) {
			return apperr.New(apperr.Forbidden, "只有本社区的工作人员和网格长可以登记服务时长")
		}
		if m.Left {
			return apperr.Field("member_id", "该党员已不在本社区报到")
		}
		if h.CaseID != "" {
			c, err := s.caseByRef(ctx, tx, actor, h.CaseID)
			if err != nil {
				return err
			}
			h.CaseID = c.ID
		}
		h.ID, h.MemberName, h.CommunityPath, h.RecordedBy, h.At = id.At(now), m.Name, m.CommunityPath, actor.AccountID, now
		if err := tx.InsertServiceHours(ctx, h); err != nil {
			return err
		}
		return tx.Audit(ctx, s.auditEntry(actor, "service_hours", h.ID, false, nil, h))
	})
	return h, err
}

// caseByRef reads a case the actor may see by ID or number; anything else
// is a field error on case_id.
func (s *Service) caseByRef(ctx context.Context, tx *store.Tx, actor cases.Actor, ref string) (cases.Case, error) {
	ref = strings.TrimSpace(ref)
	c, err := tx.Case(ctx, ref)
	if errors.Is(err, store.ErrNotFound) {
		var cid string
		if cid, err = tx.CaseIDByNumber(ctx, ref); err == nil {
			c, err = tx.Case(ctx, cid)
		}
	}
	if errors.Is(err, store.ErrNotFound) || (err == nil && !cases.CanSee(actor, &c)) {
		return c, apperr.Field("case_id", "案件不存在")
	}
	return c, err
}

// ServiceHoursOf lists a community's service hours with days in [from, to]
// (YYYY-MM-DD; "" open).
func (s *Service) ServiceHoursOf(ctx context.Context, actor cases.Actor, community, from, to string) ([]gridwork.ServiceHours, error) {
	c, err := s.community(ctx, community, "community")
	if err != nil {
		return nil, err
	}
	if !gridwork.SeesParty(actor, c.Path) {
		return nil, apperr.New(apperr.Forbidden, "无权查看该社区的党员报到")
	}
	out, err := s.db.ServiceHours(ctx, c.Path, from, to)
	if out == nil {
		out = []gridwork.ServiceHours{}
	}
	return out, err
}

// VolunteerResult is a case given to a volunteer group.
type VolunteerResult struct {
	Case cases.Case `json:"case"`
	Step cases.Step `json:"step"`
}

// GiveToVolunteers gives a case to a community's volunteer group as a
// co-handler: the case's step (action volunteer, through the state
// machine) and the row the board's figures count, in one transaction. The
// case must lie in the group's community; the actor must keep that
// community's board or work in the case's grid.
func (s *Service) GiveToVolunteers(ctx context.Context, actor cases.Actor, caseRef, groupID, note string) (VolunteerResult, error) {
	var f apperr.Fields
	if strings.TrimSpace(caseRef) == "" {
		f.Add("case_id", "请填写案件编号")
	}
	if groupID == "" {
		f.Add("group_id", "请选择志愿服务队")
	}
	if strings.TrimSpace(note) == "" {
		f.Add("note", "请填写协办事项")
	}
	if err := f.Err(); err != nil {
		return VolunteerResult{}, err
	}
	var out VolunteerResult
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		c, err := s.caseByRef(ctx, tx, actor, caseRef)
		if err != nil {
			return err
		}
		g, err := tx.VolunteerGroup(ctx, groupID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && !gridwork.SeesParty(actor, g.CommunityPath)) {
			return apperr.Field("group_id", "志愿服务队不存在")
		} else if err != nil {
			return err
		}
		if !gridwork.KeepsParty(actor, g.CommunityPath) && !gridwork.Works(actor, c.RegionPath) {
			return apperr.New(apperr.Forbidden, "只有本社区的工作人员、网格长和该网格的网格员可以请志愿服务队协办")
		}
		if !strings.HasPrefix(c.RegionPath, g.CommunityPath) {
			return apperr.Field("group_id", "只能请案件所在社区的志愿服务队协办")
		}
		cmd := cases.Command{Action: cases.ActVolunteer, Note: note,
			Volunteer: &cases.VolunteerRef{GroupID: g.ID, Name: g.Name, Community: g.CommunityPath}}
		n, step, err := s.apply(ctx, tx, c, cmd, actor, s.Now())
		if err != nil {
			return err
		}
		out = VolunteerResult{Case: n, Step: step}
		return tx.InsertCaseHelp(ctx, gridwork.CaseHelp{CaseID: c.ID, GroupID: g.ID, CommunityPath: g.CommunityPath, StepID: step.ID, At: step.At})
	})
	if err != nil {
		return VolunteerResult{}, err
	}
	out.Case = cases.Redact(actor, out.Case)
	return out, nil
}

// PartyFigures is the party-building board's figures for a period: per
// community under the region, and their total.
type PartyFigures struct {
	Period evaluation.Period `json:"period"`
	Under  string            `json:"under"`
	Rows   []PartyFigureRow  `json:"communities"`
	Total  gridwork.PartyRow `json:"total"`
}

// PartyFigureRow is one community's figures with its name.
type PartyFigureRow struct {
	Code string `json:"code"`
	Name string `json:"name"`
	gridwork.PartyRow
}

// PartyFigures counts members reported (by the period's end), hours served
// and cases helped in the period, per community under a region the actor
// may read (a community's or street's code; "" the actor's own region;
// period "": this month).
func (s *Service) PartyFigures(ctx context.Context, actor cases.Actor, under, period string) (PartyFigures, error) {
	if period == "" {
		period = gridwork.Today(s.Now())[:7] // this month
	}
	p, err := evaluation.ParsePeriod(period, s.Calendar().Location())
	if err != nil {
		return PartyFigures{}, err
	}
	path := actor.RegionPath
	if under != "" {
		var ok bool
		if path, ok = s.RegionPath(under); !ok {
			return PartyFigures{}, apperr.Field("under", "区域不存在")
		}
	}
	if path == "" || !gridwork.SeesParty(actor, path) || routing.Depth(path) > 4 {
		// a grid's path is deeper than a community's: the board counts communities
		return PartyFigures{}, apperr.New(apperr.Forbidden, "无权查看该区域的党建统计")
	}
	members, err := s.db.PartyMembers(ctx, path)
	if err != nil {
		return PartyFigures{}, err
	}
	hours, err := s.db.ServiceHours(ctx, path, gridwork.Today(p.Start), gridwork.Today(p.End))
	if err != nil {
		return PartyFigures{}, err
	}
	helps, err := s.db.CaseHelps(ctx, path, p.Start, p.End)
	if err != nil {
		return PartyFigures{}, err
	}
	rows := gridwork.PartyTally(members, hours, helps, p.Start, p.End)
	out := PartyFigures{Period: p, Under: lastCode(path), Rows: []PartyFigureRow{}, Total: gridwork.PartyTotal(path, rows)}
	for _, r := range rows {
		code := lastCode(r.Path)
		out.Rows = append(out.Rows, PartyFigureRow{Code: code, Name: s.RegionName(code), PartyRow: r})
	}
	return out, nil
}
