package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/enterprise"
	"zhizhi/internal/service"
)

// Policy classes in buildings (楼宇课堂): the list (an enterprise's
// invitations, an organizer's street's) with the form to schedule one, and
// a class's page with the phone sign-in, the questions raised (an
// enterprise's own can become a request on the one form) and, for the
// organizer, who signed in.

type classesPage struct {
	formState
	Classes     []enterprise.Class
	Organizer   bool
	Enterprises []enterprise.Enterprise
	Now         time.Time
}

func (v *classesPage) title() string { return "楼宇课堂" }

func (c *Console) classesPageOf(r *http.Request, f *formState) (*classesPage, error) {
	actor := actorOf(r)
	list, err := c.svc.Classes(r.Context(), actor)
	if err != nil {
		return nil, err
	}
	p := &classesPage{formState: *f, Classes: list, Organizer: actor.Role != cases.RoleEnterprise, Now: c.svc.Now()}
	if p.Organizer {
		all, err := c.svc.Enterprises(r.Context(), actor)
		if err != nil && !apperr.Is(err, apperr.Forbidden) {
			return nil, err
		}
		p.Enterprises = all
	}
	if p.Values == nil {
		p.Values = url.Values{"minutes": {"90"}}
	}
	return p, nil
}

func (c *Console) qiyeClasses(w http.ResponseWriter, r *http.Request) error {
	p, err := c.classesPageOf(r, &formState{})
	if err != nil {
		return err
	}
	c.render(w, r, http.StatusOK, "qiye.classes", p)
	return nil
}

// lines splits a textarea into its non-empty lines.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func (c *Console) qiyeNewClass(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	cl := enterprise.Class{Topic: f.Get("topic"), Building: f.Get("building"), Place: f.Get("place"),
		Speakers: lines(f.Get("speakers")), Materials: lines(f.Get("materials")), Invited: f["invited"]}
	cl.Minutes, _ = strconv.Atoi(f.Get("minutes"))
	var bad apperr.Fields
	if s := f.Get("at"); s != "" {
		t, err := time.ParseInLocation("2006-01-02T15:04", s, c.svc.Calendar().Location())
		if err != nil {
			bad.Add("at", "时间格式不正确")
		}
		cl.At = t
	}
	err := bad.Err()
	if err == nil {
		var saved enterprise.Class
		saved, err = c.svc.PutClass(r.Context(), actorOf(r), cl)
		if err == nil {
			http.Redirect(w, r, "/qiye/classes/"+saved.ID, http.StatusSeeOther)
			return nil
		}
	} else if verr := cl.Validate(); verr != nil {
		err = mergeFields(err, verr)
	}
	if !apperr.Is(err, apperr.Invalid) {
		return err
	}
	p, perr := c.classesPageOf(r, &formState{Values: f, Errors: fieldMap(err), Message: "请按提示修改后重新提交"})
	if perr != nil {
		return perr
	}
	c.render(w, r, http.StatusBadRequest, "qiye.classes", p)
	return nil
}

type classPage struct {
	formState
	View       service.ClassView
	Enterprise bool
	SignedIn   bool
	SignInNote string // why sign-in is closed, or ""
	Notice     string
	Invited    []string // names
}

func (v *classPage) title() string { return "楼宇课堂：" + v.View.Class.Topic }

func (c *Console) classPageOf(r *http.Request, f *formState) (*classPage, error) {
	v, err := c.svc.Class(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	p := &classPage{formState: *f, View: v, Enterprise: v.Mine != ""}
	for _, a := range v.Attendance {
		p.SignedIn = p.SignedIn || a.EnterpriseID == v.Mine
	}
	if p.Enterprise {
		p.SignInNote = v.Class.CanSignIn(v.Mine, c.svc.Now())
	} else {
		for _, id := range v.Class.Invited {
			if e, err := c.svc.DB().Enterprise(r.Context(), id); err == nil {
				p.Invited = append(p.Invited, e.Name)
			}
		}
	}
	switch r.URL.Query().Get("done") {
	case "signin":
		p.Notice = "签到成功"
	case "question":
		p.Notice = "问题已提交，可转为诉求由联络员跟进"
	}
	return p, nil
}

func (c *Console) qiyeClass(w http.ResponseWriter, r *http.Request) error {
	p, err := c.classPageOf(r, &formState{})
	if err != nil {
		return err
	}
	c.render(w, r, http.StatusOK, "qiye.class", p)
	return nil
}

func (c *Console) qiyeSignIn(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	err := c.svc.SignInClass(r.Context(), actorOf(r), id)
	return c.afterClassAction(w, r, err, "signin")
}

func (c *Console) qiyeRaise(w http.ResponseWriter, r *http.Request) error {
	_, err := c.svc.RaiseQuestion(r.Context(), actorOf(r), r.PathValue("id"), r.PostForm.Get("text"))
	return c.afterClassAction(w, r, err, "question")
}

func (c *Console) afterClassAction(w http.ResponseWriter, r *http.Request, err error, done string) error {
	if err == nil {
		http.Redirect(w, r, "/qiye/classes/"+r.PathValue("id")+"?done="+done, http.StatusSeeOther)
		return nil
	}
	k := apperr.KindOf(err)
	if k != apperr.Invalid && k != apperr.Refused && k != apperr.Conflict {
		return err
	}
	p, perr := c.classPageOf(r, &formState{Values: r.PostForm, Errors: fieldMap(err), Message: messageOf(err)})
	if perr != nil {
		return perr
	}
	c.render(w, r, apperr.Status(err), "qiye.class", p)
	return nil
}
