package service

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/evaluation"
	"zhizhi/internal/gridwork"
	"zhizhi/internal/id"
	"zhizhi/internal/store"
)

// keptGrid resolves a grid whose roster, team and plan the actor keeps.
func (s *Service) keptGrid(ctx context.Context, actor cases.Actor, code string) (store.RegionRecord, error) {
	g, err := s.grid(ctx, code, "grid")
	if err != nil {
		return g, err
	}
	if !gridwork.KeepsRoster(actor, g.Path) {
		return g, apperr.New(apperr.Forbidden, "只有本网格的网格员、网格长和社区工作人员可以维护网格台账")
	}
	return g, nil
}

// Roster is a grid's roster as a reader sees it: every place, and the
// people recorded at them with names and phones masked.
type Roster struct {
	Grid   GridRef           `json:"grid"`
	Places []gridwork.Place  `json:"places"`
	People []gridwork.Person `json:"people"`
	// Reveal says whether the reader may reveal a person (each reveal is
	// recorded).
	Reveal bool `json:"reveal"`
}

// Roster returns a grid's roster with people masked; no personal data
// leaves here, so nothing is recorded.
func (s *Service) Roster(ctx context.Context, actor cases.Actor, grid string) (Roster, error) {
	g, err := s.seenGrid(ctx, actor, grid)
	if err != nil {
		return Roster{}, err
	}
	places, err := s.db.Places(ctx, g.Code)
	if err != nil {
		return Roster{}, err
	}
	people, err := s.db.PeopleOfGrid(ctx, g.Path)
	if err != nil {
		return Roster{}, err
	}
	now := s.Now()
	out := Roster{Grid: GridRef{Code: g.Code, Name: s.gridName(g), Path: g.Path}, Places: places, People: []gridwork.Person{},
		Reveal: gridwork.SeesPeople(actor, g.Path)}
	if out.Places == nil {
		out.Places = []gridwork.Place{}
	}
	for _, p := range people {
		if !p.Expired(now) {
			out.People = append(out.People, gridwork.MaskPerson(p))
		}
	}
	return out, nil
}

// RevealPerson gives a person's name and phone to someone who serves the
// household in person (gridwork.SeesPeople), after recording the read in
// the audit trail (personal_data, read) in a write that commits first.
func (s *Service) RevealPerson(ctx context.Context, actor cases.Actor, personID string) (gridwork.Person, error) {
	p, err := s.db.Person(ctx, personID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (!gridwork.SeesRoster(actor, p.GridPath) || p.Expired(s.Now()))) {
		return gridwork.Person{}, apperr.New(apperr.NotFound, "人员不存在")
	}
	if err != nil {
		return gridwork.Person{}, err
	}
	if !gridwork.SeesPeople(actor, p.GridPath) {
		return gridwork.Person{}, apperr.New(apperr.Forbidden, "只有本网格的网格员、网格长和社区工作人员可以查看住户的姓名和电话")
	}
	e := store.AuditEntry{ID: id.New(), At: s.Now(), ActorID: actor.AccountID, ActorName: actor.Name,
		Kind: "personal_data", ObjectID: p.ID, Action: "read"}
	e.After = mustJSON(map[string]string{"field": "roster.person", "place_id": p.PlaceID})
	if err := s.db.Write(ctx, func(tx *store.Tx) error { return tx.Audit(ctx, e) }); err != nil {
		return gridwork.Person{}, err
	}
	return p, nil
}

// PutPlace creates (no ID) or changes a place of a grid's roster.
func (s *Service) PutPlace(ctx context.Context, actor cases.Actor, p gridwork.Place) (gridwork.Place, error) {
	if err := gridwork.CheckPlace(p); err != nil {
		return p, err
	}
	g, err := s.keptGrid(ctx, actor, p.GridCode)
	if err != nil {
		return p, err
	}
	now := s.Now()
	p.GridPath, p.UpdatedAt, p.People = g.Path, now, 0
	if p.ID == "" {
		p.ID = id.At(now)
	}
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		old, err := tx.Place(ctx, p.ID)
		existed := err == nil
		if existed && old.GridCode != p.GridCode {
			return apperr.New(apperr.NotFound, "该网格台账中没有这个地点")
		} else if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if p.Building != "" {
			b, err := tx.Place(ctx, p.Building)
			if errors.Is(err, store.ErrNotFound) || (err == nil && (b.GridCode != p.GridCode || b.Kind != gridwork.Building)) {
				return apperr.Field("building", "所在楼栋不是本网格台账中的楼栋")
			} else if err != nil {
				return err
			}
		}
		if err := tx.PutPlace(ctx, p); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return apperr.Field("name", "本网格已有同名的"+p.Kind.Label())
			}
			return err
		}
		return tx.Audit(ctx, s.auditEntry(actor, "roster", p.ID, existed, old, p))
	})
	return p, err
}

