package service_test

import (
	"context"
	"net/url"
	"reflect"
	"testing"
	"time"

	"zhizhi/internal/cases"
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
			checkWindows(t, s, city, kind, period, r) // before the links are blanked below
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

// checkWindows: Rank's windows are cuts of the whole ranking, item for
// item (each scored in full with its links, only for the places returned):
// the first places, an offset and a limit, the first top places, one
// subject's place; total and ranked count the whole; by an indicator the
// places equal RankBy's over the whole ranking's scores.
func checkWindows(t *testing.T, s *service.Service, actor cases.Actor, kind evaluation.SubjectKind, period string, all service.Ranking) {
	t.Helper()
	ctx := context.Background()
	ranked := 0
	for _, it := range all.Items {
		if it.Rank > 0 {
			ranked++
		}
	}
	if all.Total != len(all.Items) || all.RankedN != ranked || all.By != evaluation.ScoreIndicator {
		t.Fatalf("%s %s: total %d ranked %d by %q, items %d ranked %d", period, kind, all.Total, all.RankedN, all.By, len(all.Items), ranked)
	}
	n := len(all.Items)
	for _, w := range []struct{ top, offset, limit int }{{0, 0, 3}, {0, 2, 3}, {0, n, 5}, {0, n + 7, 0}, {3, 0, 0}, {3, 1, 1}, {0, 1, 0}} {
		got, err := s.Rank(ctx, actor, service.RankingQuery{Kind: kind, Period: period, Top: w.top, Offset: w.offset, Limit: w.limit})
		if err != nil {
			t.Fatal(err)
		}
		want := all.Items
		if w.top > 0 {
			want = want[:0:0]
			for _, it := range all.Items {
				if it.Rank == 0 || it.Rank > w.top {
					break
				}
				want = append(want, it)
			}
		}
		off := min(w.offset, len(want))
		want = want[off:]
		if w.limit > 0 && len(want) > w.limit {
			want = want[:w.limit]
		}
		for k := range min(len(got.Items), len(want)) {
			if !reflect.DeepEqual(got.Items[k], want[k]) {
				t.Fatalf("%s %s window %+v item %d:\n got %+v\nwant %+v", period, kind, w, k, got.Items[k], want[k])
			}
		}
		if got.Offset != off || got.Total != all.Total || got.RankedN != all.RankedN || len(got.Items) != len(want) {
			t.Fatalf("%s %s window %+v: offset %d total %d ranked %d, %d items; want offset %d, %d items", period, kind, w, got.Offset, got.Total, got.RankedN, len(got.Items), off, len(want))
		}
	}
	for k, it := range all.Items {
		if k%7 != 0 {
			continue
		}
		got, err := s.Rank(ctx, actor, service.RankingQuery{Kind: kind, Period: period, Subject: it.Subject})
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Items) != 1 || got.Offset != k || !reflect.DeepEqual(got.Items[0], it) {
			t.Fatalf("%s %s subject %s: %d items at %d, want place %d", period, kind, it.Subject, len(got.Items), got.Offset, k)
		}
	}
	if got, err := s.Rank(ctx, actor, service.RankingQuery{Kind: kind, Period: period, Subject: "nobody"}); err != nil || len(got.Items) != 0 {
		t.Fatalf("%s %s: an unknown subject: %v %d items", period, kind, err, len(got.Items))
	}
	scores := make([]evaluation.Score, n)
	for i, it := range all.Items {
		scores[i] = it.Score
	}
	for _, ind := range evaluation.Indicators {
		if !ind.Applies(kind) {
			continue
		}
		want, err := evaluation.RankBy(scores, kind, ind.Code, all.MinWork)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Rank(ctx, actor, service.RankingQuery{Kind: kind, Period: period, By: ind.Code})
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Items) != len(want) || got.By != ind.Code {
			t.Fatalf("%s %s by %s: %d items by %q, want %d", period, kind, ind.Code, len(got.Items), got.By, len(want))
		}
		for k := range want {
			if got.Items[k].Subject != want[k].Subject || got.Items[k].Rank != want[k].Rank {
				t.Fatalf("%s %s by %s place %d: %s rank %d, want %s rank %d", period, kind, ind.Code, k, got.Items[k].Subject, got.Items[k].Rank, want[k].Subject, want[k].Rank)
			}
		}
	}
	for _, bad := range []service.RankingQuery{{Kind: kind, Period: period, Offset: -1}, {Kind: kind, Period: period, Limit: -2}, {Kind: kind, Period: period, By: "no_such"}} {
		if _, err := s.Rank(ctx, actor, bad); err == nil {
			t.Fatalf("%s %s: %+v accepted", period, kind, bad)
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
