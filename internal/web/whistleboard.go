package web

import (
	"net/http"

	"zhizhi/internal/cases"
)

// The report-in board (报到看板) on the case page shows, for each whistle, its
// parties with their status (待报到, 已报到, 迟到报到, 超时未报到), a countdown
// to the report-in due that turns red when it passes, and how many are in.
// The page's script (static/whistle.js) fetches the board again from here
// whenever the case's server-sent events announce a change (a whistle, a
// report-in, a warning), so it changes before the commander's eyes.

// whistleBoard renders the board of one case alone.
func (c *Console) whistleBoard(w http.ResponseWriter, r *http.Request) error {
	actor := actorOf(r)
	cs, _, err := c.svc.Case(r.Context(), actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	v := &caseView{Case: cs, Now: c.svc.Now()}
	if cases.Allowed(&cs, cases.ActWhistle, actor) {
		// The board's 吹哨 button opens the case page's whistle form.
		v.Forms = []*actionForm{{Action: cases.ActWhistle}}
	}
	if cases.Allowed(&cs, cases.ActMeeting, actor) {
		// Each whistle's 召开会议 opens the meeting form started from it.
		v.Forms = append(v.Forms, &actionForm{Action: cases.ActMeeting})
	}
	c.renderFragment(w, "case", "whistleboard", v)
	return nil
}
