package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/evaluation"
	"zhizhi/internal/service"
)

// The evaluation pages (分析问效, issue 11): rankings of grids, communities,
// streets and units under a region for a period (by the composite score or
// any indicator of the kind), a subject's score card explained with its
// trend, the grids' map shaded by grade, and the district's ten best grids
// (十佳网格). Everything is read through service.Evaluate, in the caller's
// region; every figure links to the cases behind its numerator and
// denominator (/cases?fact=…&period=…); every table exports to Excel.

// evalPageSize is how many rows the rankings page shows at a time (the
// export has them all).
const evalPageSize = 100

// evalKinds are the subject kinds the pages rank, in the order offered.
var evalKinds = []evaluation.SubjectKind{evaluation.Grid, evaluation.Community, evaluation.Street, evaluation.Unit}

// option is one choice of a select.
type option struct {
	Value, Label string
	Selected     bool
}

// evalForm is the rankings' filter as the form and the links carry it.
type evalForm struct {
	Kind   evaluation.SubjectKind
	Period string // a period key; "" is the current month
	Under  string // a region code; "" is the caller's region
	By     string // an indicator code; "" is the composite score
	Page   int    // 1-based
}

func evalFormOf(q url.Values) evalForm {
	f := evalForm{Kind: evaluation.SubjectKind(strings.TrimSpace(q.Get("kind"))), Period: strings.TrimSpace(q.Get("period")),
		Under: strings.TrimSpace(q.Get("under")), By: strings.TrimSpace(q.Get("by"))}
	if f.Kind == "" {
		f.Kind = evaluation.Grid
	}
	if f.By == evaluation.ScoreIndicator {
		f.By = ""
	}
	f.Page, _ = strconv.Atoi(q.Get("page"))
	f.Page = max(f.Page, 1)
	return f
}

// query writes the filter with some fields changed (pairs of name, value).
func (f evalForm) query(set ...string) string {
	v := url.Values{}
	for k, s := range map[string]string{"kind": string(f.Kind), "period": f.Period, "under": f.Under, "by": f.By} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if f.Page > 1 {
		v.Set("page", strconv.Itoa(f.Page))
	}
	for i := 0; i+1 < len(set); i += 2 {
		if set[i+1] == "" {
			v.Del(set[i])
		} else {
			v.Set(set[i], set[i+1])
		}
	}
	return v.Encode()
}

// problem turns an invalid request into the sentence the page shows; other
// errors are returned for the error page.
func problem(err error) (string, error) {
	var e *apperr.Error
	if !errors.As(err, &e) || e.Kind != apperr.Invalid {
		return "", err
	}
	var msgs []string
	for _, f := range e.Fields {
		msgs = append(msgs, f.Reason)
	}
	if len(msgs) == 0 {
		msgs = append(msgs, e.Message)
	}
	return strings.Join(msgs, "；"), nil
}

// figureCell is one figure as a table shows it: num/den with the links to
// the cases behind each, and the rate.
type figureCell struct {
	Name              string
	Num, Den          int
	NumHref, DenHref  string
	Rate              string // "87.5%", or "—" when there is nothing to rate
	Defined           bool
	Weight, Effective string
	Contributed       string
	LowerBetter       bool
}

// cellOf builds the cell of a figure of a subject in a period.
func cellOf(kind evaluation.SubjectKind, subject, periodKey string, f evaluation.Figure) figureCell {
	c := figureCell{Name: f.Name, Num: f.Num, Den: f.Den, Rate: "—", Defined: f.Defined}
	if ind, ok := evaluation.IndicatorOf(f.Indicator); ok {
		c.NumHref = drillHref(kind, subject, ind.Num, periodKey)
		c.DenHref = drillHref(kind, subject, ind.Den, periodKey)
		c.LowerBetter = ind.LowerBetter
	}
	if f.Defined {
		c.Rate = pct(f.Rate)
	}
	return c
}

// drillHref is the console's case list of the cases behind one measure.
func drillHref(kind evaluation.SubjectKind, subject string, m evaluation.Measure, periodKey string) string {
	return "/cases?" + service.DrillQuery(kind, subject, m, periodKey).Encode()
}

func pct(rate float64) string { return strconv.FormatFloat(100*rate, 'f', 1, 64) + "%" }

