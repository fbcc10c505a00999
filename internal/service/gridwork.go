package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/gridwork"
	"zhizhi/internal/id"
	"zhizhi/internal/region"
	"zhizhi/internal/store"
)

// The grid worker's day (issue 15, docs/gridwork.md): patrols, household
// visits, the grid's roster, team and patrol plan, and the figures. The
// rules are gridwork's; this file resolves grids, checks scope, writes
// through the store with an audit entry, and reports the cases a visit's
// needs become through Report (source patrol), never around it.

// GridRef names a grid.
type GridRef struct {
	Code string `json:"code"`
	Name string `json:"name"`
	Path string `json:"path"`
}

// grid resolves a grid's code to its path and shape; field names the
// input field for the error.
func (s *Service) grid(ctx context.Context, code, field string) (store.RegionRecord, error) {
	if code == "" {
		return store.RegionRecord{}, apperr.Field(field, "请选择网格")
	}
	r, err := s.db.Region(ctx, code)
	if errors.Is(err, store.ErrNotFound) || (err == nil && r.Level != region.Grid) {
		return store.RegionRecord{}, apperr.Field(field, "网格不存在")
	}
	return r, err
}

// seenGrid resolves a grid the actor may read the grid work of.
func (s *Service) seenGrid(ctx context.Context, actor cases.Actor, code string) (store.RegionRecord, error) {
	g, err := s.grid(ctx, code, "grid")
	if err != nil {
		return g, err
	}
	if !gridwork.SeesRoster(actor, g.Path) {
		return g, apperr.New(apperr.Forbidden, "无权查看该网格的工作记录")
	}
	return g, nil
}

// GridsOf lists the grids whose work the actor may read, by path (a grid
// worker: their grid; a grid chief or community: the community's grids).
func (s *Service) GridsOf(ctx context.Context, actor cases.Actor) ([]GridRef, error) {
	switch actor.Role {
	case cases.RoleGridWorker, cases.RoleGridChief, cases.RoleCommunity, cases.RoleCommander, cases.RoleLeader, cases.RoleAdmin:
		if actor.RegionPath == "" {
			return nil, nil
		}
	case cases.RoleSystem:
	default:
		return nil, nil
	}
	regs, err := s.db.Regions(ctx, store.RegionFilter{Level: region.Grid, Under: actor.RegionPath})
	if err != nil {
		return nil, err
	}
	out := make([]GridRef, 0, len(regs))
	for _, r := range regs {
		out = append(out, GridRef{Code: r.Code, Name: s.gridName(r), Path: r.Path})
	}
	return out, nil
}

// gridName is a grid's name with its community's: 民乐村社区第9网格.
func (s *Service) gridName(r store.RegionRecord) string {
	if c := s.RegionName(r.ParentCode); c != "" && len(r.Name) < 12 {
		return c + r.Name
	}
	return r.Name
}

// plan is a grid's patrol plan, or the default.
func (s *Service) plan(ctx context.Context, grid string) (gridwork.Plan, error) {
	p, err := s.db.Plan(ctx, grid)
	if errors.Is(err, store.ErrNotFound) {
		return gridwork.DefaultPlan(grid), nil
	}
	return p, err
}

// PatrolResult is a stored patrol and whether it had been stored before
// (the same client reference sent again).
type PatrolResult struct {
	Patrol gridwork.Patrol `json:"patrol"`
	Replay bool            `json:"replay"`
}

// UploadPatrol stores a finished patrol once: the same worker's client
// reference again returns the patrol stored the first time and adds
// nothing. The reports made on it were sent before (Report, source patrol,
// each with its client reference); the patrol keeps their cases' IDs.
func (s *Service) UploadPatrol(ctx context.Context, actor cases.Actor, in gridwork.PatrolUpload) (PatrolResult, error) {
	out, err := s.uploadPatrol(ctx, actor, in)
	if errors.Is(err, store.ErrConflict) {
		// Sent twice at once (two nodes): the other upload stored it.
		out, err = s.uploadPatrol(ctx, actor, in)
	}
	return out, err
}

