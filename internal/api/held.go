package api

import (
	"net/http"
	"strconv"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
)

// The holding queue (待甄别, issue 20): anonymous reports held under a
// flood, with no clock, outside the live queue (service/held.go).

// heldList lists the held reports in the caller's scope, newest first
// (?after=ID&limit=), with their total.
func (a *API) heldList(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit := 50
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return apperr.Field("limit", "条数应为1到500之间的整数")
		}
		limit = n
	}
	list, total, err := a.svc.HeldQueue(r.Context(), actorOf(r), q.Get("after"), limit)
	if err != nil {
		return err
	}
	out := map[string]any{"items": a.summaries(list), "total": total}
	if len(list) == limit {
		out["next"] = list[len(list)-1].ID
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// screenRequest releases or rejects held reports at once.
type screenRequest struct {
	Action cases.Action `json:"action"` // release or reject
	IDs    []string     `json:"ids"`
	Note   string       `json:"note,omitempty"` // reject: the reason
}

// screenHeld releases or rejects held reports, each through the state
// machine; the answer lists the cases done and why the others were not.
func (a *API) screenHeld(w http.ResponseWriter, r *http.Request) error {
	var in screenRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	out, err := a.svc.Screen(r.Context(), actorOf(r), in.IDs, cases.Command{Action: in.Action, Note: in.Note})
	if err != nil {
		return err
	}
	if out.Done == nil {
		out.Done = []string{}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
