package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/enterprise"
	"zhizhi/internal/sla"
)

// The catalog's administration (district-wide administrators): the
// services in four colours, each with its category, unit, time limit and
// own questions (as JSON, the same shape as a category's questions).

type catalogPage struct {
	formState
	Services   []enterprise.Service
	Colors     []enterprise.Color
	Categories []cases.Category
	Units      []cases.Unit
	Saved      string
}

func (v *catalogPage) title() string { return "企业服务目录" }

func (c *Console) catalogPageOf(r *http.Request, f *formState) (*catalogPage, error) {
	list, err := c.svc.Catalog(r.Context(), true)
	if err != nil {
		return nil, err
	}
	p := &catalogPage{formState: *f, Services: list, Colors: enterprise.Colors, Categories: c.svc.Categories(), Saved: r.URL.Query().Get("saved")}
	for _, u := range c.svc.Units() {
		if u.Dispatchable() {
			p.Units = append(p.Units, u)
		}
	}
	if p.Values == nil {
		p.Values = url.Values{}
		// ?code= opens a service in the form.
		for _, s := range list {
			if s.Code == r.URL.Query().Get("code") {
				q, _ := json.Marshal(s.Questions)
				p.Values = url.Values{"code": {s.Code}, "name": {s.Name}, "color": {string(s.Color)}, "category": {s.Category},
					"unit_id": {s.UnitID}, "limit": {limitText(s.Limit)}, "description": {s.Description}, "order": {strconv.Itoa(s.Order)}}
				if len(s.Questions) > 0 {
					p.Values.Set("questions", string(q))
				}
				if s.Active {
					p.Values.Set("active", "1")
				}
			}
		}
	}
	return p, nil
}

// limitText writes a limit as the form takes it back (5wd, 4wh, 30m, 15d).
func limitText(l sla.Limit) string {
	suffix := map[sla.Unit]string{sla.Minutes: "m", sla.WorkHours: "wh", sla.WorkDays: "wd", sla.Days: "d"}[l.Unit]
	return strconv.Itoa(l.Amount) + suffix
}

func (c *Console) qiyeCatalog(w http.ResponseWriter, r *http.Request) error {
	p, err := c.catalogPageOf(r, &formState{})
	if err != nil {
		return err
	}
	c.render(w, r, http.StatusOK, "qiye.catalog", p)
	return nil
}

func (c *Console) qiyeSaveService(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	s := enterprise.Service{Code: strings.TrimSpace(f.Get("code")), Name: f.Get("name"), Color: enterprise.Color(f.Get("color")),
		Category: f.Get("category"), UnitID: f.Get("unit_id"), Description: f.Get("description"), Active: f.Get("active") != ""}
	s.Order, _ = strconv.Atoi(f.Get("order"))
	var bad apperr.Fields
	if l, err := sla.ParseLimit(f.Get("limit")); err != nil {
		bad.Add("limit", "时限格式应为数字加单位，如 5wd、4wh")
	} else {
		s.Limit = l
	}
	if q := strings.TrimSpace(f.Get("questions")); q != "" {
		if err := json.Unmarshal([]byte(q), &s.Questions); err != nil {
			bad.Add("questions", "问题须是JSON数组，如 [{\"code\":\"staff\",\"prompt\":\"职工人数\",\"type\":\"number\"}]")
		}
	}
	err := bad.Err()
	if err == nil {
		err = c.svc.PutService(r.Context(), actorOf(r), s)
	} else if verr := s.Validate(); verr != nil {
		err = mergeFields(err, verr)
	}
	if err == nil {
		http.Redirect(w, r, "/qiye/catalog?saved="+url.QueryEscape(s.Code), http.StatusSeeOther)
		return nil
	}
	if !apperr.Is(err, apperr.Invalid) {
		return err
	}
	p, perr := c.catalogPageOf(r, &formState{Values: f, Errors: fieldMap(err), Message: "请按提示修改后重新提交"})
	if perr != nil {
		return perr
	}
	c.render(w, r, http.StatusBadRequest, "qiye.catalog", p)
	return nil
}