func points(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// cardHref is a subject's score card for a period.
func cardHref(kind evaluation.SubjectKind, subject, periodKey string) string {
	return "/evaluation/" + string(kind) + "/" + url.PathEscape(subject) + "?" + url.Values{"period": {periodKey}}.Encode()
}

// evalRow is one row of a ranking.
type evalRow struct {
	Place   string // "1", or "—" for a subject not ranked
	Ranked  bool
	Subject string
	Name    string
	Href    string // the score card
	Score   string
	Bar     string // the bar's width, percent
	Grade   string
	Work    int
	By      *figureCell // the indicator ranked by, when not the score
	Cells   []figureCell
	Explain string
}

func rowOf(r evaluation.Ranked, periodKey, by string) evalRow {
	row := evalRow{Place: "—", Ranked: r.Rank > 0, Subject: r.Subject, Name: r.Name, Href: cardHref(r.Kind, r.Subject, periodKey),
		Score: "—", Bar: "0", Grade: r.Grade, Work: r.Work, Explain: r.Explain()}
	if r.Rank > 0 {
		row.Place = strconv.Itoa(r.Rank)
	}
	if r.Defined {
		row.Score = points(r.Value)
		row.Bar = strconv.FormatFloat(min(max(r.Value, 0), 100), 'f', 1, 64)
	}
	for _, p := range r.Parts {
		row.Cells = append(row.Cells, cellOf(r.Kind, r.Subject, periodKey, p.Figure))
	}
	if by != "" {
		if f, ok := r.FigureOf(by); ok {
			c := cellOf(r.Kind, r.Subject, periodKey, f)
			row.By = &c
		}
	}
	return row
}

// evalPage is the rankings page.
type evalPage struct {
	Form       evalForm
	Kinds      []option
	Regions    []option
	Indicators []option
	Periods    []option // suggestions for the period field
	Problem    string   // why the filter could not be used, in Chinese
	Ranking    service.Ranking
	RegionName string
	ByName     string
	Columns    []string // the weighted indicators' names
	Rows       []evalRow
	Total      int
	RankedN    int
	PageSize   int
	From, To   int // the rows shown, 1-based
	Prev, Next string
	ExportURL  string
	MapURL     string
	Top10URL   string
}

func (p *evalPage) title() string { return "考核排名" }

// rankOf evaluates a kind under a region for a period ordered by the
// form's indicator, the places from offset (limit of them; 0: all); a bad
// filter is returned as the page's problem.
func (c *Console) rankOf(r *http.Request, f evalForm, offset, limit int) (service.Ranking, []evaluation.Ranked, string, error) {
	rk, err := c.svc.Rank(r.Context(), actorOf(r), service.RankingQuery{Kind: f.Kind, Period: f.Period, Under: f.Under,
		By: f.By, Offset: offset, Limit: limit})
	if err != nil {
		msg, err := problem(err)
		return rk, nil, msg, err
	}
	ranked := make([]evaluation.Ranked, len(rk.Items))
	for i, it := range rk.Items {
		ranked[i] = it.Ranked
	}
	return rk, ranked, "", nil
}

// evaluationPage serves /evaluation: the rankings.
func (c *Console) evaluationPage(w http.ResponseWriter, r *http.Request) error {
	actor := actorOf(r)
	f := evalFormOf(r.URL.Query())
	p := &evalPage{Form: f, PageSize: evalPageSize}
	for _, k := range evalKinds {
		p.Kinds = append(p.Kinds, option{string(k), k.Label(), k == f.Kind})
	}
	for _, rc := range c.svc.RegionsUnder(actor, 2) {
		label := strings.Repeat("　", rc.Depth) + rc.Name
		p.Regions = append(p.Regions, option{rc.Code, label, rc.Code == f.Under})
	}
	p.Indicators = append(p.Indicators, option{"", "综合得分", f.By == ""})
	for _, ind := range evaluation.Indicators {
		if ind.Applies(f.Kind) {
			p.Indicators = append(p.Indicators, option{ind.Code, ind.Name, ind.Code == f.By})
		}
	}
	p.Periods = c.periodChoices(false)
	start := (f.Page - 1) * evalPageSize
	rk, ranked, msg, err := c.rankOf(r, f, start, evalPageSize)
	if err == nil && msg == "" && start > 0 && start >= rk.Total {
		// Past the last page: the last page.
		start = max(0, (rk.Total-1)/evalPageSize*evalPageSize)
		p.Form.Page = start/evalPageSize + 1
		rk, ranked, msg, err = c.rankOf(r, f, start, evalPageSize)
	}
	if err != nil {
		return err
	}
	if msg != "" {
		p.Problem = msg
		c.render(w, r, http.StatusBadRequest, "evaluation", p)
		return nil
	}
	key := rk.Period.Key
	p.Form.Period = key
	p.Ranking, p.RegionName = rk, c.svc.RegionName(rk.Under)
	if ind, ok := evaluation.IndicatorOf(f.By); ok {
		p.ByName = ind.Name
	}
	rules := evaluation.DefaultRules()
	for _, w := range rules.Weights[f.Kind] {
		if ind, ok := evaluation.IndicatorOf(w.Indicator); ok {
			p.Columns = append(p.Columns, fmt.Sprintf("%s（%g%%）", ind.Name, w.Weight))
		}
	}
	p.Total, p.RankedN = rk.Total, rk.RankedN
	end := start + len(ranked)
	for _, it := range ranked {
		p.Rows = append(p.Rows, rowOf(it, key, f.By))
	}
	p.From, p.To = start+1, end
	if start > 0 {
		p.Prev = "/evaluation?" + p.Form.query("period", key, "page", strconv.Itoa(p.Form.Page-1))
	}
	if end < rk.Total {
		p.Next = "/evaluation?" + p.Form.query("period", key, "page", strconv.Itoa(p.Form.Page+1))
	}
	p.ExportURL = "/evaluation/export?" + p.Form.query("period", key, "page", "", "format", "xlsx")
	p.MapURL = "/evaluation/map?" + url.Values{"period": {key}, "under": {rk.Under}}.Encode()
	p.Top10URL = "/evaluation/top10"
	if rk.Period.Kind == evaluation.Month || rk.Period.Kind == evaluation.Quarter {
		p.Top10URL += "?" + url.Values{"period": {key}}.Encode()
	}
	c.render(w, r, http.StatusOK, "evaluation", p)
	return nil
}

// periodChoices suggests periods for the period field: this month and the
// five before, this quarter and the previous, this year, this week and
// today (only months and quarters for 十佳网格).
func (c *Console) periodChoices(monthsAndQuarters bool) []option {
	loc := c.svc.Calendar().Location()
	now := c.svc.Now().In(loc)
	var out []option
	add := func(key string) {
		if p, err := evaluation.ParsePeriod(key, loc); err == nil {
			out = append(out, option{Value: key, Label: p.Label})
		}
	}
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, loc)
	for i := 0; i < 6; i++ {
		add(first.AddDate(0, -i, 0).Format("2006-01"))
	}
	q := (int(now.Month()) + 2) / 3
	add(fmt.Sprintf("%d-Q%d", now.Year(), q))
	if q > 1 {
		add(fmt.Sprintf("%d-Q%d", now.Year(), q-1))
	} else {
		add(fmt.Sprintf("%d-Q4", now.Year()-1))
	}
	if monthsAndQuarters {
		return out
	}
	add(strconv.Itoa(now.Year()))
	y, wk := now.ISOWeek()
	add(fmt.Sprintf("%d-W%02d", y, wk))
	add(now.Format("2006-01-02"))
	return out
}