// PutPerson records (no ID) or changes a person at a place of a roster.
// The audit trail keeps the record masked: personal data is not copied
// into it.
func (s *Service) PutPerson(ctx context.Context, actor cases.Actor, p gridwork.Person) (gridwork.Person, error) {
	now := s.Now()
	if err := gridwork.CheckPerson(p, now); err != nil {
		return p, err
	}
	pl, err := s.db.Place(ctx, p.PlaceID)
	if errors.Is(err, store.ErrNotFound) {
		return p, apperr.Field("place_id", "台账中没有这个住户或商铺")
	} else if err != nil {
		return p, err
	}
	if _, err := s.keptGrid(ctx, actor, pl.GridCode); err != nil {
		return p, err
	}
	p.GridPath, p.Masked = pl.GridPath, false
	if p.ID == "" {
		p.ID, p.RecordedAt = id.At(now), now
	}
	if p.RetainUntil.IsZero() {
		p.RetainUntil = now.Add(gridwork.DefaultRetain)
	}
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		if err := tx.PutPerson(ctx, p); err != nil {
			return err
		}
		return tx.Audit(ctx, s.auditEntry(actor, "roster", p.ID, false, nil, gridwork.MaskPerson(p)))
	})
	return gridwork.MaskPerson(p), err
}

// PurgeRoster removes the people whose retention has ended (run by the
// sweeper's day and by hand) and returns how many.
func (s *Service) PurgeRoster(ctx context.Context) (int, error) {
	var n int
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		var err error
		n, err = tx.PurgePeople(ctx, s.Now())
		return err
	})
	return n, err
}

// RosterImport is what a roster file changed.
type RosterImport struct {
	Places  int `json:"places"`  // places created or updated
	People  int `json:"people"`  // people recorded
	Skipped int `json:"skipped"` // people already recorded at their place under the same name and phone
}

// ImportRoster reads a roster file (gridwork.ParseRoster) into a grid: a
// place of the same kind and name is updated, others are created, and
// each named person is recorded at their place. All or nothing: a file
// with problems changes nothing and says, line by line, what is wrong
// (fields named line<N>.<heading>).
func (s *Service) ImportRoster(ctx context.Context, actor cases.Actor, grid string, data []byte) (RosterImport, error) {
	g, err := s.keptGrid(ctx, actor, grid)
	if err != nil {
		return RosterImport{}, err
	}
	now := s.Now()
	rows, err := gridwork.ParseRoster(bytes.NewReader(data), g.Code, now)
	var re *gridwork.RosterError
	if errors.As(err, &re) {
		var f apperr.Fields
		for _, p := range re.Problems {
			f.Add(fmt.Sprintf("line%d.%s", p.Line, p.Field), p.Reason)
		}
		return RosterImport{}, f.Err()
	} else if err != nil {
		return RosterImport{}, apperr.Field("file", "读取文件失败")
	}
	existing, err := s.db.PeopleOfGrid(ctx, g.Path)
	if err != nil {
		return RosterImport{}, err
	}
	var out RosterImport
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		out = RosterImport{}
		ids := map[string]string{} // kind+name → place ID
		key := func(k gridwork.PlaceKind, n string) string { return string(k) + "\x00" + n }
		have := map[string]bool{}
		for _, p := range existing {
			have[p.PlaceID+"\x00"+p.Name+"\x00"+p.Phone] = true
		}
		var f apperr.Fields
		// Buildings first, so households can name them.
		for pass := 0; pass < 2; pass++ {
			for _, r := range rows {
				if (r.Place.Kind == gridwork.Building) != (pass == 0) {
					continue
				}
				pl := r.Place
				k := key(pl.Kind, pl.Name)
				if _, done := ids[k]; !done {
					old, err := tx.PlaceByName(ctx, g.Code, pl.Kind, pl.Name)
					existed := err == nil
					if err != nil && !errors.Is(err, store.ErrNotFound) {
						return err
					}
					pl.ID = id.At(now)
					if existed {
						pl.ID = old.ID
					}
					if pl.Building != "" {
						b, ok := ids[key(gridwork.Building, pl.Building)]
						if !ok {
							bp, err := tx.PlaceByName(ctx, g.Code, gridwork.Building, pl.Building)
							if errors.Is(err, store.ErrNotFound) {
								f.Add(fmt.Sprintf("line%d.所在楼栋", r.Line), "台账和文件中都没有这个楼栋")
								continue
							} else if err != nil {
								return err
							}
							b = bp.ID
						}
						pl.Building = b
					}
					pl.GridPath, pl.UpdatedAt = g.Path, now
					if err := tx.PutPlace(ctx, pl); err != nil {
						return err
					}
					if err := tx.Audit(ctx, s.auditEntry(actor, "roster", pl.ID, existed, old, pl)); err != nil {
						return err
					}
					ids[k] = pl.ID
					out.Places++
				}
				if r.Person != nil {
					p := *r.Person
					p.PlaceID = ids[k]
					if have[p.PlaceID+"\x00"+p.Name+"\x00"+p.Phone] {
						out.Skipped++
						continue
					}
					have[p.PlaceID+"\x00"+p.Name+"\x00"+p.Phone] = true
					p.ID, p.GridPath, p.RecordedAt, p.RetainUntil = id.New(), g.Path, now, now.Add(gridwork.DefaultRetain)
					if err := tx.PutPerson(ctx, p); err != nil {
						return err
					}
					if err := tx.Audit(ctx, s.auditEntry(actor, "roster", p.ID, false, nil, gridwork.MaskPerson(p))); err != nil {
						return err
					}
					out.People++
				}
			}
		}
		return f.Err()
	})
	return out, err
}

