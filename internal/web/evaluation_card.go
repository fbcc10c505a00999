package web

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"zhizhi/internal/evaluation"
	"zhizhi/internal/service"
)

// cardPage is a subject's score card.
type cardPage struct {
	Kind      evaluation.SubjectKind
	KindLabel string
	Card      service.ScoreCard
	Period    string // the period's key
	Periods   []option
	Problem   string
	Place     string
	Score     string
	Grade     string
	Explain   string
	Parts     []figureCell
	Others    []figureCell // the kind's indicators not weighted in the score
	Trend     template.HTML
	ExportURL string
	BackURL   string
}

func (p *cardPage) title() string {
	if p.Card.Name == "" {
		return "考核得分"
	}
	return p.Card.Name + " 考核得分"
}

// evaluationCard serves /evaluation/{kind}/{subject}?period=: the score
// explained, each figure with the cases behind it, and the trend.
func (c *Console) evaluationCard(w http.ResponseWriter, r *http.Request) error {
	kind := evaluation.SubjectKind(r.PathValue("kind"))
	subject := r.PathValue("subject")
	period := strings.TrimSpace(r.URL.Query().Get("period"))
	p := &cardPage{Kind: kind, KindLabel: kind.Label(), Period: period, Periods: c.periodChoices(false)}
	card, err := c.svc.Card(r.Context(), actorOf(r), kind, subject, period)
	if err != nil {
		msg, err := problem(err)
		if err != nil {
			return err
		}
		p.Problem = msg
		c.render(w, r, http.StatusBadRequest, "evaluation.card", p)
		return nil
	}
	c.fillCard(p, card)
	c.render(w, r, http.StatusOK, "evaluation.card", p)
	return nil
}

// fillCard lays a score card out for the page.
func (c *Console) fillCard(p *cardPage, card service.ScoreCard) {
	key := card.Period.Key
	p.Card, p.Period = card, key
	sc := card.Item.Score
	p.Place, p.Score = "未排名", "—"
	if card.Item.Rank > 0 {
		p.Place = fmt.Sprintf("第%d名（共%d个参与排名）", card.Item.Rank, card.Ranked)
	}
	if !card.Found {
		sc = evaluation.DefaultRules().Score(p.Kind, card.Subject, card.Name, evaluation.Counts{})
		sc.Period = card.Period.Label
	}
	if sc.Defined {
		p.Score = points(sc.Value)
	}
	p.Grade, p.Explain = sc.Grade, sc.Explain()
	weighted := map[string]bool{}
	for _, part := range sc.Parts {
		weighted[part.Indicator] = true
		cell := cellOf(p.Kind, card.Subject, key, part.Figure)
		cell.Weight = strconv.FormatFloat(part.Weight, 'g', -1, 64) + "%"
		cell.Effective, cell.Contributed = "—", "—"
		if part.Defined {
			cell.Effective = strconv.FormatFloat(part.Effective, 'f', 1, 64) + "%"
			cell.Contributed = points(part.Contributed)
		}
		p.Parts = append(p.Parts, cell)
	}
	for _, f := range sc.Figures {
		if !weighted[f.Indicator] {
			p.Others = append(p.Others, cellOf(p.Kind, card.Subject, key, f))
		}
	}
	p.Trend = trendSVG(card.Trend, p.Kind, card.Subject)
	p.ExportURL = "/evaluation/" + string(p.Kind) + "/" + url.PathEscape(card.Subject) + "/export?" + url.Values{"period": {key}, "format": {"xlsx"}}.Encode()
	p.BackURL = "/evaluation?" + url.Values{"kind": {string(p.Kind)}, "period": {key}}.Encode()
}

