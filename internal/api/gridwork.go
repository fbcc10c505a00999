package api

import (
	"io"
	"net/http"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/evaluation"
	"zhizhi/internal/gridwork"
	"zhizhi/internal/service"
)

// The grid worker's day (issue 15, docs/gridwork.md): grids, the day's
// plan, patrols, household visits, the roster, team, plan and figures.
// Scope is the service's: a grid worker their grid, a grid chief and the
// community their community's grids, centers and leaders below them read
// only; a unit's staff nothing. People are always masked; one person's
// name and phone come only from /people/{id}, and each read is recorded.

func (a *API) myGrids(w http.ResponseWriter, r *http.Request) error {
	list, err := a.svc.GridsOf(r.Context(), actorOf(r))
	if err != nil {
		return err
	}
	if list == nil {
		list = []service.GridRef{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": list})
	return nil
}

func (a *API) gridToday(w http.ResponseWriter, r *http.Request) error {
	days, err := a.svc.Today(r.Context(), actorOf(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": days})
	return nil
}

func (a *API) uploadPatrol(w http.ResponseWriter, r *http.Request) error {
	var in gridwork.PatrolUpload
	if err := decode(r, &in); err != nil {
		return err
	}
	res, err := a.svc.UploadPatrol(r.Context(), actorOf(r), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/patrols/"+res.Patrol.ID)
	writeJSON(w, http.StatusCreated, res)
	return nil
}

// period reads ?period= (a day, week, month…; default the last 30 days).
func (a *API) period(r *http.Request) (time.Time, time.Time, error) {
	s := r.URL.Query().Get("period")
	if s == "" {
		now := a.svc.Now()
		return now.AddDate(0, 0, -30), now.Add(time.Minute), nil
	}
	p, err := evaluation.ParsePeriod(s, a.svc.Calendar().Location())
	return p.Start, p.End, err
}

func (a *API) gridPatrols(w http.ResponseWriter, r *http.Request) error {
	from, to, err := a.period(r)
	if err != nil {
		return err
	}
	list, err := a.svc.Patrols(r.Context(), actorOf(r), r.PathValue("code"), from, to)
	if err != nil {
		return err
	}
	if list == nil {
		list = []gridwork.Patrol{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": list})
	return nil
}

// patrolDetail is a patrol with its track decoded.
type patrolDetail struct {
	Patrol gridwork.Patrol `json:"patrol"`
	Fixes  []gridwork.Fix  `json:"fixes"`
}

func (a *API) patrol(w http.ResponseWriter, r *http.Request) error {
	p, fixes, err := a.svc.Patrol(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	if fixes == nil {
		fixes = []gridwork.Fix{}
	}
	writeJSON(w, http.StatusOK, patrolDetail{Patrol: p, Fixes: fixes})
	return nil
}

func (a *API) recordHouseholdVisit(w http.ResponseWriter, r *http.Request) error {
	var in gridwork.VisitInput
	if err := decode(r, &in); err != nil {
		return err
	}
	res, err := a.svc.RecordHouseholdVisit(r.Context(), actorOf(r), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, res)
	return nil
}

func (a *API) gridVisits(w http.ResponseWriter, r *http.Request) error {
	from, to, err := a.period(r)
	if err != nil {
		return err
	}
	list, err := a.svc.GridVisits(r.Context(), actorOf(r), r.PathValue("code"), from, to)
	if err != nil {
		return err
	}
	if list == nil {
		list = []gridwork.Visit{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": list})
	return nil
}

func (a *API) roster(w http.ResponseWriter, r *http.Request) error {
	ros, err := a.svc.Roster(r.Context(), actorOf(r), r.PathValue("code"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ros)
	return nil
}

func (a *API) putPlace(w http.ResponseWriter, r *http.Request) error {
	var in gridwork.Place
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.GridCode != "" && in.GridCode != r.PathValue("code") {
		return apperr.Field("grid_code", "与地址中的网格不一致")
	}
	in.GridCode = r.PathValue("code")
	p, err := a.svc.PutPlace(r.Context(), actorOf(r), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (a *API) putPerson(w http.ResponseWriter, r *http.Request) error {
	var in gridwork.Person
	if err := decode(r, &in); err != nil {
		return err
	}
	p, err := a.svc.PutPerson(r.Context(), actorOf(r), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (a *API) revealPerson(w http.ResponseWriter, r *http.Request) error {
	p, err := a.svc.RevealPerson(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (a *API) importRoster(w http.ResponseWriter, r *http.Request) error {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return bodyError(err)
	}
	res, err := a.svc.ImportRoster(r.Context(), actorOf(r), r.PathValue("code"), data)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (a *API) team(w http.ResponseWriter, r *http.Request) error {
	t, err := a.svc.Team(r.Context(), actorOf(r), r.PathValue("code"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

// teamBody is PUT /grids/{code}/team's body.
type teamBody struct {
	Members []gridwork.TeamMember `json:"members"`
}

func (a *API) putTeam(w http.ResponseWriter, r *http.Request) error {
	var in teamBody
	if err := decode(r, &in); err != nil {
		return err
	}
	t, err := a.svc.SetTeam(r.Context(), actorOf(r), r.PathValue("code"), in.Members)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

func (a *API) putPlan(w http.ResponseWriter, r *http.Request) error {
	var in gridwork.Plan
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.GridCode != "" && in.GridCode != r.PathValue("code") {
		return apperr.Field("grid_code", "与地址中的网格不一致")
	}
	in.GridCode = r.PathValue("code")
	p, err := a.svc.SetPlan(r.Context(), actorOf(r), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (a *API) gridFigures(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	period := q.Get("period")
	if period == "" {
		period = a.svc.Now().In(a.svc.Calendar().Location()).Format("2006-01")
	}
	f, err := a.svc.GridFigures(r.Context(), actorOf(r), q.Get("under"), period)
	if err != nil {
		return err
	}
	if f.Figures == nil {
		f.Figures = []gridwork.Figure{}
	}
	writeJSON(w, http.StatusOK, f)
	return nil
}

func (a *API) gridMessages(w http.ResponseWriter, r *http.Request) error {
	from, _, err := a.period(r)
	if err != nil {
		return err
	}
	list, err := a.svc.GridMessages(r.Context(), actorOf(r), r.PathValue("code"), from)
	if err != nil {
		return err
	}
	if list == nil {
		list = []gridwork.Message{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": list})
	return nil
}

func (a *API) actOnMessage(w http.ResponseWriter, r *http.Request) error {
	var in service.MessageAction
	if err := decode(r, &in); err != nil {
		return err
	}
	m, err := a.svc.ActOnMessage(r.Context(), actorOf(r), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}
