package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
)

// The holding queue (待甄别, /held, issue 20): anonymous reports held under
// a flood (service/doors.go) wait here with no clock running, outside the
// board's live queue. The center's commanders release a report (its accept
// clock starts then) or reject many at once: a reject asks for its reason
// and one confirmation, then each case goes through the service and the
// state machine (service.Screen). Leaders and administrators see the queue.

// heldPage is how many held reports the page lists at once.
const heldPage = 200

// screeners take the holding queue's actions: the center's commanders.
var screeners = access{roles: []cases.Role{cases.RoleCommander}}

type heldView struct {
	Items   []heldItem
	Total   int
	More    string // the next page's cursor
	Flash   string
	Message string
	CanAct  bool
	Confirm *heldConfirm // a bulk reject waiting for its confirmation
}

type heldItem struct {
	Case   cases.Case
	Reason string
}

type heldConfirm struct {
	IDs  []string
	Note string
}

func (v *heldView) title() string { return "待甄别" }

func (c *Console) held(w http.ResponseWriter, r *http.Request) error {
	v := &heldView{}
	q := r.URL.Query()
	switch q.Get("done") {
	case "release":
		v.Flash = "已放行 " + q.Get("n") + " 件，受理时限自即刻起计算"
	case "reject":
		v.Flash = "已不予受理 " + q.Get("n") + " 件"
	}
	if f := q.Get("failed"); f != "" && f != "0" {
		v.Message = f + " 件未处理（已不在待甄别队列中或无权处理），请刷新后核对"
	}
	return c.renderHeld(w, r, http.StatusOK, v, q.Get("after"))
}

func (c *Console) renderHeld(w http.ResponseWriter, r *http.Request, status int, v *heldView, after string) error {
	actor := actorOf(r)
	list, total, err := c.svc.HeldQueue(r.Context(), actor, after, heldPage)
	if err != nil {
		return err
	}
	v.Total, v.CanAct = total, actor.Role == cases.RoleCommander
	for _, cs := range list {
		why := ""
		if cs.Hold != nil {
			why = cs.Hold.Reason.Label()
		}
		v.Items = append(v.Items, heldItem{Case: cs, Reason: why})
	}
	if len(list) == heldPage {
		v.More = list[len(list)-1].ID
	}
	c.render(w, r, status, "held", v)
	return nil
}

// screen releases or rejects the chosen held reports. The page's "all on
// this page" button (action reject_page) takes the page's IDs (page_id)
// instead of the ticked ones (id).
func (c *Console) screen(w http.ResponseWriter, r *http.Request) error {
	actor := actorOf(r)
	ids := r.PostForm["id"]
	action := cases.Action(r.PostFormValue("action"))
	if action == "reject_page" {
		ids, action = r.PostForm["page_id"], cases.ActReject
	}
	note := strings.TrimSpace(r.PostFormValue("note"))
	v := &heldView{}
	switch {
	case len(ids) == 0:
		v.Message = "请先勾选案件"
	case action == cases.ActReject && note == "":
		v.Message = "请填写不予受理的原因"
	case action == cases.ActReject && r.PostFormValue("confirm") != "yes":
		// One confirmation for the whole batch.
		v.Confirm = &heldConfirm{IDs: ids, Note: note}
		return c.renderHeld(w, r, http.StatusOK, v, "")
	}
	if v.Message != "" {
		return c.renderHeld(w, r, http.StatusBadRequest, v, "")
	}
	done, err := c.svc.Screen(r.Context(), actor, ids, cases.Command{Action: action, Note: note})
	if apperr.Is(err, apperr.Invalid) {
		v.Message = messageOf(err)
		if m := fieldMap(err); len(m) > 0 {
			for _, reason := range m {
				v.Message = reason
			}
		}
		return c.renderHeld(w, r, http.StatusBadRequest, v, "")
	}
	if err != nil {
		return err
	}
	q := url.Values{"done": {string(action)}, "n": {strconv.Itoa(len(done.Done))}, "failed": {strconv.Itoa(len(done.Failed))}}
	http.Redirect(w, r, "/held?"+q.Encode(), http.StatusSeeOther)
	return nil
}
