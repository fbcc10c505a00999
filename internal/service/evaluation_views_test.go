package service_test

import (
	"context"
	"strings"
	"testing"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/evaluation"
	"zhizhi/internal/server/servertest"
	"zhizhi/internal/service"
)

// TestEvaluationViews: a score card's trend is twelve periods of the same
// kind ending with the one asked, each score the one Evaluate gives; the
// card places the subject among its peers in the caller's region, and
// refuses subjects outside it; the region choices and the map's grids stay
// under the region.
func TestEvaluationViews(t *testing.T) {
	p, _, closeAll, err := servertest.Demo("evalviews", 300)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll()
	ctx := context.Background()
	s := p.Service
	if _, err := s.RebuildRollups(ctx); err != nil {
		t.Fatal(err)
	}
	as := func(user string) cases.Actor {
		acc, err := p.DB.AccountByUsername(ctx, user)
		if err != nil {
			t.Fatal(err)
		}
		return s.ActorOf(acc)
	}
	qu, syl, jfb := as("qu_zhihui"), as("syl_zhihui"), as("jfb_zhihui")
	code := func(path string) string {
		parts := strings.Split(strings.Trim(path, "/"), "/")
		return parts[len(parts)-1]
	}
	street := code(syl.RegionPath)
	loc := s.Calendar().Location()
	month := s.Now().In(loc).AddDate(0, -1, 0).Format("2006-01")

	trend, err := s.Trend(ctx, qu, evaluation.Street, street, month, 12)
	if err != nil {
		t.Fatal(err)
	}
	if len(trend) != 12 || trend[11].Period.Key != month {
		t.Fatalf("trend: %d periods, last %v", len(trend), trend[len(trend)-1].Period)
	}
	found := 0
	for i, tp := range trend {
		if i > 0 {
			if prev, _ := tp.Period.Previous(loc); prev.Key != trend[i-1].Period.Key {
				t.Errorf("period %d %s follows %s", i, tp.Period.Key, trend[i-1].Period.Key)
			}
		}
		rk, err := s.Evaluate(ctx, qu, evaluation.Street, tp.Period.Key, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		var want *service.RankedItem
		for j := range rk.Items {
			if rk.Items[j].Subject == street {
				want = &rk.Items[j]
			}
		}
		if (want != nil) != tp.Found || want != nil && want.Value != tp.Score.Value {
			t.Errorf("%s: trend %+v, Evaluate %+v", tp.Period.Key, tp, want)
		}
		if tp.Found {
			found++
		}
	}
	if found < 3 {
		t.Errorf("the street had cases in only %d of the last 12 months", found)
	}

	card, err := s.Card(ctx, qu, evaluation.Street, street, month)
	if err != nil {
		t.Fatal(err)
	}
	if !card.Found || card.Name != "石油路街道" || card.Ranked == 0 || card.Item.Rank == 0 || len(card.Trend) != service.TrendPeriods ||
		card.Period.Key != month || len(card.Items) != 0 {
		t.Errorf("card: %+v", card)
	}
	if _, err := s.Card(ctx, jfb, evaluation.Street, street, month); !apperr.Is(err, apperr.Forbidden) {
		t.Errorf("another street's card: %v", err)
	}
	if _, err := s.Card(ctx, qu, evaluation.Grid, "nowhere", month); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("unknown grid: %v", err)
	}
	if _, err := s.Card(ctx, qu, evaluation.Street, street, "2026-13"); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("bad period: %v", err)
	}
	if _, err := s.Card(ctx, as("zhouchunyan"), evaluation.Street, street, month); !apperr.Is(err, apperr.Forbidden) {
		t.Errorf("grid worker: %v", err)
	}

	choices := s.RegionsUnder(qu, 1)
	if len(choices) < 2 || choices[0].Depth != 0 || choices[0].Name != "渝中区" {
		t.Fatalf("choices: %+v", choices)
	}
	for _, c := range choices[1:] {
		path, _ := s.RegionPath(c.Code)
		if c.Depth != 1 || !strings.HasPrefix(path, qu.RegionPath) {
			t.Errorf("choice %+v (%s)", c, path)
		}
	}

	grids, bounds, truncated, err := service.NewMaps(s).GridShapes(ctx, syl.RegionPath, 1500)
	if err != nil || len(grids) == 0 || truncated || !bounds.Min.Valid() {
		t.Fatalf("grids: %d %v %v %v", len(grids), bounds, truncated, err)
	}
	for _, g := range grids {
		if path, _ := s.RegionPath(g.Code); !strings.HasPrefix(path, syl.RegionPath) || len(g.Shape) == 0 {
			t.Errorf("grid %s at %s", g.Code, path)
		}
	}
	if few, _, truncated, _ := service.NewMaps(s).GridShapes(ctx, syl.RegionPath, 2); len(few) != 2 || !truncated {
		t.Errorf("bounded to 2: %d %v", len(few), truncated)
	}
}
