package api

import (
	"net/http"
	"strconv"

	"zhizhi/internal/evaluation"
	"zhizhi/internal/service"
)

// evaluation ranks the grids, communities, streets or units under a region
// for a period, from the rollups (?kind=&period=&under=&top=&by=); by names
// an indicator to rank by instead of the composite score
// (evaluation.RankBy, the same tie-break).
func (a *API) evaluation(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	kind := q.Get("kind")
	if kind == "" {
		kind = string(evaluation.Grid)
	}
	top := 0
	if v := q.Get("top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			n = -1 // refused by the service, with the other fields
		}
		top = n
	}
	by := q.Get("by")
	n := top
	if by != "" && top > 0 {
		n = 0 // every subject, ranked again below
	}
	out, err := a.svc.Evaluate(r.Context(), actorOf(r), evaluation.SubjectKind(kind), q.Get("period"), q.Get("under"), n)
	if err != nil {
		return err
	}
	if by != "" {
		scores := make([]evaluation.Score, len(out.Items))
		links := make(map[string]service.RankedItem, len(out.Items))
		for i, it := range out.Items {
			scores[i] = it.Score
			links[it.Subject] = it
		}
		ranked, err := evaluation.RankBy(scores, evaluation.SubjectKind(kind), by, out.MinWork)
		if err != nil {
			return err
		}
		if top > 0 {
			ranked = evaluation.Top(ranked, top)
		}
		out.Items = out.Items[:0]
		for _, rk := range ranked {
			it := links[rk.Subject]
			it.Rank = rk.Rank
			out.Items = append(out.Items, it)
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// evaluationRules is the rule book: every version of the evaluation's
// rules, the version in force now, and the indicators weights may name.
func (a *API) evaluationRules(w http.ResponseWriter, r *http.Request) error {
	out, err := a.svc.Rules(r.Context(), actorOf(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// addEvaluationRules adds a new version of the rules, in force from its
// effective_from (administrators of a district or above).
func (a *API) addEvaluationRules(w http.ResponseWriter, r *http.Request) error {
	var in evaluation.Rules
	if err := decode(r, &in); err != nil {
		return err
	}
	out, err := a.svc.AddRules(r.Context(), actorOf(r), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}