// TeamView is a grid's 1+3+N team.
type TeamView struct {
	Grid    GridRef               `json:"grid"`
	Members []gridwork.TeamMember `json:"members"`
	One     int                   `json:"one"`
	Three   int                   `json:"three"`
	N       int                   `json:"n"`
}

// Team returns a grid's team.
func (s *Service) Team(ctx context.Context, actor cases.Actor, grid string) (TeamView, error) {
	g, err := s.seenGrid(ctx, actor, grid)
	if err != nil {
		return TeamView{}, err
	}
	tm, err := s.db.Team(ctx, g.Code)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return TeamView{}, err
	}
	v := TeamView{Grid: GridRef{Code: g.Code, Name: s.gridName(g), Path: g.Path}, Members: tm.Members}
	if v.Members == nil {
		v.Members = []gridwork.TeamMember{}
	}
	v.One, v.Three, v.N = gridwork.TeamShape(v.Members)
	return v, nil
}

// SetTeam replaces a grid's team; a member with an account must name an
// active account (its name is taken from the account); a member's photo
// must be a stored image.
func (s *Service) SetTeam(ctx context.Context, actor cases.Actor, grid string, members []gridwork.TeamMember) (TeamView, error) {
	if err := gridwork.CheckTeam(members); err != nil {
		return TeamView{}, err
	}
	g, err := s.keptGrid(ctx, actor, grid)
	if err != nil {
		return TeamView{}, err
	}
	var f apperr.Fields
	for i := range members {
		if members[i].Photo != "" {
			// a portrait must be a stored image (type and size from the file)
			if ph, err := s.resolvePhotos([]cases.Photo{{Hash: members[i].Photo}}); err != nil {
				f.Addf(fmt.Sprintf("team[%d].photo", i), "照片不存在或不是图片，请先上传照片")
			} else {
				members[i].Photo = ph[0].Hash
			}
		}
		if members[i].AccountID == "" {
			continue
		}
		a, err := s.db.Account(ctx, members[i].AccountID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && !a.Active) {
			f.Addf(fmt.Sprintf("team[%d].account_id", i), "账号不存在或已停用")
		} else if err != nil {
			return TeamView{}, err
		} else {
			members[i].Name = a.Name
		}
	}
	if err := f.Err(); err != nil {
		return TeamView{}, err
	}
	tm := store.Team{GridCode: g.Code, Members: members, UpdatedAt: s.Now()}
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		old, err := tx.Team(ctx, g.Code)
		existed := err == nil
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := tx.PutTeam(ctx, g.Code, g.Path, tm); err != nil {
			return err
		}
		return tx.Audit(ctx, s.auditEntry(actor, "team", g.Code, existed, old, tm))
	})
	if err != nil {
		return TeamView{}, err
	}
	return s.Team(ctx, actor, grid)
}

