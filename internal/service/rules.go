package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/evaluation"
	"zhizhi/internal/store"
)

// rulesSetting is the settings key of the evaluation's rule book: every
// version of the rules, oldest first (a JSON evaluation.Book).
const rulesSetting = "evaluation_rules"

// RuleBook is every version of the evaluation's rules, oldest first. Before
// any version was added it is the shipped rules (version 1, in force from
// the beginning).
func (s *Service) RuleBook(ctx context.Context) (evaluation.Book, error) {
	var b evaluation.Book
	err := s.db.Setting(ctx, rulesSetting, &b)
	if errors.Is(err, store.ErrNotFound) || (err == nil && len(b) == 0) {
		return evaluation.Book{evaluation.DefaultRules()}, nil
	}
	return b, err
}

// RulesView is the rule book as GET /api/v1/evaluation/rules shows it.
type RulesView struct {
	InForce  int                    `json:"in_force"` // the version in force now
	Versions evaluation.Book        `json:"versions"` // oldest first
	Kinds    []string               `json:"kinds"`
	Catalog  []evaluation.Indicator `json:"indicators"` // what weights may name, and for which kinds
}

// Rules reads the rule book; commanders, leaders and administrators may.
func (s *Service) Rules(ctx context.Context, actor cases.Actor) (RulesView, error) {
	if !mayEvaluate(actor) {
		return RulesView{}, apperr.New(apperr.Forbidden, "只有指挥中心、领导和管理员可以查看考核规则")
	}
	b, err := s.RuleBook(ctx)
	if err != nil {
		return RulesView{}, err
	}
	v := RulesView{InForce: b.InForce(s.Now()).Version, Versions: b, Catalog: evaluation.Indicators}
	for _, k := range evaluationKinds {
		v.Kinds = append(v.Kinds, string(k))
	}
	return v, nil
}

// AddRules adds a new version of the rules, in force from its
// EffectiveFrom, which must be later than every earlier version's and not
// before the start of today (local): a version never changes once added,
// and a new one changes the scores of the periods that begin at or after
// its EffectiveFrom only (a period is scored with the rules in force at its
// start), so days gone by keep theirs. Only administrators
// whose region is a district or above may. The version number is the next
// one (a version given in the input is replaced). The change is audited.
func (s *Service) AddRules(ctx context.Context, actor cases.Actor, r evaluation.Rules) (evaluation.Rules, error) {
	if actor.Role != cases.RoleAdmin {
		return evaluation.Rules{}, apperr.New(apperr.Forbidden, "只有管理员可以修改考核规则")
	}
	if segs := strings.Split(strings.Trim(actor.RegionPath, "/"), "/"); len(segs) > 2 {
		return evaluation.Rules{}, apperr.New(apperr.Forbidden, "只有区级及以上管理员可以修改考核规则")
	}
	var out evaluation.Rules
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		// The book's row is locked for the transaction: two administrators
		// adding at once get consecutive versions, neither lost.
		if err := tx.InitSetting(ctx, rulesSetting, evaluation.Book{evaluation.DefaultRules()}); err != nil {
			return err
		}
		var b evaluation.Book
		if err := tx.LockSetting(ctx, rulesSetting, &b); err != nil {
			return err
		}
		if len(b) == 0 {
			b = evaluation.Book{evaluation.DefaultRules()}
		}
		last := b[len(b)-1]
		for _, x := range b {
			if x.Version > last.Version {
				last = x
			}
		}
		r.Version = last.Version + 1
		var f apperr.Fields
		latest := last.EffectiveFrom
		for _, x := range b {
			if x.EffectiveFrom.After(latest) {
				latest = x.EffectiveFrom
			}
		}
		switch {
		case r.EffectiveFrom.IsZero():
			f.Add("effective_from", "请填写生效时间")
		case !r.EffectiveFrom.After(latest):
			f.Add("effective_from", fmt.Sprintf("生效时间须晚于第%d版的生效时间（%s）", last.Version, latest.In(s.Calendar().Location()).Format("2006-01-02 15:04")))
		case r.EffectiveFrom.Before(today(s.Now(), s.Calendar().Location())):
			f.Add("effective_from", "生效时间不能早于今天：已过去的时段按原规则考核")
		}
		for _, k := range evaluationKinds {
			if len(r.Weights[k]) == 0 {
				f.Addf("weights."+string(k), "请为%s设置权重", k.Label())
			}
		}
		f.Merge(r.Validate())
		if err := f.Err(); err != nil {
			return err
		}
		r.EffectiveFrom = r.EffectiveFrom.UTC()
		nb := append(append(evaluation.Book(nil), b...), r)
		if err := tx.PutSetting(ctx, rulesSetting, nb); err != nil {
			return err
		}
		out = r
		return tx.Audit(ctx, s.auditEntry(actor, "evaluation_rules", fmt.Sprintf("v%d", r.Version), false, nil, r))
	})
	return out, err
}

// today is the start of t's local day.
func today(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}
