package api_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"zhizhi/internal/evaluation"
	"zhizhi/internal/service"
)

// TestFigureDrillDown: every figure of the district's grids, streets and
// units for a span of the demo's history can be checked by counting: the
// case list behind its numerator and its denominator
// (/api/v1/cases?fact=…&period=…) has exactly as many cases as the figure
// says. Bad drill-down parameters name the field.
func TestFigureDrillDown(t *testing.T) {
	ctx := context.Background()
	svc := plat.Service
	if _, err := svc.RebuildRollups(ctx); err != nil {
		t.Fatal(err)
	}
	loc := svc.Calendar().Location()
	now := svc.Now().In(loc)
	period := now.AddDate(0, -2, 0).Format("2006-01-02") + "~" + now.Format("2006-01-02")
	tok := token(t, "qu_zhihui")
	checked := 0
	for _, kind := range []evaluation.SubjectKind{evaluation.Street, evaluation.Grid, evaluation.Unit} {
		st, body := call(t, tok, "GET", "/api/v1/evaluation?kind="+string(kind)+"&under=500103&top=10&period="+url.QueryEscape(period), nil)
		if st != http.StatusOK {
			t.Fatalf("%s ranking: %d %s", kind, st, body)
		}
		var out rankingView
		mustJSON(t, body, &out)
		if len(out.Items) == 0 {
			t.Fatalf("%s: nothing ranked", kind)
		}
		for _, it := range out.Items {
			for _, f := range it.Figures {
				ind, _ := evaluation.IndicatorOf(f.Indicator)
				for _, side := range []struct {
					m    evaluation.Measure
					want int
				}{{ind.Num, f.Num}, {ind.Den, f.Den}} {
					q := service.DrillQuery(kind, it.Subject, side.m, period)
					q.Set("limit", "500")
					st, body := call(t, tok, "GET", "/api/v1/cases?"+q.Encode(), nil)
					if st != http.StatusOK {
						t.Fatalf("%s %s %s: %d %s", kind, it.Subject, side.m, st, body)
					}
					var list struct {
						Items []struct {
							ID string `json:"id"`
						} `json:"items"`
						Total int `json:"total"`
					}
					mustJSON(t, body, &list)
					if list.Total != side.want || (side.want <= 500 && len(list.Items) != side.want) {
						t.Errorf("%s %s (%s) %s: figure says %d, the list has %d (total %d)", kind, it.Subject, it.Name, side.m, side.want, len(list.Items), list.Total)
					}
					checked++
				}
			}
		}
	}
	t.Logf("%d figure sides checked by counting", checked)

	for _, bad := range []struct{ q, field string }{
		{"fact=grid:500103001001001:closed", "period"},
		{"fact=grid:nowhere:closed&period=2026-11", "fact"},
		{"fact=grid:500103001001001:nothing&period=2026-11", "fact"},
		{"fact=planet:x:closed&period=2026-11", "fact"},
		{"fact=grid&period=2026-11", "fact"},
		{"fact=grid:500103001001001:closed&period=2026-13", "period"},
	} {
		st, body := call(t, tok, "GET", "/api/v1/cases?"+bad.q, nil)
		if st != http.StatusBadRequest || !strings.Contains(string(body), `"field":"`+bad.field+`"`) {
			t.Errorf("%s: %d %s, want 400 naming %s", bad.q, st, body, bad.field)
		}
	}
}

// TestEvaluationRankBy: ranking by one indicator orders by its rate (best
// first), keeps each subject's figures, and refuses an indicator that does
// not apply to the kind, naming the field.
func TestEvaluationRankBy(t *testing.T) {
	ctx := context.Background()
	svc := plat.Service
	if _, err := svc.RebuildRollups(ctx); err != nil {
		t.Fatal(err)
	}
	loc := svc.Calendar().Location()
	now := svc.Now().In(loc)
	period := url.QueryEscape(now.AddDate(0, -6, 0).Format("2006-01-02") + "~" + now.Format("2006-01-02"))
	tok := token(t, "qu_zhihui")
	st, body := call(t, tok, "GET", "/api/v1/evaluation?kind=street&by=satisfaction_rate&top=5&period="+period, nil)
	if st != http.StatusOK {
		t.Fatalf("by satisfaction: %d %s", st, body)
	}
	var out rankingView
	mustJSON(t, body, &out)
	// More than five only when places tie at the fifth (ties included).
	if len(out.Items) == 0 || len(out.Items) > 5 && out.Items[len(out.Items)-1].Rank != out.Items[4].Rank {
		t.Fatalf("items: %s", body)
	}
	rate := func(i int) float64 {
		for _, f := range out.Items[i].Figures {
			if f.Indicator == "satisfaction_rate" && f.Den > 0 {
				return float64(f.Num) / float64(f.Den)
			}
		}
		return -1
	}
	for i := 1; i < len(out.Items); i++ {
		if out.Items[i].Rank > 0 && rate(i) > rate(i-1)+1e-4 {
			t.Errorf("place %d (%.3f) after place %d (%.3f)", out.Items[i].Rank, rate(i), out.Items[i-1].Rank, rate(i-1))
		}
	}
	if st, body := call(t, tok, "GET", "/api/v1/evaluation?kind=street&by=response_rate&period="+period, nil); st != http.StatusBadRequest || !strings.Contains(string(body), `"field":"by"`) {
		t.Errorf("an indicator of units for streets: %d %s", st, body)
	}
}
