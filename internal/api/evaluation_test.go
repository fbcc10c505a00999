package api_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"
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
	if out.Period.Key != period || out.Rules < 1 || out.TieBreak == "" {
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
			NumCases  string `json:"num_cases"`
			DenCases  string `json:"den_cases"`
		} `json:"figures"`
	} `json:"items"`
}

// TestEvaluationPeople: districts and the center's people are ranked; each
// figure links its numerator's and denominator's cases.
func TestEvaluationPeople(t *testing.T) {
	ctx := context.Background()
	svc := plat.Service
	if _, err := svc.RebuildRollups(ctx); err != nil {
		t.Fatal(err)
	}
	loc := svc.Calendar().Location()
	now := svc.Now().In(loc)
	span := now.AddDate(0, -6, 0).Format("2006-01-02") + "~" + now.Format("2006-01-02")
	for _, kind := range []string{"district", "inspector", "intake", "shift_lead", "dispatcher"} {
		st, body := call(t, token(t, "qu_zhihui"), "GET", "/api/v1/evaluation?kind="+kind+"&period="+span, nil)
		if st != http.StatusOK {
			t.Fatalf("%s: %d %s", kind, st, body)
		}
		var out rankingView
		mustJSON(t, body, &out)
		if len(out.Items) == 0 && kind != "inspector" {
			t.Errorf("%s: nobody ranked: %s", kind, body)
		}
		for _, it := range out.Items {
			if it.Name == "" || it.Cases == "" {
				t.Errorf("%s: item %+v", kind, it)
			}
			for _, f := range it.Figures {
				if !strings.HasPrefix(f.NumCases, "/api/v1/cases?fact="+kind+"%3A"+it.Subject) || !strings.Contains(f.DenCases, "period=") {
					t.Errorf("%s %s: links %q %q", kind, f.Indicator, f.NumCases, f.DenCases)
				}
			}
		}
		t.Logf("%s: %d ranked", kind, len(out.Items))
	}
}

