package web

import (
	"bytes"
	"context"
	"net/http"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/sla"
	"zhizhi/internal/store"
)

// The board's action panel shows the selected case with the same forms as
// the case page (caseView, formOf, the "action" template), posting to the
// same handler (act) with from=board: a script gets the panel back, a page
// without script is sent back to the board with the panel open.

// boardKeys are the board's shortcuts for the common actions; dispatch and
// redispatch never apply together, so both take d.
var boardKeys = map[cases.Action]string{
	cases.ActAccept: "a", cases.ActReject: "r", cases.ActMerge: "m", cases.ActDispatch: "d",
	cases.ActRedispatch: "d", cases.ActEscalate: "e", cases.ActUrge: "u",
}

// panelView is the board's action panel for one case.
type panelView struct {
	*caseView
	ID   string
	Gone bool // the action took the case out of the commander's sight
}

// panelOf builds the panel: the case view with its forms marked for the
// board and the board's shortcuts.
func (c *Console) panelOf(r *http.Request, id string, fail *failed, flash string) (*panelView, error) {
	v, err := c.caseView(r, id, fail)
	if apperr.Is(err, apperr.NotFound) && flash != "" {
		return &panelView{caseView: &caseView{Flash: flash}, ID: id, Gone: true}, nil
	}
	if err != nil {
		return nil, err
	}
	v.Flash = flash
	for _, f := range v.Forms {
		f.From, f.Key = "board", boardKeys[f.Action]
	}
	return &panelView{caseView: v, ID: id}, nil
}

func (c *Console) renderPanel(w http.ResponseWriter, r *http.Request, status int, id string, fail *failed, flash string) error {
	v, err := c.panelOf(r, id, fail, flash)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := c.pages["board"].ExecuteTemplate(&buf, "panel", v); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
	return nil
}

// boardPanel answers the panel of one case, for board.js.
func (c *Console) boardPanel(w http.ResponseWriter, r *http.Request) error {
	return c.renderPanel(w, r, http.StatusOK, r.PathValue("id"), nil, "")
}

// alertLimit bounds the alerts panel.
const alertLimit = 30

// alert is a case in the alerts panel and why it is there.
type alert struct {
	Row row
	Why []string
}

// alerts lists the open cases in the actor's scope that are red (a clock
// past due), critical or escalated: the most urgent first.
func (c *Console) alerts(ctx context.Context, actor cases.Actor) ([]alert, error) {
	open, yes := true, true
	red, err := c.svc.List(ctx, actor, store.CaseFilter{Open: &open, Overdue: &yes, Limit: alertLimit})
	if err != nil {
		return nil, err
	}
	crit, err := c.svc.List(ctx, actor, store.CaseFilter{Open: &open, Severity: string(sla.Critical), Limit: alertLimit})
	if err != nil {
		return nil, err
	}
	recent, err := c.svc.List(ctx, actor, store.CaseFilter{Open: &open, Limit: queueLimit})
	if err != nil {
		return nil, err
	}
	now := c.svc.Now()
	seen := map[string]bool{}
	var list []cases.Case
	for _, group := range [][]cases.Case{red, crit, recent} {
		for _, cs := range group {
			if !seen[cs.ID] && (cs.Severity == sla.Critical || cs.Escalations > 0 || c.rowOf(cs, now).Status == sla.Red) {
				seen[cs.ID] = true
				list = append(list, cs)
			}
		}
	}
	sortQueue(list, now)
	if len(list) > alertLimit {
		list = list[:alertLimit]
	}
	out := make([]alert, 0, len(list))
	for _, cs := range list {
		a := alert{Row: c.rowOf(cs, now)}
		if a.Row.Status == sla.Red {
			a.Why = append(a.Why, "超期")
		}
		if cs.Severity == sla.Critical {
			a.Why = append(a.Why, "特急")
		}
		if cs.Escalations > 0 {
			a.Why = append(a.Why, "已上提")
		}
		out = append(out, a)
	}
	return out, nil
}

// boardAlerts answers the alerts panel, for board.js.
func (c *Console) boardAlerts(w http.ResponseWriter, r *http.Request) error {
	list, err := c.alerts(r.Context(), actorOf(r))
	if err != nil {
		return err
	}
	c.renderFragment(w, "board", "alerts", list)
	return nil
}
