package cases

import (
	"time"

	"zhizhi/internal/apperr"
)

// The hotline's return visit (回访): after a 12345 case closes, the hotline
// platform calls the caller back and reports whether the problem was solved
// and how satisfied the caller is. It is a step of the case (taken by the
// system on the hotline's behalf), never changes the state or the clocks,
// and feeds the 12345 three rates (internal/evaluation, facts.go).
const ActReturnVisit Action = "return_visit"

// ReturnVisit is the result of the hotline's return visit. A later visit
// replaces an earlier one.
type ReturnVisit struct {
	Satisfaction Rating    `json:"satisfaction"` // satisfied, basic_satisfied, unsatisfied
	Resolved     bool      `json:"resolved"`
	At           time.Time `json:"at"` // when the hotline made the call
	Note         string    `json:"note,omitempty"`
}

// visitEffect records a return visit: only on cases from the hotline.
func visitEffect(n *Case, step *Step, cmd Command) error {
	if n.Source != SourceHotline {
		return refuse("只有12345热线来源的案件可以登记回访结果")
	}
	v := cmd.Visit
	if v == nil {
		return apperr.Field("visit", "缺少回访结果")
	}
	var f apperr.Fields
	if !v.Satisfaction.Valid() {
		f.Add("visit.satisfaction", "满意度应为 satisfied、basic_satisfied 或 unsatisfied")
	}
	if v.At.IsZero() {
		f.Add("visit.at", "缺少回访时间")
	}
	if err := f.Err(); err != nil {
		return err
	}
	rv := *v
	rv.Note = step.Note
	n.Visit = &rv
	step.Data = map[string]any{"satisfaction": string(v.Satisfaction), "resolved": v.Resolved, "visited_at": v.At.UTC().Format(time.RFC3339)}
	return nil
}