// evaluationExport serves /evaluation/export: the whole ranking as Excel.
func (c *Console) evaluationExport(w http.ResponseWriter, r *http.Request) error {
	f := evalFormOf(r.URL.Query())
	rk, ranked, msg, err := c.rankOf(r, f, 0, 0)
	if err != nil {
		return err
	}
	if msg != "" {
		return apperr.New(apperr.Invalid, msg)
	}
	if r.URL.Query().Get("format") == "" {
		q := r.URL.Query()
		q.Set("format", "xlsx")
		r.URL.RawQuery = q.Encode()
	}
	name := c.svc.RegionName(rk.Under) + rk.Period.Label + f.Kind.Label() + "考核排名"
	return c.sendSheets(w, r, name, []sheet{rankingSheet(f.Kind, rk, ranked, f.By)})
}

// rankingSheet is a ranking as a table: place, subject, score, grade, work,
// and each weighted indicator's numerator, denominator and rate.
func rankingSheet(kind evaluation.SubjectKind, rk service.Ranking, ranked []evaluation.Ranked, by string) sheet {
	s := sheet{Name: kind.Label() + "排名", Header: []string{"名次", "名称", "编码", "综合得分", "等级", "案件量"}}
	ind, byOK := evaluation.IndicatorOf(by)
	if byOK {
		s.Header = append(s.Header, "排名指标", ind.Name+"分子", ind.Name+"分母", ind.Name)
	}
	for _, w := range evaluation.DefaultRules().Weights[kind] {
		if i, ok := evaluation.IndicatorOf(w.Indicator); ok {
			s.Header = append(s.Header, i.Name+"分子", i.Name+"分母", i.Name)
		}
	}
	s.Header = append(s.Header, "时间段", "评价规则版本")
	for _, it := range ranked {
		place, score := "未排名", "—"
		if it.Rank > 0 {
			place = strconv.Itoa(it.Rank)
		}
		if it.Defined {
			score = points(it.Value)
		}
		row := []any{place, it.Name, it.Subject, score, it.Grade, it.Work}
		rate := func(f evaluation.Figure) string {
			if !f.Defined {
				return "—"
			}
			return pct(f.Rate)
		}
		if byOK {
			f, _ := it.FigureOf(by)
			row = append(row, ind.Name, f.Num, f.Den, rate(f))
		}
		for _, p := range it.Parts {
			row = append(row, p.Num, p.Den, rate(p.Figure))
		}
		row = append(row, rk.Period.Label, it.Rules)
		s.Rows = append(s.Rows, row)
	}
	return s
}
