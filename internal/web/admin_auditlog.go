package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/calendar"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
)

// The audit page (/admin/audit, issue 20): every change to reference data
// and every read of personal data, newest first, filtered by kind, action,
// who (a username) and period, a page at a time, exported as CSV or Excel.
// It belongs to administrators of a district or above (others see the
// trail of one unit or account on its own page).

// auditPage is how many entries one page of the audit log shows.
const auditPage = 100

type auditLogView struct {
	Kinds   []struct{ Code, Label string }
	Actions []struct{ Code, Label string }
	Filter  url.Values
	Rows    []auditLogRow
	Next    string // keyset cursor of the next page
	Export  string // the export's query string
}

type auditLogRow struct {
	When, Who, Kind, Object, Action, Detail string
}

// auditFilterOf reads the page's filters; a username that names nobody is
// an error on its field.
func (c *Console) auditFilterOf(r *http.Request) (store.AuditFilter, error) {
	q := r.URL.Query()
	f := store.AuditFilter{Kind: q.Get("kind"), Action: q.Get("action"), ObjectID: strings.TrimSpace(q.Get("object")), Before: q.Get("before")}
	var fs apperr.Fields
	if who := strings.TrimSpace(q.Get("who")); who != "" {
		a, err := c.svc.DB().AccountByUsername(r.Context(), who)
		if err != nil {
			fs.Add("who", "没有这个用户名")
		} else {
			f.ActorID = a.ID
		}
	}
	loc := calendar.Shanghai()
	for _, p := range []struct {
		name string
		to   *time.Time
		end  bool
	}{{"from", &f.From, false}, {"to", &f.To, true}} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		d, err := time.ParseInLocation("2006-01-02", v, loc)
		if err != nil {
			fs.Add(p.name, "日期格式应为 2026-12-01")
			continue
		}
		if p.end {
			d = d.AddDate(0, 0, 1) // the whole last day
		}
		*p.to = d
	}
	if err := fs.Err(); err != nil {
		return f, err
	}
	return f, service.CheckAuditFilter(f)
}

func (c *Console) auditLabel(list []struct{ Code, Label string }, code string) string {
	for _, k := range list {
		if k.Code == code {
			return k.Label
		}
	}
	return code
}

func (c *Console) auditRowOf(e store.AuditEntry) auditLogRow {
	who := e.ActorName
	if who == "" {
		who = "系统"
	}
	detail := string(e.After)
	if e.Action == "update" || e.Action == "revoke" {
		detail = "原：" + string(e.Before) + " → 新：" + string(e.After)
	}
	return auditLogRow{When: c.when(e.At), Who: who, Kind: c.auditLabel(service.AuditKinds, e.Kind), Object: e.ObjectID,
		Action: c.auditLabel(service.AuditActions, e.Action), Detail: cut(detail, 400)}
}

func (c *Console) adminAudit(w http.ResponseWriter, r *http.Request) error {
	v := &adminView{Tab: "audit", Values: r.URL.Query()}
	lv := &auditLogView{Kinds: service.AuditKinds, Actions: service.AuditActions, Filter: r.URL.Query()}
	v.AuditLog = lv
	f, err := c.auditFilterOf(r)
	if err != nil {
		if !apperr.Is(err, apperr.Invalid) {
			return err
		}
		v.Errors = adminFields(err, nil)
		v.Message = "请修改筛选条件"
		c.adminPage(w, r, http.StatusBadRequest, v)
		return nil
	}
	f.Limit = auditPage
	list, err := c.svc.AuditLogAs(r.Context(), actorOf(r), f)
	if err != nil {
		return err
	}
	for _, e := range list {
		lv.Rows = append(lv.Rows, c.auditRowOf(e))
	}
	if len(list) == auditPage {
		next := r.URL.Query()
		next.Set("before", list[len(list)-1].ID)
		lv.Next = next.Encode()
	}
	exp := r.URL.Query()
	exp.Del("before")
	lv.Export = exp.Encode()
	c.adminPage(w, r, http.StatusOK, v)
	return nil
}

// adminAuditExport writes every entry the filters select (not one page).
func (c *Console) adminAuditExport(w http.ResponseWriter, r *http.Request) error {
	if f := r.URL.Query().Get("format"); f != "csv" && f != "xlsx" {
		return apperr.Field("format", "导出格式应为 csv 或 xlsx")
	}
	f, err := c.auditFilterOf(r)
	if err != nil {
		return err
	}
	f.Before, f.Limit = "", 500
	ctx, actor := r.Context(), actorOf(r)
	done := false
	page := func() ([][]any, error) {
		if done {
			return nil, nil
		}
		list, err := c.svc.AuditLogAs(ctx, actor, f)
		if err != nil {
			return nil, err
		}
		if len(list) < f.Limit {
			done = true
		} else {
			f.Before = list[len(list)-1].ID
		}
		rows := make([][]any, 0, len(list))
		for _, e := range list {
			who := e.ActorName
			if who == "" {
				who = "系统"
			}
			rows = append(rows, []any{c.when(e.At), who, e.ActorID, c.auditLabel(service.AuditKinds, e.Kind), e.ObjectID,
				c.auditLabel(service.AuditActions, e.Action), string(e.Before), string(e.After)})
		}
		return rows, nil
	}
	s := sheet{Name: "操作记录", Header: []string{"时间", "操作人", "操作人编号", "类型", "对象", "操作", "修改前", "修改后"}}
	if s.Rows, err = page(); err != nil {
		return err
	}
	s.More = page
	return c.sendSheets(w, r, "操作记录", []sheet{s})
}
