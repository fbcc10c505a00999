package api

import (
	"net/http"
	"strconv"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
)

// appeals serves the review queue of overdue appeals (超时申诉). The appeal,
// its review and its decision are case actions (appeal, appeal_review,
// appeal_decide) on POST /api/v1/cases/{id}/actions.
func (a *API) appeals(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var f apperr.Fields
	limit := 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			f.Add("limit", "条数应为1到200之间的整数")
		}
		limit = n
	}
	var before time.Time
	if v := q.Get("before"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			f.Add("before", "时间格式应为 RFC 3339，如 2026-03-09T09:00:00+08:00")
		}
		before = t
	}
	state := cases.AppealState(q.Get("state"))
	if state != "" && !state.Valid() {
		f.Add("state", "申诉状态无效，应为 pending_review、pending_approval、approved 或 refused")
	}
	if err := f.Err(); err != nil {
		return err
	}
	out, err := a.svc.Appeals(r.Context(), actorOf(r), state, before, limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