func (s *Service) uploadPatrol(ctx context.Context, actor cases.Actor, in gridwork.PatrolUpload) (PatrolResult, error) {
	now := s.Now()
	g, err := s.grid(ctx, in.Grid, "grid")
	if err != nil {
		return PatrolResult{}, err
	}
	if !gridwork.Works(actor, g.Path) {
		return PatrolResult{}, apperr.New(apperr.Forbidden, "只有本网格的网格员和网格长可以记录巡查")
	}
	plan, err := s.plan(ctx, g.Code)
	if err != nil {
		return PatrolResult{}, err
	}
	p, err := gridwork.NewPatrol(in, gridwork.CellsOf(g.Shape, gridwork.CellSize), plan, now)
	if err != nil {
		return PatrolResult{}, err
	}
	p.ID, p.GridPath, p.WorkerID, p.WorkerName = id.At(now), g.Path, actor.AccountID, actor.Name
	fresh := p
	var out PatrolResult
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		p, out = fresh, PatrolResult{}
		old, err := tx.PatrolByClientRef(ctx, actor.AccountID, p.ClientRef)
		if err == nil {
			out = PatrolResult{Patrol: old, Replay: true}
			return nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		var f apperr.Fields
		p.CaseIDs = []string{}
		for i, ref := range in.ReportRefs {
			c, err := tx.CaseByClientRef(ctx, actor.AccountID, ref)
			switch {
			case errors.Is(err, store.ErrNotFound):
				f.Addf(fmt.Sprintf("report_refs[%d]", i), "这件上报还没有上传，请先上传上报再上传巡查")
			case err != nil:
				return err
			case c.Source != cases.SourcePatrol:
				f.Addf(fmt.Sprintf("report_refs[%d]", i), "只能关联来源为网格巡查的上报")
			default:
				p.CaseIDs = append(p.CaseIDs, c.ID)
			}
		}
		if err := f.Err(); err != nil {
			return err
		}
		if err := tx.InsertPatrol(ctx, p); err != nil {
			return err
		}
		out.Patrol = p
		summary := map[string]any{"grid": p.GridCode, "started_at": p.StartedAt, "ended_at": p.EndedAt, "meters": p.Meters, "points": p.Points, "cases": p.CaseIDs}
		return tx.Audit(ctx, s.auditEntry(actor, "patrol", p.ID, false, nil, summary))
	})
	return out, err
}

// Patrols lists the patrols of a grid the actor may read, newest first,
// in [from, to) when given.
func (s *Service) Patrols(ctx context.Context, actor cases.Actor, grid string, from, to time.Time) ([]gridwork.Patrol, error) {
	g, err := s.seenGrid(ctx, actor, grid)
	if err != nil {
		return nil, err
	}
	return s.db.Patrols(ctx, store.GridFilter{Under: g.Path, From: from, To: to})
}

// Patrol reads one patrol the actor may see, with its track decoded.
func (s *Service) Patrol(ctx context.Context, actor cases.Actor, patrolID string) (gridwork.Patrol, []gridwork.Fix, error) {
	p, err := s.db.Patrol(ctx, patrolID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !gridwork.SeesRoster(actor, p.GridPath)) {
		return gridwork.Patrol{}, nil, apperr.New(apperr.NotFound, "巡查记录不存在")
	}
	if err != nil {
		return p, nil, err
	}
	fixes, err := gridwork.DecodeTrack(p.Track)
	return p, fixes, err
}

// VisitResult is a stored visit and whether it had been stored before.
type VisitResult struct {
	Visit  gridwork.Visit `json:"visit"`
	Replay bool           `json:"replay"`
}

// RecordVisit stores a household visit once per client reference. Each
// need to become a case is reported first through Report (source patrol,
// at the place when the roster knows where it is, client reference
// <visit>-n<need> so a retry reports nothing twice), and the visit keeps the
// case's ID.
func (s *Service) RecordHouseholdVisit(ctx context.Context, actor cases.Actor, in gridwork.VisitInput) (VisitResult, error) {
	out, err := s.recordVisit(ctx, actor, in)
	if errors.Is(err, store.ErrConflict) {
		out, err = s.recordVisit(ctx, actor, in)
	}
	return out, err
}

