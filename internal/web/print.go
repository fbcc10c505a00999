package web

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"zhizhi/internal/apperr"
	"zhizhi/internal/cases"
)

// Paper: the forms a street office prints, signs, stamps and files, from
// /cases/{id}/print?form=…: the dispatch form (派遣单), the closing form
// (结案单), the supervision notice (督办单) and the case's whole record
// (全程记录). Each is the case as the reader may see it (service.Case, so
// the scope is the case page's; the reporter's phone masked), laid out for
// A4 by static/print.css, whose @media print rules drop the console's
// header and buttons. Residents and enterprises have no paper forms: they
// follow their own cases on their own pages.

// printForms are the forms, in the order the toolbar offers them.
var printForms = []printForm{
	{"dispatch", "派遣单"},
	{"close", "结案单"},
	{"supervise", "督办单"},
	{"record", "全程记录"},
}

type printForm struct{ Code, Title string }

// printFormOf returns the form named by code.
func printFormOf(code string) (printForm, bool) {
	i := slices.IndexFunc(printForms, func(f printForm) bool { return f.Code == code })
	if i < 0 {
		return printForm{}, false
	}
	return printForms[i], true
}

// printView is one printed form of a case.
type printView struct {
	Form        printForm
	Forms       []printForm
	Case        cases.Case
	Row         row
	Place       []string
	Answers     []answerView
	Tasks       []taskView
	Steps       []cases.Step // the record: every step
	Dispatch    *cases.Step  // the latest dispatch or redispatch
	Feedback    []cases.Step // the units' feedback
	Verify      *cases.Step  // the latest check on site
	Close       *cases.Step  // the close
	Supervision []cases.Step // supervisions and urges
	Lead        string
	Co          []string
	Printed     time.Time
	PrintedBy   string
	Now         time.Time
	Office      string // the street center that files the form
}

func (v *printView) title() string { return v.Form.Title + " " + v.Case.Number }

// formList names the forms for an error message.
func formList() string {
	var s []string
	for _, f := range printForms {
		s = append(s, f.Title+"（"+f.Code+"）")
	}
	return strings.Join(s, "、")
}

func (c *Console) printPage(w http.ResponseWriter, r *http.Request) error {
	code := strings.TrimSpace(r.URL.Query().Get("form"))
	form, ok := printFormOf(code)
	if !ok {
		if code == "" {
			return apperr.Field("form", "请选择要打印的单据："+formList())
		}
		return apperr.Field("form", "没有名为“"+cut(code, 20)+"”的单据，可打印的有："+formList())
	}
	actor := actorOf(r)
	cs, steps, err := c.svc.Case(r.Context(), actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	now := c.svc.Now()
	v := &printView{Form: form, Forms: printForms, Case: cs, Row: c.rowOf(cs, now), Place: c.svc.PathNames(cs.RegionPath),
		Printed: now, PrintedBy: actor.Name, Now: now}
	if names := c.svc.PathNames(cs.CenterPath); len(names) > 0 {
		v.Office = names[len(names)-1]
	}
	cat, _ := c.svc.Category(cs.Category)
	for _, q := range cat.Questions {
		if a, ok := cs.Answers[q.Code]; ok {
			v.Answers = append(v.Answers, answerView{Prompt: q.Prompt, Value: answerText(q, a)})
		}
	}
	for _, t := range cs.Tasks {
		v.Tasks = append(v.Tasks, taskView{Task: t, UnitName: c.unitName(t.UnitID), SignStatus: t.SignStatus(now), HandleStatus: t.HandleStatus(now)})
		if t.Role == cases.Lead && t.Active() {
			v.Lead = c.unitName(t.UnitID)
		} else if t.Active() {
			v.Co = append(v.Co, c.unitName(t.UnitID))
		}
	}
	for i := range steps {
		s := &steps[i]
		switch s.Action {
		case cases.ActDispatch, cases.ActRedispatch:
			v.Dispatch = s
		case cases.ActFeedback:
			v.Feedback = append(v.Feedback, *s)
		case cases.ActVerify:
			v.Verify = s
		case cases.ActClose:
			v.Close = s
		case cases.ActSupervise, cases.ActUrge:
			v.Supervision = append(v.Supervision, *s)
		}
	}
	switch form.Code {
	case "dispatch":
		if v.Dispatch == nil {
			return apperr.New(apperr.Refused, "案件尚未派遣，没有派遣单可打印")
		}
	case "close":
		if cs.State != cases.Closed {
			return apperr.New(apperr.Refused, "案件尚未结案，没有结案单可打印")
		}
	case "supervise":
		if len(v.Supervision) == 0 {
			return apperr.New(apperr.Refused, "案件没有督办或催办记录，没有督办单可打印")
		}
	case "record":
		v.Steps = steps
	}
	c.render(w, r, http.StatusOK, "print", v)
	return nil
}

// printable lists the forms a case has: the record always, the dispatch
// form once dispatched, the closing form once closed, the supervision
// notice once supervised or urged.
func printable(cs *cases.Case, steps []cases.Step) []printForm {
	has := map[string]bool{"record": true, "close": cs.State == cases.Closed}
	for _, s := range steps {
		switch s.Action {
		case cases.ActDispatch, cases.ActRedispatch:
			has["dispatch"] = true
		case cases.ActSupervise, cases.ActUrge:
			has["supervise"] = true
		}
	}
	var out []printForm
	for _, f := range printForms {
		if has[f.Code] {
			out = append(out, f)
		}
	}
	return out
}
