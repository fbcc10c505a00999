package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/sla"
	"zhizhi/internal/store"
)

// Settings of whistle-and-report.
const (
	// SettingHeadTitles holds the titles a head account may carry, a JSON
	// list of strings.
	SettingHeadTitles = "head_titles"
	// SettingReportInLimits holds report-in limits per whistle kind, e.g.
	// {"grid": "60m"}; a kind without one uses the category's table (stage
	// report_in, 30 minutes by default).
	SettingReportInLimits = "report_in_limits"
)

// DefaultHeadTitles are Yuzhong's heads (三长/五长).
var DefaultHeadTitles = []string{"街长", "路长", "巷长", "楼长", "店长"}

// HeadTitles returns the titles a head may carry.
func (s *Service) HeadTitles(ctx context.Context) ([]string, error) {
	var titles []string
	err := s.db.Setting(ctx, SettingHeadTitles, &titles)
	if errors.Is(err, store.ErrNotFound) || (err == nil && len(titles) == 0) {
		return slices.Clone(DefaultHeadTitles), nil
	}
	return titles, err
}

// PutHeadTitles sets the titles a head may carry. Accounts keep the title
// they have.
func (s *Service) PutHeadTitles(ctx context.Context, titles []string) error {
	var f apperr.Fields
	seen := map[string]bool{}
	clean := make([]string, 0, len(titles))
	for i, t := range titles {
		t = strings.TrimSpace(t)
		if n := len([]rune(t)); n == 0 || n > 10 || seen[t] {
			f.Addf(fmt.Sprintf("titles[%d]", i), "职务不能为空、重复或超过10字")
		}
		seen[t] = true
		clean = append(clean, t)
	}
	if len(clean) == 0 {
		f.Add("titles", "至少需要一个职务")
	}
	if err := f.Err(); err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *store.Tx) error { return tx.PutSetting(ctx, SettingHeadTitles, clean) })
}

// ReportInLimits returns the report-in limits configured per whistle kind.
func (s *Service) ReportInLimits(ctx context.Context) (map[cases.WhistleKind]sla.Limit, error) {
	var m map[cases.WhistleKind]sla.Limit
	err := s.db.Setting(ctx, SettingReportInLimits, &m)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return m, err
}

// PutReportInLimits sets the report-in limits per whistle kind; an empty map
// goes back to the categories' tables.
func (s *Service) PutReportInLimits(ctx context.Context, m map[cases.WhistleKind]sla.Limit) error {
	var f apperr.Fields
	for k, l := range m {
		if !k.Valid() {
			f.Addf(string(k), "未知的吹哨类型")
		} else if l.Validate() != nil {
			f.Addf(string(k), "请填写有效的报到时限")
		}
	}
	if err := f.Err(); err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *store.Tx) error { return tx.PutSetting(ctx, SettingReportInLimits, m) })
}

// prepareWhistle checks and resolves, before the transaction, what the
// whistle actions name outside the case: the summoned units (which must exist
// and be active) and people (accounts of heads or unit staff, with their
// names and titles), and the units and people of a meeting.
func (s *Service) prepareWhistle(ctx context.Context, cmd *cases.Command) error {
	var f apperr.Fields
	switch cmd.Action {
	case cases.ActWhistle:
		parties := slices.Clone(cmd.Parties)
		for i := range parties {
			p := &parties[i]
			field := fmt.Sprintf("parties[%d]", i)
			switch {
			case p.UnitID != "" && p.AccountID == "":
				u, ok := s.Unit(p.UnitID)
				if !ok || !u.Active {
					f.Add(field, "部门不存在或已停用")
					continue
				}
				p.Name = u.Name
			case p.AccountID != "" && p.UnitID == "":
				a, err := s.db.Account(ctx, p.AccountID)
				if errors.Is(err, store.ErrNotFound) || (err == nil && !a.Active) {
					f.Add(field, "人员不存在或已停用")
					continue
				} else if err != nil {
					return err
				}
				if a.Role != cases.RoleHead && a.Role != cases.RoleUnit {
					f.Add(field, "只能召集三长（街长、路长、巷长、楼长、店长）或部门人员")
					continue
				}
				p.Name, p.Title = a.Name, a.Title
			}
		}
		cmd.Parties = parties
	case cases.ActMeeting:
		if cmd.Meeting == nil {
			return nil
		}
		m := *cmd.Meeting
		m.Attendees, m.Decisions = slices.Clone(m.Attendees), slices.Clone(m.Decisions)
		for i := range m.Attendees {
			a := &m.Attendees[i]
			field := fmt.Sprintf("meeting.attendees[%d]", i)
			switch {
			case a.Kind == cases.AttendeeUnit && a.UnitID != "":
				u, ok := s.Unit(a.UnitID)
				if !ok {
					f.Add(field, "部门不存在")
					continue
				}
				a.Name = u.Name
			case a.Kind == cases.AttendeePerson && a.AccountID != "":
				acct, err := s.db.Account(ctx, a.AccountID)
				if errors.Is(err, store.ErrNotFound) {
					f.Add(field, "人员不存在")
					continue
				} else if err != nil {
					return err
				}
				a.Name, a.Title = acct.Name, acct.Title
			}
		}
		for i := range m.Decisions {
			d := &m.Decisions[i]
			if d.UnitID == "" {
				continue // the domain names the missing unit
			}
			u, ok := s.Unit(d.UnitID)
			if !ok || !u.Active {
				f.Add(fmt.Sprintf("meeting.decisions[%d].unit_id", i), "落实单位不存在或已停用")
				continue
			}
			d.UnitName = u.Name
		}
		cmd.Meeting = &m
	}
	return f.Err()
}

// policyFor is the policy of a case's category for a command: a whistle
// also gets the report-in limits configured per kind.
func (s *Service) policyFor(ctx context.Context, cat cases.Category, cmd cases.Command) (cases.Policy, error) {
	p := s.Policy(cat)
	if cmd.Action == cases.ActWhistle {
		m, err := s.ReportInLimits(ctx)
		if err != nil {
			return p, err
		}
		p.ReportInLimits = m
	}
	if cmd.Action == cases.ActDispatch && cmd.TaskLimit.Amount > 0 {
		// A prepared task of an operation (operations.go): its unit signs
		// and handles within the task's own limit.
		base, own := p.Limit, cmd.TaskLimit
		p.Limit = func(stage string, sev sla.Severity) sla.Limit {
			if stage == "sign" || stage == "handle" {
				return own
			}
			return base(stage, sev)
		}
	}
	return p, nil
}
