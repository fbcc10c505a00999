package service

import (
	"fmt"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/routing"
)

// checkRoute applies the graded classification library to a dispatch: the
// case's center may send the category to the lead and co-units (package
// routing). It records on the command the library entry the case is routed
// under.
func (s *Service) checkRoute(c cases.Case, cat cases.Category, cmd *cases.Command) error {
	if err := routing.Owned(c.CenterPath, cat); err != nil {
		return err
	}
	var f apperr.Fields
	check := func(field, unitID string) {
		u, ok := s.Unit(unitID)
		if !ok {
			return // named by Act's own check
		}
		if err := routing.Dispatch(c.CenterPath, c.RegionPath, cat, u); err != nil {
			f.Add(field, err.(*apperr.Error).Message)
		}
	}
	if cmd.Lead != "" {
		check("lead_unit", cmd.Lead)
	}
	for i, u := range cmd.Co {
		check(fmt.Sprintf("co_units[%d]", i), u)
	}
	if err := f.Err(); err != nil {
		e := err.(*apperr.Error)
		e.Kind, e.Message = apperr.Refused, "按分级分类库不能这样派遣："+e.Fields[0].Reason
		return e
	}
	cmd.Rule = &cases.RouteRule{Category: cat.Code, Version: cat.Version, Level: cat.Level}
	return nil
}

// SuggestUnit proposes the lead unit for a case at its center under the
// graded classification library; ok is false when the center must escalate.
func (s *Service) SuggestUnit(c cases.Case) (cases.Unit, bool) {
	cat, ok := s.Category(c.Category)
	if !ok {
		return cases.Unit{}, false
	}
	return routing.Suggest(c.CenterPath, c.RegionPath, cat, s.Units())
}

// DispatchTargets lists the units the case's center may dispatch the case to,
// for the console's choices.
func (s *Service) DispatchTargets(c cases.Case) []cases.Unit {
	cat, ok := s.Category(c.Category)
	if !ok {
		return nil
	}
	var out []cases.Unit
	for _, u := range s.Units() {
		if routing.Dispatch(c.CenterPath, c.RegionPath, cat, u) == nil {
			out = append(out, u)
		}
	}
	return out
}

// Actions lists the actions the actor may take on the case now: the state
// machine's (cases.Actions) less those the graded classification library
// refuses here, so a page never offers a dispatch the center may not make
// (a district matter at a street: escalate instead) or a hand-down the
// lower level's list does not allow.
func (s *Service) Actions(c *cases.Case, actor cases.Actor) []cases.Action {
	all := cases.Actions(c, actor)
	cat, ok := s.Category(c.Category)
	if !ok {
		return all
	}
	out := all[:0]
	for _, a := range all {
		switch a {
		case cases.ActDispatch, cases.ActRedispatch:
			if routing.Owned(c.CenterPath, cat) != nil || len(s.DispatchTargets(*c)) == 0 {
				continue
			}
		case cases.ActHandDown:
			if _, err := routing.HandDown(c.CenterPath, c.RegionPath, cat); err != nil {
				continue
			}
		}
		out = append(out, a)
	}
	return out
}
