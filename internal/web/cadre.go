package web

import (
	"net/http"

	"zhizhi/internal/service"
)

// A cadre's record page (/cadres/{id}, issue 13): the training sessions
// attended with their courses and class hours, and the practical postings
// (多岗位历练). The cadre reads their own (/cadres/me); leaders, commanders
// and administrators read those of their region (service.Record).

type cadreView struct {
	service.CadreRecord
}

func (v *cadreView) title() string { return v.Name + " · 干部档案" }

func (c *Console) cadrePage(w http.ResponseWriter, r *http.Request) error {
	rec, err := c.svc.Record(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	c.render(w, r, http.StatusOK, "cadre", &cadreView{rec})
	return nil
}
