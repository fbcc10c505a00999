package service

import (
	"context"
	"errors"
	"sort"
	"strings"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/evaluation"
	"zhizhi/internal/geo"
	"zhizhi/internal/region"
	"zhizhi/internal/routing"
)

// The read models of the console's evaluation pages (分析问效): a subject's
// score card with its trend, the regions to choose from, and the grids'
// shapes for the shaded map. Everything is read through Evaluate, so the
// pages see what the API ranks, in the same scope.

// TrendPoint is a subject's score in one period of a trend.
type TrendPoint struct {
	Period evaluation.Period `json:"period"`
	Score  evaluation.Score  `json:"score"`
	Found  bool              `json:"found"` // the subject had cases in the period
}

// TrendPeriods is how many periods a score card's trend shows.
const TrendPeriods = 12

// periodOf parses a period key ("" for the current month) as Evaluate does,
// with the error on the field "period".
func (s *Service) periodOf(key string) (evaluation.Period, error) {
	loc := s.Calendar().Location()
	if key == "" {
		key = s.Now().In(loc).Format("2006-01")
	}
	p, err := evaluation.ParsePeriod(key, loc)
	if err != nil {
		var e *apperr.Error
		if errors.As(err, &e) {
			return p, err
		}
		return p, apperr.Field("period", "时间段无效")
	}
	return p, nil
}

// Trend returns a subject's score over the n periods of the same kind
// ending with periodKey ("" for the current month), oldest first, read from
// the rollups through Evaluate (so in the actor's scope): a region is read
// under itself, a unit among the units of the actor's region. A period in
// which the subject had no case has Found false.
func (s *Service) Trend(ctx context.Context, actor cases.Actor, kind evaluation.SubjectKind, subject, periodKey string, n int) ([]TrendPoint, error) {
	p, err := s.periodOf(periodKey)
	if err != nil {
		return nil, err
	}
	under := ""
	if kind != evaluation.Unit {
		under = subject
	}
	var out []TrendPoint
	for _, q := range p.Trend(n, s.Calendar().Location()) {
		rk, err := s.Rank(ctx, actor, RankingQuery{Kind: kind, Period: q.Key, Under: under, Subject: subject})
		if err != nil {
			return nil, err
		}
		tp := TrendPoint{Period: rk.Period}
		if len(rk.Items) == 1 {
			tp.Score, tp.Found = rk.Items[0].Score, true
		}
		out = append(out, tp)
	}
	return out, nil
}

// ScoreCard is one subject's score for a period explained: its place among
// the subjects of its kind in the actor's region, and its trend.
type ScoreCard struct {
	Ranking              // the period, rules and tie-break; Items is empty
	Subject string       `json:"subject"`
	Name    string       `json:"name"`
	Item    RankedItem   `json:"item"`
	Found   bool         `json:"found"`  // the subject had cases in the period
	Ranked  int          `json:"ranked"` // how many subjects were ranked with it
	Trend   []TrendPoint `json:"trend"`
}

// SubjectIn checks that a subject of a kind exists and lies in the actor's
// region, and returns its name.
func (s *Service) SubjectIn(actor cases.Actor, kind evaluation.SubjectKind, subject string) (string, error) {
	var path, name string
	switch kind {
	case evaluation.Unit:
		u, ok := s.Unit(subject)
		if !ok {
			return "", apperr.New(apperr.NotFound, "承办单位不存在")
		}
		path, name = u.RegionPath, u.Name
	case evaluation.Grid, evaluation.Community, evaluation.Street:
		p, ok := s.RegionPath(subject)
		if !ok {
			return "", apperr.New(apperr.NotFound, kind.Label()+"不存在")
		}
		path, name = p, s.RegionName(subject)
	default:
		return "", apperr.Field("kind", "考核对象应为 grid、community、street 或 unit")
	}
	if !strings.HasPrefix(path, actor.RegionPath) {
		return "", apperr.New(apperr.Forbidden, "只能查看本辖区的考核结果")
	}
	return name, nil
}

