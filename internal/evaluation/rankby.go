package evaluation

import (
	"math"

	"zhizhi/internal/apperr"
)

// ScoreIndicator is the RankBy key of the composite score.
const ScoreIndicator = "score"

// FigureOf returns a score's figure of an indicator (any indicator of the
// kind, weighted or not).
func (s Score) FigureOf(indicator string) (Figure, bool) {
	for _, f := range s.Figures {
		if f.Indicator == indicator {
			return f, true
		}
	}
	for _, p := range s.Parts {
		if p.Indicator == indicator {
			return p.Figure, true
		}
	}
	return Figure{}, false
}

// RankBy orders scores of one kind by one indicator instead of the
// composite score: by the indicator's points (its rate, or one minus it for
// a rate where less is better, so the best always comes first), rounded to
// two decimals as scores are. The tie-break is Rank's (TieBreak): more work
// first, then the subject code; equal points and work share a place. A
// subject is ranked when the indicator has something to rate (a non-zero
// denominator) and its work reaches minWork; the others follow by code.
// indicator "" or ScoreIndicator ranks by the composite score (Rank). An
// indicator that does not exist or does not apply to kind is an error on
// the field "by".
func RankBy(scores []Score, kind SubjectKind, indicator string, minWork int) ([]Ranked, error) {
	if indicator == "" || indicator == ScoreIndicator {
		return Rank(scores, minWork), nil
	}
	ind, ok := IndicatorOf(indicator)
	if !ok {
		return nil, apperr.Field("by", "指标“"+indicator+"”不存在")
	}
	if !ind.Applies(kind) {
		return nil, apperr.Field("by", "指标“"+ind.Name+"”不用于"+kind.Label())
	}
	briefs := make([]Brief, len(scores))
	for i := range scores {
		sc := &scores[i]
		f, _ := sc.FigureOf(indicator)
		briefs[i] = Brief{Row: i, Subject: sc.Subject, Value: sc.Value, Work: sc.Work,
			Key: math.Round(f.Points*100) / 100, Eligible: f.Defined && sc.Work >= minWork}
	}
	return placed(scores, briefs), nil
}
