package api

import (
	"net/http"
	"strconv"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/leaders"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
)

// The leaders' work at the grassroots (issue 13, docs/leaders.md):
// pairings, on-site office visits, lists, key rectification projects,
// supervision and the visits' totals. Urging a case on a list is the case
// action urge (POST /api/v1/cases/{id}/actions).

// pairingInput is a pairing as an administrator records it.
type pairingInput struct {
	LeaderID   string             `json:"leader_id"`
	Kind       leaders.TargetKind `json:"kind"`
	Target     string             `json:"target"`
	TargetName string             `json:"target_name,omitempty"`
	Region     string             `json:"region,omitempty"`
	From       time.Time          `json:"from"`
	To         time.Time          `json:"to"`
	Note       string             `json:"note,omitempty"`
}

func (in pairingInput) pairing() leaders.Pairing {
	return leaders.Pairing{LeaderID: in.LeaderID, Kind: in.Kind, Target: in.Target, TargetName: in.TargetName,
		Region: in.Region, From: in.From, To: in.To, Note: in.Note}
}

func (a *API) listPairings(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var at time.Time
	if v := q.Get("at"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return apperr.Field("at", "时间格式应为 RFC 3339，如 2026-03-09T09:00:00+08:00")
		}
		at = t
	}
	list, err := a.svc.Pairings(r.Context(), actorOf(r), q.Get("leader"), at)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": nonNil(list)})
	return nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (a *API) createPairing(w http.ResponseWriter, r *http.Request) error {
	var in pairingInput
	if err := decode(r, &in); err != nil {
		return err
	}
	p, err := a.svc.PutPairing(r.Context(), actorOf(r), in.pairing())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, p)
	return nil
}

