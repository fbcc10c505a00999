package service

import (
	"context"
	"encoding/json"
	"errors"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/id"
	"zhizhi/internal/store"
)

// RevealPhone gives the reporter's full phone number of a case to someone
// whose role needs it (cases.SeesPhones: the command center, to call back)
// and who may see the case, and records the read in the audit trail (kind
// personal_data, action read) in a write that commits before the number is
// handed out: no number leaves without its record. Every listing, page and
// export shows the number masked.
func (s *Service) RevealPhone(ctx context.Context, actor cases.Actor, idOrNumber string) (cases.Reporter, error) {
	c, err := s.db.Case(ctx, idOrNumber)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !cases.CanSee(actor, &c)) {
		return cases.Reporter{}, apperr.New(apperr.NotFound, "案件不存在")
	}
	if err != nil {
		return cases.Reporter{}, err
	}
	if !cases.SeesPhones(actor) {
		return cases.Reporter{}, apperr.New(apperr.Forbidden, "只有指挥中心可以查看上报人的完整电话")
	}
	if c.Reporter.Phone == "" {
		return c.Reporter, nil
	}
	e := store.AuditEntry{ID: id.New(), At: s.Now(), ActorID: actor.AccountID, ActorName: actor.Name,
		Kind: "personal_data", ObjectID: c.ID, Action: "read"}
	e.After = mustJSON(map[string]string{"field": "reporter.phone", "case_number": c.Number})
	if err := s.db.Write(ctx, func(tx *store.Tx) error { return tx.Audit(ctx, e) }); err != nil {
		return cases.Reporter{}, err
	}
	return c.Reporter, nil
}

// mustJSON encodes a value that cannot fail to encode.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("service: " + err.Error())
	}
	return b
}

// AuditKinds are the kinds of record the audit trail holds, with their
// Chinese names; AuditActions the things done to them.
var (
	AuditKinds = []struct{ Code, Label string }{
		{"account", "账号"}, {"unit", "单位"}, {"category", "事项分类"}, {"calendar", "工作日历"},
		{"regions", "区域"}, {"evaluation_rules", "考核规则"}, {"api_key", "接口密钥"}, {"personal_data", "个人信息查看"},
		{"pairing", "包联"}, {"visit", "现场办公"}, {"list", "清单"}, {"project", "重点整治整改项目"}, {"supervision", "督办"}, {"secretary", "领导秘书"}, {"training", "干部培训"},
		{"roster", "网格台账"}, {"team", "网格队伍"}, {"plan", "巡查计划"}, {"patrol", "巡查"}, {"household_visit", "走访"},
		{"webhook", "推送订阅"},
	}
	AuditActions = []struct{ Code, Label string }{
		{"create", "新建"}, {"update", "修改"}, {"revoke", "吊销"}, {"read", "查看"}, {"delete", "删除"},
		{"pause", "暂停"}, {"resume", "恢复"},
	}
)

// CheckAuditFilter refuses an unknown kind or action, or a period that
// ends before it starts.
func CheckAuditFilter(f store.AuditFilter) error {
	var fs apperr.Fields
	known := func(code string, list []struct{ Code, Label string }) bool {
		for _, k := range list {
			if k.Code == code {
				return true
			}
		}
		return code == ""
	}
	if !known(f.Kind, AuditKinds) {
		fs.Add("kind", "未知的记录类型")
	}
	if !known(f.Action, AuditActions) {
		fs.Add("action", "未知的操作")
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		fs.Add("to", "结束时间应晚于开始时间")
	}
	return fs.Err()
}