// TestEvaluationRules: the rule book is read by commanders and changed by
// district administrators only, one new version at a time; bad input names
// the field and changes nothing; a new version scores the periods that
// begin at or after its start, and only those.
func TestEvaluationRules(t *testing.T) {
	ctx := context.Background()
	svc := plat.Service
	loc := svc.Calendar().Location()
	type book struct {
		InForce  int `json:"in_force"`
		Versions []struct {
			Version int `json:"version"`
		} `json:"versions"`
	}
	read := func() book {
		var b book
		mustJSON(t, as(t, "qu_zhihui", 200, "GET", "/api/v1/evaluation/rules", nil), &b)
		return b
	}
	before := read()
	if len(before.Versions) == 0 || before.InForce != before.Versions[len(before.Versions)-1].Version {
		t.Fatalf("rule book: %+v", before)
	}
	if st, body := call(t, token(t, "zhouchunyan"), "GET", "/api/v1/evaluation/rules", nil); st != http.StatusForbidden {
		t.Errorf("grid worker reads the rules: %d %s", st, body)
	}

	// A grid reports and the street accepts a case today: one registered,
	// none public, none on the spot.
	p := upload(t, "zhouchunyan", 141)
	_, own := gridOf(t, "zhouchunyan")
	pt := pointIn(t, own)
	var c struct {
		ID       string `json:"id"`
		GridCode string `json:"grid_code"`
	}
	mustJSON(t, as(t, "zhouchunyan", 201, "POST", "/api/v1/cases", map[string]any{
		"source": "patrol", "category": "MS03", "point": map[string]float64{"lng": pt.Lng, "lat": pt.Lat}, "address": "新影村某处",
		"description": "规则版本测试", "photos": []photoRef{{Hash: p.Hash}}}), &c)
	as(t, "syl_zhihui", 200, "POST", "/api/v1/cases/"+c.ID+"/actions", map[string]any{"action": "accept"})
	if _, err := svc.Roll(ctx, svc.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	start := time.Date(svc.Now().In(loc).Year(), svc.Now().In(loc).Month(), svc.Now().In(loc).Day(), 0, 0, 0, 0, loc)
	day := start.Format("2006-01-02")
	span := start.AddDate(0, 0, -1).Format("2006-01-02") + "~" + day // began yesterday
	onSpot := 0.0                                                    // the grid's on-the-spot rate today, in points
	score := func(period string) (float64, int) {
		t.Helper()
		var out rankingView
		mustJSON(t, as(t, "qu_zhihui", 200, "GET", "/api/v1/evaluation?kind=grid&period="+period, nil), &out)
		for _, it := range out.Items {
			if it.Subject == c.GridCode {
				for _, f := range it.Figures {
					if f.Indicator == "on_spot_rate" && f.Den > 0 && period == day {
						onSpot = math.Round(10000*float64(f.Num)/float64(f.Den)) / 100
					}
				}
				return it.Score, out.Rules
			}
		}
		t.Fatalf("%s: grid %s not evaluated", period, c.GridCode)
		return 0, 0
	}
	dayScore, dayRules := score(day)
	spanScore, spanRules := score(span)

	rules := map[string]any{"effective_from": start.Format(time.RFC3339), "min_work": 1,
		"bands":   []map[string]any{{"grade": "A", "min": 90}, {"grade": "B", "min": 60}, {"grade": "C", "min": 0}},
		"weights": map[string]any{}}
	w := rules["weights"].(map[string]any)
	for _, k := range []string{"grid", "community", "street", "district"} {
		w[k] = []map[string]any{{"indicator": "on_spot_rate", "weight": 100}}
	}
	w["unit"] = []map[string]any{{"indicator": "response_rate", "weight": 100}}
	w["inspector"] = []map[string]any{{"indicator": "valid_report_rate", "weight": 100}}
	w["intake"] = []map[string]any{{"indicator": "on_time_register_rate", "weight": 100}}
	w["shift_lead"] = []map[string]any{{"indicator": "on_time_closing_rate", "weight": 100}}
	w["dispatcher"] = []map[string]any{{"indicator": "on_time_dispatch_rate", "weight": 100}}

	// Bad input: no effective_from, weights that do not add up, an
	// indicator of another kind; nothing changes.
	bad := map[string]any{"min_work": 1, "bands": rules["bands"], "weights": map[string]any{
		"grid": []map[string]any{{"indicator": "on_spot_rate", "weight": 60}},
		"unit": []map[string]any{{"indicator": "on_spot_rate", "weight": 100}}}}
	st, body := call(t, token(t, "admin"), "POST", "/api/v1/evaluation/rules", bad)
	if st != http.StatusBadRequest {
		t.Fatalf("bad rules: %d %s", st, body)
	}
	for _, f := range []string{`"field":"effective_from"`, `"field":"weights.grid"`, `"field":"weights.unit[0]"`, `"field":"weights.dispatcher"`} {
		if !strings.Contains(string(body), f) {
			t.Errorf("bad rules: no %s in %s", f, body)
		}
	}
	past := map[string]any{}
	for k, v := range rules {
		past[k] = v
	}
	past["effective_from"] = start.AddDate(0, 0, -1).Format(time.RFC3339)
	if st, body := call(t, token(t, "admin"), "POST", "/api/v1/evaluation/rules", past); st != http.StatusBadRequest || !strings.Contains(string(body), `"field":"effective_from"`) {
		t.Errorf("rules for yesterday: %d %s", st, body)
	}
	// An administrator of a street may not; nor a commander.
	streetAdmin(t)
	if st, body := call(t, token(t, "syl_admin"), "POST", "/api/v1/evaluation/rules", rules); st != http.StatusForbidden {
		t.Errorf("street admin: %d %s", st, body)
	}
	if st, body := call(t, token(t, "qu_zhihui"), "POST", "/api/v1/evaluation/rules", rules); st != http.StatusForbidden {
		t.Errorf("commander: %d %s", st, body)
	}
	if b := read(); len(b.Versions) != len(before.Versions) {
		t.Fatalf("refused input changed the book: %+v", b)
	}

	var added struct {
		Version int `json:"version"`
	}
	mustJSON(t, as(t, "admin", 201, "POST", "/api/v1/evaluation/rules", rules), &added)
	if added.Version != before.Versions[len(before.Versions)-1].Version+1 {
		t.Errorf("new version %d after %+v", added.Version, before)
	}
	if b := read(); len(b.Versions) != len(before.Versions)+1 || b.InForce != added.Version {
		t.Errorf("book after adding: %+v", b)
	}
	// The same start again: refused, versions never edited.
	if st, body := call(t, token(t, "admin"), "POST", "/api/v1/evaluation/rules", rules); st != http.StatusBadRequest {
		t.Errorf("second version at the same start: %d %s", st, body)
	}
	// Today (begins at the new start): scored by the new version, on the
	// spot alone (the new case was not solved on the spot, so below the
	// old score, which rated its registration 100); the range that began
	// yesterday: as before.
	if s, v := score(day); v != added.Version || s == dayScore || s != onSpot {
		t.Errorf("today: score %v (version %d), was %v (version %d)", s, v, dayScore, dayRules)
	}
	if s, v := score(span); v != spanRules || s != spanScore {
		t.Errorf("since yesterday: score %v (version %d), was %v (version %d)", s, v, spanScore, spanRules)
	}
	var audit struct {
		Items []struct {
			Kind     string `json:"kind"`
			ObjectID string `json:"object_id"`
		} `json:"items"`
	}
	mustJSON(t, as(t, "admin", 200, "GET", "/api/v1/audit?kind=evaluation_rules", nil), &audit)
	if len(audit.Items) == 0 || audit.Items[0].ObjectID != fmt.Sprintf("v%d", added.Version) {
		t.Errorf("audit: %+v", audit)
	}
}
