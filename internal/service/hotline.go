package service

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/geo"
	"zhizhi/internal/store"
	"zhizhi/internal/webhook"
)

// The 12345 hotline (issue 18, docs/webhooks.md): work orders (工单) come
// in through one route and become cases with source hotline through the
// service's one report path; the order's number is kept (hotline_orders, in
// the report's transaction, so an order sent twice makes one case on any
// node); the hotline hears of the case through a webhook subscription; its
// return visit (回访) comes back as a step of the case that feeds the 12345
// three rates.

// HotlineCaller is who called the hotline.
type HotlineCaller struct {
	Name  string `json:"name"`
	Phone string `json:"phone"`
}

// HotlineOrder is a 12345 work order as the hotline platform sends it.
type HotlineOrder struct {
	Number          string        `json:"number"`                     // the hotline's own order number (工单编号)
	Caller          HotlineCaller `json:"caller"`                     // the caller (诉求人)
	Content         string        `json:"content"`                    // what the caller said (诉求内容)
	Category        string        `json:"category"`                   // the platform's category code the hotline maps its classification to
	HotlineCategory string        `json:"hotline_category,omitempty"` // the hotline's own classification, kept as is
	Address         string        `json:"address,omitempty"`
	Point           *geo.Point    `json:"point,omitempty"`
	TimeLimit       time.Time     `json:"time_limit,omitzero"`  // the hotline's deadline for the reply (办理时限)
	ReceivedAt      time.Time     `json:"received_at,omitzero"` // when the hotline took the call
}

// Extra field keys a hotline case carries (shown in its timeline).
const (
	hotlineCategoryKey = "hotline_category"
	hotlineLimitKey    = "hotline_time_limit"
	hotlineAtKey       = "hotline_received_at"
)

var orderNumberRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// HotlineResult is the answer to a work order.
type HotlineResult struct {
	Case    cases.Case `json:"case"`
	Created bool       `json:"created"` // false: the order was taken before; this is its case
}

// hotlineKey checks the hotline platform's API key.
func (s *Service) hotlineKey(ctx context.Context, secret string) (store.APIKey, error) {
	k, err := s.LookupAPIKey(ctx, secret)
	if err != nil {
		return k, err
	}
	if !k.Hotline {
		return k, apperr.New(apperr.Forbidden, "该密钥不是12345热线平台的密钥")
	}
	return k, nil
}

// TakeHotlineOrder makes a case of a work order, once per order number.
func (s *Service) TakeHotlineOrder(ctx context.Context, secret string, o HotlineOrder) (HotlineResult, error) {
	_, k, err := s.UseAPIKey(ctx, secret)
	if err != nil {
		return HotlineResult{}, err
	}
	if !k.Hotline {
		return HotlineResult{}, apperr.New(apperr.Forbidden, "该密钥不是12345热线平台的密钥")
	}
	var f apperr.Fields
	o.Number = strings.TrimSpace(o.Number)
	if !orderNumberRE.MatchString(o.Number) {
		f.Add("number", "工单编号须为1到64位字母、数字、下划线或连字符")
	}
	if strings.TrimSpace(o.Address) == "" && o.Point == nil {
		f.Add("address", "请提供诉求地点：地址或坐标")
	}
	if o.Point != nil && !o.Point.Valid() {
		f.Add("point", "坐标无效")
	}
	if utf8.RuneCountInString(o.HotlineCategory) > cases.MaxExtraValue {
		f.Add("hotline_category", "热线分类过长")
	}
	if err := f.Err(); err != nil {
		return HotlineResult{}, err
	}
	if old, err := s.db.HotlineOrder(ctx, o.Number); err == nil {
		return s.hotlineReplay(ctx, old)
	} else if !errors.Is(err, store.ErrNotFound) {
		return HotlineResult{}, err
	}
	if !s.InKeyScope(k, o.Point) {
		return HotlineResult{}, apperr.Field("point", "该位置不在热线密钥的辖区内")
	}
	extra := []cases.Extra{{Key: webhook.HotlineNoKey, Value: o.Number}}
	if c := strings.TrimSpace(o.HotlineCategory); c != "" {
		extra = append(extra, cases.Extra{Key: hotlineCategoryKey, Value: c})
	}
	loc := s.Calendar().Location()
	if !o.TimeLimit.IsZero() {
		extra = append(extra, cases.Extra{Key: hotlineLimitKey, Value: o.TimeLimit.In(loc).Format(time.RFC3339)})
	}
	if !o.ReceivedAt.IsZero() {
		extra = append(extra, cases.Extra{Key: hotlineAtKey, Value: o.ReceivedAt.In(loc).Format(time.RFC3339)})
	}
	r := cases.Report{Source: cases.SourceHotline, Reporter: cases.Reporter{Name: strings.TrimSpace(o.Caller.Name), Phone: strings.TrimSpace(o.Caller.Phone)},
		Point: o.Point, Address: o.Address, Category: o.Category, Description: o.Content, Extra: extra}
	if p, ok := cases.NormalizePhone(r.Reporter.Phone); ok {
		r.Reporter.Phone = p
	}
	doc, _ := json.Marshal(o)
	now := s.Now()
	c, _, err := s.report(ctx, KeyActor(k), r, nil, func(tx *store.Tx, c *cases.Case) error {
		return tx.InsertHotlineOrder(ctx, store.HotlineOrder{Number: o.Number, CaseID: c.ID, KeyID: k.ID, ReceivedAt: now, LimitAt: o.TimeLimit, Doc: doc})
	})
	if errors.Is(err, store.ErrConflict) {
		// The same order, sent at once to another node or twice in a batch.
		if old, rerr := s.db.HotlineOrder(ctx, o.Number); rerr == nil {
			return s.hotlineReplay(ctx, old)
		}
	}
	if err != nil {
		return HotlineResult{}, renameFields(err)
	}
	return HotlineResult{Case: c, Created: true}, nil
}

