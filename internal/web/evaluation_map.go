package web

import (
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"zhizhi/internal/apperr"
	"zhizhi/internal/evaluation"
	"zhizhi/internal/geo"
	"zhizhi/internal/service"
)

// evalMapGrids bounds the grids one shaded map draws.
const evalMapGrids = 1500

// band is a grade's colour on the map and in the legend.
type band struct {
	Grade, Label, Class string
}

// bands are the grades of the default rules, and the grey of a grid not
// ranked.
func bands() []band {
	r := evaluation.DefaultRules()
	var out []band
	for i, b := range r.Bands {
		label := fmt.Sprintf("%s档 ≥%g分", b.Grade, b.Min)
		if i == len(r.Bands)-1 {
			label = fmt.Sprintf("%s档 <%g分", b.Grade, r.Bands[i-1].Min)
		}
		out = append(out, band{b.Grade, label, "band-" + b.Grade})
	}
	return append(out, band{"", "未排名（案件不足或无案件）", "band-none"})
}

// mapPage is the grids' map shaded by grade.
type mapPage struct {
	Form      evalForm
	Regions   []option
	Periods   []option
	Problem   string
	Period    evaluation.Period
	Region    string
	Bands     []band
	SVG       template.HTML
	Grids     int
	Truncated bool
	Max       int
	ListURL   string
}

func (p *mapPage) title() string { return "网格考核地图" }

// evaluationMap serves /evaluation/map?period=&under=: the grids under the
// region shaded by their grade; a click opens a grid's score card.
func (c *Console) evaluationMap(w http.ResponseWriter, r *http.Request) error {
	actor := actorOf(r)
	f := evalFormOf(r.URL.Query())
	f.Kind, f.By, f.Page = evaluation.Grid, "", 1
	p := &mapPage{Form: f, Bands: bands(), Max: evalMapGrids, Periods: c.periodChoices(false)}
	for _, rc := range c.svc.RegionsUnder(actor, 2) {
		p.Regions = append(p.Regions, option{rc.Code, strings.Repeat("　", rc.Depth) + rc.Name, rc.Code == f.Under})
	}
	rk, err := c.svc.Evaluate(r.Context(), actor, evaluation.Grid, f.Period, f.Under, 0)
	if err != nil {
		msg, err := problem(err)
		if err != nil {
			return err
		}
		p.Problem = msg
		c.render(w, r, http.StatusBadRequest, "evaluation.map", p)
		return nil
	}
	p.Period, p.Region, p.Form.Period = rk.Period, c.svc.RegionName(rk.Under), rk.Period.Key
	underPath, ok := c.svc.RegionPath(rk.Under)
	if !ok {
		underPath = actor.RegionPath
	}
	shapes, bounds, truncated, err := c.maps.GridShapes(r.Context(), underPath, evalMapGrids)
	if err != nil {
		return err
	}
	scores := map[string]evaluation.Ranked{}
	for _, it := range rk.Items {
		scores[it.Subject] = it.Ranked
	}
	p.Grids, p.Truncated = len(shapes), truncated
	p.SVG = shadedSVG(shapes, bounds, scores, rk.Period)
	p.ListURL = "/evaluation?" + url.Values{"kind": {"grid"}, "period": {rk.Period.Key}, "under": {rk.Under}}.Encode()
	c.render(w, r, http.StatusOK, "evaluation.map", p)
	return nil
}

// shadedSVG draws grids as an SVG map (longitude scaled by the cosine of
// the middle latitude), each shaded by its grade and linked to its score
// card.
func shadedSVG(shapes []service.MapFeature, b geo.Rect, scores map[string]evaluation.Ranked, period evaluation.Period) template.HTML {
	if len(shapes) == 0 {
		return ""
	}
	const width = 800.0
	k := math.Cos((b.Min.Lat + b.Max.Lat) / 2 * math.Pi / 180)
	dx, dy := (b.Max.Lng-b.Min.Lng)*k, b.Max.Lat-b.Min.Lat
	if dx <= 0 || dy <= 0 {
		return ""
	}
	scale := width / dx
	height := math.Max(dy*scale, 1)
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
	esc := template.HTMLEscapeString
	var s strings.Builder
	fmt.Fprintf(&s, `<svg class="grade-map" viewBox="-2 -2 %s %s" role="img" aria-label="网格考核等级地图" xmlns="http://www.w3.org/2000/svg">`, f(width+4), f(height+4))
	for _, g := range shapes {
		var d strings.Builder
		for _, poly := range g.Shape {
			for _, ring := range poly {
				for i, pt := range ring {
					if i == 0 {
						d.WriteString("M")
					} else {
						d.WriteString("L")
					}
					d.WriteString(f((pt.Lng - b.Min.Lng) * k * scale))
					d.WriteByte(' ')
					d.WriteString(f((b.Max.Lat - pt.Lat) * scale))
				}
				d.WriteString("Z")
			}
		}
		class, tip := "band-none", g.Name+"：本期无案件"
		if sc, ok := scores[g.Code]; ok {
			switch {
			case sc.Rank > 0:
				class = "band-" + sc.Grade
				tip = fmt.Sprintf("%s：第%d名，%s分（%s档）", g.Name, sc.Rank, points(sc.Value), sc.Grade)
			case sc.Defined:
				tip = fmt.Sprintf("%s：%s分，案件不足未排名", g.Name, points(sc.Value))
			default:
				tip = g.Name + "：无可评价案件"
			}
		}
		fmt.Fprintf(&s, `<a href="%s" data-grid="%s"><path class="%s" d="%s"><title>%s</title></path></a>`,
			esc(cardHref(evaluation.Grid, g.Code, period.Key)), esc(g.Code), class, d.String(), esc(tip))
	}
	s.WriteString(`</svg>`)
	return template.HTML(s.String())
}