// trendSVG draws a score's trend as an inline SVG line chart: one point per
// period (a hollow grey one on the axis where there was nothing to score),
// each a link to that period's score card, with the score and grade as its
// title.
func trendSVG(trend []service.TrendPoint, kind evaluation.SubjectKind, subject string) template.HTML {
	const w, h, left, right, top, bottom = 720.0, 220.0, 44.0, 30.0, 16.0, 40.0
	n := len(trend)
	if n == 0 {
		return ""
	}
	x := func(i int) float64 {
		if n == 1 {
			return left + (w-left-right)/2
		}
		return left + float64(i)*(w-left-right)/float64(n-1)
	}
	y := func(v float64) float64 { return top + (100-v)*(h-top-bottom)/100 }
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
	esc := template.HTMLEscapeString
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="trend" viewBox="0 0 %s %s" role="img" aria-label="近%d期得分趋势" xmlns="http://www.w3.org/2000/svg">`, f(w), f(h), n)
	for _, v := range []float64{0, 40, 60, 75, 90, 100} {
		fmt.Fprintf(&b, `<line class="grid" x1="%s" y1="%s" x2="%s" y2="%s"/><text class="ylab" x="%s" y="%s">%g</text>`,
			f(left), f(y(v)), f(w-right), f(y(v)), f(left-6), f(y(v)+4), v)
	}
	// The line joins consecutive scored periods; a period without a score breaks it.
	var seg []string
	flush := func() {
		if len(seg) > 1 {
			fmt.Fprintf(&b, `<polyline class="line" points="%s"/>`, strings.Join(seg, " "))
		}
		seg = seg[:0]
	}
	for i, tp := range trend {
		if tp.Found && tp.Score.Defined {
			seg = append(seg, f(x(i))+","+f(y(tp.Score.Value)))
		} else {
			flush()
		}
	}
	flush()
	for i, tp := range trend {
		href := cardHref(kind, subject, tp.Period.Key)
		fmt.Fprintf(&b, `<a href="%s">`, esc(href))
		if tp.Found && tp.Score.Defined {
			fmt.Fprintf(&b, `<circle class="pt grade-%s" cx="%s" cy="%s" r="5"><title>%s：%s分（%s档）</title></circle>`,
				esc(tp.Score.Grade), f(x(i)), f(y(tp.Score.Value)), esc(tp.Period.Label), points(tp.Score.Value), esc(tp.Score.Grade))
			fmt.Fprintf(&b, `<text class="val" x="%s" y="%s">%s</text>`, f(x(i)), f(y(tp.Score.Value)-9), f(tp.Score.Value))
		} else {
			fmt.Fprintf(&b, `<circle class="pt none" cx="%s" cy="%s" r="4"><title>%s：无可评价案件</title></circle>`,
				f(x(i)), f(y(0)), esc(tp.Period.Label))
		}
		b.WriteString(`</a>`)
		fmt.Fprintf(&b, `<text class="xlab" x="%s" y="%s">%s</text>`, f(x(i)), f(h-bottom+18), esc(tp.Period.Key))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// evaluationCardExport serves the score card as Excel: the parts of the
// score, the other figures and the trend.
func (c *Console) evaluationCardExport(w http.ResponseWriter, r *http.Request) error {
	kind := evaluation.SubjectKind(r.PathValue("kind"))
	card, err := c.svc.Card(r.Context(), actorOf(r), kind, r.PathValue("subject"), strings.TrimSpace(r.URL.Query().Get("period")))
	if err != nil {
		return err
	}
	p := &cardPage{Kind: kind}
	c.fillCard(p, card)
	parts := sheet{Name: "得分构成", Header: []string{"指标", "分子", "分母", "比率", "权重", "折算权重", "得分贡献", "评价规则版本"}}
	for _, cell := range p.Parts {
		parts.Rows = append(parts.Rows, []any{cell.Name, cell.Num, cell.Den, cell.Rate, cell.Weight, cell.Effective, cell.Contributed, card.Rules})
	}
	parts.Rows = append(parts.Rows, []any{"综合得分", "", "", "", "", "", p.Score, card.Rules},
		[]any{"等级", "", "", "", "", "", p.Grade, card.Rules},
		[]any{"名次", "", "", "", "", "", p.Place, card.Rules},
		[]any{"说明", "", "", "", "", "", p.Explain, card.Rules})
	others := sheet{Name: "其他指标", Header: []string{"指标", "分子", "分母", "比率"}}
	for _, cell := range p.Others {
		others.Rows = append(others.Rows, []any{cell.Name, cell.Num, cell.Den, cell.Rate})
	}
	trend := sheet{Name: "得分趋势", Header: []string{"时间段", "综合得分", "等级"}}
	for _, tp := range card.Trend {
		score, grade := "—", "—"
		if tp.Found && tp.Score.Defined {
			score, grade = points(tp.Score.Value), tp.Score.Grade
		}
		trend.Rows = append(trend.Rows, []any{tp.Period.Label, score, grade})
	}
	if r.URL.Query().Get("format") == "" {
		q := r.URL.Query()
		q.Set("format", "xlsx")
		r.URL.RawQuery = q.Encode()
	}
	return c.sendSheets(w, r, card.Name+card.Period.Label+"考核得分", []sheet{parts, others, trend})
}
