package web

import (
	"net/http"
	"strconv"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/enterprise"
	"zhizhi/internal/service"
)

// A request's page, for its three levels (the enterprise, its liaison, its
// street leader) and the commanders above: the case's timeline and the
// follow-up's notes, and the forms the reader's level may use.

type requestPage struct {
	formState
	View       service.RequestView
	Stage      string
	Pending    []enterprise.Note
	Asker      bool // the reader asked it (rates, whistles)
	CanRate    bool
	CanWhistle bool
	Services   []enterprise.Service // classify
	Units      []cases.Unit         // whistle: departments
	Notice     string
	ContactSt  string // the contact clock's status now
}

func (v *requestPage) title() string { return "企业诉求 " + v.View.Request.CaseNumber }

// IsLevel says whether the reader follows at level l.
func (v *requestPage) IsLevel(l string) bool { return string(v.View.Level) == l }

func (c *Console) requestPageOf(r *http.Request, f *formState) (*requestPage, error) {
	actor := actorOf(r)
	v, err := c.svc.Request(r.Context(), actor, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	p := &requestPage{formState: *f, View: v, Stage: v.Request.Stage(v.Case.State), Pending: v.Request.Pending()}
	p.ContactSt = string(v.Request.Contact.Status(c.svc.Now()))
	p.Asker = v.Level == enterprise.LevelEnterprise && v.Request.AccountID == actor.AccountID
	p.CanRate = p.Asker && v.Case.State == cases.Closed && v.Case.Rating == ""
	switch v.Case.State {
	case cases.Accepted, cases.Dispatched, cases.Handling, cases.FedBack:
		p.CanWhistle = p.Asker
	}
	if v.Level == enterprise.LevelLiaison && v.Request.Service == "" {
		p.Services, _ = c.svc.Catalog(r.Context(), false)
	}
	if p.CanWhistle {
		for _, u := range c.svc.Units() {
			if u.Kind == cases.UnitDepartment && u.Active {
				p.Units = append(p.Units, u)
			}
		}
	}
	switch r.URL.Query().Get("done") {
	case "contact":
		p.Notice = "已登记联系企业"
	case "ask":
		p.Notice = "问题已发给企业"
	case "reply":
		p.Notice = "已答复"
	case "classify":
		p.Notice = "已归类"
	case "rate":
		p.Notice = "感谢评价"
	case "whistle":
		p.Notice = "已吹哨，相关部门须按时报到"
	}
	if r.URL.Query().Get("asked") != "" {
		p.Notice = "诉求已提交，联络员将尽快与您联系"
	}
	return p, nil
}

func (c *Console) qiyeRequest(w http.ResponseWriter, r *http.Request) error {
	p, err := c.requestPageOf(r, &formState{})
	if err != nil {
		return err
	}
	c.render(w, r, http.StatusOK, "qiye.request", p)
	return nil
}

func (c *Console) qiyeFollow(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	in := service.FollowIn{Action: f.Get("action"), Text: f.Get("text"), Service: f.Get("service"),
		Rating: cases.Rating(f.Get("rating")), Units: f["units"]}
	in.Question, _ = strconv.Atoi(f.Get("question"))
	id := r.PathValue("id")
	_, err := c.svc.Follow(r.Context(), actorOf(r), id, in)
	if err == nil {
		http.Redirect(w, r, "/qiye/requests/"+id+"?done="+in.Action, http.StatusSeeOther)
		return nil
	}
	k := apperr.KindOf(err)
	if k != apperr.Invalid && k != apperr.Refused && k != apperr.Conflict {
		return err
	}
	p, perr := c.requestPageOf(r, &formState{Values: f, Errors: fieldMap(err), Message: messageOf(err)})
	if perr != nil {
		return perr
	}
	c.render(w, r, apperr.Status(err), "qiye.request", p)
	return nil
}