// top10Page is 十佳网格: the ten best grids of the region for a month or a
// quarter, each score explained.
type top10Page struct {
	Form      evalForm
	Periods   []option
	Problem   string
	Title     string
	Period    evaluation.Period
	Rows      []evalRow
	Ranked    int
	TieBreak  string
	Rules     int
	ExportURL string
	ListURL   string
}

func (p *top10Page) title() string {
	if p.Title == "" {
		return "十佳网格"
	}
	return p.Title
}

// top10Of evaluates the ten best grids; a bad period is the page's problem.
func (c *Console) top10Of(r *http.Request, f evalForm) (service.Ranking, int, string, error) {
	loc := c.svc.Calendar().Location()
	if f.Period != "" {
		if p, err := evaluation.ParsePeriod(f.Period, loc); err == nil && p.Kind != evaluation.Month && p.Kind != evaluation.Quarter {
			return service.Ranking{}, 0, "十佳网格按月或按季度评选，时间段应为 2026-11 或 2026-Q4 这样的月份或季度", nil
		}
	}
	all, err := c.svc.Rank(r.Context(), actorOf(r), service.RankingQuery{Kind: evaluation.Grid, Period: f.Period, Under: f.Under, Top: 10})
	if err != nil {
		msg, err := problem(err)
		return all, 0, msg, err
	}
	return all, all.RankedN, "", nil
}

// evaluationTop10 serves /evaluation/top10?period=: 十佳网格, printable.
func (c *Console) evaluationTop10(w http.ResponseWriter, r *http.Request) error {
	f := evalFormOf(r.URL.Query())
	p := &top10Page{Form: f, Periods: c.periodChoices(true)}
	rk, ranked, msg, err := c.top10Of(r, f)
	if err != nil {
		return err
	}
	if msg != "" {
		p.Problem = msg
		c.render(w, r, http.StatusBadRequest, "evaluation.top10", p)
		return nil
	}
	key := rk.Period.Key
	p.Form.Period, p.Period, p.Ranked, p.TieBreak, p.Rules = key, rk.Period, ranked, rk.TieBreak, rk.Rules
	p.Title = c.svc.RegionName(rk.Under) + rk.Period.Label + "十佳网格"
	for _, it := range rk.Items {
		p.Rows = append(p.Rows, rowOf(it.Ranked, key, ""))
	}
	q := url.Values{"period": {key}}
	if f.Under != "" {
		q.Set("under", f.Under)
	}
	p.ExportURL = "/evaluation/top10/export?" + q.Encode() + "&format=xlsx"
	p.ListURL = "/evaluation?" + url.Values{"kind": {"grid"}, "period": {key}, "under": {rk.Under}}.Encode()
	c.render(w, r, http.StatusOK, "evaluation.top10", p)
	return nil
}

// evaluationTop10Export serves 十佳网格 as Excel.
func (c *Console) evaluationTop10Export(w http.ResponseWriter, r *http.Request) error {
	f := evalFormOf(r.URL.Query())
	rk, _, msg, err := c.top10Of(r, f)
	if err != nil {
		return err
	}
	if msg != "" {
		return apperr.New(apperr.Invalid, msg)
	}
	title := c.svc.RegionName(rk.Under) + rk.Period.Label + "十佳网格"
	s := sheet{Name: "十佳网格", Header: []string{"名次", "网格", "编码", "所属", "综合得分", "等级", "案件量", "得分说明", "评价规则版本"}}
	for _, it := range rk.Items {
		path, _ := c.svc.RegionPath(it.Subject)
		names := c.svc.PathNames(path)
		if len(names) > 2 {
			names = names[2 : len(names)-1]
		}
		s.Rows = append(s.Rows, []any{it.Rank, it.Name, it.Subject, strings.Join(names, " · "), points(it.Value), it.Grade, it.Work, it.Explain(), it.Rules})
	}
	if r.URL.Query().Get("format") == "" {
		q := r.URL.Query()
		q.Set("format", "xlsx")
		r.URL.RawQuery = q.Encode()
	}
	return c.sendSheets(w, r, title, []sheet{s})
}
