package web

import (
	"net/http"
	"time"

	"zhizhi/internal/cases"
	"zhizhi/internal/service"
)

// The review queue of overdue appeals (超时申诉, /appeals): for center and
// district commanders and leaders, one tab per appeal state, each appeal
// linked to its case page, where the review (审核) or decision (审批) form
// is shown to those who may take it.

type appealsView struct {
	State cases.AppealState
	Tabs  []appealTab
	Items []service.AppealItem
}

type appealTab struct {
	State cases.AppealState
	Label string
	Count int
}

func (v *appealsView) title() string { return "超时申诉审核" }

// appealers may open the queue: center and district commanders, leaders and
// administrators (each sees the appeals of their region).
var appealers = access{roles: []cases.Role{cases.RoleCommander, cases.RoleLeader, cases.RoleAdmin}}

func (c *Console) appeals(w http.ResponseWriter, r *http.Request) error {
	actor := actorOf(r)
	state := cases.AppealState(r.URL.Query().Get("state"))
	if state == "" {
		state = cases.AppealPendingReview
		if actor.Role == cases.RoleLeader || (actor.Role == cases.RoleCommander && districtOrAbove(actor.RegionPath)) {
			state = cases.AppealPendingApproval // the district's stage
		}
	}
	q, err := c.svc.Appeals(r.Context(), actor, state, time.Time{}, 0)
	if err != nil {
		return err
	}
	v := &appealsView{State: state, Items: q.Items}
	for _, st := range cases.AppealStates {
		v.Tabs = append(v.Tabs, appealTab{State: st, Label: st.Label(), Count: q.Counts[st]})
	}
	c.render(w, r, http.StatusOK, "appeals", v)
	return nil
}

// districtOrAbove reports whether a region path is a district's or the
// city's: /city/ or /city/district/.
func districtOrAbove(path string) bool {
	n := 0
	for _, ch := range path {
		if ch == '/' {
			n++
		}
	}
	return n >= 2 && n <= 3
}
