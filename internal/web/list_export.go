package web

import (
	"net/http"
	"strings"

	"zhizhi/internal/cases"
	"zhizhi/internal/store"
)

// The Excel (or CSV) exports of the console's lists, beside the
// dashboard's: each streams its rows a page at a time (exportCases), with
// no cap on the cases; the account and unit lists are read whole.

// boardExport writes the board queue with its current filter (every page,
// not only the one shown), newest first.
func (c *Console) boardExport(w http.ResponseWriter, r *http.Request) error {
	f, err := c.boardFilterOf(r)
	if err != nil {
		return err
	}
	return c.exportCases(w, r, f.store(), "案件队列_"+c.svc.Now().In(c.svc.Calendar().Location()).Format("20060102"))
}

// inboxExport writes a unit's open cases (the inbox) in full.
func (c *Console) inboxExport(w http.ResponseWriter, r *http.Request) error {
	actor := actorOf(r)
	open := true
	return c.exportCases(w, r, store.CaseFilter{Open: &open, Unit: actor.UnitID}, "待办_"+c.unitName(actor.UnitID))
}

// scopedAccounts lists the accounts an administrator may see, matching q
// (a username or a name) when given.
func (c *Console) scopedAccounts(r *http.Request, q string) ([]store.Account, error) {
	actor := actorOf(r)
	all, err := c.svc.Accounts(r.Context(), actor)
	if err != nil {
		return nil, err
	}
	var out []store.Account
	for _, a := range all {
		u, hasUnit := c.svc.Unit(a.UnitID)
		switch {
		case a.RegionPath != "" && !inScope(actor, a.RegionPath):
			continue
		case a.Role == cases.RoleUnit && (!hasUnit || !inScope(actor, u.RegionPath)):
			continue
		case q != "" && !strings.Contains(a.Username, q) && !strings.Contains(a.Name, q):
			continue
		}
		out = append(out, a)
	}
	return out, nil
}

// adminAccountsExport writes the accounts of the administrator's region
// (phones masked as on the page).
func (c *Console) adminAccountsExport(w http.ResponseWriter, r *http.Request) error {
	list, err := c.scopedAccounts(r, strings.TrimSpace(r.URL.Query().Get("q")))
	if err != nil {
		return err
	}
	s := sheet{Name: "账号", Header: []string{"用户名", "姓名", "角色", "区域", "单位", "职务", "电话", "状态", "创建时间"}}
	for _, a := range list {
		state := "停用"
		if a.Active {
			state = "启用"
		}
		s.Rows = append(s.Rows, []any{a.Username, a.Name, a.Role.Label(), joinNames(c.svc.PathNames(a.RegionPath), 1),
			c.unitNameOrEmpty(a.UnitID), a.Title, cases.MaskPhone(a.Phone), state, c.when(a.CreatedAt)})
	}
	return c.sendSheets(w, r, "账号", []sheet{s})
}

// adminUnitsExport writes the units of the administrator's region.
func (c *Console) adminUnitsExport(w http.ResponseWriter, r *http.Request) error {
	actor := actorOf(r)
	s := sheet{Name: "部门", Header: []string{"编号", "名称", "类型", "板块", "所在区域", "上级", "状态"}}
	for _, u := range c.svc.Units() {
		if !inScope(actor, u.RegionPath) {
			continue
		}
		state := "停用"
		if u.Active {
			state = "启用"
		}
		board := ""
		if u.Board != "" {
			board = cases.Board(u.Board).Label()
		}
		s.Rows = append(s.Rows, []any{u.ID, u.Name, cases.UnitKindLabel(u.Kind), board,
			joinNames(c.svc.PathNames(u.RegionPath), 1), c.unitNameOrEmpty(u.Parent), state})
	}
	return c.sendSheets(w, r, "部门", []sheet{s})
}

func (c *Console) unitNameOrEmpty(id string) string {
	if id == "" {
		return ""
	}
	return c.unitName(id)
}