// Card returns a subject's score card for a period ("" for the current
// month): the score among the subjects of its kind in the actor's region,
// and the trend over the TrendPeriods periods ending with it.
func (s *Service) Card(ctx context.Context, actor cases.Actor, kind evaluation.SubjectKind, subject, periodKey string) (ScoreCard, error) {
	rk, err := s.Rank(ctx, actor, RankingQuery{Kind: kind, Period: periodKey, Subject: subject})
	if err != nil {
		return ScoreCard{}, err
	}
	name, err := s.SubjectIn(actor, kind, subject)
	if err != nil {
		return ScoreCard{}, err
	}
	card := ScoreCard{Subject: subject, Name: name, Ranked: rk.RankedN}
	if len(rk.Items) == 1 {
		card.Item, card.Found = rk.Items[0], true
	}
	card.Ranking = rk
	card.Ranking.Items = nil
	if card.Trend, err = s.Trend(ctx, actor, kind, subject, rk.Period.Key, TrendPeriods); err != nil {
		return ScoreCard{}, err
	}
	return card, nil
}

// RegionChoice is a region the evaluation pages offer to rank under.
type RegionChoice struct {
	Code, Name string
	Depth      int // below the actor's own region: 0 is the region itself
}

// RegionsUnder lists the actor's region and the regions below it down to
// levels levels deeper, in path order (a parent before its children).
func (s *Service) RegionsUnder(actor cases.Actor, levels int) []RegionChoice {
	ref := s.ref.Load()
	base := routing.Depth(actor.RegionPath)
	type entry struct {
		path string
		RegionChoice
	}
	var es []entry
	for code, p := range ref.paths {
		if !strings.HasPrefix(p, actor.RegionPath) {
			continue
		}
		d := routing.Depth(p) - base
		if d < 0 || d > levels {
			continue
		}
		es = append(es, entry{p, RegionChoice{Code: code, Name: ref.names[code], Depth: d}})
	}
	sort.Slice(es, func(i, j int) bool { return es[i].path < es[j].path })
	out := make([]RegionChoice, len(es))
	for i, e := range es {
		out[i] = e.RegionChoice
	}
	return out
}

// GridShapes returns the grids under a region path with their shapes,
// simplified to about a 700th of the area's width (a page's map), in code
// order: at most limit of them (truncated when there were more), and the
// bounds of those returned. The caller checks the path is in scope.
func (m *Maps) GridShapes(ctx context.Context, underPath string, limit int) (fs []MapFeature, bounds geo.Rect, truncated bool, err error) {
	l, err := m.current(ctx)
	if err != nil {
		return nil, geo.Rect{}, false, err
	}
	var regs []*mapRegion
	for _, r := range l.regions {
		if r.level == region.Grid && strings.HasPrefix(r.path, underPath) {
			regs = append(regs, r)
		}
	}
	sort.Slice(regs, func(i, j int) bool { return regs[i].code < regs[j].code })
	if len(regs) > limit {
		regs, truncated = regs[:limit], true
	}
	for i, r := range regs {
		b := r.shape.Bounds()
		if i == 0 {
			bounds = b
			continue
		}
		bounds.Min.Lng, bounds.Min.Lat = min(bounds.Min.Lng, b.Min.Lng), min(bounds.Min.Lat, b.Min.Lat)
		bounds.Max.Lng, bounds.Max.Lat = max(bounds.Max.Lng, b.Max.Lng), max(bounds.Max.Lat, b.Max.Lat)
	}
	tol := (bounds.Max.Lng - bounds.Min.Lng) / 700
	for _, r := range regs {
		fs = append(fs, MapFeature{Code: r.code, Name: r.name, Shape: geo.Simplify(r.shape, tol)})
	}
	return fs, bounds, truncated, nil
}
