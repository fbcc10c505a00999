package service

import (
	"context"
	"sort"
	"strings"
	"time"

	"zhizhi/internal/cases"
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
// midnight on the working calendar's zone) in the actor's scope.
type Today struct {
	Reported int // cases reported today
	Accepted int // cases accepted today
	Closed   int // cases closed today (by verification, by the center, or solved on the spot)
	Overdue  int // open cases with a running clock past due now
}

// maxFigureSteps bounds how many timeline steps TodayFigures reads to count
// today's acceptances and closures; past it the figures are a lower bound.
const maxFigureSteps = 20000

// TodayFigures counts today's cases in the actor's scope. Acceptances and
// closures are read from today's timeline steps, then counted in scope.
func (s *Service) TodayFigures(ctx context.Context, actor cases.Actor) (Today, error) {
	now := s.Now()
	loc := s.Calendar().Location()
	l := now.In(loc)
	start := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc).UTC()
	var t Today
	var err error
	if t.Reported, err = s.Count(ctx, actor, store.CaseFilter{From: start, To: now.Add(time.Second)}); err != nil {
		return t, err
	}
	open, overdue := true, true
	if t.Overdue, err = s.Count(ctx, actor, store.CaseFilter{Open: &open, Overdue: &overdue, Now: now}); err != nil {
		return t, err
	}
	accepted, closed := map[string]bool{}, map[string]bool{}
	for off := 0; off < maxFigureSteps; off += store.MaxPage {
		steps, err := s.db.StepsBetween(ctx, store.StepFilter{From: start, To: now.Add(time.Second),
			Actions: []cases.Action{cases.ActAccept, cases.ActVerify, cases.ActClose, cases.ActSolvedOnSpot},
			Limit:   store.MaxPage, Offset: off})
		if err != nil {
			return t, err
		}
		for _, fs := range steps {
			switch {
			case fs.Step.Action == cases.ActAccept:
				accepted[fs.Step.CaseID] = true
			case fs.Step.To == cases.Closed:
				closed[fs.Step.CaseID] = true
			}
		}
		if len(steps) < store.MaxPage {
			break
		}
	}
	if t.Accepted, err = s.countIDs(ctx, actor, accepted); err != nil {
		return t, err
	}
	if t.Closed, err = s.countIDs(ctx, actor, closed); err != nil {
		return t, err
	}
	return t, nil
}

// countIDs counts how many of the cases the actor may see.
func (s *Service) countIDs(ctx context.Context, actor cases.Actor, ids map[string]bool) (int, error) {
	list := make([]string, 0, len(ids))
	for id := range ids {
		list = append(list, id)
	}
	sort.Strings(list)
	n := 0
	for len(list) > 0 {
		chunk := list[:min(len(list), 500)]
		list = list[len(chunk):]
		k, err := s.Count(ctx, actor, store.CaseFilter{IDs: chunk})
		if err != nil {
			return 0, err
		}
		n += k
	}
	return n, nil
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
