package evaluation

import (
	"math"
	"sort"

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
	type row struct {
		Ranked
		points   float64
		eligible bool
	}
	rows := make([]row, len(scores))
	for i, s := range scores {
		f, _ := s.FigureOf(indicator)
		rows[i] = row{Ranked: Ranked{Score: s}, points: math.Round(f.Points*100) / 100, eligible: f.Defined && s.Work >= minWork}
	}
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.eligible != b.eligible {
			return a.eligible
		} else if !a.eligible {
			return a.Subject < b.Subject
		}
		if a.points != b.points {
			return a.points > b.points
		}
		if a.Work != b.Work {
			return a.Work > b.Work
		}
		return a.Subject < b.Subject
	})
	out := make([]Ranked, len(rows))
	for i := range rows {
		out[i] = rows[i].Ranked
		if !rows[i].eligible {
			continue
		}
		if i > 0 && rows[i-1].eligible && rows[i-1].points == rows[i].points && rows[i-1].Work == rows[i].Work {
			out[i].Rank = out[i-1].Rank
		} else {
			out[i].Rank = i + 1
		}
	}
	return out, nil
}
