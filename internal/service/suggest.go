package service

import (
	"sort"
	"strings"

	"zhizhi/internal/cases"
	"zhizhi/internal/geo"
)

// Suggestion is a category (and its default unit) proposed for a report.
type Suggestion struct {
	Category cases.Category `json:"category"`
	Unit     *cases.Unit    `json:"unit,omitempty"`
	Score    int            `json:"score"`
}

// Suggest proposes categories for a description, best first: each keyword of
// a category found in the text scores by its length, the category's name
// found whole scores more. The default unit comes with each.
func (s *Service) Suggest(text string, limit int) []Suggestion {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil
	}
	var out []Suggestion
	for _, c := range s.Categories() {
		if !c.Active {
			continue
		}
		score := 0
		if strings.Contains(text, c.Name) {
			score += 3 * len([]rune(c.Name))
		}
		for _, k := range c.Keywords {
			if k != "" && strings.Contains(text, k) {
				score += len([]rune(k))
			}
		}
		if score > 0 {
			sg := Suggestion{Category: c, Score: score}
			if u, ok := s.Unit(c.DefaultUnit); ok {
				sg.Unit = &u
			}
			out = append(out, sg)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Score > out[j].Score })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

// Placement tells where a point falls: its grid and the path names, for the
// report form to show before sending.
func (s *Service) Placement(p geo.Point) (code string, names []string, ok bool) {
	code, ok = s.Locate(p)
	if !ok {
		return "", nil, false
	}
	path, _ := s.RegionPath(code)
	for _, c := range strings.Split(strings.Trim(path, "/"), "/") {
		names = append(names, s.RegionName(c))
	}
	return code, names, true
}
