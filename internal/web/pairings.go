package web

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/leaders"
	"zhizhi/internal/region"
	"zhizhi/internal/store"
)

// Leaders' pairings (包联, issue 13): the administrator's page
// (/admin/pairings) lists the pairings of the streets, communities, grids
// and key enterprises in their region, records a new one and removes one,
// each through the service (audited as kind pairing). A pairing's days are
// whole days in Asia/Shanghai: the form's end day is the last day it holds.

type pairingsView struct {
	Tabs    []struct{ ID, Label string }
	Items   []pairingRow
	Leaders []store.Account      // leaders in the administrator's region
	Places  []store.RegionRecord // its streets and communities, for the target list
	Kinds   []leaders.TargetKind // what a leader may be paired with
	Values  url.Values           // the form as typed
	Errors  map[string]string    // field → reason
	Message string               // a refusal that is no one field's
	Flash   string
}

type pairingRow struct {
	leaders.Pairing
	FromDay, LastDay string
	Active           bool
}

func (v *pairingsView) title() string { return "系统管理 · 领导包联" }

func (c *Console) pairingsPage(w http.ResponseWriter, r *http.Request) error {
	v := &pairingsView{Values: url.Values{}}
	switch {
	case r.URL.Query().Get("added") != "":
		v.Flash = "已安排包联，领导的首页从包联对象开始"
	case r.URL.Query().Get("removed") != "":
		v.Flash = "已取消包联"
	}
	return c.renderPairings(w, r, http.StatusOK, v)
}

func (c *Console) renderPairings(w http.ResponseWriter, r *http.Request, status int, v *pairingsView) error {
	actor := actorOf(r)
	v.Tabs, v.Kinds = adminTabs, leaders.TargetKinds
	items, err := c.svc.Pairings(r.Context(), actor, "", time.Time{})
	if err != nil {
		return err
	}
	loc := c.svc.Calendar().Location()
	now := c.svc.Now()
	for _, p := range items {
		v.Items = append(v.Items, pairingRow{Pairing: p, FromDay: p.From.In(loc).Format(time.DateOnly),
			LastDay: p.To.In(loc).Add(-time.Nanosecond).Format(time.DateOnly), Active: p.ActiveAt(now)})
	}
	accounts, err := c.svc.Accounts(r.Context(), actor)
	if err != nil {
		return err
	}
	for _, a := range accounts {
		if a.Active && a.Role == cases.RoleLeader {
			v.Leaders = append(v.Leaders, a)
		}
	}
	for _, l := range []region.Level{region.Street, region.Community} {
		rs, err := c.svc.DB().Regions(r.Context(), store.RegionFilter{Level: l, Under: actor.RegionPath})
		if err != nil {
			return err
		}
		v.Places = append(v.Places, rs...)
	}
	c.render(w, r, status, "pairings", v)
	return nil
}

// addPairing records the form's pairing. Its days are read in the
// official calendar's zone; the end day is inclusive.
func (c *Console) addPairing(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	p := leaders.Pairing{LeaderID: f.Get("leader_id"), Kind: leaders.TargetKind(f.Get("kind")), Target: f.Get("target"),
		TargetName: f.Get("target_name"), Region: f.Get("region"), Note: f.Get("note")}
	errs := map[string]string{}
	loc := c.svc.Calendar().Location()
	if s := f.Get("from"); s != "" {
		d, err := time.ParseInLocation(time.DateOnly, s, loc)
		if err != nil {
			errs["from"] = "开始日期应为YYYY-MM-DD"
		}
		p.From = d
	}
	if s := f.Get("last"); s != "" {
		d, err := time.ParseInLocation(time.DateOnly, s, loc)
		if err != nil {
			errs["last"] = "结束日期应为YYYY-MM-DD"
		}
		p.To = d.AddDate(0, 0, 1)
	}
	if len(errs) > 0 {
		return c.renderPairings(w, r, http.StatusBadRequest, &pairingsView{Values: f, Errors: errs})
	}
	_, err := c.svc.PutPairing(r.Context(), actorOf(r), p)
	var e *apperr.Error
	if errors.As(err, &e) && (e.Kind == apperr.Invalid || e.Kind == apperr.Forbidden) {
		v := &pairingsView{Values: f, Errors: adminFields(err, func(name string) string {
			if name == "to" {
				return "last" // the form asks for the last day
			}
			return name
		})}
		if len(e.Fields) == 0 {
			v.Message = e.Message
		}
		return c.renderPairings(w, r, http.StatusBadRequest, v)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/pairings?added=1", http.StatusSeeOther)
	return nil
}

// removePairing removes a pairing record.
func (c *Console) removePairing(w http.ResponseWriter, r *http.Request) error {
	if err := c.svc.DeletePairing(r.Context(), actorOf(r), r.PathValue("id")); err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/pairings?removed=1", http.StatusSeeOther)
	return nil
}
