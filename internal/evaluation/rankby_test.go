package evaluation

import (
	"errors"
	"reflect"
	"testing"

	"zhizhi/internal/apperr"
)

// grid makes a grid's score from a few counts; work is its due-to-close
// cases (the first weighted indicator's denominator).
func grid(code string, reported, onSpot, work, public, registered int) Score {
	return DefaultRules().Score(Grid, code, code, Counts{Reported: reported, OnSpot: onSpot, DueClose: work,
		Closed: work, ClosedOnTime: work, PublicVerified: public, Registered: registered})
}

func TestRankBy(t *testing.T) {
	type want struct {
		subject string
		rank    int
	}
	rows := []struct {
		name      string
		scores    []Score
		kind      SubjectKind
		indicator string
		minWork   int
		want      []want
		err       string
	}{
		{"higher rate first, ties by work then code", []Score{
			grid("g1", 10, 5, 10, 0, 0), grid("g2", 10, 8, 10, 0, 0), grid("g3", 8, 4, 6, 0, 0), grid("g0", 8, 4, 6, 0, 0)},
			Grid, "on_spot_rate", 1, []want{{"g2", 1}, {"g1", 2}, {"g0", 3}, {"g3", 3}}, ""},
		{"equal points and work share a place, the next place is skipped", []Score{
			grid("a", 4, 2, 5, 0, 0), grid("b", 4, 2, 5, 0, 0), grid("c", 4, 1, 5, 0, 0)},
			Grid, "on_spot_rate", 1, []want{{"a", 1}, {"b", 1}, {"c", 3}}, ""},
		{"a rate where less is better ranks the lowest first", []Score{
			grid("x", 10, 0, 10, 5, 10), grid("y", 10, 0, 10, 1, 10)},
			Grid, "public_report_rate", 1, []want{{"y", 1}, {"x", 2}}, ""},
		{"nothing to rate or too little work: not ranked, by code after the ranked", []Score{
			grid("z", 10, 0, 10, 0, 0), grid("m", 10, 0, 2, 1, 10), grid("k", 10, 0, 10, 2, 10), grid("b", 10, 0, 10, 0, 0)},
			Grid, "public_report_rate", 5, []want{{"k", 1}, {"b", 0}, {"m", 0}, {"z", 0}}, ""},
		{"rounded to two decimals like scores: 1/3 and 2/6 tie", []Score{
			grid("p", 3, 1, 6, 0, 0), grid("q", 6, 2, 6, 0, 0)},
			Grid, "on_spot_rate", 1, []want{{"p", 1}, {"q", 1}}, ""},
		{"empty indicator is the composite score (Rank)", []Score{
			grid("g1", 10, 5, 10, 0, 0), grid("g2", 10, 8, 10, 0, 0)},
			Grid, "", 1, []want{{"g2", 1}, {"g1", 2}}, ""},
		{"score is the composite score", []Score{
			grid("g1", 10, 9, 10, 0, 0), grid("g2", 10, 8, 10, 0, 0)},
			Grid, ScoreIndicator, 1, []want{{"g1", 1}, {"g2", 2}}, ""},
		{"unknown indicator", nil, Grid, "nope", 1, nil, "指标“nope”不存在"},
		{"an indicator of another kind", nil, Grid, "response_rate", 1, nil, "指标“响应率”不用于网格"},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			got, err := RankBy(r.scores, r.kind, r.indicator, r.minWork)
			if r.err != "" {
				var e *apperr.Error
				if !errors.As(err, &e) || len(e.Fields) != 1 || e.Fields[0].Field != "by" || e.Fields[0].Reason != r.err {
					t.Fatalf("error %v, want %q on by", err, r.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var out []want
			for _, g := range got {
				out = append(out, want{g.Subject, g.Rank})
			}
			if !reflect.DeepEqual(out, r.want) {
				t.Errorf("got %v, want %v", out, r.want)
			}
		})
	}
	// By the composite score RankBy is Rank, place for place.
	scores := []Score{grid("g1", 10, 5, 10, 0, 0), grid("g2", 10, 5, 10, 0, 0), grid("g3", 10, 1, 3, 0, 0)}
	a, _ := RankBy(scores, Grid, "", 5)
	if b := Rank(scores, 5); !reflect.DeepEqual(a, b) {
		t.Errorf("RankBy score %v, Rank %v", a, b)
	}
}