func (s *Service) recordVisit(ctx context.Context, actor cases.Actor, in gridwork.VisitInput) (VisitResult, error) {
	now := s.Now()
	in.Needs = append([]gridwork.Need(nil), in.Needs...) // the cases' IDs are set on our copy
	g, err := s.grid(ctx, in.Grid, "grid")
	if err != nil {
		return VisitResult{}, err
	}
	if !gridwork.Works(actor, g.Path) {
		return VisitResult{}, apperr.New(apperr.Forbidden, "只有本网格的网格员和网格长可以记录走访")
	}
	if err := gridwork.CheckVisit(in, now); err != nil {
		return VisitResult{}, err
	}
	var f apperr.Fields
	point := in.Point
	if in.PlaceID != "" {
		pl, err := s.db.Place(ctx, in.PlaceID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && pl.GridCode != g.Code) {
			f.Add("place_id", "该网格台账中没有这个住户或商铺")
		} else if err != nil {
			return VisitResult{}, err
		} else {
			if pl.Point != nil {
				point = pl.Point
			}
			if in.Place == "" {
				in.Place = pl.Name
			}
		}
	}
	for i, n := range in.Needs {
		if n.Outcome == gridwork.ToCase {
			if _, ok := s.Category(n.Category); !ok {
				f.Addf(fmt.Sprintf("needs[%d].category", i), "类别不存在")
			}
		}
	}
	if err := f.Err(); err != nil {
		return VisitResult{}, err
	}
	if old, err := s.db.GridVisitByClientRef(ctx, actor.AccountID, in.ClientRef); err == nil {
		return VisitResult{Visit: old, Replay: true}, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return VisitResult{}, err
	}
	for i, n := range in.Needs {
		if n.Outcome != gridwork.ToCase {
			continue
		}
		c, err := s.Report(ctx, actor, cases.Report{Source: cases.SourcePatrol, Category: n.Category, Description: n.Text,
			Address: in.Place, Point: point, ClientRef: fmt.Sprintf("%s-n%d", in.ClientRef, i)})
		if err != nil {
			return VisitResult{}, prefixFields(err, fmt.Sprintf("needs[%d].", i))
		}
		in.Needs[i].CaseID = c.ID
	}
	v := gridwork.Visit{VisitInput: in, ID: id.At(now), GridPath: g.Path, VisitorID: actor.AccountID, VisitorName: actor.Name, CreatedAt: now}
	var out VisitResult
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		out = VisitResult{}
		old, err := tx.GridVisitByClientRef(ctx, actor.AccountID, v.ClientRef)
		if err == nil {
			out = VisitResult{Visit: old, Replay: true}
			return nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := tx.InsertGridVisit(ctx, v); err != nil {
			return err
		}
		out.Visit = v
		summary := map[string]any{"grid": v.Grid, "place": v.Place, "at": v.At, "needs": len(v.Needs)}
		return tx.Audit(ctx, s.auditEntry(actor, "household_visit", v.ID, false, nil, summary))
	})
	return out, err
}

// prefixFields names an invalid error's fields under a prefix (a need's
// report: needs[2].description).
func prefixFields(err error, prefix string) error {
	var e *apperr.Error
	if !errors.As(err, &e) || e.Kind != apperr.Invalid || len(e.Fields) == 0 {
		return err
	}
	var f apperr.Fields
	for _, fe := range e.Fields {
		f.Add(prefix+fe.Field, fe.Reason)
	}
	return f.Err()
}

// GridVisits lists a grid's household visits, newest first.
func (s *Service) GridVisits(ctx context.Context, actor cases.Actor, grid string, from, to time.Time) ([]gridwork.Visit, error) {
	g, err := s.seenGrid(ctx, actor, grid)
	if err != nil {
		return nil, err
	}
	return s.db.GridVisits(ctx, store.GridFilter{Under: g.Path, From: from, To: to})
}
