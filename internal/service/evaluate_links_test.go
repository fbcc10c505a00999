package service_test

import (
	"context"
	"net/url"
	"reflect"
	"testing"
	"time"

	"zhizhi/internal/evaluation"
	"zhizhi/internal/server/servertest"
	"zhizhi/internal/service"
)

// TestEvaluateMatchesCounts: every item Evaluate returns (read densely from
// the rollups, scored by a Scorer, its links cut from one string per
// subject) equals the score Rules.Score gives on the subject's counts as the
// map RollupMeasures returns, with each figure's links exactly DrillQuery's
// and the cohort link url.Values' encoding of the subject and the period;
// and no subject with work is missing.
func TestEvaluateMatchesCounts(t *testing.T) {
	p, _, closeAll, err := servertest.Demo("evallinks", 400)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll()
	ctx := context.Background()
	s := p.Service
	if _, err := s.RebuildRollups(ctx); err != nil {
		t.Fatal(err)
	}
	acc, err := p.DB.AccountByUsername(ctx, "shi_zhihui")
	if err != nil {
		t.Fatal(err)
	}
	city := s.ActorOf(acc)
	loc := s.Calendar().Location()
	book, err := s.RuleBook(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, period := range []string{s.Now().In(loc).Format("2006-01"), s.Now().In(loc).AddDate(0, -1, 0).Format("2006-01")} {
		for _, kind := range []evaluation.SubjectKind{evaluation.Grid, evaluation.Community, evaluation.Street, evaluation.Unit, evaluation.Inspector, evaluation.ShiftLead} {
			r, err := s.Evaluate(ctx, city, kind, period, "", 0)
			if err != nil {
				t.Fatal(err)
			}
			pd, err := evaluation.ParsePeriod(period, loc)
			if err != nil {
				t.Fatal(err)
			}
			from, to := pd.Days(loc)
			counts, err := p.DB.RollupMeasures(ctx, kind, evaluation.MeasuresFor(kind), "", from, to)
			if err != nil {
				t.Fatal(err)
			}
			rules := book.InForce(pd.Start)
			var dens []evaluation.Measure
			for _, ind := range evaluation.Indicators {
				if ind.Applies(kind) {
					dens = append(dens, ind.Den)
				}
			}
			withWork := 0
			for _, c := range counts {
				w := 0
				for _, m := range dens {
					w += c[m]
				}
				if w > 0 {
					withWork++
				}
			}
			if kind != evaluation.Inspector && kind != evaluation.ShiftLead && len(r.Items) != withWork {
				t.Errorf("%s %s: %d items, %d subjects with work", period, kind, len(r.Items), withWork)
			}
			if len(r.Items) == 0 && period != s.Now().In(loc).Format("2006-01") {
				t.Errorf("%s %s: nothing ranked", period, kind)
			}
			for _, it := range r.Items {
				want := rules.Score(kind, it.Subject, it.Name, counts[it.Subject])
				want.Period = pd.Label
				got := it.Score
				link := func(m evaluation.Measure) string {
					return "/api/v1/cases?" + service.DrillQuery(kind, it.Subject, m, period).Encode()
				}
				for _, fs := range [][]*evaluation.Figure{figs(got.Figures), partFigs(got.Parts)} {
					for _, f := range fs {
						ind, _ := evaluation.IndicatorOf(f.Indicator)
						if f.NumCases != link(ind.Num) || f.DenCases != link(ind.Den) {
							t.Fatalf("%s %s %s: links %q %q, want %q %q", kind, it.Subject, f.Indicator, f.NumCases, f.DenCases, link(ind.Num), link(ind.Den))
						}
						f.NumCases, f.DenCases = "", ""
					}
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("%s %s:\n got %+v\nwant %+v", kind, it.Subject, got, want)
				}
				q := url.Values{"from": {pd.Start.In(loc).Format(time.RFC3339)}, "to": {pd.End.In(loc).Format(time.RFC3339)}}
				switch kind {
				case evaluation.Grid:
					q.Set("grid", it.Subject)
				case evaluation.Unit:
					q.Set("unit", it.Subject)
				case evaluation.Inspector, evaluation.ShiftLead:
					q = service.DrillQuery(kind, it.Subject, dens[0], period)
				default:
					q.Set("region", it.Subject)
				}
				if w := "/api/v1/cases?" + q.Encode(); it.Cases != w {
					t.Fatalf("%s %s: cases link %q, want %q", kind, it.Subject, it.Cases, w)
				}
			}
		}
	}
}

func figs(fs []evaluation.Figure) []*evaluation.Figure {
	out := make([]*evaluation.Figure, len(fs))
	for i := range fs {
		out[i] = &fs[i]
	}
	return out
}

func partFigs(ps []evaluation.Part) []*evaluation.Figure {
	out := make([]*evaluation.Figure, len(ps))
	for i := range ps {
		out[i] = &ps[i].Figure
	}
	return out
}
