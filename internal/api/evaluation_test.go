package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// TestEvaluationRanking: a district commander ranks the grids of the district
// for the current month from the rollups; a grid worker may not; a bad
// period names the field.
func TestEvaluationRanking(t *testing.T) {
	ctx := context.Background()
	svc := plat.Service
	if _, err := svc.RebuildRollups(ctx); err != nil {
		t.Fatal(err)
	}
	period := svc.Now().In(svc.Calendar().Location()).Format("2006-01")
	path := "/api/v1/evaluation?kind=grid&under=500103&period=" + period
	st, body := call(t, token(t, "qu_zhihui"), "GET", path, nil)
	if st != http.StatusOK {
		t.Fatalf("commander: %d %s", st, body)
	}
	var out rankingView
	mustJSON(t, body, &out)
	if out.Period.Key != period || out.Rules != 1 || out.TieBreak == "" {
		t.Errorf("header: %s", body)
	}
	if len(out.Items) == 0 {
		t.Fatalf("no grids ranked: %s", body)
	}
	ranked := 0
	for i, it := range out.Items {
		if !strings.HasPrefix(it.Subject, "500103") || it.Name == "" || len(it.Figures) == 0 {
			t.Errorf("item %d: %+v", i, it)
		}
		if !strings.HasPrefix(it.Cases, "/api/v1/cases?") || !strings.Contains(it.Cases, "grid="+it.Subject) {
			t.Errorf("item %d: cases link %q", i, it.Cases)
		}
		if it.Rank > 0 {
			ranked++
			if i > 0 && (out.Items[i-1].Rank == 0 || out.Items[i-1].Score < it.Score) {
				t.Errorf("item %d out of order: %+v after %+v", i, it, out.Items[i-1])
			}
		}
	}
	t.Logf("%d grids, %d ranked", len(out.Items), ranked)
	// Over the demo's history (six months) the streets have work enough to be ranked.
	loc := svc.Calendar().Location()
	now := svc.Now().In(loc)
	span := now.AddDate(0, -6, 0).Format("2006-01-02") + "~" + now.Format("2006-01-02")
	st, body = call(t, token(t, "qu_zhihui"), "GET", "/api/v1/evaluation?kind=street&period="+span, nil)
	if st != http.StatusOK {
		t.Fatalf("streets: %d %s", st, body)
	}
	streets := out
	streets.Items = nil
	mustJSON(t, body, &streets)
	if len(streets.Items) == 0 || streets.Items[0].Rank != 1 {
		t.Errorf("streets not ranked: %s", body)
	}
	for i := 1; i < len(streets.Items); i++ {
		a, b := streets.Items[i-1], streets.Items[i]
		if b.Rank > 0 && (a.Rank == 0 || a.Rank > b.Rank || a.Score < b.Score) {
			t.Errorf("streets out of order: %+v after %+v", b, a)
		}
	}
	// The link lists the grid's cohort.
	if st, body := call(t, token(t, "qu_zhihui"), "GET", out.Items[0].Cases, nil); st != http.StatusOK {
		t.Errorf("cases link: %d %s", st, body)
	}

	if st, body := call(t, token(t, "zhouchunyan"), "GET", path, nil); st != http.StatusForbidden {
		t.Errorf("grid worker: %d %s", st, body)
	}
	// A street commander may not look above the street.
	if st, body := call(t, token(t, "syl_zhihui"), "GET", path, nil); st != http.StatusForbidden {
		t.Errorf("street commander on the district: %d %s", st, body)
	}
	st, body = call(t, token(t, "qu_zhihui"), "GET", "/api/v1/evaluation?kind=unit&period="+span, nil)
	if st != http.StatusOK || !strings.Contains(string(body), `"cases":"/api/v1/cases?from=`) {
		t.Errorf("units: %d %s", st, body)
	}
	st, body = call(t, token(t, "qu_zhihui"), "GET", "/api/v1/evaluation?kind=city", nil)
	if st != http.StatusBadRequest || !strings.Contains(string(body), `"field":"kind"`) {
		t.Errorf("bad kind: %d %s", st, body)
	}
	st, body = call(t, token(t, "qu_zhihui"), "GET", "/api/v1/evaluation?kind=grid&period=2026-13", nil)
	if st != http.StatusBadRequest || !strings.Contains(string(body), `"field":"period"`) {
		t.Errorf("bad period: %d %s", st, body)
	}
}

// rankingView is the part of GET /api/v1/evaluation the tests read.
type rankingView struct {
	Period struct {
		Key string `json:"key"`
	} `json:"period"`
	Rules    int    `json:"rules_version"`
	TieBreak string `json:"tie_break"`
	Items    []struct {
		Rank    int     `json:"rank"`
		Subject string  `json:"subject"`
		Name    string  `json:"name"`
		Score   float64 `json:"score"`
		Work    int     `json:"work"`
		Cases   string  `json:"cases"`
		Figures []struct {
			Indicator string `json:"indicator"`
			Num       int    `json:"num"`
			Den       int    `json:"den"`
		} `json:"figures"`
	} `json:"items"`
}
