package api

import (
	"net/http"
	"strconv"

	"zhizhi/internal/evaluation"
	"zhizhi/internal/service"
)

// evaluation ranks the grids, communities, streets or units under a region
// for a period, from the rollups (?kind=&period=&under=&top=&by=&offset=&limit=);
// by names an indicator to rank by instead of the composite score (the same
// tie-break); offset and limit page the places (after top); total and
// ranked count every subject scored and placed.
func (a *API) evaluation(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	kind := q.Get("kind")
	if kind == "" {
		kind = string(evaluation.Grid)
	}
	count := func(name string) int {
		v := q.Get(name)
		if v == "" {
			return 0
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return -1 // refused by the service, with the other fields
		}
		return n
	}
	out, err := a.svc.Rank(r.Context(), actorOf(r), service.RankingQuery{Kind: evaluation.SubjectKind(kind),
		Period: q.Get("period"), Under: q.Get("under"), By: q.Get("by"),
		Top: count("top"), Offset: count("offset"), Limit: count("limit")})
	if err != nil {
		return err
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
