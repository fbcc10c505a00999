package service

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/evaluation"
	"zhizhi/internal/id"
	"zhizhi/internal/store"
)

// Read helpers for the console: lists and figures that need no rules beyond
// scope. Every count goes through Count, so it is scoped like List.

// Units returns every unit, active ones first, each group in name order.
func (s *Service) Units() []cases.Unit {
	ref := s.ref.Load()
	out := make([]cases.Unit, 0, len(ref.units))
	for _, u := range ref.units {
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Active != out[j].Active {
			return out[i].Active
		}
		if out[i].RegionPath != out[j].RegionPath {
			return len(out[i].RegionPath) < len(out[j].RegionPath)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// PathNames returns the names of the regions along a materialised path, top
// first, skipping codes it does not know.
func (s *Service) PathNames(path string) []string {
	ref := s.ref.Load()
	var out []string
	for _, c := range strings.Split(strings.Trim(path, "/"), "/") {
		if n := ref.names[c]; n != "" {
			out = append(out, n)
		}
	}
	return out
}

// Today holds the command board's figures for the current day (from local
// midnight on the working calendar's zone) in the actor's region.
type Today struct {
	Reported int       // cases reported today
	Accepted int       // cases accepted today
	Closed   int       // cases closed today (by verification, by the center, or solved on the spot)
	Overdue  int       // open cases with a running clock past due now
	AsOf     time.Time // the first three are the rollups' as of this time (zero: not rolled yet)
}

// TodayFigures counts today's cases in the actor's region. Reported,
// accepted and closed come from the evaluation's rollups (the same counts
// every figure reads: one row of the actor's region for today, whatever its
// size), as of the rollups' watermark, a few seconds behind; overdue is
// counted from the open cases now, in the actor's scope.
func (s *Service) TodayFigures(ctx context.Context, actor cases.Actor) (Today, error) {
	now := s.Now()
	loc := s.Calendar().Location()
	var t Today
	var err error
	if t.Overdue, err = s.db.CountRed(ctx, store.ScopeOf(actor), now); err != nil {
		return t, err
	}
	var wm string
	if err := s.db.Setting(ctx, rollupWatermark, &wm); err != nil && !errors.Is(err, store.ErrNotFound) {
		return t, err
	}
	if at, ok := id.Time(wm); ok {
		t.AsOf = at
	}
	day := evaluation.DayOf(now, loc)
	kind, subject := regionSubject(actor.RegionPath)
	counts, err := s.db.RollupCounts(ctx, kind, subject, day, day)
	if err != nil {
		return t, err
	}
	for code, c := range counts {
		if subject != "" && code != subject {
			continue
		}
		if path, ok := s.RegionPath(code); subject == "" && (!ok || !strings.HasPrefix(path, actor.RegionPath)) {
			continue
		}
		t.Reported += c[evaluation.Reported]
		t.Accepted += c[evaluation.AcceptedDay]
		t.Closed += c[evaluation.ClosedDay]
	}
	return t, nil
}

// regionSubject is the rollups' subject of a region path: its kind and code
// for a district or below, or (District, "") for the city and above, whose
// districts are summed.
func regionSubject(path string) (evaluation.SubjectKind, string) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	levels := []evaluation.SubjectKind{evaluation.City, evaluation.District, evaluation.Street, evaluation.Community, evaluation.Grid}
	if len(segs) < 2 || segs[0] == "" {
		return evaluation.District, ""
	}
	return levels[min(len(segs), len(levels))-1], segs[min(len(segs), len(levels))-1]
}

// Heads lists the active heads (三长) whose region holds or lies within the
// region path: whom a grid whistle on a case there may summon.
func (s *Service) Heads(ctx context.Context, path string) ([]store.Account, error) {
	all, err := s.db.Accounts(ctx)
	if err != nil {
		return nil, err
	}
	var out []store.Account
	for _, a := range all {
		if a.Role == cases.RoleHead && a.Active && a.RegionPath != "" &&
			(strings.HasPrefix(path, a.RegionPath) || strings.HasPrefix(a.RegionPath, path)) {
			a.PasswordHash = ""
			out = append(out, a)
		}
	}
	return out, nil
}
