package web

import (
	"net/http"
	"net/url"
	"slices"
	"time"

	"zhizhi/internal/cases"
)

// The residents' and enterprises' own pages. A signed-in resident (jumin)
// or enterprise (qiye) reports from /mine/report, through the same door as
// the anonymous /r (form token, counts per client address and per account,
// service.ReportOwn), with the same pin picker over the platform's own
// region outlines (/r/map/home, /r/map/shapes: public, without any case
// counts). Their case page (/cases/{id}) is the resident's view of the
// case: the public steps (no internal notes, no staff names, the phone
// masked), the rating once it is closed, and for an enterprise the
// enterprise whistle with its report-in board; every action posts to
// /cases/{id}/act like any other.

// owners are the roles of the own pages.
var owners = access{roles: []cases.Role{cases.RoleResident, cases.RoleEnterprise}}

// ownRole reports whether the actor sees cases as their reporter only.
func ownRole(a cases.Actor) bool { return slices.Contains(owners.roles, a.Role) }

// ownCaseView is a resident's or an enterprise's own case.
type ownCaseView struct {
	ID       string
	Case     *residentCase
	Whistles []cases.Whistle
	Forms    []*actionForm
	Flash    string
	Error    string
	Reported bool // just reported: the case's number to note
	Now      time.Time
}

func (v *ownCaseView) title() string { return "我的诉求 " + v.Case.Number }

func (c *Console) ownReportPage(w http.ResponseWriter, r *http.Request) error {
	ref, err := c.svc.FormToken(r.Context())
	if err != nil {
		return err
	}
	c.render(w, r, http.StatusOK, "resident", &residentView{Mode: "report", Own: true, Values: url.Values{}, Categories: c.publicCategories(), Ref: ref})
	return nil
}

func (c *Console) ownReport(w http.ResponseWriter, r *http.Request) error {
	return c.takeReport(w, r, true)
}

// ownCase renders a reporter's own case, with a form sent back when fail is
// set.
func (c *Console) ownCase(w http.ResponseWriter, r *http.Request, status int, id string, fail *failed, flash string) error {
	actor := actorOf(r)
	cs, steps, err := c.svc.Case(r.Context(), actor, id)
	if err != nil {
		return err
	}
	v := &ownCaseView{ID: cs.ID, Case: c.residentCaseOf(cs, steps), Flash: flash, Reported: r.URL.Query().Get("reported") != "", Now: c.svc.Now()}
	if actor.Role == cases.RoleEnterprise {
		v.Whistles = cs.Whistles
	}
	for _, a := range c.svc.Actions(&cs, actor) {
		f, err := c.formOf(r, &cs, a, nil)
		if err != nil {
			return err
		}
		if fail != nil && fail.Action == a {
			f.Values, f.Errors, f.Message, f.Open = fail.Values, fail.Errors, fail.Message, true
		}
		if a == cases.ActRate {
			f.Open = true
		}
		v.Forms = append(v.Forms, f)
	}
	if fail != nil && !slices.ContainsFunc(v.Forms, func(f *actionForm) bool { return f.Action == fail.Action }) {
		v.Error = fail.Message
		for _, e := range fail.Errors {
			v.Error += e + " "
		}
	}
	c.render(w, r, status, "owncase", v)
	return nil
}
