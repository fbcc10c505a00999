package web

import (
	"net/http"
	"net/url"
	"strings"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
	"zhizhi/internal/service"
	"zhizhi/internal/store"
)

// batchAction is one action the board can take on many cases at once.
type batchAction struct{ Key, Label string }

var batchActions = []batchAction{
	{"accept", "受理"},
	{"duplicate", "不予受理（重复上报）"},
	{"dispatch", "派遣到一个单位"},
	{"urge", "催办"},
	{"rate", "评价全部报到单位"},
}

// batchForm is what the board's batch bar offers.
type batchForm struct {
	Actions []batchAction
	Units   []cases.Unit // units a case can be dispatched to
	Ratings []cases.Rating
}

func (c *Console) batchFormFor(actor cases.Actor) batchForm {
	f := batchForm{Actions: batchActions, Ratings: []cases.Rating{cases.Satisfied, cases.BasicSatisfied, cases.Unsatisfied}}
	for _, u := range c.svc.Units() {
		if u.Dispatchable() && inScope(actor, u.RegionPath) {
			f.Units = append(f.Units, u)
		}
	}
	return f
}

// batchView is the confirmation page of a batch, then its results.
type batchView struct {
	Action   batchAction
	Lead     string
	LeadName string
	Rating   cases.Rating
	Note     string
	Back     string // the board's filter, to go back to
	IDs      []string
	Cases    []row                 // the confirmation: the selected cases as they are now
	Missing  int                   // selected cases no longer visible
	Results  []service.BatchResult // the results, once confirmed
	Done     int
	Refused  int
}

func (v *batchView) title() string { return "批量处理" }

// boardBatch takes one action on the cases selected in the queue: first it
// shows them with the action for one confirmation, then (confirm=1) runs
// the action case by case through the service and reports, per case, done
// or refused and why.
func (c *Console) boardBatch(w http.ResponseWriter, r *http.Request) error {
	ctx, actor := r.Context(), actorOf(r)
	form := r.PostForm
	v := &batchView{Lead: strings.TrimSpace(form.Get("lead")), Rating: cases.Rating(form.Get("rating")),
		Note: strings.TrimSpace(form.Get("note"))}
	if back, err := url.ParseQuery(form.Get("back")); err == nil {
		if f, err := c.parseBoardFilter(back); err == nil {
			v.Back = f.Query()
		}
	}
	var fe apperr.Fields
	for _, a := range batchActions {
		if a.Key == form.Get("action") {
			v.Action = a
		}
	}
	if v.Action.Key == "" {
		fe.Add("action", "请选择批量操作")
	}
	seen := map[string]bool{}
	for _, id := range form["id"] {
		if id = strings.TrimSpace(id); id != "" && !seen[id] {
			seen[id] = true
			v.IDs = append(v.IDs, id)
		}
	}
	switch {
	case len(v.IDs) == 0:
		fe.Add("id", "请先勾选要处理的案件")
	case len(v.IDs) > service.MaxBatch:
		fe.Add("id", "一次最多批量处理100件，请减少勾选")
	}
	switch v.Action.Key {
	case "dispatch":
		u, ok := c.svc.Unit(v.Lead)
		if !ok || !u.Dispatchable() {
			fe.Add("lead", "“派遣单位”不存在、已停用或不能直接承办")
		}
		v.LeadName = u.Name
	case "rate":
		if !v.Rating.Valid() {
			fe.Add("rating", "请选择评价：满意、基本满意或不满意")
		}
	}
	if len([]rune(v.Note)) > 500 {
		fe.Add("note", "“说明”不超过500字")
	}
	if err := fe.Err(); err != nil {
		return err
	}
	if form.Get("confirm") != "1" {
		open := store.CaseFilter{IDs: v.IDs, Limit: service.MaxBatch}
		list, err := c.svc.List(ctx, actor, open)
		if err != nil {
			return err
		}
		now := c.svc.Now()
		for _, cs := range list {
			v.Cases = append(v.Cases, c.rowOf(cs, now))
		}
		v.Missing = len(v.IDs) - len(list)
		c.render(w, r, http.StatusOK, "batch", v)
		return nil
	}
	res, err := c.svc.BatchAct(ctx, actor, v.IDs, v.commands)
	if err != nil {
		return err
	}
	v.Results = res
	for _, x := range res {
		if x.Done {
			v.Done++
		} else {
			v.Refused++
		}
	}
	c.render(w, r, http.StatusOK, "batch", v)
	return nil
}

// commands are the batch's commands for one case as it is now.
func (v *batchView) commands(cs cases.Case) []cases.Command {
	switch v.Action.Key {
	case "accept":
		return []cases.Command{{Action: cases.ActAccept, Note: v.Note}}
	case "duplicate":
		note := "重复上报"
		if v.Note != "" {
			note += "：" + v.Note
		}
		return []cases.Command{{Action: cases.ActReject, Note: note}}
	case "dispatch":
		return []cases.Command{{Action: cases.ActDispatch, Lead: v.Lead, Note: v.Note}}
	case "urge":
		note := v.Note
		if note == "" {
			note = "请加快办理"
		}
		return []cases.Command{{Action: cases.ActUrge, Note: note}}
	case "rate":
		var out []cases.Command
		for _, wh := range cs.Whistles {
			for _, p := range wh.Parties {
				if p.Rating == "" {
					out = append(out, cases.Command{Action: cases.ActRateParty, WhistleID: wh.ID, PartyKey: p.Key, Rating: v.Rating, Note: v.Note})
				}
			}
		}
		return out
	}
	return nil
}

// boardSaveFilter keeps the board's current filter under a name for the
// signed-in person.
func (c *Console) boardSaveFilter(w http.ResponseWriter, r *http.Request) error {
	q, err := url.ParseQuery(r.PostForm.Get("query"))
	if err != nil {
		return apperr.Field("query", "筛选条件无效")
	}
	f, err := c.parseBoardFilter(q)
	if err != nil {
		return err
	}
	if _, err := c.svc.SaveFilter(r.Context(), actorOf(r), r.PostForm.Get("name"), f.Query()); err != nil {
		return err
	}
	http.Redirect(w, r, "/board?"+f.Query(), http.StatusSeeOther)
	return nil
}

// boardDeleteFilter deletes one of the person's saved filters.
func (c *Console) boardDeleteFilter(w http.ResponseWriter, r *http.Request) error {
	if err := c.svc.DeleteFilter(r.Context(), actorOf(r), r.PathValue("id")); err != nil {
		return err
	}
	http.Redirect(w, r, "/board", http.StatusSeeOther)
	return nil
}
