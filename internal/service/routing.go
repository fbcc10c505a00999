package service

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/region"
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
// An enterprise's request proposes its service's unit (enterprise.go) when
// the library lets the center dispatch to it.
func (s *Service) SuggestUnit(ctx context.Context, c cases.Case) (cases.Unit, bool) {
	cat, ok := s.Category(c.Category)
	if !ok {
		return cases.Unit{}, false
	}
	if c.Source == cases.SourceEnterprise && routing.Owned(c.CenterPath, cat) == nil {
		if uid, err := s.db.RequestUnit(ctx, c.ID); err == nil && uid != "" {
			if u, ok := s.Unit(uid); ok && u.Dispatchable() && routing.Dispatch(c.CenterPath, c.RegionPath, cat, u) == nil {
				return u, true
			}
		}
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
	// Giving a case to a volunteer group has its own form (the group is a
	// record of the community, /m/party and POST /api/v1/cases/{id}/volunteers).
	all = slices.DeleteFunc(all, func(a cases.Action) bool { return a == cases.ActVolunteer })
	// An overdue appeal is taken until AppealDays after the case closed.
	if c.AppealTooLate(s.Now()) {
		all = slices.DeleteFunc(all, func(a cases.Action) bool { return a == cases.ActAppeal })
	}
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

// Desk is a post or section of a board with the people who staff it.
type Desk struct {
	Unit  cases.Unit   `json:"unit"`
	Staff []StaffBrief `json:"staff,omitempty"`
}

// StaffBrief names an account staffing a unit.
type StaffBrief struct {
	Username string `json:"username"`
	Name     string `json:"name"`
	Title    string `json:"title,omitempty"`
	Active   bool   `json:"active"`
}

// StreetBoard is one of a street's four boards: its heads, its posts and
// its sections.
type StreetBoard struct {
	Board    cases.Board  `json:"board"`
	Label    string       `json:"label"`
	Unit     *cases.Unit  `json:"unit,omitempty"` // nil when the street has not set the board up
	Heads    []StaffBrief `json:"heads,omitempty"`
	Posts    []Desk       `json:"posts"`
	Sections []Desk       `json:"sections"`
}

// Boards returns a street's four boards with their posts and sections, and
// who staffs them (names only for administrators, commanders and leaders
// whose region holds the street).
func (s *Service) Boards(ctx context.Context, actor cases.Actor, streetCode string) ([]StreetBoard, error) {
	ref := s.ref.Load()
	path, ok := ref.paths[streetCode]
	if !ok || ref.levels[streetCode] != region.Street {
		return nil, apperr.Field("street", "街道不存在")
	}
	// Staff names only for the administrators, commanders and leaders of
	// that street (or above it).
	withStaff := (actor.Role == cases.RoleAdmin || actor.Role == cases.RoleCommander || actor.Role == cases.RoleLeader) &&
		actor.RegionPath != "" && strings.HasPrefix(path, actor.RegionPath)
	staff := map[string][]StaffBrief{}
	if withStaff {
		accts, err := s.db.Accounts(ctx)
		if err != nil {
			return nil, err
		}
		for _, a := range accts {
			if a.UnitID != "" && a.Role == cases.RoleUnit {
				staff[a.UnitID] = append(staff[a.UnitID], StaffBrief{Username: a.Username, Name: a.Name, Title: a.Title, Active: a.Active})
			}
		}
	}
	out := make([]StreetBoard, 0, len(cases.Boards))
	for _, b := range cases.Boards {
		sb := StreetBoard{Board: b, Label: b.Label(), Posts: []Desk{}, Sections: []Desk{}}
		for _, u := range s.Units() {
			if u.RegionPath != path || u.Board != b {
				continue
			}
			switch u.Kind {
			case cases.UnitBoard:
				u := u
				sb.Unit, sb.Heads = &u, staff[u.ID]
			case cases.UnitPost:
				sb.Posts = append(sb.Posts, Desk{Unit: u, Staff: staff[u.ID]})
			case cases.UnitSection:
				sb.Sections = append(sb.Sections, Desk{Unit: u, Staff: staff[u.ID]})
			}
		}
		out = append(out, sb)
	}
	return out, nil
}

// SetUpBoards gives every street under a region (a street, a district or the
// city) the four boards it lacks, each with its first post (A岗), named after
// the street: what an administrator does once for a new installation or a
// newly imported street. Boards and posts that exist are left alone. It
// returns the units it created.
func (s *Service) SetUpBoards(ctx context.Context, actor cases.Actor, regionCode string) ([]cases.Unit, error) {
	ref := s.ref.Load()
	root, ok := ref.paths[regionCode]
	if !ok {
		return nil, apperr.Field("region", "区域不存在")
	}
	if l := ref.levels[regionCode]; l != region.Street && l != region.District && l != region.City {
		return nil, apperr.Field("region", "请选择街道、区或市")
	}
	if actor.Role != cases.RoleSystem && !strings.HasPrefix(root, actor.RegionPath) {
		return nil, apperr.New(apperr.Forbidden, "只能为本辖区内的街道设立板块")
	}
	var streets []string
	for code, p := range ref.paths {
		if ref.levels[code] == region.Street && strings.HasPrefix(p, root) {
			streets = append(streets, code)
		}
	}
	sort.Strings(streets)
	have := map[string]bool{} // street path + board → a board unit exists
	for _, u := range ref.units {
		if u.Kind == cases.UnitBoard {
			have[u.RegionPath+string(u.Board)] = true
		}
	}
	var created []cases.Unit
	for _, code := range streets {
		path, name := ref.paths[code], ref.names[code]
		for _, b := range cases.Boards {
			if have[path+string(b)] {
				continue
			}
			board := cases.Unit{ID: code + "-" + string(b), Name: name + b.Label() + "板块", Kind: cases.UnitBoard, Board: b, RegionPath: path, Active: true}
			post := cases.Unit{ID: code + "-" + string(b) + "-a", Name: board.Name + "A岗", Kind: cases.UnitPost, Board: b, Parent: board.ID, RegionPath: path, Active: true}
			for _, u := range []cases.Unit{board, post} {
				if _, taken := s.Unit(u.ID); taken {
					return nil, apperr.Field("region", "编号“"+u.ID+"”已被其他单位使用，请手工设立"+name+"的板块")
				}
				created = append(created, u)
			}
		}
	}
	if len(created) == 0 {
		return nil, nil
	}
	if err := s.PutUnits(ctx, actor, created); err != nil {
		return nil, err
	}
	return created, nil
}