// SetPlan sets a grid's patrol plan: 0 to 7 patrols a week (0: every
// working day), each counting from 0 to 480 minutes.
func (s *Service) SetPlan(ctx context.Context, actor cases.Actor, p gridwork.Plan) (gridwork.Plan, error) {
	var f apperr.Fields
	if p.PerWeek < 0 || p.PerWeek > 7 {
		f.Add("per_week", "每周巡查次数应为0到7（0表示每个工作日）")
	}
	if p.MinMinutes < 0 || p.MinMinutes > 480 {
		f.Add("min_minutes", "每次巡查的最短时长应为0到480分钟")
	}
	if err := f.Err(); err != nil {
		return p, err
	}
	g, err := s.keptGrid(ctx, actor, p.GridCode)
	if err != nil {
		return p, err
	}
	p.UpdatedAt = s.Now()
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		if err := tx.PutPlan(ctx, g.Path, p); err != nil {
			return err
		}
		return tx.Audit(ctx, s.auditEntry(actor, "plan", g.Code, false, nil, p))
	})
	return p, err
}

// FollowUpDue is a follow-up promised on a visit.
type FollowUpDue struct {
	VisitID string    `json:"visit_id"`
	Place   string    `json:"place"`
	Promise string    `json:"promise"`
	Due     time.Time `json:"due"`
	Overdue bool      `json:"overdue"`
}

// CaseRef is a case on a list of the day.
type CaseRef struct {
	ID          string `json:"id"`
	Number      string `json:"number"`
	Description string `json:"description"`
	Address     string `json:"address,omitempty"`
}

// GridDay is a grid's day for its grid worker: the plan and whether a
// patrol is due, what was done today, the week's coverage, follow-ups
// due within three days, and the cases waiting for verification.
type GridDay struct {
	Grid         GridRef           `json:"grid"`
	Plan         gridwork.Plan     `json:"plan"`
	PatrolDue    bool              `json:"patrol_due"`
	PatrolsToday []gridwork.Patrol `json:"patrols_today"`
	VisitsToday  int               `json:"visits_today"`
	Week         gridwork.Coverage `json:"week"`
	WeekPatrols  int               `json:"week_patrols"`
	FollowUps    []FollowUpDue     `json:"follow_ups"`
	Messages     int               `json:"messages_waiting"` // residents' messages waiting for a reply
	ToVerify     []CaseRef         `json:"to_verify"`
}

// Today returns the day of each grid the actor works in (a grid worker's
// grid; a grid chief's community's grids).
func (s *Service) Today(ctx context.Context, actor cases.Actor) ([]GridDay, error) {
	grids, err := s.GridsOf(ctx, actor)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	loc := s.Calendar().Location()
	local := now.In(loc)
	day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)
	week := day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7)) // Monday
	out := []GridDay{}
	for _, ref := range grids {
		if !gridwork.Works(actor, ref.Path) {
			continue
		}
		g, err := s.db.Region(ctx, ref.Code)
		if err != nil {
			return nil, err
		}
		plan, err := s.plan(ctx, g.Code)
		if err != nil {
			return nil, err
		}
		patrols, err := s.db.Patrols(ctx, store.GridFilter{Under: g.Path, From: week, To: week.AddDate(0, 0, 7)})
		if err != nil {
			return nil, err
		}
		d := GridDay{Grid: ref, Plan: plan, PatrolsToday: []gridwork.Patrol{}, FollowUps: []FollowUpDue{}, ToVerify: []CaseRef{}}
		var touched [][]int
		countedToday, countedWeek := 0, 0
		for _, p := range patrols {
			touched = append(touched, p.Cells)
			d.WeekPatrols++
			if p.Counted {
				countedWeek++
			}
			if !p.StartedAt.Before(day) {
				p.Track = ""
				d.PatrolsToday = append(d.PatrolsToday, p)
				if p.Counted {
					countedToday++
				}
			}
		}
		d.Week = gridwork.Cover(len(gridwork.CellsOf(g.Shape, gridwork.CellSize).Inside), touched...)
		d.PatrolDue = plan.Due(s.Calendar().IsWorkday(now), countedToday, countedWeek)
		visits, err := s.db.GridVisits(ctx, store.GridFilter{Under: g.Path, From: now.AddDate(0, 0, -30)})
		if err != nil {
			return nil, err
		}
		for _, v := range visits {
			if !v.At.Before(day) {
				d.VisitsToday++
			}
			for _, n := range v.Needs {
				if n.Outcome == gridwork.FollowUp && n.Due != nil && n.Due.Before(day.AddDate(0, 0, 3)) {
					d.FollowUps = append(d.FollowUps, FollowUpDue{VisitID: v.ID, Place: v.Place, Promise: n.Promise, Due: *n.Due, Overdue: n.Due.Before(now)})
				}
			}
		}
		msgs, err := s.db.Messages(ctx, store.GridFilter{Under: g.Path, From: now.AddDate(0, 0, -30)})
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			if m.State == gridwork.Waiting {
				d.Messages++
			}
		}
		cs, err := s.db.Cases(ctx, store.CaseFilter{Scope: store.ScopeOf(actor), RegionPath: g.Path, States: []cases.State{cases.FedBack}, Limit: 50})
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			d.ToVerify = append(d.ToVerify, CaseRef{ID: c.ID, Number: c.Number, Description: c.Description, Address: c.Address})
		}
		out = append(out, d)
	}
	return out, nil
}

