package api

import (
	"net/http"
	"strconv"

	"zhizhi/internal/evaluation"
)

// evaluation ranks the grids, communities, streets or units under a region
// for a period, from the rollups (?kind=&period=&under=&top=).
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
	out, err := a.svc.Evaluate(r.Context(), actorOf(r), evaluation.SubjectKind(kind), q.Get("period"), q.Get("under"), top)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