func (a *API) putPairing(w http.ResponseWriter, r *http.Request) error {
	var in pairingInput
	if err := decode(r, &in); err != nil {
		return err
	}
	p := in.pairing()
	p.ID = r.PathValue("id")
	p, err := a.svc.PutPairing(r.Context(), actorOf(r), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (a *API) deletePairing(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.DeletePairing(r.Context(), actorOf(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) leaderHome(w http.ResponseWriter, r *http.Request) error {
	h, err := a.svc.Home(r.Context(), actorOf(r))
	if err != nil {
		return err
	}
	h.Leader.Phone = ""
	writeJSON(w, http.StatusOK, h)
	return nil
}

// visitInput is an on-site office visit as recorded.
type visitInput struct {
	LeaderID  string            `json:"leader_id,omitempty"` // default: the signed-in leader
	Place     leaders.Place     `json:"place"`
	At        time.Time         `json:"at"`
	Attendees []string          `json:"attendees,omitempty"`
	Summary   string            `json:"summary,omitempty"`
	Problems  []leaders.Problem `json:"problems,omitempty"`
	ClientRef string            `json:"client_ref,omitempty"`
}

// visitAnswer is a visit with the cases its problems became.
type visitAnswer struct {
	Visit leaders.Visit `json:"visit"`
	Cases []summary     `json:"cases"`
}

func (a *API) recordVisit(w http.ResponseWriter, r *http.Request) error {
	var in visitInput
	if err := decode(r, &in); err != nil {
		return err
	}
	actor := actorOf(r)
	v, made, err := a.svc.RecordVisit(r.Context(), actor, leaders.Visit{LeaderID: in.LeaderID, Place: in.Place, At: in.At,
		Attendees: in.Attendees, Summary: in.Summary, Problems: in.Problems, ClientRef: in.ClientRef})
	if err != nil {
		return err
	}
	for i := range made {
		made[i] = cases.Redact(actor, made[i])
	}
	writeJSON(w, http.StatusCreated, visitAnswer{Visit: v, Cases: a.summaries(made)})
	return nil
}

// visitFilter reads ?leader=&street=&from=&to= (RFC 3339).
func visitFilter(r *http.Request) (store.VisitFilter, error) {
	q := r.URL.Query()
	f := store.VisitFilter{LeaderID: q.Get("leader"), StreetCode: q.Get("street")}
	if f.LeaderID == "me" {
		f.LeaderID = actorOf(r).AccountID
	}
	var fs apperr.Fields
	for _, k := range []string{"from", "to"} {
		if v := q.Get(k); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				fs.Add(k, "时间格式应为 RFC 3339，如 2026-03-09T09:00:00+08:00")
			}
			if k == "from" {
				f.From = t
			} else {
				f.To = t
			}
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			fs.Add("limit", "条数应为1到500之间的整数")
		}
		f.Limit = n
	}
	return f, fs.Err()
}

func (a *API) listVisits(w http.ResponseWriter, r *http.Request) error {
	f, err := visitFilter(r)
	if err != nil {
		return err
	}
	list, err := a.svc.Visits(r.Context(), actorOf(r), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": nonNil(list)})
	return nil
}

func (a *API) visitDetail(w http.ResponseWriter, r *http.Request) error {
	v, list, err := a.svc.Visit(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, visitAnswer{Visit: v, Cases: a.summaries(list)})
	return nil
}

// totalsAnswer is the visits' totals by one dimension, with their sum.
type totalsAnswer struct {
	By    store.TotalsBy     `json:"by"`
	Items []service.TotalRow `json:"items"`
	Sum   store.VisitTotal   `json:"sum"`
}

func (a *API) visitTotals(w http.ResponseWriter, r *http.Request) error {
	f, err := visitFilter(r)
	if err != nil {
		return err
	}
	by := store.TotalsBy(r.URL.Query().Get("by"))
	if by == "" {
		by = store.TotalsByLeader
	}
	rows, err := a.svc.Totals(r.Context(), actorOf(r), f, by)
	if err != nil {
		return err
	}
	out := totalsAnswer{By: by, Items: nonNil(rows), Sum: store.VisitTotal{Key: "all"}}
	for _, t := range rows {
		out.Sum.Visits += t.Visits
		out.Sum.Problems += t.Problems
		out.Sum.Solved += t.Solved
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) visitCases(w http.ResponseWriter, r *http.Request) error {
	f, err := visitFilter(r)
	if err != nil {
		return err
	}
	var solved *bool
	switch r.URL.Query().Get("solved") {
	case "":
	case "true":
		t := true
		solved = &t
	case "false":
		t := false
		solved = &t
	default:
		return apperr.Field("solved", "应为 true 或 false")
	}
	list, err := a.svc.TotalCases(r.Context(), actorOf(r), f, solved, f.Limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": a.summaries(list)})
	return nil
}

// listInput is a list as created.
type listInput struct {
	Name    string           `json:"name"`
	Kind    leaders.ListKind `json:"kind"`
	OwnerID string           `json:"owner_id,omitempty"` // default: the signed-in account
	Region  string           `json:"region,omitempty"`   // a region code; default the caller's region
	From    time.Time        `json:"from"`
	To      time.Time        `json:"to"`
	Topic   string           `json:"topic,omitempty"`
}

func (a *API) createList(w http.ResponseWriter, r *http.Request) error {
	var in listInput
	if err := decode(r, &in); err != nil {
		return err
	}
	l, err := a.svc.CreateList(r.Context(), actorOf(r), leaders.List{Name: in.Name, Kind: in.Kind, OwnerID: in.OwnerID,
		From: in.From, To: in.To, Topic: in.Topic}, in.Region)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, l)
	return nil
}

func (a *API) listLists(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	kind := leaders.ListKind(q.Get("kind"))
	if kind != "" && !kind.Valid() {
		return apperr.Field("kind", "清单类型应为 leader、project、monthly 或 street")
	}
	owner := q.Get("owner")
	if owner == "me" {
		owner = actorOf(r).AccountID
	}
	list, err := a.svc.Lists(r.Context(), actorOf(r), store.ListFilter{Kind: kind, OwnerID: owner})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": nonNil(list)})
	return nil
}

func (a *API) listBoard(w http.ResponseWriter, r *http.Request) error {
	b, err := a.svc.ListBoard(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, b)
	return nil
}

// itemInput names a case or a project to put on a list.
type itemInput struct {
	Kind  leaders.ItemKind `json:"kind"`
	RefID string           `json:"ref_id"`
}

func (a *API) addItem(w http.ResponseWriter, r *http.Request) error {
	var in itemInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.RefID == "" {
		return apperr.Field("ref_id", "请指定案件或项目")
	}
	actor := actorOf(r)
	if err := a.svc.AddItem(r.Context(), actor, r.PathValue("id"), in.Kind, in.RefID); err != nil {
		return err
	}
	b, err := a.svc.ListBoard(r.Context(), actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, b)
	return nil
}

func (a *API) createProject(w http.ResponseWriter, r *http.Request) error {
	var in service.ProjectInput
	if err := decode(r, &in); err != nil {
		return err
	}
	p, err := a.svc.CreateProject(r.Context(), actorOf(r), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, p)
	return nil
}

func (a *API) listProjects(w http.ResponseWriter, r *http.Request) error {
	list, err := a.svc.Projects(r.Context(), actorOf(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": nonNil(list)})
	return nil
}

func (a *API) projectDetail(w http.ResponseWriter, r *http.Request) error {
	v, err := a.svc.Project(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	if v.Case != nil {
		c := a.svc.WithPhotoURLs(*v.Case)
		v.Case = &c
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (a *API) projectAct(w http.ResponseWriter, r *http.Request) error {
	var in service.ProjectStep
	if err := decode(r, &in); err != nil {
		return err
	}
	p, err := a.svc.ProjectAct(r.Context(), actorOf(r), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// supervisionAnswer is a supervision with the case it presses.
type supervisionAnswer struct {
	Supervision leaders.Supervision `json:"supervision"`
	Case        summary             `json:"case"`
}

func (a *API) supervise(w http.ResponseWriter, r *http.Request) error {
	var in service.SuperviseInput
	if err := decode(r, &in); err != nil {
		return err
	}
	actor := actorOf(r)
	sv, c, err := a.svc.Supervise(r.Context(), actor, r.PathValue("id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, supervisionAnswer{Supervision: sv, Case: summarize(a.svc.WithPhotoURLs(cases.Redact(actor, c)), a.svc.Now())})
	return nil
}

func (a *API) listSupervisions(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	sup := q.Get("supervisor")
	if sup == "" && q.Get("case") == "" {
		sup = "me"
	}
	list, err := a.svc.Supervisions(r.Context(), actorOf(r), sup, q.Get("case"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": nonNil(list)})
	return nil
}

// keyProjectAnswer is the project a case became, with the case escalated.
type keyProjectAnswer struct {
	Project leaders.Project `json:"project"`
	Case    summary         `json:"case"`
}

func (a *API) keyProject(w http.ResponseWriter, r *http.Request) error {
	var in service.EscalateInput
	if err := decode(r, &in); err != nil {
		return err
	}
	actor := actorOf(r)
	p, c, err := a.svc.EscalateToProject(r.Context(), actor, r.PathValue("id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, keyProjectAnswer{Project: p, Case: summarize(a.svc.WithPhotoURLs(cases.Redact(actor, c)), a.svc.Now())})
	return nil
}
