package gridwork

import (
	"math"
	"sort"
)

// Figure is the grid work one grid worker or one grid did in a period.
type Figure struct {
	Kind      string    `json:"kind"` // worker or grid
	ID        string    `json:"id"`   // account ID or grid code
	Name      string    `json:"name"`
	Patrols   int       `json:"patrols"`   // patrols made
	Counted   int       `json:"counted"`   // of which long enough for the plan
	Minutes   int       `json:"minutes"`   // time on patrol
	Kilometer float64   `json:"kilometer"` // distance walked
	Coverage  *Coverage `json:"coverage,omitempty"`
	Visits    int       `json:"visits"`
	Needs     int       `json:"needs"`      // needs raised on visits
	Answered  int       `json:"answered"`   // answered on the spot
	ToCase    int       `json:"to_case"`    // turned into cases
	FollowUps int       `json:"follow_ups"` // follow-ups promised
	Reports   int       `json:"reports"`    // cases reported on patrols
	Messages  int       `json:"messages"`   // residents' messages: to a grid (blocked ones aside), or answered by a worker
	InTime    int       `json:"in_time"`    // of which answered or made a case within ReplyWithin
}

// Tally counts patrols, visits and residents' messages per worker and per
// grid. cells gives each grid's number of cells, for its coverage over the
// patrols counted; names the names of grids (workers are named by the
// records). A grid counts the messages it received (blocked ones aside), a
// worker those they answered or made a case; InTime those answered within
// ReplyWithin.
func Tally(patrols []Patrol, visits []Visit, messages []Message, cells map[string]int, names map[string]string) []Figure {
	by := map[string]*Figure{}
	touched := map[string][][]int{}
	get := func(kind, id, name string) *Figure {
		k := kind + ":" + id
		f := by[k]
		if f == nil {
			f = &Figure{Kind: kind, ID: id, Name: name}
			by[k] = f
		}
		return f
	}
	for _, p := range patrols {
		for _, f := range []*Figure{get("worker", p.WorkerID, p.WorkerName), get("grid", p.GridCode, names[p.GridCode])} {
			f.Patrols++
			if p.Counted {
				f.Counted++
			}
			f.Minutes += int(p.Seconds / 60)
			f.Kilometer += p.Meters / 1000
			f.Reports += len(p.CaseIDs)
		}
		touched[p.GridCode] = append(touched[p.GridCode], p.Cells)
	}
	for _, v := range visits {
		for _, f := range []*Figure{get("worker", v.VisitorID, v.VisitorName), get("grid", v.Grid, names[v.Grid])} {
			f.Visits++
			for _, n := range v.Needs {
				f.Needs++
				switch n.Outcome {
				case Answered:
					f.Answered++
				case ToCase:
					f.ToCase++
				case FollowUp:
					f.FollowUps++
				}
			}
		}
	}
	for _, m := range messages {
		if m.State == Blocked {
			continue
		}
		fs := []*Figure{get("grid", m.GridCode, names[m.GridCode])}
		if m.AnsweredID != "" {
			fs = append(fs, get("worker", m.AnsweredID, m.AnsweredBy))
		}
		for _, f := range fs {
			f.Messages++
			if m.InTime(ReplyWithin) {
				f.InTime++
			}
		}
	}
	out := make([]Figure, 0, len(by))
	for _, f := range by {
		f.Kilometer = math.Round(f.Kilometer*100) / 100
		if f.Kind == "grid" {
			c := Cover(cells[f.ID], touched[f.ID]...)
			f.Coverage = &c
		}
		out = append(out, *f)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind > out[j].Kind // workers first
		}
		return out[i].ID < out[j].ID
	})
	return out
}
