package web

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/leaders"
	"zhizhi/internal/service"
)

// The project page (/projects/{id}, issue 13): a key rectification
// project (重点整治整改项目) with its goal, lead and co-units, its
// milestones as a timeline (each with its clock on the official calendar
// and its evidence), the meetings of the case it grew from, and the forms
// to meet the next milestone (the lead unit, leaders, commanders) and to
// verify and close it (leaders, commanders). Who may do what is the
// service's rule; the page only shows the forms.

type projectView struct {
	service.ProjectView
	Now       time.Time
	Flash     string
	CanMeet   bool
	CanVerify bool
}

func (v *projectView) title() string { return v.Project.Name }

func (c *Console) projectPage(w http.ResponseWriter, r *http.Request) error {
	actor := actorOf(r)
	pv, err := c.svc.Project(r.Context(), actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	p := pv.Project
	steers := leaders.Steers(actor, p.RegionPath)
	v := &projectView{ProjectView: pv, Now: c.svc.Now(),
		CanMeet:   p.State == leaders.ProjectOpen && (steers || actor.HandlesTasks() && actor.UnitID == p.LeadUnit),
		CanVerify: p.State == leaders.ProjectOpen && steers && p.Next() == nil}
	switch r.URL.Query().Get("done") {
	case "meet":
		v.Flash = "已记录节点完成"
	case "verify":
		v.Flash = "项目已验收销号"
	}
	c.render(w, r, http.StatusOK, "project", v)
	return nil
}

// projectAct meets a milestone or verifies the project.
func (c *Console) projectAct(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	in := service.ProjectStep{Action: r.PostForm.Get("action"), Evidence: r.PostForm.Get("evidence"), Verdict: r.PostForm.Get("verdict")}
	in.Seq, _ = strconv.Atoi(r.PostForm.Get("seq"))
	in.Version, _ = strconv.Atoi(r.PostForm.Get("version"))
	for _, h := range r.PostForm["photo"] {
		in.Photos = append(in.Photos, cases.Photo{Hash: h})
	}
	if _, err := c.svc.ProjectAct(r.Context(), actorOf(r), id, in); err != nil {
		return err
	}
	http.Redirect(w, r, "/projects/"+url.PathEscape(id)+"?done="+url.QueryEscape(in.Action), http.StatusSeeOther)
	return nil
}
