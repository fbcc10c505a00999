package web

import (
	"net/http"
	"net/url"
	"strings"

	"zhizhi/internal/evaluation"
	"zhizhi/internal/store"
)

// figureCasesPage is how many cases one page of a figure's drill-down shows.
const figureCasesPage = 100

// figureFilter reads a figure's drill-down (service.DrillQuery:
// fact=kind:subject:measure&period=key) into a case filter, with what the
// list is in words.
func (c *Console) figureFilter(r *http.Request) (store.CaseFilter, url.Values, string, error) {
	q := r.URL.Query()
	drill := url.Values{"fact": {q.Get("fact")}, "period": {q.Get("period")}}
	var cf store.CaseFilter
	if err := c.svc.Drill(&cf, q.Get("fact"), q.Get("period")); err != nil {
		return cf, drill, "", err
	}
	f := cf.Fact
	name := f.Subject
	switch f.Kind {
	case evaluation.Unit:
		if u, ok := c.svc.Unit(f.Subject); ok {
			name = u.Name
		}
	case evaluation.Grid, evaluation.Community, evaluation.Street, evaluation.District, evaluation.City:
		name = c.svc.RegionName(f.Subject)
	}
	p, _ := evaluation.ParsePeriod(q.Get("period"), c.svc.Calendar().Location())
	label := strings.Join([]string{p.Label, f.Kind.Label() + " " + name, evaluation.MeasureLabel(f.Measure)}, " · ")
	return cf, drill, label, nil
}

// figureCases lists the cases behind one figure of the evaluation: counting
// the list gives the figure's numerator or denominator.
func (c *Console) figureCases(w http.ResponseWriter, r *http.Request) error {
	cf, drill, label, err := c.figureFilter(r)
	if err != nil {
		return err
	}
	v := &dashCasesView{Label: label, Back: "/evaluation", BackLabel: "返回考核排名"}
	last, err := c.listPage(r, v, cf, figureCasesPage)
	if err != nil {
		return err
	}
	if last != "" {
		next := url.Values{"fact": drill["fact"], "period": drill["period"], "after": {last}}
		v.Next = "/cases?" + next.Encode()
	}
	v.Export = "/cases/export?" + drill.Encode()
	c.render(w, r, http.StatusOK, "dashboard.cases", v)
	return nil
}

// figureCasesExport writes every case behind a figure as CSV or Excel.
func (c *Console) figureCasesExport(w http.ResponseWriter, r *http.Request) error {
	cf, _, label, err := c.figureFilter(r)
	if err != nil {
		return err
	}
	return c.exportCases(w, r, cf, "考核明细_"+strings.ReplaceAll(label, " ", ""))
}
