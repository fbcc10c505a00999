package evaluation

import (
	"math"
	"slices"
	"strings"

	"zhizhi/internal/apperr"
)

// Brief is what ranking needs of one subject's score: the composite value
// and work, and the key it is ranked by (the value, or one indicator's
// points). Briefs let a ranking order a city's 62,000 grids without making
// their figures and parts; only the places shown are then scored in full
// (Scorer.Score), with the same arithmetic.
type Brief struct {
	Row      int     // the subject's row in its table (or any index the caller keeps)
	Subject  string  // the tie-break of last resort
	Value    float64 // the composite score, two decimals
	Work     int     // the first weighted indicator's denominator
	Key      float64 // what the ranking orders by, higher first
	Eligible bool    // ranked: the key is defined and work reaches the rules' MinWork
	Rank     int     // set by Order; 0 for a subject not ranked
}

// ByKey is how a ranking's key is read from a subject's counts: the
// composite score (ByScore) or one indicator's points.
type ByKey struct {
	ind   Indicator
	pos   [2]int
	score bool
}

// RankKey checks the indicator a ranking of kind is ordered by ("" or
// ScoreIndicator: the composite score) and prepares reading it. An
// indicator that does not exist or does not apply to kind is an error on
// the field "by".
func (s *Scorer) RankKey(indicator string) (ByKey, error) {
	if indicator == "" || indicator == ScoreIndicator {
		return ByKey{score: true}, nil
	}
	ind, ok := IndicatorOf(indicator)
	if !ok {
		return ByKey{}, apperr.Field("by", "指标“"+indicator+"”不存在")
	}
	if !ind.Applies(s.kind) {
		return ByKey{}, apperr.Field("by", "指标“"+ind.Name+"”不用于"+s.kind.Label())
	}
	return ByKey{ind: ind, pos: [2]int{posOf(s.measures, ind.Num), posOf(s.measures, ind.Den)}}, nil
}

// Brief computes a subject's brief from its counts in the Scorer's layout:
// the value and work exactly as Score computes them (the same code, into a
// scratch of parts), and the key by (RankBy's: the indicator's points
// rounded to two decimals, defined when its denominator is not zero).
func (s *Scorer) Brief(subject string, row []int, by ByKey) Brief {
	if cap(s.scratch) < len(s.weighted) {
		s.scratch = make([]Part, len(s.weighted))
	}
	parts := s.scratch[:len(s.weighted)]
	value, work, defined := s.fill(row, parts)
	b := Brief{Subject: subject, Value: value, Work: work, Key: value, Eligible: defined && work >= s.rules.MinWork}
	if !by.score {
		f := by.ind.figure(at(row, by.pos[0]), at(row, by.pos[1]))
		b.Key = math.Round(f.Points*100) / 100
		b.Eligible = f.Defined && work >= s.rules.MinWork
	}
	return b
}

// Order sorts briefs into the ranking's order and sets their places:
// eligible subjects first by key (higher first), ties broken by work (more
// first) then by subject code (TieBreak), equal key and work sharing a
// place (1, 2, 2, 4); the others follow by code with place 0.
//
// The order is total (equal subject codes, which one table never holds,
// fall back to the rows' order), so an unstable sort gives the one result:
// a city's 62,000 grids sort in a third of a stable sort's time.
func Order(briefs []Brief) {
	slices.SortFunc(briefs, func(a, b Brief) int {
		if a.Eligible != b.Eligible {
			if a.Eligible {
				return -1
			}
			return 1
		}
		if !a.Eligible {
			if c := strings.Compare(a.Subject, b.Subject); c != 0 {
				return c
			}
			return a.Row - b.Row
		}
		if a.Key != b.Key {
			if a.Key > b.Key {
				return -1
			}
			return 1
		}
		if a.Work != b.Work {
			return b.Work - a.Work
		}
		if c := strings.Compare(a.Subject, b.Subject); c != 0 {
			return c
		}
		return a.Row - b.Row
	})
	for i := range briefs {
		b := &briefs[i]
		b.Rank = 0
		if !b.Eligible {
			continue
		}
		if i > 0 && briefs[i-1].Rank > 0 && briefs[i-1].Key == b.Key && briefs[i-1].Work == b.Work {
			b.Rank = briefs[i-1].Rank
		} else {
			b.Rank = i + 1
		}
	}
}

// TopN is how many ordered briefs the first n places hold (a tie at the
// n-th place brings in every subject sharing it): Top's cut.
func TopN(briefs []Brief, n int) int {
	k := 0
	for k < len(briefs) && briefs[k].Rank > 0 && briefs[k].Rank <= n {
		k++
	}
	return k
}
