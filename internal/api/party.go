package api

import (
	"net/http"

	"zhizhi/internal/apperr"
	"zhizhi/internal/gridwork"
)

// The party-building board's people in the grid (双报到, docs/gridwork.md).

func (a *API) party(w http.ResponseWriter, r *http.Request) error {
	v, err := a.svc.Party(r.Context(), actorOf(r), r.PathValue("code"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (a *API) putPartyMember(w http.ResponseWriter, r *http.Request) error {
	var in gridwork.PartyMember
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Community != "" && in.Community != r.PathValue("code") {
		return apperr.Field("community", "与地址中的社区不一致")
	}
	in.Community = r.PathValue("code")
	m, err := a.svc.PutPartyMember(r.Context(), actorOf(r), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

func (a *API) putVolunteerGroup(w http.ResponseWriter, r *http.Request) error {
	var in gridwork.VolunteerGroup
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Community != "" && in.Community != r.PathValue("code") {
		return apperr.Field("community", "与地址中的社区不一致")
	}
	in.Community = r.PathValue("code")
	g, err := a.svc.PutVolunteerGroup(r.Context(), actorOf(r), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, g)
	return nil
}

// hoursBody is POST /service-hours' body.
type hoursBody struct {
	MemberID string `json:"member_id"`
	Activity string `json:"activity"`
	On       string `json:"on"`
	Minutes  int    `json:"minutes"`
	CaseID   string `json:"case_id"`
}

func (a *API) recordServiceHours(w http.ResponseWriter, r *http.Request) error {
	var in hoursBody
	if err := decode(r, &in); err != nil {
		return err
	}
	h, err := a.svc.RecordServiceHours(r.Context(), actorOf(r), gridwork.ServiceHours{MemberID: in.MemberID, Activity: in.Activity, On: in.On, Minutes: in.Minutes, CaseID: in.CaseID})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, h)
	return nil
}

func (a *API) serviceHours(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	for _, k := range []string{"from", "to"} {
		if v := q.Get(k); v != "" {
			if _, ok := gridwork.ParseDay(v); !ok {
				return apperr.Field(k, "日期应为YYYY-MM-DD")
			}
		}
	}
	list, err := a.svc.ServiceHoursOf(r.Context(), actorOf(r), r.PathValue("code"), q.Get("from"), q.Get("to"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": list})
	return nil
}

// volunteersBody is POST /cases/{id}/volunteers' body.
type volunteersBody struct {
	GroupID string `json:"group_id"`
	Note    string `json:"note"`
}

func (a *API) giveToVolunteers(w http.ResponseWriter, r *http.Request) error {
	var in volunteersBody
	if err := decode(r, &in); err != nil {
		return err
	}
	res, err := a.svc.GiveToVolunteers(r.Context(), actorOf(r), r.PathValue("id"), in.GroupID, in.Note)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (a *API) partyFigures(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f, err := a.svc.PartyFigures(r.Context(), actorOf(r), q.Get("under"), q.Get("period"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, f)
	return nil
}
