package web

import (
	"net/http"

	"zhizhi/internal/cases"
	"zhizhi/internal/service"
)

// The leader's home (/leader, issue 13): it starts from the leader's
// pairings (包联), each with its open, overdue and whistled cases, then the
// leader's lists, the cases they supervise with the progress reported back,
// and their latest on-site office visits.

// leaderOnly opens the leader's home.
var leaderOnly = access{roles: []cases.Role{cases.RoleLeader}}

// steerers open lists, visits and totals: leaders, commanders and
// administrators (each sees their region's).
var steerers = access{roles: []cases.Role{cases.RoleLeader, cases.RoleCommander, cases.RoleAdmin}}

// listSteerers urge and supervise from a list; visitRecorders record
// visits (the leader, or a secretary with the commander role).
var (
	listSteerers   = access{roles: []cases.Role{cases.RoleLeader, cases.RoleCommander}}
	visitRecorders = access{roles: []cases.Role{cases.RoleLeader, cases.RoleCommander}}
)

type leaderHomeView struct {
	service.LeaderHome
}

func (v *leaderHomeView) title() string { return "包联首页" }

func (c *Console) leaderHome(w http.ResponseWriter, r *http.Request) error {
	h, err := c.svc.Home(r.Context(), actorOf(r))
	if err != nil {
		return err
	}
	c.render(w, r, http.StatusOK, "leader", &leaderHomeView{h})
	return nil
}
