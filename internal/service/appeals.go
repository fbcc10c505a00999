package service

import (
	"context"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/store"
)

// AppealItem is one appeal of the review queue, with the unit's name.
type AppealItem struct {
	store.AppealRow
	UnitName   string `json:"unit_name"`
	StateLabel string `json:"state_label"`
}

// AppealQueue is a page of the review queue of overdue appeals (超时申诉) and
// the count of each state in the caller's scope.
type AppealQueue struct {
	State  cases.AppealState         `json:"state,omitempty"`
	Items  []AppealItem              `json:"items"`
	Counts map[cases.AppealState]int `json:"counts"`
}

// appealScope is the queue's scope for an actor: commanders, leaders and
// administrators see the appeals of the cases placed or owned in their
// region (a street center its street's, a district its district's); unit
// and community staff their own unit's (a board head also its posts' and
// sections'). Anyone else may not read the queue.
func appealScope(actor cases.Actor) (store.AppealFilter, error) {
	switch actor.Role {
	case cases.RoleCommander, cases.RoleLeader, cases.RoleAdmin:
		if actor.RegionPath == "" {
			return store.AppealFilter{}, apperr.New(apperr.Forbidden, "您的账号没有管辖区域，不能查看超时申诉")
		}
		return store.AppealFilter{Region: actor.RegionPath}, nil
	case cases.RoleUnit, cases.RoleCommunity:
		if actor.UnitID == "" {
			return store.AppealFilter{}, apperr.New(apperr.Forbidden, "您的账号不属于任何单位，不能查看超时申诉")
		}
		return store.AppealFilter{Units: append([]string{actor.UnitID}, actor.Units...)}, nil
	}
	return store.AppealFilter{}, apperr.New(apperr.Forbidden, "您的角色不能查看超时申诉")
}

// Appeals lists the overdue appeals in the actor's scope in one state (""
// for all), newest first; before pages on (the asked_at of the last item
// seen); limit is at most 200 (0: 200).
func (s *Service) Appeals(ctx context.Context, actor cases.Actor, state cases.AppealState, before time.Time, limit int) (AppealQueue, error) {
	var f apperr.Fields
	if state != "" && !state.Valid() {
		f.Add("state", "申诉状态无效，应为 pending_review、pending_approval、approved 或 refused")
	}
	if limit < 0 || limit > 200 {
		f.Add("limit", "条数应在1到200之间")
	}
	if err := f.Err(); err != nil {
		return AppealQueue{}, err
	}
	filter, err := appealScope(actor)
	if err != nil {
		return AppealQueue{}, err
	}
	filter.State, filter.Before, filter.Limit = state, before, limit
	rows, err := s.db.Appeals(ctx, filter)
	if err != nil {
		return AppealQueue{}, err
	}
	counts, err := s.db.CountAppeals(ctx, filter)
	if err != nil {
		return AppealQueue{}, err
	}
	q := AppealQueue{State: state, Items: make([]AppealItem, 0, len(rows)), Counts: counts}
	for _, r := range rows {
		name := r.UnitID
		if u, ok := s.Unit(r.UnitID); ok {
			name = u.Name
		}
		q.Items = append(q.Items, AppealItem{AppealRow: r, UnitName: name, StateLabel: r.State.Label()})
	}
	return q, nil
}
