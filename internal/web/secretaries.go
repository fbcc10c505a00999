package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/leaders"
	"zhizhi/internal/store"
)

// A leader's secretaries (秘书代录, issue 13): the administrator's page
// (/admin/secretaries) lists the assignments of the leaders in their
// region, assigns a command-center account to a leader and ends an
// assignment, each through the service (audited as kind secretary).

type secretariesView struct {
	Tabs        []struct{ ID, Label string }
	Items       []leaders.Secretary
	Leaders     []store.Account // leaders in the administrator's region
	Secretaries []store.Account // command-center accounts in it
	Values      url.Values
	Message     string
	Flash       string
}

func (v *secretariesView) title() string { return "系统管理 · 领导秘书" }

func (c *Console) secretariesPage(w http.ResponseWriter, r *http.Request) error {
	v := &secretariesView{Values: url.Values{}}
	switch {
	case r.URL.Query().Get("assigned") != "":
		v.Flash = "已安排秘书，秘书可代该领导记录现场办公"
	case r.URL.Query().Get("removed") != "":
		v.Flash = "已取消秘书安排"
	}
	return c.renderSecretaries(w, r, http.StatusOK, v)
}

func (c *Console) renderSecretaries(w http.ResponseWriter, r *http.Request, status int, v *secretariesView) error {
	actor := actorOf(r)
	v.Tabs = adminTabs
	items, err := c.svc.Secretaries(r.Context(), actor, "", "")
	if err != nil {
		return err
	}
	v.Items = items
	accounts, err := c.svc.Accounts(r.Context(), actor)
	if err != nil {
		return err
	}
	for _, a := range accounts {
		if !a.Active {
			continue
		}
		switch a.Role {
		case cases.RoleLeader:
			v.Leaders = append(v.Leaders, a)
		case cases.RoleCommander:
			v.Secretaries = append(v.Secretaries, a)
		}
	}
	c.render(w, r, status, "secretaries", v)
	return nil
}

// assignSecretary assigns the form's account to the form's leader.
func (c *Console) assignSecretary(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	_, err := c.svc.AssignSecretary(r.Context(), actorOf(r), f.Get("leader_id"), f.Get("secretary_id"))
	var e *apperr.Error
	if errors.As(err, &e) && (e.Kind == apperr.Invalid || e.Kind == apperr.Forbidden) {
		msg := e.Message
		if reasons := fieldErrors(err); len(reasons) > 0 {
			msg = strings.Join(reasons, "；")
		}
		return c.renderSecretaries(w, r, http.StatusBadRequest, &secretariesView{Values: f, Message: msg})
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/secretaries?assigned=1", http.StatusSeeOther)
	return nil
}

// removeSecretary ends an assignment.
func (c *Console) removeSecretary(w http.ResponseWriter, r *http.Request) error {
	if err := c.svc.RemoveSecretary(r.Context(), actorOf(r), r.PathValue("leader"), r.PathValue("secretary")); err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/secretaries?removed=1", http.StatusSeeOther)
	return nil
}