// GridFigures are the grid work of a period under a region.
type GridFigures struct {
	Period  evaluation.Period `json:"period"`
	Under   string            `json:"under"`
	Figures []gridwork.Figure `json:"figures"`
}

// Figures counts the grid work of a period per grid worker and per grid
// under a region the actor may read (a grid code, a community's, a
// street's; "" for the actor's own region).
func (s *Service) GridFigures(ctx context.Context, actor cases.Actor, under, period string) (GridFigures, error) {
	p, err := evaluation.ParsePeriod(period, s.Calendar().Location())
	if err != nil {
		return GridFigures{}, err
	}
	path := actor.RegionPath
	if under != "" {
		var ok bool
		if path, ok = s.RegionPath(under); !ok {
			return GridFigures{}, apperr.Field("under", "区域不存在")
		}
	}
	if !gridwork.SeesRoster(actor, path) {
		return GridFigures{}, apperr.New(apperr.Forbidden, "无权查看该区域的网格工作")
	}
	patrols, err := s.db.Patrols(ctx, store.GridFilter{Under: path, From: p.Start, To: p.End, Limit: 10000})
	if err != nil {
		return GridFigures{}, err
	}
	visits, err := s.db.GridVisits(ctx, store.GridFilter{Under: path, From: p.Start, To: p.End, Limit: 10000})
	if err != nil {
		return GridFigures{}, err
	}
	messages, err := s.db.Messages(ctx, store.GridFilter{Under: path, From: p.Start, To: p.End, Limit: 10000})
	if err != nil {
		return GridFigures{}, err
	}
	cells, names := map[string]int{}, map[string]string{}
	grids, err := s.db.Regions(ctx, store.RegionFilter{Level: "grid", Under: path, WithShape: true})
	if err != nil {
		return GridFigures{}, err
	}
	for _, g := range grids {
		cells[g.Code] = len(gridwork.CellsOf(g.Shape, gridwork.CellSize).Inside)
		names[g.Code] = s.gridName(g)
	}
	f := gridwork.Tally(patrols, visits, messages, cells, names)
	return GridFigures{Period: p, Under: lastCode(path), Figures: f}, nil
}

// SetTeamPhoto sets (or, with an empty hash, removes) the portrait of one
// member of a grid's team, named by index; the grid's workers and chiefs
// and the community keep it (a worker their own portrait too).
func (s *Service) SetTeamPhoto(ctx context.Context, actor cases.Actor, grid string, member int, photo string) (TeamView, error) {
	g, err := s.keptGrid(ctx, actor, grid)
	if err != nil {
		return TeamView{}, err
	}
	tm, err := s.db.Team(ctx, g.Code)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (member < 0 || member >= len(tm.Members))) {
		return TeamView{}, apperr.Field("member", "队伍中没有这名成员")
	} else if err != nil {
		return TeamView{}, err
	}
	tm.Members[member].Photo = photo
	return s.SetTeam(ctx, actor, grid, tm.Members)
}