func (s *Service) hotlineReplay(ctx context.Context, o store.HotlineOrder) (HotlineResult, error) {
	c, err := s.db.Case(ctx, o.CaseID)
	if err != nil {
		return HotlineResult{}, err
	}
	return HotlineResult{Case: c}, nil
}

// renameFields names a report's fields as the work order does.
func renameFields(err error) error {
	var e *apperr.Error
	if !errors.As(err, &e) || len(e.Fields) == 0 {
		return err
	}
	names := map[string]string{"description": "content", "reporter.phone": "caller.phone", "reporter.name": "caller.name"}
	out := *e
	out.Fields = nil
	for _, fe := range e.Fields {
		if n, ok := names[fe.Field]; ok {
			fe.Field = n
		}
		out.Fields = append(out.Fields, fe)
	}
	return &out
}

// HotlineVisit is the hotline's return visit result for an order.
type HotlineVisit struct {
	Satisfaction cases.Rating `json:"satisfaction"` // satisfied 满意, basic_satisfied 基本满意, unsatisfied 不满意
	Resolved     *bool        `json:"resolved"`     // whether the caller says the problem was solved
	At           time.Time    `json:"at"`           // when the visit was made
	Note         string       `json:"note,omitempty"`
}

// RecordHotlineVisit records a return visit on the order's case, as a step
// (cases.ActReturnVisit) taken for the hotline.
func (s *Service) RecordHotlineVisit(ctx context.Context, secret, number string, v HotlineVisit) (cases.Case, cases.Step, error) {
	k, err := s.hotlineKey(ctx, secret)
	if err != nil {
		return cases.Case{}, cases.Step{}, err
	}
	o, err := s.db.HotlineOrder(ctx, strings.TrimSpace(number))
	if errors.Is(err, store.ErrNotFound) {
		return cases.Case{}, cases.Step{}, apperr.New(apperr.NotFound, "工单不存在")
	} else if err != nil {
		return cases.Case{}, cases.Step{}, err
	}
	if v.Resolved == nil {
		return cases.Case{}, cases.Step{}, apperr.Field("resolved", "请说明诉求是否解决")
	}
	if v.At.IsZero() {
		v.At = s.Now()
	}
	cmd := cases.Command{Action: cases.ActReturnVisit, Note: strings.TrimSpace(v.Note),
		Visit: &cases.ReturnVisit{Satisfaction: v.Satisfaction, Resolved: *v.Resolved, At: v.At}}
	c, st, err := s.Act(ctx, KeyActor(k), o.CaseID, cmd, 0)
	if err != nil {
		var e *apperr.Error
		if errors.As(err, &e) && len(e.Fields) > 0 {
			out := *e
			out.Fields = nil
			for _, fe := range e.Fields {
				fe.Field = strings.TrimPrefix(fe.Field, "visit.")
				out.Fields = append(out.Fields, fe)
			}
			return cases.Case{}, cases.Step{}, &out
		}
		return cases.Case{}, cases.Step{}, err
	}
	return c, st, nil
}
