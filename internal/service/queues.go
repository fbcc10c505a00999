package service

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/id"
	"zhizhi/internal/store"
)

// SaveFilter keeps a filter of the board queue under a name for the person
// (one of the same name is replaced). query is the board's query string,
// already checked by the console.
func (s *Service) SaveFilter(ctx context.Context, actor cases.Actor, name, query string) (store.SavedFilter, error) {
	var f apperr.Fields
	name = strings.TrimSpace(name)
	if n := len([]rune(name)); n == 0 || n > 30 {
		f.Add("name", "筛选名称不能为空且不超过30字")
	}
	if len(query) > 2000 {
		f.Add("query", "筛选条件过长")
	}
	if actor.AccountID == "" {
		f.Add("account", "须以本人账号登录")
	}
	if err := f.Err(); err != nil {
		return store.SavedFilter{}, err
	}
	sf := store.SavedFilter{ID: id.New(), AccountID: actor.AccountID, Name: name, Query: query, CreatedAt: s.Now()}
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		n, err := tx.CountSavedFilters(ctx, actor.AccountID)
		if err != nil {
			return err
		}
		out, err := tx.SaveFilter(ctx, sf)
		if err != nil {
			return err
		}
		if out.ID == sf.ID && n >= store.MaxSavedFilters {
			return apperr.Newf(apperr.Invalid, "每人最多保存%d个筛选，请先删除不用的", store.MaxSavedFilters)
		}
		sf = out
		return nil
	})
	return sf, err
}

// SavedFilters lists the person's saved filters.
func (s *Service) SavedFilters(ctx context.Context, actor cases.Actor) ([]store.SavedFilter, error) {
	if actor.AccountID == "" {
		return nil, nil
	}
	return s.db.SavedFilters(ctx, actor.AccountID)
}

// DeleteFilter deletes one of the person's saved filters.
func (s *Service) DeleteFilter(ctx context.Context, actor cases.Actor, filterID string) error {
	err := s.db.Write(ctx, func(tx *store.Tx) error { return tx.DeleteSavedFilter(ctx, actor.AccountID, filterID) })
	if errors.Is(err, store.ErrNotFound) {
		return apperr.New(apperr.NotFound, "没有这个筛选")
	}
	return err
}

// MaxBatch is the most cases one batch action takes.
const MaxBatch = 100

// BatchResult is what one case of a batch came to: done (the case's new
// version), or refused with the reason, as the service said it.
type BatchResult struct {
	CaseID  string
	Number  string
	Done    bool
	Version int
	Steps   int    // the actions done on the case (rating every summoned unit is one per unit)
	Reason  string // why it was refused (the error's message and its fields)
	Skipped bool   // nothing to do on this case (no unit waiting for a rating)
}

// BatchAct runs one action on many cases, case by case, each through Act
// with the same rules as a single action: a case refused does not stop the
// others. commands gives the commands for one case as it is now (rating
// every summoned unit is one command per unit); none means nothing to do.
func (s *Service) BatchAct(ctx context.Context, actor cases.Actor, ids []string, commands func(cases.Case) []cases.Command) ([]BatchResult, error) {
	if len(ids) == 0 {
		return nil, apperr.Field("id", "请至少选择一件案件")
	}
	if len(ids) > MaxBatch {
		return nil, apperr.Field("id", fmt.Sprintf("一次最多批量处理%d件", MaxBatch))
	}
	out := make([]BatchResult, 0, len(ids))
	seen := map[string]bool{}
	for _, caseID := range ids {
		if seen[caseID] {
			continue
		}
		seen[caseID] = true
		if err := ctx.Err(); err != nil {
			return out, err
		}
		res := BatchResult{CaseID: caseID, Number: caseID}
		c, _, err := s.Case(ctx, actor, caseID)
		if err != nil {
			res.Reason = reasonOf(err)
			out = append(out, res)
			continue
		}
		res.Number = c.Number
		cmds := commands(c)
		if len(cmds) == 0 {
			res.Skipped, res.Reason = true, "没有需要处理的事项"
			out = append(out, res)
			continue
		}
		version := c.Version
		for _, cmd := range cmds {
			n, _, err := s.Act(ctx, actor, caseID, cmd, version)
			if err != nil {
				res.Reason = reasonOf(err)
				break
			}
			version = n.Version
			res.Steps++
		}
		res.Done, res.Version = res.Reason == "", version
		out = append(out, res)
	}
	return out, nil
}

// reasonOf is an error as a person reads it.
func reasonOf(err error) string {
	var e *apperr.Error
	if !errors.As(err, &e) {
		return "处理失败，请稍后重试"
	}
	msg := e.Message
	for _, f := range e.Fields {
		msg += "；" + f.Reason
	}
	return msg
}
